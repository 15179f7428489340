//! The restart policy's arithmetic: how long an automatic restart waits, and whether the
//! restart limit still allows it. Pure: the caller passes the clock (a monotonic time since
//! any fixed point), so every edge is a table test.
//!
//! The policy comes from the `restart_*` keys ([`RestartPolicy`]); with none set it is
//! supervisord's behaviour: a program that exits from RUNNING is restarted at once, with one
//! exception kept from supervisord's one-second main loop, the **crash-loop spacing**: a
//! program that dies within [`QUICK_EXIT`] of its spawn waits until [`MIN_RESTART_INTERVAL`]
//! after that spawn, so `startsecs=0` crash loops cannot fork in a tight loop.
//!
//! - **Delay**: `restart_delay`, doubled for each consecutive crash up to `restart_delay_max`
//!   (0: no growth). A run of at least `restart_delay_reset` ends the streak: the next crash
//!   waits `restart_delay` again.
//! - **Limit**: `restart_limit = N/W` allows at most N starts in any window of W, counting
//!   every start (the first, restarts after crashes, retries after failed starts). A restart
//!   that would be the N+1st gives up (FATAL), or with `restart_limit_cooldown` waits that
//!   long and then starts with fresh counters.

use rsupervisor_config::{RestartLimit, RestartPolicy};
use std::collections::VecDeque;
use std::time::Duration;

/// A program that exits sooner than this after its spawn is crashing on start, not working.
pub const QUICK_EXIT: Duration = Duration::from_millis(100);

/// The shortest time between two spawns of a program that keeps crashing on start.
pub const MIN_RESTART_INTERVAL: Duration = Duration::from_secs(1);

/// What a program's restarts have been: the counters the policy decides from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// When recent starts happened (only those the limit's window can still see).
    starts: VecDeque<Duration>,
    /// Consecutive crashes since the last run of at least `restart_delay_reset`.
    pub crashes: u32,
    /// Automatic starts since the counters were last cleared (for status).
    pub restarts: u32,
}

impl History {
    /// Records a start at `now`, forgetting starts that have left the limit's window.
    pub fn record_start(&mut self, policy: &RestartPolicy, now: Duration) {
        let Some(limit) = policy.limit else {
            return;
        };
        self.forget_before(now, limit.window);
        self.starts.push_back(now);
    }

    /// Starts in the window of length `window` that ends at `now`.
    pub fn starts_within(&self, now: Duration, window: Duration) -> usize {
        self.starts
            .iter()
            .filter(|at| now.saturating_sub(**at) < window)
            .count()
    }

    fn forget_before(&mut self, now: Duration, window: Duration) {
        while self
            .starts
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= window)
        {
            self.starts.pop_front();
        }
    }

    /// Clears every counter (`reset`, a manual start of a FATAL program, the end of a
    /// cool-down).
    pub fn clear(&mut self) {
        *self = History::default();
    }
}

/// What to do about an automatic restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart after `delay` (zero: at once). `crash` is the streak's count, `by_policy`
    /// whether the configured delay (rather than only the crash-loop spacing) set it.
    Restart {
        /// How long to wait.
        delay: Duration,
        /// Consecutive crash number (1 for the first).
        crash: u32,
        /// The `restart_delay` keys chose the delay (otherwise only the spacing applies).
        by_policy: bool,
    },
    /// The limit is reached: wait this long, then start with fresh counters.
    CoolDown(Duration, RestartLimit),
    /// The limit is reached and there is no cool-down: give up (FATAL).
    GiveUp(RestartLimit),
}

/// The delay before the restart after crash number `crash` (1-based) of a streak.
pub fn delay_for(policy: &RestartPolicy, crash: u32) -> Duration {
    if policy.delay.is_zero() || policy.delay_max.is_zero() {
        return policy.delay;
    }
    // Past 2^31 times the delay every cap is long reached.
    let doublings = crash.saturating_sub(1).min(31);
    policy
        .delay
        .checked_mul(1_u32 << doublings)
        .unwrap_or(policy.delay_max)
        .min(policy.delay_max)
}

