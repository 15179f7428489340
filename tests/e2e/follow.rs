//! The main log through RPC (`supervisor.readLog`); following needs a WebSocket client, which
//! the harness does not have, so it is tested at the library level instead.

use rsupervisor_e2e::{Daemon, TestDir};
use serde_json::json;

use crate::support::*;

#[test]
fn read_log_returns_the_main_log() {
    let dir = TestDir::new();
    dir.config("");
    let daemon = Daemon::start(&dir);
    let started = format!("supervisord started with pid {}", daemon.pid());
    wait_log(&daemon, &started);
    let whole = daemon.rpc_ok("supervisor.readLog", json!([0, 0]));
    let whole = whole.as_str().expect("a string");
    let file = dir.read("supervisord.log");
    // The file may have grown after the call; what was read is a prefix of it.
    assert!(file.starts_with(whole), "{whole:?} vs {file:?}");
    assert!(whole.contains(&started), "{whole}");
    let tail = daemon.rpc_ok("supervisor.readLog", json!([-20, 0]));
    let tail = tail.as_str().expect("a string");
    assert_eq!(tail.len(), 20, "{tail:?}");
    let head = daemon.rpc_ok("supervisor.readLog", json!([0, 10]));
    assert_eq!(head.as_str(), Some(&file[..10]));
    expect_fault(
        daemon.rpc("supervisor.readLog", json!([-5, 5])),
        BAD_ARGUMENTS,
    );
}
