//! Where to connect and how to behave: the configuration file (found as supervisorctl finds
//! it, with our own path first), the `[supervisorctl]` settings and the command-line
//! overrides. Problems here are usage errors (exit 2), reported before anything is contacted.

use rsupervisor_api::transport::Endpoint;
use rsupervisor_config::{load_ctl, LoadOptions};
use std::path::{Path, PathBuf};

use crate::cli::GlobalArgs;

/// Our own configuration path, tried before supervisord's list.
pub const OWN_CONFIG: &str = "/etc/rsupervisor/rsupervisord.conf";

/// Everything the session needs from the command line and configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `unix:///path` (or an unsupported `http://...`).
    pub serverurl: String,
    /// Username, if any.
    pub username: Option<String>,
    /// Password, if any.
    pub password: Option<String>,
    /// The shell prompt without its `> ` suffix.
    pub prompt: String,
    /// Readline history file.
    pub history_file: Option<PathBuf>,
    /// `--json` given before the action.
    pub json: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            serverurl: "http://localhost:9001".to_owned(),
            username: None,
            password: None,
            prompt: "supervisor".to_owned(),
            history_file: None,
            json: false,
        }
    }
}

/// The configuration files tried when no `-c` is given, in order.
pub fn default_config_paths(argv0: &Path) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(OWN_CONFIG)];
    if let Some(dir) = argv0.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        paths.push(dir.join("../etc/supervisord.conf"));
        paths.push(dir.join("../supervisord.conf"));
    }
    for path in [
        "supervisord.conf",
        "etc/supervisord.conf",
        "/etc/supervisord.conf",
        "/etc/supervisor/supervisord.conf",
    ] {
        paths.push(PathBuf::from(path));
    }
    paths
}

/// supervisorctl's URL check for `-s`: a scheme and something after it.
pub fn validate_url(value: &str) -> Result<(), String> {
    let not_a_url = || format!("value '{value}' is not a URL");
    let (scheme, rest) = value.split_once(':').ok_or_else(not_a_url)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if scheme_ok && !rest.is_empty() && rest != "//" {
        Ok(())
    } else {
        Err(not_a_url())
    }
}

/// Builds the settings from the flags and the configuration file. The error is the text
/// after `Error: ` of a usage error.
pub fn resolve(globals: &GlobalArgs, argv0: &Path) -> Result<Settings, String> {
    if let Some(url) = &globals.serverurl {
        validate_url(url).map_err(|message| format!("invalid value for -s '{url}': {message}"))?;
    }
    let config_path = match &globals.configuration {
        Some(path) if !path.exists() => {
            return Err(format!("could not find config file {}", path.display()));
        }
        Some(path) => Some(path.clone()),
        None => default_config_paths(argv0)
            .into_iter()
            .find(|path| path.is_file()),
    };
    let mut settings = Settings::default();
    if let Some(path) = config_path {
        let config = load_ctl(&path, &LoadOptions::from_process()).map_err(|errors| {
            let text = errors.to_string();
            if text.contains(&path.display().to_string()) {
                text
            } else {
                format!("{text} (in {})", path.display())
            }
        })?;
        settings.serverurl = config.serverurl;
        settings.username = config.username;
        settings.password = config.password;
        settings.prompt = config.prompt;
        settings.history_file = config.history_file;
    }
    if let Some(url) = &globals.serverurl {
        settings.serverurl = url.clone();
    }
    if globals.username.is_some() {
        settings.username = globals.username.clone();
    }
    if globals.password.is_some() {
        settings.password = globals.password.clone();
    }
    if globals.history_file.is_some() {
        settings.history_file = globals.history_file.clone();
    }
    settings.json = globals.json;
    Ok(settings)
}

