//! The process state machine: a pure function from (state, input) to (new state, effects).
//!
//! Nothing here touches a process, a clock or a channel. The supervisor actor feeds in what
//! happened (a start request, a spawn result, an exit, a timer) and carries out the effects this
//! module returns (spawn, send a signal, arm a timer, write a log line, answer waiters). That
//! keeps every rule of supervisord's state diagram (reference §2) in one place, testable as
//! tables without a runtime.
//!
//! The allowed transitions are listed in [`ALLOWED`]; [`step`] never produces any other.

use super::restart::{self, Decision, History};
use rsupervisor_api::ProcessState;
use rsupervisor_config::policy::format_duration;
use rsupervisor_config::{AutoRestart, LogLevel, RestartPolicy};
use std::time::Duration;

/// What happened to a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An operator (or autostart, or autorestart) asks for the process to run.
    Start,
    /// The spawn succeeded with this pid.
    Spawned {
        /// Pid of the new child.
        pid: i32,
    },
    /// The spawn failed before the child ran (command not found, fork failed, ...).
    SpawnFailed {
        /// supervisord's spawn error text, e.g. `can't find command 'x'`.
        error: String,
    },
    /// The child was reaped.
    Exited {
        /// How it ended.
        status: ExitStatus,
        /// Whether it had been up for at least `startsecs` (decided by the actor's clock).
        after_startsecs: bool,
        /// How long it ran.
        ran_for: Duration,
        /// What the daemon knows of why the kernel ended it (`out of memory at memory_max
        /// 512 MB`, from its cgroup's counters), said in the exit line.
        cause: Option<String>,
    },
    /// `startsecs` passed while STARTING.
    StartSecsElapsed,
    /// The backoff delay passed while in BACKOFF.
    BackoffElapsed,
    /// The delay before an automatic restart of a program that crashed right after starting
    /// passed while EXITED.
    RestartDelayElapsed,
    /// An operator (or shutdown) asks for the process to stop.
    Stop,
    /// An operator clears the restart counters (`reset`); FATAL becomes STOPPED.
    Reset,
    /// `stopwaitsecs` passed while STOPPING.
    StopTimeout,
    /// The daemon is shutting down: a process waiting in BACKOFF gives up.
    GiveUp,
    /// Stop the process, then restart it through the restart policy, as if it had crashed:
    /// its health check failed (`healthcheck_action = restart`), or a dependency failed or
    /// restarted (`on_dependency_failure = restart`). The reason goes in the log.
    Restart {
        /// Why, for the main log (`unhealthy: 3 failed checks, last: connection refused`).
        reason: String,
    },
    /// A start held back for its dependencies will never be met (a dependency is FATAL, or
    /// a migration it needed failed): give up without spawning.
    DependencyFailed {
        /// Why, shown as the spawn error (`migrate exited with status 1`).
        reason: String,
    },
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal {
        /// Signal number.
        signal: i32,
        /// Whether it dumped core.
        core_dumped: bool,
    },
}

impl ExitStatus {
    /// supervisord's `exitstatus` value: the code, or -1 for a signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal { .. } => -1,
        }
    }

    /// supervisord's wording: `exit status 1` or `terminated by SIGTERM`, plus ` (core dumped)`.
    pub fn describe(self) -> String {
        match self {
            ExitStatus::Code(code) => format!("exit status {code}"),
            ExitStatus::Signal {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                format!(
                    "terminated by SIG{}{core}",
                    rsupervisor_config::signal_name(signal)
                )
            }
        }
    }
}

/// Which timer to arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Fires [`Input::StartSecsElapsed`].
    StartSecs,
    /// Fires [`Input::BackoffElapsed`].
    Backoff,
    /// Fires [`Input::StopTimeout`].
    StopTimeout,
    /// Fires [`Input::RestartDelayElapsed`].
    Restart,
}

/// What the actor must do after a step, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Spawn the process and feed back `Spawned` or `SpawnFailed`. The actor queues the spawn
    /// and does it in a later turn (see `agenda`); until then the machine is STARTING with
    /// [`Machine::spawn_pending`] set.
    Spawn,
    /// Send a signal to the process (or its whole process group).
    Signal {
        /// Signal number.
        signal: i32,
        /// Send to the process group rather than the pid.
        group: bool,
    },
    /// Arm a timer; any timer armed earlier for this process is void.
    Timer(TimerKind, Duration),
    /// Write a line to the main log.
    Log(LogLevel, String),
    /// The machine went through this state inside the step and left it again (an exit seen
    /// after startsecs passes RUNNING; an exit that restarts or gives up at once passes
    /// EXITED). The actor reports every hop, as supervisord does, so that listeners and the
    /// state-change stream see STARTING -> RUNNING -> EXITED -> STARTING, not one jump.
    Passed {
        /// The state passed through.
        state: ProcessState,
        /// The start attempts counted while in it ([`Machine::backoff`] then; the `tries`
        /// of a BACKOFF event).
        tries: u32,
    },
}

/// The settings and counters the state machine needs; the actor owns the real record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Current state.
    pub state: ProcessState,
    /// Consecutive fast failures (supervisord's `backoff`).
    pub backoff: u32,
    /// Last spawn error or "Exited too quickly" text; empty if none.
    pub spawnerr: String,
    /// Last exit code (-1 for a signal).
    pub exitstatus: i32,
    /// Pid while a child exists.
    pub pid: Option<i32>,
    /// An automatic restart is waiting for its [`TimerKind::Restart`] timer (EXITED only);
    /// a stop request cancels it.
    pub restart_pending: bool,
    /// STARTING, and the spawn asked for by [`Effect::Spawn`] has not been carried out yet
    /// (it waits in the actor's spawn queue). A stop request cancels it: nothing was forked.
    pub spawn_pending: bool,
    /// The restart limit was reached and the pending restart (EXITED) or retry (BACKOFF)
    /// waits out `restart_limit_cooldown`; it then starts with fresh counters.
    pub cooling_down: bool,
    /// The delay chosen for the last automatic restart (zero: at once).
    pub last_delay: Duration,
    /// STOPPING for an [`Input::Restart`]: once the child is gone the restart policy
    /// decides the restart. An operator's stop clears it.
    pub restart_after_stop: bool,
    /// Restart counters: recent starts, the crash streak, automatic starts.
    pub history: History,
}

impl Machine {
    /// A never-started process.
    pub fn new() -> Self {
        Machine {
            state: ProcessState::Stopped,
            backoff: 0,
            spawnerr: String::new(),
            exitstatus: 0,
            pid: None,
            restart_pending: false,
            spawn_pending: false,
            cooling_down: false,
            last_delay: Duration::ZERO,
            restart_after_stop: false,
            history: History::default(),
        }
    }
}

impl Default for Machine {
    fn default() -> Self {
        Machine::new()
    }
}

