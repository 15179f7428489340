//! `remove group...`: deactivate stopped groups.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{run_on_groups, GroupCall, Output};

/// Removes each group in turn.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    groups: &[String],
) -> Result<(), ClientError> {
    run_on_groups(client, out, GroupCall::Remove, groups).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use rsupervisor_api::Fault;

    #[tokio::test]
    async fn remove_lines() {
        let client = MockClient::new()
            .ok("removeProcessGroup", true)
            .fault("removeProcessGroup", Fault::StillRunning, "web")
            .fault("removeProcessGroup", Fault::BadName, "x");
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            &["newone".into(), "web".into(), "x".into()],
        )
        .await
        .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "newone: removed process group\nERROR: process/group still running: web\n\
             ERROR: no such process/group: x\n"
        );
        assert_eq!(out.status, 1);
    }
}
