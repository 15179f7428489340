//! The structures exchanged over the wire, with supervisord's field names and state codes.

use serde::{Deserialize, Serialize};

/// Process states, with supervisord's numeric codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProcessState {
    /// 0: not running, stopped on request or never started.
    Stopped,
    /// 10: spawned, waiting for `startsecs` to pass.
    Starting,
    /// 20: up for longer than `startsecs`.
    Running,
    /// 30: exited too quickly, waiting to retry.
    Backoff,
    /// 40: stop signal sent, waiting for the exit.
    Stopping,
    /// 100: exited on its own after RUNNING.
    Exited,
    /// 200: gave up after `startretries`.
    Fatal,
    /// 1000: something went wrong that we cannot classify.
    Unknown,
}

impl ProcessState {
    /// Every state, in code order.
    pub const ALL: [ProcessState; 8] = [
        ProcessState::Stopped,
        ProcessState::Starting,
        ProcessState::Running,
        ProcessState::Backoff,
        ProcessState::Stopping,
        ProcessState::Exited,
        ProcessState::Fatal,
        ProcessState::Unknown,
    ];

    /// supervisord's numeric state code.
    pub fn code(self) -> i32 {
        match self {
            ProcessState::Stopped => 0,
            ProcessState::Starting => 10,
            ProcessState::Running => 20,
            ProcessState::Backoff => 30,
            ProcessState::Stopping => 40,
            ProcessState::Exited => 100,
            ProcessState::Fatal => 200,
            ProcessState::Unknown => 1000,
        }
    }

    /// supervisord's state name (`RUNNING`).
    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// The state with this code, if any.
    pub fn from_code(code: i32) -> Option<ProcessState> {
        ProcessState::ALL
            .into_iter()
            .find(|state| state.code() == code)
    }

    /// supervisord's "stopped states": STOPPED, EXITED, FATAL, UNKNOWN.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// supervisord's "running states": RUNNING, BACKOFF, STARTING.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// supervisord's "signallable states": RUNNING, STARTING, STOPPING.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

/// Daemon states (`supervisor.getState`), with supervisord's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SupervisorState {
    /// 2: a fatal error occurred.
    Fatal,
    /// 1: working normally.
    Running,
    /// 0: reloading (SIGHUP or `supervisor.restart`).
    Restarting,
    /// -1: shutting down.
    Shutdown,
}

impl SupervisorState {
    /// supervisord's numeric code.
    pub fn code(self) -> i32 {
        match self {
            SupervisorState::Fatal => 2,
            SupervisorState::Running => 1,
            SupervisorState::Restarting => 0,
            SupervisorState::Shutdown => -1,
        }
    }

    /// supervisord's name.
    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Fatal => "FATAL",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }
}

/// `supervisor.getState` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateInfo {
    /// Numeric state code.
    pub statecode: i32,
    /// State name.
    pub statename: String,
}

impl From<SupervisorState> for StateInfo {
    fn from(state: SupervisorState) -> Self {
        StateInfo {
            statecode: state.code(),
            statename: state.name().to_owned(),
        }
    }
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// `supervisor.getProcessInfo` result: supervisord's process info struct, same keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// Human description, as shown by `status` (`pid 1234, uptime 0:01:02`).
    pub description: String,
    /// Last start time, epoch seconds (0 if never started).
    pub start: i64,
    /// Last stop time, epoch seconds (0 if never stopped).
    pub stop: i64,
    /// Now, epoch seconds, as seen by the daemon.
    pub now: i64,
    /// Numeric state code.
    pub state: i32,
    /// State name.
    pub statename: String,
    /// Spawn error text, empty if none.
    pub spawnerr: String,
    /// Exit status of the last exit (-1 if killed by a signal), 0 if none.
    pub exitstatus: i32,
    /// Same as `stdout_logfile` (kept for compatibility).
    pub logfile: String,
    /// Path of the stdout log, empty if none.
    pub stdout_logfile: String,
    /// Path of the stderr log, empty if none.
    pub stderr_logfile: String,
    /// Pid, 0 when not running.
    pub pid: i32,
    /// rsupervisor: automatic starts since the restart counters were last cleared (`reset`,
    /// or a start by hand of a FATAL process).
    #[serde(default)]
    pub restarts: u32,
    /// rsupervisor: the delay chosen for the pending or last automatic restart, in
    /// milliseconds (0: at once).
    #[serde(default)]
    pub restart_delay_ms: u64,
    /// rsupervisor: when the pending automatic restart or retry is due, epoch seconds; 0 if
    /// none is pending.
    #[serde(default)]
    pub next_restart: i64,
    /// rsupervisor: the health check's verdict in the current run, `starting`, `healthy`
    /// or `unhealthy`; empty for a process without `healthcheck`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health: String,
    /// rsupervisor: consecutive failed health checks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub health_failures: u32,
    /// rsupervisor: the last failed health check's error, empty after a pass.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_error: String,
    /// rsupervisor: what the process waits for before its spawn (`db (healthy)`: a
    /// dependency, or a `wait_for` condition); empty if nothing.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub waiting_for: String,
    /// rsupervisor: the schedule of a scheduled program (`schedule` key); absent for the
    /// others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleInfo>,
}