/// The settings of a program that the rules depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Process name for log lines.
    pub name: String,
    /// `startsecs`.
    pub startsecs: u64,
    /// `startretries`.
    pub startretries: u32,
    /// `autorestart`.
    pub autorestart: AutoRestart,
    /// `exitcodes`.
    pub exitcodes: Vec<i32>,
    /// `stopsignal` number.
    pub stopsignal: i32,
    /// `stopwaitsecs`.
    pub stopwaitsecs: u64,
    /// `stopasgroup`.
    pub stopasgroup: bool,
    /// `killasgroup`.
    pub killasgroup: bool,
    /// False while the daemon shuts down or reloads: no automatic (re)starts then.
    pub daemon_running: bool,
    /// The `restart_*` keys.
    pub policy: RestartPolicy,
    /// The actor's monotonic clock at this step (for the restart limit's window).
    pub now: Duration,
}

/// Every transition the machine may make, from supervisord's state diagram.
pub const ALLOWED: &[(ProcessState, ProcessState)] = {
    use ProcessState::*;
    &[
        (Stopped, Starting),
        (Exited, Starting),
        (Fatal, Starting),
        (Backoff, Starting),
        (Starting, Running),
        (Starting, Backoff),
        (Starting, Stopping),
        // A start still waiting in the spawn queue is cancelled: nothing was forked.
        (Starting, Stopped),
        (Running, Exited),
        (Running, Stopping),
        (Backoff, Fatal),
        (Backoff, Stopped),
        (Exited, Stopped),
        (Stopping, Stopped),
        // The restart limit gives up on a program that exited, or on a failed start
        // (rsupervisor's policy).
        (Exited, Fatal),
        (Starting, Fatal),
        // `reset` clears a FATAL program (as `systemctl reset-failed`).
        (Fatal, Stopped),
        // A restart for health or a dependency: the stopped child counts as an exit, and
        // the restart policy decides (EXITED, then STARTING, a pending restart or FATAL).
        (Stopping, Exited),
    ]
};

/// Whether `from -> to` is in [`ALLOWED`] (staying in the same state is always allowed).
pub fn is_allowed(from: ProcessState, to: ProcessState) -> bool {
    from == to || ALLOWED.contains(&(from, to))
}

/// Why an input was refused in the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The state the process was in.
    pub state: ProcessState,
}

/// Applies one input. On `Ok`, `machine` is updated and the effects must be carried out in
/// order; on `Err`, nothing changed (the input does not apply in this state).
pub fn step(machine: &mut Machine, rules: &Rules, input: Input) -> Result<Vec<Effect>, Refused> {
    use ProcessState::*;
    let refused = Refused {
        state: machine.state,
    };
    let mut effects = Vec::new();
    match (machine.state, input) {
        (Stopped | Exited | Fatal | Backoff, Input::Start) => {
            if machine.state == Fatal || machine.cooling_down {
                // Starting a program that was given up on, or that cools down after its
                // restart limit, clears its counters (as `reset`): an operator's start gets
                // the full limit again.
                machine.history.clear();
            }
            machine.restart_pending = false;
            machine.cooling_down = false;
            request_spawn(machine, rules, false, &mut effects);
        }
        (Starting, Input::Spawned { pid }) => {
            machine.spawn_pending = false;
            machine.pid = Some(pid);
            machine.spawnerr.clear();
            machine.exitstatus = 0;
            effects.push(Effect::Log(
                LogLevel::Info,
                format!("spawned: '{}' with pid {pid}", rules.name),
            ));
            if rules.startsecs == 0 {
                // startsecs=0: RUNNING as soon as the spawn succeeded, as supervisord's next turn.
                enter_running(machine, rules, &mut effects);
            } else {
                effects.push(Effect::Timer(
                    TimerKind::StartSecs,
                    Duration::from_secs(rules.startsecs),
                ));
            }
        }
        (Starting, Input::SpawnFailed { error }) => {
            machine.spawn_pending = false;
            machine.pid = None;
            effects.push(Effect::Log(LogLevel::Info, format!("spawnerr: {error}")));
            machine.spawnerr = error;
            enter_backoff(machine, rules, &mut effects);
        }
        (Starting, Input::StartSecsElapsed) => enter_running(machine, rules, &mut effects),
        (
            Starting,
            Input::Exited {
                status,
                after_startsecs: false,
                cause,
                ..
            },
        ) => {
            machine.pid = None;
            machine.exitstatus = status.code();
            effects.push(Effect::Log(
                LogLevel::Warn,
                format!(
                    "exited: {} ({}; not expected)",
                    rules.name,
                    describe(status, cause.as_deref())
                ),
            ));
            machine.spawnerr = "Exited too quickly (process log may have details)".to_owned();
            enter_backoff(machine, rules, &mut effects);
        }
        (
            Starting,
            Input::Exited {
                status,
                after_startsecs: true,
                ran_for,
                cause,
            },
        ) => {
            // Up long enough, but its startsecs timer had not fired yet: promote, then exit.
            enter_running(machine, rules, &mut effects);
            effects.push(Effect::Passed {
                state: Running,
                tries: 0,
            });
            let exit = (status, cause.as_deref());
            exit_running(machine, rules, exit, ran_for, &mut effects);
        }
        (
            Running,
            Input::Exited {
                status,
                ran_for,
                cause,
                ..
            },
        ) => {
            let exit = (status, cause.as_deref());
            exit_running(machine, rules, exit, ran_for, &mut effects);
        }
        (Exited, Input::RestartDelayElapsed) if rules.daemon_running && machine.restart_pending => {
            machine.restart_pending = false;
            end_cool_down(machine);
            request_spawn(machine, rules, true, &mut effects);
        }
        (Exited, Input::Stop) if machine.restart_pending => {
            // Stopping a crash-looping program between two of its spawns cancels the restart.
            machine.restart_pending = false;
            machine.cooling_down = false;
            machine.state = Stopped;
        }
        (Backoff, Input::BackoffElapsed) if rules.daemon_running => {
            end_cool_down(machine);
            request_spawn(machine, rules, true, &mut effects);
        }
        (Starting, Input::DependencyFailed { reason }) if machine.spawn_pending => {
            machine.spawn_pending = false;
            machine.state = Fatal;
            machine.backoff = 0;
            effects.push(Effect::Log(
                LogLevel::Info,
                format!("gave up: {} entered FATAL state, {reason}", rules.name),
            ));
            machine.spawnerr = reason;
        }
        (Starting, Input::Stop) if machine.spawn_pending => {
            // The spawn is still queued: drop it. There is no child to signal or wait for.
            machine.spawn_pending = false;
            machine.state = Stopped;
        }
        (Running | Starting, Input::Restart { reason }) if !machine.spawn_pending => {
            machine.restart_after_stop = true;
            effects.push(Effect::Log(
                LogLevel::Warn,
                format!("restarting: {} ({reason})", rules.name),
            ));
            stop_child(machine, rules, &mut effects);
        }
        (Stopping, Input::Stop) if machine.restart_after_stop => {
            // Already stopping for a restart: an operator's stop keeps it stopped.
            machine.restart_after_stop = false;
        }
        (
            Stopping,
            Input::Exited {
                status, ran_for, ..
            },
        ) if machine.restart_after_stop => {
            machine.restart_after_stop = false;
            machine.pid = None;
            machine.state = Exited;
            machine.exitstatus = status.code();
            effects.push(Effect::Log(
                LogLevel::Info,
                format!(
                    "stopped: {} ({}) for its restart",
                    rules.name,
                    status.describe()
                ),
            ));
            if rules.daemon_running {
                restart_by_policy(machine, rules, ran_for, &mut effects);
            }
        }
        (Running | Starting, Input::Stop) => {
            machine.restart_after_stop = false;
            stop_child(machine, rules, &mut effects);
        }
        (Backoff, Input::Stop) => {
            machine.cooling_down = false;
            machine.state = Stopped;
        }
        (Stopping, Input::StopTimeout) => {
            let pid = machine.pid.unwrap_or(0);
            effects.push(Effect::Log(
                LogLevel::Warn,
                format!("killing '{}' ({pid}) with SIGKILL", rules.name),
            ));
            effects.push(Effect::Signal {
                signal: libc::SIGKILL,
                group: rules.killasgroup,
            });
            effects.push(Effect::Timer(
                TimerKind::StopTimeout,
                Duration::from_secs(rules.stopwaitsecs),
            ));
        }
        (Stopping, Input::Exited { status, .. }) => {
            machine.pid = None;
            machine.state = Stopped;
            machine.exitstatus = status.code();
            let expected = is_expected(rules, status);
            let level = if expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            effects.push(Effect::Log(
                level,
                format!("stopped: {} ({})", rules.name, status.describe()),
            ));
        }
        (Backoff, Input::GiveUp) => {
            machine.state = Fatal;
            machine.backoff = 0;
            machine.cooling_down = false;
        }
        (state, Input::Reset) => {
            machine.history.clear();
            machine.last_delay = Duration::ZERO;
            if state == Fatal {
                machine.state = Stopped;
                machine.backoff = 0;
                machine.spawnerr.clear();
            }
        }
        _ => return Err(refused),
    }
    Ok(effects)
}

