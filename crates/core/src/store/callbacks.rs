//! Calling missed callers back: each department's dialer (public settings;
//! the credentials are in the secret store) and each attempt with its
//! outcome. An attempt that reached the customer's leg counts on the call
//! (`attempts`, so the worklist shows it "attempted" and the callback figures
//! follow real dialling); one where the agent never picked up does not.

use super::audit::{self, Actor};
use super::calls::{self, Call, Outcome};
use super::decode::At;
use super::Writer;
use crate::dialer::status::{AttemptState, Update};
use crate::dialer::{DialerConfig, DialerKind};
use crate::error::{Error, Result};
use crate::keys;
use crate::time;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// A department's dialer as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dialer {
    pub department: String,
    #[serde(flatten)]
    pub config: DialerConfig,
    pub updated_at: String,
}

fn dialer_row(r: &Row<'_>) -> rusqlite::Result<Dialer> {
    let at = At::new("dialers", r.get::<_, i64>(4)?);
    Ok(Dialer {
        department: r.get(0)?,
        config: DialerConfig {
            kind: at.wire(r, 1, "kind")?,
            fields: at.json(r, 2, "fields")?,
        },
        updated_at: r.get(3)?,
    })
}

const DIALER_SQL: &str = "SELECT p.slug, d.kind, d.fields, d.updated_at, d.provider_id
     FROM dialers d JOIN providers p ON p.id = d.provider_id";

pub fn dialer(conn: &Connection, department: &str) -> Result<Option<Dialer>> {
    Ok(conn
        .prepare_cached(&format!("{DIALER_SQL} WHERE p.slug = ?1"))?
        .query_row([department], dialer_row)
        .optional()?)
}

pub fn dialers(conn: &Connection) -> Result<Vec<Dialer>> {
    let mut stmt = conn.prepare_cached(&format!("{DIALER_SQL} ORDER BY p.slug"))?;
    let rows = stmt.query_map([], dialer_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Sets (or replaces) `department`'s dialer; audited without its values'
/// secrets (there are none here).
pub fn put_dialer(
    w: &mut Writer<'_>,
    department: &str,
    config: DialerConfig,
    actor: &Actor,
) -> Result<Dialer> {
    config.validate()?;
    let provider = super::providers::get(w.conn, department)?;
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO dialers (provider_id, kind, fields, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (provider_id) DO UPDATE SET kind = excluded.kind, fields = excluded.fields,
             updated_at = excluded.updated_at",
        params![
            provider.id,
            config.kind.as_str(),
            serde_json::to_string(&config.fields)?,
            now
        ],
    )?;
    audit::record(
        w,
        actor,
        "dialer.update",
        Some(department),
        serde_json::json!({ "kind": config.kind, "fields": config.fields }),
    )?;
    dialer(w.conn, department)?
        .ok_or_else(|| Error::not_found(format!("no dialer for `{department}`")))
}

pub fn delete_dialer(w: &mut Writer<'_>, department: &str, actor: &Actor) -> Result<()> {
    let provider = super::providers::get(w.conn, department)?;
    let n = w
        .conn
        .execute("DELETE FROM dialers WHERE provider_id = ?1", [provider.id])?;
    if n == 0 {
        return Err(Error::not_found(format!(
            "department `{department}` has no dialer"
        )));
    }
    audit::record(
        w,
        actor,
        "dialer.delete",
        Some(department),
        serde_json::json!({}),
    )
}

/// One call back.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: i64,
    /// The call's id (the provider's).
    pub call_id: String,
    pub department: String,
    pub user_id: Option<i64>,
    /// Who pressed Call back.
    pub actor: String,
    /// The platform dialled through.
    pub via: DialerKind,
    /// The agent's end: phone number or platform id.
    pub agent: String,
    /// The number called back.
    pub customer: String,
    pub state: AttemptState,
    /// The platform's id for the call it placed.
    pub platform_ref: Option<String>,
    /// The platform's own status word, as reported.
    pub raw_status: Option<String>,
    /// Why it failed, in the platform's words where it gave any.
    pub detail: Option<String>,
    /// Talk time with the customer, seconds.
    pub duration_seconds: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
}

const ATTEMPT_COLS: &str = "a.id, c.call_id, a.department, a.user_id, a.actor, a.via, a.agent, a.customer,
     a.state, a.platform_ref, a.raw_status, a.detail, a.duration_seconds, a.created_at, a.updated_at, a.ended_at";

fn attempt_row(r: &Row<'_>) -> rusqlite::Result<Attempt> {
    let id: i64 = r.get(0)?;
    let at = At::new("callback_attempts", id);
    Ok(Attempt {
        id,
        call_id: r.get(1)?,
        department: r.get(2)?,
        user_id: r.get(3)?,
        actor: r.get(4)?,
        via: at.wire(r, 5, "via")?,
        agent: r.get(6)?,
        customer: r.get(7)?,
        state: at.wire(r, 8, "state")?,
        platform_ref: r.get(9)?,
        raw_status: r.get(10)?,
        detail: r.get(11)?,
        duration_seconds: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        ended_at: r.get(15)?,
    })
}

fn attempt(conn: &Connection, id: i64) -> Result<Attempt> {
    conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLS} FROM callback_attempts a JOIN calls c ON c.id = a.call_row_id WHERE a.id = ?1"
    ))?
    .query_row([id], attempt_row)
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no call back {id}")))
}

