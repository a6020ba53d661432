//! Who a number is, as a department's calls know it: what a telephone
//! system shows when it asks Callboard to name a caller (3CX's contact
//! lookup). Read on the numbers' index (`calls_number`).

use crate::error::Result;
use rusqlite::{params, Connection};

/// Most recent calls read for a name.
const RECENT: i64 = 50;

/// A caller a department has calls from.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub number: String,
    /// The newest caller name among their recent calls.
    pub name: Option<String>,
    pub calls: i64,
    pub last_call_at: String,
    pub last_status: String,
}

const RECENT_SQL: &str = "SELECT caller_name, created_at, status FROM calls
     WHERE mobile_number = ?1 AND +department = ?2
     ORDER BY created_at DESC LIMIT ?3";

const COUNT_SQL: &str = "SELECT COUNT(*) FROM calls WHERE mobile_number = ?1 AND +department = ?2";

/// The caller `number` (as the department's calls store it), if the
/// department has calls from them.
// `+department`: the numbers' index finds a caller's calls; a department's
// index would walk all of its calls.
pub fn by_number(conn: &Connection, department: &str, number: &str) -> Result<Option<Contact>> {
    let recent: Vec<(Option<String>, String, String)> = conn
        .prepare_cached(RECENT_SQL)?
        .query_map(params![number, department, RECENT], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let Some((_, last_call_at, last_status)) = recent.first().cloned() else {
        return Ok(None);
    };
    let name = recent
        .iter()
        .filter_map(|(n, _, _)| n.as_deref().map(str::trim))
        .find(|n| !n.is_empty())
        .map(str::to_string);
    let calls: i64 = conn
        .prepare_cached(COUNT_SQL)?
        .query_row(params![number, department], |r| r.get(0))?;
    Ok(Some(Contact {
        number: number.to_string(),
        name,
        calls,
        last_call_at,
        last_status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{query_plan, with_departments};

    fn call(conn: &Connection, id: &str, dept: &str, number: &str, name: Option<&str>, at: &str) {
        conn.execute(
            "INSERT INTO calls (provider_id, department, call_id, mobile_number, caller_name, status,
                 created_at, updated_at)
             VALUES ((SELECT id FROM providers WHERE slug = ?2), ?2, ?1, ?3, ?4, 'missed', ?5, ?5)",
            params![id, dept, number, name, at],
        )
        .unwrap();
    }

    #[test]
    fn a_caller_is_named_by_their_newest_named_call_in_the_department() {
        let conn = with_departments(&["front", "sales"]);
        let asha = "+919800000001";
        call(
            &conn,
            "a",
            "front",
            asha,
            Some("Asha R"),
            "2026-12-01T09:00:00.000Z",
        );
        call(
            &conn,
            "b",
            "front",
            asha,
            Some("Asha Rao"),
            "2026-12-02T09:00:00.000Z",
        );
        call(
            &conn,
            "c",
            "front",
            asha,
            Some("  "),
            "2026-12-03T09:00:00.000Z",
        );
        // Another department's name for the same number is not this one's.
        call(
            &conn,
            "d",
            "sales",
            asha,
            Some("Mrs Rao"),
            "2026-12-04T09:00:00.000Z",
        );
        let c = by_number(&conn, "front", asha).unwrap().unwrap();
        assert_eq!(c.name.as_deref(), Some("Asha Rao"));
        assert_eq!(c.calls, 3);
        assert_eq!(c.last_call_at, "2026-12-03T09:00:00.000Z");
        assert_eq!(c.last_status, "missed");
        // A number the department never heard from, and a caller without a name.
        assert_eq!(by_number(&conn, "front", "+919800000009").unwrap(), None);
        call(
            &conn,
            "e",
            "front",
            "+919800000002",
            None,
            "2026-12-03T09:00:00.000Z",
        );
        let c = by_number(&conn, "front", "+919800000002").unwrap().unwrap();
        assert_eq!((c.name, c.calls), (None, 1));
    }

    #[test]
    fn the_lookup_reads_the_numbers_index_not_the_departments_calls() {
        let conn = with_departments(&["front"]);
        // Statistics under which a department's index looks the better one
        // (a small department, a number with many calls): the plan must
        // still start from the number.
        conn.execute_batch(
            "ANALYZE;
             DELETE FROM sqlite_stat1 WHERE tbl = 'calls';
             INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
                 ('calls', 'calls_number', '1000000 50000 1'),
                 ('calls', 'calls_dept_created', '1000000 10 1');
             ANALYZE sqlite_schema;",
        )
        .unwrap();
        for sql in [RECENT_SQL, COUNT_SQL] {
            let plan = if sql == RECENT_SQL {
                query_plan(&conn, sql, params!["+1", "front", RECENT])
            } else {
                query_plan(&conn, sql, params!["+1", "front"])
            };
            assert!(plan.contains("calls_number"), "{plan}");
            assert!(!plan.contains("calls_dept_created"), "{plan}");
        }
    }
}
