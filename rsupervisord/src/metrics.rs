//! `/metrics`: the Prometheus (OpenMetrics text) exposition of what `getAllProcessInfo`
//! and the daemon know, built by the prometheus-client crate at each scrape.
//!
//! Nothing is collected in the background: a scrape asks the actor for the process table
//! once and renders it, so an unscraped daemon pays nothing. Every series is a gauge
//! labelled `name` (the namespec) and `group`; `restarts` is a gauge too because `reset`
//! clears it (a counter must never go down). Health series exist for processes with a
//! health check; CPU and memory series appear when the process table carries them.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rsupervisor_api::{ProcessInfo, ProcessState};
use std::sync::atomic::AtomicU64;

/// Labels of every per-process series.
type ProcessLabels = Vec<(&'static str, String)>;

/// The daemon's own figures.
#[derive(Debug, Clone, Default)]
pub struct DaemonFigures {
    /// rsupervisord's version.
    pub version: String,
    /// The daemon's pid.
    pub pid: i64,
    /// Resident memory of the daemon, bytes (0 if unknown).
    pub rss_bytes: u64,
    /// CPU time the daemon used, seconds.
    pub cpu_seconds: f64,
    /// When the daemon started, epoch seconds.
    pub start_time: f64,
}

impl DaemonFigures {
    /// The figures of this process, read from `/proc/self`.
    pub fn of_this_process(version: &str, start_time: f64) -> DaemonFigures {
        let page = 4096u64;
        let rss_bytes = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * page);
        let cpu_seconds = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
            .map(|usage| {
                let time = |t: nix::sys::time::TimeVal| {
                    t.tv_sec() as f64 + t.tv_usec() as f64 / 1_000_000.0
                };
                time(usage.user_time()) + time(usage.system_time())
            })
            .unwrap_or(0.0);
        DaemonFigures {
            version: version.to_owned(),
            pid: i64::from(std::process::id()),
            rss_bytes,
            cpu_seconds,
            start_time,
        }
    }
}

/// A gauge family, registered under `name`.
fn family(registry: &mut Registry, name: &str, help: &str) -> Family<ProcessLabels, Gauge> {
    let family = Family::<ProcessLabels, Gauge>::default();
    registry.register(name, help, family.clone());
    family
}

