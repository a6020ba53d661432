//! SLA deadlines of open worklist calls: recomputed when a department's
//! clock changes, and marked breached the moment they run out.

use super::calls::{self, Call};
use super::Writer;
use crate::error::Result;
use crate::hub::Audience;
use crate::sla::{self, BusinessHours};
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};

/// Calls whose clock still runs: unresolved, not breached. Only worklist
/// calls get a deadline, and their end status is final, so no status test:
/// the clause is exactly the `calls_sla_running` index's.
const OPEN: &str = "sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND resolved_at IS NULL";

/// The earliest deadline still running, if any.
pub fn next_due(conn: &Connection) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT sla_due_at FROM calls WHERE {OPEN} ORDER BY sla_due_at LIMIT 1"
    ))?;
    Ok(stmt.query_row([], |r| r.get(0)).optional()?)
}

/// Marks up to `limit` calls whose deadline has passed as breached (one
/// statement) and puts each on the stream as `call.sla_breached`.
pub fn mark_breaches(w: &mut Writer<'_>, limit: i64) -> Result<Vec<Call>> {
    let now = time::fmt(w.now);
    let ids: Vec<i64> = {
        let mut stmt = w.conn.prepare_cached(&format!(
            "UPDATE calls SET sla_breached_at = ?1 WHERE id IN (
                SELECT id FROM calls WHERE {OPEN} AND sla_due_at <= ?1 ORDER BY sla_due_at LIMIT ?2)
             RETURNING id"
        ))?;
        let rows = stmt.query_map(params![now, limit], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let call = calls::by_row_id(w.conn, id)?;
        let data = serde_json::to_string(&call)?;
        w.emit(
            crate::hub::EventKind::CallSlaBreached,
            Some(&call.department),
            Audience::All,
            data,
        )?;
        out.push(call);
    }
    out.sort_by(|a, b| a.sla_due_at.cmp(&b.sla_due_at));
    Ok(out)
}

/// Recomputes the deadlines of `department`'s running clocks after its SLA
/// minutes or business hours changed. Returns how many changed.
pub fn recompute(
    w: &mut Writer<'_>,
    department: &str,
    sla_minutes: i64,
    hours: Option<&BusinessHours>,
) -> Result<usize> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = w.conn.prepare_cached(&format!(
            "SELECT id, worklist_since FROM calls
             WHERE department = ?1 AND worklist_since IS NOT NULL AND {OPEN}"
        ))?;
        let rows = stmt.query_map([department], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut changed = 0;
    for (id, since) in rows {
        let Some(start) = time::parse(&since) else {
            continue;
        };
        let due = time::fmt(sla::deadline(start, sla_minutes, hours));
        changed += w.conn.execute(
            "UPDATE calls SET sla_due_at = ?2 WHERE id = ?1 AND sla_due_at IS NOT ?2",
            params![id, due],
        )?;
    }
    if changed > 0 {
        w.deadlines_changed();
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_deadline_is_read_from_the_running_clocks_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate::run(&mut conn).unwrap();
        let plan: String = conn
            .query_row(
                &format!(
                    "EXPLAIN QUERY PLAN SELECT sla_due_at FROM calls WHERE {OPEN} ORDER BY sla_due_at LIMIT 1"
                ),
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("calls_sla_running"), "{plan}");
    }

    /// A clock the test moves by hand.
    #[derive(Debug)]
    struct Manual(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

    impl crate::time::Clock for Manual {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            *self.0.lock().unwrap()
        }
    }

    #[tokio::test]
    async fn breaches_are_marked_once_by_the_injected_clock_and_announced() {
        use crate::store::audit::Actor;
        use crate::store::providers::{self, NewProvider};
        let t0 = time::parse("2026-11-24T09:00:00Z").unwrap();
        let clock = std::sync::Arc::new(Manual(std::sync::Mutex::new(t0)));
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path().join("callboard.db"), clock.clone()).unwrap();
        let mut rx = store.hub().subscribe();
        store
            .write(|w| {
                let actor = Actor { user_id: None, name: "t".into() };
                providers::create(w, NewProvider { name: "Sla".into(), ..Default::default() }, &actor)?;
                for (id, due) in [("a", "2026-11-24T09:10:00.000Z"), ("b", "2026-11-24T09:20:00.000Z")] {
                    w.conn.execute(
                        "INSERT INTO calls (provider_id, department, call_id, status, worklist_since, sla_due_at, created_at, updated_at)
                         VALUES (1, 'sla', ?1, 'missed', '2026-11-24T09:00:00.000Z', ?2, 't', 't')",
                        params![id, due],
                    )?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            store.read(next_due).await.unwrap().as_deref(),
            Some("2026-11-24T09:10:00.000Z")
        );
        assert!(
            store
                .write(|w| mark_breaches(w, 10))
                .await
                .unwrap()
                .is_empty(),
            "nothing due at 09:00"
        );
        *clock.0.lock().unwrap() = time::parse("2026-11-24T09:10:00Z").unwrap();
        let marked = store.write(|w| mark_breaches(w, 10)).await.unwrap();
        assert_eq!(marked.len(), 1, "due exactly now is breached");
        assert_eq!(marked[0].call_id, "a");
        assert_eq!(
            marked[0].sla_breached_at.as_deref(),
            Some("2026-11-24T09:10:00.000Z")
        );
        assert!(
            store
                .write(|w| mark_breaches(w, 10))
                .await
                .unwrap()
                .is_empty(),
            "only once"
        );
        assert_eq!(
            store.read(next_due).await.unwrap().as_deref(),
            Some("2026-11-24T09:20:00.000Z")
        );
        let mut kinds = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            kinds.push(ev.kind.clone());
        }
        assert_eq!(
            kinds.iter().filter(|k| *k == "call.sla_breached").count(),
            1,
            "{kinds:?}"
        );
    }
}
