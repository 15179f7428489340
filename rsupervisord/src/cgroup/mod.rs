//! Per-process cgroups: limits, accounting and containment.
//!
//! This module owns the cgroup directories the daemon creates and nothing else: which
//! hierarchies are usable (detected once at start), one directory per process under the
//! daemon's own cgroup ([`layout`]), the limits written into it, the pids killed through it,
//! and the numbers read from it ([`files`]). The actor decides *when* (spawn, stop, exit,
//! a metrics request); this module only does file operations, so it needs no state of its
//! own after [`Cgroups::detect`] and is shared as an `Arc`.
//!
//! Hosts: cgroup v2 with the `memory`, `cpu` and `pids` controllers (systemd with
//! `Delegate=yes`) uses v2 for everything. A hybrid host (v1 controllers, v2 without them)
//! uses v1 for limits and accounting and v2's `cgroup.kill` for containment. A v1-only host
//! kills by signalling every pid its cgroup lists. Where no directory can be created, the
//! daemon says so once and keeps supervisord's process-group signalling.
//!
//! The child is in its cgroups before it runs anything of its own, so nothing it forks can
//! escape by being fast: the kernel starts it in its v2 cgroup (`clone3` with
//! `CLONE_INTO_CGROUP` and the directory descriptor of [`Join`]), and it joins the others
//! itself between clone and exec (`spawn.rs` writes `0` to each v1 directory's `tasks`).
//! Both matter for speed: a write to `cgroup.procs` takes the kernel's global cgroup lock
//! for writing, which waits for an RCU grace period (7-16 ms measured) unless a move
//! happened just before. `CLONE_INTO_CGROUP` takes it for reading only, and a write of `0`
//! to a v1 `tasks` file (move this one thread) not at all on recent kernels (0.9 ms for
//! fork, move and wait, against 7.7 ms through `cgroup.procs`, measured on 6.18). The
//! child is a new process with a single thread, so moving the thread moves the process.

pub mod files;
pub mod layout;

use rsupervisor_config::{CgroupSetting, ResourceLimits};
use std::fs;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Which cgroup API a directory belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// One hierarchy the daemon uses: its directory under the daemon's own cgroup.
#[derive(Debug, Clone)]
struct Hierarchy {
    version: Version,
    /// `<own cgroup>/rsupervisord-<pid>`.
    dir: PathBuf,
    /// The controllers used through it (v2: those enabled for the programs).
    controllers: Vec<String>,
}

/// The daemon's cgroups, or their absence.
#[derive(Debug, Default)]
pub struct Cgroups {
    hierarchies: Vec<Hierarchy>,
    /// The processes (by cgroup directory name) whose v2 cgroup `cgroup.kill` has killed and
    /// that still exists. The kernel (6.18, the `kill_seq` check at fork) kills at birth any
    /// child `clone3` starts inside such a cgroup, even once it is empty again, so the next
    /// spawn gets a new directory, or joins by writing `cgroup.procs` while the old one still
    /// holds dying processes.
    killed: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The daemon's own directory in each hierarchy, held open for the daemon's life: what
    /// tells another daemon starting on the host that this one is alive (see
    /// [`daemon_alive`]).
    _held: Vec<OwnedFd>,
}

/// What the kernel's counters say about a process's cgroup, its children included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time used, nanoseconds.
    pub cpu_ns: Option<u64>,
    /// Memory charged now, bytes.
    pub memory_current: Option<u64>,
    /// The most memory charged at once, bytes.
    pub memory_peak: Option<u64>,
    /// Processes and threads now.
    pub pids: Option<u64>,
}

/// What a child needs to be in its process's cgroups before it execs.
#[derive(Debug)]
pub struct Join {
    /// The v2 cgroup, if one is used: its directory (for `CLONE_INTO_CGROUP`) and its
    /// `cgroup.procs` (to write `0` to where `clone3` is unavailable).
    pub v2: Option<V2Join>,
    /// `tasks` of each v1 hierarchy: the child writes `0` to each (see the module's doc for
    /// why `tasks` and not `cgroup.procs`).
    pub v1_tasks: Vec<OwnedFd>,
    /// Every directory was made by this `prepare`: the cgroup has no history, so its
    /// counters (the OOM kills) start at zero and need not be read.
    pub fresh: bool,
}

