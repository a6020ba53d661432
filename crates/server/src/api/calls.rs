//! Calls: the queues, one call with its timeline, assignment and dispositions.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Json, OptionalJson, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::calls::{
    self, AssigneeFilter, Call, CallQuery, Disposition, NewDisposition, Outcome, WorkState,
};
use callboard_core::store::ingest::{self, RawEvent};
use callboard_core::store::repeat_callers;
use callboard_core::store::voicemails::{self, Voicemail};
use callboard_core::Status;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The filters of the calls list, shared by `GET /api/calls` and the CSV export.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallFilters {
    /// A department (provider slug), several separated by commas, or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Canonical statuses separated by commas; `live` = waiting,ringing,active,missed;
    /// `worklist` = missed,hangup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Text search: any part of the caller's number or name (any case; from
    /// three characters on through an index), or the start of the call id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Created at or after (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Created before (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What `from`/`to` compare with: `created` (default: when Callboard first
    /// saw the call) or `offered` (the platform's start time, else creation:
    /// the time the metrics count a call by).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeBasis>,
    /// A user id, `me`, or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Worklist view of missed/hangup calls: pending, assigned, attempted, resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<WorkState>,
    /// The platform's agent: part of its agent id or name, case-insensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The outcome of the call's last disposition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The caller's number, exactly (a caller's previous calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimeBasis {
    Created,
    Offered,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A column, `-column` for descending; `wait` (longest wait first within
    /// each status group) or `-wait`. Default: `wait` when `status` is given
    /// (the queues), else `-created_at` (history, newest first).
    pub sort: Option<String>,
    /// 1-1000, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// The previous page's `next_cursor`: the page after it, as cheap as the
    /// first however deep (keyset pagination). Not with `offset`.
    pub cursor: Option<String>,
    /// Also answer `repeat_callers`: the page's numbers that called more than once.
    pub repeat: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallList {
    pub data: Vec<Call>,
    /// Calls matching the filters, across all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// Send back as `cursor` (same filters and sort) for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// With `repeat=true`: the numbers on this page with more than one call
    /// (in the departments the caller may see), sorted; else empty.
    pub repeat_callers: Vec<String>,
}

fn parse_statuses(s: &str) -> ApiResult<Vec<Status>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "live" => out.extend(Status::LIVE),
            "worklist" => out.extend(Status::WORKLIST),
            p => out.push(
                p.parse::<Status>()
                    .map_err(|e| ApiError::invalid(e.to_string()))?,
            ),
        }
    }
    Ok(out)
}

/// The store query for `f` as `who` may see it (agents: their departments).
pub(crate) fn call_query(who: &Principal, f: CallFilters) -> ApiResult<CallQuery> {
    let requested: Option<Vec<String>> = f
        .department
        .as_deref()
        .map(|d| {
            d.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "all")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty());
    let departments = match (who.scope(), requested) {
        (None, r) => r,
        (Some(mine), None) => Some(mine),
        (Some(mine), Some(r)) => Some(r.into_iter().filter(|d| mine.contains(d)).collect()),
    };
    let assignee = match f.assignee.as_deref() {
        None | Some("") => None,
        Some("none") => Some(AssigneeFilter::None),
        Some("me") => match who.user_id() {
            Some(id) => Some(AssigneeFilter::User(id)),
            None => return Err(ApiError::invalid("`assignee=me` needs a signed-in user")),
        },
        Some(id) => Some(AssigneeFilter::User(id.parse().map_err(|_| {
            ApiError::invalid(format!("assignee `{id}`: use a user id, `me` or `none`"))
        })?)),
    };
    Ok(CallQuery {
        departments,
        statuses: match &f.status {
            Some(s) => parse_statuses(s)?,
            None => vec![],
        },
        text: f.q,
        from: super::timestamp_param(f.from, "from")?,
        to: super::timestamp_param(f.to, "to")?,
        by_offered: matches!(f.time, Some(TimeBasis::Offered)),
        assignee,
        view: f.view,
        agent: f.agent,
        outcome: f.outcome,
        number: f.number,
        sort: None,
        limit: 50,
        offset: 0,
    })
}

