//! The command line: supervisorctl's global flags (parsed by clap), the verb words that follow
//! (left to [`crate::action`], since supervisorctl's grammar such as `tail -100 name` is not
//! clap's), and the generated documentation (`--generate-completions`, `--generate-man`).

use clap::{Arg, ArgAction, Args, Command, CommandFactory, Parser, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use crate::action::Verb;

const ABOUT: &str = "Control rsupervisord, as supervisorctl controls supervisord";

const AFTER_HELP: &str =
    "Actions are commands like \"tail\" or \"stop\". If no action is given, an \
interactive shell is started. Use the action \"help\" to list them, \"help <action>\" for one.";

/// Global flags, shared by parsing and by the generated documentation.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// configuration file path (searches /etc/rsupervisor/rsupervisord.conf, then
    /// supervisord's list, if not given)
    #[arg(short = 'c', long = "configuration", value_name = "FILENAME")]
    pub configuration: Option<PathBuf>,
    /// URL on which rsupervisord server is listening (unix:///path or http://host:port)
    #[arg(short = 's', long = "serverurl", value_name = "URL")]
    pub serverurl: Option<String>,
    /// username to use for authentication with server
    #[arg(short = 'u', long = "username", value_name = "USERNAME")]
    pub username: Option<String>,
    /// password to use for authentication with server
    #[arg(short = 'p', long = "password", value_name = "PASSWORD")]
    pub password: Option<String>,
    /// start an interactive shell (ignored when an action is given, as in supervisorctl)
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// keep a readline history in FILENAME
    #[arg(short = 'r', long = "history-file", value_name = "FILENAME")]
    pub history_file: Option<PathBuf>,
    /// print machine-readable JSON (status, avail, pid, version, audit)
    #[arg(long = "json")]
    pub json: bool,
    /// Print a shell completion script and exit
    #[arg(long = "generate-completions", value_name = "SHELL", hide = true)]
    pub generate_completions: Option<CompletionShell>,
    /// Print the man page (roff) and exit
    #[arg(long = "generate-man", hide = true)]
    pub generate_man: bool,
}

/// Shells we generate completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// GNU bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
}

/// The parsed command line.
#[derive(Debug, Clone, Parser)]
#[command(name = "rsupervisorctl", version, about = ABOUT, after_help = AFTER_HELP)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct Cli {
    /// Global flags.
    #[command(flatten)]
    pub globals: GlobalArgs,
    /// print usage message and exit
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// print usage message and exit (supervisorctl's `-?`)
    #[arg(short = '?', action = ArgAction::Help, hide = true)]
    help_question: Option<bool>,
    /// print rsupervisorctl version number and exit
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    /// The action and its arguments, e.g. `status`, `tail -f web stderr`
    #[arg(
        value_name = "ACTION",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// The command as documented: global flags plus one subcommand per verb. Used only to
/// generate completions and the man page, never to parse.
pub fn documented_command() -> Command {
    let mut command = GlobalArgs::augment_args(
        Command::new("rsupervisorctl")
            .about(ABOUT)
            .version(env!("CARGO_PKG_VERSION"))
            .after_help(AFTER_HELP)
            .subcommand_value_name("ACTION")
            .subcommand_help_heading("Actions")
            .disable_help_subcommand(true),
    );
    for verb in Verb::ALL {
        let mut sub = Command::new(verb.name()).about(verb.summary());
        if !verb.usage().is_empty() {
            sub = sub
                .override_usage(format!("{} {}", verb.name(), verb.usage()))
                .arg(
                    Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true)
                        .value_name("ARGS"),
                );
        }
        command = command.subcommand(sub);
    }
    command
}

/// Writes the completion script for `shell`.
pub fn write_completions(shell: CompletionShell, out: &mut dyn Write) {
    let mut command = documented_command();
    let generator = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut command, "rsupervisorctl", out);
}

/// Writes the man page (roff).
pub fn write_man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(documented_command()).render(out)
}

/// The first line of `-h`, after the name, and what follows the options: supervisorctl's.
const TITLE: &str = "control applications run by rsupervisord from the cmd line.";
const HELP_AFTER: &str = "action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.";

/// The parsing command, with its `-h` text in supervisorctl's layout.
fn command() -> Command {
    let command = Cli::command();
    let help = rsupervisor_api::usage::supervisord_help(
        &command,
        TITLE,
        "[options] [action [arguments]]",
        HELP_AFTER,
    );
    command.override_help(help)
}

/// Parses the process's arguments; clap prints usage errors and exits 2 itself.
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|error| error.exit())
}

