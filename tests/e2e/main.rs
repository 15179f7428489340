//! End-to-end tests: the real binaries, a temp dir per test, the fixture child.
//!
//! One integration-test binary (this file) with one module per area keeps link time down.

mod ctl_errors;
mod ctl_output;
mod ctl_tail;
mod harness_selftest;
mod reload_update;
