//! Starting one child process the way supervisord does: argv from `command=`, the environment,
//! working directory, umask, user, its own process group, stdin/stdout/stderr pipes.
//!
//! This is the one module with `unsafe`: the child is started with `clone(CLONE_VM |
//! CLONE_VFORK)` (as glibc's `posix_spawn`, which cannot join a cgroup or switch users) and
//! runs `child_main` on its own small stack until `execve`. Everything it needs (argv,
//! environment, user ids, group list, rlimits, cgroup descriptors) is built in the parent,
//! because the child shares the daemon's memory and may only make raw system calls.
//!
//! With a v2 cgroup, on x86-64, the clone is `clone3` with `CLONE_INTO_CGROUP`, so the
//! kernel starts the child inside it (see [`crate::cgroup`] for why that is faster than
//! the child's own write to `cgroup.procs`). glibc has no `clone3` wrapper, and one with
//! `CLONE_VM` must switch stacks in the child before any Rust code runs, hence the few
//! lines of assembly in `clone3`. Elsewhere, or where the kernel or a seccomp filter
//! refuses `clone3`, the child writes to the v2 `cgroup.procs` itself, after the v1
//! hierarchies' `tasks`.
//!
//! Checks that supervisord makes before forking (command found, executable, not a directory)
//! are made here too, so their errors carry supervisord's wording and fault codes.

#![allow(unsafe_code)]

use crate::command_line;
use nix::unistd::{Gid, Uid};
use rsupervisor_api::Fault;
use rsupervisor_config::ProcessConfig;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a process could not be spawned; `Display` is supervisord's `spawnerr` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SpawnError {
    /// The fault an RPC `startProcess` reports for it.
    pub fault: Fault,
    /// supervisord's wording, e.g. `can't find command 'x'`.
    pub message: String,
}

impl SpawnError {
    fn new(fault: Fault, message: String) -> Self {
        SpawnError { fault, message }
    }
}

/// Everything the daemon adds around a program's own settings.
#[derive(Debug, Clone, Default)]
pub struct SpawnContext {
    /// `[supervisord] environment`.
    pub global_environment: Vec<(String, String)>,
    /// `[supervisord] env_file`.
    pub global_env_files: Vec<rsupervisor_config::EnvFile>,
    /// Value for `SUPERVISOR_SERVER_URL` (the program's `serverurl`, or the daemon's socket).
    pub server_url: Option<String>,
    /// The process's cgroups, which the child joins before exec (none without cgroups).
    pub cgroup: Option<std::sync::Arc<crate::cgroup::Join>>,
    /// The `[fcgi-program:x]` group's listening socket, the child's stdin in place of a pipe
    /// (see [`crate::fcgi`]).
    pub stdin_socket: Option<std::sync::Arc<OwnedFd>>,
    /// Nothing reads the child's stdout (and stderr, when redirected): it goes to
    /// `/dev/null`, with no pipe and no pump (see `Supervisor::discards`).
    pub discard_stdout: bool,
    /// The same for a stderr that is not redirected.
    pub discard_stderr: bool,
}

/// A freshly started child and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// Its pid (also its process group id).
    pub pid: i32,
    /// Read end of its stdout pipe (also stderr when `redirect_stderr`); `None` when the
    /// output goes to `/dev/null`.
    pub stdout: Option<OwnedFd>,
    /// Read end of its stderr pipe, unless `redirect_stderr`.
    pub stderr: Option<OwnedFd>,
    /// Write end of its stdin pipe (none when its stdin is an fcgi socket).
    pub stdin: Option<tokio::net::unix::pipe::Sender>,
}

