//! `Follower`: `tail -f` over a log file that keeps rotating.
//!
//! A follower holds the file it is reading open (identified by device and inode), so a
//! rotation that renames the file away cannot make it lose the end of the old file: it
//! reads the old file to its end, then continues at offset 0 of the new live file. It
//! sleeps on the [`LogHub`] between writes — there is no polling timer — and ends when the
//! hub closes the path (program group removed) or the whole hub (daemon stop), after
//! draining what was already written.
//!
//! Limits, shared with supervisord's 0.1 s poller: a follower that falls more than one
//! whole rotation behind skips the files in between (it only knows the file it holds and
//! the live one); bytes that were truncated away in place (`backups=0`) before being read
//! are gone; and if a writer truncates in place at the very moment the follower reads, a
//! few bytes may be delivered twice.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::hub::{LogHub, Subscription};

/// Largest chunk a follower returns at once; bigger backlogs come in several chunks.
const MAX_CHUNK: usize = 64 * 1024;

/// Where a follower starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowStart {
    /// The last `n` bytes present when following starts (supervisorctl uses 1024).
    TailBytes(u64),
    /// A byte offset into the live file, e.g. one returned by a previous tail. An offset
    /// past the end means the file was truncated or rotated since: reading starts at 0.
    Offset(u64),
}

/// Device and inode: what identifies "the same file" across renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

#[derive(Debug)]
struct Held {
    file: File,
    id: FileId,
    offset: u64,
}

/// Follows one log path; see the module docs. Create with [`follow`].
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    subscription: Subscription,
    held: Option<Held>,
    /// How to position in the first file we open; `Offset(0)` once anything was opened or
    /// if the file did not exist when following started (then all of it is new).
    start: FollowStart,
    seen_replacements: u64,
    closing: bool,
    done: bool,
}

/// Starts following `path`. The starting position is fixed now if the file exists; if it
/// does not exist yet, the follower waits for it and then reads it from the beginning.
pub fn follow(hub: &LogHub, path: &Path, start: FollowStart) -> Follower {
    // Subscribe before looking at the file, so no write can slip between the two.
    let subscription = hub.subscribe(path);
    let seen_replacements = subscription.borrow().replacements;
    let mut follower = Follower {
        path: path.to_path_buf(),
        subscription,
        held: None,
        start,
        seen_replacements,
        closing: false,
        done: false,
    };
    match follower.open_live() {
        Ok(Some(_)) => {}
        Ok(None) => follower.start = FollowStart::Offset(0),
        // Retried (and reported) by the first `next_chunk`.
        Err(_) => {}
    }
    follower
}

impl Follower {
    /// The followed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next bytes appended to the log, in order, at most 64 KiB at a time and never
    /// empty. Waits while there is nothing new. Returns `None` once the hub closed the path
    /// and everything written before that was delivered. An `Err` is not final: calling
    /// again retries.
    pub async fn next_chunk(&mut self) -> Option<io::Result<Vec<u8>>> {
        loop {
            if self.done {
                return None;
            }
            match self.read_available() {
                Ok(Some(chunk)) => return Some(Ok(chunk)),
                Ok(None) => {}
                Err(error) => return Some(Err(error)),
            }
            if self.closing {
                self.done = true;
                return None;
            }
            if self.subscription.changed().await.is_err() {
                // Closed: one more pass drains what was written before the close.
                self.closing = true;
            }
        }
    }

