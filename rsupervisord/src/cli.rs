//! `rsupervisord`'s command line: supervisord's flags, plus `--check` and `--json`.
//!
//! Each flag overrides the matching `[supervisord]` setting (command line > config > default),
//! as with supervisord.

use clap::Parser;
use rsupervisor_config::{datatypes, Config, MainLogTarget};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A supervisord-compatible process supervisor.
#[derive(Debug, Parser)]
#[command(name = "rsupervisord", about, long_about = None)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct Args {
    /// configuration file path (searches /etc/rsupervisor/rsupervisord.conf, then
    /// supervisord's list, if not given)
    #[arg(short = 'c', long = "configuration", value_name = "FILENAME")]
    pub configuration: Option<PathBuf>,
    /// run in the foreground (same as 'nodaemon=true' in config file)
    #[arg(short = 'n', long)]
    pub nodaemon: bool,
    /// no logs to stdout (maps to 'silent=true' in config file)
    #[arg(short = 's', long)]
    pub silent: bool,
    /// print this usage message and exit
    #[arg(short = 'h', long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// print this usage message and exit (supervisord's `-?`)
    #[arg(short = '?', action = clap::ArgAction::Help, hide = true)]
    help_question: Option<bool>,
    /// print rsupervisord version number and exit
    #[arg(short = 'v', long = "version", short_alias = 'V')]
    pub version: bool,
    /// run rsupervisord as this user (or numeric uid)
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// use this umask for daemon subprocess (default is 022)
    #[arg(short = 'm', long, value_name = "UMASK")]
    pub umask: Option<String>,
    /// directory to chdir to when daemonized
    #[arg(short = 'd', long, value_name = "DIRECTORY")]
    pub directory: Option<PathBuf>,
    /// use FILENAME as logfile path
    #[arg(short = 'l', long, value_name = "FILENAME")]
    pub logfile: Option<String>,
    /// use BYTES to limit the max size of logfile (e.g. 50MB)
    #[arg(short = 'y', long = "logfile_maxbytes", value_name = "BYTES")]
    pub logfile_maxbytes: Option<String>,
    /// number of backups to keep when max bytes reached
    #[arg(short = 'z', long = "logfile_backups", value_name = "NUM")]
    pub logfile_backups: Option<u32>,
    /// use LEVEL as log level (critical,error,warn,info,debug,trace,blather)
    #[arg(short = 'e', long, value_name = "LEVEL")]
    pub loglevel: Option<String>,
    /// write a pid file for the daemon process to FILENAME
    #[arg(short = 'j', long, value_name = "FILENAME")]
    pub pidfile: Option<PathBuf>,
    /// identifier used for this instance of rsupervisord
    #[arg(short = 'i', long, value_name = "STR")]
    pub identifier: Option<String>,
    /// the log directory for child process logs
    #[arg(short = 'q', long, value_name = "DIRECTORY")]
    pub childlogdir: Option<PathBuf>,
    /// prevent the process from performing cleanup (removal of old automatic child log
    /// files) at startup
    #[arg(short = 'k', long)]
    pub nocleanup: bool,
    /// the minimum number of file descriptors for start success
    #[arg(short = 'a', long, value_name = "NUM")]
    pub minfds: Option<u64>,
    /// the minimum number of processes available for start success
    #[arg(long, value_name = "NUM")]
    pub minprocs: Option<u64>,
    /// strip ansi escape codes from process output
    #[arg(short = 't', long = "strip_ansi")]
    pub strip_ansi: bool,
    /// load and validate the whole configuration, print a summary or every error, and exit
    /// (0 when valid, 2 otherwise)
    #[arg(long)]
    pub check: bool,
    /// with --check: print the effective configuration as JSON
    #[arg(long, requires = "check")]
    pub json: bool,
    /// Print a completion script for SHELL to stdout and exit (used by packaging).
    #[arg(long, value_name = "SHELL", hide = true, exclusive = true)]
    pub generate_completions: Option<clap_complete::Shell>,
    /// Print the man page (roff) to stdout and exit (used by packaging).
    #[arg(long, hide = true, exclusive = true)]
    pub generate_man: bool,
}

/// The first line of `-h`, after the name.
const TITLE: &str = "run a set of applications as daemons, as supervisord does.";

/// The command with its `-h` text in supervisord's layout.
fn command() -> clap::Command {
    use clap::CommandFactory;
    let command = Args::command();
    let help = rsupervisor_api::usage::supervisord_help(&command, TITLE, "[options]", "");
    command.override_help(help)
}

/// Parses the process's arguments; `-h` and usage errors are printed and exit, as clap does.
pub fn parse() -> Args {
    use clap::FromArgMatches;
    Args::from_arg_matches(&command().get_matches()).unwrap_or_else(|error| error.exit())
}

/// Parses `args` (the first is the program), for tests.
pub fn try_parse_from<I, T>(args: I) -> Result<Args, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    Args::from_arg_matches(&command().try_get_matches_from(args)?)
}

