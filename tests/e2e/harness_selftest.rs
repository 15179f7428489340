//! Self-tests of the harness pieces that do not need a daemon: the fixture's flags and the
//! process helpers. If these fail, every daemon test's verdict is suspect.

use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use rsupervisor_e2e::{binaries, pid_alive, process_group_members, spew, wait_until, TestDir};

/// Deadline for anything the fixture does on its own.
const DEADLINE: Duration = Duration::from_secs(10);

/// A fixture command with stdin on /dev/null.
fn fixture(args: &[&str]) -> Command {
    let mut command = Command::new(binaries::fixture());
    command.args(args).stdin(Stdio::null());
    command
}

/// Runs a fixture that exits on its own and captures its output.
fn run(args: &[&str]) -> Output {
    fixture(args).output().expect("running the fixture")
}

/// A fixture that keeps running, in its own process group (as supervisord starts children),
/// with stdout and stderr in files. Killed and reaped on drop.
struct Running {
    /// The fixture process.
    child: Child,
}

impl Running {
    /// Starts the fixture with output to `out.txt` / `err.txt` in `dir`.
    fn start(dir: &TestDir, args: &[&str]) -> Running {
        let out = File::create(dir.path("out.txt")).expect("creating out.txt");
        let err = File::create(dir.path("err.txt")).expect("creating err.txt");
        let child = fixture(args)
            .process_group(0)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting the fixture");
        Running { child }
    }

