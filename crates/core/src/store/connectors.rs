//! API pollers' configuration (one per provider) and the record of their
//! runs. The auth token is not here: it lives in the receiver's secret
//! store (`crate::secrets`) under [`token_name`].

use super::audit::Actor;
use super::decode::At;
use super::{audit, Writer};
use crate::error::{Error, Result};
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Tuning a poller; the defaults are Convoso's documented limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorOptions {
    /// Records per page (≤ 500).
    pub page_size: i64,
    /// Requests per second at most (≤ 10).
    pub max_requests_per_second: f64,
    /// Seconds one request may take.
    pub timeout_seconds: f64,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub backoff_base_ms: u64,
    /// Longest retry delay, milliseconds.
    pub backoff_max_ms: u64,
    /// Attempts per request before the page counts as failed.
    pub max_attempts: u32,
    /// Consecutive failures that open the circuit.
    pub breaker_failures: u32,
    /// Seconds the circuit stays open before a trial request (half-open).
    pub breaker_open_seconds: f64,
    /// Successes in half-open that close the circuit again.
    pub breaker_successes: u32,
    /// Minutes a delta sync looks back before the last synced time, for late records.
    pub overlap_minutes: i64,
    /// Minutes before the first new try of a recording Convoso had not
    /// finished when the call was seen; doubles per try.
    pub recording_retry_minutes: i64,
    /// Longest wait between two tries of a recording, minutes.
    pub recording_retry_max_minutes: i64,
    /// Tries of a recording before it is given up (the defaults span about a day).
    pub recording_max_tries: i64,
}

impl Default for ConnectorOptions {
    fn default() -> Self {
        ConnectorOptions {
            page_size: 500,
            max_requests_per_second: 10.0,
            timeout_seconds: 30.0,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            max_attempts: 5,
            breaker_failures: 5,
            breaker_open_seconds: 60.0,
            breaker_successes: 3,
            overlap_minutes: 15,
            recording_retry_minutes: 1,
            recording_retry_max_minutes: 180,
            recording_max_tries: 14,
        }
    }
}

impl ConnectorOptions {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::invalid(format!("options.{m}")));
        if !(1..=500).contains(&self.page_size) {
            return bad("page_size must be 1-500");
        }
        if !(self.max_requests_per_second > 0.0 && self.max_requests_per_second <= 10.0) {
            return bad("max_requests_per_second must be above 0 and at most 10");
        }
        if !(self.timeout_seconds > 0.0 && self.timeout_seconds <= 300.0) {
            return bad("timeout_seconds must be above 0 and at most 300");
        }
        if self.backoff_base_ms == 0 || self.backoff_max_ms < self.backoff_base_ms {
            return bad("backoff_base_ms must be above 0 and at most backoff_max_ms");
        }
        if !(1..=20).contains(&self.max_attempts) {
            return bad("max_attempts must be 1-20");
        }
        if self.breaker_failures == 0 || self.breaker_successes == 0 {
            return bad("breaker_failures and breaker_successes must be above 0");
        }
        if !(self.breaker_open_seconds > 0.0 && self.breaker_open_seconds <= 3600.0) {
            return bad("breaker_open_seconds must be above 0 and at most 3600");
        }
        if !(0..=1440).contains(&self.overlap_minutes) {
            return bad("overlap_minutes must be 0-1440");
        }
        if !(1..=1440).contains(&self.recording_retry_minutes)
            || !(self.recording_retry_minutes..=1440).contains(&self.recording_retry_max_minutes)
        {
            return bad("recording_retry_minutes must be 1-1440 and at most recording_retry_max_minutes (≤ 1440)");
        }
        if !(1..=50).contains(&self.recording_max_tries) {
            return bad("recording_max_tries must be 1-50");
        }
        Ok(())
    }
}