    /// Returns new bytes if there are any, without waiting.
    fn read_available(&mut self) -> io::Result<Option<Vec<u8>>> {
        // Mark the hub state as seen *before* reading, so a write racing with this read
        // wakes the next `changed()`.
        let replacements = self.subscription.borrow_and_update().replacements;
        let replaced = replacements != self.seen_replacements;
        self.seen_replacements = replacements;

        loop {
            let live = stat_id(&self.path)?;
            let Some(held) = self.held.as_mut() else {
                if live.is_none() {
                    return Ok(None);
                }
                if self.open_live()?.is_none() {
                    return Ok(None);
                }
                continue;
            };
            if Some(held.id) == live {
                let len = held.file.metadata()?.len();
                if (replaced && held.offset > 0) || len < held.offset {
                    // Same file, but truncated in place (backups=0, or external tools).
                    held.offset = 0;
                }
                return read_more(held);
            }
            // The path now names another file, or nothing: finish the one we hold first.
            if let Some(chunk) = read_more(held)? {
                return Ok(Some(chunk));
            }
            if live.is_none() {
                // Moved away and not recreated yet (logrotate before SIGUSR2): wait.
                return Ok(None);
            }
            self.held = None;
            self.start = FollowStart::Offset(0);
        }
    }

    /// Opens the live file and positions it according to `start`. `Ok(None)` if it does
    /// not exist or is not a regular file.
    fn open_live(&mut self) -> io::Result<Option<()>> {
        let file = match OpenOptions::new()
            .read(true)
            // Never block on a fifo that somebody configured as a log path.
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let metadata = file.metadata()?;
        if !metadata.file_type().is_file() {
            return Ok(None);
        }
        let len = metadata.len();
        let offset = match self.start {
            FollowStart::TailBytes(n) => len.saturating_sub(n),
            FollowStart::Offset(offset) if offset <= len => offset,
            FollowStart::Offset(_) => 0,
        };
        self.held = Some(Held {
            file,
            id: FileId {
                dev: metadata.dev(),
                ino: metadata.ino(),
            },
            offset,
        });
        self.start = FollowStart::Offset(0);
        Ok(Some(()))
    }
}

/// The identity of the regular file at `path`, or `None` if there is none.
fn stat_id(path: &Path) -> io::Result<Option<FileId>> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.file_type().is_file() => Ok(Some(FileId {
            dev: metadata.dev(),
            ino: metadata.ino(),
        })),
        Ok(_) => Ok(None),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Reads up to [`MAX_CHUNK`] bytes at the held offset; `None` at end of file.
