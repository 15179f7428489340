//! The `-h` text of both binaries in supervisord's layout: a `name -- what it does.` line, a
//! `Usage:` line with the program path as it was typed, then one `-c/--configuration FILENAME
//! -- help` line per option. Operators (and scripts that grep it) know that layout from
//! supervisord and supervisorctl; clap's own layout is kept for nothing but the man page.

use clap::Command;

/// The help text for `command` in supervisord's layout. `title` is the first line's
/// description, `usage` what follows the program path on the `Usage:` line, `after` the
/// paragraph at the end (empty for none). Hidden options are left out.
pub fn supervisord_help(command: &Command, title: &str, usage: &str, after: &str) -> String {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| command.get_name().to_owned());
    let mut text = format!(
        "{} -- {title}\n\nUsage: {argv0} {usage}\n\nOptions:\n",
        command.get_name()
    );
    for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
        let Some(long) = arg.get_long() else {
            continue; // The positional action words are described after the options.
        };
        let mut flags = match arg.get_short() {
            Some(short) => format!("-{short}/--{long}"),
            None => format!("--{long}"),
        };
        // The action, not num_args: a derived argument's num_args is only filled in when the
        // command is built, its action is known from the start.
        let takes_value = arg.get_action().takes_values();
        if takes_value {
            if let Some(names) = arg.get_value_names() {
                for name in names {
                    flags.push(' ');
                    flags.push_str(name);
                }
            }
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let help = help.trim_end_matches('.');
        text.push_str(&format!("{flags} -- {help}\n"));
    }
    if !after.is_empty() {
        text.push('\n');
        text.push_str(after);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::supervisord_help;
    use clap::{Arg, ArgAction, Command};

    #[test]
    fn options_are_listed_as_supervisord_lists_them() {
        let command = Command::new("rsupervisord")
            .arg(
                Arg::new("configuration")
                    .short('c')
                    .long("configuration")
                    .value_name("FILENAME")
                    .help("configuration file path."),
            )
            .arg(
                Arg::new("nodaemon")
                    .short('n')
                    .long("nodaemon")
                    .action(ArgAction::SetTrue)
                    .help("run in the foreground"),
            )
            .arg(
                Arg::new("minprocs")
                    .long("minprocs")
                    .value_name("NUM")
                    .help("the minimum number of processes"),
            )
            .arg(Arg::new("secret").long("secret").hide(true));
        let text = supervisord_help(
            &command,
            "run a set of applications as daemons.",
            "[options]",
            "",
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "rsupervisord -- run a set of applications as daemons."
        );
        assert!(lines[2].starts_with("Usage: ") && lines[2].ends_with(" [options]"));
        assert_eq!(
            &lines[4..],
            [
                "Options:",
                "-c/--configuration FILENAME -- configuration file path",
                "-n/--nodaemon -- run in the foreground",
                "--minprocs NUM -- the minimum number of processes",
            ]
        );
    }
}
