//! Text search over calls (`?q=`): the caller's number and name through the
//! trigram index `calls_search` (migration v21), the call id from its start
//! through `calls_call_id`. Either way a search reads the matching rows, not
//! every row of the departments searched.
//!
//! Triggers on `calls` note the calls whose entry is out of date in
//! `calls_search_pending` (v32); [`flush`] writes them, once per write
//! transaction, before it commits. Whatever writes calls outside the writer's
//! batches (a bench filling a file, a test) flushes before it commits too.

use crate::error::Result;
use rusqlite::Connection;

/// The trigram index finds fragments of at least this many characters.
pub const MIN_INDEXED_CHARS: usize = 3;

/// Whether `table` is the index or one of FTS5's tables behind it: local to
/// each copy of the database (rebuilt from `calls` wherever it is applied),
/// never shipped between instances.
pub(crate) fn is_index_table(table: &str) -> bool {
    table == "calls_search" || table.starts_with("calls_search_")
}

/// The FTS5 query that finds `text` as a substring: one quoted phrase, so
/// every character (`+`, `-`, `"`, `*`) is matched as itself.
pub(crate) fn phrase(text: &str) -> Option<String> {
    (text.chars().count() >= MIN_INDEXED_CHARS)
        .then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

/// The smallest string greater than every string that starts with `prefix`
/// (under SQLite's BINARY collation: bytes of UTF-8), so that
/// `call_id >= prefix AND call_id < prefix_end(prefix)` is a range on an index.
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// The entries of calls changed since an earlier flush, by rowid.
const FLUSH_DROP: &str =
    "DELETE FROM calls_search WHERE rowid IN (SELECT id FROM calls_search_pending WHERE indexed)";

/// The entries of the calls changed since the last flush that have a number
/// or a name. `CROSS JOIN` keeps the pending few as the outer loop: left to
/// itself the planner walked every call for them.
const FLUSH_WRITE: &str = "INSERT INTO calls_search (rowid, mobile_number, caller_name)
     SELECT c.id, c.mobile_number, c.caller_name
     FROM calls_search_pending p CROSS JOIN calls c ON c.id = p.id
     WHERE c.mobile_number IS NOT NULL OR c.caller_name IS NOT NULL";

/// Writes the index entries of the calls changed since the last flush: in
/// one statement, so FTS5 writes one segment for the whole transaction
/// rather than one per change (it writes out what it holds at every statement
/// savepoint, and a call upsert that fires triggers opens one).
pub fn flush(conn: &Connection) -> Result<()> {
    let pending: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM calls_search_pending)")?
        .query_row([], |r| r.get(0))?;
    if !pending {
        return Ok(());
    }
    conn.prepare_cached(FLUSH_DROP)?.execute([])?;
    conn.prepare_cached(FLUSH_WRITE)?.execute([])?;
    conn.prepare_cached("DELETE FROM calls_search_pending")?
        .execute([])?;
    Ok(())
}

