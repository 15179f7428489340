//! The conf.d drop-in workflow against the real daemon (issue 7): `reread`, `update`, `avail`,
//! `add`, `remove` and `reload` with a main config that includes `conf.d/*.conf`.
//!
//! rsupervisord updates a changed group in place: only the processes whose settings changed
//! are restarted; the others keep their pids.

use std::collections::BTreeMap;
use std::time::Duration;

use rsupervisor_e2e::{info_pid, pid_alive, wait_state, wait_until, Daemon, TestDir};

/// Deadline for anything the daemon does on its own.
const DEADLINE: Duration = Duration::from_secs(10);

/// The main config's program part: everything comes from conf.d.
const INCLUDE: &str = "[include]\nfiles = conf.d/*.conf\n";

/// `grp` (ga, gb) and `solo`.
const BASE: &str = "\
[group:grp]
programs=ga,gb

[program:ga]
command={fixture} --sleep
startsecs=0

[program:gb]
command={fixture} --sleep
startsecs=0

[program:solo]
command={fixture} --sleep
startsecs=0
";

const NEWONE: &str = "\
[program:newone]
command={fixture} --sleep
startsecs=0
";

/// Writes the main config and `conf.d/base.conf`.
fn setup(dir: &TestDir) {
    dir.config(INCLUDE);
    dir.write_config("conf.d/base.conf", BASE);
}

/// Waits until every name is RUNNING and returns their pids.
#[track_caller]
fn running_pids(daemon: &Daemon<'_>, names: &[&str]) -> BTreeMap<String, i32> {
    names
        .iter()
        .map(|name| {
            let info = wait_state(daemon, name, "RUNNING", DEADLINE);
            ((*name).to_owned(), info_pid(&info))
        })
        .collect()
}

/// The pids of every process the daemon lists (0 for stopped ones).
fn all_pids(daemon: &Daemon<'_>) -> BTreeMap<String, i32> {
    pids_of(&daemon.all_process_info())
}

/// The pids in a list of process infos, by namespec.
fn pids_of(infos: &[serde_json::Value]) -> BTreeMap<String, i32> {
    infos
        .iter()
        .map(|info| {
            let group = info["group"].as_str().unwrap_or_default();
            let name = info["name"].as_str().unwrap_or_default();
            let spec = if group == name {
                name.to_owned()
            } else {
                format!("{group}:{name}")
            };
            (spec, info_pid(info))
        })
        .collect()
}

/// Runs a ctl command and checks its exit status and exact stdout.
#[track_caller]
fn expect(dir: &TestDir, args: &[&str], status: i32, stdout: &str) {
    let out = dir.ctl(args);
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (status, stdout),
        "rsupervisorctl {args:?}\n{out}"
    );
}

/// Waits until the main log contains `needle`.
#[track_caller]
fn wait_log(daemon: &Daemon<'_>, needle: &str) {
    wait_until(DEADLINE, &format!("{needle:?} in the main log"), || {
        let log = daemon.main_log();
        if log.contains(needle) {
            Ok(())
        } else {
            Err(log.lines().rev().take(5).collect::<Vec<_>>().join("\n"))
        }
    });
}

fn avail_line(name: &str, inuse: bool, auto: bool, prio: &str) -> String {
    let inuse = if inuse { "in use" } else { "avail" };
    let auto = if auto { "auto" } else { "manual" };
    format!("{name:<32} {inuse:<9} {auto:<9} {prio}\n")
}

