//! `GET /api/calls/export.csv`: the calls list as CSV, streamed.
//!
//! A producer task reads the matching calls one keyset page at a time (each
//! page a short read on the pool, encoded on the blocking thread) and hands
//! the encoded chunks to the response body over a bounded channel: memory
//! stays at a few pages whatever the row count, and a slow client slows the
//! reader instead of piling rows up. The export is recorded in the audit log
//! before the first byte is sent and completed with its row count at the end.

use super::calls::{call_query, CallFilters};
use crate::auth::Principal;
use crate::error::{ApiResult, Query};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use callboard_core::store::calls::{self, CallRow};
use callboard_core::store::exports;
use callboard_core::store::Connection;
use callboard_core::Store;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;
use tokio::sync::mpsc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Rows per page read from the database (and per chunk sent).
pub(crate) const PAGE: i64 = 2000;
/// Encoded pages waiting for the client at most.
const CHANNEL: usize = 2;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportOptions {
    /// Start the file with a UTF-8 byte-order mark, so spreadsheet programs
    /// read non-ASCII names correctly (default false).
    pub bom: Option<bool>,
}

/// The columns, in order.
const HEADER: [&str; 27] = [
    "call_id",
    "department",
    "status",
    "raw_status",
    "direction",
    "mobile_number",
    "caller_name",
    "did",
    "agent_id",
    "agent_name",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "assignee",
    "assigned_at",
    "attempts",
    "last_outcome",
    "next_callback_at",
    "resolved_at",
    "work_state",
    "worklist_since",
    "sla_due_at",
    "recording_url",
    "created_at",
    "updated_at",
    "metadata",
];

/// A text cell made safe for spreadsheets: one that a spreadsheet would read
/// as a formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage
/// return, per OWASP's CSV injection advice) is prefixed with `'`. A plain
/// number (`+919876543210`, `-2`, `3.5`) runs nothing and is left as it is:
/// a phone number column must not come out as `'+91…`.
pub fn defuse(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'+' | b'-') if is_plain_number(&s[1..]) => Cow::Borrowed(s),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// Digits with at most one inner decimal point, nothing else.
fn is_plain_number(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Writes `c` as one record (the columns of [`HEADER`]), straight from the
/// borrowed row: nothing is allocated per call but the numbers' text, in
/// `num`, which the caller reuses.
fn write_call(
    w: &mut csv::Writer<Vec<u8>>,
    c: &CallRow<'_>,
    num: &mut String,
) -> Result<(), csv::Error> {
    text(w, Some(c.call_id))?;
    text(w, Some(c.department))?;
    text(w, c.status)?;
    text(w, c.raw_status)?;
    text(w, c.direction)?;
    text(w, c.mobile_number)?;
    text(w, c.caller_name)?;
    text(w, c.did)?;
    text(w, c.agent_id)?;
    text(w, c.agent_name)?;
    text(w, c.started_at)?;
    text(w, c.answered_at)?;
    text(w, c.ended_at)?;
    number(w, c.duration_seconds, num)?;
    text(w, c.assignee_name)?;
    text(w, c.assigned_at)?;
    number(w, Some(c.attempts), num)?;
    text(w, c.last_outcome)?;
    text(w, c.next_callback_at)?;
    text(w, c.resolved_at)?;
    text(w, c.work_state)?;
    text(w, c.worklist_since)?;
    text(w, c.sla_due_at)?;
    text(w, c.recording_url)?;
    text(w, Some(c.created_at))?;
    text(w, Some(c.updated_at))?;
    text(w, Some(c.metadata))?;
    w.write_record(None::<&[u8]>)
}

/// A text cell, defused; empty when null.
pub(crate) fn text(w: &mut csv::Writer<Vec<u8>>, v: Option<&str>) -> Result<(), csv::Error> {
    w.write_field(v.map(defuse).unwrap_or_default().as_bytes())
}

pub(crate) fn number(
    w: &mut csv::Writer<Vec<u8>>,
    n: Option<i64>,
    num: &mut String,
) -> Result<(), csv::Error> {
    use std::fmt::Write as _;
    num.clear();
    if let Some(n) = n {
        let _ = write!(num, "{n}");
    }
    w.write_field(num.as_bytes())
}

/// RFC 4180: fields quoted when they hold a comma, quote or line break
/// (quotes doubled), records ended by CRLF.
pub(crate) fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::with_capacity(256 * 1024))
}

/// The header record (`columns`), after a byte-order mark when asked.
pub(crate) fn header(columns: &[&str], bom: bool) -> Result<Vec<u8>, csv::Error> {
    let mut w = writer();
    w.write_record(columns)?;
    let mut out = if bom { UTF8_BOM.to_vec() } else { Vec::new() };
    out.extend(w.into_inner().map_err(|e| e.into_error())?);
    Ok(out)
}

/// The encoded bytes of a page's writer.
pub(crate) fn finish(w: csv::Writer<Vec<u8>>) -> callboard_core::Result<Vec<u8>> {
    w.into_inner()
        .map_err(|e| encoding_failed(csv::Error::from(e.into_error())))
}

type Chunk = Result<Bytes, std::io::Error>;

/// One page of an export read after cursor `K`: its encoded bytes, the
/// cursor of its last row (None: the export is done) and its row count.
pub(crate) type PageFn<K> = Arc<
    dyn Fn(&Connection, Option<&K>) -> callboard_core::Result<(Vec<u8>, Option<K>, u64)>
        + Send
        + Sync,
>;

/// A csv encoding failure, as a store error (it ends the export).
pub(crate) fn encoding_failed(e: csv::Error) -> callboard_core::Error {
    callboard_core::Error::Commit(format!("csv encoding failed: {e}"))
}

