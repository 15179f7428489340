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
#[command(name = "rsupervisord", version, about, long_about = None)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// Print help
    #[arg(short = 'h', long = "help", action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Print help (supervisord's `-?`)
    #[arg(short = '?', action = clap::ArgAction::Help, hide = true)]
    help_question: Option<bool>,
    /// Configuration file (default: /etc/rsupervisor/rsupervisord.conf, then supervisord's
    /// search list).
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    pub configuration: Option<PathBuf>,
    /// Run in the foreground.
    #[arg(short = 'n', long)]
    pub nodaemon: bool,
    /// With -n: do not copy the main log to stdout.
    #[arg(short = 's', long)]
    pub silent: bool,
    /// Run as this user (when started as root).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// umask for the daemon when daemonizing (octal).
    #[arg(short = 'm', long, value_name = "UMASK")]
    pub umask: Option<String>,
    /// Directory to chdir to when daemonizing.
    #[arg(short = 'd', long, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Main log file.
    #[arg(short = 'l', long, value_name = "FILE")]
    pub logfile: Option<String>,
    /// Main log size limit (e.g. 50MB).
    #[arg(short = 'y', long = "logfile_maxbytes", value_name = "BYTES")]
    pub logfile_maxbytes: Option<String>,
    /// Number of main log backups.
    #[arg(short = 'z', long = "logfile_backups", value_name = "NUM")]
    pub logfile_backups: Option<u32>,
    /// Log level (critical, error, warn, info, debug, trace, blather).
    #[arg(short = 'e', long, value_name = "LEVEL")]
    pub loglevel: Option<String>,
    /// Pidfile.
    #[arg(short = 'j', long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,
    /// Identifier, returned by getIdentification and used in AUTO log names.
    #[arg(short = 'i', long, value_name = "STR")]
    pub identifier: Option<String>,
    /// Directory for AUTO child logs.
    #[arg(short = 'q', long, value_name = "DIR")]
    pub childlogdir: Option<PathBuf>,
    /// Keep AUTO child logs of earlier runs.
    #[arg(short = 'k', long)]
    pub nocleanup: bool,
    /// Minimum number of open files to allow.
    #[arg(short = 'a', long, value_name = "NUM")]
    pub minfds: Option<u64>,
    /// Minimum number of processes to allow.
    #[arg(long, value_name = "NUM")]
    pub minprocs: Option<u64>,
    /// Strip ANSI escape sequences from child output.
    #[arg(short = 't', long = "strip_ansi")]
    pub strip_ansi: bool,
    /// Load and validate the whole configuration, print a summary or every error, and exit
    /// (0 when valid, 2 otherwise).
    #[arg(long)]
    pub check: bool,
    /// With --check: print the effective configuration as JSON.
    #[arg(long, requires = "check")]
    pub json: bool,
    /// Print a completion script for SHELL to stdout and exit (used by packaging).
    #[arg(long, value_name = "SHELL", hide = true, exclusive = true)]
    pub generate_completions: Option<clap_complete::Shell>,
    /// Print the man page (roff) to stdout and exit (used by packaging).
    #[arg(long, hide = true, exclusive = true)]
    pub generate_man: bool,
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
    use super::Args;
    use clap::Parser;

    #[test]
    fn question_mark_prints_the_help_as_h_does() {
        let h = Args::try_parse_from(["rsupervisord", "-h"]).expect_err("-h shows help");
        let q = Args::try_parse_from(["rsupervisord", "-?"]).expect_err("-? shows help");
        assert_eq!(h.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(q.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(q.to_string(), h.to_string());
        assert!(
            !h.to_string().contains("-?"),
            "-? stays out of the option list"
        );
    }
}
