//! `load_ctl`: what `rsupervisorctl -c FILE` needs from a configuration file.

use crate::build::supervisorctl_section;
use crate::datatypes::{expand_user, normalize_path};
use crate::error::{ConfigError, ConfigErrors};
use crate::expand::{expand, Value};
use crate::include::{py_dirname, read_main_keeping};
use crate::load::{cwd, LoadOptions};
use std::path::{Path, PathBuf};

/// The client settings, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    /// `[supervisorctl] serverurl`; else `unix://<[unix_http_server] file>` if that section
    /// exists; else `http://localhost:9001`.
    pub serverurl: String,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `prompt`, default `supervisor`.
    pub prompt: String,
    /// `history_file`, made absolute.
    pub history_file: Option<PathBuf>,
}

/// Reads `[supervisorctl]` (and `[unix_http_server] file`) from one file; `[include]` is
/// ignored as supervisorctl ignores it.
pub fn load_ctl(path: &Path, options: &LoadOptions) -> Result<CtlConfig, ConfigErrors> {
    let cwd = cwd();
    let abs = normalize_path(&path.to_string_lossy(), &cwd);
    let here = py_dirname(&abs.to_string_lossy());
    // Only the two sections the ctl reads are kept; every line is still checked.
    let (ini, errors) = read_main_keeping(path, &abs, &|name| {
        name == "supervisorctl" || name.starts_with("unix_http_server")
    })?;
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    if !ini.has_section("supervisorctl") {
        return Err(ConfigErrors::single(
            ConfigError::new(".ini file does not include supervisorctl section").with_file(&abs),
        ));
    }
    let env = options.env_expansions();
    let locate = |section: &str, key: Option<&str>, message: String| {
        let e = key.and_then(|k| ini.get(section, k));
        ConfigError {
            file: Some(e.map_or(abs.clone(), |e| ini.file(e.file).to_path_buf())),
            line: e
                .map(|e| e.line)
                .or_else(|| ini.section(section).map(|s| s.line)),
            section: Some(section.to_string()),
            key: key.map(str::to_string),
            message,
        }
    };
    let mut cfg = supervisorctl_section(&ini, &here, &env, &cwd)
        .map_err(|(s, k, m)| ConfigErrors::single(locate(&s, k.as_deref(), m)))?;
    if ini.get("supervisorctl", "serverurl").is_none() {
        if let Some(sec) = ini
            .sections
            .iter()
            .find(|s| s.name.starts_with("unix_http_server"))
        {
            if let Some(e) = ini.get(&sec.name, "file") {
                let mut names = env.clone();
                names.insert("here".into(), Value::Str(here.clone()));
                let file = expand(&e.value, &names, &format!("{}.file", sec.name))
                    .map_err(|m| ConfigErrors::single(locate(&sec.name, Some("file"), m)))?;
                cfg.serverurl = format!(
                    "unix://{}",
                    normalize_path(&expand_user(file.trim()), &cwd).display()
                );
            }
        }
    }
    Ok(CtlConfig {
        serverurl: cfg.serverurl,
        username: cfg.username,
        password: cfg.password,
        prompt: cfg.prompt,
        history_file: cfg.history_file,
    })
}
