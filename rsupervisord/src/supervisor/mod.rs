//! The supervisor actor: the one task that owns every process record.
//!
//! It reads two inboxes — [`Command`]s from the RPC layer (each with a reply channel) and
//! [`Event`]s (a child exited, a timer fired, a signal arrived) — and never awaits anything
//! else, so no request can stall it. What arrives is filed in the [`agenda`] and done in fair
//! turns: daemon signals and requests first, then a bounded batch of reaping, timers and
//! queued spawns, so no amount of work caused by the children (a crash storm) can keep a
//! request or a SIGTERM waiting for more than one turn. State changes go through the pure
//! [`fsm::step`]; this module carries out the effects it returns. Child output never passes
//! through here: each stream has its own pump task on the log runtime (see
//! [`crate::logs::pump`]).
//!
//! Shutdown and reload stop groups one at a time, highest priority first, as supervisord does;
//! the actor returns from [`Supervisor::run`] once every process has stopped.

pub mod agenda;
mod checks;
pub mod command;
pub mod contain;
pub mod dependencies;
pub mod event;
pub mod fsm;
pub mod handle;
pub mod health;
pub mod jobs;
mod listeners;
pub mod process;
pub mod report;
pub mod restart;
pub mod scale;
pub mod schedule;

use crate::logs::{self, LogHandle, LogHub, LogSink, MainLog, MainLogCopy};
use crate::spawn::{self, SpawnContext};
use agenda::{Agenda, Quotas, Turn};
use command::{Command, LogPaths, Outcome};
use event::Event;
use fsm::{Effect, ExitStatus, Input};
use process::{epoch_seconds, epoch_seconds_f64, Process, ProcessId, Waiter};
use rsupervisor_api::{
    ConfigInfo, Fault, FaultError, ProcessState, ReloadResult, StateChange, SupervisorState,
    UpdateOutcome,
};
use rsupervisor_config::{Config, GroupConfig, LoadOptions, LogFile, LogLevel, ProcessConfig};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc};

/// How often shutdown names the processes it still waits for (supervisord: every 3 s).
const SHUTDOWN_REMINDER: Duration = Duration::from_secs(3);

/// How long a reaped child's exit waits for its output pumps to reach end of file, so that
/// what it wrote is logged before its exit. A pipe still held by a process the child left
/// behind never ends: its exit is then handled after this grace, and the output that still
/// comes is logged as it comes.
pub const OUTPUT_GRACE: Duration = Duration::from_millis(50);

/// What the daemon as a whole is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mood {
    Running,
    ShuttingDown,
    Restarting,
}

/// Which new processes a group change starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartNew {
    /// Those with `autostart` (`update`, `add`).
    Autostart,
    /// All of them (`scale`: the operator asked for running instances).
    All,
}

/// An active process group.
#[derive(Debug)]
struct Group {
    config: GroupConfig,
    /// Member records, in the group's start order.
    members: Vec<ProcessId>,
}

/// A spawn waiting in the agenda: for this record, if it is still in the step that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SpawnRequest {
    id: ProcessId,
    /// The record's epoch when the spawn was asked for; any later step voids the request.
    epoch: u64,
}

/// The actor's agenda: daemon signals and timers are both [`Event`]s, filed in their lanes.
type ActorAgenda = Agenda<Event, Command, Event, SpawnRequest>;

/// Shared services the actor uses.
pub struct Services {
    /// The daemon's main log.
    pub main_log: Arc<MainLog>,
    /// Meeting point of log writers and followers.
    pub hub: LogHub,
    /// Where state changes are published for subscribers.
    pub state_changes: broadcast::Sender<StateChange>,
    /// How to re-read the configuration.
    pub load_options: LoadOptions,
    /// The command-line overrides, applied to every re-read configuration.
    pub overrides: crate::cli::Overrides,
    /// `SUPERVISOR_SERVER_URL` for children.
    pub server_url: Option<String>,
    /// The log pumps, on a runtime apart from the actor and the control socket, so that
    /// children writing as fast as they can never delay a request or a signal.
    pub pumps: logs::Pumps,
    /// The processes' cgroups (none when unavailable or off).
    pub cgroups: Arc<crate::cgroup::Cgroups>,
    /// What the control servers logged at startup, logged again on every reload (as
    /// supervisord makes its servers again).
    pub server_notes: Vec<(LogLevel, String)>,
}

/// The supervisor actor.
pub struct Supervisor {
    config: Config,
    /// The last configuration read by `reread` (what `add`/`update` apply).
    latest: Config,
    /// Sorted by (priority, name), supervisord's order (see `group_position`).
    groups: Vec<Group>,
    /// Boxed: a record is about 1.7 KB, and a map of them inline keeps up to half its
    /// slots empty at that size (and copies every record when it grows).
    processes: HashMap<ProcessId, Box<Process>>,
    /// The records' ids sorted by group and name (the order of `status`), kept as records
    /// are created and forgotten: sorting 10,000 records on every `status` was 8% of the
    /// daemon's time for it.
    order: Vec<ProcessId>,
    /// Which record each live child belongs to, for the reaper.
    pids: HashMap<i32, ProcessId>,
    /// `exec:` health-check children, reaped here too: their exit goes to the probe's task.
    probe_pids: HashMap<i32, tokio::sync::oneshot::Sender<ExitStatus>>,
    /// Records whose reaped child's exit waits for its output ([`OUTPUT_GRACE`]): the
    /// child is dead, so never signalled (its pid may already belong to another process).
    exiting: HashSet<ProcessId>,
    /// During a shutdown or reload, the children just sent their stop signal: reaped by pid
    /// first (`waitpid(pid)` is O(1) in the kernel), so an exit costs one `waitpid(-1)`, which
    /// walks every remaining child, instead of two (at 10,000 programs those walks were half
    /// of the daemon's CPU while it stopped).
    signalled: Vec<i32>,
    /// The dependency graph and what waits on it (see [`dependencies`]).
    links: dependencies::Links,
    /// `wait_for` passed for the start of this epoch.
    waited: HashMap<ProcessId, u64>,
    /// Running `wait_for` tasks, with the epoch of the start they hold.
    wait_tasks: HashMap<ProcessId, (u64, tokio::task::AbortHandle)>,
    next_id: ProcessId,
    mood: Mood,
    /// During a shutdown or reload: every group from this index on has stopped for good
    /// (nothing starts once a shutdown began), so each turn looks only at the groups before
    /// it, and stopping n groups one after another costs O(n) in all, not O(n²).
    stopped_groups_from: usize,
    reminder_armed: bool,
    /// Which shutdown the armed reminder belongs to: a reload starts a new one, so its
    /// stop says at once what it waits for.
    reminder_epoch: u64,
    /// Voids status-report timers armed before the last (re)start of the configuration.
    report_epoch: u64,
    commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedReceiver<Event>,
    events_tx: mpsc::UnboundedSender<Event>,
    /// What arrived and what is queued, handed out in fair turns.
    agenda: ActorAgenda,
    /// The (re)start's work is not all done yet: when the agenda first runs empty, the
    /// heap's free pages go back to the kernel (see [`crate::sys::trim_heap`]).
    trim_when_idle: bool,
    /// The zero of the monotonic clock the state machine's restart policy reads.
    clock: std::time::Instant,
    /// Scheduled jobs' cursors and last runs, and their state file.
    book: jobs::Book,
    /// The processes' cgroups: prepared at spawn, ended and removed after the exit.
    containment: contain::Containment,
    /// Event listener pools and their buffers (see [`crate::events`]).
    bus: crate::events::Bus,
    /// The `[fcgi-program:x]` groups' shared sockets and who holds them.
    fcgi: crate::fcgi::Sockets,
    /// Events were published or a listener changed: dispatch at the end of the turn.
    events_dirty: bool,
    /// Reaped children whose exit waits for their pumps' drain answers: pid, status, when
    /// it was reaped and how many answers are still to come.
    draining: HashMap<ProcessId, (i32, ExitStatus, std::time::Instant, usize)>,
    /// The TICK_* deadline tasks, one per period a pool subscribes to.
    tick_tasks: Vec<tokio::task::AbortHandle>,
    services: Services,
}

impl Supervisor {
    /// Creates the actor and the handle to talk to it. Nothing starts until [`Self::run`].
    pub fn new(config: Config, services: Services) -> (Self, handle::SupervisorHandle) {
        let (commands_tx, commands) = mpsc::channel(1024);
        let (events_tx, events) = mpsc::unbounded_channel();
        let (book, book_warning) = jobs::Book::open(&config.supervisord.pidfile);
        if let Some(warning) = book_warning {
            services.main_log.log(LogLevel::Warn, &warning);
        }
        let supervisor = Supervisor {
            latest: config.clone(),
            config,
            groups: Vec::new(),
            processes: HashMap::new(),
            order: Vec::new(),
            pids: HashMap::new(),
            probe_pids: HashMap::new(),
            exiting: HashSet::new(),
            signalled: Vec::new(),
            links: dependencies::Links::default(),
            waited: HashMap::new(),
            wait_tasks: HashMap::new(),
            next_id: 1,
            mood: Mood::Running,
            stopped_groups_from: 0,
            reminder_armed: false,
            reminder_epoch: 0,
            report_epoch: 0,
            commands,
            events,
            events_tx: events_tx.clone(),
            agenda: Agenda::new(Quotas::ACTOR),
            trim_when_idle: true,
            clock: std::time::Instant::now(),
            book,
            containment: contain::Containment::new(services.cgroups.clone()),
            fcgi: crate::fcgi::Sockets::default(),
            bus: crate::events::Bus::default(),
            events_dirty: false,
            draining: HashMap::new(),
            tick_tasks: Vec::new(),
            services,
        };
        (
            supervisor,
            handle::SupervisorHandle::new(commands_tx, events_tx),
        )
    }

