//! `GET /webhooks/ivr/{slug}/contacts?number=…`: a telephone system asks who is
//! calling (3CX's contact lookup, from Callboard's 3CX template), and hears
//! the caller as the department's calls know them — the newest name, how
//! many calls, the last one — with a link that opens their calls in the
//! console. Authenticated like the department's webhooks; reads only.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::webhooks::{authenticate, provider_for, Authenticated};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use callboard_core::signature;
use callboard_core::store::contacts;
use callboard_core::store::refusals::DeliveryKind;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The callers a number matches: none, or one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactLookup {
    pub contacts: Vec<ContactCard>,
}

/// A caller, in the words a CRM lookup uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCard {
    /// The number, as the department's calls store it (E.164 when valid).
    pub id: String,
    /// The newest caller name of their calls; the number when none has one.
    pub first_name: String,
    /// Always empty: a caller's name is kept whole, not guessed apart.
    pub last_name: String,
    pub phone: String,
    /// The console's call history of this number in this department.
    pub url: String,
    /// Their calls to this department.
    pub calls: i64,
    pub last_call_at: String,
    pub last_status: String,
}

#[utoipa::path(
    get,
    path = "/webhooks/ivr/{slug}/contacts",
    operation_id = "lookupContact",
    tag = "webhooks",
    description = "Who is calling, for a telephone system's contact lookup (Callboard's 3CX template calls it with `?token=<api key>&number=[Number]`): the caller as this department's calls know them, and a link to their calls in the console. Authenticated by the department's scheme, like its webhooks. `contacts` is empty for a number the department never heard from.",
    params(
        ("slug" = String, Path, description = "The department's slug"),
        ("number" = String, Query, description = "The caller's number; a national number is read in the department's region (`$options.region`)"),
    ),
    responses(
        (status = 200, description = "The caller, or none", body = ContactLookup),
        (status = 400, description = "No `number`, or one without digits", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong API key (the department's scheme)", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive department", body = crate::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn lookup(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let provider = provider_for(&state, &slug)?;
    let base = state.base_url(req.headers());
    let taken = match authenticate(&state, &provider, DeliveryKind::Call, req).await? {
        Authenticated::Handshake(r) => return Ok(r),
        Authenticated::Delivery(t) => t,
    };
    let raw = signature::query_param(taken.query.as_deref(), "number").unwrap_or_default();
    // A `+` left unencoded in the query (`number=+44…`) decodes as a space.
    let raw = match raw.strip_prefix(' ') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => format!("+{rest}"),
        _ => raw,
    };
    let number = provider.mapping.number(&raw).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::Invalid,
            "`number` is missing or has no digits: call with ?number=<the caller's number>",
        )
    })?;
    let department = provider.slug.clone();
    let wanted = number.clone();
    let found = state
        .store
        .read(move |c| contacts::by_number(c, &department, &wanted))
        .await?;
    let contacts = found
        .map(|c| {
            let query = serde_urlencoded::to_string([
                ("q", c.number.as_str()),
                ("department", provider.slug.as_str()),
            ])
            .unwrap_or_default();
            ContactCard {
                id: c.number.clone(),
                first_name: c.name.unwrap_or_else(|| c.number.clone()),
                last_name: String::new(),
                phone: c.number,
                url: format!("{base}/history?{query}"),
                calls: c.calls,
                last_call_at: c.last_call_at,
                last_status: c.last_status,
            }
        })
        .into_iter()
        .collect();
    Ok(Json(ContactLookup { contacts }).into_response())
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(lookup))
}