/// rsupervisor: where a scheduled program stands (the `schedule` field of [`ProcessInfo`]).
/// Times are epoch seconds, 0 for none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ScheduleInfo {
    /// The schedule as configured (`*/15 * * * *`, `@every 3m`, `@reboot`).
    pub schedule: String,
    /// `schedule_timezone`: an IANA name, or `local`.
    pub timezone: String,
    /// `autostart=false` and not started yet: no run is due until `start`.
    pub paused: bool,
    /// When the next run starts (its due time plus its jitter); 0 if none is due.
    pub next_run: i64,
    /// The next due times (up to 5), without jitter; empty while paused.
    #[serde(default)]
    pub next_runs: Vec<i64>,
    /// A run due while the previous one ran waits for it (`schedule_overlap = queue`).
    #[serde(default)]
    pub queued: bool,
    /// When the last finished run started; 0 if none finished yet.
    pub last_start: i64,
    /// When it ended.
    pub last_end: i64,
    /// How long it took, in milliseconds.
    pub last_duration_ms: u64,
    /// Its exit code (-1: killed by a signal, or it never started).
    pub last_exitstatus: i32,
    /// How it ended: `exit status 0`, `terminated by SIGTERM`, `could not start: ...`.
    pub last_outcome: String,
}

impl ProcessInfo {
    /// `group:name`, or `name` alone when the two are equal (supervisord's namespec).
    pub fn namespec(&self) -> String {
        namespec(&self.group, &self.name)
    }

    /// The group its namespec shows before the `:`, if any (see [`namespec_group`]).
    pub fn namespec_group(&self) -> Option<&str> {
        namespec_group(&self.group, &self.name)
    }

    /// The typed state, `Unknown` for a code we do not know.
    pub fn process_state(&self) -> ProcessState {
        ProcessState::from_code(self.state).unwrap_or(ProcessState::Unknown)
    }
}

/// `group:name`, or `name` alone when the group has the same name.
pub fn namespec(group: &str, name: &str) -> String {
    match namespec_group(group, name) {
        Some(group) => format!("{group}:{name}"),
        None => name.to_owned(),
    }
}

/// The group a namespec shows before its `:`, or `None` when the group has the process's
/// name (for writers that put the namespec together without allocating it).
pub fn namespec_group<'a>(group: &'a str, name: &str) -> Option<&'a str> {
    (group != name).then_some(group)
}

/// One variable of a process's effective environment (`supervisor.getProcessEnvironment`, an
/// rsupervisor addition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value; `********` for names that look like secrets.
    pub value: String,
    /// Where it came from: `environment`, `env_file PATH`, `[supervisord] environment`,
    /// `[supervisord] env_file PATH`, `supervisor`, `daemon environment`.
    pub source: String,
}

/// A per-process result of group operations (`startProcessGroup`, `stopAllProcesses`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessStatus {
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// A fault code, or 80 (SUCCESS).
    pub status: i32,
    /// `OK` or the fault text.
    pub description: String,
}

