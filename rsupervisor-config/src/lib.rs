//! Reads supervisord-style INI configuration with supervisord 4.3.0's semantics.
//!
//! Both binaries use this crate: the daemon loads the whole file set, the ctl reads only
//! `[supervisorctl]` and `[unix_http_server]`. It has no async runtime and no process code.

pub mod model;

pub use model::*;

mod ctl_placeholder;
pub use ctl_placeholder::*;