/// Parses `args` (the first is the program), for tests.
pub fn try_parse_from(args: &[&str]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    Cli::from_arg_matches(&command().try_get_matches_from(args)?)
}

/// Rejects an option clap let through as the action (`trailing_var_arg` takes the first
/// word even when it looks like a flag); the text follows `Error: `.
pub fn check(cli: &Cli) -> Result<(), String> {
    match cli.command.first() {
        Some(word) if word.starts_with('-') => Err(format!("option {word} not recognized")),
        _ => Ok(()),
    }
}

/// `--help` text, for tests.
pub fn help_text() -> String {
    command().render_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let argv: Vec<&str> = std::iter::once("rsupervisorctl")
            .chain(args.iter().copied())
            .collect();
        try_parse_from(&argv).expect("parses")
    }

    #[test]
    fn verb_grammar_is_left_alone() {
        let cli = parse(&["-c", "/x.conf", "tail", "-100", "web", "stderr"]);
        assert_eq!(cli.globals.configuration, Some(PathBuf::from("/x.conf")));
        assert_eq!(cli.command, ["tail", "-100", "web", "stderr"]);
        let cli = parse(&["-s", "unix:///s.sock", "signal", "HUP", "web"]);
        assert_eq!(cli.globals.serverurl.as_deref(), Some("unix:///s.sock"));
        assert_eq!(cli.command, ["signal", "HUP", "web"]);
        let cli = parse(&["status", "--json"]);
        assert_eq!(cli.command, ["status", "--json"]);
        assert!(!cli.globals.json);
    }

    #[test]
    fn global_flags() {
        let cli = parse(&[
            "-u", "bob", "-p", "pw", "-i", "-r", "/h", "--json", "status",
        ]);
        assert_eq!(cli.globals.username.as_deref(), Some("bob"));
        assert_eq!(cli.globals.password.as_deref(), Some("pw"));
        assert!(cli.globals.interactive && cli.globals.json);
        assert_eq!(cli.globals.history_file, Some(PathBuf::from("/h")));
        assert!(parse(&[]).command.is_empty());
    }

    #[test]
    fn unknown_flag_is_a_usage_error() {
        let cli = parse(&["--bogus"]);
        assert_eq!(check(&cli), Err("option --bogus not recognized".to_owned()));
        assert_eq!(check(&parse(&["tail", "-f", "web"])), Ok(()));
        let error = try_parse_from(&["rsupervisorctl", "-c"]).expect_err("rejected");
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn documentation_builds() {
        documented_command().debug_assert();
        Cli::command().debug_assert();
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
        ] {
            let mut out = Vec::new();
            write_completions(shell, &mut out);
            let text = String::from_utf8(out).expect("utf-8");
            assert!(
                text.contains("maintail"),
                "{shell:?} completions list the verbs"
            );
        }
        let mut man = Vec::new();
        write_man(&mut man).expect("renders");
        let man = String::from_utf8(man).expect("utf-8");
        assert!(man.contains("rsupervisorctl") && man.contains("serverurl"));
    }

    #[test]
    fn help_is_in_supervisorctls_layout_and_question_mark_prints_it() {
        let h = try_parse_from(&["rsupervisorctl", "-h"]).expect_err("-h shows help");
        let q = try_parse_from(&["rsupervisorctl", "-?"]).expect_err("-? shows help");
        assert_eq!(h.kind(), clap::error::ErrorKind::DisplayHelp);
        let text = h.to_string();
        assert_eq!(q.to_string(), text);
        assert_eq!(help_text(), text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "rsupervisorctl -- control applications run by rsupervisord from the cmd line."
        );
        assert!(lines[2].starts_with("Usage: "));
        assert!(lines[2].ends_with(" [options] [action [arguments]]"));
        assert_eq!(lines[4], "Options:");
        for line in [
            "-h/--help -- print usage message and exit",
            "-s/--serverurl URL -- URL on which rsupervisord server is listening \
             (unix:///path or http://host:port)",
            "-u/--username USERNAME -- username to use for authentication with server",
            "-V/--version -- print rsupervisorctl version number and exit",
            "action [arguments] -- see below",
        ] {
            assert!(lines.contains(&line), "no {line:?} in:\n{text}");
        }
        assert!(text.ends_with("Use the action \"help\" to find out about available\nactions.\n"));
        assert!(!text.contains("-?") && !text.contains("generate"));
        let v = try_parse_from(&["rsupervisorctl", "-V"]).expect_err("-V prints the version");
        assert_eq!(v.kind(), clap::error::ErrorKind::DisplayVersion);
    }
}
