//! Zero-copy pumping: `splice(2)` from a child's output pipe straight into its log file.
//!
//! A pump normally reads a chunk into its buffer and writes it to the file: two copies and
//! two system calls per chunk. When nothing in the daemon needs to see the bytes, the
//! kernel can move them from the pipe to the file's page cache itself, one copy and one
//! call. [`target`] is the rule for when that is allowed; [`step`] is one splice.
//!
//! What stays the same: a splice moves at most one chunk (the pump's read size), and the
//! file rotates after it exactly as after a write of that chunk (`>= maxbytes`), so the
//! rotation points, the backups and the bytes in them are those of the read path. Bytes
//! are never lost: what a splice does not move stays in the pipe for the next one. Any
//! failure other than an empty pipe (a file system without splice support, a full disk)
//! sends the pump back to its read path for good, which reports write errors and keeps
//! draining the pipe as before.
//!
//! `splice(2)` refuses files opened with `O_APPEND`, so the file is opened a second time
//! for positional writes and each splice goes to the end of file as `fstat` reports it. An
//! `O_APPEND` writer appending during that splice would not be ordered with it, so a file
//! is spliced only while its [`LogHandle`] is the daemon's only writer of that path (two
//! programs, or stdout and stderr, logging to one file keep the read path), and the
//! registry of writers is held across the splice, so no second writer can open the path
//! in between. A process outside the daemon appending to a child's log file at the same
//! moment is not guarded against (supervisord's child logs are its own).

use std::collections::HashMap;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rsupervisor_config::model::LogLevel;
use tokio::net::unix::pipe;

use super::handle::LogHandle;
use super::pump::{LogSink, MainLogCopy};

/// The daemon's open log writers, counted per path.
static WRITERS: Mutex<Option<HashMap<PathBuf, usize>>> = Mutex::new(None);

fn writers() -> MutexGuard<'static, Option<HashMap<PathBuf, usize>>> {
    WRITERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One [`LogHandle`]'s place among the writers of its path, for as long as the handle (and
/// its clones) live.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
}