/// `status` is "expected": an exit code listed in `exitcodes` (a signal never is).
pub fn is_expected(rules: &Rules, status: ExitStatus) -> bool {
    match status {
        ExitStatus::Code(code) => rules.exitcodes.contains(&code),
        ExitStatus::Signal { .. } => false,
    }
}

fn kill_message(machine: &Machine, rules: &Rules, signal: i32) -> String {
    let pid = machine.pid.unwrap_or(0);
    let target = if rules.stopasgroup {
        " process group"
    } else {
        ""
    };
    format!(
        "killing {} (pid {pid}){target} with signal SIG{}",
        rules.name,
        rsupervisor_config::signal_name(signal)
    )
}

fn enter_running(machine: &mut Machine, rules: &Rules, effects: &mut Vec<Effect>) {
    machine.state = ProcessState::Running;
    machine.backoff = 0;
    effects.push(Effect::Log(
        LogLevel::Info,
        format!(
            "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
            rules.name, rules.startsecs
        ),
    ));
}

fn enter_backoff(machine: &mut Machine, rules: &Rules, effects: &mut Vec<Effect>) {
    let mark = effects.len();
    let tries = machine.backoff + 1;
    enter_backoff_or_give_up(machine, rules, effects);
    if machine.state == ProcessState::Fatal {
        // supervisord enters BACKOFF first (counting the attempt) and gives up from there.
        let state = ProcessState::Backoff;
        effects.insert(mark, Effect::Passed { state, tries });
    }
}

fn enter_backoff_or_give_up(machine: &mut Machine, rules: &Rules, effects: &mut Vec<Effect>) {
    machine.backoff += 1;
    let refused = restart::before_retry(&rules.policy, &machine.history, rules.now);
    if !rules.daemon_running {
        // Shutting down or reloading: no retry will come, so waiting in BACKOFF would keep
        // the shutdown waiting forever. supervisord gives such processes up silently.
        machine.state = ProcessState::Fatal;
        machine.backoff = 0;
    } else if machine.backoff <= rules.startretries && refused.is_some() {
        // The retry would pass the restart limit (rsupervisor's policy; startretries alone
        // is supervisord's).
        machine.state = ProcessState::Backoff;
        limit_reached(machine, rules, refused, TimerKind::Backoff, effects);
    } else if machine.backoff > rules.startretries {
        machine.state = ProcessState::Fatal;
        machine.backoff = 0;
        effects.push(Effect::Log(
            LogLevel::Info,
            format!(
                "gave up: {} entered FATAL state, too many start retries too quickly",
                rules.name
            ),
        ));
    } else {
        machine.state = ProcessState::Backoff;
        // supervisord waits 1 s, 2 s, 3 s, ... between retries.
        effects.push(Effect::Timer(
            TimerKind::Backoff,
            Duration::from_secs(u64::from(machine.backoff)),
        ));
    }
}

/// `terminated by SIGKILL`, with the cause when known: `terminated by SIGKILL; out of memory
/// at memory_max 512 MB`.
fn describe(status: ExitStatus, cause: Option<&str>) -> String {
    match cause {
        Some(cause) => format!("{}; {cause}", status.describe()),
        None => status.describe(),
    }
}

fn exit_running(
    machine: &mut Machine,
    rules: &Rules,
    (status, cause): (ExitStatus, Option<&str>),
    ran_for: Duration,
    effects: &mut Vec<Effect>,
) {
    machine.pid = None;
    machine.state = ProcessState::Exited;
    machine.exitstatus = status.code();
    let expected = is_expected(rules, status);
    let (level, word) = if expected {
        (LogLevel::Info, "expected")
    } else {
        (LogLevel::Warn, "not expected")
    };
    effects.push(Effect::Log(
        level,
        format!(
            "exited: {} ({}; {word})",
            rules.name,
            describe(status, cause)
        ),
    ));
    if !expected {
        if let ExitStatus::Code(code) = status {
            machine.spawnerr = format!("Bad exit code {code}");
        }
    }
    let restart = match rules.autorestart {
        AutoRestart::Always => true,
        AutoRestart::Unexpected => !expected,
        AutoRestart::Never => false,
    };
    if !(restart && rules.daemon_running) {
        return;
    }
    let mark = effects.len();
    restart_by_policy(machine, rules, ran_for, effects);
    if machine.state != ProcessState::Exited {
        // Reported in order: the exit, then what the policy did.
        effects.insert(
            mark,
            Effect::Passed {
                state: ProcessState::Exited,
                tries: 0,
            },
        );
    }
}

