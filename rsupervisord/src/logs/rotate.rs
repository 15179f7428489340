//! `RotatingFile`: an append-only log file with supervisord's size-based rotation.
//!
//! Owns one open file and the rules that replace it:
//! - every chunk is written whole (never split across files), so a file may exceed
//!   `maxbytes` by up to one chunk, exactly as supervisord's `RotatingFileHandler`;
//! - after each write, if the file position is `>= maxbytes` (and `maxbytes > 0`), the file
//!   rotates: the oldest backup `x.log.N` is removed, `x.log.N-1`→`x.log.N` …
//!   `x.log`→`x.log.1`, then a fresh `x.log` is created; with `backups == 0` the
//!   file is truncated in place instead;
//! - special files that cannot be rotated (`/dev/stdout`, fifos, ttys) are written
//!   without rotation (supervisord fails with "Invalid seek" there; we simply never rotate).
//!
//! Invariant: no byte handed to [`RotatingFile::write_chunk`] is lost or duplicated by a
//! rotation, because the chunk is fully written before any rename happens and renames
//! never copy data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// File mode for explicitly configured log paths (before the umask).
pub const MODE_EXPLICIT: u32 = 0o644;
/// File mode for AUTO child logs, which may hold secrets and live in a shared temp dir.
pub const MODE_AUTO: u32 = 0o600;

/// What a single [`RotatingFile::write_chunk`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Length of the live file after the write (and after the rotation, if one happened:
    /// then it is 0). For non-rotatable special files this stays 0.
    pub len: u64,
    /// Whether the live file was replaced (renamed away or truncated) after the write.
    pub rotated: bool,
}

/// An append-mode log file that rotates itself by size. See the module docs.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    maxbytes: u64,
    backups: u32,
    mode: u32,
    /// `false` for special files (character devices, fifos, sockets): no size, no rotation.
    rotatable: bool,
    /// Current length of the live file, as observed after the last write or open.
    len: u64,
    /// A second open of the live file without `O_APPEND`, for `splice(2)` (which refuses
    /// append-mode files); opened on the first splice, dropped when the live file changes.
    splice_target: Option<File>,
}

