//! The verb grammar: turns one command line (`tail -f web stderr`, `signal HUP all`) into an
//! [`Action`], or into the usage error supervisorctl prints for it. Pure, so every verb's
//! argument rules are tested here without a daemon.

use rsupervisor_api::Channel;

use crate::exit;

/// Every verb rsupervisorctl understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `add <group>...`
    Add,
    /// `audit [-n N] [-f]` (rsupervisor addition)
    Audit,
    /// `avail`
    Avail,
    /// `clear <name>...|all`
    Clear,
    /// `env <name>` (rsupervisor addition)
    Env,
    /// `exit`
    Exit,
    /// `fg <name>`
    Fg,
    /// `graph [--json | --dot]` (rsupervisor addition)
    Graph,
    /// `help [topic]`
    Help,
    /// `maintail [-f|-N]`
    Maintail,
    /// `open <url>`
    Open,
    /// `pid [name...|all]`
    Pid,
    /// `quit`
    Quit,
    /// `reload`
    Reload,
    /// `remove <group>...`
    Remove,
    /// `reread`
    Reread,
    /// `reset <name>...|all` (rsupervisor addition)
    Reset,
    /// `restart <name>...|all`
    Restart,
    /// `scale <name> <count>` (rsupervisor addition)
    Scale,
    /// `run <name>...` (rsupervisor addition)
    Run,
    /// `schedule [name...]` (rsupervisor addition)
    Schedule,
    /// `top [name...]` (rsupervisor's)
    Top,
    /// `shutdown`
    Shutdown,
    /// `signal <sig> <name>...|all`
    Signal,
    /// `start <name>...|all`
    Start,
    /// `status [name...]`
    Status,
    /// `stop <name>...|all`
    Stop,
    /// `tail [-f|-N] <name> [stdout|stderr]`
    Tail,
    /// `update [all|group...]`
    Update,
    /// `version`
    Version,
    /// `EOF` (what the shell runs on Ctrl-D).
    Eof,
}

impl Verb {
    /// Every verb a user types, sorted.
    pub const ALL: [Verb; 30] = [
        Verb::Add,
        Verb::Audit,
        Verb::Avail,
        Verb::Clear,
        Verb::Env,
        Verb::Exit,
        Verb::Fg,
        Verb::Graph,
        Verb::Help,
        Verb::Maintail,
        Verb::Open,
        Verb::Pid,
        Verb::Quit,
        Verb::Reload,
        Verb::Remove,
        Verb::Reread,
        Verb::Reset,
        Verb::Restart,
        Verb::Scale,
        Verb::Run,
        Verb::Schedule,
        Verb::Shutdown,
        Verb::Signal,
        Verb::Start,
        Verb::Status,
        Verb::Stop,
        Verb::Tail,
        Verb::Top,
        Verb::Update,
        Verb::Version,
    ];

