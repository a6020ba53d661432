//! Calls: the rows the queues are made of, how an event merges into one, and
//! the work agents do on them (assignment, dispositions).

use super::audit::Actor;
use super::decode::At;
use super::search;
use super::Writer;
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::mapping::MappedCall;
use crate::status::Status;
use crate::time;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    /// Internal row id.
    pub id: i64,
    pub call_id: String,
    /// The provider's slug.
    pub department: String,
    pub mobile_number: Option<String>,
    pub caller_name: Option<String>,
    pub did: Option<String>,
    pub direction: Option<String>,
    /// Canonical status; null while the provider's raw status is unknown.
    pub status: Option<Status>,
    pub raw_status: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub started_at: Option<String>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_seconds: Option<i64>,
    pub recording_url: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub assigned_at: Option<String>,
    pub attempts: i64,
    pub last_outcome: Option<Outcome>,
    pub next_callback_at: Option<String>,
    pub resolved_at: Option<String>,
    /// When the call first became missed/hung up: the callback SLA clock starts here.
    pub worklist_since: Option<String>,
    /// When the callback SLA runs out, counting only the department's
    /// business hours (all hours when it has none).
    pub sla_due_at: Option<String>,
    /// When the breach scheduler found the SLA run out; null while it runs.
    #[serde(default)]
    pub sla_breached_at: Option<String>,
    /// Worklist view of a missed/hangup call: pending, assigned, attempted or resolved.
    pub work_state: Option<WorkState>,
    /// Newest event timestamp applied to this call.
    pub event_at: Option<String>,
    pub events_count: i64,
    /// Increments on every change; send it back as `expected_version` to detect conflicts.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub(crate) const CALL_COLS: &str = "c.id, c.call_id, c.department, c.mobile_number, c.caller_name, c.did, c.direction, c.status, c.raw_status, c.agent_id, c.agent_name, c.started_at, c.answered_at, c.ended_at, c.duration_seconds, c.recording_url, c.metadata, c.assignee_id, u.username, c.assigned_at, c.attempts, c.last_outcome, c.next_callback_at, c.resolved_at, c.worklist_since, c.sla_due_at, c.work_state, c.event_at, c.events_count, c.version, c.created_at, c.updated_at, c.sla_breached_at";

pub(crate) const CALL_FROM: &str = "calls c LEFT JOIN users u ON u.id = c.assignee_id";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Call> {
    let id: i64 = r.get(0)?;
    let at = At::new("calls", id);
    Ok(Call {
        id,
        call_id: r.get(1)?,
        department: r.get(2)?,
        mobile_number: r.get(3)?,
        caller_name: r.get(4)?,
        did: r.get(5)?,
        direction: r.get(6)?,
        status: at.wire_opt(r, 7, "status")?,
        raw_status: r.get(8)?,
        agent_id: r.get(9)?,
        agent_name: r.get(10)?,
        started_at: r.get(11)?,
        answered_at: r.get(12)?,
        ended_at: r.get(13)?,
        duration_seconds: r.get(14)?,
        recording_url: r.get(15)?,
        metadata: at.json(r, 16, "metadata")?,
        assignee_id: r.get(17)?,
        assignee_name: r.get(18)?,
        assigned_at: r.get(19)?,
        attempts: r.get(20)?,
        last_outcome: at.wire_opt(r, 21, "last_outcome")?,
        next_callback_at: r.get(22)?,
        resolved_at: r.get(23)?,
        worklist_since: r.get(24)?,
        sla_due_at: r.get(25)?,
        work_state: at.wire_opt(r, 26, "work_state")?,
        event_at: r.get(27)?,
        events_count: r.get(28)?,
        version: r.get(29)?,
        created_at: r.get(30)?,
        updated_at: r.get(31)?,
        sla_breached_at: r.get(32)?,
    })
}

pub(crate) fn by_row_id(conn: &Connection, id: i64) -> Result<Call> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CALL_COLS} FROM {CALL_FROM} WHERE c.id = ?1"
    ))?;
    stmt.query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("call not found"))
}

/// One call by its row id.
pub fn by_id(conn: &Connection, id: i64) -> Result<Call> {
    by_row_id(conn, id)
}

/// Finds a call by its provider call id. Ids are unique per department; a
/// collision across departments asks for the department.
pub fn find(conn: &Connection, call_id: &str, department: Option<&str>) -> Result<Call> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CALL_COLS} FROM {CALL_FROM} WHERE c.call_id = ?1 AND (?2 IS NULL OR c.department = ?2) LIMIT 2"
    ))?;
    let mut found = stmt
        .query_map(params![call_id, department], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match found.len() {
        0 => Err(Error::not_found(format!("no call `{call_id}`"))),
        1 => Ok(found.remove(0)),
        _ => Err(Error::Conflict(format!(
            "call id `{call_id}` exists in several departments: add ?department="
        ))),
    }
}

fn pick<T: Clone>(newer: bool, incoming: &Option<T>, current: &Option<T>) -> Option<T> {
    if newer {
        incoming.clone().or_else(|| current.clone())
    } else {
        current.clone().or_else(|| incoming.clone())
    }
}

