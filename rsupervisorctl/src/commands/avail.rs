//! `avail`: every configured process, in use or not (as of the last reread).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{is_fault, Output};
use crate::{exit, output};

/// Prints the configured processes.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
) -> Result<(), ClientError> {
    match client.get_all_config_info().await {
        Ok(infos) if out.json => {
            out.json_value(&serde_json::to_value(&infos).unwrap_or_default());
        }
        Ok(infos) => {
            for info in &infos {
                out.line(output::avail_line(info));
            }
        }
        Err(error) if is_fault(&error, Fault::ShutdownState) => {
            out.problem("ERROR: supervisor shutting down");
            out.status = exit::GENERIC;
        }
        Err(error) => return Err(error),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn shutting_down() {
        let client = MockClient::new().fault("getAllConfigInfo", Fault::ShutdownState, "");
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(out.stdout_text(), "ERROR: supervisor shutting down\n");
        assert_eq!(out.status, 1);
    }
}
