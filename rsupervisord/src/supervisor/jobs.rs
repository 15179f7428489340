//! Scheduled jobs: the actor's side of a program's `schedule*` keys.
//!
//! A job is an ordinary process record with a [`Job`] attached. Its schedule is a deadline:
//! one sleep task per job, armed for the next due time (plus its jitter), that sends a
//! [`JobEvent::Due`] tagged with the job's epoch; re-arming or reconfiguring bumps the epoch
//! and voids the old timer. Nothing polls: a daemon whose jobs are not due sleeps.
//!
//! A due run goes through the state machine like `start` (`Input::Start`); a run that is still
//! going is skipped, queued or restarted as `schedule_overlap` says; `schedule_timeout` stops
//! a run like `stop`. The actor calls `Supervisor::job_after_step` after every step, which
//! is where a run's start and end are seen, logged and recorded, and where a queued run
//! starts.
//!
//! The last due time dealt with (the cursor, see [`super::schedule`]) and the last run of
//! every job are kept in the [`Book`], written (temporary file + rename) beside the pidfile a
//! second after they change, so a restarted daemon knows which due times it missed
//! (`schedule_catchup`) and what the last run did.

use super::event::Event;
use super::fsm::{ExitStatus, Input};
use super::process::{format_uptime, Process, ProcessId};
use super::schedule::{self, Plan};
use super::{Mood, Supervisor};
use jiff::Timestamp;
use rsupervisor_api::{ProcessState, ScheduleInfo};
use rsupervisor_config::{LogLevel, Overlap, ProcessConfig, ScheduleConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long changed run records may wait before they are written: a burst of a thousand
/// jobs due at once is one write.
const SAVE_DELAY: Duration = Duration::from_secs(1);

/// How many next due times `info` lists.
const UPCOMING: usize = 5;

/// A job timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEvent {
    /// A run is due (if `epoch` is still the job's).
    Due {
        /// Which process record.
        id: ProcessId,
        /// The job's epoch when armed.
        epoch: u64,
    },
    /// `schedule_timeout` of run number `run` passed.
    Timeout {
        /// Which process record.
        id: ProcessId,
        /// The run it was armed for.
        run: u64,
    },
    /// Time to write the run records.
    Save,
}

/// Why a run starts, for the main log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Due(Timestamp),
    CatchUp(u64),
    Reboot,
    Queued,
    Restart,
    Manual,
}

/// The run going on.
#[derive(Debug)]
struct Run {
    started: Timestamp,
    since: Instant,
}

/// A finished run, as persisted and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LastRun {
    /// Start, epoch seconds.
    pub start: i64,
    /// End, epoch seconds.
    pub end: i64,
    /// Duration, milliseconds.
    pub duration_ms: u64,
    /// Exit code, -1 for a signal or a failed start.
    pub exitstatus: i32,
    /// `exit status 0`, `terminated by SIGTERM`, `could not start: ...`.
    pub outcome: String,
}

/// What the state file keeps per job (by namespec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Saved {
    /// The last due time dealt with, epoch milliseconds (0: none).
    #[serde(default)]
    pub cursor_ms: i64,
    /// The last finished run.
    #[serde(default)]
    pub last: Option<LastRun>,
}

/// The run records of every job, and the state file they persist in.
#[derive(Debug, Default)]
pub struct Book {
    path: Option<PathBuf>,
    saved: BTreeMap<String, Saved>,
    save_armed: bool,
    /// Numbers the writes; the file holds the highest number written, so two writes that
    /// overlap on a slow disk never leave the older records in place.
    written: std::sync::Arc<std::sync::Mutex<u64>>,
    next_write: u64,
    /// The thread that writes the file, started with the first write. It waits on its
    /// channel between writes (a pool thread would wake up later just to end).
    writer: Option<std::sync::mpsc::Sender<Write>>,
}

impl Book {
    /// The state file that goes with a pidfile: `x.pid` → `x.schedule.json`.
    pub fn path_for(pidfile: &Path) -> PathBuf {
        pidfile.with_extension("schedule.json")
    }

