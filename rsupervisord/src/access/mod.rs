//! Access control and the audit trail: the one place that decides whether a caller may
//! call a method, and that writes what control actions were asked and how they ended.
//!
//! Every surface passes through the [`Gate`]: JSON-RPC by the jsonrpsee middleware in
//! [`layer`], XML-RPC by `XmlRpc::call`, REST by `Rest::call`, the supervisord log tails by
//! the HTTP router, signals to the daemon by `signals.rs`. The HTTP stack identifies the
//! caller once per request ([`Caller`], from SO_PEERCRED on the unix socket, the peer
//! address on TCP, the basic-auth user or the bearer token) and puts it in the request's
//! extensions; the [`Policy`] of the listener gives it a [`Role`].
//!
//! - [`classify`]: which methods change state (control) and which only read;
//! - [`Policy`]: a listener's `read_*`/`control_*` lists and tokens;
//! - [`audit`]: the append-only JSON-lines file, fsynced before the reply;
//! - [`layer`]: the jsonrpsee RPC middleware.

pub mod audit;
pub mod layer;

use rsupervisor_api::{Fault, FaultError};
use rsupervisor_config::access::{AccessConfig, Role, Token};
use serde::Serialize;
use serde_json::Value as Json;
use std::sync::Arc;

pub use audit::{AuditLog, Outcome};

/// What a method does to the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Reads state, configuration or logs.
    Read,
    /// Changes state: needs the control role, and is audited.
    Control,
}

/// Methods that only read. Anything else, including methods unknown here, is control:
/// a method added later is guarded until someone decides it is harmless.
const READ_METHODS: &[&str] = &[
    "supervisor.followAuditLog",
    "supervisor.followMainLog",
    "supervisor.followProcessLog",
    "supervisor.getAPIVersion",
    "supervisor.getAllConfigInfo",
    "supervisor.getAllProcessInfo",
    "supervisor.getIdentification",
    "supervisor.getPID",
    "supervisor.getProcessEnvironment",
    "supervisor.getProcessInfo",
    "supervisor.getState",
    "supervisor.getSupervisorVersion",
    "supervisor.getVersion",
    "supervisor.readAuditLog",
    "supervisor.readLog",
    "supervisor.readMainLog",
    "supervisor.readProcessLog",
    "supervisor.readProcessStderrLog",
    "supervisor.readProcessStdoutLog",
    "supervisor.subscribeStateChanges",
    "supervisor.tailProcessLog",
    "supervisor.tailProcessStderrLog",
    "supervisor.tailProcessStdoutLog",
    "system.listMethods",
    "system.methodHelp",
    "system.methodSignature",
    // jsonrpsee's unsubscribe calls end the caller's own subscription.
    "supervisor.unfollowAuditLog",
    "supervisor.unfollowMainLog",
    "supervisor.unfollowProcessLog",
    "supervisor.unsubscribeStateChanges",
];

/// The class of `method` called with `params`. `system.multicall` is control when any of
/// its calls is (its params are `[[{methodName, params}, …]]` or `[{…}, …]` as JSON-RPC
/// clients send them); a multicall that cannot be read is control.
pub fn classify(method: &str, params: &Json) -> Class {
    if method == "system.multicall" {
        let calls = match params {
            Json::Array(items) => match items.as_slice() {
                [Json::Array(calls)] => calls,
                _ => items,
            },
            Json::Object(map) => match map.get("calls") {
                Some(Json::Array(calls)) => calls,
                _ => return Class::Control,
            },
            _ => return Class::Control,
        };
        let inner = calls.iter().map(|call| {
            let name = call.get("methodName").and_then(Json::as_str);
            match name {
                // The multicall handler refuses recursion and empty names itself.
                Some("system.multicall") | Some("") => Class::Read,
                Some(name) => classify(name, call.get("params").unwrap_or(&Json::Null)),
                None => Class::Read,
            }
        });
        return if inner.into_iter().any(|class| class == Class::Control) {
            Class::Control
        } else {
            Class::Read
        };
    }
    if READ_METHODS.contains(&method) {
        Class::Read
    } else {
        Class::Control
    }
}

