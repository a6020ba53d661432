//! The audit trail of data exports. The row is written before the first
//! byte leaves (so no export goes unrecorded, even one cut short by a crash)
//! and completed with its row count when the stream ends.

use super::audit::Actor;
use super::Writer;
use crate::error::Result;
use rusqlite::params;
use serde_json::{json, Value};

/// The audit action of a calls CSV export.
pub const CALLS_CSV: &str = "calls.export";
/// The audit action of an archived calls CSV export.
pub const ARCHIVE_CSV: &str = "calls.archive_export";

/// Records that `actor` started an export with `filters`; returns the audit row id.
pub fn begin(w: &mut Writer<'_>, actor: &Actor, action: &str, filters: Value) -> Result<i64> {
    super::audit::record(
        w,
        actor,
        action,
        None,
        json!({ "filters": filters, "status": "started" }),
    )?;
    Ok(w.conn.last_insert_rowid())
}

/// Completes the audit row `id`: how many rows were sent and whether the
/// whole export was (`completed`) or the client went away (`aborted`).
pub fn finish(w: &mut Writer<'_>, id: i64, rows: u64, bytes: u64, completed: bool) -> Result<()> {
    w.conn.execute(
        "UPDATE audit_log SET details = json_set(details, '$.rows', ?2, '$.bytes', ?3, '$.status', ?4)
         WHERE id = ?1",
        params![
            id,
            rows as i64,
            bytes as i64,
            if completed { "completed" } else { "aborted" }
        ],
    )?;
    Ok(())
}
