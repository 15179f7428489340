//! Running `rsupervisorctl` as a black box and capturing what it prints.
//!
//! Output goes to files in the test directory rather than pipes, so a ctl that hangs can be
//! killed at the timeout without reader threads, and the files stay around for the failure dump.

use std::fmt;
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::dir::TestDir;
use crate::wait::try_wait_until;
use crate::{binaries, dump};

/// Default limit for one ctl run.
pub const CTL_TIMEOUT: Duration = Duration::from_secs(30);

/// What one `rsupervisorctl` run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlOutput {
    /// The exit code; 128 + N when killed by signal N (as a shell reports it).
    pub status: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl CtlOutput {
    /// Panics with the full output unless the exit code is `expected`; returns `self` for chaining.
    #[track_caller]
    pub fn assert_status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status, expected,
            "rsupervisorctl exited with {} instead of {expected}\n{self}",
            self.status
        );
        self
    }
}

impl fmt::Display for CtlOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exit status: {}", self.status)?;
        writeln!(f, "----- stdout -----\n{}", self.stdout)?;
        write!(f, "----- stderr -----\n{}", self.stderr)
    }
}

/// A configurable `rsupervisorctl` invocation; [`TestDir::ctl`] covers the common case.
#[derive(Debug)]
pub struct Ctl<'d> {
    /// Where the output files go.
    dir: &'d TestDir,
    /// The `-c` config path.
    config: PathBuf,
    /// Arguments after `-c CONF`.
    args: Vec<String>,
    /// Extra environment variables.
    env: Vec<(String, String)>,
    /// Bytes fed to stdin (stdin is /dev/null when `None`).
    stdin: Option<Vec<u8>>,
    /// Limit for the run.
    timeout: Duration,
    /// Run as this uid and gid (the test runs as root) instead of the test's own.
    user: Option<(u32, u32)>,
}

impl<'d> Ctl<'d> {
    /// A ctl run against `dir`'s standard config.
    pub fn new(dir: &'d TestDir) -> Ctl<'d> {
        Ctl {
            dir,
            config: dir.config_path(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            timeout: CTL_TIMEOUT,
            user: None,
        }
    }

    /// Uses another config file.
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = path.into();
        self
    }

    /// Appends arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Feeds `input` on stdin (e.g. commands for the interactive shell).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs the ctl as `uid`/`gid` (needs root; the config and socket must be reachable).
    pub fn as_user(mut self, uid: u32, gid: u32) -> Self {
        self.user = Some((uid, gid));
        self
    }

    /// Changes the time limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the ctl and waits for it; panics (with its partial output) at the timeout.
    pub fn run(self) -> CtlOutput {
        let run = self.dir.next_run();
        let out_path = self.dir.path(format!("ctl-{run}.stdout"));
        let err_path = self.dir.path(format!("ctl-{run}.stderr"));
        let create = |path: &PathBuf| {
            File::create(path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()))
        };
        let stdin = match &self.stdin {
            Some(input) => {
                let path = self.dir.write(format!("ctl-{run}.stdin"), input);
                Stdio::from(File::open(&path).unwrap_or_else(|e| {
                    panic!("opening {}: {e}", path.display());
                }))
            }
            None => Stdio::null(),
        };
        let mut command = Command::new(binaries::rsupervisorctl());
        if let Some((uid, gid)) = self.user {
            std::os::unix::process::CommandExt::uid(&mut command, uid);
            std::os::unix::process::CommandExt::gid(&mut command, gid);
        }
        let mut child = command
            .arg("-c")
            .arg(&self.config)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.root())
            .stdin(stdin)
            .stdout(create(&out_path))
            .stderr(create(&err_path))
            .spawn()
            .unwrap_or_else(|e| panic!("starting rsupervisorctl: {e}"));
        let waited = try_wait_until(self.timeout, || match child.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err("still running".to_owned()),
            Err(e) => Err(format!("waitpid failed: {e}")),
        });
        let status = match waited {
            Ok(status) => status,
            Err(timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "rsupervisorctl {:?} did not finish within {:?} ({})\n{}{}",
                    self.args,
                    self.timeout,
                    timeout.last,
                    dump::file_section("ctl stdout", &out_path),
                    dump::file_section("ctl stderr", &err_path),
                );
            }
        };
        let code = status
            .code()
            .or_else(|| status.signal().map(|sig| 128 + sig))
            .expect("invariant: an exited process has a code or a signal");
        let read = |path: &PathBuf| {
            String::from_utf8_lossy(
                &std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())),
            )
            .into_owned()
        };
        CtlOutput {
            status: code,
            stdout: read(&out_path),
            stderr: read(&err_path),
        }
    }
}
