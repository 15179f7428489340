//! The `rsupervisord` binary: everything lives in the library ([`rsupervisord::main_entry`]).

fn main() -> std::process::ExitCode {
    rsupervisord::main_entry()
}