/// Whether `caller` may call the read-only `method` without further ado: the fast path
/// of the JSON-RPC middleware (no params to parse, nothing to record).
pub fn reads_freely(caller: Option<&Caller>, method: &str) -> bool {
    caller.is_some_and(|caller| caller.role.is_some()) && READ_METHODS.contains(&method)
}

/// Who is calling, as the audit log shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Unix socket: the peer's uid (SO_PEERCRED).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Unix socket: the peer's gid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Unix socket: the peer's pid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The peer's user name (unix socket), else the basic-auth user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// TCP: the peer's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The bearer token's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A caller and what it may do; put in each HTTP request's extensions by the HTTP stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// What it may do; `None`: nothing (access control is on and it is in no list).
    pub role: Option<Role>,
}

impl Caller {
    /// The daemon itself receiving a signal: the sender is whoever could signal it.
    pub fn signal() -> Caller {
        Caller {
            identity: Identity::default(),
            role: Some(Role::Control),
        }
    }
}

/// The peer of a connection, before any request.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    /// Its identity so far (uid/gid/pid/user, or address).
    pub identity: Identity,
    /// Unix socket: the names of the peer user's groups (primary and supplementary).
    pub groups: Vec<String>,
}

/// Which of a unix-socket peer's names the daemon needs: each is a lookup in the system's
/// user and group databases (NSS: a file read, or a network call with LDAP or sssd) on every
/// connection, so it is made only when something reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// None: no access rules by name and no audit trail.
    None,
    /// The user's name: access rules by user, or the audit trail.
    User,
    /// The user's name and its groups' names: access rules by group.
    UserAndGroups,
}

impl Peer {
    /// A unix-socket peer from its credentials; the user and group names that `names`
    /// asks for come from the system's databases (a uid without a name stays a number).
    pub fn unix(uid: u32, gid: u32, pid: Option<i32>, names: Names) -> Peer {
        let user = match names {
            Names::None => None,
            Names::User | Names::UserAndGroups => {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
            }
        };
        let mut groups = Vec::new();
        if names == Names::UserAndGroups {
            let gids = match &user {
                Some(user) => std::ffi::CString::new(user.name.clone())
                    .ok()
                    .and_then(|name| {
                        nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(gid)).ok()
                    })
                    .unwrap_or_else(|| vec![nix::unistd::Gid::from_raw(gid)]),
                None => vec![nix::unistd::Gid::from_raw(gid)],
            };
            for gid in gids {
                if let Ok(Some(group)) = nix::unistd::Group::from_gid(gid) {
                    groups.push(group.name);
                }
            }
        }
        Peer {
            identity: Identity {
                uid: Some(uid),
                gid: Some(gid),
                pid,
                user: user.map(|user| user.name),
                ..Identity::default()
            },
            groups,
        }
    }

    /// A TCP peer.
    pub fn tcp(address: std::net::SocketAddr) -> Peer {
        Peer {
            identity: Identity {
                address: Some(address.to_string()),
                ..Identity::default()
            },
            groups: Vec::new(),
        }
    }
}

/// One listener's access rules.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    config: AccessConfig,
    /// The daemon's own uid: on the unix socket, it and root always have control (they
    /// can signal or replace the daemon anyway).
    own_uid: u32,
}

impl Policy {
    /// The rules of a server section.
    pub fn new(config: AccessConfig) -> Policy {
        Policy {
            config,
            own_uid: nix::unistd::Uid::effective().as_raw(),
        }
    }

    /// Which names of a unix-socket peer this listener needs: its rules by group or by
    /// user, and (`audited`) the audit trail's records.
    pub fn names(&self, audited: bool) -> Names {
        let config = &self.config;
        if config.read_groups.is_some() || config.control_groups.is_some() {
            Names::UserAndGroups
        } else if config.restricts() || audited {
            Names::User
        } else {
            Names::None
        }
    }

    /// Whether the listener has tokens (then `Authorization: Bearer` is accepted).
    pub fn has_tokens(&self) -> bool {
        !self.config.tokens.is_empty()
    }

    /// The token whose secret is `secret`.
    pub fn token(&self, secret: &str) -> Option<&Token> {
        self.config
            .tokens
            .iter()
            .find(|token| constant_time_eq(token.secret.as_bytes(), secret.as_bytes()))
    }

