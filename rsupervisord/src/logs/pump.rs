//! The pump: one tokio task per child output pipe, copying it into the log.
//!
//! Pumps run on a runtime of their own ([`Pumps`]), not beside the supervisor actor and the
//! control socket: a child that writes as fast as it can keeps a pump busy for as long as it
//! writes, and on a shared runtime twenty such pumps delayed every hop of a request or a
//! stop by a whole round of their reads. On their own threads they compete for the CPU
//! only through the kernel's scheduler, which wakes the rarely-busy control threads first.
//!
//! The task waits until the pipe is readable, then reads up to 64 KiB (the measured sweet
//! spot, see feasibility §5) into a buffer owned by the worker thread, not by the task: an
//! idle pump holds no read buffer (only one with `strip_ansi` keeps a buffer of its own), so
//! a thousand quiet programs do not cost 64 MiB (which would
//! also make every fork of the daemon slower). Each chunk goes straight to the log file with a plain `std::fs::File` write (a
//! page-cache copy, cheaper than `tokio::fs`), notifies the hub through [`LogHandle`],
//! and ends at end of file — when the child and every process that inherited the write
//! end have closed it. Output right before exit is never lost: EOF comes only after the
//! kernel handed over the last byte.
//!
//! The pipe is always drained, whatever happens to the log (NONE, or write errors), so a
//! chatty child never blocks on a full pipe. Write errors are counted in the
//! [`PumpReport`], never retried (a retry could duplicate bytes).
//!
//! An event listener's stdout pump also hands what it reads to its
//! [`crate::events::protocol::ListenerTap`], which sends the protocol tokens to the actor.
//!
//! A program with `*_events_enabled` or `*_capture_maxbytes` looks at its bytes for the
//! event system: its sink has [`OutputEvents`], and only then does a chunk take the other
//! path (`deliver_with_events`); without them the path is the plain one above, at the
//! same cost. With `*_events_enabled`, each chunk as it is logged is also sent as a
//! PROCESS_LOG_* event (only while a pool subscribes to it, a flag the event bus raises).
//! With `*_capture_maxbytes`, the stream is cut at the markers ([`super::capture`]): text
//! between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` goes to a capture
//! buffer instead of the log file and syslog (the main log's debug copy and PROCESS_LOG
//! events still see it, as in supervisord) and becomes one PROCESS_COMMUNICATION_* event.
//! Such a pump also answers the actor's drain request after its child exited: it reads the
//! fd until it is empty and answers after the events of those bytes
//! ([`OutputEvents::drain`]), so the exit is handled after the last output's events.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rsupervisor_config::model::LogLevel;
use std::cell::RefCell;
use std::time::Duration;
use tokio::net::unix::pipe;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use super::capture::{CaptureBuffer, MarkerScanner, Piece};
use super::handle::LogHandle;
use super::mainlog::MainLog;
use super::record::LineFramer;
use super::stamp::Stamp;
use super::Channel;
use crate::sys;

/// Read size per chunk: the default pipe capacity.
const CHUNK: usize = 64 * 1024;

/// Where one child output stream goes.
#[derive(Debug, Default)]
pub struct LogSink {
    /// The log file, `None` for `NONE`/`OFF`. The supervisor keeps a clone of the handle
    /// to reopen or clear it while the pump runs.
    pub file: Option<LogHandle>,
    /// `*_syslog`: the process name used as prefix of every syslog line; `None` if off.
    pub syslog_name: Option<String>,
    /// `strip_ansi`: remove `ESC[` … terminator sequences before logging.
    pub strip_ansi: bool,
    /// `*_log_format` other than raw: cuts the output into lines written as records to
    /// the file (syslog and the main-log copy get the output as it came).
    pub framer: Option<LineFramer>,
    /// Copy output into the main log at debug level (supervisord does this when its
    /// `loglevel` is debug or lower); `None` to skip.
    pub main_log_copy: Option<MainLogCopy>,
    /// Where failures to write the log file or read the pipe are reported (the main log),
    /// so a full disk does not silently stop a program's log; `None` to keep them in the
    /// [`PumpReport`] only.
    pub problems: Option<MainLogCopy>,
    /// `ready_log`: the watch for the line that says the program is ready; `None` if
    /// the program has none (or the line was seen).
    pub ready: Option<super::ready::ReadyWatch>,
    /// An event listener's stdout: the protocol tokens go to the actor from here.
    pub listener: Option<crate::events::protocol::ListenerTap>,
    /// `*_events_enabled` / `*_capture_maxbytes`: the program's output feeds the event
    /// system; `None` (the usual case) keeps the pump on its plain path.
    pub events: Option<OutputEvents>,
}

