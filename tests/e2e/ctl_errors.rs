//! `rsupervisorctl` error cases against the real daemon (issue 6): bad names, usage errors,
//! spawn errors, an unreachable daemon, a daemon already shutting down. Each case checks the
//! exact text and the exit status of supervisorctl 4.3.0 (reference §4.1, §4.3).

use std::os::unix::net::UnixListener;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rsupervisor_e2e::{info_pid, pid_alive, wait_state, wait_until, Daemon, TestDir};

/// Deadline for anything the daemon does on its own.
const DEADLINE: Duration = Duration::from_secs(10);

const PROGRAMS: &str = "\
[program:web]
command={fixture} --sleep
startsecs=0

[program:idle]
command={fixture} --sleep
autostart=false

[program:quick]
command={fixture} --exit-code 1
autostart=false
startsecs=1
startretries=0

[program:nocmd]
command=/nonexistent/prog
autostart=false

[group:grp]
programs=ga

[program:ga]
command={fixture} --sleep
startsecs=0
";

/// Expected `(args, exit status, stdout)` for each case.
type Case<'a> = (&'a [&'a str], i32, &'a str);

#[track_caller]
fn check_cases(dir: &TestDir, cases: &[Case<'_>]) {
    for (args, status, stdout) in cases {
        let out = dir.ctl(args);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (*status, *stdout),
            "rsupervisorctl {args:?}\n{out}"
        );
    }
}

#[test]
fn bad_names_and_usage_errors() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    wait_state(&daemon, "grp:ga", "RUNNING", DEADLINE);

    let start_help = "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in \
                      a group\nstart <name> <name>\tStart multiple processes or groups\nstart \
                      all\t\tStart all processes\n";
    let stop_help = "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a \
                     group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\t\
                     Stop all processes\n";
    let tail_help = "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\t\
                     Continuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 \
                     <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 \
                     *bytes* of process stderr\n";
    let start_usage = format!("Error: start requires a process name\n{start_help}");
    let stop_usage = format!("Error: stop requires a process name\n{stop_help}");
    let too_few = format!("Error: too few arguments\n{tail_help}");
    let too_many = format!("Error: too many arguments\n{tail_help}");
    let cases: Vec<Case<'_>> =
        vec![
        // status: bad names are 4, even next to good ones.
        (&["status", "nosuch"], 4, "nosuch: ERROR (no such process)\n"),
        (&["status", "nogroup:*"], 4, "nogroup: ERROR (no such group)\n"),
        (&["status", "grp:nosuch"], 4, "grp:nosuch: ERROR (no such process)\n"),
        // start
        (&["start", "nosuch"], 1, "nosuch: ERROR (no such process)\n"),
        (&["start", "nogroup:*"], 2, "nogroup: ERROR (no such group)\n"),
        (&["start"], 2, &start_usage),
        (&["start", "ga"], 1, "ga: ERROR (no such process)\n"),
        // stop
        (&["stop", "nosuch"], 1, "nosuch: ERROR (no such process)\n"),
        (&["stop", "nogroup:*"], 1, "nogroup: ERROR (no such group)\n"),
        (&["stop"], 1, &stop_usage),
        // restart prints the stop error and the start error.
        (
            &["restart", "nosuch"],
            1,
            "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n",
        ),
        // signal
        (&["signal", "BOGUS", "web"], 1, "web: ERROR (bad signal name)\n"),
        (&["signal", "HUP", "nosuch"], 1, "nosuch: ERROR (no such process)\n"),
        (&["signal", "HUP", "nogroup:*"], 1, "nogroup: ERROR (no such group)\n"),
        (&["signal", "HUP", "idle"], 7, "idle: ERROR (not running)\n"),
        // pid
        (&["pid", "nosuch"], 1, "No such process nosuch\n"),
        (&["pid", "grp:*"], 1, "No such process grp:*\n"),
        (&["pid", "idle"], 7, "0\n"),
        // tail / maintail
        (&["tail", "nosuch"], 1, "nosuch: ERROR (no such process name)\n"),
        (&["tail", "web", "bogus"], 1, "Error: bad channel 'bogus'\n"),
        (&["tail", "-x", "web"], 1, "Error: bad argument -x\n"),
        (&["tail"], 1, &too_few),
        (&["tail", "-f", "web", "stdout", "x"], 1, &too_many),
        (&["maintail", "x"], 1, "Error: bad argument x\n"),
        // tail -f of a bad name: rsupervisorctl reports it and exits 1 (supervisorctl prints
        // the HTTP 404 on stderr and exits 0).
        (
            &["tail", "-f", "nosuch"],
            1,
            "==> Press Ctrl-C to exit <==\nnosuch: ERROR (no such process name)\n",
        ),
        // clear
        (&["clear", "nosuch"], 1, "nosuch: ERROR (no such process)\n"),
        // fg
        (&["fg", "idle"], 1, "ERROR: process not running\n"),
        (&["fg", "nosuch"], 1, "ERROR: bad process name supplied\n"),
        (&["fg", "web", "idle"], 1, "ERROR: too many process names supplied\n"),
        (
            &["fg"],
            1,
            "ERROR: no process name supplied\nfg <process>\tConnect to a process in \
             foreground mode\n\t\tCtrl-C to exit\n",
        ),
        // verbs without arguments
        (
            &["version", "x"],
            1,
            "Error: version accepts no arguments\nversion\t\t\tShow the version of the remote \
             supervisord process\n",
        ),
        (
            &["reread", "x"],
            1,
            "Error: reread accepts no arguments\nreread \t\t\tReload the daemon's configuration \
             files without add/remove\n",
        ),
        (
            &["reload", "x"],
            1,
            "Error: reload accepts no arguments\nreload \t\tRestart the remote supervisord.\n",
        ),
        (
            &["shutdown", "x"],
            1,
            "Error: shutdown accepts no arguments\nshutdown \tShut the remote supervisord down.\n",
        ),
        // groups
        (&["add", "nosuch"], 1, "ERROR: no such process/group: nosuch\n"),
        (&["add", "web"], 0, "ERROR: process group already active\n"),
        (&["remove", "nosuch"], 1, "ERROR: no such process/group: nosuch\n"),
        (&["remove", "web"], 1, "ERROR: process/group still running: web\n"),
        (&["update", "nosuch"], 1, "ERROR: no such group: nosuch\n"),
        // the shell's own errors
        (&["foo", "bar"], 1, "*** Unknown syntax: foo bar\n"),
        (&["help", "nope"], 0, "*** No help on nope\n"),
    ];
    check_cases(&dir, &cases);

    // The last assignment wins: a good name after a bad one keeps 4 unless it is stopped.
    let out = dir.ctl(&["status", "nosuch", "idle"]);
    out.assert_status(3);
    assert_eq!(
        out.stdout,
        format!(
            "nosuch: ERROR (no such process)\n{:<33}STOPPED   Not started\n",
            "idle"
        )
    );
    // Nothing above changed the running processes.
    assert_eq!(daemon.process("web")["statename"], "RUNNING");
}

