//! Remote mode at the row level. The receiver hands out the rows a replica
//! may see (a snapshot) and the rows changed after a cursor (recorded by the
//! `row_changes` triggers), each consistent with the event `seq` read in the
//! same read transaction; the replica applies rows, events and its cursor in
//! one write, so the cache and its `seq` always advance together.
//!
//! Rows travel as plain column → value maps: the replica holds the same rows
//! (same ids, versions, timestamps) as the receiver, so the same handlers
//! answer the same JSON on both.

use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::hub::{Audience, Event};
use crate::time;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Replicated tables, parents before children (foreign keys).
pub const TABLES: [&str; 17] = [
    "flows",
    "flow_versions",
    "providers",
    "users",
    "agent_states",
    "categories",
    "calls",
    "leads",
    "raw_events",
    "dispositions",
    "voicemails",
    "external_users",
    "connectors",
    "sync_runs",
    "audit_log",
    "retention_runs",
    "ivr_steps",
];

/// Events and row changes after the cursor, at most this many of each per page.
const EVENTS_PAGE: i64 = 5000;
const CHANGES_PAGE: i64 = 20000;

/// A page of the paged snapshot: this many rows unless asked for fewer…
pub const SNAPSHOT_PAGE_ROWS: i64 = 5000;
/// …and never more than this many…
pub const SNAPSHOT_PAGE_MAX_ROWS: i64 = 10_000;
/// …nor (about) this many bytes of values: a page of large raw payloads
/// stops early, so a page's memory is bounded on both sides.
const SNAPSHOT_PAGE_BYTES: usize = 4 << 20;

/// What the remote principal may see: the rows it is sent are scoped as the
/// API's read routes scope them for the same principal, table by table.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub admin: bool,
    /// A supervisor (or an admin): sees every user, agent state and connector.
    pub supervisor: bool,
    /// None: every department; Some(list): only these (agents).
    pub departments: Option<Vec<String>>,
    /// The principal's own user row (agents see their own, and only the
    /// names of the users their calls are assigned to).
    pub user_id: Option<i64>,
}

impl Scope {
    fn staff(&self) -> bool {
        self.admin || self.supervisor
    }
}

/// One table's rows (column → value) and the ids that are gone (deleted, or
/// out of the principal's scope).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableRows {
    pub table: String,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
    pub deleted: Vec<i64>,
}

/// An event-log entry as the replica stores and republishes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub department: Option<String>,
    /// `all` or `admin`.
    pub audience: String,
    pub at: String,
    /// The event's `data`, JSON text exactly as the receiver logged it.
    pub data: String,
}

impl From<Event> for LogEvent {
    fn from(e: Event) -> Self {
        LogEvent {
            seq: e.seq,
            kind: e.kind,
            department: e.department,
            audience: e.audience.as_str().to_string(),
            at: e.at,
            data: e.data,
        }
    }
}

/// Every row the principal may see, consistent with `seq` and `change`; or,
/// in the paged form, one page of them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Snapshot {
    /// The event seq these rows are consistent with: follow `/api/events?since=seq`.
    /// Paged form: the receiver's seq when this page was read; the first
    /// page's is the cursor to follow from once every page is applied.
    pub seq: i64,
    /// The row-change cursor these rows are consistent with: ask
    /// `/api/replica/changes?change=` from it (paged form: as `seq`).
    pub change: i64,
    pub tables: Vec<TableRows>,
    /// Paged form: where the next page starts (`?table=&after=`); null on
    /// the last page, and in the unpaged form.
    #[serde(default)]
    pub next: Option<SnapshotKey>,
}

/// Where a paged snapshot continues: after key `after` of `table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnapshotKey {
    pub table: String,
    /// The last key sent (`id`; `user_id` of agent_states, `provider_id` of
    /// connectors); the next page starts above it.
    pub after: i64,
}

/// The rows changed and the events logged after a cursor.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Changes {
    /// The new cursor: the seq of the last event considered (visible or not).
    pub seq: i64,
    /// The new row-change cursor.
    pub change: i64,
    /// More pages follow: ask again from the new cursor.
    pub more: bool,
    /// The receiver's newest seq when this page was read.
    pub head: i64,
    /// Events after the old `seq` the principal may see, oldest first.
    pub events: Vec<LogEvent>,
    pub tables: Vec<TableRows>,
}

/// Why a replica must take a fresh snapshot instead of following.
pub const TOO_FAR_BEHIND: &str = "too_far_behind";

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    // table_xinfo lists generated columns as hidden (2, 3): they are computed
    // on both sides and cannot be written.
    let mut stmt = conn.prepare_cached(&format!("PRAGMA table_xinfo({table})"))?;
    let cols = stmt
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(6)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols
        .into_iter()
        .filter(|(_, hidden)| *hidden == 0)
        .map(|(c, _)| c)
        .collect())
}

fn key_column(table: &str) -> &'static str {
    match table {
        "connectors" => "provider_id",
        "agent_states" => "user_id",
        _ => "id",
    }
}

