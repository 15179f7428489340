//! rsupervisord: a supervisord-compatible process supervisor daemon, as a library.
//!
//! Module map:
//! - [`logs`]: child-output pumps, rotating log files, followers, log reading and the
//!   daemon's main log;
//! - [`sys`]: the audited libc calls (local time, syslog).

pub mod logs;
pub mod sys;
