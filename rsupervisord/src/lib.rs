//! rsupervisord: a supervisord-compatible process supervisor daemon, as a library.
//!
//! Module map:
//! - [`cli`]: the command line;
//! - [`supervisor`]: the actor that owns every process, and its pure state machine;
//! - [`spawn`], [`command_line`] and [`environment`]: starting one child as supervisord
//!   does, and the layers of its environment;
//! - [`logs`]: child-output pumps, rotating log files, followers, log reading and the
//!   daemon's main log;
//! - [`rpc`]: the API core (the JSON-RPC method set every surface dispatches to);
//! - [`http`], [`xmlrpc`] and [`server`]: the one HTTP stack serving JSON-RPC, XML-RPC and
//!   the log tails, supervisord's XML-RPC mapping, and binding the sockets;
//! - [`probe`]: health-check and `wait_for` probes (HTTP, TCP, exec, file);
//! - [`signals`], [`pidfile`], [`limits`]: the daemon's process-level duties;
//! - [`cgroup`]: one cgroup per process (limits, accounting, containment);
//! - [`sys`]: the audited libc calls (local time, syslog, daemonizing).
//!
//! [`main_entry`] is the whole daemon; `main.rs` only calls it.

pub mod access;
pub mod cgroup;
pub mod cli;
pub mod command_line;
pub mod environment;
pub mod events;
pub mod fcgi;
pub mod http;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod pidfile;
pub mod probe;
pub mod rest;
pub mod rpc;
pub mod server;
pub mod signals;
pub mod spawn;
pub mod supervisor;
pub mod sys;
pub mod xmlrpc;

use rsupervisor_config::{Config, LoadOptions, LogLevel};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// supervisord's usage-error exit status.
const EXIT_USAGE: u8 = 2;

/// Prints a startup error the way supervisord does and returns its exit status.
fn fail(message: &str) -> ExitCode {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "rsupervisord".to_owned());
    for line in message.lines() {
        eprintln!("Error: {line}");
    }
    eprintln!("For help, use {argv0} -h");
    ExitCode::from(EXIT_USAGE)
}

