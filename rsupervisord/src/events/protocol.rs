//! The listener side of the protocol: what a listener writes on its stdout, cut into
//! tokens (`READY\n`, `RESULT <n>\n<n bytes>`), and the listener states.
//!
//! The [`Tokenizer`] runs in the listener's stdout pump, so output never passes through
//! the actor as bytes: only tokens do, a handful per event. What a token means depends on
//! the listener's state, which the actor keeps ([`ListenerState`]); the tokenizer only cuts
//! the stream as supervisord would in any state. After the first malformed output it stops
//! (the listener is UNKNOWN for good), and it stops too once the actor raised the shared
//! `dead` flag, so a listener flooding its stdout cannot flood the actor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// supervisord's listener states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    /// Waiting for `READY\n` (the state after a spawn and after each result).
    Acknowledged,
    /// Said `READY\n`: the next event may be sent.
    Ready,
    /// An event was sent; waiting for its result.
    Busy,
    /// Broke the protocol: receives no more events until it is restarted.
    Unknown,
}

impl ListenerState {
    /// The name in the main log.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// One thing the listener said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `READY\n`.
    Ready,
    /// `RESULT <n>\n` and the `n` bytes after it.
    Result(Vec<u8>),
    /// A line that is neither (its bytes without the newline), or 6 bytes or more that do
    /// not start a token. Nothing is read after it.
    Garbage(Vec<u8>),
}

/// What a listener's stdout pump does besides logging: tokenize and hand the tokens on.
pub struct ListenerTap {
    tokenizer: Tokenizer,
    dead: Arc<AtomicBool>,
    send: Box<dyn FnMut(Vec<Token>) + Send>,
}

impl ListenerTap {
    /// A tap that calls `send` with the tokens of each chunk, until `dead` is raised.
    pub fn new(dead: Arc<AtomicBool>, send: Box<dyn FnMut(Vec<Token>) + Send>) -> Self {
        ListenerTap {
            tokenizer: Tokenizer::default(),
            dead,
            send,
        }
    }

    /// Feeds one chunk of the listener's stdout.
    pub fn feed(&mut self, data: &[u8]) {
        if self.dead.load(Ordering::Relaxed) {
            return;
        }
        let tokens = self.tokenizer.feed(data);
        if !tokens.is_empty() {
            (self.send)(tokens);
        }
    }
}

impl std::fmt::Debug for ListenerTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerTap")
            .field("tokenizer", &self.tokenizer)
            .finish_non_exhaustive()
    }
}

const READY: &[u8] = b"READY\n";
const RESULT: &[u8] = b"RESULT ";

/// Cuts a listener's stdout into [`Token`]s; fed chunk by chunk as they are read.
#[derive(Debug, Default)]
pub struct Tokenizer {
    buffer: Vec<u8>,
    /// Length of the result body being read, once its line was seen.
    body: Option<usize>,
    /// Stopped after garbage.
    done: bool,
}

impl Tokenizer {
    /// Adds `data` and returns the tokens it completes.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Token> {
        let mut tokens = Vec::new();
        if self.done {
            return tokens;
        }
        self.buffer.extend_from_slice(data);
        loop {
            if let Some(len) = self.body {
                if self.buffer.len() < len {
                    break;
                }
                let body: Vec<u8> = self.buffer.drain(..len).collect();
                self.body = None;
                tokens.push(Token::Result(body));
                continue;
            }
            if self.buffer.starts_with(READY) {
                self.buffer.drain(..READY.len());
                tokens.push(Token::Ready);
                continue;
            }
            let Some(newline) = self.buffer.iter().position(|&b| b == b'\n') else {
                // Not a whole line yet: wait, unless it can no longer start a token.
                let could_start = |token: &[u8]| {
                    token.starts_with(&self.buffer) || self.buffer.starts_with(token)
                };
                if !self.buffer.is_empty() && !could_start(READY) && !could_start(RESULT) {
                    tokens.push(Token::Garbage(std::mem::take(&mut self.buffer)));
                    self.done = true;
                }
                break;
            };
            let line: Vec<u8> = self.buffer.drain(..=newline).collect();
            let line = &line[..line.len() - 1];
            match result_length(line) {
                Some(len) => self.body = Some(len),
                None => {
                    tokens.push(Token::Garbage(line.to_vec()));
                    self.done = true;
                    self.buffer.clear();
                    break;
                }
            }
        }
        tokens
    }
}

/// The `n` of a `RESULT <n>` line (surrounding blanks allowed, as Python's `int()` does).
fn result_length(line: &[u8]) -> Option<usize> {
    let digits = line.strip_prefix(RESULT)?;
    std::str::from_utf8(digits).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_and_results_split_anywhere() {
        let stream = b"READY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\n";
        let whole = Tokenizer::default().feed(stream);
        let expected = vec![
            Token::Ready,
            Token::Result(b"OK".to_vec()),
            Token::Ready,
            Token::Result(b"FAIL".to_vec()),
            Token::Ready,
        ];
        assert_eq!(whole, expected);
        for cut in 0..stream.len() {
            let mut tokenizer = Tokenizer::default();
            let mut tokens = tokenizer.feed(&stream[..cut]);
            tokens.extend(tokenizer.feed(&stream[cut..]));
            assert_eq!(tokens, expected, "cut at {cut}");
        }
        let mut tokenizer = Tokenizer::default();
        let bytewise: Vec<Token> = stream.iter().flat_map(|b| tokenizer.feed(&[*b])).collect();
        assert_eq!(bytewise, expected);
    }

    #[test]
    fn garbage_is_reported_once_and_ends_reading() {
        let mut tokenizer = Tokenizer::default();
        assert_eq!(
            tokenizer.feed(b"hello world"),
            vec![Token::Garbage(b"hello world".to_vec())]
        );
        assert_eq!(tokenizer.feed(b"READY\n"), vec![]);
        let mut tokenizer = Tokenizer::default();
        assert_eq!(
            tokenizer.feed(b"READY\nRESULT x\nOK"),
            vec![Token::Ready, Token::Garbage(b"RESULT x".to_vec())]
        );
        // A prefix of a token is not garbage yet.
        assert_eq!(Tokenizer::default().feed(b"REA"), vec![]);
        assert_eq!(Tokenizer::default().feed(b"RESULT 12"), vec![]);
    }
}
