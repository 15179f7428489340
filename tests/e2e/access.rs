//! Access control and the audit trail: a caller without the control role is refused on
//! every surface (JSON-RPC through rsupervisorctl and raw, XML-RPC, REST) and the refusal
//! is audited; every control action from every surface is audited with the caller's uid;
//! bearer tokens; signals to the daemon; `rsupervisorctl audit`.
//!
//! Callers of other uids are real processes: rsupervisorctl, or the fixture's
//! `--http-request` client, started as `nobody` or `daemon`, so the uids come from
//! SO_PEERCRED. The tests need root and skip otherwise.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use nix::sys::signal::Signal;
use rsupervisor_e2e::{wait_state, wait_until, Ctl, Daemon, TestDir};
use serde_json::{json, Value};

use crate::support::*;

/// A user of the system, for SO_PEERCRED.
#[derive(Clone, Copy)]
struct As {
    uid: u32,
    gid: u32,
}

fn user(name: &str) -> As {
    let user = nix::unistd::User::from_name(name)
        .expect("reading the user database")
        .unwrap_or_else(|| panic!("a user named {name}"));
    As {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    }
}

const TOKEN: &str = "ci-secret-0123456789abcdef";

/// A daemon whose socket anyone may open, where `nobody` may read, `daemon` may control,
/// and the token `ci` has control; with an audit log.
fn start(dir: &TestDir) -> Daemon<'_> {
    // Other users must reach the socket and read the config (for the ctl).
    std::fs::set_permissions(dir.root(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::create_dir_all(dir.path("logs")).expect("mkdir logs");
    dir.write(
        "tokens",
        format!("# name role secret\nci control {TOKEN}\n"),
    );
    dir.write_config(
        dir.config_path(),
        "[unix_http_server]\nfile={socket}\nchmod=0777\nread_users=nobody\n\
         control_users=daemon\ntokens_file={dir}/tokens\n\n\
         [supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         childlogdir={dir}/logs\naudit_logfile={dir}/audit.log\n\n\
         [supervisorctl]\nserverurl=unix://{socket}\n\n\
         [program:web]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    daemon
}

/// Sends one HTTP request as `who` through the fixture's raw client; returns the status
/// and the body.
fn http_as(
    daemon: &Daemon<'_>,
    who: As,
    path: &str,
    headers: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut command = Command::new(rsupervisor_e2e::binaries::fixture());
    std::os::unix::process::CommandExt::uid(&mut command, who.uid);
    std::os::unix::process::CommandExt::gid(&mut command, who.gid);
    let mut child = command
        .arg("--http-request")
        .arg(daemon.socket())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the fixture client");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(request.as_bytes()).expect("request");
    }
    // The client gives up after 30 s by itself (socket read timeout).
    let output = child.wait_with_output().expect("fixture client");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn xml_call(method: &str, name: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>\
         <param><value><string>{name}</string></value></param></params></methodCall>"
    )
}

fn json_call(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
}

/// The audit log's records.
fn records(dir: &TestDir) -> Vec<Value> {
    dir.try_read("audit.log")
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The one record of `surface`/`method` with `result`; panics with the whole log otherwise.
#[track_caller]
fn record<'r>(all: &'r [Value], surface: &str, method: &str, result: &str) -> &'r Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|r| r["surface"] == surface && r["method"] == method && r["result"] == result)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {surface} {method} {result} record expected in:\n{}",
        all.iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    found[0]
}

fn skip_unless_root() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return false;
    }
    eprintln!("skipped: running callers as other users needs root");
    true
}

