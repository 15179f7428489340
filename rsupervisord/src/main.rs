//! The `rsupervisord` binary: everything lives in the library ([`rsupervisord::main_entry`]).

#[path = "../../no_libm.rs"]
mod no_libm;

fn main() -> std::process::ExitCode {
    rsupervisord::main_entry()
}