    /// Reads the state file beside `pidfile`; a missing file is an empty book, an unreadable
    /// one too, with a warning for the main log.
    pub fn open(pidfile: &Path) -> (Book, Option<String>) {
        let path = Book::path_for(pidfile);
        let mut book = Book {
            path: Some(path.clone()),
            ..Book::default()
        };
        let warning = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(saved) => {
                    book.saved = saved;
                    None
                }
                Err(error) => Some(format!(
                    "ignoring the schedule state file {}: {error}; catch-up starts afresh",
                    path.display()
                )),
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => Some(format!(
                "could not read the schedule state file {}: {error}; catch-up starts afresh",
                path.display()
            )),
        };
        (book, warning)
    }

    /// What to write now: the records as JSON, numbered; `None` without a state file.
    fn snapshot(&mut self) -> Option<Write> {
        let path = self.path.clone()?;
        self.next_write += 1;
        Some(Write {
            path,
            text: serde_json::to_vec_pretty(&self.saved).unwrap_or_default(),
            number: self.next_write,
            written: self.written.clone(),
        })
    }
}

/// One write of the state file, done off the actor (it waits for the disk).
struct Write {
    path: PathBuf,
    text: Vec<u8>,
    number: u64,
    written: std::sync::Arc<std::sync::Mutex<u64>>,
}

impl Write {
    /// A temporary file in the same directory, then a rename, so a crash leaves the old file
    /// or the new one, never half of one. A write older than the one in place is dropped.
    fn run(self) -> Result<(), String> {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *written >= self.number {
            return Ok(());
        }
        let temporary = self.path.with_extension("schedule.json.tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&self.text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)
        };
        write().map_err(|error| {
            format!(
                "could not write the schedule state file {}: {error}; catch-up after a restart \
                 may miss the latest runs",
                self.path.display()
            )
        })?;
        *written = self.number;
        Ok(())
    }
}

/// A scheduled program's schedule and runs.
#[derive(Debug)]
pub struct Job {
    config: ScheduleConfig,
    plan: Plan,
    /// `autostart=false`, not yet started: no run is due.
    paused: bool,
    /// The last due time dealt with, or when the schedule was armed.
    cursor: Timestamp,
    /// The due time the armed timer is for.
    next_slot: Option<Timestamp>,
    /// When that timer fires: the due time plus the jitter.
    fire_at: Option<Timestamp>,
    /// The next due times from `next_slot` on, epoch seconds, computed when armed (status
    /// asks for them far more often than they change).
    upcoming: Vec<i64>,
    /// Voids armed due timers.
    epoch: u64,
    /// Runs started so far; voids `schedule_timeout` timers of earlier runs.
    runs: u64,
    /// A run waits for the current one (`schedule_overlap = queue`).
    queued: bool,
    /// The current run is being stopped to start again (`schedule_overlap = restart`).
    restart: bool,
    /// Why the next run starts (unset: by hand).
    trigger: Option<Trigger>,
    current: Option<Run>,
    /// How the current run's child ended, from the reaper.
    exit: Option<ExitStatus>,
    last: Option<LastRun>,
}

impl Job {
    /// A job that has not run in this daemon yet: no timer armed, the cursor at now, the
    /// last run as the state file remembers it.
    fn new(config: ScheduleConfig, plan: Plan, paused: bool, last: Option<LastRun>) -> Job {
        Job {
            config,
            plan,
            paused,
            cursor: Timestamp::now(),
            next_slot: None,
            fire_at: None,
            upcoming: Vec::new(),
            epoch: 0,
            runs: 0,
            queued: false,
            restart: false,
            trigger: None,
            current: None,
            exit: None,
            last,
        }
    }

    /// Whether a schedule change alone separates two configurations (then the process keeps
    /// running and only its schedule is replaced).
    pub fn same_but_schedule(new: &ProcessConfig, old: &ProcessConfig) -> bool {
        if new.schedule.is_none() || old.schedule.is_none() {
            return new == old;
        }
        let mut other = new.clone();
        other.schedule.clone_from(&old.schedule);
        other == *old
    }

