//! Starting and stopping: autostart, startsecs, startProcess/stopProcess and their faults.

use std::time::{Duration, Instant};

use rsupervisor_e2e::{info_pid, pid_alive, wait_state, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

#[test]
fn autostart_spawns_only_autostart_programs() {
    let dir = TestDir::new();
    dir.config(
        "[program:auto]\ncommand={fixture} --sleep\nstartsecs=0\n\n\
         [program:manual]\ncommand={fixture} --sleep\nautostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "auto", "RUNNING", DEADLINE);
    assert!(pid_alive(info_pid(&info)), "{info}");
    let manual = daemon.process("manual");
    assert_eq!(manual["statename"], "STOPPED", "{manual}");
    assert_eq!(manual["description"], "Not started", "{manual}");
    assert_eq!(manual["pid"], 0, "{manual}");
    let log = daemon.main_log();
    assert_eq!(
        log_messages(&log, "spawned: 'manual'"),
        Vec::<String>::new()
    );
}

#[test]
fn startsecs_keeps_starting_then_running() {
    let dir = TestDir::new();
    dir.config("[program:slow]\ncommand={fixture} --sleep\nstartsecs=2\nautostart=false\n");
    let daemon = Daemon::start(&dir);
    let began = Instant::now();
    assert_eq!(start(&daemon, "slow", false), Ok(json!(true)));
    // The reply comes at once; startsecs has not passed yet.
    let info = daemon.process("slow");
    assert_eq!(info["statename"], "STARTING", "{info}");
    assert!(info_pid(&info) > 0, "{info}");
    wait_state(&daemon, "slow", "RUNNING", DEADLINE);
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "RUNNING after only {:?}",
        began.elapsed()
    );
    let log = wait_log(&daemon, "success: slow");
    assert!(
        log.contains(
            "INFO success: slow entered RUNNING state, process has stayed up for > than 2 \
             seconds (startsecs)"
        ),
        "{log}"
    );
}

#[test]
fn start_and_stop_with_wait() {
    let dir = TestDir::new();
    dir.config("[program:x]\ncommand={fixture} --sleep\nstartsecs=1\nautostart=false\n");
    let daemon = Daemon::start(&dir);
    let began = Instant::now();
    assert_eq!(start(&daemon, "x", true), Ok(json!(true)));
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    let info = daemon.process("x");
    assert_eq!(info["statename"], "RUNNING", "{info}");
    let pid = info_pid(&info);
    assert!(pid_alive(pid));
    assert!(
        info["description"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("pid {pid}, uptime 0:00:0")),
        "{info}"
    );

    assert_eq!(stop(&daemon, "x", true), Ok(json!(true)));
    let info = daemon.process("x");
    assert_eq!(info["statename"], "STOPPED", "{info}");
    assert_eq!(info["pid"], 0, "{info}");
    wait_dead(pid, "x");
    let log = daemon.main_log();
    assert!(
        log.contains(&format!("INFO spawned: 'x' with pid {pid}")),
        "{log}"
    );
    assert!(log.contains("INFO waiting for x to stop"), "{log}");
    assert!(
        log.contains("WARN stopped: x (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn start_stop_faults() {
    let dir = TestDir::new();
    dir.config(
        "[program:up]\ncommand={fixture} --sleep\nstartsecs=0\n\n\
         [program:down]\ncommand={fixture} --sleep\nautostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "up", "RUNNING", DEADLINE);
    let fault = expect_fault(start(&daemon, "up", true), ALREADY_STARTED);
    assert_eq!(fault.message, "ALREADY_STARTED: up");
    let fault = expect_fault(stop(&daemon, "down", true), NOT_RUNNING);
    assert_eq!(fault.message, "NOT_RUNNING: down");
    for method in [
        "supervisor.startProcess",
        "supervisor.stopProcess",
        "supervisor.getProcessInfo",
    ] {
        let fault = expect_fault(daemon.rpc(method, json!(["nosuch"])), BAD_NAME);
        assert_eq!(fault.message, "BAD_NAME: nosuch", "{method}");
    }
    expect_fault(start(&daemon, "up:nosuch", true), BAD_NAME);
    // The faults changed nothing.
    assert_eq!(state_of(&daemon, "up"), "RUNNING");
    assert_eq!(state_of(&daemon, "down"), "STOPPED");
}

#[test]
fn startsecs_zero_is_running_at_once() {
    let dir = TestDir::new();
    dir.config("[program:quick]\ncommand={fixture} --sleep\nstartsecs=0\nautostart=false\n");
    let daemon = Daemon::start(&dir);
    assert_eq!(start(&daemon, "quick", true), Ok(json!(true)));
    assert_eq!(state_of(&daemon, "quick"), "RUNNING");
    let log = wait_log(&daemon, "success: quick");
    assert!(
        log.contains(
            "success: quick entered RUNNING state, process has stayed up for > than 0 \
             seconds (startsecs)"
        ),
        "{log}"
    );
}

#[test]
fn stop_while_starting() {
    let dir = TestDir::new();
    dir.config("[program:slow]\ncommand={fixture} --sleep\nstartsecs=30\nautostart=false\n");
    let daemon = Daemon::start(&dir);
    assert_eq!(start(&daemon, "slow", false), Ok(json!(true)));
    let info = daemon.process("slow");
    assert_eq!(info["statename"], "STARTING", "{info}");
    let pid = info_pid(&info);
    let began = Instant::now();
    assert_eq!(stop(&daemon, "slow", true), Ok(json!(true)));
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(state_of(&daemon, "slow"), "STOPPED");
    wait_dead(pid, "slow");
    let log = daemon.main_log();
    assert!(
        log.contains("stopped: slow (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(!log.contains("success: slow"), "{log}");
}

#[test]
fn children_get_only_their_own_descriptors() {
    // Twenty programs running first: the daemon holds several descriptors for each, and
    // none of them may reach a program started after them.
    let dir = TestDir::new();
    let mut config = String::new();
    for i in 0..20 {
        config.push_str(&format!(
            "[program:sleeper{i}]\ncommand={{fixture}} --sleep\nstartsecs=0\n\n"
        ));
    }
    config.push_str(
        "[program:lister]\ncommand=/bin/ls /proc/self/fd\nautostart=false\nstartsecs=0\n\
         autorestart=false\nstdout_logfile={dir}/fds.log\n",
    );
    dir.config(&config);
    let daemon = Daemon::start(&dir);
    for i in 0..20 {
        wait_state(&daemon, &format!("sleeper{i}"), "RUNNING", DEADLINE);
    }
    assert_eq!(start(&daemon, "lister", false), Ok(json!(true)));
    wait_state(&daemon, "lister", "EXITED", DEADLINE);
    let listing = rsupervisor_e2e::wait_until(DEADLINE, "the listing in fds.log", || {
        match dir.try_read("fds.log") {
            Some(text) if text.ends_with('\n') => Ok(text),
            other => Err(format!("{other:?}")),
        }
    });
    // 0, 1, 2, and the directory `ls` itself opened to list them.
    let fds: Vec<&str> = listing.split_whitespace().collect();
    assert_eq!(fds, ["0", "1", "2", "3"], "{listing}");
}

#[test]
fn output_nobody_reads_goes_to_dev_null() {
    let dir = TestDir::new();
    // At the harness's loglevel=debug the main log copies all output: not discarded then.
    dir.config_with(
        "loglevel=info",
        "[program:quiet]\ncommand=/bin/sh -c 'x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2'\nautostart=false\n\
         startsecs=0\nautorestart=false\nstdout_logfile=NONE\nstderr_logfile={dir}/quiet.err\n\n\
         [program:logged]\ncommand=/bin/sh -c 'x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2'\nautostart=false\n\
         startsecs=0\nautorestart=false\nstdout_logfile={dir}/logged.out\n\
         stderr_logfile={dir}/logged.err\n",
    );
    let daemon = Daemon::start(&dir);
    for name in ["quiet", "logged"] {
        assert_eq!(start(&daemon, name, false), Ok(json!(true)));
        wait_state(&daemon, name, "EXITED", DEADLINE);
    }
    let target = |file: &str| {
        rsupervisor_e2e::wait_until(DEADLINE, file, || match dir.try_read(file) {
            Some(text) if text.ends_with('\n') => Ok(text.trim().to_owned()),
            other => Err(format!("{other:?}")),
        })
    };
    assert_eq!(target("quiet.err"), "/dev/null");
    assert!(
        target("logged.err").starts_with("pipe:"),
        "a logged stdout is a pipe"
    );
}
