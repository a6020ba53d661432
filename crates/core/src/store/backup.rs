//! Consistent copies of a live database.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Writes a consistent, compacted snapshot of the database at `db` to `dest`
/// (which must not exist). Safe while a receiver is running: it reads one
/// snapshot, like any other reader, and never blocks the writer.
pub fn backup(db: &Path, dest: &Path) -> Result<u64> {
    if dest.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists: choose a new file",
            dest.display()
        )));
    }
    if !db.exists() {
        return Err(Error::not_found(format!("no database at {}", db.display())));
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let dest_text = dest
        .to_str()
        .ok_or_else(|| Error::invalid("the backup path must be valid UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [dest_text])?;
    Ok(std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0))
}

/// What a candidate restore file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub schema_version: i64,
    pub providers: i64,
    pub calls: i64,
}

/// Checks that `file` is a Callboard database this build can open: SQLite
/// `integrity_check` passes, the schema version is known (not newer), and
/// the core tables are there. Reads only.
pub fn check(file: &Path) -> Result<Checked> {
    if !file.is_file() {
        return Err(Error::not_found(format!("no file at {}", file.display())));
    }
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| Error::invalid(format!("{} is not a database: {e}", file.display())))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| Error::invalid(format!("{} is not a database: {e}", file.display())))?;
    if integrity != "ok" {
        return Err(Error::invalid(format!(
            "{} fails the integrity check: {integrity}",
            file.display()
        )));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = crate::store::migrate::known_version();
    if version > known {
        return Err(Error::SchemaTooNew {
            found: version,
            known,
        });
    }
    let count = |table: &str| -> Result<i64> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|_| {
                Error::invalid(format!(
                    "{} is not a Callboard database (no {table} table)",
                    file.display()
                ))
            })
    };
    if version < 1 {
        return Err(Error::invalid(format!(
            "{} is not a Callboard database (schema version 0)",
            file.display()
        )));
    }
    Ok(Checked {
        schema_version: version,
        providers: count("providers")?,
        calls: count("calls")?,
    })
}

/// Replaces the database at `db` with `file` after [`check`]ing it; the
/// current database is first copied to `db.before-restore-<stamp>`. The
/// receiver must be stopped: a non-empty write-ahead log (a running or
/// crashed receiver) is refused unless `force`. Returns the check and the
/// path of the copy of the replaced database (None when there was none).
pub fn restore(
    db: &Path,
    file: &Path,
    force: bool,
) -> Result<(Checked, Option<std::path::PathBuf>)> {
    let checked = check(file)?;
    let wal = with_suffix(db, "-wal");
    if !force
        && std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    {
        return Err(Error::Conflict(format!(
            "{} is in use (its write-ahead log is not empty): stop the receiver first, \
             or pass --force after a crash",
            db.display()
        )));
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let saved = if db.exists() {
        let to = with_suffix(db, &format!(".before-restore-{stamp}"));
        backup(db, &to)?;
        Some(to)
    } else {
        None
    };
    let staging = with_suffix(db, ".restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(file, &staging).map_err(|e| Error::Commit(format!("copy failed: {e}")))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::Commit(format!("sync failed: {e}")))?;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(db, side));
    }
    std::fs::rename(&staging, db).map_err(|e| Error::Commit(format!("rename failed: {e}")))?;
    Ok((checked, saved))
}

/// Before migrating an existing database to a newer schema, a copy next to
/// it: `callboard.db.pre-v<found>-<stamp>`. Nothing for a new or current one.
pub fn before_migration(db: &Path) -> Result<Option<std::path::PathBuf>> {
    if !db.exists() {
        return Ok(None);
    }
    let found: i64 = {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))?
    };
    if found == 0 || found >= crate::store::migrate::known_version() {
        return Ok(None);
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let to = with_suffix(db, &format!(".pre-v{found}-{stamp}"));
    backup(db, &to)?;
    tracing::info!(from = found, copy = %to.display(), "snapshot before the schema migration");
    Ok(Some(to))
}

