//! Spawn errors and the child's process context (user, environment, umask, directory).

use std::os::unix::fs::PermissionsExt;

use rsupervisor_e2e::{wait_state, Daemon, TestDir};

use crate::support::*;

#[test]
fn command_not_found_is_fatal_and_no_file() {
    let dir = TestDir::new();
    dir.config(
        "[program:abs]\ncommand=/nonexistent/prog --flag\nstartretries=0\n\n\
         [program:rel]\ncommand=no-such-command-rsup\nstartretries=0\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "abs", "FATAL", DEADLINE);
    assert_eq!(
        info["spawnerr"], "can't find command '/nonexistent/prog'",
        "{info}"
    );
    assert_eq!(info["description"], info["spawnerr"], "{info}");
    let info = wait_state(&daemon, "rel", "FATAL", DEADLINE);
    assert_eq!(
        info["spawnerr"], "can't find command 'no-such-command-rsup'",
        "{info}"
    );
    let log = daemon.main_log();
    assert!(
        log.contains("INFO spawnerr: can't find command '/nonexistent/prog'"),
        "{log}"
    );
    assert!(!log.contains("spawned: 'abs'"), "{log}");
    let fault = expect_fault(start(&daemon, "abs", true), NO_FILE);
    assert_eq!(
        fault.message,
        "NO_FILE: can't find command '/nonexistent/prog'"
    );
    expect_fault(start(&daemon, "rel", false), NO_FILE);
}

#[test]
fn not_executable_and_directory() {
    let dir = TestDir::new();
    let script = dir.write("script.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod 644");
    std::fs::create_dir(dir.path("adir")).expect("mkdir");
    dir.config(
        "[program:noexec]\ncommand={dir}/script.sh\nstartretries=0\n\n\
         [program:isdir]\ncommand={dir}/adir\nstartretries=0\nautostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "noexec", "FATAL", DEADLINE);
    let expected = format!("command at '{}' is not executable", script.display());
    assert_eq!(info["spawnerr"], expected.as_str(), "{info}");
    let fault = expect_fault(start(&daemon, "noexec", true), NOT_EXECUTABLE);
    assert_eq!(fault.message, format!("NOT_EXECUTABLE: {expected}"));
    let fault = expect_fault(start(&daemon, "isdir", true), NOT_EXECUTABLE);
    assert!(fault.message.contains("is a directory"), "{fault}");
}

#[test]
fn nonexistent_directory_fails_in_the_child() {
    let dir = TestDir::new();
    dir.config(
        "[program:lost]\ncommand={fixture} --sleep\ndirectory={dir}/nonexistent_dir\n\
         startretries=0\nstderr_logfile={dir}/lost.err\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "lost", "FATAL", DEADLINE);
    assert_eq!(
        info["spawnerr"], "Exited too quickly (process log may have details)",
        "{info}"
    );
    let log = daemon.main_log();
    assert!(log.contains("spawned: 'lost'"), "{log}");
    assert!(
        log.contains("exited: lost (exit status 127; not expected)"),
        "{log}"
    );
    let stderr = dir.read("lost.err");
    assert!(
        stderr.contains(&format!(
            "supervisor: couldn't chdir to {}: ENOENT",
            dir.path("nonexistent_dir").display()
        )),
        "{stderr:?}"
    );
    assert!(
        stderr.contains("supervisor: child process was not spawned"),
        "{stderr:?}"
    );
}

#[test]
fn user_nobody_when_root() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: user= needs root");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("reading the user database")
        .expect("a user named nobody");
    let dir = TestDir::new();
    // nobody must be able to write the dump, and to reach it through the temp dir.
    std::fs::set_permissions(dir.root(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = dir.path("out");
    std::fs::create_dir(&out).expect("mkdir out");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    // The checkout (and so the built fixture) may sit under a directory nobody cannot enter,
    // such as /root: run a copy from the temp dir.
    let fixture = dir.path("fixture");
    std::fs::copy(rsupervisor_e2e::binaries::fixture(), &fixture).expect("copy the fixture");
    std::fs::set_permissions(&fixture, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir.config(
        "[program:who]\ncommand={dir}/fixture --dump-uid {dir}/out/uid --dump-env {dir}/out/env\n\
         user=nobody\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "who", "RUNNING", DEADLINE);
    let text = wait_file(&dir, "out/uid", "egid=");
    assert_eq!(
        text,
        format!(
            "uid={0}\ngid={1}\neuid={0}\negid={1}\n",
            nobody.uid, nobody.gid
        )
    );
}

#[test]
fn environment_umask_and_directory() {
    let dir = TestDir::new();
    std::fs::create_dir(dir.path("work")).expect("mkdir work");
    dir.config_with(
        "environment=GLOBAL_ONLY=\"g\",SHARED=\"from-global\"",
        "[program:ctx]\ncommand={fixture} --dump-env {dir}/env --dump-umask {dir}/umask \
         --dump-cwd {dir}/cwd\nstartsecs=0\numask=027\ndirectory={dir}/work\n\
         environment=PROGRAM_ONLY=\"p\",SHARED=\"from-program\"\n\n\
         [program:member]\ncommand={fixture} --dump-env {dir}/member.env\nstartsecs=0\n\n\
         [group:grp]\nprograms=member\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "ctx", "RUNNING", DEADLINE);
    wait_state(&daemon, "grp:member", "RUNNING", DEADLINE);
    let env = wait_file(&dir, "env", "SUPERVISOR_");
    let vars: Vec<&str> = env.lines().collect();
    let socket = dir.socket_path();
    for expected in [
        "SUPERVISOR_ENABLED=1".to_owned(),
        "SUPERVISOR_PROCESS_NAME=ctx".to_owned(),
        "SUPERVISOR_GROUP_NAME=ctx".to_owned(),
        format!("SUPERVISOR_SERVER_URL=unix://{}", socket.display()),
        "GLOBAL_ONLY=g".to_owned(),
        "PROGRAM_ONLY=p".to_owned(),
        "SHARED=from-program".to_owned(),
    ] {
        assert!(
            vars.contains(&expected.as_str()),
            "{expected} missing:\n{env}"
        );
    }
    let member = wait_file(&dir, "member.env", "SUPERVISOR_");
    let member: Vec<&str> = member.lines().collect();
    assert!(
        member.contains(&"SUPERVISOR_PROCESS_NAME=member"),
        "{member:?}"
    );
    assert!(member.contains(&"SUPERVISOR_GROUP_NAME=grp"), "{member:?}");
    assert!(member.contains(&"SHARED=from-global"), "{member:?}");
    assert_eq!(wait_file(&dir, "umask", "\n"), "0027\n");
    assert_eq!(
        wait_file(&dir, "cwd", "\n"),
        format!("{}\n", dir.path("work").display())
    );
}