/// `supervisor.getAllConfigInfo` entry: one configured process, in use or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// Whether the group is active in the daemon.
    pub inuse: bool,
    /// `autostart`.
    pub autostart: bool,
    /// Group priority.
    pub group_prio: i64,
    /// Process priority.
    pub process_prio: i64,
    /// `command`.
    pub command: String,
    /// `directory`, or `none`.
    pub directory: String,
    /// `user` uid, or `none`.
    pub uid: String,
    /// `exitcodes`.
    pub exitcodes: Vec<i32>,
    /// `killasgroup`.
    pub killasgroup: bool,
    /// `redirect_stderr`.
    pub redirect_stderr: bool,
    /// `startretries`.
    pub startretries: u32,
    /// `startsecs`.
    pub startsecs: u64,
    /// `stopsignal` number.
    pub stopsignal: i32,
    /// `stopwaitsecs`.
    pub stopwaitsecs: u64,
    /// `stdout_logfile`: a path, `auto` or `none`.
    pub stdout_logfile: String,
    /// `stdout_logfile_maxbytes`.
    pub stdout_logfile_maxbytes: u64,
    /// `stdout_logfile_backups`.
    pub stdout_logfile_backups: u32,
    /// `stderr_logfile`: a path, `auto` or `none`.
    pub stderr_logfile: String,
    /// `stderr_logfile_maxbytes`.
    pub stderr_logfile_maxbytes: u64,
    /// `stderr_logfile_backups`.
    pub stderr_logfile_backups: u32,
    /// `stdout_capture_maxbytes`.
    #[serde(default)]
    pub stdout_capture_maxbytes: u64,
    /// `stdout_events_enabled`.
    #[serde(default)]
    pub stdout_events_enabled: bool,
    /// `stdout_syslog`.
    #[serde(default)]
    pub stdout_syslog: bool,
    /// `stderr_capture_maxbytes`.
    #[serde(default)]
    pub stderr_capture_maxbytes: u64,
    /// `stderr_events_enabled`.
    #[serde(default)]
    pub stderr_events_enabled: bool,
    /// `stderr_syslog`.
    #[serde(default)]
    pub stderr_syslog: bool,
    /// `serverurl`, or `auto`.
    pub serverurl: String,
}

/// `supervisor.reloadConfig` result: group names, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadResult {
    /// Groups that are new in the configuration.
    pub added: Vec<String>,
    /// Groups whose configuration changed.
    pub changed: Vec<String>,
    /// Groups that are no longer configured.
    pub removed: Vec<String>,
    /// Names of processes whose settings changed, as `group:name` (our addition: `update`
    /// restarts only these rather than the whole group).
    pub changed_processes: Vec<String>,
    /// Settings outside process groups that changed and need a daemon restart to apply
    /// (`[supervisord] logfile`, `[unix_http_server] file`, ...); empty when none.
    pub needs_restart: Vec<String>,
}

/// What `supervisor.updateProcessGroup` did to one group (our addition; see `update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOutcome {
    /// Group name.
    pub group: String,
    /// `added`, `removed`, `updated`, `unchanged`, or `scaled` (from `scaleProgram`).
    pub action: String,
    /// Processes that were stopped (namespecs).
    pub stopped: Vec<String>,
    /// Processes that were (re)started (namespecs).
    pub started: Vec<String>,
}

/// `supervisor.tailProcessStdoutLog` result: `[bytes, offset, overflow]` in supervisord.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailSlice {
    /// The bytes read (lossily decoded as UTF-8).
    pub bytes: String,
    /// The log's size, to pass as the next offset.
    pub offset: i64,
    /// True when more than `length` bytes were new and the oldest were skipped.
    pub overflow: bool,
}

/// Which output stream of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Channel {
    /// `stdout` or `stderr`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// A process state change, pushed to `supervisor.subscribeStateChanges` subscribers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// State before.
    pub from_state: ProcessState,
    /// State after.
    pub to_state: ProcessState,
    /// Pid, 0 when not running.
    pub pid: i32,
    /// Epoch seconds (with fraction) of the change.
    pub when: f64,
    /// rsupervisor: set (`healthy`, `unhealthy`, `starting`) when the change is one of the
    /// health check's verdict; `from_state` and `to_state` are then the same.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health: String,
    /// rsupervisor: set when the process starts waiting for something before its spawn
    /// (`db (healthy)`); states are then the same.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub waiting_for: String,
}

/// One process in the dependency graph (`supervisor.getDependencyGraph`, rsupervisor
/// addition), with what it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    /// `group:name` (or `name`).
    pub namespec: String,
    /// State name.
    pub statename: String,
    /// Health verdict (`healthy`, ...), empty without a health check.
    #[serde(default)]
    pub health: String,
    /// What its start waits for, empty if nothing.
    #[serde(default)]
    pub waiting_for: String,
    /// Its dependencies, as configured.
    #[serde(default)]
    pub depends_on: Vec<GraphEdge>,
}

/// One dependency of a [`GraphNode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// The dependency's namespec.
    pub namespec: String,
    /// The condition (`running`, `healthy`, `completed_successfully`, ...).
    pub condition: String,
    /// Whether the dependency meets it now.
    pub met: bool,
}

