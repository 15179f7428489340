//! `rsupervisorctl`: a drop-in for supervisorctl 4.3.0 that talks to `rsupervisord` over its
//! Unix socket.
//!
//! Module map:
//! - [`cli`]: global flags (clap) and generated completions / man page;
//! - [`settings`]: configuration file lookup, `[supervisorctl]` settings, `-s` validation;
//! - [`action`]: the verb grammar (`tail -f name stderr`) and its usage errors;
//! - [`session`]: connection, up-check, dispatch, error reporting (supervisorctl's Controller);
//! - [`commands`]: one file per verb, generic over the RPC client;
//! - [`shell`]: the interactive prompt;
//! - [`output`]: pure formatting; [`exit`]: the exit status table.

pub mod action;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod output;
pub mod session;
pub mod settings;
pub mod shell;

use std::io::Write;
use std::path::PathBuf;

/// Runs the program for a parsed command line and returns its exit status.
pub async fn run(cli: cli::Cli) -> i32 {
    let globals = &cli.globals;
    if let Some(shell) = globals.generate_completions {
        cli::write_completions(shell, &mut std::io::stdout().lock());
        return exit::OK;
    }
    if globals.generate_man {
        return match cli::write_man(&mut std::io::stdout().lock()) {
            Ok(()) => exit::OK,
            Err(error) => {
                eprintln!("rsupervisorctl: could not write the man page: {error}");
                exit::GENERIC
            }
        };
    }
    let argv0 = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .unwrap_or_default();
    let settings = match cli::check(&cli).and_then(|()| settings::resolve(globals, &argv0)) {
        Ok(settings) => settings,
        Err(message) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "Error: {message}");
            let _ = writeln!(stderr, "For help, use {} -h", argv0.display());
            return exit::INVALID_ARGS;
        }
    };
    // As supervisorctl: with an action, run it and exit with its status, even with -i.
    if !cli.command.is_empty() {
        let mut session = session::Session::new(settings, false);
        session.execute(&cli.command.join(" ")).await;
        return session.status;
    }
    let mut session = session::Session::new(settings, true);
    shell::run(&mut session).await
}
