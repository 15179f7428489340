//! What the actor does with a process's cgroup at each step of its life: prepare it before a
//! spawn, read its OOM counter and kill what is left of it when the main process ends, remove
//! it once it is empty, read its usage on request. The file work is [`crate::cgroup`]'s; this
//! keeps the per-process bookkeeping (the OOM counter at spawn) out of the process record.

use super::event::Event;
use super::fsm::ExitStatus;
use super::process::ProcessId;
use crate::cgroup::{self, Cgroups, Join, Usage};
use rsupervisor_api::ProcessMetrics;
use rsupervisor_config::ProcessConfig;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The actor's side of the processes' cgroups.
#[derive(Debug)]
pub struct Containment {
    cgroups: Arc<Cgroups>,
    /// The OOM-kill count of each live child's cgroup when it was spawned.
    oom_base: HashMap<ProcessId, u64>,
}

fn namespec(config: &ProcessConfig) -> String {
    rsupervisor_api::namespec(&config.group, &config.name)
}

impl Containment {
    /// Uses the cgroups detected at start.
    pub fn new(cgroups: Arc<Cgroups>) -> Self {
        Containment {
            cgroups,
            oom_base: HashMap::new(),
        }
    }

    /// Whether processes get cgroups.
    pub fn enabled(&self) -> bool {
        self.cgroups.enabled()
    }

    /// Before a spawn: the process's cgroups, with its limits, ready for the child to join.
    pub fn prepare(
        &mut self,
        id: ProcessId,
        config: &ProcessConfig,
    ) -> Result<Option<Arc<Join>>, String> {
        let name = namespec(config);
        let join = self.cgroups.prepare(&name, &config.resources)?;
        if let Some(join) = &join {
            // A reused cgroup may carry kills from an earlier run; a new one has none.
            let base = if join.fresh {
                0
            } else {
                self.cgroups.oom_kills(&name).unwrap_or(0)
            };
            self.oom_base.insert(id, base);
        }
        Ok(join.map(Arc::new))
    }

    /// After a spawn: with `memory_restart`, a task that reports the crossing of the
    /// threshold to the actor (it ends with the cgroup).
    pub fn watch_memory(
        &self,
        id: ProcessId,
        pid: i32,
        config: &ProcessConfig,
        events: &mpsc::UnboundedSender<Event>,
    ) {
        let Some(threshold) = config.resources.memory_restart else {
            return;
        };
        let Some(reached) = cgroup::memory_threshold(&self.cgroups, &namespec(config), threshold)
        else {
            return;
        };
        let events = events.clone();
        tokio::spawn(async move {
            if reached.await {
                let _ = events.send(Event::MemoryRestart { id, pid });
            }
        });
    }

    /// After a spawn with `memory_max`: a task that reports each OOM kill in the cgroup to
    /// the actor as it happens (the exit line of the main process names it too).
    pub fn watch_oom(
        &self,
        id: ProcessId,
        pid: i32,
        config: &ProcessConfig,
        events: &mpsc::UnboundedSender<Event>,
    ) {
        if config.resources.memory_max.is_none() {
            return;
        }
        let events = events.clone();
        let on_oom = move || {
            let _ = events.send(Event::OutOfMemory { id, pid });
        };
        if let Some(watch) = cgroup::oom_events(&self.cgroups, &namespec(config), on_oom) {
            tokio::spawn(watch);
        }
    }