/// The program's argv and resolved executable, checked as supervisord checks before forking.
pub fn resolve_command(
    config: &ProcessConfig,
    environment: &[(String, String)],
) -> Result<(PathBuf, Vec<String>), SpawnError> {
    let argv = command_line::split(&config.command)
        .map_err(|message| SpawnError::new(Fault::SpawnError, message))?;
    let Some(program) = argv.first() else {
        return Err(SpawnError::new(
            Fault::NoFile,
            "command is empty".to_owned(),
        ));
    };
    let path = if program.contains('/') {
        PathBuf::from(program)
    } else {
        let search = environment
            .iter()
            .rev()
            .find(|(key, _)| key == "PATH")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| "/bin:/usr/bin:/usr/local/bin".to_owned());
        search
            .split(':')
            .map(|dir| Path::new(dir).join(program))
            .find(|candidate| candidate.exists())
            .ok_or_else(|| {
                SpawnError::new(Fault::NoFile, format!("can't find command '{program}'"))
            })?
    };
    let metadata = std::fs::metadata(&path).map_err(|_| {
        SpawnError::new(
            Fault::NoFile,
            format!("can't find command '{}'", path.display()),
        )
    })?;
    if metadata.is_dir() {
        return Err(SpawnError::new(
            Fault::NotExecutable,
            format!("command at '{}' is a directory", path.display()),
        ));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(SpawnError::new(
            Fault::NotExecutable,
            format!("command at '{}' is not executable", path.display()),
        ));
    }
    if nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK).is_err() {
        return Err(SpawnError::new(
            Fault::NotExecutable,
            format!("no permission to run command '{}'", path.display()),
        ));
    }
    Ok((path, argv))
}

/// The child's environment (see [`crate::environment`] for the layers).
pub fn environment(config: &ProcessConfig, context: &SpawnContext) -> Vec<(String, String)> {
    crate::environment::build(config, context)
}

/// Ids to switch to in the child, resolved in the parent.
struct Credentials {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
}

fn credentials(config: &ProcessConfig) -> Result<Option<Credentials>, SpawnError> {
    let Some(user) = &config.user else {
        return Ok(None);
    };
    let current = Uid::current();
    if current.as_raw() == user.uid {
        return Ok(None);
    }
    if !current.is_root() {
        return Err(SpawnError::new(
            Fault::SpawnError,
            format!(
                "couldn't setuid to {}: Can't drop privilege as nonroot user",
                user.uid
            ),
        ));
    }
    let name = CString::new(user.name.clone()).map_err(|_| {
        SpawnError::new(
            Fault::SpawnError,
            format!("invalid user name {:?}", user.name),
        )
    })?;
    let gid = Gid::from_raw(user.gid);
    let groups = nix::unistd::getgrouplist(&name, gid).map_err(|errno| {
        SpawnError::new(
            Fault::SpawnError,
            format!("couldn't look up the groups of user {}: {errno}", user.name),
        )
    })?;
    Ok(Some(Credentials {
        uid: Uid::from_raw(user.uid),
        gid,
        groups,
    }))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| {
        let message = if errno == nix::errno::Errno::EMFILE {
            "too many open files to spawn".to_owned()
        } else {
            format!("couldn't create a pipe: {errno}")
        };
        SpawnError::new(Fault::SpawnError, message)
    })?;
    if Uid::effective().is_root() {
        // A larger pipe lets a chatty child write more before it waits for the pump: about
        // a quarter more throughput measured with 1 GiB through one program. Only as root:
        // for other users the kernel charges pipe pages against a per-user soft limit
        // (fs.pipe-user-pages-soft), past which every new pipe of that user shrinks to two
        // pages. Failure just keeps the default size.
        let _ = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_CAPACITY));
    }
    Ok((read, write))
}

/// Capacity of a child's output pipe when the daemon runs as root (the default is 64 KiB).
const PIPE_CAPACITY: i32 = 1 << 20;

