//! `MainLog`: the daemon's own log (`[supervisord] logfile`), in supervisord's format.
//!
//! Each record is one write of `YYYY-MM-DD HH:MM:SS,mmm LEVL message\n` in local time;
//! a message containing newlines is written verbatim and spans several lines. Records
//! below the configured level are dropped. A file target rotates through
//! [`RotatingFile`](super::RotatingFile) by `logfile_maxbytes`/`logfile_backups` and
//! notifies the hub (for `maintail -f`); `logfile=syslog` sends each line of the message
//! to syslog instead, at a priority matching the level. With `nodaemon` and not `silent`
//! every record is also echoed to stdout.
//!
//! `log` takes `&self` and can be called from any thread or task: the file sits behind
//! the [`LogHandle`]'s std mutex and each record is a single small write.

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use rsupervisor_config::model::{LogLevel, MainLogFormat, MainLogTarget};

use super::handle::LogHandle;
use super::hub::LogHub;
use super::rotate::MODE_EXPLICIT;
use super::stamp::Stamp;
use crate::sys::{self, SyslogPriority};

/// The daemon's main log. See the module docs.
#[derive(Debug)]
pub struct MainLog {
    /// `None` when the target is syslog.
    file: Option<LogHandle>,
    level: LogLevel,
    format: MainLogFormat,
    echo_stdout: bool,
    /// Set after the first failed write, so a broken disk does not flood stderr.
    reported_error: AtomicBool,
    /// Records that could not be written since the last one that could; the next record
    /// that is written is preceded by a line saying how many were lost, and why.
    lost: AtomicU64,
    /// The error of the first lost record of the current run of failures.
    lost_error: Mutex<Option<String>>,
}

impl MainLog {
    /// Opens the main log. For a file target the file is created (mode 0644 before the
    /// umask) or appended to; `maxbytes == 0` disables rotation.
    pub fn open(
        target: &MainLogTarget,
        maxbytes: u64,
        backups: u32,
        level: LogLevel,
        echo_stdout: bool,
        hub: LogHub,
    ) -> io::Result<MainLog> {
        let file = match target {
            MainLogTarget::File(path) => Some(LogHandle::open(
                path,
                maxbytes,
                backups,
                MODE_EXPLICIT,
                hub,
            )?),
            MainLogTarget::Syslog => None,
        };
        Ok(MainLog {
            file,
            level,
            format: MainLogFormat::Text,
            echo_stdout,
            reported_error: AtomicBool::new(false),
            lost: AtomicU64::new(0),
            lost_error: Mutex::new(None),
        })
    }

    /// Writes records in `format` from now on (`[supervisord] logfile_format`).
    pub fn with_format(mut self, format: MainLogFormat) -> MainLog {
        self.format = format;
        self
    }

