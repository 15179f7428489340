//! The actor's side of `depends_on`: which starts are held back for their dependencies,
//! which stops wait for dependents, and what a dependency's failure does to its running
//! dependents. The graph itself is [`rsupervisor_config::graph`]; the conditions read each
//! dependency's state machine and its [`super::health::Health`], nothing else.
//!
//! - **Start**: a spawn is held (the process stays STARTING with its spawn queued, so a stop
//!   still cancels it) while a dependency's condition is not met; its description says what
//!   it waits for. Every change of a dependency's state, health or readiness re-checks its
//!   held dependents at once (no polling). A condition that can no longer be met (the
//!   dependency is FATAL, or a migration exited with a bad code) gives the start up: FATAL
//!   with the reason. A dependency that is merely stopped may still be started: the
//!   dependent waits for it. `start x` also starts x's stopped dependencies.
//! - **Stop**: `stop x` stops x's running dependents first: x and its dependents wait in the
//!   stop queue, and each is stopped once everything depending on it has stopped. Shutdown
//!   follows the same rule (see `advance_shutdown`).
//! - **Failure**: a running dependent whose dependency goes FATAL, exits unexpectedly or
//!   turns unhealthy is stopped, restarted or left alone (`on_dependency_failure`); with
//!   `restart` it also follows the dependency's restarts.

use super::fsm::Input;
use super::health::HealthStatus;
use super::process::{Process, ProcessId, Waiter};
use super::{SpawnRequest, Supervisor};
use rsupervisor_api::{ProcessState, StateChange};
use rsupervisor_config::graph::Graph;
use rsupervisor_config::{Condition, DependencyFailure, LogLevel};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The dependency bookkeeping of the actor.
#[derive(Debug, Default)]
pub struct Links {
    graph: Graph,
    /// Some process depends on another (cached: asked at every state change).
    edges: bool,
    node_of: HashMap<ProcessId, usize>,
    id_of: Vec<Option<ProcessId>>,
    /// STARTING with a spawn held until the dependencies (or `wait_for`) are met.
    pub parked: BTreeSet<ProcessId>,
    /// Stops waiting for the process's dependents to stop first.
    pub stop_queue: Vec<ProcessId>,
    /// Stopping, or waiting to stop, because a dependency's stop took them along: a stop
    /// request for one of them joins that stop.
    pub cascade: HashSet<ProcessId>,
    /// Started because a dependent's start pulled them in: a start request joins it.
    pub pulled: HashSet<ProcessId>,
    /// Started with `--no-deps`: the spawn skips the dependency check.
    pub no_deps: HashSet<ProcessId>,
}

impl Links {
    /// The graph of the active processes, as a `graph` command shows it.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The record of a graph node.
    pub fn id(&self, node: usize) -> Option<ProcessId> {
        self.id_of.get(node).copied().flatten()
    }

    /// The graph node of a record.
    pub fn node(&self, id: ProcessId) -> Option<usize> {
        self.node_of.get(&id).copied()
    }

    /// Direct dependents of a record.
    fn dependents(&self, id: ProcessId) -> Vec<ProcessId> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        self.graph
            .dependents(node)
            .iter()
            .filter_map(|n| self.id(*n))
            .collect()
    }

    /// Direct dependencies of a record, with their conditions.
    fn dependencies(&self, id: ProcessId) -> Vec<(ProcessId, Condition)> {
        let Some(node) = self.node(id) else {
            return Vec::new();
        };
        self.graph
            .dependencies(node)
            .iter()
            .filter_map(|edge| self.id(edge.dependency).map(|id| (id, edge.condition)))
            .collect()
    }

    /// Whether any process depends on another (without `depends_on` nothing here applies).
    pub fn any(&self) -> bool {
        self.edges
    }
}

/// Whether a dependency meets a condition now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Met {
    /// Yes.
    Yes,
    /// Not yet; it may.
    NotYet,
    /// It cannot any more, for this reason.
    Never(String),
}

