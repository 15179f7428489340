//! Requests to the supervisor actor. Each carries the sender its answer goes back on.
//!
//! A command means "please do"; facts about processes are [`super::event::Event`]s.

use rsupervisor_api::{
    ConfigInfo, FaultError, ProcessInfo, ReloadResult, SupervisorState, UpdateOutcome,
};
use std::path::PathBuf;
use tokio::sync::oneshot;

/// Where the answer to a command goes.
pub type Reply<T> = oneshot::Sender<T>;

/// The answer of most commands: done, or a supervisord fault.
pub type Outcome<T = ()> = Result<T, FaultError>;

/// Paths of one process's log files, as the log readers need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPaths {
    /// stdout log, if the process has one.
    pub stdout: Option<PathBuf>,
    /// stderr log, if the process has one.
    pub stderr: Option<PathBuf>,
}

/// One process a group operation may apply to, and which operations apply to it now. The
/// actor decides, from the same state the per-process commands check, so a group operation
/// never skips a process that the single-process command would act on (a crash-looping
/// program waiting for its restart is EXITED, yet a stop must still cancel that restart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `group:name` or `name`.
    pub namespec: String,
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// A start applies: it is not running, starting or backing off.
    pub startable: bool,
    /// A stop applies: it is running, starting or backing off, or a restart is pending.
    pub stoppable: bool,
    /// A signal applies: RUNNING, STARTING or STOPPING.
    pub signallable: bool,
}

/// A request to the supervisor actor.
#[derive(Debug)]
pub enum Command {
    /// Start one process (`group:name` or `name`); with `wait`, answer once RUNNING or failed.
    Start {
        /// Namespec of one process.
        name: String,
        /// Answer only when the outcome is known.
        wait: bool,
        /// `--no-deps`: neither start the dependencies nor wait for them.
        no_deps: bool,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Start one run of a process now, as `Start`, without resuming a paused schedule.
    Run {
        /// Namespec of one process.
        name: String,
        /// Answer only when the outcome is known.
        wait: bool,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Stop one process; with `wait`, answer once it has stopped.
    Stop {
        /// Namespec of one process.
        name: String,
        /// Answer only when stopped.
        wait: bool,
        /// `--no-deps`: leave running dependents alone.
        no_deps: bool,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Clear one process's restart counters (`reset`); a FATAL process becomes STOPPED.
    Reset {
        /// Namespec of one process.
        name: String,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// One process's effective environment, with sources, secrets masked.
    Environment {
        /// Namespec of one process.
        name: String,
        /// Answer.
        reply: Reply<Outcome<Vec<rsupervisor_api::EnvVar>>>,
    },
    /// Send a signal to one process.
    Signal {
        /// Namespec of one process.
        name: String,
        /// Signal number.
        signal: i32,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Expand `name`, `group:name`, `group:*` or `all` (None) into the processes it names,
    /// in start order, with the operations that apply to each.
    Resolve {
        /// What to expand; `None` for every process.
        spec: Option<String>,
        /// Answer.
        reply: Reply<Outcome<Vec<Target>>>,
    },
    /// Info about one process.
    ProcessInfo {
        /// Namespec of one process.
        name: String,
        /// Answer.
        reply: Reply<Outcome<ProcessInfo>>,
    },
    /// The dependency graph, dependencies first, with each process's state.
    DependencyGraph {
        /// Answer.
        reply: Reply<Vec<rsupervisor_api::GraphNode>>,
    },
    /// Info about every process, sorted by group then name.
    AllProcessInfo {
        /// Answer.
        reply: Reply<Vec<ProcessInfo>>,
    },
    /// What to read for every process's metrics: the readings are taken off the actor.
    MetricsTargets {
        /// Answer.
        reply: Reply<super::contain::MetricsTargets>,
    },
    /// Every configured process, in use or not.
    AllConfigInfo {
        /// Answer.
        reply: Reply<Vec<ConfigInfo>>,
    },
    /// Log file paths of one process.
    LogPaths {
        /// Namespec of one process.
        name: String,
        /// Answer.
        reply: Reply<Outcome<LogPaths>>,
    },
    /// Empty the log files of one process.
    ClearLogs {
        /// Namespec of one process.
        name: String,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Write bytes to a process's stdin.
    SendStdin {
        /// Namespec of one process.
        name: String,
        /// What to write.
        data: Vec<u8>,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Publish a REMOTE_COMMUNICATION event (`supervisor.sendRemoteCommEvent`).
    RemoteEvent {
        /// The `type:` line of the payload.
        event_type: String,
        /// The rest of the payload.
        data: String,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Re-read the configuration and report the difference to what runs.
    Reread {
        /// Answer.
        reply: Reply<Outcome<ReloadResult>>,
    },
    /// Activate a group of the last-read configuration.
    AddGroup {
        /// Group name.
        name: String,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Remove a group whose processes are all stopped.
    RemoveGroup {
        /// Group name.
        name: String,
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Which processes of `group` must stop before its new configuration can apply.
    PlanUpdate {
        /// Group name.
        name: String,
        /// Answer: namespecs to stop.
        reply: Reply<Outcome<Vec<String>>>,
    },
    /// Work out `scale program count`: the group's new configuration and what must stop.
    PlanScale {
        /// `[program:x]` name.
        program: String,
        /// The instance count asked for.
        count: u32,
        /// Answer.
        reply: Reply<Outcome<super::scale::ScalePlan>>,
    },
    /// Carry out a planned scale (after its stops).
    ApplyScale {
        /// `[program:x]` name.
        program: String,
        /// The instance count asked for.
        count: u32,
        /// The plan from `PlanScale`.
        plan: super::scale::ScalePlan,
        /// Answer.
        reply: Reply<Outcome<UpdateOutcome>>,
    },
    /// Apply the last-read configuration to `group` (after the planned stops).
    ApplyUpdate {
        /// Group name.
        name: String,
        /// Answer.
        reply: Reply<Outcome<UpdateOutcome>>,
    },
    /// Stop everything and exit.
    Shutdown {
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Stop everything, re-read the configuration and start again.
    Restart {
        /// Answer.
        reply: Reply<Outcome>,
    },
    /// Reopen every log file.
    ReopenLogs {
        /// Answer.
        reply: Reply<()>,
    },
    /// The daemon's state.
    State {
        /// Answer.
        reply: Reply<SupervisorState>,
    },
}
