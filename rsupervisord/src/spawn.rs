//! Starting one child process the way supervisord does: argv from `command=`, the environment,
//! working directory, umask, user, its own process group, stdin/stdout/stderr pipes.
//!
//! This is the one module with `unsafe`: the `pre_exec` closure that runs in the forked child
//! before `exec`. Everything it needs (user ids, group list) is computed in the parent, because
//! only async-signal-safe calls are allowed between fork and exec.
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
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

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
}

/// A freshly started child and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// Its pid (also its process group id).
    pub pid: i32,
    /// Read end of its stdout pipe (also stderr when `redirect_stderr`).
    pub stdout: OwnedFd,
    /// Read end of its stderr pipe, unless `redirect_stderr`.
    pub stderr: Option<OwnedFd>,
    /// Write end of its stdin pipe.
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

/// Forks and execs the program. Must be called inside the tokio runtime, from the task that
/// reaps children (the supervisor actor): the standard library reaps a child whose exec failed
/// itself, and must not find it reaped already.
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
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = if config.redirect_stderr {
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

    // std's Command rather than tokio's: tokio would hold a pidfd per child to reap it, and
    // the supervisor reaps its children itself on SIGCHLD (one fd per program saved, which
    // matters at thousands of programs).
    let mut command = std::process::Command::new(&program);
    command
        .arg0(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(environment)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(stdout_write))
        .stderr(Stdio::from(stderr_write))
        // setpgid(0, 0), as supervisord's setpgrp(): the child leads its own process group,
        // so a Ctrl-C at the daemon's terminal does not reach it and stopasgroup can signal
        // the whole group.
        .process_group(0);
    let umask = config.umask;
    let resources = &config.resources;
    let nofile = match resources.rlimit_nofile {
        Some(limit) => Some((limit, limit)),
        None => crate::limits::child_nofile(),
    };
    let rlimits: Vec<(nix::sys::resource::Resource, u64)> = [
        (
            nix::sys::resource::Resource::RLIMIT_CORE,
            resources.rlimit_core,
        ),
        (nix::sys::resource::Resource::RLIMIT_AS, resources.rlimit_as),
    ]
    .into_iter()
    .filter_map(|(resource, limit)| limit.map(|limit| (resource, limit)))
    .collect();
    let cgroup = context.cgroup.clone();
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (write, setrlimit, setgroups, setgid, setuid, chdir,
    // _exit, umask, close_range); it allocates nothing: `groups`, the rlimits, the cgroup
    // descriptors, the directory and its complaint were built in the parent and are only
    // borrowed here.
    unsafe {
        command.pre_exec(move || {
            // Join the process's cgroups first, while still privileged and before anything
            // the program does: `0` moves the writer itself, so whatever it forks later is
            // inside.
            if let Some(join) = &cgroup {
                for fd in &join.procs {
                    use std::os::fd::AsRawFd;
                    if libc::write(fd.as_raw_fd(), b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            for (resource, limit) in &rlimits {
                nix::sys::resource::setrlimit(*resource, *limit, *limit)?;
            }
            // The daemon raised its own open-files limit; programs get the one they would
            // have had under supervisord. Done first, while still privileged.
            if let Some((soft, hard)) = nofile {
                nix::sys::resource::setrlimit(
                    nix::sys::resource::Resource::RLIMIT_NOFILE,
                    soft,
                    hard,
                )?;
            }
            // supervisord's order: setuid, chdir, umask.
            if let Some(credentials) = &credentials {
                nix::unistd::setgroups(&credentials.groups)?;
                nix::unistd::setgid(credentials.gid)?;
                nix::unistd::setuid(credentials.uid)?;
            }
            if let Some((path, complaint)) = &chdir {
                if libc::chdir(path.as_ptr()) != 0 {
                    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                    write_stderr(complaint);
                    write_stderr(errno_name(errno));
                    write_stderr(b"\nsupervisor: child process was not spawned\n");
                    libc::_exit(127);
                }
            }
            if let Some(mask) = umask {
                libc::umask(mask as libc::mode_t);
            }
            // Descriptors inherited by the daemon from whoever started it must not leak
            // into programs (supervisord closes 3..minfds). Marking them close-on-exec rather
            // than closing them keeps the standard library's exec-error pipe working.
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|error| spawn_failure(&program, error))?;
    let pid = child.id() as i32;
    // Dropping the std handle neither waits for nor kills the child; the reaper owns it.
    let stdin = child
        .stdin
        .take()
        .and_then(|stdin| tokio::net::unix::pipe::Sender::from_owned_fd(OwnedFd::from(stdin)).ok());
    Ok(Spawned {
        pid,
        stdout: stdout_read,
        stderr: stderr_read,
        stdin,
    })
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
