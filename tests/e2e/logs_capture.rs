//! Child log capture: large bursts, rotation, AUTO names, redirect_stderr, NONE, log RPCs.

use rsupervisor_e2e::{spew, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

const MIB: u64 = 1024 * 1024;

/// Waits until `read()` returns exactly `len` bytes, then returns them.
fn wait_len(what: &str, len: u64, read: impl Fn() -> Vec<u8>) -> Vec<u8> {
    wait_until(DEADLINE, &format!("{what} to hold {len} bytes"), || {
        let data = read();
        if data.len() as u64 >= len {
            Ok(data)
        } else {
            Err(data.len())
        }
    })
}

#[test]
fn large_burst_and_output_before_exit_are_captured() {
    let dir = TestDir::new();
    dir.config(
        "[program:spew]\ncommand={fixture} --spew 5MiB --exit-code 0\nstartsecs=0\n\
         autorestart=false\nstdout_logfile={dir}/spew.log\nstdout_logfile_maxbytes=0\n\n\
         [program:last]\ncommand={fixture} --print last-words --eprint last-err --exit-code 3\n\
         startsecs=0\nautorestart=false\nstdout_logfile={dir}/last.log\n\
         stderr_logfile={dir}/last.err\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "spew", "EXITED", DEADLINE);
    let data = wait_len("spew.log", 5 * MIB, || {
        std::fs::read(dir.path("spew.log")).unwrap_or_default()
    });
    spew::check(&data, 5 * MIB).unwrap_or_else(|e| panic!("{e}"));

    wait_state(&daemon, "last", "EXITED", DEADLINE);
    assert_eq!(wait_file(&dir, "last.log", "\n"), "last-words\n");
    assert_eq!(wait_file(&dir, "last.err", "\n"), "last-err\n");
}

#[test]
fn rotation_keeps_exactly_the_backups_in_order() {
    let dir = TestDir::new();
    dir.config(
        "[program:rot]\ncommand={fixture} --spew 5MiB --exit-code 0\nstartsecs=0\n\
         autorestart=false\nstdout_logfile={dir}/rot.log\nstdout_logfile_maxbytes=1MB\n\
         stdout_logfile_backups=3\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "rot", "EXITED", DEADLINE);
    let total = 5 * MIB;
    let last_line = spew::pattern(total - spew::LINE_LEN, spew::LINE_LEN as usize);
    let files = ["rot.log.3", "rot.log.2", "rot.log.1", "rot.log"];
    let concat = wait_until(DEADLINE, "the last spew line to be logged", || {
        let concat: Vec<u8> = files
            .iter()
            .flat_map(|f| std::fs::read(dir.path(f)).unwrap_or_default())
            .collect();
        if concat.ends_with(&last_line) {
            Ok(concat)
        } else {
            Err(concat.len())
        }
    });
    for backup in &files[..3] {
        let len = std::fs::metadata(dir.path(backup))
            .unwrap_or_else(|e| panic!("{backup}: {e}"))
            .len();
        // Rotated after the write that reached maxbytes; one write is at most a pipe read.
        assert!(
            (MIB..MIB + 1024 * 1024).contains(&len),
            "{backup} has {len} bytes"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.root())
        .expect("listing the dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("rot.log"))
        .collect();
    names.sort();
    assert_eq!(names, ["rot.log", "rot.log.1", "rot.log.2", "rot.log.3"]);
    assert!(concat.len() as u64 >= 3 * MIB, "{}", concat.len());
    let offset = total - concat.len() as u64;
    spew::check_segment(&concat, offset).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn auto_logs_are_named_and_old_ones_cleaned() {
    let dir = TestDir::new();
    let old = [
        "logs/old-stdout---supervisor-abcdefgh.log",
        "logs/old-stderr---supervisor-abcdefgh.log.1",
    ];
    for file in old {
        dir.write(file, "stale\n");
    }
    dir.write("logs/keep.txt", "mine\n");
    dir.write("logs/other-stdout---otherid-abcdefgh.log", "not ours\n");
    dir.config("[program:auto]\ncommand={fixture} --print hi --eprint ho\nstartsecs=0\n");
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "auto", "RUNNING", DEADLINE);
    for file in old {
        assert!(!dir.path(file).exists(), "{file} was not cleaned up");
    }
    assert_eq!(dir.read("logs/keep.txt"), "mine\n");
    assert!(dir
        .path("logs/other-stdout---otherid-abcdefgh.log")
        .exists());
    let logs = dir.path("logs").display().to_string();
    for (key, channel, text) in [
        ("stdout_logfile", "stdout", "hi\n"),
        ("stderr_logfile", "stderr", "ho\n"),
    ] {
        let path = info[key].as_str().unwrap_or_default().to_owned();
        let prefix = format!("{logs}/auto-{channel}---supervisor-");
        let random = path
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("{key} {path:?} is not {prefix}XXXXXXXX.log"));
        assert_eq!(random.len(), 8, "{path}");
        let rel = path
            .strip_prefix(&format!("{}/", dir.root().display()))
            .unwrap_or(&path);
        wait_file(&dir, rel, text);
    }
}

#[test]
fn redirect_stderr_and_none() {
    let dir = TestDir::new();
    dir.config(
        "[program:both]\ncommand={fixture} --print out --eprint err --sleep\nstartsecs=0\n\
         redirect_stderr=true\nstdout_logfile={dir}/both.log\n\n\
         [program:quiet]\ncommand={fixture} --print out --eprint err --sleep\nstartsecs=0\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "both", "RUNNING", DEADLINE);
    assert_eq!(info["stderr_logfile"], "", "{info}");
    assert_eq!(wait_file(&dir, "both.log", "err\n"), "out\nerr\n");
    let info = wait_state(&daemon, "quiet", "RUNNING", DEADLINE);
    assert_eq!(info["stdout_logfile"], "", "{info}");
    assert_eq!(info["stderr_logfile"], "", "{info}");
    let fault = expect_fault(
        daemon.rpc("supervisor.readProcessStdoutLog", json!(["quiet", 0, 0])),
        NO_FILE,
    );
    assert!(fault.message.starts_with("NO_FILE"), "{fault}");
    let files: Vec<_> = std::fs::read_dir(dir.path("logs"))
        .expect("listing logs/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("quiet"))
        .collect();
    assert_eq!(files, Vec::<String>::new());
}

#[test]
fn vanished_log_directory_is_a_spawn_error() {
    let dir = TestDir::new();
    std::fs::create_dir(dir.path("sub")).expect("mkdir sub");
    dir.config(
        "[program:x]\ncommand={fixture} --sleep\nstartsecs=0\nstartretries=0\n\
         stdout_logfile={dir}/sub/x.log\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "x", "RUNNING", DEADLINE);
    assert_eq!(stop(&daemon, "x", true), Ok(json!(true)));
    std::fs::remove_dir_all(dir.path("sub")).expect("removing sub");
    let fault = expect_fault(start(&daemon, "x", true), SPAWN_ERROR);
    assert_eq!(fault.message, "SPAWN_ERROR: x");
    let info = daemon.process("x");
    assert_eq!(info["statename"], "FATAL", "{info}");
    assert_eq!(
        info["spawnerr"], "unknown error making dispatchers for 'x': ENOENT",
        "{info}"
    );
    wait_log(
        &daemon,
        "INFO spawnerr: unknown error making dispatchers for 'x': ENOENT",
    );
}

#[test]
fn read_and_tail_process_logs() {
    let dir = TestDir::new();
    dir.config(
        "[program:x]\ncommand={fixture} --print hello --print world --eprint oops --sleep\n\
         startsecs=0\nstdout_logfile={dir}/x.log\nstderr_logfile={dir}/x.err\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "x", "RUNNING", DEADLINE);
    wait_file(&dir, "x.log", "world\n");
    wait_file(&dir, "x.err", "oops\n");
    let read = |offset: i64, length: i64| {
        daemon.rpc(
            "supervisor.readProcessStdoutLog",
            json!(["x", offset, length]),
        )
    };
    assert_eq!(read(0, 0), Ok(json!("hello\nworld\n")));
    assert_eq!(read(0, 5), Ok(json!("hello")));
    assert_eq!(read(6, 5), Ok(json!("world")));
    assert_eq!(read(-6, 0), Ok(json!("world\n")));
    assert_eq!(read(-100, 0), Ok(json!("hello\nworld\n")));
    assert_eq!(read(100, 0), Ok(json!("")));
    expect_fault(read(-6, 5), BAD_ARGUMENTS);
    expect_fault(read(0, -5), BAD_ARGUMENTS);
    assert_eq!(
        daemon.rpc("supervisor.readProcessStderrLog", json!(["x", 0, 0])),
        Ok(json!("oops\n"))
    );
    expect_fault(
        daemon.rpc("supervisor.readProcessStdoutLog", json!(["nosuch", 0, 0])),
        BAD_NAME,
    );

    let tail = |offset: i64, length: i64| {
        daemon.rpc_ok(
            "supervisor.tailProcessStdoutLog",
            json!(["x", offset, length]),
        )
    };
    // supervisord's `[bytes, offset, overflow]`, as the API's TailSlice object.
    let slice = |bytes: &str, offset: i64, overflow: bool| json!({"bytes": bytes, "offset": offset, "overflow": overflow});
    assert_eq!(tail(0, 6), slice("world\n", 12, true));
    assert_eq!(tail(0, 100), slice("hello\nworld\n", 12, false));
    assert_eq!(tail(12, 100), slice("", 12, false));
    assert_eq!(tail(6, 6), slice("world\n", 12, false));
}

#[test]
fn clear_process_logs_empties_and_keeps_writing_at_the_start() {
    let dir = TestDir::new();
    dir.config(
        "[program:x]\ncommand={fixture} --print first --echo-stdin\nstartsecs=0\n\
         stdout_logfile={dir}/x.log\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "x", "RUNNING", DEADLINE);
    wait_file(&dir, "x.log", "first\n");
    assert_eq!(
        daemon.rpc("supervisor.clearProcessLogs", json!(["x"])),
        Ok(json!(true))
    );
    assert_eq!(dir.read("x.log"), "");
    assert_eq!(
        daemon.rpc("supervisor.readProcessStdoutLog", json!(["x", 0, 0])),
        Ok(json!(""))
    );
    daemon.rpc_ok("supervisor.sendProcessStdin", json!(["x", "second\n"]));
    wait_file(&dir, "x.log", "second\n");
    assert_eq!(dir.read_bytes("x.log"), b"second\n");
    expect_fault(
        daemon.rpc("supervisor.clearProcessLogs", json!(["nosuch"])),
        BAD_NAME,
    );
}

#[test]
fn reload_renames_auto_logs_and_cleans_the_old_ones() {
    let dir = TestDir::new();
    dir.config("[program:auto]\ncommand={fixture} --print hi --sleep\nstartsecs=0\n");
    let daemon = Daemon::start(&dir);
    let old = wait_state(&daemon, "auto", "RUNNING", DEADLINE);
    let old_path = old["stdout_logfile"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(std::path::Path::new(&old_path).exists(), "{old}");
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    // supervisord cleans AUTO logs on every (re)start and names new ones for the new groups.
    let new = wait_until(
        DEADLINE,
        "auto to run again with a new AUTO log",
        || match daemon.try_rpc("supervisor.getProcessInfo", json!(["auto"])) {
            Ok(info) if info["statename"] == "RUNNING" && info["stdout_logfile"] != old_path => {
                Ok(info)
            }
            other => Err(format!("{other:?}")),
        },
    );
    let new_path = new["stdout_logfile"].as_str().unwrap_or_default();
    assert!(std::path::Path::new(new_path).exists(), "{new}");
    assert!(
        !std::path::Path::new(&old_path).exists(),
        "{old_path} was not cleaned up at reload"
    );
}

#[test]
fn a_log_that_cannot_be_written_is_reported_in_the_main_log() {
    let dir = TestDir::new();
    // /dev/full fails every write with ENOSPC, like a full disk.
    dir.config(
        "[program:full]\ncommand={fixture} --print lost --sleep\nstartsecs=0\n\
         stdout_logfile=/dev/full\nstdout_logfile_maxbytes=0\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_log(&daemon, "'full' stdout: cannot write /dev/full");
    assert!(
        log.contains("ERRO 'full' stdout: cannot write /dev/full (output is being lost"),
        "{log}"
    );
    // The program itself is unaffected.
    wait_state(&daemon, "full", "RUNNING", DEADLINE);
}

/// An exit is handled once the child's output is in: in the main log (loglevel=debug
/// copies output) each program's output comes before its exit line, as supervisord reads
/// before it reaps, even when 40 programs exit at once; and when `status` says EXITED, the
/// log file already holds all it wrote (1 MiB, the last pipe-full of it still unread when
/// the program exited).
#[test]
fn output_written_before_an_exit_is_logged_before_the_exit() {
    const LAST: usize = 40;
    let dir = TestDir::new();
    dir.config(&format!(
        "[program:last]\n\
         command={{fixture}} --print \"last words of %(process_num)s\" --exit-code 3\n\
         process_name=%(program_name)s_%(process_num)s\n\
         numprocs={LAST}\n\
         startsecs=0\n\
         autorestart=false\n\n\
         [program:spew]\n\
         command={{fixture}} --spew 1MiB --exit-code 3\n\
         startsecs=0\n\
         autorestart=false\n\
         stdout_logfile={{dir}}/spew.log\n\
         stdout_logfile_maxbytes=0\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "spew", "EXITED", DEADLINE);
    // Read at once, no waiting: the exit was handled after the pump reached end of file.
    let data = std::fs::read(dir.path("spew.log")).unwrap_or_default();
    spew::check(&data, MIB).unwrap_or_else(|e| panic!("spew's log when EXITED: {e}"));
    for n in 0..LAST {
        wait_state(&daemon, &format!("last:last_{n}"), "EXITED", DEADLINE);
    }
    let log = daemon.main_log();
    for n in 0..LAST {
        let output = format!("'last_{n}' stdout output:\nlast words of {n}\n");
        let exit = format!("exited: last_{n} (exit status 3; not expected)");
        let (Some(output_at), Some(exit_at)) = (log.find(&output), log.find(&exit)) else {
            panic!("main log lacks {output:?} or {exit:?}:\n{log}");
        };
        assert!(output_at < exit_at, "{exit:?} before {output:?}:\n{log}");
    }
}

/// A pipe that never ends (a process the program left behind still holds its stdout) holds
/// the exit back only for the grace: the exit is handled, and later output still logged.
#[test]
fn an_exit_whose_output_pipe_stays_open_is_handled_after_the_grace() {
    let dir = TestDir::new();
    dir.config(
        "[program:leaver]\n\
         command=/bin/sh -c \"(sleep 2; echo from the one left behind; sleep 30) & echo bye; exit 3\"\n\
         startsecs=0\n\
         autorestart=false\n\
         stdout_logfile={dir}/leaver.log\n",
    );
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "leaver", "EXITED", DEADLINE);
    assert_eq!(info["exitstatus"], 3, "{info}");
    // The exit was handled while the pipe was still open, before the leftover wrote.
    let log = dir.try_read("leaver.log").unwrap_or_default();
    assert_eq!(log, "bye\n", "leaver.log when EXITED");
    wait_file(&dir, "leaver.log", "from the one left behind\n");
    wait_log(&daemon, "exited: leaver (exit status 3; not expected)");
}
