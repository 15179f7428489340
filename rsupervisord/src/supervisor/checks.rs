//! The actor's side of health checks, `ready_log` and `wait_for`: when a probe runs, what
//! its result does, and the deadlines in between. The probes themselves are
//! [`crate::probe`]; the verdicts are [`super::health::Health`].
//!
//! - The first health check runs when the process enters RUNNING, the next one
//!   `healthcheck_interval` after the previous one reported (a deadline; never two at once).
//!   Results and deadlines carry the run's health generation, so those of an earlier run
//!   are dropped.
//! - At `healthcheck_retries` failures in a row the action is taken: `restart` goes through
//!   the state machine's [`Input::Restart`], so the restart policy (delays, limits) decides
//!   when it comes back; `stop` stops it; `none` only marks it.
//! - `wait_for` runs as one task per held spawn; its result is an event, and a failure is
//!   the spawn's error.

use super::dependencies::Change;
use super::event::Event;
use super::fsm::Input;
use super::health::HealthStatus;
use super::process::ProcessId;
use super::{SpawnRequest, Supervisor};
use crate::probe;
use rsupervisor_api::ProcessState;
use rsupervisor_config::{HealthAction, LogLevel, Probe};
use std::time::Duration;

impl Supervisor {
    /// Entering RUNNING: the first health check of the run.
    pub(super) fn first_health_check(&mut self, id: ProcessId) {
        let has_check = self
            .processes
            .get(&id)
            .is_some_and(|p| p.config.deps.healthcheck.is_some());
        if has_check {
            self.run_probe(id);
        }
    }

