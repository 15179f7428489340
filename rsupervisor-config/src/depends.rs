//! rsupervisor's dependency and health keys of `[program:x]` (supervisord has none of them):
//! their model, their value syntax, and the whole-configuration check of the dependency graph.
//!
//! - `depends_on = feed, migrate:completed_successfully, db:healthy, bus:*`: edges to
//!   programs, groups (`bus:*`) or one process of a group (`bus:worker_0`), each with a
//!   [`Condition`] (default `running`);
//! - `healthcheck = http://… | tcp://host:port | exec:command | file:/path` with
//!   `healthcheck_interval`, `healthcheck_timeout`, `healthcheck_retries`,
//!   `healthcheck_start_period`, `healthcheck_action`;
//! - `ready_log = REGEX`: a line of the program's output that means it is ready;
//! - `on_dependency_failure = stop | restart | ignore`;
//! - `wait_for = tcp://… , http://… , file:/path` with `wait_for_timeout`.
//!
//! None set is supervisord's behaviour: [`Dependencies::default`]. Each value is checked
//! where it is read (`build` calls `Builder::dependencies`); names, conditions and
//! cycles need the whole configuration and are checked once every group is built
//! (`Builder::check_dependencies`, called by `load`, so `--check`, `reread` and startup
//! share it). Errors point at the `depends_on` line of the program that names the problem.

use crate::build::Builder;
use crate::expand::Expansions;
use crate::graph::Graph;
use crate::model::GroupConfig;
use crate::policy::duration;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The dependency and health settings of one process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dependencies {
    /// `depends_on`, in the order written.
    pub depends_on: Vec<Dependency>,
    /// `healthcheck` and its settings, if any.
    pub healthcheck: Option<HealthCheck>,
    /// `ready_log`: a regular expression over the program's output lines.
    pub ready_log: Option<String>,
    /// `on_dependency_failure` (stop).
    pub on_dependency_failure: DependencyFailure,
    /// `wait_for`: external conditions checked before each spawn.
    pub wait_for: Vec<Probe>,
    /// `wait_for_timeout` (60 s).
    #[serde(serialize_with = "seconds")]
    pub wait_for_timeout: Duration,
}

impl Default for Dependencies {
    fn default() -> Self {
        Dependencies {
            depends_on: Vec::new(),
            healthcheck: None,
            ready_log: None,
            on_dependency_failure: DependencyFailure::Stop,
            wait_for: Vec::new(),
            wait_for_timeout: Duration::from_secs(60),
        }
    }
}

impl Dependencies {
    /// None of the keys is set: supervisord's behaviour (and nothing in `--check --json`).
    pub fn is_default(&self) -> bool {
        *self == Dependencies::default()
    }
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// What it names, as written: `db` (a program, or a group), `bus:*`, `bus:worker_0`.
    pub target: String,
    /// What the dependency must have reached.
    pub condition: Condition,
}

impl fmt::Display for Dependency {
    /// `db (healthy)`, as the waiting dependent's status says it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.target, self.condition)
    }
}

/// What a dependency must have reached before its dependent is spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// It is RUNNING (the default).
    Running,
    /// It was spawned (STARTING with a pid, or RUNNING).
    Started,
    /// Its health check passed.
    Healthy,
    /// It printed a line matching its `ready_log`.
    LogReady,
    /// It ran and exited (EXITED, no restart pending).
    Completed,
    /// It ran and exited with a code in its `exitcodes`.
    CompletedSuccessfully,
}

impl Condition {
    /// Every condition, with its configuration name.
    pub const ALL: [(Condition, &'static str); 6] = [
        (Condition::Running, "running"),
        (Condition::Started, "started"),
        (Condition::Healthy, "healthy"),
        (Condition::LogReady, "log_ready"),
        (Condition::Completed, "completed"),
        (Condition::CompletedSuccessfully, "completed_successfully"),
    ];

    /// The configuration name (`completed_successfully`).
    pub fn name(self) -> &'static str {
        Condition::ALL
            .iter()
            .find(|(condition, _)| *condition == self)
            .map_or("running", |(_, name)| name)
    }

    fn parse(text: &str) -> Option<Condition> {
        Condition::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(text))
            .map(|(condition, _)| *condition)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `on_dependency_failure`: what a running dependent does when a dependency goes FATAL,
/// exits unexpectedly or turns unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DependencyFailure {
    /// Stop the dependent (the default).
    Stop,
    /// Restart it (it waits for the dependency again); also follows a dependency's restart.
    Restart,
    /// Leave it alone.
    Ignore,
}

