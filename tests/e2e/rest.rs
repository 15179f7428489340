//! The REST API under `/api/v1`, its Server-Sent Events, `/metrics`, `/healthz` and the
//! dashboard page, over the daemon's Unix socket (the same router serves
//! `[inet_http_server]`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use rsupervisor_e2e::rpc::{request, HttpResponse};
use rsupervisor_e2e::{info_pid, wait_state, Daemon, TestDir};
use serde_json::{json, Value};

use crate::support::*;

fn http(daemon: &Daemon<'_>, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let content_type = (!bytes.is_empty()).then_some("application/json");
    request(daemon.socket(), method, path, content_type, &bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// The JSON body of a response with `status`.
#[track_caller]
fn json_of(response: &HttpResponse, status: u16) -> Value {
    let text = String::from_utf8_lossy(&response.body);
    assert_eq!(response.status, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn get(daemon: &Daemon<'_>, path: &str, status: u16) -> Value {
    json_of(&http(daemon, "GET", path, None), status)
}

fn post(daemon: &Daemon<'_>, path: &str, body: Option<Value>, status: u16) -> Value {
    json_of(&http(daemon, "POST", path, body), status)
}

/// Opens a Server-Sent Events stream at `path`, runs `trigger`, and reads until the stream
/// holds `needle`; returns everything read.
fn sse_until(daemon: &Daemon<'_>, path: &str, trigger: impl FnOnce(), needle: &str) -> String {
    let mut stream = UnixStream::connect(daemon.socket()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("send");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut read_some = |seen: &mut Vec<u8>| match stream.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            seen.extend_from_slice(&chunk[..n]);
            true
        }
        Err(_) => true, // a read timeout: go on until the deadline
    };
    // The response head arrives once the subscription is in place.
    let deadline = Instant::now() + DEADLINE;
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        assert!(
            Instant::now() < deadline && read_some(&mut seen),
            "no SSE head: {seen:?}"
        );
    }
    let head = String::from_utf8_lossy(&seen).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    trigger();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        assert!(
            Instant::now() < deadline && read_some(&mut seen),
            "{needle:?} not in the stream within {DEADLINE:?}:\n{}",
            String::from_utf8_lossy(&seen)
        );
    }
    String::from_utf8_lossy(&seen).to_string()
}

const PROGRAMS: &str = "[program:web]\ncommand={fixture} --print web-ready --sleep\nstartsecs=0\n\
    stdout_logfile={dir}/web.log\n\n\
    [program:worker]\ncommand={fixture} --sleep\nprocess_name=worker_%(process_num)d\nnumprocs=2\n\
    startsecs=0\n\n\
    [program:echo]\ncommand={fixture} --echo-stdin\nstartsecs=0\nstdout_logfile={dir}/echo.log\n";

#[test]
fn programs_groups_and_actions_over_rest() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    wait_state(&daemon, "worker:worker_1", "RUNNING", DEADLINE);

    let programs = get(&daemon, "/api/v1/programs", 200);
    let web = programs
        .as_array()
        .and_then(|all| all.iter().find(|p| p["namespec"] == "web"))
        .unwrap_or_else(|| panic!("web listed: {programs}"));
    assert_eq!(web["statename"], "RUNNING");
    assert_eq!(web["pid"], pid);
    assert!(web["uptime"].as_i64().is_some_and(|u| u >= 0), "{web}");
    assert_eq!(
        get(&daemon, "/api/v1/programs/worker:worker_0", 200)["group"],
        "worker"
    );

    let missing = get(&daemon, "/api/v1/programs/nosuch", 404);
    assert_eq!(missing["error"]["fault"], "BAD_NAME", "{missing}");
    assert_eq!(missing["error"]["code"], BAD_NAME);

    assert_eq!(
        post(&daemon, "/api/v1/programs/web/stop", None, 200)["result"],
        true
    );
    assert_eq!(daemon.process("web")["statename"], "STOPPED");
    let again = post(&daemon, "/api/v1/programs/web/stop", None, 409);
    assert_eq!(again["error"]["fault"], "NOT_RUNNING", "{again}");
    post(&daemon, "/api/v1/programs/web/start", None, 200);
    let started = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    post(
        &daemon,
        "/api/v1/programs/web/restart",
        Some(json!({"wait": true})),
        200,
    );
    let restarted = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    assert_ne!(started, restarted, "restart gave a new process");

    post(
        &daemon,
        "/api/v1/programs/web/signal",
        Some(json!({"signal": "CONT"})),
        200,
    );
    let no_signal = post(&daemon, "/api/v1/programs/web/signal", None, 400);
    assert!(
        no_signal["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("signal needs a body")),
        "{no_signal}"
    );
    let bad_action = post(&daemon, "/api/v1/programs/web/explode", None, 400);
    assert!(bad_action["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("unknown action")));
    let bad_body = post(
        &daemon,
        "/api/v1/programs/web/start",
        Some(json!({"wiat": 1})),
        400,
    );
    assert!(
        bad_body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("wiat")),
        "{bad_body}"
    );

    // Groups: listed with their processes; stopped and started as a whole.
    let groups = get(&daemon, "/api/v1/groups", 200);
    let worker = groups
        .as_array()
        .and_then(|all| all.iter().find(|g| g["name"] == "worker"))
        .unwrap_or_else(|| panic!("worker group: {groups}"));
    assert_eq!(worker["processes"].as_array().map(Vec::len), Some(2));
    let stopped = post(&daemon, "/api/v1/groups/worker/stop", None, 200);
    assert_eq!(
        stopped["result"].as_array().map(Vec::len),
        Some(2),
        "{stopped}"
    );
    for n in 0..2 {
        assert_eq!(
            daemon.process(&format!("worker:worker_{n}"))["statename"],
            "STOPPED"
        );
    }
    post(&daemon, "/api/v1/programs/worker:*/start", None, 200);
    for n in 0..2 {
        wait_state(&daemon, &format!("worker:worker_{n}"), "RUNNING", DEADLINE);
    }

    // Logs with byte offsets.
    wait_file(&dir, "web.log", "web-ready\n");
    let tail = get(&daemon, "/api/v1/programs/web/log?bytes=100", 200);
    assert!(
        tail["data"]
            .as_str()
            .is_some_and(|d| d.ends_with("web-ready\n")),
        "{tail}"
    );
    let head = get(&daemon, "/api/v1/programs/web/log?offset=0&bytes=3", 200);
    assert_eq!(
        (head["data"].clone(), head["offset"].clone()),
        (json!("web"), json!(3))
    );
    let bad_stream = get(&daemon, "/api/v1/programs/web/log?stream=stdin", 400);
    assert!(bad_stream["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("stdout or stderr")));

    // reread and update: a new program file is picked up and started.
    dir.config(&format!(
        "{PROGRAMS}\n[program:late]\ncommand={{fixture}} --sleep\nstartsecs=0\n"
    ));
    let reread = post(&daemon, "/api/v1/reread", None, 200);
    assert!(reread.to_string().contains("late"), "{reread}");
    let update = post(&daemon, "/api/v1/update", None, 200);
    assert!(update["groups"].to_string().contains("late"), "{update}");
    wait_state(&daemon, "late", "RUNNING", DEADLINE);

    let health = get(&daemon, "/healthz", 200);
    assert_eq!(health["status"], "ok");
    let openapi = get(&daemon, "/api/v1/openapi.json", 200);
    assert!(openapi["paths"]["/api/v1/programs/{name}/{action}"].is_object());
    let page = http(&daemon, "GET", "/", None);
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("<title>rsupervisord</title>"));
    // JSON-RPC still answers on `/`.
    assert_eq!(
        daemon.rpc_ok("supervisor.getState", json!([]))["statename"],
        "RUNNING"
    );
}

#[test]
fn state_changes_and_log_lines_arrive_as_server_sent_events() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    wait_state(&daemon, "echo", "RUNNING", DEADLINE);

    let events = sse_until(
        &daemon,
        "/api/v1/events",
        || {
            daemon.rpc_ok("supervisor.stopProcess", json!(["web"]));
        },
        "\"to_state\":\"STOPPED\"",
    );
    assert!(events.contains("event: state"), "{events}");
    assert!(events.contains("\"name\":\"web\""), "{events}");

    let log = sse_until(
        &daemon,
        "/api/v1/programs/echo/log/follow",
        || {
            daemon.rpc_ok(
                "supervisor.sendProcessStdin",
                json!(["echo", "marker-4711\n"]),
            );
        },
        "marker-4711",
    );
    assert!(
        log.contains("event: log\ndata: \"marker-4711\\n\""),
        "{log}"
    );

    // A crash that autorestart answers at once still shows its EXITED, then the restart.
    // (A program that dies within 100 ms of its spawn is restarted after a pause, through
    // EXITED on its own; one that ran longer restarts in the same step as its exit.)
    rsupervisor_e2e::wait::wait_until(DEADLINE, "echo up for over a second", || {
        let info = daemon.rpc_ok("supervisor.getProcessInfo", json!(["echo"]));
        let up = info["now"].as_i64().unwrap_or(0) - info["start"].as_i64().unwrap_or(0);
        if up >= 2 {
            Ok(())
        } else {
            Err(info)
        }
    });
    let crash = sse_until(
        &daemon,
        "/api/v1/events",
        || {
            daemon.rpc_ok("supervisor.signalProcess", json!(["echo", "KILL"]));
        },
        "\"from_state\":\"EXITED\"",
    );
    let hops: Vec<(String, String)> = crash
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter(|change| change["name"] == "echo")
        .map(|change| {
            let state = |key: &str| change[key].as_str().unwrap_or_default().to_string();
            (state("from_state"), state("to_state"))
        })
        .collect();
    let hop = |from: &str, to: &str| hops.iter().position(|h| h.0 == from && h.1 == to);
    let exited = hop("RUNNING", "EXITED").unwrap_or_else(|| panic!("no EXITED: {crash}"));
    let restarted = hop("EXITED", "STARTING").unwrap_or_else(|| panic!("no restart: {crash}"));
    assert!(exited < restarted, "{crash}");
}

#[test]
fn metrics_parse_with_the_prometheus_client_parser() {
    let dir = TestDir::new();
    dir.config(PROGRAMS);
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    daemon.rpc_ok("supervisor.stopProcess", json!(["worker:worker_1"]));
    let response = http(&daemon, "GET", "/metrics", None);
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        response.headers
    );
    let text_path = dir.write("metrics.txt", &response.body);
    let python = rsupervisor_e2e::python::python_with("prometheus-client", "prometheus_client");
    let script = "import sys, json\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        out = {}\n\
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out[s.name + json.dumps(s.labels, sort_keys=True)] = s.value\n\
        print(json.dumps(out))\n";
    let parsed = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&text_path)
        .output()
        .expect("run the parser");
    assert!(
        parsed.status.success(),
        "the parser refused /metrics: {}\n{}",
        String::from_utf8_lossy(&parsed.stderr),
        String::from_utf8_lossy(&response.body)
    );
    let samples: Value = serde_json::from_slice(&parsed.stdout).expect("parser output");
    let sample = |name: &str, labels: &str| samples[format!("{name}{labels}")].as_f64();
    let web = r#"{"group": "web", "name": "web"}"#;
    let stopped = r#"{"group": "worker", "name": "worker:worker_1"}"#;
    assert_eq!(
        sample("rsupervisor_process_up", web),
        Some(1.0),
        "{samples}"
    );
    assert_eq!(sample("rsupervisor_process_pid", web), Some(f64::from(pid)));
    assert_eq!(sample("rsupervisor_process_up", stopped), Some(0.0));
    assert_eq!(sample("rsupervisor_process_state", stopped), Some(0.0));
    assert_eq!(sample("rsupervisor_daemon_processes", "{}"), Some(4.0));
    assert!(sample("rsupervisor_daemon_resident_memory_bytes", "{}").is_some_and(|b| b > 0.0));
}
