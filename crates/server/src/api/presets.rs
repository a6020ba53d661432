//! `GET /api/presets`: the provider templates shipped with Callboard.

use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;
use axum::http::StatusCode;
use callboard_core::presets::{self, Preset};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PresetList {
    pub data: Vec<Preset>,
}

#[utoipa::path(get, path = "/api/presets", operation_id = "listPresets", tag = "providers",
    description = "Provider templates: create one with `POST /api/providers` and a `preset` id.",
    responses((status = 200, body = PresetList)), security(("bearer" = [])))]
pub async fn list(_who: Principal) -> ApiResult<Json<PresetList>> {
    let all = presets::all().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::StorageError,
            e.to_string(),
        )
    })?;
    Ok(Json(PresetList { data: all.to_vec() }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}
