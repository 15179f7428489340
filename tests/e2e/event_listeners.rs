//! `[eventlistener:x]` pools speaking supervisord's listener protocol with real listeners:
//! a Python listener built on supervisor 4.3.0's own `childutils` (from the compatibility
//! virtualenv) records what it receives and rejects one event, which must come again;
//! superlance's `crashmail` reports a crash through a stand-in sendmail, its `httpok`
//! restarts a program whose HTTP server stopped answering and its `memmon` one whose memory
//! is over the limit (both on TICK_5 events, through the XML-RPC interface at
//! `SUPERVISOR_SERVER_URL`).

use rsupervisor_e2e::{info_pid, python, wait_state, wait_until, Daemon, TestDir};
use serde_json::{json, Value};
use std::time::Duration;

use crate::support::free_port;

const DEADLINE: Duration = Duration::from_secs(20);

/// Records every event as a JSON line (headers and payload); answers FAIL to the first
/// delivery of each PROCESS_STATE_STOPPED event and OK to everything else.
const LISTENER: &str = r#"
import json, sys
from supervisor import childutils
out = open(sys.argv[1], 'a')
failed = set()
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    reject = headers['eventname'] == 'PROCESS_STATE_STOPPED' and headers['serial'] not in failed
    out.write(json.dumps({'headers': headers, 'payload': payload, 'rejected': reject}) + '\n')
    out.flush()
    if reject:
        failed.add(headers['serial'])
        childutils.listener.fail(sys.stdout)
    else:
        childutils.listener.ok(sys.stdout)
"#;

fn received(dir: &TestDir) -> Vec<Value> {
    dir.try_read("events.jsonl")
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

fn find<'a>(events: &'a [Value], name: &str, needle: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| {
            e["headers"]["eventname"] == name
                && e["payload"].as_str().is_some_and(|p| p.contains(needle))
        })
        .collect()
}

