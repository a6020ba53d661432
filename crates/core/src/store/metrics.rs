//! Supervisor metrics: the one place where offered, answered, abandoned,
//! service level, ASA, AHT and the callback figures are defined. Every
//! formula here is written out in `docs/METRICS.md`; change both together.
//!
//! All figures are computed in SQL over the `calls` table (and
//! `dispositions` for callbacks), per department, per hour and per day.
//! Sums are kept apart from ratios (`Acc`) so the overall figures and the
//! per-bucket figures are computed from counts, never by averaging averages.

use crate::error::{Error, Result};
use chrono::{Duration, FixedOffset, TimeZone};
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use std::collections::BTreeMap;

/// When a call counts as offered: its start time as the platform reports
/// it, else when Callboard first saw it. The same expression is indexed
/// (`calls_offered_at`, v3_analytics.sql): keep them identical.
pub const OFFERED_AT: &str = "COALESCE(c.started_at, c.created_at)";

/// A series longer than this many buckets is refused (a year of hours fits).
pub const MAX_BUCKETS: i64 = 24 * 400;

#[derive(Debug, Clone)]
pub struct MetricsQuery {
    /// Range start, inclusive (store text form, UTC).
    pub from: String,
    /// Range end, exclusive.
    pub to: String,
    /// `None`: every department; `Some(empty)`: none.
    pub departments: Option<Vec<String>>,
    /// Service-level threshold T in seconds: answered within T counts.
    pub sl_seconds: i64,
    /// Hang-ups before answer that waited less than this are short abandons.
    pub short_abandon_seconds: i64,
    /// Minutes east of UTC of the clock the hourly and daily buckets follow
    /// (when no `zone` is given).
    pub utc_offset_minutes: i32,
    /// The IANA zone the buckets follow, daylight saving included; wins over
    /// `utc_offset_minutes`.
    pub zone: Option<chrono_tz::Tz>,
    /// "Now", for the longest current wait and callback SLA clocks still running.
    pub now: String,
    pub hourly: bool,
    pub daily: bool,
}

