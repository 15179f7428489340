//! A scripted JSON-RPC client for verb tests: answers each method from a queue of canned
//! results and records every call with its parameters.

use jsonrpsee::core::client::{BatchResponse, ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::core::ClientError;
use jsonrpsee::types::ErrorObjectOwned;
use rsupervisor_api::{Fault, FaultError, ProcessInfo, ProcessStatus};

use crate::action::Targets;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The scripted client.
#[derive(Default)]
pub struct MockClient {
    answers: Mutex<HashMap<String, VecDeque<Result<Value, ErrorObjectOwned>>>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl MockClient {
    /// A client with no answers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a successful answer to `method` (short name, `supervisor.` is added).
    pub fn ok(self, method: &str, value: impl serde::Serialize) -> Self {
        let value = serde_json::to_value(value).expect("serializable");
        self.push(method, Ok(value))
    }

    /// Queues a fault answer.
    pub fn fault(self, method: &str, fault: Fault, detail: &str) -> Self {
        let error = if detail.is_empty() {
            FaultError::bare(fault)
        } else {
            FaultError::new(fault, detail)
        };
        self.push(method, Err(error.into()))
    }

    fn push(self, method: &str, answer: Result<Value, ErrorObjectOwned>) -> Self {
        let name = if method.contains('.') {
            method.to_owned()
        } else {
            format!("supervisor.{method}")
        };
        self.answers
            .lock()
            .expect("lock")
            .entry(name)
            .or_default()
            .push_back(answer);
        self
    }

    /// The calls made, as `method(params-json)` with the `supervisor.` prefix removed.
    pub fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .map(|(method, params)| {
                format!("{}{}", method.trim_start_matches("supervisor."), params)
            })
            .collect()
    }
}

impl ClientT for MockClient {
    async fn notification<Params>(&self, _method: &str, _params: Params) -> Result<(), ClientError>
    where
        Params: ToRpcParams + Send,
    {
        Ok(())
    }

    async fn request<R, Params>(&self, method: &str, params: Params) -> Result<R, ClientError>
    where
        R: DeserializeOwned,
        Params: ToRpcParams + Send,
    {
        let params = params
            .to_rpc_params()
            .map_err(ClientError::ParseError)?
            .map(|raw| serde_json::from_str(raw.get()).expect("params are json"))
            .unwrap_or(Value::Array(vec![]));
        self.calls
            .lock()
            .expect("lock")
            .push((method.to_owned(), params));
        let answer = self
            .answers
            .lock()
            .expect("lock")
            .get_mut(method)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| panic!("unexpected call to {method}"));
        match answer {
            Ok(value) => serde_json::from_value(value).map_err(ClientError::ParseError),
            Err(error) => Err(ClientError::Call(error)),
        }
    }

    async fn batch_request<'a, R>(
        &self,
        _batch: BatchRequestBuilder<'a>,
    ) -> Result<BatchResponse<'a, R>, ClientError>
    where
        R: DeserializeOwned + std::fmt::Debug + 'a,
    {
        Err(ClientError::Custom("batches are not scripted".into()))
    }
}

impl SubscriptionClientT for MockClient {
    async fn subscribe<'a, Notif, Params>(
        &self,
        subscribe_method: &'a str,
        _params: Params,
        _unsubscribe_method: &'a str,
    ) -> Result<Subscription<Notif>, ClientError>
    where
        Params: ToRpcParams + Send,
        Notif: DeserializeOwned,
    {
        let answer = self
            .answers
            .lock()
            .expect("lock")
            .get_mut(subscribe_method)
            .and_then(VecDeque::pop_front);
        match answer {
            Some(Err(error)) => Err(ClientError::Call(error)),
            _ => Err(ClientError::Custom("subscriptions are not scripted".into())),
        }
    }

    async fn subscribe_to_method<Notif>(
        &self,
        _method: &str,
    ) -> Result<Subscription<Notif>, ClientError>
    where
        Notif: DeserializeOwned,
    {
        Err(ClientError::Custom("subscriptions are not scripted".into()))
    }
}

/// A process info struct for tests.
pub fn info(
    group: &str,
    name: &str,
    state: rsupervisor_api::ProcessState,
    pid: i32,
) -> ProcessInfo {
    ProcessInfo {
        name: name.into(),
        group: group.into(),
        description: if pid > 0 {
            format!("pid {pid}, uptime 0:00:05")
        } else {
            "Not started".into()
        },
        start: 0,
        stop: 0,
        now: 0,
        state: state.code(),
        statename: state.name().into(),
        spawnerr: String::new(),
        exitstatus: 0,
        logfile: String::new(),
        stdout_logfile: String::new(),
        stderr_logfile: String::new(),
        pid,
        restarts: 0,
        restart_delay_ms: 0,
        next_restart: 0,
        health: String::new(),
        health_failures: 0,
        health_error: String::new(),
        waiting_for: String::new(),
        schedule: None,
    }
}

/// A group-operation result for tests.
pub fn result(group: &str, name: &str, fault: Fault) -> ProcessStatus {
    ProcessStatus {
        name: name.into(),
        group: group.into(),
        status: fault.code(),
        description: if fault == Fault::Success {
            "OK".into()
        } else {
            fault.name().into()
        },
    }
}

/// `Targets::Names` from a list of names, as typed after a verb.
pub fn names(list: &[&str]) -> Targets {
    Targets::Names(list.iter().map(|s| s.to_string()).collect())
}
