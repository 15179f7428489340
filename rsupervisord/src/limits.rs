//! Raising the daemon's resource limits to `minfds` and `minprocs`, as supervisord does at
//! start, so that many programs (and their pipes and log files) fit.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use rsupervisor_config::{LogLevel, SupervisordConfig};
use std::sync::OnceLock;

/// The RLIMIT_NOFILE (soft, hard) that programs get: what supervisord would leave them
/// (the limit raised to `minfds`), even though the daemon raises its own soft limit further.
static CHILD_NOFILE: OnceLock<(u64, u64)> = OnceLock::new();

/// The open-files limit to give children, once [`raise`] has run.
pub fn child_nofile() -> Option<(u64, u64)> {
    CHILD_NOFILE.get().copied()
}

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
    raise_own_nofile();
    Ok(notes)
}

/// Lets the daemon itself use every descriptor the hard limit allows: each program costs it
/// about five (stdin, stdout and stderr pipes, two log files), so a `minfds` sized
/// for supervisord's needs runs out long before a few thousand programs. Children still get
/// the limit supervisord would give them: `spawn` restores it in the child.
fn raise_own_nofile() {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    let _ = CHILD_NOFILE.set((soft, hard));
    if soft < hard {
        // Failure only means the daemon keeps the lower limit.
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
