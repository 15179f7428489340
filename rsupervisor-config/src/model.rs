//! The typed, validated configuration: what the rest of rsupervisor consumes.
//!
//! Every value here has already been %-expanded, converted to its type and checked, with
//! supervisord 4.3.0's defaults filled in. Types derive `PartialEq` so that `reread` can tell
//! which process groups changed, and `Serialize` so that `rsupervisord --check --json` can print
//! the effective configuration.

use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// The whole effective configuration, loaded from the main file and everything it includes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Absolute path of the main configuration file.
    pub path: PathBuf,
    /// Every file that was read, main file first, in reading order.
    pub files: Vec<PathBuf>,
    /// The `[supervisord]` section.
    pub supervisord: SupervisordConfig,
    /// The `[unix_http_server]` section, if present.
    pub unix_http_server: Option<UnixHttpServerConfig>,
    /// The `[inet_http_server]` section, if present (parsed; served in a later release).
    pub inet_http_server: Option<InetHttpServerConfig>,
    /// The `[supervisorctl]` section, if present.
    pub supervisorctl: Option<SupervisorctlConfig>,
    /// Process groups, sorted by (priority, name) as supervisord orders them.
    pub groups: Vec<GroupConfig>,
    /// Messages found while parsing, to be written to the main log once it is open
    /// (supervisord queues the same ones: include notices, AUTO-without-rotation warnings, ...).
    #[serde(skip)]
    pub messages: Vec<ParseMessage>,
    /// Keys of process sections that nobody reads, with the nearest known key (also in
    /// `messages`); `--check` prints them.
    #[serde(skip)]
    pub unknown_keys: Vec<String>,
}

/// A log line produced while parsing, written to the main log at startup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseMessage {
    /// Severity of the message.
    pub level: LogLevel,
    /// The message text, worded as supervisord words it.
    pub text: String,
}

/// Log levels, with supervisord's names and numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// BLAT (3).
    Blather,
    /// TRAC (5).
    Trace,
    /// DEBG (10).
    Debug,
    /// INFO (20).
    Info,
    /// WARN (30).
    Warn,
    /// ERRO (40).
    Error,
    /// CRIT (50).
    Critical,
}

impl LogLevel {
    /// The four-letter tag supervisord writes in its main log (`INFO`, `WARN`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            LogLevel::Blather => "BLAT",
            LogLevel::Trace => "TRAC",
            LogLevel::Debug => "DEBG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERRO",
            LogLevel::Critical => "CRIT",
        }
    }
}

/// Where the daemon's main log goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum MainLogTarget {
    /// A file (rotated by `logfile_maxbytes`/`logfile_backups`).
    File(PathBuf),
    /// `logfile=syslog`.
    Syslog,
}

/// The `[supervisord]` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupervisordConfig {
    /// `logfile`, default `$CWD/supervisord.log`.
    pub logfile: MainLogTarget,
    /// `logfile_maxbytes`, default 50MB; 0 disables rotation.
    pub logfile_maxbytes: u64,
    /// `logfile_backups`, default 10.
    pub logfile_backups: u32,
    /// `loglevel`, default info.
    pub loglevel: LogLevel,
    /// `pidfile`, default `$CWD/supervisord.pid`.
    pub pidfile: PathBuf,
    /// `umask`, default 0o022 (applied when daemonizing).
    pub umask: u32,
    /// `nodaemon`, default false.
    pub nodaemon: bool,
    /// `silent`, default false.
    pub silent: bool,
    /// `minfds`, default 1024.
    pub minfds: u64,
    /// `minprocs`, default 200.
    pub minprocs: u64,
    /// `nocleanup`, default false.
    pub nocleanup: bool,
    /// `childlogdir`, default the system temp dir.
    pub childlogdir: PathBuf,
    /// `user`, default none.
    pub user: Option<UserSpec>,
    /// `directory`, default none.
    pub directory: Option<PathBuf>,
    /// `status_report_interval` (rsupervisor's own, default off): write a status table to
    /// the main log this often.
    #[serde(serialize_with = "optional_seconds")]
    pub status_report_interval: Option<Duration>,
    /// `strip_ansi`, default false.
    pub strip_ansi: bool,
    /// `environment`, added to every child's environment.
    pub environment: Vec<(String, String)>,
    /// `env_file` (rsupervisor's own): files whose variables every child gets, below
    /// `environment`.
    pub env_files: Vec<EnvFile>,
    /// `identifier`, default `supervisor`.
    pub identifier: String,
    /// `logfile_format` (rsupervisor's own, default text): the main log's record format.
    pub logfile_format: MainLogFormat,
    /// `cgroups` (rsupervisor's own, default auto): whether programs get cgroups.
    #[serde(skip_serializing_if = "crate::resources::CgroupSetting::is_auto")]
    pub cgroups: crate::resources::CgroupSetting,
    /// `audit_logfile` (rsupervisor's own, default none): the audit trail of control actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::access::AuditLogConfig>,
}

