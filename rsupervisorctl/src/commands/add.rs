//! `add group...`: activate groups that a reread found.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::exit;

/// Adds each group in turn.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    groups: &[String],
) -> Result<(), ClientError> {
    for group in groups {
        match client.add_process_group(group.clone()).await {
            Ok(_) => out.line(format!("{group}: added process group")),
            Err(error) => {
                let fault = fault_of(&error).ok_or(error)?;
                match fault.fault {
                    Fault::ShutdownState => {
                        out.line("ERROR: shutting down");
                        out.status = exit::GENERIC;
                    }
                    Fault::AlreadyAdded => out.line("ERROR: process group already active"),
                    Fault::BadName => {
                        out.line(format!("ERROR: no such process/group: {group}"));
                        out.status = exit::GENERIC;
                    }
                    _ => return Err(ClientError::Call(fault.into())),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

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
