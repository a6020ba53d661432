//! Convoso recordings not ready when the call was first seen (issue 15).
//!
//! A talked-on call of a provider whose Convoso API connector is configured
//! (a token stored, enabled) that is stored without a recording is queued
//! here by the intake workflow, in the ingestion's transaction. The leader's
//! recording task (`server::convoso::recordings`) claims due rows, asks
//! Convoso's call log for the record again and either stores it through the
//! normal ingestion (the row becomes `fetched`) or spends a try: the next one
//! waits `recording_retry_minutes`, doubling, at most
//! `recording_retry_max_minutes`, and after `recording_max_tries` the row is
//! `given_up` with its reason. An open circuit postpones a row without
//! spending a try. A call that gains its recording any other way leaves the
//! queue.

use super::calls::Call;
use super::connectors::ConnectorOptions;
use super::decode::At;
use super::Writer;
use crate::error::Result;
use crate::status::Status;
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

/// Calls that started longer ago than this are not queued (a backfill of
/// old calls without recordings would otherwise ask Convoso for each).
const HORIZON_HOURS: i64 = 48;

/// A row's state (`recording_fetches.state`).
pub const PENDING: &str = "pending";
pub const FETCHED: &str = "fetched";
pub const GIVEN_UP: &str = "given_up";

/// One queued recording, as the tests and the task see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingFetch {
    pub call_row_id: i64,
    /// The call's id in Callboard (the UUID v5 of the Convoso id).
    pub call_id: String,
    pub convoso_id: String,
    pub started_at: String,
    /// `pending`, `fetched` or `given_up`.
    pub state: String,
    pub tries: i64,
    pub next_at: String,
    pub last_error: Option<String>,
}

/// A claimed row the task must try now.
#[derive(Debug, Clone)]
pub struct Due {
    pub fetch: RecordingFetch,
    pub department: String,
    pub options: ConnectorOptions,
}

/// The queue of one provider, for the connector's health.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecordingSummary {
    /// Calls waiting for their recording.
    pub pending: i64,
    /// Recordings found on a later try.
    pub fetched: i64,
    /// Calls whose recording never came (after the last try).
    pub given_up: i64,
    /// When the next waiting call is tried.
    pub next_try_at: Option<String>,
    /// The newest reason a waiting or given-up call has no recording yet.
    pub last_error: Option<String>,
}