/// Starts the program (see `clone_vfork`). Must be called inside the tokio runtime, from the
/// task that reaps children (the supervisor actor): a child whose exec failed is reaped here,
/// and must not be found reaped already.
pub fn spawn(config: &ProcessConfig, context: &SpawnContext) -> Result<Spawned, SpawnError> {
    let environment = environment(config, context);
    let (program, argv) = resolve_command(config, &environment)?;
    // supervisord changes directory in the child, after forking: a bad `directory=` is a
    // child that exits 127 with its complaint in the stderr log, not a spawn error.
    let chdir = match &config.directory {
        Some(directory) => {
            use std::os::unix::ffi::OsStrExt;
            let path = CString::new(directory.as_os_str().as_bytes()).map_err(|_| {
                SpawnError::new(
                    Fault::SpawnError,
                    format!("couldn't chdir to {}: EINVAL", directory.display()),
                )
            })?;
            let complaint =
                format!("supervisor: couldn't chdir to {}: ", directory.display()).into_bytes();
            Some((path, complaint))
        }
        None => None,
    };
    let credentials = credentials(config)?;
    let (stdout_read, stdout_write) = if context.discard_stdout {
        (None, dev_null()?)
    } else {
        let (read, write) = pipe()?;
        (Some(read), write)
    };
    let (stderr_read, stderr_write) = if !config.redirect_stderr && context.discard_stderr {
        (None, dev_null()?)
    } else if config.redirect_stderr {
        let write = stdout_write.try_clone().map_err(|error| {
            SpawnError::new(
                Fault::SpawnError,
                format!("couldn't duplicate a pipe: {error}"),
            )
        })?;
        (None, write)
    } else {
        let (read, write) = pipe()?;
        (Some(read), write)
    };

    // An fcgi program's stdin is its group's listening socket; the others get a pipe.
    use std::os::fd::AsRawFd;
    let (stdin_fd, stdin_pipe) = match &context.stdin_socket {
        Some(socket) => (socket.as_raw_fd(), None),
        None => {
            let (read, write) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| {
                    SpawnError::new(
                        Fault::SpawnError,
                        format!("couldn't create a pipe: {errno}"),
                    )
                })?;
            (read.as_raw_fd(), Some((read, write)))
        }
    };
    let image = Image::new(&program, &argv, environment)?;
    let resources = &config.resources;
    let nofile = match resources.rlimit_nofile {
        Some(limit) => Some((limit, limit)),
        None => crate::limits::child_nofile(),
    };
    let mut rlimits: Vec<(libc::__rlimit_resource_t, u64)> = [
        (libc::RLIMIT_CORE, resources.rlimit_core),
        (libc::RLIMIT_AS, resources.rlimit_as),
    ]
    .into_iter()
    .filter_map(|(resource, limit)| limit.map(|limit| (resource, limit)))
    .collect();
    // The daemon raised its own open-files limit; programs get the one they would have had
    // under supervisord. Set while still privileged.
    if let Some((soft, _)) = nofile {
        rlimits.push((libc::RLIMIT_NOFILE, soft));
    }
    // The v1 `tasks` first, then v2's `cgroup.procs`: a child started inside its v2 cgroup
    // is given only the first `v1_count`.
    let v2 = context.cgroup.as_ref().and_then(|join| join.v2.as_ref());
    let cgroup_fds: Vec<libc::c_int> = context
        .cgroup
        .iter()
        .flat_map(|join| join.v1_tasks.iter().map(AsRawFd::as_raw_fd))
        .chain(v2.map(|v2| v2.procs.as_raw_fd()))
        .collect();
    let v1_count = cgroup_fds.len() - usize::from(v2.is_some());
    let into_cgroup = v2
        .and_then(|v2| v2.dir.as_ref())
        .map(AsRawFd::as_raw_fd)
        .filter(|_| CLONE3.load(std::sync::atomic::Ordering::Relaxed));
    let groups: Vec<libc::gid_t> = credentials
        .as_ref()
        .map(|c| c.groups.iter().map(|g| g.as_raw()).collect())
        .unwrap_or_default();
    let stdio = [stdin_fd, stdout_write.as_raw_fd(), stderr_write.as_raw_fd()];
    // The child's descriptors at low numbers, so it can share our descriptor table and
    // keep only its low end (see `slots`); without slots it gets a copy of the whole table.
    let lease = slots::lease(&stdio, &cgroup_fds);
    let (stdio, cgroup_fds, unshare_from) = match &lease {
        Some(lease) => (lease.stdio, lease.cgroup_joins.clone(), lease.unshare_from),
        None => (stdio, cgroup_fds, 0),
    };
    let mut plan = ChildPlan {
        program: image.program.as_ptr(),
        argv: image.argv.as_ptr(),
        envp: image.envp.as_ptr(),
        stdio,
        unshare_from,
        cgroup_joins: match into_cgroup {
            Some(_) => &cgroup_fds[..v1_count],
            None => &cgroup_fds,
        },
        rlimits: &rlimits,
        credentials: credentials
            .as_ref()
            .map(|c| (c.uid.as_raw(), c.gid.as_raw(), groups.as_slice())),
        chdir: chdir
            .as_ref()
            .map(|(path, complaint)| (path.as_c_str(), complaint.as_slice())),
        umask: config.umask.map(|mask| mask as libc::mode_t),
        error: std::sync::atomic::AtomicI32::new(0),
    };
    let mut pid = clone_vfork(&plan, into_cgroup);
    if let (Some(_), Err(error)) = (into_cgroup, &pid) {
        // No clone3 here (old kernel, a container's seccomp filter) or the kernel would not
        // start the child in the cgroup: the child joins it itself, which reports a refusal
        // with the error of its write, as on hosts without clone3.
        if matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::E2BIG)) {
            CLONE3.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        plan.cgroup_joins = &cgroup_fds;
        pid = clone_vfork(&plan, None);
    }
    let pid = pid.map_err(|error| spawn_failure(&program, error));
    // The child has exec'd or exited: the slots give their descriptors back.
    drop(lease);
    let pid = pid?;
    let child_error = plan.error.load(std::sync::atomic::Ordering::SeqCst);
    if child_error != 0 {
        // The child never reached its program and has exited: reap it here (the actor's
        // reaper never learns its pid).
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        return Err(spawn_failure(
            &program,
            std::io::Error::from_raw_os_error(child_error),
        ));
    }
    drop((stdout_write, stderr_write));
    let stdin =
        stdin_pipe.and_then(|(_, write)| tokio::net::unix::pipe::Sender::from_owned_fd(write).ok());
    Ok(Spawned {
        pid,
        stdout: stdout_read,
        stderr: stderr_read,
        stdin,
    })
}

