//! The daemon stays in control whatever its programs do: during a crash storm (programs that
//! exit as soon as they start, with `autorestart=true`) and a log flood (programs writing as
//! fast as they can), `status` answers, `stop group:*` wins over pending respawns, and
//! SIGTERM stops everything and exits.
//!
//! Sizes are what CI affords on two cores beside the other tests: 100 crashers or 10 writers,
//! plus 20 steady programs. The benchmark (`bench/run.py --scenarios storm,flood`) runs the
//! full-size versions and measures the latencies; here every wait is a deadline on observed
//! state.

use std::time::Duration;

use nix::sys::signal::Signal;
use rsupervisor_e2e::{
    all_processes, info_pid, pid_alive, process_group_members, try_wait_until, wait_until, Ctl,
    Daemon, TestDir,
};

use crate::support::*;

const CRASHERS: usize = 100;
const WRITERS: usize = 10;
const STEADY: usize = 20;

/// Long enough for a loaded CI machine; the daemon answers in milliseconds.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

fn steady_programs() -> String {
    format!(
        "[program:steady]\ncommand={{fixture}} --sleep\nprocess_name=steady_%(process_num)d\n\
         numprocs={STEADY}\nstartsecs=0\n\n"
    )
}

/// 20 steady programs and 100 that exit with status 1 as soon as they run.
fn storm_config(dir: &TestDir) {
    storm_config_with(dir, "");
}

/// [`storm_config`] with extra `[supervisord]` lines.
fn storm_config_with(dir: &TestDir, supervisord_extra: &str) {
    dir.config_with(
        supervisord_extra,
        &format!(
            "{}[program:crash]\ncommand=/bin/sh -c 'exit 1' {{dir}}\n\
             process_name=%(program_name)s_%(process_num)d\nnumprocs={CRASHERS}\nstartsecs=0\n\
             autorestart=true\n",
            steady_programs()
        ),
    );
}

/// 20 steady programs and 10 that write to stdout without pause, into small rotated logs.
/// At `loglevel=info`, as operators run: at debug the daemon would also copy every byte
/// into the main log, as supervisord does.
fn flood_config(dir: &TestDir) {
    dir.config_with(
        "loglevel=info",
        &format!(
        "{}[program:flood]\n\
         command=/usr/bin/yes 'a fairly long log line, as long as an ordinary application log line, from {{dir}}'\n\
         process_name=flood_%(process_num)d\nnumprocs={WRITERS}\nstartsecs=0\n\
         stdout_logfile={{dir}}/logs/flood_%(process_num)d.log\n\
         stdout_logfile_maxbytes=4MB\nstdout_logfile_backups=1\n",
            steady_programs()
        ),
    );
}

/// Waits until the main log shows at least `count` lines containing `needle`.
fn wait_log_count(daemon: &Daemon<'_>, needle: &str, count: usize) {
    wait_until(
        DEADLINE,
        &format!("{count} main log lines with {needle:?}"),
        || {
            let seen = daemon.main_log().matches(needle).count();
            if seen >= count {
                Ok(())
            } else {
                Err(seen)
            }
        },
    );
}

/// The storm is under way: every crasher has crashed at least once and respawns go on.
fn wait_storm(daemon: &Daemon<'_>) {
    wait_log_count(daemon, "exited: crash_", 2 * CRASHERS);
}

/// The flood is under way: every writer has filled a log file past one rotation.
fn wait_flood(dir: &TestDir) {
    wait_until(DEADLINE, "every writer's log to have rotated", || {
        let rotated = (0..WRITERS)
            .filter(|n| dir.path(format!("logs/flood_{n}.log.1")).exists())
            .count();
        if rotated == WRITERS {
            Ok(())
        } else {
            Err(rotated)
        }
    });
}