    /// The word typed for this verb.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Add => "add",
            Verb::Audit => "audit",
            Verb::Avail => "avail",
            Verb::Clear => "clear",
            Verb::Env => "env",
            Verb::Exit => "exit",
            Verb::Fg => "fg",
            Verb::Graph => "graph",
            Verb::Help => "help",
            Verb::Maintail => "maintail",
            Verb::Open => "open",
            Verb::Pid => "pid",
            Verb::Quit => "quit",
            Verb::Reload => "reload",
            Verb::Remove => "remove",
            Verb::Reread => "reread",
            Verb::Reset => "reset",
            Verb::Restart => "restart",
            Verb::Scale => "scale",
            Verb::Run => "run",
            Verb::Schedule => "schedule",
            Verb::Top => "top",
            Verb::Shutdown => "shutdown",
            Verb::Signal => "signal",
            Verb::Start => "start",
            Verb::Status => "status",
            Verb::Stop => "stop",
            Verb::Tail => "tail",
            Verb::Update => "update",
            Verb::Version => "version",
            Verb::Eof => "EOF",
        }
    }

    /// The verb for a word, case-sensitively (as Python's `cmd`).
    pub fn from_name(word: &str) -> Option<Verb> {
        if word == "EOF" {
            return Some(Verb::Eof);
        }
        Verb::ALL.into_iter().find(|verb| verb.name() == word)
    }

    /// One-line description, for `--help`, the man page and shell completions.
    pub fn summary(self) -> &'static str {
        match self {
            Verb::Add => "Activate groups added to the configuration (after reread)",
            Verb::Audit => "Show the audit log of control actions, or follow it with -f",
            Verb::Avail => "Display all configured processes",
            Verb::Clear => "Clear process log files",
            Verb::Exit | Verb::Quit => "Exit the interactive shell",
            Verb::Env => "Show a process's environment and where each variable comes from",
            Verb::Fg => "Connect to a process in foreground mode (Ctrl-C to exit)",
            Verb::Graph => "Show the dependency graph with each process's state",
            Verb::Help => "Print the list of actions, or help for one action",
            Verb::Maintail => "Show the end of the daemon's main log, or follow it with -f",
            Verb::Open => "Connect to another daemon (unix:///socket/path)",
            Verb::Pid => "Print the pid of the daemon or of processes",
            Verb::Reload => "Restart the daemon (stops every process, rereads the configuration)",
            Verb::Remove => "Remove stopped groups from the active configuration",
            Verb::Reread => "Reread the configuration and report what changed, without applying",
            Verb::Reset => "Clear restart counters; FATAL processes become STOPPED",
            Verb::Restart => "Restart processes (does not reread the configuration)",
            Verb::Scale => "Run N instances of a numprocs program until the next update",
            Verb::Run => "Start one run of a scheduled job now, leaving its schedule as it is",
            Verb::Schedule => "List scheduled jobs and their next runs",
            Verb::Top => "Show CPU and memory of processes, refreshed every second",
            Verb::Shutdown => "Shut the daemon down",
            Verb::Signal => "Send a signal to processes",
            Verb::Start => "Start processes",
            Verb::Status => "Show process status (exit 3 if any is not running)",
            Verb::Stop => "Stop processes",
            Verb::Tail => "Show the end of a process log, or follow it with -f",
            Verb::Update => "Reread the configuration and apply the changes",
            Verb::Version => "Print the daemon's version",
            Verb::Eof => "Exit the interactive shell",
        }
    }

    /// Usage shown by `--help` and the man page.
    pub fn usage(self) -> &'static str {
        match self {
            Verb::Add | Verb::Remove => "<gname> [...]",
            Verb::Clear | Verb::Reset | Verb::Restart => "<name>... | <gname>:* | all",
            Verb::Start | Verb::Stop => "[--no-deps] <name>... | <gname>:* | all",
            Verb::Graph => "[--json | --dot]",
            Verb::Fg | Verb::Env => "<name>",
            Verb::Scale => "<name> <count>",
            Verb::Run => "<name>...",
            Verb::Schedule => "[<name>...] [--json]",
            Verb::Top => "[<name>... | all]",
            Verb::Help => "[<action>]",
            Verb::Maintail => "[-f | -N]",
            Verb::Audit => "[-n N] [-f] [--json]",
            Verb::Open => "<url>",
            Verb::Pid => "[<name>... | all] [--json]",
            Verb::Status => "[<name>... | all] [-l|--long] [--json]",
            Verb::Signal => "<signal> <name>... | <gname>:* | all",
            Verb::Tail => "[-f | -N] <name> [stdout|stderr]",
            Verb::Update => "[all | <gname>...]",
            Verb::Avail | Verb::Version => "[--json]",
            _ => "",
        }
    }

    /// Whether the verb accepts `--json`.
    pub fn supports_json(self) -> bool {
        matches!(
            self,
            Verb::Status
                | Verb::Avail
                | Verb::Pid
                | Verb::Version
                | Verb::Graph
                | Verb::Schedule
                | Verb::Audit
        )
    }
}

/// Which processes a verb acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// `all` was among the names.
    All,
    /// Namespecs (`name`, `group:name`, `group:*`), in the order given.
    Names(Vec<String>),
}

/// How much of a log to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailMode {
    /// The last N bytes.
    Bytes(u64),
    /// Follow until Ctrl-C.
    Follow,
}

