//! The supervisor's record of one process: its settings, its state machine, its child and log
//! plumbing, and who is waiting on it.

use super::command::{Outcome, Reply, Target};
use super::fsm::{Machine, Rules};
use crate::logs::LogHandle;
use rsupervisor_api::{Fault, FaultError, ProcessInfo, ProcessState};
use rsupervisor_config::ProcessConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Stable id of a process record inside the actor (never reused while the daemon runs).
pub type ProcessId = u64;

/// A request waiting for a process to reach an outcome.
#[derive(Debug)]
pub enum Waiter {
    /// `startProcess(wait=true)`: RUNNING, or a failure.
    Start(Reply<Outcome>),
    /// `stopProcess(wait=true)`: a stopped state.
    Stop(Reply<Outcome>),
    /// `startProcess(wait=false)`: the queued spawn was carried out (or cancelled), so the
    /// answer can say whether it failed, as supervisord's does.
    Spawn(Reply<Outcome>),
}

/// One supervised process.
#[derive(Debug)]
pub struct Process {
    /// Its settings: shared with the group and the configuration it came from.
    pub config: Arc<ProcessConfig>,
    /// State, pid, backoff counter, spawn error.
    pub machine: Machine,
    /// Bumped whenever a timer is armed or the state changes; timers carry it.
    pub epoch: u64,
    /// When the current child was spawned (monotonic), for `startsecs`.
    pub spawned_at: Option<Instant>,
    /// Last start, epoch seconds (0 if never).
    pub start_time: i64,
    /// Last stop, epoch seconds (0 if never).
    pub stop_time: i64,
    /// When the last armed restart or retry timer is due, epoch seconds (read only while a
    /// restart is pending or a cool-down runs).
    pub restart_at: f64,
    /// stdout log path (resolved AUTO path), if any.
    pub stdout_path: Option<PathBuf>,
    /// stderr log path, if any.
    pub stderr_path: Option<PathBuf>,
    /// Write end of the child's stdin, shared with in-flight `sendProcessStdin` writers.
    pub stdin: Option<std::sync::Arc<tokio::sync::Mutex<tokio::net::unix::pipe::Sender>>>,
    /// Log files of the current (or last) child's output, shared with its pumps, to reopen
    /// or clear them.
    pub log_files: Vec<LogHandle>,
    /// Drain requests to the current child's pumps that feed the event system (see
    /// [`crate::logs::OutputEvents::drain`]); empty for most programs.
    pub output_drains: Vec<tokio::sync::mpsc::UnboundedSender<()>>,
    /// The pumps of the current child's stdout and stderr: its exit is handled once they
    /// reached end of file (or after [`super::OUTPUT_GRACE`]), so the output it wrote
    /// comes before its exit everywhere (main log, events, `tail`).
    pub pumps: Vec<tokio::task::JoinHandle<crate::logs::PumpReport>>,
    /// Requests waiting for an outcome.
    pub waiters: Vec<Waiter>,
    /// Set while `scale` keeps this process's program at a count other than the file's.
    pub scaled: Option<super::scale::Scaled>,
    /// Health check verdict, readiness and what the start waits for: the one health state
    /// everything reads (see [`super::health`]).
    pub health: super::health::Health,
    /// The schedule and runs of a scheduled program (`schedule` key).
    pub job: Option<super::jobs::Job>,
}

impl Process {
    /// A never-started process with the given settings and log paths.
    pub fn new(
        config: Arc<ProcessConfig>,
        stdout_path: Option<PathBuf>,
        stderr_path: Option<PathBuf>,
    ) -> Self {
        Process {
            config,
            machine: Machine::new(),
            epoch: 0,
            spawned_at: None,
            start_time: 0,
            stop_time: 0,
            restart_at: 0.0,
            stdout_path,
            stderr_path,
            stdin: None,
            log_files: Vec::new(),
            output_drains: Vec::new(),
            pumps: Vec::new(),
            waiters: Vec::new(),
            scaled: None,
            health: super::health::Health::default(),
            job: None,
        }
    }

    /// `group:name` or `name`.
    pub fn namespec(&self) -> String {
        rsupervisor_api::namespec(&self.config.group, &self.config.name)
    }

    /// Which group operations apply to this process now (see [`Target`]).
    pub fn target(&self) -> Target {
        let state = self.machine.state;
        Target {
            namespec: self.namespec(),
            name: self.config.name.clone(),
            group: self.config.group.clone(),
            startable: !state.is_running(),
            stoppable: state.is_running() || self.machine.restart_pending,
            signallable: state.is_signallable() && !self.machine.spawn_pending,
        }
    }

