//! Reads supervisord-style INI configuration with supervisord 4.3.0's semantics.
//!
//! Both binaries use this crate: the daemon loads the whole file set ([`load()`]), the ctl reads
//! only `[supervisorctl]` and `[unix_http_server]` ([`load_ctl`]). It has no async runtime and
//! no process code.
//!
//! Modules: [`ini`] (the `RawConfigParser` port), [`expand`] (`%(name)s` expansion),
//! [`datatypes`] (value conversions), [`access`] (access-control and audit keys), [`policy`]
//! (the syntax of rsupervisor's own keys),
//! [`depends`] and [`graph`] (dependencies and health checks), [`schedule`] (the `schedule*`
//! keys), [`resources`] (cgroup limits and rlimits), `include` (`[include]` globbing),
//! `build` (sections to the [`model`]), [`error`] (located errors).

pub mod access;
mod build;
mod ctl;
pub mod datatypes;
pub mod depends;
mod envfile;
pub mod error;
pub mod expand;
pub mod graph;
mod include;
pub mod ini;
mod load;
pub mod model;
pub mod policy;
pub mod resources;
pub mod schedule;
mod suggest;
mod summary;

pub use ctl::{load_ctl, CtlConfig};
pub use datatypes::{parse_signal, signal_name, signame};
pub use depends::{
    Condition, Dependencies, Dependency, DependencyFailure, HealthAction, HealthCheck, Probe,
};
pub use error::{ConfigError, ConfigErrors};
pub use load::{default_search_paths, find_config_file, load, LoadOptions};
pub use model::*;
pub use resources::{CgroupSetting, ResourceLimits};
pub use summary::{summary, to_json};
