//! Schedule arithmetic, pure: when a job's next run is due, which due times were missed, the
//! jitter of a run, and how times are shown. No clock is read here; the caller passes "now".
//!
//! A schedule is walked with a *cursor*: the last due time that was dealt with (run, skipped
//! or queued), or the moment the schedule was armed. The next run is the first due time after
//! the cursor; due times between the cursor and now were missed (the daemon was down, or a
//! reconfiguration voided a timer that was about to fire). Keeping the cursor rather than
//! "now" is what lets an edited schedule neither lose nor double a run.
//!
//! Cron expressions are croner's, evaluated in the schedule's time zone with jiff: a due
//! time that falls in a DST gap runs once at the first valid instant after it, one that
//! falls in a DST fold runs once (at its first occurrence); `@every` intervals are exact
//! durations, whatever the wall clock does.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rsupervisor_config::{Schedule, ScheduleConfig};
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// How many missed due times are counted before giving up counting (a per-second
/// schedule over a long downtime would otherwise take a while to count).
pub const MISSED_COUNT_CAP: u64 = 10_000;

/// A schedule ready to be evaluated.
#[derive(Debug, Clone)]
pub struct Plan {
    kind: Kind,
    zone: TimeZone,
}

#[derive(Debug, Clone)]
enum Kind {
    Cron(Box<croner::Cron>),
    Every(SignedDuration),
    Reboot,
}

/// What is due after a cursor, seen at some "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The first due time after both the cursor and now; `None` when there is none (@reboot,
    /// or a cron expression that never matches again).
    pub next: Option<Timestamp>,
    /// Due times in (cursor, now]: missed ones (at most [`MISSED_COUNT_CAP`]).
    pub missed: u64,
    /// The latest missed due time, if any.
    pub last_missed: Option<Timestamp>,
}

impl Plan {
    /// Compiles a schedule from the configuration (which has checked it already).
    pub fn new(config: &ScheduleConfig) -> Result<Plan, String> {
        let zone = match &config.timezone {
            Some(name) => TimeZone::get(name).map_err(|error| format!("{name}: {error}"))?,
            None => TimeZone::system(),
        };
        let kind = match &config.schedule {
            Schedule::Cron(expression) => Kind::Cron(Box::new(
                rsupervisor_config::schedule::cron_parser()
                    .parse(expression)
                    .map_err(|error| format!("{expression}: {error}"))?,
            )),
            Schedule::Every(interval) => {
                Kind::Every(SignedDuration::try_from(*interval).map_err(|error| error.to_string())?)
            }
            Schedule::Reboot => Kind::Reboot,
        };
        Ok(Plan { kind, zone })
    }

    /// The time zone times are computed and shown in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Whether this is `@reboot` (runs when the daemon starts, never on a timer).
    pub fn is_reboot(&self) -> bool {
        matches!(self.kind, Kind::Reboot)
    }

    /// The first due time strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::Cron(cron) => {
                let start = after.to_zoned(self.zone.clone());
                cron.find_next_occurrence(&start, false)
                    .ok()
                    .map(|zoned| zoned.timestamp())
            }
            Kind::Every(interval) => after.checked_add(*interval).ok(),
            Kind::Reboot => None,
        }
    }

    /// What is due after `cursor`, seen at `now` (see the module docs).
    pub fn due(&self, cursor: Timestamp, now: Timestamp) -> Due {
        let mut due = Due {
            next: None,
            missed: 0,
            last_missed: None,
        };
        if let Kind::Every(interval) = &self.kind {
            // Exact arithmetic: k whole intervals fit between the cursor and now.
            let Ok(next) = cursor.checked_add(*interval) else {
                return due;
            };
            if next > now {
                due.next = Some(next);
                return due;
            }
            let elapsed = now.duration_since(cursor).as_millis();
            let step = interval.as_millis().max(1);
            let whole = elapsed / step;
            let last = cursor
                .checked_add(SignedDuration::from_millis((whole * step) as i64))
                .ok();
            due.missed = u64::try_from(whole).unwrap_or(u64::MAX);
            due.last_missed = last;
            due.next = last.and_then(|last| last.checked_add(*interval).ok());
            return due;
        }
        let mut at = cursor;
        loop {
            let Some(next) = self.next_after(at) else {
                return due;
            };
            if next > now {
                due.next = Some(next);
                return due;
            }
            due.missed += 1;
            due.last_missed = Some(next);
            at = next;
            if due.missed >= MISSED_COUNT_CAP {
                // Enough counting: the next one after now.
                due.next = self.next_after(now);
                return due;
            }
        }
    }

    /// The next `count` due times after `after` (for `schedule`).
    pub fn upcoming(&self, after: Timestamp, count: usize) -> Vec<Timestamp> {
        let mut times = Vec::with_capacity(count);
        let mut at = after;
        while times.len() < count {
            match self.next_after(at) {
                Some(next) => {
                    times.push(next);
                    at = next;
                }
                None => break,
            }
        }
        times
    }
}

