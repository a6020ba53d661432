//! `GET /api/providers-health`: per provider the last delivery and the
//! error rate over a recent window (the provider list's columns).

use crate::auth::Supervisor;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::State;
use callboard_core::store::delivery_health::{self, DeliveryHealth};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthParams {
    /// The window of `deliveries`, `errors` and `error_rate`, in hours (1–168, default 24).
    pub hours: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryHealthList {
    /// The start of the window (RFC 3339, UTC).
    pub since: String,
    pub hours: i64,
    /// One per provider (inactive ones too), by slug.
    pub data: Vec<DeliveryHealth>,
}

#[utoipa::path(get, path = "/api/providers-health", operation_id = "getDeliveryHealth", tag = "providers",
    params(HealthParams),
    description = "Per provider: when its last delivery arrived (any outcome), its last failed one, and over the last `hours` how many deliveries arrived and how many were errors (`mapping_failed` or `rejected`, i.e. refused before parsing), with the error rate. Supervisors and admins.",
    responses((status = 200, body = DeliveryHealthList), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn get(
    State(state): State<AppState>,
    Supervisor(who): Supervisor,
    Query(p): Query<HealthParams>,
) -> ApiResult<Json<DeliveryHealthList>> {
    let hours = p.hours.unwrap_or(24);
    if !(1..=168).contains(&hours) {
        return Err(ApiError::invalid(format!(
            "hours must be 1–168, not {hours}"
        )));
    }
    let since = callboard_core::time::fmt(state.store.now() - chrono::Duration::hours(hours));
    let from = since.clone();
    let data = state
        .store
        .read(move |c| delivery_health::read(c, &from))
        .await?;
    let data: Vec<DeliveryHealth> = data.into_iter().filter(|d| who.can_see(&d.slug)).collect();
    tracing::debug!(providers = data.len(), hours, "delivery health read");
    Ok(Json(DeliveryHealthList { since, hours, data }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}
