//! The one HTTP stack: every listener (`[unix_http_server]`, `[inet_http_server]`) serves
//! the same axum router on hyper, which dispatches by path and content type:
//!
//! - `POST /RPC2` (and any path under it) with an XML body: supervisord's XML-RPC
//!   ([`crate::xmlrpc`]); with `Content-Type: application/json`: JSON-RPC;
//! - `GET /logtail/<namespec>[/stdout|stderr]` and `GET /mainlogtail`: supervisord's
//!   streaming log tails (`supervisorctl tail -f`, `maintail -f`, `fg`);
//! - anything else: jsonrpsee's JSON-RPC service (HTTP POST, and WebSocket for the
//!   subscriptions `rsupervisorctl tail -f` uses), mounted as a tower service, unchanged.
//!
//! - `/api/v1/…`, `/metrics`, `/healthz`: the REST surface ([`crate::rest`]); `GET /` from a
//!   browser (no WebSocket upgrade): the dashboard;
//!
//! New surfaces are more routes on `router`. When a listener
//! has credentials, every path requires them and a failure gets supervisord's 401 challenge.
//! With a `tokens_file`, `Authorization: Bearer SECRET` is accepted instead.
//!
//! Each request leaves the outer middleware with its [`Caller`] (the connection's peer,
//! from SO_PEERCRED or the TCP address, plus the basic-auth user or the token, and the role
//! the listener's [`Policy`] gives it) in its extensions; every surface hands it to the
//! access [`crate::access::Gate`].

pub mod auth;
mod logtail;

use crate::access::layer::GateLayer;
use crate::access::{Caller, Gate, Peer, Policy, Surface};
use crate::rpc::RpcHandler;
use crate::xmlrpc::XmlRpc;
use auth::Credentials;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::Methods;
use std::sync::Arc;
use tower::Layer;

/// What every connection serves: the API core and its two method surfaces.
#[derive(Clone)]
pub struct Api {
    rpc: RpcHandler,
    methods: Methods,
    xmlrpc: XmlRpc,
    rest: crate::rest::Rest,
    gate: Gate,
}

impl Api {
    /// The surfaces of `rpc`, whose JSON-RPC method table is `methods`, every call
    /// admitted at `gate`.
    pub fn new(rpc: RpcHandler, methods: Methods, gate: Gate) -> Self {
        Api {
            xmlrpc: XmlRpc::new(methods.clone(), gate.clone()),
            rest: crate::rest::Rest::new(methods.clone(), gate.clone()),
            rpc,
            methods,
            gate,
        }
    }
}

/// A bound listener and the credentials its section requires.
pub struct Listener {
    /// The socket.
    pub socket: Socket,
    /// `username`/`password` of its section, if set.
    pub credentials: Option<Credentials>,
    /// Its section's access rules.
    pub policy: Policy,
}

/// A listening socket of either family.
pub enum Socket {
    /// `[unix_http_server]`.
    Unix(std::os::unix::net::UnixListener),
    /// `[inet_http_server]`.
    Tcp(std::net::TcpListener),
}

