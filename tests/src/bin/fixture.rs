//! `fixture`: a controllable child program for the end-to-end tests.
//!
//! The daemon under test supervises this binary instead of ad-hoc shell scripts, so backoff,
//! stop escalation, log capture and process-group kills are deterministic. Flags are parsed by
//! hand (no dependencies beyond std, nix and signal-hook) and documented in [`USAGE`].
//!
//! Actions always run in the fixed order listed in [`USAGE`], whatever the order of the flags on
//! the command line; only repeated `--print`/`--eprint` keep their relative command-line order.
//! Output is flushed before every exit.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use rsupervisor_e2e::spew;
use signal_hook::consts::SIGTERM;
use signal_hook::iterator::Signals;

/// The `--help` text; it is the reference for flag semantics and action order.
const USAGE: &str = "\
fixture: a controllable child for rsupervisor's end-to-end tests

USAGE: fixture [FLAGS]
       fixture --http-request SOCKET   send the raw HTTP request read from stdin to the unix
                                       socket SOCKET, copy the response to stdout until the
                                       server closes (30 s limit); a client the tests can run
                                       as another user

Actions run in this order, whatever the order on the command line:
  1. --pidfile PATH              write own pid (decimal, newline) to PATH
  2. signal setup                --ignore-sigterm / --exit-on-signal N
  3. --fail-until-count PATH N   read the counter in PATH (missing = 0), add 1, write it back;
                                 exit 1 if the new count is < N, else keep going
                                 (so N=3 fails twice, then succeeds on the third run)
  4. --dump-env PATH             write the environment as KEY=VALUE lines (sorted)
     --dump-cwd PATH             write the working directory (newline-terminated)
     --dump-umask PATH           write the umask in octal, e.g. 0022 (newline-terminated)
     --dump-uid PATH             write 'uid=N\\ngid=N\\neuid=N\\negid=N\\n'
  5. --fork-grandchild PATH      start a grandchild (same process group, default signal
                                 dispositions, stdio on /dev/null) that sleeps forever;
                                 write its pid to PATH
  5b. --listen PORT              accept TCP connections on 127.0.0.1:PORT and close them
     --accept-stdin             stdin is a listening socket (an fcgi-program's): accept
                                connections on it, answer each 'pid N' and a newline, close
     --http PORT                serve HTTP on 127.0.0.1:PORT: every request gets 200 'ok'
     --http-hang-after N        with --http: answer the first N requests, then read and
                                hold every later one without answering
     --http-count PATH          with --http: write the number of requests seen so far to
                                PATH.<pid> after each request
     --detached-grandchild PATH  start a grandchild through an intermediate that calls setsid()
                                 and exits (a double-forked daemon: own session, own process
                                 group, parent gone); write its pid to PATH
     --fork-children N PATH      start N sleeping children (stdio on /dev/null), stopping at the
                                 first failure; write 'started=K' (and 'error=...') to PATH
     --alloc SIZE                allocate SIZE bytes and touch every page (kept until exit)
     --busy                      spin one thread on the CPU forever
  6. --print TEXT                write TEXT and a newline to stdout   (repeatable; these two
     --eprint TEXT               write TEXT and a newline to stderr    keep command-line order)
  7. --spew SIZE                 write SIZE bytes of the spew pattern to stdout in 64 KiB writes
     --spew-stderr SIZE          the same on stderr (after --spew)
  8. --echo-stdin                copy stdin lines to stdout until EOF
  9. --after DURATION            wait this long (TERM handling stays active)
 9b. --late-print TEXT           write TEXT and a newline to stdout (after --after)
 10. --exit-code N               exit with N; without it, run until signalled (--sleep)

Other flags:
  --sleep                        run until signalled (the default without --exit-code)
  --ignore-sigterm               trap TERM and keep running; print 'ignored SIGTERM' each time
  --exit-on-signal N             trap TERM and exit with code N
  --help                         print this text

SIZE is bytes with an optional suffix: K/KB/KiB (1024), M/MB/MiB (1048576).
DURATION is milliseconds, or a number with suffix ms or s (e.g. 200, 200ms, 2s).
The spew pattern is the concatenation of lines format!(\"{:012}\\n\", i) for i = 0, 1, 2, ...
truncated to SIZE bytes (see rsupervisor_e2e::spew).
";

/// Size of each raw write for `--spew`.
const SPEW_CHUNK: usize = 64 * 1024;

/// What to do when SIGTERM arrives (without either flag, the default disposition kills us).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermAction {
    /// Print `ignored SIGTERM` and keep running.
    Ignore,
    /// Exit with this code.
    Exit(i32),
}

/// Which standard stream a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The parsed command line.
#[derive(Debug, Default)]
struct Options {
    /// `--pidfile`.
    pidfile: Option<PathBuf>,
    /// `--ignore-sigterm` / `--exit-on-signal`.
    term: Option<TermAction>,
    /// `--fail-until-count PATH N`.
    fail_until: Option<(PathBuf, u64)>,
    /// `--dump-env`.
    dump_env: Option<PathBuf>,
    /// `--dump-cwd`.
    dump_cwd: Option<PathBuf>,
    /// `--dump-umask`.
    dump_umask: Option<PathBuf>,
    /// `--dump-uid`.
    dump_uid: Option<PathBuf>,
    /// `--fork-grandchild`.
    grandchild: Option<PathBuf>,
    /// `--print` / `--eprint`, in command-line order.
    messages: Vec<(Stream, String)>,
    /// `--spew`.
    spew: Option<u64>,
    /// `--spew-stderr`.
    spew_stderr: Option<u64>,
    /// `--echo-stdin`.
    echo_stdin: bool,
    /// `--after`.
    after: Option<Duration>,
    /// `--exit-code`.
    exit_code: Option<i32>,
    /// `--sleep`.
    sleep: bool,
    /// `--listen`.
    listen: Option<u16>,
    /// `--accept-stdin`.
    accept_stdin: bool,
    /// `--http`.
    http: Option<u16>,
    /// `--http-hang-after`.
    http_hang_after: Option<u64>,
    /// `--http-count`.
    http_count: Option<PathBuf>,
    /// `--late-print`.
    late_print: Option<String>,
    /// `--detached-grandchild`.
    detached: Option<PathBuf>,
    /// Hidden `--detach PATH`: the intermediate of `--detached-grandchild`.
    detach: Option<PathBuf>,
    /// `--fork-children N PATH`.
    fork_children: Option<(u32, PathBuf)>,
    /// `--alloc`.
    alloc: Option<u64>,
    /// `--busy`.
    busy: bool,
    /// Hidden `--grandchild-sleep`: the body of the grandchild started by `--fork-grandchild`.
    grandchild_sleep: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, socket] = args.as_slice() {
        if flag == "--http-request" {
            return match http_request(socket) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("fixture: --http-request {socket}: {error}");
                    ExitCode::from(70)
                }
            };
        }
    }
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fixture: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(code) => finish(code),
        Err(message) => {
            eprintln!("fixture: {message}");
            finish(70)
        }
    }
}