/// The figures of one department, the whole range, or one bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Metrics {
    /// Calls offered in the range (outbound calls excluded).
    pub offered: i64,
    /// Offered calls an agent answered.
    pub answered: i64,
    /// Answered within `sl_seconds` of being offered.
    pub answered_within_sl: i64,
    /// Callers who hung up before an answer after waiting at least `short_abandon_seconds`.
    pub abandoned: i64,
    /// Callers who hung up before an answer within `short_abandon_seconds` (counted apart).
    pub short_abandoned: i64,
    /// Calls no agent answered (status `missed`).
    pub missed: i64,
    /// `abandoned / (offered - short_abandoned)`, 0–1; null when the denominator is 0.
    pub abandon_rate: Option<f64>,
    /// `answered_within_sl / (offered - short_abandoned)`, 0–1; null when the
    /// denominator is 0 or when no answered call has a known wait (see
    /// `service_level_reason`), never a made-up 0.
    pub service_level: Option<f64>,
    /// Why `service_level` is null: `no_calls` (nothing offered beyond short
    /// abandons) or `no_answer_times` (calls were answered, but none with
    /// both a start and an answer time); null when it has a value.
    pub service_level_reason: Option<String>,
    /// Answered calls whose wait is unknown (no start or answer time): they
    /// count as not answered within T.
    pub answered_unknown_wait: i64,
    /// Average speed of answer: mean of `answered_at - started_at`, seconds; null without answers.
    pub asa_seconds: Option<f64>,
    /// Average handle time: mean of talk + wrap of answered calls that ended, seconds; null when none.
    pub aht_seconds: Option<f64>,
    /// Missed and hung-up calls: each needs a callback.
    pub callbacks_due: i64,
    /// Of those, calls with at least one callback attempt (disposition).
    pub callbacks_attempted: i64,
    /// Of those, calls closed (resolved, wrong number, do not call).
    pub callbacks_resolved: i64,
    /// `callbacks_resolved / callbacks_attempted`; null when nothing was attempted.
    pub callback_success_rate: Option<f64>,
    /// Share of callback SLA clocks that stopped in time: resolved by `sla_due_at`
    /// ÷ calls resolved or past due; null when no clock has stopped or run out.
    pub callback_sla_compliance: Option<f64>,
    /// Mean time from entering the worklist to the first callback attempt, seconds.
    pub avg_callback_wait_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentMetrics {
    /// The department (provider slug).
    pub department: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Longest wait, now, of a call still waiting or ringing, whole seconds; null when none.
    pub longest_current_wait_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverallMetrics {
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Longest wait, now, of a call still waiting or ringing, whole seconds; null when none.
    pub longest_current_wait_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    /// Bucket start (UTC, RFC 3339); the bucket runs one hour or one day from here.
    pub start: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// One bucket per hour of the range (on the `utc_offset_minutes` clock), empty ones included;
    /// absent when `interval=day`.
    pub hourly: Option<Vec<Bucket>>,
    /// One bucket per day of the range (midnight to midnight on the `utc_offset_minutes` clock);
    /// absent when `interval=hour`.
    pub daily: Option<Vec<Bucket>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricsReport {
    pub from: String,
    pub to: String,
    pub sl_seconds: i64,
    pub short_abandon_seconds: i64,
    pub utc_offset_minutes: i32,
    /// The IANA zone of the buckets, when one was asked for (`tz`).
    pub time_zone: Option<String>,
    pub overall: OverallMetrics,
    /// Departments with calls in the range or waiting now, by slug.
    pub departments: Vec<DepartmentMetrics>,
    pub series: Series,
}

/// Sums from which `Metrics` are derived; they add up across groups.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    offered: i64,
    answered: i64,
    in_sl: i64,
    abandoned: i64,
    short: i64,
    missed: i64,
    wait_ms: i64,
    wait_n: i64,
    handle_s: f64,
    handle_n: i64,
    due: i64,
    attempted: i64,
    resolved: i64,
    sla_met: i64,
    sla_stopped: i64,
    cb_wait_ms: i64,
    cb_wait_n: i64,
}

impl Acc {
    fn add(&mut self, o: &Acc) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.in_sl += o.in_sl;
        self.abandoned += o.abandoned;
        self.short += o.short;
        self.missed += o.missed;
        self.wait_ms += o.wait_ms;
        self.wait_n += o.wait_n;
        self.handle_s += o.handle_s;
        self.handle_n += o.handle_n;
        self.due += o.due;
        self.attempted += o.attempted;
        self.resolved += o.resolved;
        self.sla_met += o.sla_met;
        self.sla_stopped += o.sla_stopped;
        self.cb_wait_ms += o.cb_wait_ms;
        self.cb_wait_n += o.cb_wait_n;
    }

    fn from_row(r: &Row<'_>, first: usize) -> rusqlite::Result<Acc> {
        let i = |k: usize| -> rusqlite::Result<i64> {
            Ok(r.get::<_, Option<i64>>(first + k)?.unwrap_or(0))
        };
        Ok(Acc {
            offered: i(0)?,
            answered: i(1)?,
            in_sl: i(2)?,
            abandoned: i(3)?,
            short: i(4)?,
            missed: i(5)?,
            wait_ms: i(6)?,
            wait_n: i(7)?,
            handle_s: r.get::<_, Option<f64>>(first + 8)?.unwrap_or(0.0),
            handle_n: i(9)?,
            due: i(10)?,
            attempted: i(11)?,
            resolved: i(12)?,
            sla_met: i(13)?,
            sla_stopped: i(14)?,
            cb_wait_ms: i(15)?,
            cb_wait_n: i(16)?,
        })
    }

    fn service_level_reason(&self, base: i64) -> Option<&'static str> {
        if base <= 0 {
            Some("no_calls")
        } else if self.answered > 0 && self.wait_n == 0 {
            Some("no_answer_times")
        } else {
            None
        }
    }

    fn metrics(&self) -> Metrics {
        let base = self.offered - self.short;
        Metrics {
            offered: self.offered,
            answered: self.answered,
            answered_within_sl: self.in_sl,
            abandoned: self.abandoned,
            short_abandoned: self.short,
            missed: self.missed,
            abandon_rate: ratio(self.abandoned as f64, base),
            service_level: match self.service_level_reason(base) {
                None => ratio(self.in_sl as f64, base),
                Some(_) => None,
            },
            service_level_reason: self.service_level_reason(base).map(str::to_string),
            answered_unknown_wait: self.answered - self.wait_n,
            asa_seconds: ratio(self.wait_ms as f64 / 1000.0, self.wait_n).map(round1),
            aht_seconds: ratio(self.handle_s, self.handle_n).map(round1),
            callbacks_due: self.due,
            callbacks_attempted: self.attempted,
            callbacks_resolved: self.resolved,
            callback_success_rate: ratio(self.resolved as f64, self.attempted),
            callback_sla_compliance: ratio(self.sla_met as f64, self.sla_stopped),
            avg_callback_wait_seconds: ratio(self.cb_wait_ms as f64 / 1000.0, self.cb_wait_n)
                .map(round1),
        }
    }
}