/// The two ways into one v2 cgroup.
#[derive(Debug)]
pub struct V2Join {
    /// The cgroup's directory, opened read-only: what `clone3` takes. `None`: join by
    /// `cgroup.procs` only (a killed cgroup still emptying, see [`Cgroups`]'s `killed`).
    pub dir: Option<OwnedFd>,
    /// Its `cgroup.procs`, opened for writing.
    pub procs: OwnedFd,
}

impl Cgroups {
    /// No cgroups: supervisord's process-group signalling only.
    pub fn none() -> Self {
        Cgroups::default()
    }

    /// Whether processes get cgroups.
    pub fn enabled(&self) -> bool {
        !self.hierarchies.is_empty()
    }

    /// Finds the usable hierarchies, creates the daemon's directory in each and cleans the
    /// directories a crashed daemon left. Returns the manager and lines for the main log
    /// (one saying what is used, or why nothing is).
    pub fn detect(setting: CgroupSetting) -> (Self, Vec<String>) {
        if setting == CgroupSetting::Off {
            return (
                Cgroups::none(),
                vec![
                    "cgroups are off ([supervisord] cgroups=off): programs are stopped by \
                      process-group signals only, and cgroup limits are not applied"
                        .to_owned(),
                ],
            );
        }
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mounts = layout::parse_mountinfo(&mountinfo);
        let own = layout::parse_proc_cgroup(&own);
        let pid = std::process::id();
        let mut notes = Vec::new();
        let mut hierarchies = Vec::new();
        let mut held = Vec::new();
        let mut problems = Vec::new();

        // v2: always for containment (cgroup.kill); for limits too when it has controllers.
        let v2_own = mounts
            .iter()
            .find(|m| m.controllers.is_none())
            .zip(own.v2.as_deref())
            .and_then(|(mount, path)| layout::cgroup_dir(mount, path));
        let mut v2_controllers = Vec::new();
        if let Some(own_dir) = &v2_own {
            let available =
                fs::read_to_string(own_dir.join("cgroup.controllers")).unwrap_or_default();
            v2_controllers = ["memory", "cpu", "pids"]
                .iter()
                .filter(|c| available.split_whitespace().any(|a| a == **c))
                .map(|c| (*c).to_owned())
                .collect();
            notes.extend(clean_leftovers(own_dir, Version::V2));
            let dir = own_dir.join(layout::daemon_dir_name(pid));
            let made = if v2_controllers.is_empty() {
                make_dir(&dir)
            } else {
                enable_v2(own_dir, &dir, pid, &v2_controllers)
            };
            match made.and_then(|()| open_dir(&dir)) {
                Ok(fd) => {
                    held.push(fd);
                    hierarchies.push(Hierarchy {
                        version: Version::V2,
                        dir,
                        controllers: v2_controllers.clone(),
                    });
                }
                Err(error) => {
                    problems.push(format!("{}: {error}", dir.display()));
                    v2_controllers.clear();
                }
            }
        }
        // v1 for every controller v2 does not provide.
        for (controllers, path) in &own.v1 {
            let wanted: Vec<String> = controllers
                .iter()
                .filter(|c| {
                    layout::CONTROLLERS.contains(&c.as_str())
                        && !v2_controllers
                            .iter()
                            .any(|v| v == *c || (v == "cpu" && *c == "cpuacct"))
                })
                .cloned()
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let Some(mount) = mounts
                .iter()
                .find(|m| m.controllers.as_ref().is_some_and(|mc| mc == controllers))
            else {
                continue;
            };
            let Some(own_dir) = layout::cgroup_dir(mount, path) else {
                continue;
            };
            notes.extend(clean_leftovers(&own_dir, Version::V1));
            let dir = own_dir.join(layout::daemon_dir_name(pid));
            match make_dir(&dir).and_then(|()| open_dir(&dir)) {
                Ok(fd) => {
                    held.push(fd);
                    hierarchies.push(Hierarchy {
                        version: Version::V1,
                        dir,
                        controllers: wanted,
                    });
                }
                Err(error) => problems.push(format!("{}: {error}", dir.display())),
            }
        }
        if hierarchies.is_empty() {
            let why = if problems.is_empty() {
                "no cgroup hierarchy is mounted".to_owned()
            } else {
                format!("could not create a cgroup ({})", problems.join("; "))
            };
            notes.push(format!(
                "cgroups unavailable: {why}; programs are stopped by process-group signals \
                 only, and cgroup limits (memory_max, cpu_max, pids_max) cannot be applied"
            ));
            return (Cgroups::none(), notes);
        }
        let used: Vec<String> = hierarchies
            .iter()
            .map(|h| {
                let what = if h.controllers.is_empty() {
                    "containment".to_owned()
                } else {
                    h.controllers.join(",")
                };
                format!("{} ({what})", h.dir.display())
            })
            .collect();
        notes.push(format!(
            "cgroups: one per process under {}",
            used.join(", ")
        ));
        if !problems.is_empty() {
            notes.push(format!("cgroups: could not use {}", problems.join("; ")));
        }
        (
            Cgroups {
                hierarchies,
                killed: Default::default(),
                _held: held,
            },
            notes,
        )
    }