    /// The log file's path; `None` when logging to syslog (then `readLog` is `NO_FILE`).
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(LogHandle::path)
    }

    /// The configured level.
    pub fn level(&self) -> LogLevel {
        self.level
    }

    /// Whether a record at `level` would be written.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Writes one record, if `level` passes the filter. Never fails: a write error is
    /// reported once on stderr and the record is dropped; once writing works again, a
    /// record says how many were lost and why, so no loss goes unsaid.
    pub fn log(&self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let needs_line = self.file.is_some() || self.echo_stdout;
        let line = needs_line.then(|| format_record(self.format, Stamp::now(), level, message));
        match (&self.file, &line) {
            (Some(file), Some(line)) => self.write_record(file, line),
            _ => {
                let priority = syslog_priority(level);
                for text in message.split('\n') {
                    sys::syslog(priority, text);
                }
            }
        }
        if let (true, Some(line)) = (self.echo_stdout, &line) {
            let mut stdout = io::stdout().lock();
            // Losing the echo (closed terminal) must not affect the daemon.
            let _ = stdout
                .write_all(line.as_bytes())
                .and_then(|()| stdout.flush());
        }
    }

    /// Writes one formatted record to the file, keeping count of the records it loses.
    fn write_record(&self, file: &LogHandle, line: &str) {
        if self.lost.load(Ordering::Relaxed) > 0 {
            self.report_lost(file);
        }
        if let Err(error) = file.write(line.as_bytes()) {
            if self.lost.fetch_add(1, Ordering::Relaxed) == 0 {
                *self.lost_error.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(error.to_string());
            }
            if !self.reported_error.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "rsupervisord: cannot write main log {}: {error}",
                    file.path().display()
                );
            }
        }
    }

    /// After lost records: says how many, if this write works (otherwise they stay counted).
    fn report_lost(&self, file: &LogHandle) {
        // Taken whole, so two threads cannot both report (and both subtract) the same loss.
        let count = self.lost.swap(0, Ordering::Relaxed);
        if count == 0 {
            return;
        }
        let error = self
            .lost_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        let notice = format_record(
            self.format,
            Stamp::now(),
            LogLevel::Warn,
            &format!(
                "{count} main log record(s) before this one could not be written to {}: {error}",
                file.path().display()
            ),
        );
        if file.write(notice.as_bytes()).is_ok() {
            self.reported_error.store(false, Ordering::Relaxed);
        } else {
            // Still failing: keep them counted for the next notice.
            self.lost.fetch_add(count, Ordering::Relaxed);
        }
    }

    /// Reopens the log file at its path (SIGUSR2); no-op for syslog.
    pub fn reopen(&self) -> io::Result<()> {
        match &self.file {
            Some(file) => file.reopen(),
            None => Ok(()),
        }
    }

    /// `clearLog`: deletes the log file and reopens it. Fails with `NotFound` (fault
    /// `NO_FILE`) for syslog or when the file does not exist. The caller logs
    /// `reopening log file` afterwards if it wants the record to survive (supervisord logs
    /// it just before reopening, into the deleted file).
    pub fn clear(&self) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "main log is syslog",
            ));
        };
        std::fs::metadata(file.path())?;
        file.clear()
    }
}

/// One record: `YYYY-MM-DD HH:MM:SS,mmm LEVL message\n` (text), or
/// `{"time":"…Z","level":"info","message":"…"}\n` (json), a multi-line message staying
/// one JSON string.
fn format_record(format: MainLogFormat, stamp: Stamp, level: LogLevel, message: &str) -> String {
    match format {
        MainLogFormat::Text => format!("{} {} {message}\n", stamp.local(), level.tag()),
        MainLogFormat::Json => {
            let record = serde_json::json!({
                "time": stamp.rfc3339(),
                "level": level,
                "message": message,
            });
            format!("{record}\n")
        }
    }
}

