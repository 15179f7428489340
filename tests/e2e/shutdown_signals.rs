//! Daemon signals: graceful shutdown, reload, log reopen; a second daemon; a stale socket.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use rsupervisor_e2e::{
    info_pid, pid_alive, process_group_members, wait_state, wait_until, Daemon, TestDir,
};
use serde_json::json;

use crate::support::*;

/// Starts a daemon with a child that has a grandchild, sends `signal`, and checks the shutdown.
fn graceful_shutdown_on(signal: Signal) {
    let dir = TestDir::new();
    dir.config(
        "[program:parent]\ncommand={fixture} --fork-grandchild {dir}/gc.pid\nstartsecs=0\n\n\
         [program:plain]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let mut daemon = Daemon::start(&dir);
    let parent = info_pid(&wait_state(&daemon, "parent", "RUNNING", DEADLINE));
    let plain = info_pid(&wait_state(&daemon, "plain", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(&dir, "gc.pid");
    let _guard = KillOnDrop(grandchild);
    assert!(dir.path("supervisord.pid").exists());
    assert_eq!(dir.read("supervisord.pid"), format!("{}\n", daemon.pid()));

    daemon.signal(signal);
    let status = daemon.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0), "{signal}: {status}");
    let log = daemon.main_log();
    assert!(
        log.contains(&format!("WARN received {signal} indicating exit request")),
        "{log}"
    );
    assert!(!dir.path("supervisord.pid").exists(), "pidfile left behind");
    assert!(!dir.socket_path().exists(), "socket left behind");
    // The daemon reaped its children before exiting.
    for pid in [parent, plain] {
        assert!(!pid_alive(pid), "{signal}: pid {pid} survived the shutdown");
    }
    // The grandchild got its SIGKILL; dying takes the kernel a moment.
    wait_dead(grandchild, "the grandchild");
    for pgid in [parent, plain] {
        wait_until(
            DEADLINE,
            &format!("process group {pgid} to be empty"),
            || {
                let members = process_group_members(pgid);
                if members.is_empty() {
                    Ok(())
                } else {
                    Err(members)
                }
            },
        );
    }
}

#[test]
fn sigterm_shuts_down_gracefully() {
    graceful_shutdown_on(Signal::SIGTERM);
}

#[test]
fn sigint_shuts_down_gracefully() {
    graceful_shutdown_on(Signal::SIGINT);
}

#[test]
fn sigquit_shuts_down_gracefully() {
    graceful_shutdown_on(Signal::SIGQUIT);
}

#[test]
fn sighup_reloads_the_edited_config() {
    let dir = TestDir::new();
    let program = "[program:keep]\ncommand={fixture} --sleep\nstartsecs=0\n";
    dir.config(program);
    let daemon = Daemon::start(&dir);
    let old = info_pid(&wait_state(&daemon, "keep", "RUNNING", DEADLINE));
    dir.config(&format!(
        "{program}\n[program:added]\ncommand={{fixture}} --sleep\nstartsecs=0\n"
    ));
    daemon.signal(Signal::SIGHUP);
    let info = wait_state(&daemon, "added", "RUNNING", DEADLINE);
    assert!(info_pid(&info) > 0);
    let new = info_pid(&wait_state(&daemon, "keep", "RUNNING", DEADLINE));
    assert_ne!(new, old, "keep was not restarted");
    wait_dead(old, "the old keep");
    assert_eq!(
        daemon.rpc_ok("supervisor.getPID", json!([])),
        json!(daemon.pid())
    );
    let log = daemon.main_log();
    assert!(
        log.contains("WARN received SIGHUP indicating restart request"),
        "{log}"
    );
    let started = format!("supervisord started with pid {}", daemon.pid());
    assert_eq!(log_messages(&log, &started).len(), 2, "{log}");
}

/// As supervisord, every start and reload logs the startup warnings and, per control server,
/// `RPC interface 'supervisor' initialized` and the unauthenticated-server CRIT; and a
/// shutdown soon after a reload still says what it waits for.
#[test]
fn reload_repeats_the_startup_lines_and_the_next_shutdown_says_what_it_waits_for() {
    let dir = TestDir::new();
    dir.config("[program:keep]\ncommand={fixture} --sleep\nstartsecs=0\n");
    let mut daemon = Daemon::start(&dir);
    let old = info_pid(&wait_state(&daemon, "keep", "RUNNING", DEADLINE));
    let log = daemon.main_log();
    let server = "CRIT Server 'unix_http_server' running without any HTTP authentication checking";
    let startup: Vec<String> = log
        .lines()
        .map(|line| line.splitn(3, ' ').nth(2).unwrap_or(line).to_owned())
        .take_while(|line| !line.starts_with("INFO supervisord started"))
        .collect();
    let rpc = startup
        .iter()
        .position(|line| line == "INFO RPC interface 'supervisor' initialized")
        .unwrap_or_else(|| panic!("no RPC interface line before the start:\n{log}"));
    assert_eq!(
        startup.get(rpc + 1).map(String::as_str),
        Some(server),
        "{log}"
    );

    daemon.signal(Signal::SIGHUP);
    let started = format!("supervisord started with pid {}", daemon.pid());
    wait_until(DEADLINE, "the reload to finish", || {
        let log = daemon.main_log();
        if log_messages(&log, &started).len() == 2 {
            Ok(())
        } else {
            Err(tail(&log))
        }
    });
    let new = info_pid(&wait_state(&daemon, "keep", "RUNNING", DEADLINE));
    assert_ne!(new, old);
    let log = daemon.main_log();
    let root = nix::unistd::Uid::current().is_root();
    assert_eq!(
        log_messages(&log, "Supervisor is running as root").len(),
        if root { 2 } else { 0 },
        "{log}"
    );
    assert_eq!(
        log_messages(&log, "RPC interface 'supervisor' initialized").len(),
        2,
        "{log}"
    );
    assert_eq!(log_messages(&log, &server[5..]).len(), 2, "{log}");

    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0), "{status}");
    let log = daemon.main_log();
    let after_term: Vec<&str> = log
        .lines()
        .skip_while(|line| !line.contains("received SIGTERM indicating exit request"))
        .collect();
    assert!(
        after_term
            .iter()
            .any(|line| line.ends_with("INFO waiting for keep to die")),
        "{log}"
    );
}

