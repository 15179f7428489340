//! The audit log (`[supervisord] audit_logfile`): one JSON object per line, appended,
//! rotated like every other log ([`LogHandle`]), and flushed to the disk before the action
//! it records is answered.
//!
//! A line: `{"time":"2026-12-02T03:12:00.123Z","caller":{"uid":1000,"gid":1000,"pid":42,
//! "user":"alice"},"surface":"jsonrpc","method":"supervisor.stopProcess","params":["web",
//! true],"result":"ok"}`; a failed action adds `"fault":{"code":70,"text":"NOT_RUNNING: web"}`,
//! a refused one has `"result":"denied"` and the refusal's text.

use super::{Identity, Surface};
use crate::logs::stamp::Stamp;
use crate::logs::{LogHandle, LogHub, MainLog};
use rsupervisor_config::LogLevel;
use serde_json::{json, Value as Json};
use std::path::Path;
use std::sync::Arc;

/// How a recorded call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// It failed with this fault code and text.
    Fault(i32, String),
    /// It was refused before running; the refusal's text.
    Denied(String),
}

/// One line of the audit log, before its time stamp.
#[derive(Debug, Clone)]
pub struct Record {
    pub(super) identity: Identity,
    pub(super) surface: Surface,
    pub(super) method: String,
    pub(super) params: Json,
    pub(super) outcome: Outcome,
}

impl Record {
    /// The JSON line (with its newline) for this record at `time`.
    fn line(&self, time: &str) -> Vec<u8> {
        let mut object = json!({
            "time": time,
            "caller": self.identity,
            "surface": self.surface,
            "method": self.method,
            "params": self.params,
        });
        let (result, fault) = match &self.outcome {
            Outcome::Ok => ("ok", None),
            Outcome::Fault(code, text) => ("fault", Some(json!({"code": code, "text": text}))),
            Outcome::Denied(text) => (
                "denied",
                Some(json!({"code": rsupervisor_api::Fault::Forbidden.code(), "text": text})),
            ),
        };
        object["result"] = Json::from(result);
        if let Some(fault) = fault {
            object["fault"] = fault;
        }
        let mut line = serde_json::to_vec(&object).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// The open audit log.
#[derive(Debug)]
pub struct AuditLog {
    handle: LogHandle,
    /// Where a failed write is reported: an operator must learn the trail has a hole.
    main_log: Arc<MainLog>,
}

impl AuditLog {
    /// Opens (creating, mode 0600: it names users and arguments) the audit log.
    pub fn open(
        path: &Path,
        maxbytes: u64,
        backups: u32,
        hub: LogHub,
        main_log: Arc<MainLog>,
    ) -> std::io::Result<AuditLog> {
        Ok(AuditLog {
            handle: LogHandle::open(path, maxbytes, backups, 0o600, hub)?,
            main_log,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.handle.path()
    }

    /// Reopens the file (SIGUSR2, `reopenLogs`); a failure goes to the main log.
    pub fn reopen_or_report(&self) {
        if let Err(error) = self.handle.reopen() {
            self.main_log.log(
                LogLevel::Critical,
                &format!(
                    "could not reopen the audit log {}: {error}",
                    self.path().display()
                ),
            );
        }
    }

    /// Appends `record` and waits until it is on the disk. A failure goes to the main log.
    pub async fn write(&self, record: Record) {
        let line = record.line(&Stamp::now().rfc3339());
        let handle = self.handle.clone();
        let written = tokio::task::spawn_blocking(move || handle.write_durably(&line)).await;
        let error = match written {
            Ok(Ok(_)) => return,
            Ok(Err(error)) => error.to_string(),
            Err(error) => error.to_string(),
        };
        self.main_log.log(
            LogLevel::Critical,
            &format!(
                "could not write the audit log {}: {error}; the action {} went unrecorded",
                self.path().display(),
                record.method
            ),
        );
    }
}

/// The last `count` records of the audit log at `path` (fewer when it has fewer; none
/// when it does not exist yet). Lines that are not JSON (a torn write) are skipped.
pub fn last_records(path: &Path, count: usize) -> std::io::Result<Vec<Json>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let size = file.seek(SeekFrom::End(0))?;
    // Read backwards in growing windows until the window holds `count` whole lines.
    let mut window: u64 = 64 * 1024;
    loop {
        let start = size.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.by_ref().take(size - start).read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines: Vec<&str> = text.lines().collect();
        if start > 0 && !lines.is_empty() {
            // The first line may be cut.
            lines.remove(0);
        }
        if lines.len() >= count || start == 0 {
            let skip = lines.len().saturating_sub(count);
            return Ok(lines[skip..]
                .iter()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect());
        }
        window = window.saturating_mul(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines() {
        let record = Record {
            identity: Identity {
                uid: Some(1000),
                user: Some("alice".into()),
                ..Identity::default()
            },
            surface: Surface::Rest,
            method: "supervisor.stopProcess".into(),
            params: json!(["web", true]),
            outcome: Outcome::Fault(70, "NOT_RUNNING: web".into()),
        };
        let line = record.line("2026-12-02T03:12:00Z");
        assert_eq!(line.last(), Some(&b'\n'));
        let value: Json = serde_json::from_slice(&line).expect("json");
        assert_eq!(
            value,
            json!({"time": "2026-12-02T03:12:00Z", "caller": {"uid": 1000, "user": "alice"},
                   "surface": "rest", "method": "supervisor.stopProcess", "params": ["web", true],
                   "result": "fault", "fault": {"code": 70, "text": "NOT_RUNNING: web"}})
        );
    }

    #[test]
    fn last_records_reads_the_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        assert!(last_records(&path, 5).expect("missing is empty").is_empty());
        let mut text = String::new();
        for index in 0..5000 {
            text.push_str(&format!(
                "{{\"n\":{index},\"pad\":\"{}\"}}\n",
                "x".repeat(40)
            ));
        }
        text.push_str("not json\n");
        std::fs::write(&path, text).expect("write");
        let records = last_records(&path, 3000).expect("read");
        assert_eq!(records.len(), 2999);
        assert_eq!(records.last().expect("last")["n"], 4999);
        assert_eq!(records[0]["n"], 2001);
    }
}
