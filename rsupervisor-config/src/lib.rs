//! Reads supervisord-style INI configuration with supervisord 4.3.0's semantics.
//!
//! Both binaries use this crate: the daemon loads the whole file set, the ctl reads only
//! `[supervisorctl]` and `[unix_http_server]`. It has no async runtime and no process code.

pub mod datatypes;
pub mod error;
pub mod expand;
pub mod ini;
pub mod model;

pub use datatypes::{parse_signal, signal_name, signame};
pub use error::{ConfigError, ConfigErrors};
pub use model::*;