    /// The main process was reaped. With `end_all` (it was being stopped, or the daemon is
    /// going away) whatever is left in its cgroup is killed: setsid'd grandchildren and
    /// double-forked daemons included. Returns the cause of death the cgroup's counters
    /// show (`out of memory at memory_max 512 MB`), for the exit line.
    pub fn exited(
        &mut self,
        id: ProcessId,
        config: &ProcessConfig,
        status: ExitStatus,
        end_all: bool,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Option<String> {
        let base = self.oom_base.remove(&id)?;
        let name = namespec(config);
        let killed_by_kernel = matches!(
            status,
            ExitStatus::Signal {
                signal: libc::SIGKILL,
                ..
            }
        );
        let cause = (killed_by_kernel
            && self.cgroups.oom_kills(&name).is_some_and(|now| now > base))
        .then(|| match config.resources.memory_max {
            Some(max) => format!(
                "out of memory at memory_max {}",
                rsupervisor_config::resources::format_bytes(max)
            ),
            None => "out of memory".to_owned(),
        });
        if end_all && self.cgroups.populated(&name) {
            self.cgroups.kill(&name);
        }
        if !self.cgroups.remove(&name) && end_all {
            // Killed processes take a moment to leave; remove the directories once the
            // kernel says the cgroup is empty.
            if let Some(emptied) = cgroup::emptied(&self.cgroups, &name) {
                let events = events.clone();
                tokio::spawn(async move {
                    emptied.await;
                    let _ = events.send(Event::CgroupEmpty(id));
                });
            }
        }
        cause
    }

    /// The cgroup of a process without a live child is empty: remove it.
    pub fn emptied(&self, config: &ProcessConfig) {
        self.cgroups.remove(&namespec(config));
    }

    /// What a metrics request reads: (config, pid, restarts) of each process, in order.
    pub fn targets<'a>(
        &self,
        processes: impl Iterator<Item = (&'a ProcessConfig, i32, u32)>,
    ) -> MetricsTargets {
        MetricsTargets {
            cgroups: self.cgroups.clone(),
            processes: processes
                .map(|(config, pid, restarts)| Target {
                    name: config.name.clone(),
                    group: config.group.clone(),
                    pid,
                    restarts,
                })
                .collect(),
        }
    }
}

/// One process to read metrics for.
#[derive(Debug)]
struct Target {
    name: String,
    group: String,
    pid: i32,
    restarts: u32,
}

/// The processes a metrics request reads, and where: read off the actor (see
/// [`super::handle::SupervisorHandle::all_process_metrics`]).
#[derive(Debug)]
pub struct MetricsTargets {
    cgroups: Arc<Cgroups>,
    processes: Vec<Target>,
}

impl MetricsTargets {
    /// Reads every process's cgroup now; a process without a child has no usage.
    pub fn read(self) -> Vec<ProcessMetrics> {
        let sampled_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        // A few small sysfs reads per process: for thousands of processes, spread them over
        // the cores (the caller is a blocking thread, the actor is not involved).
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let chunk = self.processes.len().div_ceil(threads).max(64);
        let cgroups = &self.cgroups;
        let mut chunks: Vec<Vec<Target>> = Vec::new();
        let mut rest = self.processes;
        while rest.len() > chunk {
            let tail = rest.split_off(chunk);
            chunks.push(rest);
            rest = tail;
        }
        chunks.push(rest);
        std::thread::scope(|scope| {
            let readers: Vec<_> = chunks
                .into_iter()
                .map(|chunk| scope.spawn(move || read_chunk(cgroups, chunk, sampled_at)))
                .collect();
            readers
                .into_iter()
                .flat_map(|reader| reader.join().unwrap_or_default())
                .collect()
        })
    }
}

/// Reads the cgroups of `targets`, in order.
fn read_chunk(cgroups: &Cgroups, targets: Vec<Target>, sampled_at: f64) -> Vec<ProcessMetrics> {
    targets
        .into_iter()
        .map(|target| {
            let usage = if target.pid > 0 && cgroups.enabled() {
                cgroups.usage(&rsupervisor_api::namespec(&target.group, &target.name))
            } else {
                Usage::default()
            };
            ProcessMetrics {
                name: target.name,
                group: target.group,
                pid: target.pid,
                cpu_seconds: usage.cpu_ns.map(|ns| ns as f64 / 1e9),
                memory_current: usage.memory_current,
                memory_peak: usage.memory_peak,
                pids: usage.pids,
                restarts: target.restarts,
                sampled_at,
            }
        })
        .collect()
}
