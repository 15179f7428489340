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

use crate::dependencies::free_port;

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
