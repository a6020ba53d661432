//! A whole database at one point of the log: how a new instance (or one
//! whose copy was lost) starts, and what `migrate-storage` uploads.

use crate::error::{Error, Result};
use postgres::GenericClient;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// Bytes per stored chunk: well under PostgreSQL's 1 GB field limit, and a
/// size one round trip moves quickly.
const CHUNK: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub id: i64,
    pub head: i64,
    pub sqlite_schema: i64,
    pub bytes: i64,
    pub sha256: String,
}

/// A consistent, compact copy of `conn`'s database at `dest` (which must not
/// exist): `VACUUM INTO` reads one snapshot, so the copy's `cluster_state`
/// names exactly the log entry it includes.
pub(crate) fn copy(conn: &Connection, dest: &Path) -> Result<()> {
    let dest = dest
        .to_str()
        .ok_or_else(|| Error::invalid("the snapshot path is not UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [dest])?;
    Ok(())
}

/// Stores the file as a snapshot at `head`; returns its id. Older snapshots
/// but the previous one are removed in the same transaction.
pub(crate) fn upload(
    client: &mut postgres::Client,
    file: &Path,
    head: i64,
    sqlite_schema: i64,
) -> Result<i64> {
    let mut tx = client.transaction()?;
    let id = upload_in(&mut tx, file, head, sqlite_schema)?;
    tx.commit()?;
    Ok(id)
}

/// [`upload`] inside the caller's transaction.
pub(crate) fn upload_in(
    tx: &mut impl GenericClient,
    file: &Path,
    head: i64,
    sqlite_schema: i64,
) -> Result<i64> {
    let mut f = std::fs::File::open(file)
        .map_err(|e| Error::Cluster(format!("cannot read the snapshot {}: {e}", file.display())))?;
    let schema = i32::try_from(sqlite_schema)
        .map_err(|_| Error::invalid(format!("schema version {sqlite_schema} out of range")))?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO callboard_snapshots (head, sqlite_schema, bytes, sha256) VALUES ($1, $2, 0, '') RETURNING id",
            &[&head, &schema],
        )?
        .get(0);
    let mut digest = Sha256::new();
    let mut total: i64 = 0;
    let mut buf = vec![0u8; CHUNK];
    let mut n: i32 = 0;
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            let read = f
                .read(&mut buf[filled..])
                .map_err(|e| Error::Cluster(format!("cannot read the snapshot: {e}")))?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        if filled == 0 {
            break;
        }
        digest.update(&buf[..filled]);
        total += filled as i64;
        tx.execute(
            "INSERT INTO callboard_snapshot_chunks (snapshot_id, n, data) VALUES ($1, $2, $3)",
            &[&id, &n, &&buf[..filled]],
        )?;
        n += 1;
        if filled < CHUNK {
            break;
        }
    }
    let sha = hex::encode(digest.finalize());
    tx.execute(
        "UPDATE callboard_snapshots SET bytes = $2, sha256 = $3 WHERE id = $1",
        &[&id, &total, &sha],
    )?;
    tx.execute(
        "DELETE FROM callboard_snapshots WHERE id < (SELECT MAX(id) FROM callboard_snapshots WHERE id < $1)",
        &[&id],
    )?;
    Ok(id)
}

pub(crate) fn latest(c: &mut impl GenericClient) -> Result<Option<SnapshotRow>> {
    Ok(c.query_opt(
        "SELECT id, head, sqlite_schema, bytes, sha256 FROM callboard_snapshots ORDER BY id DESC LIMIT 1",
        &[],
    )?
    .map(|r| SnapshotRow {
        id: r.get(0),
        head: r.get(1),
        sqlite_schema: i64::from(r.get::<_, i32>(2)),
        bytes: r.get(3),
        sha256: r.get(4),
    }))
}

/// Writes snapshot `snap` to `dest`, checking its size and digest, synced.
pub(crate) fn download(c: &mut impl GenericClient, snap: &SnapshotRow, dest: &Path) -> Result<()> {
    let io = |e: std::io::Error| Error::Cluster(format!("cannot write {}: {e}", dest.display()));
    let mut out = std::fs::File::create(dest).map_err(io)?;
    let mut digest = Sha256::new();
    let mut total: i64 = 0;
    let mut n: i32 = 0;
    loop {
        let Some(row) = c.query_opt(
            "SELECT data FROM callboard_snapshot_chunks WHERE snapshot_id = $1 AND n = $2",
            &[&snap.id, &n],
        )?
        else {
            break;
        };
        let data: Vec<u8> = row.get(0);
        digest.update(&data);
        total += data.len() as i64;
        out.write_all(&data).map_err(io)?;
        n += 1;
    }
    out.sync_all().map_err(io)?;
    let sha = hex::encode(digest.finalize());
    if total != snap.bytes || sha != snap.sha256 {
        let _ = std::fs::remove_file(dest);
        return Err(Error::Cluster(format!(
            "snapshot {} is damaged ({total} of {} bytes, digest {})",
            snap.id,
            snap.bytes,
            if sha == snap.sha256 {
                "matches"
            } else {
                "differs"
            }
        )));
    }
    Ok(())
}
