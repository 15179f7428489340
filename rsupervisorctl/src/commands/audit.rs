//! `audit [-n N] [-f] [--json]`: the daemon's audit log (an rsupervisor addition): the last
//! N records, one line each, or a live follow. `--json` prints the records as the daemon
//! wrote them, one JSON object per line.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};
use serde_json::Value;

use super::{fault_of, follow, Output};
use crate::exit;

/// What `audit` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRequest {
    /// How many records to show first.
    pub count: u32,
    /// Then follow new ones.
    pub follow: bool,
}

/// Records shown when `-n` is not given.
pub const DEFAULT_COUNT: u32 = 20;

/// Shows, then optionally follows, the audit log.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    request: AuditRequest,
) -> Result<(), ClientError> {
    if request.follow {
        out.error(follow::BANNER);
        // The history comes from the follow itself (its first chunk), so nothing is
        // printed twice or missed between a read and the follow.
        let tail_bytes = u64::from(request.count) * 512;
        let subscription = match client.follow_audit_log(tail_bytes).await {
            Ok(subscription) => subscription,
            Err(error) => return report(out, error),
        };
        let mut lines = LineSplitter::default();
        let mut first = true;
        let mut subscription = subscription;
        let end = loop {
            tokio::select! {
                _ = follow::ctrl_c() => break follow::End::Interrupted,
                item = subscription.next() => match item {
                    Some(Ok(chunk)) => {
                        let mut records = lines.push(&chunk);
                        if first {
                            // The tail starts mid-file: drop a cut first line, keep N.
                            first = false;
                            let skip = records.len().saturating_sub(request.count as usize);
                            records.drain(..skip);
                        }
                        for record in records {
                            print_record(out, &record);
                        }
                    }
                    Some(Err(_)) => continue,
                    None => break follow::End::Closed,
                },
            }
        };
        follow::finish(out, end);
        return Ok(());
    }
    match client.read_audit_log(request.count).await {
        Ok(records) => {
            for record in &records {
                print_record(out, record);
            }
            Ok(())
        }
        Err(error) => report(out, error),
    }
}

fn report(out: &mut Output, error: ClientError) -> Result<(), ClientError> {
    let fault = fault_of(&error).ok_or(error)?;
    let text = match fault.fault {
        Fault::NoFile => "no audit log (set [supervisord] audit_logfile)".to_owned(),
        _ => fault.to_string(),
    };
    out.problem(format!("ERROR ({text})"));
    out.status = exit::GENERIC;
    Ok(())
}

/// Whole JSON lines out of a stream of text chunks.
#[derive(Default)]
struct LineSplitter {
    partial: String,
}

impl LineSplitter {
    fn push(&mut self, chunk: &str) -> Vec<Value> {
        self.partial.push_str(chunk);
        let Some(end) = self.partial.rfind('\n') else {
            return Vec::new();
        };
        let complete: String = self.partial.drain(..=end).collect();
        complete
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

fn print_record(out: &mut Output, record: &Value) {
    if out.json {
        out.line(record.to_string());
    } else {
        out.line(format_record(record));
    }
}

/// One record as a line: time, caller, surface, method and params, result.
pub fn format_record(record: &Value) -> String {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let caller = &record["caller"];
    let mut who = Vec::new();
    if let Some(token) = caller["token"].as_str() {
        who.push(format!("token={token}"));
    }
    if let Some(user) = caller["user"].as_str() {
        who.push(format!("user={user}"));
    }
    for key in ["uid", "pid"] {
        if let Some(number) = caller[key].as_i64() {
            who.push(format!("{key}={number}"));
        }
    }
    if let Some(address) = caller["address"].as_str() {
        who.push(format!("from={address}"));
    }
    if who.is_empty() {
        who.push("-".to_owned());
    }
    let params = match &record["params"] {
        Value::Null => String::new(),
        Value::Array(items) if items.is_empty() => String::new(),
        other => format!(" {other}"),
    };
    let result = match text(&record["result"]).as_str() {
        "ok" => "ok".to_owned(),
        other => format!(
            "{} ({})",
            other.to_ascii_uppercase(),
            text(&record["fault"]["text"])
        ),
    };
    format!(
        "{}  {}  {}  {}{}  {}",
        text(&record["time"]),
        who.join(","),
        text(&record["surface"]),
        text(&record["method"]),
        params,
        result
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use serde_json::json;

    #[tokio::test]
    async fn last_records_and_no_log() {
        let records = json!([
            {"time": "2026-12-02T03:12:00Z", "caller": {"uid": 1000, "pid": 7, "user": "alice"},
             "surface": "jsonrpc", "method": "supervisor.stopProcess", "params": ["web", true],
             "result": "ok"},
            {"time": "2026-12-02T03:13:00Z", "caller": {"uid": 65534, "user": "nobody"},
             "surface": "rest", "method": "supervisor.startProcess", "params": ["web", true],
             "result": "denied", "fault": {"code": 403, "text": "FORBIDDEN: no"}},
            {"time": "2026-12-02T03:14:00Z", "caller": {}, "surface": "signal",
             "method": "SIGHUP", "params": null, "result": "ok"}
        ]);
        let client =
            MockClient::new()
                .ok("readAuditLog", records)
                .fault("readAuditLog", Fault::NoFile, "");
        let mut out = Output::captured();
        let request = AuditRequest {
            count: 5,
            follow: false,
        };
        run(&client, &mut out, request).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "2026-12-02T03:12:00Z  user=alice,uid=1000,pid=7  jsonrpc  supervisor.stopProcess [\"web\",true]  ok\n\
             2026-12-02T03:13:00Z  user=nobody,uid=65534  rest  supervisor.startProcess [\"web\",true]  DENIED (FORBIDDEN: no)\n\
             2026-12-02T03:14:00Z  -  signal  SIGHUP  ok\n"
        );
        assert_eq!(client.calls()[0], "readAuditLog[5]");
        run(&client, &mut out, request).await.expect("ok");
        assert!(out
            .stdout_text()
            .ends_with("ERROR (no audit log (set [supervisord] audit_logfile))\n"));
        assert_eq!(out.status, 1);
    }

    #[test]
    fn lines_are_split_across_chunks() {
        let mut splitter = LineSplitter::default();
        assert!(splitter.push("{\"a\":").is_empty());
        assert_eq!(
            splitter.push("1}\n{\"b\":2}\n{\"c\""),
            vec![json!({"a": 1}), json!({"b": 2})]
        );
        assert_eq!(splitter.push(":3}\n"), vec![json!({"c": 3})]);
    }
}