/// What a program's output sends to the event system.
pub struct OutputEvents {
    /// `*_events_enabled`: raised while some pool subscribes to this channel's
    /// PROCESS_LOG_* type; each logged chunk is then sent. `None` if not enabled.
    pub log: Option<Arc<AtomicBool>>,
    /// `*_capture_maxbytes` > 0: the marker scanner and the capture buffer.
    pub capture: Option<(MarkerScanner, CaptureBuffer)>,
    /// Hands one event to the actor.
    pub send: Box<dyn FnMut(OutputEvent) + Send>,
    /// The actor's requests, after the child exited, to read what the pipe still holds
    /// before the exit is handled (supervisord drains a process's pipes before its exit
    /// event, so a listener sees the last PROCESS_LOG event first). Each request is
    /// answered with one [`OutputEvent::Drained`], sent after the events of those bytes.
    pub drain: Option<tokio::sync::mpsc::UnboundedReceiver<()>>,
}

impl std::fmt::Debug for OutputEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputEvents")
            .field("log", &self.log)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl OutputEvents {
    fn log(&mut self, data: &[u8]) {
        if !data.is_empty()
            && self
                .log
                .as_ref()
                .is_some_and(|wanted| wanted.load(Ordering::Relaxed))
        {
            (self.send)(OutputEvent::Log(data.to_vec()));
        }
    }
}

/// One event of a program's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputEvent {
    /// A chunk as it was logged: a PROCESS_LOG_* event.
    Log(Vec<u8>),
    /// What a capture held when its END marker came: a PROCESS_COMMUNICATION_* event.
    Communication(Vec<u8>),
    /// The answer to a drain request: everything the pipe held then has been sent.
    Drained,
}

/// Copy of child output into the main log, as `'<name>' <channel> output:\n<data>`.
#[derive(Debug, Clone)]
pub struct MainLogCopy {
    /// The main log; the copy is made only if it accepts debug messages.
    pub main_log: Arc<MainLog>,
    /// The process name.
    pub process_name: String,
    /// Which stream this pump reads.
    pub channel: Channel,
    /// Show the data as a Python bytes literal (`b'READY\\n'`), as supervisord does for an
    /// event listener's stdout.
    pub bytes_repr: bool,
}

/// What a pump did, returned when it ends.
#[derive(Debug, Default)]
pub struct PumpReport {
    /// Bytes read from the pipe.
    pub bytes_read: u64,
    /// Chunks whose write to the log file failed (their bytes may be partly missing).
    pub write_errors: u64,
    /// The first error of the current run of failed writes (reported in the main log);
    /// cleared when a write succeeds again.
    pub first_write_error: Option<io::Error>,
    /// Set if reading the pipe failed (the pump then stops early, and the write end may
    /// block once the pipe fills). `None` on a normal end of file.
    pub read_error: Option<io::Error>,
}

/// Where pumps run, and which of them are still running.
#[derive(Debug, Clone)]
pub struct Pumps {
    runtime: tokio::runtime::Handle,
    running: TaskTracker,
}