/// `/dev/null` for writing: the stdout or stderr of a child whose output nobody reads.
fn dev_null() -> Result<OwnedFd, SpawnError> {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|error| {
            SpawnError::new(
                Fault::SpawnError,
                format!("couldn't open /dev/null: {error}"),
            )
        })
}

/// The C strings `execve` takes, built in the parent (the child may not allocate).
struct Image {
    program: CString,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    /// Owners of the strings `argv` and `envp` point into.
    _strings: Vec<CString>,
}

impl Image {
    fn new(
        program: &Path,
        argv: &[String],
        environment: Vec<(String, String)>,
    ) -> Result<Self, SpawnError> {
        use std::os::unix::ffi::OsStrExt;
        let nul = |what: &str| {
            SpawnError::new(
                Fault::SpawnError,
                format!("couldn't exec {}: a NUL byte in {what}", program.display()),
            )
        };
        let program_c =
            CString::new(program.as_os_str().as_bytes()).map_err(|_| nul("the path"))?;
        // Later layers win, in name order, as the standard library's `Command::envs` did.
        let environment: std::collections::BTreeMap<String, String> =
            environment.into_iter().collect();
        let mut strings = Vec::with_capacity(argv.len() + environment.len());
        for arg in argv {
            strings.push(CString::new(arg.as_bytes()).map_err(|_| nul("an argument"))?);
        }
        for (key, value) in &environment {
            strings
                .push(CString::new(format!("{key}={value}")).map_err(|_| nul("the environment"))?);
        }
        let pointers = |range: &[CString]| {
            range
                .iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect::<Vec<_>>()
        };
        Ok(Image {
            program: program_c,
            argv: pointers(&strings[..argv.len()]),
            envp: pointers(&strings[argv.len()..]),
            _strings: strings,
        })
    }
}

