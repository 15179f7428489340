//! The actor's side of the event system: publishing events, moving listeners through the
//! protocol as their tokens arrive, and writing events to their stdin.
//!
//! The [`crate::events::Bus`] holds the pools and buffers; this file is where the actor's
//! facts (a state change, a spawn, an exit, a tick deadline) meet it. Writes to a
//! listener's stdin are tasks, so a listener that does not read never blocks the actor;
//! it holds one event at a time, so its writes never interleave.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use rsupervisor_api::ProcessState;
use rsupervisor_config::{GroupConfig, LogLevel};
use tokio::io::AsyncWriteExt;

use super::event::Event;
use super::process::ProcessId;
use super::Supervisor;
use crate::events::pool::{envelope, Listener};
use crate::events::protocol::ListenerTap;
use crate::events::{self, EventKind, ListenerState, Token};
use crate::logs::capture::{CaptureBuffer, MarkerScanner};
use crate::logs::{Channel, OutputEvent, OutputEvents};

impl Supervisor {
    /// Files an event into the pools that want it; the dispatch happens at the end of the
    /// turn.
    pub(super) fn publish(&mut self, kind: EventKind, payload: impl FnOnce() -> Vec<u8>) {
        if !self.bus.wanted(kind) {
            return;
        }
        for (level, line) in self.bus.publish(kind, payload()) {
            self.log(level, &line);
        }
        self.events_dirty = true;
    }

    /// A REMOTE_COMMUNICATION event from `supervisor.sendRemoteCommEvent`. The payload is
    /// `type:<type>` and the data on the next line, as supervisord documents it (4.3.0 on
    /// Python 3 sends the bytes' repr, `type:b'x'`; see the README's differences).
    pub(super) fn publish_remote(&mut self, event_type: &str, data: &str) {
        self.publish(EventKind::RemoteCommunication, || {
            format!("type:{event_type}\n{data}").into_bytes()
        });
    }

    /// A group was added: its pool (for a listener group) subscribes first, so a pool sees
    /// its own PROCESS_GROUP_ADDED, as in supervisord.
    pub(super) fn group_added(&mut self, config: &GroupConfig) {
        if let Some(listener) = &config.listener {
            self.bus.set_pool(&config.name, listener);
            self.arm_ticks();
        }
        let name = config.name.clone();
        self.publish(EventKind::ProcessGroupAdded, || {
            events::group_payload(&name)
        });
    }

    /// A group was removed.
    pub(super) fn group_removed(&mut self, name: &str) {
        self.publish(EventKind::ProcessGroupRemoved, || {
            events::group_payload(name)
        });
        if self.bus.pool_mut(name).is_some() {
            self.bus.remove_pool(name);
            self.arm_ticks();
        }
    }

    /// The PROCESS_STATE_* event of a transition from `before` to `to`; `pid` is the child
    /// the transition saw (the one that exited for EXITED and STOPPED); `tries` the start
    /// attempts counted in the state entered (STARTING and BACKOFF report it).
    pub(super) fn publish_state(
        &mut self,
        id: ProcessId,
        (before, to): (ProcessState, ProcessState),
        pid: i32,
        tries: u32,
    ) {
        // A listener that reached RUNNING can be sent what its pool holds.
        if to == ProcessState::Running && self.listener_group(id).is_some() {
            self.events_dirty = true;
        }
        let kind = EventKind::for_state(to);
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        // Most daemons have no listener: no payload is built for an event nobody wants (a
        // crash storm makes hundreds of transitions a second).
        if !self.bus.wanted(kind) {
            return;
        }
        let facts = events::StateFacts {
            name: &process.config.name,
            group: &process.config.group,
            from: before,
            to,
            pid,
            tries,
            expected: process
                .config
                .exitcodes
                .contains(&process.machine.exitstatus),
        };
        let payload = events::state_payload(&facts);
        self.publish(kind, || payload);
    }

    /// Whether this stream of a program looks at its bytes for the event system
    /// (`*_events_enabled`, `*_capture_maxbytes` > 0), and if so what its pump sends here.
    /// `None` for every other program: its pump stays on the plain path.
    pub(super) fn output_events(
        &self,
        id: ProcessId,
        pid: i32,
        stream: &rsupervisor_config::StreamLogConfig,
        channel: Channel,
    ) -> Option<OutputEvents> {
        if !stream.events_enabled && stream.capture_maxbytes == 0 {
            return None;
        }
        let kind = match channel {
            Channel::Stdout => EventKind::ProcessLogStdout,
            Channel::Stderr => EventKind::ProcessLogStderr,
        };
        let events = self.events_tx.clone();
        Some(OutputEvents {
            log: stream.events_enabled.then(|| self.bus.log_flag(kind)),
            capture: (stream.capture_maxbytes > 0).then(|| {
                (
                    MarkerScanner::default(),
                    CaptureBuffer::new(stream.capture_maxbytes),
                )
            }),
            send: Box::new(move |event| {
                let _ = events.send(Event::ProgramOutput {
                    id,
                    pid,
                    channel,
                    event,
                });
            }),
            drain: None,
        })
    }

