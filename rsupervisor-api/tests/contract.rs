//! Contract tests: every wire type survives a JSON round trip, and carries supervisord's field
//! names, so the daemon and the ctl (and any script reading our JSON) agree on the shape.

use rsupervisor_api::{
    Channel, ConfigInfo, MulticallRequest, ProcessInfo, ProcessState, ProcessStatus, ReloadResult,
    StateChange, StateInfo, SupervisorState, TailSlice, UpdateOutcome,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T) -> serde_json::Value {
    let json = serde_json::to_value(&value).expect("serializes");
    let back: T = serde_json::from_value(json.clone()).expect("deserializes");
    assert_eq!(back, value);
    json
}

fn keys(json: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = json
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    list.sort();
    list
}

#[test]
fn process_info_has_supervisords_keys() {
    let json = round_trip(ProcessInfo {
        name: "api".into(),
        group: "sixbtc".into(),
        description: "pid 42, uptime 0:00:01".into(),
        start: 1_700_000_000,
        stop: 0,
        now: 1_700_000_001,
        state: ProcessState::Running.code(),
        statename: "RUNNING".into(),
        spawnerr: String::new(),
        exitstatus: 0,
        logfile: "/var/log/api.log".into(),
        stdout_logfile: "/var/log/api.log".into(),
        stderr_logfile: String::new(),
        pid: 42,
        restarts: 2,
        restart_delay_ms: 4000,
        next_restart: 1_700_000_004,
        health: String::new(),
        health_failures: 0,
        health_error: String::new(),
        waiting_for: String::new(),
        schedule: None,
    });
    assert_eq!(
        keys(&json),
        sorted(&[
            "name",
            "group",
            "description",
            "start",
            "stop",
            "now",
            "state",
            "statename",
            "spawnerr",
            "exitstatus",
            "logfile",
            "stdout_logfile",
            "stderr_logfile",
            "pid",
            // rsupervisor's additions (the restart policy); supervisord's keys keep their
            // meaning, and a client that does not know these ignores them.
            "restarts",
            "restart_delay_ms",
            "next_restart",
        ])
    );
    // An answer without the additions (a supervisord-shaped struct) still reads.
    let mut supervisord_shaped = json.clone();
    for key in ["restarts", "restart_delay_ms", "next_restart"] {
        supervisord_shaped
            .as_object_mut()
            .expect("object")
            .remove(key);
    }
    let info: ProcessInfo = serde_json::from_value(supervisord_shaped).expect("reads");
    assert_eq!((info.restarts, info.next_restart), (0, 0));
    // The health fields are left out while empty (a process without a health check reads
    // exactly as before), and read when present.
    let mut with_health = json.clone();
    with_health["health"] = "unhealthy".into();
    with_health["health_failures"] = 3.into();
    with_health["health_error"] = "connection refused".into();
    with_health["waiting_for"] = "db (healthy)".into();
    let info: ProcessInfo = serde_json::from_value(with_health.clone()).expect("reads");
    assert_eq!(
        (
            info.health.as_str(),
            info.health_failures,
            info.waiting_for.as_str()
        ),
        ("unhealthy", 3, "db (healthy)")
    );
    assert_eq!(round_trip(info), with_health);
}

#[test]
fn process_info_of_a_job_carries_its_schedule() {
    let json = serde_json::json!({
        "name": "sync", "group": "sync", "description": "Not started, next run 12:45:00 (in 0:03:12)",
        "start": 0, "stop": 0, "now": 1_700_000_000, "state": 0, "statename": "STOPPED",
        "spawnerr": "", "exitstatus": 0, "logfile": "", "stdout_logfile": "",
        "stderr_logfile": "", "pid": 0,
        "schedule": {
            "schedule": "*/15 * * * *", "timezone": "local", "paused": false,
            "next_run": 1_700_000_192, "next_runs": [1_700_000_100, 1_700_001_000],
            "queued": false, "last_start": 1_699_999_200, "last_end": 1_699_999_241,
            "last_duration_ms": 41_000, "last_exitstatus": 0, "last_outcome": "exit status 0"
        }
    });
    let info: ProcessInfo = serde_json::from_value(json.clone()).expect("reads");
    let schedule = info.schedule.clone().expect("a schedule");
    assert_eq!(
        (
            schedule.next_run,
            schedule.last_exitstatus,
            schedule.last_duration_ms
        ),
        (1_700_000_192, 0, 41_000)
    );
    // Defaults fill the restart fields; the schedule survives a round trip.
    let again = round_trip(info);
    assert_eq!(again["schedule"], json["schedule"]);
}

#[test]
fn state_info_and_status_structs() {
    let json = round_trip(StateInfo::from(SupervisorState::Running));
    assert_eq!(
        json,
        serde_json::json!({"statecode": 1, "statename": "RUNNING"})
    );
    let json = round_trip(ProcessStatus {
        name: "api".into(),
        group: "sixbtc".into(),
        status: 80,
        description: "OK".into(),
    });
    assert_eq!(
        keys(&json),
        sorted(&["name", "group", "status", "description"])
    );
}

#[test]
fn config_info_has_supervisords_keys() {
    let json = round_trip(ConfigInfo {
        name: "api".into(),
        group: "sixbtc".into(),
        inuse: true,
        autostart: true,
        group_prio: 100,
        process_prio: 900,
        command: "/bin/api".into(),
        directory: "none".into(),
        uid: "none".into(),
        exitcodes: vec![0],
        killasgroup: false,
        redirect_stderr: false,
        startretries: 3,
        startsecs: 1,
        stopsignal: 15,
        stopwaitsecs: 10,
        stdout_logfile: "auto".into(),
        stdout_logfile_maxbytes: 52_428_800,
        stdout_logfile_backups: 10,
        stderr_logfile: "auto".into(),
        stderr_logfile_maxbytes: 52_428_800,
        stderr_logfile_backups: 10,
        stdout_capture_maxbytes: 0,
        stdout_events_enabled: false,
        stdout_syslog: false,
        stderr_capture_maxbytes: 0,
        stderr_events_enabled: false,
        stderr_syslog: false,
        serverurl: "auto".into(),
    });
    for key in [
        "name",
        "group",
        "inuse",
        "autostart",
        "group_prio",
        "process_prio",
        "command",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
}

#[test]
fn our_additions_round_trip() {
    round_trip(ReloadResult {
        added: vec!["new".into()],
        changed: vec!["sixbtc".into()],
        removed: vec!["old".into()],
        changed_processes: vec!["sixbtc:api".into()],
        needs_restart: vec!["[supervisord]".into()],
    });
    round_trip(UpdateOutcome {
        group: "sixbtc".into(),
        action: "updated".into(),
        stopped: vec!["sixbtc:api".into()],
        started: vec!["sixbtc:api".into()],
    });
    let json = round_trip(TailSlice {
        bytes: "line\n".into(),
        offset: 5,
        overflow: false,
    });
    assert_eq!(keys(&json), sorted(&["bytes", "offset", "overflow"]));
    assert_eq!(round_trip(Channel::Stderr), "stderr");
    let json = round_trip(StateChange {
        name: "api".into(),
        group: "sixbtc".into(),
        from_state: ProcessState::Starting,
        to_state: ProcessState::Running,
        pid: 42,
        when: 1_700_000_000.5,
        health: String::new(),
        waiting_for: String::new(),
    });
    assert_eq!(json["to_state"], "RUNNING");
    let json = round_trip(MulticallRequest {
        method_name: "supervisor.getState".into(),
        params: vec![],
    });
    assert_eq!(json["methodName"], "supervisor.getState");
}