/// `[supervisord] logfile_format`: how the main log writes its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MainLogFormat {
    /// supervisord's `YYYY-MM-DD HH:MM:SS,mmm LEVL message` lines.
    #[default]
    Text,
    /// One JSON object per record: `{"time":…,"level":…,"message":…}`.
    Json,
}

/// `stdout_log_format` / `stderr_log_format`: how a child's output is written to its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// The bytes as the program wrote them (supervisord's behaviour).
    #[default]
    Raw,
    /// Each line prefixed with the local time the daemon read it, as the main log writes it.
    Timestamped,
    /// One JSON object per line, with time, program, process, group, pid and stream.
    Json,
}

/// One `env_file` entry, as read when the configuration was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvFile {
    /// The file.
    pub path: PathBuf,
    /// Written `-path`: it may be missing.
    pub optional: bool,
    /// It existed when read.
    pub found: bool,
    /// Its variables, in file order.
    pub vars: Vec<(String, String)>,
}

/// A resolved user, from a name or a numeric uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSpec {
    /// The user name as found in the password database.
    pub name: String,
    /// Numeric user id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// The `[unix_http_server]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnixHttpServerConfig {
    /// `file`: absolute socket path.
    pub file: PathBuf,
    /// `chmod`, default 0o700.
    pub chmod: u32,
    /// `chown`: uid and optional gid.
    pub chown: Option<(u32, Option<u32>)>,
    /// `username`, if authentication is configured.
    pub username: Option<String>,
    /// `password` (plain or `{SHA}hex`).
    pub password: Option<String>,
    /// rsupervisor's access-control keys (see [`crate::access`]); not printed when unset.
    #[serde(skip_serializing_if = "crate::access::AccessConfig::is_unset")]
    pub access: crate::access::AccessConfig,
}

/// The `[inet_http_server]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InetHttpServerConfig {
    /// Host to listen on; empty means all interfaces.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `username`, if authentication is configured.
    pub username: Option<String>,
    /// `password` (plain or `{SHA}hex`).
    pub password: Option<String>,
    /// rsupervisor's access-control keys (see [`crate::access`]); not printed when unset.
    #[serde(skip_serializing_if = "crate::access::AccessConfig::is_unset")]
    pub access: crate::access::AccessConfig,
}

/// The `[supervisorctl]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisorctlConfig {
    /// `serverurl`, default `http://localhost:9001`; unix paths are made absolute.
    pub serverurl: String,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `prompt`, default `supervisor`.
    pub prompt: String,
    /// `history_file`.
    pub history_file: Option<PathBuf>,
}

/// What kind of section a process group came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    /// `[program:x]`: a homogeneous group of `numprocs` processes.
    Program,
    /// `[group:x]`: a heterogeneous group of programs.
    Group,
    /// `[eventlistener:x]`: a pool of event listeners (see [`ListenerConfig`]).
    EventListener,
    /// `[fcgi-program:x]`: a program group whose processes share one listening socket as
    /// their stdin (see [`FcgiSocket`]).
    FcgiProgram,
}

/// The listening socket of an `[fcgi-program:x]` group: created by the daemon before the
/// first process of the group is spawned, given to each process as its stdin (fd 0), closed
/// when the last one has exited, as supervisord's socket manager does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FcgiSocket {
    /// supervisord's name for it in the main log: `tcp://host:port` or `unix:///path`.
    pub url: String,
    /// Where it listens.
    pub address: FcgiAddress,
    /// `socket_backlog` (the `listen(2)` backlog); `None` for the system's maximum.
    pub backlog: Option<u32>,
}

/// Where an [`FcgiSocket`] listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FcgiAddress {
    /// `tcp://host:port` (host lower-cased, IPv4 as in supervisord).
    Tcp {
        /// Host name or address to bind.
        host: String,
        /// Port to bind.
        port: u16,
    },
    /// `unix:///path`, created afresh (an existing file is removed first).
    Unix {
        /// Absolute, normalized path.
        path: PathBuf,
        /// `socket_owner` as (uid, gid); gid `None` keeps the group. Defaults to the
        /// program's `user` when it differs from the daemon's.
        owner: Option<(u32, Option<u32>)>,
        /// `socket_mode` (default 0700).
        mode: u32,
    },
}