#[test]
fn sigusr2_reopens_moved_logs() {
    let dir = TestDir::new();
    dir.config(
        "[program:echo]\ncommand={fixture} --echo-stdin\nstartsecs=0\n\
         stdout_logfile={dir}/echo.log\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "echo", "RUNNING", DEADLINE);
    daemon.rpc_ok("supervisor.sendProcessStdin", json!(["echo", "before\n"]));
    wait_file(&dir, "echo.log", "before\n");
    std::fs::rename(dir.path("echo.log"), dir.path("echo.log.old")).expect("moving echo.log");
    std::fs::rename(dir.path("supervisord.log"), dir.path("supervisord.log.old"))
        .expect("moving supervisord.log");
    daemon.signal(Signal::SIGUSR2);
    // The line is written after the reopen, so it lands in the new main log.
    wait_log(&daemon, "INFO supervisord logreopen");
    daemon.rpc_ok("supervisor.sendProcessStdin", json!(["echo", "after\n"]));
    wait_file(&dir, "echo.log", "after\n");
    assert_eq!(dir.read("echo.log"), "after\n");
    assert_eq!(dir.read("echo.log.old"), "before\n");
    assert!(dir
        .read("supervisord.log.old")
        .contains("received SIGUSR2 indicating log reopen request"));
}

#[test]
fn second_daemon_refuses_and_first_keeps_running() {
    let dir = TestDir::new();
    dir.config("[program:x]\ncommand={fixture} --sleep\nstartsecs=0\n");
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "x", "RUNNING", DEADLINE));
    let failure = Daemon::start_expect_fail(&dir);
    assert_eq!(failure.status.code(), Some(2), "{failure:?}");
    assert!(
        failure
            .stderr
            .contains("Another program is already listening"),
        "{failure:?}"
    );
    assert!(
        failure
            .stderr
            .contains(&dir.socket_path().display().to_string()),
        "{failure:?}"
    );
    assert!(
        failure.stderr.contains(&daemon.pid().to_string()),
        "{failure:?}"
    );
    // The first daemon and its child are untouched.
    assert_eq!(info_pid(&daemon.process("x")), pid);
    assert!(pid_alive(pid));
    assert_eq!(dir.read("supervisord.pid"), format!("{}\n", daemon.pid()));
    assert!(dir.socket_path().exists());
}

#[test]
fn stale_socket_is_cleaned_up() {
    let dir = TestDir::new();
    dir.config("[program:x]\ncommand={fixture} --sleep\nstartsecs=0\n");
    {
        let mut first = Daemon::start(&dir);
        let child = info_pid(&wait_state(&first, "x", "RUNNING", DEADLINE));
        let _guard = KillOnDrop(child);
        first.signal(Signal::SIGKILL);
        first.wait_exit(DEADLINE);
        // The orphaned child is not the new daemon's business.
        let _ = killpg(Pid::from_raw(child), Signal::SIGKILL);
        wait_dead(child, "the orphaned child");
    }
    assert!(
        dir.socket_path().exists(),
        "SIGKILL cannot remove the socket"
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "x", "RUNNING", DEADLINE);
    assert_eq!(dir.read("supervisord.pid"), format!("{}\n", daemon.pid()));
}
