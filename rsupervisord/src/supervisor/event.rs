//! Facts reported to the supervisor actor: a child ended, a timer fired, a signal arrived,
//! an event listener spoke.

use super::fsm::TimerKind;
use super::process::ProcessId;

/// Something that happened; the actor decides what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// SIGCHLD: one or more children may have exited; the actor reaps them.
    ChildSignal,
    /// A reaped child's output pumps reached end of file (or the grace passed): its exit
    /// can be handled now.
    ChildExited {
        /// Which process record.
        id: ProcessId,
        /// The child.
        pid: i32,
        /// How it ended.
        status: super::fsm::ExitStatus,
        /// When it was reaped (its run time ends there, not when its output was in).
        reaped_at: std::time::Instant,
    },
    /// A timer armed by the state machine fired.
    Timer {
        /// Which process record.
        id: ProcessId,
        /// The record's timer epoch when armed; a stale timer is ignored.
        epoch: u64,
        /// Which timer.
        kind: TimerKind,
    },
    /// SIGTERM, SIGINT or SIGQUIT: shut down.
    ShutdownSignal(&'static str),
    /// SIGHUP: reload.
    ReloadSignal,
    /// SIGUSR2: reopen logs.
    ReopenSignal,
    /// While shutting down: time to say which processes we still wait for. Carries the
    /// shutdown it was armed in; a reload voids older ones.
    ShutdownReminder(u64),
    /// `status_report_interval` passed: write the status table to the main log. Carries
    /// the report epoch it was armed in; a reload voids older ones.
    StatusReport(u64),
    /// The next health check of a process is due (armed for its health generation).
    ProbeDue {
        /// Which process record.
        id: ProcessId,
        /// The record's health generation when armed; a stale one is ignored.
        generation: u64,
    },
    /// A health check finished.
    ProbeDone {
        /// Which process record.
        id: ProcessId,
        /// The health generation the check ran in.
        generation: u64,
        /// Passed, or why not.
        result: Result<(), String>,
    },
    /// The program printed its `ready_log` line.
    LogReady {
        /// Which process record.
        id: ProcessId,
        /// The health generation (run) it was printed in.
        generation: u64,
    },
    /// The `wait_for` conditions of a held spawn were met, or not in time.
    WaitedFor {
        /// Which process record.
        id: ProcessId,
        /// The record's epoch when the wait began; any later step voids it.
        epoch: u64,
        /// Met, or the spawn error naming the condition that was not.
        result: Result<(), String>,
    },
    /// A scheduled job's timer fired (a run is due, a run timed out, records to save).
    Job(super::jobs::JobEvent),
    /// The cgroup of this process record has no process left: its directories can go.
    CgroupEmpty(ProcessId),
    /// The process whose main pid is `pid` reached its `memory_restart`.
    MemoryRestart {
        /// Which process record.
        id: ProcessId,
        /// The child that was running when it was armed; a later one voids it.
        pid: i32,
    },
    /// The kernel's OOM killer killed a process of this record's cgroup while child `pid`
    /// was the main process.
    OutOfMemory {
        /// Which process record.
        id: ProcessId,
        /// The main process when it was armed.
        pid: i32,
    },
    /// A `memory_restart` stop finished: start the process again.
    RestartAfterStop(ProcessId),
    /// An event listener wrote protocol tokens on its stdout (cut by its pump).
    ListenerTokens {
        /// Which process record.
        id: ProcessId,
        /// The child that wrote them; a later one voids them.
        pid: i32,
        /// What it said, in order.
        tokens: Vec<crate::events::Token>,
    },
    /// A program with `*_events_enabled` or `*_capture_maxbytes` logged a chunk, or ended
    /// a capture (sent by its pump).
    ProgramOutput {
        /// Which process record.
        id: ProcessId,
        /// The child that wrote it (the payload's `pid`).
        pid: i32,
        /// Which stream.
        channel: crate::logs::Channel,
        /// The chunk or the captured text.
        event: crate::logs::OutputEvent,
    },
    /// A TICK_* deadline passed (armed only while a pool subscribes to it).
    Tick {
        /// TICK_5, TICK_60 or TICK_3600.
        kind: crate::events::EventKind,
        /// The period boundary, epoch seconds.
        when: u64,
    },
}
