//! Retention settings, on-demand runs and the runs' log (admins).

use crate::auth::Admin;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use callboard_core::store::retention::{self, RetentionRun, RetentionSettings};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/settings/retention", operation_id = "getRetentionSettings", tag = "retention",
    responses((status = 200, body = RetentionSettings), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<RetentionSettings>> {
    Ok(Json(state.store.read(retention::settings).await?))
}

#[utoipa::path(put, path = "/api/settings/retention", operation_id = "putRetentionSettings", tag = "retention",
    description = "Sets the retention policy: `calls_days` (default 30; 0 keeps every call), `mode` (`archive` moves finished calls and their dispositions to the archive tables, `delete` removes them), `raw_days` (default 7; 0 keeps raw deliveries). Audited.",
    request_body = RetentionSettings,
    responses((status = 200, body = RetentionSettings), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put_settings(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(s): Json<RetentionSettings>,
) -> ApiResult<Json<RetentionSettings>> {
    let actor = who.actor();
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| retention::put_settings(w, s, &actor))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/retention/run", operation_id = "runRetention", tag = "retention",
    description = "Starts a retention run now and answers at once with the run (`finished_at` null while it goes); follow it in `GET /api/retention/runs`. 409 when a run is already going.",
    responses((status = 202, body = RetentionRun), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn run(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> ApiResult<(StatusCode, Json<RetentionRun>)> {
    match crate::retention::start(
        &state.store,
        &state.retention,
        "manual",
        who.actor(),
        state.shutdown.clone(),
    )
    .await?
    {
        Some((run, _)) => Ok((StatusCode::ACCEPTED, Json(run))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::RetentionRunning,
            "a retention run is already going: wait for it to finish",
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// 1-1000, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetentionRuns {
    /// Newest first.
    pub data: Vec<RetentionRun>,
}

#[utoipa::path(get, path = "/api/retention/runs", operation_id = "listRetentionRuns", tag = "retention", params(RunsParams),
    responses((status = 200, body = RetentionRuns), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn runs(
    State(state): State<AppState>,
    _: Admin,
    Query(p): Query<RunsParams>,
) -> ApiResult<Json<RetentionRuns>> {
    let limit = p.limit.unwrap_or(50);
    let data = state.store.read(move |c| retention::runs(c, limit)).await?;
    Ok(Json(RetentionRuns { data }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(run))
        .routes(routes!(runs))
}
