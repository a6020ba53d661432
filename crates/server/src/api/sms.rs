//! Texting missed callers: a department's settings (template, quiet hours,
//! one text per caller per gap) and its latest texts. The sender is
//! `crate::sms`; the texts go through the department's dialer.

use crate::auth::{Admin, Supervisor};
use crate::error::{ApiError, ApiResult, Json};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::sms::{self, SmsMessage, SmsSettings};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(get, path = "/api/providers/{slug}/sms", operation_id = "getSmsSettings", tag = "callbacks",
    description = "The department's missed-call text: template, quiet hours, one per caller per so many hours.",
    params(("slug" = String, Path)),
    responses((status = 200, body = SmsSettings), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn get_sms(
    State(state): State<AppState>,
    _: Supervisor,
    Path(slug): Path<String>,
) -> ApiResult<Json<SmsSettings>> {
    let s = slug.clone();
    state
        .store
        .read(move |c| {
            callboard_core::store::providers::get(c, &s)?;
            sms::settings(c, &s)
        })
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("department `{slug}` sends no SMS")))
}

#[utoipa::path(put, path = "/api/providers/{slug}/sms", operation_id = "putSmsSettings", tag = "callbacks",
    description = "Texts callers the department missed (through its dialer's platform: Exotel, Twilio, Plivo, Vonage or Dialpad), queued with the event that puts the call in the worklist.",
    params(("slug" = String, Path)), request_body = SmsSettings,
    responses((status = 200, body = SmsSettings), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put_sms(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
    Json(input): Json<SmsSettings>,
) -> ApiResult<Json<SmsSettings>> {
    let actor = who.actor();
    let s = state
        .store
        .write_keyed(key.0, move |w| sms::put_settings(w, &slug, input, &actor))
        .await?;
    Ok(Json(s))
}

#[utoipa::path(delete, path = "/api/providers/{slug}/sms", operation_id = "deleteSmsSettings", tag = "callbacks",
    params(("slug" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete_sms(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| sms::delete_settings(w, &slug, &actor))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/providers/{slug}/sms/messages", operation_id = "listSmsMessages", tag = "callbacks",
    description = "The department's newest missed-call texts (50), with their state and, when failed, why.",
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<SmsMessage>)),
    security(("bearer" = ["supervisor"])))]
pub async fn sms_messages(
    State(state): State<AppState>,
    _: Supervisor,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<SmsMessage>>> {
    Ok(Json(
        state.store.read(move |c| sms::recent(c, &slug, 50)).await?,
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_sms, put_sms, delete_sms))
        .routes(routes!(sms_messages))
}
