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
