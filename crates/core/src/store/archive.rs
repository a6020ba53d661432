//! Reading what retention archived (`calls_archive`, `dispositions_archive`,
//! `leads_archive`): how much is kept live and archived, and the archived
//! calls of a period, page by page, for an admin's export. Retention writes
//! these tables (`retention`); nothing else changes them.

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// How much is kept, live and archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ArchiveTotals {
    /// Calls in the live tables (every screen reads these).
    pub calls_live: i64,
    /// Calls moved to the archive by retention (`mode: archive`).
    pub calls_archived: i64,
    /// The oldest and newest archived call (`created_at`); null when none.
    pub oldest_archived_call: Option<String>,
    pub newest_archived_call: Option<String>,
    /// Dispositions archived with their calls.
    pub dispositions_archived: i64,
    pub leads_live: i64,
    pub leads_archived: i64,
}

pub fn totals(c: &Connection) -> Result<ArchiveTotals> {
    Ok(c.query_row(
        "SELECT (SELECT COUNT(*) FROM calls),
                (SELECT COUNT(*) FROM calls_archive),
                (SELECT MIN(created_at) FROM calls_archive),
                (SELECT MAX(created_at) FROM calls_archive),
                (SELECT COUNT(*) FROM dispositions_archive),
                (SELECT COUNT(*) FROM leads),
                (SELECT COUNT(*) FROM leads_archive)",
        [],
        |r| {
            Ok(ArchiveTotals {
                calls_live: r.get(0)?,
                calls_archived: r.get(1)?,
                oldest_archived_call: r.get(2)?,
                newest_archived_call: r.get(3)?,
                dispositions_archived: r.get(4)?,
                leads_live: r.get(5)?,
                leads_archived: r.get(6)?,
            })
        },
    )?)
}