#[test]
fn new_file_is_added_and_the_others_keep_their_pids() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);
    expect(&dir, &["reread"], 0, "No config updates to processes\n");

    dir.write_config("conf.d/extra.conf", NEWONE);
    expect(&dir, &["reread"], 0, "newone: available\n");
    // avail reflects the reread; status only the active groups.
    let avail = [
        avail_line("grp:ga", true, true, "999:999"),
        avail_line("grp:gb", true, true, "999:999"),
        avail_line("newone", false, true, "999:999"),
        avail_line("solo", true, true, "999:999"),
    ]
    .concat();
    expect(&dir, &["avail"], 0, &avail);
    assert_eq!(all_pids(&daemon), before);

    expect(&dir, &["update"], 0, "newone: added process group\n");
    let newone = running_pids(&daemon, &["newone"]);
    let mut after = before.clone();
    after.extend(newone);
    assert_eq!(all_pids(&daemon), after, "only newone is new");
    wait_log(&daemon, "INFO added process group newone");

    // Nothing left to do.
    expect(&dir, &["reread"], 0, "No config updates to processes\n");
    expect(&dir, &["update"], 0, "");
    expect(
        &dir,
        &["avail"],
        0,
        &avail.replace(
            &avail_line("newone", false, true, "999:999"),
            &avail_line("newone", true, true, "999:999"),
        ),
    );
    assert_eq!(all_pids(&daemon), after);
}

#[test]
fn editing_one_program_of_a_group_restarts_only_it() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);

    let edited = BASE.replace(
        "[program:gb]\ncommand={fixture} --sleep",
        "[program:gb]\ncommand={fixture} --print gb-edited --sleep",
    );
    assert_ne!(edited, BASE);
    dir.write_config("conf.d/base.conf", &edited);
    expect(&dir, &["reread"], 0, "grp: changed\n");
    expect(
        &dir,
        &["update"],
        0,
        "grp: stopped\ngrp: updated process group\n",
    );
    let gb = running_pids(&daemon, &["grp:gb"])["grp:gb"];
    assert_ne!(gb, before["grp:gb"], "gb got a new process");
    assert!(!pid_alive(before["grp:gb"]), "the old gb is gone");
    let mut after = before.clone();
    after.insert("grp:gb".to_owned(), gb);
    assert_eq!(all_pids(&daemon), after, "ga and solo keep their pids");
    wait_log(&daemon, "INFO updated process group grp");
    let out = dir.ctl(&["tail", "grp:gb"]);
    assert_eq!(out.stdout, "gb-edited\n\n", "{out}");
    expect(&dir, &["reread"], 0, "No config updates to processes\n");
}

#[test]
fn deleted_file_stops_and_removes_its_programs() {
    let dir = TestDir::new();
    setup(&dir);
    dir.write_config("conf.d/extra.conf", NEWONE);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo", "newone"]);

    std::fs::remove_file(dir.path("conf.d/extra.conf")).expect("removing extra.conf");
    expect(&dir, &["reread"], 0, "newone: disappeared\n");
    expect(
        &dir,
        &["update"],
        0,
        "newone: stopped\nnewone: removed process group\n",
    );
    assert!(!pid_alive(before["newone"]), "newone's process is gone");
    let mut after = before.clone();
    after.remove("newone");
    assert_eq!(all_pids(&daemon), after);
    let out = dir.ctl(&["status"]);
    assert!(!out.stdout.contains("newone"), "{out}");
    expect(
        &dir,
        &["status", "newone"],
        4,
        "newone: ERROR (no such process)\n",
    );
    wait_log(&daemon, "INFO removed process group newone");
    expect(&dir, &["reread"], 0, "No config updates to processes\n");
}

/// `avail` after a `reread` lists what the file has now, as supervisord: a removed group
/// and a program taken out of a group are gone from it although they still run.
#[test]
fn avail_after_reread_lists_only_what_the_file_has() {
    let dir = TestDir::new();
    setup(&dir);
    dir.write_config("conf.d/extra.conf", NEWONE);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo", "newone"]);

    std::fs::remove_file(dir.path("conf.d/extra.conf")).expect("removing extra.conf");
    let regrouped = BASE.replace("programs=ga,gb", "programs=ga");
    assert_ne!(regrouped, BASE);
    dir.write_config("conf.d/base.conf", &regrouped);
    expect(
        &dir,
        &["reread"],
        0,
        "gb: available\ngrp: changed\nnewone: disappeared\n",
    );
    let avail = [
        avail_line("grp:ga", true, true, "999:999"),
        avail_line("gb", false, true, "999:999"),
        avail_line("solo", true, true, "999:999"),
    ]
    .concat();
    expect(&dir, &["avail"], 0, &avail);
    assert_eq!(all_pids(&daemon), before, "reread changes nothing");
}

