//! `ready_log`: watching a program's output for the line that says it is ready.
//!
//! The pump of each stream feeds what it reads to its [`ReadyWatch`], which splits it into
//! lines (a line may arrive in pieces) and, at the first line matching the regular
//! expression, calls its notification once and is dropped. Output is never held back: the
//! watch sees a copy of what goes to the log file.

/// How long a line may grow before it is judged on what it holds: a program that never
/// writes a newline must not make the watch buffer grow without end.
const MAX_LINE: usize = 64 * 1024;

/// The watch of one stream of one run.
pub struct ReadyWatch {
    regex: regex::Regex,
    /// The unfinished last line of what was read so far.
    line: Vec<u8>,
    notify: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for ReadyWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyWatch")
            .field("regex", &self.regex.as_str())
            .finish_non_exhaustive()
    }
}

impl ReadyWatch {
    /// A watch for `regex` that calls `notify` at the first matching line.
    pub fn new(regex: regex::Regex, notify: Box<dyn FnOnce() + Send>) -> Self {
        ReadyWatch {
            regex,
            line: Vec::new(),
            notify: Some(notify),
        }
    }

    /// Looks at more output; true once the line was seen (the watch is then done).
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if self.notify.is_none() {
            return true;
        }
        let mut rest = data;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            if self.judge() {
                return true;
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() >= MAX_LINE {
            return self.judge();
        }
        false
    }

    /// Matches the collected line and empties it.
    fn judge(&mut self) -> bool {
        let line = String::from_utf8_lossy(&self.line);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let matched = self.regex.is_match(line);
        self.line.clear();
        if matched {
            if let Some(notify) = self.notify.take() {
                notify();
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn watch(pattern: &str) -> (ReadyWatch, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let notify = Box::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let regex = regex::Regex::new(pattern).expect("regex");
        (ReadyWatch::new(regex, notify), calls)
    }

    #[test]
    fn a_line_split_across_reads_matches_once() {
        let (mut ready, calls) = watch("^listening on \\d+$");
        assert!(!ready.feed(b"booting\nlisten"));
        assert!(!ready.feed(b"ing on 80"));
        assert!(ready.feed(b"80\r\nlistening on 1\n"));
        assert!(ready.feed(b"listening on 2\n"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn only_whole_lines_are_judged() {
        let (mut ready, calls) = watch("^ready$");
        assert!(!ready.feed(b"not ready\nready yet?\n"));
        assert!(!ready.feed(b"ready"));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(ready.feed(b"\n"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
