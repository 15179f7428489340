//! `signal SIG name... | group:* | all`: the signal is passed to the daemon as typed, which
//! validates it (BAD_SIGNAL). Nothing is ignored: a process that is not running exits 7.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{run_on_targets, Output, PerProcess, TargetCall};
use crate::action::Targets;
use crate::{exit, output};

/// supervisorctl's `signal`: no fault is ignored, and a group that does not exist gives 1.
const SIGNAL: PerProcess = PerProcess {
    line: |name, code, description| output::signal_result(name, code, description, "signalled"),
    ignored: None,
    no_such_group: exit::GENERIC,
};

/// Sends `signal` to the targets.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    signal: &str,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::Signal(signal), &SIGNAL, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{result, MockClient};
    use rsupervisor_api::Fault;

    #[tokio::test]
    async fn signal_lines() {
        let client = MockClient::new()
            .ok("signalProcess", true)
            .fault("signalProcess", Fault::BadSignal, "BOGUS")
            .fault("signalProcess", Fault::NotRunning, "idle");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["good".into(), "g:a".into(), "idle".into()]);
        run(&client, &mut out, "HUP", &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "good: signalled\ng:a: ERROR (bad signal name)\nidle: ERROR (not running)\n"
        );
        assert_eq!(out.status, 7);
        assert_eq!(client.calls()[0], r#"signalProcess["good","HUP"]"#);
    }

    #[tokio::test]
    async fn groups_and_all() {
        let client = MockClient::new()
            .fault("signalProcessGroup", Fault::BadName, "nogroup")
            .ok(
                "signalAllProcesses",
                vec![result("web", "web", Fault::Success)],
            );
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            "USR1",
            &Targets::Names(vec!["nogroup:*".into()]),
        )
        .await
        .expect("ok");
        assert_eq!(out.stdout_text(), "nogroup: ERROR (no such group)\n");
        assert_eq!(out.status, 1);
        let mut out = Output::captured();
        run(&client, &mut out, "USR1", &Targets::All)
            .await
            .expect("ok");
        assert_eq!(out.stdout_text(), "web: signalled\n");
    }
}