    /// A PROCESS_LOG_* or PROCESS_COMMUNICATION_* event from a program's pump.
    pub(super) fn on_program_output(
        &mut self,
        id: ProcessId,
        pid: i32,
        channel: Channel,
        event: OutputEvent,
    ) {
        if event == OutputEvent::Drained {
            self.output_drained(id, pid);
            return;
        }
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        let (name, group) = (process.config.name.clone(), process.config.group.clone());
        match (event, channel) {
            (OutputEvent::Drained, _) => {}
            (OutputEvent::Log(data), _) => {
                let kind = match channel {
                    Channel::Stdout => EventKind::ProcessLogStdout,
                    Channel::Stderr => EventKind::ProcessLogStderr,
                };
                self.publish(kind, || {
                    events::log_payload(&name, &group, pid, channel.as_str(), &data)
                });
            }
            (OutputEvent::Communication(data), Channel::Stdout) => {
                self.publish(EventKind::ProcessCommunicationStdout, || {
                    events::communication_payload(&name, &group, pid, &data)
                });
            }
            (OutputEvent::Communication(data), Channel::Stderr) => {
                self.publish(EventKind::ProcessCommunicationStderr, || {
                    events::communication_payload(&name, &group, pid, &data)
                });
            }
        }
    }

    /// The pool a process is a listener of.
    pub(super) fn listener_group(&self, id: ProcessId) -> Option<String> {
        let process = self.processes.get(&id)?;
        let group = &process.config.group;
        self.bus
            .pools
            .iter()
            .any(|p| &p.name == group)
            .then(|| group.clone())
    }

    /// A listener was spawned: it starts ACKNOWLEDGED, and its stdout pump gets the tap
    /// that sends its tokens here. `None` for a process that is not a listener.
    pub(super) fn listener_spawned(&mut self, id: ProcessId, pid: i32) -> Option<ListenerTap> {
        let group = self.listener_group(id)?;
        let pool = self.bus.pool_mut(&group)?;
        let listener = Listener::new();
        let dead = listener.dead.clone();
        pool.listeners.insert(id, listener);
        let events = self.events_tx.clone();
        Some(ListenerTap::new(
            dead,
            Box::new(move |tokens| {
                let _ = events.send(Event::ListenerTokens { id, pid, tokens });
            }),
        ))
    }

    /// A listener's child is gone: the event it held goes back to the head of the buffer.
    pub(super) fn listener_gone(&mut self, id: ProcessId) {
        let Some(group) = self.listener_group(id) else {
            return;
        };
        let Some(pool) = self.bus.pool_mut(&group) else {
            return;
        };
        let Some(listener) = pool.listeners.remove(&id) else {
            return;
        };
        listener.dead.store(true, Ordering::Relaxed);
        if let Some(pooled) = listener.event {
            let lines = pool.rebuffer(pooled);
            for (level, line) in lines {
                self.log(level, &line);
            }
            self.events_dirty = true;
        }
    }

    /// What a listener wrote, as tokens from its pump.
    pub(super) fn on_listener_tokens(&mut self, id: ProcessId, pid: i32, tokens: Vec<Token>) {
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        if process.machine.pid != Some(pid) {
            return; // an earlier child's last words
        }
        let name = process.config.name.clone();
        let Some(group) = self.listener_group(id) else {
            return;
        };
        let mut lines = Vec::new();
        if let Some(pool) = self.bus.pool_mut(&group) {
            for token in tokens {
                let Some(listener) = pool.listeners.get_mut(&id) else {
                    break;
                };
                let mut rejected = None;
                match (listener.state, token) {
                    (ListenerState::Unknown, _) => break,
                    (ListenerState::Acknowledged, Token::Ready) => {
                        change(&name, listener, &mut lines, ListenerState::Ready);
                    }
                    (ListenerState::Busy, Token::Result(body)) => {
                        if body == b"OK" {
                            lines.push((LogLevel::Debug, format!("{name}: event was processed")));
                        } else {
                            lines.push((LogLevel::Warn, format!("{name}: event was rejected")));
                            rejected = listener.event.take();
                        }
                        listener.event = None;
                        change(&name, listener, &mut lines, ListenerState::Acknowledged);
                    }
                    (ListenerState::Busy, other) => {
                        let line = match other {
                            Token::Ready => b"READY".to_vec(),
                            Token::Garbage(line) | Token::Result(line) => line,
                        };
                        let shown = match String::from_utf8(line) {
                            Ok(text) => text,
                            Err(error) => format!(
                                "Undecodable: {}",
                                crate::logs::pump::python_bytes_repr(error.as_bytes())
                            ),
                        };
                        lines.push((
                            LogLevel::Warn,
                            format!("{name}: bad result line: '{shown}'"),
                        ));
                        rejected = listener.event.take();
                        change(&name, listener, &mut lines, ListenerState::Unknown);
                    }
                    (_, _) => {
                        listener.event = None;
                        change(&name, listener, &mut lines, ListenerState::Unknown);
                    }
                }
                if let Some(pooled) = rejected {
                    lines.extend(pool.rebuffer(pooled));
                }
            }
        }
        for (level, line) in lines {
            self.log(level, &line);
        }
        self.events_dirty = true;
    }

