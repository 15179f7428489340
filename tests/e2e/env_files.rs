//! `env_file` on `[supervisord]` and `[program:x]`: the precedence of every layer, optional
//! files, per-instance files, a changed file picked up by `update`, and `rsupervisorctl env`
//! with its sources and masked secrets.

use rsupervisor_e2e::{wait_state, wait_until, Daemon, TestDir};

use crate::support::*;

/// Waits for the fixture's `--dump-env` file and returns it as (name, value) lines.
fn dumped(dir: &TestDir, rel: &str) -> Vec<(String, String)> {
    let text = wait_until(DEADLINE, &format!("{rel} to be written"), || {
        match dir.try_read(rel) {
            Some(text) if text.ends_with('\n') => Ok(text),
            other => Err(other),
        }
    });
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Each layer overrides the one below it: daemon environment < `[supervisord] env_file` <
/// `[supervisord] environment` < the program's env files in order < its `environment`.
fn layered_config(dir: &TestDir) {
    dir.write("global.env", "L1='global file'\nL2='global file'\n");
    dir.write(
        "a.env",
        "# the program's first file\nexport L3='file a'\nL4=\"file a\"\nDB_PASSWORD=hunter2\n",
    );
    dir.write("b.env", "L4='file b'\nL5='file b'\nREF=\"${L4}!\"\n");
    dir.config_with(
        "env_file={dir}/global.env\nenvironment=L2=\"global environment\",L3=\"global environment\"",
        "[program:layers]\ncommand={fixture} --dump-env {dir}/layers.env\nstartsecs=0\n\
         env_file={dir}/a.env, b.env, -{dir}/missing.env\nenvironment=L5=\"program environment\"\n",
    );
}

#[test]
fn every_layer_overrides_the_one_below() {
    let dir = TestDir::new();
    layered_config(&dir);
    let daemon = Daemon::command(&dir)
        .env("L1", "daemon")
        .env("L0", "daemon")
        .start();
    wait_state(&daemon, "layers", "RUNNING", DEADLINE);
    let vars = dumped(&dir, "layers.env");
    assert_eq!(value(&vars, "L0"), Some("daemon"));
    assert_eq!(value(&vars, "L1"), Some("global file"));
    assert_eq!(value(&vars, "L2"), Some("global environment"));
    assert_eq!(value(&vars, "L3"), Some("file a"));
    assert_eq!(value(&vars, "L4"), Some("file b"));
    assert_eq!(value(&vars, "L5"), Some("program environment"));
    assert_eq!(value(&vars, "REF"), Some("file b!"), "${{L4}} within b.env");
    assert_eq!(value(&vars, "DB_PASSWORD"), Some("hunter2"));
    assert_eq!(value(&vars, "SUPERVISOR_PROCESS_NAME"), Some("layers"));

    // `env` shows the same, with sources, and masks the secret.
    let out = dir.ctl(&["env", "layers"]);
    out.assert_status(0);
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|line| line.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in\n{out}"))
            .to_owned()
    };
    let root = dir.root().display().to_string();
    assert!(line("L1").ends_with(&format!("# [supervisord] env_file {root}/global.env")));
    assert!(line("L2").ends_with("# [supervisord] environment"));
    assert!(line("L4").ends_with(&format!("# env_file {root}/b.env")));
    assert!(line("L5").ends_with("# environment"));
    assert!(line("L0").ends_with("# daemon environment"));
    assert!(line("DB_PASSWORD").starts_with("DB_PASSWORD=********"));
    assert!(!out.stdout.contains("hunter2"), "{out}");
    let out = dir.ctl(&["env", "nosuch"]);
    out.assert_status(1);
    assert_eq!(out.stdout, "nosuch: ERROR (no such process)\n");
}

#[test]
fn each_instance_reads_its_own_file() {
    let dir = TestDir::new();
    dir.write("worker_0.env", "SHARD=zero\n");
    dir.write("worker_1.env", "SHARD=one\n");
    dir.config(
        "[program:worker]\ncommand={fixture} --dump-env {dir}/dump_%(process_num)d.env\n\
         process_name=worker_%(process_num)d\nnumprocs=2\nstartsecs=0\n\
         env_file={dir}/worker_%(process_num)d.env\n",
    );
    let _daemon = Daemon::start(&dir);
    assert_eq!(value(&dumped(&dir, "dump_0.env"), "SHARD"), Some("zero"));
    assert_eq!(value(&dumped(&dir, "dump_1.env"), "SHARD"), Some("one"));
}

#[test]
fn a_changed_env_file_is_a_changed_program_for_update() {
    let dir = TestDir::new();
    dir.write("app.env", "VERSION=1\n");
    dir.config(
        "[program:app]\ncommand={fixture} --dump-env {dir}/app.dump\nstartsecs=0\n\
         env_file={dir}/app.env\n\n[program:other]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    assert_eq!(value(&dumped(&dir, "app.dump"), "VERSION"), Some("1"));
    let other = daemon.process("other")["pid"].clone();
    std::fs::remove_file(dir.path("app.dump")).expect("remove dump");
    dir.write("app.env", "VERSION=2\n");
    let out = dir.ctl(&["reread"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "app: changed\n");
    dir.ctl(&["update"]).assert_status(0);
    assert_eq!(value(&dumped(&dir, "app.dump"), "VERSION"), Some("2"));
    assert_eq!(
        daemon.process("other")["pid"],
        other,
        "an unchanged program kept running"
    );
}

#[test]
fn a_missing_required_file_is_a_config_error_and_a_broken_reread_changes_nothing() {
    let dir = TestDir::new();
    dir.config("[program:app]\ncommand={fixture} --sleep\nenv_file={dir}/nope.env\n");
    let failure = Daemon::start_expect_fail(&dir);
    assert_eq!(failure.status.code(), Some(2), "{failure:?}");
    let root = dir.root().display().to_string();
    assert!(
        failure.stderr.contains(&format!(
            "[program:app] env_file: env file {root}/nope.env does not exist (write -{root}/nope.env to make it optional)"
        )),
        "{}",
        failure.stderr
    );
    assert!(
        failure.stderr.contains("supervisord.conf:"),
        "{}",
        failure.stderr
    );

    // A running program keeps running when its env file breaks; reread refuses the file.
    dir.write("nope.env", "OK=1\n");
    let daemon = Daemon::start(&dir);
    let pid = wait_state(&daemon, "app", "RUNNING", DEADLINE)["pid"].clone();
    dir.write("nope.env", "this is not a line\n");
    let out = dir.ctl(&["reread"]);
    assert_ne!(out.status, 0, "{out}");
    assert!(out.stdout.contains("cannot parse"), "{out}");
    assert_eq!(daemon.process("app")["pid"], pid);
}