    /// The fixture's pid.
    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pids fit in i32")
    }

    /// Sends `signal` to the fixture.
    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid()), signal).expect("signalling the fixture");
    }

    /// Waits for the fixture to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let child = &mut self.child;
        wait_until(DEADLINE, "the fixture to exit", || {
            child
                .try_wait()
                .expect("waitpid on the fixture")
                .ok_or("still running")
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `dir/rel` contains `needle` and returns the file's contents.
fn wait_for_text(dir: &TestDir, rel: &str, needle: &str) -> String {
    wait_until(DEADLINE, &format!("{rel} to contain {needle:?}"), || {
        let text = dir.try_read(rel).unwrap_or_default();
        if text.contains(needle) {
            Ok(text)
        } else {
            Err(text)
        }
    })
}

#[test]
fn binaries_locates_the_fixture_cargo_built() {
    let located = binaries::fixture()
        .canonicalize()
        .expect("the located fixture exists");
    let cargo = Path::new(env!("CARGO_BIN_EXE_fixture"))
        .canonicalize()
        .expect("cargo's fixture exists");
    assert_eq!(located, cargo);
}

#[test]
fn help_and_bad_flags() {
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--spew",
        "--fail-until-count",
        "--fork-grandchild",
        "--echo-stdin",
    ] {
        assert!(
            text.contains(flag),
            "--help does not mention {flag}:\n{text}"
        );
    }
    let bad = run(&["--no-such-flag"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--no-such-flag"));
}

#[test]
fn print_eprint_and_exit_code() {
    let output = run(&[
        "--eprint",
        "oops",
        "--print",
        "hello",
        "--print",
        "world",
        "--exit-code",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello\nworld\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "oops\n");
}

#[test]
fn spew_writes_exactly_the_pattern() {
    // Not a multiple of the line length nor of the 64 KiB write size.
    let bytes = 1_000_003u64;
    let output = run(&["--print", "first", "--spew", "1000003", "--exit-code", "0"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = output
        .stdout
        .strip_prefix(b"first\n")
        .expect("--print comes before --spew");
    spew::check(stdout, bytes).unwrap_or_else(|e| panic!("{e}"));

    let output = run(&["--spew-stderr", "1MiB", "--exit-code", "0"]);
    assert!(output.stdout.is_empty());
    spew::check(&output.stderr, 1024 * 1024).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn fail_until_count_fails_then_succeeds() {
    let dir = TestDir::new();
    let counter = dir.path("counter");
    let counter = counter.to_str().expect("temp paths are UTF-8");
    let args = ["--fail-until-count", counter, "3", "--exit-code", "0"];
    assert_eq!(run(&args).status.code(), Some(1), "first run fails");
    assert_eq!(run(&args).status.code(), Some(1), "second run fails");
    assert_eq!(run(&args).status.code(), Some(0), "third run succeeds");
    assert_eq!(
        run(&args).status.code(),
        Some(0),
        "later runs keep succeeding"
    );
    assert_eq!(dir.read("counter").trim(), "4");
}

#[test]
fn ignore_sigterm_keeps_running_and_reports() {
    let dir = TestDir::new();
    let mut fixture = Running::start(&dir, &["--ignore-sigterm", "--print", "ready"]);
    wait_for_text(&dir, "out.txt", "ready\n");
    fixture.signal(Signal::SIGTERM);
    wait_for_text(&dir, "out.txt", "ready\nignored SIGTERM\n");
    fixture.signal(Signal::SIGTERM);
    wait_for_text(&dir, "out.txt", "ready\nignored SIGTERM\nignored SIGTERM\n");
    assert!(pid_alive(fixture.pid()));
    fixture.signal(Signal::SIGKILL);
    assert_eq!(fixture.wait_exit().signal(), Some(libc::SIGKILL));
}

#[test]
fn exit_on_signal_exits_with_the_code() {
    let dir = TestDir::new();
    let mut fixture = Running::start(&dir, &["--exit-on-signal", "7", "--print", "ready"]);
    wait_for_text(&dir, "out.txt", "ready\n");
    fixture.signal(Signal::SIGTERM);
    assert_eq!(fixture.wait_exit().code(), Some(7));
}

#[test]
fn sleep_dies_from_sigterm_by_default() {
    let dir = TestDir::new();
    let pidfile = dir.path("fixture.pid");
    let pidfile = pidfile.to_str().expect("temp paths are UTF-8");
    let mut fixture = Running::start(&dir, &["--pidfile", pidfile, "--sleep"]);
    let written = wait_for_text(&dir, "fixture.pid", "\n");
    assert_eq!(written.trim(), fixture.pid().to_string());
    fixture.signal(Signal::SIGTERM);
    assert_eq!(fixture.wait_exit().signal(), Some(libc::SIGTERM));
}

#[test]
fn fork_grandchild_shares_the_process_group() {
    let dir = TestDir::new();
    let path = dir.path("grandchild.pid");
    let path = path.to_str().expect("temp paths are UTF-8");
    let mut fixture = Running::start(&dir, &["--fork-grandchild", path, "--print", "ready"]);
    wait_for_text(&dir, "out.txt", "ready\n");
    let grandchild: i32 = dir
        .read("grandchild.pid")
        .trim()
        .parse()
        .expect("the grandchild pid file holds a number");
    assert!(
        pid_alive(grandchild),
        "grandchild {grandchild} is not alive"
    );
    let group = fixture.pid();
    let members = process_group_members(group);
    assert_eq!(members, {
        let mut both = vec![group, grandchild];
        both.sort_unstable();
        both
    });

    killpg(Pid::from_raw(group), Signal::SIGKILL).expect("killing the fixture's group");
    fixture.wait_exit();
    wait_until(DEADLINE, "the grandchild to die with its group", || {
        if pid_alive(grandchild) {
            Err(process_group_members(group))
        } else {
            Ok(())
        }
    });
}

#[test]
fn dumps_describe_the_process_context() {
    let dir = TestDir::new();
    let file = |name: &str| {
        dir.path(name)
            .to_str()
            .expect("temp paths are UTF-8")
            .to_owned()
    };
    let (env, cwd, umask, uid) = (file("env"), file("cwd"), file("umask"), file("uid"));
    let output = fixture(&[
        "--dump-env",
        &env,
        "--dump-cwd",
        &cwd,
        "--dump-umask",
        &umask,
        "--dump-uid",
        &uid,
        "--exit-code",
        "0",
    ])
    .env("RSUP_SELFTEST", "a=b c")
    .current_dir(dir.root())
    .output()
    .expect("running the fixture");
    assert!(output.status.success(), "{output:?}");

    let env = dir.read("env");
    assert!(
        env.lines().any(|line| line == "RSUP_SELFTEST=a=b c"),
        "{env}"
    );
    let cwd = dir.read("cwd");
    let expected_cwd = dir.root().canonicalize().expect("the temp dir exists");
    assert_eq!(Path::new(cwd.trim_end()), expected_cwd);

    // The child inherits our umask; read ours without changing it.
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let ours = status
        .lines()
        .find_map(|line| line.strip_prefix("Umask:"))
        .expect("/proc/self/status has a Umask line")
        .trim();
    assert_eq!(dir.read("umask").trim(), ours);

    let expected_uid = format!(
        "uid={}\ngid={}\neuid={}\negid={}\n",
        nix::unistd::getuid(),
        nix::unistd::getgid(),
        nix::unistd::geteuid(),
        nix::unistd::getegid()
    );
    assert_eq!(dir.read("uid"), expected_uid);
}

#[test]
fn echo_stdin_copies_lines_until_eof() {
    let mut child = fixture(&["--echo-stdin", "--print", "before", "--exit-code", "4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the fixture");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(b"one\ntwo\nno newline")
        .expect("writing to the fixture");
    drop(stdin);
    let output = child.wait_with_output().expect("waiting for the fixture");
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "before\none\ntwo\nno newline"
    );
}

#[test]
fn after_delays_the_exit() {
    let start = Instant::now();
    let output = run(&["--after", "200ms", "--exit-code", "5"]);
    assert_eq!(output.status.code(), Some(5));
    assert!(start.elapsed() >= Duration::from_millis(200));
}
