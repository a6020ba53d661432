//! Stats for badges and the dashboard header, and the audit log.

use crate::auth::{Admin, Principal};
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::State;
use callboard_core::store::audit::{self, AuditEntry, AuditQuery};
use callboard_core::store::figures::{self, StatsReport};
use callboard_core::store::stats;
use chrono::{Local, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Restrict to one department.
    pub department: Option<String>,
    /// Start of "today" (RFC 3339); default: midnight in `tz`.
    pub day_start: Option<String>,
    /// The office's IANA time zone (e.g. `Asia/Kolkata`) whose midnight
    /// starts the business day; default: the department's business-hours
    /// zone when one department is asked for, else the server's.
    pub tz: Option<String>,
    /// Service-level threshold T in seconds for `today` and `windows` (default 20).
    pub sl_seconds: Option<i64>,
    /// Short-abandon threshold in seconds (default 5).
    pub short_abandon_seconds: Option<i64>,
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
    operation_id = "getStats",
    description = "Live counts, worklist views and today's tallies per department, with the analytics' figures (docs/METRICS.md) for the business day in the office's time zone and for the last 15, 30 and 60 minutes.",
    responses((status = 200, body = StatsReport), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<StatsParams>,
) -> ApiResult<Json<StatsReport>> {
    let now_t = state.store.now();
    let zone = match (&p.tz, &p.department) {
        (Some(tz), _) => Some(figures::parse_tz(tz)?),
        (None, Some(d)) => state
            .store
            .providers()
            .get(d)
            .and_then(|r| r.hours.as_ref().map(|h| h.time_zone())),
        (None, None) => None,
    };
    let (day, time_zone) = match zone {
        Some(tz) => (figures::business_day(tz, now_t), tz.name().to_string()),
        None => {
            let start = super::timestamp(&local_midnight(), "day_start")?;
            (
                (start, start + chrono::Duration::days(1)),
                "server-local".to_string(),
            )
        }
    };
    let day = match super::timestamp_param(p.day_start, "day_start")? {
        Some(s) => {
            let start = super::timestamp(&s, "day_start")?;
            (start, start + chrono::Duration::days(1))
        }
        None => day,
    };
    let sl_seconds = p.sl_seconds.unwrap_or(super::metrics::DEFAULT_SL_SECONDS);
    let short = p
        .short_abandon_seconds
        .unwrap_or(super::metrics::DEFAULT_SHORT_ABANDON_SECONDS);
    if !(0..=86_400).contains(&sl_seconds) || !(0..=86_400).contains(&short) {
        return Err(ApiError::invalid(
            "sl_seconds and short_abandon_seconds must be between 0 and 86400",
        ));
    }
    let scope: Option<Vec<String>> = match (who.scope(), p.department) {
        (None, None) => None,
        (None, Some(d)) => Some(vec![d]),
        (Some(mine), None) => Some(mine),
        (Some(_), Some(d)) => {
            who.check_department(&d)?;
            Some(vec![d])
        }
    };
    let now = callboard_core::time::fmt(now_t);
    let day_start = callboard_core::time::fmt(day.0);
    let cache = state.store.metrics_cache();
    let report = state
        .store
        .read(move |c| {
            let stats = stats::read(c, scope.as_deref(), &day_start, &now)?;
            let (today, windows, longest) =
                figures::read(c, scope, day, now_t, sl_seconds, short, Some(&cache))?;
            Ok(StatsReport {
                stats,
                time_zone,
                sl_seconds,
                today,
                windows,
                longest_current_wait_seconds: longest,
            })
        })
        .await?;
    Ok(Json(report))
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
    responses((status = 200, body = AuditList)), security(("bearer" = ["admin"])))]
pub async fn audit_log(
    State(state): State<AppState>,
    _: Admin,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<AuditList>> {
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

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get))
        .routes(routes!(audit_log))
}