/// Whether `dependency` meets `condition` (pure: reads its state machine and health).
pub fn condition_met(condition: Condition, dependency: &Process) -> Met {
    let machine = &dependency.machine;
    let name = dependency.namespec();
    let state = machine.state;
    let spawned = machine.pid.is_some() && !machine.spawn_pending;
    let finished = state == ProcessState::Exited && !machine.restart_pending;
    let met = match condition {
        Condition::Running => state == ProcessState::Running,
        Condition::Started => {
            state == ProcessState::Running || (state == ProcessState::Starting && spawned)
        }
        Condition::Healthy => {
            state == ProcessState::Running && dependency.health.status == HealthStatus::Healthy
        }
        Condition::LogReady => {
            matches!(state, ProcessState::Running | ProcessState::Starting)
                && spawned
                && dependency.health.ready
        }
        Condition::Completed => finished,
        Condition::CompletedSuccessfully => {
            finished && dependency.config.exitcodes.contains(&machine.exitstatus)
        }
    };
    if met {
        return Met::Yes;
    }
    match state {
        ProcessState::Fatal => Met::Never(format!(
            "dependency {name} is FATAL ({})",
            if machine.spawnerr.is_empty() {
                "gave up"
            } else {
                &machine.spawnerr
            }
        )),
        ProcessState::Exited if finished && condition == Condition::CompletedSuccessfully => {
            Met::Never(format!(
                "dependency {name} exited with status {}, not one of its exitcodes",
                machine.exitstatus
            ))
        }
        // Stopped, or exited: it may be started again (by hand, or by a dependent's start),
        // so the dependent waits and says for what.
        _ => Met::NotYet,
    }
}

/// What a dependency's transition means for its running dependents, if anything.
fn failure(
    dependency: &Process,
    before: ProcessState,
    after: ProcessState,
    policy: DependencyFailure,
) -> Option<String> {
    use ProcessState::*;
    let name = dependency.namespec();
    let machine = &dependency.machine;
    let unexpected = !dependency.config.exitcodes.contains(&machine.exitstatus);
    match (before, after) {
        (_, Fatal) => Some(format!("dependency {name} entered FATAL")),
        (Running, Exited | Starting | Backoff) if unexpected => {
            Some(format!("dependency {name} exited unexpectedly"))
        }
        // PartOf: a dependent that restarts with its dependency follows every restart.
        (Running, Exited | Starting) if policy == DependencyFailure::Restart => {
            Some(format!("dependency {name} restarted"))
        }
        (Running, Stopping)
            if policy == DependencyFailure::Restart && machine.restart_after_stop =>
        {
            Some(format!("dependency {name} is restarting"))
        }
        _ => None,
    }
}

/// What changed about a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Its state.
    State(ProcessState, ProcessState),
    /// Its health verdict.
    Health(HealthStatus),
    /// It printed its ready line.
    Ready,
}

impl Supervisor {
    /// The graph as the API shows it: every process, dependencies before dependents (then
    /// in configuration order), with its state and whether each condition is met.
    pub(super) fn graph_nodes(&self) -> Vec<rsupervisor_api::GraphNode> {
        let graph = &self.links.graph;
        let order = graph
            .topological_order()
            .unwrap_or_else(|_| (0..graph.nodes().len()).collect());
        order
            .into_iter()
            .filter_map(|node| {
                let process = self.processes.get(&self.links.id(node)?)?;
                let info = process.info();
                let depends_on = graph
                    .dependencies(node)
                    .iter()
                    .filter_map(|edge| {
                        let dependency = self.processes.get(&self.links.id(edge.dependency)?)?;
                        Some(rsupervisor_api::GraphEdge {
                            namespec: dependency.namespec(),
                            condition: edge.condition.to_string(),
                            met: condition_met(edge.condition, dependency) == Met::Yes,
                        })
                    })
                    .collect();
                Some(rsupervisor_api::GraphNode {
                    namespec: process.namespec(),
                    statename: info.statename,
                    health: info.health,
                    waiting_for: info.waiting_for,
                    depends_on,
                })
            })
            .collect()
    }

