//! Capture mode (`stdout_capture_maxbytes`/`stderr_capture_maxbytes` > 0): the text a
//! program writes between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` is kept
//! out of its log and becomes one PROCESS_COMMUNICATION_* event.
//!
//! Pure state machines, fed the chunks a pump reads, with supervisord 4.3.0's rules
//! (`POutputDispatcher.record_output` and `loggers.BoundIO`):
//!
//! - [`MarkerScanner`] cuts the stream at the markers. It looks for the marker of its mode
//!   (BEGIN outside a capture, END inside) only once it holds **more** bytes than that
//!   marker is long; until then it keeps them (so, as in supervisord, up to 24 bytes of
//!   output can wait for the next write). When the marker is not there, the longest tail
//!   that could be the start of it is kept back and the rest is let through, so a marker
//!   split across two reads is still found. The markers themselves are never let through.
//! - [`CaptureBuffer`] holds the captured text: a write that would take it past
//!   `maxbytes` first drops as many bytes from its head as the write brings (supervisord's
//!   `BoundIO`, which is why a single write larger than `maxbytes` is kept whole).
//!
//! Unlike supervisord, which loses the bytes still held when the program closes its
//! output, [`MarkerScanner::finish`] lets them through at end of file.

/// The marker that starts a capture.
pub const BEGIN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
/// The marker that ends a capture.
pub const END: &[u8] = b"<!--XSUPERVISOR:END-->";

/// One piece of the output, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Output outside the markers: logged as usual.
    Output(Vec<u8>),
    /// Output between the markers: goes to the [`CaptureBuffer`], not to the log.
    Captured(Vec<u8>),
    /// The END marker closed a capture: what the buffer holds is the event's data.
    End,
}

/// Finds the markers in a program's output stream.
#[derive(Debug, Default)]
pub struct MarkerScanner {
    /// Inside a capture (looking for END).
    capturing: bool,
    /// Bytes read but not let through yet.
    pending: Vec<u8>,
}

impl MarkerScanner {
    /// Feeds one chunk; the pieces it completes are appended to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Piece>) {
        // The chunk is scanned in place when nothing is held (the usual case): only the
        // pieces and the kept tail are copied.
        let held;
        let mut rest: &[u8] = if self.pending.is_empty() {
            data
        } else {
            self.pending.extend_from_slice(data);
            held = std::mem::take(&mut self.pending);
            &held
        };
        loop {
            let marker = if self.capturing { END } else { BEGIN };
            if rest.len() <= marker.len() {
                // Not enough to decide yet.
                self.pending.extend_from_slice(rest);
                return;
            }
            match memchr::memmem::find(rest, marker) {
                Some(at) => {
                    self.piece(&rest[..at], out);
                    self.capturing = !self.capturing;
                    if !self.capturing {
                        out.push(Piece::End);
                    }
                    rest = &rest[at + marker.len()..];
                    if rest.is_empty() {
                        return;
                    }
                }
                None => {
                    let cut = rest.len() - prefix_at_end(rest, marker);
                    self.piece(&rest[..cut], out);
                    self.pending.extend_from_slice(&rest[cut..]);
                    return;
                }
            }
        }
    }

    /// End of file: what is still held is let through, in the current mode.
    pub fn finish(self) -> Option<Piece> {
        if self.pending.is_empty() {
            return None;
        }
        Some(if self.capturing {
            Piece::Captured(self.pending)
        } else {
            Piece::Output(self.pending)
        })
    }

    fn piece(&self, data: &[u8], out: &mut Vec<Piece>) {
        if data.is_empty() {
            return;
        }
        out.push(if self.capturing {
            Piece::Captured(data.to_vec())
        } else {
            Piece::Output(data.to_vec())
        });
    }
}

/// The captured text of one capture, bounded as supervisord's `BoundIO` bounds it.
#[derive(Debug)]
pub struct CaptureBuffer {
    maxbytes: usize,
    held: Vec<u8>,
}

impl CaptureBuffer {
    /// An empty buffer of `maxbytes` (the `*_capture_maxbytes` value).
    pub fn new(maxbytes: u64) -> Self {
        CaptureBuffer {
            maxbytes: usize::try_from(maxbytes).unwrap_or(usize::MAX),
            held: Vec::new(),
        }
    }

    /// Adds captured bytes: past `maxbytes`, as many bytes as `data` brings are dropped
    /// from the head first (all of them if it brings more than the buffer holds).
    pub fn write(&mut self, data: &[u8]) {
        if self.held.len().saturating_add(data.len()) > self.maxbytes {
            let drop = data.len().min(self.held.len());
            self.held.drain(..drop);
        }
        self.held.extend_from_slice(data);
    }

    /// The captured text, leaving the buffer empty for the next capture.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }
}

