//! The ctl's client: every call is one plain HTTP/1.1 `POST /` of a JSON-RPC request on a
//! kept-alive connection; subscriptions (`tail -f`, `maintail -f`, `fg`, `audit -f`) open a
//! WebSocket ([`crate::transport::connect_to`]) the first time one is asked for.
//!
//! A one-shot command is then one connection, one request per call and no upgrade: the
//! WebSocket client cost a handshake round trip, a background task and a timer thread
//! before the first call could go out (measured in BENCHMARKS.md, issue 19). The daemon
//! serves both on the same listener, so nothing changes for other clients.
//!
//! Calls made at the same time (`status -l` asks for the table and the metrics at once)
//! each get a connection: an idle one if there is one, otherwise a new one.
//!
//! `status` pipelines two calls instead ([`Client::version_then`]): the up-check and the
//! table, written at once on one connection and answered in order.

use crate::transport::{ConnectError, Endpoint, CONNECT_TIMEOUT};
use jsonrpsee::async_client::Client as WsClient;
use jsonrpsee::core::client::{BatchResponse, ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::{ArrayParams, BatchRequestBuilder};
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::core::ClientError;
use jsonrpsee::types::ErrorObjectOwned;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// What a 401 answer means to the operator (the same words the WebSocket handshake used).
pub const AUTH_REQUIRED: &str = "Server requires authentication (check the username and password)";

/// The up-check's method, which [`Client::version_then`] sends ahead of a command's call.
const GET_VERSION: &str = "supervisor.getVersion";

/// A JSON-RPC client over plain HTTP/1.1 POST, with a WebSocket for subscriptions.
pub struct Client {
    endpoint: Endpoint,
    /// The `Authorization` header value, if credentials were given.
    authorization: Option<String>,
    /// `(user, password)` for the WebSocket handshake.
    credentials: Option<(String, String)>,
    request_timeout: Duration,
    /// Connections with no request in flight, ready for the next one.
    idle: Mutex<Vec<Stream>>,
    next_id: AtomicU64,
    /// The subscription client, opened on the first subscription.
    ws: tokio::sync::OnceCell<WsClient>,
}

impl Client {
    /// Connects to `endpoint` (the connection is kept for the first call), giving up after
    /// [`CONNECT_TIMEOUT`]. Failures are the same [`ConnectError`]s as the WebSocket
    /// client's, so the ctl reports them with the same words.
    ///
    /// `request_timeout` bounds every call; `credentials` (user, password) are sent as HTTP
    /// Basic authorization with every request.
    pub async fn connect(
        endpoint: &Endpoint,
        request_timeout: Duration,
        credentials: Option<(&str, &str)>,
    ) -> Result<Self, ConnectError> {
        let authorization = match credentials {
            Some((user, password)) => {
                let value = crate::auth::basic_authorization(user, password);
                if value.bytes().any(|byte| byte.is_ascii_control()) {
                    return Err(ConnectError::Other {
                        path: endpoint.label(),
                        message: "the username or password contains characters not allowed in \
                                  HTTP headers"
                            .to_owned(),
                    });
                }
                Some(value)
            }
            None => None,
        };
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, dial(endpoint)).await {
            Ok(stream) => stream?,
            Err(_) => return Err(no_answer(endpoint)),
        };
        Ok(Client {
            endpoint: endpoint.clone(),
            authorization,
            credentials: credentials.map(|(user, password)| (user.to_owned(), password.to_owned())),
            request_timeout,
            idle: Mutex::new(vec![stream]),
            next_id: AtomicU64::new(0),
            ws: tokio::sync::OnceCell::new(),
        })
    }

    /// Whether the daemon still holds our connection open (it closes it when it exits or
    /// restarts); a client that is not connected should be replaced by a new one, so the
    /// reason it cannot connect is reported as such.
    pub async fn is_connected(&self) -> bool {
        let idle = std::mem::take(&mut *lock(&self.idle));
        let mut alive = Vec::with_capacity(idle.len());
        for mut stream in idle {
            if still_open(&mut stream).await {
                alive.push(stream);
            }
        }
        let connected = !alive.is_empty() || self.ws.get().is_some_and(WsClient::is_connected);
        lock(&self.idle).extend(alive);
        connected
    }

    /// One call: the raw answer (its `result` or its error).
    async fn call(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut body = Vec::with_capacity(64 + method.len());
        self.write_call(&mut body, method, params.as_deref())?;
        self.post(body).await
    }

    /// supervisorctl's up-check (`getVersion`) and the parameterless `method`, sent at once
    /// as two pipelined HTTP/1.1 requests on one connection: one round trip instead of two,
    /// and nothing new for the daemon, which answers them in order. Returns the version's
    /// answer as soon as it is read (the daemon gives it without its supervisor, so a
    /// stuck one is still told apart); the call's answer is read afterwards with
    /// [`Pipelined::answer`], once the version has been judged.
    ///
    /// Only for a command that reads: the daemon runs the call whatever the version says.
    pub async fn version_then(
        &self,
        method: &'static str,
    ) -> Result<(Result<String, ClientError>, Pipelined), ClientError> {
        let mut version_call = Vec::with_capacity(80);
        self.write_call(&mut version_call, GET_VERSION, None)?;
        let mut call = Vec::with_capacity(64 + method.len());
        self.write_call(&mut call, method, None)?;
        let mut wire = self.http_request(&version_call);
        wire.extend_from_slice(&self.http_request(&call));
        let (stream, response, carry) = self.exchange(&wire).await?;
        // Closed after the first answer: the call is asked again on its own.
        let stream = response.keep_alive.then_some(stream);
        let version = self.body(response).and_then(|body| decode(&body));
        Ok((
            version,
            Pipelined {
                method,
                stream,
                carry,
            },
        ))
    }

    /// Appends one JSON-RPC request object to `body`.
    fn write_call(
        &self,
        body: &mut Vec<u8>,
        method: &str,
        params: Option<&RawValue>,
    ) -> Result<(), ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
        body.extend_from_slice(id.to_string().as_bytes());
        body.extend_from_slice(br#","method":"#);
        serde_json::to_writer(&mut *body, method).map_err(ClientError::ParseError)?;
        body.extend_from_slice(br#","params":"#);
        body.extend_from_slice(params.map_or("[]", RawValue::get).as_bytes());
        body.push(b'}');
        Ok(())
    }

    /// The bytes of an HTTP POST of the JSON-RPC `body`.
    fn http_request(&self, body: &[u8]) -> Vec<u8> {
        let host = match &self.endpoint {
            Endpoint::Unix(_) => "localhost".to_owned(),
            Endpoint::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        };
        let mut request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some(authorization) = &self.authorization {
            request.push_str("Authorization: ");
            request.push_str(authorization);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(body);
        request
    }

    /// An idle connection, or a new one.
    async fn connection(&self) -> Result<Stream, ClientError> {
        let stream = lock(&self.idle).pop();
        match stream {
            Some(stream) => Ok(stream),
            None => dial(&self.endpoint)
                .await
                .map_err(|error| ClientError::Transport(Box::new(error))),
        }
    }

    /// The body of a 200 answer; a refused login or another status is an error.
    fn body(&self, response: Response) -> Result<Vec<u8>, ClientError> {
        match response.status {
            200 => Ok(response.body),
            401 => Err(ClientError::Transport(Box::new(ConnectError::Other {
                path: self.endpoint.label(),
                message: AUTH_REQUIRED.to_owned(),
            }))),
            status => Err(ClientError::Transport(
                format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&response.body).trim()
                )
                .into(),
            )),
        }
    }

    /// POSTs a JSON-RPC request and returns the answer's body.
    async fn post(&self, body: Vec<u8>) -> Result<Vec<u8>, ClientError> {
        let (stream, response, carry) = self.exchange(&self.http_request(&body)).await?;
        self.settle(stream, response, &carry)
    }

    /// Writes `wire` (one request or several) on an idle or new connection and reads the
    /// first answer within the request timeout. Returns the connection, the answer and
    /// what was read past it.
    async fn exchange(&self, wire: &[u8]) -> Result<(Stream, Response, Vec<u8>), ClientError> {
        let mut stream = self.connection().await?;
        let mut carry = Vec::new();
        let exchange = async {
            stream.write_all(wire).await.map_err(lost)?;
            read_response(&mut stream, &mut carry).await
        };
        let response = self.within_timeout(exchange).await?;
        Ok((stream, response, carry))
    }

    /// `work`'s outcome, or [`ClientError::RequestTimeout`] past the request timeout.
    async fn within_timeout<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout(self.request_timeout, work)
            .await
            .unwrap_or(Err(ClientError::RequestTimeout))
    }

    /// The body of the last answer awaited on `stream`; the connection goes back to the
    /// idle ones if it may carry another request (not when bytes came past the answer:
    /// they were not asked for).
    fn settle(
        &self,
        stream: Stream,
        response: Response,
        carry: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let reusable = response.keep_alive && carry.is_empty();
        let body = self.body(response)?;
        if reusable {
            lock(&self.idle).push(stream);
        }
        Ok(body)
    }

    async fn ws(&self) -> Result<&WsClient, ClientError> {
        self.ws
            .get_or_try_init(|| async {
                let credentials = self
                    .credentials
                    .as_ref()
                    .map(|(user, password)| (user.as_str(), password.as_str()));
                crate::transport::connect_to(&self.endpoint, self.request_timeout, credentials)
                    .await
                    .map_err(|error| ClientError::Transport(Box::new(error)))
            })
            .await
    }
}

