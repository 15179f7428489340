//! Turning the merged sections into the typed [`Config`], with supervisord 4.3.0's defaults,
//! name sets and checks. Every error is collected; nothing stops at the first one.

use crate::datatypes::{self as dt, LogFileName};
use crate::error::ConfigError;
use crate::expand::{expand, Expansions, Value};
use crate::ini::Ini;
use crate::model::*;
use crate::resources::ResourceLimits;
use std::path::{Path, PathBuf};

mod access_keys;

/// Event type names `[eventlistener:x] events=` may use.
const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_STATE",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
];

/// The standard RPC interface factory; the only one rsupervisord provides.
const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

/// Builds the model from a parser, collecting errors and messages.
pub(crate) struct Builder<'a> {
    pub ini: &'a Ini,
    pub here: String,
    pub hostname: String,
    pub cwd: PathBuf,
    /// `ENV_*` names: the process environment, later extended by `[supervisord] environment`.
    pub env: Expansions,
    /// `numprocs` replacements by program name (see `LoadOptions::numprocs`).
    pub numprocs: std::collections::BTreeMap<String, u32>,
    pub errors: Vec<ConfigError>,
    pub messages: Vec<ParseMessage>,
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

impl<'a> Builder<'a> {
    /// Records an error on `key` of `section` (at the key's line, or the section header's).
    pub fn error(&mut self, section: &str, key: Option<&str>, message: String) {
        let entry = key.and_then(|k| self.ini.get(section, k));
        let (file, line) = match (entry, self.ini.section(section)) {
            (Some(e), _) => (Some(self.ini.file(e.file).to_path_buf()), Some(e.line)),
            (None, Some(sec)) => (Some(self.ini.file(sec.file).to_path_buf()), Some(sec.line)),
            (None, None) => (self.ini.files.first().cloned(), None),
        };
        let err = ConfigError {
            file,
            line,
            section: Some(section.to_string()),
            key: key.map(str::to_string),
            message,
        };
        // One error per section and key: supervisord reads a few keys twice (a program's
        // priority, for its group and for its processes) and would stop at the first.
        let dup = self
            .errors
            .iter()
            .any(|e| e.section == err.section && e.key.is_some() && e.key == err.key);
        if !dup && !self.errors.contains(&err) {
            self.errors.push(err);
        }
    }

    fn warn(&mut self, text: String) {
        self.messages.push(ParseMessage {
            level: LogLevel::Warn,
            text,
        });
    }

    fn names(&self, extra: &[(&str, Value)]) -> Expansions {
        let mut n = self.env.clone();
        for (k, v) in extra {
            n.insert((*k).to_string(), v.clone());
        }
        n
    }

    /// The value of `key` (or `default` when absent), %-expanded against `names`.
    /// `Ok(None)` when absent without default; `Err(())` when expansion failed (recorded).
    fn get(
        &mut self,
        section: &str,
        key: &str,
        default: Option<&str>,
        names: Option<&Expansions>,
    ) -> Result<Option<String>, ()> {
        let raw = match self.ini.get(section, key) {
            Some(e) => e.value.clone(),
            None => match default {
                Some(d) => d.to_string(),
                None => return Ok(None),
            },
        };
        match names {
            None => Ok(Some(raw)),
            Some(n) => match expand(&raw, n, &format!("{section}.{key}")) {
                Ok(v) => Ok(Some(v)),
                Err(m) => {
                    self.error(section, Some(key), m);
                    Err(())
                }
            },
        }
    }

    /// `get` followed by a conversion; errors recorded, `None` on any failure.
    pub(crate) fn conv<T>(
        &mut self,
        section: &str,
        key: &str,
        default: &str,
        names: &Expansions,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = self.get(section, key, Some(default), Some(names)).ok()??;
        match f(&v) {
            Ok(t) => Some(t),
            Err(m) => {
                self.error(section, Some(key), m);
                None
            }
        }
    }