/// The call backs of a call, oldest first.
pub fn for_call(conn: &Connection, call_row_id: i64) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLS} FROM callback_attempts a JOIN calls c ON c.id = a.call_row_id
         WHERE a.call_row_id = ?1 ORDER BY a.id"
    ))?;
    let rows = stmt.query_map([call_row_id], attempt_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// What a new call back needs.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub call_row_id: i64,
    pub via: DialerKind,
    pub agent: String,
    pub customer: String,
}

/// Records a call back before the platform is asked, so nothing the agent
/// pressed is lost whatever the platform answers; the call is assigned to the
/// agent when it had no one. Returns the attempt, the call, and the token
/// for the attempt's status URL (kept only as a hash).
pub fn start(
    w: &mut Writer<'_>,
    new: NewAttempt,
    actor: &Actor,
) -> Result<(Attempt, Call, String)> {
    let call = calls::by_row_id(w.conn, new.call_row_id)?;
    if call.resolved_at.is_some() {
        return Err(Error::Conflict(format!(
            "call `{}` is already resolved; reopen it before calling back",
            call.call_id
        )));
    }
    let token = keys::new_token();
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO callback_attempts (call_row_id, department, user_id, actor, via, agent, customer,
             token_hash, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'requested', ?9, ?9)",
        params![
            call.id,
            call.department,
            actor.user_id,
            actor.name,
            new.via.as_str(),
            new.agent,
            new.customer,
            keys::hash_secret(&token),
            now
        ],
    )?;
    let id = w.conn.last_insert_rowid();
    let call = match (call.assignee_id, actor.user_id) {
        (None, Some(uid)) => calls::assign(w, call.id, Some(uid), None)?,
        _ => call,
    };
    Ok((attempt(w.conn, id)?, call, token))
}

/// The platform's answer to the request: accepted (with its call id) or
/// refused (why).
pub fn sent(
    w: &mut Writer<'_>,
    id: i64,
    answer: std::result::Result<Option<String>, String>,
) -> Result<Attempt> {
    let now = time::fmt(w.now);
    match answer {
        Ok(platform_ref) => w.conn.execute(
            "UPDATE callback_attempts SET state = 'dialling', platform_ref = ?2, updated_at = ?3
             WHERE id = ?1 AND state = 'requested'",
            params![id, platform_ref, now],
        )?,
        Err(why) => w.conn.execute(
            "UPDATE callback_attempts SET state = 'failed', detail = ?2, updated_at = ?3, ended_at = ?3
             WHERE id = ?1 AND state = 'requested'",
            params![id, why.chars().take(500).collect::<String>(), now],
        )?,
    };
    attempt(w.conn, id)
}

/// The attempt a status URL's token names.
pub fn by_token(conn: &Connection, token: &str) -> Result<Attempt> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM callback_attempts WHERE token_hash = ?1")?
        .query_row([keys::hash_secret(token)], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => attempt(conn, id),
        None => Err(Error::not_found("no call back has this link")),
    }
}