/// The SQL condition (over the table's own columns) for rows in scope, the
/// same as each read route's: `?1` is the JSON list of departments, `?4`
/// the principal's user id (or -1).
///
/// | table | admin | supervisor | agent |
/// |---|---|---|---|
/// | providers, calls, leads, voicemails, dispositions, categories | all | all | their departments (categories: and the shared ones) |
/// | users | all | all | themselves, and the users their calls are assigned to or disposed by (names only) |
/// | agent_states | all | all | their own |
/// | raw_events | all (the delivery log) | those of calls (the call timeline) | those of their calls |
/// | external_users, connectors, sync_runs | all | all | none |
/// | flows, flow_versions, ivr_steps | all | all | none |
/// | audit_log, retention_runs | all | none | none |
fn scope_sql(table: &str, scope: &Scope) -> &'static str {
    let agent = !scope.staff();
    let by_department = agent || scope.departments.is_some();
    match table {
        "audit_log" | "retention_runs" if !scope.admin => "0",
        // Pollers and platform user maps are administration: not for agents.
        "external_users" | "connectors" | "sync_runs" if agent => "0",
        // IVR flows, their versions and where callers went: supervisors' reads.
        "flows" | "flow_versions" | "ivr_steps" if agent => "0",
        "providers" if by_department => "slug IN (SELECT value FROM json_each(?1))",
        "categories" if by_department => {
            "department IS NULL OR department IN (SELECT value FROM json_each(?1))"
        }
        "users" if agent => {
            "id = ?4
             OR id IN (SELECT assignee_id FROM calls WHERE department IN (SELECT value FROM json_each(?1)))
             OR id IN (SELECT d.user_id FROM dispositions d JOIN calls c ON c.id = d.call_row_id
                       WHERE c.department IN (SELECT value FROM json_each(?1)))"
        }
        "agent_states" if agent => "user_id = ?4",
        "calls" | "leads" | "voicemails" if by_department => {
            "department IN (SELECT value FROM json_each(?1))"
        }
        // The delivery log (failed and refused deliveries included) is for
        // admins; others see the deliveries of the calls they may open.
        "raw_events" if by_department => {
            "call_row_id IN (SELECT id FROM calls WHERE department IN (SELECT value FROM json_each(?1)))"
        }
        "raw_events" if !scope.admin => "call_row_id IS NOT NULL",
        "dispositions" if by_department => {
            "call_row_id IN (SELECT id FROM calls WHERE department IN (SELECT value FROM json_each(?1)))"
        }
        _ => "1",
    }
}

/// [`scope_sql`] for a page read in key order: the same rows, but a
/// delivery or disposition is checked against its own call (one lookup)
/// rather than against the set of the department's calls, which would be
/// built again for every page.
fn page_scope_sql(table: &str, scope: &Scope) -> &'static str {
    let by_department = !scope.staff() || scope.departments.is_some();
    match table {
        "raw_events" if by_department => {
            "EXISTS (SELECT 1 FROM calls c WHERE c.id = raw_events.call_row_id
                     AND c.department IN (SELECT value FROM json_each(?1)))"
        }
        "dispositions" if by_department => {
            "EXISTS (SELECT 1 FROM calls c WHERE c.id = dispositions.call_row_id
                     AND c.department IN (SELECT value FROM json_each(?1)))"
        }
        _ => scope_sql(table, scope),
    }
}

/// Secrets never leave the receiver: a replica does not authenticate
/// webhooks or passwords. Presence is kept (an empty string, not NULL), so
/// `has_signing_secret` and the key hint read the same on both sides.
/// Beyond secrets, a row carries what the principal's read routes show:
/// the key hint is for admins, and an agent learns only the user name of
/// another user.
fn redact(table: &str, row: &mut Map<String, Value>, scope: &Scope) {
    let secret_cols: &[&str] = match table {
        "providers" if !scope.admin => &[
            "api_key_hash",
            "prev_key_hash",
            "signing_secret",
            "api_key_hint",
        ],
        "providers" => &["api_key_hash", "prev_key_hash", "signing_secret"],
        "users" => &["password_hash"],
        _ => &[],
    };
    for c in secret_cols {
        if let Some(v) = row.get_mut(*c) {
            if !v.is_null() {
                *v = Value::String(String::new());
            }
        }
    }
    if table == "users" && !scope.staff() {
        let own = row.get("id").and_then(Value::as_i64) == scope.user_id && scope.user_id.is_some();
        if !own {
            row.insert("role".into(), Value::String("agent".into()));
            row.insert("departments".into(), Value::String("[]".into()));
            row.insert("display_name".into(), Value::Null);
            if row.contains_key("skills") {
                row.insert("skills".into(), Value::String("[]".into()));
            }
        }
    }
}

fn to_json(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => return Err(Error::invalid("blob columns are not replicated")),
    })
}