    /// The caller a request of `peer` is, authenticated as `basic_user` or by `token`.
    pub fn caller(&self, peer: &Peer, basic_user: Option<&str>, token: Option<&Token>) -> Caller {
        let mut identity = peer.identity.clone();
        if let Some(token) = token {
            identity.token = Some(token.name.clone());
            return Caller {
                identity,
                role: Some(token.role),
            };
        }
        if identity.user.is_none() {
            identity.user = basic_user.map(str::to_owned);
        }
        let role = self.role_of(&identity, &peer.groups);
        Caller { identity, role }
    }

    fn role_of(&self, identity: &Identity, groups: &[String]) -> Option<Role> {
        let config = &self.config;
        if !config.restricts() {
            return Some(Role::Control);
        }
        if identity
            .uid
            .is_some_and(|uid| uid == 0 || uid == self.own_uid)
        {
            return Some(Role::Control);
        }
        let listed = |users: &Option<Vec<String>>, group_names: &Option<Vec<String>>| {
            let by_user = identity.user.as_ref().is_some_and(|user| {
                users
                    .as_ref()
                    .is_some_and(|users| users.iter().any(|name| name == user))
            });
            let by_group = group_names
                .as_ref()
                .is_some_and(|names| names.iter().any(|name| groups.contains(name)));
            by_user || by_group
        };
        if listed(&config.control_users, &config.control_groups) {
            Some(Role::Control)
        } else if listed(&config.read_users, &config.read_groups) {
            Some(Role::Read)
        } else {
            None
        }
    }
}

/// Compares secrets without leaking where they differ through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Which surface a call came through, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// JSON-RPC (rsupervisorctl, HTTP POST or WebSocket).
    Jsonrpc,
    /// supervisord's XML-RPC (`POST /RPC2`).
    Xmlrpc,
    /// `/api/v1` (and the dashboard's buttons).
    Rest,
    /// supervisord's `/logtail` and `/mainlogtail`.
    Logtail,
    /// A signal to the daemon.
    Signal,
}

/// An admitted call: what to write once its outcome is known (control actions only).
#[derive(Debug)]
#[must_use = "a control action must be recorded with Gate::finish"]
pub struct Admission {
    pending: Option<audit::Record>,
}

/// The decision point and the audit writer, shared by every surface. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    audit: Option<Arc<AuditLog>>,
}

impl Gate {
    /// A gate that writes control actions to `audit` (none: no audit trail).
    pub fn new(audit: Option<AuditLog>) -> Gate {
        Gate {
            audit: audit.map(Arc::new),
        }
    }

    /// Whether control actions are recorded (then callers' names are looked up).
    pub fn audits(&self) -> bool {
        self.audit.is_some()
    }

    /// The audit log's path, if there is one.
    pub fn audit_path(&self) -> Option<&std::path::Path> {
        self.audit.as_deref().map(AuditLog::path)
    }

    /// Reopens the audit log (SIGUSR2, `reopenLogs`); a failure goes to the main log.
    pub fn reopen(&self) {
        if let Some(audit) = &self.audit {
            audit.reopen_or_report();
        }
    }

    /// Decides whether `caller` may call `method` with `params`. A refusal is audited
    /// and returned as the FORBIDDEN fault naming the method and why; an admitted control
    /// action must be [`finish`](Self::finish)ed with its outcome.
    pub async fn admit(
        &self,
        caller: Option<&Caller>,
        surface: Surface,
        method: &str,
        params: &Json,
    ) -> Result<Admission, FaultError> {
        let class = classify(method, params);
        let role = caller.and_then(|caller| caller.role);
        let allowed = matches!(
            (class, role),
            (_, Some(Role::Control)) | (Class::Read, Some(Role::Read))
        );
        let record = |outcome| audit::Record {
            identity: caller.map(|c| c.identity.clone()).unwrap_or_default(),
            surface,
            method: method.to_owned(),
            params: params.clone(),
            outcome,
        };
        if !allowed {
            let why = match role {
                Some(Role::Read) => "it needs the control role and this caller has only read",
                _ => "this caller has no role on this server (see control_users, control_groups, read_users, read_groups)",
            };
            let fault = FaultError::new(
                Fault::Forbidden,
                format!("{method}: {why} ({})", describe(caller)),
            );
            self.write(record(Outcome::Denied(fault.to_string()))).await;
            return Err(fault);
        }
        Ok(Admission {
            pending: (class == Class::Control && self.audit.is_some()).then(|| record(Outcome::Ok)),
        })
    }

