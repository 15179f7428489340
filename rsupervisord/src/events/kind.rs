//! The event types supervisord knows, their names and their inheritance.
//!
//! A pool subscribed to an abstract type (`PROCESS_STATE`, `TICK`, `EVENT`, ...) receives
//! every type below it, as supervisord's class hierarchy makes it.

/// One event type, concrete or abstract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `EVENT`: the root; subscribing to it receives everything.
    Event,
    /// `PROCESS_STATE` (abstract).
    ProcessState,
    /// `PROCESS_STATE_STOPPED`.
    ProcessStateStopped,
    /// `PROCESS_STATE_EXITED`.
    ProcessStateExited,
    /// `PROCESS_STATE_STARTING`.
    ProcessStateStarting,
    /// `PROCESS_STATE_STOPPING`.
    ProcessStateStopping,
    /// `PROCESS_STATE_BACKOFF`.
    ProcessStateBackoff,
    /// `PROCESS_STATE_FATAL`.
    ProcessStateFatal,
    /// `PROCESS_STATE_RUNNING`.
    ProcessStateRunning,
    /// `PROCESS_STATE_UNKNOWN`.
    ProcessStateUnknown,
    /// `PROCESS_COMMUNICATION` (abstract).
    ProcessCommunication,
    /// `PROCESS_COMMUNICATION_STDOUT`.
    ProcessCommunicationStdout,
    /// `PROCESS_COMMUNICATION_STDERR`.
    ProcessCommunicationStderr,
    /// `PROCESS_LOG` (abstract).
    ProcessLog,
    /// `PROCESS_LOG_STDOUT`.
    ProcessLogStdout,
    /// `PROCESS_LOG_STDERR`.
    ProcessLogStderr,
    /// `REMOTE_COMMUNICATION`.
    RemoteCommunication,
    /// `SUPERVISOR_STATE_CHANGE` (abstract).
    SupervisorStateChange,
    /// `SUPERVISOR_STATE_CHANGE_RUNNING`.
    SupervisorStateChangeRunning,
    /// `SUPERVISOR_STATE_CHANGE_STOPPING`.
    SupervisorStateChangeStopping,
    /// `TICK` (abstract).
    Tick,
    /// `TICK_5`.
    Tick5,
    /// `TICK_60`.
    Tick60,
    /// `TICK_3600`.
    Tick3600,
    /// `PROCESS_GROUP` (abstract).
    ProcessGroup,
    /// `PROCESS_GROUP_ADDED`.
    ProcessGroupAdded,
    /// `PROCESS_GROUP_REMOVED`.
    ProcessGroupRemoved,
}

use EventKind::*;

impl EventKind {
    /// Every type, in supervisord's `EventTypes` order.
    pub const ALL: [EventKind; 27] = [
        Event,
        ProcessState,
        ProcessStateStopped,
        ProcessStateExited,
        ProcessStateStarting,
        ProcessStateStopping,
        ProcessStateBackoff,
        ProcessStateFatal,
        ProcessStateRunning,
        ProcessStateUnknown,
        ProcessCommunication,
        ProcessCommunicationStdout,
        ProcessCommunicationStderr,
        ProcessLog,
        ProcessLogStdout,
        ProcessLogStderr,
        RemoteCommunication,
        SupervisorStateChange,
        SupervisorStateChangeRunning,
        SupervisorStateChangeStopping,
        Tick,
        Tick5,
        Tick60,
        Tick3600,
        ProcessGroup,
        ProcessGroupAdded,
        ProcessGroupRemoved,
    ];

