//! Small helpers shared by the daemon tests: waiting on the main log and on files, faults.

use std::time::Duration;

use rsupervisor_e2e::{wait_until, Daemon, RpcFault, TestDir};
use serde_json::{json, Value};

/// Deadline for anything that should happen within a second or two on an idle machine.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A loopback port nobody listens on right now (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("finding a free loopback port: {e}"))
}

/// Fault codes (reference §5.2).
pub const BAD_NAME: i64 = 10;
pub const BAD_ARGUMENTS: i64 = 3;
pub const NO_FILE: i64 = 20;
pub const NOT_EXECUTABLE: i64 = 21;
pub const SPAWN_ERROR: i64 = 50;
pub const ALREADY_STARTED: i64 = 60;
pub const NOT_RUNNING: i64 = 70;

/// Waits until the main log contains `needle` and returns the whole log.
#[track_caller]
pub fn wait_log(daemon: &Daemon<'_>, needle: &str) -> String {
    wait_until(DEADLINE, &format!("main log to contain {needle:?}"), || {
        let log = daemon.main_log();
        if log.contains(needle) {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    })
}

/// Waits until `dir/rel` contains `needle` and returns the file's contents.
#[track_caller]
pub fn wait_file(dir: &TestDir, rel: &str, needle: &str) -> String {
    wait_until(DEADLINE, &format!("{rel} to contain {needle:?}"), || {
        let text = dir.try_read(rel).unwrap_or_default();
        if text.contains(needle) {
            Ok(text)
        } else {
            Err(tail(&text))
        }
    })
}

/// Waits until `dir/rel` holds a pid (a newline-terminated number) and returns it.
#[track_caller]
pub fn wait_pid_file(dir: &TestDir, rel: &str) -> i32 {
    wait_until(DEADLINE, &format!("{rel} to hold a pid"), || {
        let text = dir.try_read(rel).unwrap_or_default();
        match text.strip_suffix('\n').map(str::parse::<i32>) {
            Some(Ok(pid)) => Ok(pid),
            _ => Err(text),
        }
    })
}

/// The last 2000 bytes of `text`, for failure messages.
pub fn tail(text: &str) -> String {
    let start = text.len().saturating_sub(2000);
    let start = (start..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

/// The main-log messages (text after `LEVEL `) of the lines containing `needle`, in order.
pub fn log_messages(log: &str, needle: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.contains(needle))
        .map(|line| {
            // `YYYY-MM-DD HH:MM:SS,mmm LEVL message`
            line.splitn(4, ' ').nth(3).unwrap_or(line).to_owned()
        })
        .collect()
}

/// Expects `result` to be the fault `code` and returns it.
#[track_caller]
pub fn expect_fault(result: Result<Value, RpcFault>, code: i64) -> RpcFault {
    match result {
        Err(fault) if fault.code == code => fault,
        other => panic!("expected fault {code}, got {other:?}"),
    }
}

/// `getProcessInfo(name)["statename"]`.
#[track_caller]
pub fn state_of(daemon: &Daemon<'_>, name: &str) -> String {
    daemon.process(name)["statename"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `startProcess(name, wait)`.
pub fn start(daemon: &Daemon<'_>, name: &str, wait: bool) -> Result<Value, RpcFault> {
    daemon.rpc("supervisor.startProcess", json!([name, wait]))
}

/// `stopProcess(name, wait)`.
pub fn stop(daemon: &Daemon<'_>, name: &str, wait: bool) -> Result<Value, RpcFault> {
    daemon.rpc("supervisor.stopProcess", json!([name, wait]))
}

/// Waits until `pid` is gone (dead or a zombie).
#[track_caller]
pub fn wait_dead(pid: i32, what: &str) {
    wait_until(DEADLINE, &format!("{what} (pid {pid}) to die"), || {
        if rsupervisor_e2e::pid_alive(pid) {
            Err("alive")
        } else {
            Ok(())
        }
    });
}

/// Kills a stray process when dropped, so a failing test leaves nothing behind.
pub struct KillOnDrop(pub i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0 > 0 && rsupervisor_e2e::pid_alive(self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
