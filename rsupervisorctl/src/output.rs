//! Pure formatting of everything rsupervisorctl prints: status and avail tables, per-process
//! result lines, `reread` changes, help texts and the help index. No I/O, so every format is
//! pinned by a unit test against supervisorctl 4.3.0's output.

use rsupervisor_api::{namespec, ConfigInfo, Fault, ProcessInfo, ReloadResult};

/// supervisorctl's `status` table: `%-{max(30,longest)+3}s%-10s%s` per process, then what
/// `extra` appends to that process's line (`status -l`'s columns) and a newline. Written
/// into one string: 10,000 programs are one allocation, not three per line.
pub fn status_table(
    infos: &[ProcessInfo],
    mut extra: impl FnMut(&ProcessInfo, &mut String),
) -> String {
    let namespec_chars = |info: &ProcessInfo| {
        let group = info.namespec_group();
        group.map_or(0, |group| group.chars().count() + 1) + info.name.chars().count()
    };
    let width = infos.iter().map(namespec_chars).max().unwrap_or(0).max(30) + 3;
    let mut table = String::with_capacity(infos.len() * (width + 40));
    for info in infos {
        if let Some(group) = info.namespec_group() {
            table.push_str(group);
            table.push(':');
        }
        table.push_str(&info.name);
        pad(&mut table, namespec_chars(info), width);
        table.push_str(&info.statename);
        pad(&mut table, info.statename.chars().count(), 10);
        table.push_str(&info.description);
        extra(info, &mut table);
        table.push('\n');
    }
    table
}

/// Spaces after a field of `chars` characters, up to `width` (Python's `%-Ns`).
fn pad(line: &mut String, chars: usize, width: usize) {
    line.extend(std::iter::repeat_n(' ', width.saturating_sub(chars)));
}

/// One `avail` line: `%(name)-32s %(inuse)-9s %(autostart)-9s %(group_prio)s:%(process_prio)s`.
pub fn avail_line(info: &ConfigInfo) -> String {
    let name = namespec(&info.group, &info.name);
    let inuse = if info.inuse { "in use" } else { "avail" };
    let autostart = if info.autostart { "auto" } else { "manual" };
    format!(
        "{name:<32} {inuse:<9} {autostart:<9} {}:{}",
        info.group_prio, info.process_prio
    )
}

/// The columns `status -l` adds after a process's line: `   CPU 12.34s  MEM 45.3 MB`
/// (`-` where the daemon has no reading: not running, or no cgroup).
pub fn metrics_columns(metrics: Option<&rsupervisor_api::ProcessMetrics>) -> String {
    let cpu = metrics
        .and_then(|m| m.cpu_seconds)
        .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}s"));
    let memory = metrics.and_then(|m| m.memory_current).map_or_else(
        || "-".to_owned(),
        rsupervisor_config::resources::format_bytes,
    );
    format!("   CPU {cpu:<10} MEM {memory}")
}

/// The `top` screen: a header and one line per process, `CPU%` from the CPU seconds of the
/// previous reading (`previous`: (group, name) -> (cpu seconds, sampled at)).
pub fn top_lines(
    infos: &[ProcessInfo],
    metrics: &[rsupervisor_api::ProcessMetrics],
    previous: &std::collections::HashMap<(String, String), (f64, f64)>,
) -> Vec<String> {
    let width = infos
        .iter()
        .map(|i| i.namespec().chars().count())
        .max()
        .unwrap_or(0)
        .max(20)
        + 2;
    let mut lines = vec![format!(
        "{:<width$}{:<10}{:>8} {:>7} {:>11} {:>11} {:>5}",
        "NAME", "STATE", "PID", "CPU%", "MEM", "PEAK", "PIDS"
    )];
    for info in infos {
        let m = metrics
            .iter()
            .find(|m| m.group == info.group && m.name == info.name);
        let key = (info.group.clone(), info.name.clone());
        let percent = m
            .and_then(|m| Some((m.cpu_seconds?, m.sampled_at)))
            .zip(previous.get(&key))
            .and_then(|((cpu, at), (cpu0, at0))| {
                let elapsed = at - at0;
                (elapsed > 0.0 && cpu >= *cpu0)
                    .then(|| format!("{:.1}", (cpu - cpu0) / elapsed * 100.0))
            })
            .unwrap_or_else(|| "-".to_owned());
        let bytes = |v: Option<u64>| {
            v.map_or_else(
                || "-".to_owned(),
                rsupervisor_config::resources::format_bytes,
            )
        };
        let pid = if info.pid > 0 {
            info.pid.to_string()
        } else {
            "-".to_owned()
        };
        lines.push(format!(
            "{:<width$}{:<10}{:>8} {:>7} {:>11} {:>11} {:>5}",
            info.namespec(),
            info.statename,
            pid,
            percent,
            bytes(m.and_then(|m| m.memory_current)),
            bytes(m.and_then(|m| m.memory_peak)),
            m.and_then(|m| m.pids)
                .map_or_else(|| "-".to_owned(), |p| p.to_string()),
        ));
    }
    lines
}

