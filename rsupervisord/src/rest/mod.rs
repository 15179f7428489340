//! The REST API under `/api/v1`, and `/metrics` and `/healthz`, for platform teams' own
//! services, the web dashboard and Prometheus.
//!
//! Every route calls the JSON-RPC method table (the one API core that the JSON-RPC and
//! XML-RPC surfaces call too): a REST handler only maps a path and a body onto a method and
//! its result or fault onto HTTP. So a start through REST is the same request, with the
//! same rules and answers, as `rsupervisorctl start`.
//!
//! Names follow the ctl's patterns: `web`, `group:name`, `group:*`, `all`. Faults become
//! HTTP statuses ([`status_of`]) with a JSON body `{"error":{"code":10,"fault":"BAD_NAME",
//! "message":"BAD_NAME: web"}}`. Log follows and state changes are Server-Sent Events.
//! The routes are described by `openapi.json` (served at `/api/v1/openapi.json`), which a
//! test keeps in step with [`ROUTES`].

mod sse;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::Methods;
use rsupervisor_api::Fault;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access::{Caller, Gate, Outcome, Surface};
use crate::metrics;

/// The web dashboard: one page, its style and script inline, served at `/`. It needs no
/// build step and no CDN; everything it shows comes from the routes below.
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// The OpenAPI document, embedded in the binary.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route of [`router`] as (method, path) in OpenAPI's path syntax; the test
/// `openapi_describes_every_route` compares it with [`OPENAPI`].
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/programs"),
    ("get", "/api/v1/programs/{name}"),
    ("post", "/api/v1/programs/{name}/{action}"),
    ("get", "/api/v1/programs/{name}/log"),
    ("get", "/api/v1/programs/{name}/log/follow"),
    ("get", "/api/v1/groups"),
    ("post", "/api/v1/groups/{name}/{action}"),
    ("post", "/api/v1/reread"),
    ("post", "/api/v1/update"),
    ("get", "/api/v1/events"),
    ("get", "/metrics"),
    ("get", "/healthz"),
];

/// What the REST handlers need: the method table, the access gate, and the daemon's
/// start time for `/metrics`.
#[derive(Clone)]
pub struct Rest {
    methods: Methods,
    gate: Gate,
    started: f64,
}

impl Rest {
    /// The REST surface over `methods`, admitting calls at `gate`.
    pub fn new(methods: Methods, gate: Gate) -> Self {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Rest {
            methods,
            gate,
            started,
        }
    }

    /// Calls `method` with positional `params` for `caller`, admitted (and, for a control
    /// action, audited) by the gate; a refusal is 403.
    async fn call(
        &self,
        caller: &Caller,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, ApiError> {
        let audited = Value::Array(params.clone());
        let admission = self
            .gate
            .admit(Some(caller), Surface::Rest, method, &audited)
            .await
            .map_err(ApiError::from)?;
        let result = self
            .methods
            .call::<_, Value>(method, params)
            .await
            .map_err(ApiError::from);
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(error) => Outcome::Fault(error.code, error.message.clone()),
        };
        self.gate.finish(admission, outcome).await;
        result
    }

    /// Subscribes `caller` to `method` (read-only pushes), admitted by the gate.
    async fn subscribe(
        &self,
        caller: &Caller,
        method: &str,
        params: Vec<Value>,
        buffer: usize,
    ) -> Result<jsonrpsee::core::server::Subscription, ApiError> {
        let admission = self
            .gate
            .admit(
                Some(caller),
                Surface::Rest,
                method,
                &Value::Array(params.clone()),
            )
            .await
            .map_err(ApiError::from)?;
        let subscription = self.methods.subscribe(method, params, buffer).await;
        let outcome = match &subscription {
            Ok(_) => Outcome::Ok,
            Err(error) => Outcome::Fault(0, error.to_string()),
        };
        self.gate.finish(admission, outcome).await;
        Ok(subscription?)
    }
}

impl From<rsupervisor_api::FaultError> for ApiError {
    fn from(error: rsupervisor_api::FaultError) -> Self {
        ApiError {
            status: status_of(error.fault),
            code: error.fault.code(),
            fault: error.fault.name().to_owned(),
            message: error.to_string(),
        }
    }
}

