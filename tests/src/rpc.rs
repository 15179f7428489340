//! A minimal JSON-RPC 2.0 over HTTP/1.1 client on a Unix socket, written against std only.
//!
//! The tests talk to the daemon without its own client code (so a bug shared by daemon and ctl
//! cannot hide itself). One request per connection: `POST /` with `Connection: close`. The
//! response is framed by `Content-Length`, by chunked transfer-encoding, or by EOF, and the
//! parser in [`parse_response`] is incremental so a server that keeps the connection open
//! despite `Connection: close` does not hang the test.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

/// How long one RPC may take before the call fails (a hung daemon must fail the test, not hang it).
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// A JSON-RPC error object: a supervisord fault such as `10` / `BAD_NAME: nosuch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFault {
    /// The fault code (supervisord's numbering, e.g. 10 BAD_NAME, 60 ALREADY_STARTED).
    pub code: i64,
    /// The fault message, e.g. `BAD_NAME: nosuch`.
    pub message: String,
}

impl fmt::Display for RpcFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault {}: {}", self.code, self.message)
    }
}

/// Why an RPC call did not return a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// The daemon answered with a JSON-RPC error.
    Fault(RpcFault),
    /// The call did not produce a JSON-RPC answer: connect, I/O, HTTP or JSON trouble.
    Transport(String),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Fault(fault) => fault.fmt(f),
            RpcError::Transport(message) => write!(f, "transport error: {message}"),
        }
    }
}

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code from the status line.
    pub status: u16,
    /// Header names (lowercased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body with any chunked framing removed.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Calls `method` with `params` on the daemon listening on `socket`.
pub fn call(socket: &Path, method: &str, params: Value) -> Result<Value, RpcError> {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let body = serde_json::to_vec(&request).expect("invariant: a json! value always serializes");
    let response = post(socket, &body).map_err(RpcError::Transport)?;
    decode_jsonrpc(&response)
}

/// Sends one `POST /` with `body` and reads the whole response.
pub fn post(socket: &Path, body: &[u8]) -> Result<HttpResponse, String> {
    request(socket, "POST", "/", Some("application/json"), body)
}

/// Sends one request (`method`, `path`, an optional content type and `body`) and reads the
/// whole response.
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<HttpResponse, String> {
    let mut stream = UnixStream::connect(socket)
        .map_err(|e| format!("connecting to {}: {e}", socket.display()))?;
    stream
        .set_read_timeout(Some(RPC_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(RPC_TIMEOUT)))
        .map_err(|e| format!("setting socket timeouts: {e}"))?;
    let content_type = content_type
        .map(|value| format!("Content-Type: {value}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{content_type}\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .and_then(|()| stream.flush())
        .map_err(|e| format!("sending the request: {e}"))?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format!(
                    "reading the response after {} bytes: {e}; got so far: {:?}",
                    buf.len(),
                    String::from_utf8_lossy(&buf)
                ))
            }
        };
        buf.extend_from_slice(&chunk[..read]);
        let eof = read == 0;
        if let Some(response) = parse_response(&buf, eof)? {
            return Ok(response);
        }
        if eof {
            return Err(format!(
                "connection closed mid-response: {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
    }
}

/// Parses an HTTP/1.1 response from `buf`.
///
/// Returns `Ok(None)` when more bytes are needed. `eof` says the peer closed the connection, which
/// completes a body framed by neither `Content-Length` nor chunked encoding.
pub fn parse_response(buf: &[u8], eof: bool) -> Result<Option<HttpResponse>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end])
        .map_err(|_| "response head is not UTF-8".to_owned())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status: u16 = parts
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status code in {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let rest = &buf[head_end + 4..];
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let chunked = header("transfer-encoding").is_some_and(|v| {
        v.to_ascii_lowercase()
            .split(',')
            .any(|t| t.trim() == "chunked")
    });
    let body = if chunked {
        match decode_chunked(rest)? {
            Some(body) => body,
            None => return Ok(None),
        }
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if rest.len() < length {
            return Ok(None);
        }
        rest[..length].to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(HttpResponse {
        status,
        headers,
        body,
    }))
}

