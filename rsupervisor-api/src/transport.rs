//! Client side of the Unix-socket transport: WebSocket framing over a `UnixStream`.
//!
//! jsonrpsee's HTTP client cannot dial a Unix socket, but its WebSocket transport accepts any
//! stream, so the ctl connects the socket itself and hands it over. The daemon serves both plain
//! HTTP POST and WebSocket upgrades on the same socket.

use jsonrpsee::async_client::{Client, ClientBuilder};
use jsonrpsee::client_transport::ws::{Url, WsTransportClientBuilder};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a connection to the daemon could not be made; each names the socket.
#[derive(Debug, thiserror::Error)]
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
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        connect_now(path, request_timeout, credentials),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Other {
            path: path.to_path_buf(),
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
    path: &Path,
    request_timeout: Duration,
    credentials: Option<(&str, &str)>,
) -> Result<Client, ConnectError> {
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|error| {
            let path = path.to_path_buf();
            match error.kind() {
                std::io::ErrorKind::NotFound => ConnectError::NoSuchFile { path },
                std::io::ErrorKind::ConnectionRefused => ConnectError::Refused { path },
                std::io::ErrorKind::PermissionDenied => ConnectError::PermissionDenied { path },
                _ => ConnectError::Other {
                    path,
                    message: error.to_string(),
                },
            }
        })?;
    // The host only fills the Host header; the socket path decides where we talk to.
    let url = Url::parse("ws://localhost/").map_err(|error| ConnectError::Other {
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
    let (sender, receiver) = WsTransportClientBuilder::default()
        .set_headers(headers)
        .max_request_size(u32::MAX)
        .max_response_size(u32::MAX)
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