/// `num / den` to four decimals, or None (not NaN) when `den` is 0.
fn ratio(num: f64, den: i64) -> Option<f64> {
    (den > 0).then(|| ((num / den as f64) * 10_000.0).round() / 10_000.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Milliseconds from `a` to `b` (stored timestamps), as an integer so that
/// thresholds compare exactly.
fn ms(a: &str, b: &str) -> String {
    format!("CAST(ROUND((julianday({b}) - julianday({a})) * 86400000.0) AS INTEGER)")
}

/// One row per call in the range with what the formulas need. Parameters:
/// ?1 from, ?2 to, ?3 departments (JSON list or NULL), ?4 T in ms,
/// ?5 short-abandon threshold in ms, ?6 now, ?7 the bucket clock modifier.
fn per_call_sql() -> String {
    let wait = ms("c.started_at", "c.answered_at");
    let abandon_wait = ms("c.started_at", "COALESCE(c.ended_at, c.event_at)");
    let cb_wait = ms(
        "c.worklist_since",
        "(SELECT MIN(d.created_at) FROM dispositions d WHERE d.call_row_id = c.id)",
    );
    format!(
        "SELECT c.department AS dep, {OFFERED_AT} AS offered_at,
            (c.answered_at IS NOT NULL OR c.status IN ('active', 'completed')) AS answered,
            CASE WHEN c.answered_at IS NOT NULL AND c.started_at IS NOT NULL THEN {wait} END AS wait_ms,
            (c.status = 'hangup' AND c.answered_at IS NULL) AS abandon,
            CASE WHEN c.status = 'hangup' AND c.answered_at IS NULL AND c.started_at IS NOT NULL
                 THEN {abandon_wait} END AS abandon_wait_ms,
            c.status = 'missed' AS missed,
            CASE WHEN (c.answered_at IS NOT NULL OR c.status IN ('active', 'completed'))
                      AND c.duration_seconds IS NOT NULL
                 THEN c.duration_seconds + COALESCE(CAST(json_extract(c.metadata, '$.wrap_seconds') AS REAL), 0.0)
            END AS handle_s,
            c.status IN ('missed', 'hangup') AS due,
            c.attempts > 0 AS attempted,
            c.resolved_at IS NOT NULL AS resolved,
            c.resolved_at, c.sla_due_at,
            CASE WHEN c.status IN ('missed', 'hangup') AND c.attempts > 0 AND c.worklist_since IS NOT NULL
                 THEN {cb_wait} END AS cb_wait_ms
         FROM calls c
         WHERE {OFFERED_AT} >= ?1 AND {OFFERED_AT} < ?2
           AND (?3 IS NULL OR c.department IN (SELECT value FROM json_each(?3)))
           AND LOWER(COALESCE(c.direction, '')) NOT LIKE 'out%'"
    )
}

/// The sums over `per_call_sql`, grouped by `group` (an expression over its columns).
fn grouped_sql(group: &str) -> String {
    format!(
        "SELECT {group} AS g, COUNT(*), SUM(answered),
            SUM(answered AND wait_ms IS NOT NULL AND wait_ms <= ?4),
            SUM(abandon AND NOT COALESCE(abandon_wait_ms < ?5, 0)),
            SUM(abandon AND COALESCE(abandon_wait_ms < ?5, 0)),
            SUM(missed),
            SUM(CASE WHEN answered THEN wait_ms END), SUM(answered AND wait_ms IS NOT NULL),
            SUM(handle_s), COUNT(handle_s),
            SUM(due), SUM(due AND attempted), SUM(due AND attempted AND resolved),
            SUM(due AND sla_due_at IS NOT NULL AND resolved_at IS NOT NULL AND resolved_at <= sla_due_at),
            SUM(due AND sla_due_at IS NOT NULL AND (resolved_at IS NOT NULL OR sla_due_at <= ?6)),
            SUM(cb_wait_ms), COUNT(cb_wait_ms)
         FROM ({}) GROUP BY g",
        per_call_sql()
    )
}

fn offset_modifier(minutes: i32) -> String {
    format!("{minutes:+} minutes")
}

fn grouped(conn: &Connection, q: &MetricsQuery, group: &str) -> Result<BTreeMap<String, Acc>> {
    grouped_in(conn, q, group, (&q.from, &q.to), &q.now)
}

/// [`grouped`] over the calls offered in `range` instead of the query's, with
/// `now` for the callback SLA clocks still running (`""`: count none of them).
fn grouped_in(
    conn: &Connection,
    q: &MetricsQuery,
    group: &str,
    range: (&str, &str),
    now: &str,
) -> Result<BTreeMap<String, Acc>> {
    let mut out = BTreeMap::new();
    grouped_each(conn, q, group, range, now, |k, acc| {
        out.insert(k.to_string(), acc);
    })?;
    Ok(out)
}

/// [`grouped_in`], each group handed to `sink` as it is read (a month of
/// quarter hours is ~100,000 groups: not collected twice).
fn grouped_each(
    conn: &Connection,
    q: &MetricsQuery,
    group: &str,
    range: (&str, &str),
    now: &str,
    mut sink: impl FnMut(&str, Acc),
) -> Result<()> {
    let deps = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let mut stmt = conn.prepare_cached(&grouped_sql(group))?;
    let mut args: Vec<rusqlite::types::Value> = vec![
        range.0.to_string().into(),
        range.1.to_string().into(),
        deps.into(),
        (q.sl_seconds * 1000).into(),
        (q.short_abandon_seconds * 1000).into(),
        now.to_string().into(),
    ];
    // Only the series group by the bucket clock (?7).
    if group.contains("?7") {
        args.push(offset_modifier(q.utc_offset_minutes).into());
    }
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let acc = Acc::from_row(r, 1)?;
        // A group whose key SQLite could not compute (an unreadable time) is left out.
        if let Ok(k) = r.get_ref(0)?.as_str() {
            sink(k, acc);
        }
    }
    Ok(())
}

/// Longest current wait per department: calls waiting or ringing now.
fn longest_waits(conn: &Connection, q: &MetricsQuery) -> Result<BTreeMap<String, i64>> {
    let deps = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let wait = ms(OFFERED_AT, "?1");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.department, MAX({wait}) / 1000
         FROM calls c WHERE c.status IN ('waiting', 'ringing')
           AND (?2 IS NULL OR c.department IN (SELECT value FROM json_each(?2)))
         GROUP BY c.department"
    ))?;
    let rows = stmt.query_map(params![q.now, deps], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        if let (dep, Some(secs)) = row? {
            out.insert(dep, secs.max(0));
        }
    }
    Ok(out)
}

