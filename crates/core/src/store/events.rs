//! The event log read side: replay after a seq, and pruning.

use crate::error::Result;
use crate::hub::{Audience, Event};
use rusqlite::{params, Connection};

/// Events after `since`, oldest first, at most `limit`.
pub fn since(conn: &Connection, since: i64, limit: i64) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, type, department, audience, at, data FROM event_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since, limit], |r| {
        let audience: String = r.get(3)?;
        Ok(Event {
            seq: r.get(0)?,
            kind: r.get(1)?,
            department: r.get(2)?,
            audience: Audience::parse(&audience),
            at: r.get(4)?,
            data: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The oldest seq still held (0 when the log is empty).
pub fn oldest(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MIN(seq), 0) FROM event_log", [], |r| {
            r.get(0)
        })?,
    )
}

pub fn head(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM event_log", [], |r| {
            r.get(0)
        })?,
    )
}

/// Deletes up to `batch` events older than `before`, never the newest one (so
/// the head seq survives). Returns how many went.
pub fn prune(w: &mut super::Writer<'_>, before: &str, batch: i64) -> Result<usize> {
    Ok(w.conn.execute(
        "DELETE FROM event_log WHERE seq IN (
            SELECT seq FROM event_log WHERE at < ?1 AND seq < (SELECT MAX(seq) FROM event_log)
            ORDER BY seq LIMIT ?2)",
        params![before, batch],
    )?)
}
