//! The JSON-RPC method set: one trait, from which jsonrpsee generates the daemon's server trait
//! (`SupervisorRpcServer`, feature `server`) and the ctl's client (`SupervisorRpcClient`,
//! feature `client`).
//!
//! Wire names are supervisord's XML-RPC names. Our additions (log and state subscriptions,
//! `updateProcessGroup`, `scaleProgram`, `reopenLogs`, `resetProcess`, `getProcessEnvironment`,
//! `runProcess`) use new
//! names and are marked as such.

#![allow(missing_docs)] // the generated server/client traits carry the docs written here

#[allow(unused_imports)]
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
#[cfg(feature = "server")]
#[allow(unused_imports)]
use jsonrpsee::SubscriptionCloseResponse;

use crate::types::{
    ConfigInfo, EnvVar, MulticallRequest, ProcessInfo, ProcessMetrics, ProcessStatus, ReloadResult,
    StateInfo, TailSlice, UpdateOutcome,
};

/// The supervisor's JSON-RPC interface.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server))]
#[cfg_attr(all(feature = "client", not(feature = "server")), rpc(client))]
pub trait SupervisorRpc {
    /// API version, `3.0`.
    #[method(name = "supervisor.getAPIVersion")]
    fn get_api_version(&self) -> RpcResult<String>;

    /// Alias of `getAPIVersion`, used by supervisorctl's up-check.
    #[method(name = "supervisor.getVersion")]
    fn get_version(&self) -> RpcResult<String>;

    /// The supervisord version we implement, `4.3.0`.
    #[method(name = "supervisor.getSupervisorVersion")]
    fn get_supervisor_version(&self) -> RpcResult<String>;

    /// `[supervisord] identifier`.
    #[method(name = "supervisor.getIdentification")]
    fn get_identification(&self) -> RpcResult<String>;

    /// The daemon's state.
    #[method(name = "supervisor.getState")]
    async fn get_state(&self) -> RpcResult<StateInfo>;

    /// The daemon's pid.
    #[method(name = "supervisor.getPID")]
    fn get_pid(&self) -> RpcResult<i32>;

    /// A byte range of the main log (supervisord's `readFile` rules).
    #[method(name = "supervisor.readLog", aliases = ["supervisor.readMainLog"])]
    async fn read_log(&self, offset: i64, length: i64) -> RpcResult<String>;

    /// Delete and reopen the main log.
    #[method(name = "supervisor.clearLog")]
    async fn clear_log(&self) -> RpcResult<bool>;

    /// Stop every process in order, then exit.
    #[method(name = "supervisor.shutdown")]
    async fn shutdown(&self) -> RpcResult<bool>;

    /// Stop every process, re-read the configuration and start again (SIGHUP).
    #[method(name = "supervisor.restart")]
    async fn restart(&self) -> RpcResult<bool>;

    /// Re-read the configuration and report what differs from the running one.
    #[method(name = "supervisor.reloadConfig")]
    async fn reload_config(&self) -> RpcResult<ReloadResult>;

    /// Activate a group from the last-read configuration.
    #[method(name = "supervisor.addProcessGroup")]
    async fn add_process_group(&self, name: String) -> RpcResult<bool>;

    /// Remove a stopped group.
    #[method(name = "supervisor.removeProcessGroup")]
    async fn remove_process_group(&self, name: String) -> RpcResult<bool>;

    /// Our addition: apply the last-read configuration to one group, stopping and starting only
    /// the processes whose settings changed (or the whole group if it was added or removed).
    #[method(name = "supervisor.updateProcessGroup")]
    async fn update_process_group(&self, name: String) -> RpcResult<UpdateOutcome>;

    /// Our addition: run `count` instances of the `numprocs` program `name` (its
    /// `[program:x]` name) until the next `update`/`reload`: surplus instances are stopped,
    /// highest `process_num` first; new ones are started; the others keep running.
    #[method(name = "supervisor.scaleProgram")]
    async fn scale_program(&self, name: String, count: u32) -> RpcResult<UpdateOutcome>;

