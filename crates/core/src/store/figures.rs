//! The dashboard's figures with the analytics' definitions: today (from
//! midnight in the office's time zone) and the last 15, 30 and 60 minutes,
//! each computed by `metrics::report`, so a figure has one name and one
//! formula wherever it is shown (docs/METRICS.md, "Glossary").

use super::metrics::{self, Metrics, MetricsQuery};
use super::stats::Stats;
use crate::error::{Error, Result};
use crate::time::{self, Timestamp};
use chrono::TimeZone;
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::Serialize;

/// The rolling windows, in minutes.
pub const WINDOWS: [i64; 3] = [15, 30, 60];

/// The figures of one span of time.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Span {
    /// Span start (UTC, RFC 3339), inclusive.
    pub from: String,
    /// Span end (UTC, RFC 3339), exclusive: now for the rolling windows.
    pub to: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Windows {
    pub last_15m: Span,
    pub last_30m: Span,
    pub last_60m: Span,
}

/// `GET /api/stats`: the live counts and today's tallies (`Stats`), plus the
/// analytics' figures for today and the rolling windows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsReport {
    #[serde(flatten)]
    pub stats: Stats,
    /// The IANA time zone whose midnight starts "today" (`day_start`).
    pub time_zone: String,
    /// Service-level threshold T (seconds) of the figures below.
    pub sl_seconds: i64,
    /// Today, `day_start` to the next midnight: the same figures as `GET /api/metrics`.
    pub today: Span,
    /// The last 15, 30 and 60 minutes up to now.
    pub windows: Windows,
    /// Longest wait, now, of a call still waiting or ringing, whole seconds; null when none.
    pub longest_current_wait_seconds: Option<i64>,
}

/// Parses an IANA time zone name, or a 422 naming the parameter.
pub fn parse_tz(name: &str) -> Result<Tz> {
    name.trim().parse().map_err(|_| {
        Error::invalid(format!(
            "tz `{name}` is not an IANA time zone (e.g. `Asia/Kolkata`)"
        ))
    })
}

/// The last midnight at or before `now` in `tz` (UTC), and the next one:
/// the business day. A midnight that does not exist (a daylight-saving jump
/// at 00:00) is the first instant of the day.
pub fn business_day(tz: Tz, now: Timestamp) -> (Timestamp, Timestamp) {
    let local = now.with_timezone(&tz).date_naive();
    let start_of = |d: chrono::NaiveDate| -> Timestamp {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        (0..=180)
            .find_map(|m| {
                tz.from_local_datetime(&(midnight + chrono::Duration::minutes(m)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(now)
    };
    let start = start_of(local);
    let end = local.succ_opt().map(start_of).unwrap_or(now);
    (start, end)
}

/// Today's and the rolling windows' figures for `departments` (None: all).
/// With `cache` (the store's, as for `/api/metrics`) each quarter hour no
/// call changed since an earlier report is not summed again: the console
/// asks for these at every burst of events, and summing today's rows each
/// time was most of `/api/stats` on a busy day.
pub fn read(
    conn: &Connection,
    departments: Option<Vec<String>>,
    day: (Timestamp, Timestamp),
    now: Timestamp,
    sl_seconds: i64,
    short_abandon_seconds: i64,
    cache: Option<&metrics::QuarterCache>,
) -> Result<(Span, Windows, Option<i64>)> {
    let span = |from: Timestamp, to: Timestamp| -> Result<(Span, Option<i64>)> {
        let q = MetricsQuery {
            from: time::fmt(from),
            to: time::fmt(to),
            departments: departments.clone(),
            sl_seconds,
            short_abandon_seconds,
            utc_offset_minutes: 0,
            zone: None,
            now: time::fmt(now),
            hourly: false,
            daily: false,
        };
        let r = metrics::report_with(conn, &q, cache)?;
        Ok((
            Span {
                from: q.from,
                to: q.to,
                metrics: r.overall.metrics,
            },
            r.overall.longest_current_wait_seconds,
        ))
    };
    let (today, longest) = span(day.0, day.1)?;
    let mut w = Vec::with_capacity(WINDOWS.len());
    for minutes in WINDOWS {
        // A window ends a millisecond after now, so a call offered now is in it.
        let end = now + chrono::Duration::milliseconds(1);
        w.push(span(now - chrono::Duration::minutes(minutes), end)?.0);
    }
    let mut w = w.into_iter();
    let mut next = || {
        w.next()
            .ok_or_else(|| Error::invalid("a rolling window is missing"))
    };
    let windows = Windows {
        last_15m: next()?,
        last_30m: next()?,
        last_60m: next()?,
    };
    Ok((today, windows, longest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_business_day_starts_at_midnight_in_the_office() {
        let now = time::parse("2026-12-03T20:00:00Z").unwrap();
        let (start, end) = business_day(parse_tz("Asia/Kolkata").unwrap(), now);
        // 20:00 UTC is 01:30 on the 4th in Kolkata.
        assert_eq!(time::fmt(start), "2026-12-03T18:30:00.000Z");
        assert_eq!(time::fmt(end), "2026-12-04T18:30:00.000Z");
        let (start, _) = business_day(parse_tz("America/New_York").unwrap(), now);
        assert_eq!(time::fmt(start), "2026-12-03T05:00:00.000Z");
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
