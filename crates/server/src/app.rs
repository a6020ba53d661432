//! The router, its OpenAPI document, and `serve(listener, shutdown)`.

use crate::api::flows;
use crate::api::{
    agent_ids, agents, calls, categories, cockpit, connectors, delivery_health, dialpad, events,
    export, metrics, presets, providers, replica, retention, session, stats, users,
};
use crate::assets;
use crate::compress::CompressWhereItPaysLayer;
use crate::convoso::Pollers;
use crate::error::ErrorCode;
use crate::error::{ApiError, ErrorBody, Json};
use crate::gate::OnlyWhenLayer;
use crate::state::{AppState, Config};
use crate::{cloudonix, ivr, webhooks};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use callboard_core::secrets::SecretStore;
use callboard_core::store::events as event_log;
use callboard_core::Store;
use serde::Serialize;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::util::MapRequestLayer;
use tower::{Service, ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Callboard API", description = "The console API of Callboard: the same for the browser console, the desktop window and remote desktops."),
    modifiers(&Security),
    components(schemas(ErrorBody, callboard_core::ErrorCode, crate::replica::forward::QueuedWrite, callboard_core::Status, callboard_core::store::calls::WorkState, callboard_core::store::calls::Outcome, callboard_core::store::users::Role, callboard_core::store::agents::AgentState, callboard_core::store::ingest::DeliveryOutcome, callboard_core::store::replica::OutboxState, metrics::Interval, calls::TimeBasis, callboard_core::store::voicemails::InboxView, callboard_core::hub::EventKind, events::StreamMessage, events::EventPayload)),
    tags(
        (name = "webhooks", description = "Where IVR platforms post call events"),
        (name = "calls", description = "Live queues, the missed-call worklist and dispositions"),
        (name = "providers", description = "Providers (departments) as data"),
        (name = "events", description = "The live event stream"),
        (name = "dialpad", description = "Dialpad user mapping"),
        (name = "callbacks", description = "Calling callers back through the platforms, and texting missed callers"),
        (name = "metrics", description = "Supervisor metrics and agent performance (docs/METRICS.md)"),
        (name = "replica", description = "Remote mode: what replicas follow, and a replica's own status and outbox"),
        (name = "agents", description = "Agent states and callback routing"),
        (name = "retention", description = "Retention of old calls and raw deliveries"),
        (name = "flows", description = "IVR flows: design, validate, publish, simulate (docs/IVR.md)"),
        (name = "ivr", description = "Where IVR platforms ask what to do next (docs/IVR.md)"),
        (name = "integrations", description = "Read-only, scoped, revocable tokens for a CRM or BI tool"),
        (name = "thresholds", description = "Thresholds per department, their levels and the alerts they raise"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token (POST /api/auth/login) or the admin token. An operation's \
                         scope names the least role it needs (`admin`, or `supervisor`, which \
                         admins also pass); no scope: any signed-in user, agents limited to \
                         their departments. The web console instead holds its session in \
                         the HttpOnly cookie `callboard_session` (POST /api/auth/login with \
                         `cookie: true`), which every operation taking this scheme also accepts, \
                         with `X-CSRF-Token` on every change. A replica's cookie is \
                         `callboard_session_<port>` (the port it listens on), so a receiver's and \
                         a replica's sessions on one host do not overwrite each other.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Newest event seq.
    pub seq: i64,
}

#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "health", responses((status = 200, body = Health)))]
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        seq: state.store.hub().head(),
    })
}

/// API paths answer a JSON 404; every other GET is the web console (its
/// client-side routes included, such as the first-start `/login?code=`).
async fn not_found(method: Method, uri: Uri) -> Response {
    if !assets::is_api_path(uri.path()) {
        if let Some(page) = assets::serve(&method, &uri) {
            return page;
        }
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::RouteNotFound,
        "no such route",
    )
    .into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this route does not take that method",
    )
}