fn talk_seconds(metadata: &Value) -> i64 {
    match &metadata["talk_time_seconds"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Was the call talked on (answered, talk time, a completed-type status)?
fn talked_on(c: &Call) -> bool {
    matches!(c.status, Some(Status::Completed | Status::Active))
        || c.answered_at.is_some()
        || talk_seconds(&c.metadata) > 0
}

fn convoso_id(c: &Call) -> Option<String> {
    match &c.metadata["convoso_call_id"] {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The wait before the next try once `tries` tries are spent (0: from the
/// queueing to the first try), in minutes: 1, 2, 4 … with the defaults,
/// at most `recording_retry_max_minutes`.
pub fn backoff_minutes(o: &ConnectorOptions, tries: i64) -> i64 {
    let doubled = o
        .recording_retry_minutes
        .saturating_mul(1i64 << tries.clamp(0, 20));
    doubled.min(o.recording_retry_max_minutes)
}

/// The intake workflow's step for a stored call: a call with its recording
/// leaves the queue; a talked-on call without one, of a provider with the
/// Convoso connector, joins it (once).
pub(crate) fn track(w: &mut Writer<'_>, provider_id: i64, c: &Call) -> Result<()> {
    if c.recording_url.as_deref().is_some_and(|u| !u.is_empty()) {
        w.conn
            .prepare_cached(
                "DELETE FROM recording_fetches WHERE call_row_id = ?1 AND state = 'pending'",
            )?
            .execute([c.id])?;
        return Ok(());
    }
    if !talked_on(c) {
        return Ok(());
    }
    let Some(id) = convoso_id(c) else {
        return Ok(());
    };
    let started = c
        .started_at
        .as_deref()
        .and_then(time::parse)
        .unwrap_or(w.now);
    if started < w.now - chrono::Duration::hours(HORIZON_HOURS) {
        return Ok(());
    }
    let options: Option<ConnectorOptions> = w
        .conn
        .prepare_cached(
            "SELECT options FROM connectors
             WHERE provider_id = ?1 AND kind = 'convoso' AND has_auth_token AND enabled",
        )?
        .query_row([provider_id], |r| {
            At::new("connectors", provider_id).json(r, 0, "options")
        })
        .optional()?;
    let Some(o) = options else {
        return Ok(());
    };
    let at = time::fmt(w.now);
    let next = time::fmt(w.now + chrono::Duration::minutes(backoff_minutes(&o, 0)));
    w.conn
        .prepare_cached(
            "INSERT INTO recording_fetches (call_row_id, provider_id, convoso_id, started_at, state, tries,
                 next_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?6, ?6)
             ON CONFLICT (call_row_id) DO NOTHING",
        )?
        .execute(params![c.id, provider_id, id, time::fmt(started), next, at])?;
    Ok(())
}

const COLS: &str = "f.call_row_id, c.call_id, f.convoso_id, f.started_at, f.state, f.tries, f.next_at, f.last_error";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingFetch> {
    Ok(RecordingFetch {
        call_row_id: r.get(0)?,
        call_id: r.get(1)?,
        convoso_id: r.get(2)?,
        started_at: r.get(3)?,
        state: r.get(4)?,
        tries: r.get(5)?,
        next_at: r.get(6)?,
        last_error: r.get(7)?,
    })
}

/// Every queued recording of provider `slug`, oldest first.
pub fn list(conn: &Connection, slug: &str) -> Result<Vec<RecordingFetch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM recording_fetches f JOIN calls c ON c.id = f.call_row_id
         JOIN providers p ON p.id = f.provider_id WHERE p.slug = ?1 ORDER BY f.call_row_id"
    ))?;
    let rows = stmt.query_map([slug], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The queue of provider `slug` in figures.
pub fn summary(conn: &Connection, slug: &str) -> Result<RecordingSummary> {
    let (pending, fetched, given_up, next_try_at) = conn.query_row(
        "SELECT COALESCE(SUM(f.state = 'pending'), 0), COALESCE(SUM(f.state = 'fetched'), 0),
                COALESCE(SUM(f.state = 'given_up'), 0), MIN(CASE WHEN f.state = 'pending' THEN f.next_at END)
         FROM recording_fetches f JOIN providers p ON p.id = f.provider_id WHERE p.slug = ?1",
        [slug],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let last_error = conn
        .query_row(
            "SELECT f.last_error FROM recording_fetches f JOIN providers p ON p.id = f.provider_id
             WHERE p.slug = ?1 AND f.state != 'fetched' AND f.last_error IS NOT NULL
             ORDER BY f.updated_at DESC, f.call_row_id DESC LIMIT 1",
            [slug],
            |r| r.get(0),
        )
        .optional()?;
    Ok(RecordingSummary {
        pending,
        fetched,
        given_up,
        next_try_at,
        last_error,
    })
}

/// Whether some row is due at `now` (a read, so an idle queue costs no
/// write).
pub fn any_due(conn: &Connection, now: Timestamp) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM recording_fetches WHERE state = 'pending' AND next_at <= ?1 LIMIT 1",
        )?
        .query_row([time::fmt(now)], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Claims up to `limit` due rows of enabled connectors with a token: each
/// is leased (`next_at` moved `lease_seconds` on) so no other try takes it
/// while this one runs.
pub fn claim_due(w: &mut Writer<'_>, limit: i64, lease_seconds: i64) -> Result<Vec<Due>> {
    let now = time::fmt(w.now);
    let due = {
        let mut stmt = w.conn.prepare_cached(&format!(
            "SELECT {COLS}, p.slug, k.options FROM recording_fetches f
             JOIN calls c ON c.id = f.call_row_id
             JOIN providers p ON p.id = f.provider_id
             JOIN connectors k ON k.provider_id = f.provider_id
             WHERE f.state = 'pending' AND f.next_at <= ?1
               AND k.kind = 'convoso' AND k.has_auth_token AND k.enabled AND p.active
             ORDER BY f.next_at LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now, limit], |r| {
            let fetch = from_row(r)?;
            let options = At::new("connectors", fetch.call_row_id).json(r, 9, "options")?;
            Ok(Due {
                fetch,
                department: r.get(8)?,
                options,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let lease = time::fmt(w.now + chrono::Duration::seconds(lease_seconds));
    for d in &due {
        w.conn
            .prepare_cached("UPDATE recording_fetches SET next_at = ?2 WHERE call_row_id = ?1")?
            .execute(params![d.fetch.call_row_id, lease])?;
    }
    Ok(due)
}

/// The try found the recording (it is being stored in this transaction).
/// False when the row had already left the queue.
pub fn fetched(w: &mut Writer<'_>, call_row_id: i64) -> Result<bool> {
    let n = w
        .conn
        .prepare_cached(
            "UPDATE recording_fetches SET state = 'fetched', tries = tries + 1, last_error = NULL,
                 updated_at = ?2 WHERE call_row_id = ?1 AND state = 'pending'",
        )?
        .execute(params![call_row_id, time::fmt(w.now)])?;
    Ok(n > 0)
}

/// A try spent without a recording: the row waits longer, or is given up
/// after the last try. Returns the row as it now stands (None when it had
/// left the queue meanwhile).
pub fn spend_try(
    w: &mut Writer<'_>,
    call_row_id: i64,
    o: &ConnectorOptions,
    why: &str,
) -> Result<Option<RecordingFetch>> {
    let tries: Option<i64> = w
        .conn
        .query_row(
            "SELECT tries FROM recording_fetches WHERE call_row_id = ?1 AND state = 'pending'",
            [call_row_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(tries) = tries.map(|t| t + 1) else {
        return Ok(None);
    };
    let at = time::fmt(w.now);
    if tries >= o.recording_max_tries {
        let reason = format!("gave up after {tries} tries: {why}");
        w.conn.execute(
            "UPDATE recording_fetches SET state = 'given_up', tries = ?2, last_error = ?3, updated_at = ?4
             WHERE call_row_id = ?1",
            params![call_row_id, tries, reason, at],
        )?;
    } else {
        let next: Timestamp = w.now + chrono::Duration::minutes(backoff_minutes(o, tries));
        w.conn.execute(
            "UPDATE recording_fetches SET tries = ?2, next_at = ?3, last_error = ?4, updated_at = ?5
             WHERE call_row_id = ?1",
            params![call_row_id, tries, time::fmt(next), why, at],
        )?;
    }
    get(w.conn, call_row_id)
}

/// The try could not be made (an open circuit): the row waits until
/// `until` and keeps its tries.
pub fn postpone(w: &mut Writer<'_>, call_row_id: i64, until: Timestamp, why: &str) -> Result<()> {
    w.conn.execute(
        "UPDATE recording_fetches SET next_at = ?2, last_error = ?3, updated_at = ?4
         WHERE call_row_id = ?1 AND state = 'pending'",
        params![call_row_id, time::fmt(until), why, time::fmt(w.now)],
    )?;
    Ok(())
}

fn get(conn: &Connection, call_row_id: i64) -> Result<Option<RecordingFetch>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLS} FROM recording_fetches f JOIN calls c ON c.id = f.call_row_id
                 WHERE f.call_row_id = ?1"
            ),
            [call_row_id],
            from_row,
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_first_delay_up_to_the_cap_and_spans_about_a_day() {
        let o = ConnectorOptions::default();
        let waits: Vec<i64> = (0..8).map(|t| backoff_minutes(&o, t)).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128]);
        assert_eq!(backoff_minutes(&o, 8), 180);
        assert_eq!(backoff_minutes(&o, 60), 180);
        // From the queueing to the last try: a wait before each try.
        let total: i64 = (0..o.recording_max_tries)
            .map(|t| backoff_minutes(&o, t))
            .sum();
        assert!((20 * 60..=26 * 60).contains(&total), "{total} minutes");
    }

    #[test]
    fn talk_time_counts_as_talked_on() {
        let mut c = Call {
            metadata: serde_json::json!({"talk_time_seconds": "12"}),
            ..Default::default()
        };
        assert!(talked_on(&c));
        c.metadata = serde_json::json!({"talk_time_seconds": 0});
        assert!(!talked_on(&c));
        c.status = Some(Status::Completed);
        assert!(talked_on(&c));
        c.status = Some(Status::Missed);
        assert!(!talked_on(&c));
    }
}
