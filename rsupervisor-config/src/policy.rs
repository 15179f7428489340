//! The value syntax of rsupervisor's own `[program:x]` keys (supervisord has none of them):
//! durations and the restart limit of the restart policy.
//!
//! - a **duration** is a number of seconds (`30`, `1.5`) or a number with a unit: `ms`, `s`,
//!   `m`, `h` or `d` (`500ms`, `30s`, `5m`);
//! - a **restart limit** is `STARTS/DURATION` (`5/300s`: at most 5 starts in any 300 s), or
//!   `off` (the default) for none.
//!
//! Error texts say what was given and what is expected, for the operator reading
//! `rsupervisord --check`.

use crate::model::{LogFormat, MainLogFormat, RestartLimit};
use std::time::Duration;

/// Parses a duration (see the module docs).
pub fn duration(value: &str) -> Result<Duration, String> {
    let text = value.trim().to_ascii_lowercase();
    let bad = || {
        format!(
            "invalid duration {value:?}: expected seconds, or a number followed by ms, s, m, h \
             or d (for example 500ms, 30s, 5m)"
        )
    };
    let (number, unit_seconds) = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)]
        .iter()
        .chain(&[("d", 86_400.0)])
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((text.as_str(), 1.0));
    let number = number.trim();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    let amount: f64 = number.parse().map_err(|_| bad())?;
    let seconds = amount * unit_seconds;
    // A century is more than any delay means; beyond it the value is a typo.
    if !seconds.is_finite() || seconds > 100.0 * 365.0 * 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses `stdout_log_format` / `stderr_log_format`: `raw`, `timestamped` or `json`.
pub fn log_format(value: &str) -> Result<LogFormat, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "raw" => Ok(LogFormat::Raw),
        "timestamped" => Ok(LogFormat::Timestamped),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!(
            "invalid log format {value:?}: expected raw, timestamped or json"
        )),
    }
}

/// Parses `[supervisord] logfile_format`: `text` or `json`.
pub fn main_log_format(value: &str) -> Result<MainLogFormat, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "text" => Ok(MainLogFormat::Text),
        "json" => Ok(MainLogFormat::Json),
        _ => Err(format!(
            "invalid log format {value:?}: expected text or json"
        )),
    }
}

/// Parses a restart limit: `STARTS/DURATION`, or `off` (or empty) for none.
pub fn restart_limit(value: &str) -> Result<Option<RestartLimit>, String> {
    let text = value.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = |why: &str| {
        format!("invalid restart limit {value:?}: {why}; expected STARTS/DURATION, for example 5/300s (at most 5 starts in any 300 seconds), or off")
    };
    let Some((starts, window)) = text.split_once('/') else {
        return Err(bad("no '/'"));
    };
    let starts: u32 = starts
        .trim()
        .parse()
        .map_err(|_| bad("the number of starts is not a whole number"))?;
    if starts == 0 {
        return Err(bad("the number of starts must be at least 1"));
    }
    let window = duration(window).map_err(|error| bad(&error))?;
    if window.is_zero() {
        return Err(bad("the window must be longer than 0"));
    }
    Ok(Some(RestartLimit { starts, window }))
}

/// A duration as the configuration would write it: `500ms`, `30s`, `1.5s`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis % 1000 == 0 {
        format!("{}s", millis / 1000)
    } else if millis < 1000 {
        format!("{millis}ms")
    } else {
        format!("{}s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |text: &str| duration(text).expect(text);
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("30"), Duration::from_secs(30));
        assert_eq!(ok("1.5"), Duration::from_millis(1500));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok(" 30s "), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("2H"), Duration::from_secs(7200));
        assert_eq!(ok("1d"), Duration::from_secs(86_400));
        for bad in ["", "s", "-1", "1x", "1 min", "1e3", "5m30s", "99999999999d"] {
            let error = duration(bad).expect_err(bad);
            assert!(error.starts_with("invalid duration"), "{bad}: {error}");
        }
    }

    #[test]
    fn restart_limits() {
        assert_eq!(restart_limit("off"), Ok(None));
        assert_eq!(restart_limit(""), Ok(None));
        assert_eq!(
            restart_limit("5/300s"),
            Ok(Some(RestartLimit {
                starts: 5,
                window: Duration::from_secs(300)
            }))
        );
        assert_eq!(
            restart_limit(" 3 / 1m "),
            Ok(Some(RestartLimit {
                starts: 3,
                window: Duration::from_secs(60)
            }))
        );
        for (bad, why) in [
            ("5", "no '/'"),
            ("x/300s", "not a whole number"),
            ("0/300s", "at least 1"),
            ("5/0", "longer than 0"),
            ("5/soon", "invalid duration"),
        ] {
            let error = restart_limit(bad).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
            assert!(error.contains("for example 5/300s"), "{error}");
        }
    }

    #[test]
    fn formats_durations_as_written() {
        assert_eq!(format_duration(Duration::from_secs(300)), "300s");
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }
}
