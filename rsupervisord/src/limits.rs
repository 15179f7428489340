//! Raising the daemon's resource limits to `minfds` and `minprocs`, as supervisord does at
//! start, so that many programs (and their pipes and log files) fit.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use rsupervisor_config::{LogLevel, SupervisordConfig};

/// Raises RLIMIT_NOFILE and RLIMIT_NPROC; returns main-log notes, or supervisord's error when
/// the hard limit is too low and cannot be raised.
pub fn raise(settings: &SupervisordConfig) -> Result<Vec<(LogLevel, String)>, String> {
    let mut notes = Vec::new();
    for (resource, minimum, name, label) in [
        (
            Resource::RLIMIT_NOFILE,
            settings.minfds,
            "RLIMIT_NOFILE",
            "file descriptors",
        ),
        (
            Resource::RLIMIT_NPROC,
            settings.minprocs,
            "RLIMIT_NPROC",
            "processes",
        ),
    ] {
        let (soft, hard) = getrlimit(resource).map_err(|e| format!("getrlimit {name}: {e}"))?;
        if soft >= minimum {
            continue;
        }
        let new_hard = hard.max(minimum);
        if setrlimit(resource, minimum, new_hard).is_err() {
            return Err(format!(
                "The minimum number of {label} required to run this process is {minimum} but the current limit is {soft}.  Raise the hard limit (ulimit -H), run rsupervisord as root, or lower {} in [supervisord].",
                if label == "processes" { "minprocs" } else { "minfds" }
            ));
        }
        notes.push((
            LogLevel::Info,
            format!("Increased {name} limit to {minimum}"),
        ));
    }
    Ok(notes)
}