/// `healthcheck_action`: what a failed health check (at the retry limit) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthAction {
    /// Restart the process, through the restart policy (the default).
    Restart,
    /// Stop it.
    Stop,
    /// Only mark it unhealthy.
    None,
}

/// A health check and its schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    /// What is checked.
    pub probe: Probe,
    /// `healthcheck_interval` (30 s): time between two checks.
    #[serde(serialize_with = "seconds")]
    pub interval: Duration,
    /// `healthcheck_timeout` (5 s): a check taking longer failed.
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    /// `healthcheck_retries` (3): consecutive failures that make the process unhealthy.
    pub retries: u32,
    /// `healthcheck_start_period` (0): failures in this time after the spawn do not count.
    #[serde(serialize_with = "seconds")]
    pub start_period: Duration,
    /// `healthcheck_action` (restart).
    pub action: HealthAction,
}

/// One check of something outside the daemon: a health check or a `wait_for` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Probe {
    /// `http://host:port/path`: a GET answered with a status below 400.
    Http {
        /// The URL as written.
        url: String,
        /// Host name or address.
        host: String,
        /// Port (80 when not written).
        port: u16,
        /// Path and query (`/` when not written).
        path: String,
    },
    /// `tcp://host:port`: a connection is accepted.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// `exec:command args`: the command exits 0.
    Exec {
        /// The command line, split like `command`.
        command: String,
    },
    /// `file:/path`: the file exists.
    File {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for Probe {
    /// As written in the configuration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Http { url, .. } => f.write_str(url),
            Probe::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Probe::Exec { command } => write!(f, "exec:{command}"),
            Probe::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

/// Parses a probe; `exec` says whether `exec:` is allowed (health checks: yes, `wait_for`: no).
pub fn probe(value: &str, exec: bool) -> Result<Probe, String> {
    let text = value.trim();
    let kinds = if exec {
        "http://host:port/path, tcp://host:port, exec:command or file:/path"
    } else {
        "tcp://host:port, http://host:port/path or file:/path"
    };
    let bad = |why: &str| format!("invalid check {text:?}: {why}; expected {kinds}");
    if let Some(rest) = text.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let (host, port) = host_port(authority, Some(80)).map_err(|why| bad(&why))?;
        return Ok(Probe::Http {
            url: text.to_owned(),
            host,
            port,
            path: path.to_owned(),
        });
    }
    if text.starts_with("https://") {
        return Err(bad(
            "https is not supported (no TLS client in the daemon); probe the plain-HTTP port, \
             or use exec: with curl",
        ));
    }
    if let Some(rest) = text.strip_prefix("tcp://") {
        let (host, port) = host_port(rest.trim_end_matches('/'), None).map_err(|why| bad(&why))?;
        return Ok(Probe::Tcp { host, port });
    }
    if let Some(command) = text.strip_prefix("exec:") {
        if !exec {
            return Err(bad("exec: is for healthcheck only"));
        }
        if command.trim().is_empty() {
            return Err(bad("no command after exec:"));
        }
        return Ok(Probe::Exec {
            command: command.trim().to_owned(),
        });
    }
    if let Some(path) = text.strip_prefix("file:") {
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(bad("the path after file: must be absolute"));
        }
        return Ok(Probe::File {
            path: PathBuf::from(path),
        });
    }
    Err(bad("unknown kind"))
}

/// `host:port` (`[v6]:port` for IPv6); `default` when the port may be left out.
fn host_port(text: &str, default: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed [ in the address".to_owned())?;
        (host, tail.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("no host".to_owned());
    }
    let port = match (port, default) {
        (Some(port), _) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| format!("{port:?} is not a port number"))?,
        (None, Some(default)) => default,
        (None, None) => return Err("no port".to_owned()),
    };
    Ok((host.to_owned(), port))
}

/// Parses `depends_on`: comma-separated `target[:condition]`.
pub fn depends_on(value: &str) -> Result<Vec<Dependency>, String> {
    let mut dependencies = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (target, condition) = match entry.rsplit_once(':') {
            Some((target, suffix)) => match Condition::parse(suffix) {
                Some(condition) => (target, condition),
                // `bus:*` or `bus:worker_0`: a group target with the default condition.
                None if target.contains(':') || suffix.is_empty() => {
                    return Err(unknown_condition(entry, suffix));
                }
                None if suffix == "*" || !looks_like_condition(suffix) => {
                    (entry, Condition::Running)
                }
                None => return Err(unknown_condition(entry, suffix)),
            },
            None => (entry, Condition::Running),
        };
        if target.is_empty() {
            return Err(format!("{entry:?} names no program"));
        }
        dependencies.push(Dependency {
            target: target.to_owned(),
            condition,
        });
    }
    Ok(dependencies)
}