/// Everything the child does between `clone` and `execve`, prepared by the parent. The child
/// shares the parent's memory (`CLONE_VM`), so it only reads this and writes `error`.
struct ChildPlan<'a> {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    /// The child's stdin, stdout and stderr.
    stdio: [libc::c_int; 3],
    /// Non-zero: the child shares the daemon's descriptor table (`CLONE_FILES`) and its
    /// first step is to take a table of its own holding only the descriptors below this
    /// number (every one it needs is there, see `slots`). Zero: a copy of the whole table.
    unshare_from: u32,
    /// The files that move the child into its cgroups (v1 `tasks`, v2 `cgroup.procs`),
    /// written first.
    cgroup_joins: &'a [libc::c_int],
    rlimits: &'a [(libc::__rlimit_resource_t, u64)],
    /// uid, gid and the supplementary groups to switch to.
    credentials: Option<(libc::uid_t, libc::gid_t, &'a [libc::gid_t])>,
    /// The directory, and the complaint printed when it cannot be entered.
    chdir: Option<(&'a std::ffi::CStr, &'a [u8])>,
    umask: Option<libc::mode_t>,
    /// The errno of the step that failed (0: the program runs, or chdir failed, which is
    /// the program's exit 127 as in supervisord, not a spawn error).
    error: std::sync::atomic::AtomicI32,
}

/// Size of the stack the child runs on until `execve` (it makes a few system calls only).
const CHILD_STACK: usize = 64 * 1024;

/// Whether to try `clone3` with `CLONE_INTO_CGROUP`: only where `clone3` below is written
/// for the architecture, and no longer once the kernel answered that it has neither.
static CLONE3: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(cfg!(target_arch = "x86_64"));

/// The kernel's `struct clone_args` (`include/uapi/linux/sched.h`), up to `cgroup`.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `clone3`'s flag: start the child in the cgroup whose directory descriptor is `cgroup`.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Starts the child with `clone(CLONE_VM | CLONE_VFORK)`, as glibc's `posix_spawn` does: no
/// copy of the daemon's page tables (a `fork` copies them, and the daemon's memory grows with
/// its programs, so every spawn got dearer), no copy-on-write faults afterwards. This thread
/// is suspended until the child has called `execve` or exited; the other threads run on.
/// All signals are blocked around the call so that no handler of the daemon runs in the
/// child before it has reset them. With `into_cgroup` (a v2 cgroup's directory), `clone3`
/// starts the child inside that cgroup.
fn clone_vfork(plan: &ChildPlan, into_cgroup: Option<libc::c_int>) -> std::io::Result<i32> {
    let mut stack = vec![0u8; CHILD_STACK];
    // SAFETY: the stack is ours and outlives the child's use of it (the parent is suspended
    // until exec or exit); `child_main` only reads `plan` and makes raw system calls.
    unsafe {
        let base = stack.as_mut_ptr();
        let top = (base.add(CHILD_STACK) as usize & !15) as *mut libc::c_void;
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let files = if plan.unshare_from > 0 {
            libc::CLONE_FILES
        } else {
            0
        };
        let flags = libc::CLONE_VM | libc::CLONE_VFORK | files;
        let arg = plan as *const ChildPlan as *mut libc::c_void;
        let pid = match into_cgroup {
            Some(cgroup) => {
                let args = CloneArgs {
                    flags: flags as u64 | CLONE_INTO_CGROUP,
                    exit_signal: libc::SIGCHLD as u64,
                    stack: base as u64,
                    stack_size: top as u64 - base as u64,
                    cgroup: cgroup as u64,
                    ..CloneArgs::default()
                };
                clone3(&args, child_main, arg)
            }
            None => libc::clone(child_main, top, flags | libc::SIGCHLD, arg),
        };
        let error = std::io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(error);
        }
        Ok(pid)
    }
}

