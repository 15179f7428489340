//! `SupervisorHandle`: the cloneable way for the rest of the daemon to talk to the actor.
//!
//! Each method sends one [`Command`] and awaits its reply. If the actor has gone (the daemon is
//! exiting), callers get `SHUTDOWN_STATE`, which is what supervisord answers then too.

use super::command::{Command, LogPaths, Outcome, Reply, Target};
use super::event::Event;
use rsupervisor_api::{
    ConfigInfo, Fault, FaultError, ProcessInfo, ReloadResult, SupervisorState, UpdateOutcome,
};
use tokio::sync::{mpsc, oneshot};

/// A cloneable sender of commands and events to the supervisor actor.
#[derive(Debug, Clone)]
pub struct SupervisorHandle {
    commands: mpsc::Sender<Command>,
    events: mpsc::UnboundedSender<Event>,
}

fn gone() -> FaultError {
    FaultError::bare(Fault::ShutdownState)
}

impl SupervisorHandle {
    pub(super) fn new(
        commands: mpsc::Sender<Command>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        SupervisorHandle { commands, events }
    }

    /// Sends a command and awaits its reply.
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, FaultError> {
        self.queue(make).await?.await.map_err(|_| gone())
    }

    /// Sends a command now and returns its pending reply: commands queued one after the other
    /// reach the actor in that order, whenever their replies are awaited.
    async fn queue<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<oneshot::Receiver<T>, FaultError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| gone())?;
        Ok(answer)
    }

    /// Queues a start (see [`Self::queue_stop`]); the returned future resolves to its outcome.
    pub async fn queue_start(
        &self,
        name: String,
        wait: bool,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        let answer = self
            .queue(|reply| Command::Start {
                name,
                wait,
                no_deps: false,
                reply,
            })
            .await;
        async move { answer?.await.map_err(|_| gone())? }
    }

    /// Queues a stop: the actor acts on queued commands in the order they were queued, so a
    /// group operation can issue them in priority order and then await them all together.
    pub async fn queue_stop(
        &self,
        name: String,
        wait: bool,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        let answer = self
            .queue(|reply| Command::Stop {
                name,
                wait,
                no_deps: false,
                reply,
            })
            .await;
        async move { answer?.await.map_err(|_| gone())? }
    }

    /// Reports an event (signals use this).
    pub fn notify(&self, event: Event) {
        // The actor being gone means the daemon is exiting; nothing to tell.
        let _ = self.events.send(event);
    }

    /// Starts one process (and the dependencies it needs, unless `no_deps`).
    pub async fn start(&self, name: String, wait: bool, no_deps: bool) -> Outcome {
        self.ask(|reply| Command::Start {
            name,
            wait,
            no_deps,
            reply,
        })
        .await?
    }

    /// Starts one run of a process now, leaving its schedule as it is.
    pub async fn run(&self, name: String, wait: bool) -> Outcome {
        self.ask(|reply| Command::Run { name, wait, reply }).await?
    }

    /// Stops one process (after its running dependents, unless `no_deps`).
    pub async fn stop(&self, name: String, wait: bool, no_deps: bool) -> Outcome {
        self.ask(|reply| Command::Stop {
            name,
            wait,
            no_deps,
            reply,
        })
        .await?
    }

    /// Signals one process.
    pub async fn signal(&self, name: String, signal: i32) -> Outcome {
        self.ask(|reply| Command::Signal {
            name,
            signal,
            reply,
        })
        .await?
    }

    /// Expands a namespec or group (`None`: all) into the processes it names.
    pub async fn resolve(&self, spec: Option<String>) -> Outcome<Vec<Target>> {
        self.ask(|reply| Command::Resolve { spec, reply }).await?
    }

    /// One process's info.
    pub async fn process_info(&self, name: String) -> Outcome<ProcessInfo> {
        self.ask(|reply| Command::ProcessInfo { name, reply })
            .await?
    }

    /// The dependency graph, with each process's state.
    pub async fn dependency_graph(&self) -> Outcome<Vec<rsupervisor_api::GraphNode>> {
        self.ask(|reply| Command::DependencyGraph { reply }).await
    }

    /// Every process's info.
    pub async fn all_process_info(&self) -> Outcome<Vec<ProcessInfo>> {
        self.ask(|reply| Command::AllProcessInfo { reply }).await
    }

    /// Every process's resource usage: the actor names the cgroups, a blocking task reads
    /// them (the actor never waits on a file).
    pub async fn all_process_metrics(&self) -> Outcome<Vec<rsupervisor_api::ProcessMetrics>> {
        let targets = self.ask(|reply| Command::MetricsTargets { reply }).await?;
        tokio::task::spawn_blocking(move || targets.read())
            .await
            .map_err(|_| FaultError::new(rsupervisor_api::Fault::Failed, "metrics reader failed"))
    }

    /// Every configured process.
    pub async fn all_config_info(&self) -> Outcome<Vec<ConfigInfo>> {
        self.ask(|reply| Command::AllConfigInfo { reply }).await
    }

    /// Log paths of one process.
    pub async fn log_paths(&self, name: String) -> Outcome<LogPaths> {
        self.ask(|reply| Command::LogPaths { name, reply }).await?
    }

    /// One process's effective environment (secrets masked).
    pub async fn environment(&self, name: String) -> Outcome<Vec<rsupervisor_api::EnvVar>> {
        self.ask(|reply| Command::Environment { name, reply })
            .await?
    }

    /// Clears one process's restart counters; FATAL becomes STOPPED.
    pub async fn reset(&self, name: String) -> Outcome {
        self.ask(|reply| Command::Reset { name, reply }).await?
    }

    /// Empties one process's logs.
    pub async fn clear_logs(&self, name: String) -> Outcome {
        self.ask(|reply| Command::ClearLogs { name, reply }).await?
    }

    /// Writes to one process's stdin.
    pub async fn send_stdin(&self, name: String, data: Vec<u8>) -> Outcome {
        self.ask(|reply| Command::SendStdin { name, data, reply })
            .await?
    }

    /// Sends a REMOTE_COMMUNICATION event to the listeners that subscribe to it.
    pub async fn send_remote_event(&self, event_type: String, data: String) -> Outcome {
        self.ask(|reply| Command::RemoteEvent {
            event_type,
            data,
            reply,
        })
        .await?
    }

    /// Re-reads the configuration.
    pub async fn reread(&self) -> Outcome<ReloadResult> {
        self.ask(|reply| Command::Reread { reply }).await?
    }

    /// Activates a group.
    pub async fn add_group(&self, name: String) -> Outcome {
        self.ask(|reply| Command::AddGroup { name, reply }).await?
    }

    /// Removes a stopped group.
    pub async fn remove_group(&self, name: String) -> Outcome {
        self.ask(|reply| Command::RemoveGroup { name, reply })
            .await?
    }

    /// Applies the last-read configuration to one group: stops what must stop, then swaps the
    /// changed processes and starts them.
    pub async fn update_group(&self, name: String) -> Outcome<UpdateOutcome> {
        let to_stop = self
            .ask(|reply| Command::PlanUpdate {
                name: name.clone(),
                reply,
            })
            .await??;
        let mut stopped = Vec::new();
        for process in to_stop {
            // The update replaces this process only; its dependents keep running.
            match self.stop(process.clone(), true, true).await {
                Ok(()) => stopped.push(process),
                Err(error) if error.fault == Fault::NotRunning => {}
                Err(error) => return Err(error),
            }
        }
        let mut outcome = self
            .ask(|reply| Command::ApplyUpdate { name, reply })
            .await??;
        outcome.stopped = stopped;
        Ok(outcome)
    }

    /// `scale program count`: stops surplus instances (highest `process_num` first), then
    /// swaps the group's configuration and starts the new instances.
    pub async fn scale(&self, program: String, count: u32) -> Outcome<UpdateOutcome> {
        let plan = self
            .ask(|reply| Command::PlanScale {
                program: program.clone(),
                count,
                reply,
            })
            .await??;
        let mut stopped = Vec::new();
        for process in plan.to_stop.clone() {
            // Surplus instances alone: their dependents keep running, as with `update`.
            match self.stop(process.clone(), true, true).await {
                Ok(()) => stopped.push(process),
                Err(error) if error.fault == Fault::NotRunning => {}
                Err(error) => return Err(error),
            }
        }
        let mut outcome = self
            .ask(|reply| Command::ApplyScale {
                program,
                count,
                plan,
                reply,
            })
            .await??;
        outcome.stopped = stopped;
        Ok(outcome)
    }

    /// Asks for shutdown.
    pub async fn shutdown(&self) -> Outcome {
        self.ask(|reply| Command::Shutdown { reply }).await?
    }

    /// Asks for a reload.
    pub async fn restart(&self) -> Outcome {
        self.ask(|reply| Command::Restart { reply }).await?
    }

    /// Reopens every log file.
    pub async fn reopen_logs(&self) -> Outcome {
        self.ask(|reply| Command::ReopenLogs { reply }).await
    }

    /// The daemon's state.
    pub async fn state(&self) -> Outcome<SupervisorState> {
        self.ask(|reply| Command::State { reply }).await
    }
}
