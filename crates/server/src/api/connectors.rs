//! The Convoso API poller of a provider: configuration, health (circuit and
//! last run), backfill and an immediate delta sync.

use crate::auth::{Admin, Supervisor};
use crate::convoso::{Circuit, RunError};
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json, OptionalJson};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::connectors::{self, Connector, ConnectorInput, RunReport};
use callboard_core::store::recording_fetches::{self, RecordingSummary};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorHealth {
    pub connector: Connector,
    pub circuit: Circuit,
    /// A sync is running now.
    pub running: bool,
    pub last_run: Option<RunReport>,
    /// An event stream's connection (Asterisk ARI, 3CX Call Control); null
    /// for pollers.
    pub stream: Option<crate::streams::StreamHealth>,
    /// Convoso recordings not ready when their call was first seen, fetched
    /// again with backoff (all zero for a stream).
    pub recordings: RecordingSummary,
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(e) => e.into(),
            RunError::Invalid(m) => ApiError::invalid(m),
            RunError::Busy => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, e.to_string())
            }
        }
    }
}

#[utoipa::path(get, path = "/api/providers/{slug}/connector", operation_id = "getConnector", tag = "providers",
    description = "The provider's API poller and its health: circuit state, last run, and the queue of Convoso recordings not ready when their call was first seen (`recordings`: pending, fetched, given up, next try, last error).",
    params(("slug" = String, Path)),
    responses((status = 200, body = ConnectorHealth), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn health(
    State(state): State<AppState>,
    _: Supervisor,
    Path(slug): Path<String>,
) -> ApiResult<Json<ConnectorHealth>> {
    let s = slug.clone();
    let (connector, last_run, recordings) = state
        .store
        .read(move |c| {
            Ok((
                connectors::get(c, &s)?,
                connectors::last_run(c, &s)?,
                recording_fetches::summary(c, &s)?,
            ))
        })
        .await?;
    let stream = crate::streams::is_stream(&connector.kind)
        .then(|| state.streams.health(&slug).unwrap_or_default());
    Ok(Json(ConnectorHealth {
        connector,
        circuit: state.pollers.circuit(&slug, state.store.now()),
        running: state.pollers.is_running(&slug),
        stream,
        last_run,
        recordings,
    }))
}

#[utoipa::path(put, path = "/api/providers/{slug}/connector", operation_id = "putConnector", tag = "providers",
    description = "Configures the provider's Convoso API poller, or the event stream of an Asterisk (ARI: `user:password`) or 3CX (Call Control API: `client_id:api_key`) provider. The auth token goes to the receiver's secret store (secrets.json, not the database) and is never shown again.",
    params(("slug" = String, Path)), request_body = ConnectorInput,
    responses((status = 200, body = Connector), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
    Json(input): Json<ConnectorInput>,
) -> ApiResult<Json<Connector>> {
    connectors::validate(&input)?;
    let s = slug.clone();
    state
        .store
        .read(move |c| callboard_core::store::providers::get(c, &s).map(|_| ()))
        .await?;
    let token = input
        .auth_token
        .as_deref()
        .map(str::trim)
        .map(str::to_string);
    let token_stored = token.is_some();
    if let Some(t) = token {
        let (secrets, name) = (state.secrets.clone(), connectors::token_name(&slug));
        let internal = |m: String| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::StorageError,
                m,
            )
        };
        tokio::task::spawn_blocking(move || secrets.set(&name, Some(&t)))
            .await
            .map_err(|e| internal(e.to_string()))?
            .map_err(|e| internal(e.to_string()))?;
    }
    let actor = who.actor();
    let c = state
        .store
        .write_keyed(key.0, move |w| {
            connectors::put(w, &slug, input, token_stored, &actor)
        })
        .await?;
    Ok(Json(c))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    /// Start of the window (RFC 3339).
    pub from: String,
    /// End of the window (RFC 3339; default now).
    pub to: Option<String>,
}

#[utoipa::path(post, path = "/api/providers/{slug}/connector/backfill", operation_id = "backfillConnector", tag = "providers",
    description = "Reads every call record of the window from the API, then answers with the run's report.",
    params(("slug" = String, Path)), request_body = BackfillRequest,
    responses((status = 200, body = RunReport), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn backfill(
    State(state): State<AppState>,
    _: Admin,
    Path(slug): Path<String>,
    Json(req): Json<BackfillRequest>,
) -> ApiResult<Json<RunReport>> {
    let from = super::timestamp(&req.from, "from")?;
    let to = match &req.to {
        Some(t) => super::timestamp(t, "to")?,
        None => state.store.now(),
    };
    let report = state
        .pollers
        .run(
            &state.store,
            &state.secrets,
            &slug,
            "backfill",
            from,
            to,
            &|_, _| {},
        )
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {}

#[utoipa::path(post, path = "/api/providers/{slug}/connector/sync", operation_id = "syncConnector", tag = "providers",
    description = "Runs a delta sync now: from the last synced time (less the overlap) to now.",
    params(("slug" = String, Path)), request_body(content = Option<SyncRequest>),
    responses((status = 200, body = RunReport), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn sync(
    State(state): State<AppState>,
    _: Admin,
    Path(slug): Path<String>,
    OptionalJson(_body): OptionalJson<SyncRequest>,
) -> ApiResult<Json<RunReport>> {
    let report = state
        .pollers
        .delta(&state.store, &state.secrets, &slug)
        .await?;
    Ok(Json(report))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health, put))
        .routes(routes!(backfill))
        .routes(routes!(sync))
}
