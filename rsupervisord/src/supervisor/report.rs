//! The periodic status report (`[supervisord] status_report_interval`, an rsupervisor key):
//! one main-log record with a line per process, so an operator reading the log alone sees
//! what ran, since when, and how often it restarted. Pure formatting from the process infos.

use rsupervisor_api::ProcessInfo;

/// The report: a summary line, then `name state pid uptime restarts` per process, and a
/// `health` column when any process has a health check.
pub fn format(infos: &[ProcessInfo]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for info in infos {
        match counts
            .iter_mut()
            .find(|(state, _)| *state == info.statename)
        {
            Some((_, count)) => *count += 1,
            None => counts.push((&info.statename, 1)),
        }
    }
    let summary = counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!("status report: {} processes: {summary}", infos.len());
    let names: Vec<String> = infos.iter().map(ProcessInfo::namespec).collect();
    let width = names.iter().map(String::len).max().unwrap_or(4).max(4);
    let with_health = infos.iter().any(|info| !info.health.is_empty());
    text += &format!(
        "\n{:<width$}  {:<8}  {:>7}  {:>10}  {:>8}",
        "name", "state", "pid", "uptime", "restarts"
    );
    if with_health {
        text += "  health";
    }
    for (info, name) in infos.iter().zip(&names) {
        let running = info.statename == "RUNNING";
        let pid = if info.pid > 0 {
            info.pid.to_string()
        } else {
            "-".to_owned()
        };
        let uptime = if running {
            super::process::format_uptime((info.now - info.start).max(0))
        } else {
            "-".to_owned()
        };
        text += &format!(
            "\n{name:<width$}  {:<8}  {pid:>7}  {uptime:>10}  {:>8}",
            info.statename, info.restarts
        );
        if with_health {
            let health = match (info.health.as_str(), info.health_failures) {
                ("", _) => "-".to_owned(),
                (health, 0) => health.to_owned(),
                (health, failures) => format!("{health} ({failures} failed)"),
            };
            text += &format!("  {health}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: &str, pid: i32, up: i64, restarts: u32) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: group.into(),
            description: String::new(),
            start: 1000,
            stop: 0,
            now: 1000 + up,
            state: 0,
            statename: state.into(),
            spawnerr: String::new(),
            exitstatus: 0,
            logfile: String::new(),
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            pid,
            restarts,
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
    fn table() {
        let text = format(&[
            info("sixbtc", "api", "RUNNING", 4242, 3723, 2),
            info("sixbtc", "executor", "FATAL", 0, 0, 5),
            info("web", "web", "RUNNING", 7, 5, 0),
        ]);
        assert_eq!(
            text,
            "status report: 3 processes: 2 RUNNING, 1 FATAL\n\
             name             state         pid      uptime  restarts\n\
             sixbtc:api       RUNNING      4242     1:02:03         2\n\
             sixbtc:executor  FATAL           -           -         5\n\
             web              RUNNING         7     0:00:05         0"
        );
    }

    #[test]
    fn health_column_only_when_a_process_has_a_check() {
        let mut db = info("db", "db", "RUNNING", 10, 60, 0);
        db.health = "healthy".into();
        let mut api = info("api", "api", "RUNNING", 11, 60, 1);
        api.health = "unhealthy".into();
        api.health_failures = 2;
        let plain = info("web", "web", "RUNNING", 12, 60, 0);
        let text = format(&[db, api, plain]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].ends_with("restarts  health"), "{text}");
        assert!(lines[2].ends_with("  healthy"), "{text}");
        assert!(lines[3].ends_with("  unhealthy (2 failed)"), "{text}");
        assert!(lines[4].ends_with("0  -"), "{text}");
    }

    #[test]
    fn no_processes() {
        assert_eq!(
            format(&[]),
            "status report: 0 processes: \nname  state         pid      uptime  restarts"
        );
    }
}