    /// The state-machine rules from this process's settings, at the actor's monotonic time
    /// `now`.
    pub fn rules(&self, daemon_running: bool, now: std::time::Duration) -> Rules {
        Rules {
            name: self.config.name.clone(),
            startsecs: self.config.startsecs,
            startretries: self.config.startretries,
            autorestart: self.config.autorestart,
            exitcodes: self.config.exitcodes.clone(),
            stopsignal: self.config.stopsignal.number,
            stopwaitsecs: self.config.stopwaitsecs,
            stopasgroup: self.config.stopasgroup,
            killasgroup: self.config.killasgroup,
            daemon_running,
            policy: self.config.restart,
            now,
        }
    }

    /// Whether a timer will start this process again: a pending restart (EXITED) or the
    /// end of a cool-down (BACKOFF). Ordinary BACKOFF retries keep supervisord's status.
    fn restart_due(&self) -> bool {
        match self.machine.state {
            ProcessState::Exited => self.machine.restart_pending,
            ProcessState::Backoff => self.machine.cooling_down,
            _ => false,
        }
    }

    /// Answers the waiters that the current state settles.
    pub fn resolve_waiters(&mut self) {
        let state = self.machine.state;
        let name = self.namespec();
        let spawnerr = self.machine.spawnerr.clone();
        let waiters = std::mem::take(&mut self.waiters);
        for waiter in waiters {
            match waiter {
                Waiter::Start(reply) => match state {
                    ProcessState::Running => {
                        let _ = reply.send(Ok(()));
                    }
                    ProcessState::Starting => self.waiters.push(Waiter::Start(reply)),
                    // A spawn error or a too-quick exit: supervisord's SPAWN_ERROR.
                    ProcessState::Backoff | ProcessState::Fatal if !spawnerr.is_empty() => {
                        let _ = reply.send(Err(FaultError::new(Fault::SpawnError, name.clone())));
                    }
                    _ => {
                        let _ = reply.send(Err(FaultError::new(
                            Fault::AbnormalTermination,
                            name.clone(),
                        )));
                    }
                },
                Waiter::Spawn(reply) => match state {
                    // Held for a dependency or `wait_for`: the start was accepted, and the
                    // caller asked not to wait for the spawn.
                    _ if self.machine.spawn_pending && self.health.waiting_for.is_empty() => {
                        self.waiters.push(Waiter::Spawn(reply))
                    }
                    ProcessState::Backoff | ProcessState::Fatal if !spawnerr.is_empty() => {
                        let _ = reply.send(Err(FaultError::new(Fault::SpawnError, name.clone())));
                    }
                    // Spawned (or already through RUNNING to an exit), or stopped before the
                    // queued spawn was done: the caller asked for no wait, and supervisord,
                    // which spawns at once, would have answered true.
                    _ => {
                        let _ = reply.send(Ok(()));
                    }
                },
                Waiter::Stop(reply) => {
                    if state.is_stopped() {
                        let _ = reply.send(Ok(()));
                    } else {
                        self.waiters.push(Waiter::Stop(reply));
                    }
                }
            }
        }
    }

    /// supervisord's process info struct.
    pub fn info(&self) -> ProcessInfo {
        let now = epoch_seconds(SystemTime::now());
        let state = self.machine.state;
        let stdout_logfile = path_string(&self.stdout_path);
        ProcessInfo {
            name: self.config.name.clone(),
            group: self.config.group.clone(),
            description: match &self.job {
                Some(job) => job.describe(self.description(now)),
                None => self.description(now),
            },
            start: self.start_time,
            stop: self.stop_time,
            now,
            state: state.code(),
            statename: state.name().to_owned(),
            spawnerr: self.machine.spawnerr.clone(),
            exitstatus: self.machine.exitstatus,
            logfile: stdout_logfile.clone(),
            stdout_logfile,
            stderr_logfile: path_string(&self.stderr_path),
            pid: self.machine.pid.unwrap_or(0),
            restarts: self.machine.history.restarts,
            restart_delay_ms: u64::try_from(self.machine.last_delay.as_millis())
                .unwrap_or(u64::MAX),
            next_restart: if self.restart_due() {
                self.restart_at.ceil() as i64
            } else {
                0
            },
            schedule: self.job.as_ref().map(super::jobs::Job::info),
            health: if self.config.deps.healthcheck.is_some() {
                self.health.status.name().to_owned()
            } else {
                String::new()
            },
            health_failures: self.health.failures,
            health_error: self.health.last_error.clone(),
            waiting_for: self.waiting_for().to_owned(),
        }
    }

