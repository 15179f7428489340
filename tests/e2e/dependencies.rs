//! `depends_on`: start order through every condition, held starts and what they wait for,
//! failures of dependencies, stop order, and the configuration check.

use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

/// Position of `needle` in `log`, panicking with the log if it is missing.
#[track_caller]
fn position(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("main log lacks {needle:?}:\n{log}"))
}

/// Waits until `name`'s status description is `expected`.
#[track_caller]
pub fn wait_description(daemon: &Daemon<'_>, name: &str, expected: &str) -> serde_json::Value {
    wait_until(DEADLINE, &format!("{name} to say {expected:?}"), || {
        let info = daemon.process(name);
        if info["description"] == expected {
            Ok(info)
        } else {
            Err(info.to_string())
        }
    })
}

/// Six levels, each waiting for the previous one's condition: running, healthy (tcp),
/// log_ready, started, completed_successfully. Priorities are the reverse of the chain, so
/// only the graph can give this order.
#[test]
fn a_six_level_chain_starts_in_order_each_level_waiting_for_its_condition() {
    let dir = TestDir::new();
    let port = free_port();
    dir.config(&format!(
        "[program:l1]\ncommand={{fixture}} --sleep\nstartsecs=1\npriority=600\n\n\
         [program:l2]\ncommand={{fixture}} --listen {port}\nstartsecs=0\npriority=500\n\
         depends_on=l1\nhealthcheck=tcp://127.0.0.1:{port}\nhealthcheck_interval=200ms\n\n\
         [program:l3]\ncommand={{fixture}} --after 300ms --late-print \"listening, ready\"\n\
         startsecs=0\npriority=400\ndepends_on=l2:healthy\nready_log=^listening, ready$\n\n\
         [program:l4]\ncommand={{fixture}} --sleep\nstartsecs=5\npriority=300\ndepends_on=l3:log_ready\n\n\
         [program:l5]\ncommand={{fixture}} --exit-code 0\nstartsecs=0\nautorestart=false\n\
         priority=200\ndepends_on=l4:started\n\n\
         [program:l6]\ncommand={{fixture}} --sleep\nstartsecs=0\npriority=100\n\
         depends_on=l5:completed_successfully\n"
    ));
    let daemon = Daemon::start(&dir);
    // While l1 takes its startsecs, every other level is held and says what it waits for.
    wait_description(&daemon, "l6", "waiting for l5 (completed_successfully)");
    let l2 = wait_description(&daemon, "l2", "waiting for l1 (running)");
    assert_eq!(l2["statename"], "STARTING");
    assert_eq!(l2["waiting_for"], "waiting for l1 (running)");
    wait_state(&daemon, "l6", "RUNNING", DEADLINE);
    let log = daemon.main_log();
    let spawned: Vec<String> = log_messages(&log, "spawned: '")
        .iter()
        .map(|m| m.split('\'').nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(spawned, ["l1", "l2", "l3", "l4", "l5", "l6"], "{log}");
    // Each level is spawned only after the previous one met its condition.
    let steps = [
        ("success: l1 entered RUNNING", "spawned: 'l2'"),
        ("healthy: l2 passed its health check", "spawned: 'l3'"),
        ("ready: l3 printed its ready_log line", "spawned: 'l4'"),
        ("spawned: 'l4'", "spawned: 'l5'"),
        ("exited: l5 (exit status 0; expected)", "spawned: 'l6'"),
    ];
    for (condition, spawn) in steps {
        assert!(
            position(&log, condition) < position(&log, spawn),
            "{condition} before {spawn}:\n{log}"
        );
    }
    // l4 was still STARTING (startsecs=5) when l5 ran: `started` does not need RUNNING.
    assert!(
        position(&log, "spawned: 'l6'") < log.find("success: l4").unwrap_or(log.len()),
        "{log}"
    );
    let l2 = daemon.process("l2");
    let description = l2["description"].as_str().unwrap_or_default();
    assert!(description.ends_with(", healthy"), "{l2}");
    assert_eq!(l2["health"], "healthy");
}

/// A migration that fails leaves its dependents not started, with the reason in status.
#[test]
fn a_failed_migration_leaves_dependents_fatal_with_the_reason() {
    let dir = TestDir::new();
    dir.config(
        "[program:migrate]\ncommand={fixture} --exit-code 3\nstartsecs=0\nautorestart=false\n\n\
         [program:app]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=migrate:completed_successfully\n\n\
         [program:web]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=app\n",
    );
    let daemon = Daemon::start(&dir);
    let reason = "dependency migrate exited with status 3, not one of its exitcodes";
    let app = wait_state(&daemon, "app", "FATAL", DEADLINE);
    assert_eq!(app["spawnerr"], reason);
    assert_eq!(app["description"], reason);
    assert_eq!(app["pid"], 0);
    let web = wait_state(&daemon, "web", "FATAL", DEADLINE);
    assert_eq!(web["description"], "dependency app is FATAL (dependency migrate exited with status 3, not one of its exitcodes)");
    let status = dir.ctl(&["status", "app"]);
    assert!(
        status.stdout.contains(&format!("FATAL     {reason}")),
        "{status:?}"
    );
    let log = daemon.main_log();
    assert!(!log.contains("spawned: 'app'"), "{log}");
    assert!(
        log.contains(&format!("gave up: app entered FATAL state, {reason}")),
        "{log}"
    );
}

/// `start x` starts x's stopped dependencies first; `stop x` stops its dependents first, in
/// reverse order, and `stop all` follows the same order.
#[test]
fn start_pulls_in_dependencies_and_stop_stops_dependents_first() {
    let dir = TestDir::new();
    dir.config(
        "[program:db]\ncommand={fixture} --sleep\nstartsecs=0\nautostart=false\n\n\
         [program:app]\ncommand={fixture} --sleep\nstartsecs=0\nautostart=false\ndepends_on=db\n\n\
         [program:web]\ncommand={fixture} --sleep\nstartsecs=0\nautostart=false\ndepends_on=app\n\n\
         [program:other]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "other", "RUNNING", DEADLINE);
    let out = dir.ctl(&["start", "web"]);
    assert_eq!(out.stdout, "web: started\n", "{out:?}");
    for name in ["db", "app", "web"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
    }
    let log = daemon.main_log();
    assert!(log.contains("starting app: web depends on it"), "{log}");
    assert!(log.contains("starting db: app depends on it"), "{log}");
    assert!(position(&log, "spawned: 'db'") < position(&log, "spawned: 'app'"));
    assert!(position(&log, "spawned: 'app'") < position(&log, "spawned: 'web'"));

    let out = dir.ctl(&["stop", "db"]);
    assert_eq!(out.stdout, "db: stopped\n", "{out:?}");
    for name in ["db", "app", "web"] {
        assert_eq!(state_of(&daemon, name), "STOPPED", "{name}");
    }
    assert_eq!(state_of(&daemon, "other"), "RUNNING");
    let log = daemon.main_log();
    assert!(
        log.contains("stopping db after its dependents: app, web"),
        "{log}"
    );
    // Each is signalled only once what depends on it has stopped.
    assert!(
        position(&log, "stopped: web") < position(&log, "killing app"),
        "{log}"
    );
    assert!(
        position(&log, "stopped: app") < position(&log, "killing db"),
        "{log}"
    );

    // `start all`, then `stop all`: every line answers for its own process.
    let out = dir.ctl(&["start", "all"]);
    assert_eq!(out.status, 0, "{out:?}");
    let out = dir.ctl(&["stop", "all"]);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "app: stopped",
            "db: stopped",
            "other: stopped",
            "web: stopped"
        ],
        "{out:?}"
    );
    let log = daemon.main_log();
    let last_web = log.rfind("stopped: web").expect("web stopped");
    let last_app_kill = log.rfind("killing app").expect("app signalled");
    let last_app = log.rfind("stopped: app").expect("app stopped");
    let last_db_kill = log.rfind("killing db").expect("db signalled");
    assert!(last_web < last_app_kill && last_app < last_db_kill, "{log}");
}