/// Rows of `table` in scope, all of them or only `ids`.
fn dump(
    conn: &Connection,
    table: &str,
    scope: &Scope,
    ids: Option<&[i64]>,
) -> Result<Vec<Map<String, Value>>> {
    let cols = columns(conn, table)?;
    let key = key_column(table);
    let departments = serde_json::to_string(&scope.departments.clone().unwrap_or_default())?;
    let ids_json = serde_json::to_string(&ids.unwrap_or(&[]))?;
    let me = scope.user_id.unwrap_or(-1);
    let sql = format!(
        "SELECT {} FROM {table} WHERE ({}) AND (?2 = 0 OR {key} IN (SELECT value FROM json_each(?3))) AND ?4 = ?4 ORDER BY {key}",
        cols.join(", "),
        scope_sql(table, scope)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query(params![departments, i64::from(ids.is_some()), ids_json, me])?;
    let (out, _) = read_rows(rows, &cols, table, scope, usize::MAX)?;
    Ok(out)
}

/// Rows as column → value maps, redacted, until the rows end or about
/// `max_bytes` of values are read (at least one row). Returns the rows and
/// about how many bytes they hold.
fn read_rows(
    mut rows: rusqlite::Rows<'_>,
    cols: &[String],
    table: &str,
    scope: &Scope,
    max_bytes: usize,
) -> Result<(Rows, usize)> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(r) = rows.next()? {
        let mut m = Map::with_capacity(cols.len());
        for (i, c) in cols.iter().enumerate() {
            let v = r.get_ref(i)?;
            bytes += c.len()
                + match v {
                    ValueRef::Text(t) => t.len() + 2,
                    _ => 8,
                };
            m.insert(c.clone(), to_json(v)?);
        }
        redact(table, &mut m, scope);
        out.push(m);
        if bytes >= max_bytes {
            break;
        }
    }
    Ok((out, bytes))
}

/// Rows as the replica receives them: column → value.
type Rows = Vec<Map<String, Value>>;

