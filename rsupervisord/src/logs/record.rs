//! The `timestamped` and `json` formats of child logs (`stdout_log_format`,
//! `stderr_log_format`): a pump's chunks cut into lines, each line written as one record.
//!
//! - `timestamped`: `YYYY-MM-DD HH:MM:SS,mmm <line>\n`, the main log's local stamp;
//! - `json`: `{"time":"…Z","program":…,"process":…,"group":…,"pid":…,"stream":…,"line":…}`.
//!   A line that is itself a JSON object is embedded as that object, so a pipeline sees the
//!   program's own fields (`level`, `msg`, …) without parsing a string twice. A line that is
//!   not UTF-8 is kept whole: backslashes are doubled, every byte that is not UTF-8 is written
//!   `\xNN` (Python's `backslashreplace`) and the record says `"escaped":true`.
//!
//! A line is never split across records because of how the kernel cut the pipe: what
//! follows the last newline of a chunk is held until its newline arrives, or until the
//! pump ends (the child and everything that shared its pipe are gone). Only a line longer
//! than [`LINE_LIMIT`] is cut, at that size (on a UTF-8 character boundary), and its records
//! but the last say `"partial":true`. The raw format never passes through here, so it
//! costs nothing.

use rsupervisor_config::LogFormat;

use super::stamp::Stamp;
use super::Channel;

/// Longest line held back waiting for its newline; longer lines are written in pieces.
pub const LINE_LIMIT: usize = 64 * 1024;

/// Where a pump's output comes from: the fixed fields of every JSON record.
#[derive(Debug, Clone)]
pub struct Origin {
    /// `[program:x]` name.
    pub program: String,
    /// Process name (`process_name` expanded).
    pub process: String,
    /// Group name.
    pub group: String,
    /// The child's pid.
    pub pid: i32,
    /// Which stream.
    pub stream: Channel,
}

/// Cuts output into lines and writes each as a record. See the module docs.
#[derive(Debug)]
pub struct LineFramer {
    json: bool,
    /// For json: `,"program":…,"stream":"stdout","line":`, escaped once.
    fields: String,
    /// The start of a line whose newline has not arrived yet.
    held: Vec<u8>,
    limit: usize,
}

impl LineFramer {
    /// A framer for `format`; `None` for raw, which is written as it comes.
    pub fn new(format: LogFormat, origin: &Origin) -> Option<LineFramer> {
        Self::with_limit(format, origin, LINE_LIMIT)
    }

    fn with_limit(format: LogFormat, origin: &Origin, limit: usize) -> Option<LineFramer> {
        let json = match format {
            LogFormat::Raw => return None,
            LogFormat::Timestamped => false,
            LogFormat::Json => true,
        };
        let text = |value: &str| serde_json::Value::from(value).to_string();
        let fields = format!(
            ",\"program\":{},\"process\":{},\"group\":{},\"pid\":{},\"stream\":\"{}\",\"line\":",
            text(&origin.program),
            text(&origin.process),
            text(&origin.group),
            origin.pid,
            origin.stream.as_str(),
        );
        Some(LineFramer {
            json,
            fields,
            held: Vec::new(),
            limit: limit.max(4),
        })
    }

    /// Appends to `out` a record for every line that `data` completes, read at `stamp`;
    /// keeps the rest for later.
    pub fn push(&mut self, data: &[u8], stamp: Stamp, out: &mut Vec<u8>) {
        let mut time = None;
        let mut rest = data;
        while let Some(at) = rest.iter().position(|&byte| byte == b'\n') {
            let (line, after) = (&rest[..at], &rest[at + 1..]);
            if self.held.is_empty() {
                self.record(line, false, stamp, &mut time, out);
            } else {
                let mut whole = std::mem::take(&mut self.held);
                whole.extend_from_slice(line);
                self.record(&whole, false, stamp, &mut time, out);
                whole.clear();
                self.held = whole; // keep the allocation for the next partial line
            }
            rest = after;
        }
        self.held.extend_from_slice(rest);
        while self.held.len() >= self.limit {
            let cut = char_boundary(&self.held, self.limit);
            let piece: Vec<u8> = self.held.drain(..cut).collect();
            self.record(&piece, true, stamp, &mut time, out);
        }
    }

    /// At end of output: a record for a last line that never got its newline.
    pub fn finish(&mut self, stamp: Stamp, out: &mut Vec<u8>) {
        if !self.held.is_empty() {
            let last = std::mem::take(&mut self.held);
            self.record(&last, false, stamp, &mut None, out);
        }
    }

