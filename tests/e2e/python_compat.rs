//! Compatibility with supervisord 4.3.0's own tools, judged against supervisord itself.
//!
//! Python supervisor 4.3.0 is installed from PyPI into a virtualenv (see
//! `rsupervisor_e2e::python`). Each test runs the real `supervisord` and our `rsupervisord`
//! on the same configuration (fixture programs, a unix socket and an `[inet_http_server]`
//! with a `{SHA}` password), drives both with the same Python client (`xmlrpc.client` through
//! supervisor's transport, or the real `supervisorctl`), normalizes what must differ (pids,
//! times, the temp dir, the server URL) and compares the rest byte for byte. Our daemon is
//! driven over the unix socket and over TCP with authentication; both must answer alike.

use crate::support::free_port;
use rsupervisor_e2e::{python, wait_until, Daemon, TestDir};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `{SHA}` of `123`, as in supervisord's sample.conf.
const PASSWORD_SHA: &str = "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef";
const USER: &str = "user";
const PASSWORD: &str = "123";

fn config(root: &Path, port: u16) -> String {
    let root = root.display();
    let fixture = rsupervisor_e2e::binaries::fixture();
    let fixture = fixture.display();
    format!(
        "[unix_http_server]\nfile={root}/s.sock\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\nusername={USER}\npassword={PASSWORD_SHA}\n\n\
         [supervisord]\nlogfile={root}/supervisord.log\npidfile={root}/supervisord.pid\n\
         childlogdir={root}/logs\nidentifier=compat\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [supervisorctl]\nserverurl=unix://{root}/s.sock\n\n\
         [program:echo]\ncommand={fixture} --print hello --eprint oops --echo-stdin\n\
         startsecs=1\nstdout_logfile={root}/echo.out\nstderr_logfile={root}/echo.err\n\n\
         [program:worker]\ncommand={fixture} --print working\n\
         process_name=worker_%(process_num)d\nnumprocs=2\nstartsecs=1\n\
         stdout_logfile={root}/%(program_name)s_%(process_num)d.out\n\
         stderr_logfile={root}/%(program_name)s_%(process_num)d.err\n"
    )
}

/// One side of the comparison: its directory, port and (for supervisord) the child.
struct Side {
    dir: TestDir,
    port: u16,
}

impl Side {
    fn new() -> Side {
        let side = Side {
            dir: TestDir::new(),
            port: free_port(),
        };
        std::fs::create_dir_all(side.dir.path("logs")).unwrap_or_else(|e| panic!("mkdir: {e}"));
        side.dir
            .write("supervisord.conf", config(side.dir.root(), side.port));
        side
    }

    fn root(&self) -> String {
        self.dir.root().display().to_string()
    }