    fn dirs(&self, namespec: &str) -> impl Iterator<Item = (&Hierarchy, PathBuf)> {
        let name = layout::process_dir_name(namespec);
        self.hierarchies.iter().map(move |h| (h, h.dir.join(&name)))
    }

    /// The directory holding `controller`'s files for a process, and its API version.
    fn controller_dir(&self, namespec: &str, controller: &str) -> Option<(Version, PathBuf)> {
        self.dirs(namespec)
            .find(|(h, _)| h.controllers.iter().any(|c| c == controller))
            .map(|(h, dir)| (h.version, dir))
    }

    /// Creates (or reuses) the process's cgroups, writes its limits (resetting those it no
    /// longer has), and opens what the child needs to join them. `Ok(None)` without cgroups;
    /// `Err` with the operator's message when a limit cannot be applied (the spawn fails
    /// rather than run the program unlimited).
    pub fn prepare(&self, namespec: &str, limits: &ResourceLimits) -> Result<Option<Join>, String> {
        if !self.enabled() {
            if limits.wants_cgroup() {
                return Err("cgroups are unavailable (see the main log at start), so \
                            memory_max, memory_high, cpu_max and pids_max cannot be applied"
                    .to_owned());
            }
            return Ok(None);
        }
        let mut join = Join {
            v2: None,
            v1_tasks: Vec::new(),
            fresh: true,
        };
        for (hierarchy, dir) in self.dirs(namespec) {
            // A killed cgroup is made anew (see `killed`); one still emptying is joined
            // the old way.
            let mut killed = hierarchy.version == Version::V2 && self.was_killed(namespec);
            if killed && fs::remove_dir(&dir).is_ok() {
                self.forget_kill(namespec);
                killed = false;
            }
            let fresh = create_dir(&dir)
                .map_err(|e| format!("couldn't create cgroup {}: {e}", dir.display()))?;
            join.fresh &= fresh;
            for (file, value, set) in limit_files(hierarchy, limits) {
                // A new directory has no limits: only the set ones are written (a reused
                // one gets the others reset, in case an earlier run had them).
                if fresh && !set {
                    continue;
                }
                let path = dir.join(file);
                if !path.exists() {
                    continue;
                }
                write(&path, &value)
                    .map_err(|e| format!("couldn't write {value} to {}: {e}", path.display()))?;
            }
            let join_path = dir.join(match hierarchy.version {
                Version::V1 => "tasks",
                Version::V2 => "cgroup.procs",
            });
            let file = fs::OpenOptions::new()
                .write(true)
                .open(&join_path)
                .map_err(|e| format!("couldn't open {}: {e}", join_path.display()))?;
            match hierarchy.version {
                Version::V1 => join.v1_tasks.push(OwnedFd::from(file)),
                Version::V2 => {
                    let directory = if killed {
                        None
                    } else {
                        Some(
                            open_dir(&dir)
                                .map_err(|e| format!("couldn't open {}: {e}", dir.display()))?,
                        )
                    };
                    join.v2 = Some(V2Join {
                        dir: directory,
                        procs: OwnedFd::from(file),
                    });
                }
            }
        }
        Ok(Some(join))
    }

