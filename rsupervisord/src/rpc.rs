//! The JSON-RPC handler: converts wire calls into supervisor commands and log reads.
//!
//! It holds no process state and makes no decisions about processes; each method resolves
//! names, delegates to the [`SupervisorHandle`] or the log readers, and maps errors to
//! supervisord's faults. Group and "all" variants fan out to single-process calls concurrently,
//! so `start all` with `wait` costs the time of the slowest process, not the sum.

use crate::logs::follow::{self, FollowStart};
use crate::logs::hub::LogHub;
use crate::logs::mainlog::MainLog;
use crate::logs::read::{self, ReadError};
use crate::supervisor::handle::SupervisorHandle;
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{Methods, PendingSubscriptionSink, SubscriptionCloseResponse, SubscriptionMessage};
use rsupervisor_api::{
    Channel, ConfigInfo, EnvVar, Fault, FaultError, MulticallRequest, ProcessCallResult,
    ProcessInfo, ProcessStatus, ReloadResult, StateChange, StateInfo, SupervisorRpcServer,
    TailSlice, UpdateOutcome, API_VERSION, SUPERVISOR_VERSION,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;

/// The daemon's implementation of [`SupervisorRpcServer`].
#[derive(Clone)]
pub struct RpcHandler {
    handle: SupervisorHandle,
    hub: LogHub,
    main_log: Arc<MainLog>,
    identifier: String,
    state_changes: broadcast::Sender<StateChange>,
    /// The access gate: the audit log's path and its reopening.
    gate: crate::access::Gate,
    /// The full method table, for `system.multicall`; set once after the module is built.
    methods: Arc<OnceLock<Methods>>,
}

/// One method's documentation: what `system.listMethods`, `system.methodHelp` and
/// `system.methodSignature` say, and whether XML-RPC serves it (subscriptions need the
/// JSON-RPC WebSocket).
#[derive(Debug, Clone, Copy)]
pub struct MethodDoc {
    /// Wire name.
    pub name: &'static str,
    /// `system.methodHelp` text.
    pub help: &'static str,
    /// `[return type, param types...]`, supervisord's `system.methodSignature`.
    pub signature: &'static [&'static str],
    /// Served over XML-RPC too (every method but the subscriptions).
    pub xmlrpc: bool,
}

