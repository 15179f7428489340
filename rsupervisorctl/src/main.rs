//! `rsupervisorctl` entry point: parse the command line, run on a single-threaded runtime,
//! exit with the command's status.

#[path = "../../no_libm.rs"]
mod no_libm;

fn main() {
    let cli = rsupervisorctl::cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rsupervisorctl: cannot start the async runtime: {error}");
            std::process::exit(1);
        }
    };
    let status = runtime.block_on(rsupervisorctl::run(cli));
    // Exit at once: nothing left to flush, and a pending stdin read must not hold us up.
    std::process::exit(status);
}