impl Pumps {
    /// Pumps that run on `runtime` (the daemon gives them a runtime of their own).
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Pumps {
            runtime,
            running: TaskTracker::new(),
        }
    }

    /// Starts pumping `pipe` (the read end of a child's stdout or stderr pipe) into `sink`.
    ///
    /// The fd is switched to non-blocking mode. The task ends at end of file; awaiting its
    /// handle yields the [`PumpReport`].
    pub fn spawn(&self, pipe: OwnedFd, sink: LogSink) -> JoinHandle<PumpReport> {
        // The sink goes in boxed: an `async fn` keeps its arguments and the locals they
        // move into side by side, so a 464-byte sink passed by value made every pump's task
        // 1,360 bytes (448 with the box; two pumps per program).
        let sink = Box::new(sink);
        self.running.spawn_on(run(pipe, sink), &self.runtime)
    }

    /// Waits until every pump has reached end of file (so the last bytes of every child are
    /// in its log before the daemon exits), or `limit` has passed. Returns how many pumps
    /// are still running: their pipes are held open by processes outside the programs'
    /// process groups.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.running.close();
        let _ = tokio::time::timeout(limit, self.running.wait()).await;
        self.running.len()
    }
}

thread_local! {
    /// The read buffer of the pumps running on this worker thread. A pump reads into it and
    /// writes the data out before it awaits again, so one buffer per thread is enough.
    static READ_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; CHUNK]);
}

/// One read of the pipe. A drain reads the fd itself: what the exited child wrote is in
/// the pipe, whether or not the reactor has seen it become readable yet (`try_read` would
/// answer WouldBlock until it has).
fn read(receiver: &pipe::Receiver, buffer: &mut [u8], drain: bool) -> io::Result<usize> {
    if drain {
        nix::unistd::read(receiver, buffer).map_err(io::Error::from)
    } else {
        receiver.try_read(buffer)
    }
}

/// Why a pump woke up.
enum Woken {
    /// The pipe is readable.
    Readable,
    /// The actor asks for a drain.
    Drain,
    /// The actor will ask no more.
    DrainClosed,
}

/// What one read attempt found.
enum Read {
    /// Data was delivered; read again.
    Data,
    /// Nothing yet (readiness was spurious); wait again.
    Empty,
    /// End of file: the pump is done.
    Eof,
}

