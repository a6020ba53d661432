//! Agents: `GET /api/agents/calls` (calls grouped by agent), their states
//! (`GET /api/agents`, `PUT /api/agents/{id}/state`) and the agent board
//! (`GET /api/agents/board`).

use crate::auth::{Principal, Supervisor};
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use callboard_core::store::agent_board::{self, AgentBoardRow};
use callboard_core::store::agent_calls::{self, AgentCalls, AgentCallsQuery};
use callboard_core::store::agents::{self, AgentState, AgentStatus};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

#[utoipa::path(get, path = "/api/agents/calls", operation_id = "listAgentCalls", tag = "calls",
    description = "Calls grouped by agent: a summary (`totalAgents`, `totalCalls`, `avgCallsPerAgent`) and one row per agent, busiest first.",
    params(AgentCallsParams), responses((status = 200, body = AgentCalls),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn calls(
    State(state): State<AppState>,
    _: Supervisor,
    Query(p): Query<AgentCallsParams>,
) -> ApiResult<Json<AgentCalls>> {
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentList {
    pub data: Vec<AgentStatus>,
}

#[utoipa::path(get, path = "/api/agents", operation_id = "listAgents", tag = "agents",
    description = "Every active user with their state (available, busy, away, offline), since when, skills and open assignments. Agents see only themselves.",
    responses((status = 200, body = AgentList)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, who: Principal) -> ApiResult<Json<AgentList>> {
    let only = if who.is_supervisor() {
        None
    } else {
        match who.user_id() {
            Some(id) => Some(id),
            None => return Ok(Json(AgentList { data: vec![] })),
        }
    };
    let data = state.store.read(move |c| agents::list(c, only)).await?;
    Ok(Json(AgentList { data }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// Start of "today" for `handled_today` (RFC 3339); default: midnight,
    /// server-local time (as `GET /api/stats`).
    pub day_start: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentBoard {
    /// The start of "today" the counts use (RFC 3339, UTC).
    pub day_start: String,
    pub data: Vec<AgentBoardRow>,
}

#[utoipa::path(get, path = "/api/agents/board", operation_id = "getAgentBoard", tag = "agents",
    params(BoardParams),
    description = "The agent board: every active user's state and since when, the call they are on (ringing or talking; a call is theirs when the platform's agent id is mapped to them or equals their user name), callbacks open and overdue, and calls handled since `day_start` (answered and completed, or dispositioned; each call once). Agents see only themselves.",
    responses((status = 200, body = AgentBoard), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn board(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<BoardParams>,
) -> ApiResult<Json<AgentBoard>> {
    let only = if who.is_supervisor() {
        None
    } else {
        match who.user_id() {
            Some(id) => Some(id),
            None => {
                return Ok(Json(AgentBoard {
                    day_start: super::stats::local_midnight(),
                    data: vec![],
                }))
            }
        }
    };
    let start = match p.day_start {
        Some(s) => super::timestamp(&s, "day_start")?,
        None => super::timestamp(&super::stats::local_midnight(), "day_start")?,
    };
    let now = callboard_core::time::fmt(state.store.now());
    let day_start = callboard_core::time::fmt(start);
    let earliest = callboard_core::time::fmt(start - chrono::Duration::days(1));
    let since = day_start.clone();
    let data = state
        .store
        .read(move |c| agent_board::read(c, only, &now, &since, &earliest))
        .await?;
    tracing::debug!(rows = data.len(), "agent board read");
    Ok(Json(AgentBoard { day_start, data }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    pub state: AgentState,
}

#[utoipa::path(put, path = "/api/agents/{id}/state", operation_id = "setAgentState", tag = "agents",
    description = "Sets a user's state. Agents set their own; supervisors and admins anyone's. Announced on the stream as `agent.state_changed`. Away and offline agents never receive automatic assignments.",
    params(("id" = i64, Path)), request_body = StateRequest,
    responses((status = 200, body = AgentStatus), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_state(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(id): Path<i64>,
    Json(req): Json<StateRequest>,
) -> ApiResult<Json<AgentStatus>> {
    if who.user_id() != Some(id) {
        who.require_supervisor()
            .map_err(|_| ApiError::forbidden("agents may only set their own state"))?;
    }
    let s = req.state;
    let status = state
        .store
        .write_keyed(key.0, move |w| agents::set_state(w, id, s))
        .await?;
    Ok(Json(status))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calls))
        .routes(routes!(list))
        .routes(routes!(board))
        .routes(routes!(set_state))
}
