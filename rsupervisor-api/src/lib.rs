//! The wire contract between `rsupervisord` and `rsupervisorctl`.
//!
//! Method names, parameter order, the shape of every structure and the fault codes live here
//! and nowhere else, so the daemon and the ctl fail to compile together when the contract
//! changes. Names follow supervisord's XML-RPC API (`supervisor.startProcess`, ...), so that
//! anyone who knows supervisord's API knows ours; the transport is JSON-RPC 2.0 over the
//! daemon's Unix socket (plain HTTP POST, or WebSocket for subscriptions).
//!
//! Versioning rule: `API_VERSION` is supervisord's (`3.0`), because the methods are its; our own
//! additions (subscriptions) are new names and never change the meaning of an existing one.

pub mod auth;
pub mod fault;
#[cfg(any(feature = "server", feature = "client"))]
pub mod rpc;
pub mod types;

#[cfg(feature = "client")]
pub mod http_client;
#[cfg(feature = "client")]
pub mod transport;
#[cfg(feature = "cli")]
pub mod usage;

pub use fault::{Fault, FaultError};
#[cfg(any(feature = "server", feature = "client"))]
pub use rpc::*;
pub use types::*;

/// supervisord's XML-RPC API version, returned by `supervisor.getAPIVersion`.
pub const API_VERSION: &str = "3.0";

/// The supervisord version whose behaviour we implement, returned by
/// `supervisor.getSupervisorVersion` and printed by `rsupervisorctl version`.
pub const SUPERVISOR_VERSION: &str = "4.3.0";