/// Where a `unix://` or `http://` server URL points, or the operator-facing reason we cannot
/// use the URL.
pub fn endpoint(serverurl: &str) -> Result<Endpoint, String> {
    if let Some(path) = serverurl.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(format!(
                "rsupervisorctl: {serverurl} names no socket path; use unix:///path/to/socket"
            ));
        }
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if serverurl.starts_with("http://") {
        let url = jsonrpsee::client_transport::ws::Url::parse(serverurl)
            .map_err(|error| format!("rsupervisorctl: cannot use {serverurl}: {error}"))?;
        let host = url
            .host_str()
            .map(|host| {
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned()
            })
            .filter(|host| !host.is_empty())
            .ok_or_else(|| format!("rsupervisorctl: {serverurl} names no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        return Ok(Endpoint::Tcp { host, port });
    }
    Err(format!(
        "rsupervisorctl: cannot connect to {serverurl}: use unix:///path/to/socket or \
         http://host:port"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn url_validation_matches_supervisorctl() {
        assert_eq!(
            validate_url("notaurl"),
            Err("value 'notaurl' is not a URL".to_owned())
        );
        assert!(validate_url("unix:///tmp/s.sock").is_ok());
        assert!(validate_url("http://localhost:9001").is_ok());
        assert!(validate_url("http://").is_err());
        assert!(validate_url("1http://x").is_err());
    }

    #[test]
    fn bad_serverurl_is_a_usage_error() {
        let globals = GlobalArgs {
            serverurl: Some("notaurl".into()),
            ..GlobalArgs::default()
        };
        assert_eq!(
            resolve(&globals, Path::new("/usr/bin/rsupervisorctl")),
            Err("invalid value for -s 'notaurl': value 'notaurl' is not a URL".to_owned())
        );
    }

    #[test]
    fn missing_config_file_is_reported() {
        let globals = GlobalArgs {
            configuration: Some("/nonexistent/x.conf".into()),
            ..GlobalArgs::default()
        };
        assert_eq!(
            resolve(&globals, Path::new("rsupervisorctl")),
            Err("could not find config file /nonexistent/x.conf".to_owned())
        );
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("rsctl-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("s.conf");
        let mut file = std::fs::File::create(&path).expect("create");
        writeln!(
            file,
            "[unix_http_server]\nfile=/run/x.sock\n[supervisorctl]\nusername=a\nprompt=box"
        )
        .expect("write");
        let globals = GlobalArgs {
            configuration: Some(path.clone()),
            ..GlobalArgs::default()
        };
        let settings = resolve(&globals, Path::new("rsupervisorctl")).expect("resolves");
        assert_eq!(settings.serverurl, "unix:///run/x.sock");
        assert_eq!(settings.username.as_deref(), Some("a"));
        assert_eq!(settings.prompt, "box");
        let globals = GlobalArgs {
            configuration: Some(path),
            serverurl: Some("unix:///other.sock".into()),
            username: Some("b".into()),
            ..GlobalArgs::default()
        };
        let settings = resolve(&globals, Path::new("rsupervisorctl")).expect("resolves");
        assert_eq!(settings.serverurl, "unix:///other.sock");
        assert_eq!(settings.username.as_deref(), Some("b"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn default_search_list_starts_with_our_path() {
        let paths = default_config_paths(Path::new("/opt/x/bin/rsupervisorctl"));
        assert_eq!(paths[0], PathBuf::from(OWN_CONFIG));
        assert_eq!(
            paths[1],
            PathBuf::from("/opt/x/bin/../etc/supervisord.conf")
        );
        assert_eq!(
            paths.last(),
            Some(&PathBuf::from("/etc/supervisor/supervisord.conf"))
        );
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint("unix:///run/s.sock"),
            Ok(Endpoint::Unix(PathBuf::from("/run/s.sock")))
        );
        assert_eq!(
            endpoint("http://localhost:9001"),
            Ok(Endpoint::Tcp {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            endpoint("http://[::1]:9002/RPC2"),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 9002
            })
        );
        assert_eq!(
            endpoint("http://10.0.0.1"),
            Ok(Endpoint::Tcp {
                host: "10.0.0.1".into(),
                port: 80
            })
        );
        assert!(endpoint("unix://").is_err());
        assert!(endpoint("ftp://x").is_err());
    }
}
