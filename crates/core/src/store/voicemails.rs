//! Voicemails left on calls (Dialpad, the IVR's `record` node, any mapping
//! of `voicemail_link`): link, transcript and length, one per call; and the
//! inbox's state of each, who listened and who handled it.

use super::audit::{self, Actor};
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
    /// First played in the inbox, and by whom.
    pub listened_at: Option<String>,
    pub listened_by: Option<String>,
    /// Dealt with: it leaves the open inbox.
    pub handled_at: Option<String>,
    pub handled_by: Option<String>,
    /// The call's worklist assignee.
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    /// The platform's agent on the call (whose voicemail box it reached).
    pub agent: Option<String>,
    pub caller_name: Option<String>,
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The data of a `voicemail.received` event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VoicemailReceived {
    #[serde(flatten)]
    pub voicemail: Voicemail,
    /// The Callboard user it is meant for: the call's worklist assignee, else
    /// the user the platform's agent id is mapped to (`agent-ids`); null when
    /// neither is known.
    pub for_user_id: Option<i64>,
}

/// Who a voicemail on `call` is meant for (see [`VoicemailReceived`]).
fn meant_for(call: &Call) -> Option<i64> {
    call.assignee_id
        .or_else(|| call.metadata.get("agent_user_id").and_then(Value::as_i64))
}

/// Keeps the voicemail of `call` when the event carried one; the first one
/// kept is announced (`voicemail.received`), a later delivery of the same
/// voicemail (a transcript arriving) is not news.
pub(crate) fn record(w: &mut Writer<'_>, call: &Call, event: &Map<String, Value>) -> Result<()> {
    let Some(link) = text(event, "voicemail_link") else {
        return Ok(());
    };
    let transcript = text(event, "transcription_text");
    let duration = event
        .get("voicemail_duration_ms")
        .and_then(Value::as_i64)
        .map(|ms| (ms + 500) / 1000);
    let at = crate::time::fmt(w.now);
    let known = w
        .conn
        .prepare_cached("SELECT 1 FROM voicemails WHERE call_row_id = ?1")?
        .exists([call.id])?;
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
    if known {
        return Ok(());
    }
    if let Some(voicemail) = for_call(w.conn, call.id)? {
        let data = serde_json::to_string(&VoicemailReceived {
            voicemail,
            for_user_id: meant_for(call),
        })?;
        w.emit(
            crate::hub::EventKind::VoicemailReceived,
            Some(&call.department),
            crate::hub::Audience::All,
            data,
        )?;
    }
    Ok(())
}

const COLS: &str = "v.id, c.call_id, v.department, c.mobile_number, v.link, v.transcript, v.duration_seconds, v.created_at, v.updated_at,
     v.listened_at, v.listened_by, v.handled_at, v.handled_by, c.assignee_id, u.username, COALESCE(c.agent_name, c.agent_id), c.caller_name";
const FROM: &str =
    "voicemails v JOIN calls c ON c.id = v.call_row_id LEFT JOIN users u ON u.id = c.assignee_id";

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
        listened_at: r.get(9)?,
        listened_by: r.get(10)?,
        handled_at: r.get(11)?,
        handled_by: r.get(12)?,
        assignee_id: r.get(13)?,
        assignee_name: r.get(14)?,
        agent: r.get(15)?,
        caller_name: r.get(16)?,
    })
}

pub fn for_call(conn: &Connection, call_row_id: i64) -> Result<Option<Voicemail>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM {FROM} WHERE v.call_row_id = ?1"
        ))?
        .query_row([call_row_id], from_row)
        .optional()?)
}

/// Which voicemails the inbox shows.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InboxView {
    /// Not handled yet (the default).
    #[default]
    Open,
    /// Not played by anyone yet.
    Unlistened,
    /// Played, not handled.
    Listened,
    Handled,
    All,
}

/// The inbox's filters.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// None: every department.
    pub departments: Option<Vec<String>>,
    pub view: InboxView,
    /// Left at or after / before (RFC 3339).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Part of the platform agent's id or name, or the assignee's user name.
    pub agent: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Newest first, with the total that matches.
