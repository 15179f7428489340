//! `load`: the daemon's entry point; `find_config_file`: the default search path.

use crate::build::{supervisorctl_section, Builder};
use crate::datatypes::normalize_path;
use crate::error::{ConfigError, ConfigErrors};
use crate::expand::{Expansions, Value};
use crate::include::{py_dirname, read_file_set};
use crate::model::{Config, LogLevel, ParseMessage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Inputs of a load that come from the outside world, so tests can fix them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// The environment supervisord started with; each `K` becomes `%(ENV_K)s`.
    pub environment: BTreeMap<String, String>,
    /// `%(host_node_name)s`.
    pub hostname: String,
}

impl LoadOptions {
    /// The current process environment and the machine's host name.
    pub fn from_process() -> Self {
        let hostname = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
        let environment = std::env::vars_os()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        LoadOptions { environment, hostname }
    }

    pub(crate) fn env_expansions(&self) -> Expansions {
        self.environment.iter().map(|(k, v)| (format!("ENV_{k}"), Value::Str(v.clone()))).collect()
    }
}

/// The current directory, for relative paths (falls back to `/`).
pub(crate) fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// Loads the main configuration file and everything it includes, converts and checks every
/// value, and returns the effective configuration or every error found.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Config, ConfigErrors> {
    let cwd = cwd();
    let abs = normalize_path(&path.to_string_lossy(), &cwd);
    let here = py_dirname(&abs.to_string_lossy());
    let env = options.env_expansions();
    let set = read_file_set(path, &abs, &here, &env, &options.hostname)?;
    let mut errors = set.errors;
    // Like Python's MissingSectionHeaderError, a file without a section header stops the load.
    if errors.iter().any(|e| e.message.starts_with("File contains no section headers.")) {
        return Err(ConfigErrors(errors));
    }
    let mut b = Builder {
        ini: &set.ini,
        here: here.clone(),
        hostname: options.hostname.clone(),
        cwd: cwd.clone(),
        env,
        errors: Vec::new(),
        messages: set.messages,
    };
    let supervisord = b.supervisord();
    b.rpcinterfaces();
    let groups = b.groups();
    let inet_http_server = b.inet_http_server();
    let unix_http_server = b.unix_http_server();
    let supervisorctl = if set.ini.has_section("supervisorctl") {
        match supervisorctl_section(&set.ini, &here, &options.env_expansions(), &cwd) {
            Ok(c) => Some(c),
            Err((_, key, msg)) => {
                // supervisord itself never reads this section, so this is not fatal.
                b.messages.push(ParseMessage {
                    level: LogLevel::Warn,
                    text: format!("[supervisorctl] {}: {msg}", key.unwrap_or_default()),
                });
                None
            }
        }
    } else {
        None
    };
    errors.extend(b.errors);
    let mut messages = b.messages;
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    // supervisord writes queued messages CRIT first, then WARN, then INFO.
    messages.sort_by(|a, b| b.level.cmp(&a.level));
    Ok(Config {
        path: abs,
        files: set.ini.files.clone(),
        supervisord,
        unix_http_server,
        inet_http_server,
        supervisorctl,
        groups,
        messages,
    })
}

/// The default places searched for the configuration when `-c` is not given, in order:
/// `/etc/rsupervisor/rsupervisord.conf`, then supervisord's list.
pub fn default_search_paths(argv0: &Path) -> Vec<PathBuf> {
    let here = py_dirname(&py_dirname(&argv0.to_string_lossy()));
    let join = |tail: &str| if here.is_empty() { PathBuf::from(tail) } else { Path::new(&here).join(tail) };
    vec![
        PathBuf::from("/etc/rsupervisor/rsupervisord.conf"),
        join("etc/supervisord.conf"),
        join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// Finds the configuration file the way supervisord does (with rsupervisor's own path first).
pub fn find_config_file(argv0: &Path) -> Result<PathBuf, ConfigErrors> {
    let paths = default_search_paths(argv0);
    if let Some(p) = paths.iter().find(|p| p.exists()) {
        return Ok(p.clone());
    }
    let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Err(ConfigErrors::single(ConfigError::new(format!(
        "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
        list.join(", ")
    ))))
}
