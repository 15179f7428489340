//! `rsupervisorctl scale NAME N`: a `numprocs` program's instance count changed at run time.
//!
//! The new instances are the program's own settings read from its file with `numprocs`
//! replaced (so `%(process_num)d` expands in every key as it would at load), and the group
//! change goes through the same path as `update`: processes whose settings are unchanged
//! keep running with their pids, surplus ones are stopped (highest `process_num` first) and
//! dropped, new ones are started. The active group then differs from the file, which is
//! what `reread`, `avail` and `status` report, until `update` (or `reload`) applies the
//! file's count again.
//!
//! If the program's settings in the file changed since they were applied, the scale is
//! refused: scaling must not smuggle in an unreviewed edit (`update` is for that).

use rsupervisor_api::{Fault, FaultError};
use rsupervisor_config::{GroupConfig, ProcessConfig};

use super::{Process, ProcessId, StartNew, Supervisor};
use rsupervisor_api::UpdateOutcome;
use std::sync::Arc;

/// What a scale will do, worked out before anything stops.
#[derive(Debug, Clone)]
pub struct ScalePlan {
    /// The active group the program belongs to.
    pub group: String,
    /// The group's configuration with the program at its new instance count.
    pub config: GroupConfig,
    /// Running instances to stop first, highest `process_num` first.
    pub to_stop: Vec<String>,
}

/// A scaled program's instance counts, shown by `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaled {
    /// Instances running now (what `scale` asked for).
    pub instances: u32,
    /// Instances the file asks for.
    pub in_file: u32,
}

/// `active` with the instances of `program` replaced by `instances` (from the file, at the
/// new count), in the group's start order.
pub fn scaled_group(
    active: &GroupConfig,
    program: &str,
    instances: Vec<Arc<ProcessConfig>>,
) -> GroupConfig {
    let mut config = active.clone();
    config.processes.retain(|p| p.program_name != program);
    config.processes.extend(instances);
    config
        .processes
        .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    config
}

/// Instances present in both that the file now sets differently (namespecs).
fn edited_since_applied(
    active: &[&ProcessConfig],
    from_file: &[Arc<ProcessConfig>],
) -> Vec<String> {
    from_file
        .iter()
        .filter(|new| {
            active
                .iter()
                .any(|old| old.name == new.name && *old != new.as_ref())
        })
        .map(|p| rsupervisor_api::namespec(&p.group, &p.name))
        .collect()
}

impl Supervisor {
    /// Works out `scale program count`: reads the program from the file at `count`
    /// instances and lists what must stop.
    pub(super) fn plan_scale(&self, program: &str, count: u32) -> Result<ScalePlan, FaultError> {
        let group = self
            .groups
            .iter()
            .find(|g| g.config.processes.iter().any(|p| p.program_name == program))
            .ok_or_else(|| {
                FaultError::new(
                    Fault::BadName,
                    format!("{program}: no active program of that name (scale takes the [program:x] name)"),
                )
            })?;
        let mut options = self.services.load_options.clone();
        options.numprocs.insert(program.to_owned(), count);
        let mut config = rsupervisor_config::load(&self.config.path, &options)
            .map_err(|errors| FaultError::new(Fault::Failed, format!("{program}: {errors}")))?;
        self.services
            .overrides
            .apply(&mut config)
            .map_err(|message| FaultError::new(Fault::Failed, message))?;
        let instances: Vec<Arc<ProcessConfig>> = config
            .groups
            .into_iter()
            .flat_map(|g| g.processes)
            .filter(|p| p.program_name == program && p.group == group.config.name)
            .collect();
        if count > 0 && instances.is_empty() {
            return Err(FaultError::new(
                Fault::Failed,
                format!(
                    "{program}: the file no longer puts this program in group {}; run 'reread' and 'update' first",
                    group.config.name
                ),
            ));
        }
        let active: Vec<&ProcessConfig> = group
            .config
            .processes
            .iter()
            .map(|p| &**p)
            .filter(|p| p.program_name == program)
            .collect();
        let edited = edited_since_applied(&active, &instances);
        if !edited.is_empty() {
            return Err(FaultError::new(
                Fault::Failed,
                format!(
                    "{program}: its settings in the file changed since they were applied ({}); run 'reread' and 'update {}' first, then scale",
                    edited.join(", "),
                    group.config.name
                ),
            ));
        }
        let new = scaled_group(&group.config, program, instances);
        let mut stopping: Vec<&Process> = group
            .members
            .iter()
            .filter_map(|id| self.processes.get(id).map(|p| &**p))
            .filter(|p| {
                p.config.program_name == program
                    && !new.processes.contains(&p.config)
                    && p.target().stoppable
            })
            .collect();
        stopping.sort_by_key(|p| std::cmp::Reverse(p.config.process_num));
        Ok(ScalePlan {
            group: group.config.name.clone(),
            to_stop: stopping.iter().map(|p| p.namespec()).collect(),
            config: new,
        })
    }