/// The signal argument of the `signal*` methods: a name (`HUP`, `SIGHUP`) or a number,
/// sent as a string or, as supervisord accepts too, an integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SignalArgWire")]
#[serde(into = "String")]
pub struct SignalArg(pub String);

#[derive(Deserialize)]
#[serde(untagged)]
enum SignalArgWire {
    Text(String),
    Number(i64),
}

impl From<SignalArgWire> for SignalArg {
    fn from(wire: SignalArgWire) -> Self {
        match wire {
            SignalArgWire::Text(text) => SignalArg(text),
            SignalArgWire::Number(number) => SignalArg(number.to_string()),
        }
    }
}

impl From<SignalArg> for String {
    fn from(arg: SignalArg) -> Self {
        arg.0
    }
}

impl From<String> for SignalArg {
    fn from(text: String) -> Self {
        SignalArg(text)
    }
}

/// What `startProcess`, `stopProcess` and `signalProcess` answer: `true` for one process or,
/// given `group:*`, every member's status, as the group method (supervisord delegates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProcessCallResult {
    /// One process: done.
    One(bool),
    /// `group:*`: one status per member the call applied to.
    Group(Vec<ProcessStatus>),
}

impl ProcessCallResult {
    /// The first member's failure, if any (`None` for a single process, which faults instead).
    pub fn first_failure(&self) -> Option<&ProcessStatus> {
        match self {
            ProcessCallResult::One(_) => None,
            ProcessCallResult::Group(statuses) => statuses
                .iter()
                .find(|status| status.status != crate::Fault::Success.code()),
        }
    }
}

/// One call of `system.multicall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticallRequest {
    /// The method to call, e.g. `supervisor.getProcessInfo`; empty when the caller left it
    /// out (answered with supervisord's `INCORRECT_PARAMETERS: No methodName`).
    #[serde(rename = "methodName", default)]
    pub method_name: String,
    /// Its positional parameters.
    #[serde(default)]
    pub params: Vec<serde_json::Value>,
}

/// `supervisor.getAllProcessMetrics` (rsupervisor addition): one process's resource usage,
/// its children included, read from its cgroup when asked (nothing is sampled otherwise).
/// Fields the host cannot provide are absent; CPU percent is the reader's: the change of
/// `cpu_seconds` between two readings over the change of `sampled_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessMetrics {
    /// Process name.
    pub name: String,
    /// Group name.
    pub group: String,
    /// The main process's pid (0 when not running).
    pub pid: i32,
    /// CPU time used by the process and its children, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
    /// Memory charged now, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_current: Option<u64>,
    /// Most memory charged at once since the cgroup was made, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak: Option<u64>,
    /// Processes and threads now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<u64>,
    /// Automatic restarts so far.
    #[serde(default)]
    pub restarts: u32,
    /// When the numbers were read, seconds since the epoch.
    #[serde(default)]
    pub sampled_at: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_codes_match_supervisord() {
        let expected = [
            ("STOPPED", 0),
            ("STARTING", 10),
            ("RUNNING", 20),
            ("BACKOFF", 30),
            ("STOPPING", 40),
            ("EXITED", 100),
            ("FATAL", 200),
            ("UNKNOWN", 1000),
        ];
        for (state, (name, code)) in ProcessState::ALL.iter().zip(expected) {
            assert_eq!(state.name(), name);
            assert_eq!(state.code(), code);
            assert_eq!(ProcessState::from_code(code), Some(*state));
            assert_eq!(serde_json::to_value(state).expect("serializes"), name);
        }
        let daemon = [
            (SupervisorState::Fatal, 2, "FATAL"),
            (SupervisorState::Running, 1, "RUNNING"),
            (SupervisorState::Restarting, 0, "RESTARTING"),
            (SupervisorState::Shutdown, -1, "SHUTDOWN"),
        ];
        for (state, code, name) in daemon {
            assert_eq!((state.code(), state.name()), (code, name));
        }
    }

    #[test]
    fn state_groups_match_supervisord() {
        use ProcessState::*;
        let stopped: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_stopped())
            .collect();
        assert_eq!(stopped, [Stopped, Exited, Fatal, Unknown]);
        let running: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        assert_eq!(running, [Starting, Running, Backoff]);
        let signallable: Vec<_> = ProcessState::ALL
            .into_iter()
            .filter(|s| s.is_signallable())
            .collect();
        assert_eq!(signallable, [Starting, Running, Stopping]);
    }

    #[test]
    fn namespec_short_form() {
        assert_eq!(namespec("web", "web"), "web");
        assert_eq!(namespec("sixbtc", "api"), "sixbtc:api");
    }
}
