//! Stats for badges and the dashboard header, and the audit log.

use crate::auth::Principal;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::State;
use callboard_core::store::audit::{self, AuditEntry, AuditQuery};
use callboard_core::store::stats::{self, Stats};
use chrono::{Local, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Restrict to one department.
    pub department: Option<String>,
    /// Start of "today" (RFC 3339); default: local midnight on the server.
    pub day_start: Option<String>,
}

pub(crate) fn local_midnight() -> String {
    let today = Local::now().date_naive();
    let midnight = today
        .and_hms_opt(0, 0, 0)
        .and_then(|n| Local.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    callboard_core::time::fmt(midnight)
}

#[utoipa::path(get, path = "/api/stats", tag = "stats", params(StatsParams),
    responses((status = 200, body = Stats)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<StatsParams>,
) -> ApiResult<Json<Stats>> {
    let day_start =
        super::timestamp_param(p.day_start, "day_start")?.unwrap_or_else(local_midnight);
    let scope: Option<Vec<String>> = match (who.scope(), p.department) {
        (None, None) => None,
        (None, Some(d)) => Some(vec![d]),
        (Some(mine), None) => Some(mine),
        (Some(_), Some(d)) => {
            who.check_department(&d)?;
            Some(vec![d])
        }
    };
    let now = callboard_core::time::fmt(state.store.now());
    let s = state
        .store
        .read(move |c| stats::read(c, scope.as_deref(), &day_start, &now))
        .await?;
    Ok(Json(s))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Action prefix, e.g. `provider.` or `user.create`.
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditEntry>,
}

#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditList)), security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    who.require_admin()?;
    let q = AuditQuery {
        action: p.action,
        actor: p.actor,
        target: p.target,
        from: p.from,
        to: p.to,
        limit: p.limit.unwrap_or(100),
        before_id: p.before,
    };
    let data = state.store.read(move |c| audit::list(c, &q)).await?;
    Ok(Json(AuditList { data }))
}
