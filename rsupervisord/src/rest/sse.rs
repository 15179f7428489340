//! Server-Sent Events: a process log followed as it is written, and every process state
//! change, for the dashboard and for scripts (`curl -N`).
//!
//! Each stream is a subscription of the method table (`followProcessLog`,
//! `subscribeStateChanges`), the same pushes `rsupervisorctl tail -f` receives over
//! WebSocket; the connection ends when the subscription does (the log is removed, the
//! daemon stops) or the client goes away (the subscription is dropped with it).

use std::convert::Infallible;

use crate::access::Caller;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use futures_util::stream::{self, Stream};
use jsonrpsee::core::server::Subscription;
use serde::Deserialize;
use serde_json::Value;

use super::{stream_of, ApiError, Rest};

/// Items a subscription may hold before the daemon waits for the client to read.
const BUFFER: usize = 256;

/// Query of `GET .../log/follow`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowQuery {
    /// `stdout` (default) or `stderr`.
    stream: Option<String>,
    /// How much of the end of the log to send first (default 1600).
    bytes: Option<u64>,
}

/// The subscription's items as SSE events named `event`, each item's JSON as the data.
fn events_of(
    subscription: Subscription,
    event: &'static str,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(subscription, move |mut subscription| async move {
        let (item, _) = subscription.next::<Value>().await?.ok()?;
        let data = match &item {
            Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
            other => other.to_string(),
        };
        Some((Ok(Event::default().event(event).data(data)), subscription))
    })
}

/// `GET /api/v1/programs/{name}/log/follow`: `event: log`, data a JSON string of the new
/// bytes (the first event holds the last `bytes` of the log).
pub async fn follow_log(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(query): Query<FollowQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let channel = stream_of(query.stream.as_deref())?.to_ascii_lowercase();
    let subscription = rest
        .subscribe(
            &caller,
            "supervisor.followProcessLog",
            vec![
                Value::String(name),
                Value::String(channel),
                Value::from(query.bytes.unwrap_or(1600)),
            ],
            BUFFER,
        )
        .await?;
    Ok(Sse::new(events_of(subscription, "log")).keep_alive(KeepAlive::default()))
}

/// `GET /api/v1/events`: `event: state`, data a state change
/// (`{"name","group","from_state","to_state","pid","when"}`).
pub async fn events(
    State(rest): State<Rest>,
    Extension(caller): Extension<Caller>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let subscription = rest
        .subscribe(
            &caller,
            "supervisor.subscribeStateChanges",
            Vec::<Value>::new(),
            BUFFER,
        )
        .await?;
    Ok(Sse::new(events_of(subscription, "state")).keep_alive(KeepAlive::default()))
}
