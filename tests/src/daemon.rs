//! [`Daemon`]: a running `rsupervisord -n -c CONF`, as a guard object.
//!
//! [`Daemon::start`] returns only once the socket answers `supervisor.getState` (the socket file
//! merely existing is not enough). Dropping the guard sends SIGTERM, waits up to 10 s, then
//! SIGKILLs the daemon and its children's process groups and fails the test: a daemon that does
//! not stop on SIGTERM is a bug. If the test is already panicking, the drop prints the daemon's
//! stdout, stderr, main log and child logs to stderr.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::{getpgrp, Pid};
use serde_json::{json, Value};

use crate::dir::{TestDir, CHILD_LOG_DIR, MAIN_LOG_FILE};
use crate::process::{children_of, proc_stat};
use crate::rpc::{self, RpcError, RpcFault};
use crate::wait::{try_wait_until, wait_until};
use crate::{binaries, dump};

/// How long the daemon gets to start answering RPCs, or to exit in `start_expect_fail`.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the daemon gets to exit after SIGTERM when the guard drops.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A daemon that was expected not to start, and how it failed.
#[derive(Debug)]
pub struct DaemonFailure {
    /// Its exit status.
    pub status: ExitStatus,
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
}

/// How to start a daemon; [`Daemon::start`] covers the common case.
#[derive(Debug)]
pub struct DaemonCommand<'d> {
    /// The test directory (output files, socket, logs).
    dir: &'d TestDir,
    /// The `-c` config path.
    config: PathBuf,
    /// Extra arguments after `-n -c CONF`.
    args: Vec<String>,
    /// Extra environment variables.
    env: Vec<(String, String)>,
    /// The control socket, when the config puts it elsewhere than `{dir}/s.sock`.
    socket: Option<PathBuf>,
    /// Run the daemon under a seccomp filter that refuses `clone3` (see [`crate::seccomp`]).
    without_clone3: bool,
    /// Another copy of the daemon's binary to run (by default [`binaries::rsupervisord`]).
    binary: Option<PathBuf>,
}

impl<'d> DaemonCommand<'d> {
    /// Uses another control socket path (for configs that do not use `{dir}/s.sock`).
    pub fn socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.socket = Some(path.into());
        self
    }

    /// Uses another config file (its socket must still be `{dir}/s.sock` for the RPC helpers).
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = path.into();
        self
    }

    /// Appends command-line arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Sets an environment variable for the daemon (inherited by its children).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs the daemon as a container's default seccomp profile would: `clone3` answers
    /// `ENOSYS`.
    pub fn without_clone3(mut self) -> Self {
        self.without_clone3 = true;
        self
    }

    /// Runs this copy of the daemon's binary (a renamed one, say) instead of the one built.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Spawns the daemon and waits until `supervisor.getState` answers.
    pub fn start(self) -> Daemon<'d> {
        let mut daemon = self.spawn();
        let socket = daemon.socket.clone();
        let ready = try_wait_until(START_TIMEOUT, || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                daemon.exited = Some(status);
                return Ok(Err(status));
            }
            rpc::call(&socket, "supervisor.getState", json!([]))
                .map(Ok)
                .map_err(|e| e.to_string())
        });
        match ready {
            Ok(Ok(_state)) => daemon,
            // `daemon` drops while panicking, which prints its output.
            Ok(Err(status)) => panic!("rsupervisord exited during startup with {status}"),
            Err(timeout) => panic!(
                "rsupervisord did not answer supervisor.getState within {:?}; last error: {}",
                START_TIMEOUT, timeout.last
            ),
        }
    }

    /// Spawns the daemon and expects it to exit on its own within 10 s.
    pub fn start_expect_fail(self) -> DaemonFailure {
        let mut daemon = self.spawn();
        let status = daemon.wait_exit(START_TIMEOUT);
        DaemonFailure {
            status,
            stdout: read_lossy(&daemon.stdout_path),
            stderr: read_lossy(&daemon.stderr_path),
        }
    }

    /// Spawns `rsupervisord -n -c CONF args...` with output appended to files in the directory.
    fn spawn(self) -> Daemon<'d> {
        let stdout_path = self.dir.path("daemon.stdout");
        let stderr_path = self.dir.path("daemon.stderr");
        let mut command = Command::new(self.binary.clone().unwrap_or_else(binaries::rsupervisord));
        if self.without_clone3 {
            #[allow(unsafe_code)]
            // SAFETY: the hook makes system calls only.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                    crate::seccomp::deny_clone3()
                });
            }
        }
        let child = command
            .arg("-n")
            .arg("-c")
            .arg(&self.config)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.root())
            .stdin(Stdio::null())
            .stdout(append(&stdout_path))
            .stderr(append(&stderr_path))
            .spawn()
            .unwrap_or_else(|e| panic!("starting rsupervisord: {e}"));
        Daemon {
            dir: self.dir,
            child,
            exited: None,
            socket: self.socket.unwrap_or_else(|| self.dir.socket_path()),
            stdout_path,
            stderr_path,
        }
    }
}

/// A running `rsupervisord`, stopped when dropped.
#[derive(Debug)]
pub struct Daemon<'d> {
    /// The test directory; borrowing it makes the directory outlive the daemon.
    dir: &'d TestDir,
    /// The daemon process.
    child: Child,
    /// Set once the daemon has been reaped; its pid must not be signalled after that.
    exited: Option<ExitStatus>,
    /// The control socket.
    socket: PathBuf,
    /// The daemon's stdout file.
    stdout_path: PathBuf,
    /// The daemon's stderr file.
    stderr_path: PathBuf,
}