/// Folds one mapped event into the call it belongs to. `event_at` orders
/// events: an older event only fills gaps, it never overwrites.
pub(crate) fn merge(
    existing: Option<&Call>,
    m: &MappedCall,
    event_at: &str,
    sla_minutes: i64,
    hours: Option<&crate::sla::BusinessHours>,
) -> Call {
    let base = existing.cloned().unwrap_or_default();
    let newer = existing
        .and_then(|c| c.event_at.as_deref())
        .is_none_or(|cur| event_at >= cur);
    let ts = |t: &Option<chrono::DateTime<chrono::Utc>>| t.map(time::fmt);

    let mut answered_at = pick(newer, &ts(&m.answered_at), &base.answered_at);
    // A platform that sends no answer time answered when it first said `active`.
    if answered_at.is_none() && m.status == Some(Status::Active) {
        answered_at = Some(event_at.to_string());
    }
    let answered = answered_at.is_some()
        || base.status == Some(Status::Active)
        || m.status == Some(Status::Active);
    let status = match m.status {
        Some(incoming) => Some(Status::advance(base.status, incoming, answered)),
        None => base.status,
    };
    let started_at = pick(newer, &ts(&m.started_at), &base.started_at);
    let ended_at = pick(newer, &ts(&m.ended_at), &base.ended_at);
    let mut duration = pick(newer, &m.duration_seconds, &base.duration_seconds);
    if duration.is_none() {
        if let (Some(a), Some(e)) = (
            answered_at.as_deref().and_then(time::parse),
            ended_at.as_deref().and_then(time::parse),
        ) {
            let secs = (e - a).num_seconds();
            if secs >= 0 {
                duration = Some(secs);
            }
        }
    }
    let mut metadata = match base.metadata {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (k, v) in &m.metadata {
        if newer || !metadata.contains_key(k) {
            metadata.insert(k.clone(), v.clone());
        }
    }
    let mut worklist_since = base.worklist_since.clone();
    let mut sla_due_at = base.sla_due_at.clone();
    if worklist_since.is_none() && status.is_some_and(Status::is_worklist) {
        worklist_since = Some(event_at.to_string());
        sla_due_at =
            time::parse(event_at).map(|t| time::fmt(crate::sla::deadline(t, sla_minutes, hours)));
    }
    Call {
        call_id: m.call_id.clone(),
        mobile_number: pick(newer, &m.mobile_number, &base.mobile_number),
        caller_name: pick(newer, &m.caller_name, &base.caller_name),
        did: pick(newer, &m.did, &base.did),
        direction: pick(newer, &m.direction, &base.direction),
        status,
        raw_status: pick(newer, &m.raw_status, &base.raw_status),
        agent_id: pick(newer, &m.agent_id, &base.agent_id),
        agent_name: pick(newer, &m.agent_name, &base.agent_name),
        started_at,
        answered_at,
        ended_at,
        duration_seconds: duration,
        recording_url: pick(newer, &m.recording_url, &base.recording_url),
        metadata: Value::Object(metadata),
        worklist_since,
        sla_due_at,
        event_at: Some(match &base.event_at {
            Some(cur) if cur.as_str() > event_at => cur.clone(),
            _ => event_at.to_string(),
        }),
        events_count: base.events_count + 1,
        ..base
    }
}

/// What [`upsert`] stored.
pub(crate) struct Upserted {
    pub call: Call,
    /// This event put the call on the worklist (routing may assign it).
    pub entered_worklist: bool,
    /// This event is the one that says the call was answered (talking, or
    /// completed): the caller got through, whichever way the call went.
    pub reached: bool,
}

/// Inserts or updates the call `m` describes, merged with what is stored.
/// Announcing it (and routing it first) is the intake workflow's:
/// `workflow::intake::record`.
pub(crate) fn upsert(
    w: &mut Writer<'_>,
    provider_id: i64,
    department: &str,
    m: &MappedCall,
    event_at: &str,
    sla_minutes: i64,
) -> Result<Upserted> {
    let existing = {
        let mut stmt = w.conn.prepare_cached(&format!(
            "SELECT {CALL_COLS} FROM {CALL_FROM} WHERE c.provider_id = ?1 AND c.call_id = ?2"
        ))?;
        stmt.query_row(params![provider_id, m.call_id], from_row)
            .optional()?
    };
    let runtime = w.providers.get(department);
    let hours = runtime.as_ref().and_then(|p| p.hours.clone());
    let merged = merge(
        existing.as_ref(),
        m,
        event_at,
        sla_minutes,
        hours.as_deref(),
    );
    let entered = merged.worklist_since.is_some()
        && existing.as_ref().is_none_or(|c| c.worklist_since.is_none());
    let answered = |s: Option<Status>| matches!(s, Some(Status::Active | Status::Completed));
    let reached = answered(merged.status) && !existing.as_ref().is_some_and(|c| answered(c.status));
    let now = time::fmt(w.now);
    let stored = match existing.as_ref() {
        Some(old) => update_changed(w, old, &merged, &now)?,
        None => insert_new(w, provider_id, department, &merged, &now)?,
    };
    // The row as stored, without reading it back: the database supplies only
    // what it computes (id, version, work_state, timestamps).
    let call = Call {
        id: stored.id,
        department: department.to_string(),
        version: stored.version,
        work_state: stored.work_state,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        ..merged
    };
    if entered {
        w.deadlines_changed();
    }
    Ok(Upserted {
        call,
        entered_worklist: entered,
        reached,
    })
}

/// The columns an event writes, in the order of [`event_values`]: all of
/// them for a new call, the changed ones for a stored call.
const EVENT_COLUMNS: [&str; 18] = [
    "mobile_number",
    "caller_name",
    "did",
    "direction",
    "status",
    "raw_status",
    "agent_id",
    "agent_name",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "recording_url",
    "metadata",
    "worklist_since",
    "sla_due_at",
    "event_at",
    "events_count",
];

/// Where `metadata` stands in [`EVENT_COLUMNS`]: compared as JSON values,
/// not as text.
const METADATA: usize = column("metadata");

/// The position of `name` in [`EVENT_COLUMNS`] (a build error if absent).
const fn column(name: &str) -> usize {
    let mut i = 0;
    while i < EVENT_COLUMNS.len() {
        // Column names are lower-case ASCII; `==` on `str` is not const.
        if EVENT_COLUMNS[i].eq_ignore_ascii_case(name) {
            return i;
        }
        i += 1;
    }
    panic!("not an event column")
}

/// `c`'s values of [`EVENT_COLUMNS`], with its metadata as `metadata`.
fn event_values<'a>(c: &'a Call, metadata: &'a str) -> [ToSqlOutput<'a>; 18] {
    let text = |v: &'a Option<String>| match v {
        Some(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        None => ToSqlOutput::Borrowed(ValueRef::Null),
    };
    let int = |v: Option<i64>| ToSqlOutput::Owned(v.map_or(SqlValue::Null, SqlValue::Integer));
    [
        text(&c.mobile_number),
        text(&c.caller_name),
        text(&c.did),
        text(&c.direction),
        match c.status {
            Some(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_str().as_bytes())),
            None => ToSqlOutput::Borrowed(ValueRef::Null),
        },
        text(&c.raw_status),
        text(&c.agent_id),
        text(&c.agent_name),
        text(&c.started_at),
        text(&c.answered_at),
        text(&c.ended_at),
        int(c.duration_seconds),
        text(&c.recording_url),
        ToSqlOutput::Borrowed(ValueRef::Text(metadata.as_bytes())),
        text(&c.worklist_since),
        text(&c.sla_due_at),
        text(&c.event_at),
        int(Some(c.events_count)),
    ]
}

/// Writes only the columns the event changed. An `UPDATE` rewrites the
/// entry of every index over a column it sets, whether or not the value
/// moved (and re-reads the metadata JSON for the lead index): setting all
/// of them, as an upsert does, rewrote most of the sixteen indexes on
/// `calls` for a new status.
fn update_changed(w: &Writer<'_>, old: &Call, new: &Call, now: &str) -> Result<Stored> {
    let metadata = serde_json::to_string(&new.metadata)?;
    let before = event_values(old, "");
    let mut sql = String::from("UPDATE calls SET ");
    let mut values: Vec<ToSqlOutput<'_>> = Vec::new();
    for (i, (after, before)) in event_values(new, &metadata)
        .into_iter()
        .zip(before)
        .enumerate()
    {
        let changed = if i == METADATA {
            old.metadata != new.metadata
        } else {
            after != before
        };
        if changed {
            values.push(after);
            sql.push_str(&format!("{} = ?{}, ", EVENT_COLUMNS[i], values.len()));
        }
    }
    let n = values.len();
    sql.push_str(&format!(
        "version = version + 1, updated_at = ?{} WHERE id = ?{}",
        n + 1,
        n + 2
    ));
    values.push(ToSqlOutput::Borrowed(ValueRef::Text(now.as_bytes())));
    values.push(ToSqlOutput::Owned(SqlValue::Integer(old.id)));
    w.conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    stored(w.conn, old.id)
}

/// What the database computed for a call just written. Read by its id rather
/// than with `RETURNING`, which SQLite serves through a temporary table of
/// its own (a pager, a page cache and their buffers) for every statement.
fn stored(conn: &Connection, id: i64) -> Result<Stored> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, version, work_state, created_at, updated_at FROM calls WHERE id = ?1",
    )?;
    Ok(stmt.query_row([id], stored_row)?)
}

/// The statement that inserts a new call: its keys, [`EVENT_COLUMNS`] and
/// its times.
static INSERT_CALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let marks: Vec<String> = (4..4 + EVENT_COLUMNS.len())
        .map(|i| format!("?{i}"))
        .collect();
    let now = 4 + EVENT_COLUMNS.len();
    format!(
        "INSERT INTO calls (provider_id, department, call_id, {}, created_at, updated_at)
         VALUES (?1, ?2, ?3, {}, ?{now}, ?{now})",
        EVENT_COLUMNS.join(", "),
        marks.join(", ")
    )
});

/// A call seen for the first time (the read before found no row, and only
/// the writer inserts calls).
fn insert_new(
    w: &Writer<'_>,
    provider_id: i64,
    department: &str,
    merged: &Call,
    now: &str,
) -> Result<Stored> {
    let metadata = serde_json::to_string(&merged.metadata)?;
    let keys = [
        ToSqlOutput::Owned(SqlValue::Integer(provider_id)),
        ToSqlOutput::Borrowed(ValueRef::Text(department.as_bytes())),
        ToSqlOutput::Borrowed(ValueRef::Text(merged.call_id.as_bytes())),
    ];
    let time = ToSqlOutput::Borrowed(ValueRef::Text(now.as_bytes()));
    let values = keys
        .into_iter()
        .chain(event_values(merged, &metadata))
        .chain([time]);
    w.conn
        .prepare_cached(&INSERT_CALL)?
        .execute(rusqlite::params_from_iter(values))?;
    stored(w.conn, w.conn.last_insert_rowid())
}