    /// One record. `time` caches the formatted stamp across the records of one chunk.
    fn record(
        &self,
        line: &[u8],
        partial: bool,
        stamp: Stamp,
        time: &mut Option<String>,
        out: &mut Vec<u8>,
    ) {
        if !self.json {
            let time = time.get_or_insert_with(|| stamp.local());
            out.extend_from_slice(time.as_bytes());
            out.push(b' ');
            out.extend_from_slice(line);
            out.push(b'\n');
            return;
        }
        let time = time.get_or_insert_with(|| stamp.rfc3339());
        out.extend_from_slice(b"{\"time\":\"");
        out.extend_from_slice(time.as_bytes());
        out.push(b'"');
        out.extend_from_slice(self.fields.as_bytes());
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let escaped = match std::str::from_utf8(line) {
            Ok(text) if is_json_object(text) => {
                out.extend_from_slice(text.trim().as_bytes());
                false
            }
            Ok(text) => {
                write_json_string(text, out);
                false
            }
            Err(_) => {
                write_json_string(&backslash_replace(line), out);
                true
            }
        };
        if escaped {
            out.extend_from_slice(b",\"escaped\":true");
        }
        if partial {
            out.extend_from_slice(b",\"partial\":true");
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Whether `text` is one JSON object (and nothing else but whitespace).
fn is_json_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

fn write_json_string(text: &str, out: &mut Vec<u8>) {
    // Serialized straight into the output: no string per line. Writing a `str` into a
    // `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Python's `bytes.decode("utf-8", "backslashreplace")`, with backslashes doubled so the
/// original bytes can be recovered.
fn backslash_replace(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        text.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// The largest cut at or below `at` that does not split a UTF-8 character (a valid
/// character is at most four bytes, so at most three are given back).
fn char_boundary(bytes: &[u8], at: usize) -> usize {
    let is_continuation = |index: usize| bytes.get(index).is_some_and(|b| b & 0xC0 == 0x80);
    (at.saturating_sub(3)..=at)
        .rev()
        .find(|&cut| !is_continuation(cut))
        .filter(|&cut| cut > 0)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn origin() -> Origin {
        Origin {
            program: "agent".into(),
            process: "agent_1".into(),
            group: "pool".into(),
            pid: 4242,
            stream: Channel::Stderr,
        }
    }

    fn stamp() -> Stamp {
        Stamp::from_epoch(Duration::from_millis(1_700_000_000_042))
    }

    /// Feeds `chunks` one by one, then ends, and returns the records as JSON values.
    fn json_records(chunks: &[&[u8]], limit: usize) -> Vec<serde_json::Value> {
        let mut framer = LineFramer::with_limit(LogFormat::Json, &origin(), limit).expect("json");
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk, stamp(), &mut out);
        }
        framer.finish(stamp(), &mut out);
        let text = String::from_utf8(out).expect("records are UTF-8");
        text.lines()
            .map(|line| serde_json::from_str(line).expect("each line one object"))
            .collect()
    }

    #[test]
    fn raw_has_no_framer() {
        assert!(LineFramer::new(LogFormat::Raw, &origin()).is_none());
    }

    #[test]
    fn json_record_has_every_field() {
        let records = json_records(&[b"hello \"you\"\n"], LINE_LIMIT);
        assert_eq!(
            records,
            vec![serde_json::json!({
                "time": "2023-11-14T22:13:20.042Z",
                "program": "agent",
                "process": "agent_1",
                "group": "pool",
                "pid": 4242,
                "stream": "stderr",
                "line": "hello \"you\"",
            })]
        );
    }

    #[test]
    fn lines_split_across_reads_stay_one_record() {
        let records = json_records(&[b"par", b"tial\nsecond", b" line\nthird"], LINE_LIMIT);
        let lines: Vec<_> = records.iter().map(|r| r["line"].clone()).collect();
        assert_eq!(lines, ["partial", "second line", "third"]);
        assert!(records.iter().all(|r| r.get("partial").is_none()));
    }

    #[test]
    fn a_json_line_is_embedded_as_an_object() {
        let records = json_records(
            &[b"{\"level\":\"warn\",\"msg\":\"low\"}\r\n", b"{not json}\n"],
            LINE_LIMIT,
        );
        assert_eq!(
            records[0]["line"],
            serde_json::json!({"level": "warn", "msg": "low"})
        );
        assert_eq!(records[1]["line"], "{not json}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_escaped_not_lost() {
        let records = json_records(&[b"a\\b\xff\xfe c\n"], LINE_LIMIT);
        assert_eq!(records[0]["line"], "a\\\\b\\xff\\xfe c");
        assert_eq!(records[0]["escaped"], true);
    }

    #[test]
    fn an_overlong_line_is_cut_at_the_limit_on_a_char_boundary() {
        // "é" is two bytes; a cut at 5 would split the third one.
        let records = json_records(&["ééééé".as_bytes(), b"\n"], 5);
        let pieces: Vec<_> = records.iter().map(|r| r["line"].clone()).collect();
        assert_eq!(pieces, ["éé", "éé", "é"]);
        assert_eq!(records[0]["partial"], true);
        assert_eq!(records[1]["partial"], true);
        assert!(records[2].get("partial").is_none());
    }

    #[test]
    fn empty_lines_are_records_too() {
        let records = json_records(&[b"\n\nx\n"], LINE_LIMIT);
        let lines: Vec<_> = records.iter().map(|r| r["line"].clone()).collect();
        assert_eq!(lines, ["", "", "x"]);
    }

    #[test]
    fn timestamped_prefixes_each_line() {
        let mut framer = LineFramer::new(LogFormat::Timestamped, &origin()).expect("framer");
        let mut out = Vec::new();
        framer.push(b"one\ntw", stamp(), &mut out);
        framer.push(b"o\n", stamp(), &mut out);
        framer.push(b"tail", stamp(), &mut out);
        framer.finish(stamp(), &mut out);
        let local = stamp().local();
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            format!("{local} one\n{local} two\n{local} tail\n")
        );
    }
}
