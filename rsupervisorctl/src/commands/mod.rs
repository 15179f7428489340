//! One file per verb. Each verb is an async function generic over the RPC client, taking the
//! parsed arguments and an [`Output`] that collects lines and the exit status, so verbs are
//! tested against a scripted client (see `mock`) without a daemon.
//!
//! A verb returns `Err` only for what supervisorctl does not handle itself (it would print a
//! Python traceback line); the session prints those and sets status 1.
//!
//! start, stop, signal, clear and reset share their per-process loop and reporting
//! ([`run_on_targets`], [`PerProcess`]); each states only what supervisorctl does differently.
//! add and remove likewise share [`run_on_groups`].

pub mod add;
pub mod audit;
pub mod avail;
pub mod clear;
pub mod env;
pub mod fg;
pub mod follow;
pub mod graph;
pub mod maintail;
pub mod pid;
pub mod reload;
pub mod remove;
pub mod reread;
pub mod reset;
pub mod restart;
pub mod run;
pub mod scale;
pub mod schedule;
pub mod shutdown;
pub mod signal;
pub mod start;
pub mod status;
pub mod stop;
pub mod tail;
pub mod top;
pub mod update;
pub mod version;

#[cfg(test)]
pub mod mock;

use jsonrpsee::core::ClientError;
use rsupervisor_api::{namespec, Fault, FaultError, ProcessStatus, SupervisorRpcClient};
use std::io::Write;

use crate::action::{split_namespec, Targets};
use crate::{exit, output};

/// Where a verb's lines go, plus the exit status it sets.
#[derive(Debug)]
pub struct Output {
    /// The exit status so far (supervisorctl's `exitstatus`: never reset within a command).
    pub status: i32,
    /// `--json` was given.
    pub json: bool,
    captured: Option<(String, String)>,
}

impl Output {
    /// Output to the terminal.
    pub fn terminal(json: bool) -> Self {
        Output {
            status: exit::OK,
            json,
            captured: None,
        }
    }

    /// Output kept in memory, for tests.
    pub fn captured() -> Self {
        Output {
            status: exit::OK,
            json: false,
            captured: Some((String::new(), String::new())),
        }
    }

    /// Prints a line on stdout (supervisorctl prints even its errors there).
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.raw(&format!("{}\n", text.as_ref()));
    }

    /// Prints text on stdout as is, flushed at once (log streams). Returns false when stdout
    /// no longer takes output (a closed pipe, as with `| head`): not worth a panic, but a
    /// follow must stop then.
    pub fn raw(&mut self, text: &str) -> bool {
        match &mut self.captured {
            Some((out, _)) => {
                out.push_str(text);
                true
            }
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(text.as_bytes()).is_ok() && stdout.flush().is_ok()
            }
        }
    }

    /// Prints a line on stderr (our own diagnostics, and errors in `--json` mode).
    pub fn error(&mut self, text: impl AsRef<str>) {
        match &mut self.captured {
            Some((_, err)) => {
                err.push_str(text.as_ref());
                err.push('\n');
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
            }
        }
    }

    /// An error line: on stdout as supervisorctl does, or on stderr when stdout carries JSON.
    pub fn problem(&mut self, text: impl AsRef<str>) {
        if self.json {
            self.error(text);
        } else {
            self.line(text);
        }
    }

    /// Prints a JSON document.
    pub fn json_value(&mut self, value: &serde_json::Value) {
        self.line(crate::output::json_text(value));
    }

    /// Applies supervisorctl's fault → status rule for one per-process result.
    pub fn fault(&mut self, code: i32, ignored: Option<Fault>) {
        self.status = exit::after_fault(self.status, code, ignored);
    }

    /// What was printed on stdout (captured output only).
    pub fn stdout_text(&self) -> &str {
        self.captured.as_ref().map_or("", |(out, _)| out)
    }

    /// What was printed on stderr (captured output only).
    pub fn stderr_text(&self) -> &str {
        self.captured.as_ref().map_or("", |(_, err)| err)
    }
}

/// The supervisord fault carried by an RPC error, if it is one.
pub fn fault_of(error: &ClientError) -> Option<FaultError> {
    match error {
        ClientError::Call(object) => FaultError::from_error_object(object),
        _ => None,
    }
}

/// Whether the error is this fault.
pub fn is_fault(error: &ClientError, fault: Fault) -> bool {
    fault_of(error).is_some_and(|found| found.fault == fault)
}

/// How a per-process verb (start, stop, signal, clear) reports its results: the result
/// wording, the ignored fault and the no-such-group status are where supervisorctl's verbs
/// differ, so each verb states them once in a constant of this type.
#[derive(Debug, Clone, Copy)]
pub struct PerProcess {
    /// One process's result line from its namespec, fault code and description. SUCCESS gives
    /// the verb's success word (`good: started`).
    pub line: fn(&str, i32, &str) -> String,
    /// The fault that leaves the exit status unchanged (ALREADY_STARTED for start,
    /// NOT_RUNNING for stop, none for signal and clear).
    pub ignored: Option<Fault>,
    /// The exit status after `nogroup: ERROR (no such group)`.
    pub no_such_group: i32,
}

