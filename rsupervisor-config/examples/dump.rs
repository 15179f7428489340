//! Prints the effective configuration of a file as JSON (what `rsupervisord --check --json`
//! will print), or the errors on stderr with exit status 2. Parse messages (warnings, include
//! notices) go to stderr as `TAG text` lines.
//!
//! Usage: `cargo run -q -p rsupervisor-config --example dump -- FILE`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: dump FILE");
        return ExitCode::from(2);
    };
    match rsupervisor_config::load(&path, &rsupervisor_config::LoadOptions::from_process()) {
        Ok(config) => {
            for m in &config.messages {
                eprintln!("{} {}", m.level.tag(), m.text);
            }
            println!("{}", rsupervisor_config::to_json(&config));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::from(2)
        }
    }
}