/// A process group: the unit that `reread`/`update`/`add`/`remove` work on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupConfig {
    /// Group name.
    pub name: String,
    /// Group priority (a program's own priority for `[program:x]`).
    pub priority: i64,
    /// Section kind that defined the group.
    pub kind: GroupKind,
    /// Processes, sorted by (priority, name).
    pub processes: Vec<std::sync::Arc<ProcessConfig>>,
    /// The pool's settings for an `[eventlistener:x]` group; `None` for the others.
    pub listener: Option<ListenerConfig>,
    /// The shared socket of an `[fcgi-program:x]` group; `None` (and left out of the JSON)
    /// for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcgi_socket: Option<FcgiSocket>,
}

/// What an `[eventlistener:x]` pool listens to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerConfig {
    /// `events`: the event type names, upper-cased, sorted, without duplicates. Abstract
    /// names (`PROCESS_STATE`, `EVENT`, ...) stand for all their subtypes.
    pub events: Vec<String>,
    /// `buffer_size`: events kept while no listener is ready (the oldest goes first).
    pub buffer_size: usize,
}

/// `autorestart` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoRestart {
    /// `false`: never restart.
    Never,
    /// `unexpected`: restart when the exit code is not in `exitcodes`.
    Unexpected,
    /// `true`: always restart.
    Always,
}

/// Where one output stream of a process is logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum LogFile {
    /// `NONE`/`OFF`: discarded.
    None,
    /// `AUTO`: a file in `childlogdir`, named when the group is added.
    Auto,
    /// An explicit path (may be a special file such as `/dev/stdout`).
    Path(PathBuf),
}

/// Logging settings of one output stream (`stdout_*` or `stderr_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamLogConfig {
    /// `*_logfile`, default AUTO.
    pub logfile: LogFile,
    /// `*_logfile_maxbytes`, default 50MB; 0 disables rotation.
    pub maxbytes: u64,
    /// `*_logfile_backups`, default 10.
    pub backups: u32,
    /// `*_capture_maxbytes`, default 0.
    pub capture_maxbytes: u64,
    /// `*_events_enabled`, default false.
    pub events_enabled: bool,
    /// `*_syslog`, default false.
    pub syslog: bool,
    /// `*_log_format` (rsupervisor's own), default raw.
    pub format: LogFormat,
}

/// A signal, as named in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignalSpec {
    /// Signal number.
    pub number: i32,
}

/// One process, fully expanded. `[program:x] numprocs=3` yields three of these.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessConfig {
    /// Process name (`process_name` expanded).
    pub name: String,
    /// Name of the group the process belongs to.
    pub group: String,
    /// Name of the `[program:x]` section it came from.
    pub program_name: String,
    /// `process_num` of this process.
    pub process_num: u32,
    /// `command`, expanded but not split.
    pub command: String,
    /// `directory`.
    pub directory: Option<PathBuf>,
    /// `environment` of the program (the global one is in `[supervisord]`).
    pub environment: Vec<(String, String)>,
    /// `env_file` of the program (rsupervisor's own), in order: below `environment`, above
    /// everything from `[supervisord]`.
    pub env_files: Vec<EnvFile>,
    /// `user`.
    pub user: Option<UserSpec>,
    /// `umask`.
    pub umask: Option<u32>,
    /// `priority`, default 999.
    pub priority: i64,
    /// `autostart`, default true.
    pub autostart: bool,
    /// `autorestart`, default unexpected.
    pub autorestart: AutoRestart,
    /// `exitcodes`, default `[0]`.
    pub exitcodes: Vec<i32>,
    /// `startsecs`, default 1.
    pub startsecs: u64,
    /// `startretries`, default 3.
    pub startretries: u32,
    /// `stopsignal`, default TERM.
    pub stopsignal: SignalSpec,
    /// `stopwaitsecs`, default 10.
    pub stopwaitsecs: u64,
    /// `stopasgroup`, default false.
    pub stopasgroup: bool,
    /// `killasgroup`, default `stopasgroup`.
    pub killasgroup: bool,
    /// `redirect_stderr`, default false.
    pub redirect_stderr: bool,
    /// stdout logging.
    pub stdout: StreamLogConfig,
    /// stderr logging (unused when `redirect_stderr`).
    pub stderr: StreamLogConfig,
    /// `serverurl`: `None` means AUTO.
    pub serverurl: Option<String>,
    /// The restart policy (`restart_*` keys, rsupervisor's own); the defaults are
    /// supervisord's behaviour.
    pub restart: RestartPolicy,
    /// The cgroup limits and rlimits (rsupervisor's own keys; none by default, and then
    /// left out of `--check --json`, which stays as it was without them).
    #[serde(skip_serializing_if = "crate::resources::ResourceLimits::is_none")]
    pub resources: crate::resources::ResourceLimits,
    /// Dependencies and health checks (`depends_on`, `healthcheck*`, `ready_log`,
    /// `wait_for*`, `on_dependency_failure`: rsupervisor's own, see [`crate::depends`]).
    #[serde(skip_serializing_if = "crate::depends::Dependencies::is_default")]
    pub deps: crate::depends::Dependencies,
    /// The `schedule*` keys (rsupervisor's own): `None` for a program without `schedule`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleConfig>,
}