/// `name: ERROR (reason)`.
pub fn error_line(name: &str, reason: &str) -> String {
    format!("{name}: ERROR ({reason})")
}

/// A `start` result (supervisorctl's `_startresult`); `description` is used for codes
/// supervisorctl does not know.
pub fn start_result(name: &str, code: i32, description: &str) -> String {
    match Fault::from_code(code) {
        Some(Fault::Success) => format!("{name}: started"),
        Some(Fault::BadName) => error_line(name, "no such process"),
        Some(Fault::NoFile) => error_line(name, "no such file"),
        Some(Fault::NotExecutable) => error_line(name, "file is not executable"),
        Some(Fault::AlreadyStarted) => error_line(name, "already started"),
        Some(Fault::SpawnError) => error_line(name, "spawn error"),
        Some(Fault::AbnormalTermination) => error_line(name, "abnormal termination"),
        _ => error_line(name, description),
    }
}

/// A `signal` result (`signalled`) or, with `success = "stopped"`, a `stop` result.
/// A FAILED fault prints its raw fault string, as supervisorctl does.
pub fn signal_result(name: &str, code: i32, description: &str, success: &str) -> String {
    match Fault::from_code(code) {
        Some(Fault::Success) => format!("{name}: {success}"),
        Some(Fault::BadName) => error_line(name, "no such process"),
        Some(Fault::BadSignal) => error_line(name, "bad signal name"),
        Some(Fault::NotRunning) => error_line(name, "not running"),
        Some(Fault::Failed) => description.to_owned(),
        _ => error_line(name, description),
    }
}

/// A `clear` result.
pub fn clear_result(name: &str, code: i32, description: &str) -> String {
    match Fault::from_code(code) {
        Some(Fault::Success) => format!("{name}: cleared"),
        Some(Fault::BadName) => error_line(name, "no such process"),
        Some(Fault::Failed) => error_line(name, "failed"),
        _ => error_line(name, description),
    }
}

/// `reset`'s result line: `name: reset`, or the error as `clear` words it.
pub fn reset_result(name: &str, code: i32, description: &str) -> String {
    match Fault::from_code(code) {
        Some(Fault::Success) => format!("{name}: reset"),
        _ => clear_result(name, code, description),
    }
}

/// `reread`'s report: `name: available|changed|disappeared`, sorted by name, or
/// `No config updates to processes`.
pub fn reread_lines(result: &ReloadResult) -> Vec<String> {
    let mut changes: Vec<(&str, &str)> = Vec::new();
    for (names, what) in [
        (&result.added, "available"),
        (&result.changed, "changed"),
        (&result.removed, "disappeared"),
    ] {
        for name in names {
            changes.retain(|(existing, _)| *existing != name.as_str());
            changes.push((name, what));
        }
    }
    if changes.is_empty() {
        return vec!["No config updates to processes".to_owned()];
    }
    changes.sort();
    changes
        .into_iter()
        .map(|(name, what)| format!("{name}: {what}"))
        .collect()
}

/// Our `update` line for a setting that only a daemon restart applies.
pub fn needs_restart_line(entry: &str) -> String {
    format!("{entry}: changed (restart rsupervisord to apply)")
}

/// Every verb listed by `help`, in supervisorctl's order (sorted).
pub const HELP_TOPICS: [&str; 29] = [
    "add", "audit", "avail", "clear", "env", "exit", "fg", "graph", "maintail", "open", "pid",
    "quit", "reload", "remove", "reread", "reset", "restart", "run", "scale", "schedule",
    "shutdown", "signal", "start", "status", "stop", "tail", "top", "update", "version",
];