/// A running dependency that exits unexpectedly stops its dependents (the default); with
/// `on_dependency_failure=restart` they follow its restart; `ignore` leaves them be. A
/// dependency that goes FATAL fails the dependents still waiting for it.
#[test]
fn a_failing_dependency_stops_restarts_or_leaves_its_dependents() {
    let dir = TestDir::new();
    dir.config(
        "[program:db]\ncommand={fixture} --sleep --pidfile {dir}/db.pid\nstartsecs=0\nautorestart=false\n\n\
         [program:stops]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=db\n\n\
         [program:restarts]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=db\non_dependency_failure=restart\n\n\
         [program:stays]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=db\non_dependency_failure=ignore\n\n\
         [program:broken]\ncommand={fixture} --exit-code 1\nstartsecs=1\nstartretries=0\n\n\
         [program:waits]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=broken\n",
    );
    let daemon = Daemon::start(&dir);
    for name in ["stops", "restarts", "stays"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
    }
    let restarts_pid = info_pid(&daemon.process("restarts"));
    let stays_pid = info_pid(&daemon.process("stays"));
    let db = wait_pid_file(&dir, "db.pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(db),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill db");
    wait_state(&daemon, "db", "EXITED", DEADLINE);
    wait_state(&daemon, "stops", "STOPPED", DEADLINE);
    wait_log(&daemon, "stopping stops: dependency db exited unexpectedly");
    // `restarts` was stopped and starts again once db runs: db does not come back by
    // itself (autorestart=false), so it waits for it.
    wait_description(&daemon, "restarts", "waiting for db (running)");
    wait_log(
        &daemon,
        "restarting: restarts (dependency db exited unexpectedly)",
    );
    assert_eq!(info_pid(&daemon.process("stays")), stays_pid);
    start(&daemon, "db", true).expect("start db");
    let info = wait_state(&daemon, "restarts", "RUNNING", DEADLINE);
    assert_ne!(info_pid(&info), restarts_pid);
    assert_eq!(state_of(&daemon, "stops"), "STOPPED");

    let waits = wait_state(&daemon, "waits", "FATAL", DEADLINE);
    assert!(
        waits["spawnerr"]
            .as_str()
            .unwrap_or_default()
            .starts_with("dependency broken is FATAL"),
        "{waits}"
    );
}

