//! supervisord's streaming log tails: `GET /logtail/<namespec>[/stdout|stderr]` and
//! `GET /mainlogtail`, the endpoints supervisorctl's `tail -f`, `maintail -f` and `fg` read.
//!
//! The answer is a chunked `text/plain` body that starts with the last 1024 bytes of the
//! file and then carries every new write as it happens (a follower woken by the log hub,
//! not a poll). It ends when the client disconnects or the log is closed for good.

use super::error_page;
use crate::logs::follow::{FollowStart, Follower};
use crate::rpc::RpcHandler;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use rsupervisor_api::Channel;

/// How much of the existing file the stream starts with, as supervisord.
const TAIL_BYTES: u64 = 1024;

/// `GET /logtail/<spec>`.
pub async fn process(rpc: &RpcHandler, method: &http::Method, spec: &str) -> Response {
    if method != http::Method::GET {
        return error_page(http::StatusCode::BAD_REQUEST);
    }
    let (name, channel) = match spec.rsplit_once('/') {
        Some((name, "stderr")) => (name, Channel::Stderr),
        Some((name, "stdout")) => (name, Channel::Stdout),
        _ => (spec, Channel::Stdout),
    };
    let Ok(path) = rpc.process_log_path(name.to_owned(), channel).await else {
        return error_page(http::StatusCode::NOT_FOUND);
    };
    if !path.exists() {
        return error_page(http::StatusCode::NOT_FOUND);
    }
    stream(rpc.follow(&path, FollowStart::TailBytes(TAIL_BYTES)), true)
}

/// `GET /mainlogtail`.
pub async fn main(rpc: &RpcHandler, method: &http::Method) -> Response {
    if method != http::Method::GET {
        return error_page(http::StatusCode::BAD_REQUEST);
    }
    let Some(path) = rpc.main_log_path().filter(|path| path.exists()) else {
        return error_page(http::StatusCode::NOT_FOUND);
    };
    stream(rpc.follow(&path, FollowStart::TailBytes(TAIL_BYTES)), false)
}

fn stream(follower: Follower, process_log: bool) -> Response {
    let chunks = futures_util::stream::unfold(follower, |mut follower| async move {
        match follower.next_chunk().await {
            Some(Ok(bytes)) => Some((Ok::<_, std::io::Error>(bytes), follower)),
            // A read error or the end of the log ends the stream; the client reconnects.
            Some(Err(_)) | None => None,
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if process_log {
        headers.insert("x-accel-buffering", http::HeaderValue::from_static("no"));
    }
    response
}
