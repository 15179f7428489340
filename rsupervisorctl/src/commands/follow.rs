//! Streaming a log subscription to stdout until Ctrl-C (status unchanged) or until the daemon
//! closes the stream (a message on stderr, status 1). Shared by `tail -f`, `maintail -f`, `fg`.

use jsonrpsee::core::client::Subscription;

use super::Output;
use crate::exit;

/// Printed first, as supervisorctl does.
pub const BANNER: &str = "==> Press Ctrl-C to exit <==";

/// Printed on stderr when the stream ends without Ctrl-C.
pub const CLOSED: &str =
    "rsupervisorctl: the connection to rsupervisord closed (daemon stopped?); tail ended";

/// Why following stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The operator pressed Ctrl-C.
    Interrupted,
    /// The daemon ended the stream or went away.
    Closed,
    /// Our stdout was closed (`tail -f x | head`): stop quietly.
    OutputClosed,
}

/// Resolves on Ctrl-C; never resolves if the handler cannot be installed (then the default
/// SIGINT action still ends the program).
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Copies every chunk to stdout as it arrives, flushing each.
pub async fn stream(out: &mut Output, mut subscription: Subscription<String>) -> End {
    loop {
        tokio::select! {
            _ = ctrl_c() => return End::Interrupted,
            item = subscription.next() => match item {
                Some(Ok(chunk)) => {
                    if !out.raw(&chunk) {
                        return End::OutputClosed;
                    }
                }
                // A chunk that does not decode is skipped; the stream itself is still alive.
                Some(Err(_)) => continue,
                None => return End::Closed,
            },
        }
    }
}

/// Reports how following ended.
pub fn finish(out: &mut Output, end: End) {
    match end {
        End::Interrupted => out.line(""),
        End::OutputClosed => {}
        End::Closed => {
            out.error(CLOSED);
            out.status = exit::GENERIC;
        }
    }
}
