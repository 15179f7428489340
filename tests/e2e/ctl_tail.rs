//! `rsupervisorctl tail -f` and `maintail -f` against the real daemon (issue 6): the ctl runs
//! as a child with piped output, the test reads until the expected text arrives, makes the
//! log rotate, and checks that lines written after the rotation still arrive; a daemon that
//! goes away ends the follow with a message and a non-zero status.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rsupervisor_e2e::{binaries, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

/// Deadline for anything the daemon does on its own.
const DEADLINE: Duration = Duration::from_secs(10);

/// A running `rsupervisorctl` whose stdout and stderr are collected by reader threads.
/// Killed and reaped on drop.
struct Following {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Following {
    /// Starts `rsupervisorctl -c <dir>/supervisord.conf args...`.
    fn start(dir: &TestDir, args: &[&str]) -> Following {
        let mut child = Command::new(binaries::rsupervisorctl())
            .arg("-c")
            .arg(dir.config_path())
            .args(args)
            .current_dir(dir.root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting rsupervisorctl");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("piped stdout"), stdout.clone()),
            collect(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Following {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("stdout lock")).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr lock")).into_owned()
    }

    /// Waits until stdout contains `needle`; returns stdout.
    #[track_caller]
    fn wait_for(&self, needle: &str) -> String {
        wait_until(DEADLINE, &format!("{needle:?} on the ctl's stdout"), || {
            let out = self.stdout();
            if out.contains(needle) {
                Ok(out)
            } else {
                Err(format!("stdout: {out:?}, stderr: {:?}", self.stderr()))
            }
        })
    }

    /// Waits for the ctl to exit on its own and for its output to be read to the end.
    #[track_caller]
    fn wait_exit(&mut self) -> ExitStatus {
        let child = &mut self.child;
        let status = wait_until(DEADLINE, "rsupervisorctl to exit", || {
            child.try_wait().expect("waitpid").ok_or("still running")
        });
        for reader in self.readers.drain(..) {
            reader.join().expect("reader thread");
        }
        status
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `source` into `sink` until end of file, on a thread.
fn collect(mut source: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(count) = source.read(&mut buffer) {
            if count == 0 {
                break;
            }
            sink.lock()
                .expect("sink lock")
                .extend_from_slice(&buffer[..count]);
        }
    })
}

/// Writes `text` to the stdin of `echo` (the fixture copies it to its stdout).
fn send(daemon: &Daemon<'_>, text: &str) {
    daemon.rpc_ok("supervisor.sendProcessStdin", json!(["echo", text]));
}

const ECHO: &str = "\
[program:echo]
command={fixture} --print echo-ready --echo-stdin
startsecs=0
stdout_logfile={dir}/echo.log
stdout_logfile_maxbytes=4KB
stdout_logfile_backups=2
";

#[test]
fn tail_f_follows_across_a_rotation() {
    let dir = TestDir::new();
    dir.config(ECHO);
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "echo", "RUNNING", DEADLINE);
    wait_until(DEADLINE, "echo-ready in echo.log", || {
        match dir.try_read("echo.log") {
            Some(text) if text.contains("echo-ready") => Ok(()),
            other => Err(other),
        }
    });

    let tail = Following::start(&dir, &["tail", "-f", "echo"]);
    let out = tail.wait_for("echo-ready\n");
    assert!(
        out.starts_with("==> Press Ctrl-C to exit <==\n"),
        "no banner first: {out:?}"
    );

    send(&daemon, "before-rotation\n");
    tail.wait_for("before-rotation\n");

    // 100 lines of 64 bytes overflow the 4 KB file: it rotates to echo.log.1.
    let line = format!("{}\n", "x".repeat(63));
    send(&daemon, &line.repeat(100));
    wait_until(DEADLINE, "echo.log to rotate", || {
        if dir.path("echo.log.1").exists() {
            Ok(())
        } else {
            Err("no echo.log.1 yet")
        }
    });
    send(&daemon, "after-rotation\n");
    let out = tail.wait_for("after-rotation\n");
    let before = out.find("before-rotation").expect("seen before");
    let after = out.find("after-rotation").expect("seen after");
    assert!(before < after, "{out:?}");
    assert!(
        dir.read("echo.log").contains("after-rotation"),
        "the line went to the new file"
    );
    assert_eq!(tail.stderr(), "");
}

#[test]
fn tail_f_of_stderr_and_maintail_f() {
    let dir = TestDir::new();
    dir.config(
        "[program:noisy]\n\
         command={fixture} --eprint noisy-on-stderr --sleep\n\
         startsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "noisy", "RUNNING", DEADLINE);

    let tail = Following::start(&dir, &["tail", "-f", "noisy", "stderr"]);
    tail.wait_for("==> Press Ctrl-C to exit <==\nnoisy-on-stderr\n");

    let maintail = Following::start(&dir, &["maintail", "-f"]);
    maintail.wait_for("==> Press Ctrl-C to exit <==\n");
    // A new main-log line arrives while following.
    dir.ctl(&["stop", "noisy"]).assert_status(0);
    maintail.wait_for("stopped: noisy (terminated by SIGTERM)");
}

#[test]
fn tail_f_ends_when_the_daemon_goes_away() {
    let dir = TestDir::new();
    dir.config(ECHO);
    let mut daemon = Daemon::start(&dir);
    wait_state(&daemon, "echo", "RUNNING", DEADLINE);
    wait_until(DEADLINE, "echo-ready in echo.log", || {
        match dir.try_read("echo.log") {
            Some(text) if text.contains("echo-ready") => Ok(()),
            other => Err(other),
        }
    });
    let mut tail = Following::start(&dir, &["tail", "-f", "echo"]);
    tail.wait_for("echo-ready\n");
    let mut maintail = Following::start(&dir, &["maintail", "-f"]);
    maintail.wait_for("==> Press Ctrl-C to exit <==\n");

    dir.ctl(&["shutdown"]).assert_status(0);
    daemon.wait_exit(DEADLINE);

    let closed =
        "rsupervisorctl: the connection to rsupervisord closed (daemon stopped?); tail ended\n";
    for (what, follow) in [("tail -f", &mut tail), ("maintail -f", &mut maintail)] {
        let status = follow.wait_exit();
        assert_eq!(status.code(), Some(1), "{what}: {status}");
        assert_eq!(follow.stderr(), closed, "{what}");
    }
}
