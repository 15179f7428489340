//! `[fcgi-program:x]`: the group's processes share one listening socket as stdin, created
//! before the first spawn and closed after the last exit, as supervisord's socket manager.

use rsupervisor_e2e::{info_pid, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;
use std::io::Read;

use crate::support::*;

/// The kernel's name for a process's stdin, e.g. `socket:[1234]`.
fn stdin_of(pid: i32) -> String {
    std::fs::read_link(format!("/proc/{pid}/fd/0"))
        .unwrap_or_else(|e| panic!("stdin of {pid}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// What the fixture behind `stream` answers (`pid N`).
fn answer(mut stream: impl Read) -> String {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    text.trim_end().to_owned()
}

#[test]
fn fcgi_processes_share_one_socket_that_lives_while_one_of_them_runs() {
    let dir = TestDir::new();
    let port = free_port();
    dir.config(&format!(
        "[fcgi-program:web]\n\
         command={{fixture}} --accept-stdin\n\
         socket=tcp://127.0.0.1:{port}\n\
         socket_backlog=8\n\
         numprocs=2\n\
         process_name=%(program_name)s_%(process_num)s\n\
         startsecs=0\n\n\
         [fcgi-program:local]\n\
         command={{fixture}} --accept-stdin\n\
         socket=unix://{{dir}}/%(program_name)s.sock\n\
         socket_mode=0660\n\
         startsecs=0\n"
    ));
    let daemon = Daemon::start(&dir);
    let first = info_pid(&wait_state(&daemon, "web:web_0", "RUNNING", DEADLINE));
    let second = info_pid(&wait_state(&daemon, "web:web_1", "RUNNING", DEADLINE));
    let local = info_pid(&wait_state(&daemon, "local", "RUNNING", DEADLINE));
    let shared = stdin_of(first);
    assert!(shared.starts_with("socket:"), "{shared}");
    assert_eq!(
        stdin_of(second),
        shared,
        "both processes accept on one socket"
    );
    assert_ne!(stdin_of(local), shared);

    // The processes answer on the group's address; the unix socket has its mode.
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let pids = [format!("pid {first}"), format!("pid {second}")];
    assert!(pids.contains(&answer(stream)), "answered by web_0 or web_1");
    let path = dir.path("local.sock");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    let stream = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    assert_eq!(answer(stream), format!("pid {local}"));

    // Tried once at startup, then made by the first spawn.
    let url = format!("tcp://127.0.0.1:{port}");
    let log = daemon.main_log();
    assert_eq!(
        log_messages(&log, &format!("socket {url}")),
        [
            format!("Creating socket {url}"),
            format!("Closing socket {url}"),
            format!("Creating socket {url}"),
        ],
        "{log}"
    );

    // One process stopped: the other still holds the socket.
    assert_eq!(stop(&daemon, "web:web_0", true), Ok(json!(true)));
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("still listening");
    assert_eq!(answer(stream), format!("pid {second}"));
    // The last one stopped: the port is closed, after its exit line.
    assert_eq!(stop(&daemon, "web:web_1", true), Ok(json!(true)));
    let log = wait_until(DEADLINE, "the socket to be closed", || {
        let log = daemon.main_log();
        if log_messages(&log, &format!("Closing socket {url}")).len() == 2 {
            Ok(log)
        } else {
            Err(log)
        }
    });
    let stopped = log.find("stopped: web_1").expect("exit line");
    let closed = log
        .rfind(&format!("Closing socket {url}"))
        .expect("closing");
    assert!(stopped < closed, "{log}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    // Started again, the group gets a socket again.
    let result = daemon.rpc("supervisor.startProcessGroup", json!(["web", true]));
    assert!(result.is_ok(), "{result:?}");
    let again = info_pid(&wait_state(&daemon, "web:web_0", "RUNNING", DEADLINE));
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("listening again");
    let answered = answer(stream);
    assert!(answered.starts_with("pid "), "{answered}");
    assert!(stdin_of(again).starts_with("socket:"));
}

#[test]
fn a_socket_that_cannot_be_made_stops_the_daemon_before_anything_runs() {
    let dir = TestDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    dir.config(&format!(
        "[program:other]\ncommand={{fixture}} --pidfile {{dir}}/other.pid\n\n\
         [fcgi-program:web]\ncommand={{fixture}} --accept-stdin\n\
         socket=tcp://127.0.0.1:{port}\n"
    ));
    let failure = Daemon::start_expect_fail(&dir);
    assert!(
        failure.stderr.contains(&format!(
            "Could not create FastCGI socket tcp://127.0.0.1:{port} of [fcgi-program:web]: \
             bind 127.0.0.1:{port}: Address already in use"
        )),
        "{failure:?}"
    );
    assert!(dir.try_read("other.pid").is_none(), "nothing was started");
    drop(taken);
}