/// Scheduled snapshots: writes `dir/callboard-<stamp>.db` and keeps the
/// newest `keep` of them. Returns the new file.
pub fn scheduled(db: &Path, dir: &Path, keep: usize) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Commit(format!("cannot create {}: {e}", dir.display())))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let to = dir.join(format!("callboard-{stamp}.db"));
    backup(db, &to)?;
    let mut all: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Commit(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("callboard-") && n.ends_with(".db"))
        })
        .collect();
    // The stamp sorts by time.
    all.sort();
    let extra = all.len().saturating_sub(keep.max(1));
    for old in all.into_iter().take(extra) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(file = %old.display(), error = %e, "cannot remove an old snapshot");
        }
    }
    Ok(to)
}

fn with_suffix(p: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    std::path::PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;
    use crate::store::Store;
    use crate::time;

    #[tokio::test]
    async fn a_backup_opens_as_a_store_with_the_same_rows() {
        let (dir, store) = temp_store();
        store
            .write(|w| {
                w.emit(
                    crate::hub::EventKind::Reload,
                    None,
                    crate::hub::Audience::All,
                    "{}".into(),
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let dest = dir.path().join("copy.db");
        let size = backup(store.path(), &dest).unwrap();
        assert!(size > 0);
        assert!(matches!(
            backup(store.path(), &dest),
            Err(Error::Conflict(_))
        ));
        let copy = Store::open(&dest, time::system_clock()).unwrap();
        assert_eq!(copy.hub().head(), 1);
    }
}

#[cfg(test)]
mod restore_tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn restore_checks_first_and_keeps_the_replaced_database() {
        let (dir, store) = temp_store();
        let snap = dir.path().join("snap.db");
        backup(store.path(), &snap).unwrap();
        store.close().await;
        let db = store.path().to_path_buf();
        // Not a database: refused, nothing replaced.
        let junk = dir.path().join("junk.db");
        std::fs::write(
            &junk,
            b"hello, not sqlite at all, long enough to have a header",
        )
        .unwrap();
        let before = std::fs::read(&db).unwrap();
        assert!(matches!(restore(&db, &junk, false), Err(Error::Invalid(_))));
        assert_eq!(std::fs::read(&db).unwrap(), before);
        // Another SQLite file: refused (no Callboard schema).
        let other = dir.path().join("other.db");
        rusqlite::Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;")
            .unwrap();
        assert!(matches!(check(&other), Err(Error::Invalid(_))));
        // A newer schema: refused.
        let newer = dir.path().join("newer.db");
        std::fs::copy(&snap, &newer).unwrap();
        rusqlite::Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        assert!(matches!(check(&newer), Err(Error::SchemaTooNew { .. })));
        // A busy database (non-empty WAL): refused unless forced.
        let wal = with_suffix(&db, "-wal");
        std::fs::write(&wal, b"x").unwrap();
        assert!(matches!(
            restore(&db, &snap, false),
            Err(Error::Conflict(_))
        ));
        // The good snapshot: restored, the old one kept aside.
        let (c, saved) = restore(&db, &snap, true).unwrap();
        assert_eq!(c.schema_version, crate::store::migrate::known_version());
        assert!(!wal.exists());
        assert!(check(&saved.unwrap()).is_ok());
        assert!(crate::store::Store::open(&db, crate::time::system_clock()).is_ok());
    }

    #[tokio::test]
    async fn scheduled_snapshots_keep_the_newest_n() {
        let (dir, store) = temp_store();
        let out = dir.path().join("backups");
        let mut made = Vec::new();
        for _ in 0..4 {
            made.push(scheduled(store.path(), &out, 2).unwrap());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        left.sort();
        assert_eq!(left, made[2..].to_vec());
        for f in &left {
            assert!(check(f).is_ok());
        }
    }
}
