//! `stop name... | group:* | all`: each name stopped in turn (every stop completes before the
//! next begins, as supervisorctl does).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{run_on_targets, Output, PerProcess, TargetCall};
use crate::action::Targets;
use crate::{exit, output};

/// supervisorctl's `stop`: a process that is not running is not an error, and a group that
/// does not exist gives 1.
const STOP: PerProcess = PerProcess {
    line: |name, code, description| output::signal_result(name, code, description, "stopped"),
    ignored: Some(Fault::NotRunning),
    no_such_group: exit::GENERIC,
};

/// Stops the targets, printing one line per process.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::Stop, &STOP, targets).await
}

/// `stop --no-deps`: the same, leaving the dependents running.
pub async fn run_no_deps<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::StopNoDeps, &STOP, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{names, result, MockClient};

    #[tokio::test]
    async fn stop_lines_and_statuses() {
        let client = MockClient::new()
            .ok("stopProcess", true)
            .fault("stopProcess", Fault::NotRunning, "idle")
            .fault("stopProcess", Fault::Failed, "stuck: kill failed");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["good", "idle", "stuck"]))
            .await
            .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "good: stopped\nidle: ERROR (not running)\nFAILED: stuck: kill failed\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn not_running_is_ignored() {
        let client = MockClient::new().fault("stopProcess", Fault::NotRunning, "idle");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["idle"])).await.expect("ok");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn bad_group_exits_1() {
        let client = MockClient::new()
            .fault("stopProcessGroup", Fault::BadName, "nogroup")
            .ok("stopAllProcesses", vec![result("g", "a", Fault::Success)]);
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["nogroup:*"]))
            .await
            .expect("ok");
        assert_eq!(out.stdout_text(), "nogroup: ERROR (no such group)\n");
        assert_eq!(out.status, 1);
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "g:a: stopped\n");
    }
}