    /// Kills every process left in the process's cgroup (v2 `cgroup.kill`, else SIGKILL to
    /// each pid listed). Returns how many were listed (v2: whether any was).
    pub fn kill(&self, namespec: &str) -> usize {
        let mut listed = 0;
        let v2 = self.dirs(namespec).find(|(h, _)| h.version == Version::V2);
        if let Some((_, dir)) = v2 {
            let pids = read_pids(&dir);
            if !pids.is_empty() && write(&dir.join("cgroup.kill"), "1").is_ok() {
                lock(&self.killed).insert(layout::process_dir_name(namespec));
                return pids.len();
            }
        }
        // v1: a process may fork while we signal; go again until a pass finds no new pid
        // (bounded: a fork bomb under pids_max still ends).
        for (_, dir) in self
            .dirs(namespec)
            .filter(|(h, _)| h.version == Version::V1)
            .take(1)
        {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..16 {
                let fresh: Vec<i32> = read_pids(&dir)
                    .into_iter()
                    .filter(|pid| seen.insert(*pid))
                    .collect();
                if fresh.is_empty() {
                    break;
                }
                for pid in &fresh {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(*pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                listed += fresh.len();
            }
        }
        listed
    }

    /// Whether any process is left in the process's cgroup.
    pub fn populated(&self, namespec: &str) -> bool {
        self.dirs(namespec).any(|(h, dir)| match h.version {
            Version::V2 => fs::read_to_string(dir.join("cgroup.events"))
                .ok()
                .and_then(|t| files::keyed(&t, "populated"))
                .is_some_and(|p| p != 0),
            Version::V1 => !read_pids(&dir).is_empty(),
        })
    }

    /// Removes the process's cgroups if they are empty; true once none is left.
    pub fn remove(&self, namespec: &str) -> bool {
        let mut gone = true;
        for (hierarchy, dir) in self.dirs(namespec) {
            match fs::remove_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => {
                    gone = false;
                    continue;
                }
            }
            if hierarchy.version == Version::V2 {
                self.forget_kill(namespec);
            }
        }
        gone
    }

    /// Whether the process's v2 cgroup was killed and has not been removed since.
    fn was_killed(&self, namespec: &str) -> bool {
        lock(&self.killed).contains(&layout::process_dir_name(namespec))
    }

    /// The process's v2 cgroup is gone: the next one is new.
    fn forget_kill(&self, namespec: &str) {
        lock(&self.killed).remove(&layout::process_dir_name(namespec));
    }

    /// How many times the kernel's OOM killer killed a process of this cgroup (since it was
    /// created); `None` without a memory controller.
    pub fn oom_kills(&self, namespec: &str) -> Option<u64> {
        let (version, dir) = self.controller_dir(namespec, "memory")?;
        let file = match version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        let text = fs::read_to_string(dir.join(file)).ok()?;
        files::keyed(&text, "oom_kill")
    }

    /// The process's usage counters, read now (nothing is read unless asked).
    pub fn usage(&self, namespec: &str) -> Usage {
        let read = |controller: &str, v1: &str, v2: &str| -> Option<(Version, String)> {
            let (version, dir) = self.controller_dir(namespec, controller)?;
            let file = if version == Version::V2 { v2 } else { v1 };
            fs::read_to_string(dir.join(file))
                .ok()
                .map(|t| (version, t))
        };
        let cpu_ns = match read("cpuacct", "cpuacct.usage", "cpu.stat") {
            Some((Version::V1, text)) => files::single(&text),
            _ => read("cpu", "cpuacct.usage", "cpu.stat")
                .filter(|(v, _)| *v == Version::V2)
                .and_then(|(_, text)| files::keyed(&text, "usage_usec"))
                .map(|us| us * 1000),
        };
        Usage {
            cpu_ns,
            memory_current: read("memory", "memory.usage_in_bytes", "memory.current")
                .and_then(|(_, t)| files::single(&t)),
            memory_peak: read("memory", "memory.max_usage_in_bytes", "memory.peak")
                .and_then(|(_, t)| files::single(&t)),
            pids: read("pids", "pids.current", "pids.current").and_then(|(_, t)| files::single(&t)),
        }
    }

    /// At daemon exit: kills what is left in the programs' cgroups and removes every
    /// directory the daemon made (waiting up to `limit` for killed processes to go).
    pub fn tear_down(&self, limit: Duration) {
        for hierarchy in &self.hierarchies {
            remove_tree(&hierarchy.dir, hierarchy.version, limit);
        }
    }
}

/// The limit files of one hierarchy, their values, and whether each sets a limit (unset keys
/// reset it: a reused directory must not keep a removed limit; a new one needs no reset).
fn limit_files(
    hierarchy: &Hierarchy,
    limits: &ResourceLimits,
) -> Vec<(&'static str, String, bool)> {
    let has = |c: &str| hierarchy.controllers.iter().any(|h| h == c);
    let mut out = Vec::new();
    let cpu = limits.cpu_max.is_some();
    match hierarchy.version {
        Version::V2 => {
            if has("memory") {
                let max = files::max_or(limits.memory_max);
                out.push(("memory.max", max, limits.memory_max.is_some()));
                // memory_restart is watched through memory.high's events on v2.
                let high = match (limits.memory_high, limits.memory_restart) {
                    (Some(h), Some(r)) => Some(h.min(r)),
                    (h, r) => h.or(r),
                };
                out.push(("memory.high", files::max_or(high), high.is_some()));
            }
            if has("cpu") {
                out.push(("cpu.max", files::v2_cpu_max(limits.cpu_max), cpu));
            }
            if has("pids") {
                let pids = files::max_or(limits.pids_max);
                out.push(("pids.max", pids, limits.pids_max.is_some()));
            }
        }
        Version::V1 => {
            if has("memory") {
                // memsw (memory + swap) must stay >= the memory limit: lift it first, set it
                // after; it is absent without swap accounting.
                let max = limits.memory_max.is_some();
                out.push(("memory.memsw.limit_in_bytes", "-1".to_owned(), max));
                let bytes = files::v1_bytes(limits.memory_max);
                out.push(("memory.limit_in_bytes", bytes.clone(), max));
                if max {
                    out.push(("memory.memsw.limit_in_bytes", bytes, true));
                }
                let soft = files::v1_bytes(limits.memory_high);
                out.push((
                    "memory.soft_limit_in_bytes",
                    soft,
                    limits.memory_high.is_some(),
                ));
            }
            if has("cpu") {
                let period = files::CPU_PERIOD_US.to_string();
                out.push(("cpu.cfs_period_us", period, cpu));
                out.push(("cpu.cfs_quota_us", files::v1_cpu_quota(limits.cpu_max), cpu));
            }
            if has("pids") {
                let pids = files::max_or(limits.pids_max);
                out.push(("pids.max", pids, limits.pids_max.is_some()));
            }
        }
    }
    out
}

/// v2 with controllers: they must be enabled in the daemon's cgroup and in its directory,
/// and a cgroup with processes cannot pass controllers down, so the daemon first moves
/// itself into a leaf beside the programs' directory.
fn enable_v2(own: &Path, dir: &Path, pid: u32, controllers: &[String]) -> std::io::Result<()> {
    let enable = controllers
        .iter()
        .map(|c| format!("+{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    if write(&own.join("cgroup.subtree_control"), &enable).is_err() {
        let leaf = own.join(format!("{}.daemon", layout::daemon_dir_name(pid)));
        make_dir(&leaf)?;
        write(&leaf.join("cgroup.procs"), "0")?;
        write(&own.join("cgroup.subtree_control"), &enable)?;
    }
    make_dir(dir)?;
    write(&dir.join("cgroup.subtree_control"), &enable)
}

fn make_dir(dir: &Path) -> std::io::Result<()> {
    create_dir(dir).map(|_| ())
}

/// Creates `dir`; true if it is new, false if it was there already.
fn create_dir(dir: &Path) -> std::io::Result<bool> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    // One write() call: cgroup files take one value per write.
    fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

fn read_pids(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| files::pids(&t))
        .unwrap_or_default()
}

/// Whether the daemon that made `dir` (`rsupervisord-PID`) still runs. A live daemon holds
/// its directories open (see [`Cgroups`]'s `_held`); a dead daemon's pid may have been
/// reused by a process that holds no such directory. A process named `rsupervisord` also
/// counts (a daemon of an earlier version, which did not hold them), but the name alone is
/// not enough: a daemon run from a renamed copy of the binary was taken for dead, and the
/// next daemon to start killed its programs.
fn daemon_alive(pid: u32, dir: &Path) -> bool {
    pid == std::process::id()
        || holds_open(pid, dir)
        || fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "rsupervisord")
}