    /// Rebuilds the graph from the active groups (after they changed).
    pub(super) fn rebuild_graph(&mut self) {
        let configs: Vec<_> = self.groups.iter().map(|g| g.config.clone()).collect();
        let graph = Graph::from_groups(&configs);
        let mut node_of = HashMap::new();
        let mut id_of = vec![None; graph.nodes().len()];
        for group in &self.groups {
            for id in &group.members {
                let Some(process) = self.processes.get(id) else {
                    continue;
                };
                if let Some(node) = graph.node(&process.namespec()) {
                    node_of.insert(*id, node);
                    id_of[node] = Some(*id);
                }
            }
        }
        let links = &mut self.links;
        links.edges = graph.has_edges();
        links.graph = graph;
        links.node_of = node_of;
        links.id_of = id_of;
        let live = |id: &ProcessId| links.node_of.contains_key(id);
        links.parked.retain(live);
        // Held starts are decided again against the new graph (an edge may be gone).
        let parked = std::mem::take(&mut links.parked);
        links.stop_queue.retain(|id| links.node_of.contains_key(id));
        links.cascade.retain(|id| links.node_of.contains_key(id));
        links.pulled.retain(|id| links.node_of.contains_key(id));
        links.no_deps.retain(|id| links.node_of.contains_key(id));
        for id in parked {
            if let Some(process) = self.processes.get(&id) {
                let epoch = process.epoch;
                self.agenda.push_spawn(SpawnRequest { id, epoch });
            }
        }
    }

    /// After `start x` (or autostart): starts x's dependencies that are not running and do
    /// not meet their condition already, and theirs, so the whole chain comes up.
    pub(super) fn pull_in_dependencies(&mut self, id: ProcessId) {
        let mut todo = vec![id];
        let mut seen = HashSet::from([id]);
        while let Some(current) = todo.pop() {
            for (dependency, condition) in self.links.dependencies(current) {
                if !seen.insert(dependency) {
                    continue;
                }
                let Some(process) = self.processes.get(&dependency) else {
                    continue;
                };
                let startable = !process.machine.state.is_running()
                    && process.machine.state != ProcessState::Stopping
                    && !process.machine.restart_pending;
                if condition_met(condition, process) == Met::Yes || !startable {
                    todo.push(dependency);
                    continue;
                }
                let (name, dependent) = (
                    process.namespec(),
                    self.processes
                        .get(&current)
                        .map(|p| p.namespec())
                        .unwrap_or_default(),
                );
                self.log(
                    LogLevel::Info,
                    &format!("starting {name}: {dependent} depends on it"),
                );
                if self.apply(dependency, Input::Start).is_ok() {
                    self.links.pulled.insert(dependency);
                }
                todo.push(dependency);
            }
        }
    }

    /// Decides a queued spawn against the dependencies: true to spawn now. Otherwise the
    /// spawn is held (the process says what it waits for) or given up (FATAL).
    pub(super) fn dependencies_allow(&mut self, id: ProcessId) -> bool {
        if self.links.no_deps.contains(&id) {
            return true;
        }
        let mut waiting = Vec::new();
        for (dependency, condition) in self.links.dependencies(id) {
            let Some(process) = self.processes.get(&dependency) else {
                continue;
            };
            match condition_met(condition, process) {
                Met::Yes => {}
                Met::NotYet => waiting.push(format!("{} ({condition})", process.namespec())),
                Met::Never(reason) => {
                    self.unpark(id);
                    let _ = self.apply(id, Input::DependencyFailed { reason });
                    return false;
                }
            }
        }
        if waiting.is_empty() {
            return true;
        }
        self.park(id, format!("waiting for {}", waiting.join(", ")));
        false
    }

