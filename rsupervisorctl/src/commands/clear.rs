//! `clear name... | group:* | all`: empty process log files. `group:*` clears each process of
//! the group (supervisorctl 4.3.0 printed `grp:None: ERROR (no such process)` instead).

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{run_on_targets, Output, PerProcess, TargetCall};
use crate::action::Targets;
use crate::{exit, output};

/// supervisorctl's `clear`: no fault is ignored, and a group that does not exist gives 1.
const CLEAR: PerProcess = PerProcess {
    line: output::clear_result,
    ignored: None,
    no_such_group: exit::GENERIC,
};

/// Clears the targets' logs.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::Clear, &CLEAR, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, result, MockClient};
    use rsupervisor_api::Fault;
    use rsupervisor_api::ProcessState::*;

    #[tokio::test]
    async fn names_groups_and_errors() {
        let client = MockClient::new()
            .ok("clearProcessLogs", true)
            .ok(
                "getAllProcessInfo",
                vec![info("g", "a", Running, 1), info("h", "h", Running, 2)],
            )
            .ok("clearProcessLogs", true)
            .fault("clearProcessLogs", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["quick".into(), "g:*".into(), "nosuch".into()]);
        run(&client, &mut out, &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "quick: cleared\ng:a: cleared\nnosuch: ERROR (no such process)\n"
        );
        assert_eq!(out.status, 1);
        assert_eq!(client.calls()[2], r#"clearProcessLogs["g:a"]"#);
    }

    #[tokio::test]
    async fn all() {
        let client = MockClient::new().ok(
            "clearAllProcessLogs",
            vec![
                result("a", "a", Fault::Success),
                result("b", "b", Fault::Failed),
            ],
        );
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "a: cleared\nb: ERROR (failed)\n");
        assert_eq!(out.status, 1);
    }
}
