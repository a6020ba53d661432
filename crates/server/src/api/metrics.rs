//! `GET /api/metrics` and `GET /api/metrics/agents`: the supervisor figures
//! defined in `callboard_core::store::metrics` (formulas in docs/METRICS.md).

use crate::auth::{Principal, Supervisor};
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::State;
use callboard_core::store::metrics::{self, AgentMetricsReport, MetricsQuery, MetricsReport};
use chrono::{Local, Offset};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Default service-level threshold T: answered within 20 s.
pub const DEFAULT_SL_SECONDS: i64 = 20;
/// Default short-abandon threshold: hang-ups within 5 s are counted apart.
pub const DEFAULT_SHORT_ABANDON_SECONDS: i64 = 5;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    Day,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsParams {
    /// A department (provider slug), several separated by commas, or `all` (default).
    pub department: Option<String>,
    /// Range start, inclusive (RFC 3339); default: local midnight today on the server.
    pub from: Option<String>,
    /// Range end, exclusive (RFC 3339); default: one day after `from`.
    pub to: Option<String>,
    /// Service-level threshold T in seconds (default 20).
    pub sl_seconds: Option<i64>,
    /// Hang-ups before answer within this many seconds are short abandons (default 5).
    pub short_abandon_seconds: Option<i64>,
    /// Minutes east of UTC of the clock hourly/daily buckets follow (default: the server's).
    pub utc_offset_minutes: Option<i32>,
    /// The IANA time zone hourly/daily buckets follow, daylight saving
    /// included (e.g. the browser's `America/New_York`); wins over
    /// `utc_offset_minutes`.
    pub tz: Option<String>,
    /// Only one series: `hour` or `day` (default: both).
    pub interval: Option<Interval>,
}

/// Departments the caller asked for, within what they may see; a department
/// outside an agent's is a 403, not a silently empty answer.
fn departments(who: &Principal, requested: Option<&str>) -> ApiResult<Option<Vec<String>>> {
    let requested: Option<Vec<String>> = requested
        .map(|d| {
            d.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "all")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty());
    match (who.scope(), requested) {
        (None, r) => Ok(r),
        (Some(mine), None) => Ok(Some(mine)),
        (Some(_), Some(r)) => {
            for d in &r {
                who.check_department(d)?;
            }
            Ok(Some(r))
        }
    }
}

fn query(state: &AppState, who: &Principal, p: MetricsParams) -> ApiResult<MetricsQuery> {
    let from = super::timestamp_param(p.from, "from")?.unwrap_or_else(super::stats::local_midnight);
    let to = match super::timestamp_param(p.to, "to")? {
        Some(t) => t,
        None => {
            callboard_core::time::fmt(super::timestamp(&from, "from")? + chrono::Duration::days(1))
        }
    };
    if from >= to {
        return Err(ApiError::invalid("`from` must be before `to`"));
    }
    let sl_seconds = p.sl_seconds.unwrap_or(DEFAULT_SL_SECONDS);
    let short_abandon_seconds = p
        .short_abandon_seconds
        .unwrap_or(DEFAULT_SHORT_ABANDON_SECONDS);
    if !(0..=86_400).contains(&sl_seconds) || !(0..=86_400).contains(&short_abandon_seconds) {
        return Err(ApiError::invalid(
            "sl_seconds and short_abandon_seconds must be between 0 and 86400",
        ));
    }
    let utc_offset_minutes = p
        .utc_offset_minutes
        .unwrap_or_else(|| Local::now().offset().fix().local_minus_utc() / 60);
    if !(-1439..=1439).contains(&utc_offset_minutes) {
        return Err(ApiError::invalid(
            "utc_offset_minutes must be between -1439 and 1439",
        ));
    }
    let zone = match p.tz.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(t.parse::<chrono_tz::Tz>().map_err(|_| {
            ApiError::invalid(format!(
                "tz: `{t}` is not an IANA time zone (e.g. `America/New_York`)"
            ))
        })?),
    };
    Ok(MetricsQuery {
        from,
        to,
        departments: departments(who, p.department.as_deref())?,
        sl_seconds,
        short_abandon_seconds,
        utc_offset_minutes,
        zone,
        now: callboard_core::time::fmt(state.store.now()),
        hourly: !matches!(p.interval, Some(Interval::Day)),
        daily: !matches!(p.interval, Some(Interval::Hour)),
    })
}

#[utoipa::path(get, path = "/api/metrics", operation_id = "getMetrics", tag = "metrics", params(MetricsParams),
    description = "Offered, answered, abandoned (short abandons apart), abandon rate, service level, ASA, AHT, longest current wait and callback figures, overall and per department, with hourly and daily series. Formulas: docs/METRICS.md.",
    responses((status = 200, body = MetricsReport), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<MetricsParams>,
) -> ApiResult<Json<MetricsReport>> {
    let q = query(&state, &who, p)?;
    let cache = state.store.metrics_cache();
    let out = state
        .store
        .read(move |c| metrics::report_with(c, &q, Some(&cache)))
        .await?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentMetricsParams {
    /// A department (provider slug), several separated by commas, or `all` (default).
    pub department: Option<String>,
    /// Range start, inclusive (RFC 3339); default: local midnight today on the server.
    pub from: Option<String>,
    /// Range end, exclusive (RFC 3339); default: one day after `from`.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/metrics/agents", operation_id = "getAgentMetrics", tag = "metrics", params(AgentMetricsParams),
    description = "Per agent: calls handled, average handle time, dispositions by category, callback success rate. Supervisors and admins.",
    responses((status = 200, body = AgentMetricsReport), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn agents(
    State(state): State<AppState>,
    Supervisor(who): Supervisor,
    Query(p): Query<AgentMetricsParams>,
) -> ApiResult<Json<AgentMetricsReport>> {
    let q = query(
        &state,
        &who,
        MetricsParams {
            department: p.department,
            from: p.from,
            to: p.to,
            sl_seconds: None,
            short_abandon_seconds: None,
            utc_offset_minutes: None,
            tz: None,
            interval: None,
        },
    )?;
    let out = state.store.read(move |c| metrics::agents(c, &q)).await?;
    Ok(Json(out))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get))
        .routes(routes!(agents))
}
