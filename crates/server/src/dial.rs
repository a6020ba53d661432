//! Where a platform reports on a call back Callboard placed: each attempt's
//! own URLs, `/dial/{token}/status` (how the call ended) and
//! `/dial/{token}/answer` (Plivo fetches the instruction that dials the
//! customer there). The token is the attempt's capability: 256 random bits,
//! kept only as a hash, good for that one attempt.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::dialer::status::{self, AttemptState};
use callboard_core::dialer::{request, DialerKind};
use callboard_core::store::callbacks;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

fn xml(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Twilio and Plivo expect a document back from a `<Dial>` action: an
/// empty one ends the agent's leg.
fn done(kind: DialerKind) -> Response {
    match kind {
        DialerKind::Twilio | DialerKind::Plivo => {
            xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>".to_string())
        }
        _ => (StatusCode::OK, axum::Json(serde_json::json!({"ok": true}))).into_response(),
    }
}

async fn fields(state: &AppState, req: Request) -> ApiResult<serde_json::Map<String, Value>> {
    let (parts, body) = req.into_parts();
    let bytes = crate::webhooks::read_body(
        body,
        &parts.headers,
        state.config.max_body_bytes,
        state.config.limits.body_timeout,
    )
    .await?;
    let ctype = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match callboard_core::body::normalize(ctype, &bytes, parts.uri.query())
        .map_err(|e| ApiError::bad_request(ErrorCode::MalformedBody, e.to_string()))?
    {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            ErrorCode::MalformedBody,
            "a status report is a form or a JSON object",
        )),
    }
}

async fn report(state: AppState, token: String, req: Request) -> ApiResult<Response> {
    let t = token.clone();
    let attempt = state
        .store
        .read(move |c| callbacks::by_token(c, &t))
        .await?;
    let m = fields(&state, req).await?;
    let Some(update) = status::parse(attempt.via, &m) else {
        return Ok(done(attempt.via));
    };
    let (a, call) = state
        .store
        .write(move |w| callbacks::report(w, &token, update))
        .await?;
    tracing::info!(
        attempt = a.id,
        department = %a.department,
        state = a.state.as_str(),
        counted = call.is_some(),
        "call back reported"
    );
    Ok(done(a.via))
}

#[utoipa::path(post, path = "/dial/{token}/status", operation_id = "dialStatusPost", tag = "callbacks",
    description = "A platform's report on a call back (form, JSON or query). The first final report wins; one that reached the customer counts as an attempt on the call.",
    params(("token" = String, Path, description = "The attempt's token, from the URL Callboard gave the platform")),
    responses((status = 200, description = "Recorded"), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn status_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    report(state, token, req).await
}

#[utoipa::path(get, path = "/dial/{token}/status", operation_id = "dialStatusGet", tag = "callbacks",
    params(("token" = String, Path)),
    responses((status = 200, description = "Recorded"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn status_get(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    report(state, token, req).await
}

async fn answer(state: AppState, headers: HeaderMap, token: String) -> ApiResult<Response> {
    let t = token.clone();
    let (attempt, dialer) = state
        .store
        .read(move |c| {
            let a = callbacks::by_token(c, &t)?;
            let d = callbacks::dialer(c, &a.department)?;
            Ok((a, d))
        })
        .await?;
    if attempt.state != AttemptState::Dialling {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::Conflict,
            format!("call back {} is {}", attempt.id, attempt.state.as_str()),
        ));
    }
    let caller_id = dialer
        .as_ref()
        .and_then(|d| d.config.field("caller_id").map(str::to_string))
        .unwrap_or_default();
    let status_url = format!("{}/dial/{token}/status", state.base_url(&headers));
    Ok(xml(request::plivo_answer(
        &caller_id,
        &attempt.customer,
        &status_url,
    )))
}

#[utoipa::path(post, path = "/dial/{token}/answer", operation_id = "dialAnswerPost", tag = "callbacks",
    description = "Plivo's answer URL for a call back: the instruction that dials the customer once the agent picks up.",
    params(("token" = String, Path)),
    responses((status = 200, description = "Plivo XML", content_type = "application/xml"),
        (status = 404, body = crate::error::ErrorBody), (status = 410, body = crate::error::ErrorBody)))]
pub async fn answer_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    answer(state, headers, token).await
}

#[utoipa::path(get, path = "/dial/{token}/answer", operation_id = "dialAnswerGet", tag = "callbacks",
    params(("token" = String, Path)),
    responses((status = 200, description = "Plivo XML", content_type = "application/xml"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn answer_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    answer(state, headers, token).await
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status_post, status_get))
        .routes(routes!(answer_post, answer_get))
}