/// Whether process `pid` has `dir` open.
fn holds_open(pid: u32, dir: &Path) -> bool {
    let Ok(descriptors) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    descriptors
        .flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == dir))
}

/// Opens a directory read-only: a cgroup for `clone3`, or the daemon's own, to hold it.
fn open_dir(dir: &Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
        .map(OwnedFd::from)
}

/// Kills what a crashed daemon left under `own` and removes its directories.
fn clean_leftovers(own: &Path, version: Version) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = fs::read_dir(own) else {
        return notes;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(layout::daemon_dir_pid) else {
            continue;
        };
        if daemon_alive(pid, &entry.path()) {
            continue;
        }
        let killed = remove_tree(&entry.path(), version, Duration::from_secs(2));
        notes.push(format!(
            "removed the cgroup {} left by a daemon (pid {pid}) that is gone{}",
            entry.path().display(),
            if killed > 0 {
                format!(", killing the {killed} process(es) still in it")
            } else {
                String::new()
            }
        ));
    }
    notes
}

/// Kills every process in the process directories under `dir`, waits up to `limit` for
/// them to go, and removes the directories; returns how many processes were killed.
fn remove_tree(dir: &Path, version: Version, limit: Duration) -> usize {
    let children: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir() && layout::is_process_dir(p))
                .collect()
        })
        .unwrap_or_default();
    let mut killed = 0;
    for child in &children {
        let pids = read_pids(child);
        if pids.is_empty() {
            continue;
        }
        killed += pids.len();
        if version == Version::V2 && write(&child.join("cgroup.kill"), "1").is_ok() {
            continue;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    // Killed processes leave their cgroup once the kernel has torn them down: a few ms.
    // This runs only at start (a crashed daemon's leftovers) and at exit, never while idle.
    let deadline = Instant::now() + limit;
    for child in &children {
        while fs::remove_dir(child).is_err() && child.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let _ = fs::remove_dir(dir);
    killed
}

/// Waits until the process's v2 cgroup has no process left (`populated 0` in
/// `cgroup.events`, which the kernel reports as a file change to inotify): the moment its
/// directories can be removed. `None` without a v2 hierarchy (a pure v1 host has no such
/// event; its directories are removed at the next exit or at daemon exit).
pub fn emptied(cgroups: &Cgroups, namespec: &str) -> Option<impl std::future::Future<Output = ()>> {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    let (_, dir) = cgroups
        .dirs(namespec)
        .find(|(h, _)| h.version == Version::V2)?;
    let events = dir.join("cgroup.events");
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
    inotify.add_watch(&events, AddWatchFlags::IN_MODIFY).ok()?;
    let watch = crate::sys::async_fd(OwnedFd::from(inotify)).ok()?;
    Some(async move {
        let mut buffer = [0u8; 1024];
        loop {
            // Checked after the watch was added, so no change can fall in between.
            let populated = fs::read_to_string(&events)
                .ok()
                .and_then(|t| files::keyed(&t, "populated"));
            if populated != Some(1) {
                return;
            }
            let Ok(mut ready) = watch.readable().await else {
                return;
            };
            // The events only say "changed"; drain them and read the file again.
            if let Err(nix::errno::Errno::EAGAIN) = nix::unistd::read(watch.get_ref(), &mut buffer)
            {
                ready.clear_ready();
            }
        }
    })
}

/// A kernel notification on a memory cgroup: v1 registers `v1_file` (with `v1_arg`, a
/// threshold, if any) with an eventfd through `cgroup.event_control`; v2 watches
/// `memory.events` with inotify. Returns the descriptor to wait on and the open file to read
/// after each wake-up (v1: it must also stay open as long as the registration lives).
///
/// The file is read through that descriptor ([`read_open`]), never again by its path: the
/// kernel also wakes the watch when the cgroup is removed, and by then a restart of the
/// program may have made a new cgroup at the same path. Read by path, that new cgroup's
/// counters were taken for this one's (an "out of memory" line at every crash of a program
/// with `memory_max`, and a watch left waiting forever on a dead registration). Through the
/// old descriptor the read fails once the cgroup is gone, which ends the watch.
fn memory_watch(
    version: Version,
    dir: &Path,
    v1_file: &str,
    v1_arg: Option<u64>,
) -> Option<(OwnedFd, fs::File)> {
    use nix::sys::eventfd::{EfdFlags, EventFd};
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    use std::os::fd::AsRawFd;
    match version {
        Version::V1 => {
            let file = fs::File::open(dir.join(v1_file)).ok()?;
            let event = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK).ok()?;
            let mut line = format!("{} {}", event.as_raw_fd(), file.as_raw_fd());
            if let Some(arg) = v1_arg {
                line += &format!(" {arg}");
            }
            write(&dir.join("cgroup.event_control"), &line).ok()?;
            Some((OwnedFd::from(event), file))
        }
        Version::V2 => {
            let events = dir.join("memory.events");
            let file = fs::File::open(&events).ok()?;
            let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
            inotify.add_watch(&events, AddWatchFlags::IN_MODIFY).ok()?;
            Some((OwnedFd::from(inotify), file))
        }
    }
}

/// The whole of a small cgroup file, read from its start through an open descriptor; `None`
/// once its cgroup has been removed (the kernel refuses reads of a removed cgroup's files).
fn read_open(file: &fs::File) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let mut buffer = [0u8; 4096];
    let length = file.read_at(&mut buffer, 0).ok()?;
    String::from_utf8(buffer[..length].to_vec()).ok()
}

