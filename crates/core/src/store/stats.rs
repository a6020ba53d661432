//! The numbers on the console's badges and dashboard header.

use super::metrics::OFFERED_AT;
use crate::error::Result;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct LiveCounts {
    pub waiting: i64,
    pub ringing: i64,
    pub active: i64,
    pub missed: i64,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WorklistCounts {
    pub pending: i64,
    pub assigned: i64,
    pub attempted: i64,
    pub resolved: i64,
}

/// One department's day, for the dashboard's per-department rows.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DepartmentDay {
    pub total_today: i64,
    pub completed_today: i64,
    pub failed_today: i64,
    pub missed_today: i64,
    pub hangup_today: i64,
    /// Mean `duration_seconds` of today's completed calls (0 when none).
    pub avg_duration: f64,
    /// Open worklist calls (not resolved) whose callback SLA is past due.
    pub sla_breached: i64,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Per department: calls waiting, ringing, active, and missed still pending.
    pub live: BTreeMap<String, LiveCounts>,
    /// Per department: missed/hangup calls nobody has taken yet.
    pub hangup_pending: BTreeMap<String, i64>,
    /// Per department: the four worklist views.
    pub worklist: BTreeMap<String, WorklistCounts>,
    /// Calls waiting, ringing or talking right now.
    pub active_calls: i64,
    /// Inbound calls offered since `day_start` (the metrics' `offered`).
    pub total_today: i64,
    pub completed_today: i64,
    pub failed_today: i64,
    pub missed_today: i64,
    pub hangup_today: i64,
    /// Mean `duration_seconds` of today's completed calls (0 when none).
    pub avg_duration: f64,
    /// Open worklist calls (not resolved) whose callback SLA is past due.
    pub sla_breached: i64,
    /// Per department: today's figures and SLA breaches.
    pub departments: BTreeMap<String, DepartmentDay>,
    /// Start of "today" used above (UTC, RFC 3339).
    pub day_start: String,
    /// Event stream head when these were read.
    pub seq: i64,
}

/// `departments`: None for all, Some(list) to restrict (agents).
/// `now` decides which SLA clocks have run out.
pub fn read(
    conn: &Connection,
    departments: Option<&[String]>,
    day_start: &str,
    now: &str,
) -> Result<Stats> {
    let allowed = |d: &str| departments.is_none_or(|ds| ds.iter().any(|x| x == d));
    let mut s = Stats {
        day_start: day_start.to_string(),
        ..Default::default()
    };
    {
        let mut stmt = conn.prepare_cached(
            "SELECT department, status, COUNT(*) FROM calls
             WHERE status IN ('waiting', 'ringing', 'active') GROUP BY department, status",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (dep, status, n) = row?;
            if !allowed(&dep) {
                continue;
            }
            let e = s.live.entry(dep).or_default();
            match status.as_str() {
                "waiting" => e.waiting = n,
                "ringing" => e.ringing = n,
                _ => e.active = n,
            }
            s.active_calls += n;
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            // The summary the calls' triggers keep (v7_scale.sql), not a
            // count of every missed call ever taken.
            "SELECT department, work_state, status, n FROM worklist_counts WHERE n > 0",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (dep, state, status, n) = row?;
            if !allowed(&dep) {
                continue;
            }
            let w = s.worklist.entry(dep.clone()).or_default();
            match state.as_str() {
                "pending" => {
                    w.pending += n;
                    *s.hangup_pending.entry(dep.clone()).or_default() += n;
                    if status == "missed" {
                        s.live.entry(dep).or_default().missed += n;
                    }
                }
                "assigned" => w.assigned += n,
                "attempted" => w.attempted += n,
                _ => w.resolved += n,
            }
        }
    }
    {
        // "Today" counts calls as the analytics do (`metrics::OFFERED_AT`,
        // inbound only), so `total_today` is the metrics' `offered` and
        // `missed_today` their `missed` (docs/METRICS.md, glossary).
        let mut stmt = conn.prepare_cached(&today_sql())?;
        let rows = stmt.query_map([day_start], |r| {
            Ok((
                r.get::<_, String>(0)?,
                [
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                    r.get::<_, Option<i64>>(7)?.unwrap_or(0),
                ],
            ))
        })?;
        let (mut dur_sum, mut dur_n) = (0i64, 0i64);
        for row in rows {
            let (dep, v) = row?;
            if !allowed(&dep) {
                continue;
            }
            s.total_today += v[0];
            s.completed_today += v[1];
            s.failed_today += v[2];
            s.missed_today += v[3];
            s.hangup_today += v[4];
            dur_sum += v[5];
            dur_n += v[6];
            let d = s.departments.entry(dep).or_default();
            d.total_today = v[0];
            d.completed_today = v[1];
            d.failed_today = v[2];
            d.missed_today = v[3];
            d.hangup_today = v[4];
            d.avg_duration = mean(v[5], v[6]);
        }
        s.avg_duration = mean(dur_sum, dur_n);
    }
    let mut marked = conn.prepare_cached(MARKED_SQL)?;
    let mut unmarked = conn.prepare_cached(UNMARKED_SQL)?;
    let by_dep = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?));
    let parts = [
        marked
            .query_map([], by_dep)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        unmarked
            .query_map([now], by_dep)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    ];
    for rows in parts {
        for (dep, n) in rows {
            if !allowed(&dep) {
                continue;
            }
            s.sla_breached += n;
            s.departments.entry(dep).or_default().sla_breached += n;
        }
    }
    s.seq = super::events::head(conn)?;
    Ok(s)
}

