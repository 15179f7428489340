//! A seccomp filter that answers `clone3` with `ENOSYS`, as container runtimes' default
//! profiles do (Docker's, podman's): the daemon must then fall back to `clone` and join its
//! cgroups by writing to `cgroup.procs`. Installed in the daemon's process between fork and
//! exec (see [`crate::DaemonCommand::without_clone3`]), so only that daemon is affected.

#![allow(unsafe_code)]

use std::io;

/// x86-64's `clone3` number; on other architectures the filter is not installed.
#[cfg(target_arch = "x86_64")]
const SYS_CLONE3: u32 = 435;

/// Installs the filter on the calling process (it is inherited across exec).
///
/// # Safety
/// Only system calls: fit for a `pre_exec` hook.
#[cfg(target_arch = "x86_64")]
pub unsafe fn deny_clone3() -> io::Result<()> {
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    let stmt = |code: u16, k: u32| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u16, k: u32, jt: u8, jf: u8| libc::sock_filter { code, jt, jf, k };
    let load = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let equal = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    let ret = (libc::BPF_RET | libc::BPF_K) as u16;
    // struct seccomp_data: nr at offset 0, arch at 4.
    let program = [
        stmt(load, 4),
        jump(equal, AUDIT_ARCH_X86_64, 1, 0),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
        stmt(load, 0),
        jump(equal, SYS_CLONE3, 0, 1),
        stmt(ret, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prctl with a filter that lives for the duration of the call.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
            ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// No filter written for this architecture (the daemon does not use `clone3` there).
///
/// # Safety
/// Does nothing.
#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn deny_clone3() -> io::Result<()> {
    Ok(())
}
