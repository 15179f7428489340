//! One `[eventlistener:x]` pool: what it subscribes to, its event buffer, its serial, and
//! which listener holds which event.
//!
//! Pure bookkeeping with supervisord's rules: an event is appended (or put back at the head
//! when it was rejected), a full buffer drops its oldest event, and the oldest event goes to
//! the first listener that is RUNNING and READY. The log lines are returned for the caller
//! to write, so this is tested without a daemon.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rsupervisor_config::model::LogLevel;

use super::kind::EventKind;
use super::protocol::ListenerState;

/// One event as published: its type, global serial and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The type.
    pub kind: EventKind,
    /// The global serial, given when the first pool accepted it.
    pub serial: u64,
    /// The payload bytes after the header line.
    pub payload: Vec<u8>,
}

/// An event in a pool's buffer: the published event and this pool's serial for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pooled {
    /// The event, shared by every pool that accepted it.
    pub event: Arc<Published>,
    /// The pool serial (`poolserial:`).
    pub pool_serial: u64,
}

/// A listener process of the pool, by the actor's process id.
pub type Member = u64;

/// A listener's protocol state and the event it holds while BUSY.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Where it is in the protocol.
    pub state: ListenerState,
    /// The event sent and not yet answered.
    pub event: Option<Pooled>,
    /// Raised when the listener enters UNKNOWN: its pump stops reading tokens.
    pub dead: Arc<AtomicBool>,
}