/// The length of the longest proper prefix of `needle` that `haystack` ends with
/// (medusa's `find_prefix_at_end`).
fn prefix_at_end(haystack: &[u8], needle: &[u8]) -> usize {
    (1..needle.len())
        .rev()
        .find(|&len| haystack.ends_with(&needle[..len]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> Piece {
        Piece::Output(text.as_bytes().to_vec())
    }

    fn cap(text: &str) -> Piece {
        Piece::Captured(text.as_bytes().to_vec())
    }

    /// Feeds each chunk and returns the pieces each feed produced, then what `finish` let
    /// through.
    fn scan(chunks: &[&str]) -> (Vec<Vec<Piece>>, Option<Piece>) {
        let mut scanner = MarkerScanner::default();
        let per_feed = chunks
            .iter()
            .map(|chunk| {
                let mut pieces = Vec::new();
                scanner.feed(chunk.as_bytes(), &mut pieces);
                pieces
            })
            .collect();
        (per_feed, scanner.finish())
    }

    #[test]
    fn text_around_the_markers_is_output_and_the_inside_is_captured() {
        let (feeds, rest) = scan(&[
            "before <!--XSUPERVISOR:BEGIN-->inside<!--XSUPERVISOR:END--> and after it, longer than 24",
        ]);
        assert_eq!(
            feeds[0],
            vec![
                out("before "),
                cap("inside"),
                Piece::End,
                out(" and after it, longer than 24")
            ]
        );
        assert_eq!(rest, None);
    }

    #[test]
    fn short_output_waits_until_it_is_longer_than_the_marker() {
        // supervisord's `len(buffer) <= len(token)`: 24 bytes wait, 25 go.
        let (feeds, rest) = scan(&["hello\n", "x".repeat(18).as_str(), "y"]);
        assert_eq!(feeds[0], vec![]);
        assert_eq!(feeds[1], vec![]);
        assert_eq!(feeds[2], vec![out(&format!("hello\n{}y", "x".repeat(18)))]);
        assert_eq!(rest, None);
        // What still waits at end of file is let through.
        let (feeds, rest) = scan(&["bye\n"]);
        assert_eq!(feeds[0], vec![]);
        assert_eq!(rest, Some(out("bye\n")));
    }

    #[test]
    fn markers_split_across_reads_are_found() {
        // supervisord's reference run: "hello\n", "x<!--BEGIN-->cap", "tured<!--END-->after\n".
        let (feeds, _) = scan(&[
            "hello\n",
            "x<!--XSUPERVISOR:BEGIN-->cap",
            "tured<!--XSUPERVISOR:END-->after\n",
        ]);
        assert_eq!(feeds[0], vec![]);
        assert_eq!(feeds[1], vec![out("hello\nx")]);
        assert_eq!(feeds[2], vec![cap("captured"), Piece::End]);
        // Every split point of both markers gives the same pieces overall.
        let whole = "some text first <!--XSUPERVISOR:BEGIN-->the message<!--XSUPERVISOR:END--> and some text after it";
        for cut in 1..whole.len() {
            let (feeds, rest) = scan(&[&whole[..cut], &whole[cut..]]);
            let mut all: Vec<Piece> = feeds.into_iter().flatten().chain(rest).collect();
            // Adjacent pieces of one kind are one stream of bytes.
            all.dedup_by(|b, a| match (a, b) {
                (Piece::Output(a), Piece::Output(b)) | (Piece::Captured(a), Piece::Captured(b)) => {
                    a.extend_from_slice(b);
                    true
                }
                _ => false,
            });
            assert_eq!(
                all,
                vec![
                    out("some text first "),
                    cap("the message"),
                    Piece::End,
                    out(" and some text after it")
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_held_marker_prefix_is_only_the_part_that_could_start_it() {
        let (feeds, _) = scan(&["a longer line of text <!--XSUP"]);
        assert_eq!(feeds[0], vec![out("a longer line of text ")]);
        let (feeds, _) = scan(&[
            "<!--XSUPERVISOR:BEGIN-->red text<!--XSUPERVISOR:E",
            "ND-->tail",
        ]);
        assert_eq!(feeds[0], vec![cap("red text")]);
        assert_eq!(feeds[1], vec![Piece::End]);
    }

    #[test]
    fn a_capture_left_open_at_end_of_file_is_never_ended() {
        let (feeds, rest) = scan(&["<!--XSUPERVISOR:BEGIN-->never closed, and longer"]);
        assert_eq!(feeds[0], vec![cap("never closed, and longer")]);
        assert_eq!(rest, None);
        let (_, rest) = scan(&["<!--XSUPERVISOR:BEGIN-->short"]);
        assert_eq!(rest, Some(cap("short")));
    }

    #[test]
    fn back_to_back_captures_end_each_one() {
        let (feeds, _) = scan(&[
            "<!--XSUPERVISOR:BEGIN-->one<!--XSUPERVISOR:END--><!--XSUPERVISOR:BEGIN-->two<!--XSUPERVISOR:END-->",
        ]);
        assert_eq!(
            feeds[0],
            vec![cap("one"), Piece::End, cap("two"), Piece::End]
        );
    }

    #[test]
    fn the_buffer_drops_from_its_head_as_many_bytes_as_a_write_brings() {
        let mut buffer = CaptureBuffer::new(10);
        buffer.write(b"012345");
        buffer.write(b"6789");
        assert_eq!(buffer.take(), b"0123456789");
        // Past 10: 012345 + 6789ab drops 6 from the head (all it has), keeps the write.
        buffer.write(b"012345");
        buffer.write(b"6789ab");
        assert_eq!(buffer.take(), b"6789ab");
        buffer.write(b"01234567");
        buffer.write(b"abc");
        assert_eq!(buffer.take(), b"34567abc");
        // One write larger than the bound is kept whole (supervisord's reference run).
        buffer.write(b"0123456789abcdefghij");
        assert_eq!(buffer.take(), b"0123456789abcdefghij");
        assert_eq!(buffer.take(), b"");
    }
}
