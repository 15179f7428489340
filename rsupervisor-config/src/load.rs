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
    /// Instance counts that replace `numprocs`, by `[program:x]` name: what
    /// `rsupervisorctl scale` asks for, read with the rest of the program's settings.
    pub numprocs: BTreeMap<String, u32>,
}

impl LoadOptions {
    /// The current process environment and the machine's host name.
    pub fn from_process() -> Self {
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let environment = std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        LoadOptions {
            environment,
            hostname,
            numprocs: BTreeMap::new(),
        }
    }

    pub(crate) fn env_expansions(&self) -> Expansions {
        self.environment
            .iter()
            .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v.clone())))
            .collect()
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
    if errors
        .iter()
        .any(|e| e.message.starts_with("File contains no section headers."))
    {
        return Err(ConfigErrors(errors));
    }
    let mut b = Builder {
        ini: &set.ini,
        here: here.clone(),
        hostname: options.hostname.clone(),
        cwd: cwd.clone(),
        env,
        numprocs: options.numprocs.clone(),
        errors: Vec::new(),
        messages: set.messages,
    };
    let supervisord = b.supervisord();
    b.rpcinterfaces();
    let groups = b.groups();
    if b.errors.is_empty() && errors.is_empty() {
        // Names and cycles need every group; after other errors they would only echo them.
        b.check_dependencies(&groups);
    }
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
    let unknown_keys = crate::suggest::unknown_keys(&set.ini);
    messages.extend(unknown_keys.iter().map(|text| ParseMessage {
        level: LogLevel::Warn,
        text: text.clone(),
    }));
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    // supervisord writes queued messages CRIT first, then WARN, then INFO.
    messages.sort_by_key(|m| std::cmp::Reverse(m.level));
    Ok(Config {
        path: abs,
        files: set.ini.files.clone(),
        supervisord,
        unix_http_server,
        inet_http_server,
        supervisorctl,
        groups,
        messages,
        unknown_keys,
    })
}