async fn run(pipe: OwnedFd, mut sink: Box<LogSink>) -> PumpReport {
    let mut report = PumpReport::default();
    let receiver = match pipe::Receiver::from_owned_fd(pipe) {
        Ok(receiver) => receiver,
        Err(error) => {
            report.read_error = Some(error);
            return report;
        }
    };
    let mut stripper = sink.strip_ansi.then(AnsiStripper::default);
    let mut stripped = Vec::new();
    let mut framed = Vec::new();
    // Only a program that feeds the event system takes the other path.
    let mut events = sink.events.take();
    // The actor asked (after the child's exit) for what the pipe holds: read until it is
    // empty, without waiting for readiness, then answer.
    let mut drain_asked = false;
    // Output nothing here needs to see goes pipe -> file without passing through us; a
    // program whose output feeds the event system is always read.
    let mut splicing = events.is_none();
    loop {
        if !drain_asked {
            let woken = match events.as_mut().and_then(|e| e.drain.as_mut()) {
                None => receiver.readable().await.map(|()| Woken::Readable),
                Some(drain) => tokio::select! {
                    ready = receiver.readable() => ready.map(|()| Woken::Readable),
                    asked = drain.recv() => Ok(match asked {
                        Some(()) => Woken::Drain,
                        None => Woken::DrainClosed,
                    }),
                },
            };
            match woken {
                Ok(Woken::Readable) => {}
                Ok(Woken::Drain) => drain_asked = true,
                Ok(Woken::DrainClosed) => {
                    // The actor dropped its end: stop listening to it.
                    if let Some(events) = events.as_mut() {
                        events.drain = None;
                    }
                    continue;
                }
                Err(error) => {
                    report.read_error = Some(error);
                    break;
                }
            }
        }
        if let Some(file) = splicing.then(|| super::splice::target(&sink)).flatten() {
            match super::splice::step(&receiver, file, CHUNK) {
                super::splice::Step::Moved(moved) => {
                    report.bytes_read += moved as u64;
                    continue;
                }
                super::splice::Step::Empty => continue,
                super::splice::Step::Eof => break,
                super::splice::Step::Refused => splicing = false,
            }
        }
        let step =
            READ_BUFFER.with_borrow_mut(|buffer| match read(&receiver, buffer, drain_asked) {
                Ok(0) => Ok(Read::Eof),
                Ok(n) if events.is_some() => {
                    report.bytes_read += n as u64;
                    let mut out = Output {
                        stripper: stripper.as_mut(),
                        stripped: &mut stripped,
                        framed: &mut framed,
                        report: &mut report,
                    };
                    if let Some(events) = events.as_mut() {
                        deliver_with_events(&mut sink, events, &buffer[..n], &mut out);
                    }
                    Ok(Read::Data)
                }
                Ok(n) => {
                    report.bytes_read += n as u64;
                    let data = match stripper.as_mut() {
                        Some(stripper) => {
                            stripped.clear();
                            stripper.strip(&buffer[..n], &mut stripped);
                            &stripped[..]
                        }
                        None => &buffer[..n],
                    };
                    deliver(&mut sink, data, &mut report, &mut framed);
                    Ok(Read::Data)
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) =>
                {
                    Ok(Read::Empty)
                }
                Err(error) => Err(error),
            });
        match step {
            Ok(Read::Data) => {}
            Ok(Read::Empty) => {
                if std::mem::take(&mut drain_asked) {
                    if let Some(events) = events.as_mut() {
                        (events.send)(OutputEvent::Drained);
                    }
                }
            }
            Ok(Read::Eof) => break,
            Err(error) => {
                report.read_error = Some(error);
                break;
            }
        }
    }
    // Output still held by the marker scanner is let through at end of file.
    if let Some(events) = events.as_mut() {
        let mut out = Output {
            stripper: stripper.as_mut(),
            stripped: &mut stripped,
            framed: &mut framed,
            report: &mut report,
        };
        finish_with_events(&mut sink, events, &mut out);
    }
    // A lone ESC held back at the very end was not the start of a sequence after all.
    if let Some(rest) = stripper.and_then(AnsiStripper::finish) {
        deliver(&mut sink, &rest, &mut report, &mut framed);
        if let Some(events) = events.as_mut() {
            events.log(&rest);
        }
    }
    // Every event of this pipe is sent: answer the drain asked for, or one asked for
    // before the request channel closes (a later request fails and the actor answers it).
    if let Some(mut events) = events {
        if let Some(mut drain) = events.drain.take() {
            drain.close();
            while drain.try_recv().is_ok() {
                drain_asked = true;
            }
        }
        if drain_asked {
            (events.send)(OutputEvent::Drained);
        }
    }
    // A last line without its newline is written now that no more can come.
    if let Some(framer) = sink.framer.as_mut() {
        framed.clear();
        framer.finish(Stamp::now(), &mut framed);
        write_file(&sink, &framed, &mut report);
    }
    if let Some(error) = &report.read_error {
        problem(
            &sink,
            LogLevel::Error,
            &format!(
                "stopped reading its output (the program may block once the pipe is full): {error}"
            ),
        );
    }
    report
}

/// Reports a pump problem in the main log as `'<name>' <channel>: <message>`.
fn problem(sink: &LogSink, level: LogLevel, message: &str) {
    if let Some(target) = &sink.problems {
        target.main_log.log(
            level,
            &format!(
                "'{}' {}: {message}",
                target.process_name,
                target.channel.as_str()
            ),
        );
    }
}

