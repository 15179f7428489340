//! Health checks: `healthy` over http, tcp, exec and file; the unhealthy status line; a hung
//! endpoint restarted after exactly `healthcheck_retries` failures, through the restart
//! policy; `wait_for` an outside port.

use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};

use crate::dependencies::wait_description;
use crate::support::free_port;
use crate::support::*;

/// `pid N, uptime H:MM:SS` and nothing more.
fn plain_running(description: &str) -> bool {
    let Some(rest) = description.strip_prefix("pid ") else {
        return false;
    };
    let Some((pid, uptime)) = rest.split_once(", uptime ") else {
        return false;
    };
    pid.chars().all(|c| c.is_ascii_digit())
        && uptime.len() == 7
        && uptime.chars().all(|c| c.is_ascii_digit() || c == ':')
}

#[test]
fn healthy_over_http_tcp_exec_and_file_releases_the_dependents() {
    let dir = TestDir::new();
    let (http, tcp) = (free_port(), free_port());
    dir.config(&format!(
        "[program:h_http]\ncommand={{fixture}} --http {http}\nhealthcheck=http://127.0.0.1:{http}/health\n\
         healthcheck_interval=200ms\n\n\
         [program:h_tcp]\ncommand={{fixture}} --listen {tcp}\nhealthcheck=tcp://127.0.0.1:{tcp}\n\
         healthcheck_interval=200ms\n\n\
         [program:h_exec]\ncommand={{fixture}} --sleep --pidfile {{dir}}/exec.pid\n\
         healthcheck=exec:test -s {{dir}}/exec.pid\nhealthcheck_interval=200ms\n\n\
         [program:h_file]\ncommand={{fixture}} --sleep --pidfile {{dir}}/file.pid\n\
         healthcheck=file:{{dir}}/file.pid\nhealthcheck_interval=200ms\n\n\
         [program:needs_all]\ncommand={{fixture}} --sleep\nstartsecs=0\n\
         depends_on=h_http:healthy, h_tcp:healthy, h_exec:healthy, h_file:healthy\n\n\
         [program:plain]\ncommand={{fixture}} --sleep\nstartsecs=0\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "needs_all", "RUNNING", DEADLINE);
    let log = daemon.main_log();
    let spawn = log.find("spawned: 'needs_all'").expect("spawned");
    for name in ["h_http", "h_tcp", "h_exec", "h_file"] {
        let info = daemon.process(name);
        assert_eq!(info["health"], "healthy", "{info}");
        let description = info["description"].as_str().unwrap_or_default();
        let base = description.strip_suffix(", healthy").unwrap_or_default();
        assert!(plain_running(base), "{name}: {description:?}");
        let healthy = log
            .find(&format!("healthy: {name} passed its health check"))
            .unwrap_or_else(|| panic!("{name} never healthy:\n{log}"));
        assert!(
            healthy < spawn,
            "{name} healthy after the dependent's spawn:\n{log}"
        );
    }
    // A program without a health check says exactly what it said before.
    let plain = daemon.process("plain");
    assert!(
        plain_running(plain["description"].as_str().unwrap_or_default()),
        "{plain}"
    );
    assert!(plain.get("health").is_none(), "{plain}");
    let status = dir.ctl(&["status", "h_tcp", "plain"]);
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert!(
        lines[0].starts_with("h_tcp ") && lines[0].ends_with(", healthy"),
        "{status:?}"
    );
    assert!(!lines[1].contains("health"), "{status:?}");
}

#[test]
fn an_unhealthy_program_says_so_in_status_and_json() {
    let dir = TestDir::new();
    let closed = free_port();
    dir.config(&format!(
        "[program:sick]\ncommand={{fixture}} --sleep\nstartsecs=0\n\
         healthcheck=tcp://127.0.0.1:{closed}\nhealthcheck_interval=100ms\nhealthcheck_action=none\n"
    ));
    let daemon = Daemon::start(&dir);
    let info = wait_until(DEADLINE, "sick to be unhealthy", || {
        let info = daemon.process("sick");
        if info["health"] == "unhealthy" {
            Ok(info)
        } else {
            Err(info.to_string())
        }
    });
    assert_eq!(info["statename"], "RUNNING");
    assert_eq!(info["health_error"], "connection refused");
    let description = info["description"].as_str().unwrap_or_default();
    let (base, health) = description
        .split_once(", unhealthy (")
        .expect("unhealthy text");
    assert!(plain_running(base), "{description}");
    let (failed, rest) = health.split_once(" failed: ").expect("failed count");
    assert!(
        failed.parse::<u32>().expect("a count") >= 3,
        "{description}"
    );
    assert_eq!(rest, "connection refused)");
    let log = wait_log(&daemon, "unhealthy: sick failed 3 health checks in a row");
    assert!(
        log.contains(&format!(
            "unhealthy: sick failed 3 health checks in a row (tcp://127.0.0.1:{closed}); last: connection refused"
        )),
        "{log}"
    );
    // `none`: marked, never stopped or restarted.
    assert!(
        !log.contains("restarting: sick") && !log.contains("stopping sick"),
        "{log}"
    );
    let json = dir.ctl(&["status", "--json", "sick"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value[0]["health"], "unhealthy", "{value}");
    assert_eq!(value[0]["health_error"], "connection refused", "{value}");
}

/// The endpoint answers once, then hangs: after exactly `healthcheck_retries` timed-out
/// checks the program is restarted, through the restart policy (its restart count).
#[test]
fn a_hung_endpoint_is_restarted_after_exactly_the_configured_retries() {
    let dir = TestDir::new();
    let port = free_port();
    dir.config(&format!(
        "[program:hang]\ncommand={{fixture}} --http {port} --http-hang-after 1 --http-count {{dir}}/count\n\
         startsecs=1\nhealthcheck=http://127.0.0.1:{port}/\nhealthcheck_interval=200ms\n\
         healthcheck_timeout=300ms\nhealthcheck_retries=3\n"
    ));
    let daemon = Daemon::start(&dir);
    let first = wait_state(&daemon, "hang", "RUNNING", DEADLINE);
    let first_pid = info_pid(&first);
    let log = wait_log(
        &daemon,
        "restarting: hang (unhealthy: 3 failed health checks, last: timed out after 300ms)",
    );
    assert!(
        log.contains("healthy: hang passed its health check"),
        "{log}"
    );
    let info = wait_until(DEADLINE, "hang to run again", || {
        let info = daemon.process("hang");
        if info["statename"] != "STOPPING"
            && info["pid"]
                .as_i64()
                .is_some_and(|p| p > 0 && p != i64::from(first_pid))
        {
            Ok(info)
        } else {
            Err(info.to_string())
        }
    });
    // One answered request, then exactly three hung ones.
    assert_eq!(dir.read(format!("count.{first_pid}")), "4\n");
    assert_eq!(info["restarts"], 1, "{info}");
    assert_eq!(log.matches("unhealthy: hang failed").count(), 1, "{log}");
}

/// `wait_for` holds the spawn until an outside port opens; a port that never opens fails
/// the start with a spawn error naming it.
#[test]
fn wait_for_an_outside_port_that_opens_late_and_one_that_never_does() {
    let dir = TestDir::new();
    let (late, never) = (free_port(), free_port());
    dir.config(&format!(
        "[program:late]\ncommand={{fixture}} --sleep\nstartsecs=0\nwait_for=tcp://127.0.0.1:{late}\n\n\
         [program:never]\ncommand={{fixture}} --sleep\nstartsecs=0\nstartretries=0\n\
         wait_for=tcp://127.0.0.1:{never}\nwait_for_timeout=1s\n"
    ));
    let daemon = Daemon::start(&dir);
    let waiting = wait_description(
        &daemon,
        "late",
        &format!("waiting for tcp://127.0.0.1:{late}"),
    );
    assert_eq!(waiting["statename"], "STARTING");
    assert_eq!(waiting["pid"], 0);
    let listener = std::net::TcpListener::bind(("127.0.0.1", late)).expect("open the late port");
    wait_state(&daemon, "late", "RUNNING", DEADLINE);
    drop(listener);
    let info = wait_state(&daemon, "never", "FATAL", DEADLINE);
    let reason = format!("wait_for tcp://127.0.0.1:{never} not met within 1s: connection refused");
    assert_eq!(info["spawnerr"], reason.as_str(), "{info}");
    wait_log(&daemon, &format!("spawnerr: {reason}"));
}

/// A dependency turning unhealthy stops its dependents (the default); `healthcheck_action =
/// stop` stops the unhealthy program itself.
#[test]
fn unhealthy_dependency_stops_dependents_and_action_stop_stops_the_program() {
    let dir = TestDir::new();
    let (db, web) = (free_port(), free_port());
    dir.config(&format!(
        "[program:db]\ncommand={{fixture}} --http {db} --http-hang-after 1\nstartsecs=0\n\
         healthcheck=http://127.0.0.1:{db}/\nhealthcheck_interval=100ms\nhealthcheck_timeout=200ms\n\
         healthcheck_retries=2\nhealthcheck_action=none\n\n\
         [program:app]\ncommand={{fixture}} --sleep\nstartsecs=0\ndepends_on=db:healthy\n\n\
         [program:web]\ncommand={{fixture}} --http {web} --http-hang-after 1\nstartsecs=0\n\
         healthcheck=http://127.0.0.1:{web}/\nhealthcheck_interval=100ms\nhealthcheck_timeout=200ms\n\
         healthcheck_retries=2\nhealthcheck_action=stop\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_log(&daemon, "stopping app: dependency db turned unhealthy");
    wait_state(&daemon, "app", "STOPPED", DEADLINE);
    let db_info = daemon.process("db");
    assert_eq!(
        (db_info["statename"].as_str(), db_info["health"].as_str()),
        (Some("RUNNING"), Some("unhealthy")),
        "{db_info}"
    );
    let log = wait_log(
        &daemon,
        "stopping web: unhealthy (2 failed health checks, last: timed out after 200ms)",
    );
    wait_state(&daemon, "web", "STOPPED", DEADLINE);
    assert!(!log.contains("restarting: web"), "{log}");
}