/// The limit's verdict on one more start at `now`, if it refuses it.
fn limit_reached(policy: &RestartPolicy, history: &History, now: Duration) -> Option<Decision> {
    let limit = policy.limit?;
    if history.starts_within(now, limit.window) < limit.starts as usize {
        return None;
    }
    Some(match policy.limit_cooldown {
        Some(cooldown) => Decision::CoolDown(cooldown, limit),
        None => Decision::GiveUp(limit),
    })
}

/// Decides the automatic restart after an exit from RUNNING at `now`, of a child that ran for
/// `ran_for`; counts the crash in `history`.
pub fn after_exit(
    policy: &RestartPolicy,
    history: &mut History,
    now: Duration,
    ran_for: Duration,
) -> Decision {
    if ran_for >= policy.delay_reset {
        history.crashes = 0;
    }
    history.crashes = history.crashes.saturating_add(1);
    if let Some(refused) = limit_reached(policy, history, now) {
        return refused;
    }
    let configured = delay_for(policy, history.crashes);
    let spacing = if ran_for < QUICK_EXIT {
        MIN_RESTART_INTERVAL - ran_for
    } else {
        Duration::ZERO
    };
    Decision::Restart {
        delay: configured.max(spacing),
        crash: history.crashes,
        by_policy: !configured.is_zero() && configured >= spacing,
    }
}

/// Decides whether a retry after a failed start (BACKOFF) may happen at `now`: only the limit
/// applies; the retry count and delay stay supervisord's (`startretries`, 1 s, 2 s, ...).
pub fn before_retry(policy: &RestartPolicy, history: &History, now: Duration) -> Option<Decision> {
    limit_reached(policy, history, now)
}