impl RotatingFile {
    /// Opens (creating if needed, with `mode` before the umask) `path` for appending.
    ///
    /// `maxbytes == 0` disables rotation; `backups == 0` means rotation truncates in place.
    pub fn open(path: &Path, maxbytes: u64, backups: u32, mode: u32) -> io::Result<Self> {
        let file = open_append(path, mode, false)?;
        let metadata = file.metadata()?;
        let rotatable = metadata.file_type().is_file();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            maxbytes,
            backups,
            mode,
            rotatable,
            len: if rotatable { metadata.len() } else { 0 },
            splice_target: None,
        })
    }

    /// The path of the live file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Length of the live file as last observed (0 for special files).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the live file is empty as last observed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this is a regular file that rotation applies to.
    pub fn is_rotatable(&self) -> bool {
        self.rotatable
    }

    /// Writes the whole chunk to the live file, then rotates if it reached `maxbytes`.
    ///
    /// On a write error nothing is rotated and the error is returned; bytes the kernel
    /// accepted before the error stay in the file.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> io::Result<WriteOutcome> {
        self.write_and_rotate(chunk, false)
    }

    /// As [`write_chunk`](Self::write_chunk), and the chunk is on the disk (fsync) before
    /// the file may be rotated away and before this returns (the audit log).
    pub fn write_chunk_durably(&mut self, chunk: &[u8]) -> io::Result<WriteOutcome> {
        self.write_and_rotate(chunk, true)
    }

    fn write_and_rotate(&mut self, chunk: &[u8], durably: bool) -> io::Result<WriteOutcome> {
        if chunk.is_empty() {
            return Ok(WriteOutcome {
                len: self.len,
                rotated: false,
            });
        }
        self.file.write_all(chunk)?;
        if durably {
            self.file.sync_data()?;
        }
        if !self.rotatable {
            return Ok(WriteOutcome {
                len: 0,
                rotated: false,
            });
        }
        // With O_APPEND the position after a write is the real end of file, which also
        // accounts for anything another writer appended (supervisord uses `tell()` too).
        self.len = match self.file.stream_position() {
            Ok(position) => position,
            Err(_) => self.len + chunk.len() as u64,
        };
        let rotated = self.maxbytes > 0 && self.len >= self.maxbytes;
        if rotated {
            self.rotate()?;
        }
        Ok(WriteOutcome {
            len: self.len,
            rotated,
        })
    }

    /// Rotates now, regardless of size (used after a write crossed `maxbytes`).
    fn rotate(&mut self) -> io::Result<()> {
        if self.backups == 0 {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
            self.len = 0;
            return Ok(());
        }
        // The oldest backup goes first, so no rename below replaces an existing file: a
        // rename over a file makes ext4 write the renamed file out at once (`auto_da_alloc`),
        // in the daemon's time, where the kernel would otherwise write it back on its own.
        ignore_not_found(fs::remove_file(backup_path(&self.path, self.backups)))?;
        for index in (1..self.backups).rev() {
            let from = backup_path(&self.path, index);
            let to = backup_path(&self.path, index + 1);
            ignore_not_found(fs::rename(&from, &to))?;
        }
        ignore_not_found(fs::rename(&self.path, backup_path(&self.path, 1)))?;
        self.splice_target = None;
        self.file = open_append(&self.path, self.mode, true)?;
        self.len = 0;
        Ok(())
    }

    /// Moves up to `max` bytes from the pipe `pipe` to the end of the live file with
    /// `splice(2)` (no copy through user space), then rotates exactly as
    /// [`write_chunk`](Self::write_chunk) does after a chunk of that size. Returns the bytes
    /// moved (0: end of file, no writer left) and the outcome; `WouldBlock` when the pipe is
    /// empty. `Unsupported` for special files, which are never spliced.
    ///
    /// The end of file is asked for before every splice (`fstat`), so the bytes land where
    /// an `O_APPEND` write would put them, also after the file was truncated behind our back.
    /// Appends by another writer *during* the splice are not ordered with it: the caller
    /// makes sure the daemon has no other writer of this file ([`super::splice`]).
    pub fn splice_from(
        &mut self,
        pipe: std::os::fd::BorrowedFd<'_>,
        max: usize,
    ) -> io::Result<(usize, WriteOutcome)> {
        if !self.rotatable {
            return Err(io::ErrorKind::Unsupported.into());
        }
        if self.splice_target.is_none() {
            self.splice_target = Some(reopen_positional(&self.file)?);
        }
        let Some(target) = self.splice_target.as_ref() else {
            return Err(io::ErrorKind::Unsupported.into());
        };
        let end = target.metadata()?.len();
        let mut offset = libc::loff_t::try_from(end).map_err(|_| io::ErrorKind::InvalidData)?;
        let moved = nix::fcntl::splice(
            pipe,
            None,
            target,
            Some(&mut offset),
            max,
            nix::fcntl::SpliceFFlags::SPLICE_F_NONBLOCK | nix::fcntl::SpliceFFlags::SPLICE_F_MOVE,
        )?;
        if moved == 0 {
            return Ok((
                0,
                WriteOutcome {
                    len: self.len,
                    rotated: false,
                },
            ));
        }
        self.len = u64::try_from(offset).unwrap_or(end + moved as u64);
        let rotated = self.maxbytes > 0 && self.len >= self.maxbytes;
        if rotated {
            self.rotate()?;
        }
        Ok((
            moved,
            WriteOutcome {
                len: self.len,
                rotated,
            },
        ))
    }

    /// Reopens the same path, creating it if it was moved away (SIGUSR2, external
    /// logrotate in "create" mode). Appends to the file if it still exists. Returns whether
    /// the path now names a different file than the one written so far.
    pub fn reopen(&mut self) -> io::Result<bool> {
        let before = self.file.metadata().map(|metadata| file_id(&metadata)).ok();
        let file = open_append(&self.path, self.mode, false)?;
        let metadata = file.metadata()?;
        self.rotatable = metadata.file_type().is_file();
        self.len = if self.rotatable { metadata.len() } else { 0 };
        self.file = file;
        self.splice_target = None;
        Ok(before != Some(file_id(&metadata)))
    }

    /// Empties the log as `clearProcessLogs`/`clearLog` do: removes the live file and
    /// recreates it empty. Backups are left alone, as in supervisord. Special files are
    /// only reopened.
    pub fn clear(&mut self) -> io::Result<()> {
        if self.rotatable {
            ignore_not_found(fs::remove_file(&self.path))?;
        }
        self.reopen().map(|_| ())
    }
}