impl<'d> Daemon<'d> {
    /// A builder for a daemon run against `dir`'s standard config.
    pub fn command(dir: &'d TestDir) -> DaemonCommand<'d> {
        DaemonCommand {
            dir,
            config: dir.config_path(),
            args: Vec::new(),
            env: Vec::new(),
            socket: None,
            without_clone3: false,
            binary: None,
        }
    }

    /// Starts `rsupervisord -n -c <dir>/supervisord.conf` and waits until it answers RPCs.
    pub fn start(dir: &'d TestDir) -> Daemon<'d> {
        Daemon::command(dir).start()
    }

    /// Starts the daemon and expects it to exit on its own within 10 s (e.g. a bad config).
    pub fn start_expect_fail(dir: &'d TestDir) -> DaemonFailure {
        Daemon::command(dir).start_expect_fail()
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("invariant: pids fit in i32")
    }

    /// The control socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Calls a JSON-RPC method; faults are returned, transport failures panic.
    #[track_caller]
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, RpcFault> {
        match self.try_rpc(method, params) {
            Ok(value) => Ok(value),
            Err(RpcError::Fault(fault)) => Err(fault),
            Err(RpcError::Transport(message)) => panic!("{method}: {message}"),
        }
    }

    /// Calls a JSON-RPC method, returning transport failures too (e.g. while the daemon stops).
    pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        rpc::call(&self.socket, method, params)
    }

    /// Calls a JSON-RPC method that must succeed.
    #[track_caller]
    pub fn rpc_ok(&self, method: &str, params: Value) -> Value {
        self.rpc(method, params.clone())
            .unwrap_or_else(|fault| panic!("{method}({params}) failed: {fault}"))
    }

    /// `supervisor.getProcessInfo(name)`, which must succeed.
    #[track_caller]
    pub fn process(&self, name: &str) -> Value {
        self.rpc_ok("supervisor.getProcessInfo", json!([name]))
    }

    /// `supervisor.getAllProcessInfo()`, which must succeed.
    #[track_caller]
    pub fn all_process_info(&self) -> Vec<Value> {
        match self.rpc_ok("supervisor.getAllProcessInfo", json!([])) {
            Value::Array(infos) => infos,
            other => panic!("getAllProcessInfo returned a non-array: {other}"),
        }
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: Signal) {
        assert!(
            self.exited.is_none(),
            "cannot send {signal} to rsupervisord: it has already exited"
        );
        kill(Pid::from_raw(self.pid()), signal)
            .unwrap_or_else(|e| panic!("sending {signal} to rsupervisord: {e}"));
    }

    /// Waits for the daemon to exit on its own (after a signal or a `shutdown` call).
    #[track_caller]
    pub fn wait_exit(&mut self, deadline: Duration) -> ExitStatus {
        if let Some(status) = self.exited {
            return status;
        }
        let child = &mut self.child;
        let status = wait_until(deadline, "rsupervisord to exit", || {
            match child.try_wait() {
                Ok(Some(status)) => Ok(status),
                Ok(None) => Err("still running".to_owned()),
                Err(e) => Err(format!("waitpid failed: {e}")),
            }
        });
        self.exited = Some(status);
        status
    }

    /// The daemon's exit status, if it has been reaped.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// The main log (`supervisord.log`) so far; empty if it does not exist yet.
    pub fn main_log(&self) -> String {
        self.dir.try_read(MAIN_LOG_FILE).unwrap_or_default()
    }

    /// The daemon's stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// The daemon's stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    /// Everything the daemon wrote, for failure reports.
    pub fn dump(&self) -> String {
        let mut text = format!(
            "===== rsupervisord pid {} in {} =====\n",
            self.pid(),
            self.dir.root().display()
        );
        text += &dump::file_section("daemon stdout", &self.stdout_path);
        text += &dump::file_section("daemon stderr", &self.stderr_path);
        text += &dump::file_section("main log", &self.dir.path(MAIN_LOG_FILE));
        text += &dump::dir_sections("child log", &self.dir.path(CHILD_LOG_DIR));
        text += "===== end of rsupervisord dump =====\n";
        text
    }

    /// SIGKILLs the daemon, and the process groups of its children unless one is ours.
    fn kill_hard(&mut self) {
        let ours = getpgrp().as_raw();
        for child in children_of(self.pid()) {
            if let Some(stat) = proc_stat(child) {
                if stat.pgrp > 1 && stat.pgrp != ours {
                    let _ = killpg(Pid::from_raw(stat.pgrp), Signal::SIGKILL);
                } else {
                    let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
                }
            }
        }
        let _ = self.child.kill();
        self.exited = self.child.wait().ok();
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if self.exit_status().is_none() {
            let _ = kill(Pid::from_raw(self.pid()), Signal::SIGTERM);
            let child = &mut self.child;
            let stopped = try_wait_until(STOP_TIMEOUT, || match child.try_wait() {
                Ok(Some(status)) => Ok(status),
                _ => Err(()),
            });
            match stopped {
                Ok(status) => self.exited = Some(status),
                Err(_) => {
                    let dump = self.dump();
                    self.kill_hard();
                    if panicking {
                        eprintln!("rsupervisord ignored SIGTERM for {STOP_TIMEOUT:?}; killed it");
                    } else {
                        panic!(
                            "rsupervisord did not exit within {STOP_TIMEOUT:?} of SIGTERM; \
                             killed it\n{dump}"
                        );
                    }
                }
            }
        }
        if panicking {
            eprintln!("{}", self.dump());
        }
    }
}

/// Opens `path` for appending (a restarted daemon adds to the same files).
fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}

/// Reads `path` lossily; empty if missing.
fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