/// Every method, sorted by name, as `system.listMethods` returns them.
pub const METHOD_DOCS: &[MethodDoc] = &[
    MethodDoc { name: "supervisor.addProcessGroup", help: "Update the config for a running process from config file.", signature: &["boolean", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.clearAllProcessLogs", help: "Clear all process log files", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.clearLog", help: "Clear the main log.", signature: &["boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.clearProcessLog", help: "Clear the stdout and stderr logs for the named process and reopen them. (alias of clearProcessLogs)", signature: &["boolean", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.clearProcessLogs", help: "Clear the stdout and stderr logs for the named process and reopen them.", signature: &["boolean", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.followAuditLog", help: "Follow the audit log: push new records as they are written (rsupervisor addition).", signature: &["string", "int"], xmlrpc: false },
    MethodDoc { name: "supervisor.followMainLog", help: "Follow the main log: push new bytes as they are written (rsupervisor addition).", signature: &["string", "int"], xmlrpc: false },
    MethodDoc { name: "supervisor.followProcessLog", help: "Follow a process log: push new bytes as they are written (rsupervisor addition).", signature: &["string", "string", "string", "int"], xmlrpc: false },
    MethodDoc { name: "supervisor.getAPIVersion", help: "Return the version of the RPC API used by supervisord", signature: &["string"], xmlrpc: true },
    MethodDoc { name: "supervisor.getAllConfigInfo", help: "Get info about all available process configurations.", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.getAllProcessInfo", help: "Get info about all processes", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.getAllProcessMetrics", help: "Get every process's CPU, memory and pids from its cgroup (rsupervisor addition).", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.getDependencyGraph", help: "The dependency graph with each process's state (rsupervisor addition).", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.getIdentification", help: "Return identifying string of supervisord", signature: &["string"], xmlrpc: true },
    MethodDoc { name: "supervisor.getPID", help: "Return the PID of supervisord", signature: &["int"], xmlrpc: true },
    MethodDoc { name: "supervisor.getProcessEnvironment", help: "Return a process's effective environment, each variable with its source, secrets masked (rsupervisor addition).", signature: &["array", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.getProcessInfo", help: "Get info about a process named name", signature: &["struct", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.getState", help: "Return current state of supervisord as a struct", signature: &["struct"], xmlrpc: true },
    MethodDoc { name: "supervisor.getSupervisorVersion", help: "Return the version of the supervisor package in use by supervisord", signature: &["string"], xmlrpc: true },
    MethodDoc { name: "supervisor.getVersion", help: "Return the version of the RPC API used by supervisord", signature: &["string"], xmlrpc: true },
    MethodDoc { name: "supervisor.readAuditLog", help: "Return the last count records of the audit log, oldest first (rsupervisor addition).", signature: &["array", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.readLog", help: "Read length bytes from the main log starting at offset", signature: &["string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.readMainLog", help: "Read length bytes from the main log starting at offset (alias of readLog)", signature: &["string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.readProcessLog", help: "Read length bytes from name's stdout log starting at offset (alias of readProcessStdoutLog)", signature: &["string", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.readProcessStderrLog", help: "Read length bytes from name's stderr log starting at offset", signature: &["string", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.readProcessStdoutLog", help: "Read length bytes from name's stdout log starting at offset", signature: &["string", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.reloadConfig", help: "Reload the configuration.", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.removeProcessGroup", help: "Remove a stopped process from the active configuration.", signature: &["boolean", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.reopenLogs", help: "Reopen every log file, as SIGUSR2 does (rsupervisor addition).", signature: &["boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.resetAllProcesses", help: "Clear every process's restart counters (rsupervisor addition).", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "supervisor.resetProcess", help: "Clear a process's restart counters; a FATAL process becomes STOPPED (rsupervisor addition).", signature: &["boolean", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.restart", help: "Restart the supervisor process", signature: &["boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.runProcess", help: "Start one run of a process now without touching its schedule; refused while it runs (rsupervisor addition).", signature: &["boolean", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.scaleProgram", help: "Run a number of instances of a numprocs program until the next update (rsupervisor addition).", signature: &["struct", "string", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.sendProcessStdin", help: "Send a string of chars to the stdin of the process name.", signature: &["boolean", "string", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.sendRemoteCommEvent", help: "Send an event that will be received by event listener subprocesses subscribing to the RemoteCommunicationEvent.", signature: &["boolean", "string", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.shutdown", help: "Shut down the supervisor process", signature: &["boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.signalAllProcesses", help: "Send a signal to all processes in the process list", signature: &["array", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.signalProcess", help: "Send an arbitrary UNIX signal to the process named by name", signature: &["boolean", "string", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.signalProcessGroup", help: "Send a signal to all processes in the group named 'name'", signature: &["array", "string", "string"], xmlrpc: true },
    MethodDoc { name: "supervisor.startAllProcesses", help: "Start all processes listed in the configuration file", signature: &["array", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.startProcess", help: "Start a process", signature: &["boolean", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.startProcessGroup", help: "Start all processes in the group named 'name'", signature: &["array", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.startProcessNoDeps", help: "Start a process without its dependencies (rsupervisor addition).", signature: &["boolean", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.stopAllProcesses", help: "Stop all processes in the process list", signature: &["array", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.stopProcess", help: "Stop a process named by name", signature: &["boolean", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.stopProcessGroup", help: "Stop all processes in the process group named 'name'", signature: &["array", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.stopProcessNoDeps", help: "Stop a process, leaving its dependents running (rsupervisor addition).", signature: &["boolean", "string", "boolean"], xmlrpc: true },
    MethodDoc { name: "supervisor.subscribeStateChanges", help: "Push every process state change (rsupervisor addition).", signature: &["struct"], xmlrpc: false },
    MethodDoc { name: "supervisor.tailProcessLog", help: "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog(). (alias of tailProcessStdoutLog)", signature: &["array", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.tailProcessStderrLog", help: "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog().", signature: &["array", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.tailProcessStdoutLog", help: "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog().", signature: &["array", "string", "int", "int"], xmlrpc: true },
    MethodDoc { name: "supervisor.updateProcessGroup", help: "Apply the last-read configuration to one group, restarting only changed processes (rsupervisor addition).", signature: &["struct", "string"], xmlrpc: true },
    MethodDoc { name: "system.listMethods", help: "Return an array listing the available method names", signature: &["array"], xmlrpc: true },
    MethodDoc { name: "system.methodHelp", help: "Return a string showing the method's documentation", signature: &["string", "string"], xmlrpc: true },
    MethodDoc { name: "system.methodSignature", help: "Return an array describing the method signature in the form [rtype, ptype, ptype...] where rtype is the return data type of the method, and ptypes are the parameter data types that the method accepts in method argument order.", signature: &["array", "string"], xmlrpc: true },
    MethodDoc { name: "system.multicall", help: "Process an array of calls, and return an array of results.", signature: &["array", "array"], xmlrpc: true },
];

/// The documentation of `name`, if it is a method.
pub fn method_doc(name: &str) -> Option<&'static MethodDoc> {
    METHOD_DOCS.iter().find(|doc| doc.name == name)
}

fn fault(error: FaultError) -> ErrorObjectOwned {
    error.into()
}

/// What a single-process operation of a group call does.
#[derive(Clone, Copy)]
enum GroupOp {
    Start(bool),
    Stop(bool),
    Signal(i32),
}

impl RpcHandler {
    /// Builds the handler and returns it with the method table it serves.
    pub fn build(
        handle: SupervisorHandle,
        hub: LogHub,
        main_log: Arc<MainLog>,
        identifier: String,
        state_changes: broadcast::Sender<StateChange>,
        gate: crate::access::Gate,
    ) -> (RpcHandler, Methods) {
        let cell = Arc::new(OnceLock::new());
        let handler = RpcHandler {
            handle,
            hub,
            main_log,
            identifier,
            state_changes,
            gate,
            methods: cell.clone(),
        };
        let methods: Methods = handler.clone().into_rpc().into();
        let _ = cell.set(methods.clone());
        (handler, methods)
    }

    /// The path of a process's `channel` log; BAD_NAME or NO_FILE otherwise.
    pub async fn process_log_path(
        &self,
        name: String,
        channel: Channel,
    ) -> Result<PathBuf, FaultError> {
        self.process_log(name, channel).await
    }

    /// The main log's path, unless it goes to syslog.
    pub fn main_log_path(&self) -> Option<PathBuf> {
        self.main_log.path().map(Path::to_path_buf)
    }

    /// A follower of `path`, woken by the log hub.
    pub fn follow(&self, path: &Path, start: FollowStart) -> follow::Follower {
        follow::follow(&self.hub, path, start)
    }

    async fn process_log(&self, name: String, channel: Channel) -> Result<PathBuf, FaultError> {
        let paths = self.handle.log_paths(name.clone()).await?;
        let path = match channel {
            Channel::Stdout => paths.stdout,
            Channel::Stderr => paths.stderr,
        };
        path.ok_or_else(|| FaultError::bare(Fault::NoFile))
    }

    async fn read_process_log(
        &self,
        name: String,
        channel: Channel,
        offset: i64,
        length: i64,
    ) -> RpcResult<String> {
        let path = self.process_log(name, channel).await.map_err(fault)?;
        read_file(&path, offset, length)
    }

    async fn tail_process_log(
        &self,
        name: String,
        channel: Channel,
        offset: i64,
        length: i64,
    ) -> RpcResult<TailSlice> {
        let path = self.process_log(name, channel).await.map_err(fault)?;
        let slice = read::tail(&path, offset, length);
        Ok(TailSlice {
            bytes: String::from_utf8_lossy(&slice.bytes).into_owned(),
            offset: slice.offset,
            overflow: slice.overflow,
        })
    }

    /// Runs `op` on every process in turn, one status per process (the `*All*` methods that
    /// have no group form: clearing logs, resetting counters), in priority order as
    /// supervisord's `clearAllProcessLogs`.
    async fn each_process<F, Fut>(&self, op: F) -> RpcResult<Vec<ProcessStatus>>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<(), FaultError>>,
    {
        let targets = self.handle.resolve(None).await.map_err(fault)?;
        let mut statuses = Vec::new();
        for target in targets {
            let (status, description) = match op(target.namespec).await {
                Ok(()) => (Fault::Success.code(), "OK".to_owned()),
                Err(error) => (error.fault.code(), error.to_string()),
            };
            statuses.push(ProcessStatus {
                name: target.name,
                group: target.group,
                status,
                description,
            });
        }
        Ok(statuses)
    }

    /// Runs `op` on every process `spec` names (None: all) that the operation applies to
    /// (start: not running; stop: running; signal: signallable), waiting for them together.
    async fn fan_out(&self, spec: Option<String>, op: GroupOp) -> RpcResult<Vec<ProcessStatus>> {
        let mut targets: Vec<_> = self
            .handle
            .resolve(spec)
            .await
            .map_err(fault)?
            .into_iter()
            .enumerate()
            .collect();
        // Starts go in priority order (as supervisord's startProcessGroup), stops in reverse;
        // the statuses are listed in priority order either way, as supervisord lists them.
        if matches!(op, GroupOp::Stop(_)) {
            targets.reverse();
        }
        let mut tasks = tokio::task::JoinSet::new();
        let mut order = Vec::new();
        for (position, target) in targets {
            let wanted = match op {
                GroupOp::Start(_) => target.startable,
                GroupOp::Stop(_) => target.stoppable,
                GroupOp::Signal(_) => target.signallable,
            };
            if !wanted {
                continue;
            }
            let name = target.namespec;
            order.push((position, target.name, target.group));
            let index = order.len() - 1;
            // Each command is queued to the actor here, in order; only the waits for the
            // outcomes run concurrently (a spawned task could reach the actor in any order).
            match op {
                GroupOp::Start(wait) => {
                    let outcome = self.handle.queue_start(name, wait).await;
                    tasks.spawn(async move { (index, outcome.await) });
                }
                GroupOp::Stop(wait) => {
                    let outcome = self.handle.queue_stop(name, wait).await;
                    tasks.spawn(async move { (index, outcome.await) });
                }
                GroupOp::Signal(signal) => {
                    let result = self.handle.signal(name, signal).await;
                    tasks.spawn(async move { (index, result) });
                }
            }
        }
        let mut results: Vec<Option<Result<(), FaultError>>> = vec![None; order.len()];
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, result)) = joined {
                results[index] = Some(result);
            }
        }
        let mut done: Vec<_> = order.into_iter().zip(results).collect();
        done.sort_by_key(|((position, _, _), _)| *position);
        Ok(done
            .into_iter()
            .map(|((_, name, group), result)| {
                let result = result.unwrap_or(Err(FaultError::bare(Fault::Failed)));
                match result {
                    Ok(()) => ProcessStatus {
                        name,
                        group,
                        status: Fault::Success.code(),
                        description: "OK".to_owned(),
                    },
                    Err(error) => ProcessStatus {
                        name,
                        group,
                        status: error.fault.code(),
                        description: error.to_string(),
                    },
                }
            })
            .collect())
    }

    async fn follow_path(
        &self,
        pending: PendingSubscriptionSink,
        path: PathBuf,
        tail_bytes: u64,
    ) -> SubscriptionCloseResponse {
        let Ok(sink) = pending.accept().await else {
            return SubscriptionCloseResponse::None;
        };
        let mut follower = follow::follow(&self.hub, &path, FollowStart::TailBytes(tail_bytes));
        // Bytes of a UTF-8 character split between two chunks wait for the rest.
        let mut pending_bytes = Vec::new();
        loop {
            let chunk = tokio::select! {
                chunk = follower.next_chunk() => chunk,
                () = sink.closed() => return SubscriptionCloseResponse::None,
            };
            match chunk {
                Some(Ok(bytes)) => {
                    pending_bytes.extend_from_slice(&bytes);
                    let text = take_utf8(&mut pending_bytes);
                    if text.is_empty() {
                        continue;
                    }
                    let Ok(raw) = serde_json::value::to_raw_value(&text) else {
                        continue;
                    };
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return SubscriptionCloseResponse::None;
                    }
                }
                Some(Err(error)) => {
                    return SubscriptionCloseResponse::NotifErr(
                        format!("log read failed: {error}").into(),
                    );
                }
                None => {
                    return SubscriptionCloseResponse::NotifErr("EOF".into());
                }
            }
        }
    }
}

/// Takes the longest valid UTF-8 prefix out of `bytes`; invalid bytes become U+FFFD, and an
/// incomplete character at the end stays for the next chunk.
fn take_utf8(bytes: &mut Vec<u8>) -> String {
    let mut text = String::new();
    let mut rest: &[u8] = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                rest = &[];
                break;
            }
            Err(error) => {
                let (valid, after) = rest.split_at(error.valid_up_to());
                text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                match error.error_len() {
                    Some(bad) => {
                        text.push('\u{FFFD}');
                        rest = &after[bad..];
                    }
                    None => {
                        rest = after; // incomplete character: keep for later
                        break;
                    }
                }
            }
        }
    }
    let keep = rest.to_vec();
    *bytes = keep;
    text
}

fn read_file(path: &Path, offset: i64, length: i64) -> RpcResult<String> {
    match read::read_range(path, offset, length) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(ReadError::BadArguments { .. }) => Err(fault(FaultError::bare(Fault::BadArguments))),
        Err(ReadError::NoFile(_)) => Err(fault(FaultError::new(
            Fault::NoFile,
            path.display().to_string(),
        ))),
        Err(error) => Err(fault(FaultError::new(Fault::Failed, error.to_string()))),
    }
}

fn parse_signal(signal: &str) -> Result<i32, ErrorObjectOwned> {
    rsupervisor_config::parse_signal(signal)
        .map(|spec| spec.number)
        .map_err(|_| fault(FaultError::new(Fault::BadSignal, signal)))
}

/// `group:*` for a group name (supervisord's group calls take the bare group name).
fn group_spec(name: &str) -> String {
    format!("{name}:*")
}

/// True for `g:*` and `g:` namespecs, which single-process calls delegate to group calls.
fn is_group_spec(name: &str) -> bool {
    name.ends_with(":*") || name.ends_with(':')
}

#[async_trait]
impl SupervisorRpcServer for RpcHandler {
    fn get_api_version(&self) -> RpcResult<String> {
        Ok(API_VERSION.to_owned())
    }

    fn get_version(&self) -> RpcResult<String> {
        Ok(API_VERSION.to_owned())
    }

    fn get_supervisor_version(&self) -> RpcResult<String> {
        Ok(SUPERVISOR_VERSION.to_owned())
    }

    fn get_identification(&self) -> RpcResult<String> {
        Ok(self.identifier.clone())
    }

    async fn get_state(&self) -> RpcResult<StateInfo> {
        Ok(self.handle.state().await.map_err(fault)?.into())
    }

    fn get_pid(&self) -> RpcResult<i32> {
        Ok(std::process::id() as i32)
    }

    async fn read_log(&self, offset: i64, length: i64) -> RpcResult<String> {
        let Some(path) = self.main_log.path() else {
            return Err(fault(FaultError::bare(Fault::NoFile)));
        };
        read_file(path, offset, length)
    }

    async fn clear_log(&self) -> RpcResult<bool> {
        self.main_log
            .clear()
            .map_err(|error| fault(FaultError::new(Fault::Failed, error.to_string())))?;
        Ok(true)
    }

    async fn shutdown(&self) -> RpcResult<bool> {
        self.handle.shutdown().await.map_err(fault)?;
        Ok(true)
    }

    async fn restart(&self) -> RpcResult<bool> {
        self.handle.restart().await.map_err(fault)?;
        Ok(true)
    }

    async fn reload_config(&self) -> RpcResult<ReloadResult> {
        self.handle.reread().await.map_err(fault)
    }

    async fn add_process_group(&self, name: String) -> RpcResult<bool> {
        self.handle.add_group(name).await.map_err(fault)?;
        Ok(true)
    }

    async fn remove_process_group(&self, name: String) -> RpcResult<bool> {
        self.handle.remove_group(name).await.map_err(fault)?;
        Ok(true)
    }

    async fn update_process_group(&self, name: String) -> RpcResult<UpdateOutcome> {
        self.handle.update_group(name).await.map_err(fault)
    }

    async fn scale_program(&self, name: String, count: u32) -> RpcResult<UpdateOutcome> {
        self.handle.scale(name, count).await.map_err(fault)
    }

    async fn start_process(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<ProcessCallResult> {
        if is_group_spec(&name) {
            let statuses = self
                .fan_out(Some(name), GroupOp::Start(wait.unwrap_or(true)))
                .await?;
            return Ok(ProcessCallResult::Group(statuses));
        }
        self.handle
            .start(name, wait.unwrap_or(true), false)
            .await
            .map_err(fault)?;
        Ok(ProcessCallResult::One(true))
    }

    async fn run_process(&self, name: String, wait: Option<bool>) -> RpcResult<bool> {
        self.handle
            .run(name, wait.unwrap_or(true))
            .await
            .map_err(fault)?;
        Ok(true)
    }

    async fn start_process_group(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<Vec<ProcessStatus>> {
        self.fan_out(
            Some(group_spec(&name)),
            GroupOp::Start(wait.unwrap_or(true)),
        )
        .await
    }

    async fn start_all_processes(&self, wait: Option<bool>) -> RpcResult<Vec<ProcessStatus>> {
        self.fan_out(None, GroupOp::Start(wait.unwrap_or(true)))
            .await
    }

    async fn stop_process(&self, name: String, wait: Option<bool>) -> RpcResult<ProcessCallResult> {
        if is_group_spec(&name) {
            let statuses = self
                .fan_out(Some(name), GroupOp::Stop(wait.unwrap_or(true)))
                .await?;
            return Ok(ProcessCallResult::Group(statuses));
        }
        self.handle
            .stop(name, wait.unwrap_or(true), false)
            .await
            .map_err(fault)?;
        Ok(ProcessCallResult::One(true))
    }

    async fn start_process_no_deps(&self, name: String, wait: Option<bool>) -> RpcResult<bool> {
        self.handle
            .start(name, wait.unwrap_or(true), true)
            .await
            .map_err(fault)?;
        Ok(true)
    }

    async fn stop_process_no_deps(&self, name: String, wait: Option<bool>) -> RpcResult<bool> {
        self.handle
            .stop(name, wait.unwrap_or(true), true)
            .await
            .map_err(fault)?;
        Ok(true)
    }

    async fn get_dependency_graph(&self) -> RpcResult<Vec<rsupervisor_api::GraphNode>> {
        self.handle.dependency_graph().await.map_err(fault)
    }

    async fn stop_process_group(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<Vec<ProcessStatus>> {
        self.fan_out(Some(group_spec(&name)), GroupOp::Stop(wait.unwrap_or(true)))
            .await
    }

    async fn stop_all_processes(&self, wait: Option<bool>) -> RpcResult<Vec<ProcessStatus>> {
        self.fan_out(None, GroupOp::Stop(wait.unwrap_or(true)))
            .await
    }

    async fn signal_process(
        &self,
        name: String,
        signal: rsupervisor_api::SignalArg,
    ) -> RpcResult<ProcessCallResult> {
        let number = parse_signal(&signal.0)?;
        if is_group_spec(&name) {
            let statuses = self.fan_out(Some(name), GroupOp::Signal(number)).await?;
            return Ok(ProcessCallResult::Group(statuses));
        }
        self.handle.signal(name, number).await.map_err(fault)?;
        Ok(ProcessCallResult::One(true))
    }

    async fn signal_process_group(
        &self,
        name: String,
        signal: rsupervisor_api::SignalArg,
    ) -> RpcResult<Vec<ProcessStatus>> {
        let number = parse_signal(&signal.0)?;
        self.fan_out(Some(group_spec(&name)), GroupOp::Signal(number))
            .await
    }

    async fn signal_all_processes(
        &self,
        signal: rsupervisor_api::SignalArg,
    ) -> RpcResult<Vec<ProcessStatus>> {
        let number = parse_signal(&signal.0)?;
        self.fan_out(None, GroupOp::Signal(number)).await
    }

    async fn get_process_info(&self, name: String) -> RpcResult<ProcessInfo> {
        self.handle.process_info(name).await.map_err(fault)
    }

    async fn get_all_process_info(&self) -> RpcResult<Vec<ProcessInfo>> {
        self.handle.all_process_info().await.map_err(fault)
    }

    async fn get_all_process_metrics(&self) -> RpcResult<Vec<rsupervisor_api::ProcessMetrics>> {
        self.handle.all_process_metrics().await.map_err(fault)
    }

    async fn get_all_config_info(&self) -> RpcResult<Vec<ConfigInfo>> {
        self.handle.all_config_info().await.map_err(fault)
    }

    async fn read_process_stdout_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<String> {
        self.read_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    async fn read_process_stderr_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<String> {
        self.read_process_log(name, Channel::Stderr, offset, length)
            .await
    }

    async fn tail_process_stdout_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<TailSlice> {
        self.tail_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    async fn tail_process_stderr_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<TailSlice> {
        self.tail_process_log(name, Channel::Stderr, offset, length)
            .await
    }

    async fn clear_process_logs(&self, name: String) -> RpcResult<bool> {
        self.handle.clear_logs(name).await.map_err(fault)?;
        Ok(true)
    }

    async fn clear_all_process_logs(&self) -> RpcResult<Vec<ProcessStatus>> {
        let handle = &self.handle;
        self.each_process(|name| handle.clear_logs(name)).await
    }

    async fn get_process_environment(&self, name: String) -> RpcResult<Vec<EnvVar>> {
        self.handle.environment(name).await.map_err(fault)
    }

    async fn reset_process(&self, name: String) -> RpcResult<bool> {
        self.handle.reset(name).await.map_err(fault)?;
        Ok(true)
    }

    async fn reset_all_processes(&self) -> RpcResult<Vec<ProcessStatus>> {
        let handle = &self.handle;
        self.each_process(|name| handle.reset(name)).await
    }

    async fn send_process_stdin(&self, name: String, chars: String) -> RpcResult<bool> {
        self.handle
            .send_stdin(name, chars.into_bytes())
            .await
            .map_err(fault)?;
        Ok(true)
    }

    async fn send_remote_comm_event(&self, event_type: String, data: String) -> RpcResult<bool> {
        self.handle
            .send_remote_event(event_type, data)
            .await
            .map_err(fault)?;
        Ok(true)
    }

    async fn reopen_logs(&self) -> RpcResult<bool> {
        self.handle.reopen_logs().await.map_err(fault)?;
        self.gate.reopen();
        Ok(true)
    }

    async fn read_audit_log(&self, count: u32) -> RpcResult<Vec<serde_json::Value>> {
        let Some(path) = self.gate.audit_path().map(Path::to_path_buf) else {
            return Err(fault(FaultError::new(
                Fault::NoFile,
                "no audit log: set [supervisord] audit_logfile",
            )));
        };
        tokio::task::spawn_blocking(move || {
            crate::access::audit::last_records(&path, count as usize)
        })
        .await
        .map_err(|error| fault(FaultError::new(Fault::Failed, error.to_string())))?
        .map_err(|error| fault(FaultError::new(Fault::Failed, error.to_string())))
    }

    fn list_methods(&self) -> RpcResult<Vec<String>> {
        Ok(METHOD_DOCS.iter().map(|doc| doc.name.to_owned()).collect())
    }

    fn method_help(&self, name: String) -> RpcResult<String> {
        method_doc(&name)
            .map(|doc| doc.help.to_owned())
            .ok_or_else(|| fault(FaultError::bare(Fault::SignatureUnsupported)))
    }

    fn method_signature(&self, name: String) -> RpcResult<Vec<String>> {
        method_doc(&name)
            .map(|doc| doc.signature.iter().map(|t| (*t).to_owned()).collect())
            .ok_or_else(|| fault(FaultError::bare(Fault::SignatureUnsupported)))
    }

    async fn multicall(&self, calls: Vec<MulticallRequest>) -> RpcResult<Vec<serde_json::Value>> {
        let Some(methods) = self.methods.get() else {
            return Err(fault(FaultError::bare(Fault::Failed)));
        };
        let mut results = Vec::with_capacity(calls.len());
        for call in calls {
            let outcome = if call.method_name.is_empty() {
                Err(FaultError::new(Fault::IncorrectParameters, "No methodName").into())
            } else if call.method_name == "system.multicall" {
                Err(FaultError::new(
                    Fault::IncorrectParameters,
                    "Recursive system.multicall forbidden",
                )
                .into())
            } else {
                methods
                    .call::<_, serde_json::Value>(&call.method_name, call.params)
                    .await
                    .map_err(|error| match error {
                        jsonrpsee::core::server::MethodsError::JsonRpc(object) => object,
                        other => {
                            FaultError::new(Fault::IncorrectParameters, other.to_string()).into()
                        }
                    })
            };
            results.push(match outcome {
                Ok(value) => value,
                Err(object) => serde_json::json!({
                    "faultCode": object.code(),
                    "faultString": object.message(),
                }),
            });
        }
        Ok(results)
    }

    async fn follow_process_log(
        &self,
        pending: PendingSubscriptionSink,
        name: String,
        channel: Channel,
        tail_bytes: u64,
    ) -> SubscriptionCloseResponse {
        match self.process_log(name, channel).await {
            Ok(path) => self.follow_path(pending, path, tail_bytes).await,
            Err(error) => {
                pending.reject(fault(error)).await;
                SubscriptionCloseResponse::None
            }
        }
    }

    async fn follow_main_log(
        &self,
        pending: PendingSubscriptionSink,
        tail_bytes: u64,
    ) -> SubscriptionCloseResponse {
        match self.main_log.path() {
            Some(path) => {
                self.follow_path(pending, path.to_path_buf(), tail_bytes)
                    .await
            }
            None => {
                pending.reject(fault(FaultError::bare(Fault::NoFile))).await;
                SubscriptionCloseResponse::None
            }
        }
    }

    async fn follow_audit_log(
        &self,
        pending: PendingSubscriptionSink,
        tail_bytes: u64,
    ) -> SubscriptionCloseResponse {
        match self.gate.audit_path().map(Path::to_path_buf) {
            Some(path) => self.follow_path(pending, path, tail_bytes).await,
            None => {
                pending
                    .reject(fault(FaultError::new(
                        Fault::NoFile,
                        "no audit log: set [supervisord] audit_logfile",
                    )))
                    .await;
                SubscriptionCloseResponse::None
            }
        }
    }

    async fn subscribe_state_changes(
        &self,
        pending: PendingSubscriptionSink,
    ) -> SubscriptionCloseResponse {
        let mut changes = self.state_changes.subscribe();
        let Ok(sink) = pending.accept().await else {
            return SubscriptionCloseResponse::None;
        };
        loop {
            let change = tokio::select! {
                change = changes.recv() => change,
                () = sink.closed() => return SubscriptionCloseResponse::None,
            };
            match change {
                Ok(change) => {
                    let Ok(raw) = serde_json::value::to_raw_value(&change) else {
                        continue;
                    };
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return SubscriptionCloseResponse::None;
                    }
                }
                // A slow subscriber missed some changes: go on with the next ones.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return SubscriptionCloseResponse::None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::take_utf8;

    #[test]
    fn split_utf8_characters_wait_for_their_rest() {
        let text = "é€x".as_bytes().to_vec();
        let mut pending = text[..2].to_vec(); // all of 'é'
        pending.push(text[2]); // first byte of '€'
        assert_eq!(take_utf8(&mut pending), "é");
        assert_eq!(pending, vec![text[2]]);
        pending.extend_from_slice(&text[3..]);
        assert_eq!(take_utf8(&mut pending), "€x");
        assert!(pending.is_empty());
        let mut bad = vec![b'a', 0xff, b'b'];
        assert_eq!(take_utf8(&mut bad), "a\u{FFFD}b");
    }

    #[test]
    fn method_list_is_sorted_and_unique() {
        let names: Vec<_> = super::METHOD_DOCS.iter().map(|doc| doc.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
