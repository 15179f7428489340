//! The control socket: binding `[unix_http_server] file` safely, and serving JSON-RPC on it.
//!
//! Binding refuses to start a second daemon on a socket that still answers, removes a stale
//! socket left by a crash, and applies `chmod`/`chown`. Serving accepts connections in one
//! loop and hands each to jsonrpsee, which speaks plain HTTP POST and WebSocket on the same
//! stream. When `username`/`password` are set, every request must carry HTTP Basic
//! credentials, as with supervisord.

use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::Methods;
use rsupervisor_config::UnixHttpServerConfig;
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
    if config
        .password
        .as_deref()
        .is_some_and(|password| password.starts_with("{SHA}"))
    {
        return Err(BindError::Unsupported(
            "[unix_http_server] password: hashed {SHA} passwords are not supported yet; write the plain password (the socket's chmod protects the file's readers only, so keep the config file mode 0600)".to_owned(),
        ));
    }
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

/// The expected `Authorization` header value, when credentials are configured.
pub fn expected_authorization(config: &UnixHttpServerConfig) -> Option<String> {
    let (user, password) = (config.username.as_ref()?, config.password.as_ref()?);
    Some(rsupervisor_api::auth::basic_authorization(user, password))
}

/// Serves `methods` on `listener` until the returned handle is stopped.
pub fn serve(
    listener: StdUnixListener,
    methods: Methods,
    authorization: Option<String>,
) -> std::io::Result<ServerHandle> {
    let listener = tokio::net::UnixListener::from_std(listener)?;
    let (stop_handle, server_handle) = stop_channel();
    // Many ctl clients and followers may be connected at once; responses carry whole logs.
    let server_config = ServerConfig::builder()
        .max_connections(10_000)
        .max_request_body_size(64 * 1024 * 1024)
        .max_response_body_size(256 * 1024 * 1024)
        .build();
    let builder = Server::builder()
        .set_config(server_config)
        .to_service_builder();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    // EMFILE and friends: drop this connection, keep serving others.
                    Err(_) => continue,
                },
                () = stop_handle.clone().shutdown() => break,
            };
            let service = builder.clone().build(methods.clone(), stop_handle.clone());
            let authorization = authorization.clone();
            let service =
                tower::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let mut service = service.clone();
                    let authorized = match &authorization {
                        None => true,
                        Some(expected) => request
                            .headers()
                            .get(http::header::AUTHORIZATION)
                            .is_some_and(|value| value.as_bytes() == expected.as_bytes()),
                    };
                    async move {
                        if !authorized {
                            let mut response = jsonrpsee::server::HttpResponse::new(
                                jsonrpsee::server::HttpBody::from("401 Unauthorized\n".to_owned()),
                            );
                            *response.status_mut() = http::StatusCode::UNAUTHORIZED;
                            response.headers_mut().insert(
                                http::header::WWW_AUTHENTICATE,
                                http::HeaderValue::from_static("Basic realm=\"default\""),
                            );
                            return Ok(response);
                        }
                        tower::Service::call(&mut service, request).await
                    }
                });
            tokio::spawn(serve_with_graceful_shutdown(
                stream,
                service,
                stop_handle.clone().shutdown(),
            ));
        }
    });
    Ok(server_handle)
}
