//! Priorities: spawn order, shutdown order group by group, and numprocs expansion.

use nix::sys::signal::Signal;
use rsupervisor_e2e::{info_pid, wait_state, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

/// Position of `needle` in `log`, panicking with the log if it is missing.
#[track_caller]
fn position(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("main log lacks {needle:?}:\n{log}"))
}

#[test]
fn spawn_order_follows_priority() {
    let dir = TestDir::new();
    // Config order and name order both differ from priority order.
    dir.config(
        "[program:a_late]\ncommand={fixture} --sleep\nstartsecs=0\npriority=300\n\n\
         [program:c_first]\ncommand={fixture} --sleep\nstartsecs=0\npriority=100\n\n\
         [program:b_middle]\ncommand={fixture} --sleep\nstartsecs=0\npriority=200\n",
    );
    let daemon = Daemon::start(&dir);
    for name in ["a_late", "b_middle", "c_first"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
    }
    let log = daemon.main_log();
    let spawned: Vec<String> = log_messages(&log, "spawned: '")
        .iter()
        .map(|m| m.split('\'').nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(spawned, ["c_first", "b_middle", "a_late"], "{log}");
}

#[test]
fn shutdown_stops_groups_in_descending_priority_one_at_a_time() {
    let dir = TestDir::new();
    // `top` is stopped first and takes a second (SIGKILL after stopwaitsecs); nothing of the
    // lower-priority groups may be signalled before it is gone. In the heterogeneous group the
    // members get their signal together, higher priority first.
    dir.config(
        "[program:low]\ncommand={fixture} --sleep\nstartsecs=0\npriority=10\n\n\
         [program:top]\ncommand={fixture} --ignore-sigterm --print ready\nstartsecs=0\n\
         priority=900\nstopwaitsecs=1\nstdout_logfile={dir}/top.log\n\n\
         [program:m1]\ncommand={fixture} --sleep\nstartsecs=0\npriority=1\n\n\
         [program:m2]\ncommand={fixture} --sleep\nstartsecs=0\npriority=2\n\n\
         [group:mid]\nprograms=m1,m2\npriority=500\n",
    );
    let mut daemon = Daemon::start(&dir);
    for name in ["low", "top", "mid:m1", "mid:m2"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
    }
    // `ready` comes after the fixture installed its SIGTERM handler.
    wait_file(&dir, "top.log", "ready\n");
    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0), "{status}");
    let log = daemon.main_log();
    let stopped: Vec<String> = log_messages(&log, "stopped: ")
        .iter()
        .map(|m| {
            m.trim_start_matches("stopped: ")
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(stopped[0], "top", "{log}");
    assert_eq!(stopped[3], "low", "{log}");
    let mut middle = stopped[1..3].to_vec();
    middle.sort();
    assert_eq!(middle, ["m1", "m2"], "{log}");
    // Group by group: the next group is signalled only after the previous one stopped.
    let top_stopped = position(&log, "stopped: top (terminated by SIGKILL)");
    let m2_signalled = position(&log, "killing m2 (pid");
    let m1_signalled = position(&log, "killing m1 (pid");
    assert!(top_stopped < m2_signalled, "{log}");
    assert!(m2_signalled < m1_signalled, "{log}");
    let mid_stopped = position(&log, "stopped: m1").max(position(&log, "stopped: m2"));
    assert!(mid_stopped < position(&log, "killing low (pid"), "{log}");
}

#[test]
fn numprocs_expands_process_names() {
    let dir = TestDir::new();
    dir.config(
        "[program:g]\ncommand={fixture} --sleep\nstartsecs=0\nnumprocs=3\n\
         process_name=%(program_name)s_%(process_num)02d\n",
    );
    let daemon = Daemon::start(&dir);
    let mut pids = Vec::new();
    for name in ["g:g_00", "g:g_01", "g:g_02"] {
        let info = wait_state(&daemon, name, "RUNNING", DEADLINE);
        assert_eq!(info["group"], "g", "{info}");
        pids.push(info_pid(&info));
    }
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 3);
    let names: Vec<String> = daemon
        .all_process_info()
        .iter()
        .map(|info| {
            format!(
                "{}:{}",
                info["group"].as_str().unwrap_or(""),
                info["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(names, ["g:g_00", "g:g_01", "g:g_02"]);
    expect_fault(
        daemon.rpc("supervisor.getProcessInfo", json!(["g"])),
        BAD_NAME,
    );
    let results = daemon.rpc_ok("supervisor.stopProcessGroup", json!(["g", true]));
    let results = results.as_array().expect("an array of status structs");
    assert_eq!(results.len(), 3, "{results:?}");
    for name in ["g:g_00", "g:g_01", "g:g_02"] {
        assert_eq!(state_of(&daemon, name), "STOPPED");
    }
}
