//! [`wait_until`]: the one way tests wait for something.
//!
//! There are no bare sleeps in the tests: every wait names its condition, re-checks it with a
//! short back-off, and fails at a deadline with the last observed state, so a failure says what
//! was expected and what was seen instead.

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// First pause between two checks.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);
/// Longest pause between two checks.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Re-checks `check` until it returns `Ok`, and returns that value.
///
/// `check` returns `Err(last observed state)` while the condition does not hold. The pause between
/// checks starts at 2 ms and doubles up to 50 ms. When `deadline` has passed (measured from the
/// call) this panics with a message naming `what`, the time waited, the number of checks and the
/// last observed state. The condition is always checked once more at the deadline.
pub fn wait_until<T, E: Debug>(
    deadline: Duration,
    what: &str,
    mut check: impl FnMut() -> Result<T, E>,
) -> T {
    match try_wait_until(deadline, &mut check) {
        Ok(value) => value,
        Err(timeout) => panic!(
            "timed out after {:?} ({} checks) waiting for {what}; last observed: {:?}",
            timeout.waited, timeout.checks, timeout.last
        ),
    }
}

/// The failure of [`try_wait_until`].
#[derive(Debug)]
pub struct Timeout<E> {
    /// The last value `check` returned.
    pub last: E,
    /// How long was waited.
    pub waited: Duration,
    /// How many times the condition was checked.
    pub checks: u32,
}

/// Like [`wait_until`], but returns the timeout instead of panicking (for negative checks and for
/// callers that add their own context, such as the daemon's log dump).
pub fn try_wait_until<T, E>(
    deadline: Duration,
    mut check: impl FnMut() -> Result<T, E>,
) -> Result<T, Timeout<E>> {
    let start = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut checks = 0;
    loop {
        checks += 1;
        let last = match check() {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        let waited = start.elapsed();
        if waited >= deadline {
            return Err(Timeout {
                last,
                waited,
                checks,
            });
        }
        // Sleep at most until the deadline, so the final check happens right at it.
        std::thread::sleep(backoff.min(deadline - waited));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_once_the_condition_holds() {
        let mut calls = 0;
        let value = wait_until(Duration::from_secs(5), "third call", || {
            calls += 1;
            if calls >= 3 {
                Ok(calls)
            } else {
                Err(calls)
            }
        });
        assert_eq!(value, 3);
    }

    #[test]
    fn timeout_reports_the_last_observation() {
        let mut calls = 0;
        let timeout = try_wait_until(Duration::from_millis(30), || -> Result<(), String> {
            calls += 1;
            Err(format!("state {calls}"))
        })
        .expect_err("the condition never holds");
        assert!(timeout.waited >= Duration::from_millis(30));
        assert_eq!(timeout.last, format!("state {}", timeout.checks));
        assert!(timeout.checks >= 2);
    }

    #[test]
    #[should_panic(expected = "waiting for the impossible; last observed: \"nope\"")]
    fn wait_until_panics_with_what_and_last_state() {
        wait_until(
            Duration::from_millis(5),
            "the impossible",
            || -> Result<(), _> { Err("nope") },
        );
    }
}
