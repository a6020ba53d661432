//! `GET /api/agents/calls`: calls grouped by agent.

use crate::auth::Principal;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::State;
use callboard_core::store::agent_calls::{self, AgentCalls, AgentCallsQuery};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentCallsParams {
    /// Calls started (else created) at or after this time (RFC 3339).
    pub from: Option<String>,
    /// …and before this time.
    pub to: Option<String>,
    /// One agent, by the provider's agent id or by name.
    pub agent: Option<String>,
    /// The provider's disposition or status word (e.g. Convoso's `SALE`).
    pub disposition: Option<String>,
    /// A department (provider slug), several separated by commas, or `all`.
    pub department: Option<String>,
    /// Agents per page, 1-1000 (default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/agents/calls", tag = "calls",
    description = "Calls grouped by agent: a summary (`totalAgents`, `totalCalls`, `avgCallsPerAgent`) and one row per agent, busiest first.",
    params(AgentCallsParams), responses((status = 200, body = AgentCalls),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn calls(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<AgentCallsParams>,
) -> ApiResult<Json<AgentCalls>> {
    who.require_supervisor()?;
    let departments = p
        .department
        .filter(|d| !d.is_empty() && d != "all")
        .map(|d| d.split(',').map(|s| s.trim().to_string()).collect());
    let q = AgentCallsQuery {
        from: super::timestamp_param(p.from, "from")?,
        to: super::timestamp_param(p.to, "to")?,
        agent: p.agent.filter(|a| !a.is_empty()),
        disposition: p.disposition.filter(|d| !d.is_empty()),
        departments,
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    };
    let out = state.store.read(move |c| agent_calls::read(c, &q)).await?;
    Ok(Json(out))
}
