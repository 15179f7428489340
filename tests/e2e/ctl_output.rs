//! `rsupervisorctl` against the real daemon: the text and exit status of every verb on the
//! success paths (issue 6), compared with supervisorctl 4.3.0's output (reference §4).
//! Error cases are in `ctl_errors.rs`, `tail -f` in `ctl_tail.rs`.

use std::time::Duration;

use rsupervisor_e2e::{info_pid, pid_alive, wait_state, wait_until, Ctl, Daemon, TestDir};
use serde_json::json;

/// Deadline for anything the daemon does on its own.
const DEADLINE: Duration = Duration::from_secs(10);

/// `web` and `grp:ga` start by themselves; `idle` and `grp:gb` wait to be started.
const PROGRAMS: &str = "\
[program:web]
command={fixture} --print web-says-hello --eprint web-complains --sleep
startsecs=0

[program:idle]
command={fixture} --sleep
startsecs=0
autostart=false

[group:grp]
programs=ga,gb
priority=50

[program:ga]
command={fixture} --sleep
startsecs=0
priority=2

[program:gb]
command={fixture} --sleep
startsecs=0
autostart=false
priority=1
";

/// Replaces the `H:MM:SS` after each `uptime ` with `U`, which is not deterministic; panics
/// if an uptime is not in Python's timedelta format.
pub(crate) fn without_uptime(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("uptime ") {
        let (before, after) = rest.split_at(at + "uptime ".len());
        out.push_str(before);
        out.push('U');
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(after.len());
        let uptime: Vec<&str> = after[..end].split(':').collect();
        assert!(
            uptime.len() == 3
                && !uptime[0].is_empty()
                && uptime[1].len() == 2
                && uptime[2].len() == 2,
            "uptime {:?} is not H:MM:SS in {text:?}",
            &after[..end]
        );
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// One status line for a running process, uptime normalised.
pub(crate) fn running_line(namespec: &str, pid: i32) -> String {
    format!("{namespec:<33}RUNNING   pid {pid}, uptime U")
}

/// One status line for a process never started.
pub(crate) fn not_started_line(namespec: &str) -> String {
    format!("{namespec:<33}STOPPED   Not started")
}

/// Starts a daemon with [`PROGRAMS`] and waits for the autostart processes.
fn start_daemon(dir: &TestDir) -> Daemon<'_> {
    dir.config(PROGRAMS);
    let daemon = Daemon::start(dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    wait_state(&daemon, "grp:ga", "RUNNING", DEADLINE);
    daemon
}

#[test]
fn status_table_filters_and_exit_codes() {
    let dir = TestDir::new();
    let daemon = start_daemon(&dir);
    let web = info_pid(&daemon.process("web"));
    let ga = info_pid(&daemon.process("grp:ga"));

    let all = [
        running_line("grp:ga", ga),
        not_started_line("grp:gb"),
        not_started_line("idle"),
        running_line("web", web),
    ]
    .map(|line| line + "\n")
    .concat();
    for args in [&["status"][..], &["status", "all"]] {
        let out = dir.ctl(args);
        out.assert_status(3);
        assert_eq!(without_uptime(&out.stdout), all, "{args:?}\n{out}");
        assert_eq!(out.stderr, "");
    }

    let out = dir.ctl(&["status", "web"]);
    out.assert_status(0);
    assert_eq!(without_uptime(&out.stdout), running_line("web", web) + "\n");

    let out = dir.ctl(&["status", "grp:*"]);
    out.assert_status(3);
    assert_eq!(
        without_uptime(&out.stdout),
        format!(
            "{}\n{}\n",
            running_line("grp:ga", ga),
            not_started_line("grp:gb")
        )
    );

    // Several names, in the order asked; one stopped process makes it 3.
    let out = dir.ctl(&["status", "web", "grp:ga"]);
    out.assert_status(0);
    assert_eq!(
        without_uptime(&out.stdout),
        format!(
            "{}\n{}\n",
            running_line("web", web),
            running_line("grp:ga", ga)
        )
    );
    let out = dir.ctl(&["status", "idle", "web"]);
    out.assert_status(3);
    assert_eq!(
        without_uptime(&out.stdout),
        format!(
            "{}\n{}\n",
            not_started_line("idle"),
            running_line("web", web)
        )
    );

    let out = dir.ctl(&["status", "--json", "web", "idle"]);
    out.assert_status(3);
    let json: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json is not JSON ({e})\n{out}"));
    let list = json.as_array().expect("status --json prints an array");
    assert_eq!(list.len(), 2, "{out}");
    assert_eq!(list[0]["namespec"], "web");
    assert_eq!(list[0]["statename"], "RUNNING");
    assert_eq!(list[0]["pid"], json!(web));
    assert_eq!(list[1]["namespec"], "idle");
    assert_eq!(list[1]["statename"], "STOPPED");
    assert_eq!(list[1]["description"], "Not started");
}

/// Whether `text` is a stop time as supervisord shows it: `strftime('%b %d %I:%M %p')`.
fn is_stop_time(text: &str) -> bool {
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split(' ').collect();
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 4
        && months.contains(&parts[0])
        && two_digits(parts[1])
        && parts[2].len() == 5
        && two_digits(&parts[2][..2])
        && &parts[2][2..3] == ":"
        && two_digits(&parts[2][3..])
        && (parts[3] == "AM" || parts[3] == "PM")
}

#[test]
fn status_descriptions_and_wide_names() {
    let dir = TestDir::new();
    dir.config(
        "[program:done]\n\
         command={fixture} --exit-code 0\n\
         startsecs=0\n\
         autorestart=false\n\
         [program:quick]\n\
         command={fixture} --exit-code 1\n\
         startsecs=1\n\
         startretries=0\n\
         [group:a_group_with_a_long_name]\n\
         programs=and_a_long_program\n\
         [program:and_a_long_program]\n\
         command={fixture} --sleep\n\
         startsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "done", "EXITED", DEADLINE);
    wait_state(&daemon, "quick", "FATAL", DEADLINE);
    let long = "a_group_with_a_long_name:and_a_long_program";
    let pid = info_pid(&wait_state(&daemon, long, "RUNNING", DEADLINE));

    let out = dir.ctl(&["status"]);
    out.assert_status(3);
    let lines: Vec<String> = without_uptime(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    // The name column is the longest namespec + 3 wide.
    let width = long.len() + 3;
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        lines[0],
        format!("{long:<width$}RUNNING   pid {pid}, uptime U")
    );
    let done = lines[1]
        .strip_prefix(&format!("{:<width$}EXITED    ", "done"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(is_stop_time(done), "stop time {done:?}\n{out}");
    assert_eq!(
        lines[2],
        format!(
            "{:<width$}FATAL     Exited too quickly (process log may have details)",
            "quick"
        )
    );

    // A stopped process shows when it stopped.
    dir.ctl(&["stop", long]).assert_status(0);
    let out = dir.ctl(&["status", long]);
    out.assert_status(3);
    let when = out
        .stdout
        .strip_prefix(&format!("{long}   STOPPED   "))
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(is_stop_time(when), "stop time {when:?}\n{out}");
}

#[test]
fn start_stop_restart_print_one_line_per_process() {
    let dir = TestDir::new();
    let daemon = start_daemon(&dir);
    let web = info_pid(&daemon.process("web"));

    let out = dir.ctl(&["start", "idle"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "idle: started\n");
    wait_state(&daemon, "idle", "RUNNING", DEADLINE);
    // Already started is ignored by the exit status.
    let out = dir.ctl(&["start", "idle", "web"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout,
        "idle: ERROR (already started)\nweb: ERROR (already started)\n"
    );

    let out = dir.ctl(&["stop", "idle"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "idle: stopped\n");
    assert_eq!(daemon.process("idle")["statename"], "STOPPED");
    let out = dir.ctl(&["stop", "idle"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "idle: ERROR (not running)\n");

    // A group start lists only the processes that were not running.
    let out = dir.ctl(&["start", "grp:*"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "grp:gb: started\n");
    let out = dir.ctl(&["start", "grp:*"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "");
    // A group stop lists the processes that were running.
    let out = dir.ctl(&["stop", "grp:*"]);
    out.assert_status(0);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["grp:ga: stopped", "grp:gb: stopped"], "{out}");

    // restart = stop, then start; the pid changes.
    let out = dir.ctl(&["restart", "web"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "web: stopped\nweb: started\n");
    let new_web = info_pid(&daemon.process("web"));
    assert_ne!(new_web, web);
    assert!(!pid_alive(web), "the old web {web} is still alive");

    // restart of a stopped process: the stop error, then the start.
    let out = dir.ctl(&["restart", "idle"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "idle: ERROR (not running)\nidle: started\n");

    // all: every process.
    let out = dir.ctl(&["stop", "all"]);
    out.assert_status(0);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["idle: stopped", "web: stopped"], "{out}");
    let out = dir.ctl(&["start", "all"]);
    out.assert_status(0);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "grp:ga: started",
            "grp:gb: started",
            "idle: started",
            "web: started"
        ],
        "{out}"
    );
    dir.ctl(&["status"]).assert_status(0);
}

#[test]
fn pid_signal_clear_version_and_help() {
    let dir = TestDir::new();
    dir.config(
        "[program:trap]\n\
         command={fixture} --print trap-up --ignore-sigterm\n\
         startsecs=0\n\
         stopsignal=INT\n\
         priority=1\n\
         [program:idle]\n\
         command={fixture} --sleep\n\
         autostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let trap = info_pid(&wait_state(&daemon, "trap", "RUNNING", DEADLINE));
    // The fixture prints trap-up only after its SIGTERM handler is in place.
    wait_tail(&dir, "trap", "trap-up", 1);

    let out = dir.ctl(&["pid"]);
    out.assert_status(0);
    assert_eq!(out.stdout, format!("{}\n", daemon.pid()));
    let out = dir.ctl(&["pid", "trap"]);
    out.assert_status(0);
    assert_eq!(out.stdout, format!("{trap}\n"));
    // `all`: one pid per process in status order, 0 when not running, status unchanged.
    let out = dir.ctl(&["pid", "all"]);
    out.assert_status(0);
    assert_eq!(out.stdout, format!("0\n{trap}\n"));

    let out = dir.ctl(&["signal", "TERM", "trap"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "trap: signalled\n");
    wait_tail(&dir, "trap", "ignored SIGTERM", 1);
    assert_eq!(info_pid(&daemon.process("trap")), trap);
    let out = dir.ctl(&["signal", "SIGTERM", "all"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "trap: signalled\n");
    // Its second complaint must be in the log before `clear`, or it could land after it.
    wait_tail(&dir, "trap", "ignored SIGTERM", 2);

    let out = dir.ctl(&["clear", "trap"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "trap: cleared\n");
    let out = dir.ctl(&["tail", "trap"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "\n", "the log is empty after clear");
    // `clear all` goes in priority order, as supervisord's clearAllProcessLogs (status and
    // `pid all` are in name order).
    let out = dir.ctl(&["clear", "all"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "trap: cleared\nidle: cleared\n");

    let out = dir.ctl(&["version"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "4.3.0\n");

    let out = dir.ctl(&["help"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout,
        "\ndefault commands (type help <topic>):\n\
         =====================================\n\
         add    clear  fg        open  reload  reset    scale     signal  stop  update \n\
         audit  env    graph     pid   remove  restart  schedule  start   tail  version\n\
         avail  exit   maintail  quit  reread  run      shutdown  status  top \n\n"
    );
    let out = dir.ctl(&["help", "start"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout,
        "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\n\
         start <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all \
         processes\n"
    );
    let out = dir.ctl(&["help", "help"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout,
        "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>\n"
    );
}

#[test]
fn tail_and_maintail_print_the_end_of_the_logs() {
    let dir = TestDir::new();
    let daemon = start_daemon(&dir);
    wait_until(DEADLINE, "web's output in its logs", || {
        let out = dir.ctl(&["tail", "web"]);
        let err = dir.ctl(&["tail", "web", "stderr"]);
        if out.stdout.contains("web-says-hello") && err.stdout.contains("web-complains") {
            Ok(())
        } else {
            Err(format!("{out}\n{err}"))
        }
    });
    // The data, then one more newline.
    let out = dir.ctl(&["tail", "web"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "web-says-hello\n\n");
    let out = dir.ctl(&["tail", "web", "stderr"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "web-complains\n\n");
    let out = dir.ctl(&["tail", "-6", "web"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "hello\n\n");
    let out = dir.ctl(&["tail", "-9", "web", "stdout"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "ys-hello\n\n");

    // maintail: the last bytes of the main log.
    let log = daemon.main_log();
    let out = dir.ctl(&["maintail"]);
    out.assert_status(0);
    assert!(out.stdout.ends_with("\n\n"), "{out}");
    let shown = out.stdout.strip_suffix('\n').expect("ends with a newline");
    assert!(shown.len() <= 1600, "{out}");
    assert!(
        dir.read("supervisord.log").contains(shown),
        "maintail output is not a piece of the main log\n{out}\n--- log ---\n{log}"
    );
    let out = dir.ctl(&["maintail", "-25"]);
    out.assert_status(0);
    assert_eq!(out.stdout.len(), 26, "{out}");
}

#[test]
fn avail_lists_every_configured_process() {
    let dir = TestDir::new();
    let _daemon = start_daemon(&dir);
    let out = dir.ctl(&["avail"]);
    out.assert_status(0);
    assert_eq!(
        out.stdout,
        "grp:ga                           in use    auto      50:2\n\
         grp:gb                           in use    manual    50:1\n\
         idle                             in use    manual    999:999\n\
         web                              in use    auto      999:999\n"
    );
}

/// Commands piped to the shell: as supervisorctl (Python's `cmd` module), the prompt is
/// written before every line read, and once more before the end of input, which prints an
/// empty line; `quit` ends the session there.
#[test]
fn piped_shell_commands_print_the_prompt_as_supervisorctl() {
    let dir = TestDir::new();
    let _daemon = start_daemon(&dir);
    let out = Ctl::new(&dir)
        .stdin("status idle\nfoo\n\nstop nosuch\n")
        .run();
    out.assert_status(0);
    let idle = not_started_line("idle");
    assert_eq!(
        without_uptime(&out.stdout)
            .lines()
            .skip(4)
            .collect::<Vec<_>>(),
        [
            format!("supervisor> {idle}"),
            "supervisor> *** Unknown syntax: foo".to_owned(),
            "supervisor> supervisor> nosuch: ERROR (no such process)".to_owned(),
            "supervisor> ".to_owned(),
        ],
        "{out}"
    );
    let out = Ctl::new(&dir).stdin("quit\nstatus idle\n").run();
    out.assert_status(0);
    assert!(out.stdout.ends_with("\nsupervisor> \n"), "{out}");
    assert_eq!(out.stdout.matches("supervisor> ").count(), 1, "{out}");
}

#[test]
fn shutdown_and_reload_answer_and_act() {
    let dir = TestDir::new();
    let mut daemon = start_daemon(&dir);
    let web = info_pid(&daemon.process("web"));

    let out = dir.ctl(&["reload"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "Restarted supervisord\n");
    let info = wait_until(DEADLINE, "web to run again after reload", || {
        match daemon.try_rpc("supervisor.getProcessInfo", json!(["web"])) {
            Ok(info) if info["statename"] == "RUNNING" && info_pid(&info) != web => Ok(info),
            other => Err(format!("{other:?}")),
        }
    });
    assert!(info_pid(&info) > 0);
    // Same daemon process.
    assert_eq!(dir.ctl(&["pid"]).stdout, format!("{}\n", daemon.pid()));

    let out = dir.ctl(&["shutdown"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "Shut down\n");
    let status = daemon.wait_exit(DEADLINE);
    assert!(status.success(), "rsupervisord exited with {status}");
    assert!(!pid_alive(info_pid(&info)));
}

/// The conf.d example (`conf.d/supervisord.conf` + `conf.d/sixbtc.conf`), run from a copy
/// whose `%(here)s/../run` is a directory of the test.
#[test]
fn sixbtc_group_starts_in_priority_order() {
    const ORDER: [&str; 11] = [
        "generator",
        "validator",
        "backtester",
        "rotator",
        "executor",
        "monitor",
        "scheduler",
        "metrics",
        "api",
        "frontend",
        "docs",
    ];
    let dir = TestDir::new();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf.d");
    for file in ["supervisord.conf", "sixbtc.conf"] {
        let text = std::fs::read_to_string(source.join(file))
            .unwrap_or_else(|e| panic!("reading conf.d/{file}: {e}"));
        dir.write(format!("conf.d/{file}"), text);
    }
    std::fs::create_dir_all(dir.path("run")).expect("creating run/");
    let config = dir.path("conf.d/supervisord.conf");
    let socket = dir.path("conf.d/../run/rsupervisor.sock");
    let daemon = Daemon::command(&dir)
        .config(&config)
        .socket(&socket)
        .start();
    let ctl = |args: &[&str]| Ctl::new(&dir).config(&config).args(args).run();
    for name in ORDER {
        wait_state(&daemon, &format!("sixbtc:{name}"), "RUNNING", DEADLINE);
    }

    let mut names: Vec<String> = ORDER.iter().map(|n| format!("sixbtc:{n}")).collect();
    names.sort();
    let out = ctl(&["status"]);
    out.assert_status(0);
    let listed: Vec<&str> = out
        .stdout
        .lines()
        .map(|line| line.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(listed, names, "{out}");
    assert!(
        out.stdout
            .lines()
            .all(|line| line.contains(" RUNNING   pid ")),
        "{out}"
    );

    let out = ctl(&["stop", "sixbtc:*"]);
    out.assert_status(0);
    let mut stopped: Vec<&str> = out.stdout.lines().collect();
    stopped.sort_unstable();
    let expected: Vec<String> = names.iter().map(|n| format!("{n}: stopped")).collect();
    assert_eq!(stopped, expected, "{out}");
    ctl(&["status", "sixbtc:*"]).assert_status(3);

    let log_before = dir.read("run/rsupervisord.log").len();
    let out = ctl(&["start", "sixbtc:*"]);
    out.assert_status(0);
    let mut started: Vec<&str> = out.stdout.lines().collect();
    started.sort_unstable();
    let expected: Vec<String> = names.iter().map(|n| format!("{n}: started")).collect();
    assert_eq!(started, expected, "{out}");
    ctl(&["status", "sixbtc:*"]).assert_status(0);

    let log = dir.read("run/rsupervisord.log");
    let spawned: Vec<&str> = log[log_before..]
        .lines()
        .filter_map(|line| line.split_once(" INFO spawned: '"))
        .filter_map(|(_, rest)| rest.split_once('\'').map(|(name, _)| name))
        .collect();
    assert_eq!(spawned, ORDER, "spawn order in the main log:\n{log}");
}

/// Waits until `tail name` shows `needle` at least `times` times.
#[track_caller]
fn wait_tail(dir: &TestDir, name: &str, needle: &str, times: usize) {
    wait_until(
        DEADLINE,
        &format!("{name}'s log to show {needle:?} {times}x"),
        || {
            let log = dir.ctl(&["tail", name]).stdout;
            if log.matches(needle).count() >= times {
                Ok(())
            } else {
                Err(log)
            }
        },
    );
}