/// Bucket starts covering `[from, to)` on a clock `offset` east of UTC:
/// (label as SQLite's strftime prints it on that clock, start in UTC).
fn buckets(q: &MetricsQuery, hourly: bool) -> Result<Vec<(String, String)>> {
    if let Some(zone) = q.zone {
        return zoned_buckets(q, zone, hourly);
    }
    let offset = FixedOffset::east_opt(q.utc_offset_minutes * 60)
        .ok_or_else(|| Error::invalid("utc_offset_minutes must be within ±1439"))?;
    let from = crate::time::parse(&q.from).ok_or_else(|| Error::invalid("bad `from`"))?;
    let to = crate::time::parse(&q.to).ok_or_else(|| Error::invalid("bad `to`"))?;
    let local = from.with_timezone(&offset).naive_local();
    let (mut start, step, label) = if hourly {
        let floor = local
            .date()
            .and_hms_opt(chrono::Timelike::hour(&local), 0, 0)
            .unwrap_or(local);
        (floor, Duration::hours(1), "%Y-%m-%dT%H:00:00")
    } else {
        let floor = local.date().and_hms_opt(0, 0, 0).unwrap_or(local);
        (floor, Duration::days(1), "%Y-%m-%d")
    };
    let mut out = Vec::new();
    loop {
        let utc = offset
            .from_local_datetime(&start)
            .single()
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| Error::invalid("bucket start out of range"))?;
        if utc >= to {
            break;
        }
        if out.len() as i64 >= MAX_BUCKETS {
            return Err(Error::invalid(format!(
                "the range is too long for {} buckets (at most {MAX_BUCKETS}): shorten it or ask for `interval=day`",
                if hourly { "hourly" } else { "daily" }
            )));
        }
        out.push((start.format(label).to_string(), crate::time::fmt(utc)));
        start += step;
    }
    Ok(out)
}