    /// Holds a spawn: STARTING, saying what it waits for.
    pub(super) fn park(&mut self, id: ProcessId, waiting_for: String) {
        self.links.parked.insert(id);
        let Some(process) = self.processes.get_mut(&id) else {
            return;
        };
        if process.health.waiting_for == waiting_for {
            return;
        }
        process.health.waiting_for = waiting_for.clone();
        // A `start` that asked not to wait is answered now: the start was accepted.
        process.resolve_waiters();
        let name = process.config.name.clone();
        let change = self.health_event(id, String::new(), waiting_for.clone());
        self.log(LogLevel::Info, &format!("{name}: {waiting_for}"));
        if let Some(change) = change {
            let _ = self.services.state_changes.send(change);
        }
    }

    /// The process no longer waits (it spawns, or it stopped).
    pub(super) fn unpark(&mut self, id: ProcessId) {
        self.links.parked.remove(&id);
        if let Some(process) = self.processes.get_mut(&id) {
            process.health.waiting_for.clear();
        }
    }

    /// A state-change event carrying a health verdict or a waiting-for text.
    pub(super) fn health_event(
        &self,
        id: ProcessId,
        health: String,
        waiting_for: String,
    ) -> Option<StateChange> {
        let process = self.processes.get(&id)?;
        let state = process.machine.state;
        Some(StateChange {
            name: process.config.name.clone(),
            group: process.config.group.clone(),
            from_state: state,
            to_state: state,
            pid: process.machine.pid.unwrap_or(0),
            when: super::process::epoch_seconds_f64(std::time::SystemTime::now()),
            health,
            waiting_for,
        })
    }

    /// Something about `id` changed: re-check its held dependents, and act on its running
    /// dependents if it failed.
    pub(super) fn dependency_changed(&mut self, id: ProcessId, change: Change) {
        if !self.links.any() {
            return;
        }
        for dependent in self.links.dependents(id) {
            if self.links.parked.remove(&dependent) {
                // Decided again in the spawn lane, now: the dependency may meet its
                // condition, or may never.
                if let Some(process) = self.processes.get(&dependent) {
                    let epoch = process.epoch;
                    self.agenda.push_spawn(SpawnRequest {
                        id: dependent,
                        epoch,
                    });
                }
                continue;
            }
            let (Some(dependency), Some(process)) =
                (self.processes.get(&id), self.processes.get(&dependent))
            else {
                continue;
            };
            let running = process.machine.state == ProcessState::Running
                || (process.machine.state == ProcessState::Starting
                    && process.machine.pid.is_some()
                    && !process.machine.spawn_pending);
            if !running {
                continue;
            }
            let policy = process.config.deps.on_dependency_failure;
            let reason = match change {
                Change::State(before, after) => failure(dependency, before, after, policy),
                Change::Health(HealthStatus::Unhealthy) => Some(format!(
                    "dependency {} turned unhealthy",
                    dependency.namespec()
                )),
                Change::Health(_) | Change::Ready => None,
            };
            let Some(reason) = reason else {
                continue;
            };
            let name = process.config.name.clone();
            match policy {
                DependencyFailure::Stop => {
                    self.log(LogLevel::Warn, &format!("stopping {name}: {reason}"));
                    let _ = self.apply(dependent, Input::Stop);
                }
                DependencyFailure::Restart => {
                    let _ = self.apply(dependent, Input::Restart { reason });
                }
                DependencyFailure::Ignore => {}
            }
        }
    }

    /// Bookkeeping after a state change of `id` (called by `after_transition`).
    pub(super) fn after_state_change(
        &mut self,
        id: ProcessId,
        before: ProcessState,
        after: ProcessState,
    ) {
        let up = |state| matches!(state, ProcessState::Starting | ProcessState::Running);
        if let Some(process) = self.processes.get_mut(&id) {
            // A run ends when the process leaves STARTING/RUNNING, or when an autorestart
            // goes from RUNNING straight to a queued spawn.
            let restarted = before == ProcessState::Running && after == ProcessState::Starting;
            if (up(before) && !up(after)) || restarted {
                process.health.end_run();
            }
            if after != ProcessState::Starting {
                process.health.waiting_for.clear();
            }
        }
        if after != ProcessState::Starting {
            self.links.parked.remove(&id);
            self.links.pulled.remove(&id);
            self.links.no_deps.remove(&id);
            self.cancel_wait_for(id);
        }
        if after.is_stopped() {
            self.links.cascade.remove(&id);
        }
        if after == ProcessState::Running {
            self.first_health_check(id);
        }
        self.dependency_changed(id, Change::State(before, after));
        if !self.links.stop_queue.is_empty() {
            self.advance_stops();
        }
    }

