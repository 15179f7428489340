//! The `schedule*` keys of a `[program:x]` (rsupervisor's own): a program that runs on a
//! schedule, like a cron job, supervised and logged like every other program.
//!
//! This module owns their syntax and their checks; what a schedule means at run time (the
//! next run, the overlap rules) is the daemon's.
//!
//! - `schedule`: a five-field cron expression (`*/15 * * * *`), six fields with seconds
//!   first (`*/10 * * * * *`), a nickname (`@hourly`, `@daily`, `@weekly`, `@monthly`,
//!   `@yearly`), `@reboot` (once, when the daemon starts) or `@every DURATION` (an interval
//!   from the previous start). Cron expressions are checked with the croner crate; an error
//!   names the field that is wrong.
//! - `schedule_timezone`: an IANA zone name (`Europe/Berlin`, `UTC`); default local time.
//! - `schedule_jitter` (0): each run starts up to this much later, to spread many jobs.
//! - `schedule_overlap` (`skip`): a run due while the previous one still runs is skipped,
//!   queued (one at most) or restarts the running one.
//! - `schedule_catchup` (false): after the daemon was down over due times, run once.
//! - `schedule_timeout` (none): a run that takes longer is stopped like `stop`.

use crate::model::{Overlap, Schedule};
use std::time::Duration;

/// The cron field names, for five and for six fields.
const FIELDS_5: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];
const FIELDS_6: [&str; 6] = [
    "second",
    "minute",
    "hour",
    "day of month",
    "month",
    "day of week",
];

/// The nicknames croner knows, plus ours.
const NICKNAMES: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

const EXPECTED: &str = "expected five cron fields (MIN HOUR DAY MONTH WEEKDAY, for example \
                        */15 * * * *), six with seconds first, @hourly, @daily, @weekly, \
                        @monthly, @yearly, @reboot or @every DURATION (for example @every 3m)";

/// The parser rsupervisor uses: seconds optional (five or six fields), no year field,
/// Vixie cron's day-of-month OR day-of-week rule.
pub fn cron_parser() -> croner::parser::CronParser {
    use croner::parser::{CronParser, Seconds, Year};
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
}

/// Parses a `schedule` value (see the module docs).
pub fn schedule(value: &str) -> Result<Schedule, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err(format!("the schedule is empty; {EXPECTED}"));
    }
    if let Some(rest) = text.strip_prefix('@') {
        let (word, argument) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(w, a)| (w, a.trim()));
        let word = word.to_ascii_lowercase();
        if word == "every" {
            let interval = crate::policy::duration(argument)
                .map_err(|error| format!("invalid schedule {value:?}: {error}"))?;
            if interval < Duration::from_secs(1) {
                return Err(format!(
                    "invalid schedule {value:?}: the interval must be at least 1s"
                ));
            }
            return Ok(Schedule::Every(interval));
        }
        if !argument.is_empty() {
            return Err(format!(
                "invalid schedule {value:?}: @{word} takes nothing after it"
            ));
        }
        if word == "reboot" {
            return Ok(Schedule::Reboot);
        }
        // croner knows these, except @midnight (cron's alias of @daily).
        let word = if word == "midnight" { "daily" } else { &word };
        let nickname = format!("@{word}");
        if !NICKNAMES.contains(&nickname.as_str()) {
            return Err(format!(
                "invalid schedule {value:?}: unknown nickname @{word}; {EXPECTED}"
            ));
        }
        return Ok(Schedule::Cron(nickname));
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    let names: &[&str] = match fields.len() {
        5 => &FIELDS_5,
        6 => &FIELDS_6,
        n => {
            return Err(format!(
                "invalid schedule {value:?}: {n} field{} where {EXPECTED}",
                if n == 1 { "" } else { "s" }
            ))
        }
    };
    let parser = cron_parser();
    let normalized = fields.join(" ");
    let Err(error) = parser.parse(&normalized) else {
        return Ok(Schedule::Cron(normalized));
    };
    // Find the field at fault: each field alone, every other one `*`.
    for (index, field) in fields.iter().enumerate() {
        let alone: Vec<&str> = (0..fields.len())
            .map(|i| if i == index { *field } else { "*" })
            .collect();
        if let Err(field_error) = parser.parse(&alone.join(" ")) {
            return Err(format!(
                "invalid schedule {value:?}: field {} ({}) {field:?} is not valid: {}; {}",
                index + 1,
                names[index],
                croner_text(&field_error),
                range_hint(names[index])
            ));
        }
    }
    Err(format!(
        "invalid schedule {value:?}: {}; {EXPECTED}",
        croner_text(&error)
    ))
}

