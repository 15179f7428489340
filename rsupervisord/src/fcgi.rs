//! The listening sockets of `[fcgi-program:x]` groups, shared by their processes as stdin.
//!
//! As supervisord's socket manager: a group's socket is created (`Creating socket <url>` in
//! the main log) when the first of its processes is spawned, every process of the group gets
//! the same listening socket as its fd 0, and the socket is closed (`Closing socket <url>`)
//! when the last of them has exited, so a stopped group holds no port. The daemon also
//! creates and closes each socket once at startup, so a port in use or a bad path stops it
//! before anything runs.
//!
//! [`Sockets`] only counts who holds what; the actor calls it when it spawns and reaps.

use rsupervisor_config::{FcgiAddress, FcgiSocket};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

/// Creates, binds and listens on `socket`, as supervisord's `create_and_bind` then `listen`:
/// `SO_REUSEADDR` for TCP; for a unix socket an existing file is removed first, then the
/// owner and mode are set (the file is removed again if that fails). Close-on-exec: only a
/// spawn that asks for it hands it to a child.
pub fn bind(socket: &FcgiSocket) -> Result<OwnedFd, String> {
    use nix::sys::socket::{self as net, AddressFamily, SockFlag, SockType};
    let backlog = match socket.backlog {
        Some(backlog) => {
            net::Backlog::new(backlog.min(i32::MAX as u32) as i32).unwrap_or(net::Backlog::MAXCONN)
        }
        None => net::Backlog::MAXCONN,
    };
    match &socket.address {
        FcgiAddress::Tcp { host, port } => {
            use std::net::ToSocketAddrs;
            // supervisord binds an AF_INET socket: the first IPv4 address of the host.
            let address = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|error| format!("cannot resolve {host}: {error}"))?
                .find_map(|address| match address {
                    std::net::SocketAddr::V4(v4) => Some(v4),
                    std::net::SocketAddr::V6(_) => None,
                })
                .ok_or_else(|| format!("{host} has no IPv4 address"))?;
            let fd = net::socket(
                AddressFamily::Inet,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(|errno| format!("socket: {}", errno.desc()))?;
            net::setsockopt(&fd, net::sockopt::ReuseAddr, &true)
                .map_err(|errno| format!("SO_REUSEADDR: {}", errno.desc()))?;
            net::bind(fd.as_raw_fd(), &net::SockaddrIn::from(address))
                .map_err(|errno| format!("bind {address}: {}", errno.desc()))?;
            net::listen(&fd, backlog).map_err(|errno| format!("listen: {}", errno.desc()))?;
            Ok(fd)
        }
        FcgiAddress::Unix { path, owner, mode } => {
            let _ = std::fs::remove_file(path);
            let fd = net::socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(|errno| format!("socket: {}", errno.desc()))?;
            let address = net::UnixAddr::new(path.as_path())
                .map_err(|errno| format!("{}: {}", path.display(), errno.desc()))?;
            net::bind(fd.as_raw_fd(), &address)
                .map_err(|errno| format!("bind {}: {}", path.display(), errno.desc()))?;
            let prepared = prepare_file(path, *owner, *mode).and_then(|()| {
                net::listen(&fd, backlog).map_err(|e| format!("listen: {}", e.desc()))
            });
            if let Err(error) = prepared {
                let _ = std::fs::remove_file(path);
                return Err(error);
            }
            Ok(fd)
        }
    }
}

/// Sets a unix socket file's owner, then its mode, with supervisord's wording on failure.
fn prepare_file(
    path: &std::path::Path,
    owner: Option<(u32, Option<u32>)>,
    mode: u32,
) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), gid)
            .map_err(|error| format!("Could not change ownership of socket file: {error}"))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|error| format!("Could not change permissions of socket file: {error}"))
}

/// The message for a socket that could not be created, naming its section.
pub fn failure(group: &str, socket: &FcgiSocket, error: &str) -> String {
    format!(
        "Could not create FastCGI socket {} of [fcgi-program:{group}]: {error}",
        socket.url
    )
}

/// One group's socket and the processes that hold it.
#[derive(Debug)]
struct Shared {
    config: FcgiSocket,
    socket: Option<Arc<OwnedFd>>,
    holders: HashSet<u64>,
}

/// Every `[fcgi-program:x]` group's socket, by group name. Holders are process ids (the
/// actor's numbers); holding twice or releasing what is not held changes nothing.
#[derive(Debug, Default)]
pub struct Sockets {
    groups: HashMap<String, Shared>,
}