    /// Whether a process is stopped for good: not running and no restart coming.
    fn settled(&self, id: ProcessId) -> bool {
        // While the daemon stops, a pending restart will not come.
        let running = self.mood == super::Mood::Running;
        self.processes
            .get(&id)
            .is_none_or(|p| p.machine.state.is_stopped() && !(running && p.machine.restart_pending))
    }

    /// Whether everything depending on `id` has stopped.
    pub(super) fn dependents_stopped(&self, id: ProcessId) -> bool {
        self.links
            .dependents(id)
            .into_iter()
            .all(|dependent| self.settled(dependent))
    }

    /// `stop x` with running dependents: x and every dependent still running go into the
    /// stop queue; each stops once its own dependents have. False if nothing depends on a
    /// running x (an ordinary stop).
    pub(super) fn cascade_stop(&mut self, id: ProcessId) -> bool {
        let Some(node) = self.links.node(id) else {
            return false;
        };
        let chain: Vec<ProcessId> = self
            .links
            .graph
            .all_dependents(node)
            .into_iter()
            .filter_map(|n| self.links.id(n))
            .filter(|dependent| !self.settled(*dependent))
            .collect();
        if chain.is_empty() {
            return false;
        }
        let names: Vec<String> = chain
            .iter()
            .filter_map(|d| self.processes.get(d))
            .map(|p| p.namespec())
            .collect();
        let name = self
            .processes
            .get(&id)
            .map(|p| p.namespec())
            .unwrap_or_default();
        self.log(
            LogLevel::Info,
            &format!("stopping {name} after its dependents: {}", names.join(", ")),
        );
        for member in chain.into_iter().rev().chain([id]) {
            self.links.cascade.insert(member);
            if !self.links.stop_queue.contains(&member) {
                self.links.stop_queue.push(member);
            }
        }
        self.advance_stops();
        true
    }

    /// A stop request for a process a cascade already stops: answer with it.
    pub(super) fn join_cascade(
        &mut self,
        id: ProcessId,
        wait: bool,
        reply: super::command::Reply<super::command::Outcome>,
    ) {
        match self.processes.get_mut(&id) {
            Some(process) if wait && !process.machine.state.is_stopped() => {
                process.waiters.push(Waiter::Stop(reply));
            }
            _ => {
                let _ = reply.send(Ok(()));
            }
        }
    }