/// `too many restarts (5 in 300s)`: the spawn error and status text of a reached limit.
pub fn limit_text(limit: &RestartLimit) -> String {
    format!(
        "too many restarts ({} in {})",
        limit.starts,
        rsupervisor_config::policy::format_duration(limit.window)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn policy(delay: u64, max: u64) -> RestartPolicy {
        RestartPolicy {
            delay: S * delay as u32,
            delay_max: S * max as u32,
            ..RestartPolicy::default()
        }
    }

    fn limited(starts: u32, window: u64, cooldown: Option<u64>) -> RestartPolicy {
        RestartPolicy {
            limit: Some(RestartLimit {
                starts,
                window: S * window as u32,
            }),
            limit_cooldown: cooldown.map(|c| S * c as u32),
            ..RestartPolicy::default()
        }
    }

    fn delay_of(decision: Decision) -> Duration {
        match decision {
            Decision::Restart { delay, .. } => delay,
            other => panic!("expected a restart, got {other:?}"),
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let p = policy(1, 8);
        let delays: Vec<u64> = (1..=7).map(|n| delay_for(&p, n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 8, 8, 8]);
        // No growth without a cap, none at all without a delay.
        assert_eq!(delay_for(&policy(3, 0), 9), 3 * S);
        assert_eq!(delay_for(&policy(0, 8), 5), Duration::ZERO);
        // A cap that is not a power-of-two multiple is reached exactly.
        assert_eq!(delay_for(&policy(1, 5), 4), 5 * S);
        // Huge streaks do not overflow.
        assert_eq!(delay_for(&policy(1, 3600), u32::MAX), 3600 * S);
    }

    #[test]
    fn defaults_restart_at_once_except_quick_crashes() {
        let p = RestartPolicy::default();
        let mut h = History::default();
        let now = 100 * S;
        assert_eq!(
            after_exit(&p, &mut h, now, 5 * S),
            Decision::Restart {
                delay: Duration::ZERO,
                crash: 1,
                by_policy: false
            }
        );
        // A crash 20 ms after the spawn waits until one second after that spawn.
        assert_eq!(
            after_exit(&p, &mut h, now, Duration::from_millis(20)),
            Decision::Restart {
                delay: Duration::from_millis(980),
                crash: 2,
                by_policy: false
            }
        );
        // The edge: exactly QUICK_EXIT is an ordinary run.
        assert_eq!(
            delay_of(after_exit(&p, &mut h, now, QUICK_EXIT)),
            Duration::ZERO
        );
    }

    #[test]
    fn the_longer_of_policy_delay_and_spacing_wins() {
        let p = RestartPolicy {
            delay: Duration::from_millis(300),
            ..RestartPolicy::default()
        };
        let mut h = History::default();
        let quick = after_exit(&p, &mut h, S, Duration::from_millis(10));
        assert_eq!(
            quick,
            Decision::Restart {
                delay: Duration::from_millis(990),
                crash: 1,
                by_policy: false
            }
        );
        let slow = after_exit(&p, &mut h, S, 2 * S);
        assert_eq!(
            slow,
            Decision::Restart {
                delay: Duration::from_millis(300),
                crash: 2,
                by_policy: true
            }
        );
    }

    #[test]
    fn a_healthy_run_resets_the_streak() {
        let p = RestartPolicy {
            delay_reset: 60 * S,
            ..policy(1, 8)
        };
        let mut h = History::default();
        let short = 5 * S;
        let delays: Vec<u64> = (0..4)
            .map(|_| delay_of(after_exit(&p, &mut h, S, short)).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8]);
        // Just under the reset uptime: the streak goes on.
        assert_eq!(delay_of(after_exit(&p, &mut h, S, 59 * S)), 8 * S);
        // Exactly the reset uptime: back to restart_delay.
        assert_eq!(delay_of(after_exit(&p, &mut h, S, 60 * S)), S);
        assert_eq!(h.crashes, 1);
        assert_eq!(delay_of(after_exit(&p, &mut h, S, short)), 2 * S);
    }

    #[test]
    fn the_limit_counts_starts_in_a_sliding_window() {
        let p = limited(3, 10, None);
        let mut h = History::default();
        // Starts at 0, 1 and 2 s: a fourth at 3 s is refused.
        for at in 0..3 {
            h.record_start(&p, S * at);
        }
        let limit = p.limit.expect("limit");
        assert_eq!(
            after_exit(&p, &mut h, 3 * S, 2 * S),
            Decision::GiveUp(limit)
        );
        // At 10 s the start at 0 s has left the window (the window is half-open: a start
        // exactly one window ago no longer counts).
        assert_eq!(h.starts_within(10 * S, 10 * S), 2);
        assert!(matches!(
            after_exit(&p, &mut h, 10 * S, 2 * S),
            Decision::Restart { .. }
        ));
        assert_eq!(h.starts_within(Duration::from_millis(9999), 10 * S), 3);
    }

    #[test]
    fn record_start_forgets_what_no_window_can_see() {
        let p = limited(2, 10, None);
        let mut h = History::default();
        for at in 0..100 {
            h.record_start(&p, S * at);
        }
        assert_eq!(h.starts.len(), 10);
        // Without a limit nothing is kept.
        let mut h = History::default();
        h.record_start(&RestartPolicy::default(), S);
        assert!(h.starts.is_empty());
    }

    #[test]
    fn cool_down_instead_of_giving_up() {
        let p = limited(1, 300, Some(600));
        let mut h = History::default();
        h.record_start(&p, Duration::ZERO);
        let limit = p.limit.expect("limit");
        assert_eq!(
            after_exit(&p, &mut h, S, S),
            Decision::CoolDown(600 * S, limit)
        );
        assert_eq!(
            before_retry(&p, &h, S),
            Some(Decision::CoolDown(600 * S, limit))
        );
        h.clear();
        assert_eq!(before_retry(&p, &h, S), None);
        assert_eq!(limit_text(&limit), "too many restarts (1 in 300s)");
    }

    #[test]
    fn clock_edges() {
        let p = limited(2, 10, None);
        let mut h = History::default();
        // A start "in the future" (a clock that went back) still counts, without panicking.
        h.record_start(&p, 50 * S);
        assert_eq!(h.starts_within(40 * S, 10 * S), 1);
        // Time zero and huge times.
        let mut h = History::default();
        h.record_start(&p, Duration::ZERO);
        h.record_start(&p, Duration::MAX);
        assert_eq!(h.starts_within(Duration::MAX, 10 * S), 1);
    }
}