impl Listener {
    /// A freshly spawned listener: ACKNOWLEDGED, holding nothing.
    pub fn new() -> Listener {
        Listener {
            state: ListenerState::Acknowledged,
            event: None,
            dead: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Default for Listener {
    fn default() -> Self {
        Listener::new()
    }
}

/// A pool of listeners.
#[derive(Debug)]
pub struct Pool {
    /// The pool (group) name.
    pub name: String,
    subscriptions: Vec<EventKind>,
    buffer_size: usize,
    buffer: VecDeque<Pooled>,
    serial: Option<u64>,
    /// Listener states by member; a member has one from its spawn on.
    pub listeners: HashMap<Member, Listener>,
}

impl Pool {
    /// A pool listening to `events` (names as in the configuration; unknown names were
    /// refused by the configuration reader) with room for `buffer_size` events.
    pub fn new(name: &str, events: &[String], buffer_size: usize) -> Pool {
        Pool {
            name: name.to_owned(),
            subscriptions: events
                .iter()
                .filter_map(|name| EventKind::from_name(name))
                .collect(),
            buffer_size: buffer_size.max(1),
            buffer: VecDeque::new(),
            serial: None,
            listeners: HashMap::new(),
        }
    }

    /// Takes the subscriptions and size of `fresh`, keeping the buffer (trimmed to the new
    /// size, oldest first), the serial and the listeners.
    pub fn reconfigure(&mut self, fresh: Pool) {
        self.subscriptions = fresh.subscriptions;
        self.buffer_size = fresh.buffer_size;
        while self.buffer.len() > self.buffer_size {
            self.buffer.pop_front();
        }
    }

    /// Whether the pool receives events of this type.
    pub fn subscribes(&self, kind: EventKind) -> bool {
        self.subscriptions.iter().any(|s| kind.is_a(*s))
    }

    /// Events waiting.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Takes a new event into the buffer with the next pool serial; returns the overflow
    /// line if the oldest event had to go.
    pub fn accept(&mut self, event: Arc<Published>) -> Option<(LogLevel, String)> {
        let pool_serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(pool_serial);
        let overflow = self.make_room();
        self.buffer.push_back(Pooled { event, pool_serial });
        overflow
    }

    /// Puts a rejected event back at the head, as supervisord does; returns its log lines.
    pub fn rebuffer(&mut self, pooled: Pooled) -> Vec<(LogLevel, String)> {
        let mut lines = vec![(
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                pooled.event.serial,
                self.name,
                self.buffer.len(),
                self.buffer_size
            ),
        )];
        lines.extend(self.make_room());
        self.buffer.push_front(pooled);
        lines
    }

    fn make_room(&mut self) -> Option<(LogLevel, String)> {
        if self.buffer.len() < self.buffer_size {
            return None;
        }
        let discarded = self.buffer.pop_front()?;
        Some((
            LogLevel::Error,
            format!(
                "pool {} event buffer overflowed, discarding event {}",
                self.name, discarded.event.serial
            ),
        ))
    }

    /// The oldest buffered event and the first READY listener among `running` (members in
    /// the pool's order that are in the RUNNING process state), if both exist. The
    /// listener becomes BUSY holding the event.
    pub fn next_dispatch(&mut self, running: &[Member]) -> Option<(Member, Pooled)> {
        if self.buffer.is_empty() {
            return None;
        }
        let member = running.iter().copied().find(|m| {
            self.listeners
                .get(m)
                .is_some_and(|l| l.state == ListenerState::Ready)
        })?;
        let pooled = self.buffer.pop_front()?;
        let listener = self.listeners.get_mut(&member)?;
        listener.state = ListenerState::Busy;
        listener.event = Some(pooled.clone());
        Some((member, pooled))
    }
}

impl Pool {
    /// After a dispatch pass that sent at least one event: the debug line supervisord writes
    /// when it takes the next event for a pool whose listeners are all busy now and puts
    /// it back (`rebuffering event N for pool P (buf size=..., max=...)`, the size counted
    /// without that event); `None` when nothing is left waiting.
    pub fn left_waiting(&self) -> Option<(LogLevel, String)> {
        let head = self.buffer.front()?;
        Some((
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                head.event.serial,
                self.name,
                self.buffer.len() - 1,
                self.buffer_size
            ),
        ))
    }
}

/// The bytes sent to a listener for one event: the header line and the payload.
pub fn envelope(identifier: &str, pool: &str, pooled: &Pooled) -> Vec<u8> {
    let event = &pooled.event;
    let mut out = format!(
        "ver:3.0 server:{identifier} serial:{} pool:{pool} poolserial:{} eventname:{} len:{}\n",
        event.serial,
        pooled.pool_serial,
        event.kind.name(),
        event.payload.len()
    )
    .into_bytes();
    out.extend_from_slice(&event.payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(serial: u64) -> Arc<Published> {
        Arc::new(Published {
            kind: EventKind::ProcessStateRunning,
            serial,
            payload: b"processname:a groupname:a from_state:STARTING pid:7".to_vec(),
        })
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_with_supervisords_line() {
        let mut pool = Pool::new("lis", &["PROCESS_STATE".into()], 2);
        assert_eq!(pool.accept(event(0)), None);
        assert_eq!(pool.accept(event(1)), None);
        assert_eq!(
            pool.accept(event(2)),
            Some((
                LogLevel::Error,
                "pool lis event buffer overflowed, discarding event 0".into()
            ))
        );
        assert_eq!(pool.buffered(), 2);
    }

    #[test]
    fn dispatch_goes_to_a_ready_running_listener_and_rejects_go_back_to_the_head() {
        let mut pool = Pool::new("lis", &["EVENT".into()], 10);
        pool.accept(event(5));
        pool.accept(event(6));
        for member in [1, 2] {
            pool.listeners.insert(member, Listener::new());
        }
        assert_eq!(pool.next_dispatch(&[1, 2]), None);
        pool.listeners.get_mut(&2).expect("member 2").state = ListenerState::Ready;
        // Member 2 is ready but not running.
        assert_eq!(pool.next_dispatch(&[1]), None);
        let (member, pooled) = pool.next_dispatch(&[1, 2]).expect("a dispatch");
        assert_eq!((member, pooled.event.serial, pooled.pool_serial), (2, 5, 0));
        assert_eq!(pool.listeners[&2].state, ListenerState::Busy);
        let lines = pool.rebuffer(pooled);
        assert_eq!(
            lines,
            vec![(
                LogLevel::Debug,
                "rebuffering event 5 for pool lis (buf size=1, max=10)".into()
            )]
        );
        pool.listeners.get_mut(&1).expect("member 1").state = ListenerState::Ready;
        let (member, pooled) = pool.next_dispatch(&[1, 2]).expect("a dispatch");
        assert_eq!((member, pooled.event.serial), (1, 5));
        // Every listener busy, event 6 waits: supervisord's line for it.
        assert_eq!(pool.next_dispatch(&[1, 2]), None);
        assert_eq!(
            pool.left_waiting(),
            Some((
                LogLevel::Debug,
                "rebuffering event 6 for pool lis (buf size=0, max=10)".into()
            ))
        );
        assert_eq!(
            envelope("supervisor", "lis", &pooled),
            b"ver:3.0 server:supervisor serial:5 pool:lis poolserial:0 eventname:PROCESS_STATE_RUNNING len:51\nprocessname:a groupname:a from_state:STARTING pid:7".to_vec()
        );
    }

    #[test]
    fn subscriptions_follow_inheritance() {
        let pool = Pool::new("lis", &["PROCESS_STATE_EXITED".into(), "TICK".into()], 10);
        assert!(pool.subscribes(EventKind::ProcessStateExited));
        assert!(!pool.subscribes(EventKind::ProcessStateRunning));
        assert!(pool.subscribes(EventKind::Tick5));
        assert!(!pool.subscribes(EventKind::ProcessGroupAdded));
    }
}
