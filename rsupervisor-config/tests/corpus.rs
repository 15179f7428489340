//! Walks `tests/fixtures/config/{valid,invalid}` at the repository root.
//!
//! - `valid/NAME.conf` must load, and its groups and parse messages must equal
//!   `valid/NAME.expected.json` (the fixture directory is written as `<here>` there).
//! - `invalid/NAME.conf` must fail, and every line of `invalid/NAME.expected.txt` must appear
//!   in the error text.
//!
//! Set `RSUPERVISOR_UPDATE_EXPECTED=1` to rewrite the expected JSON files (only after the
//! differential check in `tests/differential/run.sh` agrees with supervisord).

use rsupervisor_config::{load, LoadOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/config")
        .canonicalize()
        .expect("fixture dir")
}

fn options() -> LoadOptions {
    let mut environment = BTreeMap::new();
    environment.insert("HOME".to_string(), "/home/tester".to_string());
    environment.insert("PATH".to_string(), "/usr/bin:/bin".to_string());
    LoadOptions {
        environment,
        hostname: "testhost".to_string(),
        ..LoadOptions::default()
    }
}

fn confs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn valid_fixtures_load_and_match_expected() {
    let dir = fixtures().join("valid");
    let here = dir.to_string_lossy().into_owned();
    let update = std::env::var_os("RSUPERVISOR_UPDATE_EXPECTED").is_some();
    let files = confs(&dir);
    assert!(
        files.len() >= 30,
        "need at least 30 valid fixtures, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for conf in files {
        let config = match load(&conf, &options()) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: unexpected errors:\n{e}", conf.display()));
                continue;
            }
        };
        let value = serde_json::json!({
            "groups": config.groups,
            "messages": config.messages,
            "supervisord_environment": config.supervisord.environment,
        });
        let text = serde_json::to_string_pretty(&value)
            .expect("json")
            .replace(&here, "<here>")
            + "\n";
        let expected_path = conf.with_extension("expected.json");
        if update {
            std::fs::write(&expected_path, &text).expect("write expected");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == text => {}
            Ok(_) => failures.push(format!(
                "{}: output differs from {}:\n{text}",
                conf.display(),
                expected_path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: missing {}",
                conf.display(),
                expected_path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_fixtures_fail_with_expected_text() {
    let dir = fixtures().join("invalid");
    let files = confs(&dir);
    assert!(
        files.len() >= 20,
        "need at least 20 invalid fixtures, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for conf in files {
        let expected =
            std::fs::read_to_string(conf.with_extension("expected.txt")).expect("expected.txt");
        match load(&conf, &options()) {
            Ok(_) => failures.push(format!("{}: loaded but should fail", conf.display())),
            Err(errors) => {
                let text = errors.to_string();
                for line in expected.lines().filter(|l| !l.is_empty()) {
                    if !text.contains(line) {
                        failures.push(format!("{}: missing {line:?} in:\n{text}", conf.display()));
                    }
                }
                for e in &errors.0 {
                    assert!(
                        e.file.is_some(),
                        "{}: error without file: {e}",
                        conf.display()
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