/// The name of backup number `index` of `path`: `x.log` → `x.log.<index>`.
pub fn backup_path(path: &Path, index: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

fn file_id(metadata: &fs::Metadata) -> (u64, u64) {
    (metadata.dev(), metadata.ino())
}

fn open_append(path: &Path, mode: u32, truncate: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .append(true)
        .create(true)
        .mode(mode)
        // Opening a fifo for writing must not block the runtime when nobody reads it.
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    if truncate {
        // `append` + `truncate` is rejected by std; truncate through set_len instead.
        let file = options.open(path)?;
        // Only if something is there: after a rotation the path is new and empty, and
        // truncating it anyway makes ext4 flush the whole file when it is closed at the next
        // rotation (its `auto_da_alloc` rule for truncated files), in the daemon's time:
        // 12% of the daemon's CPU in the 1 GiB log benchmark.
        if file.metadata()?.len() > 0 {
            file.set_len(0)?;
        }
        return clear_nonblocking(file);
    }
    clear_nonblocking(options.open(path)?)
}

/// Regular-file writes ignore O_NONBLOCK, but for a fifo or tty we want ordinary blocking
/// writes once the open succeeded, so writes are never short or `EAGAIN`.
fn clear_nonblocking(file: File) -> io::Result<File> {
    let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL)?;
    let mut flags = nix::fcntl::OFlag::from_bits_truncate(flags);
    flags.remove(nix::fcntl::OFlag::O_NONBLOCK);
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    Ok(file)
}

