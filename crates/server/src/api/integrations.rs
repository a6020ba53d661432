//! Integration tokens (admins): scoped, read-only, revocable access for a CRM
//! or BI tool. What each scope reaches is `auth::INTEGRATION_ROUTES`.

use crate::auth::Admin;
use crate::error::{ApiResult, Json};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::integrations::{self, IntegrationToken, NewIntegrationToken};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntegrationTokenList {
    pub data: Vec<IntegrationToken>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntegrationTokenCreated {
    #[serde(flatten)]
    pub integration: IntegrationToken,
    /// Send as `Authorization: Bearer <token>`. Shown this once.
    pub token: String,
}

#[utoipa::path(get, path = "/api/integration-tokens", operation_id = "listIntegrationTokens", tag = "integrations",
    description = "Every integration token (live first), without secrets.",
    responses((status = 200, body = IntegrationTokenList), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<IntegrationTokenList>> {
    let data = state.store.read(integrations::list).await?;
    Ok(Json(IntegrationTokenList { data }))
}

#[utoipa::path(post, path = "/api/integration-tokens", operation_id = "createIntegrationToken", tag = "integrations",
    description = "A read-only token for a CRM or BI tool. `calls:read` reaches GET /api/calls, /api/calls/{call_id}, /api/calls/export.csv, /api/events and /api/providers; `metrics:read` reaches GET /api/stats, /api/metrics, /api/metrics/agents and /api/providers; `wallboard:read` (a TV's kiosk link: `/dashboard?wallboard=1&kiosk=<token>`) reaches GET /api/stats, /api/providers and /api/thresholds/state. Every other route answers it 403; `departments` limits what it sees. The token is shown once.",
    request_body = NewIntegrationToken,
    responses((status = 201, body = IntegrationTokenCreated), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(input): Json<NewIntegrationToken>,
) -> ApiResult<(StatusCode, Json<IntegrationTokenCreated>)> {
    let actor = who.actor();
    let (integration, token) = state
        .store
        .write_keyed(key.0, move |w| integrations::create(w, input, &actor))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationTokenCreated { integration, token }),
    ))
}

#[utoipa::path(delete, path = "/api/integration-tokens/{id}", operation_id = "revokeIntegrationToken", tag = "integrations",
    description = "Revokes the token at once: its next request is a 401. The record stays, marked revoked.",
    params(("id" = i64, Path)),
    responses((status = 200, body = IntegrationToken), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn revoke(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<IntegrationToken>> {
    let actor = who.actor();
    let t = state
        .store
        .write_keyed(key.0, move |w| integrations::revoke(w, id, &actor))
        .await?;
    Ok(Json(t))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}