/// croner's message without its type prefix.
fn croner_text(error: &croner::errors::CronError) -> String {
    use croner::errors::CronError;
    match error {
        CronError::InvalidPattern(text)
        | CronError::IllegalCharacters(text)
        | CronError::ComponentError(text) => text.trim_end_matches('.').to_owned(),
        other => other.to_string().trim_end_matches('.').to_owned(),
    }
}

fn range_hint(field: &str) -> &'static str {
    match field {
        "second" | "minute" => "expected 0-59, *, a list (1,2), a range (1-5) or a step (*/5)",
        "hour" => "expected 0-23, *, a list, a range or a step",
        "day of month" => "expected 1-31, L, *, a list, a range or a step",
        "month" => "expected 1-12 or JAN-DEC, *, a list, a range or a step",
        _ => "expected 0-7 or SUN-SAT (0 and 7 are Sunday), *, a list, a range or a step",
    }
}

/// Parses `schedule_timezone`: an IANA zone name the system knows; `local` (or empty) for
/// the daemon's local time (`None`).
pub fn timezone(value: &str) -> Result<Option<String>, String> {
    let text = value.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("local") {
        return Ok(None);
    }
    match jiff::tz::TimeZone::get(text) {
        Ok(_) => Ok(Some(text.to_owned())),
        Err(_) => Err(format!(
            "unknown time zone {text:?}: expected an IANA name such as UTC, Europe/Berlin or \
             America/New_York (see /usr/share/zoneinfo), or local"
        )),
    }
}

/// Parses `schedule_overlap`.
pub fn overlap(value: &str) -> Result<Overlap, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "skip" => Ok(Overlap::Skip),
        "queue" => Ok(Overlap::Queue),
        "restart" => Ok(Overlap::Restart),
        _ => Err(format!(
            "invalid schedule_overlap {value:?}: expected skip (leave the running one alone), \
             queue (run once more after it) or restart (stop it and start again)"
        )),
    }
}

/// The keys that mean something only with `schedule`.
const DEPENDENT_KEYS: [&str; 5] = [
    "schedule_timezone",
    "schedule_jitter",
    "schedule_overlap",
    "schedule_catchup",
    "schedule_timeout",
];

