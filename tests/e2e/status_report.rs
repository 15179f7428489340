//! `[supervisord] status_report_interval`: a status table in the main log at that interval.

use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};

use crate::support::*;

#[test]
fn the_status_table_is_written_at_the_interval() {
    let dir = TestDir::new();
    dir.config_with(
        "status_report_interval=1s",
        "[program:web]\ncommand={fixture} --sleep\nstartsecs=0\n\n\
         [program:once]\ncommand={fixture} --exit-code 0\nstartsecs=0\nautorestart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    wait_state(&daemon, "once", "EXITED", DEADLINE);
    let log = wait_until(DEADLINE, "two status reports", || {
        let log = daemon.main_log();
        if log.matches("INFO status report: 2 processes").count() >= 2 {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    });
    let report = &log[log.rfind("status report:").expect("a report")..];
    let lines: Vec<&str> = report.lines().take(4).collect();
    assert_eq!(
        lines[0], "status report: 2 processes: 1 EXITED, 1 RUNNING",
        "{report}"
    );
    assert!(
        lines[1].starts_with("name") && lines[1].ends_with("restarts"),
        "{report}"
    );
    assert!(lines[2].starts_with("once  EXITED"), "{report}");
    let web: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(
        web[..3],
        ["web", "RUNNING", pid.to_string().as_str()],
        "{report}"
    );
    assert_eq!(web[4], "0", "{report}");
}
