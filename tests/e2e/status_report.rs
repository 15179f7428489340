//! The status table: written to the main log at `[supervisord] status_report_interval`, and
//! the order every listing of processes follows (group, then name) as programs come and go.

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

/// The `(group, name)` of every process, in the order `getAllProcessInfo` gives them.
fn listed(daemon: &Daemon<'_>) -> Vec<(String, String)> {
    let infos = daemon.rpc_ok("supervisor.getAllProcessInfo", serde_json::json!([]));
    infos
        .as_array()
        .expect("a list")
        .iter()
        .map(|info| {
            let field = |key: &str| info[key].as_str().unwrap_or_default().to_owned();
            (field("group"), field("name"))
        })
        .collect()
}

#[test]
fn processes_are_listed_by_group_and_name_after_adds_and_removes() {
    let dir = TestDir::new();
    let program =
        |name: &str| format!("[program:{name}]\ncommand={{fixture}} --sleep\nautostart=false\n\n");
    let mid = "[group:mid]\nprograms=m_b,m_a\n\n";
    let pool = "[program:pool]\ncommand={fixture} --sleep\nautostart=false\n\
                numprocs=3\nprocess_name=%(program_name)s_%(process_num)d\n\n";
    dir.config(&format!(
        "{}{}{mid}{}{}{pool}",
        program("zeta"),
        program("alpha"),
        program("m_b"),
        program("m_a")
    ));
    let daemon = Daemon::start(&dir);
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(group, name)| ((*group).to_owned(), (*name).to_owned()))
            .collect()
    };
    assert_eq!(
        listed(&daemon),
        pairs(&[
            ("alpha", "alpha"),
            ("mid", "m_a"),
            ("mid", "m_b"),
            ("pool", "pool_0"),
            ("pool", "pool_1"),
            ("pool", "pool_2"),
            ("zeta", "zeta"),
        ])
    );
    // `update`: zeta goes, beta and omega come, alpha stays.
    dir.config(&format!(
        "{}{}{mid}{}{}{pool}{}",
        program("omega"),
        program("alpha"),
        program("m_b"),
        program("m_a"),
        program("beta")
    ));
    dir.ctl(&["update"]).assert_status(0);
    assert_eq!(
        listed(&daemon),
        pairs(&[
            ("alpha", "alpha"),
            ("beta", "beta"),
            ("mid", "m_a"),
            ("mid", "m_b"),
            ("omega", "omega"),
            ("pool", "pool_0"),
            ("pool", "pool_1"),
            ("pool", "pool_2"),
        ])
    );
}