#[utoipa::path(get, path = "/api/calls", operation_id = "listCalls", tag = "calls", params(CallFilters, ListParams),
    responses((status = 200, body = CallList), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(f): Query<CallFilters>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<CallList>> {
    let limit = p.limit.unwrap_or(50).clamp(1, 1000);
    let offset = p.offset.unwrap_or(0).max(0);
    let cursor = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(_) if offset > 0 => {
            return Err(ApiError::invalid(
                "use either `offset` or `cursor`, not both",
            ))
        }
        Some(c) => Some(calls::Cursor::decode(c)?),
        None => None,
    };
    let q = CallQuery {
        sort: p.sort,
        limit,
        offset,
        ..call_query(&who, f)?
    };
    let repeat = p.repeat.unwrap_or(false);
    let (page, repeat_callers) = state
        .store
        .read(move |c| {
            let page = calls::list_page(c, &q, cursor.as_ref())?;
            let repeat_callers = if repeat {
                let numbers: Vec<String> = page
                    .rows
                    .iter()
                    .filter_map(|r| r.mobile_number.clone())
                    .collect();
                repeat_callers::among(c, &numbers, q.departments.as_deref())?
            } else {
                vec![]
            };
            if repeat {
                tracing::debug!(numbers = repeat_callers.len(), "repeat callers on the page");
            }
            Ok((page, repeat_callers))
        })
        .await?;
    Ok(Json(CallList {
        data: page.rows,
        total: page.total,
        limit,
        offset,
        next_cursor: page.next.map(|c| c.encode()),
        repeat_callers,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallKey {
    /// Needed only when the same call id exists in two departments.
    pub department: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: Call,
    /// Every delivery that touched this call, oldest first, with its payload.
    pub events: Vec<RawEvent>,
    /// Disposition history, oldest first.
    pub dispositions: Vec<Disposition>,
    /// The voicemail left on this call, if any.
    pub voicemail: Option<Voicemail>,
    /// Calls back placed through the department's platform, oldest first.
    pub callbacks: Vec<callboard_core::store::callbacks::Attempt>,
    /// Texts sent (or queued) to the caller for this call.
    pub sms: Vec<callboard_core::store::sms::SmsMessage>,
    /// The nodes the call went through in the department's IVR flow, in
    /// order (the step log), each with the edge it left by and, for an
    /// `sms` node, what became of its text in `detail`. Empty for a call
    /// that never reached the IVR.
    pub ivr_path: Vec<callboard_core::ivr::exec::Visit>,
    /// The lead the call names in `metadata.lead_id`, when the lead webhook
    /// has delivered it; when retention has archived the lead since, its
    /// archived copy, with `archived_at`.
    pub lead: Option<callboard_core::store::leads::Lead>,
}

pub(crate) async fn find(
    state: &AppState,
    who: &Principal,
    call_id: String,
    dep: Option<String>,
) -> ApiResult<Call> {
    let call = state
        .store
        .read(move |c| calls::find(c, &call_id, dep.as_deref()))
        .await?;
    who.check_department(&call.department)?;
    Ok(call)
}

#[utoipa::path(get, path = "/api/calls/{call_id}", operation_id = "getCall", tag = "calls",
    params(("call_id" = String, Path), CallKey),
    responses((status = 200, body = CallDetail), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(call_id): Path<String>,
    Query(k): Query<CallKey>,
) -> ApiResult<Json<CallDetail>> {
    let call = find(&state, &who, call_id, k.department).await?;
    let id = call.id;
    let (dep, cid) = (call.department.clone(), call.call_id.clone());
    let lead_of = call.clone();
    let (events, dispositions, voicemail, callbacks, sms, ivr_path, lead) = state
        .store
        .read(move |c| {
            let ivr_path = match callboard_core::store::providers::get(c, &dep) {
                Ok(p) => callboard_core::store::ivr::call_path(c, p.id, &cid)?,
                // A call of a department since deleted has no flow to show.
                Err(callboard_core::Error::NotFound(_)) => vec![],
                Err(e) => return Err(e),
            };
            Ok((
                ingest::call_timeline(c, id)?,
                calls::dispositions(c, id)?,
                voicemails::for_call(c, id)?,
                callboard_core::store::callbacks::for_call(c, id)?,
                callboard_core::store::sms::for_call(c, id)?,
                ivr_path,
                callboard_core::store::leads::for_call(c, &lead_of)?,
            ))
        })
        .await?;
    Ok(Json(CallDetail {
        call,
        events,
        dispositions,
        voicemail,
        callbacks,
        sms,
        ivr_path,
        lead,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DispositionSaved {
    pub disposition: Disposition,
    pub call: Call,
}

#[utoipa::path(post, path = "/api/calls/{call_id}/disposition", operation_id = "disposeCall", tag = "calls",
    params(("call_id" = String, Path), CallKey), request_body = NewDisposition,
    responses((status = 201, body = DispositionSaved), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn dispose(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(call_id): Path<String>,
    Query(k): Query<CallKey>,
    Json(input): Json<NewDisposition>,
) -> ApiResult<(StatusCode, Json<DispositionSaved>)> {
    let call = find(&state, &who, call_id, k.department).await?;
    let actor = who.actor();
    let row_id = call.id;
    let r = state
        .store
        .write_keyed(key.0, move |w| calls::dispose(w, row_id, input, &actor))
        .await;
    let (disposition, call) = match r {
        Ok(v) => v,
        Err(e) => return Err(with_current(&state, row_id, e).await),
    };
    Ok((
        StatusCode::CREATED,
        Json(DispositionSaved { disposition, call }),
    ))
}

/// A write on a call that failed: a conflict carries the call as it is now,
/// so the person (or a replica's outbox) sees what changed meanwhile.
async fn with_current(state: &AppState, row_id: i64, err: callboard_core::Error) -> ApiError {
    let conflict = matches!(err, callboard_core::Error::Conflict(_));
    let mut e = ApiError::from(err);
    if conflict {
        e.current = state
            .store
            .read(move |c| calls::by_id(c, row_id))
            .await
            .ok()
            .and_then(|call| serde_json::to_value(call).ok());
    }
    e
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The user to assign to; omitted: yourself.
    pub user_id: Option<i64>,
    pub expected_version: Option<i64>,
}

#[utoipa::path(post, path = "/api/calls/{call_id}/assign", operation_id = "assignCall", tag = "calls",
    params(("call_id" = String, Path), CallKey), request_body(content = Option<AssignRequest>),
    responses((status = 200, body = Call), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(call_id): Path<String>,
    Query(k): Query<CallKey>,
    OptionalJson(body): OptionalJson<AssignRequest>,
) -> ApiResult<Json<Call>> {
    let req = body.unwrap_or_default();
    let call = find(&state, &who, call_id, k.department).await?;
    let target = match (req.user_id, who.user_id()) {
        (Some(uid), me) => {
            if Some(uid) != me {
                who.require_supervisor().map_err(|_| {
                    ApiError::forbidden("agents may only assign calls to themselves")
                })?;
            }
            uid
        }
        (None, Some(me)) => me,
        (None, None) => {
            return Err(ApiError::invalid(
                "give `user_id`: the admin token is not a user",
            ))
        }
    };
    let v = req.expected_version;
    let row_id = call.id;
    let r = state
        .store
        .write_keyed(key.0, move |w| calls::assign(w, row_id, Some(target), v))
        .await;
    let call = match r {
        Ok(v) => v,
        Err(e) => return Err(with_current(&state, row_id, e).await),
    };
    Ok(Json(call))
}

#[utoipa::path(post, path = "/api/calls/{call_id}/unassign", operation_id = "unassignCall", tag = "calls",
    params(("call_id" = String, Path), CallKey),
    responses((status = 200, body = Call), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn unassign(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Path(call_id): Path<String>,
    Query(k): Query<CallKey>,
) -> ApiResult<Json<Call>> {
    let call = find(&state, &who, call_id, k.department).await?;
    if call.assignee_id.is_some() && call.assignee_id != who.user_id() {
        who.require_supervisor().map_err(|_| {
            ApiError::forbidden("only supervisors may unassign someone else's call")
        })?;
    }
    let call = state
        .store
        .write_keyed(key.0, move |w| calls::assign(w, call.id, None, None))
        .await?;
    Ok(Json(call))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(dispose))
        .routes(routes!(assign))
        .routes(routes!(unassign))
}