fn deliver(sink: &mut LogSink, data: &[u8], report: &mut PumpReport, framed: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    // The ready line is looked for in the output as the program wrote it.
    if sink.ready.as_mut().is_some_and(|watch| watch.feed(data)) {
        sink.ready = None;
    }
    if let Some(tap) = sink.listener.as_mut() {
        tap.feed(data);
    }
    match sink.framer.as_mut() {
        Some(framer) => {
            framed.clear();
            framer.push(data, Stamp::now(), framed);
            write_file(sink, framed, report);
        }
        None => write_file(sink, data, report),
    }
    copy_elsewhere(sink, data);
}

/// The state [`deliver_with_events`] works with, borrowed from the pump's loop.
struct Output<'a> {
    stripper: Option<&'a mut AnsiStripper>,
    stripped: &'a mut Vec<u8>,
    framed: &'a mut Vec<u8>,
    report: &'a mut PumpReport,
}

/// `strip_ansi` applied to one piece (supervisord strips after cutting at the markers).
fn strip<'d>(
    stripper: Option<&mut AnsiStripper>,
    stripped: &'d mut Vec<u8>,
    data: &'d [u8],
) -> &'d [u8] {
    match stripper {
        Some(stripper) => {
            stripped.clear();
            stripper.strip(data, stripped);
            stripped
        }
        None => data,
    }
}

/// One chunk of a program that feeds the event system: cut at the capture markers (with
/// `*_capture_maxbytes`), logged, and sent as events, in supervisord's order (log file,
/// main-log copy, PROCESS_LOG event; the PROCESS_COMMUNICATION event at the END marker).
fn deliver_with_events(
    sink: &mut LogSink,
    events: &mut OutputEvents,
    raw: &[u8],
    out: &mut Output,
) {
    let Some((scanner, _)) = events.capture.as_mut() else {
        let data = strip(out.stripper.as_deref_mut(), out.stripped, raw);
        deliver(sink, data, out.report, out.framed);
        events.log(data);
        return;
    };
    let mut pieces = Vec::new();
    scanner.feed(raw, &mut pieces);
    for piece in pieces {
        deliver_piece(sink, events, piece, out);
    }
}

/// End of file for a program that feeds the event system.
fn finish_with_events(sink: &mut LogSink, events: &mut OutputEvents, out: &mut Output) {
    let rest = events
        .capture
        .as_mut()
        .and_then(|(scanner, _)| std::mem::take(scanner).finish());
    if let Some(piece) = rest {
        deliver_piece(sink, events, piece, out);
    }
}

fn deliver_piece(sink: &mut LogSink, events: &mut OutputEvents, piece: Piece, out: &mut Output) {
    match piece {
        Piece::Output(data) => {
            let data = strip(out.stripper.as_deref_mut(), out.stripped, &data);
            deliver(sink, data, out.report, out.framed);
            events.log(data);
        }
        Piece::Captured(data) => {
            let data = strip(out.stripper.as_deref_mut(), out.stripped, &data);
            if let Some((_, buffer)) = events.capture.as_mut() {
                buffer.write(data);
            }
            copy_to_main_log(sink, data);
            events.log(data);
        }
        Piece::End => {
            let message = events
                .capture
                .as_mut()
                .map(|(_, buffer)| buffer.take())
                .unwrap_or_default();
            (events.send)(OutputEvent::Communication(message));
            if let Some(target) = &sink.problems {
                if target.main_log.enabled(LogLevel::Debug) {
                    target.main_log.log(
                        LogLevel::Debug,
                        &format!(
                            "'{}' {} emitted a comm event",
                            target.process_name,
                            target.channel.as_str()
                        ),
                    );
                }
            }
        }
    }
}

/// Writes to the log file, if any; a failure is counted and reported once per run of
/// failures.
fn write_file(sink: &LogSink, data: &[u8], report: &mut PumpReport) {
    if data.is_empty() {
        return;
    }
    if let Some(file) = &sink.file {
        match file.write(data) {
            Ok(_) if report.write_errors > 0 && report.first_write_error.is_some() => {
                // Writing works again: say so once, then report the next failure afresh.
                report.first_write_error = None;
                problem(
                    sink,
                    LogLevel::Warn,
                    &format!("writes to {} work again", file.path().display()),
                );
            }
            Ok(_) => {}
            Err(error) => {
                report.write_errors += 1;
                if report.first_write_error.is_none() {
                    problem(
                        sink,
                        LogLevel::Error,
                        &format!(
                            "cannot write {} (output is being lost until this is fixed): {error}",
                            file.path().display()
                        ),
                    );
                    report.first_write_error = Some(error);
                }
            }
        }
    }
}