    /// Starts the configured groups and serves commands and events until a shutdown has
    /// stopped every process.
    pub async fn run(mut self) {
        self.add_all_groups();
        self.arm_status_report();
        loop {
            self.collect();
            if self.agenda.is_empty() {
                if std::mem::take(&mut self.trim_when_idle) {
                    // The (re)start's queued work is done: what parsing the configuration
                    // and adding the groups freed need not stay resident.
                    crate::sys::trim_heap();
                }
                // Nothing to do: sleep until a message arrives (an idle daemon waits here).
                tokio::select! {
                    Some(command) = self.commands.recv() => self.agenda.push_command(command),
                    Some(event) = self.events.recv() => self.file(event),
                    else => break,
                }
                continue;
            }
            let turn = self.agenda.next_turn();
            self.take_turn(turn);
            if self.mood != Mood::Running && self.advance_shutdown() {
                if self.mood == Mood::Restarting {
                    self.finish_restart();
                } else {
                    self.save_jobs_now();
                    break;
                }
            }
            // Let the socket's tasks on this runtime run between two turns even when work
            // keeps coming: they are what turns a client's bytes into the next request.
            tokio::task::yield_now().await;
        }
    }

    /// Moves every message that has already arrived into the agenda, without waiting.
    fn collect(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            self.agenda.push_command(command);
        }
        while let Ok(event) = self.events.try_recv() {
            self.file(event);
        }
    }

    /// Files an event in its lane: daemon signals are control, SIGCHLD asks for reaping.
    fn file(&mut self, event: Event) {
        match event {
            Event::ChildSignal => self.agenda.want_reap(),
            Event::ShutdownSignal(_) | Event::ReloadSignal | Event::ReopenSignal => {
                self.agenda.push_signal(event);
            }
            Event::Timer { .. }
            | Event::ChildExited { .. }
            | Event::ShutdownReminder(_)
            | Event::StatusReport(_)
            | Event::ProbeDue { .. }
            | Event::ProbeDone { .. }
            | Event::LogReady { .. }
            | Event::WaitedFor { .. }
            | Event::CgroupEmpty(_)
            | Event::MemoryRestart { .. }
            | Event::OutOfMemory { .. }
            | Event::RestartAfterStop(_)
            | Event::ListenerTokens { .. }
            | Event::ProgramOutput { .. }
            | Event::Tick { .. } => self.agenda.push_event(event),
            Event::Job(_) => self.agenda.push_event(event),
        }
    }

    /// Does one turn's work, in the agenda's order.
    fn take_turn(&mut self, turn: Turn<Event, Command, Event, SpawnRequest>) {
        for signal in turn.signals {
            self.on_event(signal);
        }
        for command in turn.commands {
            self.on_command(command);
        }
        if turn.reaps > 0 {
            self.reap(turn.reaps);
        }
        for event in turn.events {
            self.on_event(event);
        }
        for request in turn.spawns {
            self.spawn_queued(request);
        }
        if self.events_dirty {
            self.dispatch_events();
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.services.main_log.log(level, message);
    }

    // ----- groups -----

    fn add_all_groups(&mut self) {
        // Every group first, then the starts: a start pulls in dependencies of any group.
        let mut members = Vec::new();
        let mut autostart = Vec::new();
        // One group copied at a time (the processes' configs are shared): a copy of the
        // whole list was 1.4 KB per group of heap at the start, kept resident after.
        for index in 0..self.config.groups.len() {
            let group = self.config.groups[index].clone();
            let (added, starts) = self.insert_group(group);
            members.extend(added);
            autostart.extend(starts);
        }
        self.rebuild_graph();
        // supervisord says it is RUNNING before its first processes start.
        self.publish(
            crate::events::EventKind::SupervisorStateChangeRunning,
            Vec::new,
        );
        self.start_all(autostart);
        // The daemon is booting: `@reboot` jobs run now.
        self.jobs_added(&members, true);
    }

    fn add_group(&mut self, config: GroupConfig) {
        if let Some(socket) = &config.fcgi_socket {
            // As at startup: try the socket once; if it cannot be made, each spawn says why.
            self.log(LogLevel::Info, &format!("Creating socket {}", socket.url));
            match crate::fcgi::bind(socket) {
                Ok(_) => self.log(LogLevel::Info, &format!("Closing socket {}", socket.url)),
                Err(error) => self.log(
                    LogLevel::Error,
                    &crate::fcgi::failure(&config.name, socket, &error),
                ),
            }
        }
        let (members, autostart) = self.insert_group(config);
        self.rebuild_graph();
        self.start_all(autostart);
        self.jobs_added(&members, false);
    }

    /// Starts these processes in order, each with the dependencies it pulls in.
    fn start_all(&mut self, ids: Vec<ProcessId>) {
        for id in ids {
            if self.apply(id, Input::Start).is_ok() {
                self.pull_in_dependencies(id);
            }
        }
    }

    /// Creates a group's records; returns its members, and those to start now in start
    /// order (`autostart`, except scheduled jobs, which their schedule starts).
    fn insert_group(&mut self, config: GroupConfig) -> (Vec<ProcessId>, Vec<ProcessId>) {
        let mut members = Vec::new();
        for process_config in &config.processes {
            let id = self.create_process(process_config.clone());
            members.push(id);
        }
        let autostart: Vec<ProcessId> = members
            .iter()
            .copied()
            .filter(|id| {
                self.processes
                    .get(id)
                    .is_some_and(|p| p.config.autostart && p.job.is_none())
            })
            .collect();
        self.group_added(&config);
        self.fcgi
            .configure(&config.name, config.fcgi_socket.as_ref());
        let position = self.group_position(config.priority, &config.name);
        self.groups.insert(
            position,
            Group {
                config,
                members: members.clone(),
            },
        );
        (members, autostart)
    }

    /// Where a group of this priority and name goes in `groups`, which stays sorted by
    /// (priority, name), supervisord's order: after every group that sorts before or equal.
    /// A binary search, because a start adds the groups one by one and a linear scan made
    /// adding 10,000 of them quadratic (about 0.7 s of string comparisons).
    fn group_position(&self, priority: i64, name: &str) -> usize {
        self.groups
            .partition_point(|g| (g.config.priority, g.config.name.as_str()) <= (priority, name))
    }

    fn create_process(&mut self, config: Arc<ProcessConfig>) -> ProcessId {
        let stdout_path = self.log_path(&config, &config.stdout.logfile, "stdout");
        let stderr_path = if config.redirect_stderr {
            None
        } else {
            self.log_path(&config, &config.stderr.logfile, "stderr")
        };
        let id = self.next_id;
        self.next_id += 1;
        let job = self.new_job(&config);
        let at = self.order.partition_point(|other| {
            self.processes.get(other).is_some_and(|other| {
                (&other.config.group, &other.config.name) < (&config.group, &config.name)
            })
        });
        self.order.insert(at, id);
        let mut process = Process::new(config, stdout_path, stderr_path);
        process.job = job;
        self.processes.insert(id, Box::new(process));
        id
    }

    /// The file a stream logs to; AUTO files are created now, as supervisord names them when
    /// the group is added.
    fn log_path(
        &self,
        config: &ProcessConfig,
        logfile: &LogFile,
        channel: &str,
    ) -> Option<PathBuf> {
        match logfile {
            LogFile::None => None,
            LogFile::Path(path) => Some(path.clone()),
            LogFile::Auto => {
                let supervisord = &self.config.supervisord;
                let channel = if channel == "stdout" {
                    logs::Channel::Stdout
                } else {
                    logs::Channel::Stderr
                };
                match logs::create_auto_log(
                    &supervisord.childlogdir,
                    &config.name,
                    channel,
                    &supervisord.identifier,
                ) {
                    Ok(path) => Some(path),
                    Err(error) => {
                        self.log(
                            LogLevel::Error,
                            &format!(
                                "could not create the AUTO {} log of '{}' in {}: {error}",
                                channel.as_str(),
                                config.name,
                                supervisord.childlogdir.display()
                            ),
                        );
                        None
                    }
                }
            }
        }
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.config.name == name)
    }

    /// Finds one process by namespec (`group:name`, or `name` for a same-named group).
    fn find(&self, spec: &str) -> Result<ProcessId, FaultError> {
        let (group, name) = spec.split_once(':').unwrap_or((spec, spec));
        self.groups
            .iter()
            .find(|g| g.config.name == group)
            .and_then(|g| {
                g.members.iter().copied().find(|id| {
                    self.processes
                        .get(id)
                        .is_some_and(|p| p.config.name == name)
                })
            })
            .ok_or_else(|| FaultError::new(Fault::BadName, spec))
    }

    /// Expands a namespec, `group:*`, or `None` (all) into process ids in start order.
    fn resolve(&self, spec: Option<&str>) -> Result<Vec<ProcessId>, FaultError> {
        match spec {
            None => Ok(self
                .groups
                .iter()
                .flat_map(|g| g.members.iter().copied())
                .collect()),
            Some(spec) => match spec.split_once(':') {
                Some((group, "*" | "")) => self
                    .group_index(group)
                    .map(|index| self.groups[index].members.clone())
                    .ok_or_else(|| FaultError::new(Fault::BadName, group)),
                _ => self.find(spec).map(|id| vec![id]),
            },
        }
    }

    // ----- state machine -----

    /// Feeds one input to a process's state machine and carries out the effects.
    fn apply(&mut self, id: ProcessId, input: Input) -> Result<(), fsm::Refused> {
        let daemon_running = self.mood == Mood::Running;
        let Some(process) = self.processes.get_mut(&id) else {
            return Ok(());
        };
        let before = process.machine.state;
        let before_pid = process.machine.pid;
        let rules = process.rules(daemon_running, self.clock.elapsed());
        let effects = fsm::step(&mut process.machine, &rules, input)?;
        let after = process.machine.state;
        // A step that changes the state, arms a timer or asks for a spawn voids the timers
        // and queued spawns of the steps before it: a timer belongs to the step that armed it
        // (an autorestart can go STARTING -> ... -> STARTING in one step, and the old child's
        // startsecs timer must not promote the new one). A step that does neither (`reset` of
        // a running or crash-looping process) leaves them armed.
        let rearms = effects
            .iter()
            .any(|effect| matches!(effect, Effect::Timer(..) | Effect::Spawn));
        if before != after || rearms {
            process.epoch += 1;
        }
        if before != after && (after.is_stopped() || after == ProcessState::Backoff) {
            process.stdin = None;
        }
        // The transition's log lines come first, as in supervisord (which logs, then changes
        // state): a `stopProcess(wait)` caller that reads the main log must find `stopped:`.
        let mut passed = Vec::new();
        let mut logs = Vec::new();
        let mut actions = Vec::new();
        for effect in effects {
            match effect {
                Effect::Passed { state, tries } => passed.push((state, tries)),
                Effect::Log(..) => logs.push(effect),
                _ => actions.push(effect),
            }
        }
        for effect in logs {
            self.carry_out(id, effect);
        }
        self.after_transition(id, before, before_pid, &passed);
        for effect in actions {
            self.carry_out(id, effect);
        }
        self.job_after_step(id, before);
        Ok(())
    }

    /// Reports a step's state changes: one hop per state the machine went through
    /// (`passed`, in order), to the state-change stream and the event listeners; then the
    /// dependency and health bookkeeping.
    fn after_transition(
        &mut self,
        id: ProcessId,
        before: ProcessState,
        before_pid: Option<i32>,
        passed: &[(ProcessState, u32)],
    ) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        let pid_now = process.machine.pid;
        if before_pid.is_some() && pid_now != before_pid {
            self.listener_gone(id);
        }
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        // A step can settle a waiter without a state change (a queued spawn done: STARTING
        // stays STARTING).
        if !process.waiters.is_empty() {
            process.resolve_waiters();
        }
        let after = process.machine.state;
        if before == after && passed.is_empty() {
            return;
        }
        let event_pid = pid_now.or(before_pid).unwrap_or(0);
        // Each state with the `tries` an event about entering it reports.
        let tries_now = process.machine.backoff;
        let mut states = Vec::with_capacity(passed.len() + 2);
        states.push((before, tries_now));
        states.extend_from_slice(passed);
        states.push((after, tries_now));
        let hops: Vec<(ProcessState, ProcessState, u32)> = states
            .windows(2)
            .map(|pair| (pair[0].0, pair[1].0, pair[1].1))
            .filter(|(from, to, _)| from != to)
            .collect();
        let when = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let last = hops.len().saturating_sub(1);
        for (index, &(from_state, to_state, tries)) in hops.iter().enumerate() {
            if let Some(process) = self.processes.get(&id) {
                // The hops on the way, and the exit, name the child that was there; the last
                // hop names the child there now (none yet while a restart waits to spawn).
                let pid = if index < last || to_state == ProcessState::Exited {
                    before_pid.or(pid_now)
                } else {
                    process.machine.pid
                };
                let change = StateChange {
                    name: process.config.name.clone(),
                    group: process.config.group.clone(),
                    from_state,
                    to_state,
                    pid: pid.unwrap_or(0),
                    when,
                    health: String::new(),
                    waiting_for: String::new(),
                };
                // Nobody listening is fine.
                let _ = self.services.state_changes.send(change);
            }
            self.publish_state(id, (from_state, to_state), event_pid, tries);
        }
        // A step that ends where it began went through a run that ended (STARTING ->
        // RUNNING -> EXITED -> STARTING): the bookkeeping sees it as the restart from RUNNING.
        let from = if before == after { passed[0].0 } else { before };
        self.after_state_change(id, from, after);
    }

    fn carry_out(&mut self, id: ProcessId, effect: Effect) {
        match effect {
            // Sorted out by `apply` before it carries out the rest.
            Effect::Passed { .. } => {}
            Effect::Log(level, message) => self.log(level, &message),
            Effect::Spawn => {
                if let Some(process) = self.processes.get(&id) {
                    let epoch = process.epoch;
                    self.agenda.push_spawn(SpawnRequest { id, epoch });
                }
            }
            Effect::Signal { signal, group } => self.signal(id, signal, group),
            Effect::Timer(kind, delay) => {
                let Some(process) = self.processes.get_mut(&id) else {
                    return;
                };
                if matches!(kind, fsm::TimerKind::Restart | fsm::TimerKind::Backoff) {
                    process.restart_at = SystemTime::now()
                        .checked_add(delay)
                        .map(epoch_seconds_f64)
                        .unwrap_or(0.0);
                }
                let epoch = process.epoch;
                let events = self.events_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = events.send(Event::Timer { id, epoch, kind });
                });
            }
        }
    }

    fn signal(&mut self, id: ProcessId, signal: i32, group: bool) {
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        let Some(pid) = process.machine.pid else {
            return;
        };
        if self.exiting.contains(&id) {
            // Already reaped, its exit waits for its output: nothing left to signal.
            return;
        }
        let target = if group { -pid } else { pid };
        let signal = match nix::sys::signal::Signal::try_from(signal) {
            Ok(signal) => signal,
            Err(_) => return,
        };
        if let Err(errno) = nix::sys::signal::kill(nix::unistd::Pid::from_raw(target), signal) {
            // ESRCH: it is already gone; its exit event will finish the job.
            if errno != nix::errno::Errno::ESRCH {
                let name = process.namespec();
                self.log(
                    LogLevel::Critical,
                    &format!("unknown problem killing {name} ({pid}):{errno}"),
                );
            }
        }
    }

    /// What the daemon adds around a program's settings when it spawns it.
    fn spawn_context(&self, config: &ProcessConfig) -> SpawnContext {
        SpawnContext {
            global_environment: self.config.supervisord.environment.clone(),
            global_env_files: self.config.supervisord.env_files.clone(),
            server_url: config
                .serverurl
                .clone()
                .or_else(|| self.services.server_url.clone()),
            cgroup: None,
            stdin_socket: None,
            discard_stdout: false,
            discard_stderr: false,
        }
    }

    /// `id` no longer holds its group's fcgi socket (it exited, or never started).
    fn release_fcgi_socket(&mut self, group: &str, id: ProcessId) {
        if let Some(line) = self.fcgi.release(group, id) {
            self.log(LogLevel::Info, &line);
        }
    }

    /// Carries out a queued spawn, unless a later step of the record voided it (a stop
    /// cancelled it, and maybe a new start queued another) or the daemon is stopping.
    fn spawn_queued(&mut self, request: SpawnRequest) {
        let SpawnRequest { id, epoch } = request;
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        if process.epoch != epoch || !process.machine.spawn_pending {
            return;
        }
        if self.mood != Mood::Running {
            // Shutdown cancels queued spawns when it begins; this is the last guard.
            let _ = self.apply(id, Input::Stop);
            return;
        }
        // Held while a dependency or a `wait_for` condition is not met (see dependencies).
        if !self.dependencies_allow(id) || !self.wait_for_allows(id, epoch) {
            return;
        }
        self.unpark(id);
        self.links.no_deps.remove(&id);
        let result = self.spawn_child(id);
        let spawned = result.is_ok();
        let input = match result {
            Ok(pid) => Input::Spawned { pid },
            Err(error) => Input::SpawnFailed { error },
        };
        let _ = self.apply(id, input);
        if spawned {
            // STARTING stays STARTING, yet `started` dependents can go now.
            let state = ProcessState::Starting;
            self.dependency_changed(id, dependencies::Change::State(state, state));
        }
    }

    /// Opens the log files, forks the child, starts its pumps and its exit watcher.
    fn spawn_child(&mut self, id: ProcessId) -> Result<i32, String> {
        let Some(process) = self.processes.get(&id) else {
            return Err("process record vanished".to_owned());
        };
        let config = process.config.clone();
        let mut context = self.spawn_context(&config);
        context.discard_stdout = self.discards(id, &config, &config.stdout);
        context.discard_stderr = self.discards(id, &config, &config.stderr);
        let strip_ansi = self.config.supervisord.strip_ansi;
        let stdout_file = self.open_log(&config, &process.stdout_path, &config.stdout)?;
        let stderr_file = if config.redirect_stderr {
            None
        } else {
            self.open_log(&config, &process.stderr_path, &config.stderr)?
        };
        context.cgroup = self.containment.prepare(id, &config)?;
        match self.fcgi.acquire(&config.group, id) {
            Ok((socket, lines)) => {
                for line in lines {
                    self.log(LogLevel::Info, &line);
                }
                context.stdin_socket = socket;
            }
            Err(error) => {
                self.containment.emptied(&config);
                return Err(error);
            }
        }
        let spawned = spawn::spawn(&config, &context).map_err(|error| {
            self.containment.emptied(&config);
            self.release_fcgi_socket(&config.group, id);
            error.message
        })?;
        let pid = spawned.pid;
        let generation = match self.processes.get_mut(&id) {
            Some(process) => {
                process.health.new_run();
                process.health.generation
            }
            None => 0,
        };
        let ready = config
            .deps
            .ready_log
            .as_deref()
            .and_then(|pattern| regex::Regex::new(pattern).ok());
        let watch = |events: mpsc::UnboundedSender<Event>| {
            ready.clone().map(|regex| {
                logs::ready::ReadyWatch::new(
                    regex,
                    Box::new(move || {
                        let _ = events.send(Event::LogReady { id, generation });
                    }),
                )
            })
        };
        let tap = self.listener_spawned(id, pid);
        let log_files: Vec<LogHandle> = stdout_file
            .iter()
            .chain(stderr_file.iter())
            .cloned()
            .collect();
        let sink =
            |file: Option<LogHandle>, stream: &rsupervisor_config::StreamLogConfig, channel| {
                let origin = logs::Origin {
                    program: config.program_name.clone(),
                    process: config.name.clone(),
                    group: config.group.clone(),
                    pid,
                    stream: channel,
                };
                LogSink {
                    file,
                    syslog_name: stream.syslog.then(|| config.name.clone()),
                    strip_ansi,
                    framer: logs::LineFramer::new(stream.format, &origin),
                    main_log_copy: self.services.main_log.enabled(LogLevel::Debug).then(|| {
                        MainLogCopy {
                            main_log: self.services.main_log.clone(),
                            process_name: config.name.clone(),
                            channel,
                            bytes_repr: false,
                        }
                    }),
                    problems: Some(MainLogCopy {
                        main_log: self.services.main_log.clone(),
                        process_name: config.name.clone(),
                        channel,
                        bytes_repr: false,
                    }),
                    ready: watch(self.events_tx.clone()),
                    listener: None,
                    events: self.output_events(id, pid, stream, channel),
                }
            };
        let mut stdout_sink = sink(stdout_file, &config.stdout, logs::Channel::Stdout);
        if tap.is_some() {
            // supervisord shows a listener's stdout in the main log as a bytes literal.
            if let Some(copy) = stdout_sink.main_log_copy.as_mut() {
                copy.bytes_repr = true;
            }
            // A listener's stdout speaks the protocol: no capture, no PROCESS_LOG events
            // (supervisord's PEventListenerDispatcher); its stderr is a program's.
            stdout_sink.events = None;
        }
        stdout_sink.listener = tap;
        let mut stderr_sink = spawned
            .stderr
            .is_some()
            .then(|| sink(stderr_file, &config.stderr, logs::Channel::Stderr));
        // The pumps that feed the event system are drained before the exit is handled.
        let mut output_drains = Vec::new();
        for events in [Some(&mut stdout_sink), stderr_sink.as_mut()]
            .into_iter()
            .flatten()
            .filter_map(|sink| sink.events.as_mut())
        {
            let (ask, asked) = mpsc::unbounded_channel();
            events.drain = Some(asked);
            output_drains.push(ask);
        }
        let pumps = &self.services.pumps;
        let mut running = Vec::new();
        if let Some(fd) = spawned.stdout {
            running.push(pumps.spawn(fd, stdout_sink));
        }
        if let (Some(fd), Some(sink)) = (spawned.stderr, stderr_sink) {
            running.push(pumps.spawn(fd, sink));
        }
        self.pids.insert(pid, id);
        self.containment
            .watch_memory(id, pid, &config, &self.events_tx);
        self.containment
            .watch_oom(id, pid, &config, &self.events_tx);
        if let Some(process) = self.processes.get_mut(&id) {
            process.log_files = log_files;
            process.output_drains = output_drains;
            process.pumps = running;
            process.stdin = spawned
                .stdin
                .map(|stdin| Arc::new(tokio::sync::Mutex::new(stdin)));
            process.spawned_at = Some(std::time::Instant::now());
            process.start_time = epoch_seconds(SystemTime::now());
        }
        Ok(pid)
    }

    /// Whether nothing would ever read this stream of the process: no log file, no syslog,
    /// no capture, no events, no `ready_log`, no main-log debug copy, not an event
    /// listener. Its output then goes to `/dev/null` instead of a pipe and a pump, which
    /// saves the daemon a descriptor and a task per stream (thousands of programs).
    fn discards(
        &self,
        id: ProcessId,
        config: &ProcessConfig,
        stream: &rsupervisor_config::StreamLogConfig,
    ) -> bool {
        let rsupervisor_config::StreamLogConfig {
            logfile,
            maxbytes: _,
            backups: _,
            capture_maxbytes,
            events_enabled,
            syslog,
            format: _,
        } = stream;
        *logfile == LogFile::None
            && !*syslog
            && *capture_maxbytes == 0
            && !*events_enabled
            && config.deps.ready_log.is_none()
            && !self.services.main_log.enabled(LogLevel::Debug)
            && self.listener_group(id).is_none()
    }

    /// Opens one stream's log file for a spawn; supervisord's spawn error text on failure.
    fn open_log(
        &self,
        config: &ProcessConfig,
        path: &Option<PathBuf>,
        stream: &rsupervisor_config::StreamLogConfig,
    ) -> Result<Option<LogHandle>, String> {
        let Some(path) = path else { return Ok(None) };
        let mode = if stream.logfile == LogFile::Auto {
            logs::MODE_AUTO
        } else {
            logs::MODE_EXPLICIT
        };
        LogHandle::open(
            path,
            stream.maxbytes,
            stream.backups,
            mode,
            self.services.hub.clone(),
        )
        .map(Some)
        .map_err(|error| {
            let code = nix::errno::Errno::from_raw(error.raw_os_error().unwrap_or(0));
            if code == nix::errno::Errno::EMFILE {
                format!("too many open files to spawn '{}'", config.name)
            } else {
                format!(
                    "unknown error making dispatchers for '{}': {code:?}",
                    config.name
                )
            }
        })
    }

    // ----- events -----

    fn on_event(&mut self, event: Event) {
        match event {
            Event::ChildSignal => self.agenda.want_reap(),
            Event::ChildExited {
                id,
                pid,
                status,
                reaped_at,
            } => self.exited(id, pid, status, reaped_at),
            Event::Timer { id, epoch, kind } => {
                let current = self.processes.get(&id).map(|p| p.epoch);
                if current != Some(epoch) {
                    return; // armed for an earlier incarnation or state
                }
                let input = match kind {
                    fsm::TimerKind::StartSecs => Input::StartSecsElapsed,
                    fsm::TimerKind::Backoff => Input::BackoffElapsed,
                    fsm::TimerKind::StopTimeout => Input::StopTimeout,
                    fsm::TimerKind::Restart => Input::RestartDelayElapsed,
                };
                let _ = self.apply(id, input);
            }
            Event::ShutdownSignal(name) => {
                self.log(
                    LogLevel::Warn,
                    &format!("received {name} indicating exit request"),
                );
                self.begin_shutdown(Mood::ShuttingDown);
            }
            Event::ReloadSignal => {
                if self.mood != Mood::Running {
                    self.log(
                        LogLevel::Warn,
                        "ignored SIGHUP indicating restart request (shutdown in progress)",
                    );
                } else {
                    self.log(LogLevel::Warn, "received SIGHUP indicating restart request");
                    if let Err(error) = self.prepare_restart() {
                        self.log(LogLevel::Error, &error.to_string());
                    }
                }
            }
            Event::ReopenSignal => {
                self.log(
                    LogLevel::Info,
                    "received SIGUSR2 indicating log reopen request",
                );
                self.reopen_logs();
            }
            Event::StatusReport(epoch) => {
                if epoch == self.report_epoch && self.mood == Mood::Running {
                    self.log(LogLevel::Info, &report::format(&self.all_infos()));
                    self.arm_status_report();
                }
            }
            Event::Job(event) => self.on_job_event(event),
            Event::CgroupEmpty(id) => {
                if let Some(process) = self.processes.get(&id) {
                    if process.machine.pid.is_none() {
                        self.containment.emptied(&process.config);
                    }
                }
            }
            Event::MemoryRestart { id, pid } => self.memory_restart(id, pid),
            Event::OutOfMemory { id, pid } => {
                if let Some(process) = self.processes.get(&id) {
                    let max = process.config.resources.memory_max.unwrap_or(0);
                    self.log(
                        LogLevel::Warn,
                        &format!(
                            "out of memory: {} (main pid {pid}) reached memory_max {}; the \
                             kernel killed a process of its cgroup",
                            process.config.name,
                            rsupervisor_config::resources::format_bytes(max)
                        ),
                    );
                }
            }
            Event::RestartAfterStop(id) => {
                let stopped = self
                    .processes
                    .get(&id)
                    .is_some_and(|p| p.machine.state.is_stopped());
                if self.mood == Mood::Running && stopped {
                    let _ = self.apply(id, Input::Start);
                }
            }
            Event::ShutdownReminder(epoch) if epoch == self.reminder_epoch => {
                self.reminder_armed = false;
                if self.mood != Mood::Running {
                    self.remind_shutdown();
                }
            }
            // Armed during a shutdown that a reload has finished since.
            Event::ShutdownReminder(_) => {}
            Event::ListenerTokens { id, pid, tokens } => self.on_listener_tokens(id, pid, tokens),
            Event::ProgramOutput {
                id,
                pid,
                channel,
                event,
            } => self.on_program_output(id, pid, channel, event),
            Event::Tick { kind, when } => self.on_tick(kind, when),
            Event::ProbeDue { id, generation } => self.on_probe_due(id, generation),
            Event::ProbeDone {
                id,
                generation,
                result,
            } => self.on_probe_done(id, generation, result),
            Event::LogReady { id, generation } => self.on_log_ready(id, generation),
            Event::WaitedFor { id, epoch, result } => self.on_waited_for(id, epoch, result),
        }
    }

    /// `memory_restart` reached: a graceful restart, as `rsupervisorctl restart` (the stop
    /// signal, `stopwaitsecs`, then a start once stopped).
    fn memory_restart(&mut self, id: ProcessId, pid: i32) {
        let Some(process) = self.processes.get(&id) else {
            return;
        };
        let current = process.machine.pid == Some(pid)
            && matches!(
                process.machine.state,
                ProcessState::Running | ProcessState::Starting
            )
            && self.mood == Mood::Running;
        let Some(limit) = process.config.resources.memory_restart.filter(|_| current) else {
            return;
        };
        let name = process.namespec();
        // A program over its threshold as soon as it starts would otherwise be restarted in a
        // tight loop: as for crash loops, at most one start a second.
        let ran_for = process
            .spawned_at
            .map(|at| at.elapsed())
            .unwrap_or_default();
        let delay = Duration::from_secs(1).saturating_sub(ran_for);
        self.log(
            LogLevel::Warn,
            &format!(
                "restarting: {} uses more than memory_restart {}",
                process.config.name,
                rsupervisor_config::resources::format_bytes(limit)
            ),
        );
        let (reply, stopped) = tokio::sync::oneshot::channel();
        self.stop(&name, true, true, reply);
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            if let Ok(Ok(())) = stopped.await {
                tokio::time::sleep(delay).await;
                let _ = events.send(Event::RestartAfterStop(id));
            }
        });
    }

    /// Reaps up to `quota` exited children (one SIGCHLD may stand for several). Reaping is
    /// cheap and never spawns (a restart goes to the spawn queue), so exits are collected as
    /// fast as they happen; if the quota ran out, the next turn reaps on.
    fn reap(&mut self, quota: usize) {
        use nix::sys::wait::{waitpid, WaitPidFlag};
        let mut reaped = 0;
        for pid in std::mem::take(&mut self.signalled) {
            if reaped == quota {
                self.signalled.push(pid);
                continue;
            }
            let pid = nix::unistd::Pid::from_raw(pid);
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)).map(exit_of) {
                Ok(Some((pid, status))) => {
                    reaped += 1;
                    self.dispatch_exit(pid, status);
                }
                Ok(None) => self.signalled.push(pid.as_raw()),
                // ECHILD: reaped already by the walk below.
                Err(_) => {}
            }
        }
        for _ in reaped..quota {
            // `None` is nothing more to reap now (StillAlive), or no children at all (ECHILD).
            let Ok(Some((pid, status))) = waitpid(None, Some(WaitPidFlag::WNOHANG)).map(exit_of)
            else {
                return;
            };
            // Reaped by the walk before its own turn came: nothing left to wait for by pid.
            self.signalled.retain(|signalled| *signalled != pid);
            self.dispatch_exit(pid, status);
        }
        self.agenda.want_reap();
    }

    /// A reaped child: an `exec:` health check's goes to its task, a program's to its record.
    fn dispatch_exit(&mut self, pid: i32, status: ExitStatus) {
        if let Some(probe) = self.probe_pids.remove(&pid) {
            // An `exec:` health check: its task decides what the exit means.
            let _ = probe.send(status);
            return;
        }
        match self.pids.remove(&pid) {
            Some(id) => self.exit_after_output(id, pid, status),
            None => self.log(
                LogLevel::Info,
                &format!("reaped unknown pid {pid} ({})", status.describe()),
            ),
        }
    }

    /// A program's child was reaped: its exit is handled once its output pumps reached
    /// end of file (what it wrote before it exited is then in its log and the main log,
    /// as supervisord reads output before it reaps), or after [`OUTPUT_GRACE`].
    fn exit_after_output(&mut self, id: ProcessId, pid: i32, status: ExitStatus) {
        let reaped_at = std::time::Instant::now();
        let pumps = match self.processes.get_mut(&id) {
            Some(process) if process.machine.pid == Some(pid) => std::mem::take(&mut process.pumps),
            _ => Vec::new(),
        };
        // During a shutdown or reload the exit is handled at once: groups stop one after
        // another, and under a log flood the busy pumps would make each wait the whole grace
        // (20 writers and 100 programs: 5 s instead of 0.2 s to exit). What the child wrote
        // is still in its log before the daemon exits (the pumps are drained then).
        if self.mood != Mood::Running || pumps.iter().all(tokio::task::JoinHandle::is_finished) {
            self.exited(id, pid, status, reaped_at);
            return;
        }
        self.exiting.insert(id);
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(OUTPUT_GRACE, async {
                for pump in pumps {
                    let _ = pump.await;
                }
            })
            .await;
            let _ = events.send(Event::ChildExited {
                id,
                pid,
                status,
                reaped_at,
            });
        });
    }

    /// The second step of an exit, after [`Self::exit_after_output`]: if the child's output
    /// feeds the event system, its pumps first send what the pipes still hold, even a pipe a
    /// leftover process keeps open (supervisord drains a process before it handles the exit,
    /// so its last PROCESS_LOG event comes before PROCESS_STATE_EXITED); the exit is handled
    /// when every one of them has answered.
    fn exited(
        &mut self,
        id: ProcessId,
        pid: i32,
        status: ExitStatus,
        reaped_at: std::time::Instant,
    ) {
        let drains = match self.processes.get_mut(&id) {
            Some(process) if process.machine.pid == Some(pid) => {
                std::mem::take(&mut process.output_drains)
            }
            _ => Vec::new(),
        };
        if drains.is_empty() {
            self.on_exit(id, pid, status, reaped_at);
            return;
        }
        for drain in &drains {
            if drain.send(()).is_err() {
                // That pump has ended: its last events are already queued; this answer
                // comes after them.
                let _ = self.events_tx.send(Event::ProgramOutput {
                    id,
                    pid,
                    channel: logs::Channel::Stdout,
                    event: logs::OutputEvent::Drained,
                });
            }
        }
        self.exiting.insert(id);
        self.draining
            .insert(id, (pid, status, reaped_at, drains.len()));
    }

    /// A pump answered a drain request; the last answer lets the exit be handled.
    pub(super) fn output_drained(&mut self, id: ProcessId, pid: i32) {
        let Some((exited, status, reaped_at, waiting)) = self.draining.get_mut(&id) else {
            return;
        };
        if *exited != pid {
            return;
        }
        *waiting -= 1;
        if *waiting == 0 {
            let (status, reaped_at) = (*status, *reaped_at);
            self.draining.remove(&id);
            self.on_exit(id, pid, status, reaped_at);
        }
    }

    fn on_exit(
        &mut self,
        id: ProcessId,
        pid: i32,
        status: ExitStatus,
        reaped_at: std::time::Instant,
    ) {
        self.exiting.remove(&id);
        let shutting_down = self.mood != Mood::Running;
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        if process.machine.pid != Some(pid) {
            return;
        }
        // supervisord's debug line, logged as it logs it: after the output was read.
        self.services
            .main_log
            .log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
        let ran_for = process
            .spawned_at
            .map(|at| reaped_at.saturating_duration_since(at))
            .unwrap_or_default();
        let after_startsecs = ran_for >= Duration::from_secs(process.config.startsecs);
        if let Some(job) = process.job.as_mut() {
            job.exited(status);
        }
        process.stop_time = epoch_seconds(SystemTime::now());
        if shutting_down {
            // The daemon is going away: leave nothing of this program's process group behind
            // (grandchildren that outlived their parent would otherwise be orphaned).
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        // A stop, or the daemon going away, ends the whole cgroup: nothing the program
        // started survives it, whatever process group or session it moved to.
        let end_all = shutting_down || process.machine.state == ProcessState::Stopping;
        let config = process.config.clone();
        let cause = self
            .containment
            .exited(id, &config, status, end_all, &self.events_tx);
        if self
            .apply(
                id,
                Input::Exited {
                    status,
                    after_startsecs,
                    ran_for,
                    cause,
                },
            )
            .is_err()
        {
            // An exit in a state that expects none (cannot happen with a pid recorded).
            self.log(
                LogLevel::Info,
                &format!("reaped unknown pid {pid} ({})", status.describe()),
            );
        }
        // After the exit line, as supervisord: the last process out closes the socket.
        self.release_fcgi_socket(&config.group, id);
    }

    // ----- shutdown and restart -----

    fn begin_shutdown(&mut self, mood: Mood) {
        match (self.mood, mood) {
            (Mood::Running, _) => {}
            // A SIGTERM during a reload turns it into a shutdown: the processes are already
            // stopping, and the daemon then exits instead of starting them again.
            (Mood::Restarting, Mood::ShuttingDown) => {
                self.mood = mood;
                return;
            }
            _ => return,
        }
        self.mood = mood;
        self.stopped_groups_from = self.groups.len();
        self.publish(
            crate::events::EventKind::SupervisorStateChangeStopping,
            Vec::new,
        );
        // Nothing is spawned once a shutdown began: queued spawns are cancelled (those
        // processes are STOPPED at once), and processes waiting in BACKOFF give up.
        let queued: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| p.machine.spawn_pending)
            .map(|(id, _)| *id)
            .collect();
        for id in queued {
            let _ = self.apply(id, Input::Stop);
        }
        let backoff: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| p.machine.state == ProcessState::Backoff)
            .map(|(id, _)| *id)
            .collect();
        for id in backoff {
            let _ = self.apply(id, Input::GiveUp);
        }
    }

    /// Stops the next group in reverse priority order; true once everything has stopped.
    fn advance_shutdown(&mut self) -> bool {
        let before = self.stopped_groups_from.min(self.groups.len());
        for index in (0..before).rev() {
            let unstopped: Vec<ProcessId> = self.groups[index]
                .members
                .iter()
                .copied()
                .filter(|id| {
                    self.processes
                        .get(id)
                        .is_some_and(|p| !p.machine.state.is_stopped())
                })
                .collect();
            if unstopped.is_empty() {
                if index + 1 == self.stopped_groups_from {
                    self.stopped_groups_from = index;
                }
                continue;
            }
            // Dependents stop before what they depend on: a process whose dependents still
            // run waits, and the next group's turn comes (without depends_on every process
            // is ready, which is supervisord's order).
            let ready: Vec<ProcessId> = unstopped
                .iter()
                .copied()
                .filter(|id| self.dependents_stopped(*id))
                .collect();
            if ready.is_empty() {
                continue;
            }
            // All of a group's processes get their stop signal together, highest priority first.
            for id in ready.iter().rev() {
                let state = self.processes.get(id).map(|p| p.machine.state);
                if matches!(state, Some(ProcessState::Running | ProcessState::Starting)) {
                    let _ = self.apply(*id, Input::Stop);
                    if let Some(pid) = self.processes.get(id).and_then(|p| p.machine.pid) {
                        self.signalled.push(pid);
                    }
                }
            }
            if !self.reminder_armed {
                self.remind_shutdown();
            }
            return false;
        }
        // Waiting only on dependents elsewhere: they are being stopped (a cycle cannot be
        // configured).
        self.stopped_groups_from == 0
            || !self
                .processes
                .values()
                .any(|p| !p.machine.state.is_stopped())
    }

    /// Every process's info, sorted by group and name (as `getAllProcessInfo`).
    fn all_infos(&self) -> Vec<rsupervisor_api::ProcessInfo> {
        self.sorted_processes()
            .into_iter()
            .map(Process::info)
            .collect()
    }

    /// Every process record, sorted by group and name (see `order`).
    fn sorted_processes(&self) -> Vec<&Process> {
        self.order
            .iter()
            .filter_map(|id| self.processes.get(id))
            .map(|process| &**process)
            .collect()
    }

    /// Arms the next status report, if `status_report_interval` is set: a deadline, so a
    /// daemon without it never wakes for reports.
    fn arm_status_report(&mut self) {
        let Some(interval) = self.config.supervisord.status_report_interval else {
            return;
        };
        let epoch = self.report_epoch;
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(interval).await;
            let _ = events.send(Event::StatusReport(epoch));
        });
    }

    fn remind_shutdown(&mut self) {
        let names: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.members.iter())
            .filter_map(|id| self.processes.get(id))
            .filter(|p| !p.machine.state.is_stopped())
            .map(|p| p.config.name.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        self.log(
            LogLevel::Info,
            &format!("waiting for {} to die", names.join(", ")),
        );
        self.reminder_armed = true;
        let events = self.events_tx.clone();
        let epoch = self.reminder_epoch;
        tokio::spawn(async move {
            tokio::time::sleep(SHUTDOWN_REMINDER).await;
            let _ = events.send(Event::ShutdownReminder(epoch));
        });
    }

    /// Reads the configuration for a reload; a broken file refuses the reload and leaves
    /// everything running (supervisord would stop everything and then fail).
    fn prepare_restart(&mut self) -> Result<(), FaultError> {
        let config = self.read_config()?;
        self.latest = config;
        self.begin_shutdown(Mood::Restarting);
        Ok(())
    }

    fn finish_restart(&mut self) {
        self.groups.clear();
        self.signalled.clear();
        self.bus.clear();
        let ids: Vec<ProcessId> = self.processes.keys().copied().collect();
        for id in ids {
            self.forget_process(id);
        }
        self.config = self.latest.clone();
        self.mood = Mood::Running;
        self.trim_when_idle = true;
        self.reminder_armed = false;
        self.reminder_epoch += 1;
        // As at startup (and as supervisord on every start): CRIT first, then WARN, INFO.
        let mut messages: Vec<(LogLevel, String)> = self
            .config
            .messages
            .iter()
            .map(|message| (message.level, message.text.clone()))
            .collect();
        if self.config.supervisord.user.is_none() && nix::unistd::Uid::current().is_root() {
            messages.push((LogLevel::Critical, crate::ROOT_WARNING.to_owned()));
        }
        messages.sort_by_key(|(level, _)| std::cmp::Reverse(*level));
        for (level, text) in messages {
            self.log(level, &text);
        }
        // supervisord cleans the AUTO logs on every start, reloads included.
        if let Some(warning) = clean_auto_logs(&self.config.supervisord) {
            self.log(LogLevel::Warn, &warning);
        }
        for (level, text) in self.services.server_notes.clone() {
            self.log(level, &text);
        }
        self.log(
            LogLevel::Info,
            &format!("supervisord started with pid {}", std::process::id()),
        );
        self.add_all_groups();
        self.report_epoch += 1;
        self.arm_status_report();
    }

    fn read_config(&self) -> Result<Config, FaultError> {
        let mut config =
            rsupervisor_config::load(&self.config.path, &self.services.load_options)
                .map_err(|errors| FaultError::new(Fault::CantReread, errors.to_string()))?;
        self.services
            .overrides
            .apply(&mut config)
            .map_err(|message| FaultError::new(Fault::CantReread, message))?;
        Ok(config)
    }

    fn reopen_logs(&mut self) {
        if let Err(error) = self.services.main_log.reopen() {
            eprintln!("rsupervisord: could not reopen the main log: {error}");
        }
        for process in self.processes.values() {
            for file in &process.log_files {
                if let Err(error) = file.reopen() {
                    self.log(
                        LogLevel::Error,
                        &format!("could not reopen {}: {error}", file.path().display()),
                    );
                }
            }
        }
        self.log(LogLevel::Info, "supervisord logreopen");
    }

    // ----- commands -----

    fn refuse_if_stopping(&self) -> Result<(), FaultError> {
        if self.mood == Mood::Running {
            Ok(())
        } else {
            Err(FaultError::bare(Fault::ShutdownState))
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Start {
                name,
                wait,
                no_deps,
                reply,
            } => {
                if let Err(error) = self.refuse_if_stopping() {
                    let _ = reply.send(Err(error));
                    return;
                }
                self.start(&name, wait, no_deps, reply);
                self.job_started_by_hand(&name);
            }
            Command::Run { name, wait, reply } => {
                if let Err(error) = self.refuse_if_stopping() {
                    let _ = reply.send(Err(error));
                    return;
                }
                self.start(&name, wait, false, reply);
            }
            Command::Stop {
                name,
                wait,
                no_deps,
                reply,
            } => {
                if let Err(error) = self.refuse_if_stopping() {
                    let _ = reply.send(Err(error));
                    return;
                }
                self.job_stop_requested(&name);
                self.stop(&name, wait, no_deps, reply);
            }
            Command::Signal {
                name,
                signal,
                reply,
            } => {
                let _ = reply.send(self.send_signal(&name, signal));
            }
            Command::Resolve { spec, reply } => {
                let result = self.resolve(spec.as_deref()).map(|ids| {
                    ids.iter()
                        .filter_map(|id| self.processes.get(id))
                        .map(|p| p.target())
                        .collect()
                });
                let _ = reply.send(result);
            }
            Command::ProcessInfo { name, reply } => {
                let result = self.find(&name).map(|id| self.processes[&id].info());
                let _ = reply.send(result);
            }
            Command::DependencyGraph { reply } => {
                let _ = reply.send(self.graph_nodes());
            }
            Command::AllProcessInfo { reply } => {
                let _ = reply.send(self.all_infos());
            }
            Command::MetricsTargets { reply } => {
                let targets = self.sorted_processes().into_iter().map(|p| {
                    (
                        &*p.config,
                        p.machine.pid.unwrap_or(0),
                        p.machine.history.restarts,
                    )
                });
                let _ = reply.send(self.containment.targets(targets));
            }
            Command::AllConfigInfo { reply } => {
                let _ = reply.send(self.config_info());
            }
            Command::LogPaths { name, reply } => {
                let result = self.find(&name).map(|id| {
                    let process = &self.processes[&id];
                    LogPaths {
                        stdout: process.stdout_path.clone(),
                        stderr: process.stderr_path.clone(),
                    }
                });
                let _ = reply.send(result);
            }
            Command::Environment { name, reply } => {
                let result = self.find(&name).map(|id| {
                    let config = &self.processes[&id].config;
                    crate::environment::effective(config, &self.spawn_context(config))
                });
                let _ = reply.send(result);
            }
            Command::Reset { name, reply } => {
                let result = self.find(&name).map(|id| {
                    let _ = self.apply(id, Input::Reset);
                });
                let _ = reply.send(result);
            }
            Command::ClearLogs { name, reply } => {
                let result = self.find(&name).and_then(|id| self.clear_logs(id));
                let _ = reply.send(result);
            }
            Command::SendStdin { name, data, reply } => {
                self.send_stdin(&name, data, reply);
            }
            Command::RemoteEvent {
                event_type,
                data,
                reply,
            } => {
                self.publish_remote(&event_type, &data);
                let _ = reply.send(Ok(()));
            }
            Command::Reread { reply } => {
                let result = self.refuse_if_stopping().and_then(|()| self.reread());
                let _ = reply.send(result);
            }
            Command::AddGroup { name, reply } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.add_named_group(&name));
                let _ = reply.send(result);
            }
            Command::RemoveGroup { name, reply } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.remove_group(&name));
                let _ = reply.send(result);
            }
            Command::PlanUpdate { name, reply } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.plan_update(&name));
                let _ = reply.send(result);
            }
            Command::PlanScale {
                program,
                count,
                reply,
            } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.plan_scale(&program, count));
                let _ = reply.send(result);
            }
            Command::ApplyScale {
                program,
                count,
                plan,
                reply,
            } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.apply_scale(&program, count, plan));
                let _ = reply.send(result);
            }
            Command::ApplyUpdate { name, reply } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.apply_update(&name));
                let _ = reply.send(result);
            }
            Command::Shutdown { reply } => {
                let result = self.refuse_if_stopping();
                if result.is_ok() {
                    self.begin_shutdown(Mood::ShuttingDown);
                }
                let _ = reply.send(result);
            }
            Command::Restart { reply } => {
                let result = self
                    .refuse_if_stopping()
                    .and_then(|()| self.prepare_restart());
                let _ = reply.send(result);
            }
            Command::ReopenLogs { reply } => {
                self.reopen_logs();
                let _ = reply.send(());
            }
            Command::State { reply } => {
                let state = match self.mood {
                    Mood::Running => SupervisorState::Running,
                    Mood::ShuttingDown => SupervisorState::Shutdown,
                    Mood::Restarting => SupervisorState::Restarting,
                };
                let _ = reply.send(state);
            }
        }
    }

    fn start(&mut self, name: &str, wait: bool, no_deps: bool, reply: command::Reply<Outcome>) {
        let id = match self.find(name) {
            Ok(id) => id,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        if self.links.pulled.contains(&id) {
            // A dependent's start already started it: this start joins that one.
            return self.join_start(id, wait, reply);
        }
        let process = &self.processes[&id];
        // supervisord checks the command before the state: NO_FILE, NOT_EXECUTABLE first.
        let environment = spawn::environment(&process.config, &self.spawn_context(&process.config));
        if let Err(error) = spawn::resolve_command(&process.config, &environment) {
            if matches!(error.fault, Fault::NoFile | Fault::NotExecutable) {
                let _ = reply.send(Err(FaultError::new(error.fault, error.message)));
                return;
            }
        }
        match process.machine.state {
            ProcessState::Running | ProcessState::Starting | ProcessState::Backoff => {
                let _ = reply.send(Err(FaultError::new(Fault::AlreadyStarted, name)));
                return;
            }
            ProcessState::Unknown => {
                let _ = reply.send(Err(FaultError::new(
                    Fault::Failed,
                    format!("{name} is in an unknown process state"),
                )));
                return;
            }
            ProcessState::Stopping => {
                let _ = reply.send(Err(FaultError::new(
                    Fault::Failed,
                    format!("{name} is still stopping; start it again once it has stopped"),
                )));
                return;
            }
            _ => {}
        }
        if no_deps {
            self.links.no_deps.insert(id);
        }
        if self.apply(id, Input::Start).is_err() {
            let _ = reply.send(Err(FaultError::new(Fault::Failed, name)));
            return;
        }
        if !no_deps {
            self.pull_in_dependencies(id);
        }
        self.join_start(id, wait, reply);
    }

    /// Answers a start request once the process's start settles (see [`Waiter`]).
    fn join_start(&mut self, id: ProcessId, wait: bool, reply: command::Reply<Outcome>) {
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        // The spawn is queued: the answer comes once it was done (wait=false: whether it
        // failed, as supervisord answers after its synchronous spawn) or settled (wait=true).
        let waiter = if wait {
            Waiter::Start(reply)
        } else {
            Waiter::Spawn(reply)
        };
        process.waiters.push(waiter);
        process.resolve_waiters();
    }

    fn stop(&mut self, name: &str, wait: bool, no_deps: bool, reply: command::Reply<Outcome>) {
        let id = match self.find(name) {
            Ok(id) => id,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        if self.links.cascade.contains(&id) {
            // A dependency's stop already takes it along: this stop joins that one.
            return self.join_cascade(id, wait, reply);
        }
        let machine = &self.processes[&id].machine;
        let restarting = machine.state == ProcessState::Stopping && machine.restart_after_stop;
        if !machine.state.is_running() && !machine.restart_pending && !restarting {
            let _ = reply.send(Err(FaultError::new(Fault::NotRunning, name)));
            return;
        }
        if !no_deps && self.cascade_stop(id) {
            return self.join_cascade(id, wait, reply);
        }
        let name_only = self.processes[&id].config.name.clone();
        if self.apply(id, Input::Stop).is_err() {
            let _ = reply.send(Err(FaultError::new(Fault::Failed, name)));
            return;
        }
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        if wait && !process.machine.state.is_stopped() {
            process.waiters.push(Waiter::Stop(reply));
            self.log(LogLevel::Info, &format!("waiting for {name_only} to stop"));
        } else {
            let _ = reply.send(Ok(()));
        }
    }

    fn send_signal(&mut self, name: &str, signal: i32) -> Outcome {
        let id = self.find(name)?;
        let process = &self.processes[&id];
        // A start whose spawn is still queued has no child to signal yet.
        if !process.machine.state.is_signallable() || process.machine.spawn_pending {
            return Err(FaultError::new(Fault::NotRunning, name));
        }
        let pid = process.machine.pid.unwrap_or(0);
        self.log(
            LogLevel::Debug,
            &format!(
                "sending {} (pid {pid}) sig SIG{}",
                process.config.name,
                rsupervisor_config::signal_name(signal)
            ),
        );
        self.signal(id, signal, false);
        Ok(())
    }

    fn send_stdin(&mut self, name: &str, data: Vec<u8>, reply: command::Reply<Outcome>) {
        let id = match self.find(name) {
            Ok(id) => id,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        let process = self
            .processes
            .get_mut(&id)
            .expect("invariant: found ids exist");
        if process.machine.pid.is_none() || process.machine.state == ProcessState::Stopping {
            let _ = reply.send(Err(FaultError::new(Fault::NotRunning, name)));
            return;
        }
        let Some(stdin) = process.stdin.clone() else {
            let _ = reply.send(Err(FaultError::new(Fault::NoFile, name)));
            return;
        };
        // Writing may wait on a full pipe: do it off the actor. The lock keeps concurrent
        // writers' data from interleaving.
        let name = name.to_owned();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut stdin = stdin.lock().await;
            let result = stdin.write_all(&data).await;
            let _ = reply.send(result.map_err(|_| FaultError::new(Fault::NoFile, name)));
        });
    }

    fn clear_logs(&mut self, id: ProcessId) -> Outcome {
        let process = &self.processes[&id];
        let name = process.namespec();
        let mut failed = None;
        if process.log_files.is_empty() {
            // Not running: empty the files directly (supervisord does nothing here; we follow
            // its documented intent).
            for path in [&process.stdout_path, &process.stderr_path]
                .into_iter()
                .flatten()
            {
                if let Err(error) = std::fs::File::create(path) {
                    failed = Some(format!("{name}: {error}"));
                }
            }
        } else {
            for file in &process.log_files {
                if let Err(error) = file.clear() {
                    failed = Some(format!("{name}: {error}"));
                }
            }
        }
        match failed {
            Some(message) => Err(FaultError::new(Fault::Failed, message)),
            None => Ok(()),
        }
    }

    fn config_info(&self) -> Vec<ConfigInfo> {
        let mut infos = Vec::new();
        for group in &self.latest.groups {
            let active = self.group_index(&group.name);
            for process in &group.processes {
                let live = active.and_then(|index| {
                    self.groups[index]
                        .members
                        .iter()
                        .filter_map(|id| self.processes.get(id).map(|p| &**p))
                        .find(|p| p.config.name == process.name)
                });
                infos.push(config_info(group, process, active.is_some(), live));
            }
        }
        // Instances that only `scale` created: in use, though the file does not have them.
        // A group or program the file no longer has (removed, not yet `update`d) is not
        // listed, as supervisord lists only what the last reading of the file has.
        for group in &self.groups {
            let Some(in_file) = self
                .latest
                .groups
                .iter()
                .find(|g| g.name == group.config.name)
            else {
                continue;
            };
            for process in group.members.iter().filter_map(|id| self.processes.get(id)) {
                let listed = in_file
                    .processes
                    .iter()
                    .any(|p| p.name == process.config.name);
                let program_in_file = in_file
                    .processes
                    .iter()
                    .any(|p| p.program_name == process.config.program_name);
                if !listed && program_in_file {
                    infos.push(config_info(
                        &group.config,
                        &process.config,
                        true,
                        Some(process),
                    ));
                }
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }

    fn reread(&mut self) -> Result<ReloadResult, FaultError> {
        let config = self.read_config()?;
        let result = diff(&self.groups, &config, &self.config);
        self.latest = config;
        Ok(result)
    }

    fn add_named_group(&mut self, name: &str) -> Outcome {
        if self.group_index(name).is_some() {
            return Err(FaultError::new(Fault::AlreadyAdded, name));
        }
        let group = self
            .latest
            .groups
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .ok_or_else(|| FaultError::new(Fault::BadName, name))?;
        self.log(LogLevel::Info, &format!("added process group {name}"));
        self.add_group(group);
        Ok(())
    }

    fn remove_group(&mut self, name: &str) -> Outcome {
        let index = self
            .group_index(name)
            .ok_or_else(|| FaultError::new(Fault::BadName, name))?;
        let running = self.groups[index].members.iter().any(|id| {
            self.processes
                .get(id)
                .is_some_and(|p| !p.machine.state.is_stopped())
        });
        if running {
            return Err(FaultError::new(Fault::StillRunning, name));
        }
        let group = self.groups.remove(index);
        for id in group.members {
            self.forget_process(id);
        }
        self.group_removed(name);
        self.fcgi.configure(name, None);
        self.rebuild_graph();
        self.log(LogLevel::Info, &format!("removed process group {name}"));
        Ok(())
    }

    fn forget_process(&mut self, id: ProcessId) {
        self.order.retain(|other| *other != id);
        if let Some(process) = self.processes.remove(&id) {
            for path in [&process.stdout_path, &process.stderr_path]
                .into_iter()
                .flatten()
            {
                self.services.hub.close(path);
            }
        }
    }

    /// Running processes of `name` that the last-read configuration changes or removes.
    fn plan_update(&self, name: &str) -> Result<Vec<String>, FaultError> {
        let new = self.latest.groups.iter().find(|g| g.name == name);
        if self.group_index(name).is_none() && new.is_none() {
            return Err(FaultError::new(Fault::BadName, name));
        }
        Ok(self.plan_group_change(name, new))
    }

    /// Running processes of the active group `name` that `new` changes or removes (`None`:
    /// the whole group goes away).
    fn plan_group_change(&self, name: &str, new: Option<&GroupConfig>) -> Vec<String> {
        let Some(index) = self.group_index(name) else {
            return Vec::new();
        };
        // A new fcgi socket is taken by new processes only: every process is replaced.
        let same_socket =
            new.is_some_and(|new| new.fcgi_socket == self.groups[index].config.fcgi_socket);
        self.groups[index]
            .members
            .iter()
            .filter_map(|id| self.processes.get(id))
            .filter(|process| {
                // A changed schedule alone is swapped in place: the run goes on.
                let unchanged = same_socket
                    && new.is_some_and(|new| {
                        new.processes
                            .iter()
                            .any(|p| jobs::Job::same_but_schedule(p, &process.config))
                    });
                !unchanged && process.machine.state.is_running()
            })
            .map(|p| p.namespec())
            .collect()
    }

    /// Applies the last-read configuration to one group; processes to replace must be stopped.
    /// A `scale` of the group's programs ends here: the file's instance counts apply again.
    fn apply_update(&mut self, name: &str) -> Result<UpdateOutcome, FaultError> {
        let new = self.latest.groups.iter().find(|g| g.name == name).cloned();
        let outcome = self.apply_group_config(name, new, StartNew::Autostart)?;
        if let Some(index) = self.group_index(name) {
            for id in self.groups[index].members.clone() {
                if let Some(process) = self.processes.get_mut(&id) {
                    process.scaled = None;
                }
            }
        }
        Ok(outcome)
    }

    /// Makes `new` the group's configuration (`None` removes the group): processes whose
    /// settings are unchanged keep running, the others (which must be stopped already) are
    /// replaced, and new ones are started as `start_new` says.
    fn apply_group_config(
        &mut self,
        name: &str,
        new: Option<GroupConfig>,
        start_new: StartNew,
    ) -> Result<UpdateOutcome, FaultError> {
        let mut outcome = UpdateOutcome {
            group: name.to_owned(),
            action: "unchanged".to_owned(),
            stopped: Vec::new(),
            started: Vec::new(),
        };
        let Some(index) = self.group_index(name) else {
            let Some(new) = new else {
                return Err(FaultError::new(Fault::BadName, name));
            };
            outcome.action = "added".to_owned();
            outcome.started = new
                .processes
                .iter()
                .filter(|p| p.autostart && p.schedule.is_none())
                .map(|p| rsupervisor_api::namespec(&p.group, &p.name))
                .collect();
            self.log(LogLevel::Info, &format!("added process group {name}"));
            self.add_group(new);
            return Ok(outcome);
        };
        let Some(new) = new else {
            self.remove_group(name)?;
            outcome.action = "removed".to_owned();
            return Ok(outcome);
        };
        if self.groups[index].config == new {
            return Ok(outcome);
        }
        // Replace only the processes whose settings changed; the others keep running.
        let old_members = self.groups[index].members.clone();
        let same_socket = new.fcgi_socket == self.groups[index].config.fcgi_socket;
        let mut keep: BTreeMap<String, ProcessId> = BTreeMap::new();
        for id in &old_members {
            let Some(process) = self.processes.get(id) else {
                continue;
            };
            let same = same_socket
                && new
                    .processes
                    .iter()
                    .any(|p| jobs::Job::same_but_schedule(p, &process.config));
            if same {
                keep.insert(process.config.name.clone(), *id);
            } else if !process.machine.state.is_stopped() {
                return Err(FaultError::new(Fault::StillRunning, process.namespec()));
            }
        }
        let mut members = Vec::new();
        let mut to_start = Vec::new();
        let mut added = Vec::new();
        for process_config in &new.processes {
            if let Some(id) = keep.get(&process_config.name) {
                members.push(*id);
                if self.processes.get(id).map(|p| &p.config) != Some(process_config) {
                    self.job_reconfigure(*id, process_config.clone());
                }
                continue;
            }
            let id = self.create_process(process_config.clone());
            added.push(id);
            let starts = process_config.autostart || start_new == StartNew::All;
            if starts && process_config.schedule.is_none() {
                to_start.push(id);
                outcome.started.push(rsupervisor_api::namespec(
                    &process_config.group,
                    &process_config.name,
                ));
            }
            members.push(id);
        }
        for id in old_members {
            if !members.contains(&id) {
                self.forget_process(id);
            }
        }
        self.groups.remove(index);
        self.fcgi.configure(&new.name, new.fcgi_socket.as_ref());
        if let Some(listener) = &new.listener {
            self.bus.set_pool(&new.name, listener);
            self.arm_ticks();
        }
        let position = self.group_position(new.priority, &new.name);
        self.groups.insert(
            position,
            Group {
                config: new,
                members,
            },
        );
        self.log(LogLevel::Info, &format!("updated process group {name}"));
        self.rebuild_graph();
        self.start_all(to_start);
        self.jobs_added(&added, false);
        outcome.action = "updated".to_owned();
        Ok(outcome)
    }
}

/// Deletes the AUTO logs of earlier runs unless `nocleanup`; a warning for the main log when
/// that fails.
pub fn clean_auto_logs(settings: &rsupervisor_config::SupervisordConfig) -> Option<String> {
    if settings.nocleanup {
        return None;
    }
    logs::cleanup_auto_logs(&settings.childlogdir, &settings.identifier)
        .err()
        .map(|error| {
            format!(
                "could not clean up old AUTO logs in {}: {error}",
                settings.childlogdir.display()
            )
        })
}

fn config_info(
    group: &GroupConfig,
    process: &ProcessConfig,
    inuse: bool,
    live: Option<&Process>,
) -> ConfigInfo {
    let logfile = |logfile: &LogFile, live_path: Option<&PathBuf>| match (logfile, live_path) {
        (LogFile::None, _) => "none".to_owned(),
        (_, Some(path)) => path.display().to_string(),
        (LogFile::Auto, None) => "auto".to_owned(),
        (LogFile::Path(path), None) => path.display().to_string(),
    };
    ConfigInfo {
        name: process.name.clone(),
        group: group.name.clone(),
        inuse,
        autostart: process.autostart,
        group_prio: group.priority,
        process_prio: process.priority,
        command: process.command.clone(),
        directory: process
            .directory
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "none".to_owned()),
        uid: process
            .user
            .as_ref()
            .map(|u| u.uid.to_string())
            .unwrap_or_else(|| "none".to_owned()),
        exitcodes: process.exitcodes.clone(),
        killasgroup: process.killasgroup,
        redirect_stderr: process.redirect_stderr,
        startretries: process.startretries,
        startsecs: process.startsecs,
        stopsignal: process.stopsignal.number,
        stopwaitsecs: process.stopwaitsecs,
        stdout_logfile: logfile(
            &process.stdout.logfile,
            live.and_then(|p| p.stdout_path.as_ref()),
        ),
        stdout_logfile_maxbytes: process.stdout.maxbytes,
        stdout_logfile_backups: process.stdout.backups,
        stderr_logfile: logfile(
            &process.stderr.logfile,
            live.and_then(|p| p.stderr_path.as_ref()),
        ),
        stderr_logfile_maxbytes: process.stderr.maxbytes,
        stderr_logfile_backups: process.stderr.backups,
        stdout_capture_maxbytes: process.stdout.capture_maxbytes,
        stdout_events_enabled: process.stdout.events_enabled,
        stdout_syslog: process.stdout.syslog,
        stderr_capture_maxbytes: process.stderr.capture_maxbytes,
        stderr_events_enabled: process.stderr.events_enabled,
        stderr_syslog: process.stderr.syslog,
        // supervisord reads `AUTO` as unset and shows both as `none`.
        serverurl: process
            .serverurl
            .clone()
            .unwrap_or_else(|| "none".to_owned()),
    }
}

/// The difference between the active groups and a freshly read configuration.
/// The pid and exit of a `waitpid` answer; `None` if no child has exited (without
/// WUNTRACED/WCONTINUED, stopped or continued children never show).
fn exit_of(status: nix::sys::wait::WaitStatus) -> Option<(i32, ExitStatus)> {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), ExitStatus::Code(code))),
        WaitStatus::Signaled(pid, signal, core_dumped) => Some((
            pid.as_raw(),
            ExitStatus::Signal {
                signal: signal as i32,
                core_dumped,
            },
        )),
        _ => None,
    }
}

