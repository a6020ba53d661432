//! Retention settings, on-demand runs and the runs' log (admins).

use super::export::{self as csv_export, PageFn};
use crate::auth::Admin;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use callboard_core::store::archive::{self, ArchiveFilter, ArchiveTotals, ArchivedCall};
use callboard_core::store::exports;
use callboard_core::store::retention::{self, RetentionRun, RetentionSettings};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/settings/retention", operation_id = "getRetentionSettings", tag = "retention",
    responses((status = 200, body = RetentionSettings), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<RetentionSettings>> {
    Ok(Json(state.store.read(retention::settings).await?))
}

#[utoipa::path(put, path = "/api/settings/retention", operation_id = "putRetentionSettings", tag = "retention",
    description = "Sets the retention policy: `calls_days` (default 30; 0 keeps every call), `mode` (`archive` moves finished calls and their dispositions to the archive tables, `delete` removes them), `raw_days` (default 7; 0 keeps raw deliveries). Audited.",
    request_body = RetentionSettings,
    responses((status = 200, body = RetentionSettings), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put_settings(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(s): Json<RetentionSettings>,
) -> ApiResult<Json<RetentionSettings>> {
    let actor = who.actor();
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| retention::put_settings(w, s, &actor))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/retention/run", operation_id = "runRetention", tag = "retention",
    description = "Starts a retention run now and answers at once with the run (`finished_at` null while it goes); follow it in `GET /api/retention/runs`. 409 when a run is already going.",
    responses((status = 202, body = RetentionRun), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn run(
    State(state): State<AppState>,
    Admin(who): Admin,
) -> ApiResult<(StatusCode, Json<RetentionRun>)> {
    match crate::retention::start(
        &state.store,
        &state.retention,
        "manual",
        who.actor(),
        state.shutdown.clone(),
    )
    .await?
    {
        Some((run, _)) => Ok((StatusCode::ACCEPTED, Json(run))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::RetentionRunning,
            "a retention run is already going: wait for it to finish",
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// 1-1000, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetentionRuns {
    /// Newest first.
    pub data: Vec<RetentionRun>,
}

#[utoipa::path(get, path = "/api/retention/runs", operation_id = "listRetentionRuns", tag = "retention", params(RunsParams),
    responses((status = 200, body = RetentionRuns), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn runs(
    State(state): State<AppState>,
    _: Admin,
    Query(p): Query<RunsParams>,
) -> ApiResult<Json<RetentionRuns>> {
    let limit = p.limit.unwrap_or(50);
    let data = state.store.read(move |c| retention::runs(c, limit)).await?;
    Ok(Json(RetentionRuns { data }))
}

/// The archive is the receiver's: a replica holds no archived rows.
fn on_receiver(state: &AppState) -> ApiResult<()> {
    match &state.replica {
        None => Ok(()),
        Some(r) => Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            ErrorCode::NotTheReceiver,
            format!(
                "this is a replica: the archive is kept on the receiver, open Retention at {}",
                r.remote.base()
            ),
        )),
    }
}

#[utoipa::path(get, path = "/api/retention/archive", operation_id = "getArchiveTotals", tag = "retention",
    description = "How much is kept: calls and leads in the live tables and in the archive, dispositions archived with their calls, and how far back the archive reaches (the oldest and newest archived call's `created_at`). On a replica: 421 `not_the_receiver` (the archive stays on the receiver).",
    responses((status = 200, body = ArchiveTotals), (status = 403, body = crate::error::ErrorBody),
        (status = 421, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn archive_totals(
    State(state): State<AppState>,
    _: Admin,
) -> ApiResult<Json<ArchiveTotals>> {
    on_receiver(&state)?;
    Ok(Json(state.store.read(archive::totals).await?))
}

#[derive(Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveExportParams {
    /// Only this department (slug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Calls created at or after (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Calls created before (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Start the file with a UTF-8 byte-order mark (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bom: Option<bool>,
}

/// The archive export's columns, in order.
const ARCHIVE_HEADER: [&str; 26] = [
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
    "attempts",
    "last_outcome",
    "resolved_at",
    "recording_url",
    "created_at",
    "updated_at",
    "archived_at",
    "dispositions",
    "last_disposition",
    "last_disposition_notes",
    "metadata",
];

/// Writes `c` as one record (the columns of [`ARCHIVE_HEADER`]).
fn write_archived(
    w: &mut csv::Writer<Vec<u8>>,
    c: &ArchivedCall,
    num: &mut String,
) -> Result<(), csv::Error> {
    use csv_export::{number, text};
    text(w, Some(&c.call_id))?;
    text(w, Some(&c.department))?;
    for v in [
        &c.status,
        &c.raw_status,
        &c.direction,
        &c.mobile_number,
        &c.caller_name,
        &c.did,
        &c.agent_id,
        &c.agent_name,
        &c.started_at,
        &c.answered_at,
        &c.ended_at,
    ] {
        text(w, v.as_deref())?;
    }
    number(w, c.duration_seconds, num)?;
    text(w, c.assignee.as_deref())?;
    number(w, Some(c.attempts), num)?;
    for v in [&c.last_outcome, &c.resolved_at, &c.recording_url] {
        text(w, v.as_deref())?;
    }
    for v in [&c.created_at, &c.updated_at, &c.archived_at] {
        text(w, Some(v))?;
    }
    number(w, Some(c.dispositions), num)?;
    text(w, c.last_disposition.as_deref())?;
    text(w, c.last_disposition_notes.as_deref())?;
    text(w, Some(&c.metadata))?;
    w.write_record(None::<&[u8]>)
}

#[utoipa::path(get, path = "/api/retention/archive/calls.csv", operation_id = "exportArchivedCallsCsv", tag = "retention", params(ArchiveExportParams),
    description = "The archived calls (retention's `archive` mode) created in `[from, to)`, of one department when given, as CSV (RFC 4180, UTF-8, CRLF), oldest first, streamed: each call as it was archived, its assignee, `archived_at`, how many dispositions it had and the last one (category / sub-category, notes). Cells a spreadsheet would take for a formula are prefixed with `'`. Recorded in the audit log (`calls.archive_export`). On a replica: 421 `not_the_receiver`.",
    responses((status = 200, description = "The CSV file", content_type = "text/csv", body = String),
        (status = 403, body = crate::error::ErrorBody), (status = 421, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn archive_csv(
    State(state): State<AppState>,
    Admin(who): Admin,
    Query(p): Query<ArchiveExportParams>,
) -> ApiResult<Response> {
    on_receiver(&state)?;
    let filters = serde_json::to_value(&p).unwrap_or_default();
    let filter = ArchiveFilter {
        department: p.department,
        from: super::timestamp_param(p.from, "from")?,
        to: super::timestamp_param(p.to, "to")?,
    };
    let head = csv_export::header(&ARCHIVE_HEADER, p.bom.unwrap_or(false))
        .map_err(csv_export::encoding_failed)?;
    let page: PageFn<archive::Cursor> = Arc::new(move |c, after| {
        let page = archive::page_after(c, &filter, after, csv_export::PAGE)?;
        let mut w = csv_export::writer();
        let mut num = String::new();
        for call in &page {
            write_archived(&mut w, call, &mut num).map_err(csv_export::encoding_failed)?;
        }
        let data = csv_export::finish(w)?;
        let last = page.last().map(|c| (c.created_at.clone(), c.row_id));
        Ok((data, last, page.len() as u64))
    });
    csv_export::csv_download(
        &state,
        &who,
        exports::ARCHIVE_CSV,
        filters,
        "archived-calls",
        head,
        page,
    )
    .await
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(run))
        .routes(routes!(runs))
        .routes(routes!(archive_totals))
        .routes(routes!(archive_csv))
}
