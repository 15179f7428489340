//! Every file in the repository's `conf.d/` must stay valid: the main file is loaded fully,
//! the included files are parsed on their own.

use rsupervisor_config::ini::Ini;
use rsupervisor_config::{load, load_ctl, AutoRestart, GroupKind, LoadOptions};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repo root")
}

#[test]
fn main_config_loads_with_sixbtc_group() {
    let root = repo();
    // The sample keeps its runtime files in ./run (git-ignored); it must exist to load.
    std::fs::create_dir_all(root.join("run")).expect("create run/");
    let config = load(
        &root.join("conf.d/supervisord.conf"),
        &LoadOptions::from_process(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.files.len(), 2);
    assert_eq!(config.groups.len(), 1);
    let group = &config.groups[0];
    assert_eq!(
        (group.name.as_str(), group.kind),
        ("sixbtc", GroupKind::Group)
    );
    let expected = [
        ("generator", 100, AutoRestart::Unexpected),
        ("validator", 200, AutoRestart::Unexpected),
        ("backtester", 300, AutoRestart::Unexpected),
        ("rotator", 400, AutoRestart::Unexpected),
        ("executor", 500, AutoRestart::Always),
        ("monitor", 700, AutoRestart::Always),
        ("scheduler", 800, AutoRestart::Unexpected),
        ("metrics", 850, AutoRestart::Always),
        ("api", 900, AutoRestart::Always),
        ("frontend", 901, AutoRestart::Always),
        ("docs", 902, AutoRestart::Always),
    ];
    let got: Vec<(&str, i64, AutoRestart)> = group
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.priority, p.autorestart))
        .collect();
    assert_eq!(got, expected);
    for p in &group.processes {
        assert!(
            p.command.starts_with("/bin/sh -c 'while :; do echo"),
            "{}",
            p.command
        );
        assert!(
            p.command.contains("+%T"),
            "literal % must survive: {}",
            p.command
        );
    }
    let sock = root.join("run/rsupervisor.sock");
    assert_eq!(
        config.unix_http_server.as_ref().map(|u| u.file.clone()),
        Some(sock.clone())
    );
    let ctl = load_ctl(
        &root.join("conf.d/supervisord.conf"),
        &LoadOptions::from_process(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ctl.serverurl, format!("unix://{}", sock.display()));
    assert_eq!(ctl.prompt, "rsupervisor");
}

#[test]
fn every_conf_d_file_parses() {
    let dir = repo().join("conf.d");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("conf.d") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "conf") {
            continue;
        }
        count += 1;
        let text = std::fs::read_to_string(&path).expect("read");
        let mut ini = Ini::new();
        let errors = ini.read_str(&text, &path);
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        for s in ini
            .sections
            .iter()
            .filter(|s| s.name.starts_with("program:"))
        {
            assert!(
                ini.get(&s.name, "command").is_some(),
                "{}: [{}] has no command",
                path.display(),
                s.name
            );
        }
    }
    assert!(count >= 2);
}
