//! supervisord's event system: event types, payloads, the `[eventlistener:x]` pools and
//! the listener protocol.
//!
//! The actor owns one [`Bus`]: it publishes events (a state change, a tick, a group added,
//! ...) and the bus files them into the pools that subscribe, with supervisord's serials
//! and buffer rules ([`pool`]). What a listener writes on its stdout is cut into tokens by
//! its pump ([`protocol::Tokenizer`]) and handed to the actor, which moves the listener
//! through the protocol states and sends the next event on its stdin
//! (`supervisor/listeners.rs`). Nothing here does I/O.

pub mod kind;
pub mod pool;
pub mod protocol;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rsupervisor_api::ProcessState;
use rsupervisor_config::model::{ListenerConfig, LogLevel};

pub use kind::EventKind;
pub use pool::{Pool, Pooled, Published};
pub use protocol::{ListenerState, Token, Tokenizer};

/// Every pool, and the global event serial.
#[derive(Debug, Default)]
pub struct Bus {
    /// The pools, by group name.
    pub pools: Vec<Pool>,
    /// The last global serial given (`None` before the first event).
    serial: Option<u64>,
    /// Raised while some pool subscribes to PROCESS_LOG_STDOUT, resp. PROCESS_LOG_STDERR:
    /// the pumps of programs with `*_events_enabled` send their chunks only then.
    log_wanted: [Arc<AtomicBool>; 2],
}

impl Bus {
    /// Creates the pool of a listener group, or updates its subscriptions and size keeping
    /// its buffer and listeners (an `update` of the group).
    pub fn set_pool(&mut self, name: &str, config: &ListenerConfig) {
        let fresh = Pool::new(name, &config.events, config.buffer_size);
        match self.pools.iter_mut().find(|p| p.name == name) {
            Some(pool) => pool.reconfigure(fresh),
            None => self.pools.push(fresh),
        }
        self.refresh_flags();
    }

    /// Drops a pool (its group was removed); its buffered events are lost, as in
    /// supervisord.
    pub fn remove_pool(&mut self, name: &str) {
        self.pools.retain(|p| p.name != name);
        self.refresh_flags();
    }

    /// Drops every pool (a reload builds them again).
    pub fn clear(&mut self) {
        self.pools.clear();
        self.refresh_flags();
    }

    /// The flag a pump of this PROCESS_LOG_* type (`ProcessLogStdout` or
    /// `ProcessLogStderr`) looks at before it sends a chunk.
    pub fn log_flag(&self, kind: EventKind) -> Arc<AtomicBool> {
        let index = usize::from(kind == EventKind::ProcessLogStderr);
        self.log_wanted[index].clone()
    }

    fn refresh_flags(&self) {
        for (index, kind) in [EventKind::ProcessLogStdout, EventKind::ProcessLogStderr]
            .into_iter()
            .enumerate()
        {
            self.log_wanted[index].store(self.wanted(kind), Ordering::Relaxed);
        }
    }

    /// The pool of this group, if it is a listener pool.
    pub fn pool_mut(&mut self, name: &str) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.name == name)
    }

    /// Whether any pool receives events of this type (so the work of making one can be
    /// skipped, and tick deadlines need not be armed).
    pub fn wanted(&self, kind: EventKind) -> bool {
        self.pools.iter().any(|p| p.subscribes(kind))
    }

    /// Files an event into every pool that subscribes; returns the log lines (overflows).
    /// An event no pool wants gets no serial, as in supervisord.
    pub fn publish(&mut self, kind: EventKind, payload: Vec<u8>) -> Vec<(LogLevel, String)> {
        let mut lines = Vec::new();
        if !self.wanted(kind) {
            return lines;
        }
        let serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(serial);
        let event = Arc::new(Published {
            kind,
            serial,
            payload,
        });
        for pool in self.pools.iter_mut().filter(|p| p.subscribes(kind)) {
            lines.extend(pool.accept(event.clone()));
        }
        lines
    }
}

/// What a PROCESS_STATE_* payload says about the process.
#[derive(Debug, Clone)]
pub struct StateFacts<'a> {
    /// The process name.
    pub name: &'a str,
    /// Its group.
    pub group: &'a str,
    /// The state it left.
    pub from: ProcessState,
    /// The state it entered.
    pub to: ProcessState,
    /// The child's pid as the transition saw it (the exited one for EXITED/STOPPED).
    pub pid: i32,
    /// The backoff count (`tries`).
    pub tries: u32,
    /// For EXITED: whether the exit code was expected.
    pub expected: bool,
}

/// The payload of a PROCESS_STATE_* event, field for field as supervisord writes it.
pub fn state_payload(facts: &StateFacts) -> Vec<u8> {
    let mut out = format!(
        "processname:{} groupname:{} from_state:{}",
        facts.name,
        facts.group,
        facts.from.name()
    );
    match facts.to {
        ProcessState::Starting | ProcessState::Backoff => {
            out.push_str(&format!(" tries:{}", facts.tries));
        }
        ProcessState::Exited => {
            out.push_str(&format!(
                " expected:{} pid:{}",
                u8::from(facts.expected),
                facts.pid
            ));
        }
        ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
            out.push_str(&format!(" pid:{}", facts.pid));
        }
        ProcessState::Fatal | ProcessState::Unknown => {}
    }
    out.into_bytes()
}