/// `clone3(args)`, the child running `child(arg)` on the stack `args` gives it. Returns the
/// child's pid, or -1 with `errno` set. The child shares this thread's memory, so it may not
/// return through Rust code: it switches to its stack in the kernel, calls `child` at once
/// and ends with `exit` should `child` return.
///
/// SAFETY: `args` must describe a stack valid until the child execs or exits (with
/// `CLONE_VFORK`, until this returns), and `child` must be safe to run on it with `arg`.
#[cfg(target_arch = "x86_64")]
unsafe fn clone3(
    args: &CloneArgs,
    child: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    arg: *mut libc::c_void,
) -> libc::c_int {
    let ret: i64;
    // SAFETY: the system call's registers as the x86-64 ABI gives them; the parent comes
    // back with only rax, rcx and r11 changed. The child starts with the parent's registers
    // and rsp at the top of its stack (16-byte aligned, so `call` leaves the alignment a
    // function expects), and never comes back to the code after the asm.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r12",
            "call r13",
            "mov edi, eax",
            "mov eax, 60", // SYS_exit
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") args as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") arg,
            in("r13") child,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if ret < 0 {
        // SAFETY: errno is this thread's.
        unsafe { *libc::__errno_location() = (-ret) as libc::c_int };
        return -1;
    }
    ret as libc::c_int
}

/// No `clone3` written for this architecture: `CLONE3` is never set, so this is not called.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone3(
    _args: &CloneArgs,
    _child: extern "C" fn(*mut libc::c_void) -> libc::c_int,
    _arg: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: errno is this thread's.
    unsafe { *libc::__errno_location() = libc::ENOSYS };
    -1
}

/// The child, from `clone` to `execve`. Raw system calls only: it shares the daemon's memory
/// and must not allocate or take a lock, and glibc's `setuid` family would try to change the
/// credentials of the daemon's other threads.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's `ChildPlan`, alive while the parent is suspended.
    let plan = unsafe { &*(arg as *const ChildPlan) };
    let fail = |errno: libc::c_int| -> ! {
        plan.error
            .store(errno.max(1), std::sync::atomic::Ordering::SeqCst);
        // SAFETY: ends the child without running anything of the parent's.
        unsafe { libc::_exit(127) }
    };
    let errno = || {
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    };
    // SAFETY: every call below is a system call on values the parent prepared.
    unsafe {
        // The daemon's handlers must not run here: every caught signal back to its default
        // (exec would do so too), SIGPIPE (ignored by Rust programs) to its default, and
        // then the mask of a fresh process, empty.
        for signal in 1..=libc::SIGRTMAX() {
            let mut action: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut action) == 0
                && (action.sa_sigaction != libc::SIG_IGN || signal == libc::SIGPIPE)
                && action.sa_sigaction != libc::SIG_DFL
            {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // Our own descriptor table before anything touches a descriptor: with a range that
        // runs to the end, the kernel copies only the descriptors below its start, instead
        // of copying all of the daemon's (several per program) and closing them again at
        // exec, which made every spawn cost more the more programs ran.
        if plan.unshare_from > 0
            && libc::syscall(
                libc::SYS_close_range,
                plan.unshare_from,
                u32::MAX,
                libc::CLOSE_RANGE_UNSHARE,
            ) != 0
        {
            fail(errno());
        }
        for (target, fd) in plan.stdio.iter().enumerate() {
            if libc::dup2(*fd, target as libc::c_int) < 0 {
                fail(errno());
            }
        }
        // setpgid(0, 0), as supervisord's setpgrp(): the child leads its own process group,
        // so a Ctrl-C at the daemon's terminal does not reach it and stopasgroup can signal
        // the whole group.
        if libc::setpgid(0, 0) != 0 {
            fail(errno());
        }
        // Join the process's cgroups first, while still privileged and before anything the
        // program does: `0` moves the writer itself (through a v1 `tasks`, only this thread,
        // which is the child's only one), so whatever it forks later is inside.
        for fd in plan.cgroup_joins {
            if libc::write(*fd, b"0".as_ptr().cast(), 1) != 1 {
                fail(errno());
            }
        }
        for (resource, limit) in plan.rlimits {
            let limit = libc::rlimit {
                rlim_cur: *limit,
                rlim_max: *limit,
            };
            if libc::setrlimit(*resource, &limit) != 0 {
                fail(errno());
            }
        }
        // supervisord's order: setuid, chdir, umask.
        if let Some((uid, gid, groups)) = plan.credentials {
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setgid, gid) != 0
                || libc::syscall(libc::SYS_setuid, uid) != 0
            {
                fail(errno());
            }
        }
        if let Some((path, complaint)) = plan.chdir {
            if libc::chdir(path.as_ptr()) != 0 {
                let errno = errno();
                write_stderr(complaint);
                write_stderr(errno_name(errno));
                write_stderr(b"\nsupervisor: child process was not spawned\n");
                libc::_exit(127);
            }
        }
        if let Some(mask) = plan.umask {
            libc::umask(mask);
        }
        // Descriptors inherited by the daemon from whoever started it must not leak into
        // programs (supervisord closes 3..minfds).
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
        libc::execve(plan.program, plan.argv, plan.envp);
        fail(errno())
    }
}

