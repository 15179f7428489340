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
    /// Configuration file (default: /etc/rsupervisor/rsupervisord.conf, then supervisord's
    /// search list)
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    pub configuration: Option<PathBuf>,
    /// URL on which rsupervisord listens, e.g. unix:///run/rsupervisor.sock
    #[arg(short = 's', long = "serverurl", value_name = "URL")]
    pub serverurl: Option<String>,
    /// Username for authentication with the server
    #[arg(short = 'u', long = "username", value_name = "USERNAME")]
    pub username: Option<String>,
    /// Password for authentication with the server
    #[arg(short = 'p', long = "password", value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Start an interactive shell (ignored when an action is given, as in supervisorctl)
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Keep a readline history in this file
    #[arg(short = 'r', long = "history-file", value_name = "FILE")]
    pub history_file: Option<PathBuf>,
    /// Print machine-readable JSON (status, avail, pid, version, audit)
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
#[command(disable_help_flag = true)]
pub struct Cli {
    /// Global flags.
    #[command(flatten)]
    pub globals: GlobalArgs,
    /// Print help
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Print help (supervisorctl's `-?`)
    #[arg(short = '?', action = ArgAction::Help, hide = true)]
    help_question: Option<bool>,
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

/// Parses the process's arguments; clap prints usage errors and exits 2 itself.
pub fn parse() -> Cli {
    Cli::parse()
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
    Cli::command().render_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("rsupervisorctl").chain(args.iter().copied()))
            .expect("parses")
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
        let error = Cli::try_parse_from(["rsupervisorctl", "-c"]).expect_err("rejected");
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
        assert!(help_text().contains("--configuration"));
    }
}