impl Writer {
    /// Counts a new writer of `path`.
    pub fn register(path: &Path) -> Self {
        *writers()
            .get_or_insert_with(HashMap::new)
            .entry(path.to_path_buf())
            .or_insert(0) += 1;
        Writer {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut writers = writers();
        if let Some(map) = writers.as_mut() {
            if let Some(count) = map.get_mut(&self.path) {
                *count -= 1;
                if *count == 0 {
                    map.remove(&self.path);
                }
            }
        }
    }
}

/// The file a pump may splice its next chunk into, or `None` when the bytes must pass
/// through the pump: something looks at them (syslog, ANSI stripping, a log format, the
/// main log's debug copy, a `ready_log` watch, an event listener's protocol, PROCESS_LOG or
/// capture events), or there is
/// no file.
///
/// Every field of [`LogSink`] is named here on purpose: a new use of the output added to
/// the sink does not compile until it says whether it needs the bytes.
pub(super) fn target(sink: &LogSink) -> Option<&LogHandle> {
    let LogSink {
        file,
        syslog_name,
        strip_ansi,
        framer,
        main_log_copy,
        problems: _, // failures only, never the output
        ready,
        listener,
        events,
    } = sink;
    let copied_to_main_log = main_log_copy
        .as_ref()
        .is_some_and(|MainLogCopy { main_log, .. }| main_log.enabled(LogLevel::Debug));
    if syslog_name.is_some()
        || *strip_ansi
        || framer.is_some()
        || copied_to_main_log
        || ready.is_some()
        || listener.is_some()
        || events.is_some()
    {
        return None;
    }
    file.as_ref()
}

/// What one splice did.
#[derive(Debug)]
pub(super) enum Step {
    /// This many bytes went from the pipe to the file.
    Moved(usize),
    /// The pipe was empty: wait for it again.
    Empty,
    /// End of file: no writer is left and the pipe is empty.
    Eof,
    /// Splicing is not possible here (another writer of the file, a special file, a file
    /// system without splice, an error): use the read path from now on.
    Refused,
}

/// Moves up to `max` bytes from `pipe` into `file`.
pub(super) fn step(pipe: &pipe::Receiver, file: &LogHandle, max: usize) -> Step {
    let writers = writers();
    let sole = writers
        .as_ref()
        .and_then(|map| map.get(file.path()))
        .is_some_and(|&count| count == 1);
    if !sole {
        return Step::Refused;
    }
    // `try_io` clears the pipe's readiness on `WouldBlock`, so the pump waits again.
    let result = pipe.try_io(|| file.splice_from(pipe.as_fd(), max));
    drop(writers);
    match result {
        Ok(0) => Step::Eof,
        Ok(moved) => Step::Moved(moved),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Step::Empty
        }
        Err(_) => Step::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::hub::LogHub;
    use crate::logs::rotate::{backup_path, RotatingFile, MODE_EXPLICIT};
    use std::io::Write;

    /// Runs `body` on a current-thread runtime with a fresh pipe: its write end as a file,
    /// its read end as the pump's receiver.
    fn with_pipe<F, Fut>(body: F)
    where
        F: FnOnce(std::fs::File, pipe::Receiver) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (reader, writer) = nix::unistd::pipe().expect("pipe");
            let receiver = pipe::Receiver::from_owned_fd(reader).expect("receiver");
            body(std::fs::File::from(writer), receiver).await;
        });
    }

    /// Every file of a rotated log, oldest first, with its bytes.
    fn files(path: &Path, backups: u32) -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = (1..=backups)
            .rev()
            .filter_map(|index| std::fs::read(backup_path(path, index)).ok())
            .collect();
        all.push(std::fs::read(path).expect("live file"));
        all
    }

    #[test]
    fn rotates_at_the_same_bytes_as_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = dir.path().join("written.log");
        let spliced = dir.path().join("spliced.log");
        let mut by_write = RotatingFile::open(&written, 100_000, 3, MODE_EXPLICIT).expect("open");
        let mut by_splice = RotatingFile::open(&spliced, 100_000, 3, MODE_EXPLICIT).expect("open");
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        let mut writer = std::fs::File::from(writer);
        for round in 0..40u32 {
            let size = 1_000 + (round as usize * 7_919) % 30_000;
            let chunk: Vec<u8> = (0..size)
                .map(|i| b'a' + ((i + round as usize) % 26) as u8)
                .collect();
            by_write.write_chunk(&chunk).expect("write");
            writer.write_all(&chunk).expect("fill the pipe");
            let (moved, _) = by_splice
                .splice_from(reader.as_fd(), 64 * 1024)
                .expect("splice");
            assert_eq!(moved, size, "the whole chunk in one splice");
        }
        assert_eq!(files(&written, 3), files(&spliced, 3));
        assert!(
            backup_path(&spliced, 3).exists(),
            "rotated through every backup"
        );
    }

    #[test]
    fn a_second_writer_of_the_path_keeps_the_read_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.log");
        let hub = LogHub::new();
        let file = path.clone();
        with_pipe(|mut writer, receiver| async move {
            let path = file;
            let first = LogHandle::open(&path, 0, 0, MODE_EXPLICIT, hub.clone()).expect("open");
            writer.write_all(b"alone").expect("write");
            receiver.readable().await.expect("readable");
            assert!(matches!(step(&receiver, &first, 64), Step::Moved(5)));
            let second = LogHandle::open(&path, 0, 0, MODE_EXPLICIT, hub.clone()).expect("open");
            writer.write_all(b"shared").expect("write");
            receiver.readable().await.expect("readable");
            assert!(matches!(step(&receiver, &first, 64), Step::Refused));
            drop(second);
            receiver.readable().await.expect("readable");
            assert!(matches!(step(&receiver, &first, 64), Step::Moved(6)));
            assert!(matches!(step(&receiver, &first, 64), Step::Empty));
            drop(writer);
            receiver.readable().await.expect("readable");
            assert!(matches!(step(&receiver, &first, 64), Step::Eof));
        });
        assert_eq!(std::fs::read(&path).expect("read"), b"aloneshared");
    }

    #[test]
    fn special_files_are_refused() {
        with_pipe(|mut writer, receiver| async move {
            let null = LogHandle::open(Path::new("/dev/null"), 0, 0, MODE_EXPLICIT, LogHub::new())
                .expect("open /dev/null");
            writer.write_all(b"x").expect("write");
            receiver.readable().await.expect("readable");
            assert!(matches!(step(&receiver, &null, 64), Step::Refused));
        });
    }
}