/// The answer of a JSON-RPC call: its result or its error, read in one pass (the result
/// is decoded straight into the caller's type: `status` of 10,000 programs is 3 MB, and a
/// first pass over it as a raw value was 8% of the ctl's time).
#[derive(Deserialize)]
#[serde(bound(deserialize = "R: DeserializeOwned"))]
struct Answer<R> {
    #[serde(default)]
    result: Option<R>,
    #[serde(default)]
    error: Option<ErrorObjectOwned>,
}

fn decode<R: DeserializeOwned>(body: &[u8]) -> Result<R, ClientError> {
    let answer: Answer<R> = serde_json::from_slice(body).map_err(ClientError::ParseError)?;
    if let Some(error) = answer.error {
        return Err(ClientError::Call(error));
    }
    match answer.result {
        Some(result) => Ok(result),
        // `"result": null` (or none): whatever the type reads from null, `()` for most.
        None => serde_json::from_str("null").map_err(ClientError::ParseError),
    }
}

/// The second answer of [`Client::version_then`], still to be read.
pub struct Pipelined {
    method: &'static str,
    /// The connection the answer comes on; `None` if the daemon closed it after the first.
    stream: Option<Stream>,
    /// What was read past the first answer.
    carry: Vec<u8>,
}

impl Pipelined {
    /// Reads the call's answer (from `client`, the one that sent it), bounded by its
    /// request timeout.
    pub async fn answer<R: DeserializeOwned>(mut self, client: &Client) -> Result<R, ClientError> {
        let Some(mut stream) = self.stream else {
            return client.request(self.method, ArrayParams::new()).await;
        };
        let response = client
            .within_timeout(read_response(&mut stream, &mut self.carry))
            .await?;
        let body = client.settle(stream, response, &self.carry)?;
        decode(&body)
    }
}