    /// Carries out a planned scale once its surplus instances are stopped: swaps the
    /// group's configuration and starts the new instances.
    pub(super) fn apply_scale(
        &mut self,
        program: &str,
        count: u32,
        plan: ScalePlan,
    ) -> Result<UpdateOutcome, FaultError> {
        let mut outcome = self.apply_group_config(&plan.group, Some(plan.config), StartNew::All)?;
        let in_file = self
            .latest
            .groups
            .iter()
            .flat_map(|g| &g.processes)
            .filter(|p| p.program_name == program)
            .count();
        let in_file = u32::try_from(in_file).unwrap_or(u32::MAX);
        let scaled = (count != in_file).then_some(Scaled {
            instances: count,
            in_file,
        });
        let members: Vec<ProcessId> = self
            .group_index(&plan.group)
            .map(|index| self.groups[index].members.clone())
            .unwrap_or_default();
        for id in members {
            if let Some(process) = self.processes.get_mut(&id) {
                if process.config.program_name == program {
                    process.scaled = scaled;
                }
            }
        }
        outcome.action = "scaled".to_owned();
        self.log(
            rsupervisor_config::model::LogLevel::Info,
            &format!(
                "scaled {program} to {count} instance(s) ({in_file} in the file; 'update {}' restores that)",
                plan.group
            ),
        );
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(program: &str, num: u32, priority: i64) -> Arc<ProcessConfig> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.conf");
        let root = dir.path().display();
        std::fs::write(
            &path,
            format!(
                "[supervisord]\nlogfile={root}/s.log\npidfile={root}/s.pid\n\
                 [program:{program}]\ncommand=x\n"
            ),
        )
        .expect("write config");
        let config = rsupervisor_config::load(&path, &rsupervisor_config::LoadOptions::default())
            .expect("loads");
        let mut p = (*config.groups[0].processes[0]).clone();
        p.name = format!("{program}_{num}");
        p.process_num = num;
        p.priority = priority;
        p.group = "pool".into();
        Arc::new(p)
    }

    #[test]
    fn scaled_group_replaces_only_the_program_and_keeps_start_order() {
        let active = GroupConfig {
            name: "pool".into(),
            priority: 999,
            kind: rsupervisor_config::GroupKind::Group,
            processes: vec![
                process("agent", 0, 10),
                process("agent", 1, 10),
                process("bus", 0, 1),
            ],
            listener: None,
            fcgi_socket: None,
        };
        let new = scaled_group(
            &active,
            "agent",
            vec![
                process("agent", 0, 10),
                process("agent", 1, 10),
                process("agent", 2, 10),
            ],
        );
        let names: Vec<&str> = new.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["bus_0", "agent_0", "agent_1", "agent_2"]);
    }

    #[test]
    fn an_edited_instance_is_named() {
        let old = process("agent", 0, 10);
        let mut new = (*old).clone();
        new.command = "y".into();
        assert_eq!(
            edited_since_applied(&[&old], &[Arc::new(new)]),
            ["pool:agent_0"]
        );
        assert!(edited_since_applied(&[&old], std::slice::from_ref(&old)).is_empty());
    }
}