    /// Optional value converted, `Ok(None)` when absent, `Err(())` on failure.
    pub(crate) fn conv_opt<T>(
        &mut self,
        section: &str,
        key: &str,
        names: &Expansions,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ()> {
        match self.get(section, key, None, Some(names))? {
            None => Ok(None),
            Some(v) => match f(&v) {
                Ok(t) => Ok(Some(t)),
                Err(m) => {
                    self.error(section, Some(key), m);
                    Err(())
                }
            },
        }
    }

    /// The `[supervisord]` section; also extends the `ENV_` names with its `environment`.
    pub fn supervisord(&mut self) -> SupervisordConfig {
        const S: &str = "supervisord";
        if !self.ini.has_section(S) {
            self.errors.push(ConfigError {
                file: self.ini.files.first().cloned(),
                line: None,
                section: None,
                key: None,
                message: ".ini file does not include supervisord section".into(),
            });
        }
        let n = self.names(&[("here", s(&self.here))]);
        let minfds = self
            .conv(S, "minfds", "1024", &n, dt::non_negative)
            .unwrap_or(1024);
        let minprocs = self
            .conv(S, "minprocs", "200", &n, dt::non_negative)
            .unwrap_or(200);
        let directory = self
            .conv_opt(S, "directory", &n, dt::existing_directory)
            .ok()
            .flatten();
        let user = self.conv_opt(S, "user", &n, dt::user).ok().flatten();
        let umask = self.conv(S, "umask", "022", &n, dt::octal).unwrap_or(0o22);
        let cwd = self.cwd.clone();
        let logfile = self
            .conv(S, "logfile", "supervisord.log", &n, |v| {
                let p = dt::existing_dirpath(v)?;
                Ok(if p.as_os_str() == "syslog" {
                    MainLogTarget::Syslog
                } else {
                    MainLogTarget::File(dt::normalize_path(&p.to_string_lossy(), &cwd))
                })
            })
            .unwrap_or_else(|| MainLogTarget::File(cwd.join("supervisord.log")));
        let logfile_maxbytes = self
            .conv(S, "logfile_maxbytes", "50MB", &n, dt::byte_size)
            .unwrap_or(50 * 1024 * 1024);
        let logfile_backups = self
            .conv(S, "logfile_backups", "10", &n, dt::non_negative)
            .unwrap_or(10);
        let loglevel = self
            .conv(S, "loglevel", "info", &n, dt::logging_level)
            .unwrap_or(LogLevel::Info);
        let pidfile = self
            .conv(S, "pidfile", "supervisord.pid", &n, |v| {
                dt::existing_dirpath(v).map(|p| dt::normalize_path(&p.to_string_lossy(), &cwd))
            })
            .unwrap_or_else(|| cwd.join("supervisord.pid"));
        let identifier = self
            .get(S, "identifier", Some("supervisor"), Some(&n))
            .ok()
            .flatten()
            .unwrap_or_else(|| "supervisor".into());
        let nodaemon = self
            .conv(S, "nodaemon", "false", &n, dt::boolean)
            .unwrap_or(false);
        let silent = self
            .conv(S, "silent", "false", &n, dt::boolean)
            .unwrap_or(false);
        let tmp = std::env::temp_dir().to_string_lossy().into_owned();
        let childlogdir = self
            .conv(S, "childlogdir", &tmp, &n, dt::existing_directory)
            .unwrap_or_else(std::env::temp_dir);
        let nocleanup = self
            .conv(S, "nocleanup", "false", &n, dt::boolean)
            .unwrap_or(false);
        let strip_ansi = self
            .conv(S, "strip_ansi", "false", &n, dt::boolean)
            .unwrap_or(false);
        let logfile_format = self
            .conv(
                S,
                "logfile_format",
                "text",
                &n,
                crate::policy::main_log_format,
            )
            .unwrap_or_default();
        let status_report_interval = self
            .conv(
                S,
                "status_report_interval",
                "0",
                &n,
                crate::policy::duration,
            )
            .filter(|interval| !interval.is_zero());
        if status_report_interval.is_some_and(|i| i < std::time::Duration::from_secs(1)) {
            self.error(
                S,
                Some("status_report_interval"),
                "status_report_interval must be at least 1s (or 0 for off)".to_owned(),
            );
        }
        let cgroups = self
            .conv(S, "cgroups", "auto", &n, crate::resources::cgroup_setting)
            .unwrap_or_default();
        // supervisord 4.3.0 expands this value twice; the second pass also knows host_node_name.
        let mut environment = Vec::new();
        if let Ok(Some(first)) = self.get(S, "environment", Some(""), Some(&n)) {
            let n2 = self.names(&[
                ("here", s(&self.here)),
                ("host_node_name", s(&self.hostname)),
            ]);
            match expand(&first, &n2, "environment").and_then(|v| dt::dict_of_key_value_pairs(&v)) {
                Ok(env) => environment = env,
                Err(m) => self.error(S, Some("environment"), m),
            }
        }
        for (k, v) in &environment {
            self.env.insert(format!("ENV_{k}"), s(v));
        }
        let env_names = self.env.clone();
        let env_files = self.env_files(S, &env_names);
        let audit = self.audit_log(S);
        SupervisordConfig {
            logfile,
            logfile_maxbytes,
            logfile_backups: logfile_backups.min(u32::MAX as u64) as u32,
            loglevel,
            pidfile,
            umask,
            nodaemon,
            silent,
            minfds,
            minprocs,
            nocleanup,
            childlogdir,
            user,
            directory,
            strip_ansi,
            status_report_interval,
            environment,
            env_files,
            identifier,
            logfile_format,
            cgroups,
            audit,
        }
    }

    /// The `env_file` key of `section`, expanded with `names`, every file read.
    fn env_files(&mut self, section: &str, names: &Expansions) -> Vec<EnvFile> {
        let Ok(Some(value)) = self.get(section, "env_file", None, Some(names)) else {
            return Vec::new();
        };
        let here = PathBuf::from(&self.here);
        let mut files = Vec::new();
        for (path, optional) in crate::envfile::paths(&value, &here) {
            match crate::envfile::read(&path, optional) {
                Ok(file) => files.push(file),
                Err(message) => self.error(section, Some("env_file"), message),
            }
        }
        files
    }

    /// `[rpcinterface:x]` sections: the standard factory is accepted, others are ignored with a
    /// warning (rsupervisord cannot load Python plugins).
    pub fn rpcinterfaces(&mut self) {
        let names: Vec<String> = self
            .ini
            .sections
            .iter()
            .filter(|s| s.name.starts_with("rpcinterface:"))
            .map(|s| s.name.clone())
            .collect();
        for section in names {
            let n = self.env.clone();
            match self.get(&section, "supervisor.rpcinterface_factory", None, Some(&n)) {
                Ok(None) => {
                    self.error(&section, None, format!("section [{section}] does not specify a supervisor.rpcinterface_factory"))
                }
                Ok(Some(spec)) if spec.trim() == MAIN_RPC_FACTORY => {}
                Ok(Some(spec)) => self.warn(format!(
                    "[{section}] supervisor.rpcinterface_factory = {spec} is ignored: rsupervisord provides only the standard supervisor interface"
                )),
                Err(()) => {}
            }
        }
    }

    /// The name after the `kind:` of a `[kind:name]` section, checked as a process or group
    /// name. An invalid one is recorded on the section header, and gives `None`.
    fn section_name(&mut self, section: &str) -> Option<String> {
        let name = section.split_once(':').map_or("", |(_, name)| name);
        match dt::process_or_group_name(name) {
            Ok(name) => Some(name),
            Err(message) => {
                self.error(section, None, message);
                None
            }
        }
    }

    /// All process groups, sorted by (priority, name).
    pub fn groups(&mut self) -> Vec<GroupConfig> {
        let all: Vec<String> = self.ini.sections.iter().map(|s| s.name.clone()).collect();
        let has = |n: &str| all.iter().any(|s| s == n);
        let mut groups = Vec::new();
        let mut exclude: Vec<String> = Vec::new();
        let common = self.names(&[("here", s(&self.here))]);

        for section in all.iter().filter(|s| s.starts_with("group:")) {
            let group_name = self.section_name(section);
            let programs = self
                .get(section, "programs", Some(""), Some(&common))
                .ok()
                .flatten()
                .unwrap_or_default();
            let programs = dt::list_of_strings(&programs);
            let priority = self
                .conv(section, "priority", "999", &common, dt::integer)
                .unwrap_or(999);
            let mut processes = Vec::new();
            // supervisord reuses its loop variable here, so after the first member the
            // "unknown program" error names the previous member's section; kept verbatim.
            let mut named = section.clone();
            let mut ok = group_name.is_some();
            for program in &programs {
                let ps = format!("program:{program}");
                let fs = format!("fcgi-program:{program}");
                if !has(&ps) && !has(&fs) {
                    self.error(
                        section,
                        Some("programs"),
                        format!("[{named}] names unknown program or fcgi-program {program}"),
                    );
                    ok = false;
                    continue;
                }
                if has(&ps) && has(&fs) {
                    self.error(
                        section,
                        Some("programs"),
                        format!("[{named}] name {program} is ambiguous (exists as program and fcgi-program)"),
                    );
                    ok = false;
                    continue;
                }
                let member = if has(&ps) { ps } else { fs };
                named = member.clone();
                exclude.push(member.clone());
                let gname = group_name.clone().unwrap_or_default();
                match self.processes_from_section(&member, &gname) {
                    Some(p) => processes.extend(p),
                    None => ok = false,
                }
            }
            if let (true, Some(name)) = (ok, group_name) {
                processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
                groups.push(GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Group,
                    processes: shared(processes),
                    listener: None,
                    fcgi_socket: None,
                });
            }
        }

        for section in all
            .iter()
            .filter(|s| s.starts_with("program:") && !exclude.contains(s))
        {
            let Some(name) = self.section_name(section) else {
                continue;
            };
            let priority = self.conv(section, "priority", "999", &common, dt::integer);
            if let (Some(processes), Some(priority)) =
                (self.processes_from_section(section, &name), priority)
            {
                groups.push(GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::Program,
                    processes: shared(processes),
                    listener: None,
                    fcgi_socket: None,
                });
            }
        }