/// The automatic restart after an exit, as the restart policy decides it: at once, after a
/// delay, after a cool-down, or not at all (FATAL).
fn restart_by_policy(
    machine: &mut Machine,
    rules: &Rules,
    ran_for: Duration,
    effects: &mut Vec<Effect>,
) {
    let decision = restart::after_exit(&rules.policy, &mut machine.history, rules.now, ran_for);
    match decision {
        Decision::Restart { delay, crash, .. } if delay.is_zero() => {
            machine.last_delay = delay;
            if rules.policy.limit.is_some() {
                // Under a restart limit every restart is a decision worth a line.
                effects.push(Effect::Log(
                    LogLevel::Info,
                    format!(
                        "restarting: {} at once ({})",
                        rules.name,
                        streak(machine, rules, crash)
                    ),
                ));
            }
            request_spawn(machine, rules, true, effects);
        }
        Decision::Restart {
            delay,
            crash,
            by_policy,
        } => {
            // A delayed restart: the configured delay, or the crash-loop spacing of a program
            // that died within 100 ms of its spawn (supervisord's one-second loop spaced those
            // out by accident; without it a startsecs=0 crash loop would fork in a tight loop).
            machine.last_delay = delay;
            machine.restart_pending = true;
            let level = if by_policy {
                LogLevel::Info
            } else {
                LogLevel::Debug
            };
            effects.push(Effect::Log(
                level,
                format!(
                    "backoff: {} restarts in {} ({})",
                    rules.name,
                    format_duration(delay),
                    streak(machine, rules, crash)
                ),
            ));
            effects.push(Effect::Timer(TimerKind::Restart, delay));
        }
        refused => limit_reached(machine, rules, Some(refused), TimerKind::Restart, effects),
    }
}

/// STOPPING: the stop signal, and the `stopwaitsecs` timer for the SIGKILL.
fn stop_child(machine: &mut Machine, rules: &Rules, effects: &mut Vec<Effect>) {
    machine.state = ProcessState::Stopping;
    let signal = rules.stopsignal;
    effects.push(Effect::Log(
        LogLevel::Debug,
        kill_message(machine, rules, signal),
    ));
    effects.push(Effect::Signal {
        signal,
        group: rules.stopasgroup,
    });
    effects.push(Effect::Timer(
        TimerKind::StopTimeout,
        Duration::from_secs(rules.stopwaitsecs),
    ));
}

/// `crash 4 in a row`, plus the window's count when there is a limit.
fn streak(machine: &Machine, rules: &Rules, crash: u32) -> String {
    match rules.policy.limit {
        Some(limit) => format!(
            "crash {crash} in a row; {} of {} starts in {}",
            machine.history.starts_within(rules.now, limit.window),
            limit.starts,
            format_duration(limit.window)
        ),
        None => format!("crash {crash} in a row"),
    }
}

/// The restart limit refused a restart (`timer`: Restart from EXITED) or a retry (Backoff from
/// BACKOFF): cool down, or give up.
fn limit_reached(
    machine: &mut Machine,
    rules: &Rules,
    refused: Option<Decision>,
    timer: TimerKind,
    effects: &mut Vec<Effect>,
) {
    match refused {
        Some(Decision::CoolDown(cooldown, limit)) => {
            machine.cooling_down = true;
            machine.restart_pending = timer == TimerKind::Restart;
            machine.last_delay = cooldown;
            machine.spawnerr = restart::limit_text(&limit);
            effects.push(Effect::Log(
                LogLevel::Warn,
                format!(
                    "backoff: {} hit its restart limit, {}; starting again in {} with fresh \
                     counters",
                    rules.name,
                    restart::limit_text(&limit),
                    format_duration(cooldown)
                ),
            ));
            effects.push(Effect::Timer(timer, cooldown));
        }
        Some(Decision::GiveUp(limit)) => {
            machine.state = ProcessState::Fatal;
            machine.backoff = 0;
            machine.restart_pending = false;
            machine.spawnerr = restart::limit_text(&limit);
            effects.push(Effect::Log(
                LogLevel::Info,
                format!(
                    "gave up: {} entered FATAL state, {}",
                    rules.name,
                    restart::limit_text(&limit)
                ),
            ));
        }
        Some(Decision::Restart { .. }) | None => {}
    }
}

/// At the end of a cool-down the program starts with fresh counters.
fn end_cool_down(machine: &mut Machine) {
    if std::mem::take(&mut machine.cooling_down) {
        machine.history.clear();
        machine.backoff = 0;
    }
}