/// Open worklist calls whose SLA ran out, per department, in two parts that
/// add up. Those the SLA watch has marked (`sla_breached_at`) are counted by
/// the calls' triggers (v24), so a read costs a row per department however
/// many there are; a marked clock ran out before its mark, so before now.
const MARKED_SQL: &str = "SELECT department, n FROM sla_breached_counts WHERE n > 0";

/// The rest: calls due by `?1` that the watch has not marked yet (it marks
/// them within a second of their deadline, so these are few), on the index
/// of running clocks. Only worklist calls get a deadline; the `work_state`
/// test keeps the two parts to the same calls.
const UNMARKED_SQL: &str = "SELECT department, COUNT(*) FROM calls INDEXED BY calls_sla_running
     WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND resolved_at IS NULL
       AND sla_due_at < ?1 AND work_state IN ('pending', 'assigned', 'attempted')
     GROUP BY +department";

/// Today's calls per department. `GROUP BY +department`: grouping by the
/// bare column lets SQLite walk `calls_dept_created` (every call ever, in
/// department order) to skip a sort, which on a year of calls took seconds;
/// the `+` leaves it the offered-at range, a day's rows.
fn today_sql() -> String {
    format!(
        "SELECT department, COUNT(*),
                SUM(status = 'completed'), SUM(status = 'failed'), SUM(status = 'missed'),
                SUM(status = 'hangup'),
                SUM(CASE WHEN status = 'completed' AND duration_seconds IS NOT NULL THEN duration_seconds ELSE 0 END),
                SUM(status = 'completed' AND duration_seconds IS NOT NULL)
         FROM calls c WHERE {OFFERED_AT} >= ?1
           AND LOWER(COALESCE(c.direction, '')) NOT LIKE 'out%'
         GROUP BY +department"
    )
}

