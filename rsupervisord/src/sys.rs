//! Thin, audited wrappers around the few libc calls the daemon needs that have no safe
//! std or nix equivalent: `localtime_r` (local-time timestamps for the main log),
//! `syslog` (the `logfile=syslog` target and `*_syslog` child streams) and `malloc_trim`.
//!
//! One of the few places allowed to contain `unsafe` (ARCHITECTURE.md, "Unsafe code");
//! every block carries a `// SAFETY:` comment. Everything exported here is safe to call
//! from any thread.
#![allow(unsafe_code)]

use std::ffi::CString;

/// Gives the free pages of every malloc arena back to the kernel (glibc's `malloc_trim`).
///
/// The heap keeps the pages it ever touched: without this, what the daemon's start freed
/// (the configuration's text and parse, the copies made while adding groups) stays
/// resident for its whole life. Called when a (re)start's work is done, not on a timer.
pub fn trim_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: `malloc_trim` only walks the allocator's own free lists; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A broken-down local time, as produced by `localtime_r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Full year, e.g. 2024.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=60 (leap seconds).
    pub second: u32,
}

/// Converts seconds since the Unix epoch to local time, honouring `TZ`.
///
/// Returns `None` if the C library cannot represent the time (out of range).
pub fn local_time(epoch_seconds: i64) -> Option<LocalTime> {
    let time: libc::time_t = libc::time_t::try_from(epoch_seconds).ok()?;
    // SAFETY: `libc::tm` is a plain C struct of integers and (on glibc) a `*const c_char`
    // zone pointer; the all-zero bit pattern is a valid value for every field.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call: `time` lives on our
    // stack and `tm` is a properly aligned, writable `libc::tm`. `localtime_r` is the
    // re-entrant variant and writes only into `tm`, so concurrent calls are fine.
    let result = unsafe { libc::localtime_r(&time, &mut tm) };
    if result.is_null() {
        return None;
    }
    Some(LocalTime {
        year: tm.tm_year + 1900,
        month: u32::try_from(tm.tm_mon + 1).ok()?,
        day: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        minute: u32::try_from(tm.tm_min).ok()?,
        second: u32::try_from(tm.tm_sec).ok()?,
    })
}

/// Severity passed to [`syslog`]; mapped to the `LOG_*` priorities (facility `LOG_USER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogPriority {
    /// `LOG_CRIT`.
    Critical,
    /// `LOG_ERR`.
    Error,
    /// `LOG_WARNING`.
    Warning,
    /// `LOG_INFO`.
    Info,
    /// `LOG_DEBUG`.
    Debug,
}

/// Sends one message to the system logger.
///
/// `openlog` is never called, so the C library uses the program name as the ident, as
/// Python's `syslog.syslog` (used by supervisord) does. Interior NUL bytes, which C strings
/// cannot carry, are replaced by `\u{FFFD}`.
pub fn syslog(priority: SyslogPriority, message: &str) {
    let level = match priority {
        SyslogPriority::Critical => libc::LOG_CRIT,
        SyslogPriority::Error => libc::LOG_ERR,
        SyslogPriority::Warning => libc::LOG_WARNING,
        SyslogPriority::Info => libc::LOG_INFO,
        SyslogPriority::Debug => libc::LOG_DEBUG,
    };
    let text = match CString::new(message) {
        Ok(text) => text,
        Err(_) => match CString::new(message.replace('\0', "\u{FFFD}")) {
            Ok(text) => text,
            Err(_) => return,
        },
    };
    // SAFETY: the format is a static NUL-terminated "%s" and its single argument is a valid
    // NUL-terminated C string that outlives the call, so `syslog` reads exactly one string
    // argument and never interprets `message` as a format. `syslog` is thread-safe in glibc
    // and musl.
    unsafe { libc::syslog(libc::LOG_USER | level, c"%s".as_ptr(), text.as_ptr()) };
}

/// Detaches the daemon from its terminal as supervisord does: fork (the parent exits at once),
/// `setsid()`, stdin/stdout/stderr to /dev/null, then `chdir(directory)` and `umask`.
///
/// Must be called before any thread is started (no tokio runtime yet).
pub fn daemonize(directory: Option<&std::path::Path>, umask: u32) -> std::io::Result<()> {
    // SAFETY: the process is single-threaded here (the caller guarantees it), so the child
    // is a complete copy and may go on running Rust code.
    match unsafe { nix::unistd::fork() }.map_err(std::io::Error::from)? {
        nix::unistd::ForkResult::Parent { .. } => {
            // SAFETY: _exit ends the parent without running destructors or atexit handlers
            // that belong to the child now.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Child => {}
    }
    nix::unistd::setsid().map_err(std::io::Error::from)?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for target in 0..=2 {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 on a valid open descriptor onto 0, 1 or 2 only replaces those.
        if unsafe { libc::dup2(null.as_raw_fd(), target) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    if let Some(directory) = directory {
        std::env::set_current_dir(directory)?;
    }
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe { libc::umask(umask as libc::mode_t) };
    Ok(())
}

/// Registers a non-blocking descriptor with the tokio reactor, to await its readiness
/// (the inotify watch of a cgroup's `cgroup.events`). Must be called inside the runtime.
pub fn async_fd(
    fd: std::os::fd::OwnedFd,
) -> std::io::Result<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    // SAFETY: `register` requires the descriptor to stay open as long as the AsyncFd lives;
    // the AsyncFd owns the OwnedFd, which closes it only when dropped, after the AsyncFd
    // deregistered it.
    unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(|error| error.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_plausible() {
        let now = local_time(1_700_000_000).expect("representable");
        // 2023-11-14 22:13:20 UTC; any time zone keeps the year and a valid calendar date.
        assert!(now.year == 2023);
        assert!((1..=12).contains(&now.month));
        assert!((1..=31).contains(&now.day));
        assert!(now.hour < 24 && now.minute < 60 && now.second <= 60);
    }
}