/// When and how a scheduled program runs (`schedule`, `schedule_timezone`,
/// `schedule_jitter`, `schedule_overlap`, `schedule_catchup`, `schedule_timeout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleConfig {
    /// `schedule`.
    pub schedule: Schedule,
    /// `schedule_timezone`: an IANA name; `None` is the daemon's local time.
    pub timezone: Option<String>,
    /// `schedule_jitter` (0): each run starts up to this much after its due time.
    #[serde(serialize_with = "seconds")]
    pub jitter: Duration,
    /// `schedule_overlap` (skip).
    pub overlap: Overlap,
    /// `schedule_catchup` (false).
    pub catchup: bool,
    /// `schedule_timeout` (none).
    #[serde(serialize_with = "optional_seconds")]
    pub timeout: Option<Duration>,
}

/// A `schedule` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum Schedule {
    /// A cron expression (five or six fields, or a nickname croner knows), as written
    /// (fields separated by one space).
    Cron(String),
    /// `@every DURATION`: an interval from the previous start.
    Every(#[serde(serialize_with = "seconds")] Duration),
    /// `@reboot`: once, when the daemon starts.
    Reboot,
}

impl std::fmt::Display for Schedule {
    /// As the configuration would write it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Cron(expression) => f.write_str(expression),
            Schedule::Every(interval) => {
                write!(f, "@every {}", crate::policy::format_duration(*interval))
            }
            Schedule::Reboot => f.write_str("@reboot"),
        }
    }
}

/// `schedule_overlap`: what a due run does while the previous run still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overlap {
    /// Leave the running one alone; this run does not happen.
    Skip,
    /// Run once more as soon as the running one ends (one queued run at most).
    Queue,
    /// Stop the running one (as `stop`) and start again.
    Restart,
}

/// How automatic restarts are spaced and limited: `restart_delay`, `restart_delay_max`,
/// `restart_delay_reset`, `restart_limit`, `restart_limit_cooldown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RestartPolicy {
    /// `restart_delay` (0): wait this long before restarting after an exit from RUNNING.
    #[serde(serialize_with = "seconds")]
    pub delay: Duration,
    /// `restart_delay_max` (0: no growth): the delay doubles with each consecutive crash up
    /// to this.
    #[serde(serialize_with = "seconds")]
    pub delay_max: Duration,
    /// `restart_delay_reset` (60 s): a run at least this long starts the delay afresh.
    #[serde(serialize_with = "seconds")]
    pub delay_reset: Duration,
    /// `restart_limit` (off): at most this many starts in a window.
    pub limit: Option<RestartLimit>,
    /// `restart_limit_cooldown` (none: FATAL): when the limit is hit, wait this long and
    /// start again with fresh counters.
    #[serde(serialize_with = "optional_seconds")]
    pub limit_cooldown: Option<Duration>,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            delay: Duration::ZERO,
            delay_max: Duration::ZERO,
            delay_reset: Duration::from_secs(60),
            limit: None,
            limit_cooldown: None,
        }
    }
}

/// `restart_limit = STARTS/WINDOW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RestartLimit {
    /// At most this many starts ...
    pub starts: u32,
    /// ... in any window this long.
    #[serde(serialize_with = "seconds")]
    pub window: Duration,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn optional_seconds<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_f64(duration.as_secs_f64()),
        None => serializer.serialize_none(),
    }
}
