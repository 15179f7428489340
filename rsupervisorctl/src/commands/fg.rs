//! `fg name`: follow a running process's stdout and stderr and forward each line typed on
//! stdin to it, until Ctrl-C, end of input, or the process dies.
//!
//! stdin is read without a helper thread (non-blocking, through the runtime's reactor) so
//! that nothing keeps reading the terminal once `fg` returns to the interactive shell.

use jsonrpsee::core::client::Subscription;
use jsonrpsee::core::ClientError;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use rsupervisor_api::{Channel, Fault, ProcessState, SupervisorRpcClient};
use std::collections::VecDeque;
use std::io::BufRead;
use std::os::fd::AsFd;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::unix::pipe::Receiver;

use super::{fault_of, follow, is_fault, Output};
use crate::exit;

/// Reads lines from stdin through the reactor, restoring stdin's flags when dropped.
struct StdinLines {
    reader: Option<tokio::io::Lines<BufReader<Receiver>>>,
    saved: Option<OFlag>,
    /// Lines read up front when stdin cannot be polled (a regular file, /dev/null).
    queued: VecDeque<String>,
}

impl StdinLines {
    fn open() -> Self {
        let stdin = std::io::stdin();
        let saved = fcntl(stdin.as_fd(), FcntlArg::F_GETFL)
            .ok()
            .map(OFlag::from_bits_truncate);
        // A duplicate of fd 0 shares its file description; the receiver makes it non-blocking,
        // and Drop puts the saved flags back so the shell reads the terminal normally again.
        let reader = stdin
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| Receiver::from_file_unchecked(std::fs::File::from(fd)).ok())
            .map(|receiver| BufReader::new(receiver).lines());
        let mut queued = VecDeque::new();
        if reader.is_none() {
            // Files never block: read them now, then report end of input.
            queued.extend(stdin.lock().lines().map_while(Result::ok));
        }
        StdinLines {
            reader,
            saved,
            queued,
        }
    }

    /// The next line without its newline; `None` at end of input.
    async fn next_line(&mut self) -> Option<String> {
        if let Some(line) = self.queued.pop_front() {
            return Some(line);
        }
        match &mut self.reader {
            Some(lines) => lines.next_line().await.ok().flatten(),
            None => None,
        }
    }
}

impl Drop for StdinLines {
    fn drop(&mut self) {
        self.reader = None;
        if let Some(flags) = self.saved {
            let _ = fcntl(std::io::stdin().as_fd(), FcntlArg::F_SETFL(flags));
        }
    }
}

async fn next_chunk(subscription: &mut Option<Subscription<String>>) -> Option<String> {
    match subscription {
        Some(stream) => loop {
            match stream.next().await {
                Some(Ok(chunk)) => return Some(chunk),
                Some(Err(_)) => continue,
                None => return None,
            }
        },
        None => std::future::pending().await,
    }
}

/// Runs the foreground session for `name`.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    name: &str,
) -> Result<(), ClientError> {
    let info = match client.get_process_info(name.to_owned()).await {
        Ok(info) => info,
        Err(error) if is_fault(&error, Fault::BadName) => {
            out.line("ERROR: bad process name supplied");
            out.status = exit::GENERIC;
            return Ok(());
        }
        Err(error) => {
            let fault = fault_of(&error).ok_or(error)?;
            out.line(format!("ERROR: {fault}"));
            return Ok(());
        }
    };
    if info.process_state() != ProcessState::Running {
        out.line("ERROR: process not running");
        out.status = exit::GENERIC;
        return Ok(());
    }
    out.line(follow::BANNER);
    let history = super::tail::FOLLOW_HISTORY;
    let mut stdout = client
        .follow_process_log(name.to_owned(), Channel::Stdout, history)
        .await
        .ok();
    // No stderr log (redirect_stderr=true) is normal: follow stdout alone.
    let mut stderr = client
        .follow_process_log(name.to_owned(), Channel::Stderr, history)
        .await
        .ok();
    let mut input = StdinLines::open();
    loop {
        if stdout.is_none() && stderr.is_none() {
            out.error(follow::CLOSED.replace("tail ended", "fg ended"));
            out.status = exit::GENERIC;
            return Ok(());
        }
        tokio::select! {
            _ = follow::ctrl_c() => break,
            chunk = next_chunk(&mut stdout) => match chunk {
                // Our own stdout closed: nothing more can be shown.
                Some(chunk) => if !out.raw(&chunk) { break },
                None => stdout = None,
            },
            chunk = next_chunk(&mut stderr) => match chunk {
                Some(chunk) => if !out.raw(&chunk) { break },
                None => stderr = None,
            },
            line = input.next_line() => {
                let Some(line) = line else { break };
                if let Err(error) = client.send_process_stdin(name.to_owned(), format!("{line}\n")).await {
                    let fault = fault_of(&error).ok_or(error)?;
                    if fault.fault == Fault::NotRunning {
                        out.line("Process got killed");
                    } else {
                        out.line(format!("ERROR: {fault}"));
                    }
                    break;
                }
                let info = client.get_process_info(name.to_owned()).await?;
                if info.process_state() != ProcessState::Running {
                    out.line("Process got killed");
                    break;
                }
            }
        }
    }
    out.line("Exiting foreground");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, MockClient};

    #[tokio::test]
    async fn refuses_bad_and_stopped_processes() {
        let client = MockClient::new()
            .fault("getProcessInfo", Fault::BadName, "nosuch")
            .ok(
                "getProcessInfo",
                info("idle", "idle", ProcessState::Stopped, 0),
            );
        let mut out = Output::captured();
        run(&client, &mut out, "nosuch").await.expect("ok");
        run(&client, &mut out, "idle").await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "ERROR: bad process name supplied\nERROR: process not running\n"
        );
        assert_eq!(out.status, 1);
    }
}
