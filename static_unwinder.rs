// Shared by the build scripts of rsupervisord and rsupervisorctl (`include!`d): links the
// unwinder statically, so that neither binary needs libgcc_s.so.1 at run time.
//
// Why: Rust's std on linux-gnu takes its unwinder (`_Unwind_*`, what a panic and a
// backtrace use) from libgcc_s.so.1. Loading it costs every start of our binaries about
// 0.1 ms: ld.so maps and relocates one more library, and its constructor
// (`__cpu_indicator_init`) probes the CPU with `cpuid`, which traps to the hypervisor on a
// virtual machine (7.5 us per instruction on the project's machine). Every
// `rsupervisorctl` command is a new process, so it is on the path of each one
// (BENCHMARKS.md, "Issue 19, sixth pass"). The same unwinder ships with gcc as the static
// archive libgcc_eh.a: a one-line linker script named libgcc_s.so, first on the library
// search path, makes rustc's `-lgcc_s` link that archive instead. Panics unwind as before
// (tokio still catches a task's panic). Other targets, static builds and a C compiler
// without libgcc_eh.a keep the default.

/// Puts `libgcc_s.so` (a linker script: `INPUT(-lgcc_eh)`) in OUT_DIR and OUT_DIR first on
/// the library search path, when the target is dynamically linked glibc and `cc` has
/// libgcc_eh.a.
fn link_unwinder_statically() {
    println!("cargo:rerun-if-changed=../static_unwinder.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|feature| feature == "crt-static");
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" || static_crt {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let found = std::process::Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|path| std::path::Path::new(path).is_absolute());
    if found.is_none() {
        println!("cargo:warning={cc} has no libgcc_eh.a: linking the unwinder dynamically (libgcc_s.so.1)");
        return;
    }
    let out_dir = std::path::PathBuf::from(var("OUT_DIR"));
    std::fs::write(out_dir.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n")
        .expect("cannot write the unwinder's linker script to OUT_DIR");
    println!("cargo:rustc-link-search=native={}", out_dir.display());
}
