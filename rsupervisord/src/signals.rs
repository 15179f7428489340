//! Turns the signals the daemon handles into supervisor events (reference §7).
//!
//! SIGTERM, SIGINT and SIGQUIT shut down, SIGHUP reloads, SIGUSR2 reopens logs, SIGCHLD makes
//! the supervisor reap its exited children. Every signal but SIGCHLD is written to the
//! audit log (surface `signal`) before it is acted on; SIGUSR2 also reopens that log.

use crate::access::Gate;
use crate::supervisor::event::Event;
use crate::supervisor::handle::SupervisorHandle;
use tokio::signal::unix::{signal, SignalKind};

/// Starts the task that forwards signals to the supervisor. Lives until the runtime ends.
pub fn forward(handle: SupervisorHandle, gate: Gate) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    let mut chld = signal(SignalKind::child())?;
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                Some(()) = term.recv() => Event::ShutdownSignal("SIGTERM"),
                Some(()) = int.recv() => Event::ShutdownSignal("SIGINT"),
                Some(()) = quit.recv() => Event::ShutdownSignal("SIGQUIT"),
                Some(()) = hup.recv() => Event::ReloadSignal,
                Some(()) = usr2.recv() => Event::ReopenSignal,
                Some(()) = chld.recv() => Event::ChildSignal,
                else => break,
            };
            let name = match &event {
                Event::ShutdownSignal(name) => Some(*name),
                Event::ReloadSignal => Some("SIGHUP"),
                Event::ReopenSignal => Some("SIGUSR2"),
                _ => None,
            };
            if let Some(name) = name {
                gate.signal(name).await;
            }
            if matches!(event, Event::ReopenSignal) {
                gate.reopen();
            }
            handle.notify(event);
        }
    });
    Ok(())
}
