//! Fast exits, BACKOFF retries, FATAL, and autorestart after RUNNING.

use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

#[test]
fn fast_exit_backs_off_then_gives_up() {
    let dir = TestDir::new();
    dir.config("[program:quick]\ncommand={fixture} --exit-code 0\nstartsecs=1\nstartretries=1\n");
    let daemon = Daemon::start(&dir);
    // First fast exit: BACKOFF (even exit 0 is "not expected" while STARTING).
    let info = wait_state(&daemon, "quick", "BACKOFF", DEADLINE);
    assert_eq!(
        info["spawnerr"], "Exited too quickly (process log may have details)",
        "{info}"
    );
    assert_eq!(info["description"], info["spawnerr"], "{info}");
    let info = wait_state(&daemon, "quick", "FATAL", DEADLINE);
    assert_eq!(
        info["description"], "Exited too quickly (process log may have details)",
        "{info}"
    );
    let log = wait_log(&daemon, "gave up: quick");
    // 1 + startretries attempts, each reported as a not-expected exit.
    assert_eq!(log_messages(&log, "spawned: 'quick'").len(), 2, "{log}");
    assert_eq!(
        log_messages(&log, "exited: quick"),
        vec!["exited: quick (exit status 0; not expected)"; 2],
        "{log}"
    );
    assert!(
        log.contains("INFO gave up: quick entered FATAL state, too many start retries too quickly"),
        "{log}"
    );
    assert!(!log.contains("success: quick"), "{log}");
}