#[test]
fn a_childutils_listener_receives_state_events_and_a_rejected_one_again() {
    let dir = TestDir::new();
    let python = python::supervisor_bin().join("python");
    dir.write("listener.py", LISTENER);
    dir.config(&format!(
        "[eventlistener:lis]\n\
         command={} {{dir}}/listener.py {{dir}}/events.jsonl\n\
         events=PROCESS_STATE,PROCESS_GROUP,REMOTE_COMMUNICATION\n\
         startsecs=0\n\n\
         [program:cat]\n\
         command={{fixture}} --sleep\n\
         startsecs=0\n\n\
         [program:fails]\n\
         command={{fixture}} --exit-code 3\n\
         startsecs=5\n\
         startretries=0\n",
        python.display()
    ));
    let daemon = Daemon::start(&dir);
    let info = wait_state(&daemon, "cat", "RUNNING", DEADLINE);
    let pid = info_pid(&info);
    let running = wait_until(DEADLINE, "the RUNNING event of cat", || {
        let events = received(&dir);
        match find(&events, "PROCESS_STATE_RUNNING", "processname:cat ").first() {
            Some(event) => Ok((*event).clone()),
            None => Err(events),
        }
    });
    assert_eq!(
        running["payload"],
        format!("processname:cat groupname:cat from_state:STARTING pid:{pid}")
    );
    let headers = &running["headers"];
    assert_eq!(headers["ver"], "3.0");
    assert_eq!(headers["server"], "supervisor");
    assert_eq!(headers["pool"], "lis");
    assert_eq!(
        headers["len"],
        running["payload"]
            .as_str()
            .map(|p| p.len().to_string())
            .unwrap_or_default()
    );
    // A last failed start goes STARTING -> BACKOFF -> FATAL in one step of ours; the
    // listener sees both hops, as supervisord sends them.
    let fatal = wait_until(DEADLINE, "the FATAL event of fails", || {
        let events = received(&dir);
        match find(&events, "PROCESS_STATE_FATAL", "processname:fails ").first() {
            Some(event) => Ok((*event).clone()),
            None => Err(events),
        }
    });
    assert_eq!(
        fatal["payload"],
        "processname:fails groupname:fails from_state:BACKOFF"
    );
    let events = received(&dir);
    assert!(
        !find(
            &events,
            "PROCESS_STATE_BACKOFF",
            "processname:fails groupname:fails from_state:STARTING tries:1"
        )
        .is_empty(),
        "{events:#?}"
    );
    assert!(
        !find(
            &events,
            "PROCESS_STATE_STARTING",
            "processname:cat groupname:cat from_state:STOPPED tries:0"
        )
        .is_empty(),
        "{events:#?}"
    );
    assert!(
        !find(&events, "PROCESS_GROUP_ADDED", "groupname:cat\n").is_empty(),
        "{events:#?}"
    );
    // Serials grow by one per event, in the order they were sent.
    let serials: Vec<u64> = events
        .iter()
        .map(|e| {
            e["headers"]["poolserial"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX)
        })
        .collect();
    assert!(serials.windows(2).all(|w| w[1] == w[0] + 1), "{serials:?}");

    daemon.rpc_ok("supervisor.stopProcess", json!(["cat"]));
    let stopped = wait_until(DEADLINE, "the STOPPED event of cat twice", || {
        let events = received(&dir);
        let stopped: Vec<Value> = find(&events, "PROCESS_STATE_STOPPED", "processname:cat ")
            .into_iter()
            .cloned()
            .collect();
        if stopped.len() == 2 {
            Ok(stopped)
        } else {
            Err(events)
        }
    });
    assert_eq!(stopped[0]["rejected"], true);
    assert_eq!(stopped[1]["rejected"], false);
    assert_eq!(
        stopped[0]["headers"]["serial"],
        stopped[1]["headers"]["serial"]
    );
    assert_eq!(
        stopped[1]["payload"],
        format!("processname:cat groupname:cat from_state:STOPPING pid:{pid}")
    );
    // supervisor.sendRemoteCommEvent reaches the listener as REMOTE_COMMUNICATION.
    assert_eq!(
        daemon.rpc_ok(
            "supervisor.sendRemoteCommEvent",
            json!(["deploy", "version 42 is live"])
        ),
        json!(true)
    );
    let remote = wait_until(DEADLINE, "the REMOTE_COMMUNICATION event", || {
        let events = received(&dir);
        match find(&events, "REMOTE_COMMUNICATION", "type:deploy").first() {
            Some(event) => Ok((*event).clone()),
            None => Err(events),
        }
    });
    assert_eq!(remote["payload"], "type:deploy\nversion 42 is live");

    let log = daemon.main_log();
    let serial = stopped[0]["headers"]["serial"].as_str().unwrap_or("?");
    for line in [
        "lis: ACKNOWLEDGED -> READY".to_owned(),
        format!("event {serial} sent to listener lis"),
        "lis: event was rejected".to_owned(),
        format!("rebuffering event {serial} for pool lis (buf size=0, max=10)"),
        "lis: event was processed".to_owned(),
        "'lis' stdout output:\nb'READY\\n'".to_owned(),
        // loglevel=debug: supervisord's line for each SIGCHLD (here cat's exit).
        "DEBG received SIGCHLD indicating a child quit".to_owned(),
    ] {
        assert!(log.contains(&line), "no {line:?} in the main log:\n{log}");
    }
}

