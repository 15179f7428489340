//! `rsupervisorctl` entry point: parse the command line, run on a single-threaded runtime,
//! exit with the command's status.
//!
//! `main` is the C entry point itself (`#![no_main]`), not Rust's: every command is a new
//! process, and Rust's own start-up costs a cold `status` 0.1-0.2 ms of its ~2 ms
//! (BENCHMARKS.md, "Issue 19, eighth pass"). Most of that is the stack-overflow guard: it
//! installs a signal stack and asks glibc for the main thread's stack bounds, which glibc
//! finds by reading and parsing `/proc/self/maps`. Of what that start-up does, the ctl keeps
//! the two things it relies on, done here the same way: standard descriptors 0-2 that are
//! closed are opened on `/dev/null` (so a socket or file we open never becomes "stdout"), and
//! SIGPIPE is ignored (a closed pipe is a write error we report, not a silent death). A panic
//! still prints its message and exits with status 101. What is given up: the "has
//! overflowed its stack" message (an overflow is a plain SIGSEGV), and the name `main` in a
//! panic message. Arguments and the environment come to std through glibc's start-up either
//! way.

#![no_main]

#[path = "../../no_libm.rs"]
mod no_libm;

// SAFETY (the lint): the symbol must be the C `main` that glibc's start-up calls.
#[allow(unsafe_code)]
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    prepare_process();
    let status = std::panic::catch_unwind(run).unwrap_or(101);
    std::process::exit(status);
}

/// Runs the command and exits with its status; returns only when the runtime cannot start.
fn run() -> i32 {
    let cli = rsupervisorctl::cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rsupervisorctl: cannot start the async runtime: {error}");
            return 1;
        }
    };
    let status = runtime.block_on(rsupervisorctl::run(cli));
    // Exit at once, with the runtime still alive: nothing left to flush (exit flushes std's
    // stdout), a pending stdin read must not hold us up, and dropping the runtime would
    // only close what the exit closes anyway.
    std::process::exit(status);
}

/// What Rust's start-up would have done that the ctl needs: descriptors 0-2 open, SIGPIPE
/// ignored.
#[allow(unsafe_code)]
fn prepare_process() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the duration of the call; a zero
    // timeout only reports which descriptors are closed (POLLNVAL).
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if polled >= 0 {
        for closed in fds.iter().filter(|fd| fd.revents & libc::POLLNVAL != 0) {
            // SAFETY: a NUL-terminated path and plain flags. The lowest free descriptor is
            // the closed one, as the standard streams are filled in order.
            let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if opened != closed.fd {
                break;
            }
        }
    }
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
