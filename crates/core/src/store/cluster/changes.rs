//! What one commit changed, as bytes another instance can apply: SQLite's
//! session extension records the net effect of the writer's transaction
//! (rolled-back savepoints leave nothing), and the AUTOINCREMENT counters,
//! which a changeset does not carry, travel beside it.

use crate::error::{Error, Result};
use rusqlite::config::DbConfig;
use rusqlite::session::{ConflictAction, ConflictType, Session};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Tables that are this instance's own bookkeeping, never shipped.
pub(crate) fn shipped(table: &str) -> bool {
    !matches!(table, "cluster_state")
        && !table.starts_with("sqlite_")
        && !crate::store::search::is_index_table(table)
}

/// Starts recording every change made on `conn` to a shipped table.
pub(crate) fn record(conn: &Connection) -> Result<Session<'_>> {
    let mut session = Session::new(conn)?;
    session.table_filter(Some(shipped));
    session.attach(None::<&str>)?;
    Ok(session)
}

/// One commit, ready for the shared log.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entry {
    /// SQLite's changeset (empty when the commit changed no row).
    pub changeset: Vec<u8>,
    /// `sqlite_sequence` after the commit: AUTOINCREMENT's high-water marks.
    pub sequences: BTreeMap<String, i64>,
}

impl Entry {
    pub fn is_empty(&self) -> bool {
        self.changeset.is_empty()
    }

    pub fn sequences_json(&self) -> String {
        serde_json::to_string(&self.sequences).unwrap_or_else(|_| "{}".into())
    }
}

/// The session's net changes and the counters, read inside the transaction.
pub(crate) fn take(session: &mut Session<'_>, conn: &Connection) -> Result<Entry> {
    let mut changeset = Vec::new();
    if !session.is_empty() {
        session.changeset_strm(&mut changeset)?;
    }
    Ok(Entry {
        changeset,
        sequences: sequences(conn)?,
    })
}

pub(crate) fn sequences(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let mut stmt = conn.prepare_cached("SELECT name, seq FROM sqlite_sequence")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Applies another instance's commit inside the caller's transaction.
///
/// Triggers are off while it runs: their effects (the replica's change feed,
/// the worklist counters) were recorded where the commit was made and are
/// part of the changeset; running them again would count twice. The one
/// exception is the search index, which FTS5 writes outside what a changeset
/// can carry: it is rebuilt here for the calls the commit touched. Any
/// conflict means this copy has diverged from the log, which is refused
/// rather than papered over.
pub(crate) fn apply(conn: &Connection, entry: &Entry) -> Result<()> {
    if !entry.changeset.is_empty() {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
        let conflicts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = std::sync::Arc::clone(&conflicts);
        let applied = conn.apply_strm(
            &mut entry.changeset.as_slice(),
            None::<fn(&str) -> bool>,
            move |kind: ConflictType, _item| {
                if let Ok(mut s) = seen.lock() {
                    s.push(format!("{kind:?}"));
                }
                ConflictAction::SQLITE_CHANGESET_ABORT
            },
        );
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)?;
        if let Err(e) = applied {
            let kinds = conflicts.lock().map(|c| c.join(", ")).unwrap_or_default();
            return Err(Error::Cluster(format!(
                "this instance's copy differs from the shared log ({kinds}): {e}; \
                 remove its callboard.db and start it again to reload the snapshot"
            )));
        }
        crate::store::search::reindex(conn, &row_ids(entry, "calls")?)?;
    }
    for (name, seq) in &entry.sequences {
        let updated = conn
            .prepare_cached("UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1")?
            .execute(rusqlite::params![name, seq])?;
        if updated == 0 {
            conn.prepare_cached("INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)")?
                .execute(rusqlite::params![name, seq])?;
        }
    }
    Ok(())
}

