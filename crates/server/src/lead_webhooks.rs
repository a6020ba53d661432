//! `POST /webhooks/ivr/{slug}/leads`: a platform's lead records (Convoso's
//! lead webhook: lead created or updated). Authenticated, read and capped
//! exactly as the call webhook (`webhooks::authenticate`); a 2xx means the
//! delivery and its lead are committed.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::webhooks::{authenticate, body_error, provider_for, Authenticated};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callboard_core::store::ingest::Received;
use callboard_core::store::lead_deliveries::{self, LeadDelivery, LeadOutcome, LeadRefusal};
use callboard_core::store::leads::Lead;
use callboard_core::store::refusals::DeliveryKind;
use callboard_core::ErrorCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadAck {
    /// `applied` (created or updated) or `stale` (older than the stored
    /// lead by `modified_at`: recorded in the delivery log as a duplicate
    /// of the delivery holding the newer data, not applied).
    pub outcome: LeadOutcome,
    /// The delivery-log id of this delivery.
    pub delivery_id: i64,
    /// The lead as stored now.
    pub lead: Lead,
    /// Values kept as received (an invalid phone number), and why a stale
    /// delivery was not applied.
    pub warnings: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/webhooks/ivr/{slug}/leads",
    operation_id = "receiveLeadWebhook",
    tag = "webhooks",
    description = "A lead created or updated on the platform (Convoso's lead webhook fields: `lead_id` or `id`, `first_name`, `last_name`, `phone_number` with `phone_code`, `email`, `status`, `status_name`, `list_id`, `owner_id`/`user_id`, `address1`, `city`, `state`, `postal_code`, `created_at`, `modified_at`/`last_modified`, custom fields kept in `raw`), JSON or a form, authenticated by the provider's scheme like its call webhook. A delivery older than the stored lead (`modified_at`) is recorded and answered `stale`; one without a lead id is refused with 400 `mapping_failed` and nothing is stored.",
    params(("slug" = String, Path, description = "The provider's slug")),
    request_body(content = Object, description = "The lead: JSON or form-encoded", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed: applied, or stale (not applied)", body = LeadAck),
        (status = 400, description = "Body cannot be parsed, or is not a lead (`mapping_failed`: no lead id; a field that cannot be read)", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong API key or signature (the provider's scheme)", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive provider", body = crate::error::ErrorBody),
        (status = 413, description = "Body over the size limit", body = crate::error::ErrorBody),
        (status = 415, description = "Unsupported content type", body = crate::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn receive_lead(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let provider = provider_for(&state, &slug)?;
    let taken = match authenticate(&state, &provider, DeliveryKind::Lead, req).await? {
        Authenticated::Handshake(r) => return Ok(r),
        Authenticated::Delivery(t) => t,
    };
    let received = Received {
        method: taken.method.as_str(),
        content_type: taken.content_type.as_deref(),
        body: &taken.bytes,
        query: taken.query.as_deref(),
        request_id: taken.request_id.as_deref(),
        at: taken.now,
        max_future_skew: None,
    };
    let delivery = match LeadDelivery::prepare(&provider, received) {
        Ok(d) => d,
        Err(LeadRefusal::Body(e)) => return Err(taken.refuse(&state, provider.id, body_error(e))),
        Err(LeadRefusal::Lead(e)) => {
            let err = ApiError::bad_request(ErrorCode::MappingFailed, e.to_string());
            return Err(taken.refuse(&state, provider.id, err));
        }
    };
    let result = state
        .store
        .write(move |w| lead_deliveries::record(w, delivery))
        .await?;
    if result.outcome == LeadOutcome::Stale {
        tracing::info!(provider = %slug, lead_id = %result.lead.lead_id, "stale lead delivery recorded, not applied");
    }
    Ok((
        StatusCode::OK,
        axum::Json(LeadAck {
            outcome: result.outcome,
            delivery_id: result.raw_event_id,
            lead: result.lead,
            warnings: result.warnings,
        }),
    )
        .into_response())
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_lead))
}