/// The help text of one verb, verbatim from supervisorctl 4.3.0 (tab-separated).
pub fn help_text(topic: &str) -> Option<&'static str> {
    Some(match topic {
        "help" => {
            "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>"
        }
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "avail" => "avail\t\t\tDisplay all configured processes",
        // rsupervisor's own verb, worded in supervisorctl's style.
        "audit" => {
            "audit\t\t\tLast 20 records of the audit log of control actions\n\
             audit -n <N>\t\tLast N records\n\
             audit -f\t\tFollow the audit log (Ctrl-C to exit)\n\
             audit --json\t\tThe records as JSON lines"
        }
        "clear" => {
            "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple \
             process' log files\nclear all\t\tClear all process' log files"
        }
        "exit" => "exit\tExit the supervisor shell.",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        // rsupervisor's own verb, worded in supervisorctl's style.
        "env" => {
            "env <name>\t\tShow a process' environment, each variable with where it comes \
             from\n\t\t\t(values of names that look like secrets are masked)"
        }
        // rsupervisor's own verbs, worded in supervisorctl's style.
        "run" => {
            "run <name>\t\tStart one run of a scheduled job now; its schedule stays as it \
             is\n\t\t\t(refused while the job runs: a job never runs twice at once)"
        }
        "graph" => {
            "graph\t\t\tThe dependency graph: each program, its state and what it\n\
             \t\t\tdepends on (depends_on)\n\
             graph --dot\t\tThe same for Graphviz (dot -Tsvg)\n\
             graph --json\t\tThe same as JSON"
        }
        "schedule" => {
            "schedule\t\tList every scheduled job with its next runs\n\
             schedule <name>\tThe schedule and next runs of one job"
        }
        "maintail" => {
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n\
             maintail -100\tlast 100 *bytes* of supervisord main log file\n\
             maintail\tlast 1600 *bytes* of supervisor main log file\n"
        }
        "open" => {
            "open <url>\tConnect to a remote supervisord process.\n\
             \t\t(for UNIX domain socket, use unix:///socket/path)"
        }
        "pid" => {
            "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child \
             process by name.\npid all\t\t\tGet the PID of every child process, one per line."
        }
        "quit" => "quit\tExit the supervisor shell.",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        // rsupervisor's own verb, worded in supervisorctl's style.
        "top" => {
            "top\t\t\tCPU, memory and pids of every process, refreshed every second\n\
             top <name> <name>\tThe same for some processes or groups (<gname>:*)\n\
             \t\t\tCtrl-C to exit"
        }
        // rsupervisor's own verb, worded in supervisorctl's style.
        "scale" => {
            "scale <name> <n>\tRun n instances of the numprocs program <name> (its\n\
             \t\t\t[program:x] name): stops the highest process numbers first,\n\
             \t\t\tstarts new ones, keeps the others running. 'update' restores\n\
             \t\t\tthe count in the file."
        }
        "reset" => {
            "reset <name>\t\tClear a process' restart counters (FATAL becomes STOPPED)\n\
             reset <gname>:*\tClear the counters of every process in a group\n\
             reset <name> <name>\tClear the counters of multiple processes or groups\n\
             reset all\t\tClear the counters of all processes"
        }
        "restart" => {
            "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a \
             group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\t\
             Restart all processes\nNote: restart does not reread config files. For that, see \
             reread and update."
        }
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "signal" => {
            "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\t\
             Signal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple \
             processes or groups\nsignal <signal name> all\t\tSignal all processes"
        }
        "start" => {
            "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\n\
             start <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all \
             processes"
        }
        "status" => {
            "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for \
             all processes in a group\nstatus <name> <name>\tGet status for multiple named \
             processes\nstatus\t\t\tGet all process status info"
        }
        "stop" => {
            "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\n\
             stop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes"
        }
        "tail" => {
            "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous \
             tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 \
             *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"
        }
        "update" => {
            "update\t\t\tReload config and add/remove as necessary, and will restart affected \
             programs\nupdate all\t\tReload config and add/remove as necessary, and will restart \
             affected programs\nupdate <gname> [...]\tUpdate specific groups"
        }
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        _ => return None,
    })
}

/// `*** No help on <topic>`.
pub fn no_help(topic: &str) -> String {
    format!("*** No help on {topic}")
}

/// `*** Unknown syntax: <line>`.
pub fn unknown_syntax(line: &str) -> String {
    format!("*** Unknown syntax: {line}")
}

/// The output of `help` with no topic: a blank line, the header, its ruler, the verbs in
/// columns (Python `cmd.Cmd.columnize`, 79 columns wide) and a blank line.
pub fn help_index() -> String {
    let header = "default commands (type help <topic>):";
    let mut out = format!("\n{header}\n{}\n", "=".repeat(header.len()));
    out.push_str(&columnize(&HELP_TOPICS, 79));
    out.push('\n');
    out
}