/// The routes, to be merged into the HTTP router.
pub fn router(rest: Rest) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/programs", get(list_programs))
        .route("/api/v1/programs/{name}", get(get_program))
        .route("/api/v1/programs/{name}/{action}", post(program_action))
        .route("/api/v1/programs/{name}/log", get(read_log))
        .route("/api/v1/programs/{name}/log/follow", get(sse::follow_log))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/groups/{name}/{action}", post(group_action))
        .route("/api/v1/reread", post(reread))
        .route("/api/v1/update", post(update))
        .route("/api/v1/events", get(sse::events))
        .route("/metrics", get(prometheus))
        .route("/healthz", get(healthz))
        .with_state(rest)
}

/// A fault or a bad request, as an HTTP answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: i32,
    fault: String,
    message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Fault::BadArguments.code(),
            fault: Fault::BadArguments.name().to_owned(),
            message: message.into(),
        }
    }
}

impl From<MethodsError> for ApiError {
    fn from(error: MethodsError) -> Self {
        match error {
            MethodsError::JsonRpc(object) => match Fault::from_code(object.code()) {
                Some(fault) => ApiError {
                    status: status_of(fault),
                    code: fault.code(),
                    fault: fault.name().to_owned(),
                    message: object.message().to_owned(),
                },
                None => ApiError {
                    status: StatusCode::BAD_REQUEST,
                    code: object.code(),
                    fault: "INVALID_REQUEST".to_owned(),
                    message: object.message().to_owned(),
                },
            },
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"error": {"code": self.code, "fault": self.fault, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// The HTTP status of a supervisord fault: the caller's mistake (4xx) or the daemon's
/// state (409 for a process in the wrong state, 503 while shutting down).
pub fn status_of(fault: Fault) -> StatusCode {
    match fault {
        Fault::BadName | Fault::NoFile => StatusCode::NOT_FOUND,
        Fault::BadArguments
        | Fault::IncorrectParameters
        | Fault::BadSignal
        | Fault::UnknownMethod => StatusCode::BAD_REQUEST,
        Fault::AlreadyStarted
        | Fault::NotRunning
        | Fault::AlreadyAdded
        | Fault::StillRunning
        | Fault::NotExecutable => StatusCode::CONFLICT,
        Fault::ShutdownState => StatusCode::SERVICE_UNAVAILABLE,
        Fault::Forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A process as REST shows it: `getProcessInfo`'s fields plus its namespec and uptime.
fn program(mut info: Value) -> Value {
    let group = info["group"].as_str().unwrap_or_default().to_owned();
    let name = info["name"].as_str().unwrap_or_default().to_owned();
    let running = info["statename"] == "RUNNING";
    let uptime = match (info["now"].as_i64(), info["start"].as_i64()) {
        (Some(now), Some(start)) if running => (now - start).max(0),
        _ => 0,
    };
    if let Some(object) = info.as_object_mut() {
        object.insert(
            "namespec".into(),
            Value::String(rsupervisor_api::namespec(&group, &name)),
        );
        object.insert("uptime".into(), Value::from(uptime));
    }
    info
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn list_programs(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let infos = rest
        .call(&caller, "supervisor.getAllProcessInfo", vec![])
        .await?;
    let programs: Vec<Value> = match infos {
        Value::Array(infos) => infos.into_iter().map(program).collect(),
        _ => Vec::new(),
    };
    Ok(Json(Value::Array(programs)))
}

async fn get_program(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let info = rest
        .call(
            &caller,
            "supervisor.getProcessInfo",
            vec![Value::String(name)],
        )
        .await?;
    Ok(Json(program(info)))
}

async fn list_groups(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let infos = rest
        .call(&caller, "supervisor.getAllProcessInfo", vec![])
        .await?;
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for info in infos.as_array().cloned().unwrap_or_default() {
        let group = info["group"].as_str().unwrap_or_default().to_owned();
        let program = program(info);
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, members)) => members.push(program),
            None => groups.push((group, vec![program])),
        }
    }
    Ok(Json(Value::Array(
        groups
            .into_iter()
            .map(|(name, processes)| {
                let running = processes
                    .iter()
                    .filter(|p| p["statename"] == "RUNNING")
                    .count();
                json!({"name": name, "running": running, "processes": processes})
            })
            .collect(),
    )))
}

/// Options of a start/stop/restart/signal request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// For `signal`: the signal, by name (`HUP`) or number.
    signal: Option<Value>,
    /// Wait for the outcome (default true, as the ctl).
    wait: Option<bool>,
}

/// What a process action asks of the method table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Restart,
    Signal,
}

impl Action {
    fn parse(word: &str) -> Result<Action, ApiError> {
        match word {
            "start" => Ok(Action::Start),
            "stop" => Ok(Action::Stop),
            "restart" => Ok(Action::Restart),
            "signal" => Ok(Action::Signal),
            other => Err(ApiError::bad_request(format!(
                "unknown action {other:?}: expected start, stop, restart or signal"
            ))),
        }
    }
}

/// Which processes a name means: one process, a group, or all.
enum Scope {
    One(String),
    Group(String),
    All,
}

impl Scope {
    fn of(name: &str) -> Scope {
        if name == "all" {
            Scope::All
        } else if let Some(group) = name.strip_suffix(":*") {
            Scope::Group(group.to_owned())
        } else {
            Scope::One(name.to_owned())
        }
    }

    /// The method for `verb` (`start`, `stop`, `signal`) at this scope and its leading
    /// params.
    fn method(&self, verb: &str) -> (String, Vec<Value>) {
        let camel = |suffix: &str| format!("supervisor.{verb}{suffix}");
        match self {
            Scope::One(name) => (camel("Process"), vec![Value::String(name.clone())]),
            Scope::Group(group) => (camel("ProcessGroup"), vec![Value::String(group.clone())]),
            Scope::All => (camel("AllProcesses"), vec![]),
        }
    }
}

async fn run_action(
    rest: &Rest,
    caller: &Caller,
    scope: Scope,
    action: Action,
    body: ActionBody,
) -> Result<Json<Value>, ApiError> {
    let wait = Value::Bool(body.wait.unwrap_or(true));
    if action != Action::Signal && body.signal.is_some() {
        return Err(ApiError::bad_request(
            "\"signal\" is only for the signal action",
        ));
    }
    let call = |verb: &str, with_wait: bool| {
        let (method, mut params) = scope.method(verb);
        if with_wait {
            params.push(wait.clone());
        }
        (method, params)
    };
    let result = match action {
        Action::Start => {
            let (method, params) = call("start", true);
            rest.call(caller, &method, params).await?
        }
        Action::Stop => {
            let (method, params) = call("stop", true);
            rest.call(caller, &method, params).await?
        }
        Action::Restart => {
            // As the ctl's restart: stop (a stopped process is fine), then start.
            let (method, params) = call("stop", true);
            match rest.call(caller, &method, params).await {
                Ok(_) => {}
                Err(error) if error.code == Fault::NotRunning.code() => {}
                Err(error) => return Err(error),
            }
            let (method, params) = call("start", true);
            rest.call(caller, &method, params).await?
        }
        Action::Signal => {
            let signal = match body.signal {
                Some(Value::String(name)) => Value::String(name),
                Some(Value::Number(number)) => Value::String(number.to_string()),
                _ => {
                    return Err(ApiError::bad_request(
                        "signal needs a body {\"signal\": \"HUP\"} (a name or a number)",
                    ))
                }
            };
            let (method, mut params) = call("signal", false);
            params.insert(usize::from(!matches!(scope, Scope::All)), signal);
            rest.call(caller, &method, params).await?
        }
    };
    Ok(Json(json!({"result": result})))
}

/// Parses an optional JSON body; an empty body means the defaults.
fn action_body(body: &[u8]) -> Result<ActionBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionBody::default());
    }
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("request body: {error}")))
}

