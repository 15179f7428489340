//! Scheduled jobs (`schedule`, `schedule_overlap`, `schedule_catchup`, `schedule_timeout`,
//! `autostart=false` as a pause, `run`, `schedule`), with seconds-level cron expressions so
//! each test takes a few seconds.

use std::time::Duration;

use nix::sys::signal::Signal;
use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};
use serde_json::{json, Value};

use crate::support::*;

/// Room for a few due times of a per-second schedule on a loaded machine.
const JOB_DEADLINE: Duration = Duration::from_secs(30);

/// Waits until the main log has `count` lines containing `needle`; returns the log.
#[track_caller]
fn wait_count(daemon: &Daemon<'_>, needle: &str, count: usize) -> String {
    wait_until(
        JOB_DEADLINE,
        &format!("{count} lines with {needle:?}"),
        || {
            let log = daemon.main_log();
            let seen = log.matches(needle).count();
            if seen >= count {
                Ok(log)
            } else {
                Err(format!("{seen} seen\n{}", tail(&log)))
            }
        },
    )
}

/// `HH:MM:SS` of a main log line, as seconds of the day, with the milliseconds.
fn stamp(line: &str) -> f64 {
    let time = line.split(' ').nth(1).unwrap_or_default();
    let (clock, millis) = time.split_once(',').unwrap_or((time, "0"));
    let parts: Vec<f64> = clock.split(':').filter_map(|p| p.parse().ok()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2] + millis.parse::<f64>().unwrap_or(0.0) / 1000.0
}

/// `HH:MM:SS` as seconds of the day.
fn clock(text: &str) -> f64 {
    let parts: Vec<f64> = text.split(':').filter_map(|p| p.parse().ok()).collect();
    assert_eq!(parts.len(), 3, "not a time: {text:?}");
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// The job's `schedule` field.
fn schedule_of(daemon: &Daemon<'_>, name: &str) -> Value {
    daemon.process(name)["schedule"].clone()
}

#[test]
fn runs_start_at_their_due_times_and_are_logged() {
    let dir = TestDir::new();
    dir.config(
        "[program:tick]\ncommand={fixture} --print tick --after 200ms --exit-code 0\n\
         schedule = */2 * * * * *\n\n\
         [program:spread]\ncommand={fixture} --exit-code 0\nschedule = */2 * * * * *\n\
         schedule_jitter = 1s\n\n\
         [program:every]\ncommand={fixture} --exit-code 0\nschedule = @every 1s\n",
    );
    let daemon = Daemon::start(&dir);
    wait_count(&daemon, "job 'every': run ended", 2);
    wait_count(&daemon, "job 'spread': run ended", 2);
    let log = wait_count(&daemon, "job 'tick': run ended", 3);
    // With jitter a run starts up to schedule_jitter after its due time, never before.
    for line in log
        .lines()
        .filter(|l| l.contains("job 'spread': run started (due at "))
    {
        let due = clock(
            line.rsplit("due at ")
                .next()
                .unwrap_or("")
                .trim_end_matches(')'),
        );
        let late = (stamp(line) - due + 86_400.0) % 86_400.0;
        assert!(late < 3.5, "started {late}s after its due time: {line}");
    }
    let spread = schedule_of(&daemon, "spread");
    let jitter =
        spread["next_run"].as_i64().unwrap_or(0) - spread["next_runs"][0].as_i64().unwrap_or(0);
    assert!((0..=1).contains(&jitter), "{spread}");
    // Each run starts at (not before) its due time: an even second.
    let starts: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("job 'tick': run started (due at "))
        .collect();
    assert!(starts.len() >= 3, "{log}");
    for line in &starts {
        let due = line.rsplit("due at ").next().unwrap_or_default();
        let due = clock(due.trim_end_matches(')'));
        assert_eq!(due % 2.0, 0.0, "{line}");
        let late = (stamp(line) - due + 86_400.0) % 86_400.0;
        assert!(late < 2.5, "started {late}s after its due time: {line}");
    }
    // No due time is run twice.
    let mut dues: Vec<&str> = starts
        .iter()
        .map(|l| l.rsplit("due at ").next().unwrap_or(""))
        .collect();
    let all = dues.len();
    dues.dedup();
    assert_eq!(dues.len(), all, "{log}");
    // Every run: start, end with exit status and duration; its output in its own log.
    assert!(
        log.contains("job 'tick': run ended: exit status 0 (expected) after 0."),
        "{log}"
    );
    assert!(
        log.contains("INFO exited: tick (exit status 0; expected)"),
        "{log}"
    );
    let output = dir.read(
        daemon.process("tick")["stdout_logfile"]
            .as_str()
            .expect("a stdout log"),
    );
    assert!(output.matches("tick\n").count() >= 3, "{output}");

    // status: supervisord's state names, plus when the next run is and how the last went.
    let info = daemon.process("tick");
    let schedule = &info["schedule"];
    assert_eq!(schedule["schedule"], "*/2 * * * * *", "{info}");
    assert_eq!(schedule["timezone"], "local");
    assert_eq!(schedule["last_exitstatus"], 0, "{info}");
    assert_eq!(schedule["last_outcome"], "exit status 0", "{info}");
    assert!(schedule["next_run"].as_i64().unwrap_or(0) >= info["now"].as_i64().unwrap_or(0) - 1);
    assert_eq!(
        schedule["next_runs"].as_array().map(Vec::len),
        Some(5),
        "{info}"
    );
    let description = info["description"].as_str().unwrap_or_default();
    assert!(description.contains("next run "), "{description}");
    assert!(description.contains(" (in 0:00:0"), "{description}");
    assert!(description.contains("last exit 0 at "), "{description}");
    assert!(description.contains(" after 0:00:00"), "{description}");
    let out = dir.ctl(&["status", "tick"]);
    assert!(out.stdout.contains("next run "), "{out}");
    // Between runs a job is where it should be: status does not exit 3 for it.
    out.assert_status(0);
    let out = dir.ctl(&["status", "--json"]);
    let json: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(json[0]["schedule"]["schedule"], "@every 1s", "{out}");
    assert_eq!(json[2]["schedule"]["schedule"], "*/2 * * * * *", "{out}");
    let out = dir.ctl(&["schedule"]);
    out.assert_status(0);
    assert!(out.stdout.starts_with("NAME    SCHEDULE"), "{out}");
    assert!(out.stdout.contains("tick    */2 * * * * *  local"), "{out}");
    assert!(out.stdout.contains("every   @every 1s      local"), "{out}");
    assert!(out.stdout.contains(" (in 0:00:0"), "{out}");
}