#[test]
fn a_full_buffer_drops_the_oldest_event_with_supervisords_line() {
    let dir = TestDir::new();
    // A listener that never says READY: every event waits in the buffer.
    dir.config(
        "[eventlistener:mute]\n\
         command={fixture} --sleep\n\
         events=PROCESS_STATE_RUNNING,PROCESS_STATE_STOPPED\n\
         buffer_size=2\n\
         startsecs=0\n\n\
         [program:cat]\n\
         command={fixture} --sleep\n\
         startsecs=0\n\
         autostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "mute", "RUNNING", DEADLINE);
    // mute RUNNING (0), cat RUNNING (1), cat STOPPED (2): the third pushes out serial 0.
    daemon.rpc_ok("supervisor.startProcess", json!(["cat"]));
    daemon.rpc_ok("supervisor.stopProcess", json!(["cat"]));
    wait_until(DEADLINE, "the overflow line", || {
        let log = daemon.main_log();
        if log.contains("ERRO pool mute event buffer overflowed, discarding event 0") {
            Ok(())
        } else {
            Err(log)
        }
    });
}

#[test]
fn superlance_crashmail_reports_a_crash() {
    let dir = TestDir::new();
    let python = python::python_with("superlance", "superlance");
    let crashmail = python.with_file_name("crashmail");
    // A stand-in sendmail: the mail is what it reads.
    let sendmail = dir.write(
        "sendmail",
        format!("#!/bin/sh\ncat > {}/mail.txt\n", dir.root().display()),
    );
    std::fs::set_permissions(
        &sendmail,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap_or_else(|e| panic!("chmod sendmail: {e}"));
    dir.config(&format!(
        "[eventlistener:crashmail]\n\
         command={} -a -m ops@example.com -s {}\n\
         events=PROCESS_STATE\n\
         startsecs=0\n\n\
         [program:crasher]\n\
         command=/bin/sh -c \"sleep 0.3; exit 3\"\n\
         startsecs=0\n",
        crashmail.display(),
        sendmail.display()
    ));
    // autorestart=unexpected: the exit and the restart are one step of ours, and the
    // listener must still see PROCESS_STATE_EXITED.
    let _daemon = Daemon::start(&dir);
    let mail = wait_until(DEADLINE, "crashmail's mail", || {
        dir.try_read("mail.txt")
            .filter(|m| m.contains("exited unexpectedly"))
            .ok_or(())
    });
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(mail.contains("Subject:  crasher crashed at "), "{mail}");
    let body = "Process crasher in group crasher exited unexpectedly (pid ";
    let pid: String = mail
        .split_once(body)
        .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    assert!(pid.parse::<i32>().is_ok_and(|p| p > 0), "{mail}");
    assert!(
        mail.contains(&format!("{body}{pid}) from state RUNNING")),
        "{mail}"
    );
}

/// Records every event as a JSON line (`member`: the listener's process name, `headers`,
/// `payload` as text) in `argv[1]`, then answers OK after `argv[2]` seconds. It reads the
/// protocol on the binary streams, so `len` is checked in bytes.
const RECORDER: &str = r#"
import json, os, sys, time
out = open(sys.argv[1], 'a')
delay = float(sys.argv[2])
member = os.environ['SUPERVISOR_PROCESS_NAME']
rd, wr = sys.stdin.buffer, sys.stdout.buffer
while True:
    wr.write(b'READY\n'); wr.flush()
    line = rd.readline()
    headers = dict(field.split(':', 1) for field in line.decode().split())
    payload = rd.read(int(headers['len'])).decode()
    out.write(json.dumps({'member': member, 'headers': headers, 'payload': payload}) + '\n')
    out.flush()
    time.sleep(delay)
    wr.write(b'RESULT 2\nOK'); wr.flush()
"#;

/// The recorder as an `[eventlistener:NAME]` section subscribed to `events`.
fn recorder_section(dir: &TestDir, name: &str, events: &str, delay: &str, extra: &str) -> String {
    dir.write("recorder.py", RECORDER);
    format!(
        "[eventlistener:{name}]\n\
         command={} {{dir}}/recorder.py {{dir}}/events.jsonl {delay}\n\
         events={events}\n\
         startsecs=0\n\
         {extra}\n",
        python::supervisor_bin().join("python").display()
    )
}

fn wait_for_event(dir: &TestDir, name: &str, needle: &str) -> Value {
    wait_until(DEADLINE, &format!("a {name} event with {needle:?}"), || {
        let events = received(dir);
        match find(&events, name, needle).first() {
            Some(event) => Ok((*event).clone()),
            None => Err(events),
        }
    })
}

#[test]
fn process_log_events_carry_each_logged_chunk_of_a_program_with_events_enabled() {
    let dir = TestDir::new();
    let listener = recorder_section(&dir, "lis", "PROCESS_LOG", "0", "");
    dir.config(&format!(
        "{listener}\n\
         [program:talker]\n\
         command={{fixture}} --print \"hello from stdout\" --eprint \"oops on stderr\" --sleep\n\
         startsecs=0\n\
         stdout_events_enabled=true\n\
         stderr_events_enabled=true\n\n\
         [program:quiet]\n\
         command={{fixture}} --print \"not an event\" --sleep\n\
         startsecs=0\n"
    ));
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "talker", "RUNNING", DEADLINE));
    let stdout = wait_for_event(&dir, "PROCESS_LOG_STDOUT", "hello from stdout");
    let payload = format!(
        "processname:talker groupname:talker pid:{pid} channel:stdout\nhello from stdout\n"
    );
    assert_eq!(stdout["payload"], payload);
    assert_eq!(stdout["headers"]["pool"], "lis");
    assert_eq!(stdout["headers"]["len"], payload.len().to_string());
    // Unbuffered stderr may come in more than one write (the text, then the newline):
    // one event per chunk, each with the header line.
    let header = format!("processname:talker groupname:talker pid:{pid} channel:stderr\n");
    wait_until(
        DEADLINE,
        "talker's stderr line in PROCESS_LOG_STDERR events",
        || {
            let events = received(&dir);
            let data: Vec<String> = find(&events, "PROCESS_LOG_STDERR", "processname:talker ")
                .iter()
                .map(|e| e["payload"].as_str().unwrap_or_default().to_owned())
                .collect();
            let text: Option<String> = data.iter().map(|p| p.strip_prefix(&header)).collect();
            if text.as_deref() == Some("oops on stderr\n") {
                Ok(())
            } else {
                Err(data)
            }
        },
    );
    // The output is logged as usual, and a program without the keys sends nothing.
    wait_until(DEADLINE, "quiet's output in its log", || {
        let out = daemon.rpc_ok("supervisor.tailProcessStdoutLog", json!(["quiet", 0, 100]));
        if out["bytes"]
            .as_str()
            .is_some_and(|text| text.contains("not an event"))
        {
            Ok(())
        } else {
            Err(out)
        }
    });
    let talker = daemon.rpc_ok("supervisor.tailProcessStdoutLog", json!(["talker", 0, 100]));
    assert_eq!(talker["bytes"], "hello from stdout\n");
    let events = received(&dir);
    assert!(
        find(&events, "PROCESS_LOG_STDOUT", "processname:quiet ").is_empty(),
        "{events:#?}"
    );
}