impl Sockets {
    /// Makes `group`'s socket known (`None`: the group has none, or is gone). A group that
    /// changed keeps an open socket until its last holder releases it.
    pub fn configure(&mut self, group: &str, config: Option<&FcgiSocket>) {
        match config {
            Some(config) => {
                let shared = self.groups.entry(group.to_owned()).or_insert(Shared {
                    config: config.clone(),
                    socket: None,
                    holders: HashSet::new(),
                });
                shared.config = config.clone();
            }
            None => {
                if self.groups.get(group).is_some_and(|s| s.holders.is_empty()) {
                    self.groups.remove(group);
                }
            }
        }
    }

    /// The socket `holder`, a process of `group`, gets as stdin, created if no one holds it
    /// yet; `Ok(None)` when the group has no socket. The `Vec` holds the main log lines.
    #[allow(clippy::type_complexity)]
    pub fn acquire(
        &mut self,
        group: &str,
        holder: u64,
    ) -> Result<(Option<Arc<OwnedFd>>, Vec<String>), String> {
        let Some(shared) = self.groups.get_mut(group) else {
            return Ok((None, Vec::new()));
        };
        let mut lines = Vec::new();
        let socket = match &shared.socket {
            Some(socket) => socket.clone(),
            None => {
                lines.push(format!("Creating socket {}", shared.config.url));
                let socket = Arc::new(
                    bind(&shared.config).map_err(|error| failure(group, &shared.config, &error))?,
                );
                shared.socket = Some(socket.clone());
                socket
            }
        };
        shared.holders.insert(holder);
        Ok((Some(socket), lines))
    }

    /// `holder` exited (or never started): closes the socket when it was the last one, and
    /// returns the main log line that says so.
    pub fn release(&mut self, group: &str, holder: u64) -> Option<String> {
        let shared = self.groups.get_mut(group)?;
        if !shared.holders.remove(&holder) || !shared.holders.is_empty() {
            return None;
        }
        shared.socket.take()?;
        Some(format!("Closing socket {}", shared.config.url))
    }

    /// Whether `group`'s socket is open now (for tests and status).
    pub fn is_open(&self, group: &str) -> bool {
        self.groups.get(group).is_some_and(|s| s.socket.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp() -> FcgiSocket {
        FcgiSocket {
            url: "tcp://127.0.0.1:0".into(),
            address: FcgiAddress::Tcp {
                host: "127.0.0.1".into(),
                port: 0,
            },
            backlog: Some(5),
        }
    }

    #[test]
    fn the_socket_lives_from_the_first_holder_to_the_last() {
        let mut sockets = Sockets::default();
        sockets.configure("web", Some(&tcp()));
        assert_eq!(sockets.acquire("plain", 9).expect("ok").0.map(|_| ()), None);
        let (first, lines) = sockets.acquire("web", 1).expect("binds");
        assert_eq!(lines, ["Creating socket tcp://127.0.0.1:0"]);
        let (second, lines) = sockets.acquire("web", 2).expect("shared");
        assert!(lines.is_empty());
        let (first, second) = (first.expect("socket"), second.expect("socket"));
        assert_eq!(first.as_raw_fd(), second.as_raw_fd());
        assert_eq!(sockets.release("web", 1), None);
        assert_eq!(
            sockets.release("web", 1),
            None,
            "a second release is ignored"
        );
        assert!(sockets.is_open("web"));
        assert_eq!(
            sockets.release("web", 2).as_deref(),
            Some("Closing socket tcp://127.0.0.1:0")
        );
        assert!(!sockets.is_open("web"));
        let (_, lines) = sockets.acquire("web", 3).expect("binds again");
        assert_eq!(lines.len(), 1, "created again for the next spawn");
        sockets.configure("web", None);
        assert!(sockets.is_open("web"), "kept while a process holds it");
    }

    #[test]
    fn a_unix_socket_replaces_a_stale_file_and_gets_its_mode() {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.sock");
        std::fs::write(&path, "stale").expect("write");
        let config = FcgiSocket {
            url: format!("unix://{}", path.display()),
            address: FcgiAddress::Unix {
                path: path.clone(),
                owner: None,
                mode: 0o640,
            },
            backlog: None,
        };
        let fd = bind(&config).expect("binds");
        let meta = std::fs::metadata(&path).expect("exists");
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        std::os::unix::net::UnixStream::connect(&path).expect("listens");
        drop(fd);
    }

    #[test]
    fn a_port_in_use_is_named_with_its_section() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let config = FcgiSocket {
            url: format!("tcp://127.0.0.1:{port}"),
            address: FcgiAddress::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            backlog: None,
        };
        let mut sockets = Sockets::default();
        sockets.configure("web", Some(&config));
        let error = sockets.acquire("web", 1).expect_err("in use");
        assert_eq!(
            error,
            format!(
                "Could not create FastCGI socket tcp://127.0.0.1:{port} of [fcgi-program:web]: \
                 bind 127.0.0.1:{port}: Address already in use"
            )
        );
        assert!(!sockets.is_open("web"));
    }
}