impl ClientT for Client {
    async fn notification<Params>(&self, method: &str, params: Params) -> Result<(), ClientError>
    where
        Params: ToRpcParams + Send,
    {
        // Answered like a call: over HTTP the daemon replies to every POST.
        let params = params.to_rpc_params().map_err(ClientError::ParseError)?;
        self.call(method, params).await.map(|_| ())
    }

    async fn request<R, Params>(&self, method: &str, params: Params) -> Result<R, ClientError>
    where
        R: DeserializeOwned,
        Params: ToRpcParams + Send,
    {
        let params = params.to_rpc_params().map_err(ClientError::ParseError)?;
        let body = self.call(method, params).await?;
        decode(&body)
    }

    async fn batch_request<'a, R>(
        &self,
        batch: BatchRequestBuilder<'a>,
    ) -> Result<BatchResponse<'a, R>, ClientError>
    where
        R: DeserializeOwned + std::fmt::Debug + 'a,
    {
        self.ws().await?.batch_request(batch).await
    }
}

impl SubscriptionClientT for Client {
    async fn subscribe<'a, Notif, Params>(
        &self,
        subscribe_method: &'a str,
        params: Params,
        unsubscribe_method: &'a str,
    ) -> Result<Subscription<Notif>, ClientError>
    where
        Params: ToRpcParams + Send,
        Notif: DeserializeOwned,
    {
        self.ws()
            .await?
            .subscribe(subscribe_method, params, unsubscribe_method)
            .await
    }

    async fn subscribe_to_method<Notif>(
        &self,
        method: &str,
    ) -> Result<Subscription<Notif>, ClientError>
    where
        Notif: DeserializeOwned,
    {
        self.ws().await?.subscribe_to_method(method).await
    }
}