/// How much later than its due time a run starts: spread over `[0, max]` by the process
/// name and the due time, so many jobs due at once start apart, and the same run always gets
/// the same delay (no random source, reproducible in the log).
pub fn jitter(name: &str, due: Timestamp, max: Duration) -> Duration {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if max_ms == 0 {
        return Duration::ZERO;
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    due.as_second().hash(&mut hasher);
    Duration::from_millis(hasher.finish() % (max_ms + 1))
}

/// A due time as the operator reads it, in the schedule's zone: `12:45:00` on the day of
/// `now`, `2026-12-03 12:45:00` on another day.
pub fn show_time(at: Timestamp, now: Timestamp, zone: &TimeZone) -> String {
    let at = at.to_zoned(zone.clone());
    let today = now.to_zoned(zone.clone());
    if at.date() == today.date() {
        at.strftime("%H:%M:%S").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A duration as `H:MM:SS`, rounded up to whole seconds (`in 0:03:12`).
pub fn show_span(span: Duration) -> String {
    let mut seconds = span.as_secs();
    if span.subsec_nanos() > 0 {
        seconds += 1;
    }
    super::process::format_uptime(i64::try_from(seconds).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_config::Overlap;

    fn plan(schedule: &str, zone: Option<&str>) -> Plan {
        Plan::new(&ScheduleConfig {
            schedule: rsupervisor_config::schedule::schedule(schedule).expect("valid"),
            timezone: zone.map(str::to_owned),
            jitter: Duration::ZERO,
            overlap: Overlap::Skip,
            catchup: false,
            timeout: None,
        })
        .expect("plan")
    }

    /// A wall-clock time in a zone, as an instant.
    fn at(zone: &str, civil: &str) -> Timestamp {
        civil
            .parse::<jiff::civil::DateTime>()
            .expect("civil")
            .to_zoned(TimeZone::get(zone).expect("zone"))
            .expect("zoned")
            .timestamp()
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn walk(plan: &Plan, from: Timestamp, count: usize) -> Vec<String> {
        plan.upcoming(from, count)
            .into_iter()
            .map(|t| t.to_string())
            .collect()
    }

    #[test]
    fn every_fifteen_minutes() {
        let p = plan("*/15 * * * *", Some("UTC"));
        assert_eq!(
            walk(&p, utc("2026-12-02T12:30:00Z"), 3),
            [
                "2026-12-02T12:45:00Z",
                "2026-12-02T13:00:00Z",
                "2026-12-02T13:15:00Z"
            ]
        );
        // Strictly after: a cursor on a due time does not give it again.
        assert_eq!(
            p.next_after(utc("2026-12-02T12:44:59.5Z")),
            Some(utc("2026-12-02T12:45:00Z"))
        );
        let seconds = plan("*/10 * * * * *", Some("UTC"));
        assert_eq!(
            walk(&seconds, utc("2026-12-02T12:30:05Z"), 2),
            ["2026-12-02T12:30:10Z", "2026-12-02T12:30:20Z"]
        );
    }

    #[test]
    fn month_ends_and_leap_days() {
        let p = plan("0 0 31 * *", Some("UTC"));
        // Months without a 31st are left out.
        assert_eq!(
            walk(&p, utc("2026-01-31T00:00:00Z"), 3),
            [
                "2026-03-31T00:00:00Z",
                "2026-05-31T00:00:00Z",
                "2026-07-31T00:00:00Z"
            ]
        );
        let last = plan("30 23 L * *", Some("UTC"));
        assert_eq!(
            walk(&last, utc("2027-12-31T23:30:00Z"), 3),
            [
                "2028-01-31T23:30:00Z",
                "2028-02-29T23:30:00Z",
                "2028-03-31T23:30:00Z"
            ]
        );
        let leap = plan("0 12 29 2 *", Some("UTC"));
        assert_eq!(
            walk(&leap, utc("2026-03-01T00:00:00Z"), 1),
            ["2028-02-29T12:00:00Z"]
        );
        // @monthly crosses the year end.
        let monthly = plan("@monthly", Some("UTC"));
        assert_eq!(
            walk(&monthly, utc("2026-12-15T00:00:00Z"), 1),
            ["2027-01-01T00:00:00Z"]
        );
    }

    #[test]
    fn daylight_saving_changes_in_berlin() {
        let zone = "Europe/Berlin";
        // Spring forward, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        // The job runs once that night, at the first valid instant after the gap.
        let p = plan("30 2 * * *", Some(zone));
        let runs = p.upcoming(at(zone, "2026-03-28T12:00:00"), 3);
        let shown: Vec<String> = runs
            .iter()
            .map(|t| t.to_zoned(TimeZone::get(zone).expect("zone")).to_string())
            .collect();
        assert_eq!(
            shown[0], "2026-03-29T03:00:00+02:00[Europe/Berlin]",
            "{shown:?}"
        );
        assert_eq!(
            shown[1], "2026-03-30T02:30:00+02:00[Europe/Berlin]",
            "{shown:?}"
        );
        // Fall back, 2026-10-25: 02:00-03:00 happens twice. Once only, at the first.
        let runs = p.upcoming(at(zone, "2026-10-24T12:00:00"), 2);
        assert_eq!(
            runs[0],
            utc("2026-10-25T00:30:00Z"),
            "02:30 CEST = 00:30 UTC"
        );
        assert_eq!(runs[1], at(zone, "2026-10-26T02:30:00"));
        // An hourly job keeps its pace through the fold: one run per real hour, the
        // repeated 02:00 included, and none doubled.
        let hourly = plan("0 * * * *", Some(zone));
        let runs = hourly.upcoming(utc("2026-10-24T23:30:00Z"), 4);
        assert_eq!(
            runs.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            [
                "2026-10-25T00:00:00Z",
                "2026-10-25T01:00:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T03:00:00Z"
            ]
        );
        // @every is real elapsed time, whatever the wall clock does.
        let every = plan("@every 1h", Some(zone));
        assert_eq!(
            every.next_after(utc("2026-03-29T00:30:00Z")),
            Some(utc("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn a_zone_moves_the_due_times() {
        let p = plan("0 9 * * *", Some("America/New_York"));
        assert_eq!(
            p.next_after(utc("2026-12-02T00:00:00Z")),
            Some(utc("2026-12-02T14:00:00Z"))
        );
        let summer = p.next_after(utc("2026-07-01T00:00:00Z"));
        assert_eq!(summer, Some(utc("2026-07-01T13:00:00Z")));
    }

    #[test]
    fn missed_due_times_are_counted_once() {
        let p = plan("*/15 * * * *", Some("UTC"));
        let cursor = utc("2026-12-02T10:00:00Z");
        // Up at 10:50: 10:15, 10:30 and 10:45 were missed; the next is 11:00.
        let due = p.due(cursor, utc("2026-12-02T10:50:00Z"));
        assert_eq!(
            due,
            Due {
                next: Some(utc("2026-12-02T11:00:00Z")),
                missed: 3,
                last_missed: Some(utc("2026-12-02T10:45:00Z")),
            }
        );
        // Nothing missed.
        let due = p.due(cursor, utc("2026-12-02T10:10:00Z"));
        assert_eq!(
            (due.missed, due.next),
            (0, Some(utc("2026-12-02T10:15:00Z")))
        );
        // A due time exactly at now was missed (its timer was voided), not lost.
        let due = p.due(cursor, utc("2026-12-02T10:15:00Z"));
        assert_eq!(due.missed, 1);
        // @every: whole intervals since the previous start.
        let every = plan("@every 3m", None);
        let due = every.due(cursor, utc("2026-12-02T10:10:00Z"));
        assert_eq!(
            due,
            Due {
                next: Some(utc("2026-12-02T10:12:00Z")),
                missed: 3,
                last_missed: Some(utc("2026-12-02T10:09:00Z")),
            }
        );
        // A per-second schedule after a long downtime stops counting at the cap.
        let fast = plan("* * * * * *", Some("UTC"));
        let due = fast.due(cursor, utc("2026-12-03T10:00:00Z"));
        assert_eq!(due.missed, MISSED_COUNT_CAP);
        assert_eq!(due.next, Some(utc("2026-12-03T10:00:01Z")));
        // @reboot has no due times.
        let reboot = plan("@reboot", None);
        assert!(reboot.is_reboot());
        assert_eq!(reboot.due(cursor, utc("2026-12-03T10:00:00Z")).next, None);
    }

    #[test]
    fn jitter_is_spread_and_stable() {
        let due = utc("2026-12-02T12:00:00Z");
        let max = Duration::from_secs(30);
        assert_eq!(jitter("a", due, Duration::ZERO), Duration::ZERO);
        assert_eq!(jitter("a", due, max), jitter("a", due, max));
        let delays: std::collections::BTreeSet<Duration> = (0..50)
            .map(|i| jitter(&format!("job{i}"), due, max))
            .collect();
        assert!(delays.iter().all(|d| *d <= max));
        assert!(delays.len() > 40, "spread: {delays:?}");
    }

    #[test]
    fn times_are_shown_in_the_zone() {
        let zone = TimeZone::get("Europe/Berlin").expect("zone");
        let now = utc("2026-12-02T11:00:00Z");
        assert_eq!(
            show_time(utc("2026-12-02T11:45:00Z"), now, &zone),
            "12:45:00"
        );
        assert_eq!(
            show_time(utc("2026-12-03T11:45:00Z"), now, &zone),
            "2026-12-03 12:45:00"
        );
        assert_eq!(show_span(Duration::from_millis(191_200)), "0:03:12");
    }
}