/// The output as it came, to syslog and the main log's debug copy.
fn copy_elsewhere(sink: &LogSink, data: &[u8]) {
    if let Some(name) = &sink.syslog_name {
        let text = String::from_utf8_lossy(data);
        for line in text.trim_end_matches('\n').split('\n') {
            sys::syslog(sys::SyslogPriority::Info, &format!("{name} {line}"));
        }
    }
    copy_to_main_log(sink, data);
}

/// The main log's debug copy (`'<name>' <channel> output:`), captured text included.
fn copy_to_main_log(sink: &LogSink, data: &[u8]) {
    if let Some(copy) = &sink.main_log_copy {
        if copy.main_log.enabled(LogLevel::Debug) {
            let text = match std::str::from_utf8(data) {
                _ if copy.bytes_repr => python_bytes_repr(data),
                Ok(text) => text.to_owned(),
                Err(_) => format!("Undecodable: {}", python_bytes_repr(data)),
            };
            let message = format!(
                "'{}' {} output:\n{text}",
                copy.process_name,
                copy.channel.as_str()
            );
            copy.main_log.log(LogLevel::Debug, &message);
        }
    }
}

/// Python's `repr(bytes)`, which supervisord prints for undecodable output.
pub fn python_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &byte in data {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if char::from(byte) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote);
    out
}

/// supervisord's `stripEscapes`: drops `ESC[` and everything up to and including the
/// next byte in `HfABCDRsuJKhlpm`. Unlike supervisord, which strips each read on its own,
/// the state carries over between chunks, so a sequence split across two reads is still
/// removed.
#[derive(Debug, Default)]
struct AnsiStripper {
    in_sequence: bool,
    pending_escape: bool,
}

impl AnsiStripper {
    const ESCAPE: u8 = 0x1b;
    const TERMINATORS: &'static [u8] = b"HfABCDRsuJKhlpm";

    fn strip(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &byte in input {
            if self.in_sequence {
                if Self::TERMINATORS.contains(&byte) {
                    self.in_sequence = false;
                }
                continue;
            }
            if self.pending_escape {
                self.pending_escape = false;
                if byte == b'[' {
                    self.in_sequence = true;
                    continue;
                }
                out.push(Self::ESCAPE);
            }
            if byte == Self::ESCAPE {
                self.pending_escape = true;
                continue;
            }
            out.push(byte);
        }
    }

