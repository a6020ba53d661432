//! The voicemail inbox: voicemails left on calls, filtered by department,
//! state, date and agent; played (the first play is noted), handled,
//! deleted (audited).

use crate::auth::{Principal, Supervisor};
use crate::error::{ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::voicemails::{self, InboxQuery, InboxView, Voicemail};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VoicemailParams {
    /// A department (provider slug), or several separated by commas.
    pub department: Option<String>,
    /// `open` (default: not handled), `unlistened`, `listened`, `handled`, `all`.
    pub view: Option<InboxView>,
    /// Left at or after (RFC 3339).
    pub from: Option<String>,
    /// Left before (RFC 3339).
    pub to: Option<String>,
    /// Part of the platform agent's id or name, or the assignee's user name.
    pub agent: Option<String>,
    /// 1-1000, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VoicemailList {
    pub data: Vec<Voicemail>,
    pub total: i64,
}

#[utoipa::path(get, path = "/api/voicemails", operation_id = "listVoicemails", tag = "calls",
    description = "The voicemail inbox, newest first: open (not handled) by default.",
    params(VoicemailParams), responses((status = 200, body = VoicemailList),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<VoicemailParams>,
) -> ApiResult<Json<VoicemailList>> {
    let requested: Option<Vec<String>> = p
        .department
        .filter(|d| !d.is_empty() && d != "all")
        .map(|d| d.split(',').map(|s| s.trim().to_string()).collect());
    let departments = match (who.scope(), requested) {
        (None, r) => r,
        (Some(scope), None) => Some(scope),
        (Some(scope), Some(r)) => Some(r.into_iter().filter(|d| scope.contains(d)).collect()),
    };
    let from = super::timestamp_param(p.from, "from")?;
    let to = super::timestamp_param(p.to, "to")?;
    let q = InboxQuery {
        departments,
        view: p.view.unwrap_or_default(),
        from,
        to,
        agent: p.agent,
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    };
    let (data, total) = state.store.read(move |c| voicemails::list(c, &q)).await?;
    Ok(Json(VoicemailList { data, total }))
}

async fn visible(state: &AppState, who: &Principal, id: i64) -> ApiResult<Voicemail> {
    let v = state.store.read(move |c| voicemails::get(c, id)).await?;
    who.check_department(&v.department)?;
    Ok(v)
}

#[utoipa::path(post, path = "/api/voicemails/{id}/listened", operation_id = "markVoicemailListened", tag = "calls",
    description = "Notes that the voicemail was played (the first play counts; later ones change nothing).",
    params(("id" = i64, Path)),
    responses((status = 200, body = Voicemail), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn listened(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Voicemail>> {
    visible(&state, &who, id).await?;
    let actor = who.actor();
    let v = state
        .store
        .write_keyed(key.0, move |w| voicemails::listened(w, id, &actor))
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandledRequest {
    /// `false` reopens it.
    pub handled: bool,
}

#[utoipa::path(post, path = "/api/voicemails/{id}/handled", operation_id = "markVoicemailHandled", tag = "calls",
    description = "Marks the voicemail handled (it leaves the open inbox) or, with `false`, open again. Audited.",
    params(("id" = i64, Path)), request_body = HandledRequest,
    responses((status = 200, body = Voicemail), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn handled(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(id): Path<i64>,
    Json(req): Json<HandledRequest>,
) -> ApiResult<Json<Voicemail>> {
    visible(&state, &who, id).await?;
    let actor = who.actor();
    let v = state
        .store
        .write_keyed(key.0, move |w| {
            voicemails::set_handled(w, id, req.handled, &actor)
        })
        .await?;
    Ok(Json(v))
}

#[utoipa::path(delete, path = "/api/voicemails/{id}", operation_id = "deleteVoicemail", tag = "calls",
    description = "Deletes the voicemail (the call stays). Supervisors; audited with its link and length.",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn delete(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Supervisor(who): Supervisor,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    visible(&state, &who, id).await?;
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| voicemails::delete(w, id, &actor))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(listened))
        .routes(routes!(handled))
        .routes(routes!(delete))
}
