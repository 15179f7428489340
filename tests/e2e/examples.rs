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
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
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

/// Waits until the main log, from byte `from` on, contains `needle` (for events that must
/// happen after a given moment, when an earlier line could match too).
#[track_caller]
fn wait_main_log_after(dir: &TestDir, from: usize, needle: &str) {
    wait_until(
        DEADLINE,
        &format!("main log to contain {needle:?} after byte {from}"),
        || {
            let log = main_log(dir);
            if log.get(from..).is_some_and(|rest| rest.contains(needle)) {
                Ok(())
            } else {
                Err(tail(&log))
            }
        },
    );
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
    let waited = position(
        &log,
        "signals: waiting for backfill (completed_successfully)",
    );
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
    assert!(
        position(&log, "spawned: 'sentiment'") < done,
        "{}",
        tail(&log)
    );

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
    wait_main_log(
        &dir,
        "signals hit its restart limit, too many restarts (3 in 60s)",
    );
    std::fs::remove_file(dir.path("run/fail-signals")).expect("rm fail-signals");
    let info = wait_state(&daemon, "signals", "RUNNING", DEADLINE);
    assert_ne!(info_pid(&info), pid);
}

/// Pids of the live processes whose command line contains `needle` (zombies excluded).
fn pids_running(needle: &str) -> Vec<i32> {
    rsupervisor_e2e::all_processes()
        .into_iter()
        .filter(|stat| stat.state != 'Z')
        .filter(|stat| {
            std::fs::read(format!("/proc/{}/cmdline", stat.pid))
                .map(|raw| {
                    String::from_utf8_lossy(&raw)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .map(|stat| stat.pid)
        .collect()
}

/// Waits until `name` is RUNNING with a health verdict of `health`; returns its info.
#[track_caller]
fn wait_health(daemon: &Daemon<'_>, name: &str, health: &str) -> Value {
    wait_until(DEADLINE, &format!("{name} to be {health}"), || {
        let info = daemon.process(name);
        if info["statename"] == "RUNNING" && info["health"] == health {
            Ok(info)
        } else {
            Err(info.to_string())
        }
    })
}

/// Waits until `name` is RUNNING with another pid than `old` (and, when `health` is given,
/// that health verdict); returns the new pid. Waiting for the pid, not only the state, rules
/// out seeing the old process before the daemon reaped it.
#[track_caller]
fn wait_new_pid(daemon: &Daemon<'_>, name: &str, old: i32, health: Option<&str>) -> i32 {
    wait_until(
        DEADLINE,
        &format!("{name} to run again with a pid other than {old}"),
        || {
            let info = daemon.process(name);
            let pid = info["pid"].as_i64().unwrap_or(0);
            let healthy = health.is_none_or(|h| info["health"] == h);
            if info["statename"] == "RUNNING" && pid != 0 && pid != i64::from(old) && healthy {
                Ok(i32::try_from(pid).expect("pids fit in i32"))
            } else {
                Err(info.to_string())
            }
        },
    )
}

// ---------------------------------------------------------------------------------------
// background-services

/// Second-level stand-ins for the 15- and 3-minute schedules, the 30 s health checks and the
/// 5-minute status report. `%(here)s` in this file is `local/`.
const BACKGROUND_OVERRIDES: &str = "\
[supervisord]
status_report_interval=1s

[program:options_analysis]
schedule=*/2 * * * * *
environment=JOB_SECONDS=\"0.1\"

[program:intraday_collection]
schedule=*/2 * * * * *
schedule_jitter=0
environment=JOB_SECONDS=\"0.1\"

[program:options_chain]
schedule=* * * * * *
environment=JOB_SECONDS=\"0.1\"

[program:quotes]
environment=WORK_SECONDS=\"0.2\"
healthcheck=exec:%(here)s/../bin/check-heartbeat.sh quotes 1
healthcheck_interval=200ms

[program:news_feed]
environment=WORK_SECONDS=\"0.2\"
healthcheck=exec:%(here)s/../bin/check-heartbeat.sh news_feed 1
healthcheck_interval=200ms
";

#[test]
fn background_services() {
    let dir = example("background-services", BACKGROUND_OVERRIDES);
    let mut daemon = start(&dir);
    let quotes = info_pid(&wait_health(&daemon, "quotes", "healthy"));
    let news = info_pid(&wait_health(&daemon, "news_feed", "healthy"));
    let quotes_cmd = format!("{}/bin/service.sh quotes", dir.root().display());
    assert_eq!(pids_running(&quotes_cmd), [quotes]);

    // A second daemon on the same configuration refuses to start and starts nothing.
    let second = Daemon::command(&dir)
        .socket(dir.path("run/rsupervisor.sock"))
        .start_expect_fail();
    assert!(!second.status.success(), "{second:?}");
    assert!(
        second
            .stderr
            .contains("Another program is already listening on a port"),
        "{second:?}"
    );
    assert_eq!(
        pids_running(&quotes_cmd),
        [quotes],
        "no duplicate collector"
    );
    assert_eq!(info_pid(&daemon.process("quotes")), quotes);
    assert_eq!(
        daemon.rpc_ok("supervisor.getPID", json!([])),
        json!(daemon.pid())
    );

    // The three jobs run on their schedules, each run logged with its due time.
    for job in ["options_analysis", "intraday_collection", "options_chain"] {
        wait_until(DEADLINE, &format!("two runs of {job}"), || {
            let runs = dir.try_read(format!("run/{job}.runs")).unwrap_or_default();
            if runs.lines().count() >= 2 {
                Ok(())
            } else {
                Err(runs)
            }
        });
        wait_main_log(&dir, &format!("job '{job}': run started (due at"));
    }

    // A service that stops is started again.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(quotes), Signal::SIGKILL).expect("kill");
    wait_dead(quotes, "quotes");
    wait_new_pid(&daemon, "quotes", quotes, None);

    // A stuck service fails its health check three times and is restarted.
    dir.write("run/hang-news_feed", "");
    wait_main_log(&dir, "unhealthy: news_feed failed 3 health checks in a row");
    wait_main_log(
        &dir,
        "restarting: news_feed (unhealthy: 3 failed health checks",
    );
    std::fs::remove_file(dir.path("run/hang-news_feed")).expect("rm hang-news_feed");
    wait_new_pid(&daemon, "news_feed", news, Some("healthy"));

    // The periodic status report: every process with its pid and uptime.
    let log = wait_main_log(&dir, "INFO status report: 5 processes");
    let report = &log[log.rfind("status report:").expect("a report")..];
    let header = report.lines().nth(1).unwrap_or_default();
    assert!(
        header.contains("pid") && header.contains("uptime"),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|line| line.starts_with("quotes ") && line.contains("RUNNING")),
        "{report}"
    );

    // SIGTERM: every service is stopped with its own SIGTERM handling, then the daemon exits.
    let running = [
        info_pid(&daemon.process("quotes")),
        info_pid(&daemon.process("news_feed")),
    ];
    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(DEADLINE);
    assert!(status.success(), "{status}");
    let log = main_log(&dir);
    for name in ["quotes", "news_feed"] {
        assert!(
            log.contains(&format!("stopped: {name} (exit status 0)")),
            "{}",
            tail(&log)
        );
        let out = dir.read(format!("run/{name}.log"));
        assert!(
            out.contains(&format!("{name}: SIGTERM, flushing and exiting")),
            "{out}"
        );
    }
    for pid in running {
        assert!(
            !rsupervisor_e2e::pid_alive(pid),
            "pid {pid} survived the shutdown"
        );
    }
    assert!(pids_running(&format!("{}/bin/", dir.root().display())).is_empty());
}

// ---------------------------------------------------------------------------------------
// agents

/// The JSON records of `run/ta_agent_N.log` so far.
fn agent_records(dir: &TestDir, n: u32) -> Vec<Value> {
    dir.try_read(format!("run/ta_agent_{n}.log"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The cgroup limits of `pid` as (memory limit in bytes, CPU cores), from cgroup v1 when the
/// controller is mounted there, else v2; `None` when the host has neither.
fn cgroup_limits(pid: i32) -> Option<(u64, f64)> {
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path_of = |controller: &str| {
        own.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
            names
                .split(',')
                .any(|name| name == controller)
                .then(|| path.to_owned())
        })
    };
    let read = |path: String| std::fs::read_to_string(path).ok();
    if let (Some(memory), Some(cpu)) = (path_of("memory"), path_of("cpu")) {
        let limit = read(format!(
            "/sys/fs/cgroup/memory{memory}/memory.limit_in_bytes"
        ))?;
        let quota = read(format!("/sys/fs/cgroup/cpu{cpu}/cpu.cfs_quota_us"))?;
        let period = read(format!("/sys/fs/cgroup/cpu{cpu}/cpu.cfs_period_us"))?;
        let (quota, period): (f64, f64) = (quota.trim().parse().ok()?, period.trim().parse().ok()?);
        return Some((limit.trim().parse().ok()?, quota / period));
    }
    let unified = path_of("")?;
    let base = format!("/sys/fs/cgroup{unified}");
    let limit = read(format!("{base}/memory.max"))?;
    let cpu = read(format!("{base}/cpu.max"))?;
    let mut cpu = cpu.split_whitespace().map(|v| v.parse::<f64>().ok());
    let (quota, period) = (cpu.next()??, cpu.next()??);
    Some((limit.trim().parse().ok()?, quota / period))
}

#[test]
fn agents() {
    let port = free_port();
    let overrides = format!(
        "[program:bus]\n\
         command=%(here)s/../bin/bus.pl {port} 1\n\n\
         [program:ta_agent]\n\
         wait_for=tcp://127.0.0.1:{port}\n\
         environment=TICK_SECONDS=\"0.2\"\n\
         startsecs=1\n\
         stopwaitsecs=1\n\
         restart_delay=200ms\n"
    );
    let dir = example("agents", &overrides);
    let daemon = start(&dir);

    // The agents wait for the bus's port, which opens a second after the bus starts.
    let mut pids = Vec::new();
    for n in 0..3 {
        pids.push(info_pid(&wait_state(
            &daemon,
            &format!("ta_agent:ta_agent_{n}"),
            "RUNNING",
            DEADLINE,
        )));
    }
    let log = main_log(&dir);
    let waiting = position(
        &log,
        &format!("ta_agent_0: waiting for tcp://127.0.0.1:{port}"),
    );
    assert!(
        waiting < position(&log, "spawned: 'ta_agent_0'"),
        "{}",
        tail(&log)
    );
    assert!(dir
        .read("run/bus.log")
        .contains(&format!("listening on 127.0.0.1:{port}")));

    // Per-instance settings over the common ones, and JSON logs carrying them.
    let names = ["trend-btc", "meanrev-eth", "breakout-sol"];
    for (n, name) in names.iter().enumerate() {
        let n = u32::try_from(n).expect("small");
        let record = wait_until(DEADLINE, &format!("a JSON line from ta_agent_{n}"), || {
            agent_records(&dir, n).into_iter().next().ok_or(())
        });
        assert_eq!(record["process"], format!("ta_agent_{n}"), "{record}");
        assert_eq!(record["pid"], json!(pids[n as usize]), "{record}");
        assert!(
            record["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{record}"
        );
        assert_eq!(record["line"]["level"], "info", "{record}");
        assert_eq!(record["line"]["agent"], *name, "{record}");
        assert_eq!(record["line"]["pid"], json!(pids[n as usize]), "{record}");
    }
    let root = dir.root().display().to_string();
    let env = ctl(&dir, &["env", "ta_agent:ta_agent_1"]);
    env.assert_status(0);
    for (line, source) in [
        ("AGENT_NAME=meanrev-eth ", "agent_1.env"),
        ("TIMEFRAME=15m ", "agent_1.env"),
        ("BUS_URL=tcp://127.0.0.1:47220 ", "common.env"),
        ("EXCHANGE_API_KEY=******** ", "common.env"),
    ] {
        let found = env.stdout.lines().find(|l| l.starts_with(line));
        assert!(
            found.is_some_and(|l| l.ends_with(&format!("# env_file {root}/env/{source}"))),
            "{line}from {source}:\n{env}"
        );
    }

    // CPU and memory per instance, and the limits applied to each.
    let long = ctl(&dir, &["status", "-l"]);
    long.assert_status(0);
    for n in 0..3 {
        let line = long
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("ta_agent:ta_agent_{n} ")))
            .unwrap_or_else(|| panic!("no ta_agent_{n} in\n{long}"));
        assert!(line.contains("CPU ") && line.contains("MEM "), "{line}");
    }
    match cgroup_limits(pids[0]) {
        Some((memory, cpu)) => {
            assert_eq!(memory, 256 * 1024 * 1024);
            assert!((cpu - 0.5).abs() < 1e-9, "cpu_max {cpu}");
        }
        None => eprintln!("cgroup limits not checked: no cgroup memory/cpu files on this host"),
    }

    // A crash is restarted after restart_delay, counted against the 5-in-300s limit.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pids[0]), Signal::SIGKILL).expect("kill");
    let log = wait_main_log(
        &dir,
        "backoff: ta_agent_0 restarts in 200ms (crash 1 in a row;",
    );
    assert!(log.contains("of 5 starts in 300s)"), "{}", tail(&log));
    wait_new_pid(&daemon, "ta_agent:ta_agent_0", pids[0], None);

    // SIGTERM: an agent finishes and exits 0; a hung one is SIGKILLed after stopwaitsecs.
    ctl(&dir, &["stop", "ta_agent:ta_agent_2"]).assert_status(0);
    wait_main_log(&dir, "stopped: ta_agent_2 (exit status 0)");
    assert!(agent_records(&dir, 2)
        .iter()
        .any(|r| r["line"]["msg"] == "SIGTERM: finishing the current analysis"));
    dir.write("run/stuck-ta_agent_1", "");
    ctl(&dir, &["stop", "ta_agent:ta_agent_1"]).assert_status(0);
    let log = main_log(&dir);
    assert!(
        log.contains(&format!(
            "WARN killing 'ta_agent_1' ({}) with SIGKILL",
            pids[1]
        )),
        "{}",
        tail(&log)
    );
    assert!(
        log.contains("stopped: ta_agent_1 (terminated by SIGKILL)"),
        "{}",
        tail(&log)
    );
    assert!(agent_records(&dir, 1)
        .iter()
        .any(|r| r["line"]["msg"] == "SIGTERM ignored: stuck in an analysis"));
    std::fs::remove_file(dir.path("run/stuck-ta_agent_1")).expect("rm stuck-ta_agent_1");
    ctl(&dir, &["start", "ta_agent:*"]).assert_status(0);

    // Scaling the pool: new instances on the common settings, then back down.
    let up = ctl(&dir, &["scale", "ta_agent", "5"]);
    up.assert_status(0);
    assert!(
        up.stdout.ends_with("ta_agent: scaled to 5 instance(s)\n"),
        "{up}"
    );
    for n in 3..5 {
        wait_state(
            &daemon,
            &format!("ta_agent:ta_agent_{n}"),
            "RUNNING",
            DEADLINE,
        );
        let record = wait_until(DEADLINE, &format!("a JSON line from ta_agent_{n}"), || {
            agent_records(&dir, n).into_iter().next().ok_or(())
        });
        assert_eq!(record["line"]["agent"], format!("ta_agent_{n}"), "{record}");
        assert!(
            record["line"]["msg"]
                .as_str()
                .is_some_and(|m| m.contains("analysing BTCUSDT on 1h")),
            "{record}"
        );
    }
    let down = ctl(&dir, &["scale", "ta_agent", "2"]);
    down.assert_status(0);
    let mut left: Vec<String> = daemon
        .all_process_info()
        .iter()
        .filter(|info| info["group"] == "ta_agent")
        .map(|info| info["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["ta_agent_0", "ta_agent_1"], "{down}");
}

// ---------------------------------------------------------------------------------------
// platform-controller

/// The chain, dependencies first.
const CHAIN: [&str; 6] = [
    "market_data",
    "feature_engineering",
    "ml_inference",
    "strategy_generation",
    "order_management",
    "position_management",
];

/// `METHOD path` on the daemon's socket; returns the status and the JSON body.
fn rest(daemon: &Daemon<'_>, method: &str, path: &str) -> (u16, Value) {
    let response = rsupervisor_e2e::rpc::request(daemon.socket(), method, path, None, &[])
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let text = String::from_utf8_lossy(&response.body).into_owned();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (response.status, body)
}

/// The audit records written so far.
fn audit_records(dir: &TestDir) -> Vec<Value> {
    dir.try_read("run/audit.log")
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn platform_controller() {
    // Second-level health checks and work, no start period, no spawn grace, a short circuit
    // breaker, and a memory_restart threshold the stand-in's 64 MB reaches.
    let mut overrides = String::new();
    for name in CHAIN {
        overrides += &format!(
            "[program:{name}]\nenvironment=WORK_SECONDS=\"0.2\",HEARTBEAT_MAX_AGE=\"1\",LEAK_MB=\"64\"\n\
             startsecs=0\nhealthcheck_interval=200ms\nhealthcheck_start_period=0\n\
             restart_limit_cooldown=1s\n\n"
        );
    }
    overrides += "[program:order_management]\nmemory_restart=32MB\n";
    let dir = example("platform-controller", &overrides);
    let daemon = start(&dir);

    // Startup in dependency order, each level gated by the health of the one before.
    let mut pids = Vec::new();
    for name in CHAIN {
        pids.push(info_pid(&wait_health(&daemon, name, "healthy")));
    }
    let log = main_log(&dir);
    for pair in CHAIN.windows(2) {
        assert!(
            position(
                &log,
                &format!("{}: waiting for {} (healthy)", pair[1], pair[0])
            ) < position(&log, &format!("spawned: '{}'", pair[0])),
            "{}",
            tail(&log)
        );
        assert!(
            position(&log, &format!("spawned: '{}'", pair[0]))
                < position(&log, &format!("spawned: '{}'", pair[1])),
            "{}",
            tail(&log)
        );
    }

    // Control and status over REST.
    let (code, info) = rest(&daemon, "GET", "/api/v1/programs/strategy_generation");
    assert_eq!(code, 200, "{info}");
    assert_eq!(info["statename"], "RUNNING", "{info}");
    assert_eq!(info["health"], "healthy", "{info}");
    let (code, body) = rest(&daemon, "POST", "/api/v1/programs/position_management/stop");
    assert_eq!(code, 200, "{body}");
    assert_eq!(state_of(&daemon, "position_management"), "STOPPED");
    let (code, body) = rest(
        &daemon,
        "POST",
        "/api/v1/programs/position_management/start",
    );
    assert_eq!(code, 200, "{body}");
    wait_health(&daemon, "position_management", "healthy");
    let (code, body) = rest(
        &daemon,
        "POST",
        "/api/v1/programs/position_management/restart",
    );
    assert_eq!(code, 200, "{body}");
    let (code, info) = rest(&daemon, "GET", "/api/v1/programs/position_management");
    assert_eq!(
        (code, &info["statename"]),
        (200, &json!("RUNNING")),
        "{info}\n{}",
        tail(&main_log(&dir))
    );

    // `stop` of one stops the services after it first, last first.
    ctl(&dir, &["stop", "ml_inference"]).assert_status(0);
    let log = main_log(&dir);
    let stopped: Vec<usize> = CHAIN[2..]
        .iter()
        .map(|name| {
            log.rfind(&format!("stopped: {name} (exit status 0)"))
                .expect(name)
        })
        .collect();
    assert!(stopped.windows(2).all(|w| w[0] > w[1]), "{}", tail(&log));
    // `start` of the last one brings back what it depends on.
    ctl(&dir, &["start", "position_management"]).assert_status(0);
    for name in CHAIN {
        wait_health(&daemon, name, "healthy");
    }

    // A failed health check restarts the service; the services after it follow.
    let before: Vec<i32> = CHAIN.iter().map(|n| info_pid(&daemon.process(n))).collect();
    let from = main_log(&dir).len();
    dir.write("run/hang-feature_engineering", "");
    wait_main_log_after(
        &dir,
        from,
        "unhealthy: feature_engineering failed 3 health checks in a row",
    );
    wait_main_log_after(
        &dir,
        from,
        "restarting: feature_engineering (unhealthy: 3 failed health checks",
    );
    wait_main_log_after(
        &dir,
        from,
        "restarting: ml_inference (dependency feature_engineering turned unhealthy)",
    );
    std::fs::remove_file(dir.path("run/hang-feature_engineering")).expect("rm hang file");
    // market_data keeps running; each level after feature_engineering was restarted.
    assert_eq!(
        info_pid(&wait_health(&daemon, CHAIN[0], "healthy")),
        before[0]
    );
    for (name, old) in CHAIN.iter().zip(&before).skip(1) {
        wait_new_pid(&daemon, name, *old, Some("healthy"));
    }

    // Growing past memory_restart restarts the service gracefully.
    if cgroup_limits(info_pid(&daemon.process("order_management"))).is_some() {
        let pid = info_pid(&daemon.process("order_management"));
        let from = main_log(&dir).len();
        dir.write("run/leak-order_management", "");
        wait_main_log_after(
            &dir,
            from,
            "restarting: order_management uses more than memory_restart 32 MB",
        );
        std::fs::remove_file(dir.path("run/leak-order_management")).expect("rm leak file");
        wait_new_pid(&daemon, "order_management", pid, Some("healthy"));
    } else {
        eprintln!("memory_restart not checked: no cgroup memory files on this host");
    }

    // A crash loop opens the circuit: the restart limit, a cool-down, then a fresh start.
    // (Starts by hand and restarts that follow a dependency count against the limit too, so
    // reset the counters first: this checks the crashes alone.)
    ctl(&dir, &["reset", "position_management"]).assert_status(0);
    let from = main_log(&dir).len();
    dir.write("run/fail-position_management", "");
    wait_main_log_after(
        &dir,
        from,
        "restarting: position_management at once (crash 1 in a row; 1 of 4 starts in 600s)",
    );
    wait_main_log_after(
        &dir,
        from,
        "position_management hit its restart limit, too many restarts (4 in 600s); \
         starting again in 1s with fresh counters",
    );
    std::fs::remove_file(dir.path("run/fail-position_management")).expect("rm fail file");
    wait_health(&daemon, "position_management", "healthy");

    // Every control action is in the audit log, with its surface and caller.
    let records = audit_records(&dir);
    let find = |surface: &str, method: &str, param: &str| {
        records
            .iter()
            .find(|r| r["surface"] == surface && r["method"] == method && r["params"][0] == param)
    };
    for (surface, method, param) in [
        ("rest", "supervisor.stopProcess", "position_management"),
        ("rest", "supervisor.startProcess", "position_management"),
        ("jsonrpc", "supervisor.stopProcess", "ml_inference"),
        ("jsonrpc", "supervisor.startProcess", "position_management"),
    ] {
        let record = find(surface, method, param)
            .unwrap_or_else(|| panic!("no {surface} {method}({param}) in {records:?}"));
        assert_eq!(record["result"], "ok", "{record}");
        assert_eq!(
            record["caller"]["uid"],
            json!(nix::unistd::getuid().as_raw())
        );
    }
    // The REST stop, start and restart (a stop then a start): four records.
    let rest_calls = records
        .iter()
        .filter(|r| r["surface"] == "rest" && r["params"][0] == "position_management")
        .count();
    assert_eq!(rest_calls, 4, "{records:?}");
    assert!(
        records
            .iter()
            .any(|r| r["method"] == "supervisor.resetProcess"),
        "{records:?}"
    );
}
