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

#[utoipa::path(get, path = "/api/stats", operation_id = "getStats", tag = "stats", params(StatsParams),
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
    /// Who did it (username, or `admin-token`).
    pub actor: Option<String>,
    /// What it was done to (a provider slug, a username, `run 3`).
    pub target: Option<String>,
    /// The kind of thing changed: the action's first word (`provider`,
    /// `user`, `retention`, `category`, …).
    pub entity: Option<String>,
    /// At or after (RFC 3339).
    pub from: Option<String>,
    /// Before (RFC 3339).
    pub to: Option<String>,
    /// Entries older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// 1-1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub data: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

#[utoipa::path(get, path = "/api/audit", operation_id = "listAudit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditList)), security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    who.require_admin()?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let q = AuditQuery {
        action: blank(p.action),
        actor: blank(p.actor),
        target: blank(p.target),
        entity: blank(p.entity),
        from: super::timestamp_param(blank(p.from), "from")?,
        to: super::timestamp_param(blank(p.to), "to")?,
        limit,
        before_id: p.before,
    };
    let data = state.store.read(move |c| audit::list(c, &q)).await?;
    let next_before = (data.len() as i64 == limit)
        .then(|| data.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditList { data, next_before }))
}