#[test]
fn process_communication_events_carry_the_text_between_the_markers() {
    let dir = TestDir::new();
    let listener = recorder_section(&dir, "lis", "PROCESS_COMMUNICATION", "0", "");
    // Three writes: the markers and the text may reach the daemon in any cut.
    dir.config(&format!(
        "{listener}\n\
         [program:talker]\n\
         command={{fixture}} --print \"before <!--XSUPERVISOR:BEGIN-->\" --print \"the message\" \
         --print \"<!--XSUPERVISOR:END--> and after it, long enough to be logged\" --sleep\n\
         startsecs=0\n\
         stdout_logfile={{dir}}/talker.log\n\
         stdout_capture_maxbytes=1KB\n"
    ));
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "talker", "RUNNING", DEADLINE));
    let event = wait_for_event(&dir, "PROCESS_COMMUNICATION_STDOUT", "the message");
    assert_eq!(
        event["payload"],
        format!("processname:talker groupname:talker pid:{pid}\n\nthe message\n")
    );
    assert_eq!(event["headers"]["pool"], "lis");
    // The log has what was outside the markers, and neither marker.
    wait_until(DEADLINE, "the text after the END marker in the log", || {
        let log = dir.try_read("talker.log").unwrap_or_default();
        if log.ends_with("logged\n") {
            Ok(log)
        } else {
            Err(log)
        }
    });
    assert_eq!(
        dir.read("talker.log"),
        "before  and after it, long enough to be logged\n"
    );
    let main = daemon.main_log();
    assert!(
        main.contains("DEBG 'talker' stdout emitted a comm event"),
        "{main}"
    );
}