/// `--http-request SOCKET`: stdin to the socket, the answer to stdout.
fn http_request(socket: &str) -> std::io::Result<()> {
    use std::io::Read;
    let mut request = Vec::new();
    std::io::stdin().read_to_end(&mut request)?;
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(&request)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    std::io::stdout().write_all(&response)?;
    std::io::stdout().flush()
}

/// Flushes both streams and exits with `code`.
///
/// `std::process::exit` is used (rather than returning an `ExitCode`) so that the signal thread
/// can share this exit path.
fn finish(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

/// Parses the command line; `Ok(None)` means `--help`.
fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--print" => options.messages.push((Stream::Stdout, value(flag)?)),
            "--eprint" => options.messages.push((Stream::Stderr, value(flag)?)),
            "--spew" => options.spew = Some(parse_size(&value(flag)?)?),
            "--spew-stderr" => options.spew_stderr = Some(parse_size(&value(flag)?)?),
            "--exit-code" => options.exit_code = Some(parse_number(flag, &value(flag)?)?),
            "--after" => options.after = Some(parse_duration(&value(flag)?)?),
            "--sleep" => options.sleep = true,
            "--ignore-sigterm" => set_term(&mut options, TermAction::Ignore)?,
            "--exit-on-signal" => {
                let code = parse_number(flag, &value(flag)?)?;
                set_term(&mut options, TermAction::Exit(code))?;
            }
            "--pidfile" => options.pidfile = Some(value(flag)?.into()),
            "--fork-grandchild" => options.grandchild = Some(value(flag)?.into()),
            "--fail-until-count" => {
                let path = value(flag)?;
                let count = parse_number(flag, &value(flag)?)?;
                options.fail_until = Some((path.into(), count));
            }
            "--dump-env" => options.dump_env = Some(value(flag)?.into()),
            "--dump-cwd" => options.dump_cwd = Some(value(flag)?.into()),
            "--dump-umask" => options.dump_umask = Some(value(flag)?.into()),
            "--dump-uid" => options.dump_uid = Some(value(flag)?.into()),
            "--echo-stdin" => options.echo_stdin = true,
            "--listen" => options.listen = Some(parse_number(flag, &value(flag)?)?),
            "--accept-stdin" => options.accept_stdin = true,
            "--http" => options.http = Some(parse_number(flag, &value(flag)?)?),
            "--http-hang-after" => {
                options.http_hang_after = Some(parse_number(flag, &value(flag)?)?)
            }
            "--http-count" => options.http_count = Some(value(flag)?.into()),
            "--late-print" => options.late_print = Some(value(flag)?),
            "--grandchild-sleep" => options.grandchild_sleep = true,
            "--detached-grandchild" => options.detached = Some(value(flag)?.into()),
            "--detach" => options.detach = Some(value(flag)?.into()),
            "--fork-children" => {
                let count = parse_number(flag, &value(flag)?)?;
                options.fork_children = Some((count, value(flag)?.into()));
            }
            "--alloc" => options.alloc = Some(parse_size(&value(flag)?)?),
            "--busy" => options.busy = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.sleep && options.exit_code.is_some() {
        return Err("--sleep and --exit-code contradict each other".to_owned());
    }
    Ok(Some(options))
}