/// Writes `bytes` to fd 2 from the forked child (async-signal-safe; errors are ignored, as
/// there is nowhere left to report them).
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writing a valid buffer to fd 2 is async-signal-safe.
        let written = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if written <= 0 {
            return;
        }
        bytes = &bytes[written as usize..];
    }
}

/// Python's `errno.errorcode` name for the errors `chdir` can give, without allocating.
fn errno_name(errno: i32) -> &'static [u8] {
    match errno {
        libc::ENOENT => b"ENOENT",
        libc::ENOTDIR => b"ENOTDIR",
        libc::EACCES => b"EACCES",
        libc::ELOOP => b"ELOOP",
        libc::ENAMETOOLONG => b"ENAMETOOLONG",
        libc::EIO => b"EIO",
        libc::ENOMEM => b"ENOMEM",
        libc::EFAULT => b"EFAULT",
        _ => b"EUNKNOWN",
    }
}

fn spawn_failure(program: &Path, error: std::io::Error) -> SpawnError {
    let errno = error.raw_os_error().map(nix::errno::Errno::from_raw);
    match errno {
        Some(nix::errno::Errno::ENOENT) => SpawnError::new(
            Fault::NoFile,
            format!("can't find command '{}'", program.display()),
        ),
        Some(nix::errno::Errno::EACCES) => SpawnError::new(
            Fault::NotExecutable,
            format!("no permission to run command '{}'", program.display()),
        ),
        Some(nix::errno::Errno::EMFILE) => {
            SpawnError::new(Fault::SpawnError, "too many open files to spawn".to_owned())
        }
        Some(nix::errno::Errno::EAGAIN) => SpawnError::new(
            Fault::SpawnError,
            "Too many processes in process table to spawn".to_owned(),
        ),
        Some(errno) => SpawnError::new(
            Fault::SpawnError,
            format!("couldn't exec {}: {}", program.display(), errno),
        ),
        None => SpawnError::new(
            Fault::SpawnError,
            format!("couldn't exec {}: {error}", program.display()),
        ),
    }
}