/// [`buckets`] on the clock of an IANA zone: a day runs from local midnight
/// to local midnight (23 or 25 hours across a change of clocks); hours are
/// the local hours that exist (the hour repeated in autumn is one bucket,
/// the one skipped in spring none).
fn zoned_buckets(
    q: &MetricsQuery,
    zone: chrono_tz::Tz,
    hourly: bool,
) -> Result<Vec<(String, String)>> {
    let from = crate::time::parse(&q.from).ok_or_else(|| Error::invalid("bad `from`"))?;
    let to = crate::time::parse(&q.to).ok_or_else(|| Error::invalid("bad `to`"))?;
    let local = from.with_timezone(&zone).naive_local();
    let too_long = || {
        Error::invalid(format!(
            "the range is too long for {} buckets (at most {MAX_BUCKETS}): shorten it or ask for `interval=day`",
            if hourly { "hourly" } else { "daily" }
        ))
    };
    let mut out: Vec<(String, String)> = Vec::new();
    if hourly {
        let floor = local
            .date()
            .and_hms_opt(chrono::Timelike::hour(&local), 0, 0)
            .unwrap_or(local);
        // Walk the instants in quarter hours (every zone's offset is a
        // multiple of 15 minutes) and open a bucket at each local full hour.
        let mut t = crate::mapping::local_in(floor, zone);
        while t < to {
            let l = t.with_timezone(&zone).naive_local();
            if chrono::Timelike::minute(&l) == 0 {
                let label = l.format("%Y-%m-%dT%H:00:00").to_string();
                if out.last().is_none_or(|(prev, _)| *prev != label) {
                    if out.len() as i64 >= MAX_BUCKETS {
                        return Err(too_long());
                    }
                    out.push((label, crate::time::fmt(t)));
                }
            }
            t += Duration::minutes(15);
        }
    } else {
        let mut day = local.date();
        loop {
            let start = day
                .and_hms_opt(0, 0, 0)
                .map(|n| crate::mapping::local_in(n, zone))
                .ok_or_else(|| Error::invalid("bucket start out of range"))?;
            if start >= to {
                break;
            }
            if out.len() as i64 >= MAX_BUCKETS {
                return Err(too_long());
            }
            out.push((day.format("%Y-%m-%d").to_string(), crate::time::fmt(start)));
            day = day
                .succ_opt()
                .ok_or_else(|| Error::invalid("bucket start out of range"))?;
        }
    }
    Ok(out)
}

/// Separates the department from the hour in the one-pass grouping.
const SEP: char = '\u{1f}';

/// The range's sums per department and hour (on the bucket clock), in one
/// pass over its calls: the departments, the overall figures and both
/// series all add up from these.
fn by_dep_and_hour(conn: &Connection, q: &MetricsQuery) -> Result<Vec<(String, String, Acc)>> {
    if let Some(zone) = q.zone {
        return by_dep_and_zoned_hour(conn, q, zone);
    }
    let sums = grouped(
        conn,
        q,
        "dep || char(31) || strftime('%Y-%m-%dT%H:00:00', offered_at, ?7)",
    )?;
    Ok(sums
        .into_iter()
        .filter_map(|(k, acc)| {
            let (dep, hour) = k.split_once(SEP)?;
            Some((dep.to_string(), hour.to_string(), acc))
        })
        .collect())
}

