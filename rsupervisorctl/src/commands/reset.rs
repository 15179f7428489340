//! `reset name... | group:* | all`: clear restart counters, as `systemctl reset-failed` does;
//! a FATAL process becomes STOPPED, so that it can be started again with fresh counters
//! (an rsupervisor addition: supervisorctl has no such verb).

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{run_on_targets, Output, PerProcess, TargetCall};
use crate::action::Targets;
use crate::{exit, output};

/// No fault is ignored, and a group that does not exist gives 1 (as `clear`).
const RESET: PerProcess = PerProcess {
    line: output::reset_result,
    ignored: None,
    no_such_group: exit::GENERIC,
};

/// Resets the targets' restart counters.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::Reset, &RESET, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, result, MockClient};
    use rsupervisor_api::Fault;
    use rsupervisor_api::ProcessState::*;

    #[tokio::test]
    async fn names_groups_all_and_errors() {
        let client = MockClient::new()
            .ok("resetProcess", true)
            .ok(
                "getAllProcessInfo",
                vec![info("g", "a", Fatal, 0), info("h", "h", Running, 2)],
            )
            .ok("resetProcess", true)
            .fault("resetProcess", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["web".into(), "g:*".into(), "nosuch".into()]);
        run(&client, &mut out, &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "web: reset\ng:a: reset\nnosuch: ERROR (no such process)\n"
        );
        assert_eq!(out.status, 1);
        assert_eq!(client.calls()[2], r#"resetProcess["g:a"]"#);

        let client =
            MockClient::new().ok("resetAllProcesses", vec![result("a", "a", Fault::Success)]);
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "a: reset\n");
        assert_eq!(out.status, 0);
    }
}
