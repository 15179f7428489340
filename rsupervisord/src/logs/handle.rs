//! `LogHandle`: one rotating log file shared by its writer and its controller.
//!
//! The writer (a pump task, or the main log) calls [`LogHandle::write`]; the supervisor
//! keeps a clone to [`LogHandle::reopen`] (SIGUSR2) or [`LogHandle::clear`]
//! (`clearProcessLogs`) while the writer runs. Every change is reported to the
//! [`LogHub`] so followers wake up. This is the only place that pairs file changes with
//! hub notifications, so they cannot drift apart.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::hub::LogHub;
use super::rotate::{RotatingFile, WriteOutcome};

/// A [`RotatingFile`] behind a shared lock, plus the hub to notify. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LogHandle {
    // A std Mutex: every critical section is one short page-cache write or a rename and
    // open, never an `.await`, and writers are synchronous (the main log is called from
    // anywhere). Contention is one writer plus a rare reopen/clear.
    file: Arc<Mutex<RotatingFile>>,
    path: PathBuf,
    hub: LogHub,
    /// Counts this handle among the daemon's writers of `path` (for [`super::splice`]).
    _writer: Arc<super::splice::Writer>,
}

impl LogHandle {
    /// Wraps an open file; its path becomes the hub key.
    pub fn new(file: RotatingFile, hub: LogHub) -> Self {
        let path = file.path().to_path_buf();
        LogHandle {
            file: Arc::new(Mutex::new(file)),
            _writer: Arc::new(super::splice::Writer::register(&path)),
            path,
            hub,
        }
    }

    /// Opens `path` as a [`RotatingFile`] (see [`RotatingFile::open`]) and wraps it.
    pub fn open(
        path: &Path,
        maxbytes: u64,
        backups: u32,
        mode: u32,
        hub: LogHub,
    ) -> io::Result<Self> {
        Ok(Self::new(
            RotatingFile::open(path, maxbytes, backups, mode)?,
            hub,
        ))
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, RotatingFile> {
        // A panic mid-write leaves at worst a partially written chunk, which is what a
        // write error would leave too; keep logging rather than poisoning every writer.
        self.file.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes a whole chunk (rotating if needed) and wakes followers.
    pub fn write(&self, chunk: &[u8]) -> io::Result<WriteOutcome> {
        self.write_with(chunk, RotatingFile::write_chunk)
    }

    /// Writes a whole chunk as [`write`](Self::write) does, and returns once it is on the
    /// disk (fsync, before any rotation): the audit log's records must survive a crash.
    pub fn write_durably(&self, chunk: &[u8]) -> io::Result<WriteOutcome> {
        self.write_with(chunk, RotatingFile::write_chunk_durably)
    }

    fn write_with(
        &self,
        chunk: &[u8],
        write: impl FnOnce(&mut RotatingFile, &[u8]) -> io::Result<WriteOutcome>,
    ) -> io::Result<WriteOutcome> {
        let mut file = self.lock();
        let outcome = write(&mut file, chunk);
        match &outcome {
            Ok(WriteOutcome { rotated: true, .. }) => self.hub.rotated(&self.path),
            Ok(WriteOutcome { len, .. }) => self.hub.written(&self.path, *len),
            // Part of the chunk may have reached the file; let followers look.
            Err(_) => self.hub.written(&self.path, file.len()),
        }
        outcome
    }

    /// Moves up to `max` bytes from `pipe` into the file with `splice(2)` (see
    /// [`RotatingFile::splice_from`]) and wakes followers. Only for [`super::splice`],
    /// which holds the writers' registry while it runs, so no other writer of this path can
    /// appear during the splice.
    pub(super) fn splice_from(
        &self,
        pipe: std::os::fd::BorrowedFd<'_>,
        max: usize,
    ) -> io::Result<usize> {
        let mut file = self.lock();
        let result = file.splice_from(pipe, max);
        match &result {
            Ok((0, _)) => {}
            Ok((_, WriteOutcome { rotated: true, .. })) => self.hub.rotated(&self.path),
            Ok((_, WriteOutcome { len, .. })) => self.hub.written(&self.path, *len),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            // The bytes may be in the file (a failed rotation); let followers look.
            Err(_) => self.hub.written(&self.path, file.len()),
        }
        result.map(|(moved, _)| moved)
    }

    /// Reopens the file at the same path (SIGUSR2 / logrotate "create").
    pub fn reopen(&self) -> io::Result<()> {
        let mut file = self.lock();
        if file.reopen()? {
            self.hub.rotated(&self.path);
        }
        Ok(())
    }

    /// Removes and recreates the live file (`clearProcessLogs`, `clearLog`).
    pub fn clear(&self) -> io::Result<()> {
        let mut file = self.lock();
        let result = file.clear();
        self.hub.rotated(&self.path);
        result
    }
}