/// Resolves to true when the process's memory use reaches `threshold` (`memory_restart`), or
/// to false when its cgroup goes away first. Kernel events, no polling: v1 registers a
/// threshold on `memory.usage_in_bytes` through `cgroup.event_control` and an eventfd (it
/// fires on every crossing, so the usage is checked); v2 watches the `high` count of
/// `memory.events` (the daemon sets `memory.high` to the threshold). `None` without a memory
/// controller.
pub fn memory_threshold(
    cgroups: &Cgroups,
    namespec: &str,
    threshold: u64,
) -> Option<impl std::future::Future<Output = bool>> {
    let (version, dir) = cgroups.controller_dir(namespec, "memory")?;
    let (watch, check) = memory_watch(version, &dir, "memory.usage_in_bytes", Some(threshold))?;
    let baseline = read_open(&check).and_then(|t| files::keyed(&t, "high"));
    let watch = crate::sys::async_fd(watch).ok()?;
    Some(async move {
        let mut buffer = [0u8; 1024];
        loop {
            let Some(text) = read_open(&check) else {
                return false; // the cgroup is gone
            };
            let reached = match version {
                Version::V1 => files::single(&text).is_some_and(|usage| usage >= threshold),
                Version::V2 => files::keyed(&text, "high") > baseline,
            };
            if reached {
                return true;
            }
            let Ok(mut ready) = watch.readable().await else {
                return false;
            };
            if let Err(nix::errno::Errno::EAGAIN) = nix::unistd::read(watch.get_ref(), &mut buffer)
            {
                ready.clear_ready();
            }
        }
    })
}