    fn unix_url(&self) -> String {
        format!("unix://{}/s.sock", self.root())
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// XML-RPC calls through Python's xmlrpc.client; one normalized result per call.
    fn calls(&self, url: &str, auth: bool, calls: &Value) -> Vec<Value> {
        let (user, password) = if auth { (USER, PASSWORD) } else { ("", "") };
        let mut command = Command::new(python::supervisor_bin().join("python"));
        command
            .arg(python::script("xmlrpc_calls.py"))
            .args([url, user, password, &self.root()]);
        json_lines(command, &calls.to_string())
    }

    /// supervisorctl verbs, each its own run; one normalized result per verb.
    fn ctl(&self, url: &str, auth: bool, verbs: &Value) -> Vec<Value> {
        let mut command = Command::new(python::supervisor_bin().join("python"));
        command
            .arg(python::script("ctl_run.py"))
            .arg(python::supervisor_bin().join("supervisorctl"))
            .args([&self.root(), url, "--"])
            .arg("-c")
            .arg(self.dir.path("supervisord.conf"))
            .args(["-s", url]);
        if auth {
            command.args(["-u", USER, "-p", PASSWORD]);
        }
        json_lines(command, &verbs.to_string())
    }

    fn wait_all_running(&self) {
        wait_until(Duration::from_secs(20), "every process RUNNING", || {
            let infos = self.calls(
                &self.unix_url(),
                false,
                &json!([["supervisor.getAllProcessInfo", []]]),
            );
            let text = infos[0].to_string();
            if text.matches("\"RUNNING\"").count() == 3 {
                Ok(())
            } else {
                Err(text)
            }
        });
    }
}

fn json_lines(mut command: Command, input: &str) -> Vec<Value> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("writing to {command:?}: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The real supervisord, stopped on drop.
struct Supervisord {
    child: Child,
}

impl Supervisord {
    fn start(side: &Side) -> Supervisord {
        let child = Command::new(python::supervisor_bin().join("supervisord"))
            .arg("-n")
            .arg("-c")
            .arg(side.dir.path("supervisord.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting supervisord: {e}"));
        let socket = side.dir.path("s.sock");
        wait_until(Duration::from_secs(20), "supervisord's socket", || {
            std::os::unix::net::UnixStream::connect(&socket).map(drop)
        });
        Supervisord { child }
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Lists every position where `ours` differs from `reference`.
fn differences(what: &str, reference: &[Value], ours: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    if reference.len() != ours.len() {
        found.push(format!(
            "{what}: {} answers from supervisord, {} from rsupervisord",
            reference.len(),
            ours.len()
        ));
    }
    for (expected, actual) in reference.iter().zip(ours) {
        if expected != actual {
            found.push(format!(
                "{what}:\n  supervisord:  {expected}\n  rsupervisord: {actual}"
            ));
        }
    }
    found
}

/// Every supervisord method with arguments whose answers do not depend on timing.
fn xmlrpc_calls() -> Value {
    json!([
        ["supervisor.getAPIVersion", []],
        ["supervisor.getVersion", []],
        ["supervisor.getSupervisorVersion", []],
        ["supervisor.getIdentification", []],
        ["supervisor.getState", []],
        ["supervisor.getPID", []],
        ["supervisor.getProcessInfo", ["echo"]],
        ["supervisor.getProcessInfo", ["nosuch"]],
        ["supervisor.getProcessInfo", ["worker"]],
        ["supervisor.getAllProcessInfo", []],
        ["supervisor.getAllConfigInfo", []],
        ["supervisor.readProcessStdoutLog", ["echo", 0, 0]],
        ["supervisor.readProcessLog", ["echo", -3, 0]],
        ["supervisor.readProcessStderrLog", ["echo", 0, 2]],
        ["supervisor.readProcessStdoutLog", ["echo", -5, 5]],
        ["supervisor.readProcessStdoutLog", ["nosuch", 0, 0]],
        ["supervisor.tailProcessStdoutLog", ["echo", 0, 3]],
        ["supervisor.tailProcessLog", ["echo", 0, 100]],
        ["supervisor.tailProcessStderrLog", ["echo", 2, 100]],
        ["supervisor.sendProcessStdin", ["echo", "typed\n"]],
        ["supervisor.sendProcessStdin", ["nosuch", "x"]],
        ["supervisor.readLog", [-5, 5]],
        ["supervisor.readMainLog", [0, -1]],
        ["supervisor.signalProcess", ["echo", "CONT"]],
        ["supervisor.signalProcess", ["echo", 18]],
        ["supervisor.signalProcess", ["echo", "FOO"]],
        ["supervisor.signalProcess", ["echo", 99]],
        ["supervisor.signalProcess", ["nosuch", "CONT"]],
        ["supervisor.signalProcessGroup", ["worker", "CONT"]],
        ["supervisor.signalAllProcesses", ["CONT"]],
        ["supervisor.stopProcess", ["echo"]],
        ["supervisor.stopProcess", ["echo"]],
        ["supervisor.signalProcess", ["echo", "CONT"]],
        ["supervisor.sendProcessStdin", ["echo", "x"]],
        ["supervisor.clearProcessLogs", ["echo"]],
        ["supervisor.clearProcessLog", ["nosuch"]],
        ["supervisor.startProcess", ["echo"]],
        ["supervisor.startProcess", ["echo"]],
        ["supervisor.startProcess", ["nosuch"]],
        ["supervisor.stopProcessGroup", ["worker"]],
        ["supervisor.stopProcessGroup", ["nosuch"]],
        ["supervisor.startProcessGroup", ["worker"]],
        ["supervisor.stopProcess", ["worker:*"]],
        ["supervisor.startProcess", ["worker:*", true]],
        ["supervisor.stopAllProcesses", []],
        ["supervisor.startAllProcesses", [true]],
        ["supervisor.clearAllProcessLogs", []],
        ["supervisor.tailProcessStdoutLog", ["echo", 0, 100]],
        ["supervisor.reloadConfig", []],
        ["supervisor.addProcessGroup", ["worker"]],
        ["supervisor.addProcessGroup", ["nosuch"]],
        ["supervisor.removeProcessGroup", ["worker"]],
        ["system.methodSignature", ["supervisor.startProcess"]],
        ["system.methodSignature", ["supervisor.nosuch"]],
        ["system.methodHelp", ["supervisor.nosuch"]],
        ["system.multicall", [[
            {"methodName": "supervisor.getState", "params": []},
            {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
            {"methodName": "supervisor.tailProcessStdoutLog", "params": ["echo", 0, 1]},
            {"methodName": "system.multicall", "params": []},
            {"params": []}
        ]]],
        ["supervisor.nosuch", []],
        ["nonamespace", []],
        ["supervisor.getState", [1]],
        ["supervisor.clearLog", []],
        ["supervisor.shutdown", []]
    ])
}

#[test]
fn xmlrpc_answers_match_supervisord() {
    let reference = Side::new();
    let ours = Side::new();
    let supervisord = Supervisord::start(&reference);
    let daemon = Daemon::command(&ours.dir)
        .config(ours.dir.path("supervisord.conf"))
        .start();
    reference.wait_all_running();
    ours.wait_all_running();

    // Methods, aliases and signatures: ours lists every one of supervisord's plus our
    // additions.
    let lists = json!([["system.listMethods", []]]);
    let theirs = reference.calls(&reference.unix_url(), false, &lists);
    let mine = ours.calls(&ours.unix_url(), false, &lists);
    let mine_text = mine[0].to_string();
    for name in theirs[0]["ok"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        assert!(
            mine_text.contains(&format!("\"{name}\"")),
            "{name} missing: {mine_text}"
        );
    }
    let signatures: Vec<Value> = theirs[0]["ok"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|name| json!(["system.methodSignature", [name]]))
        .collect();
    let mut diffs = differences(
        "system.methodSignature",
        &reference.calls(&reference.unix_url(), false, &json!(signatures)),
        &ours.calls(&ours.unix_url(), false, &json!(signatures)),
    );

    // Byte for byte over raw HTTP: a result, a fault, a bad body, a missing login.
    for (body, auth) in [
        (GET_STATE, true),
        (PROCESS_INFO_NOSUCH, true),
        ("<bad", true),
        (GET_STATE, false),
    ] {
        let theirs = raw_post(reference.port, body, auth);
        let mine = raw_post(ours.port, body, auth);
        if theirs != mine {
            diffs.push(format!(
                "raw POST /RPC2 {body:?} (auth {auth}):\n  supervisord:  {theirs:?}\n  rsupervisord: {mine:?}"
            ));
        }
    }

    // Every method, over the unix socket for both and over TCP with auth for ours.
    let calls = xmlrpc_calls();
    let theirs = reference.calls(&reference.unix_url(), false, &calls);
    let mine_unix = ours.calls(&ours.unix_url(), false, &calls);
    diffs.extend(differences(
        "XML-RPC over the unix socket",
        &theirs,
        &mine_unix,
    ));
    drop(daemon);
    drop(supervisord);

    let ours_tcp = Side::new();
    let _daemon = Daemon::command(&ours_tcp.dir)
        .config(ours_tcp.dir.path("supervisord.conf"))
        .start();
    ours_tcp.wait_all_running();
    let mine_tcp = ours_tcp.calls(&ours_tcp.http_url(), true, &calls);
    diffs.extend(differences(
        "XML-RPC over TCP with auth",
        &theirs,
        &mine_tcp,
    ));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

const GET_STATE: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n";
const PROCESS_INFO_NOSUCH: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getProcessInfo</methodName>\n<params>\n<param>\n<value><string>nosuch</string></value>\n</param>\n</params>\n</methodCall>\n";

/// Status code, the headers that matter (content type, challenge) and the body of a raw
/// `POST /RPC2`.
fn raw_post(port: u16, body: &str, auth: bool) -> (u16, Option<String>, Option<String>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connecting to port {port}: {e}"));
    // A daemon that never answers fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap_or_else(|e| panic!("setting a read timeout: {e}"));
    let authorization = if auth {
        "Authorization: Basic dXNlcjoxMjM=\r\n" // user:123
    } else {
        ""
    };
    let request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n{authorization}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("writing: {e}"));
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .unwrap_or_else(|e| panic!("reading: {e}"));
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    (
        status,
        header("content-type"),
        header("www-authenticate"),
        body.to_owned(),
    )
}

/// Every supervisorctl verb whose output does not depend on timing, in an order that
/// exercises each one's success and error paths.
fn ctl_verbs(url: &str) -> Value {
    json!([
        ["status"],
        ["status", "echo"],
        ["status", "nosuch"],
        ["stop", "echo"],
        ["stop", "echo"],
        ["status"],
        ["start", "echo"],
        ["start", "echo"],
        ["restart", "echo"],
        ["stop", "worker:*"],
        ["start", "worker:*"],
        ["restart", "all"],
        ["signal", "CONT", "echo"],
        ["signal", "FOO", "echo"],
        ["signal", "CONT", "worker:*"],
        ["signal", "CONT", "nosuch"],
        ["pid", "nosuch"],
        ["version"],
        ["avail"],
        ["reread"],
        ["update"],
        ["update", "nosuch"],
        ["tail", "echo"],
        ["tail", "-3", "echo"],
        ["tail", "echo", "stderr"],
        ["tail", "nosuch"],
        ["clear", "echo"],
        ["tail", "echo"],
        ["clear", "nosuch"],
        ["stop", "nosuch"],
        ["start", "nosuch:*"],
        ["remove", "worker"],
        ["stop", "worker:*"],
        ["remove", "worker"],
        ["add", "worker"],
        ["add", "worker"],
        ["add", "nosuch"],
        ["status"],
        ["open", url],
        ["help"],
        ["help", "start"],
        ["stop", "all"],
        ["start", "all"],
        ["status"]
    ])
}

#[test]
fn python_supervisorctl_output_matches_supervisord() {
    let reference = Side::new();
    let ours = Side::new();
    let _supervisord = Supervisord::start(&reference);
    let mut daemon = Daemon::command(&ours.dir)
        .config(ours.dir.path("supervisord.conf"))
        .start();
    reference.wait_all_running();
    ours.wait_all_running();
    let mut diffs = Vec::new();
    let theirs = reference.ctl(
        &reference.unix_url(),
        false,
        &ctl_verbs(&reference.unix_url()),
    );
    let mine = ours.ctl(&ours.unix_url(), false, &ctl_verbs(&ours.unix_url()));
    diffs.extend(differences(
        "supervisorctl over the unix socket",
        &theirs,
        &mine,
    ));
    let mine_tcp = ours.ctl(&ours.http_url(), true, &ctl_verbs(&ours.http_url()));
    diffs.extend(differences(
        "supervisorctl over TCP with auth",
        &theirs,
        &mine_tcp,
    ));

    // The verbs whose output depends on timing or on the main log's content: pid, maintail,
    // tail -f, fg, reload and shutdown, checked on our daemon for supervisord's form.
    for (url, auth) in [(ours.unix_url(), false), (ours.http_url(), true)] {
        let out = ours.ctl(
            &url,
            auth,
            &json!([
                ["pid"],
                ["pid", "echo"],
                ["pid", "all"],
                ["maintail", "-200"]
            ]),
        );
        let daemon_pid = daemon.pid().to_string();
        assert_eq!(out[0]["out"], format!("{daemon_pid}\n"), "{out:?}");
        let echo_pid = out[1]["out"].as_str().unwrap_or_default().trim().to_owned();
        assert!(echo_pid.parse::<u32>().is_ok_and(|pid| pid > 0), "{out:?}");
        assert_eq!(
            out[2]["out"].as_str().unwrap_or_default().lines().count(),
            3
        );
        let tail = out[3]["out"].as_str().unwrap_or_default();
        assert!(
            tail.contains(" INFO ") && tail.len() <= 202 && tail.ends_with("\n\n"),
            "{out:?}"
        );
        follow_check(&ours, &url, auth, &["tail", "-f", "echo"], "hello");
        follow_check(&ours, &url, auth, &["maintail", "-f"], "INFO");
        follow_check(&ours, &url, auth, &["fg", "echo"], "hello");
    }
    let out = ours.ctl(&ours.http_url(), true, &json!([["reload"]]));
    assert_eq!(out[0]["out"], "Restarted supervisord\n", "{out:?}");
    ours.wait_all_running();
    let out = ours.ctl(&ours.http_url(), true, &json!([["shutdown"]]));
    assert_eq!(out[0]["out"], "Shut down\n", "{out:?}");
    let status = daemon.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status}");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Runs a streaming verb until `expected` shows up (deadline 15 s), then interrupts it as
/// an operator's Ctrl-C would.
fn follow_check(side: &Side, url: &str, auth: bool, args: &[&str], expected: &str) {
    let path = side.dir.path(format!(
        "follow-{}.out",
        Instant::now().elapsed().as_nanos()
    ));
    let output = std::fs::File::create(&path).unwrap_or_else(|e| panic!("creating: {e}"));
    let mut command = Command::new(python::supervisor_bin().join("supervisorctl"));
    command
        .arg("-c")
        .arg(side.dir.path("supervisord.conf"))
        .args(["-s", url]);
    if auth {
        command.args(["-u", USER, "-p", PASSWORD]);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(output.try_clone().unwrap_or_else(|e| panic!("{e}")))
        .stderr(output)
        .spawn()
        .unwrap_or_else(|e| panic!("running supervisorctl: {e}"));
    let seen = wait_until(
        Duration::from_secs(15),
        &format!("supervisorctl {args:?} to print {expected:?}"),
        || {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.starts_with("==> Press Ctrl-C to exit <==") && text.contains(expected) {
                Ok(text)
            } else {
                Err(text)
            }
        },
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    let _ = child.wait();
    assert!(!seen.contains("Error"), "{seen}");
}

/// A config of our own for the server checks: one slow starter, TCP with auth.
fn server_config(dir: &TestDir, port: u16) -> std::path::PathBuf {
    dir.write_config(
        "server.conf",
        &format!(
            "[unix_http_server]\nfile={{dir}}/s.sock\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\nusername={USER}\npassword={PASSWORD_SHA}\n\n\
             [supervisord]\nlogfile={{dir}}/supervisord.log\npidfile={{dir}}/supervisord.pid\n\n\
             [supervisorctl]\nserverurl=unix://{{dir}}/s.sock\n\n\
             [program:slow]\ncommand={{fixture}} --sleep\nautostart=false\nstartsecs=3\n\
             stdout_logfile={{dir}}/slow.out\n\n\
             [program:talker]\ncommand={{fixture}} --print hello\nstartsecs=0\n\
             stdout_logfile={{dir}}/talker.out\n"
        ),
    )
}

fn call_body(method: &str, params: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params}</params>\n</methodCall>\n"
    )
}

#[test]
fn deferred_start_does_not_block_other_clients() {
    let dir = TestDir::new();
    let port = free_port();
    let config = server_config(&dir, port);
    let daemon = Daemon::command(&dir).config(config).start();
    let started = Instant::now();
    let slow = std::thread::spawn(move || {
        raw_post(
            port,
            &call_body(
                "supervisor.startProcess",
                "<param>\n<value><string>slow</string></value>\n</param>\n",
            ),
            true,
        )
    });
    rsupervisor_e2e::wait_state(&daemon, "slow", "STARTING", Duration::from_secs(10));
    // While the start waits out startsecs, another client is answered at once.
    let (status, _, _, body) = raw_post(port, GET_STATE, true);
    assert_eq!(status, 200);
    assert!(body.contains("<string>RUNNING</string>"), "{body}");
    assert!(!slow.is_finished(), "the start should still be waiting");
    let (status, _, _, body) = slow.join().unwrap_or_else(|_| panic!("start thread"));
    assert_eq!(status, 200);
    assert!(body.contains("<boolean>1</boolean>"), "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn one_listener_dispatches_by_path_and_content_type() {
    let dir = TestDir::new();
    let port = free_port();
    let config = server_config(&dir, port);
    let _daemon = Daemon::command(&dir).config(config).start();
    let request = |head: &str, body: &str| -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connecting to port {port}: {e}"));
        let text = format!(
            "{head}\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("writing: {e}"));
        // A log stream never ends by itself: whatever arrived within 5 s is the answer.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    };
    const AUTH: &str = "Authorization: Basic dXNlcjoxMjM=";
    // JSON-RPC on /RPC2 by content type, and on any other path.
    let json = r#"{"jsonrpc":"2.0","id":1,"method":"supervisor.getAPIVersion","params":[]}"#;
    for path in ["/RPC2", "/"] {
        let out = request(
            &format!("POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n{AUTH}"),
            json,
        );
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.contains(r#""result":"3.0""#), "{out}");
    }
    // XML-RPC on any path under /RPC2.
    let out = request(
        &format!("POST /RPC2/x HTTP/1.1\r\nContent-Type: text/xml\r\n{AUTH}"),
        &call_body("supervisor.getAPIVersion", ""),
    );
    assert!(out.contains("<value><string>3.0</string></value>"), "{out}");
    // The log tails: unknown names and logs not yet written are 404, a GET without
    // credentials 401, as supervisord.
    let out = request(&format!("GET /logtail/nosuch HTTP/1.1\r\n{AUTH}"), "");
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    let out = request(&format!("GET /logtail/slow HTTP/1.1\r\n{AUTH}"), "");
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    let out = request("GET /mainlogtail HTTP/1.1", "");
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");
    assert!(out.contains("Basic realm=\"default\""), "{out}");
    // An existing log streams its end, chunked.
    let out = request(&format!("GET /mainlogtail HTTP/1.1\r\n{AUTH}"), "");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("transfer-encoding: chunked"), "{out}");
    assert!(out.contains("supervisord started with pid"), "{out}");
    let out = request(&format!("POST /mainlogtail HTTP/1.1\r\n{AUTH}"), "");
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
}

#[test]
fn a_port_in_use_is_refused_with_supervisords_words() {
    let dir = TestDir::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = taken
        .local_addr()
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let config = server_config(&dir, port);
    let failure = Daemon::command(&dir).config(config).start_expect_fail();
    assert_eq!(failure.status.code(), Some(2), "{failure:?}");
    assert!(
        failure.stderr.contains(
            "Error: Another program is already listening on a port that one of our HTTP servers is configured to use."
        ),
        "{failure:?}"
    );
    drop(taken);
}

#[test]
fn rsupervisorctl_drives_a_daemon_over_tcp() {
    let dir = TestDir::new();
    let port = free_port();
    let config = server_config(&dir, port);
    let _daemon = Daemon::command(&dir).config(&config).start();
    let url = format!("http://127.0.0.1:{port}");
    let ctl = |args: &[&str]| {
        rsupervisor_e2e::Ctl::new(&dir)
            .config(&config)
            .args(&["-s", &url, "-u", USER, "-p", PASSWORD])
            .args(args)
            .run()
    };
    let out = ctl(&["start", "slow"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "slow: started\n", "{out}");
    let out = ctl(&["status", "slow"]);
    out.assert_status(0);
    assert!(out.stdout.contains("RUNNING"), "{out}");
    let out = ctl(&["stop", "slow"]);
    assert_eq!(out.stdout, "slow: stopped\n", "{out}");
    // Wrong or missing credentials: told so, not served.
    let out = rsupervisor_e2e::Ctl::new(&dir)
        .config(&config)
        .args(&["-s", &url, "-u", USER, "-p", "wrong", "status"])
        .run();
    assert_ne!(out.status, 0, "{out}");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("Server requires authentication"),
        "{out}"
    );
    // tail -f: the WebSocket subscription over TCP.
    let path = dir.path("tail-f.out");
    let output = std::fs::File::create(&path).unwrap_or_else(|e| panic!("creating: {e}"));
    let mut child = Command::new(rsupervisor_e2e::binaries::rsupervisorctl())
        .arg("-c")
        .arg(&config)
        .args([
            "-s", &url, "-u", USER, "-p", PASSWORD, "tail", "-f", "talker",
        ])
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting rsupervisorctl: {e}"));
    wait_until(
        Duration::from_secs(10),
        "tail -f over TCP to print hello",
        || {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains("hello") {
                Ok(())
            } else {
                Err(text)
            }
        },
    );
    let _ = child.kill();
    let _ = child.wait();
}