async fn program_action(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
    Path((name, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let action = Action::parse(&action)?;
    run_action(
        &rest,
        &caller,
        Scope::of(&name),
        action,
        action_body(&body)?,
    )
    .await
}

async fn group_action(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
    Path((name, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let action = Action::parse(&action)?;
    run_action(
        &rest,
        &caller,
        Scope::Group(name),
        action,
        action_body(&body)?,
    )
    .await
}

async fn reread(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        rest.call(&caller, "supervisor.reloadConfig", vec![])
            .await?,
    ))
}

/// `update`: reread, then apply each added, changed and removed group (the daemon's
/// `updateProcessGroup` stops, swaps and starts what it must).
async fn update(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let result = rest
        .call(&caller, "supervisor.reloadConfig", vec![])
        .await?;
    let mut outcomes = Vec::new();
    for key in ["removed", "changed", "added"] {
        for group in result[key].as_array().cloned().unwrap_or_default() {
            let outcome = rest
                .call(
                    &caller,
                    "supervisor.updateProcessGroup",
                    vec![group.clone()],
                )
                .await;
            outcomes.push(match outcome {
                Ok(outcome) => outcome,
                Err(error) => json!({"group": group, "error": {"code": error.code, "fault": error.fault, "message": error.message}}),
            });
        }
    }
    Ok(Json(json!({"reread": result, "groups": outcomes})))
}

/// Query of `GET .../log`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// `stdout` (default) or `stderr`.
    stream: Option<String>,
    /// How many bytes (default 1600, as `tail`).
    bytes: Option<u64>,
    /// Read from this offset instead of the end.
    offset: Option<u64>,
}

/// The stream of a query: `stdout` or `stderr`.
fn stream_of(stream: Option<&str>) -> Result<&'static str, ApiError> {
    match stream.unwrap_or("stdout") {
        "stdout" => Ok("Stdout"),
        "stderr" => Ok("Stderr"),
        other => Err(ApiError::bad_request(format!(
            "stream {other:?}: expected stdout or stderr"
        ))),
    }
}