/// Calls `on_oom` each time the kernel's OOM killer kills a process of the process's cgroup
/// (the main process or any other), until the cgroup goes away. Kernel events, no polling:
/// v1 registers `memory.oom_control` with an eventfd through `cgroup.event_control`, v2
/// watches `memory.events` with inotify; the `oom_kill` count says whether a kill happened.
/// `None` without a memory controller.
pub fn oom_events(
    cgroups: &Cgroups,
    namespec: &str,
    mut on_oom: impl FnMut() + Send + 'static,
) -> Option<impl std::future::Future<Output = ()>> {
    let (version, dir) = cgroups.controller_dir(namespec, "memory")?;
    let (watch, check) = memory_watch(version, &dir, "memory.oom_control", None)?;
    let mut seen = read_open(&check)
        .and_then(|t| files::keyed(&t, "oom_kill"))
        .unwrap_or(0);
    let watch = crate::sys::async_fd(watch).ok()?;
    Some(async move {
        let mut buffer = [0u8; 1024];
        loop {
            let Ok(mut ready) = watch.readable().await else {
                return;
            };
            if let Err(nix::errno::Errno::EAGAIN) = nix::unistd::read(watch.get_ref(), &mut buffer)
            {
                ready.clear_ready();
                continue;
            }
            let Some(count) = read_open(&check).and_then(|t| files::keyed(&t, "oom_kill")) else {
                return; // the cgroup is gone
            };
            // v1 signals the eventfd only for an OOM (or the cgroup's removal, seen above),
            // possibly before the kill is counted; v2's file changes for other events too.
            if count > seen || version == Version::V1 {
                seen = seen.max(count);
                on_oom();
            }
        }
    })
}

