//! The JSON-RPC side of the [`Gate`]: a jsonrpsee RPC middleware that admits each call
//! (single, in a batch, or a notification) with the [`Caller`] the HTTP stack put in the
//! request's extensions, answers a refusal with the FORBIDDEN fault, and records a
//! control action's outcome before its response leaves.

use super::{Caller, Gate, Outcome, Surface};
use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::server::{BatchResponseBuilder, MethodResponse};
use jsonrpsee::types::{ErrorObjectOwned, Request};
use serde_json::Value as Json;
use std::future::Future;

/// Largest batch response, as the server's own limit (`http::serve`).
const MAX_BATCH_RESPONSE: usize = 256 * 1024 * 1024;

/// The layer to give `RpcServiceBuilder`.
#[derive(Clone)]
pub struct GateLayer(pub Gate);

impl<S> tower::Layer<S> for GateLayer {
    type Service = Gated<S>;

    fn layer(&self, service: S) -> Gated<S> {
        Gated {
            gate: self.0.clone(),
            service,
        }
    }
}

/// The gated RPC service.
#[derive(Clone)]
pub struct Gated<S> {
    gate: Gate,
    service: S,
}

/// A request's params as JSON (`null` when absent or unreadable).
fn params_of(params: Option<&str>) -> Json {
    params
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Json::Null)
}

/// How a JSON-RPC response ended, for the audit log.
fn outcome_of(response: &MethodResponse) -> Outcome {
    if !response.is_error() {
        return Outcome::Ok;
    }
    let body: Json = serde_json::from_str(response.as_json().get()).unwrap_or(Json::Null);
    let code = response.as_error_code().unwrap_or_default();
    let text = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Outcome::Fault(code, text)
}

impl<S> RpcServiceT for Gated<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            NotificationResponse = MethodResponse,
            BatchResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let gate = self.gate.clone();
        let service = self.service.clone();
        async move {
            let caller = request.extensions().get::<Caller>().cloned();
            if super::reads_freely(caller.as_ref(), request.method_name()) {
                return service.call(request).await;
            }
            let method = request.method_name().to_owned();
            let params = params_of(request.params.as_ref().map(|raw| raw.get()));
            match gate
                .admit(caller.as_ref(), Surface::Jsonrpc, &method, &params)
                .await
            {
                Err(fault) => MethodResponse::error(request.id(), ErrorObjectOwned::from(fault)),
                Ok(admission) => {
                    let response = service.call(request).await;
                    gate.finish(admission, outcome_of(&response)).await;
                    response
                }
            }
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        // Each entry passes through `call`/`notification` above, as jsonrpsee's own batch
        // handling does for the inner service.
        let this = self.clone();
        async move {
            let mut responses = BatchResponseBuilder::new_with_limit(MAX_BATCH_RESPONSE);
            let mut got_notification = false;
            for entry in batch.into_iter() {
                match entry {
                    Ok(BatchEntry::Call(request)) => {
                        if let Err(too_big) = responses.append(this.call(request).await) {
                            return too_big;
                        }
                    }
                    Ok(BatchEntry::Notification(notification)) => {
                        got_notification = true;
                        this.notification(notification).await;
                    }
                    Err(error) => {
                        let (error, id) = error.into_parts();
                        if let Err(too_big) = responses.append(MethodResponse::error(id, error)) {
                            return too_big;
                        }
                    }
                }
            }
            if responses.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(responses.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        let gate = self.gate.clone();
        let service = self.service.clone();
        async move {
            let caller = notification.extensions().get::<Caller>().cloned();
            let method = notification.method_name().to_owned();
            let params = params_of(notification.params().as_ref().map(|raw| raw.get()));
            match gate
                .admit(caller.as_ref(), Surface::Jsonrpc, &method, &params)
                .await
            {
                // A notification gets no answer, refused or not.
                Err(_) => MethodResponse::notification(),
                Ok(admission) => {
                    let response = service.notification(notification).await;
                    gate.finish(admission, Outcome::Ok).await;
                    response
                }
            }
        }
    }
}