/// Python's `cmd.Cmd.columnize`: as few rows as fit in `width`, columns separated by two
/// spaces, every cell but the last of a row padded to its column's width.
pub fn columnize(items: &[&str], width: usize) -> String {
    let size = items.len();
    if size == 0 {
        return "<empty>\n".to_owned();
    }
    if size == 1 {
        return format!("{}\n", items[0]);
    }
    let mut layout = (size, 1, vec![0]);
    for rows in 1..size {
        let cols = size.div_ceil(rows);
        let mut widths = Vec::new();
        let mut total: isize = -2;
        for col in 0..cols {
            let colwidth = (0..rows)
                .map(|row| row + rows * col)
                .take_while(|&i| i < size)
                .map(|i| items[i].len())
                .max()
                .unwrap_or(0);
            widths.push(colwidth);
            total += colwidth as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = (rows, cols, widths);
            break;
        }
    }
    let (rows, cols, widths) = layout;
    let mut out = String::new();
    for row in 0..rows {
        let mut texts: Vec<&str> = (0..cols)
            .map(|col| items.get(row + rows * col).copied().unwrap_or(""))
            .collect();
        while texts.last().is_some_and(|text| text.is_empty()) {
            texts.pop();
        }
        let cells: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(col, text)| format!("{text:<w$}", w = widths.get(col).copied().unwrap_or(0)))
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

/// `status --json`: the process info structs, each with its `namespec` added.
pub fn status_json(infos: &[ProcessInfo]) -> serde_json::Value {
    serde_json::Value::Array(
        infos
            .iter()
            .map(|info| {
                let mut value = serde_json::to_value(info).unwrap_or(serde_json::Value::Null);
                if let Some(object) = value.as_object_mut() {
                    object.insert("namespec".into(), info.namespec().into());
                }
                value
            })
            .collect(),
    )
}

/// Pretty-printed JSON, as printed by `--json`.
pub fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's lines, without their newlines.
    fn status_lines(infos: &[ProcessInfo]) -> Vec<String> {
        status_table(infos, |_, _| ())
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn info(group: &str, name: &str, state: &str, description: &str) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: group.into(),
            description: description.into(),
            start: 0,
            stop: 0,
            now: 0,
            state: 20,
            statename: state.into(),
            spawnerr: String::new(),
            exitstatus: 0,
            logfile: String::new(),
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            pid: 0,
            restarts: 0,
            restart_delay_ms: 0,
            next_restart: 0,
            health: String::new(),
            health_failures: 0,
            health_error: String::new(),
            waiting_for: String::new(),
            schedule: None,
        }
    }

    #[test]
    fn status_table_matches_observed_output() {
        let infos = [
            info("exit0", "exit0", "EXITED", "Nov 22 11:30 PM"),
            info("good", "good", "RUNNING", "pid 6100, uptime 0:00:27"),
            info("grp", "gb", "STOPPED", "Not started"),
            info("multi", "multi_00", "RUNNING", "pid 6101, uptime 0:00:27"),
            info(
                "quick",
                "quick",
                "FATAL",
                "Exited too quickly (process log may have details)",
            ),
            info("slowstart", "slowstart", "STARTING", ""),
        ];
        let expected = [
            "exit0                            EXITED    Nov 22 11:30 PM",
            "good                             RUNNING   pid 6100, uptime 0:00:27",
            "grp:gb                           STOPPED   Not started",
            "multi:multi_00                   RUNNING   pid 6101, uptime 0:00:27",
            "quick                            FATAL     Exited too quickly (process log may have details)",
            "slowstart                        STARTING  ",
        ];
        assert_eq!(status_lines(&infos), expected);
        let with_extra = status_table(&infos[..1], |info, line| {
            line.push_str(&format!(" [{}]", info.name))
        });
        assert_eq!(with_extra, format!("{} [exit0]\n", expected[0]));
    }

    #[test]
    fn status_table_widens_for_long_names() {
        let long = "a".repeat(40);
        let infos = [
            info(&long, &long, "RUNNING", "pid 1, uptime 0:00:01"),
            info("b", "b", "STOPPED", ""),
        ];
        let lines = status_lines(&infos);
        assert_eq!(
            lines[0],
            format!("{long}   RUNNING   pid 1, uptime 0:00:01")
        );
        assert_eq!(lines[1], format!("b{}STOPPED   ", " ".repeat(42)));
        assert!(status_lines(&[]).is_empty());
    }

    #[test]
    fn status_width_counts_characters_not_bytes() {
        let lines = status_lines(&[info("é", "é", "RUNNING", "")]);
        assert_eq!(lines[0], format!("é{}RUNNING   ", " ".repeat(32)));
    }

    #[test]
    fn avail_line_matches_observed_output() {
        let config = ConfigInfo {
            name: "gb".into(),
            group: "grp".into(),
            inuse: true,
            autostart: false,
            group_prio: 500,
            process_prio: 999,
            command: "x".into(),
            directory: "none".into(),
            uid: "none".into(),
            exitcodes: vec![0],
            killasgroup: false,
            redirect_stderr: false,
            startretries: 3,
            startsecs: 1,
            stopsignal: 15,
            stopwaitsecs: 10,
            stdout_logfile: "auto".into(),
            stdout_logfile_maxbytes: 0,
            stdout_logfile_backups: 0,
            stderr_logfile: "auto".into(),
            stderr_logfile_maxbytes: 0,
            stderr_logfile_backups: 0,
            stdout_capture_maxbytes: 0,
            stdout_events_enabled: false,
            stdout_syslog: false,
            stderr_capture_maxbytes: 0,
            stderr_events_enabled: false,
            stderr_syslog: false,
            serverurl: "auto".into(),
        };
        assert_eq!(
            avail_line(&config),
            "grp:gb                           in use    manual    500:999"
        );
        let other = ConfigInfo {
            name: "web".into(),
            group: "web".into(),
            inuse: false,
            autostart: true,
            ..config
        };
        assert_eq!(
            avail_line(&other),
            "web                              avail     auto      500:999"
        );
    }

    #[test]
    fn start_results() {
        assert_eq!(start_result("good", 80, "OK"), "good: started");
        assert_eq!(
            start_result("good", 60, ""),
            "good: ERROR (already started)"
        );
        assert_eq!(
            start_result("nosuch", 10, ""),
            "nosuch: ERROR (no such process)"
        );
        assert_eq!(start_result("x", 20, ""), "x: ERROR (no such file)");
        assert_eq!(
            start_result("x", 21, ""),
            "x: ERROR (file is not executable)"
        );
        assert_eq!(start_result("quick", 50, ""), "quick: ERROR (spawn error)");
        assert_eq!(start_result("x", 40, ""), "x: ERROR (abnormal termination)");
        assert_eq!(
            start_result("x", 6, "SHUTDOWN_STATE"),
            "x: ERROR (SHUTDOWN_STATE)"
        );
    }

    #[test]
    fn stop_and_signal_results() {
        assert_eq!(signal_result("good", 80, "OK", "stopped"), "good: stopped");
        assert_eq!(
            signal_result("good", 80, "OK", "signalled"),
            "good: signalled"
        );
        assert_eq!(
            signal_result("g", 70, "", "stopped"),
            "g: ERROR (not running)"
        );
        assert_eq!(
            signal_result("g", 11, "", "signalled"),
            "g: ERROR (bad signal name)"
        );
        assert_eq!(
            signal_result("n", 10, "", "stopped"),
            "n: ERROR (no such process)"
        );
        assert_eq!(
            signal_result("n", 30, "FAILED: kill failed", "stopped"),
            "FAILED: kill failed"
        );
    }

    #[test]
    fn clear_results() {
        assert_eq!(clear_result("quick", 80, "OK"), "quick: cleared");
        assert_eq!(clear_result("n", 10, ""), "n: ERROR (no such process)");
        assert_eq!(clear_result("n", 30, ""), "n: ERROR (failed)");
    }

    #[test]
    fn reread_lists_sorted_changes() {
        let result = ReloadResult {
            added: vec!["zeta".into(), "alpha".into()],
            changed: vec!["mid".into()],
            removed: vec!["gone".into()],
            ..ReloadResult::default()
        };
        assert_eq!(
            reread_lines(&result),
            [
                "alpha: available",
                "gone: disappeared",
                "mid: changed",
                "zeta: available"
            ]
        );
        assert_eq!(
            reread_lines(&ReloadResult::default()),
            ["No config updates to processes"]
        );
    }

    #[test]
    fn needs_restart_wording() {
        assert_eq!(
            needs_restart_line("unix_http_server:file"),
            "unix_http_server:file: changed (restart rsupervisord to apply)"
        );
    }

    #[test]
    fn help_index_matches_supervisorctl() {
        // supervisorctl's layout (Python's cmd.columnize), with our own verbs among the
        // topics (`audit`, `env`, `graph`, `reset`, `run`, `scale`, `schedule`, `top`).
        let expected = "\n\
default commands (type help <topic>):\n\
=====================================\n\
add    clear  fg        open  reload  reset    scale     signal  stop  update \n\
audit  env    graph     pid   remove  restart  schedule  start   tail  version\n\
avail  exit   maintail  quit  reread  run      shutdown  status  top \n\
\n";
        assert_eq!(help_index(), expected);
    }

    #[test]
    fn columnize_edge_cases() {
        assert_eq!(columnize(&[], 79), "<empty>\n");
        assert_eq!(columnize(&["one"], 79), "one\n");
        assert_eq!(columnize(&["aaaa", "bbbb", "cc"], 10), "aaaa  cc\nbbbb\n");
    }

    #[test]
    fn help_texts_are_verbatim() {
        assert_eq!(
            help_text("start"),
            Some(
                "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\n\
                 start <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes"
            )
        );
        assert_eq!(
            help_text("tail"),
            Some(
                "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"
            )
        );
        assert_eq!(
            help_text("reread"),
            Some("reread \t\t\tReload the daemon's configuration files without add/remove")
        );
        assert!(help_text("update")
            .is_some_and(|t| t.starts_with("update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n")));
        assert!(help_text("restart").is_some_and(|t| t.ends_with(
            "restart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update."
        )));
        assert_eq!(
            help_text("help"),
            Some(
                "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>"
            )
        );
        for topic in HELP_TOPICS {
            assert!(help_text(topic).is_some(), "{topic} has help");
        }
        assert_eq!(help_text("EOF"), None);
        assert_eq!(no_help("bogus"), "*** No help on bogus");
        assert_eq!(unknown_syntax("foo bar"), "*** Unknown syntax: foo bar");
    }

    #[test]
    fn status_json_adds_namespec() {
        let value = status_json(&[info("grp", "a", "RUNNING", "")]);
        assert_eq!(value[0]["namespec"], "grp:a");
        assert_eq!(value[0]["statename"], "RUNNING");
    }

    #[test]
    fn metrics_columns_show_cpu_and_memory_or_dashes() {
        let metrics = rsupervisor_api::ProcessMetrics {
            name: "web".into(),
            group: "web".into(),
            pid: 10,
            cpu_seconds: Some(12.345),
            memory_current: Some(45 << 20),
            memory_peak: Some(50 << 20),
            pids: Some(3),
            restarts: 0,
            sampled_at: 0.0,
        };
        assert_eq!(
            metrics_columns(Some(&metrics)),
            "   CPU 12.35s     MEM 45 MB"
        );
        assert_eq!(metrics_columns(None), "   CPU -          MEM -");
    }

    #[test]
    fn top_percent_comes_from_two_readings() {
        let process = |name: &str, pid: i32| ProcessInfo {
            pid,
            ..info("g", name, if pid > 0 { "RUNNING" } else { "STOPPED" }, "")
        };
        let reading = |cpu: f64, at: f64| rsupervisor_api::ProcessMetrics {
            name: "a".into(),
            group: "g".into(),
            pid: 7,
            cpu_seconds: Some(cpu),
            memory_current: Some(3 << 20),
            memory_peak: Some(4 << 20),
            pids: Some(2),
            restarts: 0,
            sampled_at: at,
        };
        let infos = [process("a", 7), process("b", 0)];
        let mut previous = std::collections::HashMap::new();
        let first = top_lines(&infos, &[reading(10.0, 100.0)], &previous);
        assert!(
            first[0].starts_with("NAME") && first[0].contains("CPU%"),
            "{first:?}"
        );
        assert_eq!(
            first[1].split_whitespace().collect::<Vec<_>>()[..4],
            ["g:a", "RUNNING", "7", "-"]
        );
        previous.insert(("g".to_owned(), "a".to_owned()), (10.0, 100.0));
        let second = top_lines(&infos, &[reading(10.5, 101.0)], &previous);
        let words: Vec<_> = second[1].split_whitespace().collect();
        assert_eq!(
            words,
            ["g:a", "RUNNING", "7", "50.0", "3", "MB", "4", "MB", "2"]
        );
        let stopped: Vec<_> = second[2].split_whitespace().collect();
        assert_eq!(stopped, ["g:b", "STOPPED", "-", "-", "-", "-", "-"]);
    }
}
