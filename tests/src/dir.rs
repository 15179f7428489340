//! [`TestDir`]: one temporary directory per test, holding config, socket, pidfile and logs.
//!
//! The directory lives under `/tmp` with a short `rsup-` prefix because the daemon's socket path
//! must fit in `sockaddr_un` (about 100 bytes). Set `RSUP_KEEP_TESTDIR=1` to keep the directories
//! after the tests for inspection.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::binaries;

/// Name of the main config file written by [`TestDir::config`].
pub const CONFIG_FILE: &str = "supervisord.conf";
/// Name of the daemon's control socket inside the directory.
pub const SOCKET_FILE: &str = "s.sock";
/// Name of the daemon's main log file inside the directory.
pub const MAIN_LOG_FILE: &str = "supervisord.log";
/// Name of the child log directory (`childlogdir`) inside the directory.
pub const CHILD_LOG_DIR: &str = "logs";

/// A per-test temporary directory, removed on drop.
#[derive(Debug)]
pub struct TestDir {
    /// The directory itself.
    temp: tempfile::TempDir,
    /// Counter giving each ctl run its own output files.
    runs: AtomicUsize,
}

impl Default for TestDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDir {
    /// Creates a fresh `/tmp/rsup-XXXXXX` directory.
    pub fn new() -> TestDir {
        let keep = std::env::var_os("RSUP_KEEP_TESTDIR").is_some_and(|v| !v.is_empty());
        let temp = tempfile::Builder::new()
            .prefix("rsup-")
            .disable_cleanup(keep)
            .tempdir_in("/tmp")
            .expect("creating a temporary directory in /tmp");
        TestDir {
            temp,
            runs: AtomicUsize::new(0),
        }
    }

    /// The directory's absolute path.
    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// The absolute path of `rel` inside the directory.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories; returns the absolute path.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Reads `rel` as UTF-8 (lossily), panicking with the path if it cannot be read.
    pub fn read(&self, rel: impl AsRef<Path>) -> String {
        String::from_utf8_lossy(&self.read_bytes(rel)).into_owned()
    }

    /// Reads `rel` as bytes, panicking with the path if it cannot be read.
    pub fn read_bytes(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let path = self.path(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// Reads `rel` if it exists (for waits on files a child has not written yet).
    pub fn try_read(&self, rel: impl AsRef<Path>) -> Option<String> {
        std::fs::read(self.path(rel))
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The control socket path used by the standard config.
    pub fn socket_path(&self) -> PathBuf {
        self.path(SOCKET_FILE)
    }

    /// The standard config path written by [`TestDir::config`].
    pub fn config_path(&self) -> PathBuf {
        self.path(CONFIG_FILE)
    }

    /// Replaces `{fixture}` with the fixture binary's path, `{dir}` with this directory and
    /// `{socket}` with the socket path.
    pub fn expand(&self, text: &str) -> String {
        text.replace("{fixture}", &binaries::fixture().to_string_lossy())
            .replace("{dir}", &self.root().to_string_lossy())
            .replace("{socket}", &self.socket_path().to_string_lossy())
    }

    /// Writes the standard `supervisord.conf` followed by `programs_ini` (expanded with
    /// [`TestDir::expand`]) and returns its path. Creates the `logs/` child log directory.
    pub fn config(&self, programs_ini: &str) -> PathBuf {
        self.config_with("", programs_ini)
    }

    /// Like [`TestDir::config`], with `supervisord_extra` (expanded) appended as extra lines of
    /// the `[supervisord]` section, e.g. `"minfds=128\nenvironment=A=\"1\""`.
    pub fn config_with(&self, supervisord_extra: &str, programs_ini: &str) -> PathBuf {
        let logs = self.path(CHILD_LOG_DIR);
        std::fs::create_dir_all(&logs)
            .unwrap_or_else(|e| panic!("creating {}: {e}", logs.display()));
        let dir = self.root().display();
        let main = format!(
            "[unix_http_server]\n\
             file={dir}/{SOCKET_FILE}\n\
             \n\
             [supervisord]\n\
             logfile={dir}/{MAIN_LOG_FILE}\n\
             pidfile={dir}/supervisord.pid\n\
             childlogdir={dir}/{CHILD_LOG_DIR}\n\
             loglevel=debug\n\
             {extra}\n\
             \n\
             [supervisorctl]\n\
             serverurl=unix://{dir}/{SOCKET_FILE}\n\
             \n\
             {programs}\n",
            extra = self.expand(supervisord_extra),
            programs = self.expand(programs_ini),
        );
        self.write(CONFIG_FILE, main)
    }

    /// Writes a complete config of your own to `rel` (expanded) and returns its path.
    pub fn write_config(&self, rel: impl AsRef<Path>, ini: &str) -> PathBuf {
        self.write(rel, self.expand(ini))
    }

    /// A fresh number for naming per-run files (ctl output, daemon output).
    pub(crate) fn next_run(&self) -> usize {
        self.runs.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `rsupervisorctl -c <dir>/supervisord.conf args...` (30 s timeout).
    pub fn ctl(&self, args: &[&str]) -> crate::CtlOutput {
        crate::Ctl::new(self).args(args).run()
    }
}
