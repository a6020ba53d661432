//! Remote mode routes. On the receiver: the snapshot and the changes a
//! replica follows. On a replica: its status and its outbox.

use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::replica::ReplicaStatus;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use callboard_core::store::replica::{
    self as rows, Changes, OutboxEntry, Scope, Snapshot, SnapshotKey,
};
use callboard_core::store::users::Role;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn scope(who: &Principal) -> Scope {
    Scope {
        admin: who.role == Role::Admin,
        supervisor: matches!(who.role, Role::Admin | Role::Supervisor),
        departments: who.scope(),
        user_id: who.user_id(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotParams {
    /// The paged form: at most this many rows per answer (1–10,000; pages
    /// of large deliveries stop earlier, at about 4 MiB). Without `limit`
    /// and `table`, every row in one answer (as older replicas ask).
    pub limit: Option<i64>,
    /// The paged form: the table the page starts in (`next.table` of the
    /// previous page); the first page is asked without it.
    pub table: Option<String>,
    /// The paged form: the last key of `table` already sent (`next.after`).
    pub after: Option<i64>,
}

#[utoipa::path(get, path = "/api/replica/snapshot", operation_id = "getReplicaSnapshot", tag = "replica",
    description = "Every row the caller may see (providers, users, categories, calls with their deliveries, dispositions and voicemails, …; secrets and password hashes blanked), consistent with `seq` and `change`. A replica applies it, then follows `/api/events?since=seq` and `/api/replica/changes`.\n\nPaged form (`limit`, then `table` and `after` from each answer's `next` until it is null): the same rows, scoped the same way, table by table in key order, each page read at its own moment. The first page's `seq` and `change` are the cursor: apply every page, then follow the changes from that cursor, which send again every row changed or deleted during the copy. A copy that outlasts the change log's retention gets 409 `too_far_behind` from `/api/replica/changes`: start again.",
    params(SnapshotParams),
    responses((status = 200, body = Snapshot), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody, description = "`table` is not a replicated table")),
    security(("bearer" = [])))]
pub async fn snapshot(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<SnapshotParams>,
) -> ApiResult<Json<Snapshot>> {
    let s = scope(&who);
    if p.limit.is_none() && p.table.is_none() {
        return Ok(Json(
            state.store.read(move |c| rows::snapshot(c, &s)).await?,
        ));
    }
    let from = p.table.map(|table| SnapshotKey {
        table,
        after: p.after.unwrap_or(i64::MIN),
    });
    let limit = p.limit.unwrap_or(rows::SNAPSHOT_PAGE_ROWS);
    Ok(Json(
        state
            .store
            .read(move |c| rows::snapshot_page(c, &s, from.as_ref(), limit))
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The event seq the replica holds.
    pub seq: i64,
    /// The row-change cursor the replica holds.
    pub change: i64,
}

#[utoipa::path(get, path = "/api/replica/changes", operation_id = "listReplicaChanges", tag = "replica",
    description = "The events after `seq` and the rows changed after `change` (deleted or out-of-scope rows listed in `deleted`), one page; ask again from the new cursor while `more`. 409 `too_far_behind` when the logs no longer reach back: take a fresh snapshot.",
    params(ChangesParams),
    responses((status = 200, body = Changes), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn changes(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<ChangesParams>,
) -> ApiResult<Json<Changes>> {
    let s = scope(&who);
    match state
        .store
        .read(move |c| rows::changes(c, &s, p.seq, p.change))
        .await
    {
        Ok(c) => Ok(Json(c)),
        Err(callboard_core::Error::Conflict(m)) if m == rows::TOO_FAR_BEHIND => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::TooFarBehind,
            "the logs no longer reach back to this cursor: take a fresh snapshot",
        )),
        Err(e) => Err(e.into()),
    }
}

fn not_a_replica() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotAReplica,
        "this is a receiver, not a replica",
    )
}

#[utoipa::path(get, path = "/api/replica/status", operation_id = "getReplicaStatus", tag = "replica",
    description = "On a replica: `live`, `syncing` (copying its first snapshot, page by page: `snapshot` says how far), `reconnecting` or `offline`, since when, the seq it holds and its lag. On a receiver: 404 `not_a_replica`.",
    responses((status = 200, body = ReplicaStatus), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(ReplicaCaller(r): ReplicaCaller) -> ApiResult<Json<ReplicaStatus>> {
    Ok(Json(r.status()))
}

#[utoipa::path(post, path = "/api/replica/reconnect", operation_id = "reconnectReplica", tag = "replica",
    description = "On a replica waiting to try its receiver again (`retry_in_ms` in the status): tries at once, answering 202 with the status. 200 with the status when it was not waiting (live, or an attempt under way). Accepted before the replica first reached its receiver, like the status. On a receiver: 404 `not_a_replica`.",
    responses((status = 202, body = ReplicaStatus), (status = 200, body = ReplicaStatus), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reconnect(
    ReplicaCaller(r): ReplicaCaller,
) -> ApiResult<(StatusCode, Json<ReplicaStatus>)> {
    let code = if r.reconnect_now() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(r.status())))
}

/// Someone this replica lets see its own link: its own token or a session
/// signed in here (with the CSRF token for a change made by the cookie).
/// Read from the request itself, because these routes answer before the
/// replica knows its user (that is when its status matters most). On a
/// receiver, any signed-in principal learns it is not a replica (404).
pub struct ReplicaCaller(pub Arc<crate::replica::Shared>);

impl FromRequestParts<AppState> for ReplicaCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let (token, via) =
            crate::auth::credential(&parts.headers, &parts.uri, &state.config.session_cookie)
                .ok_or_else(crate::auth::missing_token)?;
        let Some(r) = state.replica.clone() else {
            crate::auth::resolve(state, token).await?;
            return Err(not_a_replica());
        };
        if r.check_token(&token).is_err() {
            crate::replica::sessions::principal(&r, token.clone()).await?;
        }
        crate::auth::check_csrf(&parts.method, &parts.headers, &token, via)?;
        Ok(ReplicaCaller(r))
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Outbox {
    /// Writes not yet delivered (pending, conflict, failed), then the last
    /// 50 delivered, oldest first.
    pub data: Vec<OutboxEntry>,
}

#[utoipa::path(get, path = "/api/replica/outbox", operation_id = "listReplicaOutbox", tag = "replica",
    description = "On a replica: the writes made here and what became of them. A `conflict` holds the receiver's 409 answer with the call as it is now (`response_body.error.current`).",
    responses((status = 200, body = Outbox), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn outbox(State(state): State<AppState>, _who: Principal) -> ApiResult<Json<Outbox>> {
    state.replica.as_ref().ok_or_else(not_a_replica)?;
    let data = state.store.read(|c| rows::list_outbox(c, 50)).await?;
    Ok(Json(Outbox { data }))
}

#[utoipa::path(delete, path = "/api/replica/outbox/{id}", operation_id = "discardReplicaWrite", tag = "replica",
    description = "On a replica: discards a conflicted or failed write (the person chose not to re-apply it).",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Discarded"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn discard(
    State(state): State<AppState>,
    key: IdempotencyKey,
    _who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let r = state.replica.clone().ok_or_else(not_a_replica)?;
    state
        .store
        .write_keyed(key.0, move |w| rows::discard(w, id))
        .await?;
    r.refresh_outbox_counts().await;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(snapshot))
        .routes(routes!(changes))
        .routes(routes!(status))
        .routes(routes!(reconnect))
        .routes(routes!(outbox))
        .routes(routes!(discard))
}