/// Writes what `--generate-completions` / `--generate-man` ask for to `out`; returns false
/// when neither was given.
pub fn generate(args: &Args, out: &mut dyn std::io::Write) -> std::io::Result<bool> {
    use clap::CommandFactory;
    let mut command = Args::command();
    if let Some(shell) = args.generate_completions {
        clap_complete::generate(shell, &mut command, "rsupervisord", out);
        return Ok(true);
    }
    if args.generate_man {
        clap_mangen::Man::new(command).render(out)?;
        return Ok(true);
    }
    Ok(false)
}

impl Args {
    /// Applies the command-line overrides to the loaded configuration, with relative paths
    /// resolved against the current directory; returns the overrides for later re-reads.
    pub fn apply(self, config: &mut Config) -> Result<Overrides, String> {
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?;
        self.apply_in(config, &cwd)?;
        Ok(Overrides {
            args: Arc::new(self),
            cwd,
        })
    }

    fn apply_in(&self, config: &mut Config, cwd: &Path) -> Result<(), String> {
        let settings = &mut config.supervisord;
        if self.nodaemon {
            settings.nodaemon = true;
        }
        if self.silent {
            settings.silent = true;
        }
        if let Some(user) = &self.user {
            settings.user = Some(datatypes::user(user).map_err(|e| format!("-u {user}: {e}"))?);
        }
        if let Some(umask) = &self.umask {
            settings.umask = datatypes::octal(umask).map_err(|e| format!("-m {umask}: {e}"))?;
        }
        if let Some(directory) = &self.directory {
            settings.directory = Some(cwd.join(directory));
        }
        if let Some(logfile) = &self.logfile {
            settings.logfile = if logfile == "syslog" {
                MainLogTarget::Syslog
            } else {
                MainLogTarget::File(datatypes::normalize_path(logfile, cwd))
            };
        }
        if let Some(bytes) = &self.logfile_maxbytes {
            settings.logfile_maxbytes =
                datatypes::byte_size(bytes).map_err(|e| format!("-y {bytes}: {e}"))?;
        }
        if let Some(backups) = self.logfile_backups {
            settings.logfile_backups = backups;
        }
        if let Some(level) = &self.loglevel {
            settings.loglevel =
                datatypes::logging_level(level).map_err(|e| format!("-e {level}: {e}"))?;
        }
        if let Some(pidfile) = &self.pidfile {
            settings.pidfile = cwd.join(pidfile);
        }
        if let Some(identifier) = &self.identifier {
            settings.identifier = identifier.clone();
        }
        if let Some(directory) = &self.childlogdir {
            settings.childlogdir = cwd.join(directory);
        }
        if self.nocleanup {
            settings.nocleanup = true;
        }
        if let Some(minfds) = self.minfds {
            settings.minfds = minfds;
        }
        if let Some(minprocs) = self.minprocs {
            settings.minprocs = minprocs;
        }
        if self.strip_ansi {
            settings.strip_ansi = true;
        }
        Ok(())
    }
}

/// The command-line overrides as given at startup, applied again to every configuration the
/// daemon re-reads (`reread`, `update`, `reload`), as supervisord does: otherwise `-n` or `-l`
/// would count as a `[supervisord]` change and be lost on reload.
#[derive(Debug, Clone)]
pub struct Overrides {
    args: Arc<Args>,
    /// The directory the daemon started in (relative paths on the command line are resolved
    /// against it even after the daemon changes directory).
    cwd: PathBuf,
}

impl Overrides {
    /// Applies the overrides to a freshly read configuration.
    pub fn apply(&self, config: &mut Config) -> Result<(), String> {
        self.args.apply_in(config, &self.cwd)
    }
}

#[cfg(test)]
mod tests {
    use super::try_parse_from;

    #[test]
    fn help_is_in_supervisords_layout_and_question_mark_prints_it() {
        let h = try_parse_from(["rsupervisord", "-h"]).expect_err("-h shows help");
        let q = try_parse_from(["rsupervisord", "-?"]).expect_err("-? shows help");
        assert_eq!(h.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(q.kind(), clap::error::ErrorKind::DisplayHelp);
        let text = h.to_string();
        assert_eq!(q.to_string(), text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "rsupervisord -- run a set of applications as daemons, as supervisord does."
        );
        assert!(lines[2].starts_with("Usage: ") && lines[2].ends_with(" [options]"));
        assert_eq!(lines[4], "Options:");
        for line in [
            "-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)",
            "-h/--help -- print this usage message and exit",
            "-v/--version -- print rsupervisord version number and exit",
            "-c/--configuration FILENAME -- configuration file path (searches \
             /etc/rsupervisor/rsupervisord.conf, then supervisord's list, if not given)",
            "-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile (e.g. 50MB)",
            "--minprocs NUM -- the minimum number of processes available for start success",
            "--check -- load and validate the whole configuration, print a summary or every \
             error, and exit (0 when valid, 2 otherwise)",
        ] {
            assert!(lines.contains(&line), "no {line:?} in:\n{text}");
        }
        assert!(!text.contains("-?"), "-? stays out of the option list");
        assert!(!text.contains("generate"), "packaging flags stay hidden");
    }

    #[test]
    fn v_asks_for_the_version_as_in_supervisord() {
        for flag in ["-v", "--version", "-V"] {
            assert!(
                try_parse_from(["rsupervisord", flag])
                    .expect("parses")
                    .version
            );
        }
    }
}