/// The calls of `department` still live on the board (waiting, ringing or
/// talking) whose ids start with `prefix` — an event stream's own calls —
/// with whether each was answered: what a stream that starts again checks
/// against the platform's snapshot, to end the calls that ended while it
/// was not following.
pub fn live_calls(
    conn: &Connection,
    department: &str,
    prefix: &str,
) -> Result<Vec<(String, bool)>> {
    // The ids after every one starting with `prefix` (ASCII prefixes).
    let mut upper = prefix.as_bytes().to_vec();
    if let Some(last) = upper.last_mut() {
        *last = last.saturating_add(1);
    }
    let upper = String::from_utf8(upper).map_err(|_| Error::invalid("prefix must be ASCII"))?;
    let mut stmt = conn.prepare_cached(
        "SELECT call_id, status = 'active' FROM calls
          WHERE status IN ('waiting', 'ringing', 'active') AND department = ?1
            AND call_id >= ?2 AND call_id < ?3",
    )?;
    let rows = stmt.query_map(params![department, prefix, upper], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A number's calls still on a department's worklist that entered it by a time.
const OPEN_FROM_NUMBER: &str = "SELECT id FROM calls
  WHERE work_state IN ('pending', 'assigned', 'attempted')
    AND department = ?1 AND mobile_number = ?2 AND id <> ?3 AND worklist_since <= ?4";

/// Who settles a call on its own: not a person.
pub const AUTO_ACTOR: &str = "callboard";
/// The category of a call settled because the caller was reached.
pub const REACHED_CATEGORY: &str = "Reached";

/// The missed and hung-up calls from `by`'s number in its department that
/// are still on the worklist, settled because `by` (answered, in or out)
/// reached that caller: each resolved with a disposition saying which call
/// did it, announced like a person's. Only calls that entered the worklist
/// before `by` began. Returns how many.
pub(crate) fn resolve_reached(w: &mut Writer<'_>, by: &Call) -> Result<usize> {
    // A withheld or truncated number ("anonymous", "+91") is nobody in particular.
    let Some(number) = by
        .mobile_number
        .as_deref()
        .filter(|n| n.chars().filter(char::is_ascii_digit).count() >= 7)
    else {
        return Ok(0);
    };
    let began = by
        .started_at
        .clone()
        .or_else(|| by.event_at.clone())
        .unwrap_or_else(|| time::fmt(w.now));
    let ids = {
        // One seek per open view on `calls_work_number` (work_state, department, number).
        let mut stmt = w.conn.prepare_cached(OPEN_FROM_NUMBER)?;
        let ids = stmt
            .query_map(params![by.department, number, by.id, began], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    let outbound = by
        .direction
        .as_deref()
        .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("out"));
    let note = if outbound {
        format!("Called back on call {} and answered.", by.call_id)
    } else {
        format!(
            "The caller called again (call {}) and was answered.",
            by.call_id
        )
    };
    let now = time::fmt(w.now);
    for id in &ids {
        w.conn.execute(
            "INSERT INTO dispositions (call_row_id, user_id, actor, category_id, category, sub_category, notes, outcome, next_callback_at, created_at)
             VALUES (?1, NULL, ?2, NULL, ?3, NULL, ?4, 'resolved', NULL, ?5)",
            params![id, AUTO_ACTOR, REACHED_CATEGORY, note, now],
        )?;
        let disposition_id = w.conn.last_insert_rowid();
        // A dial-back is an attempt; the caller's own call is not one of ours.
        w.conn.execute(
            "UPDATE calls SET attempts = attempts + ?2, last_outcome = 'resolved',
                 next_callback_at = NULL, resolved_at = ?3, version = version + 1, updated_at = ?3
             WHERE id = ?1",
            params![id, i64::from(outbound), now],
        )?;
        let call = by_row_id(w.conn, *id)?;
        let disposition = Disposition {
            id: disposition_id,
            call_id: call.call_id.clone(),
            department: call.department.clone(),
            user_id: None,
            actor: AUTO_ACTOR.into(),
            category: REACHED_CATEGORY.into(),
            sub_category: None,
            notes: Some(note.clone()),
            outcome: Outcome::Resolved,
            next_callback_at: None,
            created_at: now.clone(),
        };
        announce_disposition(w, disposition, call)?;
    }
    Ok(ids.len())
}

/// `disposition.saved` for a call as it now stands, then the call itself.
fn announce_disposition(w: &mut Writer<'_>, disposition: Disposition, call: Call) -> Result<Call> {
    let data = serde_json::to_string(&serde_json::json!({
        "call_id": call.call_id,
        "department": call.department,
        "disposition": disposition,
        "call": call,
    }))?;
    w.emit(
        crate::hub::EventKind::DispositionSaved,
        Some(&call.department),
        Audience::All,
        data,
    )?;
    announce(w, &call)?;
    Ok(call)
}

/// Tells the stream the call as it now stands.
pub(crate) fn announce(w: &mut Writer<'_>, call: &Call) -> Result<()> {
    let data = serde_json::to_string(call)?;
    w.emit(
        crate::hub::EventKind::CallUpserted,
        Some(&call.department),
        Audience::All,
        data,
    )?;
    Ok(())
}

struct Stored {
    id: i64,
    version: i64,
    work_state: Option<WorkState>,
    created_at: String,
    updated_at: String,
}

fn stored_row(r: &Row<'_>) -> rusqlite::Result<Stored> {
    let id: i64 = r.get(0)?;
    Ok(Stored {
        id,
        version: r.get(1)?,
        work_state: At::new("calls", id).wire_opt(r, 2, "work_state")?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// Re-reads the call and puts it on the event stream.
pub(crate) fn reannounce(w: &mut Writer<'_>, row_id: i64) -> Result<Call> {
    let call = by_row_id(w.conn, row_id)?;
    announce(w, &call)?;
    Ok(call)
}

// ---------------------------------------------------------------- queries

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkState {
    Pending,
    Assigned,
    Attempted,
    Resolved,
}

impl WorkState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkState::Pending => "pending",
            WorkState::Assigned => "assigned",
            WorkState::Attempted => "attempted",
            WorkState::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AssigneeFilter {
    None,
    User(i64),
}

#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    /// `None`: every department. `Some(empty)`: none (an agent with no departments).
    pub departments: Option<Vec<String>>,
    pub statuses: Vec<Status>,
    pub text: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `from`/`to` compare with when the call was offered (`metrics::OFFERED_AT`:
    /// the platform's start time, else creation) instead of its creation.
    pub by_offered: bool,
    pub assignee: Option<AssigneeFilter>,
    pub view: Option<WorkState>,
    /// The platform's agent: part of its agent id or name, case-insensitive.
    pub agent: Option<String>,
    /// The last disposition's outcome.
    pub outcome: Option<Outcome>,
    /// The caller's number, exactly as stored.
    pub number: Option<String>,
    pub sort: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub const SORTABLE: [&str; 13] = [
    "created_at",
    "updated_at",
    "started_at",
    "event_at",
    "status",
    "department",
    "mobile_number",
    "duration_seconds",
    "attempts",
    "sla_due_at",
    "worklist_since",
    "next_callback_at",
    "resolved_at",
];

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn time_column(q: &CallQuery) -> &'static str {
    if q.by_offered {
        super::metrics::OFFERED_AT
    } else {
        "c.created_at"
    }
}

/// The `WHERE` clause (empty or starting with a space) and its arguments for
/// the filters of `q`: the one definition shared by the list and the export.
fn filter_sql(q: &CallQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let bind = |args: &mut Vec<rusqlite::types::Value>, v: rusqlite::types::Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    // With a search through the index, its hits are the rows to read: the
    // other filters' indexes are kept out of the planner's choice (a unary
    // `+`), or it may walk a department's rows to spare itself a sort.
    let by_index = q
        .text
        .as_deref()
        .is_some_and(|t| search::phrase(t.trim()).is_some());
    let plus = if by_index { "+" } else { "" };
    if let Some(deps) = &q.departments {
        if deps.is_empty() {
            clauses.push("0".into());
        } else {
            let ph: Vec<String> = deps
                .iter()
                .map(|d| bind(&mut args, d.clone().into()))
                .collect();
            clauses.push(format!("{plus}c.department IN ({})", ph.join(", ")));
        }
    }
    if !q.statuses.is_empty() {
        let ph: Vec<String> = q
            .statuses
            .iter()
            .map(|s| bind(&mut args, s.as_str().to_string().into()))
            .collect();
        clauses.push(format!("{plus}c.status IN ({})", ph.join(", ")));
    }
    if let Some(view) = q.view {
        let p = bind(&mut args, view.as_str().to_string().into());
        clauses.push(format!("{plus}c.work_state = {p}"));
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let from = bind(&mut args, text.to_string().into());
        let until = bind(&mut args, search::prefix_end(text).into());
        let by_id = format!("SELECT id FROM calls WHERE call_id >= {from} AND call_id < {until}");
        match search::phrase(text) {
            // One IN over both lookups keeps it a set of row ids, which the
            // planner reads by id (an OR of the two would scan instead).
            Some(phrase) => {
                let m = bind(&mut args, phrase.into());
                clauses.push(format!(
                    "c.id IN (SELECT rowid FROM calls_search WHERE calls_search MATCH {m} UNION {by_id})"
                ));
            }
            // Too short for trigrams: the departments' rows are read.
            None => {
                let p = bind(&mut args, format!("%{}%", escape_like(text)).into());
                clauses.push(format!(
                    "(c.mobile_number LIKE {p} ESCAPE '\\' OR c.caller_name LIKE {p} ESCAPE '\\' OR c.id IN ({by_id}))"
                ));
            }
        }
    }
    if let Some(from) = &q.from {
        let p = bind(&mut args, from.clone().into());
        clauses.push(format!("{plus}{} >= {p}", time_column(q)));
    }
    if let Some(to) = &q.to {
        let p = bind(&mut args, to.clone().into());
        clauses.push(format!("{plus}{} < {p}", time_column(q)));
    }
    if let Some(agent) = q.agent.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let p = bind(&mut args, format!("%{}%", escape_like(agent)).into());
        clauses.push(format!(
            "(c.agent_id LIKE {p} ESCAPE '\\' OR c.agent_name LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(outcome) = q.outcome {
        let p = bind(&mut args, outcome.as_str().to_string().into());
        clauses.push(format!("{plus}c.last_outcome = {p}"));
    }
    if let Some(number) = q.number.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let p = bind(&mut args, number.to_string().into());
        clauses.push(format!("{plus}c.mobile_number = {p}"));
    }
    match &q.assignee {
        Some(AssigneeFilter::None) => clauses.push(format!("{plus}c.assignee_id IS NULL")),
        Some(AssigneeFilter::User(id)) => {
            let p = bind(&mut args, (*id).into());
            clauses.push(format!("{plus}c.assignee_id = {p}"));
        }
        None => {}
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (where_sql, args)
}

/// Sortable columns that are never NULL: ordered by the column alone.
const NOT_NULL: [&str; 4] = ["created_at", "updated_at", "department", "attempts"];

/// Where a page of `list` ends: the sort it belongs to, the sort column's
/// value in its last row and that row's id. Sent to clients as an opaque
/// string (`encode`); the next page starts strictly after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "v")]
    pub value: Value,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Result<Cursor> {
        hex::decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
            .filter(|c| matches!(c.value, Value::Null | Value::String(_) | Value::Number(_)))
            .ok_or_else(|| Error::invalid("`cursor` is not one this server gave out"))
    }
}

fn sql_value(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::String(s) => s.clone().into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or(0.0).into(),
        },
        _ => rusqlite::types::Value::Null,
    }
}

fn json_value(v: rusqlite::types::Value) -> Value {
    match v {
        rusqlite::types::Value::Text(s) => Value::String(s),
        rusqlite::types::Value::Integer(i) => Value::from(i),
        rusqlite::types::Value::Real(f) => Value::from(f),
        _ => Value::Null,
    }
}

/// One page of `list`.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<Call>,
    /// Calls matching the filters, across all pages.
    pub total: i64,
    /// Where the next page starts; None on the last page.
    pub next: Option<Cursor>,
}

/// `clauses` joined after `where_sql` (which is empty or ` WHERE …`).
fn and(where_sql: &str, clauses: &[String]) -> String {
    if clauses.is_empty() {
        return where_sql.to_string();
    }
    let extra = clauses.join(" AND ");
    if where_sql.is_empty() {
        format!(" WHERE {extra}")
    } else {
        format!("{where_sql} AND {extra}")
    }
}

/// A page's `SELECT`: the calls, then the sort column (for the cursor).
fn page_sql(
    where_sql: &str,
    clauses: &[String],
    field: &str,
    order: &str,
    limit: i64,
    offset: i64,
) -> String {
    format!(
        "SELECT {CALL_COLS}, c.{field} FROM {CALL_FROM}{} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        and(where_sql, clauses)
    )
}

pub fn list(conn: &Connection, q: &CallQuery) -> Result<(Vec<Call>, i64)> {
    let page = list_page(conn, q, None)?;
    Ok((page.rows, page.total))
}

/// Calls matching a `filter_sql` clause, across all pages.
fn count(conn: &Connection, where_sql: &str, args: &[rusqlite::types::Value]) -> Result<i64> {
    Ok(conn.query_row(
        &format!("SELECT COUNT(*) FROM calls c{where_sql}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?)
}

/// The total of a worklist list whose only filters are departments,
/// worklist statuses and a view, from the counts the calls' triggers keep
/// per department, view and status (`worklist_counts`, v7): a department's
/// resolved view holds a year of calls (37k at 5M calls), and counting them
/// row by row was most of the view's time. None: count the rows.
fn counted_total(conn: &Connection, q: &CallQuery) -> Result<Option<i64>> {
    // Every field named: a new filter must decide whether it fits here.
    let CallQuery {
        departments,
        statuses,
        text,
        from,
        to,
        by_offered: _,
        assignee,
        view,
        agent,
        outcome,
        number,
        sort: _,
        limit: _,
        offset: _,
    } = q;
    let blank = |t: &Option<String>| t.as_deref().is_none_or(|t| t.trim().is_empty());
    let only_worklist =
        !statuses.is_empty() && statuses.iter().all(|s| Status::WORKLIST.contains(s));
    if !only_worklist
        || !blank(text)
        || !blank(agent)
        || !blank(number)
        || from.is_some()
        || to.is_some()
        || assignee.is_some()
        || outcome.is_some()
    {
        return Ok(None);
    }
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut bind = |v: String| {
        args.push(v.into());
        format!("?{}", args.len())
    };
    let ph: Vec<String> = statuses
        .iter()
        .map(|s| bind(s.as_str().to_string()))
        .collect();
    let mut sql = format!(
        "SELECT COALESCE(SUM(n), 0) FROM worklist_counts WHERE status IN ({})",
        ph.join(", ")
    );
    // Every missed or hung-up call is in exactly one view (v1's `work_state`).
    if let Some(view) = view {
        sql.push_str(&format!(
            " AND work_state = {}",
            bind(view.as_str().to_string())
        ));
    }
    if let Some(deps) = departments {
        if deps.is_empty() {
            return Ok(Some(0));
        }
        let ph: Vec<String> = deps.iter().map(|d| bind(d.clone())).collect();
        sql.push_str(&format!(" AND department IN ({})", ph.join(", ")));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(Some(stmt.query_row(
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?))
}

/// Calls matching `q` across all pages (`where_sql` and `args` its filters).
fn total(
    conn: &Connection,
    q: &CallQuery,
    where_sql: &str,
    args: &[rusqlite::types::Value],
) -> Result<i64> {
    match counted_total(conn, q)? {
        Some(n) => Ok(n),
        None => count(conn, where_sql, args),
    }
}

/// A page in the live queue's wait order (see `queue_order`). The order is
/// an expression, not a column, so it pages by offset; the cursor carries
/// the next offset, which keeps `next_cursor` working for clients.
fn wait_page(
    conn: &Connection,
    q: &CallQuery,
    cursor: Option<&Cursor>,
    order: &str,
) -> Result<Page> {
    let sort = q.sort.clone().unwrap_or_else(|| "wait".to_string());
    let offset = match cursor {
        Some(c) if c.sort != sort => {
            return Err(Error::invalid(format!(
                "`cursor` belongs to the sort `{}`, not `{sort}`",
                c.sort
            )))
        }
        Some(c) => c
            .value
            .as_i64()
            .filter(|n| *n >= 0)
            .ok_or_else(|| Error::invalid("`cursor` is not one this server gave out"))?,
        None => q.offset.max(0),
    };
    let (where_sql, args) = filter_sql(q);
    let total = total(conn, q, &where_sql, &args)?;
    let limit = q.limit.clamp(1, 1000);
    let sql = format!(
        "SELECT {CALL_COLS} FROM {CALL_FROM}{where_sql} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next =
        (offset + (rows.len() as i64) < total && rows.len() as i64 == limit).then(|| Cursor {
            sort,
            value: Value::from(offset + limit),
            id: 0,
        });
    Ok(Page { rows, total, next })
}

/// The calls matching `q` in its sort, `q.limit` of them after `q.offset`
/// rows, or after `cursor` (then the offset is not used): keyset pagination,
/// so every page costs what the first does. Rows whose sort column is NULL
/// come last in either direction, by id.
///
/// Each order is one walk of an index where one fits the filters (the
/// worklist views of a department, a status of a department, a department):
/// the rows with a value are read in the column's order, then (only when the
/// page is not full) those without one, in id order.
pub fn list_page(conn: &Connection, q: &CallQuery, cursor: Option<&Cursor>) -> Result<Page> {
    if let Some(order) = super::queue_order::order_by(q.sort.as_deref(), !q.statuses.is_empty()) {
        return wait_page(conn, q, cursor, &order);
    }
    let (where_sql, args) = filter_sql(q);
    let sort = q.sort.clone().unwrap_or_else(|| "-created_at".to_string());
    let (field, desc) = match sort.strip_prefix('-') {
        Some(f) => (f, true),
        None => (sort.as_str(), false),
    };
    if !SORTABLE.contains(&field) {
        return Err(Error::invalid(format!(
            "cannot sort by `{field}`: use one of {}, wait",
            SORTABLE.join(", ")
        )));
    }
    if let Some(c) = cursor {
        if c.sort != sort {
            return Err(Error::invalid(format!(
                "`cursor` belongs to the sort `{}`, not `{sort}`",
                c.sort
            )));
        }
    }
    let nullable = !NOT_NULL.contains(&field);
    let (dir, op) = if desc { ("DESC", "<") } else { ("ASC", ">") };
    let limit = q.limit.clamp(1, 1000);
    let offset = if cursor.is_some() { 0 } else { q.offset.max(0) };
    let total = total(conn, q, &where_sql, &args)?;
    let read = |clauses: &[String],
                extra: Vec<rusqlite::types::Value>,
                order: &str,
                limit: i64,
                offset: i64|
     -> Result<Vec<(Call, rusqlite::types::Value)>> {
        let mut all = args.clone();
        let base = all.len();
        all.extend(extra);
        let clauses: Vec<String> = clauses
            .iter()
            .map(|c| {
                // ?A, ?B: the extra arguments, numbered after the filters'.
                c.replace("?A", &format!("?{}", base + 1))
                    .replace("?B", &format!("?{}", base + 2))
            })
            .collect();
        let sql = page_sql(&where_sql, &clauses, field, order, limit, offset);
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(all.iter()), |r| {
                Ok((from_row(r)?, r.get::<_, rusqlite::types::Value>(33)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    };
    let mut rows = Vec::new();
    // The rows with a value, unless the cursor is already past them.
    let in_nulls = cursor.is_some_and(|c| c.value.is_null());
    if in_nulls && !nullable {
        return Err(Error::invalid("`cursor` is not one this server gave out"));
    }
    if !in_nulls {
        let mut clauses = Vec::new();
        let mut extra = Vec::new();
        if nullable {
            clauses.push(format!("c.{field} IS NOT NULL"));
        }
        if let Some(c) = cursor {
            clauses.push(format!("(c.{field}, c.id) {op} (?A, ?B)"));
            extra = vec![sql_value(&c.value), c.id.into()];
        }
        rows = read(
            &clauses,
            extra,
            &format!("c.{field} {dir}, c.id {dir}"),
            limit,
            offset,
        )?;
    }
    let short = (rows.len() as i64) < limit;
    if nullable && short {
        // Rows to skip among those without a value: the offset less the rows with one.
        let skip = if rows.is_empty() && offset > 0 {
            let with_value: i64 = conn.query_row(
                &format!(
                    "SELECT COUNT(*) FROM calls c{}",
                    and(&where_sql, &[format!("c.{field} IS NOT NULL")])
                ),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            (offset - with_value).max(0)
        } else {
            0
        };
        let mut clauses = vec![format!("c.{field} IS NULL")];
        let mut extra = Vec::new();
        if let Some(c) = cursor.filter(|c| c.value.is_null()) {
            clauses.push(format!("c.id {op} ?A"));
            extra.push(c.id.into());
        }
        let more = read(
            &clauses,
            extra,
            &format!("c.id {dir}"),
            limit - rows.len() as i64,
            skip,
        )?;
        rows.extend(more);
    }
    let next = match rows.last() {
        Some((call, value)) if rows.len() as i64 == limit => Some(Cursor {
            sort: sort.clone(),
            value: json_value(value.clone()),
            id: call.id,
        }),
        _ => None,
    };
    Ok(Page {
        rows: rows.into_iter().map(|(c, _)| c).collect(),
        total,
        next,
    })
}

/// The statement of a keyset page: the calls matching `q` with a row id
/// above `after`, in row-id order, at most `limit`.
fn keyset_page_sql(q: &CallQuery, after: i64, limit: i64) -> (String, Vec<rusqlite::types::Value>) {
    let (where_sql, mut args) = filter_sql(q);
    args.push(after.into());
    let keyset = format!("c.id > ?{}", args.len());
    let where_sql = if where_sql.is_empty() {
        format!(" WHERE {keyset}")
    } else {
        format!("{where_sql} AND {keyset}")
    };
    let sql = format!(
        "SELECT {CALL_COLS} FROM {CALL_FROM}{where_sql} ORDER BY c.id LIMIT {}",
        limit.clamp(1, 100_000)
    );
    (sql, args)
}

/// One page of the calls matching `q` (its sort, limit and offset ignored)
/// with a row id above `after`, in row-id order: keyset pagination, so an
/// export of any size reads one page at a time and each page costs the same.
pub fn page_after(conn: &Connection, q: &CallQuery, after: i64, limit: i64) -> Result<Vec<Call>> {
    let (sql, args) = keyset_page_sql(q, after, limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A call as an export reads it: every column borrowed from the row as
/// stored (the metadata as its JSON text, the states as their stored words),
/// so a page of a million-row export allocates nothing per call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallRow<'a> {
    pub id: i64,
    pub call_id: &'a str,
    pub department: &'a str,
    pub mobile_number: Option<&'a str>,
    pub caller_name: Option<&'a str>,
    pub did: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub status: Option<&'a str>,
    pub raw_status: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub agent_name: Option<&'a str>,
    pub started_at: Option<&'a str>,
    pub answered_at: Option<&'a str>,
    pub ended_at: Option<&'a str>,
    pub duration_seconds: Option<i64>,
    pub recording_url: Option<&'a str>,
    pub metadata: &'a str,
    pub assignee_name: Option<&'a str>,
    pub assigned_at: Option<&'a str>,
    pub attempts: i64,
    pub last_outcome: Option<&'a str>,
    pub next_callback_at: Option<&'a str>,
    pub resolved_at: Option<&'a str>,
    pub worklist_since: Option<&'a str>,
    pub sla_due_at: Option<&'a str>,
    pub work_state: Option<&'a str>,
    pub created_at: &'a str,
    pub updated_at: &'a str,
}

fn text_ref<'a>(r: &'a Row<'_>, idx: usize) -> rusqlite::Result<Option<&'a str>> {
    match r.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        v => v.as_str().map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, v.data_type(), Box::new(e))
        }),
    }
}

fn required_ref<'a>(r: &'a Row<'_>, idx: usize) -> rusqlite::Result<&'a str> {
    text_ref(r, idx)?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "NULL".into(),
        rusqlite::types::Type::Null,
    ))
}

fn call_row<'a>(r: &'a Row<'_>) -> rusqlite::Result<CallRow<'a>> {
    // The columns of CALL_COLS, by position.
    Ok(CallRow {
        id: r.get(0)?,
        call_id: required_ref(r, 1)?,
        department: required_ref(r, 2)?,
        mobile_number: text_ref(r, 3)?,
        caller_name: text_ref(r, 4)?,
        did: text_ref(r, 5)?,
        direction: text_ref(r, 6)?,
        status: text_ref(r, 7)?,
        raw_status: text_ref(r, 8)?,
        agent_id: text_ref(r, 9)?,
        agent_name: text_ref(r, 10)?,
        started_at: text_ref(r, 11)?,
        answered_at: text_ref(r, 12)?,
        ended_at: text_ref(r, 13)?,
        duration_seconds: r.get(14)?,
        recording_url: text_ref(r, 15)?,
        metadata: required_ref(r, 16)?,
        assignee_name: text_ref(r, 18)?,
        assigned_at: text_ref(r, 19)?,
        attempts: r.get(20)?,
        last_outcome: text_ref(r, 21)?,
        next_callback_at: text_ref(r, 22)?,
        resolved_at: text_ref(r, 23)?,
        worklist_since: text_ref(r, 24)?,
        sla_due_at: text_ref(r, 25)?,
        work_state: text_ref(r, 26)?,
        created_at: required_ref(r, 30)?,
        updated_at: required_ref(r, 31)?,
    })
}

/// [`page_after`] for an export: each call of the page handed to `f` as it
/// is read, borrowed from the row ([`CallRow`]), none kept. Returns the last
/// row id and how many calls were read (`None, 0`: no call after `after`).
pub fn for_each_after(
    conn: &Connection,
    q: &CallQuery,
    after: i64,
    limit: i64,
    mut f: impl FnMut(&CallRow<'_>) -> Result<()>,
) -> Result<(Option<i64>, u64)> {
    let (sql, args) = keyset_page_sql(q, after, limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    let (mut last, mut n) = (None, 0u64);
    while let Some(r) = rows.next()? {
        let c = call_row(r)?;
        last = Some(c.id);
        n += 1;
        f(&c)?;
    }
    Ok((last, n))
}

// ------------------------------------------------------------ dispositions

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The caller's need was met: the call leaves the worklist.
    Resolved,
    /// A callback is scheduled (`next_callback_at` required).
    Callback,
    NoAnswer,
    Busy,
    Voicemail,
    /// Closes the call.
    WrongNumber,
    /// Closes the call.
    DoNotCall,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Callback => "callback",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Voicemail => "voicemail",
            Outcome::WrongNumber => "wrong_number",
            Outcome::DoNotCall => "do_not_call",
        }
    }
    pub fn closes(self) -> bool {
        matches!(
            self,
            Outcome::Resolved | Outcome::WrongNumber | Outcome::DoNotCall
        )
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisposition {
    /// Category name, one of the department's categories (or a global one).
    pub category: String,
    pub sub_category: Option<String>,
    pub notes: Option<String>,
    pub outcome: Outcome,
    /// RFC 3339; required when `outcome` is `callback`.
    pub next_callback_at: Option<String>,
    /// The call's `version` the person saw; a newer one answers 409.
    pub expected_version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Disposition {
    pub id: i64,
    pub call_id: String,
    pub department: String,
    pub user_id: Option<i64>,
    pub actor: String,
    pub category: String,
    pub sub_category: Option<String>,
    pub notes: Option<String>,
    pub outcome: Outcome,
    pub next_callback_at: Option<String>,
    pub created_at: String,
}

fn check_version(call: &Call, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != call.version => Err(Error::Conflict(format!(
            "the call changed since you loaded it (version {v}, now {}): reload and try again",
            call.version
        ))),
        _ => Ok(()),
    }
}

pub fn dispose(
    w: &mut Writer<'_>,
    call_row_id: i64,
    input: NewDisposition,
    actor: &Actor,
) -> Result<(Disposition, Call)> {
    let call = by_row_id(w.conn, call_row_id)?;
    check_version(&call, input.expected_version)?;
    let category = super::categories::resolve(w.conn, &call.department, &input.category)?;
    let sub = input
        .sub_category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(s) = &sub {
        if !category.sub_categories.is_empty()
            && !category
                .sub_categories
                .iter()
                .any(|c| c.eq_ignore_ascii_case(s))
        {
            return Err(Error::invalid(format!(
                "sub_category `{s}` is not one of {:?} for category `{}`",
                category.sub_categories, category.name
            )));
        }
    }
    let notes = input
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if notes.is_some_and(|n| n.chars().count() > 4000) {
        return Err(Error::invalid("notes must be at most 4000 characters"));
    }
    let next = match (&input.outcome, input.next_callback_at.as_deref()) {
        (Outcome::Callback, None) => {
            return Err(Error::invalid(
                "next_callback_at is required when outcome is `callback`",
            ))
        }
        (_, Some(s)) => {
            let t = time::parse(s).ok_or_else(|| {
                Error::invalid(format!(
                    "next_callback_at `{s}` is not an RFC 3339 timestamp"
                ))
            })?;
            if t <= w.now {
                return Err(Error::invalid("next_callback_at must be in the future"));
            }
            Some(time::fmt(t))
        }
        (_, None) => None,
    };
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO dispositions (call_row_id, user_id, actor, category_id, category, sub_category, notes, outcome, next_callback_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            call.id,
            actor.user_id,
            actor.name,
            category.id,
            category.name,
            sub,
            notes,
            input.outcome.as_str(),
            next,
            now
        ],
    )?;
    let disp_id = w.conn.last_insert_rowid();
    let resolved_at = if input.outcome.closes() {
        Some(now.clone())
    } else {
        None
    };
    w.conn.execute(
        "UPDATE calls SET attempts = attempts + 1, last_outcome = ?2, next_callback_at = ?3,
             resolved_at = COALESCE(?4, resolved_at),
             assignee_id = COALESCE(assignee_id, ?5),
             assigned_at = CASE WHEN assignee_id IS NULL AND ?5 IS NOT NULL THEN ?6 ELSE assigned_at END,
             version = version + 1, updated_at = ?6
         WHERE id = ?1",
        params![call.id, input.outcome.as_str(), next, resolved_at, actor.user_id, now],
    )?;
    let disposition = Disposition {
        id: disp_id,
        call_id: call.call_id.clone(),
        department: call.department.clone(),
        user_id: actor.user_id,
        actor: actor.name.clone(),
        category: category.name,
        sub_category: sub,
        notes: notes.map(str::to_string),
        outcome: input.outcome,
        next_callback_at: next,
        created_at: now,
    };
    let updated = by_row_id(w.conn, call.id)?;
    let updated = announce_disposition(w, disposition.clone(), updated)?;
    Ok((disposition, updated))
}

pub fn dispositions(conn: &Connection, call_row_id: i64) -> Result<Vec<Disposition>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, c.call_id, c.department, d.user_id, d.actor, d.category, d.sub_category, d.notes,
                d.outcome, d.next_callback_at, d.created_at
         FROM dispositions d JOIN calls c ON c.id = d.call_row_id
         WHERE d.call_row_id = ?1 ORDER BY d.id",
    )?;
    let rows = stmt.query_map([call_row_id], |r| {
        let id: i64 = r.get(0)?;
        Ok(Disposition {
            id,
            call_id: r.get(1)?,
            department: r.get(2)?,
            user_id: r.get(3)?,
            actor: r.get(4)?,
            category: r.get(5)?,
            sub_category: r.get(6)?,
            notes: r.get(7)?,
            // An outcome this build does not know is an error naming the
            // row: read as "no answer" it would reopen callbacks.
            outcome: At::new("dispositions", id).wire(r, 8, "outcome")?,
            next_callback_at: r.get(9)?,
            created_at: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Assigns the call to `assignee` (None: unassigns).
pub fn assign(
    w: &mut Writer<'_>,
    call_row_id: i64,
    assignee: Option<i64>,
    expected_version: Option<i64>,
) -> Result<Call> {
    let call = by_row_id(w.conn, call_row_id)?;
    check_version(&call, expected_version)?;
    if let Some(uid) = assignee {
        let user = super::users::get(w.conn, uid)?;
        if !user.active {
            return Err(Error::invalid(format!(
                "user `{}` is deactivated",
                user.username
            )));
        }
        if !user.can_see(&call.department) {
            return Err(Error::invalid(format!(
                "user `{}` does not work in department `{}`",
                user.username, call.department
            )));
        }
    }
    let now = time::fmt(w.now);
    w.conn.execute(
        "UPDATE calls SET assignee_id = ?2, assigned_at = CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END,
             version = version + 1, updated_at = ?3 WHERE id = ?1",
        params![call.id, assignee, now],
    )?;
    reannounce(w, call.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn mapped(status: Option<Status>) -> MappedCall {
        MappedCall {
            call_id: "c1".into(),
            status,
            raw_status: status.map(|s| s.to_string()),
            ..Default::default()
        }
    }

    /// An outcome this build does not know is an error naming the row: read
    /// as "no answer" it would put a resolved call back on the callback list.
    #[tokio::test]
    async fn an_unknown_disposition_outcome_names_its_row() {
        use crate::store::providers::{self, NewProvider};
        let (_dir, store) = crate::store::test_support::temp_store();
        let err = store
            .write(|w| {
                let actor = Actor { user_id: None, name: "t".into() };
                providers::create(w, NewProvider { name: "Sales".into(), ..Default::default() }, &actor)?;
                w.conn.execute(
                    "INSERT INTO calls (provider_id, department, call_id, status, created_at, updated_at)
                     VALUES (1, 'sales', 'c1', 'missed', 't', 't')",
                    [],
                )?;
                let call = w.conn.last_insert_rowid();
                w.conn.execute(
                    "INSERT INTO dispositions (call_row_id, actor, category, outcome, created_at)
                     VALUES (?1, 'ann', 'Support', 'maybe_later', 't')",
                    [call],
                )?;
                let d = w.conn.last_insert_rowid();
                Ok((d, dispositions(w.conn, call).map(|_| ()).map_err(|e| e.to_string())))
            })
            .await
            .unwrap();
        let (id, read) = err;
        let e = read.expect_err("an unknown outcome");
        assert!(
            e.contains(&format!("dispositions row {id}, column outcome")),
            "{e}"
        );
    }

    /// A call's later events write only what they change: whatever each
    /// one changes, the row as stored is the call the event was merged into.
    #[tokio::test]
    async fn every_field_an_event_changes_is_stored() {
        let (_dir, store) = crate::store::test_support::temp_store();
        let t = |s: u32| Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, s).unwrap());
        let mut events: Vec<MappedCall> = Vec::new();
        let mut e = mapped(Some(Status::Waiting));
        e.mobile_number = Some("+911".into());
        events.push(e.clone());
        let steps: Vec<fn(&mut MappedCall)> = vec![
            |e| e.mobile_number = Some("+912".into()),
            |e| e.caller_name = Some("Asha".into()),
            |e| e.did = Some("1800".into()),
            |e| e.direction = Some("inbound".into()),
            |e| e.raw_status = Some("queued-2".into()),
            |e| e.agent_id = Some("a7".into()),
            |e| e.agent_name = Some("Ravi".into()),
            |e| e.recording_url = Some("https://rec.example/1".into()),
            |e| {
                e.metadata.insert("queue".into(), Value::from("sales"));
            },
            |e| e.status = Some(Status::Ringing),
            |e| e.status = Some(Status::Missed),
            |e| e.ended_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 1, 0).unwrap()),
            |e| e.duration_seconds = Some(42),
        ];
        for step in steps {
            step(&mut e);
            events.push(e.clone());
        }
        let mut answered = mapped(Some(Status::Active));
        answered.started_at = t(1);
        answered.answered_at = t(2);
        events.push(answered);
        let checked = store
            .write(move |w| {
                crate::store::test_support::create_department(w, "Sales")?;
                for (i, m) in events.iter().enumerate() {
                    let at = format!("2026-01-01T10:00:{:02}.000Z", 10 + i);
                    let up = upsert(w, 1, "sales", m, &at, 30)?;
                    let stored = by_row_id(w.conn, up.call.id)?;
                    let wire = |c: &Call| {
                        let mut v = serde_json::to_value(c).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            // Set by the read's join and by the SLA sweep, not by an event.
                            o.remove("assignee_name");
                            o.remove("sla_breached_at");
                        }
                        v
                    };
                    assert_eq!(wire(&stored), wire(&up.call), "after event {i}: {m:?}");
                }
                by_row_id(w.conn, 1)
            })
            .await
            .unwrap();
        assert_eq!(checked.events_count, 15);
        assert_eq!(checked.caller_name.as_deref(), Some("Asha"));
        assert_eq!(checked.metadata["queue"], "sales");
        assert_eq!(
            checked.started_at.as_deref(),
            Some("2026-01-01T10:00:01.000Z")
        );
        assert!(checked.worklist_since.is_some() && checked.sla_due_at.is_some());
    }

    #[test]
    fn older_events_fill_gaps_but_never_overwrite() {
        let mut first = mapped(Some(Status::Ringing));
        first.mobile_number = Some("+911".into());
        let c1 = merge(None, &first, "2026-01-01T10:00:05.000Z", 30, None);
        let mut late = mapped(Some(Status::Waiting));
        late.mobile_number = Some("+999".into());
        late.caller_name = Some("Asha".into());
        let c2 = merge(Some(&c1), &late, "2026-01-01T10:00:01.000Z", 30, None);
        assert_eq!(c2.mobile_number.as_deref(), Some("+911"));
        assert_eq!(c2.caller_name.as_deref(), Some("Asha"));
        assert_eq!(c2.status, Some(Status::Ringing));
        assert_eq!(c2.raw_status.as_deref(), Some("ringing"));
        assert_eq!(c2.event_at.as_deref(), Some("2026-01-01T10:00:05.000Z"));
    }

    #[test]
    fn worklist_clock_starts_at_first_miss() {
        let c1 = merge(
            None,
            &mapped(Some(Status::Missed)),
            "2026-01-01T10:00:00.000Z",
            15,
            None,
        );
        assert_eq!(
            c1.worklist_since.as_deref(),
            Some("2026-01-01T10:00:00.000Z")
        );
        assert_eq!(c1.sla_due_at.as_deref(), Some("2026-01-01T10:15:00.000Z"));
    }

    /// The plan of the first page of `q` sorted by `sort` (rows with a value).
    fn plan(conn: &Connection, q: &CallQuery, field: &str, dir: &str, nullable: bool) -> String {
        let (where_sql, args) = filter_sql(q);
        let clauses = if nullable {
            vec![format!("c.{field} IS NOT NULL")]
        } else {
            vec![]
        };
        let sql = page_sql(
            &where_sql,
            &clauses,
            field,
            &format!("c.{field} {dir}, c.id {dir}"),
            50,
            0,
        );
        crate::store::test_support::query_plan(conn, &sql, rusqlite::params_from_iter(args.iter()))
    }

    fn dept(d: &str) -> CallQuery {
        CallQuery {
            departments: Some(vec![d.to_string()]),
            limit: 50,
            ..Default::default()
        }
    }

    #[test]
    fn each_worklist_order_of_a_department_walks_an_index_without_sorting() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::run(&mut conn).unwrap();
        for (field, index) in [
            ("sla_due_at", "calls_work_sla"),
            ("worklist_since", "calls_work_since"),
            ("attempts", "calls_work_attempts"),
            ("mobile_number", "calls_work_number"),
            ("next_callback_at", "calls_work_callback"),
        ] {
            for dir in ["ASC", "DESC"] {
                for view in [WorkState::Pending, WorkState::Resolved] {
                    let q = CallQuery {
                        statuses: Status::WORKLIST.to_vec(),
                        view: Some(view),
                        ..dept("sales")
                    };
                    let p = plan(&conn, &q, field, dir, !NOT_NULL.contains(&field));
                    assert!(p.contains(index), "{field} {dir}: {p}");
                    assert!(!p.contains("TEMP B-TREE"), "{field} {dir}: {p}");
                    assert!(!p.contains("SCAN c"), "{field} {dir}: {p}");
                }
            }
        }
    }

    #[test]
    fn a_callers_open_calls_are_found_on_the_number_index_on_every_answer() {
        use crate::store::test_support::{migrated, query_plan};
        let p = query_plan(
            &migrated(),
            OPEN_FROM_NUMBER,
            params!["sales", "+919812345678", 1, "2026-01-01"],
        );
        assert!(p.contains("calls_work_number"), "{p}");
        assert!(!p.contains("SCAN"), "{p}");
    }

    #[test]
    fn a_status_of_a_department_and_a_department_are_read_newest_first_from_an_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::run(&mut conn).unwrap();
        let q = CallQuery {
            statuses: vec![Status::Completed],
            ..dept("sales")
        };
        let p = plan(&conn, &q, "created_at", "DESC", false);
        assert!(p.contains("calls_status_dept"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");
        let p = plan(&conn, &dept("sales"), "created_at", "DESC", false);
        assert!(p.contains("calls_dept_created"), "{p}");
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }

    /// Whether a plan reads `calls c` by a scan (of the table or an index).
    fn walks_calls(plan: &str) -> bool {
        plan.split(" | ").any(|step| {
            step == "SCAN c"
                || step.starts_with("SCAN c ")
                || step.starts_with("SEARCH c USING INDEX")
        })
    }

    #[test]
    fn a_text_search_reads_the_matching_rows_by_id_not_the_departments_rows() {
        let conn = seeded();
        let q = CallQuery {
            text: Some("98765".into()),
            ..dept("sales")
        };
        let worklist = CallQuery {
            statuses: vec![Status::Missed, Status::Hangup],
            view: Some(WorkState::Pending),
            from: Some("2026-01-01T00:00:00.000Z".into()),
            ..q.clone()
        };
        for (q, field, dir) in [
            (&q, "created_at", "DESC"),
            (&q, "mobile_number", "ASC"),
            (&worklist, "sla_due_at", "ASC"),
        ] {
            let p = plan(&conn, q, field, dir, false);
            assert!(p.contains("calls_search VIRTUAL TABLE"), "{p}");
            assert!(p.contains("USING INTEGER PRIMARY KEY"), "{p}");
            assert!(!walks_calls(&p), "no walk over the calls: {p}");
        }
        let (where_sql, args) = filter_sql(&q);
        let p = crate::store::test_support::query_plan(
            &conn,
            &format!("SELECT COUNT(*) FROM calls c{where_sql}"),
            rusqlite::params_from_iter(args.iter()),
        );
        assert!(!walks_calls(&p), "the count too: {p}");
    }

    #[test]
    fn a_text_search_finds_numbers_names_and_call_ids_as_before() {
        let conn = seeded();
        conn.execute(
            "UPDATE calls SET caller_name = 'Priya Sharma' WHERE call_id = 'c7'",
            [],
        )
        .unwrap();
        crate::store::search::flush(&conn).unwrap();
        let ids = |text: &str| -> Vec<String> {
            let q = CallQuery {
                text: Some(text.into()),
                sort: Some("mobile_number".into()),
                limit: 100,
                ..dept("sales")
            };
            let (rows, total) = list(&conn, &q).unwrap();
            assert_eq!(total as usize, rows.len());
            let mut ids: Vec<String> = rows.into_iter().map(|c| c.call_id).collect();
            ids.sort();
            ids
        };
        // A number: every call whose number holds it, whatever the path.
        let holders = |frag: &str| -> Vec<String> {
            let mut v: Vec<String> = (0..40i64)
                .filter(|i| i % 5 != 0 && format!("+91{}", i % 4).contains(frag))
                .map(|i| format!("c{i}"))
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids("+912"), holders("+912"), "through the index");
        assert_eq!(ids("12"), holders("12"), "too short for the index: read");
        assert_eq!(
            ids("c1"),
            ["c1", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19"],
            "a short call id prefix"
        );
        assert_eq!(ids("SHARMA"), vec!["c7".to_string()], "a name in any case");
        assert_eq!(
            ids("c3"),
            vec![
                "c3".to_string(),
                "c30".into(),
                "c31".into(),
                "c32".into(),
                "c33".into(),
                "c34".into(),
                "c35".into(),
                "c36".into(),
                "c37".into(),
                "c38".into(),
                "c39".into()
            ]
        );
        assert_eq!(
            ids("c39"),
            vec!["c39".to_string()],
            "a call id from its start"
        );
        assert!(
            ids("39").iter().all(|id| id != "c39"),
            "not from its middle"
        );
        assert!(
            ids("%").is_empty() && ids("100%").is_empty(),
            "wildcards are text"
        );
    }

    /// 40 worklist and live calls with NULLs and ties in every sort column.
    fn seeded() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::run(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
             VALUES ('sales', 'Sales', 'h', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [],
        )
        .unwrap();
        for i in 0..40i64 {
            let t = |m: i64| (m % 3 != 0).then(|| format!("2026-01-01T10:{:02}:00.000Z", m % 7));
            conn.execute(
                "INSERT INTO calls (provider_id, department, call_id, mobile_number, status, attempts,
                    worklist_since, sla_due_at, next_callback_at, resolved_at, duration_seconds,
                    started_at, event_at, created_at, updated_at)
                 VALUES (1, 'sales', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?5, ?6, ?10, ?10)",
                params![
                    format!("c{i}"),
                    (i % 5 != 0).then(|| format!("+91{}", i % 4)),
                    ["missed", "hangup", "ringing", "completed"][(i % 4) as usize],
                    i % 3,
                    t(i),
                    t(i + 1),
                    t(i + 2),
                    (i % 6 == 0).then_some("2026-01-02T00:00:00.000Z"),
                    (i % 2 == 0).then_some(i % 9),
                    format!("2026-01-01T09:{:02}:00.000Z", i % 11),
                ],
            )
            .unwrap();
        }
        crate::store::search::flush(&conn).unwrap();
        conn
    }

    #[test]
    fn worklist_totals_from_the_kept_counts_agree_with_counting_the_rows() {
        let conn = seeded();
        let base = CallQuery {
            limit: 50,
            ..CallQuery::default()
        };
        let mut shortcut = 0;
        for departments in [
            None,
            Some(vec![]),
            Some(vec!["sales".to_string()]),
            Some(vec!["none".into()]),
        ] {
            for statuses in [
                vec![],
                vec![Status::Missed],
                vec![Status::Hangup, Status::Missed],
                vec![Status::Missed, Status::Completed],
            ] {
                for view in [
                    None,
                    Some(WorkState::Pending),
                    Some(WorkState::Attempted),
                    Some(WorkState::Resolved),
                ] {
                    let q = CallQuery {
                        departments: departments.clone(),
                        statuses: statuses.clone(),
                        view,
                        ..base.clone()
                    };
                    let (where_sql, args) = filter_sql(&q);
                    let rows = count(&conn, &where_sql, &args).unwrap();
                    if let Some(n) = counted_total(&conn, &q).unwrap() {
                        shortcut += 1;
                        assert_eq!(n, rows, "{q:?}");
                    }
                    assert_eq!(list_page(&conn, &q, None).unwrap().total, rows, "{q:?}");
                }
            }
        }
        assert!(
            shortcut >= 24,
            "the worklist lists take the kept counts: {shortcut}"
        );
        // Any other filter counts the rows.
        let worklist = CallQuery {
            statuses: vec![Status::Missed, Status::Hangup],
            view: Some(WorkState::Pending),
            ..base
        };
        for q in [
            CallQuery {
                text: Some("+911".into()),
                ..worklist.clone()
            },
            CallQuery {
                number: Some("+911".into()),
                ..worklist.clone()
            },
            CallQuery {
                from: Some("2026-01-01T00:00:00.000Z".into()),
                ..worklist.clone()
            },
            CallQuery {
                assignee: Some(AssigneeFilter::None),
                ..worklist.clone()
            },
            CallQuery {
                agent: Some("ann".into()),
                ..worklist.clone()
            },
        ] {
            assert_eq!(counted_total(&conn, &q).unwrap(), None, "{q:?}");
        }
        // Blank text is no filter, as in the list.
        let blank = CallQuery {
            text: Some("  ".into()),
            ..worklist
        };
        assert!(counted_total(&conn, &blank).unwrap().is_some());
    }

    #[test]
    fn offset_and_cursor_pages_follow_the_one_order_in_every_sort() {
        let conn = seeded();
        for field in SORTABLE {
            for desc in [false, true] {
                let dir = if desc { "DESC" } else { "ASC" };
                let sort = format!("{}{field}", if desc { "-" } else { "" });
                // The order as the API has always defined it.
                let expected: Vec<i64> = conn
                    .prepare(&format!(
                        "SELECT id FROM calls c ORDER BY c.{field} IS NULL, c.{field} {dir}, c.id {dir}"
                    ))
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let q = |offset| CallQuery {
                    sort: Some(sort.clone()),
                    limit: 7,
                    offset,
                    ..Default::default()
                };
                let mut by_offset = Vec::new();
                for offset in (0..expected.len() as i64 + 7).step_by(7) {
                    let (rows, total) = list(&conn, &q(offset)).unwrap();
                    assert_eq!(total, 40);
                    by_offset.extend(rows.iter().map(|c| c.id));
                }
                assert_eq!(by_offset, expected, "offset pages, sort {sort}");
                let mut by_cursor = Vec::new();
                let mut cursor: Option<Cursor> = None;
                for _ in 0..10 {
                    let page = list_page(&conn, &q(0), cursor.as_ref()).unwrap();
                    by_cursor.extend(page.rows.iter().map(|c| c.id));
                    // The cursor goes out as a string and comes back.
                    cursor = page.next.map(|c| Cursor::decode(&c.encode()).unwrap());
                    if cursor.is_none() {
                        break;
                    }
                }
                assert_eq!(by_cursor, expected, "cursor pages, sort {sort}");
            }
        }
    }

    #[test]
    fn a_cursor_of_another_sort_or_a_forged_one_is_refused() {
        let conn = seeded();
        let q = CallQuery {
            sort: Some("sla_due_at".into()),
            limit: 5,
            ..Default::default()
        };
        let next = list_page(&conn, &q, None).unwrap().next.unwrap();
        let other = CallQuery {
            sort: Some("-sla_due_at".into()),
            ..q.clone()
        };
        assert!(matches!(
            list_page(&conn, &other, Some(&next)),
            Err(Error::Invalid(_))
        ));
        assert!(Cursor::decode("zz").is_err());
        assert!(Cursor::decode(&hex::encode(b"{\"s\":\"x\",\"v\":[1],\"i\":1}")).is_err());
        let nulls_on_a_column_without = Cursor {
            sort: "created_at".into(),
            value: Value::Null,
            id: 3,
        };
        let q = CallQuery {
            sort: Some("created_at".into()),
            ..q
        };
        assert!(list_page(&conn, &q, Some(&nulls_on_a_column_without)).is_err());
    }

    #[test]
    fn the_first_active_event_is_the_answer_time_when_none_is_sent() {
        let c1 = merge(
            None,
            &mapped(Some(Status::Ringing)),
            "2026-01-01T10:00:00.000Z",
            30,
            None,
        );
        assert_eq!(c1.answered_at, None);
        let c2 = merge(
            Some(&c1),
            &mapped(Some(Status::Active)),
            "2026-01-01T10:00:12.000Z",
            30,
            None,
        );
        assert_eq!(c2.answered_at.as_deref(), Some("2026-01-01T10:00:12.000Z"));
        let c3 = merge(
            Some(&c2),
            &mapped(Some(Status::Active)),
            "2026-01-01T10:00:20.000Z",
            30,
            None,
        );
        assert_eq!(
            c3.answered_at.as_deref(),
            Some("2026-01-01T10:00:12.000Z"),
            "the first one"
        );
        let mut sent = mapped(Some(Status::Active));
        sent.answered_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 5).unwrap());
        let c4 = merge(Some(&c1), &sent, "2026-01-01T10:00:12.000Z", 30, None);
        assert_eq!(
            c4.answered_at.as_deref(),
            Some("2026-01-01T10:00:05.000Z"),
            "the platform's wins"
        );
    }

    #[test]
    fn duration_from_answer_to_end() {
        let mut m = mapped(Some(Status::Completed));
        m.answered_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap());
        m.ended_at = Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 1, 30).unwrap());
        let c = merge(None, &m, "2026-01-01T10:01:30.000Z", 30, None);
        assert_eq!(c.duration_seconds, Some(90));
    }
}