/// A poller as the console sees it (no token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Connector {
    pub department: String,
    pub kind: String,
    pub base_url: String,
    /// Whether an auth token is stored (it is never shown).
    pub has_auth_token: bool,
    /// Seconds between delta syncs.
    pub interval_seconds: i64,
    pub enabled: bool,
    pub options: ConnectorOptions,
    /// End of the last window synced without failures.
    pub synced_until: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorInput {
    /// The API base, e.g. `https://api.convoso.com/v1`.
    pub base_url: String,
    /// The API auth token; kept when left out on an update.
    pub auth_token: Option<String>,
    /// Minutes between delta syncs (default 15).
    pub interval_minutes: Option<i64>,
    pub enabled: Option<bool>,
    pub options: Option<ConnectorOptions>,
}

const COLS: &str = "p.slug, k.kind, k.base_url, k.has_auth_token, k.interval_seconds, k.enabled, k.options, k.synced_until, k.updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Connector> {
    let department: String = r.get(0)?;
    // Unreadable options name the connector: defaults would quietly change
    // its retries, breaker and window.
    let options = At::new("connectors", department.as_str()).json(r, 6, "options")?;
    Ok(Connector {
        department,
        kind: r.get(1)?,
        base_url: r.get(2)?,
        has_auth_token: r.get(3)?,
        interval_seconds: r.get(4)?,
        enabled: r.get(5)?,
        options,
        synced_until: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

pub fn get(conn: &Connection, slug: &str) -> Result<Connector> {
    conn.query_row(
        &format!("SELECT {COLS} FROM connectors k JOIN providers p ON p.id = k.provider_id WHERE p.slug = ?1"),
        [slug],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("provider `{slug}` has no API poller configured")))
}

pub fn list(conn: &Connection) -> Result<Vec<Connector>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM connectors k JOIN providers p ON p.id = k.provider_id ORDER BY p.slug"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The name of a provider's API token in the secret store.
pub fn token_name(slug: &str) -> String {
    format!("connector:{slug}:auth_token")
}

/// Checks `input` without storing anything (so the caller can keep the
/// token in the secret store before the row records that it has one).
pub fn validate(input: &ConnectorInput) -> Result<()> {
    let base = input.base_url.trim();
    if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() > 500 {
        return Err(Error::invalid("base_url must be an http(s) URL"));
    }
    if !(1..=1440).contains(&input.interval_minutes.unwrap_or(15)) {
        return Err(Error::invalid("interval_minutes must be 1-1440"));
    }
    if let Some(o) = &input.options {
        o.validate()?;
    }
    if let Some(t) = &input.auth_token {
        if t.trim().is_empty() || t.len() > 512 {
            return Err(Error::invalid("auth_token must be 1-512 characters"));
        }
    }
    Ok(())
}

/// Creates or replaces the provider's poller configuration; `token_stored`
/// says the caller has just put a token in the secret store.
pub fn put(
    w: &mut Writer<'_>,
    slug: &str,
    input: ConnectorInput,
    token_stored: bool,
    actor: &Actor,
) -> Result<Connector> {
    validate(&input)?;
    let (pid, preset): (i64, Option<String>) = w
        .conn
        .query_row(
            "SELECT id, preset FROM providers WHERE slug = ?1",
            [slug],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("no provider `{slug}`")))?;
    let base = input.base_url.trim().trim_end_matches('/').to_string();
    let minutes = input.interval_minutes.unwrap_or(15);
    let options = input.options.unwrap_or_default();
    // Convoso's call-log poller, Asterisk's ARI event stream, or 3CX's
    // Call Control API.
    let kind = match preset.as_deref() {
        None | Some("convoso") => "convoso".to_string(),
        Some("asterisk") => "asterisk_ari".to_string(),
        Some("3cx") => "3cx_call_control".to_string(),
        Some(other) => {
            return Err(Error::invalid(format!(
                "only Convoso, Asterisk and 3CX providers have an API connector (this one is `{other}`)"
            )))
        }
    };
    let at = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO connectors (provider_id, kind, base_url, has_auth_token, interval_seconds, enabled, options, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (provider_id) DO UPDATE SET base_url = excluded.base_url,
             has_auth_token = excluded.has_auth_token OR connectors.has_auth_token,
             interval_seconds = excluded.interval_seconds, enabled = excluded.enabled,
             options = excluded.options, updated_at = excluded.updated_at",
        params![
            pid,
            kind,
            base,
            token_stored,
            minutes * 60,
            input.enabled.unwrap_or(true),
            serde_json::to_string(&options)?,
            at
        ],
    )?;
    audit::record(
        w,
        actor,
        "connector.put",
        Some(slug),
        serde_json::json!({ "base_url": base, "interval_minutes": minutes }),
    )?;
    get(w.conn, slug)
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunReport {
    pub id: i64,
    /// `backfill` or `delta`.
    pub kind: String,
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Records read from the API.
    pub scanned: i64,
    /// New calls.
    pub inserted: i64,
    /// Calls changed by a record.
    pub updated: i64,
    /// Records that could not be stored, and pages that could not be read.
    pub failed: i64,
    pub duration_ms: i64,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

pub fn record_run(
    w: &mut Writer<'_>,
    slug: &str,
    r: &RunReport,
    synced_until: Option<&str>,
) -> Result<RunReport> {
    let pid: i64 = w
        .conn
        .query_row("SELECT id FROM providers WHERE slug = ?1", [slug], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::not_found(format!("no provider `{slug}`")))?;
    w.conn.execute(
        "INSERT INTO sync_runs (provider_id, kind, window_from, window_to, started_at, finished_at,
             scanned, inserted, updated, failed, duration_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            pid,
            r.kind,
            r.window_from,
            r.window_to,
            r.started_at,
            r.finished_at,
            r.scanned,
            r.inserted,
            r.updated,
            r.failed,
            r.duration_ms,
            r.error
        ],
    )?;
    let id = w.conn.last_insert_rowid();
    if let Some(until) = synced_until {
        w.conn.execute(
            "UPDATE connectors SET synced_until = MAX(COALESCE(synced_until, ''), ?2) WHERE provider_id = ?1",
            params![pid, until],
        )?;
    }
    Ok(RunReport { id, ..r.clone() })
}

pub fn last_run(conn: &Connection, slug: &str) -> Result<Option<RunReport>> {
    Ok(conn
        .query_row(
            "SELECT r.id, r.kind, r.window_from, r.window_to, r.started_at, r.finished_at, r.scanned,
                    r.inserted, r.updated, r.failed, r.duration_ms, r.error
             FROM sync_runs r JOIN providers p ON p.id = r.provider_id
             WHERE p.slug = ?1 ORDER BY r.id DESC LIMIT 1",
            [slug],
            |r| {
                Ok(RunReport {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    window_from: r.get(2)?,
                    window_to: r.get(3)?,
                    started_at: r.get(4)?,
                    finished_at: r.get(5)?,
                    scanned: r.get(6)?,
                    inserted: r.get(7)?,
                    updated: r.get(8)?,
                    failed: r.get(9)?,
                    duration_ms: r.get(10)?,
                    error: r.get(11)?,
                })
            },
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::providers::{self, NewProvider};

    /// A poller's options this build cannot read are an error naming the
    /// connector, not defaults that quietly change its retries and breaker.
    #[tokio::test]
    async fn unreadable_options_name_the_connector() {
        let (_dir, store) = crate::store::test_support::temp_store();
        let read = store
            .write(|w| {
                let actor = Actor { user_id: None, name: "t".into() };
                let p = providers::create(w, NewProvider { name: "Sales".into(), ..Default::default() }, &actor)?;
                w.conn.execute(
                    "INSERT INTO connectors (provider_id, kind, base_url, options, created_at, updated_at)
                     VALUES (?1, 'convoso', 'https://api.convoso.com/v1', '{\"page_size\": 100}', 't', 't')",
                    [p.provider.id],
                )?;
                let good = get(w.conn, "sales").map(|c| c.options.page_size);
                w.conn.execute("UPDATE connectors SET options = '{\"page_size\": ' WHERE provider_id = ?1", [p.provider.id])?;
                let bad = get(w.conn, "sales").map(|_| ()).map_err(|e| e.to_string());
                Ok((good?, bad))
            })
            .await
            .unwrap();
        assert_eq!(read.0, 100);
        let e = read.1.expect_err("unreadable options");
        assert!(e.contains("connectors row sales, column options"), "{e}");
    }
}
