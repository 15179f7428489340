//! The syntax of rsupervisor's access-control and audit keys (supervisord has none):
//!
//! - on `[unix_http_server]` and `[inet_http_server]`: `read_users`, `read_groups`,
//!   `control_users`, `control_groups` (comma-separated names) and `tokens_file`;
//! - on `[supervisord]`: `audit_logfile`, `audit_logfile_maxbytes`, `audit_logfile_backups`.
//!
//! A tokens file holds one bearer token per line, `NAME ROLE SECRET`, separated by blanks:
//! `NAME` identifies the token in the audit log, `ROLE` is `read` or `control`, `SECRET` is
//! what clients send as `Authorization: Bearer SECRET` (at least 16 characters). Blank lines
//! and lines starting with `#` are ignored. The file is read once, at load, and every error
//! names its line.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a caller may do through a server section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Only read-only methods (state, infos, logs).
    Read,
    /// Everything, read included.
    Control,
}

/// One bearer token of a `tokens_file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Its name, as the audit log shows it.
    pub name: String,
    /// What it allows.
    pub role: Role,
    /// The secret clients send; never serialized (the config summary is printable).
    #[serde(skip)]
    pub secret: String,
}

/// The access keys of one server section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessConfig {
    /// `read_users`: user names allowed the read role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_users: Option<Vec<String>>,
    /// `read_groups`: group names whose members have the read role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_groups: Option<Vec<String>>,
    /// `control_users`: user names allowed the control role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_users: Option<Vec<String>>,
    /// `control_groups`: group names whose members have the control role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_groups: Option<Vec<String>>,
    /// `tokens_file`, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_file: Option<PathBuf>,
    /// Its tokens, read at load.
    pub tokens: Vec<Token>,
}

impl AccessConfig {
    /// Whether no access key is set (the config summary then leaves the keys out).
    pub fn is_unset(&self) -> bool {
        *self == AccessConfig::default()
    }

    /// Whether any of the four lists is set: then only listed callers get a role. When
    /// none is, every caller that reaches the socket (and passes basic auth) has control,
    /// as in supervisord.
    pub fn restricts(&self) -> bool {
        self.read_users.is_some()
            || self.read_groups.is_some()
            || self.control_users.is_some()
            || self.control_groups.is_some()
    }
}

/// `[supervisord] audit_logfile` and its rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditLogConfig {
    /// The file (absolute).
    pub path: PathBuf,
    /// `audit_logfile_maxbytes`, default 50MB; 0 disables rotation.
    pub maxbytes: u64,
    /// `audit_logfile_backups`, default 10.
    pub backups: u32,
}

/// Parses a comma-separated list of user or group names; an empty list is refused (it
/// would lock everyone out silently).
pub fn name_list(value: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(format!(
            "empty list {value:?}: expected comma-separated names (remove the key to allow everyone)"
        ));
    }
    if let Some(bad) = names
        .iter()
        .find(|name| name.chars().any(char::is_whitespace))
    {
        return Err(format!(
            "invalid name {bad:?}: names are separated by commas and contain no blanks"
        ));
    }
    Ok(names)
}

/// Parses a `read`/`control` role.
pub fn role(value: &str) -> Result<Role, String> {
    match value {
        "read" => Ok(Role::Read),
        "control" => Ok(Role::Control),
        other => Err(format!("invalid role {other:?}: expected read or control")),
    }
}

/// Shortest accepted secret: guessing one must be out of reach.
pub const MIN_SECRET_LEN: usize = 16;

/// Parses the text of a tokens file; an error is `(line, message)`.
pub fn parse_tokens(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let mut tokens: Vec<Token> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, role_text, secret] = fields[..] else {
            return Err((
                number,
                format!(
                    "expected NAME ROLE SECRET (3 fields), found {} field(s)",
                    fields.len()
                ),
            ));
        };
        let role = role(role_text).map_err(|message| (number, message))?;
        if secret.len() < MIN_SECRET_LEN {
            return Err((
                number,
                format!(
                    "the secret of token {name:?} is {} characters long: at least {MIN_SECRET_LEN} are required",
                    secret.len()
                ),
            ));
        }
        if tokens.iter().any(|token| token.name == name) {
            return Err((number, format!("token name {name:?} is used twice")));
        }
        if tokens.iter().any(|token| token.secret == secret) {
            return Err((
                number,
                format!("token {name:?} has the same secret as another token"),
            ));
        }
        tokens.push(Token {
            name: name.to_owned(),
            role,
            secret: secret.to_owned(),
        });
    }
    Ok(tokens)
}

/// Reads a tokens file; an error is `(line if known, message)`.
pub fn read_tokens(path: &Path) -> Result<Vec<Token>, (Option<usize>, String)> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        (
            None,
            format!("cannot read tokens file {}: {error}", path.display()),
        )
    })?;
    parse_tokens(&text).map_err(|(line, message)| (Some(line), message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists() {
        assert_eq!(
            name_list("alice, bob ,carol").expect("valid"),
            ["alice", "bob", "carol"]
        );
        assert!(name_list(" , ").expect_err("empty").contains("empty list"));
        assert!(name_list("al ice")
            .expect_err("blank")
            .contains("no blanks"));
    }

    #[test]
    fn tokens_file_format() {
        let tokens = parse_tokens(
            "# deploy bots\n\nci control 0123456789abcdef0123\ngrafana read fedcba9876543210\n",
        )
        .expect("valid");
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[0].name, "ci");
        assert_eq!(tokens[0].role, Role::Control);
        assert_eq!(tokens[1].role, Role::Read);
        assert_eq!(tokens[1].secret, "fedcba9876543210");
        let error = |text: &str| parse_tokens(text).expect_err("invalid");
        assert_eq!(error("a read\n").0, 1);
        assert!(error("\na admin 0123456789abcdef\n")
            .1
            .contains("expected read or control"));
        assert_eq!(error("\na admin 0123456789abcdef\n").0, 2);
        assert!(error("a read short\n").1.contains("at least 16"));
        assert!(
            error("a read 0123456789abcdef\na control 0123456789abcdeX\n")
                .1
                .contains("used twice")
        );
        assert!(
            error("a read 0123456789abcdef\nb control 0123456789abcdef\n")
                .1
                .contains("same secret")
        );
    }

    #[test]
    fn restriction_is_off_without_lists() {
        let mut access = AccessConfig::default();
        assert!(!access.restricts());
        access.control_users = Some(vec!["root".into()]);
        assert!(access.restricts());
    }
}