/// A floating-point gauge family.
fn float_family(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> Family<ProcessLabels, Gauge<f64, AtomicU64>> {
    let family = Family::<ProcessLabels, Gauge<f64, AtomicU64>>::default();
    registry.register(name, help, family.clone());
    family
}

/// Renders the exposition for `processes` and `daemon`.
pub fn render(processes: &[ProcessInfo], daemon: &DaemonFigures) -> String {
    let mut registry = Registry::with_prefix("rsupervisor");

    let state = family(
        &mut registry,
        "process_state",
        "Process state as supervisord's code (0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL)",
    );
    let up = family(
        &mut registry,
        "process_up",
        "1 if the process is RUNNING, else 0",
    );
    let restarts = family(
        &mut registry,
        "process_restarts",
        "Automatic restarts since the counters were last cleared",
    );
    let exit_status = family(
        &mut registry,
        "process_exit_status",
        "Exit status of the last exit",
    );
    let pid = family(
        &mut registry,
        "process_pid",
        "Pid of the running process, 0 if none",
    );
    let start_time = family(
        &mut registry,
        "process_start_time_seconds",
        "When the process last started, epoch seconds (0 if never)",
    );
    let healthy = family(
        &mut registry,
        "process_healthy",
        "1 if the last health check passed, 0 if failing or not yet passed (only processes with a healthcheck)",
    );
    let health_failures = family(
        &mut registry,
        "process_health_failures",
        "Consecutive failed health checks (only processes with a healthcheck)",
    );
    let uptime = float_family(
        &mut registry,
        "process_uptime_seconds",
        "How long the process has been running, 0 if not running",
    );
    for info in processes {
        let labels: ProcessLabels = vec![
            ("name", rsupervisor_api::namespec(&info.group, &info.name)),
            ("group", info.group.clone()),
        ];
        let running = info.state == ProcessState::Running.code();
        state.get_or_create(&labels).set(i64::from(info.state));
        up.get_or_create(&labels).set(i64::from(running));
        restarts
            .get_or_create(&labels)
            .set(i64::from(info.restarts));
        exit_status
            .get_or_create(&labels)
            .set(i64::from(info.exitstatus));
        pid.get_or_create(&labels).set(i64::from(info.pid));
        if !info.health.is_empty() {
            healthy
                .get_or_create(&labels)
                .set(i64::from(info.health == "healthy"));
            health_failures
                .get_or_create(&labels)
                .set(i64::from(info.health_failures));
        }
        start_time.get_or_create(&labels).set(info.start);
        uptime.get_or_create(&labels).set(if running {
            (info.now - info.start).max(0) as f64
        } else {
            0.0
        });
    }

    let daemon_info = Family::<Vec<(&'static str, String)>, Gauge>::default();
    registry.register(
        "daemon_info",
        "The daemon's version and pid (always 1)",
        daemon_info.clone(),
    );
    daemon_info
        .get_or_create(&vec![
            ("version", daemon.version.clone()),
            ("pid", daemon.pid.to_string()),
        ])
        .set(1);
    let processes_gauge: Gauge = Gauge::default();
    registry.register(
        "daemon_processes",
        "Processes in the active configuration",
        processes_gauge.clone(),
    );
    processes_gauge.set(i64::try_from(processes.len()).unwrap_or(i64::MAX));
    let rss: Gauge = Gauge::default();
    registry.register(
        "daemon_resident_memory_bytes",
        "Resident memory of rsupervisord",
        rss.clone(),
    );
    rss.set(i64::try_from(daemon.rss_bytes).unwrap_or(i64::MAX));
    let cpu: Gauge<f64, AtomicU64> = Gauge::default();
    registry.register(
        "daemon_cpu_seconds",
        "CPU time used by rsupervisord (user and system)",
        cpu.clone(),
    );
    cpu.set(daemon.cpu_seconds);
    let started: Gauge<f64, AtomicU64> = Gauge::default();
    registry.register(
        "daemon_start_time_seconds",
        "When rsupervisord started, epoch seconds",
        started.clone(),
    );
    started.set(daemon.start_time);

    let mut out = String::new();
    // Encoding into a String only fails if a label cannot be written, which a String
    // always accepts.
    let _ = encode(&mut out, &registry);
    out
}

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: ProcessState, pid: i32) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: group.into(),
            description: String::new(),
            start: 1_700_000_000,
            stop: 0,
            now: 1_700_000_060,
            state: state.code(),
            statename: state.name().into(),
            spawnerr: String::new(),
            exitstatus: 0,
            logfile: String::new(),
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            pid,
            restarts: 2,
            restart_delay_ms: 0,
            next_restart: 0,
            health: String::new(),
            health_failures: 0,
            health_error: String::new(),
            waiting_for: String::new(),
            schedule: None,
        }
    }

    #[test]
    fn every_process_has_its_series_and_the_daemon_its_own() {
        let mut checked = info("web", "web", ProcessState::Running, 42);
        checked.health = "healthy".into();
        let text = render(
            &[checked, info("pool", "agent_1", ProcessState::Fatal, 0)],
            &DaemonFigures {
                version: "0.1.0".into(),
                pid: 7,
                rss_bytes: 4096,
                cpu_seconds: 0.5,
                start_time: 1_699_999_000.0,
            },
        );
        for line in [
            "rsupervisor_process_up{name=\"web\",group=\"web\"} 1",
            "rsupervisor_process_healthy{name=\"web\",group=\"web\"} 1",
            "rsupervisor_process_up{name=\"pool:agent_1\",group=\"pool\"} 0",
            "rsupervisor_process_state{name=\"pool:agent_1\",group=\"pool\"} 200",
            "rsupervisor_process_pid{name=\"web\",group=\"web\"} 42",
            "rsupervisor_process_restarts{name=\"web\",group=\"web\"} 2",
            "rsupervisor_process_uptime_seconds{name=\"web\",group=\"web\"} 60.0",
            "rsupervisor_daemon_info{version=\"0.1.0\",pid=\"7\"} 1",
            "rsupervisor_daemon_processes 2",
            "rsupervisor_daemon_resident_memory_bytes 4096",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
        // No health series for a process without a health check.
        assert!(
            !text.contains("rsupervisor_process_healthy{name=\"pool:agent_1\""),
            "{text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let text = render(
            &[info("g\"x", "a\\b", ProcessState::Stopped, 0)],
            &DaemonFigures::default(),
        );
        assert!(text.contains("name=\"g\\\"x:a\\\\b\""), "{text}");
    }
}