    /// Records how an admitted control action ended; returns once the record is on disk.
    pub async fn finish(&self, admission: Admission, outcome: Outcome) {
        if let Some(mut record) = admission.pending {
            record.outcome = outcome;
            self.write(record).await;
        }
    }

    /// Records a signal the daemon received (SIGTERM, SIGHUP, ...).
    pub async fn signal(&self, name: &str) {
        if self.audit.is_some() {
            self.write(audit::Record {
                identity: Identity::default(),
                surface: Surface::Signal,
                method: name.to_owned(),
                params: Json::Null,
                outcome: Outcome::Ok,
            })
            .await;
        }
    }

    async fn write(&self, record: audit::Record) {
        if let Some(audit) = &self.audit {
            audit.write(record).await;
        }
    }
}

/// The caller as a fault text names it: `uid 65534 (nobody)`, `user alice from
/// 127.0.0.1:5000`, `token ci`.
fn describe(caller: Option<&Caller>) -> String {
    let Some(caller) = caller else {
        return "unidentified caller".to_owned();
    };
    let identity = &caller.identity;
    if let Some(token) = &identity.token {
        return format!("token {token}");
    }
    let mut text = match (identity.uid, &identity.user) {
        (Some(uid), Some(user)) => format!("uid {uid} ({user})"),
        (Some(uid), None) => format!("uid {uid}"),
        (None, Some(user)) => format!("user {user}"),
        (None, None) => "anonymous caller".to_owned(),
    };
    if let Some(address) = &identity.address {
        text.push_str(&format!(" from {address}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_changing_methods_are_control() {
        for method in [
            "supervisor.startProcess",
            "supervisor.stopProcessGroup",
            "supervisor.signalAllProcesses",
            "supervisor.shutdown",
            "supervisor.restart",
            "supervisor.reloadConfig",
            "supervisor.addProcessGroup",
            "supervisor.removeProcessGroup",
            "supervisor.updateProcessGroup",
            "supervisor.scaleProgram",
            "supervisor.resetProcess",
            "supervisor.resetAllProcesses",
            "supervisor.clearLog",
            "supervisor.clearProcessLogs",
            "supervisor.clearAllProcessLogs",
            "supervisor.sendProcessStdin",
            "supervisor.sendRemoteCommEvent",
            "supervisor.reopenLogs",
            "supervisor.somethingNew",
        ] {
            assert_eq!(classify(method, &json!([])), Class::Control, "{method}");
        }
        for method in [
            "supervisor.getAllProcessInfo",
            "supervisor.tailProcessStdoutLog",
            "supervisor.followProcessLog",
            "supervisor.readAuditLog",
            "system.listMethods",
        ] {
            assert_eq!(classify(method, &json!([])), Class::Read, "{method}");
        }
    }

    #[test]
    fn every_method_is_classified_deliberately() {
        // A read method must be a real one: a typo here would turn a method into control,
        // which is safe, but a stale name would hide a rename.
        for method in READ_METHODS {
            let known = crate::rpc::method_doc(method).is_some()
                || method.starts_with("supervisor.unfollow")
                || *method == "supervisor.unsubscribeStateChanges";
            assert!(known, "{method} is not a method");
        }
    }

    #[test]
    fn multicall_is_control_when_any_call_is() {
        let reads = json!([[{"methodName": "supervisor.getState", "params": []}]]);
        assert_eq!(classify("system.multicall", &reads), Class::Read);
        let mixed = json!([[
            {"methodName": "supervisor.getState", "params": []},
            {"methodName": "supervisor.stopProcess", "params": ["web"]}
        ]]);
        assert_eq!(classify("system.multicall", &mixed), Class::Control);
        // The JSON-RPC client sends the calls as the first positional param too; a bare
        // list and named params are read the same way.
        let bare = json!([{"methodName": "supervisor.shutdown", "params": []}]);
        assert_eq!(classify("system.multicall", &bare), Class::Control);
        let named = json!({"calls": [{"methodName": "supervisor.shutdown"}]});
        assert_eq!(classify("system.multicall", &named), Class::Control);
        assert_eq!(classify("system.multicall", &json!("junk")), Class::Control);
    }

    fn restricted() -> Policy {
        Policy::new(AccessConfig {
            read_users: Some(vec!["viewer".into()]),
            control_users: Some(vec!["alice".into()]),
            control_groups: Some(vec!["ops".into()]),
            tokens: vec![Token {
                name: "ci".into(),
                role: Role::Read,
                secret: "0123456789abcdef".into(),
            }],
            ..AccessConfig::default()
        })
    }

    fn named(user: &str, groups: &[&str]) -> Peer {
        Peer {
            identity: Identity {
                uid: Some(4242),
                user: Some(user.into()),
                ..Identity::default()
            },
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn names_are_looked_up_only_when_rules_or_the_audit_read_them() {
        let open = Policy::new(AccessConfig::default());
        assert_eq!(open.names(false), Names::None);
        assert_eq!(open.names(true), Names::User);
        let by_user = Policy::new(AccessConfig {
            read_users: Some(vec!["viewer".into()]),
            ..AccessConfig::default()
        });
        assert_eq!(by_user.names(false), Names::User);
        assert_eq!(restricted().names(false), Names::UserAndGroups);
        // root has a name in every user database; without a reader it is not asked for.
        assert_eq!(Peer::unix(0, 0, None, Names::None).identity.user, None);
        assert_eq!(
            Peer::unix(0, 0, None, Names::User).identity.user.as_deref(),
            Some("root")
        );
    }

    #[test]
    fn roles_follow_the_lists() {
        let policy = restricted();
        let role = |peer: &Peer| policy.caller(peer, None, None).role;
        assert_eq!(role(&named("alice", &[])), Some(Role::Control));
        assert_eq!(role(&named("bob", &["ops"])), Some(Role::Control));
        assert_eq!(role(&named("viewer", &[])), Some(Role::Read));
        assert_eq!(role(&named("mallory", &["users"])), None);
        let root = Peer::unix(0, 0, None, Names::User);
        assert_eq!(role(&root), Some(Role::Control));
        // Basic-auth user over TCP.
        let tcp = Peer::tcp("127.0.0.1:5000".parse().expect("address"));
        assert_eq!(
            policy.caller(&tcp, Some("alice"), None).role,
            Some(Role::Control)
        );
        assert_eq!(policy.caller(&tcp, None, None).role, None);
        let token = policy.token("0123456789abcdef").expect("token");
        let caller = policy.caller(&tcp, None, Some(token));
        assert_eq!(caller.role, Some(Role::Read));
        assert_eq!(caller.identity.token.as_deref(), Some("ci"));
        assert!(policy.token("0123456789abcdeX").is_none());
        // No list: everyone has control, as in supervisord.
        let open = Policy::new(AccessConfig::default());
        assert_eq!(
            open.caller(&named("mallory", &[]), None, None).role,
            Some(Role::Control)
        );
    }

    #[tokio::test]
    async fn the_gate_refuses_and_names_the_method() {
        let gate = Gate::new(None);
        let reader = Caller {
            identity: Identity {
                uid: Some(65534),
                user: Some("nobody".into()),
                ..Identity::default()
            },
            role: Some(Role::Read),
        };
        let fault = gate
            .admit(
                Some(&reader),
                Surface::Jsonrpc,
                "supervisor.stopProcess",
                &json!(["web"]),
            )
            .await
            .expect_err("read role cannot stop");
        assert_eq!(fault.fault, Fault::Forbidden);
        let text = fault.to_string();
        assert!(
            text.starts_with("FORBIDDEN: supervisor.stopProcess"),
            "{text}"
        );
        assert!(text.contains("uid 65534 (nobody)"), "{text}");
        let admitted = gate
            .admit(
                Some(&reader),
                Surface::Jsonrpc,
                "supervisor.getState",
                &json!([]),
            )
            .await
            .expect("read role reads");
        gate.finish(admitted, Outcome::Ok).await;
        assert!(gate
            .admit(None, Surface::Rest, "supervisor.getState", &json!([]))
            .await
            .is_err());
    }
}