/// Applies a platform's report. The first final report wins (a late or
/// repeated one changes nothing); one that reached the customer's leg counts
/// as an attempt on the call and, for no answer or busy, sets the call's last
/// outcome. Returns the attempt and, when it changed, the call.
pub fn report(w: &mut Writer<'_>, token: &str, update: Update) -> Result<(Attempt, Option<Call>)> {
    let a = by_token(w.conn, token)?;
    if a.state.is_final() {
        return Ok((a, None));
    }
    let now = time::fmt(w.now);
    w.conn.execute(
        "UPDATE callback_attempts SET state = ?2, raw_status = ?3, duration_seconds = ?4,
             updated_at = ?5, ended_at = CASE WHEN ?6 THEN ?5 ELSE ended_at END
         WHERE id = ?1",
        params![
            a.id,
            update.state.as_str(),
            update.raw.chars().take(100).collect::<String>(),
            update.duration_seconds,
            now,
            update.state.is_final()
        ],
    )?;
    let a = attempt(w.conn, a.id)?;
    if !a.state.reached_customer_leg() {
        return Ok((a, None));
    }
    let outcome = match a.state {
        AttemptState::NoAnswer => Some(Outcome::NoAnswer),
        AttemptState::Busy => Some(Outcome::Busy),
        _ => None,
    };
    let row_id: i64 = w.conn.query_row(
        "SELECT call_row_id FROM callback_attempts WHERE id = ?1",
        [a.id],
        |r| r.get(0),
    )?;
    w.conn.execute(
        "UPDATE calls SET attempts = attempts + 1, last_outcome = COALESCE(?2, last_outcome),
             version = version + 1, updated_at = ?3
         WHERE id = ?1",
        params![row_id, outcome.map(Outcome::as_str), now],
    )?;
    let call = calls::by_row_id(w.conn, row_id)?;
    calls::announce(w, &call)?;
    Ok((a, Some(call)))
}

/// How long after a call back an outbound call to the same number is taken
/// as that call back.
const MATCH_WINDOW_MINUTES: i64 = 30;

/// Settles, from the department's own webhook, a call back placed through a
/// platform that reports no status of its own (Knowlarity, Dialpad,
/// Ozonetel): `call` is an outbound call that has ended (or was answered) to
/// the number of an open attempt placed in the last 30 minutes. Answered:
/// `connected` (the caller's missed calls are settled by the answered call
/// itself, see `resolve_reached`); otherwise no answer or busy, counted as an
/// attempt on the missed call.
pub(crate) fn settle_from_call(w: &mut Writer<'_>, call: &Call) -> Result<()> {
    use crate::Status;
    let outbound = call
        .direction
        .as_deref()
        .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("out"));
    let (Some(number), Some(status)) = (call.mobile_number.as_deref(), call.status) else {
        return Ok(());
    };
    if !outbound {
        return Ok(());
    }
    let raw = call.raw_status.clone().unwrap_or_default();
    let state = match status {
        Status::Active => AttemptState::Connected,
        Status::Completed if call.answered_at.is_some() => AttemptState::Connected,
        Status::Completed | Status::Missed | Status::Hangup => AttemptState::NoAnswer,
        Status::Failed if raw.to_ascii_lowercase().contains("busy") => AttemptState::Busy,
        Status::Failed => AttemptState::NoAnswer,
        Status::Waiting | Status::Ringing => return Ok(()),
    };
    let since = time::fmt(w.now - chrono::Duration::minutes(MATCH_WINDOW_MINUTES));
    let found: Option<(i64, i64)> = w
        .conn
        .prepare_cached(
            "SELECT id, call_row_id FROM callback_attempts
             WHERE department = ?1 AND customer = ?2 AND state IN ('requested', 'dialling')
               AND via IN ('knowlarity', 'dialpad', 'ozonetel') AND created_at >= ?3
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![call.department, number, since], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((id, row_id)) = found else {
        return Ok(());
    };
    let now = time::fmt(w.now);
    w.conn.execute(
        "UPDATE callback_attempts SET state = ?2, raw_status = ?3, duration_seconds = ?4,
             platform_ref = COALESCE(platform_ref, ?5), updated_at = ?6, ended_at = ?6
         WHERE id = ?1",
        params![
            id,
            state.as_str(),
            raw.chars().take(100).collect::<String>(),
            call.duration_seconds,
            call.call_id,
            now
        ],
    )?;
    if state == AttemptState::Connected {
        return Ok(());
    }
    let outcome = match state {
        AttemptState::Busy => Outcome::Busy,
        _ => Outcome::NoAnswer,
    };
    w.conn.execute(
        "UPDATE calls SET attempts = attempts + 1, last_outcome = ?2, version = version + 1, updated_at = ?3
         WHERE id = ?1 AND resolved_at IS NULL",
        params![row_id, outcome.as_str(), now],
    )?;
    let missed = calls::by_row_id(w.conn, row_id)?;
    calls::announce(w, &missed)
}
