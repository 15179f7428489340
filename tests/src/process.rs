//! Looking at processes from outside, through `kill(pid, 0)` and `/proc`.
//!
//! Tests use these to check that children, grandchildren and whole process groups really are
//! gone. A zombie counts as dead: it has exited and only waits for its parent to reap it.

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// The fields of `/proc/PID/stat` the tests care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// Command name (`comm`, at most 15 bytes).
    pub comm: String,
    /// State letter: `R`, `S`, `D`, `Z`, `T`, ...
    pub state: char,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id.
    pub pgrp: i32,
    /// Session id.
    pub session: i32,
}

/// Parses the contents of a `/proc/PID/stat` file.
///
/// `comm` may contain spaces and parentheses, so the fields after it are found from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_owned();
    let mut fields = text.get(close + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcStat {
        pid,
        comm,
        state,
        ppid,
        pgrp,
        session,
    })
}

/// Reads `/proc/PID/stat`; `None` if the process does not exist (any more).
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Every process currently visible in `/proc`, zombies included.
pub fn all_processes() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_stat)
        .collect()
}

/// Whether `pid` is a live process: it exists (kill(pid, 0) succeeds or says EPERM) and is not
/// a zombie.
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    // The process may vanish between the two checks; then it is dead.
    proc_stat(pid).is_some_and(|stat| stat.state != 'Z')
}

/// Pids of the live (non-zombie) members of process group `pgid`, sorted.
pub fn process_group_members(pgid: i32) -> Vec<i32> {
    live_pids_where(|stat| stat.pgrp == pgid)
}

/// Pids of the live (non-zombie) direct children of `ppid`, sorted.
pub fn children_of(ppid: i32) -> Vec<i32> {
    live_pids_where(|stat| stat.ppid == ppid)
}

/// Pids of the live (non-zombie) processes that `keep` accepts, sorted.
fn live_pids_where(keep: impl Fn(&ProcStat) -> bool) -> Vec<i32> {
    let mut pids: Vec<i32> = all_processes()
        .into_iter()
        .filter(|stat| stat.state != 'Z' && keep(stat))
        .map(|stat| stat.pid)
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comm_with_spaces_and_parentheses() {
        let stat = parse_stat("4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 0 0")
            .expect("well-formed stat line");
        assert_eq!(
            stat,
            ProcStat {
                pid: 4242,
                comm: "my (odd) prog".to_owned(),
                state: 'S',
                ppid: 1,
                pgrp: 4242,
                session: 4242,
            }
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_alive_and_in_its_group() {
        let me = i32::try_from(std::process::id()).expect("pids fit in i32");
        assert!(pid_alive(me));
        let stat = proc_stat(me).expect("our own stat is readable");
        assert!(process_group_members(stat.pgrp).contains(&me));
        assert!(children_of(stat.ppid).contains(&me));
        assert!(!pid_alive(0));
        assert!(!pid_alive(-1));
    }
}
