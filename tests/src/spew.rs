//! The `--spew` byte pattern shared by the fixture (which writes it) and the tests (which check it).
//!
//! The stream is the concatenation of lines `format!("{:012}\n", i)` for i = 0, 1, 2, ...,
//! truncated to the requested length. Every 13-byte line names its own index, so a test can tell
//! a lost, duplicated or reordered chunk from a short read, and can check a slice of the stream
//! (for example one rotated log file) from any offset.

/// Length of one pattern line: twelve digits and a newline.
pub const LINE_LEN: u64 = 13;

/// Returns `len` bytes of the pattern starting at byte `offset` of the stream.
pub fn pattern(offset: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + LINE_LEN as usize);
    let mut line = offset / LINE_LEN;
    let mut skip = usize::try_from(offset % LINE_LEN).expect("invariant: remainder is < 13");
    while out.len() < len {
        let text = format!("{line:012}\n");
        out.extend_from_slice(&text.as_bytes()[skip..]);
        skip = 0;
        line += 1;
    }
    out.truncate(len);
    out
}

/// Checks that `data` is exactly the first `expected_len` bytes of the pattern.
///
/// The error names the first differing offset and the line it falls in.
pub fn check(data: &[u8], expected_len: u64) -> Result<(), String> {
    if data.len() as u64 != expected_len {
        // Still report the first corruption, which usually explains the length mismatch.
        let prefix = check_segment(data, 0).err();
        return Err(format!(
            "spew length is {} bytes, expected {expected_len}{}",
            data.len(),
            prefix.map(|p| format!("; also {p}")).unwrap_or_default()
        ));
    }
    check_segment(data, 0)
}

/// Checks that `data` equals the pattern starting at stream offset `offset`.
pub fn check_segment(data: &[u8], offset: u64) -> Result<(), String> {
    let expected = pattern(offset, data.len());
    match data.iter().zip(&expected).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(at) => {
            let stream_offset = offset + at as u64;
            let context_start = at.saturating_sub(at % LINE_LEN as usize);
            let context_end = (context_start + 2 * LINE_LEN as usize).min(data.len());
            Err(format!(
                "spew differs at stream offset {stream_offset} (line {}): got {:?}, expected {:?}",
                stream_offset / LINE_LEN,
                String::from_utf8_lossy(&data[context_start..context_end]),
                String::from_utf8_lossy(&expected[context_start..context_end]),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_starts_with_numbered_lines() {
        assert_eq!(pattern(0, 27), b"000000000000\n000000000001\n0".to_vec());
        assert_eq!(pattern(0, 0), Vec::<u8>::new());
    }

    #[test]
    fn pattern_from_an_offset_matches_the_whole_stream() {
        let whole = pattern(0, 10_000);
        for offset in [0usize, 1, 12, 13, 14, 4096, 9_990] {
            assert_eq!(pattern(offset as u64, 10_000 - offset), whole[offset..]);
        }
    }

    #[test]
    fn check_reports_the_first_difference() {
        let mut data = pattern(0, 1000);
        assert_eq!(check(&data, 1000), Ok(()));
        data[500] = b'x';
        let err = check(&data, 1000).expect_err("corruption must be found");
        assert!(err.contains("offset 500"), "{err}");
        assert!(check(&pattern(0, 10), 11).is_err());
        assert_eq!(check_segment(&pattern(26, 13), 26), Ok(()));
    }
}