#[test]
fn spawn_failures_exit_7() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);

    check_cases(
        &dir,
        &[
            (&["start", "quick"], 7, "quick: ERROR (spawn error)\n"),
            (&["start", "nocmd"], 1, "nocmd: ERROR (no such file)\n"),
        ],
    );
    wait_state(&daemon, "quick", "FATAL", DEADLINE);
    let out = dir.ctl(&["status", "quick"]);
    out.assert_status(3);
    assert_eq!(
        out.stdout,
        format!(
            "{:<33}FATAL     Exited too quickly (process log may have details)\n",
            "quick"
        )
    );
    // A spawn error among good starts: the good ones start, the status is 7.
    let out = dir.ctl(&["start", "idle", "quick"]);
    out.assert_status(7);
    assert_eq!(out.stdout, "idle: started\nquick: ERROR (spawn error)\n");
}

#[test]
fn unreachable_daemon_names_the_socket() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let url = format!("unix://{}", dir.socket_path().display());

    // No socket file: 7, and 4 for status.
    let missing = format!("{url} no such file\n");
    check_cases(
        &dir,
        &[
            (&["status"], 4, &missing),
            (&["status", "web"], 4, &missing),
            (&["start", "web"], 7, &missing),
            (&["stop", "all"], 7, &missing),
            (&["pid"], 7, &missing),
            (&["tail", "web"], 7, &missing),
            (&["version"], 7, &missing),
            (&["avail"], 7, &missing),
            (&["reread"], 7, &missing),
            (
                &["shutdown"],
                1,
                &format!("ERROR: {url} no such file (already shut down?)\n"),
            ),
        ],
    );

    // A socket file nobody listens on: refused, 4.
    let listener = UnixListener::bind(dir.socket_path()).expect("binding a stale socket");
    drop(listener);
    let refused = format!("{url} refused connection\n");
    check_cases(
        &dir,
        &[
            (&["status"], 4, &refused),
            (&["start", "web"], 4, &refused),
            (&["update"], 4, &refused),
            (
                &["shutdown"],
                1,
                &format!("ERROR: {url} refused connection (already shut down?)\n"),
            ),
        ],
    );
}

#[test]
fn second_shutdown_while_stopping() {
    let dir = TestDir::new();
    dir.config(
        "[program:stubborn]\n\
         command={fixture} --ignore-sigterm --print ready\n\
         startsecs=0\n\
         stopwaitsecs=60\n\
         stdout_logfile={dir}/stubborn.log\n",
    );
    let mut daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "stubborn", "RUNNING", DEADLINE));
    // `ready` comes after the fixture installed its SIGTERM handler.
    wait_until(DEADLINE, "stubborn to be ready", || {
        let log = dir.try_read("stubborn.log").unwrap_or_default();
        if log.contains("ready\n") {
            Ok(())
        } else {
            Err(log)
        }
    });

    let out = dir.ctl(&["shutdown"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "Shut down\n");
    wait_state(&daemon, "stubborn", "STOPPING", DEADLINE);
    // The daemon waits for stubborn (stopwaitsecs=60) and refuses what needs it running.
    check_cases(
        &dir,
        &[
            (&["shutdown"], 0, "ERROR: already shutting down\n"),
            (&["reload"], 1, "ERROR: already shutting down\n"),
            (&["reread"], 1, "ERROR: supervisor shutting down\n"),
            (&["update"], 1, "ERROR: already shutting down\n"),
            (&["add", "x"], 1, "ERROR: shutting down\n"),
        ],
    );
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("killing stubborn");
    let status = daemon.wait_exit(DEADLINE);
    assert!(status.success(), "rsupervisord exited with {status}");
    wait_until(DEADLINE, "stubborn to be gone", || {
        if pid_alive(pid) {
            Err("alive")
        } else {
            Ok(())
        }
    });
}