/// Rows of `table` in scope with a key above `after`, in key order, at
/// most `limit` of them and about `max_bytes` of values. Returns the rows,
/// whether more may follow and about how many bytes they hold.
fn dump_page(
    conn: &Connection,
    table: &str,
    scope: &Scope,
    after: i64,
    limit: i64,
    max_bytes: usize,
) -> Result<(Rows, bool, usize)> {
    let cols = columns(conn, table)?;
    let key = key_column(table);
    let departments = serde_json::to_string(&scope.departments.clone().unwrap_or_default())?;
    let me = scope.user_id.unwrap_or(-1);
    let sql = format!(
        "SELECT {} FROM {table} WHERE ({}) AND {key} > ?2 AND ?4 = ?4 ORDER BY {key} LIMIT ?3",
        cols.join(", "),
        page_scope_sql(table, scope)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query(params![departments, after, limit, me])?;
    let (out, bytes) = read_rows(rows, &cols, table, scope, max_bytes)?;
    let more = bytes >= max_bytes || out.len() as i64 >= limit;
    Ok((out, more, bytes))
}

/// Runs `f` in one read transaction, so everything it reads is one
/// consistent state of the database.
fn consistent<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.unchecked_transaction()?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

fn change_head(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM row_changes",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Receiver side: every row in scope and the cursors they are consistent with.
pub fn snapshot(conn: &Connection, scope: &Scope) -> Result<Snapshot> {
    consistent(conn, |c| {
        let seq = super::events::head(c)?;
        let (_, change) = change_head(c)?;
        let mut tables = Vec::with_capacity(TABLES.len());
        for t in TABLES {
            tables.push(TableRows {
                table: t.to_string(),
                rows: dump(c, t, scope, None)?,
                deleted: Vec::new(),
            });
        }
        Ok(Snapshot {
            seq,
            change,
            tables,
            next: None,
        })
    })
}

/// Receiver side, the paged form: the rows in scope from `from` on (from the
/// first table without it), table by table in key order, at most `limit`
/// rows (and about 4 MiB of values) in all, with the cursors read in the
/// same transaction and where the next page starts (`next`; None on the
/// last page).
///
/// Pages are read at different moments. A replica takes the first page's
/// `seq`/`change` as its cursor and follows the changes from there only
/// once every page is applied: a row changed or deleted while it copies is
/// sent again (or as deleted) by the change feed, read after every page.
pub fn snapshot_page(
    conn: &Connection,
    scope: &Scope,
    from: Option<&SnapshotKey>,
    limit: i64,
) -> Result<Snapshot> {
    let limit = limit.clamp(1, SNAPSHOT_PAGE_MAX_ROWS);
    let (mut index, mut after) = match from {
        None => (0, i64::MIN),
        Some(k) => (
            TABLES.iter().position(|t| *t == k.table).ok_or_else(|| {
                Error::invalid(format!("`{}` is not a replicated table", k.table))
            })?,
            k.after,
        ),
    };
    consistent(conn, |c| {
        let seq = super::events::head(c)?;
        let (_, change) = change_head(c)?;
        let mut tables = Vec::new();
        let mut left = limit;
        let mut bytes = SNAPSHOT_PAGE_BYTES;
        let mut next = None;
        while index < TABLES.len() {
            let t = TABLES[index];
            let (rows, more, used) = dump_page(c, t, scope, after, left, bytes)?;
            let key = key_column(t);
            let last = rows.last().and_then(|r| r.get(key)?.as_i64());
            left -= rows.len() as i64;
            bytes = bytes.saturating_sub(used);
            if !rows.is_empty() {
                tables.push(TableRows {
                    table: t.to_string(),
                    rows,
                    deleted: Vec::new(),
                });
            }
            if more {
                next = Some(SnapshotKey {
                    table: t.to_string(),
                    after: last.unwrap_or(after),
                });
                break;
            }
            index += 1;
            after = i64::MIN;
            if left <= 0 || bytes == 0 {
                next = TABLES.get(index).map(|t| SnapshotKey {
                    table: t.to_string(),
                    after,
                });
                break;
            }
        }
        Ok(Snapshot {
            seq,
            change,
            tables,
            next,
        })
    })
}

fn visible(scope: &Scope, e: &Event) -> bool {
    if e.audience == Audience::Admin && !scope.admin {
        return false;
    }
    match (&e.department, &scope.departments) {
        (Some(d), Some(mine)) => mine.contains(d),
        _ => true,
    }
}

/// Receiver side: events after `seq` and rows changed after `change`, one
/// page. `Err(Conflict(TOO_FAR_BEHIND))` when the logs no longer reach back
/// to the cursor: take a fresh snapshot.
pub fn changes(conn: &Connection, scope: &Scope, seq: i64, change: i64) -> Result<Changes> {
    consistent(conn, |c| {
        let head = super::events::head(c)?;
        let oldest = super::events::oldest(c)?;
        let (oldest_change, change_head) = change_head(c)?;
        let gone = (oldest > 0 && seq < oldest - 1)
            || (oldest_change > 0 && change < oldest_change - 1)
            || seq > head
            || change > change_head;
        if gone {
            return Err(Error::Conflict(TOO_FAR_BEHIND.into()));
        }
        let page = super::events::since(c, seq, EVENTS_PAGE)?;
        let new_seq = page.last().map(|e| e.seq).unwrap_or(seq);
        let events: Vec<LogEvent> = page
            .into_iter()
            .filter(|e| visible(scope, e))
            .map(LogEvent::from)
            .collect();
        let new_change = change_head.min(change + CHANGES_PAGE);
        let mut stmt = c.prepare_cached(
            "SELECT tbl, row_id FROM row_changes WHERE id > ?1 AND id <= ?2 GROUP BY tbl, row_id",
        )?;
        let touched = stmt
            .query_map(params![change, new_change], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // An agent holds only the users its calls refer to: a changed call
        // or disposition brings its user's row along (the replica's foreign
        // keys need it).
        let mut referenced = Vec::new();
        if !scope.staff() {
            let of = |tbl: &str| -> Result<String> {
                let ids: Vec<i64> = touched
                    .iter()
                    .filter(|(t, _)| t == tbl)
                    .map(|(_, id)| *id)
                    .collect();
                Ok(serde_json::to_string(&ids)?)
            };
            let mut stmt = c.prepare_cached(
                "SELECT assignee_id FROM calls WHERE id IN (SELECT value FROM json_each(?1)) AND assignee_id IS NOT NULL
                 UNION SELECT user_id FROM dispositions WHERE id IN (SELECT value FROM json_each(?2)) AND user_id IS NOT NULL",
            )?;
            referenced = stmt
                .query_map(params![of("calls")?, of("dispositions")?], |r| {
                    r.get::<_, i64>(0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
        }
        let mut tables = Vec::new();
        for t in TABLES {
            let mut ids: Vec<i64> = touched
                .iter()
                .filter(|(tbl, _)| tbl == t)
                .map(|(_, id)| *id)
                .collect();
            if t == "users" {
                for id in &referenced {
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                }
            }
            if ids.is_empty() {
                continue;
            }
            let rows = dump(c, t, scope, Some(&ids))?;
            let key = key_column(t);
            let present: std::collections::HashSet<i64> =
                rows.iter().filter_map(|r| r.get(key)?.as_i64()).collect();
            let deleted = ids.into_iter().filter(|i| !present.contains(i)).collect();
            tables.push(TableRows {
                table: t.to_string(),
                rows,
                deleted,
            });
        }
        Ok(Changes {
            seq: new_seq,
            change: new_change,
            more: new_seq < head || new_change < change_head,
            head,
            events,
            tables,
        })
    })
}

// ------------------------------------------------------------ replica side

/// The replica's cursor: how far it has followed the receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub seq: i64,
    pub change: i64,
    /// The receiver (URL) and principal the cache mirrors; a cache of another
    /// receiver or user is thrown away and snapshotted afresh.
    pub source: String,
}

pub fn cursor(conn: &Connection) -> Result<Option<Cursor>> {
    let get = |k: &str| -> Result<Option<String>> {
        Ok(conn
            .query_row("SELECT value FROM replica_state WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()?)
    };
    let (Some(seq), Some(change), Some(source)) = (get("seq")?, get("change")?, get("source")?)
    else {
        return Ok(None);
    };
    Ok(Some(Cursor {
        seq: seq.parse().unwrap_or(0),
        change: change.parse().unwrap_or(0),
        source,
    }))
}

fn set_cursor(conn: &Connection, c: &Cursor) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO replica_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    stmt.execute(params!["seq", c.seq.to_string()])?;
    stmt.execute(params!["change", c.change.to_string()])?;
    stmt.execute(params!["source", c.source])?;
    Ok(())
}

fn apply_tables(conn: &Connection, tables: &[TableRows]) -> Result<()> {
    // Rows arrive table by table; references between them hold at commit.
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    for t in TABLES {
        let Some(rows) = tables.iter().find(|r| r.table == t) else {
            continue;
        };
        upsert_rows(conn, t, &rows.rows, false)?;
    }
    // Children before parents when deleting.
    for t in TABLES.iter().rev() {
        let Some(rows) = tables.iter().find(|r| r.table == *t) else {
            continue;
        };
        let key = key_column(t);
        let mut stmt = conn.prepare_cached(&format!("DELETE FROM {t} WHERE {key} = ?1"))?;
        for id in &rows.deleted {
            stmt.execute([id])?;
        }
    }
    Ok(())
}

fn log_event(w: &mut Writer<'_>, e: &LogEvent) -> Result<()> {
    w.conn
        .prepare_cached(
            "INSERT INTO event_log (seq, at, type, department, audience, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (seq) DO NOTHING",
        )?
        .execute(params![e.seq, e.at, e.kind, e.department, e.audience, e.data])?;
    w.events.push(Event {
        seq: e.seq,
        kind: e.kind.clone(),
        department: e.department.clone(),
        audience: Audience::parse(&e.audience),
        at: e.at.clone(),
        data: e.data.clone(),
    });
    Ok(())
}

/// Replica side: replaces the whole cache with `snap`. Old events are not
/// republished: the local log is cleared and one `reload` event (at the
/// receiver's head) tells local clients to take their own fresh view.
pub fn apply_snapshot(w: &mut Writer<'_>, snap: &Snapshot, source: &str) -> Result<()> {
    begin_snapshot(w)?;
    apply_tables(w.conn, &snap.tables)?;
    finish_snapshot(w, snap.seq, snap.change, source)
}

/// Replica side, the paged form's start: empties the cache (the receiver's
/// rows replace ours wholesale, the seeded categories too) and forgets the
/// cursor, so a copy cut short is started again from the first page.
pub fn begin_snapshot(w: &mut Writer<'_>) -> Result<()> {
    w.conn.execute_batch("PRAGMA defer_foreign_keys = ON;")?;
    for t in TABLES.iter().rev() {
        w.conn.execute(&format!("DELETE FROM {t}"), [])?;
    }
    // Tokens and platform links of users that are gone would dangle.
    w.conn.execute("DELETE FROM tokens", [])?;
    w.conn.execute("DELETE FROM event_log", [])?;
    w.conn.execute("DELETE FROM row_changes", [])?;
    w.conn.execute(
        "DELETE FROM replica_state WHERE key IN ('seq', 'change', 'source')",
        [],
    )?;
    Ok(())
}

/// The single-column foreign keys of `table` to other tables: (column,
/// parent table, parent column).
fn parents(conn: &Connection, table: &str) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached(&format!("PRAGMA foreign_key_list({table})"))?;
    let keys = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(keys
        .iter()
        .filter(|(id, parent, _, _)| {
            parent != table && keys.iter().filter(|k| k.0 == *id).count() == 1
        })
        .map(|(_, parent, from, to)| {
            (
                from.clone(),
                parent.clone(),
                to.clone().unwrap_or_else(|| "rowid".into()),
            )
        })
        .collect())
}

/// Upserts `rows` of `table` in one statement (`INSERT … SELECT … FROM
/// json_each`): a statement per row inside the writer's savepoint walks a
/// statement journal that grows with the pages the transaction touched.
/// With `skip_inconsistent`, a row whose parent is missing or whose unique
/// value is taken is left out (a snapshot page, see
/// [`apply_snapshot_page`]); otherwise it fails the statement. Returns the
/// rows written.
fn upsert_rows(
    conn: &Connection,
    t: &str,
    rows: &[Map<String, Value>],
    skip_inconsistent: bool,
) -> Result<usize> {
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let key = key_column(t);
    let cols: Vec<String> = columns(conn, t)?
        .into_iter()
        .filter(|c| first.contains_key(c))
        .collect();
    if !cols.iter().any(|c| c == key) {
        return Err(Error::invalid(format!("a `{t}` row without `{key}`")));
    }
    let field = |c: &str| format!("value ->> '$.\"{c}\"'");
    let values: Vec<String> = cols.iter().map(|c| field(c)).collect();
    let mut conds = vec!["1".to_string()];
    if skip_inconsistent {
        for (col, parent, to) in parents(conn, t)? {
            if cols.contains(&col) {
                let v = field(&col);
                conds.push(format!(
                    "({v} IS NULL OR EXISTS (SELECT 1 FROM {parent} WHERE {to} = {v}))"
                ));
            }
        }
    }
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| c.as_str() != key)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let on_key = if updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    let other_clash = if skip_inconsistent {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {t} ({}) SELECT {} FROM json_each(?1) WHERE {}
         ON CONFLICT ({key}) {on_key}{other_clash}",
        cols.join(", "),
        values.join(", "),
        conds.join(" AND ")
    );
    Ok(conn
        .prepare_cached(&sql)?
        .execute([serde_json::to_string(rows)?])?)
}

/// Replica side, the paged form: applies one page of a snapshot in the
/// caller's transaction; returns how many rows were applied and how many
/// were left out.
///
/// Pages are read at different moments, so a row may refer to a parent
/// created after an earlier page was read (a call assigned to a user added
/// meanwhile), or clash with a row that another page already holds (a name
/// taken by a row since deleted). Such a row changed after the cursor the
/// replica follows from, so the change feed sends it again, with its
/// parent: it is left out here rather than breaking the page's commit.
///
/// Each table's rows go in one statement (`INSERT … SELECT … FROM
/// json_each`): a statement per row inside the writer's savepoint walks a
/// statement journal that grows with the pages the transaction touched,
/// which made the pages of a large cache ten times slower than its first.
pub fn apply_snapshot_page(w: &mut Writer<'_>, tables: &[TableRows]) -> Result<(usize, usize)> {
    let conn = w.conn;
    conn.pragma_update(None, "defer_foreign_keys", true)?;
    let (mut applied, mut skipped) = (0, 0);
    for t in TABLES {
        let Some(rows) = tables.iter().find(|r| r.table == t) else {
            continue;
        };
        let n = upsert_rows(conn, t, &rows.rows, true)?;
        applied += n;
        skipped += rows.rows.len().saturating_sub(n);
    }
    // The triggers record our own applies too; a replica never serves them.
    conn.execute("DELETE FROM row_changes", [])?;
    Ok((applied, skipped))
}

/// Replica side, the paged form's end (every page applied): the cursor the
/// first page was read at, and one `reload` event at the receiver's seq
/// (old events are not republished) that tells local clients to take their
/// own fresh view.
pub fn finish_snapshot(w: &mut Writer<'_>, seq: i64, change: i64, source: &str) -> Result<()> {
    w.conn.execute("DELETE FROM event_log", [])?;
    w.conn.execute("DELETE FROM row_changes", [])?;
    // (A receiver with no events yet has nothing to reload.)
    if seq > 0 {
        let data = serde_json::json!({ "reason": "snapshot", "oldest": seq, "head": seq });
        log_event(
            w,
            &LogEvent {
                seq,
                kind: "reload".into(),
                department: None,
                audience: "all".into(),
                at: time::fmt(w.now),
                data: data.to_string(),
            },
        )?;
    }
    set_cursor(
        w.conn,
        &Cursor {
            seq,
            change,
            source: source.to_string(),
        },
    )?;
    Ok(())
}

/// Replica side: applies one page of changes if it starts where the cache
/// is; returns the new cursor. Events at or below the cursor are never
/// applied (or published) twice.
pub fn apply_changes(w: &mut Writer<'_>, from: &Cursor, page: &Changes) -> Result<Cursor> {
    let current = cursor(w.conn)?.ok_or_else(|| Error::Conflict("no snapshot yet".into()))?;
    if current != *from {
        return Err(Error::Conflict(format!(
            "the cache moved (now at seq {}, change {})",
            current.seq, current.change
        )));
    }
    apply_tables(w.conn, &page.tables)?;
    for e in page.events.iter().filter(|e| e.seq > current.seq) {
        log_event(w, e)?;
    }
    // The triggers record our own applies too; a replica never serves them.
    w.conn.execute("DELETE FROM row_changes", [])?;
    let next = Cursor {
        seq: page.seq.max(current.seq),
        change: page.change.max(current.change),
        source: current.source,
    };
    set_cursor(w.conn, &next)?;
    Ok(next)
}

// ------------------------------------------------------------ the outbox

/// A write accepted on a replica, waiting for (or done with) the receiver.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: i64,
    pub idempotency_key: String,
    pub method: String,
    /// Path and query on the receiver.
    pub path: String,
    /// The JSON body sent, if any.
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// The body exactly as received: a retry must send the same bytes.
    #[serde(skip)]
    pub body_text: Option<String>,
    pub state: OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub response_status: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub response_body: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// Where a replica's write stands with the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Not yet answered by the receiver (it was not reached).
    Pending,
    Delivered,
    /// The receiver answered 409: see `response_body.error.current`.
    Conflict,
    /// The receiver answered another 4xx.
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Conflict => "conflict",
            OutboxState::Failed => "failed",
        }
    }
}

const OUTBOX_COLS: &str = "id, idempotency_key, method, path, body, state, attempts, last_error, response_status, response_body, created_at, updated_at";

fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let id: i64 = r.get(0)?;
    let at = At::new("outbox", id);
    // Bodies are kept as exchanged (a client may have sent malformed JSON,
    // which the receiver refused): not JSON reads as null.
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let body_text: Option<String> = r.get(4)?;
    Ok(OutboxEntry {
        id,
        idempotency_key: r.get(1)?,
        method: r.get(2)?,
        path: r.get(3)?,
        body: json(body_text.clone()),
        body_text,
        state: at.wire(r, 5, "state")?,
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        response_status: r.get(8)?,
        response_body: json(r.get(9)?),
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

pub fn enqueue(
    w: &mut Writer<'_>,
    key: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<OutboxEntry> {
    let at = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO outbox (idempotency_key, method, path, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![key, method, path, body, at],
    )?;
    Ok(w.conn.query_row(
        &format!("SELECT {OUTBOX_COLS} FROM outbox WHERE idempotency_key = ?1"),
        [key],
        outbox_row,
    )?)
}

/// The oldest write still to deliver.
pub fn next_pending(conn: &Connection) -> Result<Option<OutboxEntry>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1"
            ),
            [],
            outbox_row,
        )
        .optional()?)
}