/// `rsupervisorctl status steady:steady_3` answers, several times over, with RUNNING.
fn status_answers(dir: &TestDir, daemon: &Daemon<'_>) {
    for round in 0..10 {
        let out = Ctl::new(dir)
            .args(&["status", "steady:steady_3"])
            .timeout(ANSWER_LIMIT)
            .run();
        assert_eq!(
            out.status,
            0,
            "round {round}: status did not answer\n{out}\n{}",
            daemon.dump()
        );
        assert!(out.stdout.contains("RUNNING"), "round {round}: {out}");
    }
    // The whole table too.
    let out = Ctl::new(dir).args(&["status"]).timeout(ANSWER_LIMIT).run();
    let lines = out.stdout.lines().count();
    assert!(lines >= STEADY, "full status answered {lines} lines\n{out}");
}

/// Pids of the steady programs (all RUNNING).
fn steady_pids(daemon: &Daemon<'_>) -> Vec<i32> {
    let infos = daemon.all_process_info();
    let steady: Vec<i32> = infos
        .iter()
        .filter(|info| info["group"] == "steady" && info["statename"] == "RUNNING")
        .map(info_pid)
        .collect();
    assert_eq!(steady.len(), STEADY, "{infos:?}");
    steady
}

/// SIGTERM: the daemon exits 0 within 10 s and no program or member of a program's process
/// group is left.
fn sigterm_stops_everything(mut daemon: Daemon<'_>, dir: &TestDir) {
    let steady = steady_pids(&daemon);
    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status}\n{}", daemon.dump());
    for pid in &steady {
        assert!(!pid_alive(*pid), "steady pid {pid} survived the shutdown");
        let members = process_group_members(*pid);
        assert!(members.is_empty(), "process group {pid} left: {members:?}");
    }
    // Nothing the daemon started is left anywhere (an orphan would now have another parent):
    // the crashers' and writers' command lines name this test's directory.
    let root = dir.root().to_string_lossy().into_owned();
    let leftovers: Vec<_> = all_processes()
        .into_iter()
        .filter(|stat| stat.state != 'Z')
        .filter(|stat| {
            std::fs::read(format!("/proc/{}/cmdline", stat.pid))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&root))
        })
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// The main log with its rotated files, oldest first (a storm writes a lot of it).
fn whole_main_log(dir: &TestDir) -> String {
    let mut text = String::new();
    for index in (1..=10).rev() {
        text += &dir
            .try_read(format!("supervisord.log.{index}"))
            .unwrap_or_default();
    }
    text + &dir.read("supervisord.log")
}

/// Children of the daemon that exited and wait to be reaped.
fn zombies_of(daemon: &Daemon<'_>) -> usize {
    let pid = daemon.pid();
    all_processes()
        .into_iter()
        .filter(|stat| stat.ppid == pid && stat.state == 'Z')
        .count()
}

#[test]
fn status_answers_and_children_are_reaped_during_a_crash_storm() {
    let dir = TestDir::new();
    storm_config(&dir);
    let daemon = Daemon::start(&dir);
    wait_storm(&daemon);
    status_answers(&dir, &daemon);
    // Reaping keeps pace: a handful of crashers at most wait to be reaped at any sample
    // (before, every crasher sat as a zombie). One turn spawns at most a small batch, and
    // those may exit before the next turn reaps them.
    let samples: Vec<usize> = (0..20).map(|_| zombies_of(&daemon)).collect();
    let worst = samples.iter().copied().max().unwrap_or(0);
    assert!(
        worst <= CRASHERS / 4,
        "zombie counts {samples:?} out of {CRASHERS} crashers"
    );
    // The storm went on meanwhile: this was not a quiet moment.
    wait_log_count(&daemon, "exited: crash_", 4 * CRASHERS);
}

