//! A department's platform agent ids mapped to Callboard users, for every
//! provider (Dialpad's own routes, `/api/dialpad/users`, are the same
//! mappings for Dialpad). Events naming a mapped agent id then name that
//! user (`agent_name`, `metadata.agent_user_id`).

use crate::api::dialpad::{BulkRequest, CrmFilter, MappingTarget};
use crate::auth::{Admin, Principal, Supervisor};
use crate::error::{ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::agents_map::{self, AgentMapping, BulkReport, MappingInput};
use callboard_core::store::Writer;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentIdList {
    /// Where the mappings are kept: the provider's preset (shared by every
    /// department on that platform) or `provider:<slug>`.
    pub platform: String,
    pub data: Vec<AgentMapping>,
}

#[utoipa::path(get, path = "/api/providers/{slug}/agent-ids", operation_id = "listAgentIds", tag = "providers",
    description = "The platform's agent ids mapped to Callboard users for this department (shared by every department on the same preset); `crm_id` finds the one a CRM knows by its own id.",
    params(("slug" = String, Path), CrmFilter),
    responses((status = 200, body = AgentIdList), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn list(
    State(state): State<AppState>,
    _: Supervisor,
    Path(slug): Path<String>,
    Query(filter): Query<CrmFilter>,
) -> ApiResult<Json<AgentIdList>> {
    let (platform, data) = state
        .store
        .read(move |c| {
            let platform = agents_map::platform_of(c, &slug)?;
            let data = agents_map::find(c, &platform, filter.crm_id.as_deref())?;
            Ok((platform, data))
        })
        .await?;
    Ok(Json(AgentIdList { platform, data }))
}

#[utoipa::path(put, path = "/api/providers/{slug}/agent-ids/{agent_id}", operation_id = "putAgentId", tag = "providers",
    description = "Maps one of the platform's agent ids (as its events send it in `agent_id`) to a Callboard user; creates or replaces. Audited.",
    params(("slug" = String, Path), ("agent_id" = String, Path)), request_body = MappingTarget,
    responses((status = 200, body = AgentMapping), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path((slug, external_id)): Path<(String, String)>,
    Json(target): Json<MappingTarget>,
) -> ApiResult<Json<AgentMapping>> {
    put_mapping(
        &state,
        key,
        &who,
        Owner::Department(slug),
        external_id,
        target,
    )
    .await
}

#[utoipa::path(delete, path = "/api/providers/{slug}/agent-ids/{agent_id}", operation_id = "deleteAgentId", tag = "providers",
    params(("slug" = String, Path), ("agent_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path((slug, external_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    delete_mapping(&state, key, &who, Owner::Department(slug), external_id).await
}

#[utoipa::path(post, path = "/api/providers/{slug}/agent-ids/bulk", operation_id = "bulkPutAgentIds", tag = "providers",
    description = "Syncs the department's agent ids in one transaction: every row is checked first, so one bad row changes nothing; `replace` removes the ones not listed.",
    params(("slug" = String, Path)), request_body = BulkRequest,
    responses((status = 200, body = BulkReport), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn bulk(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
    Json(req): Json<BulkRequest>,
) -> ApiResult<Json<BulkReport>> {
    bulk_mappings(&state, key, &who, Owner::Department(slug), req).await
}

/// Whose mappings a write changes: a platform the route names (Dialpad's
/// own routes) or a department's (its preset's, or its own).
pub(crate) enum Owner {
    Platform(&'static str),
    Department(String),
}

impl Owner {
    fn platform(&self, w: &Writer<'_>) -> callboard_core::error::Result<String> {
        match self {
            Owner::Platform(p) => Ok((*p).to_string()),
            Owner::Department(slug) => agents_map::platform_for(w, slug),
        }
    }
}

/// Maps one agent id (creates or replaces), audited.
pub(crate) async fn put_mapping(
    state: &AppState,
    key: IdempotencyKey,
    who: &Principal,
    owner: Owner,
    external_id: String,
    target: MappingTarget,
) -> ApiResult<Json<AgentMapping>> {
    let actor = who.actor();
    let input = MappingInput {
        external_id,
        user_id: target.user_id,
        username: target.username,
        crm_id: target.crm_id,
    };
    let m = state
        .store
        .write_keyed(key.0, move |w| {
            let platform = owner.platform(w)?;
            agents_map::upsert(w, &platform, input, &actor)
        })
        .await?;
    Ok(Json(m))
}

/// Removes one mapping (404 when there is none), audited.
pub(crate) async fn delete_mapping(
    state: &AppState,
    key: IdempotencyKey,
    who: &Principal,
    owner: Owner,
    external_id: String,
) -> ApiResult<StatusCode> {
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| {
            let platform = owner.platform(w)?;
            agents_map::delete(w, &platform, &external_id, &actor)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A sync in one transaction, audited.
pub(crate) async fn bulk_mappings(
    state: &AppState,
    key: IdempotencyKey,
    who: &Principal,
    owner: Owner,
    req: BulkRequest,
) -> ApiResult<Json<BulkReport>> {
    let actor = who.actor();
    let report = state
        .store
        .write_keyed(key.0, move |w| {
            let platform = owner.platform(w)?;
            agents_map::bulk(w, &platform, req.items, req.replace, &actor)
        })
        .await?;
    Ok(Json(report))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(put, delete))
        .routes(routes!(bulk))
}