/// Every write not yet delivered, then the newest delivered ones (up to `limit`).
pub fn list_outbox(conn: &Connection, limit: i64) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {OUTBOX_COLS} FROM outbox WHERE state != 'delivered'
         UNION ALL SELECT * FROM (SELECT {OUTBOX_COLS} FROM outbox WHERE state = 'delivered' ORDER BY id DESC LIMIT ?1)
         ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([limit], outbox_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// (pending, conflict + failed)
pub fn outbox_counts(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state IN ('conflict', 'failed')), 0) FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Records an attempt: `state` None keeps it pending (the receiver was not
/// reached), else its final state with the receiver's answer.
pub fn settle(
    w: &mut Writer<'_>,
    id: i64,
    state: Option<OutboxState>,
    status: Option<u16>,
    body: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    w.conn.execute(
        "UPDATE outbox SET state = COALESCE(?2, state), attempts = attempts + 1, response_status = COALESCE(?3, response_status),
         response_body = COALESCE(?4, response_body), last_error = ?5, updated_at = ?6 WHERE id = ?1",
        params![id, state.map(OutboxState::as_str), status, body, error, time::fmt(w.now)],
    )?;
    Ok(())
}

/// Drops a conflicted or failed write the person chose to discard.
pub fn discard(w: &mut Writer<'_>, id: i64) -> Result<()> {
    let n = w.conn.execute(
        "DELETE FROM outbox WHERE id = ?1 AND state IN ('conflict', 'failed')",
        [id],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!(
            "no conflicted or failed write {id} in the outbox"
        )));
    }
    Ok(())
}