/// The payload of a PROCESS_GROUP_ADDED/REMOVED event.
pub fn group_payload(group: &str) -> Vec<u8> {
    format!("groupname:{group}\n").into_bytes()
}

/// The payload of a TICK_* event: the period boundary, in epoch seconds.
pub fn tick_payload(when: u64) -> Vec<u8> {
    format!("when:{when}").into_bytes()
}

/// The payload of a REMOTE_COMMUNICATION event.
pub fn remote_payload(kind: &str, data: &str) -> Vec<u8> {
    format!("type:{kind}\n{data}").into_bytes()
}

/// The payload of a PROCESS_LOG_* event: the header fields, a newline, the data.
pub fn log_payload(name: &str, group: &str, pid: i32, channel: &str, data: &[u8]) -> Vec<u8> {
    let mut out =
        format!("processname:{name} groupname:{group} pid:{pid} channel:{channel}\n").into_bytes();
    push_output(&mut out, data);
    out
}

/// The payload of a PROCESS_COMMUNICATION_* event: the header fields, a newline, the
/// captured text.
pub fn communication_payload(name: &str, group: &str, pid: i32, data: &[u8]) -> Vec<u8> {
    let mut out = format!("processname:{name} groupname:{group} pid:{pid}\n").into_bytes();
    push_output(&mut out, data);
    out
}

/// A program's output in a payload: as it is if it is UTF-8, else supervisord's
/// `Undecodable: b'...'` (the Python bytes literal).
fn push_output(out: &mut Vec<u8>, data: &[u8]) {
    if std::str::from_utf8(data).is_ok() {
        out.extend_from_slice(data);
    } else {
        out.extend_from_slice(b"Undecodable: ");
        out.extend_from_slice(crate::logs::pump::python_bytes_repr(data).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_payloads_carry_supervisords_fields() {
        let facts = |from, to| StateFacts {
            name: "cat",
            group: "cat",
            from,
            to,
            pid: 42,
            tries: 1,
            expected: false,
        };
        let text = |from, to| String::from_utf8(state_payload(&facts(from, to))).expect("utf-8");
        use ProcessState as S;
        assert_eq!(
            text(S::Stopped, S::Starting),
            "processname:cat groupname:cat from_state:STOPPED tries:1"
        );
        assert_eq!(
            text(S::Starting, S::Running),
            "processname:cat groupname:cat from_state:STARTING pid:42"
        );
        assert_eq!(
            text(S::Running, S::Exited),
            "processname:cat groupname:cat from_state:RUNNING expected:0 pid:42"
        );
        assert_eq!(
            text(S::Backoff, S::Fatal),
            "processname:cat groupname:cat from_state:BACKOFF"
        );
    }

    #[test]
    fn output_payloads_match_supervisords() {
        assert_eq!(
            log_payload("prog", "prog", 7, "stdout", b"hello\nx"),
            b"processname:prog groupname:prog pid:7 channel:stdout\nhello\nx"
        );
        assert_eq!(
            communication_payload("prog", "grp", 7, b"captured"),
            b"processname:prog groupname:grp pid:7\ncaptured"
        );
        // supervisord's reference run: `Undecodable: %r` of the bytes.
        assert_eq!(
            log_payload("prog", "prog", 7, "stdout", b"\nbad \xff byte\n"),
            b"processname:prog groupname:prog pid:7 channel:stdout\nUndecodable: b'\\nbad \\xff byte\\n'"
        );
    }

    #[test]
    fn log_flags_follow_the_subscriptions() {
        let mut bus = Bus::default();
        let stdout = bus.log_flag(EventKind::ProcessLogStdout);
        let stderr = bus.log_flag(EventKind::ProcessLogStderr);
        let config = |events: &[&str]| ListenerConfig {
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            buffer_size: 10,
        };
        bus.set_pool("a", &config(&["PROCESS_LOG_STDERR"]));
        assert!(!stdout.load(Ordering::Relaxed) && stderr.load(Ordering::Relaxed));
        bus.set_pool("b", &config(&["EVENT"]));
        assert!(stdout.load(Ordering::Relaxed));
        bus.remove_pool("b");
        assert!(!stdout.load(Ordering::Relaxed) && stderr.load(Ordering::Relaxed));
        bus.clear();
        assert!(!stderr.load(Ordering::Relaxed));
    }

    #[test]
    fn serials_are_given_only_to_events_a_pool_takes() {
        let mut bus = Bus::default();
        bus.set_pool(
            "lis",
            &ListenerConfig {
                events: vec!["TICK_5".into()],
                buffer_size: 10,
            },
        );
        assert!(bus
            .publish(EventKind::ProcessGroupAdded, group_payload("x"))
            .is_empty());
        bus.publish(EventKind::Tick5, tick_payload(10));
        bus.publish(EventKind::Tick5, tick_payload(15));
        let pool = bus.pool_mut("lis").expect("pool lis");
        pool.listeners.insert(1, pool::Listener::new());
        pool.listeners.get_mut(&1).expect("member 1").state = ListenerState::Ready;
        let (_, first) = pool.next_dispatch(&[1]).expect("a dispatch");
        assert_eq!((first.event.serial, first.pool_serial), (0, 0));
        assert_eq!(first.event.payload, b"when:10");
    }
}
