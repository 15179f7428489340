//! A child's environment: its layers, their precedence, where each variable came from, and
//! the masking of secrets for display (`rsupervisorctl env`).
//!
//! Lowest first (a later layer wins): the daemon's own environment; supervisord's
//! `SUPERVISOR_*` variables; `[supervisord] env_file` files in order; `[supervisord]
//! environment`; the program's `env_file` files in order; the program's `environment`.
//! Without `env_file` this is exactly supervisord's order.

use crate::spawn::SpawnContext;
use rsupervisor_api::EnvVar;
use rsupervisor_config::ProcessConfig;
use std::collections::BTreeMap;

/// Where one variable came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The daemon's own environment.
    Daemon,
    /// `SUPERVISOR_ENABLED`, `SUPERVISOR_SERVER_URL`, `SUPERVISOR_PROCESS_NAME`, ...
    Supervisor,
    /// A `[supervisord] env_file` file.
    GlobalEnvFile(String),
    /// `[supervisord] environment`.
    GlobalEnvironment,
    /// One of the program's `env_file` files.
    EnvFile(String),
    /// The program's `environment`.
    Environment,
}

impl Source {
    /// How `rsupervisorctl env` names it.
    pub fn describe(&self) -> String {
        match self {
            Source::Daemon => "daemon environment".to_owned(),
            Source::Supervisor => "supervisor".to_owned(),
            Source::GlobalEnvFile(path) => format!("[supervisord] env_file {path}"),
            Source::GlobalEnvironment => "[supervisord] environment".to_owned(),
            Source::EnvFile(path) => format!("env_file {path}"),
            Source::Environment => "environment".to_owned(),
        }
    }
}

/// Every layer's variables, lowest first; a name may appear several times (the last wins).
pub fn layers(config: &ProcessConfig, context: &SpawnContext) -> Vec<(String, String, Source)> {
    let mut all: Vec<(String, String, Source)> = std::env::vars()
        .map(|(k, v)| (k, v, Source::Daemon))
        .collect();
    let mut supervisor = vec![("SUPERVISOR_ENABLED".to_owned(), "1".to_owned())];
    if let Some(url) = &context.server_url {
        supervisor.push(("SUPERVISOR_SERVER_URL".to_owned(), url.clone()));
    }
    supervisor.push(("SUPERVISOR_PROCESS_NAME".to_owned(), config.name.clone()));
    supervisor.push(("SUPERVISOR_GROUP_NAME".to_owned(), config.group.clone()));
    let mut add = |vars: &[(String, String)], source: Source| {
        all.extend(
            vars.iter()
                .map(|(k, v)| (k.clone(), v.clone(), source.clone())),
        );
    };
    add(&supervisor, Source::Supervisor);
    for file in &context.global_env_files {
        add(
            &file.vars,
            Source::GlobalEnvFile(file.path.display().to_string()),
        );
    }
    add(&context.global_environment, Source::GlobalEnvironment);
    for file in &config.env_files {
        add(&file.vars, Source::EnvFile(file.path.display().to_string()));
    }
    add(&config.environment, Source::Environment);
    all
}

/// The child's environment, as handed to the spawn (the last of a repeated name wins).
pub fn build(config: &ProcessConfig, context: &SpawnContext) -> Vec<(String, String)> {
    layers(config, context)
        .into_iter()
        .map(|(k, v, _)| (k, v))
        .collect()
}

/// The effective environment for display, sorted by name, each variable with its source;
/// values of names that look like secrets are masked.
pub fn effective(config: &ProcessConfig, context: &SpawnContext) -> Vec<EnvVar> {
    let mut last: BTreeMap<String, (String, Source)> = BTreeMap::new();
    for (name, value, source) in layers(config, context) {
        last.insert(name, (value, source));
    }
    last.into_iter()
        .map(|(name, (value, source))| EnvVar {
            value: if looks_secret(&name) {
                MASK.to_owned()
            } else {
                value
            },
            name,
            source: source.describe(),
        })
        .collect()
}

/// What a masked value shows.
pub const MASK: &str = "********";

/// Names that hold secrets by convention: `*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*_KEY`, ...
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: [&str; 8] = [
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "TOKEN",
        "CREDENTIAL",
        "PRIVATE",
        "API_KEY",
    ];
    WORDS.iter().any(|word| upper.contains(word)) || upper.ends_with("KEY")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsupervisor_config::EnvFile;

    #[test]
    fn secrets_are_recognised() {
        for name in [
            "DB_PASSWORD",
            "api_key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_KEY",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["PATH", "HOME", "KEYBOARD", "API_URL", "LOG_LEVEL"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn precedence_and_sources() {
        let file = |path: &str, vars: &[(&str, &str)]| EnvFile {
            path: path.into(),
            optional: false,
            found: true,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.conf");
        std::fs::write(
            &path,
            "[supervisord]\nlogfile=%(here)s/l\npidfile=%(here)s/p\n[program:web]\ncommand=x\n",
        )
        .expect("write");
        let loaded =
            rsupervisor_config::load(&path, &rsupervisor_config::LoadOptions::from_process())
                .expect("loads");
        let mut config = (*loaded.groups[0].processes[0]).clone();
        config.env_files = vec![
            file("/a.env", &[("LAYER", "file a"), ("ONLY_A", "1")]),
            file("/b.env", &[("LAYER", "file b"), ("DB_PASSWORD", "hunter2")]),
        ];
        config.environment = vec![("TOP".into(), "env".into())];
        let context = SpawnContext {
            global_environment: vec![("LAYER".into(), "global".into()), ("G".into(), "g".into())],
            global_env_files: vec![file("/g.env", &[("G", "file"), ("GF", "x")])],
            server_url: None,
            cgroup: None,
            ..SpawnContext::default()
        };
        let vars = effective(&config, &context);
        let get = |name: &str| {
            vars.iter()
                .find(|v| v.name == name)
                .map(|v| (v.value.as_str(), v.source.as_str()))
        };
        assert_eq!(get("LAYER"), Some(("file b", "env_file /b.env")));
        assert_eq!(get("ONLY_A"), Some(("1", "env_file /a.env")));
        assert_eq!(get("G"), Some(("g", "[supervisord] environment")));
        assert_eq!(get("GF"), Some(("x", "[supervisord] env_file /g.env")));
        assert_eq!(get("TOP"), Some(("env", "environment")));
        assert_eq!(get("DB_PASSWORD"), Some((MASK, "env_file /b.env")));
        assert_eq!(get("SUPERVISOR_PROCESS_NAME"), Some(("web", "supervisor")));
        // The spawn gets the real value, and the last layer wins for a repeated name.
        let built = build(&config, &context);
        let last = |name: &str| {
            built
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(last("DB_PASSWORD"), Some("hunter2"));
        assert_eq!(last("LAYER"), Some("file b"));
    }
}
