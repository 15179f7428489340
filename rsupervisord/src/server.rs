//! Binding the control sockets: `[unix_http_server] file` and `[inet_http_server] port`.
//!
//! Binding refuses to start a second daemon on a socket that still answers, removes a stale
//! socket left by a crash, and applies `chmod`/`chown`; a TCP port in use is refused with
//! supervisord's message. Serving them is [`crate::http`]'s job.

use rsupervisor_config::{InetHttpServerConfig, UnixHttpServerConfig};
use std::net::{TcpListener as StdTcpListener, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::{Path, PathBuf};

/// Why the socket could not be opened; each names the socket.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another daemon answers on the socket.
    #[error(
        "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.\n(the socket {} answers{})",
        .path.display(),
        .pid.map(|pid| format!("; the pidfile names pid {pid}")).unwrap_or_default()
    )]
    InUse {
        /// Socket path.
        path: PathBuf,
        /// Pid from the pidfile, if it names a live process.
        pid: Option<i32>,
    },
    /// Something else listens on the `[inet_http_server]` port.
    #[error(
        "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.\n(the port {address} is in use)"
    )]
    PortInUse {
        /// `host:port`.
        address: String,
    },
    /// A setting we cannot honour.
    #[error("{0}")]
    Unsupported(String),
    /// Any other failure, with what we were doing.
    #[error("Cannot open an HTTP server: {action} {}: {source}", .path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// Socket path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Binds the control socket. `pidfile` is only read, to name the running daemon in the error.
///
/// Returns the listener and, if a stale socket was removed, a note for the main log.
pub fn bind(
    config: &UnixHttpServerConfig,
    pidfile: &Path,
) -> Result<(StdUnixListener, Option<String>), BindError> {
    let path = &config.file;
    let mut note = None;
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            let pid = std::fs::read_to_string(pidfile)
                .ok()
                .and_then(|text| text.trim().parse::<i32>().ok())
                .filter(|pid| {
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), None).is_ok()
                });
            return Err(BindError::InUse {
                path: path.clone(),
                pid,
            });
        }
        // Nothing answers: a socket left by a daemon that crashed.
        let message = format!("Unlinking stale socket {}", path.display());
        eprintln!("{message}");
        std::fs::remove_file(path).map_err(|source| BindError::Io {
            action: "removing the stale socket",
            path: path.clone(),
            source,
        })?;
        note = Some(message);
    }
    let listener = StdUnixListener::bind(path).map_err(|source| BindError::Io {
        action: "binding",
        path: path.clone(),
        source,
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.chmod)).map_err(
        |source| BindError::Io {
            action: "setting the mode of",
            path: path.clone(),
            source,
        },
    )?;
    if let Some((uid, gid)) = config.chown {
        nix::unistd::chown(
            path,
            Some(nix::unistd::Uid::from_raw(uid)),
            gid.map(nix::unistd::Gid::from_raw),
        )
        .map_err(|errno| BindError::Io {
            action: "changing the owner of",
            path: path.clone(),
            source: std::io::Error::from(errno),
        })?;
    }
    listener
        .set_nonblocking(true)
        .map_err(|source| BindError::Io {
            action: "configuring",
            path: path.clone(),
            source,
        })?;
    Ok((listener, note))
}

/// Binds `[inet_http_server] port` (an empty host or `*` is every interface). Done before
/// daemonizing, so a port in use is reported on the operator's terminal, in supervisord's
/// words.
pub fn bind_tcp(config: &InetHttpServerConfig) -> Result<StdTcpListener, BindError> {
    let host = match config.host.as_str() {
        "" | "*" => "0.0.0.0",
        host => host,
    };
    let address = format!("{host}:{}", config.port);
    let path = PathBuf::from(&address);
    let mut addresses = address.to_socket_addrs().map_err(|source| BindError::Io {
        action: "resolving",
        path: path.clone(),
        source,
    })?;
    let Some(socket_address) = addresses.next() else {
        return Err(BindError::Unsupported(format!(
            "Could not determine IP address for hostname {host}, please try setting an explicit IP address in the \"port\" setting of your [inet_http_server] section.  For example, instead of \"port = 9001\", try \"port = 127.0.0.1:9001.\""
        )));
    };
    StdTcpListener::bind(socket_address).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BindError::PortInUse { address }
        } else {
            BindError::Io {
                action: "binding",
                path,
                source,
            }
        }
    })
}