    /// The timer is armed for due time `slot`, to fire at `fire_at`.
    fn armed_for(&mut self, slot: Timestamp, fire_at: Timestamp) {
        self.next_slot = Some(slot);
        self.fire_at = Some(fire_at);
        self.upcoming = std::iter::once(slot)
            .chain(self.plan.upcoming(slot, UPCOMING - 1))
            .map(|t| t.as_second())
            .collect();
    }

    /// The reaper saw the current child end this way.
    pub fn exited(&mut self, status: ExitStatus) {
        self.exit = Some(status);
    }

    fn zone_name(&self) -> String {
        self.config
            .timezone
            .clone()
            .unwrap_or_else(|| "local".to_owned())
    }

    /// The `schedule` field of the process info.
    pub fn info(&self) -> ScheduleInfo {
        let last = self.last.clone().unwrap_or_default();
        let next_runs = if self.paused {
            Vec::new()
        } else {
            self.upcoming.clone()
        };
        ScheduleInfo {
            schedule: self.config.schedule.to_string(),
            timezone: self.zone_name(),
            paused: self.paused,
            next_run: if self.paused {
                0
            } else {
                self.fire_at.map_or(0, |t| t.as_second())
            },
            next_runs,
            queued: self.queued,
            last_start: last.start,
            last_end: last.end,
            last_duration_ms: last.duration_ms,
            last_exitstatus: last.exitstatus,
            last_outcome: last.outcome,
        }
    }

    /// supervisord's description with the job's part added: `..., next run 12:45:00 (in
    /// 0:03:12), last exit 0 at 12:30:00 after 0:00:41`.
    pub fn describe(&self, base: String) -> String {
        let now = Timestamp::now();
        let mut parts = Vec::new();
        if !base.is_empty() {
            parts.push(base);
        }
        if self.paused {
            parts.push("schedule paused until start".to_owned());
        } else if let Some(at) = self.fire_at {
            let left = at
                .duration_since(now)
                .max(jiff::SignedDuration::ZERO)
                .unsigned_abs();
            parts.push(format!(
                "next run {} (in {})",
                show(at, self),
                schedule::show_span(left)
            ));
        }
        if self.queued {
            parts.push("1 run queued".to_owned());
        }
        if let Some(last) = &self.last {
            let when = Timestamp::from_second(last.start)
                .map(|start| show(start, self))
                .unwrap_or_default();
            let took = format_uptime(i64::try_from(last.duration_ms / 1000).unwrap_or(0));
            match last.outcome.strip_prefix("exit status ") {
                Some(code) => parts.push(format!("last exit {code} at {when} after {took}")),
                None => parts.push(format!("last run {} at {when} after {took}", last.outcome)),
            }
        }
        parts.join(", ")
    }
}

/// A time of a job for the operator: in its zone, which is named when it is not the daemon's
/// local time (the main log's own stamps are local: `due at 12:30:00 CET` must not be read
/// as local 12:30).
fn show(at: Timestamp, job: &Job) -> String {
    let text = schedule::show_time(at, Timestamp::now(), job.plan.zone());
    match &job.config.timezone {
        Some(_) => format!(
            "{text} {}",
            at.to_zoned(job.plan.zone().clone()).strftime("%Z")
        ),
        None => text,
    }
}

impl Supervisor {
    /// The job of a newly configured process, if it has a schedule.
    pub(super) fn new_job(&self, config: &ProcessConfig) -> Option<Job> {
        let schedule = config.schedule.as_ref()?;
        let plan = match Plan::new(schedule) {
            Ok(plan) => plan,
            Err(error) => {
                // The configuration was checked when loaded; a zone removed since is the
                // only way here.
                self.log(
                    LogLevel::Error,
                    &format!(
                        "job '{}': its schedule cannot be used ({error}); it will not run on a \
                         schedule",
                        config.name
                    ),
                );
                return None;
            }
        };
        let namespec = rsupervisor_api::namespec(&config.group, &config.name);
        let last = self.book.saved.get(&namespec).and_then(|s| s.last.clone());
        Some(Job::new(schedule.clone(), plan, !config.autostart, last))
    }

