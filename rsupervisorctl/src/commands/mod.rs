//! One file per verb. Each verb is an async function generic over the RPC client, taking the
//! parsed arguments and an [`Output`] that collects lines and the exit status, so verbs are
//! tested against a scripted client (see `mock`) without a daemon.
//!
//! A verb returns `Err` only for what supervisorctl does not handle itself (it would print a
//! Python traceback line); the session prints those and sets status 1.

pub mod add;
pub mod avail;
pub mod clear;
pub mod fg;
pub mod follow;
pub mod maintail;
pub mod pid;
pub mod reload;
pub mod remove;
pub mod reread;
pub mod restart;
pub mod shutdown;
pub mod signal;
pub mod start;
pub mod status;
pub mod stop;
pub mod tail;
pub mod update;
pub mod version;

#[cfg(test)]
pub mod mock;

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, FaultError};
use std::io::Write;

use crate::exit;

/// Where a verb's lines go, plus the exit status it sets.
#[derive(Debug)]
pub struct Output {
    /// The exit status so far (supervisorctl's `exitstatus`: never reset within a command).
    pub status: i32,
    /// `--json` was given.
    pub json: bool,
    captured: Option<(String, String)>,
}

impl Output {
    /// Output to the terminal.
    pub fn terminal(json: bool) -> Self {
        Output {
            status: exit::OK,
            json,
            captured: None,
        }
    }

    /// Output kept in memory, for tests.
    pub fn captured() -> Self {
        Output {
            status: exit::OK,
            json: false,
            captured: Some((String::new(), String::new())),
        }
    }

    /// Prints a line on stdout (supervisorctl prints even its errors there).
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.raw(&format!("{}\n", text.as_ref()));
    }

    /// Prints text on stdout as is, flushed at once (log streams).
    pub fn raw(&mut self, text: &str) {
        match &mut self.captured {
            Some((out, _)) => out.push_str(text),
            None => {
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (`| head`) is not worth a panic; the write is simply lost.
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
        }
    }

    /// Prints a line on stderr (our own diagnostics, and errors in `--json` mode).
    pub fn error(&mut self, text: impl AsRef<str>) {
        match &mut self.captured {
            Some((_, err)) => {
                err.push_str(text.as_ref());
                err.push('\n');
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
            }
        }
    }

    /// An error line: on stdout as supervisorctl does, or on stderr when stdout carries JSON.
    pub fn problem(&mut self, text: impl AsRef<str>) {
        if self.json {
            self.error(text);
        } else {
            self.line(text);
        }
    }

    /// Prints a JSON document.
    pub fn json_value(&mut self, value: &serde_json::Value) {
        self.line(crate::output::json_text(value));
    }

    /// Applies supervisorctl's fault → status rule for one per-process result.
    pub fn fault(&mut self, code: i32, ignored: Option<Fault>) {
        self.status = exit::after_fault(self.status, code, ignored);
    }

    /// What was printed on stdout (captured output only).
    pub fn stdout_text(&self) -> &str {
        self.captured.as_ref().map_or("", |(out, _)| out)
    }

    /// What was printed on stderr (captured output only).
    pub fn stderr_text(&self) -> &str {
        self.captured.as_ref().map_or("", |(_, err)| err)
    }
}

/// The supervisord fault carried by an RPC error, if it is one.
pub fn fault_of(error: &ClientError) -> Option<FaultError> {
    match error {
        ClientError::Call(object) => FaultError::from_error_object(object),
        _ => None,
    }
}

/// Whether the error is this fault.
pub fn is_fault(error: &ClientError, fault: Fault) -> bool {
    fault_of(error).is_some_and(|found| found.fault == fault)
}