    /// Stops the queued processes whose dependents have all stopped.
    pub(super) fn advance_stops(&mut self) {
        loop {
            let ready: Vec<ProcessId> = self
                .links
                .stop_queue
                .iter()
                .copied()
                .filter(|id| self.dependents_stopped(*id))
                .collect();
            if ready.is_empty() {
                return;
            }
            self.links.stop_queue.retain(|id| !ready.contains(id));
            for id in ready {
                let stoppable = self
                    .processes
                    .get(&id)
                    .is_some_and(|p| p.machine.state.is_running() || p.machine.restart_pending);
                if stoppable {
                    let _ = self.apply(id, Input::Stop);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_config::{
        AutoRestart, LogFile, ProcessConfig, RestartPolicy, SignalSpec, StreamLogConfig,
    };

    fn process(state: ProcessState) -> Process {
        let stream = StreamLogConfig {
            logfile: LogFile::None,
            maxbytes: 0,
            backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
            format: rsupervisor_config::LogFormat::Raw,
        };
        let config = ProcessConfig {
            name: "db".into(),
            group: "db".into(),
            program_name: "db".into(),
            process_num: 0,
            command: "/bin/true".into(),
            directory: None,
            environment: Vec::new(),
            env_files: Vec::new(),
            user: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Never,
            exitcodes: vec![0, 2],
            startsecs: 1,
            startretries: 3,
            stopsignal: SignalSpec { number: 15 },
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            redirect_stderr: false,
            stdout: stream.clone(),
            stderr: stream,
            serverurl: None,
            restart: RestartPolicy::default(),
            deps: Default::default(),
            schedule: None,
            resources: Default::default(),
        };
        let mut process = Process::new(std::sync::Arc::new(config), None, None);
        process.machine.state = state;
        if matches!(
            state,
            ProcessState::Starting | ProcessState::Running | ProcessState::Stopping
        ) {
            process.machine.pid = Some(7);
        }
        process
    }

    #[test]
    fn conditions_by_state_health_and_readiness() {
        use Condition::*;
        use ProcessState as S;
        let yes = |c, p: &Process| condition_met(c, p) == Met::Yes;
        let running = process(S::Running);
        assert!(yes(Running, &running) && yes(Started, &running));
        assert!(!yes(Healthy, &running) && !yes(LogReady, &running) && !yes(Completed, &running));
        let mut healthy = process(S::Running);
        healthy.health.status = HealthStatus::Healthy;
        healthy.health.ready = true;
        assert!(yes(Healthy, &healthy) && yes(LogReady, &healthy));
        let starting = process(S::Starting);
        assert!(yes(Started, &starting) && !yes(Running, &starting));
        assert_eq!(condition_met(Running, &starting), Met::NotYet);
        let mut queued = process(S::Starting);
        queued.machine.pid = None;
        queued.machine.spawn_pending = true;
        assert_eq!(condition_met(Started, &queued), Met::NotYet);
        // A job: exit code 2 is in its exitcodes, 1 is not.
        let mut done = process(S::Exited);
        done.machine.exitstatus = 2;
        assert!(yes(Completed, &done) && yes(CompletedSuccessfully, &done));
        done.machine.exitstatus = 1;
        assert!(yes(Completed, &done));
        assert_eq!(
            condition_met(CompletedSuccessfully, &done),
            Met::Never("dependency db exited with status 1, not one of its exitcodes".into())
        );
        // A restart is coming: not finished, and not failed yet.
        done.machine.restart_pending = true;
        assert_eq!(condition_met(CompletedSuccessfully, &done), Met::NotYet);
        let mut fatal = process(S::Fatal);
        fatal.machine.spawnerr = "Exited too quickly (process log may have details)".into();
        assert_eq!(
            condition_met(Running, &fatal),
            Met::Never(
                "dependency db is FATAL (Exited too quickly (process log may have details))".into()
            )
        );
        assert_eq!(condition_met(Healthy, &process(S::Stopped)), Met::NotYet);
        assert_eq!(condition_met(Running, &process(S::Backoff)), Met::NotYet);
        assert_eq!(condition_met(Running, &process(S::Stopping)), Met::NotYet);
    }

    #[test]
    fn failures_that_reach_running_dependents() {
        use ProcessState::*;
        let mut db = process(Exited);
        db.machine.exitstatus = 1;
        let stop = DependencyFailure::Stop;
        let restart = DependencyFailure::Restart;
        assert_eq!(
            failure(&db, Running, Exited, stop).as_deref(),
            Some("dependency db exited unexpectedly")
        );
        assert_eq!(
            failure(&db, Backoff, Fatal, stop).as_deref(),
            Some("dependency db entered FATAL")
        );
        db.machine.exitstatus = 0;
        assert_eq!(failure(&db, Running, Exited, stop), None);
        assert_eq!(
            failure(&db, Running, Starting, restart).as_deref(),
            Some("dependency db restarted")
        );
        assert_eq!(
            failure(&db, Running, Stopping, restart),
            None,
            "an operator's stop cascades instead"
        );
        db.machine.restart_after_stop = true;
        assert_eq!(
            failure(&db, Running, Stopping, restart).as_deref(),
            Some("dependency db is restarting")
        );
        assert_eq!(failure(&db, Starting, Running, restart), None);
    }
}