    /// The name in `events=` and in the `eventname:` header field.
    pub fn name(self) -> &'static str {
        match self {
            Event => "EVENT",
            ProcessState => "PROCESS_STATE",
            ProcessStateStopped => "PROCESS_STATE_STOPPED",
            ProcessStateExited => "PROCESS_STATE_EXITED",
            ProcessStateStarting => "PROCESS_STATE_STARTING",
            ProcessStateStopping => "PROCESS_STATE_STOPPING",
            ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
            ProcessStateFatal => "PROCESS_STATE_FATAL",
            ProcessStateRunning => "PROCESS_STATE_RUNNING",
            ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
            ProcessCommunication => "PROCESS_COMMUNICATION",
            ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            ProcessLog => "PROCESS_LOG",
            ProcessLogStdout => "PROCESS_LOG_STDOUT",
            ProcessLogStderr => "PROCESS_LOG_STDERR",
            RemoteCommunication => "REMOTE_COMMUNICATION",
            SupervisorStateChange => "SUPERVISOR_STATE_CHANGE",
            SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Tick => "TICK",
            Tick5 => "TICK_5",
            Tick60 => "TICK_60",
            Tick3600 => "TICK_3600",
            ProcessGroup => "PROCESS_GROUP",
            ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    /// The type named `name` (upper case, as the configuration reader leaves it).
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The abstract type this one derives from; `None` for [`EventKind::Event`].
    pub fn parent(self) -> Option<EventKind> {
        match self {
            Event => None,
            ProcessState
            | ProcessCommunication
            | ProcessLog
            | RemoteCommunication
            | SupervisorStateChange
            | Tick
            | ProcessGroup => Some(Event),
            ProcessStateStopped | ProcessStateExited | ProcessStateStarting
            | ProcessStateStopping | ProcessStateBackoff | ProcessStateFatal
            | ProcessStateRunning | ProcessStateUnknown => Some(ProcessState),
            ProcessCommunicationStdout | ProcessCommunicationStderr => Some(ProcessCommunication),
            ProcessLogStdout | ProcessLogStderr => Some(ProcessLog),
            SupervisorStateChangeRunning | SupervisorStateChangeStopping => {
                Some(SupervisorStateChange)
            }
            Tick5 | Tick60 | Tick3600 => Some(Tick),
            ProcessGroupAdded | ProcessGroupRemoved => Some(ProcessGroup),
        }
    }

    /// Whether a subscription to `subscribed` receives events of this type: the same type
    /// or one of its ancestors.
    pub fn is_a(self, subscribed: EventKind) -> bool {
        let mut kind = Some(self);
        while let Some(k) = kind {
            if k == subscribed {
                return true;
            }
            kind = k.parent();
        }
        false
    }

    /// The PROCESS_STATE_* type for entering `state`.
    pub fn for_state(state: rsupervisor_api::ProcessState) -> EventKind {
        use rsupervisor_api::ProcessState as S;
        match state {
            S::Stopped => ProcessStateStopped,
            S::Starting => ProcessStateStarting,
            S::Running => ProcessStateRunning,
            S::Backoff => ProcessStateBackoff,
            S::Stopping => ProcessStateStopping,
            S::Exited => ProcessStateExited,
            S::Fatal => ProcessStateFatal,
            S::Unknown => ProcessStateUnknown,
        }
    }

    /// The tick period in seconds of a concrete TICK_* type.
    pub fn tick_period(self) -> Option<u64> {
        match self {
            Tick5 => Some(5),
            Tick60 => Some(60),
            Tick3600 => Some(3600),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_configuration_list() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(EventKind::from_name("FOO"), None);
    }

    #[test]
    fn abstract_types_receive_their_subtypes_only() {
        assert!(ProcessStateExited.is_a(ProcessState));
        assert!(ProcessStateExited.is_a(Event));
        assert!(ProcessStateExited.is_a(ProcessStateExited));
        assert!(!ProcessStateExited.is_a(ProcessStateRunning));
        assert!(!ProcessStateExited.is_a(Tick));
        assert!(Tick60.is_a(Tick));
        assert!(!Tick.is_a(Tick60));
        assert!(RemoteCommunication.is_a(Event));
        assert!(ProcessLogStderr.is_a(ProcessLog));
        assert!(!ProcessLogStderr.is_a(ProcessCommunication));
    }
}
