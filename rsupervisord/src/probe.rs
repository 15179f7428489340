//! Probes: one check of something outside the daemon (an HTTP endpoint, a TCP port, a
//! command, a file), for health checks and `wait_for`.
//!
//! Each check is a future with its own timeout, run as a task on the event loop; the
//! supervisor actor spawns it and gets the result back as an event. Nothing here sleeps on a
//! schedule: the next health check is a deadline the actor arms after a result.
//!
//! `exec:` probes are children of the daemon, and the actor reaps every child on SIGCHLD
//! (`waitpid(-1)`): a probe child waited for by anyone else would be reaped from under it.
//! So the actor forks them ([`spawn_exec`], on the reaping task, like programs), keeps
//! their pid, and hands the exit status to the probe's task through a oneshot channel
//! ([`await_exec`]); a probe that times out kills its process group and the actor still
//! reaps it.
//!
//! HTTP uses hyper's HTTP/1 client connection (hyper is already in the tree for the control
//! socket): a GET answered with a status below 400 passes, as Kubernetes counts it.

use crate::supervisor::fsm::ExitStatus;
use rsupervisor_config::policy::format_duration;
use rsupervisor_config::Probe;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::sync::oneshot;

/// The result of one check: passed, or why not (worded for `status`).
pub type Outcome = Result<(), String>;

/// Runs one non-`exec` check, failing after `timeout`.
pub async fn check(probe: &Probe, timeout: Duration) -> Outcome {
    let attempt = async {
        match probe {
            Probe::Http {
                host, port, path, ..
            } => http(host, *port, path).await,
            Probe::Tcp { host, port } => tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map(drop)
                .map_err(|error| io_text(&error)),
            Probe::File { path } => file(path).await,
            Probe::Exec { .. } => Err("exec probes are started by the supervisor".to_owned()),
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("timed out after {}", format_duration(timeout))),
    }
}

async fn file(path: &Path) -> Outcome {
    match tokio::fs::metadata(path).await {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{} does not exist", path.display()))
        }
        Err(error) => Err(format!("{}: {}", path.display(), io_text(&error))),
    }
}