    /// Start a process; with `wait` (default true), answer once it is RUNNING or has failed.
    #[method(name = "supervisor.startProcess")]
    async fn start_process(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<crate::types::ProcessCallResult>;

    /// Our addition: start one run of a process now, as `startProcess`, without touching its
    /// schedule (a paused schedule stays paused). Refused with ALREADY_STARTED while it runs:
    /// a job never runs twice at once.
    #[method(name = "supervisor.runProcess")]
    async fn run_process(&self, name: String, wait: Option<bool>) -> RpcResult<bool>;

    /// Start every process of a group that is not running.
    #[method(name = "supervisor.startProcessGroup")]
    async fn start_process_group(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<Vec<ProcessStatus>>;

    /// Start every process that is not running.
    #[method(name = "supervisor.startAllProcesses")]
    async fn start_all_processes(&self, wait: Option<bool>) -> RpcResult<Vec<ProcessStatus>>;

    /// Stop a process; with `wait` (default true), answer once it has stopped.
    #[method(name = "supervisor.stopProcess")]
    async fn stop_process(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<crate::types::ProcessCallResult>;

    /// Stop every running process of a group.
    #[method(name = "supervisor.stopProcessGroup")]
    async fn stop_process_group(
        &self,
        name: String,
        wait: Option<bool>,
    ) -> RpcResult<Vec<ProcessStatus>>;

    /// Stop every running process.
    #[method(name = "supervisor.stopAllProcesses")]
    async fn stop_all_processes(&self, wait: Option<bool>) -> RpcResult<Vec<ProcessStatus>>;

    /// Send a signal (name or number) to a process.
    #[method(name = "supervisor.signalProcess")]
    async fn signal_process(
        &self,
        name: String,
        signal: crate::types::SignalArg,
    ) -> RpcResult<crate::types::ProcessCallResult>;

    /// Send a signal to every signallable process of a group.
    #[method(name = "supervisor.signalProcessGroup")]
    async fn signal_process_group(
        &self,
        name: String,
        signal: crate::types::SignalArg,
    ) -> RpcResult<Vec<ProcessStatus>>;

    /// Send a signal to every signallable process.
    #[method(name = "supervisor.signalAllProcesses")]
    async fn signal_all_processes(
        &self,
        signal: crate::types::SignalArg,
    ) -> RpcResult<Vec<ProcessStatus>>;

    /// One process's info.
    #[method(name = "supervisor.getProcessInfo")]
    async fn get_process_info(&self, name: String) -> RpcResult<ProcessInfo>;

    /// Every process's info, sorted by group then name.
    #[method(name = "supervisor.getAllProcessInfo")]
    async fn get_all_process_info(&self) -> RpcResult<Vec<ProcessInfo>>;

    /// Every process's resource usage from its cgroup (rsupervisor addition), sorted as
    /// `getAllProcessInfo`.
    #[method(name = "supervisor.getAllProcessMetrics")]
    async fn get_all_process_metrics(&self) -> RpcResult<Vec<ProcessMetrics>>;

    /// Every configured process, in use or available.
    #[method(name = "supervisor.getAllConfigInfo")]
    async fn get_all_config_info(&self) -> RpcResult<Vec<ConfigInfo>>;

    /// A byte range of a process's stdout log.
    #[method(name = "supervisor.readProcessStdoutLog", aliases = ["supervisor.readProcessLog"])]
    async fn read_process_stdout_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<String>;

    /// A byte range of a process's stderr log.
    #[method(name = "supervisor.readProcessStderrLog")]
    async fn read_process_stderr_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<String>;

    /// The new bytes of a process's stdout log since `offset`, at most `length`.
    #[method(name = "supervisor.tailProcessStdoutLog", aliases = ["supervisor.tailProcessLog"])]
    async fn tail_process_stdout_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<TailSlice>;

    /// The new bytes of a process's stderr log since `offset`, at most `length`.
    #[method(name = "supervisor.tailProcessStderrLog")]
    async fn tail_process_stderr_log(
        &self,
        name: String,
        offset: i64,
        length: i64,
    ) -> RpcResult<TailSlice>;

    /// Empty a process's log files.
    #[method(name = "supervisor.clearProcessLogs", aliases = ["supervisor.clearProcessLog"])]
    async fn clear_process_logs(&self, name: String) -> RpcResult<bool>;

    /// Empty every process's log files.
    #[method(name = "supervisor.clearAllProcessLogs")]
    async fn clear_all_process_logs(&self) -> RpcResult<Vec<ProcessStatus>>;

    /// Clear a process's restart counters; a FATAL process becomes STOPPED (rsupervisor
    /// addition, like `systemctl reset-failed`).
    #[method(name = "supervisor.resetProcess")]
    async fn reset_process(&self, name: String) -> RpcResult<bool>;

    /// Clear every process's restart counters (rsupervisor addition).
    #[method(name = "supervisor.resetAllProcesses")]
    async fn reset_all_processes(&self) -> RpcResult<Vec<ProcessStatus>>;

    /// Start one process without starting or waiting for its dependencies (`start
    /// --no-deps`, rsupervisor addition).
    #[method(name = "supervisor.startProcessNoDeps")]
    async fn start_process_no_deps(&self, name: String, wait: Option<bool>) -> RpcResult<bool>;

    /// Stop one process, leaving the processes that depend on it running (`stop
    /// --no-deps`, rsupervisor addition).
    #[method(name = "supervisor.stopProcessNoDeps")]
    async fn stop_process_no_deps(&self, name: String, wait: Option<bool>) -> RpcResult<bool>;

    /// The dependency graph, dependencies before dependents (rsupervisor addition).
    #[method(name = "supervisor.getDependencyGraph")]
    async fn get_dependency_graph(&self) -> RpcResult<Vec<crate::types::GraphNode>>;

    /// A process's effective environment, each variable with its source; secrets masked
    /// (rsupervisor addition).
    #[method(name = "supervisor.getProcessEnvironment")]
    async fn get_process_environment(&self, name: String) -> RpcResult<Vec<EnvVar>>;

    /// Write to a process's stdin.
    #[method(name = "supervisor.sendProcessStdin")]
    async fn send_process_stdin(&self, name: String, chars: String) -> RpcResult<bool>;

    /// Send a REMOTE_COMMUNICATION event (`type:<event_type>` and `data`) to the event
    /// listeners that subscribe to it.
    #[method(name = "supervisor.sendRemoteCommEvent")]
    async fn send_remote_comm_event(&self, event_type: String, data: String) -> RpcResult<bool>;

    /// Our addition: reopen every log file (as SIGUSR2), for external logrotate.
    #[method(name = "supervisor.reopenLogs")]
    async fn reopen_logs(&self) -> RpcResult<bool>;

    /// Our addition: the last `count` records of the audit log (`[supervisord]
    /// audit_logfile`), oldest first, each a JSON object; NO_FILE when there is no audit log.
    #[method(name = "supervisor.readAuditLog")]
    async fn read_audit_log(&self, count: u32) -> RpcResult<Vec<serde_json::Value>>;

    /// Every method name, sorted.
    #[method(name = "system.listMethods")]
    fn list_methods(&self) -> RpcResult<Vec<String>>;

    /// The documentation of a method.
    #[method(name = "system.methodHelp")]
    fn method_help(&self, name: String) -> RpcResult<String>;

    /// `[return type, param types...]` of a method.
    #[method(name = "system.methodSignature")]
    fn method_signature(&self, name: String) -> RpcResult<Vec<String>>;

    /// Several calls in one request; each result is the raw value or `{faultCode, faultString}`.
    #[method(name = "system.multicall")]
    async fn multicall(&self, calls: Vec<MulticallRequest>) -> RpcResult<Vec<serde_json::Value>>;

    /// Our addition: follow a process log. The first item holds the last `tail_bytes` bytes,
    /// then every new write is pushed as it happens; the stream ends when the process's log is
    /// removed or the daemon stops.
    #[subscription(
        name = "supervisor.followProcessLog" => "supervisor.processLogChunk",
        unsubscribe = "supervisor.unfollowProcessLog",
        item = String
    )]
    async fn follow_process_log(
        &self,
        name: String,
        channel: crate::types::Channel,
        tail_bytes: u64,
    ) -> SubscriptionCloseResponse;

    /// Our addition: follow the main log, as `followProcessLog`.
    #[subscription(
        name = "supervisor.followMainLog" => "supervisor.mainLogChunk",
        unsubscribe = "supervisor.unfollowMainLog",
        item = String
    )]
    async fn follow_main_log(&self, tail_bytes: u64) -> SubscriptionCloseResponse;

    /// Our addition: follow the audit log, as `followProcessLog` (items are text holding
    /// whole or partial JSON lines); NO_FILE when there is no audit log.
    #[subscription(
        name = "supervisor.followAuditLog" => "supervisor.auditLogChunk",
        unsubscribe = "supervisor.unfollowAuditLog",
        item = String
    )]
    async fn follow_audit_log(&self, tail_bytes: u64) -> SubscriptionCloseResponse;

    /// Our addition: every process state change, pushed as it happens.
    #[subscription(
        name = "supervisor.subscribeStateChanges" => "supervisor.stateChange",
        unsubscribe = "supervisor.unsubscribeStateChanges",
        item = crate::types::StateChange
    )]
    async fn subscribe_state_changes(&self) -> SubscriptionCloseResponse;
}
