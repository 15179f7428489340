//! `reload`: restart the daemon (every process stops, the configuration is read afresh).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{is_fault, Output};
use crate::exit;

/// Asks the daemon to restart. A connection closed by the restarting daemon counts as done.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
) -> Result<(), ClientError> {
    match client.restart().await {
        Ok(_) => out.line("Restarted supervisord"),
        Err(error) if is_fault(&error, Fault::ShutdownState) => {
            out.line("ERROR: already shutting down");
            out.status = exit::GENERIC;
        }
        Err(ClientError::RestartNeeded(_)) => out.line("Restarted supervisord"),
        Err(error) => return Err(error),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn reload_lines() {
        let client =
            MockClient::new()
                .ok("restart", true)
                .fault("restart", Fault::ShutdownState, "");
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        run(&client, &mut out).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "Restarted supervisord\nERROR: already shutting down\n"
        );
        assert_eq!(out.status, 1);
    }
}