#[test]
fn a_pool_of_two_listeners_shares_the_events_between_its_ready_members() {
    let dir = TestDir::new();
    // Each member takes a while over an event, so the next one goes to the other member.
    let listener = recorder_section(
        &dir,
        "pool",
        "REMOTE_COMMUNICATION",
        "0.5",
        "numprocs=2\nprocess_name=%(program_name)s_%(process_num)s",
    );
    dir.config(&listener);
    let daemon = Daemon::start(&dir);
    wait_until(DEADLINE, "both members READY", || {
        let log = daemon.main_log();
        if log.contains("pool_0: ACKNOWLEDGED -> READY")
            && log.contains("pool_1: ACKNOWLEDGED -> READY")
        {
            Ok(())
        } else {
            Err(log)
        }
    });
    for n in 0..4 {
        daemon.rpc_ok(
            "supervisor.sendRemoteCommEvent",
            json!(["n", n.to_string()]),
        );
    }
    let events = wait_until(DEADLINE, "the four events", || {
        let events = received(&dir);
        if events.len() >= 4 {
            Ok(events)
        } else {
            Err(events)
        }
    });
    assert_eq!(events.len(), 4, "each event is delivered once: {events:#?}");
    let mut payloads: Vec<&str> = events
        .iter()
        .filter_map(|e| e["payload"].as_str())
        .collect();
    payloads.sort_unstable();
    assert_eq!(
        payloads,
        ["type:n\n0", "type:n\n1", "type:n\n2", "type:n\n3"]
    );
    let mut serials: Vec<&str> = events
        .iter()
        .filter_map(|e| e["headers"]["poolserial"].as_str())
        .collect();
    serials.sort_unstable();
    assert_eq!(serials, ["0", "1", "2", "3"]);
    for event in &events {
        // The pool is the group's name, whichever member received it.
        assert_eq!(event["headers"]["pool"], "pool", "{event}");
        assert_eq!(
            event["headers"]["eventname"], "REMOTE_COMMUNICATION",
            "{event}"
        );
    }
    // The first event went to one member; the second, sent while it was busy, to the other.
    let first = events.iter().find(|e| e["payload"] == "type:n\n0");
    let second = events.iter().find(|e| e["payload"] == "type:n\n1");
    let member = |e: Option<&Value>| e.map(|e| e["member"].clone()).unwrap_or_default();
    assert_ne!(member(first), member(second), "{events:#?}");
    let mut members: Vec<Value> = vec![member(first), member(second)];
    members.sort_by_key(|m| m.to_string());
    assert_eq!(members, [json!("pool_0"), json!("pool_1")]);
}

#[test]
fn the_last_output_of_a_program_comes_before_its_exit_event() {
    let dir = TestDir::new();
    let listener = recorder_section(
        &dir,
        "lis",
        "PROCESS_LOG_STDOUT,PROCESS_STATE_EXITED",
        "0",
        "",
    );
    // supervisord reads what is left in the pipes before it handles an exit.
    dir.config(&format!(
        "{listener}\n\
         [program:brief]\n\
         command={{fixture}} --print \"last words\" --exit-code 3\n\
         startsecs=0\n\
         autorestart=false\n\
         stdout_events_enabled=true\n"
    ));
    let _daemon = Daemon::start(&dir);
    wait_for_event(&dir, "PROCESS_STATE_EXITED", "processname:brief ");
    let events = received(&dir);
    let names: Vec<&str> = events
        .iter()
        .filter(|e| {
            e["payload"]
                .as_str()
                .is_some_and(|p| p.contains("processname:brief "))
        })
        .filter_map(|e| e["headers"]["eventname"].as_str())
        .collect();
    assert_eq!(
        names,
        ["PROCESS_LOG_STDOUT", "PROCESS_STATE_EXITED"],
        "{events:#?}"
    );
}