/// The API routes with their OpenAPI document.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(crate::health::readyz))
        .routes(routes!(crate::metrics_export::metrics))
        .merge(webhooks::router())
        .merge(cloudonix::router())
        .merge(crate::contacts::router())
        .merge(session::router())
        .merge(presets::router())
        .merge(providers::router())
        .merge(connectors::router())
        .merge(calls::router())
        .merge(crate::api::leads::router())
        .merge(crate::api::dialers::router())
        .merge(crate::api::voicemails::router())
        .merge(crate::api::sms::router())
        .merge(crate::dial::router())
        .merge(export::router())
        .merge(dialpad::router())
        .merge(agent_ids::router())
        .merge(agents::router())
        .merge(delivery_health::router())
        .merge(retention::router())
        .merge(categories::router())
        .merge(users::router())
        .merge(crate::api::integrations::router())
        .merge(stats::router())
        .merge(cockpit::router())
        .merge(metrics::router())
        .merge(events::router())
        .merge(replica::router())
        .merge(flows::router())
        .merge(ivr::router())
        .split_for_parts()
}

/// The service each connection calls: the router inside one stack of
/// middleware. Each layer wraps the whole router once, as a concrete type:
/// `Router::layer` would wrap every route apart, and each layer put on that
/// way costs a clone of a boxed service and a boxed future on every request
/// (twelve of each per webhook; BENCHMARKS.md, "The middleware around the
/// router"). The outermost layer is listed first.
pub fn router(
    state: AppState,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send>
       + Clone
       + Send
       + Sync
       + 'static {
    let cors = cors(&state.config.allowed_origins);
    let (api, doc) = api_router();
    let doc = Arc::new(doc);
    let request_id = HeaderName::from_static("x-request-id");
    let routes = api
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()).into_response() }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The only layer on the routes themselves: the route's template is
        // known once the router has matched it.
        .layer(MapRequestLayer::new(note_route))
        .with_state(state.clone());
    ServiceBuilder::new()
        .layer(cors)
        .layer(compression())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::headers::secure,
        ))
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(request_id))
        // Each of these for the requests it concerns only (`gate`).
        .layer(OnlyWhenLayer::new(
            crate::memory::concerns,
            axum::middleware::from_fn(crate::memory::give_back),
        ))
        .layer(OnlyWhenLayer::new(
            crate::metrics_export::concerns,
            axum::middleware::from_fn(crate::metrics_export::track_webhooks),
        ))
        .layer(MapRequestLayer::new({
            let state = state.clone();
            move |req| crate::forwarded::normalise(&state, req)
        }))
        .layer(OnlyWhenLayer::new(
            crate::conn::reads_body_in_time,
            axum::middleware::from_fn_with_state(state.clone(), crate::conn::body_in_time),
        ))
        // A replica forwards the console's changes to its receiver.
        .option_layer(state.replica.is_some().then(|| {
            axum::middleware::from_fn_with_state(state.clone(), crate::replica::forward_writes)
        }))
        .layer(OnlyWhenLayer::new(
            crate::idempotency::concerns,
            axum::middleware::from_fn_with_state(state, crate::idempotency::honour_key),
        ))
        .service(routes)
}

/// A request's span: its method and request id now, its route once matched
/// ([`note_route`]): the template (`/dial/{token}/answer`), never the
/// path itself, which may hold a secret.
fn request_span(req: &Request) -> tracing::Span {
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = tracing::field::Empty,
        request_id = rid
    )
}

/// Names the matched route in the request's span.
fn note_route(req: Request) -> Request {
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("path", path.as_str());
    }
    req
}

/// gzip or brotli, as the client asks, where it pays: the console's bundle,
/// lists, the CSV export. A webhook's acknowledgement (well under 1 KiB) is
/// sent as it is: compressing it would cost the ingest path for nothing.
fn compression() -> CompressWhereItPaysLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
    CompressWhereItPaysLayer::new(
        tower_http::compression::CompressionLayer::new()
            .quality(tower_http::CompressionLevel::Fastest)
            .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024)).and(
                // The event stream's upgrade has no body to compress.
                |status: StatusCode,
                 _: axum::http::Version,
                 _: &axum::http::HeaderMap,
                 _: &axum::http::Extensions| {
                    status != StatusCode::SWITCHING_PROTOCOLS
                },
            )),
    )
}

/// Cross-origin access for exactly the listed origins (the desktop window's
/// own); an origin that is not listed gets no CORS headers, so its browser
/// refuses the answer.
fn cors(origins: &[String]) -> CorsLayer {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish, closes event streams and flushes the writer.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, store, config, None, shutdown).await
}