/// A parsed command, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `add`.
    Add(Vec<String>),
    /// `audit`.
    Audit(crate::commands::audit::AuditRequest),
    /// `avail`.
    Avail,
    /// `clear`.
    Clear(Targets),
    /// `reset`.
    Reset(Targets),
    /// `quit`, `exit`, `EOF`.
    Quit,
    /// `fg`.
    Fg(String),
    /// `env`.
    Env(String),
    /// `scale`: program name and instance count.
    Scale(String, u32),
    /// `top`: empty means every process.
    Top(Vec<String>),
    /// `help`.
    Help(Option<String>),
    /// `maintail`.
    Maintail(TailMode),
    /// `open`.
    Open(String),
    /// `pid`: `None` for the daemon's own pid.
    Pid(Option<Targets>),
    /// `reload`.
    Reload,
    /// `remove`.
    Remove(Vec<String>),
    /// `reread`.
    Reread,
    /// `restart`.
    Restart(Targets),
    /// `run`.
    Run(Vec<String>),
    /// `schedule`: empty means every job.
    Schedule(Vec<String>),
    /// `shutdown`.
    Shutdown,
    /// `signal`.
    Signal {
        /// Signal name or number, passed to the daemon as typed.
        signal: String,
        /// Processes.
        targets: Targets,
    },
    /// `start`.
    Start(Targets),
    /// `start --no-deps`: neither start nor wait for dependencies.
    StartNoDeps(Targets),
    /// `stop --no-deps`: leave dependents running.
    StopNoDeps(Targets),
    /// `graph`; `dot` for Graphviz output.
    Graph {
        /// `--dot`.
        dot: bool,
    },
    /// `status`: empty means every process.
    Status(Vec<String>),
    /// `stop`.
    Stop(Targets),
    /// `tail`.
    Tail {
        /// Namespec.
        name: String,
        /// Which log.
        channel: Channel,
        /// How much.
        mode: TailMode,
    },
    /// `update`: empty means every group.
    Update(Vec<String>),
    /// `version`.
    Version,
}

/// A command that cannot run as typed: supervisorctl's message, whether its help follows,
/// and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// The line printed (`Error: start requires a process name`).
    pub message: String,
    /// The verb whose help text is printed after the message, if any.
    pub help: Option<Verb>,
    /// Exit status.
    pub status: i32,
}

impl UsageError {
    fn new(message: impl Into<String>, help: Option<Verb>, status: i32) -> Self {
        UsageError {
            message: message.into(),
            help,
            status,
        }
    }
}

/// One line split as Python's `cmd.Cmd.parseline` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Nothing but whitespace.
    Empty,
    /// A known verb and the rest of the line (stripped).
    Verb(Verb, String),
    /// Anything else (printed as `*** Unknown syntax: <line>`).
    Unknown(String),
}

/// Splits a command line into its verb and argument text. `?` is `help`.
pub fn split_line(line: &str) -> Line {
    let line = line.trim();
    if line.is_empty() {
        return Line::Empty;
    }
    let owned;
    let line = match line.strip_prefix('?') {
        Some(rest) => {
            owned = format!("help {rest}");
            owned.as_str()
        }
        None => line,
    };
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let (word, rest) = line.split_at(end);
    match Verb::from_name(word) {
        Some(verb) if !word.is_empty() => Line::Verb(verb, rest.trim().to_owned()),
        _ => Line::Unknown(line.to_owned()),
    }
}

fn targets(names: Vec<String>) -> Targets {
    if names.iter().any(|name| name == "all") {
        Targets::All
    } else {
        Targets::Names(names)
    }
}

fn no_arguments(verb: Verb, args: &[String], help: bool) -> Result<(), UsageError> {
    if args.is_empty() {
        Ok(())
    } else {
        let message = format!("Error: {} accepts no arguments", verb.name());
        Err(UsageError::new(
            message,
            help.then_some(verb),
            exit::GENERIC,
        ))
    }
}