#[test]
fn a_broken_file_changes_nothing() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);
    let avail_before = dir.ctl(&["avail"]).stdout;

    // A good new file and a broken one with two errors: nothing of either is applied.
    dir.write_config("conf.d/extra.conf", NEWONE);
    dir.write_config(
        "conf.d/broken.conf",
        "[program:nocommand]\nstartsecs=0\n\n[program:badsecs]\ncommand=/bin/true\nstartsecs=soon\n",
    );
    let broken = dir.path("conf.d/broken.conf");
    let errors = format!(
        "ERROR: CANT_REREAD: {file}:1: [program:nocommand] command: program section \
         program:nocommand does not specify a command\n\
         {file}:6: [program:badsecs] startsecs: invalid literal for int() with base 10: 'soon'\n",
        file = broken.display()
    );
    for verb in ["reread", "update", "reload"] {
        expect(&dir, &[verb], 1, &errors);
    }
    expect(&dir, &["avail"], 0, &avail_before);
    assert_eq!(all_pids(&daemon), before, "nothing restarted");
    assert!(!daemon.main_log().contains("newone"));

    // Fixing the file lets the good one through.
    std::fs::remove_file(dir.path("conf.d/broken.conf")).expect("removing broken.conf");
    expect(&dir, &["update"], 0, "newone: added process group\n");
    running_pids(&daemon, &["newone"]);
}

#[test]
fn remove_refuses_running_groups_and_add_brings_them_back() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);

    expect(
        &dir,
        &["remove", "solo"],
        1,
        "ERROR: process/group still running: solo\n",
    );
    expect(
        &dir,
        &["remove", "grp"],
        1,
        "ERROR: process/group still running: grp\n",
    );
    assert_eq!(all_pids(&daemon), before);

    expect(&dir, &["stop", "solo"], 0, "solo: stopped\n");
    expect(
        &dir,
        &["remove", "solo"],
        0,
        "solo: removed process group\n",
    );
    expect(
        &dir,
        &["status", "solo"],
        4,
        "solo: ERROR (no such process)\n",
    );
    wait_log(&daemon, "INFO removed process group solo");
    // Still configured: avail shows it as available, reread as available again.
    let out = dir.ctl(&["avail"]);
    assert!(
        out.stdout
            .contains(&avail_line("solo", false, true, "999:999")),
        "{out}"
    );
    expect(&dir, &["reread"], 0, "solo: available\n");

    expect(&dir, &["add", "solo"], 0, "solo: added process group\n");
    let solo = running_pids(&daemon, &["solo"])["solo"];
    assert_ne!(solo, before["solo"]);
    expect(
        &dir,
        &["add", "solo"],
        0,
        "ERROR: process group already active\n",
    );
    wait_log(&daemon, "INFO added process group solo");
    assert_eq!(daemon.process("grp:ga")["pid"], before["grp:ga"]);
}

