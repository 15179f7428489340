//! `pow`, the one libm function a dependency calls, defined here so that neither binary
//! loads libm.so.6 (shared by `rsupervisord` and `rsupervisorctl` as a `#[path]` module).
//!
//! Why: tokio's multi-threaded scheduler keeps a moving average with `f64::powf`, which
//! compiles to a call to the C library's `pow`. On glibc that function lives in libm.so.6,
//! so the linker made both binaries depend on the whole library for it: 0.55 MiB resident
//! in every idle daemon, and one more library for ld.so to map and relocate at the start
//! of every `rsupervisorctl` command (BENCHMARKS.md, "Issue 19, eighth pass"). A `pow`
//! defined in the executable satisfies that call, and the linker (`--as-needed`, as rustc
//! links) then drops libm.so.6. The body is the `libm` crate's, maintained by the Rust
//! project: FreeBSD's `e_pow.c` (Sun's fdlibm), under 1 ulp of error; tokio only weighs
//! its scheduling statistics with it. Our own code needs no libm function (the `%g` of
//! `rsupervisor-config`'s expansions reads its exponent from the `e` form, not from
//! `log10`). A future dependency calling another libm function brings libm.so.6 back,
//! which `packaging/test.sh` catches (it checks the binaries' `NEEDED` entries).

// The symbol must keep its C name for the linker to bind the dependency's call to it;
// nothing here is unsafe beyond that name being global.
#[allow(unsafe_code)]
#[no_mangle]
extern "C" fn pow(base: f64, exponent: f64) -> f64 {
    libm::pow(base, exponent)
}