    /// Bytes held back at end of stream.
    fn finish(self) -> Option<Vec<u8>> {
        self.pending_escape.then(|| vec![Self::ESCAPE])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::hub::LogHub;
    use crate::logs::rotate::{backup_path, MODE_EXPLICIT};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    const DEADLINE: Duration = Duration::from_secs(30);

    fn strip_all(chunks: &[&[u8]]) -> Vec<u8> {
        let mut stripper = AnsiStripper::default();
        let mut out = Vec::new();
        for chunk in chunks {
            stripper.strip(chunk, &mut out);
        }
        out.extend(stripper.finish().unwrap_or_default());
        out
    }

    #[test]
    fn strips_ansi_sequences_even_across_chunks() {
        assert_eq!(strip_all(&[b"\x1b[31mred\x1b[0m plain"]), b"red plain");
        assert_eq!(strip_all(&[b"a\x1b[1;3", b"2mb"]), b"ab");
        assert_eq!(strip_all(&[b"a\x1b", b"[Kb"]), b"ab");
        assert_eq!(strip_all(&[b"a\x1b", b"xb"]), b"a\x1bxb");
        assert_eq!(strip_all(&[b"end\x1b"]), b"end\x1b");
        assert_eq!(strip_all(&[b"\x1b\x1b[2Jx"]), b"\x1bx");
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(python_bytes_repr(b"\x88\n"), r"b'\x88\n'");
        assert_eq!(python_bytes_repr(b"it's"), r#"b"it's""#);
        assert_eq!(python_bytes_repr(b"'\""), r#"b'\'"'"#);
    }

    /// Runs `script` with its stdout piped into a pump and returns the report.
    async fn pump_script(script: &str, sink: LogSink) -> PumpReport {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let stdout = child.stdout.take().expect("piped stdout");
        let pump = Pumps::new(tokio::runtime::Handle::current()).spawn(OwnedFd::from(stdout), sink);
        let report = tokio::time::timeout(DEADLINE, pump)
            .await
            .expect("pump did not reach EOF")
            .expect("join");
        assert!(child.wait().expect("wait").success());
        report
    }

    #[tokio::test]
    async fn every_byte_arrives_through_rotation_including_the_last_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("child.log");
        let hub = LogHub::new();
        let file = LogHandle::open(&path, 1_000_000, 5, MODE_EXPLICIT, hub).expect("open");
        let sink = LogSink {
            file: Some(file),
            ..LogSink::default()
        };
        let report = pump_script(
            "head -c 3000000 /dev/zero | tr '\\0' 'x'; printf last",
            sink,
        )
        .await;
        assert!(report.read_error.is_none() && report.first_write_error.is_none());
        assert_eq!(report.bytes_read, 3_000_004);
        let mut all = Vec::new();
        for index in (1..=5).rev() {
            if let Ok(bytes) = std::fs::read(backup_path(&path, index)) {
                assert!(bytes.len() >= 1_000_000);
                all.extend(bytes);
            }
        }
        assert!(backup_path(&path, 2).exists(), "rotated at least twice");
        all.extend(std::fs::read(&path).expect("live"));
        assert_eq!(all.len(), 3_000_004);
        assert!(all[..3_000_000].iter().all(|&byte| byte == b'x'));
        assert!(all.ends_with(b"last"));
    }

    /// Output events whose sends land in a channel.
    fn output_events(
        log: bool,
        capture: Option<u64>,
    ) -> (OutputEvents, std::sync::mpsc::Receiver<OutputEvent>) {
        let (send, sent) = std::sync::mpsc::channel();
        let events = OutputEvents {
            log: log.then(|| Arc::new(AtomicBool::new(true))),
            capture: capture.map(|max| (MarkerScanner::default(), CaptureBuffer::new(max))),
            send: Box::new(move |event| {
                let _ = send.send(event);
            }),
            drain: None,
        };
        (events, sent)
    }

    #[tokio::test]
    async fn capture_mode_keeps_the_message_out_of_the_file_and_sends_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("capture.log");
        let file = LogHandle::open(&path, 0, 0, MODE_EXPLICIT, LogHub::new()).expect("open");
        let (events, sent) = output_events(true, Some(1024));
        let sink = LogSink {
            file: Some(file),
            events: Some(events),
            ..LogSink::default()
        };
        pump_script(
            "printf 'before <!--XSUPERVISOR:BEGIN-->the '; sleep 0.1;              printf 'message<!--XSUPER'; sleep 0.1; printf 'VISOR:END--> after\n'",
            sink,
        )
        .await;
        assert_eq!(std::fs::read(&path).expect("read"), b"before  after\n");
        let sent: Vec<OutputEvent> = sent.try_iter().collect();
        let message = OutputEvent::Communication(b"the message".to_vec());
        assert!(sent.contains(&message), "{sent:?}");
        // PROCESS_LOG chunks, the captured ones included, are the output without markers.
        let logged: Vec<u8> = sent
            .iter()
            .filter_map(|event| match event {
                OutputEvent::Log(data) => Some(data.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(logged, b"before the message after\n");
    }

    #[tokio::test]
    async fn a_drain_request_is_answered_after_the_events_of_what_the_pipe_held() {
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        let (mut events, sent) = output_events(true, None);
        let (ask, asked) = tokio::sync::mpsc::unbounded_channel();
        events.drain = Some(asked);
        let sink = LogSink {
            events: Some(events),
            ..LogSink::default()
        };
        let pump = Pumps::new(tokio::runtime::Handle::current()).spawn(reader, sink);
        let mut writer = std::fs::File::from(writer);
        std::io::Write::write_all(&mut writer, b"last words\n").expect("write");
        ask.send(()).expect("the pump listens");
        // The write end stays open: the answer can only come from the drain, not from EOF.
        let all = tokio::time::timeout(DEADLINE, async {
            let mut all = Vec::new();
            while !all.contains(&OutputEvent::Drained) {
                all.extend(sent.try_iter());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            all
        })
        .await
        .expect("the drain answer");
        assert_eq!(
            all,
            [
                OutputEvent::Log(b"last words\n".to_vec()),
                OutputEvent::Drained
            ]
        );
        drop(writer);
        tokio::time::timeout(DEADLINE, pump)
            .await
            .expect("eof")
            .expect("join");
    }

    #[tokio::test]
    async fn none_sink_still_drains_the_pipe() {
        // 1 MiB is far more than a pipe holds: the child would block if we did not read.
        let report = pump_script("head -c 1048576 /dev/zero", LogSink::default()).await;
        assert_eq!(report.bytes_read, 1_048_576);
    }

    #[tokio::test]
    async fn strip_ansi_applies_to_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ansi.log");
        let file = LogHandle::open(&path, 0, 0, MODE_EXPLICIT, LogHub::new()).expect("open");
        let sink = LogSink {
            file: Some(file),
            strip_ansi: true,
            ..LogSink::default()
        };
        pump_script("printf '\\033[1;31mred\\033[0m done\\n'", sink).await;
        assert_eq!(std::fs::read(&path).expect("read"), b"red done\n");
    }

    #[tokio::test]
    async fn reopen_and_clear_while_running() {
        use crate::logs::follow::{follow, FollowStart, Follower};
        use std::io::Write;

        async fn expect(follower: &mut Follower, expected: &[u8]) {
            let mut seen = Vec::new();
            while seen.len() < expected.len() {
                let chunk = tokio::time::timeout(DEADLINE, follower.next_chunk())
                    .await
                    .expect("bytes arrived")
                    .expect("not closed")
                    .expect("read");
                seen.extend(chunk);
            }
            assert_eq!(seen, expected);
        }

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ctl.log");
        let moved = dir.path().join("ctl.log.moved");
        let hub = LogHub::new();
        let file = LogHandle::open(&path, 0, 0, MODE_EXPLICIT, hub.clone()).expect("open");
        let control = file.clone();
        let mut follower = follow(&hub, &path, FollowStart::Offset(0));
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        let mut writer = std::fs::File::from(writer);
        let sink = LogSink {
            file: Some(file),
            ..LogSink::default()
        };
        let pump = Pumps::new(tokio::runtime::Handle::current()).spawn(reader, sink);

        writer.write_all(b"one").expect("write");
        expect(&mut follower, b"one").await;
        std::fs::rename(&path, &moved).expect("move");
        control.reopen().expect("reopen");
        writer.write_all(b"two").expect("write");
        expect(&mut follower, b"two").await;
        control.clear().expect("clear");
        writer.write_all(b"three").expect("write");
        expect(&mut follower, b"three").await;
        drop(writer);

        let report = tokio::time::timeout(DEADLINE, pump)
            .await
            .expect("eof")
            .expect("join");
        assert_eq!(report.bytes_read, 11);
        assert_eq!(std::fs::read(&moved).expect("moved"), b"one");
        assert_eq!(std::fs::read(&path).expect("live"), b"three");
    }
}
