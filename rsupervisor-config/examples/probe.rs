//! Runs single value conversions for the differential fuzz test
//! (`tests/differential/fuzz_values.py`). Reads JSON lines `[kind, input]` on stdin and writes
//! JSON lines `{"ok": value}` or `{"err": message}`.
//!
//! Kinds: boolean, integer, byte_size, octal, signal, exitcodes, autorestart, name, inet,
//! environment, expand (names: `s`="str", `n`=7, `ENV_X`="x").

use rsupervisor_config::datatypes as dt;
use rsupervisor_config::expand::{expand, Expansions, Value};
use serde_json::json;
use std::io::BufRead;

fn main() {
    let mut names = Expansions::new();
    names.insert("s".into(), Value::Str("str".into()));
    names.insert("n".into(), Value::Int(7));
    names.insert("ENV_X".into(), Value::Str("x".into()));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok((kind, input)) = serde_json::from_str::<(String, String)>(&line) else {
            continue;
        };
        let out: Result<serde_json::Value, String> = match kind.as_str() {
            "boolean" => dt::boolean(&input).map(|v| json!(v)),
            "integer" => dt::integer(&input).map(|v| json!(v)),
            "byte_size" => dt::byte_size(&input).map(|v| json!(v)),
            "octal" => dt::octal(&input).map(|v| json!(v)),
            "signal" => dt::parse_signal(&input).map(|v| json!(v.number)),
            "exitcodes" => dt::exit_codes(&input).map(|v| json!(v)),
            "autorestart" => dt::auto_restart(&input).map(|v| json!(v)),
            "name" => dt::process_or_group_name(&input).map(|v| json!(v)),
            "inet" => dt::inet_address(&input).map(|v| json!(v)),
            "environment" => dt::dict_of_key_value_pairs(&input).map(|v| json!(v)),
            "expand" => expand(&input, &names, "program:x.command").map(|v| json!(v)),
            _ => Err(format!("unknown kind {kind}")),
        };
        let doc = match out {
            Ok(v) => json!({ "ok": v }),
            Err(e) => json!({ "err": e }),
        };
        println!("{doc}");
    }
}