/// Decodes a chunked body; `Ok(None)` until the last chunk and the trailers are complete.
fn decode_chunked(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = find(rest, b"\r\n") else {
            return Ok(None);
        };
        let size_line = std::str::from_utf8(&rest[..line_end])
            .map_err(|_| "chunk size line is not UTF-8".to_owned())?;
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size_text = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size line {size_line:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // Trailers: header lines up to an empty line.
            loop {
                let Some(end) = find(rest, b"\r\n") else {
                    return Ok(None);
                };
                if end == 0 {
                    return Ok(Some(body));
                }
                rest = &rest[end + 2..];
            }
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        if &rest[size..size + 2] != b"\r\n" {
            return Err(format!("chunk of {size} bytes is not followed by CRLF"));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Turns an HTTP response into a JSON-RPC result or error.
pub fn decode_jsonrpc(response: &HttpResponse) -> Result<Value, RpcError> {
    let text = String::from_utf8_lossy(&response.body);
    let value: Value = serde_json::from_slice(&response.body).map_err(|e| {
        RpcError::Transport(format!(
            "HTTP {} with a body that is not JSON ({e}): {text:?}",
            response.status
        ))
    })?;
    if let Some(error) = value.get("error") {
        let code = error.get("code").and_then(Value::as_i64);
        let message = error.get("message").and_then(Value::as_str);
        return match (code, message) {
            (Some(code), Some(message)) => Err(RpcError::Fault(RpcFault {
                code,
                message: message.to_owned(),
            })),
            _ => Err(RpcError::Transport(format!(
                "malformed JSON-RPC error: {text}"
            ))),
        };
    }
    if response.status != 200 {
        return Err(RpcError::Transport(format!(
            "HTTP {} without a JSON-RPC error: {text}",
            response.status
        )));
    }
    match value.get("result") {
        Some(result) => Ok(result.clone()),
        None => Err(RpcError::Transport(format!(
            "JSON-RPC answer has neither result nor error: {text}"
        ))),
    }
}

/// Position of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8]) -> HttpResponse {
        parse_response(raw, false)
            .expect("response must parse")
            .expect("response must be complete")
    }

    #[test]
    fn content_length_body() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}";
        let response = complete(raw);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("Content-Length"), Some("11"));
        assert_eq!(response.body, b"{\"a\":[1,2]}");
    }

    #[test]
    fn content_length_ignores_bytes_after_the_body() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA";
        assert_eq!(complete(raw).body, b"ok");
    }

    #[test]
    fn every_truncation_is_incomplete_not_an_error() {
        let raw: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        for cut in 0..raw.len() {
            assert_eq!(parse_response(&raw[..cut], false), Ok(None), "cut at {cut}");
        }
        let chunked: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        for cut in 0..chunked.len() {
            assert_eq!(
                parse_response(&chunked[..cut], false),
                Ok(None),
                "cut at {cut}"
            );
        }
        assert_eq!(complete(chunked).body, b"hello");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n\
            4;ext=1\r\n{\"a\"\r\nA\r\n:12345678}\r\n0\r\nX-Trailer: yes\r\n\r\n";
        let response = complete(raw);
        assert_eq!(response.body, b"{\"a\":12345678}");
    }

    #[test]
    fn body_until_eof_without_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc";
        assert_eq!(parse_response(raw, false), Ok(None));
        let response = parse_response(raw, true)
            .expect("parses")
            .expect("EOF completes the body");
        assert_eq!(response.body, b"abc");
    }

    #[test]
    fn malformed_responses_are_errors() {
        assert!(parse_response(b"SSH-2.0\r\n\r\n", false).is_err());
        assert!(parse_response(b"HTTP/1.1 abc OK\r\n\r\n", false).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", false).is_err());
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(parse_response(bad_chunk, false).is_err());
        let no_crlf = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY";
        assert!(parse_response(no_crlf, false).is_err());
    }

    #[test]
    fn jsonrpc_result_and_fault() {
        let ok = HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"jsonrpc":"2.0","id":1,"result":{"statecode":1}}"#.to_vec(),
        };
        assert_eq!(decode_jsonrpc(&ok), Ok(json!({"statecode": 1})));
        let fault = HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"jsonrpc":"2.0","id":1,"error":{"code":10,"message":"BAD_NAME: nosuch"}}"#
                .to_vec(),
        };
        assert_eq!(
            decode_jsonrpc(&fault),
            Err(RpcError::Fault(RpcFault {
                code: 10,
                message: "BAD_NAME: nosuch".to_owned()
            }))
        );
        let html = HttpResponse {
            status: 404,
            headers: vec![],
            body: b"not found".to_vec(),
        };
        assert!(matches!(decode_jsonrpc(&html), Err(RpcError::Transport(_))));
    }
}