async fn produce<K: Clone + Send + Sync + 'static>(
    store: Store,
    head: Vec<u8>,
    page: PageFn<K>,
    tx: mpsc::Sender<Chunk>,
    audit_id: i64,
) {
    let (mut rows, mut bytes) = (0u64, head.len() as u64);
    let mut after: Option<K> = None;
    let completed = 'stream: {
        if tx.send(Ok(Bytes::from(head))).await.is_err() {
            break 'stream false;
        }
        loop {
            let (read, from) = (page.clone(), after.clone());
            match store.read(move |c| read(c, from.as_ref())).await {
                Ok((_, None, _)) => break 'stream true,
                Ok((data, Some(last), n)) => {
                    after = Some(last);
                    rows += n;
                    bytes += data.len() as u64;
                    if tx.send(Ok(Bytes::from(data))).await.is_err() {
                        // The client went away.
                        break 'stream false;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, rows, "export failed mid-stream");
                    // An error on the body aborts the response: the client sees
                    // a broken transfer, never a file that looks complete.
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    break 'stream false;
                }
            }
        }
    };
    if let Err(e) = store
        .write(move |w| exports::finish(w, audit_id, rows, bytes, completed))
        .await
    {
        tracing::warn!(error = %e, "cannot complete the export's audit row");
    }
}

/// A streamed CSV download: recorded in the audit log as `action` with
/// `filters` before the first byte, then `head` and every page `page`
/// reads, in a file named `<stem>-<now>.csv`.
pub(crate) async fn csv_download<K: Clone + Send + Sync + 'static>(
    state: &AppState,
    who: &Principal,
    action: &'static str,
    filters: serde_json::Value,
    stem: &str,
    head: Vec<u8>,
    page: PageFn<K>,
) -> ApiResult<Response> {
    let actor = who.actor();
    let audit_id = state
        .store
        .write(move |w| exports::begin(w, &actor, action, filters))
        .await?;
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL);
    tokio::spawn(produce(state.store.clone(), head, page, tx, audit_id));
    // Fused: a body may be polled again after it ended (the compression
    // layer does, to look for trailers), which a bare `unfold` panics on.
    let stream =
        futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }));
    let filename = format!("{stem}-{}.csv", state.store.now().format("%Y%m%dT%H%M%SZ"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/calls/export.csv", operation_id = "exportCallsCsv", tag = "calls", params(CallFilters, ExportOptions),
    description = "The calls matching the same filters as `GET /api/calls`, as CSV (RFC 4180, UTF-8, CRLF), every row, oldest first, streamed. Cells a spreadsheet would take for a formula are prefixed with `'`. Each export is recorded in the audit log (`calls.export`).",
    responses((status = 200, description = "The CSV file", content_type = "text/csv", body = String),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn calls_csv(
    State(state): State<AppState>,
    who: Principal,
    Query(f): Query<CallFilters>,
    Query(o): Query<ExportOptions>,
) -> ApiResult<Response> {
    let filters = serde_json::to_value(&f).unwrap_or_default();
    let q = call_query(&who, f)?;
    let head = header(&HEADER, o.bom.unwrap_or(false)).map_err(encoding_failed)?;
    let page: PageFn<i64> = Arc::new(move |c, after| {
        let mut w = writer();
        let mut num = String::new();
        let (last, n) = calls::for_each_after(c, &q, after.copied().unwrap_or(0), PAGE, |call| {
            write_call(&mut w, call, &mut num).map_err(encoding_failed)
        })?;
        Ok((finish(w)?, last, n))
    });
    csv_download(
        &state,
        &who,
        exports::CALLS_CSV,
        filters,
        "calls",
        head,
        page,
    )
    .await
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(calls_csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_others_left_alone() {
        for bad in [
            "=1+1", "+91 98", "-2+3", "+1-1", "-", "+", "+.5", "+1.", "@SUM(A1)", "\tx", "\rx",
        ] {
            assert_eq!(defuse(bad), format!("'{bad}"));
        }
        // numbers run nothing: phone numbers in E.164 stay as they are
        for fine in [
            "",
            "Asha",
            "91=x",
            "'=already",
            "+919876543210",
            "-2",
            "+3.25",
        ] {
            assert_eq!(defuse(fine), fine);
        }
    }

    #[test]
    fn records_are_rfc4180() {
        let c = CallRow {
            call_id: "c,1",
            department: "sales",
            caller_name: Some("Say \"hi\"\nthere"),
            mobile_number: Some("=HYPERLINK(\"x\")"),
            duration_seconds: Some(42),
            attempts: 2,
            created_at: "t",
            updated_at: "t",
            metadata: "{\"a\":1}",
            ..Default::default()
        };
        let mut w = writer();
        let mut num = String::new();
        write_call(&mut w, &c, &mut num).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            out.matches(',').count() - 1,
            HEADER.len() - 1,
            "one field per column: {out}"
        );
        assert!(out.contains(",42,"), "{out}");
        assert!(out.ends_with(",t,t,\"{\"\"a\"\":1}\"\r\n"), "{out}");
        assert!(out.starts_with("\"c,1\",sales,"), "{out}");
        assert!(out.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{out}");
        assert!(out.contains(",\"Say \"\"hi\"\"\nthere\","), "{out}");
        assert!(out.ends_with("\r\n"));
        let head = header(&HEADER, true).unwrap();
        assert!(head.starts_with(UTF8_BOM));
        assert!(String::from_utf8_lossy(&head[3..]).starts_with("call_id,department,status,"));
    }
}