/// [`by_dep_and_hour`] on an IANA zone's clock: SQLite knows no zones, so the
/// calls are summed per UTC quarter hour (every offset in use is a multiple
/// of 15 minutes) and each quarter is added to its local hour here.
fn by_dep_and_zoned_hour(
    conn: &Connection,
    q: &MetricsQuery,
    zone: chrono_tz::Tz,
) -> Result<Vec<(String, String, Acc)>> {
    let sums = grouped(
        conn,
        q,
        &format!("dep || char(31) || {}", quarters::QUARTER),
    )?;
    let mut local: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for (k, acc) in sums {
        let Some((dep, quarter)) = k.split_once(SEP) else {
            continue;
        };
        let Ok(utc) = chrono::NaiveDateTime::parse_from_str(quarter, quarters::QUARTER_FORMAT)
        else {
            continue;
        };
        let label = utc
            .and_utc()
            .with_timezone(&zone)
            .format("%Y-%m-%dT%H:00:00")
            .to_string();
        local.entry((dep.to_string(), label)).or_default().add(&acc);
    }
    Ok(local
        .into_iter()
        .map(|((dep, hour), acc)| (dep, hour, acc))
        .collect())
}

/// The series of `hourly` buckets (else daily) from the per-hour sums: a
/// day's label is the date of its hours' labels (the same clock).
fn series(q: &MetricsQuery, hourly: bool, hours: &[(String, String, Acc)]) -> Result<Vec<Bucket>> {
    let slots = buckets(q, hourly)?;
    let mut sums: BTreeMap<String, Acc> = BTreeMap::new();
    for (_, hour, acc) in hours {
        let label = if hourly {
            hour.as_str()
        } else {
            hour.get(..10).unwrap_or(hour)
        };
        sums.entry(label.to_string()).or_default().add(acc);
    }
    Ok(slots
        .into_iter()
        .map(|(label, start)| Bucket {
            start,
            metrics: sums.get(&label).copied().unwrap_or_default().metrics(),
        })
        .collect())
}

/// The whole report: overall, per department and the series.
pub fn report(conn: &Connection, q: &MetricsQuery) -> Result<MetricsReport> {
    report_with(conn, q, None)
}