/// Low descriptor numbers kept for the child's own descriptors.
///
/// A child that shares the daemon's descriptor table can leave it for a table with only
/// the descriptors below some number (`close_range(n, ~0, CLOSE_RANGE_UNSHARE)` copies just
/// those), but the descriptors it needs (its pipe ends, its cgroups' `tasks` and
/// `cgroup.procs`) were opened late and have high numbers. So a few low numbers are taken
/// once, holding `/dev/null`; for each spawn the child's descriptors are duplicated onto
/// them, and put back to `/dev/null` once the child has exec'd. The numbers are ours alone
/// (nothing else in the daemon can be given a number that is open), and spawns take the
/// lock in turn.
mod slots {
    use std::os::fd::{AsRawFd, OwnedFd, RawFd};
    use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

    /// Three for stdio, and the join files of up to this many hierarchies minus three.
    const SLOTS: usize = 12;

    struct Slots {
        devnull: OwnedFd,
        fds: Vec<OwnedFd>,
    }

    fn slots() -> Option<&'static Mutex<Slots>> {
        static SLOTS_CELL: OnceLock<Option<Mutex<Slots>>> = OnceLock::new();
        SLOTS_CELL
            .get_or_init(|| {
                let devnull: OwnedFd = std::fs::File::open("/dev/null").ok()?.into();
                let fds = (0..SLOTS)
                    .map(|_| {
                        nix::fcntl::fcntl(&devnull, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
                            .ok()
                            .map(|fd| {
                                // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor we own.
                                unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) }
                            })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Mutex::new(Slots { devnull, fds }))
            })
            .as_ref()
    }

    /// The slots holding one child's descriptors, until dropped.
    pub(super) struct Lease {
        guard: MutexGuard<'static, Slots>,
        used: usize,
        /// Where stdin, stdout and stderr are now.
        pub(super) stdio: [RawFd; 3],
        /// Where the cgroup join descriptors are now.
        pub(super) cgroup_joins: Vec<RawFd>,
        /// One above the highest slot: the child keeps the descriptors below it.
        pub(super) unshare_from: u32,
    }

    /// Puts `stdio` and `cgroup_joins` onto slots, or `None` (the child then copies the
    /// whole table, as before): no slots could be taken, or there are too many descriptors.
    pub(super) fn lease(stdio: &[RawFd; 3], cgroup_joins: &[RawFd]) -> Option<Lease> {
        let wanted: Vec<RawFd> = stdio.iter().chain(cgroup_joins).copied().collect();
        let guard = slots()?.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted.len() > guard.fds.len() {
            return None;
        }
        let mut lease = Lease {
            unshare_from: u32::try_from(guard.fds.iter().map(AsRawFd::as_raw_fd).max()? + 1)
                .ok()?,
            guard,
            used: 0,
            stdio: [0; 3],
            cgroup_joins: Vec::with_capacity(cgroup_joins.len()),
        };
        for (index, fd) in wanted.iter().enumerate() {
            let slot = lease.guard.fds[index].as_raw_fd();
            // SAFETY: both descriptors are open; the slot is ours and replaced atomically.
            // Close-on-exec, so nothing else the daemon starts meanwhile inherits it; the
            // child's own stdio (its `dup2` onto 0, 1, 2) is not.
            if unsafe { libc::dup3(*fd, slot, libc::O_CLOEXEC) } < 0 {
                return None; // the lease drops and restores what was done so far
            }
            lease.used = index + 1;
            if index < 3 {
                lease.stdio[index] = slot;
            } else {
                lease.cgroup_joins.push(slot);
            }
        }
        Some(lease)
    }

    impl Drop for Lease {
        fn drop(&mut self) {
            let devnull = self.guard.devnull.as_raw_fd();
            for fd in &self.guard.fds[..self.used] {
                // SAFETY: both open; this closes our duplicate of the child's descriptor,
                // so the pipes' ends are held by the child (and our own ends) only.
                unsafe {
                    libc::dup3(devnull, fd.as_raw_fd(), libc::O_CLOEXEC);
                }
            }
        }
    }
}
