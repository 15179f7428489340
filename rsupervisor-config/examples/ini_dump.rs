//! Prints what the INI reader makes of files, as JSON, for the differential fuzz test
//! (`tests/differential/fuzz_ini.py`): per file, `{"sections": {name: {key: value}},
//! "defaults": {...}, "error_lines": [..]}`.
//!
//! Usage: `ini_dump FILE...` (one JSON document per line).

use rsupervisor_config::ini::Ini;
use serde_json::{json, Map, Value};

fn main() {
    for path in std::env::args_os().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut ini = Ini::new();
        let errors = ini.read_str(&text, std::path::Path::new(&path));
        let mut sections = Map::new();
        for s in &ini.sections {
            let mut keys = Map::new();
            for e in &s.entries {
                keys.insert(e.key.clone(), Value::String(e.value.clone()));
            }
            sections.insert(s.name.clone(), Value::Object(keys));
        }
        let defaults: Map<String, Value> = ini
            .defaults
            .iter()
            .map(|e| (e.key.clone(), Value::String(e.value.clone())))
            .collect();
        let fatal = errors
            .iter()
            .any(|e| e.message.starts_with("File contains no section headers"));
        let lines: Vec<usize> = errors.iter().filter_map(|e| e.line).collect();
        println!(
            "{}",
            json!({"sections": sections, "defaults": defaults, "error_lines": lines, "fatal": fatal})
        );
    }
}
