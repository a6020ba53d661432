//! Leads from the platform's lead webhook: the list (searchable) and one
//! lead with its calls. Agents see the leads of their departments only.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::{Path, State};
use callboard_core::store::calls::Call;
use callboard_core::store::leads::{self, Lead, LeadQuery};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadParams {
    /// A department (provider slug), several separated by commas, or `all`.
    pub department: Option<String>,
    /// Any part of the name, phone number, e-mail or lead id (any case).
    pub q: Option<String>,
    /// 1-500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadList {
    /// Most recently updated first.
    pub data: Vec<Lead>,
    /// Leads matching the filters, across all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: Lead,
    /// The department's calls whose `metadata.lead_id` is this lead's,
    /// newest first (at most 200).
    pub calls: Vec<Call>,
}

#[utoipa::path(get, path = "/api/leads", operation_id = "listLeads", tag = "calls",
    description = "Leads received on the lead webhook, most recently updated first; agents see their departments' only.",
    params(LeadParams), responses((status = 200, body = LeadList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<LeadParams>,
) -> ApiResult<Json<LeadList>> {
    let requested: Option<Vec<String>> =
        p.department
            .filter(|d| !d.is_empty() && d != "all")
            .map(|d| {
                d.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            });
    let departments = match (who.scope(), requested) {
        (None, r) => r,
        (Some(mine), None) => Some(mine),
        (Some(mine), Some(r)) => Some(r.into_iter().filter(|d| mine.contains(d)).collect()),
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let offset = p.offset.unwrap_or(0).max(0);
    let q = LeadQuery {
        departments,
        text: p.q,
        limit,
        offset,
    };
    let (data, total) = state.store.read(move |c| leads::list(c, &q)).await?;
    Ok(Json(LeadList {
        data,
        total,
        limit,
        offset,
    }))
}

#[utoipa::path(get, path = "/api/leads/{department}/{lead_id}", operation_id = "getLead", tag = "calls",
    description = "One lead with its calls (the department's calls whose `metadata.lead_id` names it).",
    params(("department" = String, Path, description = "The provider's slug"),
        ("lead_id" = String, Path, description = "The platform's lead id")),
    responses((status = 200, body = LeadDetail), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path((department, lead_id)): Path<(String, String)>,
) -> ApiResult<Json<LeadDetail>> {
    who.check_department(&department)?;
    let (lead, calls) = state
        .store
        .read(move |c| {
            let Some(lead) = leads::get(c, &department, &lead_id)? else {
                return Ok(None);
            };
            let calls = leads::calls_of(c, &department, &lead_id)?;
            Ok(Some((lead, calls)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("no such lead in this department"))?;
    Ok(Json(LeadDetail { lead, calls }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}