/// Parses the arguments of `verb` (already split on whitespace, `--json` removed).
pub fn parse(verb: Verb, mut args: Vec<String>) -> Result<Action, UsageError> {
    // `--no-deps` (rsupervisor addition) is a flag of start and stop only.
    let no_deps = matches!(verb, Verb::Start | Verb::Stop) && args.iter().any(|a| a == "--no-deps");
    if no_deps {
        args.retain(|arg| arg != "--no-deps");
    }
    let requires_name = |status: i32| {
        let message = format!("Error: {} requires a process name", verb.name());
        UsageError::new(message, Some(verb), status)
    };
    match verb {
        Verb::Add => Ok(Action::Add(args)),
        Verb::Remove => Ok(Action::Remove(args)),
        Verb::Avail => no_arguments(verb, &args, true).map(|()| Action::Avail),
        Verb::Reread => no_arguments(verb, &args, true).map(|()| Action::Reread),
        Verb::Reload => no_arguments(verb, &args, true).map(|()| Action::Reload),
        Verb::Version => no_arguments(verb, &args, true).map(|()| Action::Version),
        Verb::Shutdown => no_arguments(verb, &args, true).map(|()| Action::Shutdown),
        Verb::Quit | Verb::Exit | Verb::Eof => Ok(Action::Quit),
        Verb::Help => Ok(Action::Help((!args.is_empty()).then(|| args.join(" ")))),
        Verb::Status => Ok(Action::Status(if args.iter().any(|a| a == "all") {
            vec![]
        } else {
            args
        })),
        Verb::Update => Ok(Action::Update(if args.iter().any(|a| a == "all") {
            vec![]
        } else {
            args
        })),
        Verb::Start if args.is_empty() => Err(requires_name(exit::INVALID_ARGS)),
        Verb::Stop | Verb::Restart | Verb::Clear | Verb::Reset if args.is_empty() => {
            Err(requires_name(exit::GENERIC))
        }
        Verb::Start if no_deps => Ok(Action::StartNoDeps(targets(args))),
        Verb::Stop if no_deps => Ok(Action::StopNoDeps(targets(args))),
        Verb::Start => Ok(Action::Start(targets(args))),
        Verb::Stop => Ok(Action::Stop(targets(args))),
        Verb::Graph => match args.as_slice() {
            [] => Ok(Action::Graph { dot: false }),
            [flag] if flag == "--dot" => Ok(Action::Graph { dot: true }),
            _ => Err(UsageError::new(
                "Error: graph accepts only --json or --dot",
                Some(verb),
                exit::GENERIC,
            )),
        },
        Verb::Restart => Ok(Action::Restart(targets(args))),
        Verb::Clear => Ok(Action::Clear(targets(args))),
        Verb::Reset => Ok(Action::Reset(targets(args))),
        Verb::Pid => Ok(Action::Pid((!args.is_empty()).then(|| targets(args)))),
        Verb::Signal => {
            if args.len() < 2 {
                return Err(UsageError::new(
                    "Error: signal requires a signal name and a process name",
                    Some(verb),
                    exit::GENERIC,
                ));
            }
            let mut args = args;
            let signal = args.remove(0);
            Ok(Action::Signal {
                signal,
                targets: targets(args),
            })
        }
        Verb::Open => Ok(Action::Open(args.join(" "))),
        Verb::Fg => match args.len() {
            0 => Err(UsageError::new(
                "ERROR: no process name supplied",
                Some(verb),
                exit::GENERIC,
            )),
            1 => Ok(Action::Fg(args.into_iter().next().unwrap_or_default())),
            _ => Err(UsageError::new(
                "ERROR: too many process names supplied",
                None,
                exit::GENERIC,
            )),
        },
        Verb::Env => match args.len() {
            0 => Err(UsageError::new(
                "Error: env requires a process name",
                Some(verb),
                exit::GENERIC,
            )),
            1 => Ok(Action::Env(args.into_iter().next().unwrap_or_default())),
            _ => Err(UsageError::new(
                "Error: env takes one process name",
                Some(verb),
                exit::GENERIC,
            )),
        },
        Verb::Run if args.is_empty() => Err(requires_name(exit::GENERIC)),
        Verb::Run => Ok(Action::Run(args)),
        Verb::Schedule => Ok(Action::Schedule(args)),
        Verb::Maintail => parse_maintail(args),
        Verb::Audit => parse_audit(args),
        Verb::Tail => parse_tail(args),
        Verb::Scale => parse_scale(args),
        Verb::Top => Ok(Action::Top(if args.iter().any(|a| a == "all") {
            vec![]
        } else {
            args
        })),
    }
}

fn parse_scale(args: Vec<String>) -> Result<Action, UsageError> {
    let usage = |message: &str| UsageError::new(message, Some(Verb::Scale), exit::GENERIC);
    match <[String; 2]>::try_from(args) {
        Ok([name, count]) => match count.parse::<u32>() {
            Ok(count) => Ok(Action::Scale(name, count)),
            Err(_) => Err(usage(&format!(
                "Error: scale: {count:?} is not an instance count (a whole number, 0 or more)"
            ))),
        },
        Err(_) => Err(usage(
            "Error: scale requires a program name and an instance count",
        )),
    }
}

