//! The bundled deployments under `examples/`, each started from its own `supervisord.conf`
//! and stand-in scripts and driven as its operators drive it.
//!
//! Each test copies the example's directory, byte for byte (configuration, scripts, their
//! modes), into a fresh test directory and starts `rsupervisord -n -c <copy>/supervisord.conf`
//! there, so runtime files land in the copy's `run/` and tests never share a path. The only
//! addition is `local/test.conf`, which every example includes last (`[include] files =
//! local/*.conf`, later values win key by key): it shortens the realistic intervals of the
//! example (15-minute schedules, 30 s health checks, minutes of cool-down) to fractions of a
//! second so each test stays within a few seconds. Every override is spelled out in the test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use rsupervisor_e2e::{info_pid, wait_state, wait_until, Ctl, CtlOutput, Daemon, TestDir};
use serde_json::{json, Value};

use crate::support::*;

/// The repository's `examples/` directory.
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .join("examples")
}

/// Copies `examples/NAME` into a new test directory (skipping runtime files in `run/` and
/// `local/`), creates `run/` and writes `overrides` to `local/test.conf`.
fn example(name: &str, overrides: &str) -> TestDir {
    let dir = TestDir::new();
    copy_tree(&examples_dir().join(name), dir.root());
    std::fs::create_dir_all(dir.path("run")).expect("mkdir run");
    dir.write("local/test.conf", overrides);
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("reading the example directory");
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().expect("file type").is_dir() {
            if name == "run" || name == "local" {
                continue;
            }
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
            let mode = std::fs::metadata(&src).expect("stat").permissions().mode();
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
    }
}

/// Starts the copied example's daemon (its socket is `run/rsupervisor.sock`).
fn start(dir: &TestDir) -> Daemon<'_> {
    Daemon::command(dir)
        .socket(dir.path("run/rsupervisor.sock"))
        .start()
}

/// `rsupervisorctl -c <copy>/supervisord.conf args...`.
fn ctl(dir: &TestDir, args: &[&str]) -> CtlOutput {
    Ctl::new(dir).args(args).run()
}

/// The example's main log so far.
fn main_log(dir: &TestDir) -> String {
    dir.try_read("run/rsupervisord.log").unwrap_or_default()
}

/// Waits until the main log contains `needle`; returns the log.
#[track_caller]
fn wait_main_log(dir: &TestDir, needle: &str) -> String {
    wait_file(dir, "run/rsupervisord.log", needle)
}

/// Byte offset of the first line of `log` containing `needle` (panics when there is none).
#[track_caller]
fn position(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the main log:\n{}", tail(log)))
}

// ---------------------------------------------------------------------------------------
// crypto-platform

/// Second-level stand-ins for the example's schedules, delays and limits.
const CRYPTO_OVERRIDES: &str = "\
[program:backfill]
environment=BACKFILL_SECONDS=\"1.5\"

[program:signals]
environment=WORK_SECONDS=\"0.2\"
startsecs=0
restart_delay=200ms
restart_delay_max=400ms
restart_limit=3/60s
restart_limit_cooldown=1s

[program:news]
schedule=*/2 * * * * *
environment=JOB_SECONDS=\"0.1\"
";

#[test]
fn crypto_platform() {
    let dir = example("crypto-platform", CRYPTO_OVERRIDES);
    let daemon = start(&dir);

    // Signals and ML prediction wait for the backfill to complete successfully.
    wait_state(&daemon, "signals", "RUNNING", DEADLINE);
    wait_state(&daemon, "ml_prediction", "RUNNING", DEADLINE);
    let log = main_log(&dir);
    let waited = position(&log, "signals: waiting for backfill (completed_successfully)");
    let done = position(&log, "job 'backfill': run ended: exit status 0 (expected)");
    assert!(waited < done, "{}", tail(&log));
    for service in ["signals", "ml_prediction"] {
        assert!(
            done < position(&log, &format!("spawned: '{service}'")),
            "{service} started before the backfill completed:\n{}",
            tail(&log)
        );
    }
    // Priority orders what does not depend on the backfill: sentiment did not wait.
    assert!(position(&log, "spawned: 'sentiment'") < done, "{}", tail(&log));

    // `status` shows everything; jobs waiting for their next run do not count as stopped.
    let status = ctl(&dir, &["status"]);
    status.assert_status(0);
    for name in [
        "backfill",
        "signals",
        "ml_prediction",
        "sentiment",
        "ml_training",
        "news",
        "economic_indicators",
    ] {
        assert!(status.stdout.contains(&format!("{name} ")), "{status}");
    }
    assert!(status.stdout.contains("next run"), "{status}");

    // A manual backfill, and a second one at the same time refused.
    let first = ctl(&dir, &["run", "backfill"]);
    first.assert_status(0);
    assert_eq!(first.stdout, "backfill: run started\n", "{first}");
    let second = ctl(&dir, &["run", "backfill"]);
    second.assert_status(1);
    assert!(
        second.stdout.contains("a job never runs twice at once"),
        "{second}"
    );
    wait_until(DEADLINE, "two backfill runs recorded", || {
        let runs = dir.try_read("run/data/backfill.runs").unwrap_or_default();
        if runs.lines().count() == 2 && state_of(&daemon, "backfill") == "EXITED" {
            Ok(())
        } else {
            Err(runs)
        }
    });

    // The news job runs on its schedule.
    wait_main_log(&dir, "job 'news': run started (due at");
    wait_main_log(&dir, "job 'news': run ended: exit status 0 (expected)");

    // A crash loop: delayed restarts, the restart limit, a cool-down, then back to work.
    let pid = info_pid(&daemon.process("signals"));
    dir.write("run/fail-signals", "");
    wait_dead(pid, "signals");
    wait_main_log(&dir, "backoff: signals restarts in");
    wait_main_log(&dir, "signals hit its restart limit, too many restarts (3 in 60s)");
    std::fs::remove_file(dir.path("run/fail-signals")).expect("rm fail-signals");
    let info = wait_state(&daemon, "signals", "RUNNING", DEADLINE);
    assert_ne!(info_pid(&info), pid);
}