#[test]
fn stop_of_the_crashing_group_wins_over_pending_respawns() {
    let dir = TestDir::new();
    storm_config(&dir);
    let daemon = Daemon::start(&dir);
    wait_storm(&daemon);
    let out = Ctl::new(&dir)
        .args(&["stop", "crash:*"])
        .timeout(ANSWER_LIMIT)
        .run();
    assert_eq!(out.status, 0, "{out}\n{}", daemon.dump());
    let stopped = out.stdout.matches(": stopped").count();
    assert_eq!(stopped, CRASHERS, "{out}");
    let crash_states = || -> Vec<String> {
        daemon
            .all_process_info()
            .iter()
            .filter(|info| info["group"] == "crash")
            .map(|info| info["statename"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let states = crash_states();
    assert!(
        states.len() == CRASHERS && states.iter().all(|s| s == "STOPPED"),
        "{states:?}"
    );
    // They stay stopped: no restart that was pending at the stop fires afterwards (the
    // longest such wait is one second). Watch for twice that.
    let spawns_at_stop = daemon.main_log().matches("spawned: 'crash_").count();
    let respawned = try_wait_until(Duration::from_secs(2), || {
        let spawns = daemon.main_log().matches("spawned: 'crash_").count();
        let states = crash_states();
        if spawns > spawns_at_stop || states.iter().any(|s| s != "STOPPED") {
            Ok((spawns - spawns_at_stop, states))
        } else {
            Err(())
        }
    });
    if let Ok((spawns, states)) = respawned {
        panic!("{spawns} crashers respawned after the stop: {states:?}");
    }
    // The steady programs were left alone.
    assert_eq!(steady_pids(&daemon).len(), STEADY);
}

#[test]
fn sigterm_during_a_fresh_crash_storm_stops_everything() {
    let dir = TestDir::new();
    storm_config(&dir);
    let daemon = Daemon::start(&dir);
    // As soon as the storm begins: respawns are queued and timers are pending.
    wait_log_count(&daemon, "exited: crash_", CRASHERS / 2);
    wait_until(DEADLINE, "the steady programs to run", || {
        let running = daemon
            .all_process_info()
            .iter()
            .filter(|info| info["group"] == "steady" && info["statename"] == "RUNNING")
            .count();
        if running == STEADY {
            Ok(())
        } else {
            Err(running)
        }
    });
    sigterm_stops_everything(daemon, &dir);
    let log = whole_main_log(&dir);
    let after = &log[log.find("received SIGTERM").expect("SIGTERM logged")..];
    assert!(
        !after.contains("spawned: 'crash_"),
        "a crasher was spawned after SIGTERM:\n{}",
        tail(after)
    );
}

#[test]
fn status_answers_during_a_log_flood() {
    let dir = TestDir::new();
    flood_config(&dir);
    let daemon = Daemon::start(&dir);
    wait_flood(&dir);
    status_answers(&dir, &daemon);
}

#[test]
fn sigterm_during_a_log_flood_stops_everything() {
    let dir = TestDir::new();
    flood_config(&dir);
    let daemon = Daemon::start(&dir);
    wait_flood(&dir);
    sigterm_stops_everything(daemon, &dir);
    let log = whole_main_log(&dir);
    assert_eq!(
        log.matches("stopped: flood_").count(),
        WRITERS,
        "{}",
        tail(&log)
    );
}

#[test]
fn the_main_log_keeps_its_rotation_limits_during_a_crash_storm() {
    const MAX: u64 = 20 * 1024;
    let dir = TestDir::new();
    storm_config_with(&dir, "logfile_maxbytes=20KB\nlogfile_backups=2");
    let daemon = Daemon::start(&dir);
    let oldest = dir.path("supervisord.log.2");
    let first_line = || {
        dir.try_read("supervisord.log.2")
            .and_then(|text| text.lines().next().map(str::to_owned))
    };
    wait_until(DEADLINE, "the main log to rotate twice", || {
        first_line().ok_or(())
    });
    let before = first_line();
    // Rotation goes on: the oldest backup is replaced by a newer one.
    wait_until(
        DEADLINE,
        "the oldest main log backup to be replaced",
        || {
            let now = first_line();
            if now.is_some() && now != before {
                Ok(())
            } else {
                Err(now)
            }
        },
    );
    assert!(oldest.exists());
    assert!(
        !dir.path("supervisord.log.3").exists(),
        "more backups than logfile_backups=2"
    );
    for name in ["supervisord.log", "supervisord.log.1", "supervisord.log.2"] {
        let size = std::fs::metadata(dir.path(name))
            .map(|m| m.len())
            .unwrap_or(0);
        // A file may pass the limit by the one record that crossed it.
        assert!(size <= MAX + 1024, "{name} is {size} bytes (limit {MAX})");
    }
    status_answers(&dir, &daemon);
}
