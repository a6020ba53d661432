//! Dialpad: the mapping of Dialpad user ids to Callboard users (CRUD and a
//! bulk sync for CRMs).

use crate::api::agent_ids::{self, Owner};
use crate::auth::{Admin, Supervisor};
use crate::error::{ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::agents_map::{self, AgentMapping, BulkReport, MappingInput};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The platform name mappings are kept under: the preset id.
const PLATFORM: &str = "dialpad";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentMappingList {
    pub data: Vec<AgentMapping>,
}

/// A list's filter: one agent by the CRM's own id.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CrmFilter {
    /// Only the mapping with this CRM id (none or one).
    pub crm_id: Option<String>,
}

#[utoipa::path(get, path = "/api/dialpad/users", operation_id = "listDialpadUsers", tag = "dialpad",
    description = "Dialpad user ids mapped to Callboard users; `crm_id` finds the one a CRM knows by its own id.",
    params(CrmFilter),
    responses((status = 200, body = AgentMappingList)), security(("bearer" = ["supervisor"])))]
pub async fn list(
    State(state): State<AppState>,
    _: Supervisor,
    Query(filter): Query<CrmFilter>,
) -> ApiResult<Json<AgentMappingList>> {
    let data = state
        .store
        .read(move |c| agents_map::find(c, PLATFORM, filter.crm_id.as_deref()))
        .await?;
    Ok(Json(AgentMappingList { data }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingTarget {
    /// The Callboard user, by id…
    pub user_id: Option<i64>,
    /// …or by user name.
    pub username: Option<String>,
    /// The CRM's own id for this agent (unique per platform): omitted keeps
    /// the current one, an empty string clears it.
    pub crm_id: Option<String>,
}

#[utoipa::path(put, path = "/api/dialpad/users/{dialpad_user_id}", operation_id = "putDialpadUser", tag = "dialpad",
    description = "Maps a Dialpad user id to a Callboard user (creates or replaces).",
    params(("dialpad_user_id" = String, Path)), request_body = MappingTarget,
    responses((status = 200, body = AgentMapping), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(external_id): Path<String>,
    Json(target): Json<MappingTarget>,
) -> ApiResult<Json<AgentMapping>> {
    agent_ids::put_mapping(
        &state,
        key,
        &who,
        Owner::Platform(PLATFORM),
        external_id,
        target,
    )
    .await
}

#[utoipa::path(get, path = "/api/dialpad/users/{dialpad_user_id}", operation_id = "getDialpadUser", tag = "dialpad",
    params(("dialpad_user_id" = String, Path)),
    responses((status = 200, body = AgentMapping), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn get(
    State(state): State<AppState>,
    _: Supervisor,
    Path(external_id): Path<String>,
) -> ApiResult<Json<AgentMapping>> {
    let m = state
        .store
        .read(move |c| agents_map::get(c, PLATFORM, &external_id))
        .await?;
    Ok(Json(m))
}

#[utoipa::path(delete, path = "/api/dialpad/users/{dialpad_user_id}", operation_id = "deleteDialpadUser", tag = "dialpad",
    params(("dialpad_user_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(external_id): Path<String>,
) -> ApiResult<StatusCode> {
    agent_ids::delete_mapping(&state, key, &who, Owner::Platform(PLATFORM), external_id).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub items: Vec<MappingInput>,
    /// Remove the mappings this sync does not list (default false).
    #[serde(default)]
    pub replace: bool,
}

#[utoipa::path(post, path = "/api/dialpad/users/bulk", operation_id = "bulkPutDialpadUsers", tag = "dialpad",
    description = "Syncs mappings from a CRM in one transaction: every row is checked first, so one bad row changes nothing.",
    request_body = BulkRequest,
    responses((status = 200, body = BulkReport), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn bulk(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(req): Json<BulkRequest>,
) -> ApiResult<Json<BulkReport>> {
    agent_ids::bulk_mappings(&state, key, &who, Owner::Platform(PLATFORM), req).await
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(bulk))
        .routes(routes!(get, put, delete))
}
