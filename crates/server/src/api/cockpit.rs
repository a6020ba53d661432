//! The supervisor cockpit: thresholds per department (admins write,
//! supervisors read), their current levels and the alerts they raised.

use crate::auth::{Admin, Principal, Supervisor};
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use callboard_core::store::thresholds::{self, Alert, ThresholdConfig, ThresholdState};
use callboard_core::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn internal(m: String) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::StorageError,
        m,
    )
}

/// Whether an SMTP password is stored (never the password itself).
async fn has_password(state: &AppState) -> ApiResult<bool> {
    let secrets = state.secrets.clone();
    let found = tokio::task::spawn_blocking(move || secrets.get(crate::alerts::SMTP_PASSWORD))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))?;
    Ok(found.is_some())
}

async fn read_config(state: &AppState) -> ApiResult<ThresholdConfig> {
    let mut cfg = state.store.read(thresholds::config).await?;
    let has = has_password(state).await?;
    if let Some(s) = cfg.smtp.as_mut() {
        s.has_password = has;
    }
    Ok(cfg)
}

#[utoipa::path(get, path = "/api/thresholds", tag = "thresholds", operation_id = "getThresholds",
    description = "Every threshold (per department: waiting count, longest wait, service level and abandon rate over a rolling window, callbacks overdue, minutes without a delivery) with its amber and red levels and quiet period, where alerts go, and the SMTP settings (never the password). Supervisors and admins.",
    responses((status = 200, body = ThresholdConfig), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn get_thresholds(
    State(state): State<AppState>,
    _: Supervisor,
) -> ApiResult<Json<ThresholdConfig>> {
    Ok(Json(read_config(&state).await?))
}

#[utoipa::path(put, path = "/api/thresholds", tag = "thresholds", operation_id = "putThresholds",
    description = "Replaces every threshold and alert channel (admins; audited). `smtp.password` is write-only and kept in the secrets file: omitted keeps the stored one, `\"\"` clears it. Levels are evaluated again at once.",
    request_body = ThresholdConfig,
    responses((status = 200, body = ThresholdConfig), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put_thresholds(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(cfg): Json<ThresholdConfig>,
) -> ApiResult<Json<ThresholdConfig>> {
    // Refuse a bad configuration before any secret is written.
    let check = cfg.clone();
    state
        .store
        .read(move |c| thresholds::validate(c, &check))
        .await?;
    if let Some(p) = cfg.smtp.as_ref().and_then(|s| s.password.clone()) {
        let secrets = state.secrets.clone();
        let value = (!p.is_empty()).then_some(p);
        tokio::task::spawn_blocking(move || {
            secrets.set(crate::alerts::SMTP_PASSWORD, value.as_deref())
        })
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| internal(e.to_string()))?;
    }
    let actor = who.actor();
    // The saved limits take effect now: the levels are measured against them
    // in the same transaction, so the answer (and the "Now" column that
    // refetches on `thresholds.updated`) shows them, not those of 15 s ago.
    let alerts = state
        .store
        .write_keyed(key.0, move |w| {
            thresholds::put(w, &cfg, &actor)?;
            thresholds::run(w)
        })
        .await?;
    crate::alerts::dispatch(state.store.clone(), state.secrets.clone(), alerts);
    Ok(Json(read_config(&state).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThresholdStates {
    /// One per threshold the caller may see, in department and figure order.
    pub data: Vec<ThresholdState>,
}

#[utoipa::path(get, path = "/api/thresholds/state", tag = "thresholds", operation_id = "getThresholdState",
    description = "Each threshold's level now (`ok`, `amber`, `red`), the value last measured and since when; changes arrive on the event stream as `threshold.crossed`.",
    responses((status = 200, body = ThresholdStates)), security(("bearer" = [])))]
pub async fn threshold_state(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<ThresholdStates>> {
    let scope = who.scope();
    let data = state
        .store
        .read(move |c| thresholds::states(c, scope.as_deref()))
        .await?;
    Ok(Json(ThresholdStates { data }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// 1-1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// Newest first.
    pub data: Vec<Alert>,
}

#[utoipa::path(get, path = "/api/alerts", tag = "thresholds", operation_id = "listAlerts",
    params(AlertParams),
    description = "Crossings into amber or red, newest first: `sent` (with each channel's result), `failed`, `suppressed` (inside the quiet period), `no_channel` or `pending`. Supervisors and admins.",
    responses((status = 200, body = AlertList), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn alerts(
    State(state): State<AppState>,
    Supervisor(who): Supervisor,
    Query(p): Query<AlertParams>,
) -> ApiResult<Json<AlertList>> {
    let scope = who.scope();
    let limit = p.limit.unwrap_or(100);
    let data = state
        .store
        .read(move |c| thresholds::alerts(c, scope.as_deref(), limit))
        .await?;
    Ok(Json(AlertList { data }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_thresholds, put_thresholds))
        .routes(routes!(threshold_state))
        .routes(routes!(alerts))
}