/// Records the TERM behaviour, rejecting two contradicting flags.
fn set_term(options: &mut Options, action: TermAction) -> Result<(), String> {
    if options.term.is_some() {
        return Err("--ignore-sigterm and --exit-on-signal are mutually exclusive".to_owned());
    }
    options.term = Some(action);
    Ok(())
}

/// Parses a decimal number for `flag`.
fn parse_number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: {text:?} is not a valid number"))
}

/// Parses a byte count with an optional binary suffix (`K`, `KB`, `KiB`, `M`, `MB`, `MiB`).
fn parse_size(text: &str) -> Result<u64, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("size {text:?} does not start with a number"))?;
    let multiplier = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return Err(format!("size {text:?} has an unknown suffix {suffix:?}")),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} overflows"))
}

/// Parses milliseconds (`200`, `200ms`) or seconds (`2s`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (digits, unit_ms) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000)
    } else {
        (text, 1)
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("duration {text:?} is not a number of ms or s"))?;
    Ok(Duration::from_millis(number.saturating_mul(unit_ms)))
}

/// Runs the actions in the documented order and returns the exit code.
fn run(options: &Options) -> Result<i32, String> {
    if options.grandchild_sleep {
        sleep_forever();
    }
    if let Some(path) = &options.detach {
        // The intermediate of a double fork: a session of its own, a child, and gone.
        nix::unistd::setsid().map_err(|e| format!("setsid: {e}"))?;
        let pid = start_grandchild()?;
        write_file(path, &format!("{pid}\n"))?;
        return Ok(0);
    }
    if let Some(path) = &options.pidfile {
        write_file(path, &format!("{}\n", std::process::id()))?;
    }
    if let Some(action) = options.term {
        install_term_handler(action)?;
    }
    if let Some((path, needed)) = &options.fail_until {
        let count = bump_counter(path)?;
        if count < *needed {
            println!("fail-until-count: run {count} of {needed}, failing");
            return Ok(1);
        }
        println!("fail-until-count: run {count} of {needed}, succeeding");
    }
    dump_process_context(options)?;
    if let Some(path) = &options.grandchild {
        let pid = start_grandchild()?;
        write_file(path, &format!("{pid}\n"))?;
    }
    if let Some(port) = options.listen {
        listen(port)?;
    }
    if options.accept_stdin {
        accept_stdin()?;
    }
    if let Some(port) = options.http {
        serve_http(port, options.http_hang_after, options.http_count.clone())?;
    }
    if let Some(path) = &options.detached {
        let tmp = path.with_extension("tmp");
        let exe = std::env::current_exe().map_err(|e| format!("locating own binary: {e}"))?;
        let status = std::process::Command::new(exe)
            .arg("--detach")
            .arg(&tmp)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("starting the intermediate: {e}"))?;
        if !status.success() {
            return Err(format!("the intermediate failed: {status}"));
        }
        // Renamed into place only once complete, for tests that wait for the file.
        std::fs::rename(&tmp, path).map_err(|e| format!("renaming {}: {e}", tmp.display()))?;
    }
    if let Some((count, path)) = &options.fork_children {
        let mut started = 0;
        let mut error = None;
        for _ in 0..*count {
            match start_grandchild() {
                Ok(_) => started += 1,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let mut text = format!("started={started}\n");
        if let Some(error) = error {
            text.push_str(&format!("error={error}\n"));
        }
        write_file(path, &text)?;
    }
    if let Some(bytes) = options.alloc {
        let size = usize::try_from(bytes).map_err(|_| "--alloc: too large".to_owned())?;
        let mut memory = vec![0u8; size];
        // Touch every page so it is really charged, not just reserved.
        for page in memory.chunks_mut(4096) {
            page[0] = 1;
        }
        println!("allocated {bytes} bytes");
        std::mem::forget(memory);
    }
    if options.busy {
        thread::Builder::new()
            .name("busy".to_owned())
            .spawn(|| {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
            .map_err(|e| format!("starting the busy thread: {e}"))?;
    }
    for (stream, text) in &options.messages {
        match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{text}").and_then(|()| out.flush())
            }
            Stream::Stderr => writeln!(std::io::stderr(), "{text}"),
        }
        .map_err(|e| format!("writing {stream:?}: {e}"))?;
    }
    if let Some(bytes) = options.spew {
        spew_to(std::io::stdout(), bytes)?;
    }
    if let Some(bytes) = options.spew_stderr {
        spew_to(std::io::stderr(), bytes)?;
    }
    if options.echo_stdin {
        echo_stdin()?;
    }
    if let Some(delay) = options.after {
        thread::sleep(delay);
    }
    if let Some(text) = &options.late_print {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing stdout: {e}"))?;
    }
    match options.exit_code {
        Some(code) => Ok(code),
        None => sleep_forever(),
    }
}

/// `--listen`: a thread accepting and closing connections on 127.0.0.1:`port`.
fn listen(port: u16) -> Result<(), String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("listening on 127.0.0.1:{port}: {e}"))?;
    thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    Ok(())
}