/// A suffix written like a condition (lower case with underscores, as the known ones), so
/// `db:helthy` is reported as a misspelt condition and not looked up as a process `helthy`
/// of a group `db`.
fn looks_like_condition(suffix: &str) -> bool {
    Condition::ALL
        .iter()
        .any(|(_, name)| crate::suggest::close(suffix, name))
}

fn unknown_condition(entry: &str, suffix: &str) -> String {
    let names: Vec<&str> = Condition::ALL.iter().map(|(_, name)| *name).collect();
    format!(
        "{entry:?}: unknown condition {suffix:?}; expected one of {}",
        names.join(", ")
    )
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn one_of<T: Copy>(value: &str, key: &str, choices: &[(&str, T)]) -> Result<T, String> {
    let text = value.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            format!("invalid {key} {value:?}: expected {}", names.join(", "))
        })
}

impl Builder<'_> {
    /// The dependency and health keys of one program section (see the module docs).
    pub(crate) fn dependencies(&mut self, section: &str, names: &Expansions) -> Dependencies {
        let default = Dependencies::default();
        let depends_on = self
            .conv(section, "depends_on", "", names, depends_on)
            .unwrap_or_default();
        let ready_log = self
            .conv_opt(section, "ready_log", names, |value| {
                regex::Regex::new(value)
                    .map(|_| value.to_owned())
                    .map_err(|error| format!("invalid regular expression: {error}"))
            })
            .ok()
            .flatten();
        let on_dependency_failure = self
            .conv(section, "on_dependency_failure", "stop", names, |value| {
                one_of(
                    value,
                    "on_dependency_failure",
                    &[
                        ("stop", DependencyFailure::Stop),
                        ("restart", DependencyFailure::Restart),
                        ("ignore", DependencyFailure::Ignore),
                    ],
                )
            })
            .unwrap_or(default.on_dependency_failure);
        let wait_for = self
            .conv(section, "wait_for", "", names, |value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .map(|entry| probe(entry, false))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        let wait_for_timeout = self
            .conv(section, "wait_for_timeout", "60", names, duration)
            .unwrap_or(default.wait_for_timeout);
        if wait_for_timeout.is_zero() {
            self.error(
                section,
                Some("wait_for_timeout"),
                "wait_for_timeout must be longer than 0".to_owned(),
            );
        }
        let healthcheck = self.healthcheck(section, names);
        Dependencies {
            depends_on,
            healthcheck,
            ready_log,
            on_dependency_failure,
            wait_for,
            wait_for_timeout,
        }
    }

    fn healthcheck(&mut self, section: &str, names: &Expansions) -> Option<HealthCheck> {
        const TUNING: [&str; 5] = [
            "healthcheck_interval",
            "healthcheck_timeout",
            "healthcheck_retries",
            "healthcheck_start_period",
            "healthcheck_action",
        ];
        let probe = self
            .conv_opt(section, "healthcheck", names, |value| probe(value, true))
            .ok()
            .flatten();
        let interval = self
            .conv(section, "healthcheck_interval", "30", names, duration)
            .unwrap_or(Duration::from_secs(30));
        let timeout = self
            .conv(section, "healthcheck_timeout", "5", names, duration)
            .unwrap_or(Duration::from_secs(5));
        let retries = self
            .conv(section, "healthcheck_retries", "3", names, |value| {
                value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|retries| *retries >= 1)
                    .ok_or_else(|| {
                        format!("invalid healthcheck_retries {value:?}: expected a whole number of at least 1")
                    })
            })
            .unwrap_or(3);
        let start_period = self
            .conv(section, "healthcheck_start_period", "0", names, duration)
            .unwrap_or(Duration::ZERO);
        let action = self
            .conv(section, "healthcheck_action", "restart", names, |value| {
                one_of(
                    value,
                    "healthcheck_action",
                    &[
                        ("restart", HealthAction::Restart),
                        ("stop", HealthAction::Stop),
                        ("none", HealthAction::None),
                    ],
                )
            })
            .unwrap_or(HealthAction::Restart);
        if interval < Duration::from_millis(100) {
            self.error(
                section,
                Some("healthcheck_interval"),
                "healthcheck_interval must be at least 100ms".to_owned(),
            );
        }
        if timeout.is_zero() {
            self.error(
                section,
                Some("healthcheck_timeout"),
                "healthcheck_timeout must be longer than 0".to_owned(),
            );
        }
        if probe.is_none() {
            // Tuning keys without a check would silently do nothing.
            if let Some(key) = TUNING
                .iter()
                .find(|key| self.ini.get(section, key).is_some())
            {
                self.error(
                    section,
                    Some(key),
                    format!("{key} is set but there is no healthcheck to apply it to"),
                );
            }
        }
        probe.map(|probe| HealthCheck {
            probe,
            interval,
            timeout,
            retries,
            start_period,
            action,
        })
    }

    /// The checks that need every group: `depends_on` names that exist, conditions the
    /// target can meet (`healthy` needs a `healthcheck`, `log_ready` a `ready_log`), and no
    /// cycle. Errors go on the `depends_on` line of the dependent.
    pub(crate) fn check_dependencies(&mut self, groups: &[GroupConfig]) {
        let mut reported: Vec<(String, String)> = Vec::new();
        for group in groups {
            for process in &group.processes {
                let section = self.program_section(&process.program_name);
                for dependency in &process.deps.depends_on {
                    let Some(targets) = crate::graph::resolve(groups, &dependency.target) else {
                        let message = format!(
                            "depends_on names {:?}, which is no program, group or process \
                             (write a program name, group:*, or group:process)",
                            dependency.target
                        );
                        self.error_once(&mut reported, &section, message);
                        continue;
                    };
                    for target in targets {
                        let deps = &target.deps;
                        let missing = match dependency.condition {
                            Condition::Healthy if deps.healthcheck.is_none() => Some("healthcheck"),
                            Condition::LogReady if deps.ready_log.is_none() => Some("ready_log"),
                            _ => None,
                        };
                        if let Some(key) = missing {
                            let message = format!(
                                "depends_on {}:{} but {} has no {key}",
                                dependency.target, dependency.condition, target.name
                            );
                            self.error_once(&mut reported, &section, message);
                        }
                    }
                }
            }
        }
        let graph = Graph::from_groups(groups);
        if let Some(cycle) = graph.find_cycle() {
            let steps: Vec<String> = cycle
                .iter()
                .map(|node| {
                    let program = crate::graph::find_process(groups, node)
                        .map(|process| process.program_name.clone())
                        .unwrap_or_default();
                    let section = self.program_section(&program);
                    match self.ini.get(&section, "depends_on") {
                        Some(entry) => format!(
                            "{node} ({}:{})",
                            self.ini.file(entry.file).display(),
                            entry.line
                        ),
                        None => node.clone(),
                    }
                })
                .collect();
            let first = cycle.first().cloned().unwrap_or_default();
            let program = crate::graph::find_process(groups, &first)
                .map(|process| process.program_name.clone())
                .unwrap_or_default();
            let section = self.program_section(&program);
            self.error(
                &section,
                Some("depends_on"),
                format!(
                    "dependency cycle: {} -> {first}; remove one of these depends_on entries",
                    steps.join(" -> ")
                ),
            );
        }
    }

    fn error_once(&mut self, reported: &mut Vec<(String, String)>, section: &str, message: String) {
        let key = (section.to_owned(), message.clone());
        if reported.contains(&key) {
            return;
        }
        reported.push(key);
        // `error` keeps one error per section and key; several problems on one line are
        // joined instead of dropped.
        match self.errors.iter_mut().find(|error| {
            error.section.as_deref() == Some(section) && error.key.as_deref() == Some("depends_on")
        }) {
            Some(error) => {
                error.message.push_str("; ");
                error.message.push_str(&message);
            }
            None => self.error(section, Some("depends_on"), message),
        }
    }

    /// The section a program came from.
    fn program_section(&self, program: &str) -> String {
        ["program", "fcgi-program", "eventlistener"]
            .iter()
            .map(|kind| format!("{kind}:{program}"))
            .find(|section| self.ini.has_section(section))
            .unwrap_or_else(|| format!("program:{program}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_depends_on() {
        let parsed = depends_on("feed, migrate:completed_successfully, db:healthy, bus:*, bus:w_0")
            .expect("parses");
        let pairs: Vec<(&str, Condition)> = parsed
            .iter()
            .map(|d| (d.target.as_str(), d.condition))
            .collect();
        assert_eq!(
            pairs,
            [
                ("feed", Condition::Running),
                ("migrate", Condition::CompletedSuccessfully),
                ("db", Condition::Healthy),
                ("bus:*", Condition::Running),
                ("bus:w_0", Condition::Running),
            ]
        );
        assert_eq!(
            depends_on("bus:*:log_ready").expect("parses")[0],
            Dependency {
                target: "bus:*".into(),
                condition: Condition::LogReady
            }
        );
        assert!(depends_on("").expect("empty").is_empty());
        let error = depends_on("db:helthy").expect_err("misspelt");
        assert!(error.contains("unknown condition \"helthy\""), "{error}");
        assert!(error.contains("completed_successfully"), "{error}");
        assert!(depends_on(":running").is_err());
        assert!(depends_on("g:p:nope").is_err());
    }

    #[test]
    fn parses_probes() {
        assert_eq!(
            probe("http://127.0.0.1:8080/health?x=1", true),
            Ok(Probe::Http {
                url: "http://127.0.0.1:8080/health?x=1".into(),
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/health?x=1".into()
            })
        );
        assert_eq!(
            probe("http://localhost", true),
            Ok(Probe::Http {
                url: "http://localhost".into(),
                host: "localhost".into(),
                port: 80,
                path: "/".into()
            })
        );
        assert_eq!(
            probe("tcp://[::1]:5432", false),
            Ok(Probe::Tcp {
                host: "::1".into(),
                port: 5432
            })
        );
        assert_eq!(
            probe("exec: pg_isready -q", true),
            Ok(Probe::Exec {
                command: "pg_isready -q".into()
            })
        );
        assert_eq!(
            probe("file:/run/x.ready", false),
            Ok(Probe::File {
                path: "/run/x.ready".into()
            })
        );
        for (bad, why) in [
            ("tcp://127.0.0.1", "no port"),
            ("tcp://:80", "no host"),
            ("tcp://h:99999", "not a port number"),
            ("https://h/x", "https is not supported"),
            ("file:relative", "must be absolute"),
            ("exec:", "no command"),
            ("ftp://h", "unknown kind"),
        ] {
            let error = probe(bad, true).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert!(probe("exec:true", false)
            .expect_err("no exec in wait_for")
            .contains("healthcheck only"));
        assert_eq!(
            probe("tcp://127.0.0.1:4222", false)
                .expect("parses")
                .to_string(),
            "tcp://127.0.0.1:4222"
        );
    }

    fn load(
        programs: &str,
    ) -> (
        tempfile::TempDir,
        Result<crate::Config, crate::ConfigErrors>,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.conf");
        let text =
            format!("[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\n{programs}");
        std::fs::write(&path, text).expect("write");
        let result = crate::load(&path, &crate::LoadOptions::default());
        (dir, result)
    }

    #[test]
    fn reads_every_key_with_defaults() {
        let (_dir, result) = load(
            "[program:db]\ncommand=/bin/cat\nhealthcheck=tcp://127.0.0.1:5432\n\
             [program:app]\ncommand=/bin/cat\ndepends_on=db:healthy\nready_log=^listening on \\d+\n\
             healthcheck=http://127.0.0.1:8080/health\nhealthcheck_interval=2s\nhealthcheck_timeout=500ms\n\
             healthcheck_retries=5\nhealthcheck_start_period=10s\nhealthcheck_action=stop\n\
             on_dependency_failure=restart\nwait_for=tcp://127.0.0.1:4222, file:/run/x\nwait_for_timeout=5s\n\
             [program:plain]\ncommand=/bin/cat\n",
        );
        let config = result.expect("loads");
        let find = |name: &str| {
            config
                .groups
                .iter()
                .flat_map(|g| g.processes.iter())
                .find(|p| p.name == name)
                .expect(name)
                .deps
                .clone()
        };
        assert!(find("plain").is_default());
        let db = find("db");
        let check = db.healthcheck.expect("db check");
        assert_eq!(
            (
                check.interval,
                check.timeout,
                check.retries,
                check.start_period,
                check.action
            ),
            (
                Duration::from_secs(30),
                Duration::from_secs(5),
                3,
                Duration::ZERO,
                HealthAction::Restart
            )
        );
        let app = find("app");
        assert_eq!(
            app.depends_on,
            [Dependency {
                target: "db".into(),
                condition: Condition::Healthy
            }]
        );
        assert_eq!(app.ready_log.as_deref(), Some("^listening on \\d+"));
        let check = app.healthcheck.expect("app check");
        assert_eq!(
            (
                check.interval,
                check.timeout,
                check.retries,
                check.start_period,
                check.action
            ),
            (
                Duration::from_secs(2),
                Duration::from_millis(500),
                5,
                Duration::from_secs(10),
                HealthAction::Stop
            )
        );
        assert_eq!(app.on_dependency_failure, DependencyFailure::Restart);
        assert_eq!(app.wait_for.len(), 2);
        assert_eq!(app.wait_for_timeout, Duration::from_secs(5));
    }

    fn errors_of(programs: &str) -> Vec<String> {
        let (dir, result) = load(programs);
        let errors = result.expect_err("must be rejected");
        errors
            .iter()
            .map(|e| {
                e.to_string()
                    .replace(&dir.path().display().to_string(), "DIR")
            })
            .collect()
    }

    #[test]
    fn rejects_unknown_names_and_unmeetable_conditions_at_the_line() {
        let errors = errors_of(
            "[program:app]\ncommand=/bin/cat\ndepends_on=nope, db:healthy, db:log_ready\n\
             [program:db]\ncommand=/bin/cat\n",
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error = &errors[0];
        assert!(
            error.starts_with("DIR/main.conf:6: [program:app] depends_on: "),
            "{error}"
        );
        assert!(
            error.contains("depends_on names \"nope\", which is no program"),
            "{error}"
        );
        assert!(
            error.contains("db:healthy but db has no healthcheck"),
            "{error}"
        );
        assert!(
            error.contains("db:log_ready but db has no ready_log"),
            "{error}"
        );
    }

    #[test]
    fn rejects_a_cycle_naming_every_step_with_file_and_line() {
        let errors = errors_of(
            "[program:a]\ncommand=/bin/cat\ndepends_on=b\n\
             [program:b]\ncommand=/bin/cat\ndepends_on=c:started\n\
             [program:c]\ncommand=/bin/cat\ndepends_on=a\n",
        );
        assert_eq!(
            errors,
            ["DIR/main.conf:6: [program:a] depends_on: dependency cycle: a (DIR/main.conf:6) -> \
              b (DIR/main.conf:9) -> c (DIR/main.conf:12) -> a; remove one of these depends_on entries"]
        );
    }

    #[test]
    fn rejects_bad_values() {
        let errors = errors_of(
            "[program:a]\ncommand=/bin/cat\nhealthcheck_retries=0\nhealthcheck=tcp://h\n\
             on_dependency_failure=explode\nwait_for=exec:true\nready_log=(\n\
             [program:b]\ncommand=/bin/cat\nhealthcheck_interval=5s\n",
        );
        let joined = errors.join("\n");
        for part in [
            "healthcheck_retries: invalid healthcheck_retries \"0\"",
            "healthcheck: invalid check \"tcp://h\": no port",
            "on_dependency_failure: invalid on_dependency_failure \"explode\": expected stop, restart, ignore",
            "wait_for: invalid check \"exec:true\"",
            "ready_log: invalid regular expression",
            "[program:b] healthcheck_interval: healthcheck_interval is set but there is no healthcheck",
        ] {
            assert!(joined.contains(part), "{part} not in\n{joined}");
        }
    }

    #[test]
    fn groups_and_processes_as_targets() {
        let (_dir, result) = load(
            "[group:bus]\nprograms=nats\n\
             [program:nats]\ncommand=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n\
             [program:a]\ncommand=/bin/cat\ndepends_on=bus:*\n\
             [program:b]\ncommand=/bin/cat\ndepends_on=bus:nats_1:started, nats\n",
        );
        let config = result.expect("loads");
        let graph = Graph::from_groups(&config.groups);
        let deps = |node: &str| -> Vec<String> {
            let index = graph.node(node).expect(node);
            graph
                .dependencies(index)
                .iter()
                .map(|e| format!("{}:{}", graph.name(e.dependency), e.condition))
                .collect()
        };
        assert_eq!(deps("a"), ["bus:nats_0:running", "bus:nats_1:running"]);
        assert_eq!(
            deps("b"),
            [
                "bus:nats_1:started",
                "bus:nats_0:running",
                "bus:nats_1:running"
            ]
        );
    }
}