#[test]
fn callers_without_control_are_refused_and_audited_on_every_surface() {
    if skip_unless_root() {
        return;
    }
    let nobody = user("nobody");
    let dir = TestDir::new();
    let daemon = start(&dir);

    // Reading is allowed and not audited.
    let status = Ctl::new(&dir)
        .as_user(nobody.uid, nobody.gid)
        .args(&["status"])
        .run();
    status.assert_status(0);
    assert!(status.stdout.contains("RUNNING"), "{}", status.stdout);

    // JSON-RPC through rsupervisorctl.
    let stop = Ctl::new(&dir)
        .as_user(nobody.uid, nobody.gid)
        .args(&["stop", "web"])
        .run();
    assert_ne!(stop.status, 0, "{stop:?}");
    assert!(
        stop.stdout
            .contains("FORBIDDEN: supervisor.stopProcess: it needs the control role"),
        "{stop:?}"
    );
    // XML-RPC.
    let (code, body) = http_as(
        &daemon,
        nobody,
        "/RPC2",
        "",
        "text/xml",
        &xml_call("supervisor.stopProcess", "web"),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<int>403</int>"), "{body}");
    assert!(
        body.contains("FORBIDDEN: supervisor.stopProcess: it needs the control role"),
        "{body}"
    );
    // REST.
    let (code, body) = http_as(
        &daemon,
        nobody,
        "/api/v1/programs/web/stop",
        "",
        "application/json",
        "",
    );
    assert_eq!(code, 403, "{body}");
    let error: Value = serde_json::from_str(&body).expect("JSON error");
    assert_eq!(error["error"]["fault"], "FORBIDDEN", "{body}");
    // Raw JSON-RPC, in a multicall hiding a control call among reads.
    let (code, body) = http_as(
        &daemon,
        nobody,
        "/",
        "",
        "application/json",
        &json_call(
            "system.multicall",
            json!([[{"methodName": "supervisor.getState", "params": []},
                    {"methodName": "supervisor.shutdown", "params": []}]]),
        ),
    );
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON-RPC answer");
    assert_eq!(answer["error"]["code"], 403, "{body}");
    assert_eq!(daemon.process("web")["statename"], "RUNNING");

    let all = records(&dir);
    for surface in ["jsonrpc", "xmlrpc", "rest"] {
        let denied = record(&all, surface, "supervisor.stopProcess", "denied");
        assert_eq!(denied["caller"]["uid"], nobody.uid, "{denied}");
        assert_eq!(denied["caller"]["user"], "nobody", "{denied}");
        assert!(denied["caller"]["pid"].as_i64().is_some(), "{denied}");
        assert_eq!(denied["params"][0], "web", "{denied}");
        assert_eq!(denied["fault"]["code"], 403, "{denied}");
    }
    let multicall = record(&all, "jsonrpc", "system.multicall", "denied");
    assert_eq!(
        multicall["params"][0][1]["methodName"], "supervisor.shutdown",
        "{multicall}"
    );
    assert!(
        all.iter()
            .all(|r| r["method"] != "supervisor.getAllProcessInfo"),
        "reads are not audited"
    );
}

#[test]
fn control_actions_are_audited_with_the_callers_uid() {
    if skip_unless_root() {
        return;
    }
    let operator = user("daemon");
    let nobody = user("nobody");
    let dir = TestDir::new();
    let daemon = start(&dir);

    // JSON-RPC through rsupervisorctl, as a listed control user.
    let stop = Ctl::new(&dir)
        .as_user(operator.uid, operator.gid)
        .args(&["stop", "web"])
        .run();
    stop.assert_status(0);
    assert_eq!(stop.stdout, "web: stopped\n");
    // XML-RPC.
    let (code, body) = http_as(
        &daemon,
        operator,
        "/RPC2",
        "",
        "text/xml",
        &xml_call("supervisor.startProcess", "web"),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<boolean>1</boolean>"), "{body}");
    // REST.
    let (code, body) = http_as(
        &daemon,
        operator,
        "/api/v1/programs/web/stop",
        "",
        "application/json",
        "",
    );
    assert_eq!(code, 200, "{body}");
    // A fault is audited as such (root always has control on the socket).
    let fault = daemon
        .rpc("supervisor.stopProcess", json!(["web"]))
        .expect_err("already stopped");
    assert_eq!(fault.code, NOT_RUNNING);
    // A bearer token gives its role to whoever holds it.
    let (code, body) = http_as(
        &daemon,
        nobody,
        "/api/v1/programs/web/start",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
        "application/json",
        "",
    );
    assert_eq!(code, 200, "{body}");
    let (code, _) = http_as(
        &daemon,
        nobody,
        "/api/v1/programs/web/stop",
        "Authorization: Bearer not-the-secret-at-all\r\n",
        "application/json",
        "",
    );
    assert_eq!(code, 401);
    // A signal to the daemon.
    daemon.signal(Signal::SIGUSR2);
    wait_until(DEADLINE, "the SIGUSR2 audit record", || {
        let all = records(&dir);
        if all.iter().any(|r| r["surface"] == "signal") {
            Ok(())
        } else {
            Err(format!("{all:?}"))
        }
    });

    let all = records(&dir);
    let ctl = record(&all, "jsonrpc", "supervisor.stopProcess", "ok");
    assert_eq!(ctl["caller"]["uid"], operator.uid, "{ctl}");
    assert_eq!(ctl["caller"]["user"], "daemon", "{ctl}");
    let xml = record(&all, "xmlrpc", "supervisor.startProcess", "ok");
    assert_eq!(xml["caller"]["uid"], operator.uid, "{xml}");
    let rest = record(&all, "rest", "supervisor.stopProcess", "ok");
    assert_eq!(rest["caller"]["uid"], operator.uid, "{rest}");
    assert_eq!(rest["params"], json!(["web", true]), "{rest}");
    let failed = record(&all, "jsonrpc", "supervisor.stopProcess", "fault");
    assert_eq!(failed["caller"]["uid"], 0, "{failed}");
    assert_eq!(failed["fault"]["code"], NOT_RUNNING, "{failed}");
    assert_eq!(failed["fault"]["text"], "NOT_RUNNING: web", "{failed}");
    let token = record(&all, "rest", "supervisor.startProcess", "ok");
    assert_eq!(token["caller"]["token"], "ci", "{token}");
    assert_eq!(token["caller"]["uid"], nobody.uid, "{token}");
    let signal = record(&all, "signal", "SIGUSR2", "ok");
    assert!(
        signal["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{signal}"
    );

    // `rsupervisorctl audit`, with the read role.
    let last = Ctl::new(&dir)
        .as_user(nobody.uid, nobody.gid)
        .args(&["audit", "-n", "2", "--json"])
        .run();
    last.assert_status(0);
    let shown: Vec<Value> = last
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON record"))
        .collect();
    assert_eq!(shown, all[all.len() - 2..].to_vec(), "{}", last.stdout);
    let text = Ctl::new(&dir)
        .as_user(nobody.uid, nobody.gid)
        .args(&["audit"])
        .run();
    text.assert_status(0);
    assert!(
        text.stdout
            .contains(&format!("user=daemon,uid={},pid=", operator.uid))
            && text
                .stdout
                .contains("jsonrpc  supervisor.stopProcess [\"web\",true]  ok"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("signal  SIGUSR2  ok"),
        "{}",
        text.stdout
    );
}

#[test]
fn audit_follow_prints_new_records() {
    if skip_unless_root() {
        return;
    }
    let nobody = user("nobody");
    let dir = TestDir::new();
    let daemon = start(&dir);
    let out_path = dir.path("follow.stdout");
    let stdout = std::fs::File::create(&out_path).expect("create");
    let mut command = Command::new(rsupervisor_e2e::binaries::rsupervisorctl());
    std::os::unix::process::CommandExt::uid(&mut command, nobody.uid);
    std::os::unix::process::CommandExt::gid(&mut command, nobody.gid);
    let mut follower = command
        .arg("-c")
        .arg(dir.config_path())
        .args(["audit", "-f", "--json"])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("starting rsupervisorctl audit -f");
    // A record written after the follow began, or just before (then it is in the history
    // the follow starts with): either way it must appear.
    daemon.rpc_ok("supervisor.stopProcess", json!(["web"]));
    let seen = wait_until(DEADLINE, "the stop record in audit -f", || {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        let records: Vec<Value> = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        match records
            .iter()
            .find(|r| r["method"] == "supervisor.stopProcess" && r["result"] == "ok")
        {
            Some(record) => Ok(record.clone()),
            None => Err(text),
        }
    });
    assert_eq!(seen["caller"]["uid"], 0, "{seen}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(follower.id()).expect("pid")),
        Signal::SIGINT,
    )
    .expect("SIGINT");
    let status = wait_until(DEADLINE, "audit -f to end on Ctrl-C", || {
        match follower.try_wait() {
            Ok(Some(status)) => Ok(status),
            other => Err(format!("{other:?}")),
        }
    });
    assert!(status.success(), "{status:?}");
}

/// Over TCP the caller is its address and its basic-auth user or token; needs no root.
#[test]
fn tcp_callers_are_their_user_or_token_and_address() {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let dir = TestDir::new();
    std::fs::create_dir_all(dir.path("logs")).expect("mkdir logs");
    dir.write("tokens", format!("grafana read {TOKEN}\n"));
    dir.write_config(
        dir.config_path(),
        &format!(
            "[unix_http_server]\nfile={{socket}}\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\nusername=alice\npassword=pw\n\
             control_users=alice\ntokens_file={{dir}}/tokens\n\n\
             [supervisord]\nlogfile={{dir}}/supervisord.log\npidfile={{dir}}/supervisord.pid\n\
             childlogdir={{dir}}/logs\naudit_logfile={{dir}}/audit.log\n\n\
             [supervisorctl]\nserverurl=unix://{{socket}}\n\n\
             [program:web]\ncommand={{fixture}} --sleep\nstartsecs=0\n"
        ),
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    let post = |path: &str, authorization: &str| -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(DEADLINE))
            .expect("read timeout");
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Content-Length: 0\r\n\
             Connection: close\r\n\r\n"
        )
        .expect("send");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {text}"));
        (status, text)
    };
    let basic = "Authorization: Basic YWxpY2U6cHc=\r\n"; // alice:pw
    let (code, text) = post(
        "/api/v1/programs/web/stop",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
    );
    assert_eq!(code, 403, "{text}");
    let (code, text) = post("/api/v1/programs/web/stop", "");
    assert_eq!(code, 401, "{text}");
    let (code, text) = post("/api/v1/programs/web/stop", basic);
    assert_eq!(code, 200, "{text}");

    let all = records(&dir);
    let denied = record(&all, "rest", "supervisor.stopProcess", "denied");
    assert_eq!(denied["caller"]["token"], "grafana", "{denied}");
    assert!(
        denied["caller"]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{denied}"
    );
    assert!(denied["caller"]["uid"].is_null(), "{denied}");
    let done = record(&all, "rest", "supervisor.stopProcess", "ok");
    assert_eq!(done["caller"]["user"], "alice", "{done}");
    assert!(done["caller"]["address"].is_string(), "{done}");
    assert_eq!(all.len(), 2, "the 401 is not an action: {all:?}");
}
