//! `reread`: have the daemon re-read its configuration and report what changed, without
//! applying anything.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, ReloadResult, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::{exit, output};

/// Calls `reloadConfig`, printing supervisorctl's message for the faults it expects.
/// `shutting_down` is the text printed for SHUTDOWN_STATE (it differs between verbs).
pub(crate) async fn reload_config<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    shutting_down: &str,
) -> Result<Option<ReloadResult>, ClientError> {
    match client.reload_config().await {
        Ok(result) => Ok(Some(result)),
        Err(error) => {
            let fault = fault_of(&error).ok_or(error)?;
            match fault.fault {
                Fault::ShutdownState => out.line(shutting_down),
                // The detail lists every configuration error, one per line.
                Fault::CantReread => out.line(format!("ERROR: {fault}")),
                _ => return Err(ClientError::Call(fault.into())),
            }
            out.status = exit::GENERIC;
            Ok(None)
        }
    }
}

/// Prints the changes found by a reread.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
) -> Result<(), ClientError> {
    if let Some(result) = reload_config(client, out, "ERROR: supervisor shutting down").await? {
        for line in output::reread_lines(&result) {
            out.line(line);
        }
        // Settings only a daemon restart applies; `update` reports them too.
        for entry in &result.needs_restart {
            out.line(output::needs_restart_line(entry));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn changes_sorted() {
        let result = ReloadResult {
            added: vec!["new".into()],
            removed: vec!["gone".into()],
            ..Default::default()
        };
        let client = MockClient::new().ok("reloadConfig", result);
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(out.stdout_text(), "gone: disappeared\nnew: available\n");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn cant_reread_prints_every_error_and_exits_1() {
        let detail = "bad boolean in [program:a]\nno command in [program:b]";
        let client = MockClient::new().fault("reloadConfig", Fault::CantReread, detail);
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "ERROR: CANT_REREAD: bad boolean in [program:a]\nno command in [program:b]\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn settings_needing_a_restart_are_reported() {
        let result = ReloadResult {
            needs_restart: vec!["[supervisord]".into()],
            ..ReloadResult::default()
        };
        let client = MockClient::new().ok("reloadConfig", result);
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "No config updates to processes\n[supervisord]: changed (restart rsupervisord to apply)\n"
        );
        assert_eq!(out.status, 0);
    }
}
