//! Stop escalation: stopwaitsecs then SIGKILL, stopsignal, stopasgroup/killasgroup.

use std::time::{Duration, Instant};

use rsupervisor_e2e::{info_pid, pid_alive, process_group_members, wait_state, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

#[test]
fn ignored_sigterm_escalates_to_sigkill() {
    let dir = TestDir::new();
    dir.config(
        "[program:stubborn]\ncommand={fixture} --ignore-sigterm --print ready\nstartsecs=0\n\
         stopwaitsecs=1\nstdout_logfile={dir}/stubborn.log\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "stubborn", "RUNNING", DEADLINE));
    // The TERM handler is installed before `ready` is printed.
    wait_file(&dir, "stubborn.log", "ready\n");
    let began = Instant::now();
    assert_eq!(stop(&daemon, "stubborn", true), Ok(json!(true)));
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "stopped after only {:?}",
        began.elapsed()
    );
    assert_eq!(state_of(&daemon, "stubborn"), "STOPPED");
    wait_dead(pid, "stubborn");
    let log = daemon.main_log();
    assert!(
        log.contains(&format!("WARN killing 'stubborn' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("WARN stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "DEBG killing stubborn (pid {pid}) with signal SIGTERM"
        )),
        "{log}"
    );
    assert!(dir.read("stubborn.log").contains("ignored SIGTERM"));
}

#[test]
fn stopsignal_int_and_hup_are_used() {
    let dir = TestDir::new();
    dir.config(
        "[program:int]\ncommand={fixture} --sleep\nstartsecs=0\nstopsignal=INT\n\n\
         [program:hup]\ncommand={fixture} --sleep\nstartsecs=0\nstopsignal=hup\n",
    );
    let daemon = Daemon::start(&dir);
    for (name, signal) in [("int", "SIGINT"), ("hup", "SIGHUP")] {
        let pid = info_pid(&wait_state(&daemon, name, "RUNNING", DEADLINE));
        assert_eq!(stop(&daemon, name, true), Ok(json!(true)));
        wait_dead(pid, name);
        let log = daemon.main_log();
        assert!(
            log.contains(&format!("killing {name} (pid {pid}) with signal {signal}")),
            "{log}"
        );
        assert!(
            log.contains(&format!("WARN stopped: {name} (terminated by {signal})")),
            "{log}"
        );
    }
}

#[test]
fn stopasgroup_kills_the_grandchild() {
    let dir = TestDir::new();
    dir.config(
        "[program:parent]\ncommand={fixture} --fork-grandchild {dir}/gc.pid\nstartsecs=0\n\
         stopasgroup=true\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "parent", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(&dir, "gc.pid");
    let _guard = KillOnDrop(grandchild);
    assert!(pid_alive(grandchild));
    assert!(process_group_members(pid).contains(&grandchild));
    assert_eq!(stop(&daemon, "parent", true), Ok(json!(true)));
    wait_dead(grandchild, "grandchild");
    wait_dead(pid, "parent");
    assert_eq!(process_group_members(pid), Vec::<i32>::new());
    let log = daemon.main_log();
    assert!(
        log.contains(&format!(
            "killing parent (pid {pid}) process group with signal SIGTERM"
        )),
        "{log}"
    );
}

#[test]
fn killasgroup_sigkills_the_grandchild() {
    let dir = TestDir::new();
    // TERM goes to the parent only (which ignores it); the SIGKILL goes to the whole group.
    dir.config(
        "[program:parent]\ncommand={fixture} --ignore-sigterm --fork-grandchild {dir}/gc.pid\n\
         startsecs=0\nstopwaitsecs=1\nkillasgroup=true\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "parent", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(&dir, "gc.pid");
    let _guard = KillOnDrop(grandchild);
    assert_eq!(stop(&daemon, "parent", true), Ok(json!(true)));
    wait_dead(grandchild, "grandchild");
    wait_dead(pid, "parent");
    let log = daemon.main_log();
    assert!(
        log.contains(&format!("killing 'parent' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("stopped: parent (terminated by SIGKILL)"),
        "{log}"
    );
}

#[test]
fn without_stopasgroup_the_grandchild_survives() {
    let dir = TestDir::new();
    // supervisord's behaviour, kept with cgroups=off (or where no cgroup can be made): with
    // cgroups, a stop ends the program's whole cgroup (see cgroups.rs).
    dir.config_with(
        "cgroups=off\n",
        "[program:parent]\ncommand={fixture} --fork-grandchild {dir}/gc.pid\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "parent", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(&dir, "gc.pid");
    let _guard = KillOnDrop(grandchild);
    assert_eq!(stop(&daemon, "parent", true), Ok(json!(true)));
    wait_dead(pid, "parent");
    // Only the parent got SIGTERM; the grandchild is still in the old process group.
    assert!(pid_alive(grandchild), "the grandchild was killed");
    assert_eq!(process_group_members(pid), vec![grandchild]);
    drop(_guard);
    wait_dead(grandchild, "grandchild");
}