/// Mean to one decimal; 0 when there is nothing to average.
fn mean(sum: i64, n: i64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    ((sum as f64 / n as f64) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    #[test]
    fn todays_counts_read_the_days_rows_on_the_offered_at_index() {
        use crate::store::test_support::{migrated, query_plan};
        let conn = migrated();
        // The planner's choice with and without statistics.
        for analyzed in [false, true] {
            if analyzed {
                conn.execute_batch("ANALYZE").unwrap();
            }
            let plan = query_plan(&conn, &super::today_sql(), ["2026-01-01"]);
            assert!(plan.contains("calls_offered_at"), "{plan}");
            assert!(!plan.contains("SCAN"), "{plan}");
        }
    }

    #[test]
    fn run_out_clocks_are_counted_on_the_sla_index() {
        use crate::store::test_support::{migrated, query_plan};
        let conn = migrated();
        let plan = query_plan(&conn, super::UNMARKED_SQL, ["2026-01-01"]);
        assert!(
            plan.contains("USING INDEX calls_sla_running (sla_due_at"),
            "{plan}"
        );
    }

    fn counted(conn: &Connection) -> Vec<(String, String, String, i64)> {
        conn.prepare(
            "SELECT department, work_state, status, COUNT(*) FROM calls
             WHERE work_state IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    fn summary(conn: &Connection) -> Vec<(String, String, String, i64)> {
        conn.prepare(
            "SELECT department, work_state, status, n FROM worklist_counts WHERE n > 0 ORDER BY 1, 2, 3",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn the_worklist_counts_follow_every_insert_update_and_delete() {
        let conn = crate::store::test_support::with_departments(&["a", "b"]);
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at, updated_at)
             VALUES ('ann', 'x', 'agent', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [],
        )
        .unwrap();
        for i in 0..30i64 {
            conn.execute(
                "INSERT INTO calls (provider_id, department, call_id, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
                params![
                    1 + i % 2,
                    ["a", "b"][(i % 2) as usize],
                    format!("c{i}"),
                    ["ringing", "missed", "hangup", "completed", "waiting"][(i % 5) as usize]
                ],
            )
            .unwrap();
        }
        assert!(!summary(&conn).is_empty());
        assert_eq!(summary(&conn), counted(&conn));
        // Into the worklist, through its views, out of it, and gone.
        let steps = [
            "UPDATE calls SET status = 'missed' WHERE status = 'ringing'",
            "UPDATE calls SET assignee_id = 1 WHERE id % 3 = 0",
            "UPDATE calls SET attempts = attempts + 1 WHERE id % 4 = 0",
            "UPDATE calls SET resolved_at = '2026-01-02T00:00:00.000Z' WHERE id % 5 = 0",
            "UPDATE calls SET caller_name = 'x'",
            "UPDATE calls SET status = 'completed' WHERE id = 2",
            "DELETE FROM calls WHERE id % 7 = 0",
            "UPDATE calls SET attempts = 0, resolved_at = NULL, assignee_id = NULL WHERE id % 2 = 0",
        ];
        for step in steps {
            conn.execute(step, []).unwrap();
            assert_eq!(summary(&conn), counted(&conn), "after {step}");
        }
    }

    fn breached_counted(conn: &Connection) -> Vec<(String, i64)> {
        pairs(
            conn,
            "SELECT department, COUNT(*) FROM calls
             WHERE work_state IN ('pending', 'assigned', 'attempted') AND sla_breached_at IS NOT NULL
             GROUP BY 1 ORDER BY 1",
        )
    }

    fn breached_summary(conn: &Connection) -> Vec<(String, i64)> {
        pairs(
            conn,
            "SELECT department, n FROM sla_breached_counts WHERE n > 0 ORDER BY 1",
        )
    }

    fn pairs(conn: &Connection, sql: &str) -> Vec<(String, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn the_breach_counts_follow_marks_views_moves_and_deletes() {
        let conn = crate::store::test_support::with_departments(&["a", "b"]);
        for i in 0..40i64 {
            // Some arrive already marked (a copy, a restore), most are marked later.
            let breached = (i % 6 == 0).then_some("2026-01-01T01:00:00.000Z");
            conn.execute(
                "INSERT INTO calls (provider_id, department, call_id, status, sla_due_at,
                                    sla_breached_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:30:00.000Z', ?5,
                         '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
                params![
                    1 + i % 2,
                    ["a", "b"][(i % 2) as usize],
                    format!("c{i}"),
                    ["missed", "hangup", "missed", "completed"][(i % 4) as usize],
                    breached
                ],
            )
            .unwrap();
        }
        assert!(!breached_summary(&conn).is_empty());
        assert_eq!(breached_summary(&conn), breached_counted(&conn));
        let steps = [
            "UPDATE calls SET sla_breached_at = '2026-01-01T02:00:00.000Z' WHERE id % 3 = 0",
            "UPDATE calls SET attempts = 1 WHERE id % 4 = 1",
            "UPDATE calls SET resolved_at = '2026-01-02T00:00:00.000Z' WHERE id % 5 = 0",
            "UPDATE calls SET department = 'b' WHERE id = 7",
            "UPDATE calls SET caller_name = 'x'",
            "DELETE FROM calls WHERE id % 7 = 0",
            "UPDATE calls SET resolved_at = NULL WHERE id % 2 = 0",
            "UPDATE calls SET sla_breached_at = NULL WHERE id % 9 = 0",
            "UPDATE calls SET status = 'completed' WHERE id = 2",
        ];
        for step in steps {
            conn.execute(step, []).unwrap();
            assert_eq!(
                breached_summary(&conn),
                breached_counted(&conn),
                "after {step}"
            );
        }
    }
}