fn parse_audit(args: Vec<String>) -> Result<Action, UsageError> {
    let usage = |message: String| UsageError::new(message, Some(Verb::Audit), exit::GENERIC);
    let mut request = crate::commands::audit::AuditRequest {
        count: crate::commands::audit::DEFAULT_COUNT,
        follow: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-f" => request.follow = true,
            "-n" => {
                let count = args
                    .next()
                    .ok_or_else(|| usage("Error: audit -n requires a number of records".into()))?;
                request.count = count.parse().map_err(|_| {
                    usage(format!(
                        "Error: audit -n: {count:?} is not a number of records"
                    ))
                })?;
            }
            other => return Err(usage(format!("Error: bad argument {other}"))),
        }
    }
    Ok(Action::Audit(request))
}

fn parse_maintail(args: Vec<String>) -> Result<Action, UsageError> {
    match args.as_slice() {
        [] => Ok(Action::Maintail(TailMode::Bytes(1600))),
        [one] => {
            let bad = || UsageError::new(format!("Error: bad argument {one}"), None, exit::GENERIC);
            let what = one.strip_prefix('-').ok_or_else(bad)?;
            if what == "f" {
                Ok(Action::Maintail(TailMode::Follow))
            } else {
                what.parse()
                    .map(|n| Action::Maintail(TailMode::Bytes(n)))
                    .map_err(|_| bad())
            }
        }
        _ => Err(UsageError::new(
            "Error: too many arguments",
            Some(Verb::Maintail),
            exit::GENERIC,
        )),
    }
}

fn parse_tail(mut args: Vec<String>) -> Result<Action, UsageError> {
    if args.is_empty() {
        return Err(UsageError::new(
            "Error: too few arguments",
            Some(Verb::Tail),
            exit::GENERIC,
        ));
    }
    if args.len() > 3 {
        return Err(UsageError::new(
            "Error: too many arguments",
            Some(Verb::Tail),
            exit::GENERIC,
        ));
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [] => {
            return Err(UsageError::new(
                "Error: tail requires process name",
                None,
                exit::GENERIC,
            ))
        }
        [name] => (name.clone(), Channel::Stdout),
        [name, .., last] => {
            let channel = match last.to_lowercase().as_str() {
                "stdout" => Channel::Stdout,
                "stderr" => Channel::Stderr,
                other => {
                    return Err(UsageError::new(
                        format!("Error: bad channel '{other}'"),
                        None,
                        exit::GENERIC,
                    ))
                }
            };
            (name.clone(), channel)
        }
    };
    let mode = match modifier {
        None => TailMode::Bytes(1600),
        Some(modifier) if modifier == "-f" => TailMode::Follow,
        Some(modifier) => match modifier[1..].parse() {
            Ok(bytes) => TailMode::Bytes(bytes),
            Err(_) => {
                return Err(UsageError::new(
                    format!("Error: bad argument {modifier}"),
                    None,
                    exit::GENERIC,
                ))
            }
        },
    };
    Ok(Action::Tail {
        name,
        channel,
        mode,
    })
}

