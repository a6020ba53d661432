//! `callboard migrate-storage`: an office's SQLite database into a new
//! cluster's PostgreSQL (verified table by table), and a cluster's schema
//! upgrade to this build's (every instance stopped).

use super::{changes, log, snapshot, write_state};
use crate::error::{Error, Result};
use crate::store::migrate;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// One table of the copy: its rows in the source and in what was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CopiedTable {
    pub table: String,
    pub source: i64,
    pub stored: i64,
}

#[derive(Debug, Clone)]
pub struct CopyReport {
    pub cluster_id: String,
    pub bytes: i64,
    pub tables: Vec<CopiedTable>,
}

struct Scratch(Vec<PathBuf>);

impl Scratch {
    fn file(&mut self, what: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("callboard-{what}-{}.db", ulid::Ulid::new()));
        self.0.push(p.clone());
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Copies the database at `from` into the empty PostgreSQL at `url` as the
/// first snapshot of a new cluster, then reads the stored copy back and
/// compares every table's row count. A target that already holds a cluster
/// is refused unless `replace`.
pub fn copy_into(from: &Path, url: &str, replace: bool) -> Result<CopyReport> {
    if std::fs::metadata(from).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(Error::invalid(format!(
            "{} is missing or empty: nothing to copy",
            from.display()
        )));
    }
    let mut client = log::connect(url)?;
    log::migrate(&mut client)?;
    client.execute("SELECT pg_advisory_lock($1)", &[&log::INIT_KEY])?;
    let existing = log::cluster(&mut client)?;
    let snapshots: i64 = client
        .query_one("SELECT COUNT(*) FROM callboard_snapshots", &[])?
        .get(0);
    if existing.is_some() || snapshots > 0 {
        if !replace {
            let what = existing
                .map(|r| format!("cluster {} at log entry {}", r.cluster_id, r.head))
                .unwrap_or_else(|| "a snapshot".into());
            return Err(Error::Conflict(format!(
                "the target already holds a Callboard {what}: pass --force to replace it (its data is deleted)"
            )));
        }
        client.batch_execute(
            "TRUNCATE callboard_log, callboard_cluster, callboard_snapshot_chunks, callboard_snapshots",
        )?;
    }
    let mut scratch = Scratch(Vec::new());
    let copy = scratch.file("copy");
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    migrate::refuse_newer(&source)?;
    snapshot::copy(&source, &copy)?;
    let cluster_id = ulid::Ulid::new().to_string();
    {
        let mut c = Connection::open(&copy)?;
        migrate::run(&mut c)?;
        c.execute_batch("DELETE FROM cluster_state")?;
        write_state(&c, &cluster_id, 0)?;
    }
    let bytes = std::fs::metadata(&copy)
        .map(|m| m.len() as i64)
        .unwrap_or(0);
    snapshot::upload(&mut client, &copy, 0, migrate::known_version())?;
    let mut tx = client.transaction()?;
    log::create(&mut tx, &cluster_id, 0, migrate::known_version())?;
    tx.commit()?;

    let back = scratch.file("verify");
    let snap = snapshot::latest(&mut client)?
        .ok_or_else(|| Error::Cluster("the snapshot just stored is missing".into()))?;
    snapshot::download(&mut client, &snap, &back)?;
    let stored = Connection::open_with_flags(&back, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut tables = Vec::new();
    for table in tables_of(&source)? {
        tables.push(CopiedTable {
            source: count(&source, &table)?,
            stored: count(&stored, &table)?,
            table,
        });
    }
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&log::INIT_KEY]);
    if let Some(t) = tables.iter().find(|t| t.source != t.stored) {
        return Err(Error::Cluster(format!(
            "{} has {} rows in the source but {} in the stored copy: was a receiver still writing to it? \
             Stop it and run this again with --force",
            t.table, t.source, t.stored
        )));
    }
    Ok(CopyReport {
        cluster_id,
        bytes,
        tables,
    })
}

/// Brings a stopped cluster to this build's schema: the newest snapshot and
/// the log after it, migrated, stored as a new snapshot at the log's head
/// (holding the sequencer, so nothing is appended meanwhile). Returns the
/// (old, new) schema versions.
pub fn upgrade(url: &str) -> Result<(i64, i64)> {
    let mut client = log::connect(url)?;
    log::migrate(&mut client)?;
    let known = migrate::known_version();
    let mut scratch = Scratch(Vec::new());
    let file = scratch.file("upgrade");
    client.batch_execute("BEGIN")?;
    let row = log::lock(&mut client)?;
    if row.sqlite_schema > known {
        return Err(Error::SchemaTooNew {
            found: row.sqlite_schema,
            known,
        });
    }
    if row.sqlite_schema == known {
        client.batch_execute("ROLLBACK")?;
        return Ok((known, known));
    }
    let snap = snapshot::latest(&mut client)?
        .ok_or_else(|| Error::Cluster("the cluster holds no snapshot".into()))?;
    snapshot::download(&mut client, &snap, &file)?;
    let mut conn = Connection::open(&file)?;
    let mut head = snap.head;
    loop {
        let page = log::after(&mut client, head, 512)?;
        if page.is_empty() {
            break;
        }
        let tx = conn.transaction()?;
        for (seq, entry) in &page {
            changes::apply(&tx, entry)?;
            head = *seq;
        }
        tx.commit()?;
    }
    if head != row.head {
        return Err(Error::Cluster(format!(
            "the log ends at {head} but its head says {}",
            row.head
        )));
    }
    migrate::run(&mut conn)?;
    write_state(&conn, &row.cluster_id, head)?;
    drop(conn);
    snapshot::upload_in(&mut client, &file, head, known)?;
    let schema = i32::try_from(known).map_err(|_| Error::invalid("schema out of range"))?;
    client.execute(
        "UPDATE callboard_cluster SET sqlite_schema = $1 WHERE id = 1",
        &[&schema],
    )?;
    client.batch_execute("COMMIT")?;
    Ok((row.sqlite_schema, known))
}

fn tables_of(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'cluster_state' ORDER BY name",
    )?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let names: Vec<String> = names.collect::<rusqlite::Result<_>>()?;
    // The search index is derived from `calls`: counting it proves nothing more.
    Ok(names
        .into_iter()
        .filter(|t| !crate::store::search::is_index_table(t))
        .collect())
}

fn count(conn: &Connection, table: &str) -> Result<i64> {
    let quoted = table.replace('"', "\"\"");
    Ok(
        conn.query_row(&format!("SELECT COUNT(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?,
    )
}