fn diff(active: &[Group], new: &Config, old: &Config) -> ReloadResult {
    let mut result = ReloadResult::default();
    for group in &new.groups {
        match active.iter().find(|g| g.config.name == group.name) {
            None => result.added.push(group.name.clone()),
            Some(current) if current.config != *group => {
                result.changed.push(group.name.clone());
                for process in &group.processes {
                    let same = current.config.processes.contains(process);
                    if !same {
                        result
                            .changed_processes
                            .push(rsupervisor_api::namespec(&process.group, &process.name));
                    }
                }
                for process in &current.config.processes {
                    let still = group.processes.iter().any(|p| p.name == process.name);
                    if !still {
                        result
                            .changed_processes
                            .push(rsupervisor_api::namespec(&process.group, &process.name));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for group in active {
        if !new.groups.iter().any(|g| g.name == group.config.name) {
            result.removed.push(group.config.name.clone());
        }
    }
    if new.supervisord != old.supervisord {
        result.needs_restart.push("[supervisord]".to_owned());
    }
    if new.unix_http_server != old.unix_http_server {
        result.needs_restart.push("[unix_http_server]".to_owned());
    }
    if new.inet_http_server != old.inet_http_server {
        result.needs_restart.push("[inet_http_server]".to_owned());
    }
    result.added.sort();
    result.changed.sort();
    result.removed.sort();
    result.changed_processes.sort();
    result
}
