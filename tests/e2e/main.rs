//! End-to-end tests: the real binaries, a temp dir per test, the fixture child.
//!
//! One integration-test binary (this file) with one module per area keeps link time down.

#![recursion_limit = "256"] // the json! call lists of python_compat

mod access;
mod autorestart_backoff;
mod cgroups;
mod ctl_errors;
mod ctl_output;
mod ctl_tail;
mod dashboard;
mod dependencies;
mod env_files;
mod event_listeners;
mod examples;
mod fcgi;
mod follow;
mod harness_selftest;
mod health;
mod log_formats;
mod logs_capture;
mod priorities;
mod python_compat;
mod reload_update;
mod rest;
mod restart_policy;
mod scale;
mod schedules;
mod shutdown_signals;
mod spawn_errors;
mod start_stop;
mod status_report;
mod stop_escalation;
mod support;
mod under_load;