#[test]
fn update_of_one_group_leaves_the_others_alone() {
    let dir = TestDir::new();
    dir.config(INCLUDE);
    dir.write_config(
        "conf.d/sixbtc.conf",
        "[group:sixbtc]\nprograms=api,docs\n\
         [program:api]\ncommand={fixture} --sleep\nstartsecs=0\n\
         [program:docs]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    dir.write_config(
        "conf.d/solo.conf",
        "[program:solo]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["sixbtc:api", "sixbtc:docs", "solo"]);

    // Change both groups and add a third.
    let sixbtc = dir.read("conf.d/sixbtc.conf");
    dir.write(
        "conf.d/sixbtc.conf",
        sixbtc.replacen("--sleep", "--print api-edited --sleep", 1),
    );
    let solo = dir.read("conf.d/solo.conf");
    dir.write(
        "conf.d/solo.conf",
        solo.replace("--sleep", "--print solo-edited --sleep"),
    );
    dir.write_config("conf.d/extra.conf", NEWONE);
    expect(
        &dir,
        &["reread"],
        0,
        "newone: available\nsixbtc: changed\nsolo: changed\n",
    );

    expect(
        &dir,
        &["update", "sixbtc"],
        0,
        "sixbtc: stopped\nsixbtc: updated process group\n",
    );
    let api = running_pids(&daemon, &["sixbtc:api"])["sixbtc:api"];
    assert_ne!(api, before["sixbtc:api"]);
    let mut after = before.clone();
    after.insert("sixbtc:api".to_owned(), api);
    assert_eq!(all_pids(&daemon), after, "solo untouched, newone not added");
    expect(&dir, &["reread"], 0, "newone: available\nsolo: changed\n");

    // Several groups at once, then the rest with `all`.
    expect(
        &dir,
        &["update", "solo", "newone"],
        0,
        "solo: stopped\nsolo: updated process group\nnewone: added process group\n",
    );
    running_pids(&daemon, &["solo", "newone"]);
    expect(&dir, &["update", "all"], 0, "");
    expect(&dir, &["reread"], 0, "No config updates to processes\n");
}

#[test]
fn a_supervisord_change_is_reported_as_needing_a_restart() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);

    dir.config_with("minfds=2048", INCLUDE);
    expect(
        &dir,
        &["reread"],
        0,
        "No config updates to processes\n\
         [supervisord]: changed (restart rsupervisord to apply)\n",
    );
    expect(
        &dir,
        &["update"],
        0,
        "[supervisord]: changed (restart rsupervisord to apply)\n",
    );
    assert_eq!(all_pids(&daemon), before, "nothing restarted");
}

#[test]
fn reload_restarts_every_process_in_the_same_daemon() {
    let dir = TestDir::new();
    setup(&dir);
    let daemon = Daemon::start(&dir);
    let before = running_pids(&daemon, &["grp:ga", "grp:gb", "solo"]);
    // reload reads the configuration afresh: no reread or update needed.
    dir.write_config("conf.d/extra.conf", NEWONE);

    expect(&dir, &["reload"], 0, "Restarted supervisord\n");
    let after = wait_until(
        DEADLINE,
        "every process to run again with a new pid",
        || {
            let pids = match daemon.try_rpc("supervisor.getAllProcessInfo", serde_json::json!([])) {
                Ok(_) => all_pids(&daemon),
                Err(e) => return Err(e.to_string()),
            };
            let renewed = pids.len() == 4
                && pids
                    .iter()
                    .all(|(name, pid)| *pid > 0 && before.get(name) != Some(pid));
            if renewed {
                Ok(pids)
            } else {
                Err(format!("{pids:?}"))
            }
        },
    );
    running_pids(&daemon, &["grp:ga", "grp:gb", "solo", "newone"]);
    for (name, pid) in &before {
        assert!(!pid_alive(*pid), "the old {name} ({pid}) is still alive");
    }
    assert!(after.contains_key("newone"));
    expect(&dir, &["pid"], 0, &format!("{}\n", daemon.pid()));
    let started = format!("supervisord started with pid {}", daemon.pid());
    wait_until(DEADLINE, "two startup lines in the main log", || {
        let count = daemon.main_log().matches(&started).count();
        if count == 2 {
            Ok(())
        } else {
            Err(count)
        }
    });
    expect(&dir, &["reread"], 0, "No config updates to processes\n");
}