    /// Newly added records: arm their schedules; at daemon start, run `@reboot` jobs and
    /// catch up on due times missed while the daemon was down.
    pub(super) fn jobs_added(&mut self, ids: &[ProcessId], booting: bool) {
        let now = Timestamp::now();
        for &id in ids {
            let Some(process) = self.processes.get_mut(&id) else {
                continue;
            };
            let namespec = process.namespec();
            let Some(job) = process.job.as_mut() else {
                continue;
            };
            let name = process.config.name.clone();
            if job.paused {
                self.log(
                    LogLevel::Info,
                    &format!(
                        "job '{name}': schedule paused (autostart=false) until `start {namespec}`"
                    ),
                );
                continue;
            }
            if job.plan.is_reboot() {
                if booting {
                    self.job_start(id, Trigger::Reboot);
                }
                continue;
            }
            let saved = self
                .book
                .saved
                .get(&namespec)
                .map(|s| s.cursor_ms)
                .filter(|ms| *ms > 0)
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .filter(|cursor| *cursor <= now);
            let mut start = None;
            let mut dealt_with = None;
            if let Some(cursor) = saved {
                let due = job.plan.due(cursor, now);
                job.cursor = cursor;
                if let (true, Some(last)) = (due.missed > 0, due.last_missed) {
                    job.cursor = last;
                    dealt_with = Some(last);
                    let count = missed_text(due.missed);
                    let message = if job.config.catchup {
                        start = Some(Trigger::CatchUp(due.missed));
                        format!(
                            "job '{name}': catching up: {count} missed since {} (the last at \
                             {}); running once now",
                            show(cursor, job),
                            show(last, job)
                        )
                    } else {
                        format!(
                            "job '{name}': {count} passed while the daemon was down (the last \
                             at {}); schedule_catchup is off, so it waits for the next one",
                            show(last, job)
                        )
                    };
                    self.log(LogLevel::Info, &message);
                }
            }
            // Recorded at once: a second restart right after this one must not catch up on
            // the same due times again.
            if let Some(last) = dealt_with {
                self.record_cursor(&namespec, last);
            }
            self.arm(id);
            if let Some(trigger) = start {
                self.job_start(id, trigger);
            }
        }
    }

    /// Arms the job's timer for the first due time after its cursor.
    fn arm(&mut self, id: ProcessId) {
        let now = Timestamp::now();
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let name = process.config.name.clone();
        let Some(job) = process.job.as_mut() else {
            return;
        };
        job.epoch += 1;
        job.next_slot = None;
        job.fire_at = None;
        job.upcoming.clear();
        if job.paused {
            return;
        }
        let due = job.plan.due(job.cursor, now);
        let mut late = None;
        if let (true, Some(last)) = (due.missed > 0, due.last_missed) {
            // The daemon was busy (or the machine asleep) over whole periods: those runs are
            // not made up for; the next one is.
            late = Some(format!(
                "job '{name}': {} passed while the daemon could not run it (the last at {}); \
                 waiting for the next one",
                missed_text(due.missed),
                show(last, job)
            ));
            job.cursor = last;
        }
        let mut timer = None;
        if let Some(slot) = due.next {
            let fire_at = slot
                .checked_add(schedule::jitter(&name, slot, job.config.jitter))
                .unwrap_or(slot);
            job.armed_for(slot, fire_at);
            timer = Some((fire_at, job.epoch));
        }
        if let Some((fire_at, epoch)) = timer {
            self.sleep_until(fire_at, Event::Job(JobEvent::Due { id, epoch }));
        }
        if let Some(message) = late {
            self.log(LogLevel::Warn, &message);
        }
    }

