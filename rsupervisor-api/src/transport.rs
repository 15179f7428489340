//! Client side of the transport: WebSocket framing over a `UnixStream` or a `TcpStream`,
//! used by [`crate::http_client::Client`] for subscriptions only (its calls are plain HTTP
//! POSTs).
//!
//! jsonrpsee's HTTP client cannot dial a Unix socket, but its WebSocket transport accepts any
//! stream, so the ctl connects the socket (or the `[inet_http_server]` port) itself and hands
//! it over. The daemon serves plain HTTP POST and WebSocket upgrades on the same listener.

use jsonrpsee::async_client::{Client, ClientBuilder};
use jsonrpsee::client_transport::ws::{Url, WsTransportClientBuilder};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path`: the `[unix_http_server]` socket.
    Unix(PathBuf),
    /// `http://host:port`: the `[inet_http_server]`.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
}

impl Endpoint {
    /// What errors name: the socket path, or `host:port`.
    pub(crate) fn label(&self) -> PathBuf {
        match self {
            Endpoint::Unix(path) => path.clone(),
            Endpoint::Tcp { host, port } => PathBuf::from(format!("{host}:{port}")),
        }
    }
}

/// Why a connection to the daemon could not be made; each names the socket (or
/// `host:port`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    /// The socket file does not exist (daemon not running, or a different path).
    #[error("{} no such file", .path.display())]
    NoSuchFile {
        /// Socket path.
        path: PathBuf,
    },
    /// The socket exists but nothing accepts connections on it.
    #[error("{} refused connection", .path.display())]
    Refused {
        /// Socket path.
        path: PathBuf,
    },
    /// The socket exists but we may not connect to it.
    #[error("{} permission denied (check [unix_http_server] chmod/chown)", .path.display())]
    PermissionDenied {
        /// Socket path.
        path: PathBuf,
    },
    /// Any other failure.
    #[error("{}: {message}", .path.display())]
    Other {
        /// Socket path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// How long connecting and the handshake may take: a daemon that accepts connections but
/// never answers (stuck, or stopped with SIGSTOP) must not hang the ctl.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the daemon's socket and returns a JSON-RPC client on it, giving up after
/// [`CONNECT_TIMEOUT`].
pub async fn connect(
    path: &Path,
    request_timeout: Duration,
    credentials: Option<(&str, &str)>,
) -> Result<Client, ConnectError> {
    connect_to(
        &Endpoint::Unix(path.to_path_buf()),
        request_timeout,
        credentials,
    )
    .await
}

/// Connects to the daemon at `endpoint` and returns a JSON-RPC client, giving up after
/// [`CONNECT_TIMEOUT`].
pub async fn connect_to(
    endpoint: &Endpoint,
    request_timeout: Duration,
    credentials: Option<(&str, &str)>,
) -> Result<Client, ConnectError> {
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        connect_now(endpoint, request_timeout, credentials),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Other {
            path: endpoint.label(),
            message: format!(
                "no answer within {} s (is rsupervisord stuck?)",
                CONNECT_TIMEOUT.as_secs()
            ),
        }),
    }
}

/// Connects to the daemon's socket and returns a JSON-RPC client on it.
///
/// `request_timeout` bounds every single call; long calls such as `startProcess` with
/// `wait=true` must fit in it. `credentials` (user, password) are sent as HTTP Basic
/// authorization when the daemon's `[unix_http_server]` requires them.
async fn connect_now(
    endpoint: &Endpoint,
    request_timeout: Duration,
    credentials: Option<(&str, &str)>,
) -> Result<Client, ConnectError> {
    let path = &endpoint.label();
    let connect_error = |error: std::io::Error| connect_error(endpoint, error);
    // For a Unix socket the host only fills the Host header; the path decides where we talk.
    let (stream, url) = match endpoint {
        Endpoint::Unix(socket) => (
            Stream::Unix(
                tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(connect_error)?,
            ),
            "ws://localhost/".to_owned(),
        ),
        Endpoint::Tcp { host, port } => {
            let stream = tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(connect_error)?;
            let _ = stream.set_nodelay(true);
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            (Stream::Tcp(stream), format!("ws://{host}:{port}/"))
        }
    };
    let url = Url::parse(&url).map_err(|error| ConnectError::Other {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    let mut headers = jsonrpsee::client_transport::ws::HeaderMap::new();
    if let Some((user, password)) = credentials {
        let value = crate::auth::basic_authorization(user, password);
        let value = value.parse().map_err(|_| ConnectError::Other {
            path: path.to_path_buf(),
            message: "the username or password contains characters not allowed in HTTP headers"
                .to_owned(),
        })?;
        headers.insert("authorization", value);
    }
    let builder = WsTransportClientBuilder::default()
        .set_headers(headers)
        .max_request_size(u32::MAX)
        .max_response_size(u32::MAX);
    match stream {
        Stream::Unix(stream) => finish(builder, url, stream, request_timeout, path).await,
        Stream::Tcp(stream) => finish(builder, url, stream, request_timeout, path).await,
    }
}

/// The WebSocket handshake on a connected stream, and the client on top of it.
async fn finish<T>(
    builder: WsTransportClientBuilder,
    url: Url,
    stream: T,
    request_timeout: Duration,
    path: &Path,
) -> Result<Client, ConnectError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, receiver) = builder
        .build_with_stream(url, stream)
        .await
        .map_err(|error| ConnectError::Other {
            path: path.to_path_buf(),
            message: match &error {
                jsonrpsee::client_transport::ws::WsHandshakeError::Rejected {
                    status_code: 401,
                } => "Server requires authentication (check the username and password)".to_owned(),
                _ => format!("websocket handshake failed: {error}"),
            },
        })?;
    Ok(ClientBuilder::default()
        .request_timeout(request_timeout)
        .max_buffer_capacity_per_subscription(4096)
        .build_with_tokio(sender, receiver))
}

/// The [`ConnectError`] for a failed `connect(2)` to `endpoint`.
pub(crate) fn connect_error(endpoint: &Endpoint, error: std::io::Error) -> ConnectError {
    let path = endpoint.label();
    match error.kind() {
        std::io::ErrorKind::NotFound => ConnectError::NoSuchFile { path },
        std::io::ErrorKind::ConnectionRefused => ConnectError::Refused { path },
        std::io::ErrorKind::PermissionDenied => ConnectError::PermissionDenied { path },
        _ => ConnectError::Other {
            path,
            message: error.to_string(),
        },
    }
}

enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}
