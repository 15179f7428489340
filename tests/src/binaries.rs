//! Locating the binaries under test: `rsupervisord`, `rsupervisorctl` and the `fixture` child.
//!
//! Integration tests run from `<target>/debug/deps/e2e-xxxx`, and cargo puts the workspace's
//! binaries in `<target>/debug/`, so that is where they are looked up. `cargo test -p
//! rsupervisor-e2e` builds `fixture` (a bin of this package) but not the daemon or the ctl, which
//! live in other packages: build those first with `cargo build --workspace --bins`. An environment
//! variable overrides each lookup, e.g. to test a release build.

use std::path::PathBuf;

/// Path of `rsupervisord` (`$RSUPERVISORD_BIN` overrides).
pub fn rsupervisord() -> PathBuf {
    locate("rsupervisord", "RSUPERVISORD_BIN")
}

/// Path of `rsupervisorctl` (`$RSUPERVISORCTL_BIN` overrides).
pub fn rsupervisorctl() -> PathBuf {
    locate("rsupervisorctl", "RSUPERVISORCTL_BIN")
}

/// Path of the `fixture` child program (`$RSUPERVISOR_FIXTURE_BIN` overrides).
pub fn fixture() -> PathBuf {
    locate("fixture", "RSUPERVISOR_FIXTURE_BIN")
}

/// Looks `name` up in `$env_var`, then next to the running test executable.
fn locate(name: &str, env_var: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "${env_var} is set to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("the test executable's path is readable");
    // `<target>/debug/deps/e2e-xxxx` -> `<target>/debug/deps`, then `<target>/debug`.
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(name))
        .collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "cannot find the `{name}` binary (looked in {candidates:?}); run \
                 `cargo build --workspace --bins` first, or set ${env_var}"
            )
        })
}
