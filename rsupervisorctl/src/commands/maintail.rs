//! `maintail [-f|-N]`: the end of the daemon's main log, or a live follow.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::tail::{report_read_fault, FOLLOW_HISTORY};
use super::{follow, Output};
use crate::action::TailMode;

/// Shows or follows the main log.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    mode: TailMode,
) -> Result<(), ClientError> {
    match mode {
        TailMode::Bytes(bytes) => {
            let offset = -(i64::try_from(bytes).unwrap_or(i64::MAX));
            match client.read_log(offset, 0).await {
                Ok(text) => out.line(text),
                Err(error) => report_read_fault(out, "supervisord", error, "no log file")?,
            }
        }
        TailMode::Follow => {
            out.line(follow::BANNER);
            match client.follow_main_log(FOLLOW_HISTORY).await {
                Ok(subscription) => {
                    let end = follow::stream(out, subscription).await;
                    follow::finish(out, end);
                }
                Err(error) => report_read_fault(out, "supervisord", error, "no log file")?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use rsupervisor_api::Fault;

    #[tokio::test]
    async fn main_log() {
        let client =
            MockClient::new()
                .ok("readLog", "started\n")
                .fault("readLog", Fault::NoFile, "");
        let mut out = Output::captured();
        run(&client, &mut out, TailMode::Bytes(1600))
            .await
            .expect("ok");
        run(&client, &mut out, TailMode::Bytes(1600))
            .await
            .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "started\n\nsupervisord: ERROR (no log file)\n"
        );
        assert_eq!(client.calls()[0], "readLog[-1600,0]");
        assert_eq!(out.status, 1);
    }
}