/// [`serve`], as a receiver (`replica` None) or as a replica's local API.
pub async fn serve_with(
    listener: TcpListener,
    store: Store,
    config: Config,
    replica: Option<Arc<crate::replica::Shared>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let is_replica = replica.is_some();
    let retention = config.event_retention_days;
    let state = AppState::new(crate::state::Services {
        store: store.clone(),
        config: Arc::new(config),
        shutdown: stop_rx.clone(),
        logins: Arc::default(),
        pollers: Pollers::default(),
        secrets: Arc::new(SecretStore::in_dir(
            store.path().parent().unwrap_or(std::path::Path::new(".")),
        )),
        replica,
        retention: crate::retention::RetentionLock::new(store.now()),
        refusals: Arc::default(),
        idempotency_in_flight: Arc::default(),
        dialling: crate::outbound::Dialling::default(),
        queue_legs: crate::queue_legs::Legs::default(),
        streams: crate::streams::Streams::default(),
    });
    // A replica marks no breaches, runs no retention and polls nothing: its
    // receiver does, and the rows follow. A receiver runs them while it leads
    // (always, unless it is one of a cluster's instances).
    let background = (!is_replica).then(|| {
        tokio::spawn(crate::leader::run(
            state.clone(),
            retention,
            stop_rx.clone(),
        ))
    });
    // Every instance keeps its own metrics sums (receiver, replica, each of a cluster's).
    let warm = tokio::spawn(crate::warm::metrics_cache(store.clone(), stop_rx.clone()));
    // A replica prunes its own copy of the event log.
    let pruner = is_replica.then(|| tokio::spawn(prune_events(store.clone(), retention, stop_rx)));
    let state_retention = state.retention.clone();
    let limits = state.config.limits.clone();
    let tls = match &state.config.tls {
        Some(certs) => Some(certs.acceptor().map_err(std::io::Error::other)?),
        None => None,
    };
    let app = router(state);
    let result = crate::conn::serve(listener, app, limits, tls, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    })
    .await;
    for task in pruner.into_iter().chain(background).chain([warm]) {
        task.abort();
    }
    // A retention run in progress stops at its next batch (it watches the
    // shutdown signal); waiting for the lock lets it record how far it got.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while state_retention.try_take().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    store.close().await;
    result
}

/// Row changes kept for replicas (a few days of a busy office).
const ROW_CHANGES_KEPT: i64 = 2_000_000;

/// Keeps the event log to its retention, in small batches that never hold
/// the writer for long.
pub(crate) async fn prune_events(store: Store, days: i64, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let before = callboard_core::time::fmt(store.now() - chrono::Duration::days(days));
        loop {
            let b = before.clone();
            match store.write(move |w| event_log::prune(w, &b, 2000)).await {
                Ok(0) => break,
                Ok(n) => tracing::debug!(deleted = n, "pruned the event log"),
                Err(e) => {
                    tracing::warn!(error = %e, "event log pruning failed");
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
        if let Err(e) = store.write(callboard_core::store::idempotency::prune).await {
            tracing::warn!(error = %e, "idempotency key pruning failed");
        }
        // Replicas follow row changes; one further behind re-snapshots.
        loop {
            match store
                .write(|w| callboard_core::store::replica::prune_changes(w, ROW_CHANGES_KEPT, 5000))
                .await
            {
                Ok(0) => break,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::warn!(error = %e, "row change pruning failed");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tower::ServiceExt;

    /// Log lines written to a buffer the test reads.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_is_logged_under_its_route_not_its_path() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let app = ServiceBuilder::new()
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .service(
                Router::new()
                    .route(
                        "/dial/{token}/status",
                        get(|| async {
                            tracing::info!("answering");
                            "ok"
                        }),
                    )
                    .layer(MapRequestLayer::new(note_route)),
            );
        let res = app
            .oneshot(
                Request::builder()
                    .uri("/dial/s3cret-link/status")
                    .header("x-request-id", "rid-1")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let logged = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("answering"), "{logged}");
        assert!(
            logged.contains(r#"path="/dial/{token}/status""#) && logged.contains("rid-1"),
            "{logged}"
        );
        assert!(!logged.contains("s3cret"), "{logged}");
    }
}