/// The ids (an `INTEGER PRIMARY KEY` in the first column) of the rows of
/// `table` the commit inserted, updated or deleted.
pub(crate) fn row_ids(entry: &Entry, table: &str) -> Result<Vec<i64>> {
    use fallible_streaming_iterator::FallibleStreamingIterator;
    use rusqlite::hooks::Action;
    let mut ids = Vec::new();
    let mut input: &[u8] = entry.changeset.as_slice();
    let reader: &mut dyn std::io::Read = &mut input;
    let mut iter = rusqlite::session::ChangesetIter::start_strm(&reader)?;
    while let Some(item) = iter.next()? {
        let op = item.op()?;
        if op.table_name() != table {
            continue;
        }
        // An insert carries only new values; an update or a delete, the key among the old.
        let key = if matches!(op.code(), Action::SQLITE_INSERT) {
            item.new_value(0)?
        } else {
            item.old_value(0)?
        };
        if let rusqlite::types::ValueRef::Integer(id) = key {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Whether the commit touched `table` (to refresh what is cached of it).
pub(crate) fn touches(entry: &Entry, table: &str) -> bool {
    if entry.changeset.is_empty() {
        return false;
    }
    let mut input: &[u8] = entry.changeset.as_slice();
    let reader: &mut dyn std::io::Read = &mut input;
    let Ok(mut iter) = rusqlite::session::ChangesetIter::start_strm(&reader) else {
        return true;
    };
    use fallible_streaming_iterator::FallibleStreamingIterator;
    loop {
        match iter.next() {
            Ok(Some(item)) => {
                if item.op().is_ok_and(|op| op.table_name() == table) {
                    return true;
                }
            }
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
             CREATE TABLE feed (id INTEGER PRIMARY KEY AUTOINCREMENT, row_id INTEGER);
             CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO feed (row_id) VALUES (NEW.id); END;
             CREATE TABLE cluster_state (id INTEGER PRIMARY KEY, head INTEGER);",
        )
        .unwrap();
        c
    }

    fn commit(c: &mut Connection, f: impl FnOnce(&Connection)) -> Entry {
        let tx = c.transaction().unwrap();
        let entry = {
            let mut s = record(&tx).unwrap();
            f(&tx);
            // As the writer does before each commit (`run_batch`).
            if tx.table_exists(None, "calls_search_pending").unwrap() {
                crate::store::search::flush(&tx).unwrap();
            }
            take(&mut s, &tx).unwrap()
        };
        tx.commit().unwrap();
        entry
    }

    fn rows(c: &Connection, sql: &str) -> Vec<(i64, String)> {
        let mut s = c.prepare(sql).unwrap();
        s.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn a_peer_finds_the_calls_it_applied_by_a_fragment_of_their_number() {
        let (mut a, mut b) = (
            crate::store::test_support::migrated(),
            crate::store::test_support::migrated(),
        );
        let found = |c: &Connection, text: &str| -> Vec<(i64, String)> {
            let phrase = crate::store::search::phrase(text).unwrap();
            let mut s = c
                .prepare(
                    "SELECT rowid, '' FROM calls_search WHERE calls_search MATCH ?1 ORDER BY rowid",
                )
                .unwrap();
            s.query_map([phrase], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let at = "2026-01-01T00:00:00.000Z";
        let e = commit(&mut a, |c| {
            c.execute(
                "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
                 VALUES ('p', 'P', 'h', 'cbk_', ?1, ?1)",
                [at],
            )
            .unwrap();
            c.execute(
                "INSERT INTO calls (provider_id, department, call_id, mobile_number, status, created_at, updated_at)
                 VALUES (1, 'p', 'x1', '+919812345678', 'ringing', ?1, ?1), (1, 'p', 'x2', '+14155550100', 'ringing', ?1, ?1)",
                [at],
            )
            .unwrap();
        });
        assert!(
            !touches(&e, "calls_search")
                && !touches(&e, "calls_search_data")
                && !touches(&e, "calls_search_pending"),
            "the index is not shipped"
        );
        let tx = b.transaction().unwrap();
        apply(&tx, &e).unwrap();
        tx.commit().unwrap();
        assert_eq!(found(&b, "1234567"), vec![(1, String::new())]);
        let e = commit(&mut a, |c| {
            c.execute(
                "UPDATE calls SET mobile_number = '+919800000000' WHERE id = 1",
                [],
            )
            .unwrap();
            c.execute("DELETE FROM calls WHERE id = 2", []).unwrap();
        });
        let tx = b.transaction().unwrap();
        apply(&tx, &e).unwrap();
        tx.commit().unwrap();
        assert!(
            found(&b, "1234567").is_empty(),
            "the old number left the index"
        );
        assert_eq!(found(&b, "98000"), vec![(1, String::new())]);
        assert!(found(&b, "4155").is_empty(), "the deleted call left it");
        assert_eq!(found(&a, "98000"), found(&b, "98000"));
    }

    #[test]
    fn a_rolled_back_savepoint_ships_nothing_and_the_copy_matches() {
        let (mut a, mut b) = (db(), db());
        let e = commit(&mut a, |c| {
            c.execute("INSERT INTO t (v) VALUES ('kept')", []).unwrap();
            c.execute_batch("SAVEPOINT job").unwrap();
            c.execute("INSERT INTO t (v) VALUES ('rolled back')", [])
                .unwrap();
            c.execute("UPDATE t SET v = 'changed' WHERE id = 1", [])
                .unwrap();
            c.execute_batch("ROLLBACK TO job; RELEASE job").unwrap();
            c.execute("INSERT INTO cluster_state (id, head) VALUES (1, 7)", [])
                .unwrap();
        });
        let tx = b.transaction().unwrap();
        apply(&tx, &e).unwrap();
        tx.commit().unwrap();
        assert_eq!(rows(&b, "SELECT id, v FROM t"), vec![(1, "kept".into())]);
        // The trigger's row came in the changeset, and did not fire again.
        assert_eq!(
            rows(&b, "SELECT id, CAST(row_id AS TEXT) FROM feed").len(),
            1
        );
        assert!(
            rows(&b, "SELECT id, head FROM cluster_state").is_empty(),
            "local bookkeeping stays local"
        );
        // The rolled-back insert advanced nothing: the next ids agree.
        let next = |c: &Connection| {
            c.execute("INSERT INTO t (v) VALUES ('next')", []).unwrap();
            c.last_insert_rowid()
        };
        assert_eq!(next(&a), next(&b));
        assert!(touches(&e, "t") && touches(&e, "feed") && !touches(&e, "providers"));
    }

    #[test]
    fn an_insert_deleted_in_the_same_commit_still_moves_the_counter() {
        let (mut a, mut b) = (db(), db());
        let e = commit(&mut a, |c| {
            c.execute("INSERT INTO t (v) VALUES ('gone')", []).unwrap();
            c.execute("DELETE FROM t", []).unwrap();
        });
        let tx = b.transaction().unwrap();
        apply(&tx, &e).unwrap();
        tx.commit().unwrap();
        a.execute("INSERT INTO t (v) VALUES ('x')", []).unwrap();
        b.execute("INSERT INTO t (v) VALUES ('x')", []).unwrap();
        assert_eq!(
            rows(&a, "SELECT id, v FROM t"),
            rows(&b, "SELECT id, v FROM t")
        );
    }

    #[test]
    fn a_diverged_copy_is_refused_not_overwritten() {
        let (mut a, b) = (db(), db());
        b.execute("INSERT INTO t (id, v) VALUES (1, 'local only')", [])
            .unwrap();
        let e = commit(&mut a, |c| {
            c.execute("INSERT INTO t (v) VALUES ('from the log')", [])
                .unwrap();
        });
        let err = apply(&b, &e).unwrap_err().to_string();
        assert!(err.contains("differs from the shared log"), "{err}");
        assert_eq!(
            rows(&b, "SELECT id, v FROM t"),
            vec![(1, "local only".into())]
        );
        // Triggers are back on after a refused apply (its own row fired one too).
        b.execute("INSERT INTO t (v) VALUES ('y')", []).unwrap();
        assert_eq!(
            rows(&b, "SELECT id, CAST(row_id AS TEXT) FROM feed").len(),
            2
        );
    }
}
