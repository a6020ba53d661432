//! `POST /api/session/update`: Cloudonix's session-update endpoint. One URL
//! serves every Cloudonix domain: the payload's `domain` picks the provider
//! that lists it; authentication, mapping and storage are then those of any
//! webhook. Never rate limited.

use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::webhooks::{read_body, receive_for};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[utoipa::path(
    post,
    path = "/api/session/update",
    operation_id = "cloudonixSessionUpdate",
    tag = "webhooks",
    description = "Cloudonix session updates (the domain profile's `session-update-endpoint`). The provider is the one whose `domains` list the payload's `domain`; it authenticates with its own scheme (the Cloudonix preset: `?token=<api key>` in the URL).",
    request_body(content = Object, description = "A Cloudonix session update", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed (applied or a recognised duplicate)", body = crate::webhooks::WebhookAck),
        (status = 202, description = "Stored with a mapping error", body = crate::webhooks::WebhookAck),
        (status = 400, description = "Not a JSON object with a `domain`", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong credentials", body = crate::error::ErrorBody),
        (status = 404, description = "No active provider owns the domain", body = crate::error::ErrorBody),
        (status = 413, description = "Body over the size limit", body = crate::error::ErrorBody),
    )
)]
pub async fn session_update(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(
        body,
        &parts.headers,
        state.config.max_body_bytes,
        state.config.limits.body_timeout,
    )
    .await?;
    let domain = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("domain").and_then(Value::as_str).map(str::to_string))
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::MalformedBody,
                "a session update is a JSON object with a `domain`",
            )
        })?;
    let provider = state
        .store
        .providers()
        .by_domain(domain.trim())
        .filter(|p| p.active)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no active provider owns the Cloudonix domain `{domain}`: add it to a provider's domains"
            ))
        })?;
    let req = Request::from_parts(parts, Body::from(bytes));
    receive_for(state, provider, req, true).await
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(session_update))
}