/// The range's sums per department and local hour from the sums kept per
/// quarter hour (`quarters`); None when the clock is not on quarter hours.
fn by_dep_and_hour_kept(
    conn: &Connection,
    q: &MetricsQuery,
    cache: &QuarterCache,
) -> Result<Option<Vec<(String, String, Acc)>>> {
    if q.zone.is_none() && q.utc_offset_minutes % 15 != 0 {
        return Ok(None);
    }
    let label = |quarter: i64| -> Result<String> {
        let utc = chrono::DateTime::from_timestamp(quarter * 900, 0)
            .ok_or_else(|| Error::invalid("quarter out of range"))?;
        Ok(match q.zone {
            Some(zone) => utc
                .with_timezone(&zone)
                .format("%Y-%m-%dT%H:00:00")
                .to_string(),
            None => (utc + Duration::minutes(i64::from(q.utc_offset_minutes)))
                .format("%Y-%m-%dT%H:00:00")
                .to_string(),
        })
    };
    // Each quarter's label once: a month is ~3,000 quarters but ~100,000 cells.
    let mut labels: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut local: std::collections::HashMap<(u32, usize), Acc> = std::collections::HashMap::new();
    let mut failed = None;
    let departments = quarters::sums(conn, q, cache, &mut |dep, quarter, acc| {
        let l = match labels.get(&quarter) {
            Some(&l) => l,
            None => match label(quarter) {
                Ok(text) => {
                    names.push(text);
                    labels.insert(quarter, names.len() - 1);
                    names.len() - 1
                }
                Err(e) => {
                    failed = Some(e);
                    return;
                }
            },
        };
        local.entry((dep, l)).or_default().add(acc);
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(Some(
        local
            .into_iter()
            .filter_map(|((dep, l), acc)| {
                Some((
                    departments.get(dep as usize)?.clone(),
                    names.get(l)?.clone(),
                    acc,
                ))
            })
            .collect(),
    ))
}

/// [`report`], with the sums of past reports kept in `cache` and reused
/// where no call changed since.
pub fn report_with(
    conn: &Connection,
    q: &MetricsQuery,
    cache: Option<&QuarterCache>,
) -> Result<MetricsReport> {
    if q.from >= q.to {
        return Err(Error::invalid("`from` must be before `to`"));
    }
    if q.sl_seconds < 0 || q.short_abandon_seconds < 0 {
        return Err(Error::invalid(
            "sl_seconds and short_abandon_seconds must be 0 or more",
        ));
    }
    // Check the series fit before doing any work.
    if q.hourly {
        buckets(q, true)?;
    }
    let kept = match cache {
        Some(cache) => by_dep_and_hour_kept(conn, q, cache)?,
        None => None,
    };
    let from_hours = kept.is_some() || q.hourly || q.daily;
    let hours = match kept {
        Some(hours) => hours,
        None if from_hours => by_dep_and_hour(conn, q)?,
        None => Vec::new(),
    };
    let by_dep = if from_hours {
        let mut by: BTreeMap<String, Acc> = BTreeMap::new();
        for (dep, _, acc) in &hours {
            by.entry(dep.clone()).or_default().add(acc);
        }
        by
    } else {
        grouped(conn, q, "dep")?
    };
    let waits = longest_waits(conn, q)?;
    let mut total = Acc::default();
    for acc in by_dep.values() {
        total.add(acc);
    }
    let mut names: Vec<&String> = by_dep.keys().chain(waits.keys()).collect();
    names.sort();
    names.dedup();
    let departments = names
        .into_iter()
        .map(|d| DepartmentMetrics {
            department: d.clone(),
            metrics: by_dep.get(d).copied().unwrap_or_default().metrics(),
            longest_current_wait_seconds: waits.get(d).copied(),
        })
        .collect();
    Ok(MetricsReport {
        from: q.from.clone(),
        to: q.to.clone(),
        sl_seconds: q.sl_seconds,
        short_abandon_seconds: q.short_abandon_seconds,
        utc_offset_minutes: q.utc_offset_minutes,
        time_zone: q.zone.map(|z| z.name().to_string()),
        overall: OverallMetrics {
            metrics: total.metrics(),
            longest_current_wait_seconds: waits.values().max().copied(),
        },
        departments,
        series: Series {
            hourly: q.hourly.then(|| series(q, true, &hours)).transpose()?,
            daily: q.daily.then(|| series(q, false, &hours)).transpose()?,
        },
    })
}

// ------------------------------------------------------- agent performance

/// Per agent over a range. An agent is a name: the call's `agent_name`
/// (else `agent_id`) as the platform sends it for calls they answered, and
/// the display name (else user name) of the Callboard user who recorded
/// dispositions; the same name, ignoring case, is one row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentMetrics {
    pub agent: String,
    /// Answered calls offered in the range that this agent took.
    pub calls_handled: i64,
    /// Mean talk + wrap of those calls that ended, seconds; null when none.
    pub aht_seconds: Option<f64>,
    /// Dispositions this agent recorded in the range, by category name.
    pub dispositions: BTreeMap<String, i64>,
    /// Missed/hung-up calls this agent recorded a disposition on in the range.
    pub callbacks_attempted: i64,
    /// Of those, calls this agent closed (resolved, wrong number, do not call).
    pub callbacks_resolved: i64,
    /// `callbacks_resolved / callbacks_attempted`; null when nothing was attempted.
    pub callback_success_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentMetricsReport {
    pub from: String,
    pub to: String,
    /// Agents by calls handled, then callbacks attempted, then name.
    pub agents: Vec<AgentMetrics>,
}

/// The row of agent `name` (one per name, ignoring case).
fn entry(by: &mut BTreeMap<String, AgentAcc>, name: String) -> &mut AgentAcc {
    let e = by.entry(name.to_lowercase()).or_default();
    if e.name.is_empty() {
        e.name = name;
    }
    e
}

#[derive(Default)]
struct AgentAcc {
    name: String,
    handled: i64,
    handle_s: f64,
    handle_n: i64,
    dispositions: BTreeMap<String, i64>,
    attempted: i64,
    resolved: i64,
}

pub fn agents(conn: &Connection, q: &MetricsQuery) -> Result<AgentMetricsReport> {
    if q.from >= q.to {
        return Err(Error::invalid("`from` must be before `to`"));
    }
    let deps = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let mut by: BTreeMap<String, AgentAcc> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT COALESCE(c.agent_name, c.agent_id) AS agent, COUNT(*),
                SUM(CASE WHEN c.duration_seconds IS NOT NULL THEN c.duration_seconds
                    + COALESCE(CAST(json_extract(c.metadata, '$.wrap_seconds') AS REAL), 0.0) END),
                COUNT(c.duration_seconds)
             FROM calls c
             WHERE {OFFERED_AT} >= ?1 AND {OFFERED_AT} < ?2
               AND (?3 IS NULL OR c.department IN (SELECT value FROM json_each(?3)))
               AND LOWER(COALESCE(c.direction, '')) NOT LIKE 'out%'
               AND (c.answered_at IS NOT NULL OR c.status IN ('active', 'completed'))
               AND COALESCE(c.agent_name, c.agent_id) IS NOT NULL
             GROUP BY agent"
        ))?;
        let rows = stmt.query_map(params![q.from, q.to, deps], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (name, n, hs, hn) = row?;
            let e = entry(&mut by, name);
            e.handled += n;
            e.handle_s += hs;
            e.handle_n += hn;
        }
    }
    const WHO: &str = "COALESCE(NULLIF(u.display_name, ''), u.username, d.actor)";
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {WHO} AS who, d.category, COUNT(*)
             FROM dispositions d JOIN calls c ON c.id = d.call_row_id
             LEFT JOIN users u ON u.id = d.user_id
             WHERE d.created_at >= ?1 AND d.created_at < ?2
               AND (?3 IS NULL OR c.department IN (SELECT value FROM json_each(?3)))
             GROUP BY who, d.category"
        ))?;
        let rows = stmt.query_map(params![q.from, q.to, deps], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (name, category, n) = row?;
            *entry(&mut by, name)
                .dispositions
                .entry(category)
                .or_default() += n;
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT who, COUNT(*), SUM(closed) FROM (
                SELECT {WHO} AS who, d.call_row_id,
                       MAX(d.outcome IN ('resolved', 'wrong_number', 'do_not_call')) AS closed
                FROM dispositions d JOIN calls c ON c.id = d.call_row_id
                LEFT JOIN users u ON u.id = d.user_id
                WHERE d.created_at >= ?1 AND d.created_at < ?2
                  AND c.status IN ('missed', 'hangup')
                  AND (?3 IS NULL OR c.department IN (SELECT value FROM json_each(?3)))
                GROUP BY who, d.call_row_id)
             GROUP BY who"
        ))?;
        let rows = stmt.query_map(params![q.from, q.to, deps], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?.unwrap_or(0),
            ))
        })?;
        for row in rows {
            let (name, attempted, resolved) = row?;
            let e = entry(&mut by, name);
            e.attempted += attempted;
            e.resolved += resolved;
        }
    }
    let mut agents: Vec<AgentMetrics> = by
        .into_values()
        .map(|a| AgentMetrics {
            agent: a.name,
            calls_handled: a.handled,
            aht_seconds: ratio(a.handle_s, a.handle_n).map(round1),
            dispositions: a.dispositions,
            callbacks_attempted: a.attempted,
            callbacks_resolved: a.resolved,
            callback_success_rate: ratio(a.resolved as f64, a.attempted),
        })
        .collect();
    agents.sort_by(|a, b| {
        b.calls_handled
            .cmp(&a.calls_handled)
            .then(b.callbacks_attempted.cmp(&a.callbacks_attempted))
            .then(a.agent.to_lowercase().cmp(&b.agent.to_lowercase()))
    });
    Ok(AgentMetricsReport {
        from: q.from.clone(),
        to: q.to.clone(),
        agents,
    })
}

mod quarters;
pub use quarters::QuarterCache;

#[cfg(test)]
mod tests;