fn read_more(held: &mut Held) -> io::Result<Option<Vec<u8>>> {
    // Sized from what the file holds now, so a wake-up with little or nothing new does not
    // allocate and zero a whole chunk; bytes appended after the fstat come with the next one.
    let available = held.file.metadata()?.len().saturating_sub(held.offset);
    if available == 0 {
        return Ok(None);
    }
    let mut buffer = vec![0; available.min(MAX_CHUNK as u64) as usize];
    let mut filled = 0;
    while filled < buffer.len() {
        match held
            .file
            .read_at(&mut buffer[filled..], held.offset + filled as u64)
        {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    if filled == 0 {
        return Ok(None);
    }
    buffer.truncate(filled);
    held.offset += filled as u64;
    Ok(Some(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::rotate::{RotatingFile, MODE_EXPLICIT};
    use std::time::Duration;

    const DEADLINE: Duration = Duration::from_secs(10);

    async fn next(follower: &mut Follower) -> Option<Vec<u8>> {
        tokio::time::timeout(DEADLINE, follower.next_chunk())
            .await
            .expect("follower stalled")
            .map(|chunk| chunk.expect("read"))
    }

    /// Collects chunks until `expected` bytes arrived.
    async fn collect(follower: &mut Follower, expected: usize) -> Vec<u8> {
        let mut seen = Vec::new();
        while seen.len() < expected {
            seen.extend(next(follower).await.expect("ended early"));
        }
        seen
    }

    fn write(file: &mut RotatingFile, hub: &LogHub, data: &[u8]) {
        let outcome = file.write_chunk(data).expect("write");
        if outcome.rotated {
            hub.rotated(file.path());
        } else {
            hub.written(file.path(), outcome.len);
        }
    }

    #[tokio::test]
    async fn starts_with_the_tail_then_sees_new_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.log");
        std::fs::write(&path, b"0123456789").expect("seed");
        let hub = LogHub::new();
        let mut follower = follow(&hub, &path, FollowStart::TailBytes(4));
        assert_eq!(next(&mut follower).await.expect("chunk"), b"6789");
        let mut file = RotatingFile::open(&path, 0, 0, MODE_EXPLICIT).expect("open");
        write(&mut file, &hub, b"abc");
        assert_eq!(next(&mut follower).await.expect("chunk"), b"abc");
    }

    #[tokio::test]
    async fn offset_start_and_offset_past_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("o.log");
        std::fs::write(&path, b"0123456789").expect("seed");
        let hub = LogHub::new();
        let mut follower = follow(&hub, &path, FollowStart::Offset(7));
        assert_eq!(next(&mut follower).await.expect("chunk"), b"789");
        let mut follower = follow(&hub, &path, FollowStart::Offset(100));
        assert_eq!(next(&mut follower).await.expect("chunk"), b"0123456789");
    }

    #[tokio::test]
    async fn sees_every_byte_across_rotations_in_order_and_ends_on_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.log");
        let hub = LogHub::new();
        // Created before the file exists: waits for it.
        let mut follower = follow(&hub, &path, FollowStart::TailBytes(1024));
        let reader = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(chunk) = next(&mut follower).await {
                seen.extend(chunk);
            }
            seen
        });
        let mut file = RotatingFile::open(&path, 1000, 3, MODE_EXPLICIT).expect("open");
        let mut written: Vec<u8> = Vec::new();
        for round in 0..60u8 {
            let data: Vec<u8> = (0..97)
                .map(|i| round.wrapping_mul(7).wrapping_add(i))
                .collect();
            write(&mut file, &hub, &data);
            written.extend(&data);
            // On this single-threaded runtime one yield lets the follower catch up fully;
            // it must keep up to within one rotation (see the module docs).
            tokio::task::yield_now().await;
        }
        hub.close(&path);
        let seen = tokio::time::timeout(DEADLINE, reader)
            .await
            .expect("follower did not end")
            .expect("join");
        assert_eq!(seen.len(), written.len());
        assert_eq!(seen, written);
    }

    #[tokio::test]
    async fn a_follower_holding_the_old_file_reads_its_end_after_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("h.log");
        let hub = LogHub::new();
        let mut file = RotatingFile::open(&path, 10, 1, MODE_EXPLICIT).expect("open");
        write(&mut file, &hub, b"start");
        let mut follower = follow(&hub, &path, FollowStart::TailBytes(0));
        // Not read yet: the end of the old file, then the new file, with no gap.
        write(&mut file, &hub, b"-old-end");
        write(&mut file, &hub, b"new");
        assert_eq!(collect(&mut follower, 11).await, b"-old-endnew");
    }

    #[tokio::test]
    async fn in_place_truncation_restarts_at_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("z.log");
        let hub = LogHub::new();
        let mut file = RotatingFile::open(&path, 100, 0, MODE_EXPLICIT).expect("open");
        let mut follower = follow(&hub, &path, FollowStart::TailBytes(0));
        write(&mut file, &hub, &[b'a'; 60]);
        assert_eq!(collect(&mut follower, 60).await, [b'a'; 60]);
        // Crosses maxbytes: truncated in place, these bytes are gone for good.
        write(&mut file, &hub, &[b'b'; 50]);
        // Longer than the follower's old offset: only the hub's replacement count tells
        // the follower that this is new content starting at 0.
        write(&mut file, &hub, &[b'c'; 70]);
        assert_eq!(collect(&mut follower, 70).await, [b'c'; 70]);
    }

    #[tokio::test]
    async fn close_all_ends_followers_of_missing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = LogHub::new();
        let mut follower = follow(&hub, &dir.path().join("never"), FollowStart::TailBytes(10));
        let waiting = tokio::spawn(async move { follower.next_chunk().await.is_none() });
        tokio::task::yield_now().await;
        hub.close_all();
        assert!(tokio::time::timeout(DEADLINE, waiting)
            .await
            .expect("ended")
            .expect("join"));
    }
}
