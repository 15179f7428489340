//! `reload`: restart the daemon (every process stops, the configuration is read afresh).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{fault_of, is_fault, Output};
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
        // rsupervisord refuses to restart into a configuration it cannot read; print every
        // error as reread does.
        Err(error) if is_fault(&error, Fault::CantReread) => {
            if let Some(fault) = fault_of(&error) {
                out.line(format!("ERROR: {fault}"));
            }
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

    #[tokio::test]
    async fn unreadable_config_prints_every_error() {
        let client =
            MockClient::new().fault("restart", Fault::CantReread, "a.conf:1: x\nb.conf:2: y");
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "ERROR: CANT_REREAD: a.conf:1: x\nb.conf:2: y\n"
        );
        assert_eq!(out.status, 1);
    }
}