impl PerProcess {
    /// Prints one line per process of a group or `all` answer, each setting the status.
    pub fn report(&self, out: &mut Output, results: &[ProcessStatus]) {
        for result in results {
            let name = namespec(&result.group, &result.name);
            out.line((self.line)(&name, result.status, &result.description));
            out.fault(result.status, self.ignored);
        }
    }

    /// Prints the answer to a call on the one process `name`. An error that is not a fault is
    /// handed back, for the session to print.
    pub fn report_one(
        &self,
        out: &mut Output,
        name: &str,
        answer: Result<bool, ClientError>,
    ) -> Result<(), ClientError> {
        match answer {
            Ok(_) => out.line((self.line)(name, Fault::Success.code(), "")),
            Err(error) => {
                let fault = fault_of(&error).ok_or(error)?;
                let code = fault.fault.code();
                out.line((self.line)(name, code, &fault.to_string()));
                out.fault(code, self.ignored);
            }
        }
        Ok(())
    }

    /// Prints `group: ERROR (no such group)` and sets the verb's status for it.
    pub fn report_no_such_group(&self, out: &mut Output, group: &str) {
        out.line(output::error_line(group, "no such group"));
        out.status = self.no_such_group;
    }
}

/// The daemon calls of the per-process verbs: start and stop (both waiting for the result)
/// and signal with the signal as typed have a group and an `all` method; clear and reset have
/// an `all` method only, so their `group:*` is done process by process here.
#[derive(Debug, Clone, Copy)]
pub enum TargetCall<'a> {
    /// `startProcess`, `startProcessGroup`, `startAllProcesses`.
    Start,
    /// `stopProcess`, `stopProcessGroup`, `stopAllProcesses`.
    Stop,
    /// `signalProcess`, `signalProcessGroup`, `signalAllProcesses` with this signal.
    Signal(&'a str),
    /// `clearProcessLogs`, `clearAllProcessLogs`.
    Clear,
    /// `resetProcess`, `resetAllProcesses`.
    Reset,
    /// `startProcessNoDeps`, process by process.
    StartNoDeps,
    /// `stopProcessNoDeps`, process by process.
    StopNoDeps,
}