        for section in all.iter().filter(|s| s.starts_with("eventlistener:")) {
            let name = section["eventlistener:".len()..].to_string();
            let before = self.errors.len();
            let priority = self
                .conv(section, "priority", "-1", &common, dt::integer)
                .unwrap_or(-1);
            let mut listener = ListenerConfig {
                events: Vec::new(),
                buffer_size: 10,
            };
            if let Some(buffer_size) = self.conv(section, "buffer_size", "10", &common, dt::integer)
            {
                listener.buffer_size = usize::try_from(buffer_size).unwrap_or(0);
                if buffer_size < 1 {
                    self.error(
                        section,
                        Some("buffer_size"),
                        format!("[{section}] section sets invalid buffer_size ({buffer_size})"),
                    );
                }
            }
            if let Ok(Some(handler)) = self.get(
                section,
                "result_handler",
                Some("supervisor.dispatchers:default_handler"),
                Some(&common),
            ) {
                if handler != "supervisor.dispatchers:default_handler" {
                    self.error(
                        section,
                        Some("result_handler"),
                        format!("{handler} cannot be resolved within [{section}]"),
                    );
                }
            }
            if let Ok(Some(events)) = self.get(section, "events", Some(""), Some(&common)) {
                let mut events: Vec<String> = dt::list_of_strings(&events)
                    .into_iter()
                    .map(|e| e.to_uppercase())
                    .collect();
                events.sort();
                events.dedup();
                if events.is_empty() {
                    self.error(
                        section,
                        Some("events"),
                        format!("[{section}] section requires an \"events\" line"),
                    );
                }
                for e in events.iter().filter(|e| !EVENT_TYPES.contains(&e.as_str())) {
                    self.error(
                        section,
                        Some("events"),
                        format!("Unknown event type {e} in [{section}] events"),
                    );
                }
                listener.events = events;
            }
            if self.conv(section, "redirect_stderr", "false", &common, dt::boolean) == Some(true) {
                self.error(
                    section,
                    Some("redirect_stderr"),
                    format!("[{section}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"),
                );
            }
            let processes = self.processes_from_section(section, &name);
            if let (Some(processes), true) = (processes, self.errors.len() == before) {
                groups.push(GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::EventListener,
                    processes: shared(processes),
                    listener: Some(listener),
                    fcgi_socket: None,
                });
            }
        }

        for section in all
            .iter()
            .filter(|s| s.starts_with("fcgi-program:") && !exclude.contains(s))
        {
            let Some(name) = self.section_name(section) else {
                continue;
            };
            let before = self.errors.len();
            let priority = self
                .conv(section, "priority", "999", &common, dt::integer)
                .unwrap_or(999);
            let socket = self.fcgi_socket(section, &name, &common);
            let processes = self.processes_from_section(section, &name);
            if let (Some(processes), Some(socket), true) =
                (processes, socket, self.errors.len() == before)
            {
                groups.push(GroupConfig {
                    name,
                    priority,
                    kind: GroupKind::FcgiProgram,
                    processes: shared(processes),
                    listener: None,
                    fcgi_socket: Some(socket),
                });
            }
        }

        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        groups
    }

    /// Reads the `[fcgi-program:x]` socket options; `None` after recording an error.
    fn fcgi_socket(
        &mut self,
        section: &str,
        name: &str,
        common: &Expansions,
    ) -> Option<FcgiSocket> {
        // supervisord resolves `user` here first (for the socket owner); an unknown user is
        // reported once, under the `user` key.
        let user = self.conv_opt(section, "user", common, dt::user);
        let mut ok = user.is_ok();
        let backlog = match self.conv_opt(section, "socket_backlog", common, dt::integer) {
            Ok(Some(backlog)) if (1..=65535).contains(&backlog) => u32::try_from(backlog).ok(),
            Ok(Some(backlog)) => {
                self.error(
                    section,
                    Some("socket_backlog"),
                    format!("Invalid socket_backlog value {backlog}"),
                );
                ok = false;
                None
            }
            Ok(None) => None,
            Err(_) => {
                ok = false;
                None
            }
        };
        let owner = self.socket_option(section, "socket_owner", common, |v| {
            dt::colon_separated_user_group(v).ok()
        });
        let mode = self.socket_option(section, "socket_mode", common, |v| dt::octal(v).ok());
        ok &= !matches!(owner, SocketOption::Invalid) && !matches!(mode, SocketOption::Invalid);
        let mut n = common.clone();
        n.insert("program_name".into(), s(name));
        let Ok(socket) = self.get(section, "socket", Some(""), Some(&n)) else {
            return None;
        };
        let socket = socket.unwrap_or_default();
        if socket.is_empty() {
            self.error(
                section,
                Some("socket"),
                format!("[{section}] section requires a \"socket\" line"),
            );
            return None;
        }
        let parsed = if let Some(path) = socket.strip_prefix("unix://") {
            if path.starts_with('/') {
                let path = dt::normalize_path(path, &self.cwd);
                // Without socket_owner, the socket belongs to the program's user when the
                // program runs as another user than the daemon.
                let owner = match owner {
                    SocketOption::Set(owner) => Some(owner),
                    _ => match user {
                        Ok(Some(user)) if user.uid != nix::unistd::getuid().as_raw() => {
                            Some((user.uid, Some(user.gid)))
                        }
                        _ => None,
                    },
                };
                let mode = match mode {
                    SocketOption::Set(mode) => mode,
                    _ => 0o700,
                };
                Ok(FcgiSocket {
                    url: format!("unix://{}", path.display()),
                    address: FcgiAddress::Unix { path, owner, mode },
                    backlog,
                })
            } else {
                Err(format!(
                    "('Unix socket path %s is not an absolute path', {})",
                    dt::py_repr(path)
                ))
            }
        } else if !matches!(owner, SocketOption::Unset) || !matches!(mode, SocketOption::Unset) {
            Err(
                "socket_owner and socket_mode params should only be used with a Unix domain socket"
                    .to_string(),
            )
        } else {
            let address = socket
                .strip_prefix("tcp://")
                .and_then(|r| r.rsplit_once(':'))
                .filter(|(h, p)| {
                    !h.is_empty()
                        && !h.contains(':')
                        && !h.chars().any(char::is_whitespace)
                        && !p.is_empty()
                        && p.chars().all(|c| c.is_ascii_digit())
                });
            match address {
                Some((host, port)) => match port.parse::<u128>() {
                    Ok(0) => Err("0 is below lower bound (1)".to_owned()),
                    Ok(port @ 1..=65535) => {
                        let port = port as u16;
                        let host = host.to_lowercase();
                        Ok(FcgiSocket {
                            url: format!("tcp://{host}:{port}"),
                            address: FcgiAddress::Tcp { host, port },
                            backlog,
                        })
                    }
                    _ => Err(format!("{port} is above upper bound (65535)")),
                },
                None => Err(format!(
                    "('Bad socket format %s', {})",
                    dt::py_repr(&socket)
                )),
            }
        };
        match parsed {
            Ok(parsed) => ok.then_some(parsed),
            Err(problem) => {
                self.error(
                    section,
                    Some("socket"),
                    format!("{problem} in [{section}] socket"),
                );
                None
            }
        }
    }

    /// Reads the fcgi socket option `key` (a failed expansion counts as not set). A value
    /// `parse` rejects is recorded as `Invalid <key> value <value>`.
    fn socket_option<T>(
        &mut self,
        section: &str,
        key: &str,
        common: &Expansions,
        parse: impl Fn(&str) -> Option<T>,
    ) -> SocketOption<T> {
        match self.get(section, key, None, Some(common)) {
            Ok(Some(value)) => match parse(&value) {
                Some(parsed) => SocketOption::Set(parsed),
                None => {
                    self.error(section, Some(key), format!("Invalid {key} value {value}"));
                    SocketOption::Invalid
                }
            },
            _ => SocketOption::Unset,
        }
    }

    /// The `restart_*` keys of a program section (rsupervisor's own), checked together.
    fn restart_policy(&mut self, section: &str, names: &Expansions) -> RestartPolicy {
        use crate::policy::{duration, format_duration, restart_limit};
        let default = RestartPolicy::default();
        let delay = self
            .conv(section, "restart_delay", "0", names, duration)
            .unwrap_or(default.delay);
        let delay_max = self
            .conv(section, "restart_delay_max", "0", names, duration)
            .unwrap_or(default.delay_max);
        let delay_reset = self
            .conv(section, "restart_delay_reset", "60", names, duration)
            .unwrap_or(default.delay_reset);
        let limit = self
            .conv(section, "restart_limit", "off", names, restart_limit)
            .unwrap_or(None);
        let limit_cooldown = self
            .conv_opt(section, "restart_limit_cooldown", names, duration)
            .ok()
            .flatten();
        if !delay_max.is_zero() && delay_max < delay {
            self.error(
                section,
                Some("restart_delay_max"),
                format!(
                    "restart_delay_max ({}) is shorter than restart_delay ({}): set it to 0 \
                     for a fixed delay, or to at least restart_delay",
                    format_duration(delay_max),
                    format_duration(delay)
                ),
            );
        }
        if limit_cooldown.is_some_and(|cooldown| cooldown < std::time::Duration::from_secs(1)) {
            self.error(
                section,
                Some("restart_limit_cooldown"),
                "restart_limit_cooldown must be at least 1s: a shorter cool-down would restart \
                 a crash loop faster than the one-second spacing"
                    .to_owned(),
            );
        }
        if limit_cooldown.is_some() && limit.is_none() {
            self.error(
                section,
                Some("restart_limit_cooldown"),
                "restart_limit_cooldown needs restart_limit (for example restart_limit = \
                 5/300s): without a limit there is nothing to cool down from"
                    .to_owned(),
            );
        }
        RestartPolicy {
            delay,
            delay_max,
            delay_reset,
            limit,
            limit_cooldown,
        }
    }

    /// The resource keys of a program section (rsupervisor's own), checked together.
    fn resource_limits(&mut self, section: &str, names: &Expansions) -> ResourceLimits {
        use crate::resources as r;
        let mut opt = |key: &str, f: fn(&str) -> Result<u64, String>| {
            self.conv_opt(section, key, names, f).ok().flatten()
        };
        let limits = ResourceLimits {
            memory_max: opt("memory_max", r::memory),
            memory_high: opt("memory_high", r::memory),
            memory_restart: opt("memory_restart", r::memory),
            pids_max: opt("pids_max", r::pids_max),
            rlimit_nofile: opt("rlimit_nofile", r::rlimit_count),
            rlimit_core: opt("rlimit_core", r::rlimit_bytes),
            rlimit_as: opt("rlimit_as", r::rlimit_bytes),
            cpu_max: self
                .conv_opt(section, "cpu_max", names, r::cpu_max)
                .ok()
                .flatten(),
        };
        if let (Some(high), Some(max)) = (limits.memory_high, limits.memory_max) {
            if high >= max {
                self.error(
                    section,
                    Some("memory_high"),
                    format!(
                        "memory_high ({}) must be below memory_max ({}): it is the level where \
                         the kernel starts reclaiming, before the hard limit",
                        r::format_bytes(high),
                        r::format_bytes(max)
                    ),
                );
            }
        }
        if let (Some(restart), Some(max)) = (limits.memory_restart, limits.memory_max) {
            if restart >= max {
                self.error(
                    section,
                    Some("memory_restart"),
                    format!(
                        "memory_restart ({}) must be below memory_max ({}): the graceful \
                         restart has to come before the kernel's OOM killer",
                        r::format_bytes(restart),
                        r::format_bytes(max)
                    ),
                );
            }
        }
        limits
    }

    /// supervisord's `processes_from_section`: one [`ProcessConfig`] per process number.
    /// `None` when the section has errors (they are recorded).
    fn processes_from_section(
        &mut self,
        section: &str,
        group_name: &str,
    ) -> Option<Vec<ProcessConfig>> {
        let before = self.errors.len();
        let program_name = self.section_name(section)?;
        let mut common = self.names(&[
            ("here", s(&self.here)),
            ("program_name", s(&program_name)),
            ("host_node_name", s(&self.hostname)),
            ("group_name", s(group_name)),
        ]);
        let c = common.clone();
        let priority = self
            .conv(section, "priority", "999", &c, dt::integer)
            .unwrap_or(999);
        let autostart = self
            .conv(section, "autostart", "true", &c, dt::boolean)
            .unwrap_or(true);
        // A scheduled program is never restarted and counts as started once spawned.
        let schedule = self.schedule_config(section, &c);
        let (autorestart_default, startsecs_default) = match schedule {
            Some(_) => ("false", "0"),
            None => ("unexpected", "1"),
        };
        let autorestart = self
            .conv(
                section,
                "autorestart",
                autorestart_default,
                &c,
                dt::auto_restart,
            )
            .unwrap_or(AutoRestart::Unexpected);
        let startsecs = self
            .conv(
                section,
                "startsecs",
                startsecs_default,
                &c,
                dt::non_negative,
            )
            .unwrap_or(1);
        let startretries = self
            .conv(section, "startretries", "3", &c, dt::non_negative)
            .unwrap_or(3);
        let stopsignal = self
            .conv(section, "stopsignal", "TERM", &c, dt::parse_signal)
            .unwrap_or(SignalSpec { number: 15 });
        let stopwaitsecs = self
            .conv(section, "stopwaitsecs", "10", &c, dt::non_negative)
            .unwrap_or(10);
        let stopasgroup = self
            .conv(section, "stopasgroup", "false", &c, dt::boolean)
            .unwrap_or(false);
        let killasgroup = self
            .conv(
                section,
                "killasgroup",
                if stopasgroup { "true" } else { "false" },
                &c,
                dt::boolean,
            )
            .unwrap_or(stopasgroup);
        let exitcodes = self
            .conv(section, "exitcodes", "0", &c, dt::exit_codes)
            .unwrap_or_else(|| vec![0]);
        let redirect_stderr = self
            .conv(section, "redirect_stderr", "false", &c, dt::boolean)
            .unwrap_or(false);
        let numprocs = match self.numprocs.get(&program_name) {
            Some(count) => i64::from(*count),
            None => self
                .conv(section, "numprocs", "1", &c, dt::integer)
                .unwrap_or(1),
        };
        let numprocs_start = self
            .conv(section, "numprocs_start", "0", &c, dt::integer)
            .unwrap_or(0);
        let environment_str = self
            .get(section, "environment", Some(""), None)
            .ok()
            .flatten()
            .unwrap_or_default();
        let stdout_cmax = self
            .conv(section, "stdout_capture_maxbytes", "0", &c, dt::byte_size)
            .unwrap_or(0);
        let stdout_events = self
            .conv(section, "stdout_events_enabled", "false", &c, dt::boolean)
            .unwrap_or(false);
        let stderr_cmax = self
            .conv(section, "stderr_capture_maxbytes", "0", &c, dt::byte_size)
            .unwrap_or(0);
        let stderr_events = self
            .conv(section, "stderr_events_enabled", "false", &c, dt::boolean)
            .unwrap_or(false);
        let serverurl = self
            .get(section, "serverurl", None, Some(&c))
            .ok()
            .flatten()
            .filter(|u| !u.is_empty() && !u.trim().eq_ignore_ascii_case("auto"));
        let user = self.conv_opt(section, "user", &c, dt::user).ok().flatten();
        let umask = self
            .conv_opt(section, "umask", &c, dt::octal)
            .ok()
            .flatten();
        let process_name = self
            .get(section, "process_name", Some("%(program_name)s"), None)
            .ok()
            .flatten()
            .unwrap_or_default();
        let process_name = match dt::process_or_group_name(&process_name) {
            Ok(n) => n,
            Err(m) => {
                self.error(section, Some("process_name"), m);
                process_name
            }
        };
        if numprocs > 1 && !process_name.contains("%(process_num)") {
            self.error(
                section,
                Some("process_name"),
                "%(process_num) must be present within process_name when numprocs > 1".to_string(),
            );
        }
        let restart = self.restart_policy(section, &c);
        let deps = self.dependencies(section, &c);
        let resources = self.resource_limits(section, &c);
        if stopasgroup && !killasgroup {
            self.error(
                section,
                Some("killasgroup"),
                "Cannot set stopasgroup=true and killasgroup=false".to_string(),
            );
        }

        let mut processes = Vec::new();
        for process_num in numprocs_start..numprocs_start.saturating_add(numprocs.max(0)) {
            let errors_before = self.errors.len();
            common.insert("process_num".into(), Value::Int(process_num));
            common.insert("numprocs".into(), Value::Int(numprocs));
            let environment = match expand(&environment_str, &common, "environment")
                .and_then(|v| dt::dict_of_key_value_pairs(&v))
            {
                Ok(env) => env,
                Err(m) => {
                    self.error(section, Some("environment"), m);
                    Vec::new()
                }
            };
            for (k, v) in &environment {
                common.insert(format!("ENV_{k}"), s(v));
            }
            let n = common.clone();
            let env_files = self.env_files(section, &n);
            let directory = self
                .get(section, "directory", None, Some(&n))
                .ok()
                .flatten()
                .map(PathBuf::from);
            let mut logs: Vec<StreamLogConfig> = Vec::new();
            for k in ["stdout", "stderr"] {
                let lf_key = format!("{k}_logfile");
                let logfile = match self.get(section, &lf_key, None, Some(&n)) {
                    Ok(None) => Some(LogFileName::Auto),
                    Ok(Some(v)) => match expand(&v, &n, &lf_key).and_then(|v| dt::logfile_name(&v))
                    {
                        Ok(l) => Some(l),
                        Err(m) => {
                            self.error(section, Some(&lf_key), m);
                            None
                        }
                    },
                    Err(()) => None,
                };
                let backups = self
                    .conv(
                        section,
                        &format!("{k}_logfile_backups"),
                        "10",
                        &n,
                        dt::non_negative,
                    )
                    .unwrap_or(10);
                let maxbytes = self
                    .conv(
                        section,
                        &format!("{k}_logfile_maxbytes"),
                        "50MB",
                        &n,
                        dt::byte_size,
                    )
                    .unwrap_or(50 << 20);
                let mut syslog = self
                    .conv(section, &format!("{k}_syslog"), "false", &n, dt::boolean)
                    .unwrap_or(false);
                let format = self
                    .conv(
                        section,
                        &format!("{k}_log_format"),
                        "raw",
                        &n,
                        crate::policy::log_format,
                    )
                    .unwrap_or_default();
                let logfile = match logfile {
                    Some(LogFileName::Syslog) => {
                        self.warn(format!(
                            "For [{section}], {lf_key}=syslog but this is deprecated and will be removed.  Use {k}_syslog=true to enable syslog instead."
                        ));
                        syslog = true;
                        LogFile::None
                    }
                    Some(LogFileName::Auto) => {
                        if maxbytes == 0 {
                            self.warn(format!(
                                "For [{section}], AUTO logging used for {lf_key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
                            ));
                        }
                        LogFile::Auto
                    }
                    Some(LogFileName::Path(p)) => LogFile::Path(p),
                    Some(LogFileName::None) | None => LogFile::None,
                };
                let (capture_maxbytes, events_enabled) = if k == "stdout" {
                    (stdout_cmax, stdout_events)
                } else {
                    (stderr_cmax, stderr_events)
                };
                logs.push(StreamLogConfig {
                    logfile,
                    maxbytes,
                    backups: backups.min(u32::MAX as u64) as u32,
                    capture_maxbytes,
                    events_enabled,
                    syslog,
                    format,
                });
            }
            let mut stderr = logs.pop().unwrap_or_else(default_stream);
            let stdout = logs.pop().unwrap_or_else(default_stream);
            if redirect_stderr {
                if matches!(stderr.logfile, LogFile::Path(_)) {
                    self.warn(format!(
                        "For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
                    ));
                }
                stderr.logfile = LogFile::None;
            }
            let command = match self.get(section, "command", None, Some(&n)) {
                Ok(Some(cmd)) => cmd,
                Ok(None) => {
                    self.error(
                        section,
                        Some("command"),
                        format!("program section {section} does not specify a command"),
                    );
                    String::new()
                }
                Err(()) => String::new(),
            };
            let name = match expand(&process_name, &n, "process_name") {
                Ok(v) => v,
                Err(m) => {
                    self.error(section, Some("process_name"), m);
                    String::new()
                }
            };
            let process_num = match u32::try_from(process_num) {
                Ok(p) => p,
                Err(_) => {
                    self.error(section, Some("numprocs_start"), format!("process_num {process_num} is negative; rsupervisord requires numprocs_start >= 0"));
                    0
                }
            };
            if self.errors.len() > errors_before {
                break;
            }
            processes.push(ProcessConfig {
                name,
                group: group_name.to_string(),
                program_name: program_name.clone(),
                process_num,
                command,
                directory,
                environment,
                env_files,
                user: user.clone(),
                umask,
                priority,
                autostart,
                autorestart,
                exitcodes: exitcodes.clone(),
                startsecs,
                startretries: startretries.min(u32::MAX as u64) as u32,
                stopsignal,
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                redirect_stderr,
                stdout,
                stderr,
                serverurl: serverurl.clone(),
                restart,
                deps: deps.clone(),
                schedule: schedule.clone(),
                resources,
            });
        }
        if self.errors.len() > before {
            return None;
        }
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Some(processes)
    }

    fn auth(&mut self, section: &str) -> (Option<String>, Option<String>) {
        let n = self.env.clone();
        let username = self.get(section, "username", None, Some(&n)).ok().flatten();
        let password = self.get(section, "password", None, Some(&n)).ok().flatten();
        if username.is_some() != password.is_some() {
            self.error(
                section,
                None,
                format!("Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"),
            );
        }
        (username, password)
    }

    /// `[inet_http_server*]` sections; the first one is returned.
    pub fn inet_http_server(&mut self) -> Option<InetHttpServerConfig> {
        let names: Vec<String> = self
            .ini
            .sections
            .iter()
            .filter(|s| s.name.starts_with("inet_http_server"))
            .map(|s| s.name.clone())
            .collect();
        let mut first = None;
        for section in names {
            let (username, password) = self.auth(&section);
            let access = self.access(&section);
            let n = self.env.clone();
            match self.get(&section, "port", None, Some(&n)) {
                Ok(None) => self.error(
                    &section,
                    None,
                    format!("section [{section}] has no port value"),
                ),
                Ok(Some(port)) => match dt::inet_address(&port) {
                    Ok((host, port)) => {
                        if first.is_none() {
                            first = Some(InetHttpServerConfig {
                                host,
                                port,
                                username,
                                password,
                                access: access.clone(),
                            });
                        }
                    }
                    Err(m) => self.error(&section, Some("port"), m),
                },
                Err(()) => {}
            }
        }
        first
    }

    /// `[unix_http_server*]` sections; the first one is returned.
    pub fn unix_http_server(&mut self) -> Option<UnixHttpServerConfig> {
        let names: Vec<String> = self
            .ini
            .sections
            .iter()
            .filter(|s| s.name.starts_with("unix_http_server"))
            .map(|s| s.name.clone())
            .collect();
        let mut first = None;
        for section in names {
            let n = self.names(&[("here", s(&self.here))]);
            let file = match self.get(&section, "file", None, Some(&n)) {
                Ok(None) => {
                    self.error(
                        &section,
                        None,
                        format!("section [{section}] has no file value"),
                    );
                    None
                }
                Ok(Some(f)) => Some(dt::normalize_path(&dt::expand_user(f.trim()), &self.cwd)),
                Err(()) => None,
            };
            let (username, password) = self.auth(&section);
            let access = self.access(&section);
            let env = self.env.clone();
            let chown = match self.get(&section, "chown", None, Some(&env)) {
                Ok(Some(v)) => match dt::colon_separated_user_group(&v) {
                    Ok(c) => Some(c),
                    Err(_) => {
                        self.error(
                            &section,
                            Some("chown"),
                            format!("Invalid sockchown value {v}"),
                        );
                        None
                    }
                },
                _ => None,
            };
            let chmod = match self.get(&section, "chmod", None, Some(&env)) {
                Ok(Some(v)) => match dt::octal(&v) {
                    Ok(m) => m,
                    Err(_) => {
                        self.error(&section, Some("chmod"), format!("Invalid chmod value {v}"));
                        0o700
                    }
                },
                _ => 0o700,
            };
            if let (None, Some(file)) = (&first, file) {
                first = Some(UnixHttpServerConfig {
                    file,
                    chmod,
                    chown,
                    username,
                    password,
                    access,
                });
            }
        }
        first
    }
}

