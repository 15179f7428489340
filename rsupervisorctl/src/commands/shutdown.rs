//! `shutdown`: stop every process and the daemon.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{is_fault, Output};

/// Asks the daemon to shut down. A second shutdown is not an error (status unchanged), and a
/// connection closed by the exiting daemon counts as done.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
) -> Result<(), ClientError> {
    match client.shutdown().await {
        Ok(_) => out.line("Shut down"),
        Err(error) if is_fault(&error, Fault::ShutdownState) => {
            out.line("ERROR: already shutting down")
        }
        Err(ClientError::RestartNeeded(_)) => out.line("Shut down"),
        Err(error) => return Err(error),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn shutdown_lines() {
        let client =
            MockClient::new()
                .ok("shutdown", true)
                .fault("shutdown", Fault::ShutdownState, "");
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        run(&client, &mut out).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "Shut down\nERROR: already shutting down\n"
        );
        assert_eq!(out.status, 0);
    }
}