impl TargetCall<'_> {
    async fn all<C: SupervisorRpcClient + Sync>(
        self,
        client: &C,
    ) -> Result<Vec<ProcessStatus>, ClientError> {
        match self {
            TargetCall::Start => client.start_all_processes(Some(true)).await,
            TargetCall::Stop => client.stop_all_processes(Some(true)).await,
            TargetCall::Signal(signal) => {
                client.signal_all_processes(signal.to_owned().into()).await
            }
            TargetCall::Clear => client.clear_all_process_logs().await,
            TargetCall::Reset => client.reset_all_processes().await,
            TargetCall::StartNoDeps | TargetCall::StopNoDeps => {
                let mut results = Vec::new();
                let mut groups: Vec<String> = Vec::new();
                for info in client.get_all_process_info().await? {
                    if !groups.contains(&info.group) {
                        groups.push(info.group);
                    }
                }
                for group in groups {
                    results.extend(self.each_of(client, group).await?.unwrap_or_default());
                }
                Ok(results)
            }
        }
    }

    /// The results for every process of `group`; `None` when there is no such group.
    async fn group<C: SupervisorRpcClient + Sync>(
        self,
        client: &C,
        group: String,
    ) -> Result<Option<Vec<ProcessStatus>>, ClientError> {
        let answer = match self {
            TargetCall::Start => client.start_process_group(group, Some(true)).await,
            TargetCall::Stop => client.stop_process_group(group, Some(true)).await,
            TargetCall::Signal(signal) => {
                client
                    .signal_process_group(group, signal.to_owned().into())
                    .await
            }
            TargetCall::Clear
            | TargetCall::Reset
            | TargetCall::StartNoDeps
            | TargetCall::StopNoDeps => return self.each_of(client, group).await,
        };
        match answer {
            Ok(results) => Ok(Some(results)),
            Err(error) if is_fault(&error, Fault::BadName) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A group done process by process, in the daemon's order; `None` when it has none.
    async fn each_of<C: SupervisorRpcClient + Sync>(
        self,
        client: &C,
        group: String,
    ) -> Result<Option<Vec<ProcessStatus>>, ClientError> {
        let infos = client.get_all_process_info().await?;
        let mut results = Vec::new();
        for info in infos.into_iter().filter(|info| info.group == group) {
            let answer = self
                .one(client, format!("{}:{}", info.group, info.name))
                .await;
            let (status, description) = match answer {
                Ok(_) => (Fault::Success.code(), String::new()),
                Err(error) => {
                    let fault = fault_of(&error).ok_or(error)?;
                    (fault.fault.code(), fault.to_string())
                }
            };
            results.push(ProcessStatus {
                name: info.name,
                group: info.group,
                status,
                description,
            });
        }
        Ok((!results.is_empty()).then_some(results))
    }

    async fn one<C: SupervisorRpcClient + Sync>(
        self,
        client: &C,
        name: String,
    ) -> Result<bool, ClientError> {
        let outcome = match self {
            TargetCall::Start => client.start_process(name, Some(true)).await?,
            TargetCall::Stop => client.stop_process(name, Some(true)).await?,
            TargetCall::Signal(signal) => {
                client
                    .signal_process(name, signal.to_owned().into())
                    .await?
            }
            TargetCall::Clear => return client.clear_process_logs(name).await,
            TargetCall::Reset => return client.reset_process(name).await,
            TargetCall::StartNoDeps => return client.start_process_no_deps(name, Some(true)).await,
            TargetCall::StopNoDeps => return client.stop_process_no_deps(name, Some(true)).await,
        };
        // `group:` given to a one-process method answers with every member's status, as the
        // group method would: its first failure is this call's fault.
        match outcome.first_failure() {
            None => Ok(true),
            Some(failed) => Err(ClientError::Call(
                jsonrpsee::types::ErrorObjectOwned::owned(
                    failed.status,
                    failed.description.clone(),
                    None::<()>,
                ),
            )),
        }
    }
}

/// Runs `call` on `all` (one call), or on each name in turn: `group:*` with the group method,
/// anything else with the one-process method, sent as typed. Each call completes before the
/// next begins, as in supervisorctl.
pub async fn run_on_targets<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    call: TargetCall<'_>,
    rules: &PerProcess,
    targets: &Targets,
) -> Result<(), ClientError> {
    let names = match targets {
        Targets::All => {
            let results = call.all(client).await?;
            rules.report(out, &results);
            return Ok(());
        }
        Targets::Names(names) => names,
    };
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match call.group(client, group.clone()).await? {
                Some(results) => rules.report(out, &results),
                None => rules.report_no_such_group(out, &group),
            },
            Some(process) => {
                let answer = call.one(client, name.clone()).await;
                rules.report_one(out, &namespec(&group, &process), answer)?;
            }
        }
    }
    Ok(())
}

/// The verbs that make one daemon call per group name, in turn: `add` and `remove`.
#[derive(Debug, Clone, Copy)]
pub enum GroupCall {
    /// `addProcessGroup`.
    Add,
    /// `removeProcessGroup`.
    Remove,
}

impl GroupCall {
    async fn call<C: SupervisorRpcClient + Sync>(
        self,
        client: &C,
        group: String,
    ) -> Result<bool, ClientError> {
        match self {
            GroupCall::Add => client.add_process_group(group).await,
            GroupCall::Remove => client.remove_process_group(group).await,
        }
    }

    /// What follows `<group>: ` on success.
    fn done(self) -> &'static str {
        match self {
            GroupCall::Add => "added process group",
            GroupCall::Remove => "removed process group",
        }
    }

    /// supervisorctl's line for a fault of this call, and the status it sets (`None`: the
    /// status is unchanged). `None` for a fault supervisorctl does not handle.
    fn fault_reply(self, fault: Fault, group: &str) -> Option<(String, Option<i32>)> {
        let failed = Some(exit::GENERIC);
        match (self, fault) {
            (GroupCall::Add, Fault::ShutdownState) => {
                Some(("ERROR: shutting down".to_owned(), failed))
            }
            // Adding a group that is already active is not an error for supervisorctl.
            (GroupCall::Add, Fault::AlreadyAdded) => {
                Some(("ERROR: process group already active".to_owned(), None))
            }
            (GroupCall::Remove, Fault::StillRunning) => Some((
                format!("ERROR: process/group still running: {group}"),
                failed,
            )),
            (_, Fault::BadName) => Some((format!("ERROR: no such process/group: {group}"), failed)),
            _ => None,
        }
    }
}

/// Runs `call` on each group in turn, printing one line per group. A fault supervisorctl does
/// not handle is handed back, for the session to print.
pub async fn run_on_groups<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    call: GroupCall,
    groups: &[String],
) -> Result<(), ClientError> {
    for group in groups {
        match call.call(client, group.clone()).await {
            Ok(_) => out.line(format!("{group}: {}", call.done())),
            Err(error) => {
                let fault = fault_of(&error).ok_or(error)?;
                let Some((line, status)) = call.fault_reply(fault.fault, group) else {
                    return Err(ClientError::Call(fault.into()));
                };
                out.line(line);
                if let Some(status) = status {
                    out.status = status;
                }
            }
        }
    }
    Ok(())
}
