//! `rsupervisorctl scale NAME N`: a numprocs program's instance count at run time, kept
//! until `update`, which restores the file's count.

use rsupervisor_e2e::{info_pid, wait_state, TestDir};

use crate::support::*;

const AGENTS: &str =
    "[program:agent]\ncommand={fixture} --sleep\nprocess_name=agent_%(process_num)d\n\
                      numprocs=3\nstartsecs=0\nstopwaitsecs=5\n";

fn pid_of(daemon: &rsupervisor_e2e::Daemon<'_>, n: u32) -> i32 {
    info_pid(&wait_state(
        daemon,
        &format!("agent:agent_{n}"),
        "RUNNING",
        DEADLINE,
    ))
}

fn names(daemon: &rsupervisor_e2e::Daemon<'_>) -> Vec<String> {
    let mut names: Vec<String> = daemon
        .all_process_info()
        .iter()
        .map(|info| info["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn scale_up_and_down_keeps_unchanged_instances_and_update_restores_the_file() {
    let dir = TestDir::new();
    dir.config(AGENTS);
    let daemon = rsupervisor_e2e::Daemon::start(&dir);
    let pids: Vec<i32> = (0..3).map(|n| pid_of(&daemon, n)).collect();

    let up = dir.ctl(&["scale", "agent", "5"]);
    up.assert_status(0);
    assert_eq!(
        up.stdout,
        "agent:agent_3: started\nagent:agent_4: started\nagent: scaled to 5 instance(s)\n",
        "{up}"
    );
    for n in 3..5 {
        pid_of(&daemon, n);
    }
    for n in 0..3u32 {
        assert_eq!(
            pid_of(&daemon, n),
            pids[n as usize],
            "agent_{n} kept its pid"
        );
    }
    let status = dir.ctl(&["status", "agent:agent_4"]);
    assert!(
        status.stdout.contains("; scaled to 5 (file: 3)"),
        "{status}"
    );
    // The running set differs from the file: reread says so, avail lists the new ones.
    let reread = dir.ctl(&["reread"]);
    assert_eq!(reread.stdout, "agent: changed\n", "{reread}");
    let avail = dir.ctl(&["avail"]);
    assert!(
        avail
            .stdout
            .lines()
            .any(|l| l.starts_with("agent:agent_4") && l.contains("in use")),
        "{avail}"
    );
    wait_log(&daemon, "scaled agent to 5 instance(s) (3 in the file;");

    // Down to one: the highest process numbers stop first; agent_0 keeps running.
    let down = dir.ctl(&["scale", "agent", "1"]);
    down.assert_status(0);
    assert_eq!(
        down.stdout,
        "agent:agent_4: stopped\nagent:agent_3: stopped\nagent:agent_2: stopped\n\
         agent:agent_1: stopped\nagent: scaled to 1 instance(s)\n",
        "{down}"
    );
    assert_eq!(names(&daemon), ["agent_0"]);
    assert_eq!(pid_of(&daemon, 0), pids[0]);
    let log = daemon.main_log();
    let stop_order: Vec<usize> = (1..5)
        .map(|n| {
            log.find(&format!("stopped: agent_{n} "))
                .unwrap_or_else(|| panic!("agent_{n} stop logged\n{log}"))
        })
        .collect();
    assert!(
        stop_order.windows(2).all(|w| w[0] > w[1]),
        "agent_4 stopped first, agent_1 last\n{log}"
    );

    // update brings back the file's three; agent_0 is untouched.
    let update = dir.ctl(&["update"]);
    update.assert_status(0);
    assert_eq!(update.stdout, "agent: updated process group\n", "{update}");
    for n in 1..3 {
        pid_of(&daemon, n);
    }
    assert_eq!(names(&daemon), ["agent_0", "agent_1", "agent_2"]);
    assert_eq!(pid_of(&daemon, 0), pids[0]);
    let status = dir.ctl(&["status", "agent:agent_0"]);
    assert!(!status.stdout.contains("scaled"), "{status}");
    assert_eq!(
        dir.ctl(&["reread"]).stdout,
        "No config updates to processes\n"
    );
}

#[test]
fn scale_refuses_bad_input_and_an_unapplied_edit() {
    let dir = TestDir::new();
    dir.config(AGENTS);
    let daemon = rsupervisor_e2e::Daemon::start(&dir);
    let pid = pid_of(&daemon, 0);

    let unknown = dir.ctl(&["scale", "nosuch", "2"]);
    unknown.assert_status(1);
    assert!(
        unknown.stdout.starts_with("nosuch: ERROR (")
            && unknown.stdout.contains("no active program of that name"),
        "{unknown}"
    );
    let bad = dir.ctl(&["scale", "agent", "many"]);
    bad.assert_status(1);
    assert!(
        bad.stdout.contains("\"many\" is not an instance count"),
        "{bad}"
    );
    let missing = dir.ctl(&["scale", "agent"]);
    missing.assert_status(1);
    assert!(
        missing
            .stdout
            .contains("requires a program name and an instance count"),
        "{missing}"
    );

    // An edit of the program that update has not applied yet is not smuggled in by scale.
    dir.config(&AGENTS.replace("stopwaitsecs=5", "stopwaitsecs=6"));
    let edited = dir.ctl(&["scale", "agent", "4"]);
    edited.assert_status(1);
    assert!(
        edited
            .stdout
            .contains("its settings in the file changed since they were applied")
            && edited
                .stdout
                .contains("run 'reread' and 'update agent' first"),
        "{edited}"
    );
    assert_eq!(names(&daemon), ["agent_0", "agent_1", "agent_2"]);
    assert_eq!(pid_of(&daemon, 0), pid);
}
