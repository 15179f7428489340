// Placeholder for the ctl branch; replaced by the config branch at merge.
//! Minimal reader of the settings `rsupervisorctl` needs (`[supervisorctl]`,
//! `[unix_http_server] file`), standing in for the config branch's `load_ctl`.

use crate::SignalSpec;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Process-wide inputs to loading (environment for `%(ENV_X)s`).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    env: HashMap<String, String>,
}

impl LoadOptions {
    /// Options taken from the running process (its environment).
    pub fn from_process() -> Self {
        LoadOptions {
            env: std::env::vars().collect(),
        }
    }
}

/// What `rsupervisorctl` reads from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    /// Where the daemon listens.
    pub serverurl: String,
    /// `[supervisorctl] username`.
    pub username: Option<String>,
    /// `[supervisorctl] password`.
    pub password: Option<String>,
    /// `[supervisorctl] prompt`, default `supervisor`.
    pub prompt: String,
    /// `[supervisorctl] history_file`.
    pub history_file: Option<PathBuf>,
}

/// Every problem found, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads the ctl's settings from `path`.
pub fn load_ctl(path: &Path, options: &LoadOptions) -> Result<CtlConfig, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigErrors(vec![format!("could not read {}: {error}", path.display())])
    })?;
    let here = path
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let sections = parse_sections(&text);
    let expand = |value: &str| {
        let mut out = value.replace("%(here)s", &here.to_string_lossy());
        for (key, val) in &options.env {
            out = out.replace(&format!("%(ENV_{key})s"), val);
        }
        out.replace("%%", "%")
    };
    let Some(ctl) = sections.get("supervisorctl") else {
        return Err(ConfigErrors(vec![
            ".ini file does not include supervisorctl section".into(),
        ]));
    };
    let absolute = |p: String| {
        if Path::new(&p).is_absolute() {
            p
        } else {
            here.join(p).to_string_lossy().into_owned()
        }
    };
    let serverurl = match ctl.get("serverurl") {
        Some(url) => {
            let url = expand(url);
            match url.strip_prefix("unix://") {
                Some(p) => format!("unix://{}", absolute(p.to_owned())),
                None => url,
            }
        }
        None => match sections.get("unix_http_server").and_then(|s| s.get("file")) {
            Some(file) => format!("unix://{}", absolute(expand(file))),
            None => "http://localhost:9001".to_owned(),
        },
    };
    Ok(CtlConfig {
        serverurl,
        username: ctl.get("username").map(|v| expand(v)),
        password: ctl.get("password").map(|v| expand(v)),
        prompt: ctl
            .get("prompt")
            .map(|v| expand(v))
            .unwrap_or_else(|| "supervisor".into()),
        history_file: ctl.get("history_file").map(|v| PathBuf::from(expand(v))),
    })
}

fn parse_sections(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            sections.entry(name.trim().to_owned()).or_default();
        } else if let (Some(section), Some(at)) = (&current, line.find(['=', ':'])) {
            let (key, value) = line.split_at(at);
            sections
                .entry(section.clone())
                .or_default()
                .insert(key.trim().to_lowercase(), value[1..].trim().to_owned());
        }
    }
    sections
}

fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if (*b == b';' || *b == b'#') && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &line[..i];
        }
    }
    line
}

/// Parses a signal name (`TERM`, `sigterm`) or number.
pub fn parse_signal(value: &str) -> Result<SignalSpec, String> {
    use std::str::FromStr;
    if let Ok(number) = value.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(number)
            .map(|s| SignalSpec { number: s as i32 })
            .map_err(|_| format!("value '{value}' is not a valid signal number"));
    }
    let upper = value.to_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .map(|s| SignalSpec { number: s as i32 })
        .map_err(|_| format!("value '{value}' is not a valid signal name"))
}