impl crate::build::Builder<'_> {
    /// The `schedule*` keys of a program section, checked together; `None` without
    /// `schedule` (or when it has errors, which are recorded).
    pub(crate) fn schedule_config(
        &mut self,
        section: &str,
        names: &crate::expand::Expansions,
    ) -> Option<crate::model::ScheduleConfig> {
        use crate::datatypes as dt;
        use crate::policy::duration;
        let Ok(Some(schedule)) = self.conv_opt(section, "schedule", names, schedule) else {
            for key in DEPENDENT_KEYS {
                if self.ini.get(section, key).is_some()
                    && self.ini.get(section, "schedule").is_none()
                {
                    self.error(
                        section,
                        Some(key),
                        format!(
                            "{key} needs schedule (for example schedule = */15 * * * *): \
                             without a schedule the program is not a job"
                        ),
                    );
                }
            }
            return None;
        };
        let timezone = self
            .conv(section, "schedule_timezone", "local", names, timezone)
            .unwrap_or(None);
        let jitter = self
            .conv(section, "schedule_jitter", "0", names, duration)
            .unwrap_or_default();
        let overlap = self
            .conv(section, "schedule_overlap", "skip", names, overlap)
            .unwrap_or(Overlap::Skip);
        let catchup = self
            .conv(section, "schedule_catchup", "false", names, dt::boolean)
            .unwrap_or(false);
        let timeout = self
            .conv_opt(section, "schedule_timeout", names, |value| {
                let timeout = duration(value)?;
                if timeout.is_zero() {
                    Err(
                        "schedule_timeout must be longer than 0 (leave it out for no limit)"
                            .to_owned(),
                    )
                } else {
                    Ok(timeout)
                }
            })
            .ok()
            .flatten();
        if let Ok(Some(autorestart)) =
            self.conv_opt(section, "autorestart", names, dt::auto_restart)
        {
            if autorestart != crate::model::AutoRestart::Never {
                self.error(
                    section,
                    Some("autorestart"),
                    "a program with a schedule is started by its schedule and never \
                     restarted when it exits: remove autorestart, or set it to false"
                        .to_owned(),
                );
            }
        }
        if schedule == Schedule::Reboot && catchup {
            self.error(
                section,
                Some("schedule_catchup"),
                "schedule_catchup does not apply to @reboot, which runs at every daemon start"
                    .to_owned(),
            );
        }
        Some(crate::model::ScheduleConfig {
            schedule,
            timezone,
            jitter,
            overlap,
            catchup,
            timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_and_nicknames() {
        assert_eq!(
            schedule(" */15  * * * * "),
            Ok(Schedule::Cron("*/15 * * * *".into()))
        );
        assert_eq!(
            schedule("*/10 * * * * *"),
            Ok(Schedule::Cron("*/10 * * * * *".into()))
        );
        assert_eq!(schedule("@Daily"), Ok(Schedule::Cron("@daily".into())));
        assert_eq!(schedule("@midnight"), Ok(Schedule::Cron("@daily".into())));
        assert_eq!(schedule("@reboot"), Ok(Schedule::Reboot));
        assert_eq!(
            schedule("@every 3m"),
            Ok(Schedule::Every(Duration::from_secs(180)))
        );
        assert_eq!(
            schedule("0 9 * * MON-FRI"),
            Ok(Schedule::Cron("0 9 * * MON-FRI".into()))
        );
    }

    #[test]
    fn errors_say_which_field() {
        let error = schedule("*/15 25 * * *").expect_err("hour 25");
        assert!(
            error.contains("field 2 (hour) \"25\" is not valid"),
            "{error}"
        );
        assert!(error.contains("expected 0-23"), "{error}");
        let error = schedule("0 0 32 * *").expect_err("day 32");
        assert!(error.contains("field 3 (day of month)"), "{error}");
        let error = schedule("61 * * * * *").expect_err("second 61");
        assert!(error.contains("field 1 (second)"), "{error}");
        let error = schedule("* * * * FOO").expect_err("weekday");
        assert!(error.contains("field 5 (day of week)"), "{error}");
        let error = schedule("* * *").expect_err("three fields");
        assert!(error.contains("3 fields where expected five"), "{error}");
        let error = schedule("0 0 * * * * 2030").expect_err("year");
        assert!(error.contains("7 fields"), "{error}");
        for bad in [
            "@sometimes",
            "@every",
            "@every 0s",
            "@every soon",
            "@daily 5",
            "",
        ] {
            assert!(schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timezones_and_overlap() {
        assert_eq!(timezone("local"), Ok(None));
        assert_eq!(timezone("UTC"), Ok(Some("UTC".into())));
        assert_eq!(timezone("Europe/Berlin"), Ok(Some("Europe/Berlin".into())));
        assert!(timezone("Mars/Olympus").expect_err("bad").contains("IANA"));
        assert_eq!(overlap("Queue"), Ok(Overlap::Queue));
        assert!(overlap("wait").is_err());
    }

    fn load(program: &str) -> Result<crate::Config, crate::ConfigErrors> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.conf");
        std::fs::write(
            &path,
            format!("[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\n\n[program:job]\ncommand=/bin/true\n{program}"),
        )
        .expect("write");
        crate::load(&path, &crate::LoadOptions::default())
    }

    #[test]
    fn a_job_has_its_own_defaults() {
        let config = load("schedule = */5 * * * *\n").expect("loads");
        let job = &config.groups[0].processes[0];
        assert_eq!(
            (job.startsecs, job.autorestart),
            (0, crate::AutoRestart::Never)
        );
        let schedule = job.schedule.as_ref().expect("scheduled");
        assert_eq!(schedule.overlap, Overlap::Skip);
        assert_eq!((schedule.catchup, schedule.timeout), (false, None));
        // Without schedule nothing changes (and --check --json prints no schedule key).
        let config = load("").expect("loads");
        let plain = &config.groups[0].processes[0];
        assert_eq!((plain.startsecs, plain.schedule.is_none()), (1, true));
        assert!(!crate::to_json(&config).contains("schedule"));
    }

    #[test]
    fn errors_are_located() {
        let errors = load("autostart = true\nschedule = 0 25 * * *\n").expect_err("bad hour");
        let text = errors.to_string();
        assert!(
            text.contains("main.conf:8: [program:job] schedule: invalid schedule"),
            "{text}"
        );
        assert!(text.contains("field 2 (hour)"), "{text}");
        let errors = load("schedule_overlap = queue\n").expect_err("no schedule");
        assert!(
            errors
                .to_string()
                .contains(":7: [program:job] schedule_overlap: schedule_overlap needs schedule"),
            "{errors}"
        );
        let errors = load("schedule = @hourly\nautorestart = true\n").expect_err("autorestart");
        assert!(
            errors
                .to_string()
                .contains(":8: [program:job] autorestart: a program with a schedule"),
            "{errors}"
        );
        let errors =
            load("schedule = @hourly\nschedule_timezone = Nowhere/City\n").expect_err("zone");
        assert!(
            errors
                .to_string()
                .contains(":8: [program:job] schedule_timezone: unknown time zone"),
            "{errors}"
        );
    }
}