/// `GET .../log`: the end of a log (`tailProcess*Log`), or `bytes` from `offset`
/// (`readProcess*Log`); `offset` in the answer is where the next read continues.
async fn read_log(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    let stream = stream_of(query.stream.as_deref())?;
    let bytes = query.bytes.unwrap_or(1600);
    let name = Value::String(name);
    match query.offset {
        None => {
            let slice = rest
                .call(
                    &caller,
                    &format!("supervisor.tailProcess{stream}Log"),
                    vec![name, Value::from(0), Value::from(bytes)],
                )
                .await?;
            Ok(Json(json!({
                "data": slice["bytes"],
                "offset": slice["offset"],
                "overflow": slice["overflow"],
            })))
        }
        Some(offset) => {
            let data = rest
                .call(
                    &caller,
                    &format!("supervisor.readProcess{stream}Log"),
                    vec![name, Value::from(offset), Value::from(bytes)],
                )
                .await?;
            let read = data.as_str().map_or(0, str::len) as u64;
            Ok(Json(
                json!({"data": data, "offset": offset + read, "overflow": false}),
            ))
        }
    }
}

async fn prometheus(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let infos: Vec<rsupervisor_api::ProcessInfo> = serde_json::from_value(
        rest.call(&caller, "supervisor.getAllProcessInfo", vec![])
            .await?,
    )
    .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let daemon = metrics::DaemonFigures::of_this_process(env!("CARGO_PKG_VERSION"), rest.started);
    let text = metrics::render(&infos, &daemon);
    Ok(([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response())
}

/// `/healthz`: 200 while the daemon is RUNNING, 503 otherwise (shutting down, restarting).
async fn healthz(State(rest): State<Rest>, Extension(caller): Extension<Caller>) -> Response {
    match rest.call(&caller, "supervisor.getState", vec![]).await {
        Ok(state) if state["statename"] == "RUNNING" => (
            StatusCode::OK,
            Json(json!({"status": "ok", "state": state})),
        )
            .into_response(),
        Ok(state) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "state": state})),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_describes_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flat_map(|ops| ops.keys())
                    .filter(|method| ["get", "post", "put", "delete"].contains(&method.as_str()))
                    .map(move |method| (method.clone(), path.clone()))
            })
            .collect();
        documented.sort();
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn faults_map_to_http_statuses() {
        assert_eq!(status_of(Fault::BadName), StatusCode::NOT_FOUND);
        assert_eq!(status_of(Fault::AlreadyStarted), StatusCode::CONFLICT);
        assert_eq!(
            status_of(Fault::ShutdownState),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status_of(Fault::SpawnError),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn scopes_pick_the_method() {
        assert_eq!(
            Scope::of("web").method("start").0,
            "supervisor.startProcess"
        );
        assert_eq!(
            Scope::of("pool:*").method("stop").0,
            "supervisor.stopProcessGroup"
        );
        assert_eq!(
            Scope::of("all").method("signal").0,
            "supervisor.signalAllProcesses"
        );
    }
}