async fn http(host: &str, port: u16, path: &str) -> Outcome {
    use http_body_util::Empty;
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|error| io_text(&error))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|error| format!("HTTP handshake failed: {error}"))?;
    // The connection is driven beside the request; it ends with the request's future (or
    // when this check is dropped at its timeout).
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = http::Request::get(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, "rsupervisord-healthcheck")
        .header(http::header::CONNECTION, "close")
        .body(Empty::<&'static [u8]>::new())
        .map_err(|error| format!("bad request for {path}: {error}"))?;
    let response = sender.send_request(request).await;
    driver.abort();
    let status = response
        .map_err(|error| format!("HTTP request failed: {error}"))?
        .status();
    if status.as_u16() < 400 {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// `connection refused` rather than `Connection refused (os error 111)`.
fn io_text(error: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match error.kind() {
        ConnectionRefused | ConnectionReset | TimedOut | AddrNotAvailable | PermissionDenied
        | NotFound => error.kind().to_string(),
        _ => error.to_string(),
    }
}

/// An `exec:` probe child, forked by the reaping task.
#[derive(Debug)]
pub struct ExecChild {
    /// Its pid (and process group).
    pub pid: i32,
    /// Where the reaper sends its exit status.
    pub exit: oneshot::Sender<ExitStatus>,
    /// What [`await_exec`] waits on.
    pub waiting: oneshot::Receiver<ExitStatus>,
}

/// Forks an `exec:` probe: the command split like `command=`, in the program's environment
/// and directory, in a process group of its own, output discarded. Must be called from the
/// task that reaps children (see the module docs).
pub fn spawn_exec(
    command: &str,
    environment: &[(String, String)],
    directory: Option<&Path>,
) -> Result<ExecChild, String> {
    let argv = crate::command_line::split(command)?;
    let Some((program, args)) = argv.split_first() else {
        return Err("empty exec: command".to_owned());
    };
    let mut child = std::process::Command::new(program);
    child
        .args(args)
        .env_clear()
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(directory) = directory {
        child.current_dir(directory);
    }
    // The `Child` is dropped without waiting: the actor reaps the pid.
    let spawned = child
        .spawn()
        .map_err(|error| format!("could not run {program}: {}", io_text(&error)))?;
    let pid = i32::try_from(spawned.id()).map_err(|_| "pid out of range".to_owned())?;
    let (exit, waiting) = oneshot::channel();
    Ok(ExecChild { pid, exit, waiting })
}

/// Waits for an `exec:` probe's exit (reported by the reaper), up to `timeout`; a probe
/// still running then is killed with its process group.
pub async fn await_exec(
    pid: i32,
    waiting: oneshot::Receiver<ExitStatus>,
    timeout: Duration,
) -> Outcome {
    match tokio::time::timeout(timeout, waiting).await {
        Ok(Ok(ExitStatus::Code(0))) => Ok(()),
        Ok(Ok(status)) => Err(status.describe()),
        Ok(Err(_)) => Err("the probe's exit was not reported".to_owned()),
        Err(_) => {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            Err(format!("timed out after {}", format_duration(timeout)))
        }
    }
}

/// Waits until every `wait_for` condition holds, in order, checking each again after a
/// growing pause (50 ms doubling to 1 s: an outside port gives no event when it opens), for
/// at most `timeout` in all. The error names the condition that was not met and its last
/// failure.
pub async fn wait_for(conditions: &[Probe], timeout: Duration) -> Outcome {
    let deadline = tokio::time::Instant::now() + timeout;
    for condition in conditions {
        let mut pause = Duration::from_millis(50);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            // Each attempt gets what is left (at most 5 s), so a slow answer near the end
            // still counts.
            let error = match check(condition, left.min(Duration::from_secs(5))).await {
                Ok(()) => break,
                Err(error) => error,
            };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "wait_for {condition} not met within {}: {error}",
                    format_duration(timeout)
                ));
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn http_probe(port: u16, path: &str) -> Probe {
        Probe::Http {
            url: format!("http://127.0.0.1:{port}{path}"),
            host: "127.0.0.1".into(),
            port,
            path: path.into(),
        }
    }

    /// A one-connection-at-a-time HTTP server answering every request with `status`.
    async fn serve(status: &'static str) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn http_passes_below_400_and_fails_above() {
        let ok = serve("204 No Content").await;
        assert_eq!(
            check(&http_probe(ok, "/health"), Duration::from_secs(5)).await,
            Ok(())
        );
        let bad = serve("503 Service Unavailable").await;
        assert_eq!(
            check(&http_probe(bad, "/"), Duration::from_secs(5)).await,
            Err("HTTP 503 Service Unavailable".to_owned())
        );
    }

    #[tokio::test]
    async fn a_hung_endpoint_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        // Accepted by the kernel's backlog, never answered.
        let outcome = check(&http_probe(port, "/"), Duration::from_millis(200)).await;
        assert_eq!(outcome, Err("timed out after 200ms".to_owned()));
        drop(listener);
    }

    #[tokio::test]
    async fn tcp_and_file() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let tcp = Probe::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        assert_eq!(check(&tcp, Duration::from_secs(5)).await, Ok(()));
        drop(listener);
        assert_eq!(
            check(&tcp, Duration::from_secs(5)).await,
            Err("connection refused".to_owned())
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ready");
        let file = Probe::File { path: path.clone() };
        let missing = check(&file, Duration::from_secs(5)).await;
        assert_eq!(missing, Err(format!("{} does not exist", path.display())));
        std::fs::write(&path, "").expect("write");
        assert_eq!(check(&file, Duration::from_secs(5)).await, Ok(()));
    }

    #[tokio::test]
    async fn wait_for_sees_a_late_port_and_names_what_never_came() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let tcp = Probe::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        let opener = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::net::TcpListener::bind(("127.0.0.1", port)).expect("rebind")
        });
        assert_eq!(
            wait_for(std::slice::from_ref(&tcp), Duration::from_secs(10)).await,
            Ok(())
        );
        drop(opener.await.expect("opener"));
        let error = wait_for(&[tcp], Duration::from_millis(300))
            .await
            .expect_err("closed port");
        assert_eq!(
            error,
            format!("wait_for tcp://127.0.0.1:{port} not met within 300ms: connection refused")
        );
    }
}
