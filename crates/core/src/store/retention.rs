//! Retention: finished calls older than N days are archived (moved to
//! `calls_archive`) or deleted, raw payloads are dropped after their own
//! period. Leads (the lead webhook) follow their calls: a lead no call
//! names any more, unchanged for the calls' period, is archived (to
//! `leads_archive`) or deleted by the same mode. Work happens in small
//! batches, each its own write, so ingestion keeps flowing between them;
//! open work (live calls, unresolved worklist
//! calls) is never touched. Every run is a `retention_runs` row and an
//! audit entry.

use super::audit;
use super::audit::Actor;
use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Rows per write transaction: small enough that a batch never holds the
/// writer long enough to be felt by ingestion.
pub const BATCH: i64 = 100;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetentionMode {
    /// Move old calls (and their dispositions) to `calls_archive`.
    #[default]
    Archive,
    /// Delete old calls and their dispositions.
    Delete,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Archive => "archive",
            RetentionMode::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Finished calls older than this many days are archived or deleted; 0 keeps everything.
    pub calls_days: i64,
    pub mode: RetentionMode,
    /// Raw webhook deliveries (payloads) older than this many days are deleted; 0 keeps them.
    pub raw_days: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            calls_days: 30,
            mode: RetentionMode::Archive,
            raw_days: 7,
        }
    }
}

const KEY: &str = "retention";

/// The stored settings, or the defaults when none were ever saved. Stored
/// settings this build cannot read are an error naming the row: read as
/// the defaults, "keep everything" would become "archive after 30 days".
pub fn settings(conn: &Connection) -> Result<RetentionSettings> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([KEY], |r| At::new("settings", KEY).json(r, 0, "value"))
        .optional()?
        .unwrap_or_default())
}

pub fn put_settings(
    w: &mut Writer<'_>,
    s: RetentionSettings,
    actor: &Actor,
) -> Result<RetentionSettings> {
    for (field, v) in [("calls_days", s.calls_days), ("raw_days", s.raw_days)] {
        if !(0..=36_500).contains(&v) {
            return Err(Error::invalid(format!(
                "{field} must be between 0 (keep everything) and 36500"
            )));
        }
    }
    let before = settings(w.conn)?;
    w.conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![KEY, serde_json::to_string(&s)?],
    )?;
    audit::record(
        w,
        actor,
        "retention.settings",
        None,
        serde_json::json!({ "from": before, "to": s }),
    )?;
    Ok(s)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetentionRun {
    pub id: i64,
    /// `schedule` (the daily run) or `manual`.
    pub trigger: String,
    pub actor: String,
    pub mode: RetentionMode,
    pub calls_days: i64,
    pub raw_days: i64,
    pub started_at: String,
    /// Null while the run is going.
    pub finished_at: Option<String>,
    pub calls_archived: i64,
    pub calls_deleted: i64,
    pub raw_events_deleted: i64,
    /// Leads moved to the archive (mode `archive`) or deleted (mode
    /// `delete`): no call names them any more, and they have not changed
    /// for `calls_days`.
    pub leads_archived: i64,
    pub leads_deleted: i64,
    pub batches: i64,
    pub error: Option<String>,
}

const RUN_COLS: &str = "id, trigger, actor, mode, calls_days, raw_days, started_at, finished_at, calls_archived, calls_deleted, raw_events_deleted, batches, error, leads_archived, leads_deleted";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RetentionRun> {
    let mode: String = r.get(3)?;
    Ok(RetentionRun {
        id: r.get(0)?,
        trigger: r.get(1)?,
        actor: r.get(2)?,
        mode: if mode == "delete" {
            RetentionMode::Delete
        } else {
            RetentionMode::Archive
        },
        calls_days: r.get(4)?,
        raw_days: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        calls_archived: r.get(8)?,
        calls_deleted: r.get(9)?,
        raw_events_deleted: r.get(10)?,
        batches: r.get(11)?,
        error: r.get(12)?,
        leads_archived: r.get(13)?,
        leads_deleted: r.get(14)?,
    })
}

