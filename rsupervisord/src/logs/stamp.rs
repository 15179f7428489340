//! Time stamps of log records: the local `YYYY-MM-DD HH:MM:SS,mmm` that supervisord's main
//! log uses (and our `timestamped` child logs), and the RFC 3339 UTC time of JSON records.
//!
//! One clock read per record (or per chunk of child output); the local conversion is the C
//! library's `localtime_r`, so `TZ` is honoured as the rest of the system honours it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sys::{self, LocalTime};

/// A moment to print: seconds and milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    seconds: i64,
    millis: u32,
}

impl Stamp {
    /// The current time.
    pub fn now() -> Stamp {
        Stamp::from_epoch(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        )
    }

    /// The time `since_epoch` after the Unix epoch.
    pub fn from_epoch(since_epoch: Duration) -> Stamp {
        Stamp {
            seconds: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
            millis: since_epoch.subsec_millis(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS,mmm` in local time (supervisord's main-log stamp).
    pub fn local(self) -> String {
        let time = sys::local_time(self.seconds).unwrap_or_else(|| utc_time(self.seconds));
        let LocalTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = time;
        format!(
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02},{:03}",
            self.millis
        )
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (RFC 3339, UTC), the `time` of JSON records: a log
    /// pipeline parses it without knowing the host's zone.
    pub fn rfc3339(self) -> String {
        let LocalTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = utc_time(self.seconds);
        format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}Z",
            self.millis
        )
    }
}

/// UTC broken-down time from the civil-from-days algorithm (no C library call needed).
pub fn utc_time(seconds: i64) -> LocalTime {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's days -> (year, month, day).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let small = |value: i64| u32::try_from(value).unwrap_or(0);
    LocalTime {
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month: small(month),
        day: small(day),
        hour: small(of_day / 3600),
        minute: small(of_day % 3600 / 60),
        second: small(of_day % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_converts_known_dates() {
        let time = utc_time(1_700_000_000);
        assert_eq!((time.year, time.month, time.day), (2023, 11, 14));
        assert_eq!((time.hour, time.minute, time.second), (22, 13, 20));
        let time = utc_time(951_782_400); // 2000-02-29
        assert_eq!((time.year, time.month, time.day), (2000, 2, 29));
    }

    #[test]
    fn rfc3339_is_utc_with_milliseconds() {
        let stamp = Stamp::from_epoch(Duration::from_millis(1_700_000_000_042));
        assert_eq!(stamp.rfc3339(), "2023-11-14T22:13:20.042Z");
    }

    #[test]
    fn local_has_supervisords_shape() {
        let text = Stamp::from_epoch(Duration::from_millis(1_700_000_000_007)).local();
        let bytes = text.as_bytes();
        assert_eq!(text.len(), 23, "{text}");
        assert_eq!((bytes[4], bytes[10], bytes[19]), (b'-', b' ', b','));
        assert!(text.ends_with(",007"));
    }
}