/// Runs the daemon from the command line; returns the process exit status.
pub fn main_entry() -> ExitCode {
    let args = cli::parse();
    if args.version {
        // supervisord -v prints the bare version number.
        println!("{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    match cli::generate(&args, &mut std::io::stdout().lock()) {
        Ok(true) => return ExitCode::SUCCESS,
        Ok(false) => {}
        Err(error) => return fail(&format!("cannot write to stdout: {error}")),
    }
    let options = LoadOptions::from_process();
    let path = match &args.configuration {
        Some(path) => path.clone(),
        None => {
            let argv0 = PathBuf::from(std::env::args().next().unwrap_or_default());
            match rsupervisor_config::find_config_file(&argv0) {
                Ok(path) => path,
                Err(errors) => return fail(&errors.to_string()),
            }
        }
    };
    if !path.exists() {
        return fail(&format!("could not find config file {}", path.display()));
    }
    let mut config = match rsupervisor_config::load(&path, &options) {
        Ok(config) => config,
        Err(errors) => return fail(&errors.to_string()),
    };
    let (check, json) = (args.check, args.json);
    let overrides = match args.apply(&mut config) {
        Ok(overrides) => overrides,
        Err(message) => return fail(&message),
    };
    if check {
        for warning in &config.unknown_keys {
            eprintln!("warning: {warning}");
        }
        if json {
            println!("{}", rsupervisor_config::to_json(&config));
        } else {
            print!("{}", rsupervisor_config::summary(&config));
        }
        return ExitCode::SUCCESS;
    }
    match start(config, options, overrides) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// Everything before the runtime: limits, privileges, AUTO log cleanup, the socket, and
/// daemonizing; errors here reach the operator's terminal.
fn start(config: Config, options: LoadOptions, overrides: cli::Overrides) -> Result<(), String> {
    let mut notes = limits::raise(&config.supervisord)?;
    drop_privileges(&config, &mut notes)?;
    if let Some(warning) = supervisor::clean_auto_logs(&config.supervisord) {
        notes.push((LogLevel::Warn, warning));
    }
    let listener = match &config.unix_http_server {
        Some(server) => {
            let (listener, note) =
                server::bind(server, &config.supervisord.pidfile).map_err(|e| e.to_string())?;
            if let Some(note) = note {
                notes.push((LogLevel::Info, note));
            }
            Some(listener)
        }
        None => None,
    };
    // As supervisord's make_http_servers, each server says "RPC interface 'supervisor'
    // initialized" and, without a username, that it checks no authentication: after the
    // startup messages, before daemonizing, [inet_http_server] first, and again on reload.
    let mut server_notes = Vec::new();
    let mut unix_notes = Vec::new();
    let mut listeners = Vec::new();
    if let Some(listener) = listener {
        let credentials = config.unix_http_server.as_ref().and_then(|server| {
            http::auth::Credentials::from_config(
                server.username.as_deref(),
                server.password.as_deref(),
            )
        });
        unix_notes = server_startup_notes("unix_http_server", credentials.is_none());
        listeners.push(http::Listener {
            socket: http::Socket::Unix(listener),
            credentials,
            policy: access::Policy::new(
                config
                    .unix_http_server
                    .as_ref()
                    .map(|server| server.access.clone())
                    .unwrap_or_default(),
            ),
        });
    }
    if let Some(server) = &config.inet_http_server {
        let listener = server::bind_tcp(server).map_err(|e| e.to_string())?;
        let credentials = http::auth::Credentials::from_config(
            server.username.as_deref(),
            server.password.as_deref(),
        );
        server_notes.extend(server_startup_notes(
            "inet_http_server",
            credentials.is_none(),
        ));
        listeners.push(http::Listener {
            socket: http::Socket::Tcp(listener),
            credentials,
            policy: access::Policy::new(server.access.clone()),
        });
    }
    server_notes.extend(unix_notes);
    // As supervisord when it adds an fcgi group: each socket is created and closed once, so
    // a port in use or a bad path stops the daemon before anything runs.
    for group in &config.groups {
        if let Some(socket) = &group.fcgi_socket {
            notes.push((LogLevel::Info, format!("Creating socket {}", socket.url)));
            drop(fcgi::bind(socket).map_err(|error| fcgi::failure(&group.name, socket, &error))?);
            notes.push((LogLevel::Info, format!("Closing socket {}", socket.url)));
        }
    }
    let mut later = server_notes.clone();
    if !config.supervisord.nodaemon {
        later.push((
            LogLevel::Info,
            "daemonizing the supervisord process".to_owned(),
        ));
        sys::daemonize(
            config.supervisord.directory.as_deref(),
            config.supervisord.umask,
        )
        .map_err(|error| format!("could not daemonize: {error}"))?;
    }
    // After daemonizing: the daemon's cgroup directories carry its final pid.
    let (cgroups, cgroup_notes) = cgroup::Cgroups::detect(config.supervisord.cgroups);
    later.extend(cgroup_notes.into_iter().map(|note| (LogLevel::Info, note)));
    let cgroups = Arc::new(cgroups);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rsupervisord")
        .build()
        .map_err(|error| format!("could not start the async runtime: {error}"))?;
    // The log pumps get threads of their own (see logs::pump): however much the children
    // write, the actor, the signals and the control socket keep theirs.
    let pump_threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let pump_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(pump_threads)
        .thread_name("rsupervisord-log")
        .build()
        .map_err(|error| format!("could not start the log runtime: {error}"))?;
    let pumps = logs::Pumps::new(pump_runtime.handle().clone());
    let daemon = Daemon {
        listeners,
        notes,
        later,
        server_notes,
        pumps,
        cgroups,
    };
    runtime.block_on(run(config, options, overrides, daemon))
}

/// How long an exiting daemon waits for the last output of its programs to reach the logs.
const PUMP_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// supervisord's warning, at every start and reload, when it runs as root without `user=`.
pub(crate) const ROOT_WARNING: &str = "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.";

/// What supervisord logs as it makes a control server (`section`: its config section).
fn server_startup_notes(section: &str, anonymous: bool) -> Vec<(LogLevel, String)> {
    let mut notes = vec![(
        LogLevel::Info,
        "RPC interface 'supervisor' initialized".to_owned(),
    )];
    if anonymous {
        notes.push((
            LogLevel::Critical,
            format!("Server '{section}' running without any HTTP authentication checking"),
        ));
    }
    notes
}

/// `[supervisord] user=`: switch to that user when started as root.
fn drop_privileges(config: &Config, notes: &mut Vec<(LogLevel, String)>) -> Result<(), String> {
    let current = nix::unistd::Uid::current();
    match &config.supervisord.user {
        None => {
            if current.is_root() {
                notes.push((LogLevel::Critical, ROOT_WARNING.to_owned()));
            }
            Ok(())
        }
        Some(user) if user.uid == current.as_raw() => Ok(()),
        Some(_) if !current.is_root() => Err("Can't drop privilege as nonroot user".to_owned()),
        Some(user) => {
            let name = std::ffi::CString::new(user.name.clone())
                .map_err(|_| format!("invalid user name {:?}", user.name))?;
            let gid = nix::unistd::Gid::from_raw(user.gid);
            nix::unistd::initgroups(&name, gid)
                .and_then(|()| nix::unistd::setgid(gid))
                .and_then(|()| nix::unistd::setuid(nix::unistd::Uid::from_raw(user.uid)))
                .map_err(|errno| format!("could not switch to user {}: {errno}", user.name))?;
            notes.push((
                LogLevel::Info,
                format!("Set uid to user {} succeeded", user.uid),
            ));
            Ok(())
        }
    }
}

/// What `start` prepared for the daemon proper.
struct Daemon {
    listeners: Vec<http::Listener>,
    /// Startup messages, logged with the configuration's by level (CRIT first).
    notes: Vec<(LogLevel, String)>,
    /// Logged after those, in this order: the servers', daemonizing, cgroups.
    later: Vec<(LogLevel, String)>,
    /// The servers' startup messages, logged again on every reload.
    server_notes: Vec<(LogLevel, String)>,
    pumps: logs::Pumps,
    cgroups: Arc<cgroup::Cgroups>,
}

/// The daemon proper: main log, pidfile, supervisor actor, signals and control socket.
async fn run(
    config: Config,
    load_options: LoadOptions,
    overrides: cli::Overrides,
    daemon: Daemon,
) -> Result<(), String> {
    let Daemon {
        listeners,
        notes,
        later,
        server_notes,
        pumps,
        cgroups,
    } = daemon;
    let settings = &config.supervisord;
    let hub = logs::LogHub::new();
    let main_log = logs::MainLog::open(
        &settings.logfile,
        settings.logfile_maxbytes,
        settings.logfile_backups,
        settings.loglevel,
        settings.nodaemon && !settings.silent,
        hub.clone(),
    )
    .map(|log| log.with_format(settings.logfile_format))
    .map_err(|error| {
        format!(
            "could not open the main log {:?}: {error}",
            settings.logfile
        )
    })?;
    let main_log = Arc::new(main_log);
    // supervisord writes queued parse messages CRIT first, then WARN, then INFO.
    let mut messages: Vec<(LogLevel, String)> = config
        .messages
        .iter()
        .map(|m| (m.level, m.text.clone()))
        .chain(notes)
        .collect();
    messages.sort_by_key(|(level, _)| std::cmp::Reverse(*level));
    for (level, text) in messages.iter().chain(&later) {
        main_log.log(*level, text);
    }
    let pidfile = match pidfile::PidFile::write(&settings.pidfile) {
        Ok(pidfile) => Some(pidfile),
        Err(error) => {
            main_log.log(
                LogLevel::Critical,
                &format!(
                    "could not write pidfile {}: {error}",
                    settings.pidfile.display()
                ),
            );
            None
        }
    };
    let socket_path: Option<PathBuf> = config.unix_http_server.as_ref().map(|s| s.file.clone());
    // supervisord's AUTO serverurl: the first unix server, else the first inet server.
    let server_url = match (&socket_path, &config.inet_http_server) {
        (Some(path), _) => Some(format!("unix://{}", path.display())),
        (None, Some(inet)) => Some(format!(
            "http://{}:{}",
            match inet.host.as_str() {
                "" | "*" => "localhost",
                host => host,
            },
            inet.port
        )),
        (None, None) => None,
    };
    let (state_changes, _) = tokio::sync::broadcast::channel(1024);
    let identifier = settings.identifier.clone();
    let services = supervisor::Services {
        main_log: main_log.clone(),
        hub: hub.clone(),
        state_changes: state_changes.clone(),
        load_options,
        overrides,
        server_url,
        pumps: pumps.clone(),
        cgroups: cgroups.clone(),
        server_notes,
    };
    let followers = hub.clone();
    let audit = match &settings.audit {
        Some(audit) => Some(
            access::AuditLog::open(
                &audit.path,
                audit.maxbytes,
                audit.backups,
                hub.clone(),
                main_log.clone(),
            )
            .map_err(|error| {
                format!(
                    "could not open the audit log {}: {error}",
                    audit.path.display()
                )
            })?,
        ),
        None => None,
    };
    let gate = access::Gate::new(audit);
    let (actor, handle) = supervisor::Supervisor::new(config, services);
    signals::forward(handle.clone(), gate.clone())
        .map_err(|error| format!("could not install signal handlers: {error}"))?;
    let server = if listeners.is_empty() {
        None
    } else {
        let (rpc, methods) = rpc::RpcHandler::build(
            handle.clone(),
            hub,
            main_log.clone(),
            identifier,
            state_changes,
            gate.clone(),
        );
        let server = http::serve(listeners, http::Api::new(rpc, methods, gate))
            .map_err(|error| format!("could not serve the control socket: {error}"))?;
        Some(server)
    };
    main_log.log(
        LogLevel::Info,
        &format!("supervisord started with pid {}", std::process::id()),
    );
    actor.run().await;
    // Every program has stopped and its cgroup was ended; remove the directories (and kill
    // anything a program left running outside a stop, as a daemon exit leaves nothing).
    tokio::task::block_in_place(|| cgroups.tear_down(PUMP_DRAIN_LIMIT));
    let still_open = pumps.drain(PUMP_DRAIN_LIMIT).await;
    if still_open > 0 {
        main_log.log(
            LogLevel::Warn,
            &format!(
                "{still_open} program output pipe(s) still open at exit, held by processes \
                 outside the programs' process groups; output written to them from now on \
                 is not logged"
            ),
        );
    }
    // Followers (`tail -f`, `maintail -f`) end only now, after the last output and the
    // exit messages are in the logs.
    followers.close_all();
    if let Some(server) = server {
        let _ = server.stop();
        server.stopped().await;
    }
    if let Some(path) = socket_path {
        remove_socket(&path);
    }
    drop(pidfile);
    Ok(())
}

fn remove_socket(path: &Path) {
    let _ = std::fs::remove_file(path);
}