    /// Sends buffered events to ready listeners, oldest first, in every pool.
    pub(super) fn dispatch_events(&mut self) {
        self.events_dirty = false;
        let identifier = self.config.supervisord.identifier.clone();
        let mut sends = Vec::new();
        let mut waiting = Vec::new();
        for group in &self.groups {
            let Some(pool) = self
                .bus
                .pools
                .iter_mut()
                .find(|p| p.name == group.config.name)
            else {
                continue;
            };
            let running: Vec<ProcessId> = group
                .members
                .iter()
                .copied()
                .filter(|id| {
                    self.processes
                        .get(id)
                        .is_some_and(|p| p.machine.state == ProcessState::Running)
                })
                .collect();
            let before = sends.len();
            while let Some((member, pooled)) = pool.next_dispatch(&running) {
                let bytes = envelope(&identifier, &pool.name, &pooled);
                sends.push((member, pooled.event.serial, bytes));
            }
            if sends.len() > before {
                waiting.extend(pool.left_waiting());
            }
        }
        for (id, serial, bytes) in sends {
            let Some(process) = self.processes.get(&id) else {
                continue;
            };
            let name = process.config.name.clone();
            let Some(stdin) = process.stdin.clone() else {
                // Gone already: its exit puts the event back.
                continue;
            };
            self.log(
                LogLevel::Debug,
                &format!("event {serial} sent to listener {name}"),
            );
            let main_log = self.services.main_log.clone();
            tokio::spawn(async move {
                let mut stdin = stdin.lock().await;
                if let Err(error) = stdin.write_all(&bytes).await {
                    // The listener is going away; its exit re-buffers the event.
                    main_log.log(
                        LogLevel::Debug,
                        &format!(
                            "epipe occurred while sending event {serial} to listener {name}, listener state unchanged ({error})"
                        ),
                    );
                }
            });
        }
        // As supervisord: after the sends, the event it took and had to put back.
        for (level, line) in waiting {
            self.log(level, &line);
        }
    }

    /// Arms one deadline task per TICK period some pool subscribes to (none otherwise), at
    /// the next wall-clock multiple of the period, as supervisord's ticks fall.
    pub(super) fn arm_ticks(&mut self) {
        for task in self.tick_tasks.drain(..) {
            task.abort();
        }
        for kind in [EventKind::Tick5, EventKind::Tick60, EventKind::Tick3600] {
            if !self.bus.wanted(kind) {
                continue;
            }
            let Some(period) = kind.tick_period() else {
                continue;
            };
            let events = self.events_tx.clone();
            let task = tokio::spawn(async move {
                loop {
                    let now = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .unwrap_or_default();
                    let when = (now.as_secs() / period + 1) * period;
                    let wait = Duration::from_secs(when).saturating_sub(now);
                    tokio::time::sleep(wait).await;
                    if events.send(Event::Tick { kind, when }).is_err() {
                        return;
                    }
                }
            });
            self.tick_tasks.push(task.abort_handle());
        }
    }

    /// A tick deadline passed.
    pub(super) fn on_tick(&mut self, kind: EventKind, when: u64) {
        self.publish(kind, || events::tick_payload(when));
    }
}

/// Moves a listener to `to`, with supervisord's debug line (and its warning for UNKNOWN).
fn change(
    name: &str,
    listener: &mut Listener,
    lines: &mut Vec<(LogLevel, String)>,
    to: ListenerState,
) {
    lines.push((
        LogLevel::Debug,
        format!("{name}: {} -> {}", listener.state.as_str(), to.as_str()),
    ));
    listener.state = to;
    if to == ListenerState::Unknown {
        listener.dead.store(true, Ordering::Relaxed);
        lines.push((
            LogLevel::Warn,
            format!(
                "{name}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"
            ),
        ));
    }
}
