//! `add group...`: activate groups that a reread found.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{run_on_groups, GroupCall, Output};

/// Adds each group in turn.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    groups: &[String],
) -> Result<(), ClientError> {
    run_on_groups(client, out, GroupCall::Add, groups).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use rsupervisor_api::Fault;

    #[tokio::test]
    async fn add_lines() {
        let client = MockClient::new()
            .ok("addProcessGroup", true)
            .fault("addProcessGroup", Fault::AlreadyAdded, "web")
            .fault("addProcessGroup", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let groups = ["newone".to_owned(), "web".to_owned(), "nosuch".to_owned()];
        run(&client, &mut out, &groups[..2]).await.expect("ok");
        assert_eq!(out.status, 0);
        run(&client, &mut out, &groups[2..]).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "newone: added process group\nERROR: process group already active\n\
             ERROR: no such process/group: nosuch\n"
        );
        assert_eq!(out.status, 1);
    }
}