/// The default places searched for the configuration when `-c` is not given, in order:
/// `/etc/rsupervisor/rsupervisord.conf`, then supervisord's list.
pub fn default_search_paths(argv0: &Path) -> Vec<PathBuf> {
    let here = py_dirname(&py_dirname(&argv0.to_string_lossy()));
    let join = |tail: &str| {
        if here.is_empty() {
            PathBuf::from(tail)
        } else {
            Path::new(&here).join(tail)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::{CgroupSetting, ResourceLimits};
    use std::fs;

    const HEAD: &str = "[supervisord]\nlogfile=%(here)s/s.log\npidfile=%(here)s/s.pid\n";

    fn opts() -> LoadOptions {
        let mut environment = BTreeMap::new();
        environment.insert("HOME".into(), "/home/t".into());
        environment.insert("MODE".into(), "os".into());
        LoadOptions {
            environment,
            hostname: "box".into(),
            ..LoadOptions::default()
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write");
        p
    }

    fn load_text(text: &str) -> (tempfile::TempDir, Result<Config, ConfigErrors>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(dir.path(), "main.conf", text);
        let r = load(&p, &opts());
        (dir, r)
    }

    fn only_process(c: &Config) -> &ProcessConfig {
        assert_eq!(c.groups.len(), 1);
        &c.groups[0].processes[0]
    }

    #[test]
    fn fcgi_program_sockets_are_read_as_supervisord_reads_them() {
        let (_dir, r) = load_text(&format!(
            "{HEAD}[fcgi-program:web]\ncommand=/bin/cat\nsocket=tcp://LocalHost:0080\n\
             socket_backlog=16\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n\
             [fcgi-program:u]\ncommand=/bin/cat\nsocket=unix:///run/x/../%(program_name)s.sock\n\
             socket_mode=0660\nsocket_owner=0:0\n[fcgi-program:d]\ncommand=/bin/cat\n\
             socket=unix:///run/d.sock\n"
        ));
        let c = r.expect("loads");
        let socket = |name: &str| {
            let group = c.groups.iter().find(|g| g.name == name).expect("group");
            assert_eq!(group.kind, GroupKind::FcgiProgram);
            group.fcgi_socket.clone().expect("socket")
        };
        let web = socket("web");
        assert_eq!(web.url, "tcp://localhost:80");
        assert_eq!(
            web.address,
            FcgiAddress::Tcp {
                host: "localhost".into(),
                port: 80
            }
        );
        assert_eq!(web.backlog, Some(16));
        let u = socket("u");
        assert_eq!(u.url, "unix:///run/u.sock");
        assert_eq!(
            u.address,
            FcgiAddress::Unix {
                path: "/run/u.sock".into(),
                owner: Some((0, Some(0))),
                mode: 0o660
            }
        );
        let d = socket("d");
        assert_eq!(
            (d.address, d.backlog),
            (
                FcgiAddress::Unix {
                    path: "/run/d.sock".into(),
                    owner: None,
                    mode: 0o700
                },
                None
            )
        );
        let plain = c.groups.iter().find(|g| g.kind != GroupKind::FcgiProgram);
        assert!(plain.is_none_or(|g| g.fcgi_socket.is_none()));
    }

    #[test]
    fn fcgi_socket_errors_name_the_section() {
        for (socket, extra, message) in [
            ("tcp://h:70000", "", "70000 is above upper bound (65535) in [fcgi-program:w] socket"),
            ("tcp://h", "", "('Bad socket format %s', 'tcp://h') in [fcgi-program:w] socket"),
            ("tcp://h:1", "socket_mode=0600\n", "socket_owner and socket_mode params should only be used with a Unix domain socket in [fcgi-program:w] socket"),
            ("unix://rel.sock", "", "('Unix socket path %s is not an absolute path', 'rel.sock') in [fcgi-program:w] socket"),
            ("unix:///a.sock", "socket_mode=9\n", "Invalid socket_mode value 9"),
        ] {
            let (_dir, r) = load_text(&format!(
                "{HEAD}[fcgi-program:w]\ncommand=/bin/cat\nsocket={socket}\n{extra}"
            ));
            let errors = r.expect_err(socket);
            assert!(
                errors.0.iter().any(|e| e.to_string().ends_with(message)),
                "{socket}: {errors}"
            );
        }
    }

    #[test]
    fn defaults_match_supervisord() {
        let (dir, r) = load_text(&format!("{HEAD}[program:a]\ncommand=/bin/cat\n"));
        let c = r.expect("loads");
        let s = &c.supervisord;
        assert_eq!(s.logfile, MainLogTarget::File(dir.path().join("s.log")));
        assert_eq!(
            (s.logfile_maxbytes, s.logfile_backups, s.loglevel),
            (50 << 20, 10, LogLevel::Info)
        );
        assert_eq!(
            (s.umask, s.minfds, s.minprocs, s.identifier.as_str()),
            (0o22, 1024, 200, "supervisor")
        );
        assert_eq!(s.childlogdir, std::env::temp_dir());
        let p = only_process(&c);
        assert_eq!(
            (p.name.as_str(), p.group.as_str(), p.priority, p.autostart),
            ("a", "a", 999, true)
        );
        assert_eq!(
            (
                p.autorestart,
                p.exitcodes.clone(),
                p.startsecs,
                p.startretries
            ),
            (AutoRestart::Unexpected, vec![0], 1, 3)
        );
        assert_eq!(
            (
                p.stopsignal.number,
                p.stopwaitsecs,
                p.stopasgroup,
                p.killasgroup
            ),
            (15, 10, false, false)
        );
        assert_eq!(
            (
                p.stdout.logfile.clone(),
                p.stdout.maxbytes,
                p.stdout.backups
            ),
            (LogFile::Auto, 50 << 20, 10)
        );
        assert_eq!(
            (
                p.redirect_stderr,
                p.serverurl.clone(),
                p.umask,
                p.user.clone()
            ),
            (false, None, None, None)
        );
        assert_eq!(c.files, vec![dir.path().join("main.conf")]);
        assert!(
            c.unix_http_server.is_none()
                && c.inet_http_server.is_none()
                && c.supervisorctl.is_none()
        );
    }

    #[test]
    fn relative_main_paths_are_absolute_from_cwd() {
        let (_dir, r) = load_text("[supervisord]\n[program:a]\ncommand=x\n");
        let c = r.expect("loads");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            c.supervisord.logfile,
            MainLogTarget::File(cwd.join("supervisord.log"))
        );
        assert_eq!(c.supervisord.pidfile, cwd.join("supervisord.pid"));
        let (_dir, r) = load_text("[supervisord]\nlogfile=syslog\n");
        assert_eq!(r.expect("loads").supervisord.logfile, MainLogTarget::Syslog);
    }

    #[test]
    fn expansion_name_sets_per_context() {
        let text = format!(
            "{HEAD}environment=MODE=\"global\",G=\"g\"\n[program:a]\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\n\
             environment=MODE=\"local%(process_num)d\"\ncommand=run %(ENV_MODE)s %(ENV_G)s %(ENV_HOME)s %(host_node_name)s %(group_name)s %(numprocs)d\n"
        );
        let (_d, r) = load_text(&text);
        let c = r.expect("loads");
        let names: Vec<&str> = c.groups[0]
            .processes
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["a_00", "a_01"]);
        assert_eq!(
            c.groups[0].processes[1].command,
            "run local1 g /home/t box a 2"
        );
        assert_eq!(
            c.supervisord.environment,
            vec![("MODE".into(), "global".into()), ("G".into(), "g".into())]
        );
        // process_num is not known before the per-process loop; the group priority is read
        // first, with only `here` and ENV_ (one error per key is reported).
        let (_d, r) = load_text(&format!(
            "{HEAD}[program:a]\ncommand=x\npriority=%(process_num)d\n"
        ));
        let e = r.expect_err("fails");
        assert_eq!(e.len(), 1, "{e}");
        assert!(
            e.0[0]
                .message
                .ends_with("Available names: ENV_HOME, ENV_MODE, here"),
            "{e}"
        );
        let (_d, r) = load_text(&format!(
            "{HEAD}[program:a]\ncommand=x\nstartsecs=%(process_num)d\n"
        ));
        let e = r.expect_err("fails");
        assert!(e.0[0].message.contains("contains names ('process_num') which cannot be expanded. Available names: ENV_HOME, ENV_MODE, group_name, here, host_node_name, program_name"), "{e}");
        // [supervisord] does not know host_node_name.
        let (_d, r) = load_text("[supervisord]\nidentifier=%(host_node_name)s\n");
        let e = r.expect_err("fails");
        assert!(
            e.0[0]
                .message
                .ends_with("Available names: ENV_HOME, ENV_MODE, here"),
            "{e}"
        );
    }

    #[test]
    fn includes_here_default_and_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let main = write(
            dir.path(),
            "main.conf",
            &format!("[DEFAULT]\nstartsecs=7\n{HEAD}[include]\nfiles=sub/*.ini nothing/*.conf\n[program:b]\ncommand=main\n"),
        );
        write(
            dir.path(),
            "sub/b.ini",
            "[program:b]\ncommand=%(here)s/bin\npriority=5\n[include]\nfiles=../main.conf\n",
        );
        write(
            dir.path(),
            "sub/a.ini",
            "[program:a]\ncommand=a\nstdout_logfile_maxbytes=0\n",
        );
        let c = load(&main, &opts()).expect("loads");
        let sub = dir.path().join("sub");
        assert_eq!(
            c.files,
            vec![main.clone(), sub.join("a.ini"), sub.join("b.ini")]
        );
        let b = c.groups.iter().find(|g| g.name == "b").expect("b");
        assert_eq!(b.processes[0].command, format!("{}/bin", sub.display()));
        assert_eq!((b.priority, b.processes[0].startsecs), (5, 7));
        let texts: Vec<String> = c
            .messages
            .iter()
            .map(|m| format!("{} {}", m.level.tag(), m.text))
            .collect();
        assert_eq!(
            texts,
            vec![
                format!("WARN No file matches via include \"{}/nothing/*.conf\"", dir.path().display()),
                "WARN For [program:a], AUTO logging used for stdout_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally".to_string(),
                format!("INFO Included extra file \"{}\" during parsing", sub.join("a.ini").display()),
                format!("INFO Included extra file \"{}\" during parsing", sub.join("b.ini").display()),
            ]
        );
    }

    #[test]
    fn every_error_is_reported_with_location() {
        let dir = tempfile::tempdir().expect("tempdir");
        let main = write(
            dir.path(),
            "main.conf",
            &format!("{HEAD}[include]\nfiles=x.conf\n[program:a]\nautostart=maybe\n"),
        );
        write(
            dir.path(),
            "x.conf",
            "[program:b]\ncommand=x\nstartsecs=abc\ngarbage\n[group:g]\nprograms=b,zz\n",
        );
        let e = load(&main, &opts()).expect_err("fails");
        let x = dir.path().join("x.conf");
        let lines: Vec<String> = e.0.iter().map(|e| e.to_string()).collect();
        let m = main.display();
        let xd = x.display();
        assert_eq!(
            lines,
            vec![
                format!("{xd}:4: Source contains parsing errors: '{xd}'\n\t[line  4]: 'garbage\\n'"),
                format!("{xd}:3: [program:b] startsecs: invalid literal for int() with base 10: 'abc'"),
                format!("{xd}:6: [group:g] programs: [program:b] names unknown program or fcgi-program zz"),
                format!("{m}:7: [program:a] autostart: not a valid boolean value: 'maybe'"),
                format!("{m}:6: [program:a] command: program section program:a does not specify a command"),
            ]
        );
    }

    #[test]
    fn restart_policy_keys() {
        let (_d, r) = load_text(&format!(
            "{HEAD}[program:a]\ncommand=x\nrestart_delay=500ms\nrestart_delay_max=1m\n\
             restart_delay_reset=2h\nrestart_limit=5/300s\nrestart_limit_cooldown=600\n"
        ));
        let c = r.expect("loads");
        let policy = only_process(&c).restart;
        assert_eq!(policy.delay, std::time::Duration::from_millis(500));
        assert_eq!(policy.delay_max, std::time::Duration::from_secs(60));
        assert_eq!(policy.delay_reset, std::time::Duration::from_secs(7200));
        assert_eq!(
            policy.limit,
            Some(RestartLimit {
                starts: 5,
                window: std::time::Duration::from_secs(300)
            })
        );
        assert_eq!(
            policy.limit_cooldown,
            Some(std::time::Duration::from_secs(600))
        );
        // None set: supervisord's behaviour.
        let (_d, r) = load_text(&format!("{HEAD}[program:a]\ncommand=x\n"));
        assert_eq!(
            only_process(&r.expect("loads")).restart,
            RestartPolicy::default()
        );
    }

    #[test]
    fn status_report_interval() {
        let (_d, r) = load_text(&format!("{HEAD}status_report_interval=5m\n"));
        assert_eq!(
            r.expect("loads").supervisord.status_report_interval,
            Some(std::time::Duration::from_secs(300))
        );
        let (_d, r) = load_text(HEAD);
        assert_eq!(r.expect("loads").supervisord.status_report_interval, None);
        let (_d, r) = load_text(&format!("{HEAD}status_report_interval=10ms\n"));
        let error = r.expect_err("too short").to_string();
        assert!(
            error.contains(":4: [supervisord] status_report_interval: status_report_interval must be at least 1s"),
            "{error}"
        );
    }

    #[test]
    fn access_and_audit_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = write(
            dir.path(),
            "tokens",
            "# bots\nci control 0123456789abcdef\nbad admin 0123456789abcdeX\n",
        );
        let text = format!(
            "{HEAD}audit_logfile=%(here)s/audit.log\naudit_logfile_backups=3\n\
             [unix_http_server]\nfile=%(here)s/s.sock\ncontrol_users=alice, bob\n\
             read_groups=staff\n[inet_http_server]\nport=127.0.0.1:9001\n"
        );
        let p = write(dir.path(), "main.conf", &text);
        let config = load(&p, &opts()).expect("loads");
        let audit = config.supervisord.audit.expect("audit log");
        assert_eq!(audit.path, dir.path().join("audit.log"));
        assert_eq!(audit.backups, 3);
        assert_eq!(audit.maxbytes, 50 * 1024 * 1024);
        let unix = config.unix_http_server.expect("unix");
        assert_eq!(
            unix.access.control_users,
            Some(vec!["alice".to_owned(), "bob".to_owned()])
        );
        assert_eq!(unix.access.read_groups, Some(vec!["staff".to_owned()]));
        assert!(config.inet_http_server.expect("inet").access.is_unset());
        // Without the keys: nothing changes, not even the printed model.
        let (_d, r) = load_text(HEAD);
        let plain = r.expect("loads");
        assert_eq!(plain.supervisord.audit, None);
        assert!(!crate::to_json(&plain).contains("audit"));

        // A bad tokens file is reported at its own line.
        let text = format!(
            "{HEAD}[unix_http_server]\nfile=%(here)s/s.sock\ntokens_file={}\n",
            tokens.display()
        );
        let p = write(dir.path(), "bad.conf", &text);
        let error = load(&p, &opts()).expect_err("bad role").to_string();
        assert!(
            error.contains(&format!(
                "{}:3: [unix_http_server] tokens_file: invalid role \"admin\": expected read or control",
                tokens.display()
            )),
            "{error}"
        );
        let text = format!("{HEAD}[unix_http_server]\nfile=%(here)s/s.sock\nread_users= , \n");
        let (_d, r) = load_text(&text);
        let error = r.expect_err("empty list").to_string();
        assert!(
            error.contains(":6: [unix_http_server] read_users: empty list"),
            "{error}"
        );
    }

    #[test]
    fn numprocs_can_be_replaced_by_program_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            "main.conf",
            &format!(
                "{HEAD}[program:agent]\ncommand=run %(process_num)d\nprocess_name=a_%(process_num)d\n\
                 numprocs=2\nnumprocs_start=1\n[program:solo]\ncommand=x\n"
            ),
        );
        let mut options = opts();
        options.numprocs.insert("agent".into(), 4);
        let c = load(&p, &options).expect("loads");
        let agent = c.groups.iter().find(|g| g.name == "agent").expect("agent");
        let names: Vec<&str> = agent.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a_1", "a_2", "a_3", "a_4"]);
        assert_eq!(agent.processes[3].command, "run 4");
        // A program whose process_name cannot tell instances apart cannot have several.
        options.numprocs.insert("solo".into(), 2);
        let error = load(&p, &options).expect_err("refused").to_string();
        assert!(
            error.contains("[program:solo] process_name: %(process_num) must be present"),
            "{error}"
        );
    }

    #[test]
    fn log_format_keys() {
        let (_d, r) = load_text(&format!(
            "{HEAD}logfile_format=JSON\n[program:a]\ncommand=x\nstdout_log_format=json\n\
             stderr_log_format=timestamped\n"
        ));
        let c = r.expect("loads");
        assert_eq!(c.supervisord.logfile_format, MainLogFormat::Json);
        let p = only_process(&c);
        assert_eq!(
            (p.stdout.format, p.stderr.format),
            (LogFormat::Json, LogFormat::Timestamped)
        );
        let (_d, r) = load_text(&format!("{HEAD}[program:a]\ncommand=x\n"));
        let c = r.expect("loads");
        assert_eq!(c.supervisord.logfile_format, MainLogFormat::Text);
        assert_eq!(only_process(&c).stdout.format, LogFormat::Raw);

        let (dir, r) = load_text(&format!(
            "{HEAD}logfile_format=xml\n[program:a]\ncommand=x\nstdout_log_format=yaml\n"
        ));
        let m = dir.path().join("main.conf");
        let lines: Vec<String> = r
            .expect_err("fails")
            .0
            .iter()
            .map(|e| e.to_string())
            .collect();
        let m = m.display();
        assert_eq!(
            lines,
            vec![
                format!("{m}:4: [supervisord] logfile_format: invalid log format \"xml\": expected text or json"),
                format!("{m}:7: [program:a] stdout_log_format: invalid log format \"yaml\": expected raw, timestamped or json"),
            ]
        );
    }

    #[test]
    fn resource_keys() {
        let (_d, r) = load_text(&format!(
            "{HEAD}cgroups=off\n[program:a]\ncommand=x\nmemory_max=512MB\nmemory_high=400MB\n\
             cpu_max=0.5\npids_max=64\nrlimit_nofile=4096\nrlimit_core=unlimited\nrlimit_as=2GB\n"
        ));
        let c = r.expect("loads");
        assert_eq!(c.supervisord.cgroups, CgroupSetting::Off);
        assert_eq!(
            only_process(&c).resources,
            ResourceLimits {
                memory_max: Some(512 << 20),
                memory_high: Some(400 << 20),
                memory_restart: None,
                cpu_max: Some(500),
                pids_max: Some(64),
                rlimit_nofile: Some(4096),
                rlimit_core: Some(u64::MAX),
                rlimit_as: Some(2 << 30),
            }
        );
        let (_d, r) = load_text(&format!("{HEAD}[program:a]\ncommand=x\n"));
        let c = r.expect("loads");
        assert_eq!(c.supervisord.cgroups, CgroupSetting::Auto);
        assert_eq!(only_process(&c).resources, ResourceLimits::default());

        let (dir, r) = load_text(&format!(
            "{HEAD}cgroups=yes\n[program:a]\ncommand=x\nmemory_max=1GB\nmemory_high=2GB\n\
             cpu_max=lots\npids_max=0\nmemory_restart=1GB\n"
        ));
        let m = dir.path().join("main.conf");
        let lines: Vec<String> = r
            .expect_err("fails")
            .0
            .iter()
            .map(|e| e.to_string())
            .collect();
        let m = m.display();
        assert_eq!(
            lines,
            vec![
                format!("{m}:4: [supervisord] cgroups: invalid cgroups value \"yes\": expected auto or off"),
                format!("{m}:10: [program:a] pids_max: invalid pids_max \"0\": expected a whole number of processes, at least 1"),
                format!("{m}:9: [program:a] cpu_max: invalid cpu_max \"lots\": expected a number of cores from 0.01 to 4096, for example 0.5 (half a core) or 2"),
                format!("{m}:8: [program:a] memory_high: memory_high (2 GB) must be below memory_max (1 GB): it is the level where the kernel starts reclaiming, before the hard limit"),
                format!("{m}:11: [program:a] memory_restart: memory_restart (1 GB) must be below memory_max (1 GB): the graceful restart has to come before the kernel's OOM killer"),
            ]
        );
    }

    #[test]
    fn restart_policy_errors_name_file_line_and_key() {
        let (dir, r) = load_text(&format!(
            "{HEAD}[program:a]\ncommand=x\nrestart_delay=5s\nrestart_delay_max=2s\n\
             restart_limit_cooldown=10m\n[program:b]\ncommand=x\nrestart_limit=5\n\
             restart_delay=soon\n"
        ));
        let m = dir.path().join("main.conf");
        let m = m.display();
        let lines: Vec<String> = r
            .expect_err("fails")
            .0
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            lines,
            vec![
                format!("{m}:7: [program:a] restart_delay_max: restart_delay_max (2s) is shorter than restart_delay (5s): set it to 0 for a fixed delay, or to at least restart_delay"),
                format!("{m}:8: [program:a] restart_limit_cooldown: restart_limit_cooldown needs restart_limit (for example restart_limit = 5/300s): without a limit there is nothing to cool down from"),
                format!("{m}:12: [program:b] restart_delay: invalid duration \"soon\": expected seconds, or a number followed by ms, s, m, h or d (for example 500ms, 30s, 5m)"),
                format!("{m}:11: [program:b] restart_limit: invalid restart limit \"5\": no '/'; expected STARTS/DURATION, for example 5/300s (at most 5 starts in any 300 seconds), or off"),
            ]
        );
    }

    #[test]
    fn logging_warnings_and_redirect() {
        let text = format!(
            "{HEAD}[program:a]\ncommand=x\nredirect_stderr=true\nstderr_logfile=%(here)s/e.log\nstdout_logfile=SYSLOG\n[rpcinterface:other]\nsupervisor.rpcinterface_factory=my.mod:make\n"
        );
        let (_d, r) = load_text(&text);
        let c = r.expect("loads");
        let p = only_process(&c);
        assert_eq!(
            (
                p.stdout.logfile.clone(),
                p.stdout.syslog,
                p.stderr.logfile.clone()
            ),
            (LogFile::None, true, LogFile::None)
        );
        let texts: Vec<&str> = c.messages.iter().map(|m| m.text.as_str()).collect();
        assert!(texts.contains(&"For [program:a], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead."));
        assert!(texts.contains(&"For [program:a], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"));
        assert!(texts.iter().any(|t| t.starts_with(
            "[rpcinterface:other] supervisor.rpcinterface_factory = my.mod:make is ignored"
        )));
        let (_d, r) = load_text(&format!("{HEAD}[rpcinterface:x]\nfoo=bar\n"));
        assert_eq!(
            r.expect_err("fails").0[0].message,
            "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory"
        );
    }

    #[test]
    fn servers_and_ctl_sections() {
        let text = format!(
            "{HEAD}[unix_http_server]\nfile=%(here)s/../x/./s.sock\nchmod=0770\nchown=root:0\n[inet_http_server]\nport=*:9001\nusername=u\npassword=p\n\
             [supervisorctl]\nserverurl=unix://%(here)s/s.sock\nhistory_file=%(here)s/h\n"
        );
        let (dir, r) = load_text(&text);
        let c = r.expect("loads");
        let parent = dir.path().parent().expect("parent");
        let u = c.unix_http_server.expect("unix");
        assert_eq!(
            (u.file, u.chmod, u.chown),
            (parent.join("x/s.sock"), 0o770, Some((0, Some(0))))
        );
        let i = c.inet_http_server.expect("inet");
        assert_eq!(
            (i.host.as_str(), i.port, i.username.as_deref()),
            ("", 9001, Some("u"))
        );
        let ctl = c.supervisorctl.expect("ctl");
        assert_eq!(
            ctl.serverurl,
            format!("unix://{}/s.sock", dir.path().display())
        );
        assert_eq!(ctl.history_file, Some(dir.path().join("h")));
        let (_d, r) = load_text(&format!(
            "{HEAD}[unix_http_server]\nfile=/tmp/s\nchmod=9\nchown=nosuchuser\n"
        ));
        let msgs: Vec<String> = r
            .expect_err("fails")
            .0
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(
            msgs,
            [
                "Invalid sockchown value nosuchuser",
                "Invalid chmod value 9"
            ]
        );
    }

    #[test]
    fn load_ctl_variants() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let p = write(d, "a.conf", "[supervisorctl]\n");
        let c = crate::load_ctl(&p, &opts()).expect("ctl");
        assert_eq!(
            (
                c.serverurl.as_str(),
                c.prompt.as_str(),
                c.username.clone(),
                c.history_file.clone()
            ),
            ("http://localhost:9001", "supervisor", None, None)
        );
        let p = write(d, "b.conf", "[unix_http_server]\nfile=%(here)s/run.sock\n[supervisorctl]\nusername=u\npassword=p\nprompt=hi\n");
        let c = crate::load_ctl(&p, &opts()).expect("ctl");
        assert_eq!(c.serverurl, format!("unix://{}/run.sock", d.display()));
        assert_eq!(
            (
                c.username.as_deref(),
                c.password.as_deref(),
                c.prompt.as_str()
            ),
            (Some("u"), Some("p"), "hi")
        );
        let p = write(d, "c.conf", "[unix_http_server]\nfile=/x\n[supervisorctl]\nserverurl=http://h:1\n[include]\nfiles=nothing\n");
        assert_eq!(
            crate::load_ctl(&p, &opts()).expect("ctl").serverurl,
            "http://h:1"
        );
        let p = write(d, "d.conf", "[supervisord]\n");
        assert_eq!(
            crate::load_ctl(&p, &opts()).expect_err("fails").0[0].message,
            ".ini file does not include supervisorctl section"
        );
        let e = crate::load_ctl(&d.join("missing.conf"), &opts()).expect_err("fails");
        assert!(e.0[0].message.starts_with("could not find config file "));
    }

    #[test]
    fn search_paths_and_missing_file() {
        let paths = default_search_paths(Path::new("/usr/local/bin/rsupervisord"));
        assert_eq!(
            paths[0],
            PathBuf::from("/etc/rsupervisor/rsupervisord.conf")
        );
        assert_eq!(paths[1], PathBuf::from("/usr/local/etc/supervisord.conf"));
        assert_eq!(paths[2], PathBuf::from("/usr/local/supervisord.conf"));
        assert_eq!(
            default_search_paths(Path::new("rsupervisord"))[1],
            PathBuf::from("etc/supervisord.conf")
        );
        if paths.iter().all(|p| !p.exists()) {
            let e = find_config_file(Path::new("/usr/local/bin/rsupervisord")).expect_err("none");
            assert_eq!(
                e.to_string(),
                "No config file found at default paths (/etc/rsupervisor/rsupervisord.conf, /usr/local/etc/supervisord.conf, \
                 /usr/local/supervisord.conf, supervisord.conf, etc/supervisord.conf, /etc/supervisord.conf, \
                 /etc/supervisor/supervisord.conf); use the -c option to specify a config file at a different path"
            );
        }
        let e = load(Path::new("/nonexistent/x.conf"), &opts()).expect_err("fails");
        assert_eq!(
            e.to_string(),
            "could not find config file /nonexistent/x.conf"
        );
    }

    #[test]
    fn summary_and_json() {
        let (_d, r) = load_text(&format!("{HEAD}[group:g]\nprograms=a,b\n[program:a]\ncommand=/bin/a\npriority=2\n[program:b]\ncommand=/bin/b\npriority=1\nautorestart=true\nstdout_logfile=NONE\n[program:c]\ncommand=c\n"));
        let c = r.expect("loads");
        assert_eq!(
            c.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["c", "g"]
        );
        assert_eq!(
            c.groups[1]
                .processes
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        let s = crate::summary(&c);
        assert!(s.contains("[group] g (priority 999, 2 processes)"), "{s}");
        assert!(s.contains("  g:b\n    command: /bin/b\n    priority=1 autostart=true autorestart=true\n    stdout_logfile=NONE stderr_logfile=AUTO"), "{s}");
        assert!(s.ends_with("2 groups, 3 processes, 1 file read"), "{s}");
        let v: serde_json::Value = serde_json::from_str(&crate::to_json(&c)).expect("json");
        assert_eq!(v["groups"][1]["processes"][0]["autorestart"], "always");
        assert_eq!(v["groups"][0]["kind"], "program");
    }
}