/// Cycles and unknown names are configuration errors with file and line, at startup, in
/// `--check` and in `reread` (which keeps the running configuration).
#[test]
fn cycles_and_unknown_names_are_rejected_with_file_and_line() {
    let dir = TestDir::new();
    let conf = dir.config(
        "[program:a]\ncommand={fixture} --sleep\ndepends_on=b\n\n\
         [program:b]\ncommand={fixture} --sleep\ndepends_on=a:started\n\n\
         [program:c]\ncommand={fixture} --sleep\ndepends_on=nope\n",
    );
    let conf = conf.display().to_string();
    let failure = Daemon::start_expect_fail(&dir);
    let text = failure.stderr;
    let a_line = dir
        .read("supervisord.conf")
        .lines()
        .position(|l| l == "depends_on=b")
        .expect("a's line")
        + 1;
    let b_line = a_line + 4;
    let c_line = b_line + 4;
    assert!(
        text.contains(&format!("{conf}:{a_line}: [program:a] depends_on: dependency cycle: a ({conf}:{a_line}) -> b ({conf}:{b_line}) -> a")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{conf}:{c_line}: [program:c] depends_on: depends_on names \"nope\", which is no program")),
        "{text}"
    );

    // --check says the same, with unknown-key warnings.
    dir.config(
        "[program:a]\ncommand={fixture} --sleep\ndepend_on=b\n\n[program:b]\ncommand={fixture} --sleep\n",
    );
    let check = Daemon::command(&dir).args(&["--check"]).start_expect_fail();
    let stderr = check.stderr;
    assert!(check.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: {conf}:{a_line}: [program:a] depend_on: unknown key, did you mean depends_on?")),
        "{stderr}"
    );

    // A running daemon refuses to reread a configuration with a cycle.
    let daemon = Daemon::start(&dir);
    wait_log(&daemon, "depend_on: unknown key, did you mean depends_on?");
    dir.config(
        "[program:a]\ncommand={fixture} --sleep\ndepends_on=b\n\n[program:b]\ncommand={fixture} --sleep\ndepends_on=a\n",
    );
    let fault = expect_fault(daemon.rpc("supervisor.reloadConfig", json!([])), 92);
    assert!(fault.message.contains("dependency cycle: a ("), "{fault:?}");
}