    /// A deadline: `event` arrives at `at` (wall clock), from a sleep task.
    fn sleep_until(&self, at: Timestamp, event: Event) {
        let delay = at
            .duration_since(Timestamp::now())
            .max(jiff::SignedDuration::ZERO)
            .unsigned_abs();
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = events.send(event);
        });
    }

    /// A job timer fired.
    pub(super) fn on_job_event(&mut self, event: JobEvent) {
        match event {
            JobEvent::Due { id, epoch } => self.on_due(id, epoch),
            JobEvent::Timeout { id, run } => self.on_timeout(id, run),
            JobEvent::Save => {
                self.book.save_armed = false;
                let Some(write) = self.book.snapshot() else {
                    return;
                };
                if self.book.writer.is_none() {
                    self.book.writer = self.start_writer();
                }
                let refused = match &self.book.writer {
                    Some(writer) => writer.send(write).err().map(|error| error.0),
                    None => Some(write),
                };
                // No writer thread: write here rather than not at all.
                if let Some(Err(error)) = refused.map(Write::run) {
                    self.log(LogLevel::Warn, &error);
                }
            }
        }
    }

    fn on_due(&mut self, id: ProcessId, epoch: u64) {
        if self.mood != Mood::Running {
            return;
        }
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let namespec = process.namespec();
        let Some(job) = process.job.as_mut().filter(|job| job.epoch == epoch) else {
            return; // armed before a later re-arm
        };
        let (Some(slot), Some(fire_at)) = (job.next_slot, job.fire_at) else {
            return;
        };
        if Timestamp::now() < fire_at {
            // The wall clock went back while the timer slept: wait for the rest.
            self.sleep_until(fire_at, Event::Job(JobEvent::Due { id, epoch }));
            return;
        }
        job.cursor = slot;
        self.record_cursor(&namespec, slot);
        self.run_due(id, Trigger::Due(slot));
        self.arm(id);
    }

    /// A due run: start it, or apply `schedule_overlap` if the previous one still runs.
    fn run_due(&mut self, id: ProcessId, trigger: Trigger) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let state = process.machine.state;
        let name = process.config.name.clone();
        let Some(job) = process.job.as_mut() else {
            return;
        };
        if state.is_stopped() && !process.machine.restart_pending {
            self.job_start(id, trigger);
            return;
        }
        let due = match trigger {
            Trigger::Due(slot) => show(slot, job),
            _ => "now".to_owned(),
        };
        let since = job
            .current
            .as_ref()
            .map(|run| show(run.started, job))
            .unwrap_or_else(|| "before".to_owned());
        let (level, message) = match job.config.overlap {
            Overlap::Skip => (
                LogLevel::Warn,
                format!(
                    "job '{name}': skipped the run due at {due}: the run started at {since} is \
                     still going (schedule_overlap = skip)"
                ),
            ),
            Overlap::Queue if job.queued => (
                LogLevel::Warn,
                format!(
                    "job '{name}': skipped the run due at {due}: one run is already queued \
                     behind the run started at {since} (schedule_overlap = queue)"
                ),
            ),
            Overlap::Queue => {
                job.queued = true;
                (
                    LogLevel::Info,
                    format!(
                        "job '{name}': queued the run due at {due}: it starts when the run \
                         started at {since} ends (schedule_overlap = queue)"
                    ),
                )
            }
            Overlap::Restart => {
                job.restart = true;
                (
                    LogLevel::Info,
                    format!(
                        "job '{name}': stopping the run started at {since} to start the run \
                         due at {due} (schedule_overlap = restart)"
                    ),
                )
            }
        };
        self.log(level, &message);
        if job_restarting(self.processes.get(&id).map(|p| &**p)) && state != ProcessState::Stopping
        {
            let _ = self.apply(id, Input::Stop);
        }
    }

    /// Starts a run, through the state machine as `start` does.
    fn job_start(&mut self, id: ProcessId, trigger: Trigger) {
        let Some(job) = self.processes.get_mut(&id).and_then(|p| p.job.as_mut()) else {
            return;
        };
        job.trigger = Some(trigger);
        let _ = self.apply(id, Input::Start);
        if let Some(job) = self.processes.get_mut(&id).and_then(|p| p.job.as_mut()) {
            job.trigger = None;
        }
    }

    /// Sends `Timeout` for run number `run` at `at`, on the monotonic clock runs are timed on.
    fn arm_timeout(&self, id: ProcessId, run: u64, at: Instant) {
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            let _ = events.send(Event::Job(JobEvent::Timeout { id, run }));
        });
    }

    fn on_timeout(&mut self, id: ProcessId, run: u64) {
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        let Some(job) = process.job.as_ref() else {
            return;
        };
        let state = process.machine.state;
        if job.runs != run || job.current.is_none() || !state.is_running() {
            return;
        }
        // A run is timed from its spawn (see `run_ended`), which may come a moment after
        // the start when the spawn queue is busy: the timeout counts from there too.
        let since = job.current.as_ref().map(|r| r.since);
        if let (Some(timeout), Some(spawned), Some(since)) =
            (job.config.timeout, process.spawned_at, since)
        {
            let deadline = spawned + timeout;
            if spawned > since && Instant::now() < deadline {
                self.arm_timeout(id, run, deadline);
                return;
            }
        }
        let started = job
            .current
            .as_ref()
            .map(|r| show(r.started, job))
            .unwrap_or_default();
        let timeout = job
            .config
            .timeout
            .map(rsupervisor_config::policy::format_duration)
            .unwrap_or_default();
        let name = process.config.name.clone();
        self.log(
            LogLevel::Warn,
            &format!(
                "job '{name}': the run started at {started} is still going after \
                 schedule_timeout ({timeout}); stopping it"
            ),
        );
        let _ = self.apply(id, Input::Stop);
    }

    /// After every state-machine step: a run starts (a stopped state to STARTING) or ends
    /// (back to a stopped state); an ended run lets a queued or restarting one start.
    pub(super) fn job_after_step(&mut self, id: ProcessId, before: ProcessState) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let after = process.machine.state;
        if before == after || process.job.is_none() {
            return;
        }
        if before.is_stopped() && after == ProcessState::Starting {
            self.run_started(id);
        } else if after.is_stopped() {
            self.run_ended(id);
        }
    }

    fn run_started(&mut self, id: ProcessId) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let name = process.config.name.clone();
        let Some(job) = process.job.as_mut() else {
            return;
        };
        let now = Timestamp::now();
        let since = Instant::now();
        job.runs += 1;
        job.exit = None;
        job.current = Some(Run {
            started: now,
            since,
        });
        let why = match job.trigger.take().unwrap_or(Trigger::Manual) {
            Trigger::Due(slot) => format!("due at {}", show(slot, job)),
            Trigger::CatchUp(missed) => format!("catching up on {}", missed_text(missed)),
            Trigger::Reboot => "@reboot, at daemon start".to_owned(),
            Trigger::Queued => "queued behind the previous run".to_owned(),
            Trigger::Restart => {
                "restarted for its due time (schedule_overlap = restart)".to_owned()
            }
            Trigger::Manual => "started by hand".to_owned(),
        };
        let timeout = job.config.timeout.map(|t| (t, job.runs));
        self.log(
            LogLevel::Info,
            &format!("job '{name}': run started ({why})"),
        );
        if let Some((timeout, run)) = timeout {
            self.arm_timeout(id, run, since + timeout);
        }
    }

    fn run_ended(&mut self, id: ProcessId) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let namespec = process.namespec();
        let name = process.config.name.clone();
        let state = process.machine.state;
        let exitcodes = process.config.exitcodes.clone();
        let spawnerr = process.machine.spawnerr.clone();
        let spawned_at = process.spawned_at;
        let spawned = Timestamp::from_second(process.start_time).ok();
        let Some(job) = process.job.as_mut() else {
            return;
        };
        let Some(mut run) = job.current.take() else {
            return;
        };
        // The run is timed from its spawn (a start may wait in the spawn queue a moment when
        // many jobs are due at once), or from its start request if it never spawned.
        if let (Some(since), Some(started)) = (spawned_at.filter(|at| *at >= run.since), spawned) {
            run.since = since;
            run.started = started.max(run.started);
        }
        let took = run.since.elapsed();
        let (outcome, exitstatus, expected) = match job.exit.take() {
            Some(status) => (
                status.describe(),
                status.code(),
                state == ProcessState::Exited
                    && matches!(status, ExitStatus::Code(code) if exitcodes.contains(&code)),
            ),
            None if !spawnerr.is_empty() => (format!("could not start: {spawnerr}"), -1, false),
            None => ("stopped before it started".to_owned(), -1, false),
        };
        let last = LastRun {
            start: run.started.as_second(),
            end: Timestamp::now().as_second(),
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            exitstatus,
            outcome: outcome.clone(),
        };
        job.last = Some(last.clone());
        let started = show(run.started, job);
        let verdict = match state {
            ProcessState::Stopped => "stopped",
            _ if expected => "expected",
            _ => "not expected",
        };
        let next = if std::mem::take(&mut job.restart) {
            job.queued = false;
            Some(Trigger::Restart)
        } else if std::mem::take(&mut job.queued) {
            Some(Trigger::Queued)
        } else {
            None
        };
        let level = if expected || state == ProcessState::Stopped {
            LogLevel::Info
        } else {
            LogLevel::Warn
        };
        self.log(
            level,
            &format!(
                "job '{name}': run ended: {outcome} ({verdict}) after {}; it started at {started}",
                precise_span(took)
            ),
        );
        self.book.saved.entry(namespec).or_default().last = Some(last);
        self.save_soon();
        if let (Some(trigger), Mood::Running) = (next, self.mood) {
            self.job_start(id, trigger);
        }
    }

    fn record_cursor(&mut self, namespec: &str, slot: Timestamp) {
        self.book
            .saved
            .entry(namespec.to_owned())
            .or_default()
            .cursor_ms = slot.as_millisecond();
        self.save_soon();
    }

    /// Arms the save deadline unless it is armed.
    fn save_soon(&mut self) {
        if std::mem::replace(&mut self.book.save_armed, true) {
            return;
        }
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SAVE_DELAY).await;
            let _ = events.send(Event::Job(JobEvent::Save));
        });
    }

    /// Starts the state file's writer thread. It ends when its channel closes: the actor
    /// drops the book (and the sender in it) when it returns, at daemon exit; the last
    /// records are written by the actor itself then (`save_jobs_now`).
    fn start_writer(&self) -> Option<std::sync::mpsc::Sender<Write>> {
        let (sender, receiver) = std::sync::mpsc::channel::<Write>();
        let main_log = self.services.main_log.clone();
        std::thread::Builder::new()
            .name("rsupervisord-state".to_owned())
            .spawn(move || {
                for write in receiver {
                    if let Err(error) = write.run() {
                        main_log.log(LogLevel::Warn, &error);
                    }
                }
            })
            .ok()
            .map(|_| sender)
    }

    /// Writes the run records now if they changed (the daemon is exiting).
    pub(super) fn save_jobs_now(&mut self) {
        if !std::mem::take(&mut self.book.save_armed) {
            return;
        }
        if let Some(Err(error)) = self.book.snapshot().map(Write::run) {
            self.log(LogLevel::Warn, &error);
        }
    }

    /// `start` of a job resumes its paused schedule (`autostart=false`).
    pub(super) fn job_started_by_hand(&mut self, name: &str) {
        let Ok(id) = self.find(name) else {
            return;
        };
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let running = process.machine.state.is_running();
        let Some(job) = process.job.as_mut().filter(|job| job.paused && running) else {
            return;
        };
        job.paused = false;
        job.cursor = Timestamp::now();
        let name = process.config.name.clone();
        self.arm(id);
        self.log(LogLevel::Info, &format!("job '{name}': schedule resumed"));
    }

    /// `stop` ends the current run only: nothing queued starts after it.
    pub(super) fn job_stop_requested(&mut self, name: &str) {
        let Ok(id) = self.find(name) else {
            return;
        };
        if let Some(job) = self.processes.get_mut(&id).and_then(|p| p.job.as_mut()) {
            job.queued = false;
            job.restart = false;
        }
    }

    /// `update` changed only the schedule of a kept process: replace it in place. The due
    /// time the old schedule was about to run (its timer had fired, or was in its jitter)
    /// runs now; the new schedule starts from now, so nothing already run runs again.
    pub(super) fn job_reconfigure(&mut self, id: ProcessId, config: Arc<ProcessConfig>) {
        let job = self.new_job(&config);
        let now = Timestamp::now();
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let name = config.name.clone();
        process.config = config;
        let Some(job) = job else {
            // Its schedule cannot be used (said in the main log): no more due runs.
            process.job = None;
            return;
        };
        let Some(old) = process.job.as_mut() else {
            return;
        };
        let pending = old.next_slot.filter(|slot| *slot <= now && !old.paused);
        old.config = job.config;
        old.plan = job.plan;
        old.cursor = now;
        let paused = old.paused;
        let schedule = old.config.schedule.to_string();
        self.log(
            LogLevel::Info,
            &format!("job '{name}': schedule changed to {schedule}"),
        );
        if paused {
            return;
        }
        if let Some(slot) = pending {
            self.run_due(id, Trigger::Due(slot));
        }
        self.arm(id);
    }
}

