//! Reading log files for the RPC layer, with supervisord's exact argument semantics.
//!
//! - [`read_range`] is `readFile` behind `readLog`/`readProcessStdoutLog`/`readProcessStderrLog`;
//! - [`tail`] is `tailFile` behind `tailProcessStdoutLog`/`tailProcessStderrLog`, including
//!   its quirks (for example, a non-overflowing tail re-reads up to `length` bytes ending at
//!   the end of the file, even before the requested offset).
//!
//! Both are blocking but short (a seek and one read); offsets and lengths are `i64`
//! because the XML-RPC arguments are signed ints.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why [`read_range`] failed; maps one-to-one onto supervisord faults.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The log file does not exist (fault `NO_FILE`).
    #[error("no log file at {0}")]
    NoFile(std::path::PathBuf),
    /// Negative length, or negative offset with a non-zero length (fault `BAD_ARGUMENTS`).
    #[error("bad arguments: offset {offset}, length {length}")]
    BadArguments {
        /// The offset given.
        offset: i64,
        /// The length given.
        length: i64,
    },
    /// Opening or reading failed (fault `FAILED`).
    #[error("reading {path}: {source}")]
    Failed {
        /// The file being read.
        path: std::path::PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Reads part of a log file (`readFile`):
///
/// | offset | length | result |
/// |---|---|---|
/// | ≥ 0 | 0 | from `offset` to end of file |
/// | ≥ 0 | > 0 | up to `length` bytes from `offset` |
/// | < 0 | 0 | the last `|offset|` bytes |
/// | < 0 | ≠ 0 | `BadArguments` |
/// | any | < 0 | `BadArguments` |
///
/// A missing file is `NoFile` (checked first, as supervisord does); other I/O errors are
/// `Failed`. Reading past the end gives an empty result.
pub fn read_range(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    let failed = |source: io::Error| ReadError::Failed {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match open_regular(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(ReadError::NoFile(path.to_path_buf()))
        }
        Err(error) => return Err(failed(error)),
    };
    let bad = || ReadError::BadArguments { offset, length };
    let (start, limit) = if offset < 0 {
        if length != 0 {
            return Err(bad());
        }
        let size = file.seek(SeekFrom::End(0)).map_err(failed)?;
        let wanted = offset.unsigned_abs();
        (size.saturating_sub(wanted), Some(wanted))
    } else {
        if length < 0 {
            return Err(bad());
        }
        let limit = (length > 0).then_some(length.unsigned_abs());
        (offset.unsigned_abs(), limit)
    };
    read_from(&mut file, start, limit).map_err(failed)
}

/// The result of [`tail`] (`tailProcessStdoutLog`'s `[bytes, offset, overflow]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TailSlice {
    /// The bytes read.
    pub bytes: Vec<u8>,
    /// The file size, to pass as the next call's offset (or the given offset if reading
    /// failed after the file was found, and 0 if the file does not exist).
    pub offset: i64,
    /// Whether more than `length` bytes were available after `offset`, so some were skipped.
    pub overflow: bool,
}

/// Tails a log file (`tailFile`): if the file is larger than `offset + length`, returns
/// the last `length` bytes with `overflow` set; otherwise the bytes up to the end. A
/// missing file gives an empty slice at offset 0 and never an error.
pub fn tail(path: &Path, offset: i64, length: i64) -> TailSlice {
    let mut file = match open_regular(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return TailSlice::default(),
        Err(_) => return failed_tail(offset),
    };
    let Ok(size) = file.seek(SeekFrom::End(0)) else {
        return failed_tail(offset);
    };
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    // A line-for-line transcription of supervisor.options.tailFile.
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if size > offset.saturating_add(length) {
        overflow = true;
        offset = size - 1;
    }
    if offset.saturating_add(length) > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size - length;
    }
    offset = offset.max(0);
    length = length.max(0);
    let bytes = if length == 0 {
        Vec::new()
    } else {
        match read_from(
            &mut file,
            offset.unsigned_abs(),
            Some(length.unsigned_abs()),
        ) {
            Ok(bytes) => bytes,
            Err(_) => return failed_tail(offset),
        }
    };
    TailSlice {
        bytes,
        offset: size,
        overflow,
    }
}

fn failed_tail(offset: i64) -> TailSlice {
    TailSlice {
        bytes: Vec::new(),
        offset,
        overflow: false,
    }
}

/// Opens for reading without ever blocking on a fifo configured as a log path.
fn open_regular(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

fn read_from(file: &mut File, start: u64, limit: Option<u64>) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    match limit {
        Some(limit) => file.take(limit).read_to_end(&mut bytes)?,
        None => file.read_to_end(&mut bytes)?,
    };
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        std::fs::write(&path, b"0123456789").expect("seed");
        (dir, path)
    }

    #[test]
    fn read_range_table() {
        let (_dir, path) = fixture();
        let cases: &[(i64, i64, &[u8])] = &[
            (0, 0, b"0123456789"),
            (3, 0, b"3456789"),
            (3, 4, b"3456"),
            (8, 100, b"89"),
            (10, 0, b""),
            (50, 5, b""),
            (-3, 0, b"789"),
            (-100, 0, b"0123456789"),
        ];
        for &(offset, length, expected) in cases {
            let bytes = read_range(&path, offset, length).expect("ok");
            assert_eq!(bytes, expected, "offset {offset} length {length}");
        }
        for (offset, length) in [(-1, 1), (-1, -1), (0, -1), (5, -2)] {
            assert!(
                matches!(
                    read_range(&path, offset, length),
                    Err(ReadError::BadArguments { .. })
                ),
                "offset {offset} length {length}"
            );
        }
    }

    #[test]
    fn read_range_missing_file_comes_before_bad_arguments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing");
        assert!(matches!(
            read_range(&missing, 0, 0),
            Err(ReadError::NoFile(_))
        ));
        assert!(matches!(
            read_range(&missing, -1, 5),
            Err(ReadError::NoFile(_))
        ));
    }

    #[test]
    fn read_range_other_errors_are_failed() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Reading a directory fails after opening it.
        assert!(matches!(
            read_range(dir.path(), 0, 0),
            Err(ReadError::Failed { .. })
        ));
    }

    #[test]
    fn tail_table() {
        let (_dir, path) = fixture();
        let slice = |bytes: &[u8], offset, overflow| TailSlice {
            bytes: bytes.to_vec(),
            offset,
            overflow,
        };
        // (offset, length) -> expected, traced through supervisord's tailFile by hand.
        let cases: &[(i64, i64, TailSlice)] = &[
            (0, 4, slice(b"6789", 10, true)),
            (0, 10, slice(b"0123456789", 10, false)),
            (0, 1000, slice(b"0123456789", 10, false)),
            (6, 4, slice(b"6789", 10, false)),
            (5, 3, slice(b"789", 10, true)),
            (8, 5, slice(b"56789", 10, false)),
            (10, 5, slice(b"", 10, false)),
            (20, 5, slice(b"", 10, false)),
            (0, 0, slice(b"", 10, true)),
            (9, 1, slice(b"9", 10, false)),
            (3, 1, slice(b"9", 10, true)),
        ];
        for (offset, length, expected) in cases {
            assert_eq!(
                &tail(&path, *offset, *length),
                expected,
                "offset {offset} length {length}"
            );
        }
    }

    #[test]
    fn tail_of_missing_file_is_empty_at_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            tail(&dir.path().join("nope"), 500, 1600),
            TailSlice::default()
        );
    }
}