    /// What a held start waits for (`waiting for db (healthy)`), empty if nothing.
    fn waiting_for(&self) -> &str {
        if self.machine.state == ProcessState::Starting && self.machine.spawn_pending {
            &self.health.waiting_for
        } else {
            ""
        }
    }

    /// The `status` description (reference §4.2), with `, restarting in 0:00:08` while a
    /// timer will start the process again (never a bare EXITED for a crash loop), and
    /// `; scaled to 5 (file: 3)` while `scale` overrides the file's `numprocs`.
    fn description(&self, now: i64) -> String {
        let description = self.state_description(now);
        match self.scaled {
            Some(scaled) => format!(
                "{description}{}scaled to {} (file: {})",
                if description.is_empty() { "" } else { "; " },
                scaled.instances,
                scaled.in_file
            ),
            None => description,
        }
    }

    /// The description of the state alone.
    fn state_description(&self, now: i64) -> String {
        let base = self.base_description(now);
        if !self.restart_due() {
            return base;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let left = (self.restart_at - now).max(0.0).ceil() as i64;
        let verb = if self.machine.state == ProcessState::Exited {
            "restarting"
        } else {
            "retrying"
        };
        let base = if self.machine.cooling_down {
            self.machine.spawnerr.clone()
        } else {
            base
        };
        format!("{base}, {verb} in {}", format_uptime(left))
    }

    fn base_description(&self, now: i64) -> String {
        match self.machine.state {
            ProcessState::Running => {
                let uptime = (now - self.start_time).max(0);
                let base = format!(
                    "pid {}, uptime {}",
                    self.machine.pid.unwrap_or(0),
                    format_uptime(uptime)
                );
                // Only a program with a health check says more than supervisord.
                match self.config.deps.healthcheck {
                    Some(_) => format!("{base}, {}", self.health.describe()),
                    None => base,
                }
            }
            ProcessState::Starting if !self.waiting_for().is_empty() => {
                self.waiting_for().to_owned()
            }
            ProcessState::Stopped | ProcessState::Exited => {
                if self.start_time == 0 {
                    "Not started".to_owned()
                } else {
                    format_stop_time(self.stop_time)
                }
            }
            ProcessState::Fatal | ProcessState::Backoff => {
                if self.machine.spawnerr.is_empty() {
                    format!("unknown error (try \"tail {}\")", self.config.name)
                } else {
                    self.machine.spawnerr.clone()
                }
            }
            ProcessState::Starting | ProcessState::Stopping | ProcessState::Unknown => {
                String::new()
            }
        }
    }
}

/// Seconds since the epoch, with the fraction.
pub fn epoch_seconds_f64(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds since the epoch.
pub fn epoch_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn path_string(path: &Option<PathBuf>) -> String {
    // The same text as `display()` (invalid UTF-8 becomes U+FFFD), without going through
    // the formatter: a status of every program makes three of these per program.
    path.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// supervisord's `strftime('%b %d %I:%M %p')` of a stop time, in local time.
fn format_stop_time(epoch: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(time) = crate::sys::local_time(epoch) else {
        return String::new();
    };
    let month = MONTHS[(time.month.clamp(1, 12) - 1) as usize];
    let (hour, meridiem) = match time.hour {
        0 => (12, "AM"),
        1..=11 => (time.hour, "AM"),
        12 => (12, "PM"),
        _ => (time.hour - 12, "PM"),
    };
    format!(
        "{month} {:02} {hour:02}:{:02} {meridiem}",
        time.day, time.minute
    )
}

/// Python's `timedelta` rendering: `H:MM:SS`, or `N day(s), H:MM:SS`.
pub fn format_uptime(seconds: i64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let clock = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

#[cfg(test)]
mod tests {
    use super::format_uptime;

    #[test]
    fn uptime_like_python_timedelta() {
        assert_eq!(format_uptime(0), "0:00:00");
        assert_eq!(format_uptime(62), "0:01:02");
        assert_eq!(format_uptime(3600 * 25 + 5), "1 day, 1:00:05");
        assert_eq!(format_uptime(86_400 * 3), "3 days, 0:00:00");
    }
}