fn job_restarting(process: Option<&Process>) -> bool {
    process
        .and_then(|p| p.job.as_ref())
        .is_some_and(|job| job.restart)
}

/// A run's duration for the main log: `0.508s` under a minute, `0:03:12` above.
fn precise_span(span: Duration) -> String {
    if span < Duration::from_secs(60) {
        format!("{:.3}s", span.as_secs_f64())
    } else {
        format_uptime(i64::try_from(span.as_secs()).unwrap_or(i64::MAX))
    }
}

fn missed_text(count: u64) -> String {
    match count {
        1 => "1 due time".to_owned(),
        n if n >= schedule::MISSED_COUNT_CAP => format!("{n} or more due times"),
        n => format!("{n} due times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_config::Schedule;

    fn job(schedule: Schedule) -> Job {
        let config = ScheduleConfig {
            schedule,
            timezone: Some("UTC".into()),
            jitter: Duration::ZERO,
            overlap: Overlap::Skip,
            catchup: false,
            timeout: None,
        };
        let plan = Plan::new(&config).expect("plan");
        Job::new(config, plan, false, None)
    }

    #[test]
    fn info_lists_the_next_due_times_from_the_armed_one() {
        let mut every = job(Schedule::Every(Duration::from_secs(180)));
        let slot: Timestamp = "2026-12-02T12:45:00Z".parse().expect("time");
        every.armed_for(
            slot,
            slot.checked_add(jiff::SignedDuration::from_secs(7))
                .expect("t"),
        );
        let info = every.info();
        assert_eq!(info.schedule, "@every 180s");
        assert_eq!(info.next_run, slot.as_second() + 7);
        let steps: Vec<i64> = info
            .next_runs
            .iter()
            .map(|t| t - slot.as_second())
            .collect();
        assert_eq!(steps, [0, 180, 360, 540, 720]);
        every.paused = true;
        assert_eq!(
            (every.info().next_run, every.info().next_runs.len()),
            (0, 0)
        );
    }

    #[test]
    fn the_description_says_what_comes_and_what_was() {
        let mut cron = job(Schedule::Cron("*/15 * * * *".into()));
        let now = Timestamp::now();
        cron.fire_at = now.checked_add(jiff::SignedDuration::from_secs(192)).ok();
        cron.last = Some(LastRun {
            start: now.as_second() - 900,
            end: now.as_second() - 859,
            duration_ms: 41_200,
            exitstatus: 0,
            outcome: "exit status 0".into(),
        });
        let text = cron.describe("Dec 02 12:30 PM".into());
        assert!(text.starts_with("Dec 02 12:30 PM, next run "), "{text}");
        // A zone other than local time is named.
        assert!(text.contains(" UTC (in 0:03:1"), "{text}");
        assert!(text.contains(", last exit 0 at "), "{text}");
        assert!(text.ends_with(" after 0:00:41"), "{text}");
        cron.last = Some(LastRun {
            outcome: "terminated by SIGTERM".into(),
            ..LastRun::default()
        });
        cron.paused = true;
        cron.queued = true;
        let text = cron.describe(String::new());
        assert!(
            text.starts_with(
                "schedule paused until start, 1 run queued, last run terminated by SIGTERM at "
            ),
            "{text}"
        );
    }
}