#[test]
fn fail_until_count_recovers_within_startretries() {
    let dir = TestDir::new();
    // Fails on run 1, succeeds on run 2: exactly the one retry startretries=1 allows.
    dir.config(
        "[program:flaky]\ncommand={fixture} --fail-until-count {dir}/count 2\n\
         startsecs=1\nstartretries=1\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "flaky", "RUNNING", DEADLINE);
    assert_eq!(dir.read("count"), "2\n");
    assert_eq!(info["spawnerr"], "", "{info}");
    let log = daemon.main_log();
    assert_eq!(log_messages(&log, "spawned: 'flaky'").len(), 2, "{log}");
    assert_eq!(
        log_messages(&log, "exited: flaky"),
        vec!["exited: flaky (exit status 1; not expected)"],
        "{log}"
    );
    assert!(!log.contains("gave up"), "{log}");
}

#[test]
fn autorestart_modes_and_exitcodes() {
    let dir = TestDir::new();
    // startsecs=0: every exit happens after RUNNING, so autorestart (not backoff) decides.
    // Each program exits 1 on its first run and sleeps on the second.
    let program = |name: &str, extra: &str| {
        format!(
            "[program:{name}]\ncommand={{fixture}} --fail-until-count {{dir}}/{name}.count 2\n\
             startsecs=0\n{extra}\n\n"
        )
    };
    let ini = [
        program("never", "autorestart=false"),
        program("always_expected", "autorestart=true\nexitcodes=1"),
        program("unexpected_bad", "autorestart=unexpected\nexitcodes=0"),
        program("unexpected_ok", "autorestart=unexpected\nexitcodes=0,1"),
    ]
    .concat();
    dir.config(&ini);
    let daemon = Daemon::start(&dir);
    // The restarting ones come back at once; by then the others would have restarted too.
    for name in ["always_expected", "unexpected_bad"] {
        wait_state(&daemon, name, "RUNNING", DEADLINE);
        wait_until(DEADLINE, &format!("{name} to run twice"), || {
            let count = dir.try_read(format!("{name}.count")).unwrap_or_default();
            if count == "2\n" {
                Ok(())
            } else {
                Err(count)
            }
        });
    }
    for name in ["never", "unexpected_ok"] {
        let info = wait_state(&daemon, name, "EXITED", DEADLINE);
        assert_eq!(info["exitstatus"], 1, "{info}");
        assert_eq!(dir.read(format!("{name}.count")), "1\n", "{name} restarted");
    }
    let never = daemon.process("never");
    assert_eq!(never["spawnerr"], "Bad exit code 1", "{never}");
    let log = daemon.main_log();
    assert!(
        log.contains("WARN exited: never (exit status 1; not expected)"),
        "{log}"
    );
    assert!(
        log.contains("INFO exited: always_expected (exit status 1; expected)"),
        "{log}"
    );
    assert!(
        log.contains("WARN exited: unexpected_bad (exit status 1; not expected)"),
        "{log}"
    );
    assert!(
        log.contains("INFO exited: unexpected_ok (exit status 1; expected)"),
        "{log}"
    );
    assert_eq!(log_messages(&log, "spawned: 'never'").len(), 1, "{log}");
    assert_eq!(
        log_messages(&log, "spawned: 'unexpected_ok'").len(),
        1,
        "{log}"
    );
    assert_eq!(
        log_messages(&log, "spawned: 'unexpected_bad'").len(),
        2,
        "{log}"
    );
}

#[test]
fn exit_after_running_is_exited() {
    let dir = TestDir::new();
    dir.config(
        "[program:brief]\ncommand={fixture} --after 1500ms --exit-code 0\n\
         startsecs=1\nautorestart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "brief", "EXITED", DEADLINE);
    assert_eq!(info["exitstatus"], 0, "{info}");
    assert_eq!(info["spawnerr"], "", "{info}");
    let log = daemon.main_log();
    let success = log.find("success: brief").expect("RUNNING before EXITED");
    let exited = log
        .find("INFO exited: brief (exit status 0; expected)")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(success < exited, "{log}");
}

#[test]
fn killed_by_signal_is_never_expected() {
    let dir = TestDir::new();
    dir.config(
        "[program:nore]\ncommand={fixture} --sleep\nstartsecs=0\nautorestart=false\n\
         exitcodes=0,1,2,9,137\n\n\
         [program:re]\ncommand={fixture} --sleep\nstartsecs=0\nautorestart=unexpected\n\
         exitcodes=0,10\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "nore", "RUNNING", DEADLINE);
    let re_pid = info_pid(&wait_state(&daemon, "re", "RUNNING", DEADLINE));

    let ok = daemon.rpc_ok("supervisor.signalProcess", json!(["nore", "KILL"]));
    assert_eq!(ok, json!(true));
    let info = wait_state(&daemon, "nore", "EXITED", DEADLINE);
    assert_eq!(info["exitstatus"], -1, "{info}");
    wait_log(
        &daemon,
        "WARN exited: nore (terminated by SIGKILL; not expected)",
    );

    daemon.rpc_ok("supervisor.signalProcess", json!(["re", "USR1"]));
    wait_log(
        &daemon,
        "WARN exited: re (terminated by SIGUSR1; not expected)",
    );
    let info = wait_until(DEADLINE, "re to be restarted", || {
        let info = daemon.process("re");
        if info["statename"] == "RUNNING" && info_pid(&info) != re_pid {
            Ok(info)
        } else {
            Err(info.to_string())
        }
    });
    assert!(info_pid(&info) > 0);
}

/// Milliseconds since midnight of a main-log line (`YYYY-MM-DD HH:MM:SS,mmm ...`).
fn log_millis(line: &str) -> i64 {
    let clock = line.split(' ').nth(1).expect("a time field");
    let (hms, millis) = clock.split_once(',').expect("milliseconds");
    let parts: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + millis.parse::<i64>().expect("ms")
}

#[test]
fn crash_loop_restarts_are_spaced_by_a_second() {
    let dir = TestDir::new();
    // startsecs=0 makes every exit an exit from RUNNING, so autorestart applies with no retry
    // limit: without spacing, the daemon would fork it in a tight loop.
    dir.config(
        "[program:crashy]\ncommand={fixture} --exit-code 1\nstartsecs=0\nautorestart=true\n\
         [program:calm]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_until(DEADLINE, "four spawns of crashy", || {
        let log = daemon.main_log();
        let spawns = log
            .lines()
            .filter(|l| l.contains("spawned: 'crashy'"))
            .count();
        if spawns >= 4 {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    });
    let spawns: Vec<i64> = log
        .lines()
        .filter(|line| line.contains("spawned: 'crashy'"))
        .map(log_millis)
        .collect();
    // Each run that ends within 100 ms of its spawn delays the next spawn to 1 s after it.
    // The fixture exits within milliseconds, so at least two of the three gaps are a
    // second long even if one run were slowed past 100 ms by a busy machine.
    // Milliseconds since midnight: a run across midnight wraps once.
    let elapsed = (spawns[3] - spawns[0]).rem_euclid(86_400_000);
    assert!(elapsed >= 1_990, "four spawns within {elapsed} ms:\n{log}");
    // The daemon keeps answering and the other program is untouched meanwhile.
    assert_eq!(
        wait_state(&daemon, "calm", "RUNNING", DEADLINE)["statename"],
        "RUNNING"
    );
}
