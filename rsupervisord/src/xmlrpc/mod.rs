//! supervisord's XML-RPC surface (`POST /RPC2`), mapped onto the one API core.
//!
//! This module owns no behaviour of its own: a call is decoded ([`value`]), its params are
//! turned into JSON values and dispatched through the same jsonrpsee method table that
//! serves JSON-RPC (so every method has exactly one handler, in `rpc.rs`), and the result is
//! shaped into supervisord's XML-RPC types: its struct keys in its order, `[bytes, offset,
//! overflow]` for the tail methods, `[[added, changed, removed]]` for `reloadConfig`, faults
//! as `{faultCode, faultString}`. A deferred call (`startProcess` with `wait`) awaits its
//! future on the connection's own task, so it holds only its own response.

pub mod value;

use crate::access::{Caller, Gate, Outcome, Surface};
use crate::rpc::{method_doc, METHOD_DOCS};
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::Methods;
use rsupervisor_api::Fault;
use serde_json::Value as Json;
use value::Value;

pub use value::{decode_call, encode_fault, encode_response, DecodeError, MethodCall};

/// Keys of supervisord's process info struct, in its order.
const PROCESS_INFO_KEYS: &[&str] = &[
    "name",
    "group",
    "start",
    "stop",
    "now",
    "state",
    "statename",
    "spawnerr",
    "exitstatus",
    "logfile",
    "stdout_logfile",
    "stderr_logfile",
    "pid",
    "description",
];

/// Keys of supervisord's config info struct, in its order.
const CONFIG_INFO_KEYS: &[&str] = &[
    "autostart",
    "directory",
    "uid",
    "command",
    "exitcodes",
    "group",
    "group_prio",
    "inuse",
    "killasgroup",
    "name",
    "process_prio",
    "redirect_stderr",
    "startretries",
    "startsecs",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_logfile",
    "stdout_logfile_backups",
    "stdout_logfile_maxbytes",
    "stdout_syslog",
    "stopsignal",
    "stopwaitsecs",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_logfile",
    "stderr_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_syslog",
    "serverurl",
];

/// Keys of the status struct of the group and `*All*` methods.
const STATUS_KEYS: &[&str] = &["name", "group", "status", "description"];

/// Keys of `getState`'s struct.
const STATE_KEYS: &[&str] = &["statecode", "statename"];

/// The XML-RPC endpoint: the shared method table and the access gate, nothing else.
#[derive(Clone)]
pub struct XmlRpc {
    methods: Methods,
    gate: Gate,
}

impl XmlRpc {
    /// Serves XML-RPC from the JSON-RPC method table `methods`, admitting calls at `gate`.
    pub fn new(methods: Methods, gate: Gate) -> Self {
        XmlRpc { methods, gate }
    }

    /// Answers one request body of `caller` with a `methodResponse` document; `Err` when
    /// the body is not a `methodCall` at all (supervisord answers HTTP 400).
    pub async fn answer(
        &self,
        caller: Option<&Caller>,
        body: &[u8],
    ) -> Result<String, DecodeError> {
        let call = decode_call(body)?;
        Ok(match self.call(caller, &call.name, call.params).await {
            Ok(value) => encode_response(&value),
            Err((code, text)) => encode_fault(code, &text),
        })
    }