pub fn list(conn: &Connection, q: &InboxQuery) -> Result<(Vec<Voicemail>, i64)> {
    let deps = q
        .departments
        .as_ref()
        .map(|d| serde_json::to_string(d).unwrap_or_default());
    let view = match q.view {
        InboxView::Open => "v.handled_at IS NULL",
        InboxView::Unlistened => "v.handled_at IS NULL AND v.listened_at IS NULL",
        InboxView::Listened => "v.handled_at IS NULL AND v.listened_at IS NOT NULL",
        InboxView::Handled => "v.handled_at IS NOT NULL",
        InboxView::All => "1",
    };
    let agent = q
        .agent
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| format!("%{}%", a.to_lowercase()));
    let filter = format!(
        "(?1 IS NULL OR v.department IN (SELECT value FROM json_each(?1))) AND {view}
         AND (?2 IS NULL OR v.created_at >= ?2) AND (?3 IS NULL OR v.created_at < ?3)
         AND (?4 IS NULL OR lower(COALESCE(c.agent_name, '') || ' ' || COALESCE(c.agent_id, '') || ' ' || COALESCE(u.username, '')) LIKE ?4)"
    );
    let args = params![deps, q.from, q.to, agent];
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM {FROM} WHERE {filter}"),
        args,
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM {FROM} WHERE {filter} ORDER BY v.created_at DESC, v.id DESC LIMIT ?5 OFFSET ?6"
    ))?;
    let rows = stmt.query_map(
        params![
            deps,
            q.from,
            q.to,
            agent,
            q.limit.clamp(1, 1000),
            q.offset.max(0)
        ],
        from_row,
    )?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
}

pub fn get(conn: &Connection, id: i64) -> Result<Voicemail> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM {FROM} WHERE v.id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| crate::Error::not_found(format!("no voicemail {id}")))
}

/// Notes the first play (later plays change nothing).
pub fn listened(w: &mut Writer<'_>, id: i64, actor: &Actor) -> Result<Voicemail> {
    get(w.conn, id)?;
    w.conn.execute(
        "UPDATE voicemails SET listened_at = ?2, listened_by = ?3, updated_at = ?2
         WHERE id = ?1 AND listened_at IS NULL",
        params![id, crate::time::fmt(w.now), actor.name],
    )?;
    get(w.conn, id)
}

/// Marks the voicemail handled (it leaves the open inbox) or open again.
pub fn set_handled(w: &mut Writer<'_>, id: i64, handled: bool, actor: &Actor) -> Result<Voicemail> {
    let v = get(w.conn, id)?;
    let now = crate::time::fmt(w.now);
    if handled {
        w.conn.execute(
            "UPDATE voicemails SET handled_at = ?2, handled_by = ?3, updated_at = ?2,
                 listened_at = COALESCE(listened_at, ?2), listened_by = COALESCE(listened_by, ?3)
             WHERE id = ?1 AND handled_at IS NULL",
            params![id, now, actor.name],
        )?;
    } else {
        w.conn.execute(
            "UPDATE voicemails SET handled_at = NULL, handled_by = NULL, updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    audit::record(
        w,
        actor,
        if handled {
            "voicemail.handled"
        } else {
            "voicemail.reopened"
        },
        Some(&v.department),
        serde_json::json!({ "voicemail": id, "call_id": v.call_id }),
    )?;
    get(w.conn, id)
}

/// Deletes the voicemail (the call stays); audited with what it held.
pub fn delete(w: &mut Writer<'_>, id: i64, actor: &Actor) -> Result<()> {
    let v = get(w.conn, id)?;
    w.conn
        .execute("DELETE FROM voicemails WHERE id = ?1", [id])?;
    audit::record(
        w,
        actor,
        "voicemail.delete",
        Some(&v.department),
        serde_json::json!({ "voicemail": id, "call_id": v.call_id, "link": v.link, "duration_seconds": v.duration_seconds }),
    )
}