/// `--no-deps` opts out on both verbs; `graph` shows the graph as text, JSON and dot.
#[test]
fn no_deps_and_the_graph_verb() {
    let dir = TestDir::new();
    dir.config(
        "[program:db]\ncommand={fixture} --sleep\nstartsecs=0\n\n\
         [program:app]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=db\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "app", "RUNNING", DEADLINE);
    let out = dir.ctl(&["graph"]);
    assert_eq!(
        out.stdout, "db   RUNNING\napp  RUNNING\n  needs db (running): met\n",
        "{out:?}"
    );
    let out = dir.ctl(&["graph", "--dot"]);
    assert!(
        out.stdout
            .contains("  \"app\" -> \"db\" [label=\"running\", style=solid];\n"),
        "{out:?}"
    );
    let out = dir.ctl(&["graph", "--json"]);
    let graph: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        graph[1]["depends_on"][0],
        json!({"namespec": "db", "condition": "running", "met": true})
    );

    let app_pid = info_pid(&daemon.process("app"));
    let out = dir.ctl(&["stop", "--no-deps", "db"]);
    assert_eq!(out.stdout, "db: stopped\n", "{out:?}");
    assert_eq!(
        info_pid(&daemon.process("app")),
        app_pid,
        "app kept running"
    );
    let out = dir.ctl(&["graph"]);
    assert_eq!(
        out.stdout, "db   STOPPED\napp  RUNNING\n  needs db (running): not met\n",
        "{out:?}"
    );

    let out = dir.ctl(&["stop", "app"]);
    assert_eq!(out.stdout, "app: stopped\n", "{out:?}");
    let out = dir.ctl(&["start", "--no-deps", "app"]);
    assert_eq!(out.stdout, "app: started\n", "{out:?}");
    assert_eq!(
        state_of(&daemon, "db"),
        "STOPPED",
        "--no-deps started no dependency"
    );
}

/// A dependency that goes FATAL stops the dependents already running.
#[test]
fn a_dependency_going_fatal_stops_its_running_dependents() {
    let dir = TestDir::new();
    dir.config(
        "[program:db]\ncommand={fixture} --after 1s --exit-code 1\nstartsecs=3\nstartretries=0\n\n\
         [program:app]\ncommand={fixture} --sleep\nstartsecs=0\ndepends_on=db:started\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "app", "RUNNING", DEADLINE);
    wait_state(&daemon, "db", "FATAL", DEADLINE);
    wait_state(&daemon, "app", "STOPPED", DEADLINE);
    let log = wait_log(&daemon, "stopping app: dependency db entered FATAL");
    assert!(
        position(&log, "gave up: db entered FATAL") < position(&log, "stopping app"),
        "{log}"
    );
}

/// Shutdown stops dependents before their dependencies, whatever the priorities say.
#[test]
fn shutdown_stops_dependents_first_then_by_priority() {
    let dir = TestDir::new();
    // By priority alone `db` (900) would stop first.
    dir.config(
        "[program:db]\ncommand={fixture} --sleep\nstartsecs=0\npriority=900\n\n\
         [program:app]\ncommand={fixture} --sleep\nstartsecs=0\npriority=1\ndepends_on=db\n\n\
         [program:lone]\ncommand={fixture} --sleep\nstartsecs=0\npriority=500\n",
    );
    let mut daemon = Daemon::start(&dir);
    for name in ["db", "app", "lone"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
    }
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    let status = daemon.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0), "{status}");
    let log = daemon.main_log();
    assert!(
        position(&log, "stopped: app") < position(&log, "killing db"),
        "{log}"
    );
    // Among what is free to stop, priority still decides: lone (500) before app (1).
    assert!(
        position(&log, "stopped: lone") < position(&log, "killing app"),
        "{log}"
    );
}