/// Largest request body: multicalls and `sendProcessStdin` data.
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// Serves `api` on every listener until the returned handle is stopped.
pub fn serve(listeners: Vec<Listener>, api: Api) -> std::io::Result<ServerHandle> {
    let (stop_handle, server_handle) = stop_channel();
    // Many ctl clients and followers may be connected at once; responses carry whole logs.
    let server_config = ServerConfig::builder()
        .max_connections(10_000)
        .max_request_body_size(MAX_REQUEST_BODY as u32)
        .max_response_body_size(256 * 1024 * 1024)
        .build();
    let builder = Server::builder()
        .set_config(server_config)
        .set_rpc_middleware(RpcServiceBuilder::new().layer(GateLayer(api.gate.clone())))
        .to_service_builder();
    for listener in listeners {
        let credentials = listener.credentials.map(Arc::new);
        let policy = Arc::new(listener.policy);
        let api = api.clone();
        let builder = builder.clone();
        let stop_handle = stop_handle.clone();
        let accept = Acceptor::new(listener.socket)?;
        // Built once: a connection only adds its own `Connection` to each of its requests.
        // (Building the router for each connection was a fifth of the daemon's work for a
        // one-call ctl command.)
        let app = router(api.clone());
        let names = policy.names(api.gate.audits());
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = accept.accept() => match accepted {
                        Ok(stream) => stream,
                        // EMFILE and friends: drop this connection, keep serving others.
                        Err(_) => continue,
                    },
                    () = stop_handle.clone().shutdown() => break,
                };
                // jsonrpsee's service stays per connection: it numbers the connection, which
                // its WebSocket subscriptions are keyed by.
                let jsonrpc = JsonRpc::new(
                    builder
                        .clone()
                        .build(api.methods.clone(), stop_handle.clone()),
                );
                let peer = match peer {
                    PeerAddress::Unix(credentials) => Peer::unix(
                        credentials.uid(),
                        credentials.gid(),
                        credentials.pid(),
                        names,
                    ),
                    PeerAddress::Tcp(address) => Peer::tcp(address),
                    PeerAddress::Unknown => Peer::default(),
                };
                let connection = Connection {
                    access: Access {
                        credentials: credentials.clone(),
                        policy: policy.clone(),
                        peer: Arc::new(peer),
                    },
                    jsonrpc,
                };
                let service = axum::Extension(connection).layer(app.clone());
                let stopped = stop_handle.clone().shutdown();
                tokio::spawn(async move {
                    let _ = match stream {
                        Stream::Unix(stream) => {
                            serve_with_graceful_shutdown(stream, service, stopped).await
                        }
                        Stream::Tcp(stream) => {
                            serve_with_graceful_shutdown(stream, service, stopped).await
                        }
                    };
                });
            }
        });
    }
    Ok(server_handle)
}

enum Acceptor {
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

/// Who is at the other end of an accepted connection.
enum PeerAddress {
    Unix(tokio::net::unix::UCred),
    Tcp(std::net::SocketAddr),
    /// SO_PEERCRED failed: the caller stays unidentified (and has no role if the
    /// listener restricts access).
    Unknown,
}

/// What one connection adds to each of its requests' extensions, for the shared router.
#[derive(Clone)]
struct Connection {
    access: Access,
    jsonrpc: JsonRpc,
}

/// A connection's access context: its listener's credentials and rules, and its peer.
#[derive(Clone)]
struct Access {
    credentials: Option<Arc<Credentials>>,
    policy: Arc<Policy>,
    peer: Arc<Peer>,
}

impl Acceptor {
    fn new(socket: Socket) -> std::io::Result<Self> {
        Ok(match socket {
            Socket::Unix(listener) => {
                listener.set_nonblocking(true)?;
                Acceptor::Unix(tokio::net::UnixListener::from_std(listener)?)
            }
            Socket::Tcp(listener) => {
                listener.set_nonblocking(true)?;
                Acceptor::Tcp(tokio::net::TcpListener::from_std(listener)?)
            }
        })
    }

