//! Reading the access-control and audit keys (syntax in [`crate::access`]) into the model:
//! kept apart from the supervisord keys of `build.rs`.

use super::Builder;
use crate::access::{self, AccessConfig, AuditLogConfig};
use crate::datatypes as dt;
use crate::error::ConfigError;

impl Builder<'_> {
    /// The access keys of a `[unix_http_server]`/`[inet_http_server]` section.
    pub(super) fn access(&mut self, section: &str) -> AccessConfig {
        let names = self.names(&[("here", super::s(&self.here))]);
        let list = |builder: &mut Self, key: &str| {
            builder
                .conv_opt(section, key, &names, access::name_list)
                .ok()
                .flatten()
        };
        let read_users = list(self, "read_users");
        let read_groups = list(self, "read_groups");
        let control_users = list(self, "control_users");
        let control_groups = list(self, "control_groups");
        let cwd = self.cwd.clone();
        let tokens_file = self
            .conv_opt(section, "tokens_file", &names, |value| {
                Ok(dt::normalize_path(&dt::expand_user(value.trim()), &cwd))
            })
            .ok()
            .flatten();
        let tokens = match &tokens_file {
            None => Vec::new(),
            Some(path) => match access::read_tokens(path) {
                Ok(tokens) => tokens,
                Err((None, message)) => {
                    self.error(section, Some("tokens_file"), message);
                    Vec::new()
                }
                Err((Some(line), message)) => {
                    self.errors.push(ConfigError {
                        file: Some(path.clone()),
                        line: Some(line),
                        section: Some(section.to_owned()),
                        key: Some("tokens_file".to_owned()),
                        message,
                    });
                    Vec::new()
                }
            },
        };
        AccessConfig {
            read_users,
            read_groups,
            control_users,
            control_groups,
            tokens_file,
            tokens,
        }
    }

    /// `[supervisord] audit_logfile` and its rotation keys; `None` when unset.
    pub(super) fn audit_log(&mut self, section: &str) -> Option<AuditLogConfig> {
        let names = self.names(&[("here", super::s(&self.here))]);
        let cwd = self.cwd.clone();
        let path = self
            .conv_opt(section, "audit_logfile", &names, |value| {
                let path = dt::existing_dirpath(value)?;
                Ok(dt::normalize_path(&path.to_string_lossy(), &cwd))
            })
            .ok()
            .flatten()?;
        let maxbytes = self
            .conv(
                section,
                "audit_logfile_maxbytes",
                "50MB",
                &names,
                dt::byte_size,
            )
            .unwrap_or(50 * 1024 * 1024);
        let backups = self
            .conv(
                section,
                "audit_logfile_backups",
                "10",
                &names,
                dt::non_negative,
            )
            .unwrap_or(10);
        Some(AuditLogConfig {
            path,
            maxbytes,
            backups: backups.min(u64::from(u32::MAX)) as u32,
        })
    }
}