    /// Starts one health check of `id` as a task; its result comes back as
    /// [`Event::ProbeDone`].
    fn run_probe(&mut self, id: ProcessId) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let Some(check) = process.config.deps.healthcheck.clone() else {
            return;
        };
        if process.health.in_flight || process.machine.state != ProcessState::Running {
            return;
        }
        process.health.in_flight = true;
        let generation = process.health.generation;
        let events = self.events_tx.clone();
        let timeout = check.timeout;
        let done = move |result| Event::ProbeDone {
            id,
            generation,
            result,
        };
        match check.probe {
            Probe::Exec { command } => {
                let config = process.config.clone();
                let environment = crate::spawn::environment(&config, &self.spawn_context(&config));
                match probe::spawn_exec(&command, &environment, config.directory.as_deref()) {
                    Ok(child) => {
                        self.probe_pids.insert(child.pid, child.exit);
                        let pid = child.pid;
                        tokio::spawn(async move {
                            let result = probe::await_exec(pid, child.waiting, timeout).await;
                            let _ = events.send(done(result));
                        });
                    }
                    Err(error) => {
                        let _ = events.send(done(Err(error)));
                    }
                }
            }
            probe => {
                tokio::spawn(async move {
                    let result = probe::check(&probe, timeout).await;
                    let _ = events.send(done(result));
                });
            }
        }
    }

    /// The next health check is due.
    pub(super) fn on_probe_due(&mut self, id: ProcessId, generation: u64) {
        if self
            .processes
            .get(&id)
            .is_some_and(|p| p.health.generation == generation)
        {
            self.run_probe(id);
        }
    }

    /// A health check reported: count it, say what changed, act at the retry limit, and
    /// arm the next one.
    pub(super) fn on_probe_done(
        &mut self,
        id: ProcessId,
        generation: u64,
        result: Result<(), String>,
    ) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        if process.health.generation != generation {
            return; // a check of an earlier run
        }
        let Some(check) = process.config.deps.healthcheck.clone() else {
            return;
        };
        let since_spawn = process
            .spawned_at
            .map(|at| at.elapsed())
            .unwrap_or_default();
        let verdict = process.health.record(&check, result, since_spawn);
        let name = process.config.name.clone();
        let (failures, last_error) = (process.health.failures, process.health.last_error.clone());
        if let Some((_, now)) = verdict.changed {
            match now {
                HealthStatus::Healthy => self.log(
                    LogLevel::Info,
                    &format!("healthy: {name} passed its health check ({})", check.probe),
                ),
                HealthStatus::Unhealthy => self.log(
                    LogLevel::Warn,
                    &format!(
                        "unhealthy: {name} failed {failures} health checks in a row ({}); last: {last_error}",
                        check.probe
                    ),
                ),
                HealthStatus::Starting => {}
            }
            if let Some(change) = self.health_event(id, now.name().to_owned(), String::new()) {
                let _ = self.services.state_changes.send(change);
            }
            self.dependency_changed(id, Change::Health(now));
        }
        match verdict.action {
            Some(HealthAction::Restart) => {
                let reason =
                    format!("unhealthy: {failures} failed health checks, last: {last_error}");
                let _ = self.apply(id, Input::Restart { reason });
            }
            Some(HealthAction::Stop) => {
                self.log(
                    LogLevel::Warn,
                    &format!("stopping {name}: unhealthy ({failures} failed health checks, last: {last_error})"),
                );
                let _ = self.apply(id, Input::Stop);
            }
            Some(HealthAction::None) | None => {}
        }
        self.arm_probe(id, generation, check.interval);
    }

    /// Arms the next health check of the run `generation`, if the process still runs it.
    fn arm_probe(&mut self, id: ProcessId, generation: u64, interval: Duration) {
        let armed = self.processes.get(&id).is_some_and(|p| {
            p.health.generation == generation && p.machine.state == ProcessState::Running
        });
        if !armed {
            return;
        }
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(interval).await;
            let _ = events.send(Event::ProbeDue { id, generation });
        });
    }

    /// The program printed its `ready_log` line.
    pub(super) fn on_log_ready(&mut self, id: ProcessId, generation: u64) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        if process.health.generation != generation || process.health.ready {
            return;
        }
        process.health.ready = true;
        let name = process.config.name.clone();
        self.log(
            LogLevel::Info,
            &format!("ready: {name} printed its ready_log line"),
        );
        self.dependency_changed(id, Change::Ready);
    }

    /// Decides a queued spawn against `wait_for`: true to spawn now. Otherwise a task waits
    /// for the conditions and the spawn is held until it reports.
    pub(super) fn wait_for_allows(&mut self, id: ProcessId, epoch: u64) -> bool {
        let Some(process) = self.processes.get(&id) else {
            return false;
        };
        let conditions = process.config.deps.wait_for.clone();
        if conditions.is_empty() || self.waited.get(&id) == Some(&epoch) {
            return true;
        }
        if self.wait_tasks.get(&id).is_some_and(|(at, _)| *at == epoch) {
            return false; // already waiting for this start
        }
        let timeout = process.config.deps.wait_for_timeout;
        let names: Vec<String> = conditions.iter().map(ToString::to_string).collect();
        self.park(id, format!("waiting for {}", names.join(", ")));
        // Held by its own task, not by a dependency: a dependency's change must not start
        // the wait again.
        self.links.parked.remove(&id);
        let events = self.events_tx.clone();
        let task = tokio::spawn(async move {
            let result = probe::wait_for(&conditions, timeout).await;
            let _ = events.send(Event::WaitedFor { id, epoch, result });
        });
        if let Some((_, earlier)) = self.wait_tasks.insert(id, (epoch, task.abort_handle())) {
            earlier.abort();
        }
        false
    }

    /// The `wait_for` task of a held spawn reported.
    pub(super) fn on_waited_for(&mut self, id: ProcessId, epoch: u64, result: Result<(), String>) {
        let current = self
            .processes
            .get(&id)
            .is_some_and(|p| p.epoch == epoch && p.machine.spawn_pending);
        self.wait_tasks.remove(&id);
        if !current {
            return;
        }
        self.unpark(id);
        match result {
            Ok(()) => {
                self.waited.insert(id, epoch);
                self.agenda.push_spawn(SpawnRequest { id, epoch });
            }
            Err(error) => {
                let _ = self.apply(id, Input::SpawnFailed { error });
            }
        }
    }

    /// The process left STARTING: a `wait_for` still running for it is of no use.
    pub(super) fn cancel_wait_for(&mut self, id: ProcessId) {
        if let Some((_, task)) = self.wait_tasks.remove(&id) {
            task.abort();
        }
    }
}