/// Receiver side: forgets row changes beyond the newest `keep`, at most
/// `batch` at a time (a replica whose cursor is older takes a fresh
/// snapshot). Returns how many went.
pub fn prune_changes(w: &mut Writer<'_>, keep: i64, batch: i64) -> Result<usize> {
    Ok(w.conn.execute(
        "DELETE FROM row_changes WHERE id IN (
            SELECT id FROM row_changes WHERE id <= (SELECT MAX(id) FROM row_changes) - ?1
            ORDER BY id LIMIT ?2)",
        params![keep, batch],
    )?)
}

/// A value the replica keeps about itself (`me`: the remote principal).
pub fn get_state(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM replica_state WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_state(w: &mut Writer<'_>, key: &str, value: &str) -> Result<()> {
    w.conn.execute(
        "INSERT INTO replica_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn a_snapshot_and_a_page_of_changes_rebuild_the_same_rows() {
        let (_a, receiver) = temp_store();
        let (_b, replica) = temp_store();
        let admin = Scope {
            admin: true,
            ..Scope::default()
        };
        receiver
            .write(|w| {
                w.conn.execute(
                    "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, signing_secret, created_at, updated_at)
                     VALUES ('a', 'A', 'secret-hash', 'cbk_', 'sign', 't', 't')",
                    [],
                )?;
                w.emit(crate::hub::EventKind::ProviderChanged, Some("a"), Audience::All, "{}".into())
            })
            .await
            .unwrap();
        let snap = receiver
            .read(move |c| {
                snapshot(
                    c,
                    &Scope {
                        admin: true,
                        ..Scope::default()
                    },
                )
            })
            .await
            .unwrap();
        assert_eq!(snap.seq, 1);
        let s2 = snap.clone();
        replica
            .write(move |w| apply_snapshot(w, &s2, "r"))
            .await
            .unwrap();
        let (hash, secret, cats): (String, String, i64) = replica
            .read(|c| {
                Ok(c.query_row(
                    "SELECT api_key_hash, signing_secret, (SELECT COUNT(*) FROM categories) FROM providers",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .await
            .unwrap();
        assert_eq!((hash.as_str(), secret.as_str(), cats), ("", "", 5));

        // A change, a delete and an event on the receiver.
        receiver
            .write(|w| {
                w.conn
                    .execute("UPDATE providers SET name = 'A2' WHERE slug = 'a'", [])?;
                w.conn.execute("DELETE FROM categories WHERE id = 5", [])?;
                w.emit(
                    crate::hub::EventKind::ProviderChanged,
                    Some("a"),
                    Audience::All,
                    "{\"x\":1}".into(),
                )
            })
            .await
            .unwrap();
        let from = replica.read(cursor).await.unwrap().unwrap();
        let (seq, change) = (from.seq, from.change);
        let page = receiver
            .read(move |c| changes(c, &admin, seq, change))
            .await
            .unwrap();
        assert_eq!(page.events.len(), 1);
        assert!(!page.more);
        let mut rx = replica.hub().subscribe();
        let p2 = page.clone();
        let f2 = from.clone();
        let next = replica
            .write(move |w| apply_changes(w, &f2, &p2))
            .await
            .unwrap();
        assert_eq!(next.seq, 2);
        assert_eq!(
            rx.recv().await.unwrap().seq,
            2,
            "published with the receiver's seq"
        );
        // The same page again is refused: the cursor moved.
        let again = replica.write(move |w| apply_changes(w, &from, &page)).await;
        assert!(matches!(again, Err(Error::Conflict(_))));
        let (name, cats): (String, i64) = replica
            .read(|c| {
                Ok(c.query_row(
                    "SELECT name, (SELECT COUNT(*) FROM categories) FROM providers",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .await
            .unwrap();
        assert_eq!((name.as_str(), cats), ("A2", 4));
    }

    #[tokio::test]
    async fn a_paged_snapshot_walks_the_same_rows_and_leaves_out_orphans() {
        let (_a, receiver) = temp_store();
        let (_b, replica) = temp_store();
        receiver
            .write(|w| {
                w.conn.execute(
                    "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, signing_secret, created_at, updated_at)
                     VALUES ('a', 'A', 'secret-hash', 'cbk_', 'sign', 't', 't')",
                    [],
                )?;
                w.emit(crate::hub::EventKind::ProviderChanged, Some("a"), Audience::All, "{}".into())
            })
            .await
            .unwrap();
        let admin = Scope {
            admin: true,
            ..Scope::default()
        };
        let a2 = admin.clone();
        let whole = receiver.read(move |c| snapshot(c, &a2)).await.unwrap();
        // Pages of two rows: the provider and the five seeded categories
        // take three pages, across tables; the first page holds the cursor.
        let mut pages = Vec::new();
        let mut from: Option<SnapshotKey> = None;
        loop {
            let (s, f) = (admin.clone(), from.clone());
            let page = receiver
                .read(move |c| snapshot_page(c, &s, f.as_ref(), 2))
                .await
                .unwrap();
            assert!(page.tables.iter().map(|t| t.rows.len()).sum::<usize>() <= 2);
            from = page.next.clone();
            pages.push(page);
            if from.is_none() {
                break;
            }
        }
        assert!(pages.len() >= 3, "{} pages", pages.len());
        assert_eq!((pages[0].seq, pages[0].change), (whole.seq, whole.change));
        for t in &whole.tables {
            let paged: Vec<&Map<String, Value>> = pages
                .iter()
                .flat_map(|p| p.tables.iter().filter(|x| x.table == t.table))
                .flat_map(|x| x.rows.iter())
                .collect();
            assert_eq!(paged, t.rows.iter().collect::<Vec<_>>(), "{}", t.table);
        }
        let bad = receiver
            .read(|c| {
                let key = SnapshotKey {
                    table: "tokens".into(),
                    after: 0,
                };
                snapshot_page(c, &Scope::default(), Some(&key), 10)
            })
            .await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");

        // Applied page by page, each in its own transaction: the same rows.
        let (seq, change) = (pages[0].seq, pages[0].change);
        replica.write(begin_snapshot).await.unwrap();
        for p in pages {
            let n = replica
                .write(move |w| apply_snapshot_page(w, &p.tables))
                .await
                .unwrap();
            assert_eq!(n.1, 0);
        }
        // A delivery of a provider the cache does not hold (one added after
        // the providers' page was read) is left out: the feed sends both.
        let orphan: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"id": 7, "provider_id": 99})).unwrap();
        let page = vec![TableRows {
            table: "raw_events".into(),
            rows: vec![orphan],
            deleted: vec![],
        }];
        let n = replica
            .write(move |w| apply_snapshot_page(w, &page))
            .await
            .unwrap();
        assert_eq!(n, (0, 1));
        assert_eq!(
            replica.read(cursor).await.unwrap(),
            None,
            "no cursor mid-copy"
        );
        replica
            .write(move |w| finish_snapshot(w, seq, change, "r"))
            .await
            .unwrap();
        let got = replica.read(cursor).await.unwrap().unwrap();
        assert_eq!((got.seq, got.change), (seq, change));
        let (providers, cats, changes): (i64, i64, i64) = replica
            .read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT COUNT(*) FROM providers), (SELECT COUNT(*) FROM categories), (SELECT COUNT(*) FROM row_changes)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .await
            .unwrap();
        assert_eq!((providers, cats, changes), (1, 5, 0));
    }

    #[tokio::test]
    async fn a_cursor_older_than_the_log_must_snapshot() {
        let (_a, receiver) = temp_store();
        let r = receiver
            .read(|c| changes(c, &Scope::default(), 99, 0))
            .await;
        assert!(matches!(r, Err(Error::Conflict(m)) if m == TOO_FAR_BEHIND));
        // The five seeded categories made five row changes; keep two.
        let gone = receiver.write(|w| prune_changes(w, 2, 100)).await.unwrap();
        assert_eq!(gone, 3);
        let r = receiver.read(|c| changes(c, &Scope::default(), 0, 0)).await;
        assert!(matches!(r, Err(Error::Conflict(m)) if m == TOO_FAR_BEHIND));
        let ok = receiver
            .read(|c| changes(c, &Scope::default(), 0, 3))
            .await
            .unwrap();
        assert_eq!(ok.tables[0].table, "categories");
        assert_eq!(ok.tables[0].rows.len(), 2);
    }
}