/// Brings the index in line with `calls` for the rows `ids`: after another
/// instance's commit was applied with triggers off.
pub(crate) fn reindex(conn: &Connection, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut drop_row = conn.prepare_cached("DELETE FROM calls_search WHERE rowid = ?1")?;
    let mut add_row = conn.prepare_cached(
        "INSERT INTO calls_search (rowid, mobile_number, caller_name)
         SELECT id, mobile_number, caller_name FROM calls
         WHERE id = ?1 AND (mobile_number IS NOT NULL OR caller_name IS NOT NULL)",
    )?;
    for id in ids {
        drop_row.execute([id])?;
        add_row.execute([id])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{migrated, with_departments};

    fn found(conn: &Connection, text: &str) -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT rowid FROM calls_search WHERE calls_search MATCH ?1 ORDER BY rowid")
            .unwrap();
        let q = phrase(text).unwrap();
        stmt.query_map([q], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn fragments_of_numbers_and_names_are_found_and_follow_every_change() {
        let conn = with_departments(&["p"]);
        conn.execute_batch(
            "INSERT INTO calls (id, provider_id, department, call_id, mobile_number, caller_name, status, created_at, updated_at)
             VALUES (1, 1, 'p', 'a', '+919812345678', 'Priya \"P\" Sharma', 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                    (2, 1, 'p', 'b', '+919800000000', NULL, 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                    (3, 1, 'p', 'c', NULL, NULL, 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        assert!(found(&conn, "2345").is_empty(), "written at the flush");
        flush(&conn).unwrap();
        assert_eq!(found(&conn, "2345"), vec![1]);
        assert_eq!(found(&conn, "+9198"), vec![1, 2]);
        assert_eq!(
            found(&conn, "priya \"p"),
            vec![1],
            "any case, quotes as text"
        );
        let change = |sql: &str| {
            conn.execute(sql, []).unwrap();
            flush(&conn).unwrap();
        };
        change("UPDATE calls SET status = 'active' WHERE id = 1");
        assert_eq!(found(&conn, "2345"), vec![1]);
        change("UPDATE calls SET mobile_number = '+447700900123' WHERE id = 1");
        assert!(found(&conn, "2345").is_empty(), "the old number is gone");
        assert_eq!(found(&conn, "7700"), vec![1]);
        assert_eq!(found(&conn, "sharma"), vec![1], "the name stays");
        change("UPDATE calls SET caller_name = 'Ravi' WHERE id = 3");
        assert_eq!(found(&conn, "rav"), vec![3]);
        change("UPDATE calls SET mobile_number = NULL, caller_name = NULL WHERE id = 3");
        assert!(found(&conn, "rav").is_empty(), "nothing left to find");
        change("DELETE FROM calls WHERE id = 1");
        assert!(found(&conn, "7700").is_empty());
        // What a cluster peer applies with triggers off, then reindexes.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
            false,
        )
        .unwrap();
        conn.execute(
            "UPDATE calls SET mobile_number = '+15550001111' WHERE id = 2",
            [],
        )
        .unwrap();
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
            true,
        )
        .unwrap();
        assert_eq!(found(&conn, "+9198"), vec![2], "stale until reindexed");
        reindex(&conn, &[2]).unwrap();
        assert!(found(&conn, "+9198").is_empty());
        assert_eq!(found(&conn, "5550001"), vec![2]);
    }

    /// A batch can insert, change and delete the same calls before its
    /// flush: the index ends as if each change had been written at once.
    #[test]
    fn one_flush_after_many_changes_leaves_the_index_as_the_calls_are() {
        let conn = with_departments(&["p"]);
        conn.execute_batch(
            "INSERT INTO calls (id, provider_id, department, call_id, mobile_number, status, created_at, updated_at)
             VALUES (1, 1, 'p', 'a', '+911111100000', 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                    (2, 1, 'p', 'b', '+912222200000', 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        flush(&conn).unwrap();
        conn.execute_batch(
            "UPDATE calls SET mobile_number = '+913333300000' WHERE id = 1;
             UPDATE calls SET mobile_number = '+914444400000' WHERE id = 1;
             DELETE FROM calls WHERE id = 2;
             INSERT INTO calls (id, provider_id, department, call_id, mobile_number, status, created_at, updated_at)
             VALUES (3, 1, 'p', 'c', '+915555500000', 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                    (4, 1, 'p', 'd', '+916666600000', 'ringing', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             UPDATE calls SET mobile_number = '+917777700000' WHERE id = 3;
             DELETE FROM calls WHERE id = 4;",
        )
        .unwrap();
        flush(&conn).unwrap();
        let all = |n: &str| found(&conn, n);
        assert!(all("11111").is_empty() && all("33333").is_empty());
        assert_eq!(all("44444"), vec![1]);
        assert!(all("22222").is_empty(), "a deleted call's entry is gone");
        assert!(all("55555").is_empty());
        assert_eq!(all("77777"), vec![3]);
        assert!(
            all("66666").is_empty(),
            "inserted and deleted: never indexed"
        );
        assert_eq!(all("+91"), vec![1, 3]);
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM calls_search_pending", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 0);
    }

    /// A call written into the file while no server ran (a bench filling a
    /// data directory, an import) is found once a server starts on it.
    #[tokio::test]
    async fn calls_written_outside_the_writer_are_found_after_a_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("callboard.db");
        let clock = crate::time::system_clock;
        crate::store::Store::open(&path, clock())
            .unwrap()
            .close()
            .await;
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO providers (id, slug, name, api_key_hash, api_key_hint, created_at, updated_at)
                 VALUES (1, 'p', 'P', 'x', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                 INSERT INTO calls (provider_id, department, call_id, mobile_number, status, created_at, updated_at)
                 VALUES (1, 'p', 'a', '+919812345678', 'missed', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        let store = crate::store::Store::open(&path, clock()).unwrap();
        let hits = store.read(|c| Ok(found(c, "98123"))).await.unwrap();
        store.close().await;
        assert_eq!(hits, vec![1]);
    }

    #[test]
    fn a_flush_reads_the_pending_calls_by_id_not_every_call() {
        let conn = migrated();
        let write = crate::store::test_support::query_plan(&conn, FLUSH_WRITE, []);
        assert!(write.contains("SCAN p"), "{write}");
        assert!(
            write.contains("SEARCH c USING INTEGER PRIMARY KEY"),
            "{write}"
        );
        let drop = crate::store::test_support::query_plan(&conn, FLUSH_DROP, []);
        assert!(drop.contains("LIST SUBQUERY"), "by rowid: {drop}");
    }

    #[test]
    fn short_fragments_are_not_for_the_index_and_prefixes_bound_a_range() {
        assert_eq!(phrase("98"), None);
        assert_eq!(phrase("987").as_deref(), Some("\"987\""));
        assert_eq!(phrase("a\"b").as_deref(), Some("\"a\"\"b\""));
        let end = prefix_end("kept-");
        for id in ["kept-1", "kept-\u{fffd}", "kept-\u{10fffe}"] {
            assert!(*id < *end, "{id} starts with the prefix");
        }
        assert!(*"kept." > *end);
    }
}
