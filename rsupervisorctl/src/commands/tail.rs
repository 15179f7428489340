//! `tail [-f|-N] name [stdout|stderr]`: the end of a process log, or a live follow.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Channel, Fault, SupervisorRpcClient};

use super::{fault_of, follow, Output};
use crate::action::TailMode;
use crate::{exit, output};

/// Bytes of history sent first by `tail -f` (supervisord's `/logtail` sends 1024).
pub const FOLLOW_HISTORY: u64 = 1024;

/// Prints a log-read fault as supervisorctl does; `Err` when it is not one of the expected ones.
pub(crate) fn report_read_fault(
    out: &mut Output,
    name: &str,
    error: ClientError,
    bad_name: &str,
) -> Result<(), ClientError> {
    let fault = fault_of(&error).ok_or(error)?;
    let reason = match fault.fault {
        Fault::NoFile => "no log file",
        Fault::Failed => "unknown error reading log",
        Fault::BadName => bad_name,
        _ => return Err(ClientError::Call(fault.into())),
    };
    out.line(output::error_line(name, reason));
    out.status = exit::GENERIC;
    Ok(())
}

/// Shows or follows one process log.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    name: &str,
    channel: Channel,
    mode: TailMode,
) -> Result<(), ClientError> {
    match mode {
        TailMode::Bytes(bytes) => {
            let offset = -(i64::try_from(bytes).unwrap_or(i64::MAX));
            let result = match channel {
                Channel::Stdout => {
                    client
                        .read_process_stdout_log(name.to_owned(), offset, 0)
                        .await
                }
                Channel::Stderr => {
                    client
                        .read_process_stderr_log(name.to_owned(), offset, 0)
                        .await
                }
            };
            match result {
                Ok(text) => out.line(text),
                Err(error) => report_read_fault(out, name, error, "no such process name")?,
            }
        }
        TailMode::Follow => {
            out.line(follow::BANNER);
            match client
                .follow_process_log(name.to_owned(), channel, FOLLOW_HISTORY)
                .await
            {
                Ok(subscription) => {
                    let end = follow::stream(out, subscription).await;
                    follow::finish(out, end);
                }
                Err(error) => report_read_fault(out, name, error, "no such process name")?,
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
    async fn prints_the_bytes_and_a_newline() {
        let client = MockClient::new().ok("readProcessStdoutLog", "hello\n");
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            "web",
            Channel::Stdout,
            TailMode::Bytes(100),
        )
        .await
        .expect("ok");
        assert_eq!(out.stdout_text(), "hello\n\n");
        assert_eq!(client.calls(), [r#"readProcessStdoutLog["web",-100,0]"#]);
    }

    #[tokio::test]
    async fn read_faults() {
        let client = MockClient::new()
            .fault("readProcessStderrLog", Fault::BadName, "nosuch")
            .fault("readProcessStderrLog", Fault::NoFile, "x")
            .fault("readProcessStderrLog", Fault::Failed, "x");
        let mut out = Output::captured();
        for name in ["nosuch", "x", "x"] {
            run(
                &client,
                &mut out,
                name,
                Channel::Stderr,
                TailMode::Bytes(1600),
            )
            .await
            .expect("ok");
        }
        assert_eq!(
            out.stdout_text(),
            "nosuch: ERROR (no such process name)\nx: ERROR (no log file)\n\
             x: ERROR (unknown error reading log)\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn follow_of_a_bad_name() {
        let client = MockClient::new().fault("followProcessLog", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            "nosuch",
            Channel::Stdout,
            TailMode::Follow,
        )
        .await
        .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "==> Press Ctrl-C to exit <==\nnosuch: ERROR (no such process name)\n"
        );
        assert_eq!(out.status, 1);
    }
}