/// `group:name` → (`group`, `Some(name)`); `group:*` or `group:` → (`group`, `None`);
/// `name` → (`name`, `Some(name)`). supervisor's `split_namespec`.
pub fn split_namespec(spec: &str) -> (String, Option<String>) {
    match spec.split_once(':') {
        Some((group, process)) if process.is_empty() || process == "*" => (group.to_owned(), None),
        Some((group, process)) => (group.to_owned(), Some(process.to_owned())),
        None => (spec.to_owned(), Some(spec.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn run(line: &str) -> Result<Action, UsageError> {
        match split_line(line) {
            Line::Verb(verb, rest) => parse(verb, words(&rest)),
            other => panic!("not a verb: {other:?}"),
        }
    }

    fn names(list: &[&str]) -> Targets {
        Targets::Names(list.iter().map(|s| s.to_string()).collect())
    }

    fn err(line: &str) -> (String, Option<Verb>, i32) {
        let error = run(line).expect_err("usage error");
        (error.message, error.help, error.status)
    }

    #[test]
    fn split_line_like_python_cmd() {
        assert_eq!(split_line("   "), Line::Empty);
        assert_eq!(
            split_line(" status  a b "),
            Line::Verb(Verb::Status, "a b".into())
        );
        assert_eq!(split_line("foo bar"), Line::Unknown("foo bar".into()));
        assert_eq!(split_line("-x"), Line::Unknown("-x".into()));
        assert_eq!(split_line("?start"), Line::Verb(Verb::Help, "start".into()));
        assert_eq!(split_line("EOF"), Line::Verb(Verb::Eof, String::new()));
        assert_eq!(split_line("Status"), Line::Unknown("Status".into()));
    }

    #[test]
    fn start_stop_restart_clear() {
        assert_eq!(
            run("start a g:* b"),
            Ok(Action::Start(names(&["a", "g:*", "b"])))
        );
        assert_eq!(run("start a all"), Ok(Action::Start(Targets::All)));
        assert_eq!(
            err("start"),
            (
                "Error: start requires a process name".into(),
                Some(Verb::Start),
                2
            )
        );
        assert_eq!(run("stop all"), Ok(Action::Stop(Targets::All)));
        assert_eq!(
            run("stop --no-deps db"),
            Ok(Action::StopNoDeps(names(&["db"])))
        );
        assert_eq!(
            run("start web --no-deps"),
            Ok(Action::StartNoDeps(names(&["web"])))
        );
        assert_eq!(run("graph"), Ok(Action::Graph { dot: false }));
        assert_eq!(run("graph --dot"), Ok(Action::Graph { dot: true }));
        assert!(run("graph x").is_err());
        assert_eq!(
            err("stop"),
            (
                "Error: stop requires a process name".into(),
                Some(Verb::Stop),
                1
            )
        );
        assert_eq!(run("restart x"), Ok(Action::Restart(names(&["x"]))));
        assert_eq!(err("restart").0, "Error: restart requires a process name");
        assert_eq!(run("clear all"), Ok(Action::Clear(Targets::All)));
        assert_eq!(
            err("clear"),
            (
                "Error: clear requires a process name".into(),
                Some(Verb::Clear),
                1
            )
        );
    }

    #[test]
    fn signal() {
        assert_eq!(
            run("signal HUP web g:*"),
            Ok(Action::Signal {
                signal: "HUP".into(),
                targets: names(&["web", "g:*"])
            })
        );
        assert_eq!(
            run("signal 9 all"),
            Ok(Action::Signal {
                signal: "9".into(),
                targets: Targets::All
            })
        );
        assert_eq!(
            err("signal HUP"),
            (
                "Error: signal requires a signal name and a process name".into(),
                Some(Verb::Signal),
                1
            )
        );
    }

    #[test]
    fn tail() {
        let tail = |name: &str, channel, mode| {
            Ok(Action::Tail {
                name: name.into(),
                channel,
                mode,
            })
        };
        assert_eq!(
            run("tail web"),
            tail("web", Channel::Stdout, TailMode::Bytes(1600))
        );
        assert_eq!(
            run("tail -f web stderr"),
            tail("web", Channel::Stderr, TailMode::Follow)
        );
        assert_eq!(
            run("tail -100 web"),
            tail("web", Channel::Stdout, TailMode::Bytes(100))
        );
        assert_eq!(
            run("tail web STDERR"),
            tail("web", Channel::Stderr, TailMode::Bytes(1600))
        );
        assert_eq!(
            run("tail g:a stdout"),
            tail("g:a", Channel::Stdout, TailMode::Bytes(1600))
        );
        assert_eq!(
            err("tail"),
            ("Error: too few arguments".into(), Some(Verb::Tail), 1)
        );
        assert_eq!(
            err("tail -f a b c"),
            ("Error: too many arguments".into(), Some(Verb::Tail), 1)
        );
        assert_eq!(
            err("tail web bogus"),
            ("Error: bad channel 'bogus'".into(), None, 1)
        );
        assert_eq!(
            err("tail -x web"),
            ("Error: bad argument -x".into(), None, 1)
        );
        assert_eq!(
            err("tail -f"),
            ("Error: tail requires process name".into(), None, 1)
        );
    }

    #[test]
    fn audit() {
        use crate::commands::audit::AuditRequest;
        assert_eq!(
            run("audit"),
            Ok(Action::Audit(AuditRequest {
                count: 20,
                follow: false
            }))
        );
        assert_eq!(
            run("audit -n 5 -f"),
            Ok(Action::Audit(AuditRequest {
                count: 5,
                follow: true
            }))
        );
        assert_eq!(
            err("audit -n x"),
            (
                "Error: audit -n: \"x\" is not a number of records".into(),
                Some(Verb::Audit),
                1
            )
        );
        assert_eq!(
            err("audit web"),
            ("Error: bad argument web".into(), Some(Verb::Audit), 1)
        );
    }

    #[test]
    fn maintail() {
        assert_eq!(run("maintail"), Ok(Action::Maintail(TailMode::Bytes(1600))));
        assert_eq!(run("maintail -f"), Ok(Action::Maintail(TailMode::Follow)));
        assert_eq!(
            run("maintail -200"),
            Ok(Action::Maintail(TailMode::Bytes(200)))
        );
        assert_eq!(err("maintail x"), ("Error: bad argument x".into(), None, 1));
        assert_eq!(
            err("maintail -x"),
            ("Error: bad argument -x".into(), None, 1)
        );
        assert_eq!(
            err("maintail -f -1"),
            ("Error: too many arguments".into(), Some(Verb::Maintail), 1)
        );
    }

    #[test]
    fn no_argument_verbs() {
        assert_eq!(run("reread"), Ok(Action::Reread));
        assert_eq!(
            err("reread x"),
            (
                "Error: reread accepts no arguments".into(),
                Some(Verb::Reread),
                1
            )
        );
        assert_eq!(
            err("avail x"),
            (
                "Error: avail accepts no arguments".into(),
                Some(Verb::Avail),
                1
            )
        );
        assert_eq!(
            err("reload x"),
            (
                "Error: reload accepts no arguments".into(),
                Some(Verb::Reload),
                1
            )
        );
        assert_eq!(
            err("version x"),
            (
                "Error: version accepts no arguments".into(),
                Some(Verb::Version),
                1
            )
        );
        assert_eq!(
            err("shutdown now"),
            (
                "Error: shutdown accepts no arguments".into(),
                Some(Verb::Shutdown),
                1
            )
        );
        assert_eq!(run("shutdown"), Ok(Action::Shutdown));
    }

    #[test]
    fn status_pid_update() {
        assert_eq!(run("status"), Ok(Action::Status(vec![])));
        assert_eq!(run("status a all"), Ok(Action::Status(vec![])));
        assert_eq!(run("status a g:*"), Ok(Action::Status(words("a g:*"))));
        assert_eq!(run("pid"), Ok(Action::Pid(None)));
        assert_eq!(run("pid all"), Ok(Action::Pid(Some(Targets::All))));
        assert_eq!(run("pid a b"), Ok(Action::Pid(Some(names(&["a", "b"])))));
        assert_eq!(run("update"), Ok(Action::Update(vec![])));
        assert_eq!(run("update all"), Ok(Action::Update(vec![])));
        assert_eq!(run("update g1 g2"), Ok(Action::Update(words("g1 g2"))));
    }

    #[test]
    fn fg_add_remove_open_help_quit() {
        assert_eq!(run("fg web"), Ok(Action::Fg("web".into())));
        assert_eq!(
            err("fg"),
            ("ERROR: no process name supplied".into(), Some(Verb::Fg), 1)
        );
        assert_eq!(
            err("fg a b"),
            ("ERROR: too many process names supplied".into(), None, 1)
        );
        assert_eq!(run("add a b"), Ok(Action::Add(words("a b"))));
        assert_eq!(run("add"), Ok(Action::Add(vec![])));
        assert_eq!(run("remove a"), Ok(Action::Remove(words("a"))));
        assert_eq!(
            run("open unix:///x.sock"),
            Ok(Action::Open("unix:///x.sock".into()))
        );
        assert_eq!(run("help"), Ok(Action::Help(None)));
        assert_eq!(run("help start"), Ok(Action::Help(Some("start".into()))));
        assert_eq!(run("quit"), Ok(Action::Quit));
        assert_eq!(run("exit"), Ok(Action::Quit));
        assert_eq!(run("EOF"), Ok(Action::Quit));
    }

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("web"), ("web".into(), Some("web".into())));
        assert_eq!(split_namespec("g:a"), ("g".into(), Some("a".into())));
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
    }

    #[test]
    fn every_verb_round_trips_its_name() {
        for verb in Verb::ALL {
            assert_eq!(Verb::from_name(verb.name()), Some(verb));
            assert!(!verb.summary().is_empty());
        }
    }
}
