//! The restart policy (`restart_delay`, `restart_delay_max`, `restart_delay_reset`,
//! `restart_limit`, `restart_limit_cooldown`), the `reset` verb, and supervisord's observable
//! result where no policy is set.

use std::time::Duration;

use rsupervisor_e2e::{try_wait_until, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

/// Long enough for the 1 + 2 + 4 + 4 s of delays below on a loaded machine.
const SLOW_DEADLINE: Duration = Duration::from_secs(60);

/// Seconds since midnight of a main log line (`YYYY-MM-DD HH:MM:SS,mmm ...`).
fn stamp(line: &str) -> f64 {
    let time = line.split(' ').nth(1).unwrap_or_default();
    let (clock, millis) = time.split_once(',').unwrap_or((time, "0"));
    let parts: Vec<f64> = clock.split(':').filter_map(|p| p.parse().ok()).collect();
    assert_eq!(parts.len(), 3, "no time in {line:?}");
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2] + millis.parse::<f64>().unwrap_or(0.0) / 1000.0
}

/// Stamps of the main log lines containing `needle`, in order, across a midnight.
fn stamps(log: &str, needle: &str) -> Vec<f64> {
    let mut day = 0.0;
    let mut last = 0.0;
    log.lines()
        .filter(|line| line.contains(needle))
        .map(|line| {
            let at = stamp(line);
            if at + day < last {
                day += 86_400.0;
            }
            last = at + day;
            last
        })
        .collect()
}

/// Waits until the main log has `count` lines containing `needle`; returns the log.
fn wait_count(daemon: &Daemon<'_>, needle: &str, count: usize, deadline: Duration) -> String {
    wait_until(deadline, &format!("{count} lines with {needle:?}"), || {
        let log = daemon.main_log();
        let seen = log.matches(needle).count();
        if seen >= count {
            Ok(log)
        } else {
            Err(seen)
        }
    })
}

#[test]
fn restart_delays_double_up_to_the_cap_and_status_says_when() {
    let dir = TestDir::new();
    dir.config(
        "[program:grow]\ncommand={fixture} --after 150ms --exit-code 1\nstartsecs=0\n\
         autorestart=true\nrestart_delay=1s\nrestart_delay_max=4s\n",
    );
    let daemon = Daemon::start(&dir);
    // While the first delay runs, status says so, and the new fields tell the same.
    let info = wait_until(DEADLINE, "a pending restart", || {
        let info = daemon.process("grow");
        let description = info["description"].as_str().unwrap_or_default().to_owned();
        if info["statename"] == "EXITED" && description.contains(", restarting in 0:00:0") {
            Ok(info)
        } else {
            Err(info)
        }
    });
    assert_eq!(info["restart_delay_ms"], 1000, "{info}");
    assert!(info["next_restart"].as_i64().unwrap_or(0) >= info["now"].as_i64().unwrap_or(0));
    let out = dir.ctl(&["status", "grow"]);
    assert!(out.stdout.contains("restarting in 0:00:0"), "{out}");

    let log = wait_count(&daemon, "spawned: 'grow'", 5, SLOW_DEADLINE);
    let exits = stamps(&log, "exited: grow");
    let spawns = stamps(&log, "spawned: 'grow'");
    let gaps: Vec<f64> = (0..4).map(|n| spawns[n + 1] - exits[n]).collect();
    for (gap, expected) in gaps.iter().zip([1.0, 2.0, 4.0, 4.0]) {
        // Never early (log stamps are truncated to the millisecond); late only by the
        // spawn itself on a busy machine, far less than the next doubling.
        assert!(
            *gap >= expected - 0.002 && *gap < expected * 1.5,
            "gaps {gaps:?}, expected 1, 2, 4, 4 s\n{log}"
        );
    }
    assert!(
        log.contains("INFO backoff: grow restarts in 2s (crash 2 in a row)"),
        "{log}"
    );
    assert!(
        log.contains("INFO backoff: grow restarts in 4s (crash 4 in a row)"),
        "{log}"
    );
    assert!(daemon.process("grow")["restarts"].as_u64().unwrap_or(0) >= 4);
}

/// `reset` of a program in the middle of a crash loop clears its counters and nothing else:
/// its pending restart still happens.
#[test]
fn reset_during_a_crash_loop_keeps_it_going() {
    let dir = TestDir::new();
    dir.config(
        "[program:loop]\ncommand={fixture} --after 150ms --exit-code 1\nstartsecs=0\n\
         autorestart=true\nrestart_delay=1s\n",
    );
    let daemon = Daemon::start(&dir);
    wait_until(DEADLINE, "a pending restart", || {
        let info = daemon.process("loop");
        if info["statename"] == "EXITED" {
            Ok(())
        } else {
            Err(info)
        }
    });
    let spawned = log_messages(&daemon.main_log(), "spawned: 'loop'").len();
    dir.ctl(&["reset", "loop"]).assert_status(0);
    assert_eq!(daemon.process("loop")["restarts"], 0);
    wait_count(&daemon, "spawned: 'loop'", spawned + 2, DEADLINE);
}

