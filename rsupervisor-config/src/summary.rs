//! Human and JSON renderings of the effective configuration (`rsupervisord --check`).

use crate::model::*;
use std::fmt::Write as _;

fn logfile(l: &LogFile) -> String {
    match l {
        LogFile::None => "NONE".into(),
        LogFile::Auto => "AUTO".into(),
        LogFile::Path(p) => p.display().to_string(),
    }
}

fn autorestart(a: AutoRestart) -> &'static str {
    match a {
        AutoRestart::Never => "false",
        AutoRestart::Unexpected => "unexpected",
        AutoRestart::Always => "true",
    }
}

fn kind(k: GroupKind) -> &'static str {
    match k {
        GroupKind::Program => "program",
        GroupKind::Group => "group",
        GroupKind::EventListener => "eventlistener",
        GroupKind::FcgiProgram => "fcgi-program",
    }
}

/// The summary printed by `rsupervisord --check`: files, main settings, every group and
/// process with its command, priority, autostart, autorestart and log files, and counts.
pub fn summary(config: &Config) -> String {
    let mut out = String::new();
    let procs: usize = config.groups.iter().map(|g| g.processes.len()).sum();
    let _ = writeln!(out, "Configuration: {}", config.path.display());
    for f in config.files.iter().skip(1) {
        let _ = writeln!(out, "  included: {}", f.display());
    }
    let s = &config.supervisord;
    let main_log = match &s.logfile {
        MainLogTarget::File(p) => p.display().to_string(),
        MainLogTarget::Syslog => "syslog".into(),
    };
    let _ = writeln!(
        out,
        "supervisord: logfile={main_log} pidfile={} childlogdir={} loglevel={}",
        s.pidfile.display(),
        s.childlogdir.display(),
        format!("{:?}", s.loglevel).to_lowercase()
    );
    if let Some(u) = &config.unix_http_server {
        let _ = writeln!(
            out,
            "unix_http_server: file={} chmod={:04o}",
            u.file.display(),
            u.chmod
        );
    }
    if let Some(i) = &config.inet_http_server {
        let host = if i.host.is_empty() {
            "*"
        } else {
            i.host.as_str()
        };
        let _ = writeln!(out, "inet_http_server: port={host}:{}", i.port);
    }
    for g in &config.groups {
        let _ = writeln!(
            out,
            "[{}] {} (priority {}, {} process{})",
            kind(g.kind),
            g.name,
            g.priority,
            g.processes.len(),
            if g.processes.len() == 1 { "" } else { "es" }
        );
        for p in &g.processes {
            let _ = writeln!(out, "  {}:{}", g.name, p.name);
            let _ = writeln!(out, "    command: {}", p.command.replace('\n', " "));
            let _ = writeln!(
                out,
                "    priority={} autostart={} autorestart={}",
                p.priority,
                p.autostart,
                autorestart(p.autorestart)
            );
            if let Some(job) = &p.schedule {
                let _ = writeln!(
                    out,
                    "    schedule: {} ({}; overlap={}{}{})",
                    job.schedule,
                    job.timezone.as_deref().unwrap_or("local time"),
                    format!("{:?}", job.overlap).to_lowercase(),
                    if job.catchup { ", catch-up" } else { "" },
                    job.timeout
                        .map(|t| format!(", timeout {}", crate::policy::format_duration(t)))
                        .unwrap_or_default()
                );
            }
            let stderr = if p.redirect_stderr {
                "(redirected to stdout)".to_string()
            } else {
                logfile(&p.stderr.logfile)
            };
            let _ = writeln!(
                out,
                "    stdout_logfile={} stderr_logfile={}",
                logfile(&p.stdout.logfile),
                stderr
            );
        }
    }
    let _ = write!(
        out,
        "{} group{}, {} process{}, {} file{} read",
        config.groups.len(),
        if config.groups.len() == 1 { "" } else { "s" },
        procs,
        if procs == 1 { "" } else { "es" },
        config.files.len(),
        if config.files.len() == 1 { "" } else { "s" }
    );
    out
}

/// The effective configuration as pretty-printed JSON (`rsupervisord --check --json`).
pub fn to_json(config: &Config) -> String {
    serde_json::to_string_pretty(config).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
