//! Harness for rsupervisor's end-to-end tests: the real `rsupervisord` and `rsupervisorctl`
//! binaries, one temporary directory per test, and the `fixture` child program.
//!
//! A typical test:
//!
//! ```no_run
//! use std::time::Duration;
//! use rsupervisor_e2e::{wait_state, Daemon, TestDir};
//!
//! let dir = TestDir::new();
//! dir.config("[program:sleeper]\ncommand={fixture} --sleep\n");
//! let daemon = Daemon::start(&dir);
//! let info = wait_state(&daemon, "sleeper", "RUNNING", Duration::from_secs(10));
//! assert!(info["pid"].as_i64().unwrap_or(0) > 0);
//! dir.ctl(&["stop", "sleeper"]).assert_status(0);
//! ```
//!
//! Rules the harness enforces: tests wait only through [`wait_until`] (deadline, named
//! condition, last observed state on failure); the daemon guard stops the daemon on drop and
//! dumps its logs when the test panics; nothing uses a shared path or port.

pub mod binaries;
pub mod ctl;
pub mod daemon;
pub mod dir;
pub mod dump;
pub mod process;
pub mod python;
pub mod rpc;
pub mod seccomp;
pub mod spew;
pub mod wait;

use std::time::Duration;

use serde_json::{json, Value};

pub use ctl::{Ctl, CtlOutput};
pub use daemon::{Daemon, DaemonCommand, DaemonFailure};
pub use dir::TestDir;
pub use process::{all_processes, pid_alive, process_group_members};
pub use rpc::{RpcError, RpcFault};
pub use wait::{try_wait_until, wait_until};

/// Waits until process `name` reports `statename` == `state` and returns its process info.
///
/// On timeout the panic shows the last process info seen (or the fault, e.g. BAD_NAME).
#[track_caller]
pub fn wait_state(daemon: &Daemon<'_>, name: &str, state: &str, deadline: Duration) -> Value {
    wait_until(deadline, &format!("{name} to be {state}"), || match daemon
        .try_rpc("supervisor.getProcessInfo", json!([name]))
    {
        Ok(info) if info["statename"] == state => Ok(info),
        Ok(info) => Err(info.to_string()),
        Err(e) => Err(e.to_string()),
    })
}

/// The `pid` field of a process info object, as an `i32` (0 when not running).
#[track_caller]
pub fn info_pid(info: &Value) -> i32 {
    info["pid"]
        .as_i64()
        .and_then(|pid| i32::try_from(pid).ok())
        .unwrap_or_else(|| panic!("process info has no valid pid: {info}"))
}