    async fn accept(&self) -> std::io::Result<(Stream, PeerAddress)> {
        match self {
            Acceptor::Unix(listener) => {
                let (stream, _) = listener.accept().await?;
                let peer = stream
                    .peer_cred()
                    .map_or(PeerAddress::Unknown, PeerAddress::Unix);
                Ok((Stream::Unix(stream), peer))
            }
            Acceptor::Tcp(listener) => {
                let (stream, address) = listener.accept().await?;
                // Small request/response exchanges: do not wait to fill segments.
                let _ = stream.set_nodelay(true);
                Ok((Stream::Tcp(stream), PeerAddress::Tcp(address)))
            }
        }
    }
}

/// jsonrpsee's per-connection service, boxed: the router is shared by every connection
/// and finds its connection's service in the request's extensions.
type JsonRpc = tower::util::BoxCloneSyncService<
    Request,
    http::Response<jsonrpsee::server::HttpBody>,
    jsonrpsee::core::BoxError,
>;

/// Passes a request to its connection's JSON-RPC service.
async fn json_rpc(request: Request) -> Response {
    let Some(service) = request
        .extensions()
        .get::<Connection>()
        .map(|connection| connection.jsonrpc.clone())
    else {
        return error_page(http::StatusCode::INTERNAL_SERVER_ERROR);
    };
    match tower::ServiceExt::oneshot(service, request).await {
        Ok(response) => response.map(Body::new),
        Err(_) => error_page(http::StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The router every connection of a listener serves; each request carries its
/// [`Connection`] in its extensions.
fn router(api: Api) -> Router {
    let rpc2 = |State(api): State<Api>, request: Request| async move {
        if is_json(&request) {
            return json_rpc(request).await;
        }
        xml_rpc(&api, request).await
    };
    // `/` is the dashboard for a browser's GET, and JSON-RPC (POST, WebSocket upgrade) for
    // everything else, as before.
    let root = |request: Request| async move {
        let upgrade = request.headers().contains_key(http::header::UPGRADE);
        if request.method() == http::Method::GET && !upgrade {
            return (
                [(http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                crate::rest::DASHBOARD,
            )
                .into_response();
        }
        json_rpc(request).await
    };
    Router::new()
        .route("/", any(root))
        .route("/RPC2", any(rpc2))
        .route("/RPC2/{*rest}", any(rpc2))
        .route(
            "/logtail/{*spec}",
            any(|State(api): State<Api>, UrlPath(spec): UrlPath<String>, request: Request| async move {
                if let Some(refused) = admit_read(&api, request.extensions().get::<Caller>().cloned(), "supervisor.tailProcessLog").await {
                    return refused;
                }
                logtail::process(&api.rpc, request.method(), &spec).await
            }),
        )
        .route(
            "/mainlogtail",
            any(|State(api): State<Api>, request: Request| async move {
                if let Some(refused) = admit_read(&api, request.extensions().get::<Caller>().cloned(), "supervisor.readLog").await {
                    return refused;
                }
                logtail::main(&api.rpc, request.method()).await
            }),
        )
        .fallback(json_rpc)
        .with_state(api.clone())
        .merge(crate::rest::router(api.rest))
        .layer(axum::middleware::from_fn(
            |mut request: Request, next: axum::middleware::Next| async move {
                let caller = request
                    .extensions()
                    .get::<Connection>()
                    .and_then(|connection| identify(&connection.access, &request));
                match caller {
                    Some(caller) => {
                        request.extensions_mut().insert(caller);
                        next.run(request).await
                    }
                    None => unauthorized(),
                }
            },
        ))
}

/// The caller a request is, or `None` when it fails authentication (401): a bearer
/// token must be one of the listener's; otherwise the listener's basic credentials, if
/// any, must be given.
fn identify(access: &Access, request: &Request) -> Option<Caller> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    let bearer = header
        .and_then(|value| value.strip_prefix(b"Bearer "))
        .filter(|_| access.policy.has_tokens());
    if let Some(secret) = bearer {
        let secret = std::str::from_utf8(secret).ok()?.trim();
        let token = access.policy.token(secret)?;
        return Some(access.policy.caller(&access.peer, None, Some(token)));
    }
    let basic_user = match &access.credentials {
        Some(credentials) if credentials.accepts(header) => Some(credentials.user()),
        Some(_) => return None,
        None => None,
    };
    Some(access.policy.caller(&access.peer, basic_user, None))
}

/// Admits a read of the supervisord log-tail routes; `Some(403 page)` when refused.
async fn admit_read(api: &Api, caller: Option<Caller>, method: &str) -> Option<Response> {
    match api
        .gate
        .admit(
            caller.as_ref(),
            Surface::Logtail,
            method,
            &serde_json::Value::Null,
        )
        .await
    {
        // A read is never audited: nothing to finish.
        Ok(admission) => {
            api.gate.finish(admission, crate::access::Outcome::Ok).await;
            None
        }
        Err(_) => Some(error_page(http::StatusCode::FORBIDDEN)),
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"))
}

/// `POST /RPC2` with an XML-RPC call: 200 with the response or fault document, 400 for a
/// body that is not a call or a method other than POST, as supervisord.
async fn xml_rpc(api: &Api, request: Request) -> Response {
    if request.method() != http::Method::POST {
        return error_page(http::StatusCode::BAD_REQUEST);
    }
    let caller = request.extensions().get::<Caller>().cloned();
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_REQUEST_BODY).await else {
        return error_page(http::StatusCode::BAD_REQUEST);
    };
    match api.xmlrpc.answer(caller.as_ref(), &body).await {
        Ok(document) => ([(http::header::CONTENT_TYPE, "text/xml")], document).into_response(),
        Err(_) => error_page(http::StatusCode::BAD_REQUEST),
    }
}

/// supervisord's (medusa's) HTML error page for `status`.
fn error_page(status: http::StatusCode) -> Response {
    let body = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    (status, [(http::header::CONTENT_TYPE, "text/html")], body).into_response()
}

/// supervisord's challenge: 401, `WWW-Authenticate: Basic realm="default"`, connection
/// closed.
fn unauthorized() -> Response {
    let mut response = error_page(http::StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Basic realm=\"default\""),
    );
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    response
}
