//! Voicemails left on calls (Dialpad): link, transcript and length, one per
//! call, kept from the call's mapped `voicemail_link`,
//! `transcription_text` and `voicemail_duration_ms`.

use super::calls::Call;
use super::Writer;
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Voicemail {
    pub id: i64,
    /// The call's id (the provider's).
    pub call_id: String,
    pub department: String,
    pub mobile_number: Option<String>,
    pub link: Option<String>,
    pub transcript: Option<String>,
    pub duration_seconds: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Keeps the voicemail of `call` when the event carried one.
pub(crate) fn record(w: &Writer<'_>, call: &Call, event: &Map<String, Value>) -> Result<()> {
    let Some(link) = text(event, "voicemail_link") else {
        return Ok(());
    };
    let transcript = text(event, "transcription_text");
    let duration = event
        .get("voicemail_duration_ms")
        .and_then(Value::as_i64)
        .map(|ms| (ms + 500) / 1000);
    let at = crate::time::fmt(w.now);
    w.conn
        .prepare_cached(
            "INSERT INTO voicemails (call_row_id, department, link, transcript, duration_seconds, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (call_row_id) DO UPDATE SET link = excluded.link,
                 transcript = COALESCE(excluded.transcript, voicemails.transcript),
                 duration_seconds = COALESCE(excluded.duration_seconds, voicemails.duration_seconds),
                 updated_at = excluded.updated_at",
        )?
        .execute(params![call.id, call.department, link, transcript, duration, at])?;
    Ok(())
}

const COLS: &str = "v.id, c.call_id, v.department, c.mobile_number, v.link, v.transcript, v.duration_seconds, v.created_at, v.updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Voicemail> {
    Ok(Voicemail {
        id: r.get(0)?,
        call_id: r.get(1)?,
        department: r.get(2)?,
        mobile_number: r.get(3)?,
        link: r.get(4)?,
        transcript: r.get(5)?,
        duration_seconds: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

pub fn for_call(conn: &Connection, call_row_id: i64) -> Result<Option<Voicemail>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM voicemails v JOIN calls c ON c.id = v.call_row_id WHERE v.call_row_id = ?1"
        ))?
        .query_row([call_row_id], from_row)
        .optional()?)
}

/// Newest first, in `departments` (all when `None`); with the total.
pub fn list(
    conn: &Connection,
    departments: Option<&[String]>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Voicemail>, i64)> {
    let deps = departments.map(|d| serde_json::to_string(d).unwrap_or_default());
    let filter = "(?1 IS NULL OR v.department IN (SELECT value FROM json_each(?1)))";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM voicemails v WHERE {filter}"),
        [&deps],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM voicemails v JOIN calls c ON c.id = v.call_row_id
         WHERE {filter} ORDER BY v.created_at DESC, v.id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![deps, limit.clamp(1, 1000), offset.max(0)], from_row)?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
}