/// Which archived calls: created in `[from, to)` (store timestamps), of
/// `department` when given.
#[derive(Debug, Clone, Default)]
pub struct ArchiveFilter {
    pub department: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// An archived call as exported: the call as it was when archived, who it
/// was assigned to, and its dispositions (how many, and the last one).
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedCall {
    /// The archive's row id: the keyset cursor of the export.
    pub row_id: i64,
    pub call_id: String,
    pub department: String,
    pub status: Option<String>,
    pub raw_status: Option<String>,
    pub direction: Option<String>,
    pub mobile_number: Option<String>,
    pub caller_name: Option<String>,
    pub did: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub started_at: Option<String>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_seconds: Option<i64>,
    pub assignee: Option<String>,
    pub attempts: i64,
    pub last_outcome: Option<String>,
    pub resolved_at: Option<String>,
    pub recording_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub archived_at: String,
    pub dispositions: i64,
    pub last_disposition: Option<String>,
    pub last_disposition_notes: Option<String>,
    pub metadata: String,
}

/// One page of archived calls; `?1` department, `?2`/`?3` the period,
/// `?4`/`?5` the cursor, `?6` the page size.
const PAGE_SQL: &str = "SELECT a.id, a.call_id, a.department, a.status, a.raw_status, a.direction,
        a.mobile_number, a.caller_name, a.did, a.agent_id, a.agent_name,
        a.started_at, a.answered_at, a.ended_at, a.duration_seconds,
        u.username, a.attempts, a.last_outcome, a.resolved_at, a.recording_url,
        a.created_at, a.updated_at, a.archived_at,
        (SELECT COUNT(*) FROM dispositions_archive d WHERE d.call_row_id = a.id),
        l.category || COALESCE(' / ' || l.sub_category, ''), l.notes, a.metadata
   FROM calls_archive a
   LEFT JOIN users u ON u.id = a.assignee_id
   LEFT JOIN dispositions_archive l ON l.id = (
        SELECT MAX(d.id) FROM dispositions_archive d WHERE d.call_row_id = a.id)
  WHERE (a.created_at, a.id) > (?4, ?5)
    AND a.created_at >= COALESCE(?2, '')
    AND (?3 IS NULL OR a.created_at < ?3)
    AND (?1 IS NULL OR a.department = ?1)
  ORDER BY a.created_at, a.id
  LIMIT ?6";

/// Where an export's next page starts: after this call (its `created_at`
/// and row id).
pub type Cursor = (String, i64);

/// The next `limit` archived calls after `after`, oldest first.
///
/// Ordered by `created_at` then row id, read along `calls_archive_created`
/// from the cursor (a row-value range, so each page is a seek, not a scan
/// from the start); the cursor is the pair, so pages never skip or repeat a
/// call.
pub fn page_after(
    c: &Connection,
    f: &ArchiveFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<ArchivedCall>> {
    // "" sorts before every timestamp: the first page.
    let (after_at, after_id) = after.map_or(("", 0), |(at, id)| (at.as_str(), *id));
    let mut st = c.prepare_cached(PAGE_SQL)?;
    let rows = st.query_map(
        params![f.department, f.from, f.to, after_at, after_id, limit],
        |r| {
            Ok(ArchivedCall {
                row_id: r.get(0)?,
                call_id: r.get(1)?,
                department: r.get(2)?,
                status: r.get(3)?,
                raw_status: r.get(4)?,
                direction: r.get(5)?,
                mobile_number: r.get(6)?,
                caller_name: r.get(7)?,
                did: r.get(8)?,
                agent_id: r.get(9)?,
                agent_name: r.get(10)?,
                started_at: r.get(11)?,
                answered_at: r.get(12)?,
                ended_at: r.get(13)?,
                duration_seconds: r.get(14)?,
                assignee: r.get(15)?,
                attempts: r.get(16)?,
                last_outcome: r.get(17)?,
                resolved_at: r.get(18)?,
                recording_url: r.get(19)?,
                created_at: r.get(20)?,
                updated_at: r.get(21)?,
                archived_at: r.get(22)?,
                dispositions: r.get(23)?,
                last_disposition: r.get(24)?,
                last_disposition_notes: r.get(25)?,
                metadata: r.get(26)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;
    use crate::Store;

    /// Archives a call as retention does: straight into the archive tables.
    fn archived(c: &Connection, id: i64, dept: &str, created: &str, dispositions: &[&str]) {
        c.execute(
            "INSERT INTO calls_archive (id, provider_id, department, call_id, status, created_at, updated_at, archived_at)
             VALUES (?1, 1, ?2, ?3, 'missed', ?4, ?4, '2026-12-01T00:00:00.000Z')",
            params![id, dept, format!("c{id}"), created],
        )
        .unwrap();
        for (i, cat) in dispositions.iter().enumerate() {
            c.execute(
                "INSERT INTO dispositions_archive (call_row_id, actor, category, notes, outcome, created_at)
                 VALUES (?1, 'asha', ?2, ?3, 'resolved', ?4)",
                params![id, cat, format!("note {i}"), created],
            )
            .unwrap();
        }
    }

    async fn all_pages(store: &Store, f: &ArchiveFilter, size: i64) -> Vec<ArchivedCall> {
        let mut seen = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let (f, from) = (f.clone(), after.clone());
            let page = store
                .read(move |c| page_after(c, &f, from.as_ref(), size))
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.created_at.clone(), last.row_id));
            seen.extend(page);
        }
        seen
    }

    #[tokio::test]
    async fn totals_count_live_and_archived_rows_and_the_archives_reach() {
        let (_dir, store) = temp_store();
        let empty = store.read(totals).await.unwrap();
        assert_eq!(
            (empty.calls_archived, empty.oldest_archived_call),
            (0, None)
        );
        store
            .write(|w| {
                archived(w.conn, 10, "sales", "2026-01-05T10:00:00.000Z", &["Sold"]);
                archived(w.conn, 11, "sales", "2026-03-01T10:00:00.000Z", &[]);
                Ok(())
            })
            .await
            .unwrap();
        let t = store.read(totals).await.unwrap();
        assert_eq!(t.calls_archived, 2);
        assert_eq!(t.dispositions_archived, 1);
        assert_eq!(
            t.oldest_archived_call.as_deref(),
            Some("2026-01-05T10:00:00.000Z")
        );
        assert_eq!(
            t.newest_archived_call.as_deref(),
            Some("2026-03-01T10:00:00.000Z")
        );
        assert_eq!((t.calls_live, t.leads_live, t.leads_archived), (0, 0, 0));
    }

    #[tokio::test]
    async fn pages_walk_a_period_oldest_first_without_skipping_equal_times() {
        let (_dir, store) = temp_store();
        store
            .write(|w| {
                // Three calls at the same instant straddle a page boundary.
                archived(w.conn, 5, "sales", "2026-02-01T09:00:00.000Z", &["A", "B"]);
                archived(w.conn, 3, "sales", "2026-02-01T09:00:00.000Z", &[]);
                archived(w.conn, 4, "support", "2026-02-01T09:00:00.000Z", &[]);
                archived(w.conn, 1, "sales", "2026-01-31T23:59:59.000Z", &[]);
                archived(w.conn, 9, "sales", "2026-02-02T00:00:00.000Z", &[]);
                Ok(())
            })
            .await
            .unwrap();
        let day = ArchiveFilter {
            department: None,
            from: Some("2026-02-01T00:00:00.000Z".into()),
            to: Some("2026-02-02T00:00:00.000Z".into()),
        };
        let seen = all_pages(&store, &day, 2).await;
        let ids: Vec<i64> = seen.iter().map(|c| c.row_id).collect();
        assert_eq!(
            ids,
            vec![3, 4, 5],
            "the period's calls, each once, oldest first"
        );
        let five = &seen[2];
        assert_eq!(five.dispositions, 2);
        assert_eq!(five.last_disposition.as_deref(), Some("B"));
        assert_eq!(five.last_disposition_notes.as_deref(), Some("note 1"));
        let sales = ArchiveFilter {
            department: Some("sales".into()),
            ..ArchiveFilter::default()
        };
        let ids: Vec<i64> = all_pages(&store, &sales, 10)
            .await
            .iter()
            .map(|c| c.row_id)
            .collect();
        assert_eq!(ids, vec![1, 3, 5, 9]);
    }

    #[tokio::test]
    async fn a_page_seeks_along_the_creation_index() {
        let (_dir, store) = temp_store();
        let plan: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {PAGE_SQL}"))?;
                let none = Option::<String>::None;
                let rows = st.query_map(params![none, none, none, "2026-01-01", 7, 100], |r| {
                    r.get::<_, String>(3)
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
            .unwrap();
        let plan = plan.join(" | ");
        assert!(plan.contains("calls_archive_created"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