/// `--accept-stdin`: a thread accepting connections on fd 0 (TCP or unix) and answering
/// each with its pid.
fn accept_stdin() -> Result<(), String> {
    use nix::sys::socket::{
        getsockname, getsockopt, sockopt, AddressFamily, SockaddrLike, SockaddrStorage,
    };
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    // Fails at once (ENOTSOCK, EINVAL) when stdin is not a listening socket.
    let listening = getsockopt(&stdin, sockopt::AcceptConn)
        .map_err(|e| format!("stdin is not a socket: {e}"))?;
    if !listening {
        return Err("stdin is a socket that does not listen".to_owned());
    }
    let family = getsockname::<SockaddrStorage>(0)
        .map_err(|e| format!("stdin's address: {e}"))?
        .family();
    let fd = stdin
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("duplicating stdin: {e}"))?;
    let answer = |stream: &mut dyn Write| {
        let _ = writeln!(stream, "pid {}", std::process::id());
    };
    if family == Some(AddressFamily::Unix) {
        let listener = std::os::unix::net::UnixListener::from(fd);
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                answer(&mut stream);
            }
        });
    } else {
        let listener = std::net::TcpListener::from(fd);
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                answer(&mut stream);
            }
        });
    }
    Ok(())
}

/// `--http`: a thread answering each request on 127.0.0.1:`port` with 200 `ok` (one
/// connection at a time), or holding it unanswered after `hang_after` requests.
fn serve_http(port: u16, hang_after: Option<u64>, count: Option<PathBuf>) -> Result<(), String> {
    use std::io::Read;
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("serving HTTP on 127.0.0.1:{port}: {e}"))?;
    let count_file = count.map(|path| {
        let mut name = path.into_os_string();
        name.push(format!(".{}", std::process::id()));
        PathBuf::from(name)
    });
    thread::spawn(move || {
        let mut seen = 0u64;
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the request head (up to the blank line).
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            seen += 1;
            if let Some(path) = &count_file {
                let _ = std::fs::write(path, format!("{seen}\n"));
            }
            if hang_after.is_some_and(|n| seen > n) {
                held.push(stream); // never answered
                continue;
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    Ok(())
}

/// Parks the main thread until a signal ends the process.
fn sleep_forever() -> ! {
    loop {
        thread::park();
    }
}

/// Writes `contents` to `path`, naming the path on failure.
fn write_file(path: &std::path::Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Installs the TERM handler on a dedicated thread (signal-hook's self-pipe iterator).
fn install_term_handler(action: TermAction) -> Result<(), String> {
    let mut signals =
        Signals::new([SIGTERM]).map_err(|e| format!("installing the SIGTERM handler: {e}"))?;
    thread::Builder::new()
        .name("sigterm".to_owned())
        .spawn(move || {
            for _ in signals.forever() {
                match action {
                    TermAction::Ignore => {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "ignored SIGTERM");
                        let _ = out.flush();
                    }
                    TermAction::Exit(code) => finish(code),
                }
            }
        })
        .map_err(|e| format!("starting the signal thread: {e}"))?;
    Ok(())
}

/// Increments the counter stored in `path` and returns the new value.
fn bump_counter(path: &std::path::Path) -> Result<u64, String> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|e| format!("counter file {} is corrupt: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let next = current + 1;
    write_file(path, &format!("{next}\n"))?;
    Ok(next)
}

/// Handles the `--dump-*` flags.
fn dump_process_context(options: &Options) -> Result<(), String> {
    if let Some(path) = &options.dump_env {
        let mut vars: Vec<String> = std::env::vars_os()
            .map(|(k, v)| format!("{}={}\n", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        vars.sort();
        write_file(path, &vars.concat())?;
    }
    if let Some(path) = &options.dump_cwd {
        let cwd = std::env::current_dir().map_err(|e| format!("reading the cwd: {e}"))?;
        write_file(path, &format!("{}\n", cwd.display()))?;
    }
    if let Some(path) = &options.dump_umask {
        use nix::sys::stat::{umask, Mode};
        // umask can only be read by setting it; put the old value straight back.
        let old = umask(Mode::empty());
        umask(old);
        write_file(path, &format!("{:04o}\n", old.bits()))?;
    }
    if let Some(path) = &options.dump_uid {
        use nix::unistd::{getegid, geteuid, getgid, getuid};
        let text = format!(
            "uid={}\ngid={}\neuid={}\negid={}\n",
            getuid(),
            getgid(),
            geteuid(),
            getegid()
        );
        write_file(path, &text)?;
    }
    Ok(())
}

/// Starts a grandchild (this binary with `--grandchild-sleep`) and returns its pid.
///
/// Re-executing ourselves avoids `fork` (which is `unsafe`); the effect is the same: a process in
/// our process group with default signal dispositions. Its stdio is /dev/null so it does not hold
/// the supervisor's log pipes open after we die.
fn start_grandchild() -> Result<u32, String> {
    let exe = std::env::current_exe().map_err(|e| format!("locating own binary: {e}"))?;
    let child = std::process::Command::new(exe)
        .arg("--grandchild-sleep")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the grandchild: {e}"))?;
    // The Child handle is dropped without waiting: the grandchild must outlive the checks.
    Ok(child.id())
}

/// Writes `bytes` of the spew pattern to `stream` in raw 64 KiB writes.
fn spew_to<S: std::os::fd::AsFd + Write>(mut stream: S, bytes: u64) -> Result<(), String> {
    // Anything buffered by std goes first, so the order on the fd matches the action order.
    stream
        .flush()
        .map_err(|e| format!("flushing before spew: {e}"))?;
    let mut offset = 0u64;
    while offset < bytes {
        let len = usize::try_from((bytes - offset).min(SPEW_CHUNK as u64))
            .expect("invariant: a chunk is at most 64 KiB");
        let chunk = spew::pattern(offset, len);
        write_all_raw(&stream, &chunk)?;
        offset += len as u64;
    }
    Ok(())
}

/// Writes all of `buf` to `fd` with raw `write(2)` calls, retrying on EINTR and partial writes.
fn write_all_raw<F: std::os::fd::AsFd>(fd: &F, mut buf: &[u8]) -> Result<(), String> {
    while !buf.is_empty() {
        match nix::unistd::write(fd.as_fd(), buf) {
            Ok(0) => return Err("spew: write returned 0".to_owned()),
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("spew: write failed: {e}")),
        }
    }
    Ok(())
}

/// Copies stdin to stdout line by line, flushing each line, until EOF.
fn echo_stdin() -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        line.clear();
        let read = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading stdin: {e}"))?;
        if read == 0 {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("echoing stdin: {e}"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_binary_suffixes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("1M"), Ok(1024 * 1024));
        assert!(parse_size("1GiB").is_err());
        assert!(parse_size("KiB").is_err());
    }

    #[test]
    fn durations_accept_ms_and_s() {
        assert_eq!(parse_duration("200"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("2m").is_err());
    }

    #[test]
    fn contradicting_flags_are_rejected() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(parse_args(&args(&["--sleep", "--exit-code", "1"])).is_err());
        assert!(parse_args(&args(&["--ignore-sigterm", "--exit-on-signal", "3"])).is_err());
        assert!(parse_args(&args(&["--print"])).is_err());
        assert!(matches!(parse_args(&args(&["--help"])), Ok(None)));
    }
}