/// The lock of the killed set; a panic while it was held leaves a set still worth reading.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `sleep` that holds `dir` open (its name is not rsupervisord), and one that does not.
    fn sleepers(dir: &Path) -> (std::process::Child, std::process::Child) {
        let spawn = |script: &str| {
            std::process::Command::new("/bin/sh")
                .args(["-c", script, "sh"])
                .arg(dir)
                .spawn()
                .expect("sh")
        };
        (
            spawn("exec 3<\"$1\"; exec sleep 30"),
            spawn("exec sleep 30"),
        )
    }

    #[test]
    fn a_daemon_is_alive_while_it_holds_its_directory_whatever_its_name() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("rsupervisord-1");
        fs::create_dir(&dir).expect("dir");
        let (mut holder, mut other) = sleepers(&dir);
        let (holder_pid, other_pid) = (holder.id(), other.id());
        // The shell execs sleep once the directory is open: wait for that.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !holds_open(holder_pid, &dir) {
            assert!(
                Instant::now() < deadline,
                "sleep never held {}",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(daemon_alive(holder_pid, &dir));
        // A live process that neither holds the directory nor is named rsupervisord: a
        // dead daemon's pid reused.
        assert!(!daemon_alive(other_pid, &dir));
        for child in [&mut holder, &mut other] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(!daemon_alive(holder_pid, &dir));
    }

    fn hierarchy(version: Version, controllers: &[&str]) -> Hierarchy {
        Hierarchy {
            version,
            dir: PathBuf::from("/x"),
            controllers: controllers.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn limits_in_each_syntax_and_resets_for_unset_keys() {
        let limits = ResourceLimits {
            memory_max: Some(512 << 20),
            cpu_max: Some(500),
            ..ResourceLimits::default()
        };
        let v1 = limit_files(&hierarchy(Version::V1, &["memory", "cpu", "pids"]), &limits);
        let written: Vec<(&str, &str, bool)> =
            v1.iter().map(|(f, v, s)| (*f, v.as_str(), *s)).collect();
        assert_eq!(
            written,
            vec![
                ("memory.memsw.limit_in_bytes", "-1", true),
                ("memory.limit_in_bytes", "536870912", true),
                ("memory.memsw.limit_in_bytes", "536870912", true),
                ("memory.soft_limit_in_bytes", "-1", false),
                ("cpu.cfs_period_us", "100000", true),
                ("cpu.cfs_quota_us", "50000", true),
                ("pids.max", "max", false),
            ]
        );
        let v2 = limit_files(&hierarchy(Version::V2, &["memory", "cpu"]), &limits);
        let written: Vec<(&str, &str, bool)> =
            v2.iter().map(|(f, v, s)| (*f, v.as_str(), *s)).collect();
        assert_eq!(
            written,
            vec![
                ("memory.max", "536870912", true),
                ("memory.high", "max", false),
                ("cpu.max", "50000 100000", true),
            ]
        );
        // Containment only (v2 without controllers on a hybrid host): nothing to write.
        assert!(limit_files(&hierarchy(Version::V2, &[]), &limits).is_empty());
    }
}