    /// One call of `caller`, admitted (and, for a control action, audited) by the gate:
    /// the method's result in supervisord's shape, or its fault.
    pub async fn call(
        &self,
        caller: Option<&Caller>,
        name: &str,
        params: Vec<Value>,
    ) -> Result<Value, (i32, String)> {
        // An unknown method is UNKNOWN_METHOD for everyone, not a refusal to audit.
        if method_doc(name).filter(|doc| doc.xmlrpc).is_none() {
            return Err((
                Fault::UnknownMethod.code(),
                Fault::UnknownMethod.name().to_owned(),
            ));
        }
        let audited = Json::Array(params.iter().cloned().map(to_json).collect());
        let admission = self
            .gate
            .admit(caller, Surface::Xmlrpc, name, &audited)
            .await
            .map_err(|fault| (fault.fault.code(), fault.to_string()))?;
        let result = self.dispatch(name, params).await;
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err((code, text)) => Outcome::Fault(*code, text.clone()),
        };
        self.gate.finish(admission, outcome).await;
        result
    }

    /// One admitted call.
    async fn dispatch(&self, name: &str, params: Vec<Value>) -> Result<Value, (i32, String)> {
        let Some(doc) = method_doc(name).filter(|doc| doc.xmlrpc) else {
            return Err((
                Fault::UnknownMethod.code(),
                Fault::UnknownMethod.name().to_owned(),
            ));
        };
        // A call with more params than the method takes is refused, as supervisord's
        // dispatcher does (jsonrpsee would ignore the extra ones).
        if params.len() > doc.signature.len().saturating_sub(1) {
            return Err(incorrect_parameters());
        }
        if name == "system.multicall" {
            return match params.into_iter().next() {
                Some(Value::Array(calls)) => self.multicall(calls).await,
                _ => Err(incorrect_parameters()),
            };
        }
        let params: Vec<Json> = params.into_iter().map(to_json).collect();
        let result = self
            .methods
            .call::<_, Json>(name, params)
            .await
            .map_err(fault_of)?;
        Ok(shape(name, result))
    }

    /// Every method XML-RPC serves, sorted (supervisord's `system.listMethods` order).
    pub fn method_names() -> impl Iterator<Item = &'static str> {
        METHOD_DOCS
            .iter()
            .filter(|doc| doc.xmlrpc)
            .map(|doc| doc.name)
    }
}

fn incorrect_parameters() -> (i32, String) {
    (
        Fault::IncorrectParameters.code(),
        Fault::IncorrectParameters.name().to_owned(),
    )
}

/// jsonrpsee's errors as supervisord's faults: our faults pass through; a bad parameter
/// list is INCORRECT_PARAMETERS and an unknown method UNKNOWN_METHOD, as supervisord says.
fn fault_of(error: MethodsError) -> (i32, String) {
    match error {
        MethodsError::JsonRpc(object) => match object.code() {
            code if Fault::from_code(code).is_some() => (code, object.message().to_owned()),
            jsonrpsee::types::error::METHOD_NOT_FOUND_CODE => (
                Fault::UnknownMethod.code(),
                Fault::UnknownMethod.name().to_owned(),
            ),
            jsonrpsee::types::error::INVALID_PARAMS_CODE => incorrect_parameters(),
            _ => (
                Fault::Failed.code(),
                format!("{}: {}", Fault::Failed.name(), object.message()),
            ),
        },
        MethodsError::Parse(_) | MethodsError::InvalidSubscriptionId(_) => incorrect_parameters(),
    }
}

/// An XML-RPC param as the JSON value the method table decodes.
fn to_json(value: Value) -> Json {
    match value {
        Value::Int(number) => Json::from(number),
        Value::Bool(flag) => Json::Bool(flag),
        Value::String(text) | Value::DateTime(text) => Json::String(text),
        Value::Double(number) => {
            serde_json::Number::from_f64(number).map_or(Json::Null, Json::Number)
        }
        Value::Base64(bytes) => Json::String(String::from_utf8_lossy(&bytes).into_owned()),
        Value::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Value::Struct(members) => Json::Object(
            members
                .into_iter()
                .map(|(name, member)| (name, to_json(member)))
                .collect(),
        ),
    }
}

