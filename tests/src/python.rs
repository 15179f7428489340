//! Python supervisor 4.3.0 from PyPI in a virtualenv, for the compatibility tests that run
//! the real `supervisord`, `supervisorctl` and `xmlrpc.client` against our daemon.
//!
//! The virtualenv is the one `tests/differential/run.sh` uses (`$RSUPERVISOR_SV_VENV`, else
//! `$TMPDIR/rsupervisor-sv`): found if it already holds supervisor 4.3.0, created and
//! installed otherwise (a fresh CI machine), under a file lock so parallel tests install it
//! once. A machine that cannot install it fails the test with the reason: nothing is skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The supervisor version the compatibility tests compare against.
pub const SUPERVISOR_VERSION: &str = "4.3.0";

/// The virtualenv's `bin/` directory, holding `python`, `supervisord` and `supervisorctl`.
pub fn supervisor_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = std::env::var_os("RSUPERVISOR_SV_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("rsupervisor-sv"));
        let lock_path = venv.with_extension("lock");
        let lock = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", lock_path.display()));
        let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .unwrap_or_else(|(_, e)| panic!("locking {}: {e}", lock_path.display()));
        let bin = venv.join("bin");
        if !installed(&bin) {
            run(
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
                "creating the virtualenv (needs python3 with the venv module)",
            );
            run(
                Command::new(bin.join("pip"))
                    .args(["install", "-q"])
                    .arg(format!("supervisor=={SUPERVISOR_VERSION}")),
                "installing supervisor from PyPI",
            );
            assert!(
                installed(&bin),
                "supervisor {SUPERVISOR_VERSION} still not importable from {}",
                venv.display()
            );
        }
        bin
    })
}

/// The virtualenv's `python`, with the PyPI package `package` (importable as `module`)
/// installed as well, for tests that check our output with a real parser.
pub fn python_with(package: &str, module: &str) -> PathBuf {
    let bin = supervisor_bin();
    let python = bin.join("python");
    let importable = || {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !importable() {
        let lock_path = bin.with_file_name("extra.lock");
        let lock = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", lock_path.display()));
        let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .unwrap_or_else(|(_, e)| panic!("locking {}: {e}", lock_path.display()));
        if !importable() {
            run(
                Command::new(bin.join("pip")).args(["install", "-q", package]),
                &format!("installing {package} from PyPI"),
            );
        }
    }
    python
}

/// Whether `bin/python` imports supervisor at the expected version.
fn installed(bin: &Path) -> bool {
    Command::new(bin.join("python"))
        .args([
            "-c",
            "import importlib.metadata as m, sys; sys.exit(m.version('supervisor') != sys.argv[1])",
            SUPERVISOR_VERSION,
        ])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The compatibility drivers in `tests/python/` (`xmlrpc_calls.py`, `ctl_run.py`).
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}