/// The same file as `file`, opened again for positional writes (no `O_APPEND`).
fn reopen_positional(file: &File) -> io::Result<File> {
    use std::os::fd::AsRawFd;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

fn ignore_not_found(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    /// Oldest backup first, live file last.
    fn concatenated(path: &Path, backups: u32) -> Vec<u8> {
        let mut all = Vec::new();
        for index in (1..=backups).rev() {
            if let Ok(bytes) = fs::read(backup_path(path, index)) {
                all.extend(bytes);
            }
        }
        all.extend(fs::read(path).unwrap_or_default());
        all
    }

    fn chunk(seed: usize, len: usize) -> Vec<u8> {
        (0..len).map(|i| ((seed * 31 + i) % 251) as u8).collect()
    }

    #[test]
    fn keeps_exactly_backups_files_and_never_loses_bytes_within_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.log");
        let mut file = RotatingFile::open(&path, 1000, 3, MODE_EXPLICIT).expect("open");
        let mut written = Vec::new();
        let mut rotations = 0;
        for seed in 0..40 {
            let data = chunk(seed, 150 + seed * 7);
            let outcome = file.write_chunk(&data).expect("write");
            written.extend(&data);
            if outcome.rotated {
                rotations += 1;
                assert_eq!(outcome.len, 0);
            }
        }
        assert!(rotations > 3, "test must rotate more often than backups");
        assert_eq!(
            names(dir.path()),
            ["x.log", "x.log.1", "x.log.2", "x.log.3"]
        );
        // The retained files are exactly the tail of everything written.
        let kept = concatenated(&path, 3);
        assert!(written.ends_with(&kept));
        // Every backup is at least maxbytes (rotation happens after a whole chunk).
        for index in 1..=3 {
            let len = fs::metadata(backup_path(&path, index))
                .expect("backup")
                .len();
            assert!(len >= 1000, "backup {index} has {len} bytes");
        }
    }

    #[test]
    fn concatenation_equals_everything_when_nothing_fell_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("y.log");
        let mut file = RotatingFile::open(&path, 500, 100, MODE_EXPLICIT).expect("open");
        let mut written: Vec<u8> = Vec::new();
        for seed in 0..30 {
            let data = chunk(seed, 64 + seed * 13);
            file.write_chunk(&data).expect("write");
            written.extend(&data);
        }
        assert_eq!(concatenated(&path, 100), written);
    }

    #[test]
    fn durable_writes_rotate_as_plain_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.log");
        let mut file = RotatingFile::open(&path, 500, 100, MODE_EXPLICIT).expect("open");
        let mut written: Vec<u8> = Vec::new();
        let mut rotated = false;
        for seed in 0..30 {
            let data = chunk(seed, 64 + seed * 13);
            rotated |= file.write_chunk_durably(&data).expect("write").rotated;
            written.extend(&data);
        }
        assert!(rotated);
        assert_eq!(concatenated(&path, 100), written);
    }

    #[test]
    fn backups_zero_truncates_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("z.log");
        let mut file = RotatingFile::open(&path, 100, 0, MODE_EXPLICIT).expect("open");
        let outcome = file.write_chunk(&[b'a'; 120]).expect("write");
        assert_eq!(
            outcome,
            WriteOutcome {
                len: 0,
                rotated: true
            }
        );
        file.write_chunk(b"tail").expect("write");
        assert_eq!(names(dir.path()), ["z.log"]);
        assert_eq!(fs::read(&path).expect("read"), b"tail");
    }

    #[test]
    fn maxbytes_zero_never_rotates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("n.log");
        let mut file = RotatingFile::open(&path, 0, 5, MODE_EXPLICIT).expect("open");
        for _ in 0..50 {
            let outcome = file.write_chunk(&[b'q'; 1000]).expect("write");
            assert!(!outcome.rotated);
        }
        assert_eq!(names(dir.path()), ["n.log"]);
        assert_eq!(file.len(), 50_000);
    }

    #[test]
    fn appends_to_an_existing_file_and_counts_its_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        fs::write(&path, [b'o'; 90]).expect("seed");
        let mut file = RotatingFile::open(&path, 100, 1, MODE_EXPLICIT).expect("open");
        assert_eq!(file.len(), 90);
        assert!(file.write_chunk(b"0123456789").expect("write").rotated);
        assert_eq!(fs::read(backup_path(&path, 1)).expect("backup").len(), 100);
    }

    #[test]
    fn reopen_recreates_a_moved_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.log");
        let moved = dir.path().join("r.log.moved");
        let mut file = RotatingFile::open(&path, 0, 0, MODE_EXPLICIT).expect("open");
        file.write_chunk(b"before").expect("write");
        fs::rename(&path, &moved).expect("move");
        file.write_chunk(b" still-old").expect("write");
        assert!(file.reopen().expect("reopen"), "a new file was created");
        assert!(!file.reopen().expect("reopen"), "same file again");
        file.write_chunk(b"after").expect("write");
        assert_eq!(fs::read(&moved).expect("moved"), b"before still-old");
        assert_eq!(fs::read(&path).expect("new"), b"after");
    }

    #[test]
    fn clear_empties_the_live_file_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        let mut file = RotatingFile::open(&path, 10, 2, MODE_AUTO).expect("open");
        file.write_chunk(&[b'x'; 12]).expect("write");
        file.write_chunk(b"abc").expect("write");
        file.clear().expect("clear");
        assert!(file.is_empty());
        assert_eq!(fs::read(&path).expect("live"), b"");
        assert!(backup_path(&path, 1).exists());
        file.write_chunk(b"new").expect("write");
        assert_eq!(fs::read(&path).expect("live"), b"new");
    }

    #[test]
    fn modes_are_applied_on_create_and_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.log");
        let mut file = RotatingFile::open(&path, 4, 1, MODE_AUTO).expect("open");
        file.write_chunk(b"12345").expect("write");
        for candidate in [&path, &backup_path(&path, 1)] {
            let mode = fs::metadata(candidate).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", candidate.display());
        }
    }

    #[test]
    fn special_files_are_written_without_rotation() {
        let mut file = RotatingFile::open(Path::new("/dev/null"), 1, 3, MODE_EXPLICIT)
            .expect("open /dev/null");
        assert!(!file.is_rotatable());
        let outcome = file.write_chunk(b"discarded").expect("write");
        assert_eq!(
            outcome,
            WriteOutcome {
                len: 0,
                rotated: false
            }
        );
    }
}