#[test]
fn a_run_due_while_the_last_one_runs_is_skipped_queued_or_restarts_it() {
    let dir = TestDir::new();
    let slow = "command={fixture} --after 3s --exit-code 0\nschedule = */2 * * * * *\n";
    dir.config(&format!(
        "[program:skip]\n{slow}\n[program:queue]\n{slow}schedule_overlap = queue\n\n\
         [program:restart]\n{slow}schedule_overlap = restart\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_count(
        &daemon,
        "job 'queue': run started (queued behind the previous run)",
        1,
    );
    let log = wait_until(JOB_DEADLINE, "skip and restart", || {
        let log = daemon.main_log();
        if log.contains("job 'skip': skipped the run due at")
            && log.contains("job 'restart': run started (restarted for its due time")
        {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    });
    // skip: the running one is left alone, and ends by itself.
    assert!(log.contains("(schedule_overlap = skip)"), "{log}");
    // queue: the due run waits, then starts when the previous one ends.
    let queue = log_messages(&log, "job 'queue'");
    let queued = queue
        .iter()
        .position(|m| m.contains("queued the run due at"))
        .expect("queued");
    let ended = queue
        .iter()
        .skip(queued)
        .position(|m| m.contains("run ended: exit status 0"))
        .expect("ended");
    assert!(
        queue[queued + ended + 1].contains("run started (queued behind"),
        "{queue:#?}"
    );
    // restart: the running one is stopped like `stop`, and a new run starts.
    let restart = log_messages(&log, "job 'restart'");
    let stopping = restart
        .iter()
        .position(|m| m.contains("stopping the run started at"))
        .expect("stopping");
    assert!(
        restart[stopping + 1].contains("run ended: terminated by SIGTERM (stopped)"),
        "{restart:#?}"
    );
    assert!(
        restart[stopping + 2].contains("run started (restarted"),
        "{restart:#?}"
    );
    // A job never runs twice at once: never two starts without an end between them.
    for name in ["skip", "queue", "restart"] {
        let mut running = false;
        for message in log_messages(&log, &format!("job '{name}': run ")) {
            if message.contains("run started") {
                assert!(!running, "{name} started twice at once: {log}");
                running = true;
            } else if message.contains("run ended") {
                running = false;
            }
        }
    }
}

#[test]
fn catch_up_after_a_daemon_restart_runs_once() {
    let dir = TestDir::new();
    let job = "command={fixture} --print ran --exit-code 0\nschedule = * * * * * *\n";
    dir.config(&format!(
        "[program:catch]\n{job}schedule_catchup = true\n\n[program:nocatch]\n{job}"
    ));
    let mut daemon = Daemon::start(&dir);
    wait_count(&daemon, "job 'catch': run ended", 1);
    wait_count(&daemon, "job 'nocatch': run ended", 1);
    daemon.signal(Signal::SIGTERM);
    daemon.wait_exit(DEADLINE);
    drop(daemon);
    // The last runs are in the state file beside the pidfile, written whole.
    let state: Value = serde_json::from_str(&dir.read("supervisord.schedule.json")).expect("json");
    for name in ["catch", "nocatch"] {
        assert!(
            state[name]["cursor_ms"].as_i64().unwrap_or(0) > 0,
            "{state}"
        );
        assert_eq!(state[name]["last"]["outcome"], "exit status 0", "{state}");
    }
    assert!(dir.try_read("supervisord.schedule.json.tmp").is_none());
    // As if the daemon had been down for a minute: the last due time dealt with was 60 s
    // earlier than it really was.
    let mut state = state;
    for name in ["catch", "nocatch"] {
        let cursor = state[name]["cursor_ms"].as_i64().unwrap_or(0);
        state[name]["cursor_ms"] = json!(cursor - 60_000);
    }
    dir.write("supervisord.schedule.json", state.to_string());
    let main_log_before = dir.read("supervisord.log").len();

    let daemon = Daemon::start(&dir);
    let log = wait_until(JOB_DEADLINE, "two regular runs after the restart", || {
        let log = daemon.main_log();
        let after = log[main_log_before..].to_owned();
        if after.matches("job 'catch': run started (due at").count() >= 2 {
            Ok(after)
        } else {
            Err(tail(&after))
        }
    });
    let log = log.as_str();
    // One run for all the missed due times, not one per due time.
    let catch = log_messages(log, "job 'catch': ");
    assert_eq!(
        catch
            .iter()
            .filter(|m| m.contains("run started (catching up on"))
            .count(),
        1,
        "{catch:#?}"
    );
    let announced = catch
        .iter()
        .find(|m| m.contains("catching up: "))
        .expect("the catch-up is announced");
    assert!(announced.contains("due times missed since"), "{announced}");
    assert!(announced.ends_with("running once now"), "{announced}");
    // Without schedule_catchup the missed ones are skipped, and said so.
    let nocatch = log_messages(log, "job 'nocatch': ");
    assert!(
        nocatch[0].contains("passed while the daemon was down")
            && nocatch[0].contains("schedule_catchup is off"),
        "{nocatch:#?}"
    );
    assert!(
        !nocatch.iter().any(|m| m.contains("catching up")),
        "{nocatch:#?}"
    );
}

#[test]
fn run_starts_a_job_now_and_leaves_its_schedule_alone() {
    let dir = TestDir::new();
    dir.config(
        "[program:nightly]\ncommand={fixture} --print backfill --after 3s --exit-code 0\n\
         schedule = 30 3 * * *\n\n\
         [program:paused]\ncommand={fixture} --exit-code 0\nschedule = @hourly\nautostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let next_run = schedule_of(&daemon, "nightly")["next_run"].clone();
    assert!(next_run.as_i64().unwrap_or(0) > 0, "{next_run}");
    let out = dir.ctl(&["run", "nightly"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "nightly: run started\n");
    wait_log(&daemon, "job 'nightly': run started (started by hand)");
    // A job never runs twice at once.
    let out = dir.ctl(&["run", "nightly"]);
    out.assert_status(1);
    assert!(
        out.stdout.contains("nightly: ERROR (already running"),
        "{out}"
    );
    expect_fault(
        daemon.rpc("supervisor.runProcess", json!(["nightly"])),
        ALREADY_STARTED,
    );
    assert_eq!(schedule_of(&daemon, "nightly")["next_run"], next_run);
    wait_log(
        &daemon,
        "job 'nightly': run ended: exit status 0 (expected)",
    );
    assert_eq!(schedule_of(&daemon, "nightly")["next_run"], next_run);
    // A paused job runs once by hand and stays paused.
    dir.ctl(&["run", "paused"]).assert_status(0);
    wait_log(&daemon, "job 'paused': run ended");
    let schedule = schedule_of(&daemon, "paused");
    assert_eq!(
        (schedule["paused"].clone(), schedule["next_run"].clone()),
        (json!(true), json!(0))
    );
    assert!(!daemon.main_log().contains("job 'paused': schedule resumed"));
}

#[test]
fn autostart_false_pauses_the_schedule_until_start() {
    let dir = TestDir::new();
    dir.config(
        "[program:clock]\ncommand={fixture} --exit-code 0\nschedule = * * * * * *\n\n\
         [program:job]\ncommand={fixture} --exit-code 0\nschedule = * * * * * *\n\
         autostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    // `clock` runs every second: once it has run twice, `job` has let due times pass.
    wait_count(&daemon, "job 'clock': run ended", 2);
    let log = daemon.main_log();
    assert!(log.contains("job 'job': schedule paused (autostart=false) until `start job`"));
    assert!(!log.contains("job 'job': run started"), "{log}");
    let info = daemon.process("job");
    assert_eq!(info["schedule"]["paused"], true, "{info}");
    assert!(
        info["description"]
            .as_str()
            .unwrap_or_default()
            .ends_with("schedule paused until start"),
        "{info}"
    );
    dir.ctl(&["start", "job"]).assert_status(0);
    let log = wait_count(&daemon, "job 'job': run started (due at", 1);
    let job = log_messages(&log, "job 'job': ");
    assert!(job[1].contains("run started (started by hand)"), "{job:#?}");
    assert!(
        job.iter().any(|m| m == "job 'job': schedule resumed"),
        "{job:#?}"
    );
    assert_eq!(daemon.process("job")["schedule"]["paused"], false);
}

#[test]
fn stop_ends_the_current_run_only() {
    let dir = TestDir::new();
    dir.config(
        "[program:long]\ncommand={fixture} --sleep\nschedule = */2 * * * * *\n\
         schedule_overlap = queue\n",
    );
    let daemon = Daemon::start(&dir);
    // The first run goes on past the next due time, which queues a run behind it.
    wait_log(&daemon, "job 'long': queued the run due at");
    let out = dir.ctl(&["stop", "long"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "long: stopped\n");
    let log = wait_log(
        &daemon,
        "job 'long': run ended: terminated by SIGTERM (stopped)",
    );
    let stopped_at = log.len();
    // The queued run was dropped with the stop; the schedule goes on with the next due time.
    let log = wait_count(&daemon, "job 'long': run started (due at", 2);
    let after = &log[stopped_at..];
    assert!(!after.contains("queued behind"), "{after}");
    let first = log_messages(&log, "job 'long': run started");
    assert_eq!(first.len(), 2, "{log}");
    assert!(first[1].contains("(due at "), "{first:#?}");
}

#[test]
fn schedule_timeout_stops_a_run_like_stop() {
    let dir = TestDir::new();
    dir.config(
        "[program:stuck]\ncommand={fixture} --sleep\nschedule = @reboot\n\
         schedule_timeout = 1s\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "stuck", "RUNNING", DEADLINE));
    let log = wait_log(&daemon, "job 'stuck': run ended");
    let stuck = log_messages(&log, "stuck");
    let find = |needle: &str| {
        stuck
            .iter()
            .position(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} in {stuck:#?}"))
    };
    let timeout = find("is still going after schedule_timeout (1s); stopping it");
    let stopped = find("stopped: stuck (terminated by SIGTERM)");
    let ended = find("job 'stuck': run ended: terminated by SIGTERM (stopped) after 1.");
    assert!(timeout < stopped && stopped < ended, "{stuck:#?}");
    assert!(
        stuck[0].contains("run started (@reboot, at daemon start)"),
        "{stuck:#?}"
    );
    assert!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err());
    let info = wait_state(&daemon, "stuck", "STOPPED", DEADLINE);
    assert_eq!(
        info["schedule"]["last_outcome"], "terminated by SIGTERM",
        "{info}"
    );
}

#[test]
fn a_bad_cron_expression_is_rejected_at_load_with_its_place() {
    let dir = TestDir::new();
    let path = dir.config("[program:bad]\ncommand={fixture}\nschedule = */15 25 * * *\n");
    let text = dir.read(&path);
    let line = text
        .lines()
        .position(|l| l.starts_with("schedule ="))
        .expect("the line")
        + 1;
    let failure = Daemon::start_expect_fail(&dir);
    assert_eq!(failure.status.code(), Some(2), "{failure:?}");
    let expected = format!(
        "{}:{line}: [program:bad] schedule: invalid schedule \"*/15 25 * * *\": field 2 (hour) \
         \"25\" is not valid",
        path.display()
    );
    assert!(
        failure.stderr.contains(&expected),
        "{expected}\n{failure:?}"
    );
    assert!(failure.stderr.contains("expected 0-23"), "{failure:?}");
}

#[test]
fn an_edited_schedule_takes_effect_in_place_without_touching_the_others() {
    let dir = TestDir::new();
    let web = "[program:web]\ncommand={fixture} --sleep\n\n";
    let other = "[program:other]\ncommand={fixture} --exit-code 0\nschedule = @yearly\n\n";
    dir.config(&format!(
        "{web}{other}[program:job]\ncommand={{fixture}} --exit-code 0\nschedule = * * * * * *\n"
    ));
    let daemon = Daemon::start(&dir);
    let web_pid = info_pid(&wait_state(&daemon, "web", "RUNNING", DEADLINE));
    let other_next = schedule_of(&daemon, "other")["next_run"].clone();
    wait_count(&daemon, "job 'job': run ended", 1);
    dir.config(&format!(
        "{web}{other}[program:job]\ncommand={{fixture}} --exit-code 0\nschedule = */3 * * * * *\n"
    ));
    let out = dir.ctl(&["update"]);
    out.assert_status(0);
    assert_eq!(out.stdout, "job: updated process group\n", "{out}");
    let before = daemon.main_log().len();
    wait_count(&daemon, "job 'job': schedule changed to */3 * * * * *", 1);
    let log = wait_until(JOB_DEADLINE, "two runs on the new schedule", || {
        let log = daemon.main_log();
        let after = &log[before.min(log.len())..];
        if after.matches("job 'job': run started (due at").count() >= 2 {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    });
    let changed = log.find("schedule changed to */3").expect("changed");
    let dues: Vec<f64> = log[changed..]
        .lines()
        .filter_map(|line| line.split("run started (due at ").nth(1))
        .map(|due| clock(due.trim_end_matches(')')))
        .collect();
    assert!(dues.iter().skip(1).all(|due| due % 3.0 == 0.0), "{dues:?}");
    // No due time ran twice across the change.
    let mut all: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split("job 'job': run started (due at ").nth(1))
        .collect();
    let count = all.len();
    all.dedup();
    assert_eq!(all.len(), count, "{log}");
    // The others are untouched.
    assert_eq!(info_pid(&daemon.process("web")), web_pid);
    assert_eq!(schedule_of(&daemon, "other")["next_run"], other_next);
}

#[test]
fn a_catch_up_is_not_repeated_by_the_next_restart() {
    let dir = TestDir::new();
    dir.config(
        "[program:hourly]\ncommand={fixture} --exit-code 0\nschedule = 0 * * * *\n\
         schedule_catchup = true\n",
    );
    // The state a daemon left three hours ago: it last dealt with a due time then.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    dir.write(
        "supervisord.schedule.json",
        json!({"hourly": {"cursor_ms": now_ms - 3 * 3_600_000}}).to_string(),
    );
    let mut daemon = Daemon::start(&dir);
    let log = wait_log(&daemon, "job 'hourly': run ended: exit status 0 (expected)");
    // Three hours: three due times (four if an hour struck while the daemon started).
    assert!(
        log.contains("job 'hourly': catching up: 3 due times missed since")
            || log.contains("job 'hourly': catching up: 4 due times missed since"),
        "{log}"
    );
    daemon.signal(Signal::SIGTERM);
    daemon.wait_exit(DEADLINE);
    drop(daemon);
    let before = dir.read("supervisord.log").len();
    let daemon = Daemon::start(&dir);
    // The schedule is armed when the program is added, before any request is answered.
    let info = daemon.process("hourly");
    let log = daemon.main_log();
    assert!(!log[before..].contains("catching up"), "{log}");
    assert!(
        !log[before..].contains("passed while the daemon was down"),
        "{log}"
    );
    // The last run is known across the restart.
    assert_eq!(info["schedule"]["last_outcome"], "exit status 0", "{info}");
    assert!(
        info["description"]
            .as_str()
            .unwrap_or_default()
            .contains("last exit 0 at "),
        "{info}"
    );
}