fn default_stream() -> StreamLogConfig {
    StreamLogConfig {
        logfile: LogFile::Auto,
        maxbytes: 50 << 20,
        backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
        format: LogFormat::Raw,
    }
}

/// Reads `[supervisorctl]` the way supervisorctl does. `here` is the config file's directory.
pub(crate) fn supervisorctl_section(
    ini: &Ini,
    here: &str,
    env: &Expansions,
    cwd: &Path,
) -> Result<SupervisorctlConfig, (String, Option<String>, String)> {
    const S: &str = "supervisorctl";
    let mut with_here = env.clone();
    with_here.insert("here".into(), s(here));
    let get = |key: &str,
               names: &Expansions|
     -> Result<Option<String>, (String, Option<String>, String)> {
        match ini.get(S, key) {
            None => Ok(None),
            Some(e) => expand(&e.value, names, &format!("{S}.{key}"))
                .map(Some)
                .map_err(|m| (S.to_string(), Some(key.to_string()), m)),
        }
    };
    let mut serverurl =
        get("serverurl", &with_here)?.unwrap_or_else(|| "http://localhost:9001".into());
    if let Some(path) = serverurl.strip_prefix("unix://") {
        serverurl = format!(
            "unix://{}",
            dt::normalize_path(&dt::expand_user(path), cwd).display()
        );
    }
    let prompt = get("prompt", env)?.unwrap_or_else(|| "supervisor".into());
    let username = get("username", env)?;
    let password = get("password", env)?;
    let history_file = get("history_file", &with_here)?
        .filter(|h| !h.is_empty())
        .map(|h| dt::normalize_path(&dt::expand_user(&h), cwd));
    Ok(SupervisorctlConfig {
        serverurl,
        username,
        password,
        prompt,
        history_file,
    })
}

/// An fcgi socket option as read: absent, valid, or reported as invalid.
enum SocketOption<T> {
    Unset,
    Set(T),
    Invalid,
}

/// A group's processes as the daemon keeps them: each in its own shared allocation, so the
/// running configuration, the last one read, the group and the process record all point at
/// one copy (four copies of a ~1 KB record and its strings before, per program), and the
/// vector has no spare room (most programs have one process, and it kept room for four).
fn shared(processes: Vec<ProcessConfig>) -> Vec<std::sync::Arc<ProcessConfig>> {
    let mut shared = Vec::with_capacity(processes.len());
    shared.extend(processes.into_iter().map(std::sync::Arc::new));
    shared
}