/// The connection error a failed call carries, if it is one (a 401, or a new connection
/// that could not be made): the ctl reports it as it reports a failed connect.
pub fn connect_error_of(error: &ClientError) -> Option<&ConnectError> {
    match error {
        ClientError::Transport(error) => error.downcast_ref::<ConnectError>(),
        _ => None,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn no_answer(endpoint: &Endpoint) -> ConnectError {
    ConnectError::Other {
        path: endpoint.label(),
        message: format!(
            "no answer within {} s (is rsupervisord stuck?)",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

/// A connection closed under a call: the daemon went away (shutdown, restart), as the
/// WebSocket client reported it.
fn lost(error: std::io::Error) -> ClientError {
    ClientError::RestartNeeded(Arc::new(ClientError::Transport(Box::new(error))))
}

/// A connected stream of either family.
enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

async fn dial(endpoint: &Endpoint) -> Result<Stream, ConnectError> {
    let connect_error = |error: std::io::Error| crate::transport::connect_error(endpoint, error);
    match endpoint {
        Endpoint::Unix(socket) => tokio::net::UnixStream::connect(socket)
            .await
            .map(Stream::Unix)
            .map_err(connect_error),
        Endpoint::Tcp { host, port } => {
            let stream = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(connect_error)?;
            let _ = stream.set_nodelay(true);
            Ok(Stream::Tcp(stream))
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
            Stream::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
            Stream::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(stream) => Pin::new(stream).poll_flush(cx),
            Stream::Tcp(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
            Stream::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

/// Whether an idle connection is still open: nothing may arrive on it between calls, so
/// anything readable (end of file, or stray bytes) means it cannot be used again.
async fn still_open(stream: &mut Stream) -> bool {
    let mut byte = [0u8; 1];
    std::future::poll_fn(|cx| {
        let mut buf = ReadBuf::new(&mut byte);
        Poll::Ready(Pin::new(&mut *stream).poll_read(cx, &mut buf).is_pending())
    })
    .await
}

/// A parsed HTTP response.
struct Response {
    status: u16,
    body: Vec<u8>,
    /// The connection may carry another request.
    keep_alive: bool,
}

/// Largest response head we accept.
const MAX_HEAD: usize = 64 * 1024;

/// The most a `Content-Length` makes us reserve ahead of the bytes themselves.
const MAX_RESERVE: usize = 64 * 1024 * 1024;

/// Reads one response: status line, headers, then a `Content-Length` or chunked body (or,
/// without either, everything until the daemon closes the connection). `carry` holds what
/// an earlier read took past the end of the previous response (pipelined answers), and is
/// left holding what this one read past its own end.
async fn read_response(stream: &mut Stream, carry: &mut Vec<u8>) -> Result<Response, ClientError> {
    let mut buffer: Vec<u8> = std::mem::take(carry);
    buffer.reserve(16 * 1024);
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD {
            return Err(malformed("response head too long"));
        }
        if read_more(stream, &mut buffer).await? == 0 {
            return Err(lost(std::io::ErrorKind::UnexpectedEof.into()));
        }
    };
    let head =
        std::str::from_utf8(&buffer[..head_end]).map_err(|_| malformed("head is not text"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| malformed("bad status line"))?;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut keep_alive = version == "HTTP/1.1";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse().map_err(|_| malformed("bad content-length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                keep_alive = false;
            } else if value.contains("keep-alive") {
                keep_alive = true;
            }
        }
    }
    let mut rest = buffer.split_off(head_end + 4);
    let body = if chunked {
        let (body, after) = read_chunked(stream, rest).await?;
        *carry = after;
        body
    } else if let Some(length) = content_length {
        // The whole body in one allocation (a 3 MB status otherwise grows by doubling,
        // copying and faulting in every step); bounded, so a wrong header cannot make us
        // reserve gigabytes before a byte has arrived.
        rest.reserve(length.saturating_sub(rest.len()).min(MAX_RESERVE));
        while rest.len() < length {
            if read_more(stream, &mut rest).await? == 0 {
                return Err(lost(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
        *carry = rest.split_off(length);
        rest
    } else {
        keep_alive = false;
        while read_more(stream, &mut rest).await? != 0 {}
        rest
    };
    Ok(Response {
        status,
        body,
        keep_alive,
    })
}

/// A chunked body, and the bytes read past its end.
async fn read_chunked(
    stream: &mut Stream,
    mut data: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), ClientError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = loop {
            if let Some(end) = find(&data[at..], b"\r\n") {
                break at + end;
            }
            if read_more(stream, &mut data).await? == 0 {
                return Err(lost(std::io::ErrorKind::UnexpectedEof.into()));
            }
        };
        let size_text =
            std::str::from_utf8(&data[at..line_end]).map_err(|_| malformed("bad chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| malformed("bad chunk size"))?;
        let start = line_end + 2;
        // The chunk and its CRLF (after the last, empty chunk: the final CRLF, no trailers).
        while data.len() < start + size + 2 {
            if read_more(stream, &mut data).await? == 0 {
                return Err(lost(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
        if size == 0 {
            return Ok((body, data.split_off(start + 2)));
        }
        body.extend_from_slice(&data[start..start + size]);
        at = start + size + 2;
    }
}

async fn read_more(stream: &mut Stream, buffer: &mut Vec<u8>) -> Result<usize, ClientError> {
    if buffer.capacity() - buffer.len() < 8 * 1024 {
        buffer.reserve(buffer.capacity().max(16 * 1024));
    }
    stream.read_buf(buffer).await.map_err(lost)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn malformed(what: &str) -> ClientError {
    ClientError::Transport(format!("malformed HTTP response from rsupervisord: {what}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(wire: &[u8]) -> Result<Response, ClientError> {
        let (ours, mut theirs) = tokio::net::UnixStream::pair().expect("socket pair");
        theirs.write_all(wire).await.expect("write");
        drop(theirs);
        read_response(&mut Stream::Unix(ours), &mut Vec::new()).await
    }

    #[tokio::test]
    async fn content_length_chunked_and_close_delimited_bodies() {
        let response = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloEXTRA")
            .await
            .expect("response");
        assert_eq!(
            (response.status, &response.body[..], response.keep_alive),
            (200, &b"hello"[..], true)
        );
        let response = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
        )
        .await
        .expect("response");
        assert_eq!(&response.body[..], b"abcde");
        let response = parse(b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\nno")
            .await
            .expect("response");
        assert_eq!(
            (response.status, &response.body[..], response.keep_alive),
            (401, &b"no"[..], false)
        );
    }

    #[tokio::test]
    async fn a_connection_closed_early_is_a_lost_daemon() {
        let error = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort")
            .await
            .err()
            .expect("an error");
        assert!(matches!(error, ClientError::RestartNeeded(_)), "{error:?}");
        let error = parse(b"").await.err().expect("an error");
        assert!(matches!(error, ClientError::RestartNeeded(_)), "{error:?}");
    }

    #[test]
    fn answers_decode_to_results_or_faults() {
        let version: String = decode(br#"{"jsonrpc":"2.0","id":0,"result":"3.0"}"#).expect("ok");
        assert_eq!(version, "3.0");
        let unit: Option<String> =
            decode(br#"{"jsonrpc":"2.0","id":0,"result":null}"#).expect("ok");
        assert_eq!(unit, None);
        decode::<()>(br#"{"jsonrpc":"2.0","id":0,"result":null}"#).expect("null as ()");
        let infos: Vec<u32> =
            decode(br#"{"jsonrpc":"2.0","id":0,"result":[1,2,3]}"#).expect("a list");
        assert_eq!(infos, [1, 2, 3]);
        decode::<Vec<u32>>(br#"{"jsonrpc":"2.0","id":0,"result":"x"}"#)
            .expect_err("a result of the wrong type is a parse error");
        let error = decode::<String>(
            br#"{"jsonrpc":"2.0","id":0,"error":{"code":10,"message":"BAD_NAME: nope"}}"#,
        )
        .expect_err("a fault");
        match error {
            ClientError::Call(object) => {
                assert_eq!((object.code(), object.message()), (10, "BAD_NAME: nope"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn pipelined_answers_are_read_one_after_the_other() {
        let (ours, mut theirs) = tokio::net::UnixStream::pair().expect("socket pair");
        // Three answers in one write, the middle one chunked: each read leaves the bytes of
        // the next in `carry`.
        theirs
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst\
                  HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n\
                  HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nthird",
            )
            .await
            .expect("write");
        drop(theirs);
        let mut stream = Stream::Unix(ours);
        let mut carry = Vec::new();
        for expected in [&b"first"[..], b"second", b"third"] {
            let response = read_response(&mut stream, &mut carry)
                .await
                .expect("an answer");
            assert_eq!(&response.body[..], expected);
        }
        assert!(carry.is_empty());
        assert!(read_response(&mut stream, &mut carry).await.is_err());
    }
}