#[test]
fn a_healthy_run_starts_the_delay_afresh() {
    let dir = TestDir::new();
    // Runs 1 and 2 fail at once, run 3 and later last 1.5 s: longer than restart_delay_reset.
    dir.config(
        "[program:heal]\ncommand={fixture} --fail-until-count {dir}/count 3 --after 1500ms \
         --exit-code 1\nstartsecs=0\nautorestart=true\nrestart_delay=1s\nrestart_delay_max=8s\n\
         restart_delay_reset=1s\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_count(&daemon, "backoff: heal", 3, SLOW_DEADLINE);
    assert_eq!(
        log_messages(&log, "backoff: heal"),
        [
            "backoff: heal restarts in 1s (crash 1 in a row)",
            "backoff: heal restarts in 2s (crash 2 in a row)",
            "backoff: heal restarts in 1s (crash 1 in a row)",
        ],
        "{log}"
    );
}

#[test]
fn the_restart_limit_gives_up_and_reset_clears_it() {
    let dir = TestDir::new();
    dir.config(
        "[program:limited]\ncommand={fixture} --after 200ms --exit-code 1\nstartsecs=0\n\
         autorestart=true\nrestart_limit=3/60s\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "limited", "FATAL", DEADLINE);
    assert_eq!(
        info["description"], "too many restarts (3 in 60s)",
        "{info}"
    );
    let log = wait_log(
        &daemon,
        "INFO gave up: limited entered FATAL state, too many restarts (3 in 60s)",
    );
    assert_eq!(log_messages(&log, "spawned: 'limited'").len(), 3, "{log}");
    assert_eq!(info["restarts"], 2, "{info}");

    let out = dir.ctl(&["reset", "limited"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "limited: reset\n");
    let info = daemon.process("limited");
    assert_eq!(
        (&info["statename"], &info["restarts"], &info["description"]),
        (&json!("STOPPED"), &json!(0), &info["description"]),
        "{info}"
    );
    assert_eq!(info["spawnerr"], "", "{info}");
    // Fresh counters: three more starts before it gives up again.
    dir.ctl(&["start", "limited"]);
    let log = wait_count(
        &daemon,
        "gave up: limited entered FATAL state, too many restarts",
        2,
        DEADLINE,
    );
    assert_eq!(log_messages(&log, "spawned: 'limited'").len(), 6, "{log}");
    // Bad names and groups answer as clear does.
    let out = dir.ctl(&["reset", "nosuch", "limited:*"]);
    assert_eq!(
        out.stdout, "nosuch: ERROR (no such process)\nlimited: reset\n",
        "{out}"
    );
    out.assert_status(1);
    let out = dir.ctl(&["reset", "all"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "limited: reset\n");
}

#[test]
fn a_cool_down_waits_then_starts_with_fresh_counters() {
    let dir = TestDir::new();
    dir.config(
        "[program:cool]\ncommand={fixture} --after 200ms --exit-code 1\nstartsecs=0\n\
         autorestart=true\nrestart_limit=2/60s\nrestart_limit_cooldown=2s\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_log(&daemon, "hit its restart limit");
    assert!(
        log.contains(
            "WARN backoff: cool hit its restart limit, too many restarts (2 in 60s); \
             starting again in 2s with fresh counters"
        ),
        "{log}"
    );
    let info = daemon.process("cool");
    assert_eq!(info["statename"], "EXITED", "{info}");
    let description = info["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("too many restarts (2 in 60s), restarting in 0:00:0"),
        "{info}"
    );
    // After the cool-down: two more starts (fresh counters), then the limit again.
    let log = wait_count(&daemon, "hit its restart limit", 2, SLOW_DEADLINE);
    let spawns = stamps(&log, "spawned: 'cool'");
    let limits = stamps(&log, "hit its restart limit");
    assert_eq!(spawns.len(), 4, "{log}");
    assert!(
        spawns[2] - limits[0] >= 1.998,
        "restarted before the cool-down ended\n{log}"
    );
    // stop cancels the cool-down's restart.
    let out = dir.ctl(&["stop", "cool"]);
    assert_eq!(out.stdout, "cool: stopped\n", "{out}");
    assert_eq!(daemon.process("cool")["statename"], "STOPPED");
}

/// supervisord restarts a crashed `startsecs=0` program at once, so a `stop all` right after
/// the crash finds it starting and stops it. We space out a crash right after a spawn, but
/// `stop all` still stops the pending restart: the observable result is supervisord's.
#[test]
fn stop_all_right_after_a_crash_stops_the_pending_restart() {
    let dir = TestDir::new();
    dir.config("[program:hup]\ncommand={fixture} --sleep\nstartsecs=0\nautorestart=unexpected\n");
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "hup", "RUNNING", DEADLINE);
    dir.ctl(&["restart", "hup"]).assert_status(0);
    dir.ctl(&["signal", "HUP", "hup"]).assert_status(0);
    let out = dir.ctl(&["stop", "all"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "hup: stopped\n", "{out}\n{}", daemon.main_log());
    let info = daemon.process("hup");
    assert_eq!(info["statename"], "STOPPED", "{info}");
    // And it stays stopped: no restart was left behind (the longest spacing is 1 s).
    let spawned = log_messages(&daemon.main_log(), "spawned: 'hup'").len();
    let restarted = try_wait_until(Duration::from_millis(1500), || {
        let now = log_messages(&daemon.main_log(), "spawned: 'hup'").len();
        let state = daemon.process("hup")["statename"].clone();
        if now > spawned || state != "STOPPED" {
            Ok((now, state))
        } else {
            Err(())
        }
    });
    assert!(
        restarted.is_err(),
        "restarted after stop all: {restarted:?}"
    );
}