/// The result of `method` in supervisord's XML-RPC shape.
fn shape(method: &str, result: Json) -> Value {
    let base = method.strip_prefix("supervisor.").unwrap_or(method);
    match base {
        "getState" => keyed(result, STATE_KEYS),
        // The subscriptions need the JSON-RPC WebSocket; XML-RPC lists what it serves.
        "system.listMethods" => match result {
            Json::Array(names) => Value::Array(
                names
                    .into_iter()
                    .filter_map(|name| match name {
                        Json::String(name) if method_doc(&name).is_some_and(|doc| doc.xmlrpc) => {
                            Some(Value::String(name))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            other => plain(other),
        },
        "getProcessInfo" => keyed(result, PROCESS_INFO_KEYS),
        "getAllProcessInfo" => each(result, |item| keyed(item, PROCESS_INFO_KEYS)),
        "getAllConfigInfo" => each(result, |item| keyed(item, CONFIG_INFO_KEYS)),
        // The one-process calls given `group:*` answer with the group's statuses.
        "startProcess"
        | "stopProcess"
        | "signalProcess"
        | "startProcessGroup"
        | "startAllProcesses"
        | "stopProcessGroup"
        | "stopAllProcesses"
        | "signalProcessGroup"
        | "signalAllProcesses"
        | "clearAllProcessLogs"
        | "resetAllProcesses" => each(result, |item| keyed(item, STATUS_KEYS)),
        "tailProcessStdoutLog" | "tailProcessStderrLog" | "tailProcessLog" => {
            positional(result, &["bytes", "offset", "overflow"])
        }
        // supervisord returns `[[added, changed, removed]]`.
        "reloadConfig" => Value::Array(vec![positional(result, &["added", "changed", "removed"])]),
        _ => plain(result),
    }
}

/// Applies `item` to every element of an array result.
fn each(result: Json, item: impl Fn(Json) -> Value) -> Value {
    match result {
        Json::Array(items) => Value::Array(items.into_iter().map(item).collect()),
        other => plain(other),
    }
}

/// A struct with exactly `keys`, in that order (our additions stay on JSON-RPC).
fn keyed(result: Json, keys: &[&str]) -> Value {
    match result {
        Json::Object(mut map) => Value::Struct(
            keys.iter()
                .filter_map(|key| map.remove(*key).map(|v| ((*key).to_owned(), plain(v))))
                .collect(),
        ),
        other => plain(other),
    }
}

/// An array of the values of `keys`.
fn positional(result: Json, keys: &[&str]) -> Value {
    match result {
        Json::Object(mut map) => Value::Array(
            keys.iter()
                .map(|key| plain(map.remove(*key).unwrap_or(Json::Null)))
                .collect(),
        ),
        other => plain(other),
    }
}

/// A JSON value as XML-RPC; XML-RPC has no nil, so null is `''` as supervisord sends it.
fn plain(value: Json) -> Value {
    match value {
        Json::Null => Value::String(String::new()),
        Json::Bool(flag) => Value::Bool(flag),
        Json::Number(number) => match number.as_i64() {
            Some(int) => Value::Int(int),
            None => match number.as_u64() {
                Some(big) => Value::Int(i64::try_from(big).unwrap_or(i64::MAX)),
                None => Value::Double(number.as_f64().unwrap_or_default()),
            },
        },
        Json::String(text) => Value::String(text),
        Json::Array(items) => Value::Array(items.into_iter().map(plain).collect()),
        // Keys in the order serde_json keeps them (sorted): only our additions get here.
        Json::Object(map) => Value::Struct(
            map.into_iter()
                .map(|(key, member)| (key, plain(member)))
                .collect(),
        ),
    }
}

/// `system.multicall` results: each raw result shaped for its own method, or a fault
/// struct. The calls themselves run in the one `system.multicall` handler.
fn shape_multicall(calls: &[Value], results: Json) -> Value {
    let Json::Array(results) = results else {
        return plain(results);
    };
    Value::Array(
        results
            .into_iter()
            .enumerate()
            .map(|(index, result)| {
                let is_fault = result
                    .as_object()
                    .is_some_and(|map| map.contains_key("faultCode") && map.len() == 2);
                if is_fault {
                    return keyed(result, &["faultCode", "faultString"]);
                }
                match calls.get(index).and_then(multicall_method) {
                    Some(method) => shape(method, result),
                    None => plain(result),
                }
            })
            .collect(),
    )
}

fn multicall_method(call: &Value) -> Option<&str> {
    match call {
        Value::Struct(members) => members.iter().find_map(|(name, value)| match value {
            Value::String(method) if name == "methodName" => Some(method.as_str()),
            _ => None,
        }),
        _ => None,
    }
}

impl XmlRpc {
    /// `system.multicall` over XML-RPC: the same handler as JSON-RPC's, with each result
    /// shaped for its method.
    pub async fn multicall(&self, calls: Vec<Value>) -> Result<Value, (i32, String)> {
        let json = Json::Array(calls.iter().cloned().map(to_json).collect());
        let result = self
            .methods
            .call::<_, Json>("system.multicall", vec![json])
            .await
            .map_err(fault_of)?;
        Ok(shape_multicall(&calls, result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::types::ErrorObjectOwned;
    use serde_json::json;

    #[test]
    fn results_take_supervisords_shapes() {
        let tail = json!({"bytes": "ab", "offset": 2, "overflow": false});
        assert_eq!(
            shape("supervisor.tailProcessLog", tail),
            Value::Array(vec![
                Value::String("ab".into()),
                Value::Int(2),
                Value::Bool(false)
            ])
        );
        let reload = json!({"added": ["a"], "changed": [], "removed": [], "changed_processes": [],
                            "needs_restart": ["x"]});
        assert_eq!(
            shape("supervisor.reloadConfig", reload),
            Value::Array(vec![Value::Array(vec![
                Value::Array(vec![Value::String("a".into())]),
                Value::Array(vec![]),
                Value::Array(vec![]),
            ])])
        );
        // Keys in supervisord's order; our additions stay on JSON-RPC.
        let state = json!({"statename": "RUNNING", "statecode": 1, "extra": 0});
        assert_eq!(
            shape("supervisor.getState", state),
            Value::Struct(vec![
                ("statecode".into(), Value::Int(1)),
                ("statename".into(), Value::String("RUNNING".into())),
            ])
        );
        assert_eq!(
            shape("supervisor.startProcess", json!(true)),
            Value::Bool(true)
        );
        assert_eq!(plain(Json::Null), Value::String(String::new()));
        let listed = shape(
            "system.listMethods",
            json!(["supervisor.followMainLog", "supervisor.getState"]),
        );
        assert_eq!(
            listed,
            Value::Array(vec![Value::String("supervisor.getState".into())])
        );
    }

    #[test]
    fn errors_become_supervisords_faults() {
        let ours = ErrorObjectOwned::owned(10, "BAD_NAME: x", None::<()>);
        assert_eq!(
            fault_of(MethodsError::JsonRpc(ours)),
            (10, "BAD_NAME: x".to_owned())
        );
        let missing = ErrorObjectOwned::owned(
            jsonrpsee::types::error::METHOD_NOT_FOUND_CODE,
            "Method not found",
            None::<()>,
        );
        assert_eq!(
            fault_of(MethodsError::JsonRpc(missing)),
            (1, "UNKNOWN_METHOD".to_owned())
        );
        let params = ErrorObjectOwned::owned(
            jsonrpsee::types::error::INVALID_PARAMS_CODE,
            "Invalid params",
            None::<()>,
        );
        assert_eq!(
            fault_of(MethodsError::JsonRpc(params)),
            (2, "INCORRECT_PARAMETERS".to_owned())
        );
    }

    #[test]
    fn multicall_items_are_shaped_per_method() {
        let calls = vec![
            Value::Struct(vec![(
                "methodName".into(),
                Value::String("supervisor.tailProcessStdoutLog".into()),
            )]),
            Value::Struct(vec![(
                "methodName".into(),
                Value::String("supervisor.getProcessInfo".into()),
            )]),
        ];
        let results = json!([
            {"bytes": "", "offset": 0, "overflow": false},
            {"faultString": "BAD_NAME: x", "faultCode": 10}
        ]);
        assert_eq!(
            shape_multicall(&calls, results),
            Value::Array(vec![
                Value::Array(vec![
                    Value::String(String::new()),
                    Value::Int(0),
                    Value::Bool(false)
                ]),
                value::fault_struct(10, "BAD_NAME: x"),
            ])
        );
    }
}
