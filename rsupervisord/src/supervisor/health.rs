//! The one health state of a process: what its health check found, whether its
//! `ready_log` line was seen, and what it waits for before its spawn. Dependencies, the
//! health action, `status` and the API all read it from here ([`Health`] lives in the
//! process record); only the actor changes it.
//!
//! Pure: [`Health::record`] turns a probe result into the change to announce and the
//! action to take, so the counting rules are table tests.

use rsupervisor_config::{HealthAction, HealthCheck};
use std::time::Duration;

/// What the health check says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    /// No result yet in this run (or failures still within the start period / retries).
    Starting,
    /// The last check passed.
    Healthy,
    /// `healthcheck_retries` checks in a row failed.
    Unhealthy,
}

impl HealthStatus {
    /// The word `status` and the API use.
    pub fn name(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// A process's health state (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// What the checks found in the current run.
    pub status: HealthStatus,
    /// Consecutive failed checks (those inside the start period are not counted).
    pub failures: u32,
    /// The last failure's text, empty after a pass.
    pub last_error: String,
    /// The `ready_log` line was printed in the current run.
    pub ready: bool,
    /// Bumped at each spawn and exit: probe results and probe deadlines carry it, and a
    /// stale one is dropped.
    pub generation: u64,
    /// A check is running (the next is armed only once it reported).
    pub in_flight: bool,
    /// What the process waits for before its spawn (`db (healthy)`), empty if nothing.
    pub waiting_for: String,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            status: HealthStatus::Starting,
            failures: 0,
            last_error: String::new(),
            ready: false,
            generation: 0,
            in_flight: false,
            waiting_for: String::new(),
        }
    }
}

/// What a probe result changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The status changed from the first to the second.
    pub changed: Option<(HealthStatus, HealthStatus)>,
    /// The retry limit was reached just now: take this action (once per streak).
    pub action: Option<HealthAction>,
}

impl Health {
    /// A new run: no result, not ready, older probes void.
    pub fn new_run(&mut self) {
        self.generation += 1;
        self.status = HealthStatus::Starting;
        self.failures = 0;
        self.last_error.clear();
        self.ready = false;
        self.in_flight = false;
    }

    /// The run ended: probes of it are void (the last status stays for the record).
    pub fn end_run(&mut self) {
        self.generation += 1;
        self.in_flight = false;
        self.ready = false;
    }

    /// Counts one check's result. `since_spawn` is how long the process has been up: a
    /// failure within the start period is remembered but not counted.
    pub fn record(
        &mut self,
        check: &HealthCheck,
        result: Result<(), String>,
        since_spawn: Duration,
    ) -> Verdict {
        self.in_flight = false;
        let before = self.status;
        let mut action = None;
        match result {
            Ok(()) => {
                self.failures = 0;
                self.last_error.clear();
                self.status = HealthStatus::Healthy;
            }
            Err(error) => {
                self.last_error = error;
                if since_spawn >= check.start_period {
                    self.failures = self.failures.saturating_add(1);
                    if self.failures == check.retries {
                        self.status = HealthStatus::Unhealthy;
                        action = Some(check.action);
                    } else if self.failures > check.retries {
                        // Still failing after the action (`none`, or a restart still under
                        // way): unhealthy, nothing more to do.
                        self.status = HealthStatus::Unhealthy;
                    }
                }
            }
        }
        Verdict {
            changed: (before != self.status).then_some((before, self.status)),
            action,
        }
    }

    /// `healthy`, or `unhealthy (3 failed: connection refused)`, or `health starting`, for
    /// the `status` line of a running process with a check.
    pub fn describe(&self) -> String {
        match self.status {
            HealthStatus::Healthy => "healthy".to_owned(),
            HealthStatus::Unhealthy => {
                format!("unhealthy ({} failed: {})", self.failures, self.last_error)
            }
            HealthStatus::Starting if self.failures > 0 => format!(
                "health starting ({} failed: {})",
                self.failures, self.last_error
            ),
            HealthStatus::Starting => "health starting".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_config::Probe;

    fn check(retries: u32, start_period: u64, action: HealthAction) -> HealthCheck {
        HealthCheck {
            probe: Probe::Tcp {
                host: "127.0.0.1".into(),
                port: 1,
            },
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            retries,
            start_period: Duration::from_secs(start_period),
            action,
        }
    }

    fn fail() -> Result<(), String> {
        Err("connection refused".into())
    }

    #[test]
    fn first_pass_is_healthy_and_the_retry_limit_acts_exactly_once() {
        let check = check(3, 0, HealthAction::Restart);
        let up = Duration::from_secs(10);
        let mut health = Health::default();
        use HealthStatus::*;
        type Step = (
            Result<(), String>,
            Option<(HealthStatus, HealthStatus)>,
            Option<HealthAction>,
        );
        let steps: Vec<Step> = vec![
            (Ok(()), Some((Starting, Healthy)), None),
            (fail(), None, None),
            (fail(), None, None),
            (
                fail(),
                Some((Healthy, Unhealthy)),
                Some(HealthAction::Restart),
            ),
            (fail(), None, None),
            (Ok(()), Some((Unhealthy, Healthy)), None),
        ];
        for (index, (result, changed, action)) in steps.into_iter().enumerate() {
            let verdict = health.record(&check, result, up);
            assert_eq!(verdict, Verdict { changed, action }, "step {index}");
        }
        assert_eq!((health.failures, health.last_error.as_str()), (0, ""));
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        let check = check(2, 5, HealthAction::Stop);
        let mut health = Health::default();
        for _ in 0..5 {
            let verdict = health.record(&check, fail(), Duration::from_secs(1));
            assert_eq!(verdict.action, None);
        }
        assert_eq!(health.failures, 0);
        assert_eq!(health.describe(), "health starting");
        health.record(&check, fail(), Duration::from_secs(6));
        assert_eq!(
            health.describe(),
            "health starting (1 failed: connection refused)"
        );
        let verdict = health.record(&check, fail(), Duration::from_secs(7));
        assert_eq!(verdict.action, Some(HealthAction::Stop));
        assert_eq!(
            health.describe(),
            "unhealthy (2 failed: connection refused)"
        );
    }

    #[test]
    fn a_new_run_starts_afresh_and_voids_older_probes() {
        let check = check(1, 0, HealthAction::None);
        let mut health = Health::default();
        health.record(&check, fail(), Duration::from_secs(1));
        health.ready = true;
        let generation = health.generation;
        health.new_run();
        assert_ne!(health.generation, generation);
        assert_eq!(
            (health.status, health.failures, health.ready),
            (HealthStatus::Starting, 0, false)
        );
    }
}