fn syslog_priority(level: LogLevel) -> SyslogPriority {
    match level {
        LogLevel::Critical => SyslogPriority::Critical,
        LogLevel::Error => SyslogPriority::Error,
        LogLevel::Warn => SyslogPriority::Warning,
        LogLevel::Info => SyslogPriority::Info,
        LogLevel::Debug | LogLevel::Trace | LogLevel::Blather => SyslogPriority::Debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::follow::{follow, FollowStart};
    use crate::logs::rotate::backup_path;

    fn stamp() -> Stamp {
        Stamp::from_epoch(std::time::Duration::from_millis(1_709_802_302_042))
    }

    #[test]
    fn record_format_matches_supervisord() {
        let text = |level, message| format_record(MainLogFormat::Text, stamp(), level, message);
        let local = stamp().local();
        assert_eq!(
            text(LogLevel::Info, "supervisord started with pid 6093"),
            format!("{local} INFO supervisord started with pid 6093\n")
        );
        assert_eq!(
            text(LogLevel::Debug, "'spew' stdout output:\na\nb"),
            format!("{local} DEBG 'spew' stdout output:\na\nb\n")
        );
    }

    #[test]
    fn json_records_are_one_object_per_line() {
        let line = format_record(
            MainLogFormat::Json,
            stamp(),
            LogLevel::Warn,
            "two\nlines \"quoted\"",
        );
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        let record: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(record["time"], "2024-03-07T09:05:02.042Z");
        assert_eq!(record["level"], "warn");
        assert_eq!(record["message"], "two\nlines \"quoted\"");
    }

    fn is_record_start(line: &str) -> bool {
        let bytes = line.as_bytes();
        bytes.len() > 24
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes[10] == b' '
            && bytes[13] == b':'
            && bytes[16] == b':'
            && bytes[19] == b','
            && bytes[23] == b' '
    }

    #[test]
    fn filters_by_level_and_writes_verbatim() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("supervisord.log");
        let target = MainLogTarget::File(path.clone());
        let log = MainLog::open(&target, 0, 0, LogLevel::Info, false, LogHub::new()).expect("open");
        assert_eq!(log.path(), Some(path.as_path()));
        log.log(LogLevel::Debug, "hidden");
        log.log(LogLevel::Info, "shown");
        log.log(LogLevel::Critical, "two\nlines");
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(is_record_start(lines[0]) && lines[0].ends_with(" INFO shown"));
        assert!(is_record_start(lines[1]) && lines[1].ends_with(" CRIT two"));
        assert_eq!(lines[2], "lines");
    }

    #[test]
    fn rotates_and_clears() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.log");
        let target = MainLogTarget::File(path.clone());
        let log =
            MainLog::open(&target, 200, 2, LogLevel::Blather, false, LogHub::new()).expect("open");
        for index in 0..20 {
            log.log(LogLevel::Warn, &format!("message number {index}"));
        }
        assert!(backup_path(&path, 2).exists());
        assert!(!backup_path(&path, 3).exists());
        log.clear().expect("clear");
        assert_eq!(std::fs::read(&path).expect("read"), b"");
        log.log(LogLevel::Info, "after clear");
        assert!(std::fs::read_to_string(&path)
            .expect("read")
            .ends_with("INFO after clear\n"));
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(
            log.clear().map_err(|error| error.kind()),
            Err(io::ErrorKind::NotFound)
        );
        log.reopen().expect("reopen");
        assert!(path.exists());
    }

    #[tokio::test]
    async fn maintail_followers_are_woken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.log");
        let hub = LogHub::new();
        let target = MainLogTarget::File(path.clone());
        let log = MainLog::open(&target, 0, 0, LogLevel::Info, false, hub.clone()).expect("open");
        let mut follower = follow(&hub, &path, FollowStart::TailBytes(1024));
        log.log(LogLevel::Info, "hello");
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), follower.next_chunk())
            .await
            .expect("woken")
            .expect("open")
            .expect("read");
        assert!(String::from_utf8_lossy(&chunk).ends_with(" INFO hello\n"));
    }

    /// A main log that cannot be written (a full disk: /dev/full) loses records, and says
    /// how many once it can write again (here: reopened after the link was pointed at a
    /// regular file, as an operator would after freeing space and sending SIGUSR2).
    #[test]
    fn lost_records_are_counted_and_reported_once_writing_works() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.log");
        std::os::unix::fs::symlink("/dev/full", &path).expect("symlink");
        let target = MainLogTarget::File(path.clone());
        let log = MainLog::open(&target, 0, 0, LogLevel::Info, false, LogHub::new()).expect("open");
        for index in 0..3 {
            log.log(LogLevel::Info, &format!("lost {index}"));
        }
        assert_eq!(log.lost.load(Ordering::Relaxed), 3);
        std::fs::remove_file(&path).expect("unlink");
        log.reopen().expect("reopen");
        log.log(LogLevel::Info, "back");
        log.log(LogLevel::Info, "again");
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0]
                .contains(" WARN 3 main log record(s) before this one could not be written to ")
                && lines[0].contains("No space left on device"),
            "{text}"
        );
        assert!(lines[1].ends_with(" INFO back") && lines[2].ends_with(" INFO again"));
        assert_eq!(log.lost.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn syslog_target_has_no_path() {
        let log = MainLog::open(
            &MainLogTarget::Syslog,
            0,
            0,
            LogLevel::Info,
            false,
            LogHub::new(),
        )
        .expect("open");
        assert_eq!(log.path(), None);
        assert_eq!(
            log.clear().map_err(|error| error.kind()),
            Err(io::ErrorKind::NotFound)
        );
    }
}
