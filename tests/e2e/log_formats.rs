//! `stdout_log_format` / `stderr_log_format` (raw, timestamped, json) and
//! `[supervisord] logfile_format = json`: lines held until complete, bursts whole.

use rsupervisor_e2e::{info_pid, spew, wait_state, wait_until, Daemon, TestDir};
use serde_json::Value;

use crate::support::*;

/// Waits until `rel` holds at least `count` complete records and returns them parsed.
fn wait_records(dir: &TestDir, rel: &str, count: usize) -> Vec<Value> {
    let text = wait_until(DEADLINE, &format!("{rel} to hold {count} records"), || {
        let text = dir.try_read(rel).unwrap_or_default();
        if text.ends_with('\n') && text.lines().count() >= count {
            Ok(text)
        } else {
            Err(tail(&text))
        }
    });
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect()
}

#[test]
fn json_records_carry_the_process_and_keep_partial_lines_whole() {
    let dir = TestDir::new();
    // Each printf is its own write, 300 ms apart, so the pump reads the line in pieces.
    dir.write(
        "talk.sh",
        "printf 'first '; sleep 0.3; printf 'half\\n{\"level\":\"warn\",\"n\":1}\\n'\n\
         sleep 0.3; printf 'no newline at the end'; printf 'err line\\n' >&2\n\
         exec sleep 1000\n",
    );
    dir.config(
        "[program:talk]\ncommand=/bin/sh {dir}/talk.sh\nstartsecs=0\n\
         stdout_logfile={dir}/talk.log\nstderr_logfile={dir}/talk.err\n\
         stdout_log_format=json\nstderr_log_format=timestamped\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "talk", "RUNNING", DEADLINE));
    let records = wait_records(&dir, "talk.log", 2);
    assert_eq!(
        records.len(),
        2,
        "the unterminated line is still held: {records:?}"
    );
    assert_eq!(records[0]["line"], "first half");
    assert_eq!(records[0]["program"], "talk");
    assert_eq!(records[0]["process"], "talk");
    assert_eq!(records[0]["group"], "talk");
    assert_eq!(records[0]["stream"], "stdout");
    assert_eq!(records[0]["pid"], pid);
    let time = records[0]["time"].as_str().expect("time is a string");
    assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    assert_eq!(
        records[1]["line"],
        serde_json::json!({"level": "warn", "n": 1})
    );

    let err = wait_file(&dir, "talk.err", "err line\n");
    let (stamp, text) = err.split_at(24);
    assert_eq!(text, "err line\n", "{err}");
    assert!(
        stamp.as_bytes()[4] == b'-' && stamp.as_bytes()[19] == b',' && stamp.ends_with(' '),
        "{err}"
    );

    // When the program stops, the held line is written as the last record.
    daemon.rpc_ok("supervisor.stopProcess", serde_json::json!(["talk"]));
    let records = wait_records(&dir, "talk.log", 3);
    assert_eq!(records[2]["line"], "no newline at the end");
    assert_eq!(records.len(), 3);
}

#[test]
fn a_burst_in_json_keeps_every_line_in_order() {
    let dir = TestDir::new();
    let size: u64 = 3 * 1024 * 1024;
    dir.config(&format!(
        "[program:burst]\ncommand={{fixture}} --spew {size} --exit-code 0\nstartsecs=0\n\
         autorestart=false\nstdout_logfile={{dir}}/burst.log\nstdout_logfile_maxbytes=0\n\
         stdout_log_format=json\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "burst", "EXITED", DEADLINE);
    let lines = size.div_ceil(spew::LINE_LEN) as usize;
    let records = wait_records(&dir, "burst.log", lines);
    assert_eq!(records.len(), lines);
    let mut joined = Vec::with_capacity(size as usize);
    for record in &records {
        joined.extend_from_slice(record["line"].as_str().expect("text line").as_bytes());
        joined.push(b'\n');
        assert!(record.get("partial").is_none(), "{record}");
    }
    // The spew ends in the middle of a line: that last piece has no newline of its own.
    joined.pop();
    spew::check(&joined, size).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_main_log_can_be_json() {
    let dir = TestDir::new();
    dir.config_with(
        "logfile_format=json",
        "[program:web]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    let log = wait_log(&daemon, "entered RUNNING state");
    for line in log.lines() {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}\n{log}"));
        assert!(
            record["time"].is_string() && record["level"].is_string(),
            "{line}"
        );
    }
    assert!(
        log.lines().any(|line| {
            let record: Value = serde_json::from_str(line).expect("json");
            record["level"] == "info" && record["message"] == "success: web entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"
        }),
        "{log}"
    );
}