pub fn run(conn: &Connection, id: i64) -> Result<RetentionRun> {
    conn.query_row(
        &format!("SELECT {RUN_COLS} FROM retention_runs WHERE id = ?1"),
        [id],
        run_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no retention run {id}")))
}

/// Newest first.
pub fn runs(conn: &Connection, limit: i64) -> Result<Vec<RetentionRun>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RUN_COLS} FROM retention_runs ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit.clamp(1, 1000)], run_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The start of the newest run, for the daily schedule.
pub fn last_started(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT started_at FROM retention_runs ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// What one run removes: cut-offs fixed when it starts.
#[derive(Debug, Clone)]
pub struct Plan {
    pub run_id: i64,
    pub mode: RetentionMode,
    /// Finished calls created before this go (None: keep all).
    pub calls_before: Option<String>,
    /// Raw deliveries received before this go (None: keep all).
    pub raw_before: Option<String>,
}

/// The batch's selection of old leads: unchanged since before the calls'
/// cut-off, and named by no call of their department any more (their calls
/// were archived or deleted, or there never was one). The comparison with
/// the column gives the call's `lead_id` the column's text affinity, so a
/// number in the metadata matches its digits.
const OLD_LEADS: &str = "SELECT l.id FROM leads l WHERE l.updated_at < ?1
    AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.department = l.department
                      AND json_extract(c.metadata, '$.lead_id') = l.lead_id)
    ORDER BY l.updated_at LIMIT ?2";

const LEAD_ARCHIVE_COLS: &str = "id, provider_id, department, lead_id, first_name, last_name, phone, email, status, status_name, list_id, owner_id, address1, city, state, postal_code, created_at, modified_at, raw, received_at, updated_at, version";

/// Records the start of a run with the current settings.
pub fn start(w: &mut Writer<'_>, trigger: &str, actor: &Actor) -> Result<Plan> {
    let s = settings(w.conn)?;
    let cutoff = |days: i64| (days > 0).then(|| time::fmt(w.now - chrono::Duration::days(days)));
    w.conn.execute(
        "INSERT INTO retention_runs (trigger, actor, mode, calls_days, raw_days, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            trigger,
            actor.name,
            s.mode.as_str(),
            s.calls_days,
            s.raw_days,
            time::fmt(w.now)
        ],
    )?;
    Ok(Plan {
        run_id: w.conn.last_insert_rowid(),
        mode: s.mode,
        calls_before: cutoff(s.calls_days),
        raw_before: cutoff(s.raw_days),
    })
}

/// Finished: completed or failed, or a worklist call that was resolved.
/// The unary `+` keeps the planner off the status index: a batch must walk
/// `calls_created` from the oldest and stop after [`BATCH`] rows, not sort
/// every finished call each time.
const FINISHED: &str = "(+status IN ('completed', 'failed')
    OR (+status IN ('missed', 'hangup') AND resolved_at IS NOT NULL))";

/// The batch's selection of old finished calls.
const OLD_FINISHED: &str =
    "SELECT id FROM calls WHERE created_at < ?1 AND {FINISHED} ORDER BY created_at LIMIT ?2";

const ARCHIVE_COLS: &str = "id, provider_id, department, call_id, mobile_number, caller_name, did, direction, status, raw_status, agent_id, agent_name, started_at, answered_at, ended_at, duration_seconds, recording_url, metadata, assignee_id, assigned_at, attempts, last_outcome, next_callback_at, resolved_at, worklist_since, sla_due_at, sla_breached_at, event_at, events_count, version, created_at, updated_at";