/// STARTING, with the spawn queued; the start is counted for the restart limit.
fn request_spawn(machine: &mut Machine, rules: &Rules, automatic: bool, effects: &mut Vec<Effect>) {
    machine.state = ProcessState::Starting;
    machine.spawn_pending = true;
    machine.history.record_start(&rules.policy, rules.now);
    if automatic {
        machine.history.restarts = machine.history.restarts.saturating_add(1);
    }
    effects.push(Effect::Spawn);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessState::*;

    fn rules() -> Rules {
        Rules {
            name: "web".into(),
            startsecs: 1,
            startretries: 2,
            autorestart: AutoRestart::Unexpected,
            exitcodes: vec![0],
            stopsignal: libc::SIGTERM,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            daemon_running: true,
            policy: RestartPolicy::default(),
            now: Duration::from_secs(1000),
        }
    }

    fn machine(state: ProcessState) -> Machine {
        let pid = if matches!(state, Starting | Running | Stopping) {
            Some(42)
        } else {
            None
        };
        Machine {
            state,
            pid,
            // An EXITED machine in these tables waits for its automatic restart.
            restart_pending: state == Exited,
            ..Machine::new()
        }
    }

    fn exited(code: i32, after_startsecs: bool) -> Input {
        Input::Exited {
            status: ExitStatus::Code(code),
            after_startsecs,
            ran_for: Duration::from_secs(60),
            cause: None,
        }
    }

    /// An exit after `startsecs` that took `ran_for` from the spawn.
    fn exited_after(status: ExitStatus, ran_for: Duration) -> Input {
        Input::Exited {
            status,
            after_startsecs: true,
            ran_for,
            cause: None,
        }
    }

    fn all_inputs() -> Vec<Input> {
        vec![
            Input::Start,
            Input::Spawned { pid: 7 },
            Input::SpawnFailed {
                error: "can't find command 'x'".into(),
            },
            exited(0, false),
            exited(1, true),
            Input::StartSecsElapsed,
            Input::BackoffElapsed,
            Input::RestartDelayElapsed,
            Input::Stop,
            Input::StopTimeout,
            Input::GiveUp,
            Input::Reset,
            Input::Restart {
                reason: "unhealthy".into(),
            },
            Input::DependencyFailed {
                reason: "db is FATAL".into(),
            },
        ]
    }

    /// A STARTING machine whose spawn still waits in the actor's queue.
    fn queued() -> Machine {
        Machine {
            state: Starting,
            spawn_pending: true,
            ..Machine::new()
        }
    }

    /// Every input in every state either is refused, or goes through allowed transitions
    /// only: each hop from the start, through the states it reports as passed, to the end.
    #[test]
    fn never_leaves_the_allowed_transitions() {
        let machines = ProcessState::ALL.into_iter().map(machine).chain([queued()]);
        for start in machines {
            let from = start.state;
            for input in all_inputs() {
                let mut m = start.clone();
                if let Ok(effects) = step(&mut m, &rules(), input.clone()) {
                    let mut path = vec![from];
                    path.extend(effects.iter().filter_map(|effect| match effect {
                        Effect::Passed { state, .. } => Some(*state),
                        _ => None,
                    }));
                    path.push(m.state);
                    for hop in path.windows(2).filter(|hop| hop[0] != hop[1]) {
                        assert!(
                            is_allowed(hop[0], hop[1]),
                            "{from:?} --{input:?}--> {path:?}: {:?} -> {:?} is not an \
                             allowed transition",
                            hop[0],
                            hop[1]
                        );
                    }
                }
            }
        }
    }

    /// The steps that go through more than one state report every state on the way, as
    /// supervisord's events show them: an exit seen after startsecs passes RUNNING, an exit
    /// that restarts at once passes EXITED, a last failed retry passes BACKOFF.
    #[test]
    fn composite_steps_report_the_states_they_pass() {
        let passed = |effects: &[Effect]| -> Vec<ProcessState> {
            effects
                .iter()
                .filter_map(|effect| match effect {
                    Effect::Passed { state, .. } => Some(*state),
                    _ => None,
                })
                .collect()
        };
        let exit = |after_startsecs| exited(1, after_startsecs);
        let mut always = rules();
        always.autorestart = AutoRestart::Always;

        // STARTING, up past startsecs before its timer fired, exits and restarts at once.
        let mut m = machine(Starting);
        let effects = step(&mut m, &always, exit(true)).expect("accepted");
        assert_eq!(
            (passed(&effects), m.state),
            (vec![Running, Exited], Starting)
        );

        // RUNNING exits and restarts at once.
        let mut m = machine(Running);
        let effects = step(&mut m, &always, exit(false)).expect("accepted");
        assert_eq!((passed(&effects), m.state), (vec![Exited], Starting));

        // RUNNING exits and stays EXITED: one hop, nothing passed.
        let mut never = rules();
        never.autorestart = AutoRestart::Never;
        let mut m = machine(Running);
        let effects = step(&mut m, &never, exit(false)).expect("accepted");
        assert_eq!((passed(&effects), m.state), (vec![], Exited));

        // The last allowed fast exit: STARTING -> BACKOFF -> FATAL.
        let mut m = machine(Starting);
        m.backoff = rules().startretries;
        let effects = step(&mut m, &rules(), exit(false)).expect("accepted");
        assert_eq!((passed(&effects), m.state), (vec![Backoff], Fatal));
    }

    /// The table of accepted (state, input) pairs: everything else is refused.
    #[test]
    fn accepts_exactly_the_documented_inputs() {
        let accepted: &[(ProcessState, &str)] = &[
            (Stopped, "Start"),
            (Exited, "Start"),
            (Fatal, "Start"),
            (Backoff, "Start"),
            (Starting, "Spawned"),
            (Starting, "SpawnFailed"),
            (Starting, "Exited"),
            (Starting, "StartSecsElapsed"),
            (Starting, "Stop"),
            (Running, "Exited"),
            (Running, "Stop"),
            (Backoff, "BackoffElapsed"),
            (Exited, "RestartDelayElapsed"),
            (Backoff, "Stop"),
            (Exited, "Stop"),
            (Backoff, "GiveUp"),
            (Stopping, "StopTimeout"),
            (Stopping, "Exited"),
            (Running, "Restart"),
            (Starting, "Restart"),
        ];
        // `reset` is accepted in every state.
        let accepted: Vec<(ProcessState, &str)> = accepted
            .iter()
            .copied()
            .chain(ProcessState::ALL.into_iter().map(|state| (state, "Reset")))
            .collect();
        for from in ProcessState::ALL {
            for input in all_inputs() {
                let label = format!("{input:?}");
                let label = label
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let expect = accepted.contains(&(from, label.as_str()));
                let result = step(&mut machine(from), &rules(), input.clone());
                assert_eq!(result.is_ok(), expect, "{from:?} with {input:?}");
            }
        }
    }

    #[test]
    fn start_spawns_then_running_after_startsecs() {
        let mut m = machine(Stopped);
        assert_eq!(
            step(&mut m, &rules(), Input::Start),
            Ok(vec![Effect::Spawn])
        );
        assert_eq!(m.state, Starting);
        assert!(m.spawn_pending, "the spawn waits in the queue");
        let effects = step(&mut m, &rules(), Input::Spawned { pid: 7 }).expect("accepted");
        assert!(!m.spawn_pending);
        assert_eq!(
            effects,
            vec![
                Effect::Log(LogLevel::Info, "spawned: 'web' with pid 7".into()),
                Effect::Timer(TimerKind::StartSecs, Duration::from_secs(1)),
            ]
        );
        let effects = step(&mut m, &rules(), Input::StartSecsElapsed).expect("accepted");
        assert_eq!(m.state, Running);
        assert_eq!(
            effects,
            vec![Effect::Log(
                LogLevel::Info,
                "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)".into()
            )]
        );
    }

    /// Stopping a process whose spawn is still queued cancels the spawn: STOPPED at once,
    /// no signal, no timer, and every later route to a spawn (a restart timer, backoff) is
    /// closed too.
    #[test]
    fn stop_cancels_a_queued_spawn() {
        for before in [Stopped, Exited, Fatal, Backoff] {
            let mut m = machine(before);
            let input = if before == Exited {
                Input::RestartDelayElapsed
            } else {
                Input::Start
            };
            assert_eq!(step(&mut m, &rules(), input), Ok(vec![Effect::Spawn]));
            assert_eq!(step(&mut m, &rules(), Input::Stop), Ok(vec![]));
            assert_eq!(m.state, Stopped, "from {before:?}");
            assert!(!m.spawn_pending && !m.restart_pending && m.pid.is_none());
        }
        // Once spawned, a stop signals the child as before.
        let mut m = queued();
        step(&mut m, &rules(), Input::Spawned { pid: 5 }).expect("accepted");
        let effects = step(&mut m, &rules(), Input::Stop).expect("accepted");
        assert_eq!(m.state, Stopping);
        assert!(effects.contains(&Effect::Signal {
            signal: libc::SIGTERM,
            group: false
        }));
    }

    #[test]
    fn a_failed_spawn_clears_the_queued_flag() {
        let mut m = queued();
        step(
            &mut m,
            &rules(),
            Input::SpawnFailed {
                error: "can't find command 'x'".into(),
            },
        )
        .expect("accepted");
        assert_eq!(m.state, Backoff);
        assert!(!m.spawn_pending);
    }

    #[test]
    fn startsecs_zero_is_running_at_once() {
        let mut m = queued();
        let r = Rules {
            startsecs: 0,
            ..rules()
        };
        let effects = step(&mut m, &r, Input::Spawned { pid: 9 }).expect("accepted");
        assert_eq!(m.state, Running);
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::Log(_, t) if t.contains("> than 0 seconds"))));
    }

    #[test]
    fn fast_exits_back_off_1_2_then_fatal() {
        let r = rules(); // startretries = 2: three attempts in all
        let mut m = machine(Starting);
        let effects = step(&mut m, &r, exited(0, false)).expect("accepted");
        assert_eq!(m.state, Backoff);
        assert_eq!(
            m.spawnerr,
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(
            effects[0],
            Effect::Log(
                LogLevel::Warn,
                "exited: web (exit status 0; not expected)".into()
            )
        );
        assert_eq!(
            effects[1],
            Effect::Timer(TimerKind::Backoff, Duration::from_secs(1))
        );
        assert_eq!(
            step(&mut m, &r, Input::BackoffElapsed),
            Ok(vec![Effect::Spawn])
        );
        step(&mut m, &r, Input::Spawned { pid: 8 }).expect("accepted");
        let effects = step(&mut m, &r, exited(1, false)).expect("accepted");
        assert_eq!(
            effects[1],
            Effect::Timer(TimerKind::Backoff, Duration::from_secs(2))
        );
        step(&mut m, &r, Input::BackoffElapsed).expect("accepted");
        step(&mut m, &r, Input::Spawned { pid: 9 }).expect("accepted");
        let effects = step(&mut m, &r, exited(1, false)).expect("accepted");
        assert_eq!(m.state, Fatal);
        assert_eq!(
            effects[1],
            Effect::Passed {
                state: Backoff,
                tries: 3
            }
        );
        assert_eq!(
            effects[2],
            Effect::Log(
                LogLevel::Info,
                "gave up: web entered FATAL state, too many start retries too quickly".into()
            )
        );
    }

    #[test]
    fn startretries_zero_is_fatal_after_first_failure() {
        let r = Rules {
            startretries: 0,
            ..rules()
        };
        let mut m = machine(Starting);
        step(
            &mut m,
            &r,
            Input::SpawnFailed {
                error: "can't find command 'nope'".into(),
            },
        )
        .expect("accepted");
        assert_eq!(m.state, Fatal);
        assert_eq!(m.spawnerr, "can't find command 'nope'");
    }

    #[test]
    fn running_exit_and_autorestart() {
        let cases = [
            (
                AutoRestart::Unexpected,
                0,
                Exited,
                "exited: web (exit status 0; expected)",
                LogLevel::Info,
            ),
            (
                AutoRestart::Unexpected,
                3,
                Starting,
                "exited: web (exit status 3; not expected)",
                LogLevel::Warn,
            ),
            (
                AutoRestart::Always,
                0,
                Starting,
                "exited: web (exit status 0; expected)",
                LogLevel::Info,
            ),
            (
                AutoRestart::Never,
                3,
                Exited,
                "exited: web (exit status 3; not expected)",
                LogLevel::Warn,
            ),
        ];
        for (autorestart, code, state, line, level) in cases {
            let r = Rules {
                autorestart,
                ..rules()
            };
            let mut m = machine(Running);
            let effects = step(&mut m, &r, exited(code, true)).expect("accepted");
            assert_eq!(m.state, state, "{autorestart:?} exit {code}");
            assert_eq!(effects[0], Effect::Log(level, line.into()));
            assert_eq!(effects.contains(&Effect::Spawn), state == Starting);
            assert_eq!(m.exitstatus, code);
        }
    }

    #[test]
    fn no_autorestart_while_daemon_stops() {
        let r = Rules {
            autorestart: AutoRestart::Always,
            daemon_running: false,
            ..rules()
        };
        let mut m = machine(Running);
        step(&mut m, &r, exited(1, true)).expect("accepted");
        assert_eq!(m.state, Exited);
        let mut m = machine(Backoff);
        assert!(step(&mut m, &r, Input::BackoffElapsed).is_err());
    }

    #[test]
    fn signal_exit_is_never_expected() {
        let mut m = machine(Running);
        let status = ExitStatus::Signal {
            signal: libc::SIGKILL,
            core_dumped: false,
        };
        let effects = step(
            &mut m,
            &rules(),
            exited_after(status, Duration::from_secs(60)),
        )
        .expect("accepted");
        assert_eq!(
            effects[0],
            Effect::Log(
                LogLevel::Warn,
                "exited: web (terminated by SIGKILL; not expected)".into()
            )
        );
        assert_eq!(m.exitstatus, -1);
    }

    #[test]
    fn stop_signals_then_escalates_to_kill() {
        let r = Rules {
            stopasgroup: true,
            killasgroup: true,
            ..rules()
        };
        let mut m = machine(Running);
        let effects = step(&mut m, &r, Input::Stop).expect("accepted");
        assert_eq!(m.state, Stopping);
        assert_eq!(
            effects,
            vec![
                Effect::Log(
                    LogLevel::Debug,
                    "killing web (pid 42) process group with signal SIGTERM".into()
                ),
                Effect::Signal {
                    signal: libc::SIGTERM,
                    group: true
                },
                Effect::Timer(TimerKind::StopTimeout, Duration::from_secs(10)),
            ]
        );
        let effects = step(&mut m, &r, Input::StopTimeout).expect("accepted");
        assert_eq!(
            effects,
            vec![
                Effect::Log(LogLevel::Warn, "killing 'web' (42) with SIGKILL".into()),
                Effect::Signal {
                    signal: libc::SIGKILL,
                    group: true
                },
                Effect::Timer(TimerKind::StopTimeout, Duration::from_secs(10)),
            ]
        );
        let status = ExitStatus::Signal {
            signal: libc::SIGKILL,
            core_dumped: false,
        };
        let effects =
            step(&mut m, &r, exited_after(status, Duration::from_secs(60))).expect("accepted");
        assert_eq!(m.state, Stopped);
        assert_eq!(
            effects,
            vec![Effect::Log(
                LogLevel::Warn,
                "stopped: web (terminated by SIGKILL)".into()
            )]
        );
    }

    #[test]
    fn stopped_with_expected_code_logs_info() {
        let mut m = machine(Stopping);
        let effects = step(&mut m, &rules(), exited(0, true)).expect("accepted");
        assert_eq!(
            effects,
            vec![Effect::Log(
                LogLevel::Info,
                "stopped: web (exit status 0)".into()
            )]
        );
    }

    #[test]
    fn stop_in_backoff_is_immediate_and_give_up_is_fatal() {
        let mut m = machine(Backoff);
        assert_eq!(step(&mut m, &rules(), Input::Stop), Ok(vec![]));
        assert_eq!(m.state, Stopped);
        let mut m = machine(Backoff);
        assert_eq!(step(&mut m, &rules(), Input::GiveUp), Ok(vec![]));
        assert_eq!(m.state, Fatal);
    }

    #[test]
    fn exit_after_startsecs_before_timer_promotes_first() {
        let mut m = machine(Starting);
        let effects = step(&mut m, &rules(), exited(0, true)).expect("accepted");
        assert!(matches!(&effects[0], Effect::Log(_, t) if t.starts_with("success: web")));
        assert_eq!(
            effects[1],
            Effect::Passed {
                state: Running,
                tries: 0
            }
        );
        assert!(matches!(&effects[2], Effect::Log(_, t) if t.starts_with("exited: web")));
        assert_eq!(m.state, Exited);
    }

    #[test]
    fn crash_loop_restarts_are_spaced_out() {
        let r = Rules {
            autorestart: AutoRestart::Always,
            startsecs: 0,
            ..rules()
        };
        let mut m = machine(Running);
        let quick = exited_after(ExitStatus::Code(1), Duration::from_millis(20));
        let effects = step(&mut m, &r, quick).expect("accepted");
        assert_eq!(m.state, Exited);
        assert_eq!(
            effects.last(),
            Some(&Effect::Timer(
                TimerKind::Restart,
                Duration::from_millis(980)
            ))
        );
        // A run longer than QUICK_EXIT is an ordinary exit: restarted at once.
        let mut ordinary_machine = machine(Running);
        let ordinary = exited_after(ExitStatus::Code(1), Duration::from_millis(300));
        let effects = step(&mut ordinary_machine, &r, ordinary).expect("accepted");
        assert_eq!(ordinary_machine.state, Starting);
        assert_eq!(effects.last(), Some(&Effect::Spawn));
        assert_eq!(
            step(&mut m, &r, Input::RestartDelayElapsed),
            Ok(vec![Effect::Spawn])
        );
        assert_eq!(m.state, Starting);
        let stopping = Rules {
            daemon_running: false,
            ..r
        };
        let mut m = machine(Exited);
        assert!(step(&mut m, &stopping, Input::RestartDelayElapsed).is_err());
    }

    #[test]
    fn a_fast_exit_during_shutdown_gives_up_instead_of_waiting_in_backoff() {
        let r = Rules {
            daemon_running: false,
            ..rules()
        };
        let mut m = machine(Starting);
        let effects = step(&mut m, &r, exited(1, false)).expect("accepted");
        assert_eq!(m.state, Fatal);
        assert!(!effects.iter().any(|e| matches!(e, Effect::Timer(..))));
    }

    #[test]
    fn stop_cancels_a_pending_restart() {
        let r = Rules {
            autorestart: AutoRestart::Always,
            startsecs: 0,
            ..rules()
        };
        let mut m = machine(Running);
        let quick = exited_after(ExitStatus::Code(1), Duration::from_millis(10));
        step(&mut m, &r, quick).expect("accepted");
        assert!(m.restart_pending);
        assert_eq!(step(&mut m, &r, Input::Stop), Ok(vec![]));
        assert_eq!(m.state, Stopped);
        assert!(step(&mut m, &r, Input::RestartDelayElapsed).is_err());
        // An EXITED process with no restart pending is simply not running.
        let mut idle = Machine {
            state: Exited,
            ..Machine::new()
        };
        assert!(step(&mut idle, &r, Input::Stop).is_err());
    }

    fn with_policy(policy: RestartPolicy) -> Rules {
        Rules {
            autorestart: AutoRestart::Always,
            policy,
            ..rules()
        }
    }

    fn limit(starts: u32, window: u64, cooldown: Option<u64>) -> RestartPolicy {
        RestartPolicy {
            limit: Some(rsupervisor_config::RestartLimit {
                starts,
                window: Duration::from_secs(window),
            }),
            limit_cooldown: cooldown.map(Duration::from_secs),
            ..RestartPolicy::default()
        }
    }

    /// Runs a RUNNING machine through `crashes` exits after `ran_for`, restarting each time
    /// (timers fire, spawns succeed); returns the effects of the last exit.
    fn crash(m: &mut Machine, r: &mut Rules, ran_for: Duration) -> Vec<Effect> {
        let effects = step(m, r, exited_after(ExitStatus::Code(1), ran_for)).expect("exit");
        r.now += ran_for;
        if m.restart_pending {
            step(m, r, Input::RestartDelayElapsed).expect("timer");
        }
        if m.state == Starting {
            step(m, r, Input::Spawned { pid: 9 }).expect("spawned");
            step(m, r, Input::StartSecsElapsed).expect("running");
        }
        effects
    }

    #[test]
    fn restart_delay_doubles_up_to_the_cap_and_is_logged() {
        let mut r = with_policy(RestartPolicy {
            delay: Duration::from_secs(1),
            delay_max: Duration::from_secs(8),
            ..RestartPolicy::default()
        });
        let mut m = machine(Running);
        let mut timers = Vec::new();
        for _ in 0..5 {
            let effects = crash(&mut m, &mut r, Duration::from_secs(2));
            timers.extend(effects.iter().filter_map(|e| match e {
                Effect::Timer(TimerKind::Restart, d) => Some(d.as_secs()),
                _ => None,
            }));
            if timers.len() == 4 {
                assert!(effects.contains(&Effect::Log(
                    LogLevel::Info,
                    "backoff: web restarts in 8s (crash 4 in a row)".into()
                )));
            }
        }
        assert_eq!(timers, [1, 2, 4, 8, 8]);
        assert_eq!(m.history.restarts, 5);
        assert_eq!(m.last_delay, Duration::from_secs(8));
    }

    #[test]
    fn restart_limit_gives_up_to_fatal() {
        let mut r = with_policy(limit(3, 300, None));
        let mut m = machine(Stopped);
        step(&mut m, &r, Input::Start).expect("start");
        step(&mut m, &r, Input::Spawned { pid: 2 }).expect("spawned");
        step(&mut m, &r, Input::StartSecsElapsed).expect("running");
        // Starts 2 and 3 are allowed, a 4th within 300 s is not.
        crash(&mut m, &mut r, Duration::from_secs(5));
        crash(&mut m, &mut r, Duration::from_secs(5));
        let effects = crash(&mut m, &mut r, Duration::from_secs(5));
        assert_eq!(m.state, Fatal);
        assert_eq!(m.spawnerr, "too many restarts (3 in 300s)");
        assert!(effects.contains(&Effect::Log(
            LogLevel::Info,
            "gave up: web entered FATAL state, too many restarts (3 in 300s)".into()
        )));
        assert!(!effects.contains(&Effect::Spawn));
        assert!(is_allowed(Exited, Fatal));
        // Starting it by hand clears the counters: three more starts are allowed.
        step(&mut m, &r, Input::Start).expect("start");
        assert_eq!(m.history.starts_within(r.now, Duration::from_secs(300)), 1);
    }

    #[test]
    fn restart_limit_cools_down_then_starts_with_fresh_counters() {
        let mut r = with_policy(limit(2, 300, Some(600)));
        let mut m = machine(Stopped);
        step(&mut m, &r, Input::Start).expect("start");
        step(&mut m, &r, Input::Spawned { pid: 2 }).expect("spawned");
        step(&mut m, &r, Input::StartSecsElapsed).expect("running");
        crash(&mut m, &mut r, Duration::from_secs(5));
        let effects = step(
            &mut m,
            &r,
            exited_after(ExitStatus::Code(1), Duration::from_secs(5)),
        )
        .expect("exit");
        assert_eq!(
            (m.state, m.restart_pending, m.cooling_down),
            (Exited, true, true)
        );
        assert_eq!(m.spawnerr, "too many restarts (2 in 300s)");
        assert_eq!(
            effects.last(),
            Some(&Effect::Timer(TimerKind::Restart, Duration::from_secs(600)))
        );
        assert!(effects.iter().any(|e| matches!(e, Effect::Log(LogLevel::Warn, t)
            if t == "backoff: web hit its restart limit, too many restarts (2 in 300s); starting again in 600s with fresh counters")));
        r.now += Duration::from_secs(600);
        assert_eq!(
            step(&mut m, &r, Input::RestartDelayElapsed),
            Ok(vec![Effect::Spawn])
        );
        assert!(!m.cooling_down);
        assert_eq!(m.history.starts_within(r.now, Duration::from_secs(300)), 1);
        assert_eq!(m.history.crashes, 0);
    }

    #[test]
    fn failed_starts_keep_startretries_and_also_count_for_the_limit() {
        // startretries=2 as supervisord; a limit of 2 starts refuses the second retry.
        let r = Rules {
            policy: limit(2, 300, Some(60)),
            ..rules()
        };
        let mut m = machine(Stopped);
        step(&mut m, &r, Input::Start).expect("start");
        step(&mut m, &r, Input::Spawned { pid: 2 }).expect("spawned");
        let effects = step(&mut m, &r, exited(1, false)).expect("fast exit");
        assert_eq!(m.state, Backoff);
        assert_eq!(
            effects.last(),
            Some(&Effect::Timer(TimerKind::Backoff, Duration::from_secs(1)))
        );
        step(&mut m, &r, Input::BackoffElapsed).expect("retry");
        step(&mut m, &r, Input::Spawned { pid: 3 }).expect("spawned");
        let effects = step(&mut m, &r, exited(1, false)).expect("fast exit");
        assert_eq!((m.state, m.cooling_down), (Backoff, true));
        assert_eq!(
            effects.last(),
            Some(&Effect::Timer(TimerKind::Backoff, Duration::from_secs(60)))
        );
        step(&mut m, &r, Input::BackoffElapsed).expect("after the cool-down");
        assert_eq!((m.state, m.backoff, m.cooling_down), (Starting, 0, false));
        // Without a limit the same failures follow supervisord exactly (1 s, 2 s, FATAL).
        let mut m = machine(Starting);
        step(&mut m, &rules(), exited(1, false)).expect("fast exit");
        assert_eq!(m.state, Backoff);
    }

    #[test]
    fn reset_clears_counters_and_leaves_fatal() {
        let mut m = machine(Fatal);
        m.spawnerr = "too many restarts (3 in 300s)".into();
        m.history.restarts = 7;
        assert_eq!(step(&mut m, &rules(), Input::Reset), Ok(vec![]));
        assert_eq!(m.state, Stopped);
        assert!(m.spawnerr.is_empty());
        assert_eq!(m.history, History::default());
        let mut m = machine(Running);
        m.history.restarts = 3;
        step(&mut m, &rules(), Input::Reset).expect("reset");
        assert_eq!((m.state, m.history.restarts), (Running, 0));
    }

    /// A restart for health or a dependency: stop, then the restart policy as after a crash.
    #[test]
    fn restart_stops_then_restarts_through_the_policy() {
        let restart = || Input::Restart {
            reason: "unhealthy: 3 failed checks, last: timed out after 1s".into(),
        };
        let stopped = || {
            exited_after(
                ExitStatus::Signal {
                    signal: libc::SIGTERM,
                    core_dumped: false,
                },
                Duration::from_secs(30),
            )
        };
        // Table: (policy, daemon running) -> state after the child is gone.
        let cases: Vec<(RestartPolicy, bool, ProcessState, bool)> = vec![
            (RestartPolicy::default(), true, Starting, false),
            (
                RestartPolicy {
                    delay: Duration::from_secs(2),
                    ..RestartPolicy::default()
                },
                true,
                Exited,
                true,
            ),
            (limit(1, 60, None), true, Fatal, false),
            (RestartPolicy::default(), false, Exited, false),
        ];
        for (policy, daemon_running, after, pending) in cases {
            // autorestart=false does not matter: the restart was asked for.
            let r = Rules {
                autorestart: AutoRestart::Never,
                daemon_running,
                policy,
                ..rules()
            };
            let mut m = machine(Running);
            // The limit's window already holds this run's start.
            m.history.record_start(&r.policy, r.now);
            let effects = step(&mut m, &r, restart()).expect("accepted");
            assert_eq!(m.state, Stopping);
            assert!(m.restart_after_stop);
            assert!(effects.contains(&Effect::Signal {
                signal: libc::SIGTERM,
                group: false
            }));
            assert!(
                matches!(&effects[0], Effect::Log(LogLevel::Warn, text) if text == "restarting: web (unhealthy: 3 failed checks, last: timed out after 1s)")
            );
            let effects = step(&mut m, &r, stopped()).expect("accepted");
            assert_eq!(
                (m.state, m.restart_pending),
                (after, pending),
                "{policy:?} {daemon_running}"
            );
            assert!(!m.restart_after_stop);
            assert_eq!(effects.contains(&Effect::Spawn), after == Starting);
            assert!(is_allowed(Stopping, Exited));
        }
    }

    #[test]
    fn a_failed_dependency_gives_up_a_held_start() {
        let failed = || Input::DependencyFailed {
            reason: "dependency migrate exited with status 1".into(),
        };
        let mut m = queued();
        let effects = step(&mut m, &rules(), failed()).expect("accepted");
        assert_eq!((m.state, m.spawn_pending), (Fatal, false));
        assert_eq!(m.spawnerr, "dependency migrate exited with status 1");
        assert_eq!(
            effects,
            [Effect::Log(
                LogLevel::Info,
                "gave up: web entered FATAL state, dependency migrate exited with status 1".into()
            )]
        );
        assert!(is_allowed(Starting, Fatal));
        // Only a start that has not spawned yet is held back for dependencies.
        for state in ProcessState::ALL {
            assert!(
                step(&mut machine(state), &rules(), failed()).is_err(),
                "{state:?}"
            );
        }
    }

    #[test]
    fn a_stop_during_a_restart_keeps_the_process_stopped() {
        let r = rules();
        let mut m = machine(Running);
        step(
            &mut m,
            &r,
            Input::Restart {
                reason: "dependency db restarted".into(),
            },
        )
        .expect("accepted");
        assert_eq!(step(&mut m, &r, Input::Stop), Ok(vec![]));
        assert!(!m.restart_after_stop);
        step(&mut m, &r, exited(0, true)).expect("accepted");
        assert_eq!(m.state, Stopped);
        // A queued spawn has no child to restart.
        assert!(step(&mut queued(), &r, Input::Restart { reason: "x".into() }).is_err());
    }

    #[test]
    fn exit_line_names_the_cause_the_daemon_knows() {
        let oom = |after_startsecs| Input::Exited {
            status: ExitStatus::Signal {
                signal: libc::SIGKILL,
                core_dumped: false,
            },
            after_startsecs,
            ran_for: Duration::from_secs(60),
            cause: Some("out of memory at memory_max 512 MB".into()),
        };
        let line = "exited: web (terminated by SIGKILL; out of memory at memory_max 512 MB; \
                    not expected)";
        for (state, after_startsecs) in [(Running, true), (Starting, true), (Starting, false)] {
            let mut m = machine(state);
            let effects = step(&mut m, &rules(), oom(after_startsecs)).expect("exit");
            assert!(
                effects.contains(&Effect::Log(LogLevel::Warn, line.to_owned())),
                "{state:?}: {effects:?}"
            );
        }
        // Then the restart policy applies as for any unexpected exit.
        let mut m = machine(Running);
        let effects = step(&mut m, &rules(), oom(true)).expect("exit");
        assert_eq!((m.state, effects.last()), (Starting, Some(&Effect::Spawn)));
    }
}
