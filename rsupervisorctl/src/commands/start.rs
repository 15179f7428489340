//! `start name... | group:* | all`: each name started in turn, waiting until it is RUNNING.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{run_on_targets, Output, PerProcess, TargetCall};
use crate::action::Targets;
use crate::{exit, output};

/// supervisorctl's `start`: a process already running is not an error, and a group that does
/// not exist is a usage error (2).
const START: PerProcess = PerProcess {
    line: output::start_result,
    ignored: Some(Fault::AlreadyStarted),
    no_such_group: exit::INVALID_ARGS,
};

/// Starts the targets, printing one line per process.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::Start, &START, targets).await
}

/// `start --no-deps`: the same, without starting or waiting for dependencies.
pub async fn run_no_deps<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    run_on_targets(client, out, TargetCall::StartNoDeps, &START, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{names, result, MockClient};

    #[tokio::test]
    async fn names_in_turn_with_supervisorctl_statuses() {
        let client = MockClient::new()
            .ok("startProcess", true)
            .fault("startProcess", Fault::AlreadyStarted, "good")
            .fault("startProcess", Fault::SpawnError, "quick")
            .fault("startProcess", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            &names(&["g:a", "good", "quick", "nosuch"]),
        )
        .await
        .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "g:a: started\ngood: ERROR (already started)\nquick: ERROR (spawn error)\n\
             nosuch: ERROR (no such process)\n"
        );
        // Last assignment wins: spawn error (7) then bad name (1).
        assert_eq!(out.status, 1);
        assert_eq!(client.calls()[0], r#"startProcess["g:a",true]"#);
    }

    #[tokio::test]
    async fn spawn_error_exits_7() {
        let client = MockClient::new().fault("startProcess", Fault::SpawnError, "quick");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["quick"]))
            .await
            .expect("ok");
        assert_eq!(out.status, 7);
    }

    #[tokio::test]
    async fn already_started_exits_0() {
        let client = MockClient::new().fault("startProcess", Fault::AlreadyStarted, "good");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["good"])).await.expect("ok");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn groups_and_bad_groups() {
        let client = MockClient::new()
            .ok(
                "startProcessGroup",
                vec![
                    result("g", "a", Fault::Success),
                    result("g", "b", Fault::NoFile),
                ],
            )
            .fault("startProcessGroup", Fault::BadName, "nogroup");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["g:*", "nogroup:*"]))
            .await
            .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "g:a: started\ng:b: ERROR (no such file)\nnogroup: ERROR (no such group)\n"
        );
        assert_eq!(out.status, 2);
    }

    #[tokio::test]
    async fn all_uses_start_all() {
        let client = MockClient::new().ok(
            "startAllProcesses",
            vec![result("web", "web", Fault::Success)],
        );
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "web: started\n");
        assert_eq!(client.calls(), [r#"startAllProcesses[true]"#]);
    }
}
