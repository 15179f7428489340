//! `remove group...`: deactivate stopped groups.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::exit;

/// Removes each group in turn.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    groups: &[String],
) -> Result<(), ClientError> {
    for group in groups {
        match client.remove_process_group(group.clone()).await {
            Ok(_) => out.line(format!("{group}: removed process group")),
            Err(error) => {
                let fault = fault_of(&error).ok_or(error)?;
                match fault.fault {
                    Fault::StillRunning => {
                        out.line(format!("ERROR: process/group still running: {group}"))
                    }
                    Fault::BadName => out.line(format!("ERROR: no such process/group: {group}")),
                    _ => return Err(ClientError::Call(fault.into())),
                }
                out.status = exit::GENERIC;
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