/// How long superlance's TICK_5 listeners may take to act: the first tick comes within 5 s
/// of the start, httpok's request then times out after 2 s, and a restart waits for the stop.
const TICK_DEADLINE: Duration = Duration::from_secs(40);

/// Waits until `name` is RUNNING with a pid other than `old`, and returns the new pid.
#[track_caller]
fn wait_restarted(daemon: &Daemon<'_>, name: &str, old: i32) -> i32 {
    wait_until(
        TICK_DEADLINE,
        &format!("{name} to run again with a pid other than {old}"),
        || {
            let info = daemon.process(name);
            if info["statename"] == "RUNNING" && info_pid(&info) != old {
                Ok(info_pid(&info))
            } else {
                Err(info.to_string())
            }
        },
    )
}

#[test]
fn superlance_httpok_restarts_a_hung_server() {
    let dir = TestDir::new();
    let python = python::python_with("superlance", "superlance");
    let httpok = python.with_file_name("httpok");
    let port = free_port();
    dir.config(&format!(
        "[eventlistener:httpok]\n\
         command={} -p web -t 2 http://127.0.0.1:{port}/\n\
         events=TICK_5\n\
         startsecs=0\n\
         stderr_logfile={{dir}}/httpok.err\n\n\
         [program:web]\n\
         command={{fixture}} --http {port} --http-hang-after 1 --http-count {{dir}}/requests\n",
        httpok.display()
    ));
    let daemon = Daemon::start(&dir);
    let first = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    let second = wait_restarted(&daemon, "web", first);
    // The first tick's request was answered, the second one held unanswered until httpok
    // gave up on it and restarted the program.
    assert_eq!(
        dir.try_read(format!("requests.{first}")).as_deref(),
        Some("2\n"),
        "requests seen by web (pid {first})"
    );
    let said = wait_until(DEADLINE, "httpok to say it restarted web", || {
        dir.try_read("httpok.err")
            .filter(|log| log.contains("web restarted"))
            .ok_or(())
    });
    assert!(
        said.contains("web is in RUNNING state, restarting"),
        "{said}"
    );
    let log = daemon.main_log();
    assert!(
        log.contains("stopped: web (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(
        log.contains(&format!("spawned: 'web' with pid {second}")),
        "{log}"
    );
}

#[test]
fn superlance_memmon_restarts_a_program_over_its_memory_limit() {
    let dir = TestDir::new();
    let python = python::python_with("superlance", "superlance");
    let memmon = python.with_file_name("memmon");
    dir.config(&format!(
        "[eventlistener:memmon]\n\
         command={} -p hog=32MB\n\
         events=TICK_5\n\
         startsecs=0\n\
         stderr_logfile={{dir}}/memmon.err\n\n\
         [program:hog]\n\
         command={{fixture}} --alloc 64M --sleep\n",
        memmon.display()
    ));
    let daemon = Daemon::start(&dir);
    let first = info_pid(&wait_state(&daemon, "hog", "RUNNING", DEADLINE));
    let second = wait_restarted(&daemon, "hog", first);
    let said = wait_until(DEADLINE, "memmon to say it restarted hog", || {
        dir.try_read("memmon.err")
            .filter(|log| log.contains("Restarting hog:hog"))
            .ok_or(())
    });
    // memmon measured the RSS with ps: 64 MiB touched, so above the 32 MiB limit.
    let rss: u64 = said
        .split_once("RSS of hog:hog is ")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("memmon did not report hog's RSS:\n{said}"));
    assert!(rss > 32 << 20, "RSS {rss} is not over the limit:\n{said}");
    let log = daemon.main_log();
    assert!(
        log.contains("stopped: hog (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(
        log.contains(&format!("spawned: 'hog' with pid {second}")),
        "{log}"
    );
}