/// One batch of at most [`BATCH`] calls and [`BATCH`] raw deliveries.
/// Returns how many rows it removed (0: the run is done).
pub fn batch(w: &mut Writer<'_>, plan: &Plan) -> Result<i64> {
    let mut calls_done = 0i64;
    if let Some(before) = &plan.calls_before {
        let ids: Vec<i64> = {
            let mut stmt = w
                .conn
                .prepare_cached(&OLD_FINISHED.replace("{FINISHED}", FINISHED))?;
            let rows = stmt.query_map(params![before, BATCH], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        if !ids.is_empty() {
            let ids_json = serde_json::to_string(&ids)?;
            let set = "(SELECT value FROM json_each(?1))";
            if plan.mode == RetentionMode::Archive {
                w.conn.execute(
                    &format!(
                        "INSERT INTO calls_archive ({ARCHIVE_COLS}, archived_at)
                         SELECT {ARCHIVE_COLS}, ?2 FROM calls WHERE id IN {set}"
                    ),
                    params![ids_json, time::fmt(w.now)],
                )?;
                w.conn.execute(
                    &format!(
                        "INSERT INTO dispositions_archive SELECT * FROM dispositions WHERE call_row_id IN {set}"
                    ),
                    [&ids_json],
                )?;
            }
            w.conn.execute(
                &format!("DELETE FROM dispositions WHERE call_row_id IN {set}"),
                [&ids_json],
            )?;
            w.conn.execute(
                &format!("DELETE FROM voicemails WHERE call_row_id IN {set}"),
                [&ids_json],
            )?;
            w.conn.execute(
                &format!("DELETE FROM callback_attempts WHERE call_row_id IN {set}"),
                [&ids_json],
            )?;
            w.conn.execute(
                &format!("DELETE FROM sms_outbox WHERE call_row_id IN {set}"),
                [&ids_json],
            )?;
            // Raw deliveries stay for their own period; they only lose the link.
            w.conn.execute(
                &format!("UPDATE raw_events SET call_row_id = NULL WHERE call_row_id IN {set}"),
                [&ids_json],
            )?;
            calls_done = w
                .conn
                .execute(&format!("DELETE FROM calls WHERE id IN {set}"), [&ids_json])?
                as i64;
        }
    }
    // After the calls: a lead whose last call went in this batch goes too.
    let mut leads_done = 0i64;
    if let Some(before) = &plan.calls_before {
        let ids: Vec<i64> = {
            let mut stmt = w.conn.prepare_cached(OLD_LEADS)?;
            let rows = stmt.query_map(params![before, BATCH], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        if !ids.is_empty() {
            let ids_json = serde_json::to_string(&ids)?;
            let set = "(SELECT value FROM json_each(?1))";
            if plan.mode == RetentionMode::Archive {
                w.conn.execute(
                    &format!(
                        "INSERT INTO leads_archive ({LEAD_ARCHIVE_COLS}, archived_at)
                         SELECT {LEAD_ARCHIVE_COLS}, ?2 FROM leads WHERE id IN {set}"
                    ),
                    params![ids_json, time::fmt(w.now)],
                )?;
            }
            leads_done = w
                .conn
                .execute(&format!("DELETE FROM leads WHERE id IN {set}"), [&ids_json])?
                as i64;
        }
    }
    let mut raw_done = 0i64;
    if let Some(before) = &plan.raw_before {
        raw_done = w.conn.execute(
            "DELETE FROM raw_events WHERE id IN (
                SELECT id FROM raw_events WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)",
            params![before, BATCH],
        )? as i64;
    }
    let (archived, deleted, leads_archived, leads_deleted) = match plan.mode {
        RetentionMode::Archive => (calls_done, 0, leads_done, 0),
        RetentionMode::Delete => (0, calls_done, 0, leads_done),
    };
    w.conn.execute(
        "UPDATE retention_runs SET calls_archived = calls_archived + ?2, calls_deleted = calls_deleted + ?3,
             raw_events_deleted = raw_events_deleted + ?4, leads_archived = leads_archived + ?5,
             leads_deleted = leads_deleted + ?6, batches = batches + 1 WHERE id = ?1",
        params![plan.run_id, archived, deleted, raw_done, leads_archived, leads_deleted],
    )?;
    Ok(calls_done + raw_done + leads_done)
}

/// Closes the run and records it in the audit log.
pub fn finish(
    w: &mut Writer<'_>,
    run_id: i64,
    error: Option<&str>,
    actor: &Actor,
) -> Result<RetentionRun> {
    w.conn.execute(
        "UPDATE retention_runs SET finished_at = ?2, error = ?3 WHERE id = ?1",
        params![run_id, time::fmt(w.now), error],
    )?;
    let r = run(w.conn, run_id)?;
    audit::record(
        w,
        actor,
        "retention.run",
        Some(&format!("run {run_id}")),
        serde_json::json!({
            "trigger": r.trigger, "mode": r.mode, "calls_days": r.calls_days, "raw_days": r.raw_days,
            "calls_archived": r.calls_archived, "calls_deleted": r.calls_deleted,
            "raw_events_deleted": r.raw_events_deleted, "leads_archived": r.leads_archived,
            "leads_deleted": r.leads_deleted, "batches": r.batches, "error": r.error,
        }),
    )?;
    Ok(r)
}

/// Marks runs left unfinished by a stopped process, at start-up: those
/// started before `before` (this process's start), so a run started since
/// (by a request that came in first) is never taken for a dead one.
pub fn close_interrupted(w: &mut Writer<'_>, before: time::Timestamp) -> Result<usize> {
    Ok(w.conn.execute(
        "UPDATE retention_runs SET finished_at = ?1, error = 'interrupted: the server stopped during the run'
         WHERE finished_at IS NULL AND started_at < ?2",
        params![time::fmt(w.now), time::fmt(before)],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unreadable stored settings stop the read (naming the row) instead of
    /// turning "keep everything" into the 30-day default.
    #[tokio::test]
    async fn unreadable_settings_are_an_error_not_the_defaults() {
        let (_dir, store) = crate::store::test_support::temp_store();
        assert_eq!(
            store.read(settings).await.unwrap(),
            RetentionSettings::default()
        );
        let e = store
            .write(|w| {
                w.conn.execute(
                    "INSERT INTO settings (key, value) VALUES ('retention', '{\"calls_days\": 0,')",
                    [],
                )?;
                Ok(settings(w.conn).map_err(|e| e.to_string()))
            })
            .await
            .unwrap()
            .expect_err("unreadable settings");
        assert!(e.contains("settings row retention, column value"), "{e}");
    }

    /// A run cut off by a stop is closed at the next start; a run a request
    /// started since (before the daily task came round) is left to finish.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_runs_from_before_the_start_are_closed_as_interrupted() {
        let (_dir, store) = crate::store::test_support::temp_store();
        let actor = Actor {
            user_id: None,
            name: "test".into(),
        };
        let a = actor.clone();
        let old = store
            .write(move |w| start(w, "schedule", &a))
            .await
            .unwrap()
            .run_id;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let serving_since = store.now();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let new = store
            .write(move |w| start(w, "manual", &actor))
            .await
            .unwrap()
            .run_id;
        let closed = store
            .write(move |w| close_interrupted(w, serving_since))
            .await
            .unwrap();
        assert_eq!(closed, 1);
        let old = store.read(move |c| run(c, old)).await.unwrap();
        assert!(old.error.unwrap().starts_with("interrupted"));
        let new = store.read(move |c| run(c, new)).await.unwrap();
        assert!(new.finished_at.is_none() && new.error.is_none(), "{new:?}");
    }

    #[test]
    fn a_batch_walks_the_creation_index_without_sorting() {
        use crate::store::test_support::{migrated, query_plan};
        let sql = OLD_FINISHED.replace("{FINISHED}", FINISHED);
        let plan = query_plan(&migrated(), &sql, params!["2026-01-01", 500]);
        assert!(plan.contains("calls_created"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
