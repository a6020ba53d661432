//! `POST|GET /webhooks/ivr/{slug}`: the receiver. A 2xx means the delivery
//! and its effect are committed.

use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::body::BodyError;
use callboard_core::signature::{self, Refusal, SignedRequest};
use callboard_core::store::ingest::{self, Delivery, IngestResult, Received};
use callboard_core::store::providers::ProviderRuntime;
use callboard_core::store::refusals::DeliveryKind;
use http_body_util::BodyExt;
use serde::Serialize;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAck {
    /// `applied`, `duplicate` (recorded, applied once before), `stored`
    /// (kept with a mapping error, replayable) or `validated` (the platform's
    /// URL check, e.g. RingCentral's `Validation-Token`, answered with the
    /// header echoed; nothing stored).
    pub status: String,
    /// The ingestion-log id of this delivery (0 for `validated`: nothing was stored).
    pub delivery_id: i64,
    pub call_id: Option<String>,
    pub duplicate_of: Option<i64>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

pub(crate) fn provider_for(state: &AppState, slug: &str) -> ApiResult<Arc<ProviderRuntime>> {
    match state.store.providers().get(slug) {
        Some(p) if p.active => Ok(p),
        _ => Err(ApiError::not_found(format!(
            "no active provider `{slug}`: check the webhook URL"
        ))),
    }
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: std::time::Duration,
) -> ApiResult<Bytes> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    // An oversized body is read to its end (up to a bound) and dropped, so
    // the sender is still reading when the 413 comes, rather than seeing a
    // broken pipe.
    let drain_cap = limit.saturating_mul(8).min(16 * 1024 * 1024);
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(too_large());
    }
    let mut body = body;
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    let read_all = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                ApiError::bad_request(
                    ErrorCode::BodyUnreadable,
                    format!("could not read the body: {e}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen <= limit {
                    buf.extend_from_slice(&data);
                } else if seen > drain_cap {
                    break;
                }
            }
        }
        Ok::<_, ApiError>(())
    };
    match tokio::time::timeout(timeout, read_all).await {
        Ok(r) => r?,
        Err(_) => return Err(crate::conn::body_timeout(timeout)),
    }
    if seen > limit {
        return Err(too_large());
    }
    decode_content_encoding(headers, Bytes::from(buf), limit)
}

/// The error code of a body in a `Content-Encoding` we do not decode.
pub const UNSUPPORTED_ENCODING: callboard_core::ErrorCode =
    callboard_core::ErrorCode::UnsupportedEncoding;

/// Undoes the body's `Content-Encoding` (`gzip`, `x-gzip`, `deflate`, `br`,
/// `identity`, applied in the order listed): 413 when the decoded body is
/// over `limit` (a zip bomb stops there), 415 `unsupported_encoding` naming
/// any other encoding, 400 `malformed_body` when it does not decode.
pub(crate) fn decode_content_encoding(
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
) -> ApiResult<Bytes> {
    use std::io::Read;
    let mut codings: Vec<String> = Vec::new();
    for v in headers.get_all(header::CONTENT_ENCODING) {
        let v = v.to_str().map_err(|_| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                UNSUPPORTED_ENCODING,
                "the Content-Encoding header is not text",
            )
        })?;
        codings.extend(
            v.split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "identity"),
        );
    }
    if codings.is_empty() {
        return Ok(body);
    }
    if let Some(other) = codings
        .iter()
        .find(|c| !matches!(c.as_str(), "gzip" | "x-gzip" | "deflate" | "br"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UNSUPPORTED_ENCODING,
            format!(
                "Content-Encoding `{}` is not supported: send gzip, deflate, br or none",
                other.escape_debug()
            ),
        ));
    }
    let mut data = body;
    for coding in codings.iter().rev() {
        let input = std::io::Cursor::new(data);
        let reader: Box<dyn Read> = match coding.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(input)),
            // `deflate` is zlib-wrapped by the standard; raw deflate is
            // what some senders mean: try zlib first.
            "deflate" if zlib_header(input.get_ref()) => {
                Box::new(flate2::read::ZlibDecoder::new(input))
            }
            "deflate" => Box::new(flate2::read::DeflateDecoder::new(input)),
            _ => Box::new(brotli_decompressor::Decompressor::new(input, 8192)),
        };
        let mut out = Vec::new();
        let read = reader
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut out);
        if let Err(e) = read {
            return Err(ApiError::bad_request(
                ErrorCode::MalformedBody,
                format!("the {coding} body does not decode: {e}"),
            ));
        }
        if out.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                format!("the body, once decoded ({coding}), is larger than {limit} bytes"),
            ));
        }
        data = Bytes::from(out);
    }
    Ok(data)
}

/// A zlib stream's two-byte header (RFC 1950).
fn zlib_header(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

#[utoipa::path(
    post,
    path = "/webhooks/ivr/{slug}",
    operation_id = "receiveWebhook",
    tag = "webhooks",
    params(("slug" = String, Path, description = "The provider's slug")),
    request_body(content = Object, description = "The platform's event: JSON, form-encoded, or empty with a query string", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed (applied or a recognised duplicate)", body = WebhookAck),
        (status = 202, description = "Stored with a mapping error; replayable after the mapping is fixed", body = WebhookAck),
        (status = 400, description = "Body cannot be parsed", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong API key or signature (the provider's scheme)", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive provider", body = crate::error::ErrorBody),
        (status = 413, description = "Body over the size limit", body = crate::error::ErrorBody),
        (status = 415, description = "Unsupported content type", body = crate::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn receive_post(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    receive(state, slug, req).await
}

#[utoipa::path(
    get,
    path = "/webhooks/ivr/{slug}",
    operation_id = "receiveWebhookGet",
    tag = "webhooks",
    params(("slug" = String, Path, description = "The provider's slug")),
    responses(
        (status = 200, description = "Committed", body = WebhookAck),
        (status = 202, description = "Stored with a mapping error", body = WebhookAck),
        (status = 401, description = "Missing or wrong API key or signature (the provider's scheme)", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive provider", body = crate::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn receive_get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    receive(state, slug, req).await
}

async fn receive(state: AppState, slug: String, req: Request) -> ApiResult<Response> {
    let provider = provider_for(&state, &slug)?;
    receive_for(state, provider, req, false).await
}

/// The refusal is logged in the provider's ingestion log (with the reason,
/// never the secret) as a delivery of `kind`, without delaying the 401.
fn record_refusal(
    state: &AppState,
    source: std::net::IpAddr,
    (provider_id, kind): (i64, DeliveryKind),
    method: &str,
    content_type: Option<String>,
    request_id: Option<String>,
    refusal: &Refusal,
) {
    let Some(note) = state.refusals.admit_noting(provider_id, source) else {
        return;
    };
    let store = state.store.clone();
    let m = method.to_string();
    let reason = match refusal.code {
        ErrorCode::MissingApiKey | ErrorCode::InvalidApiKey => format!("{}{note}", refusal.code),
        code => format!("{code}: {}{note}", refusal.message),
    };
    tokio::spawn(async move {
        if let Err(e) = store
            .write(move |w| {
                ingest::record_rejected(
                    w,
                    provider_id,
                    kind,
                    &m,
                    content_type.as_deref(),
                    &reason,
                    request_id.as_deref(),
                )
            })
            .await
        {
            tracing::warn!(error = %e, "could not record a rejected delivery");
        }
    });
}

/// The URL the platform called, as it saw it: the configured public base
/// (else this request's Host), the path and the query as sent.
fn public_url(state: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let base = state.base_url(headers);
    match uri.query() {
        Some(q) => format!("{base}{}?{q}", uri.path()),
        None => format!("{base}{}", uri.path()),
    }
}

/// The answer to a body that cannot be taken.
pub(crate) fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::UnsupportedMediaType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            e.to_string(),
        ),
        BodyError::TooDeep(_) => ApiError::bad_request(ErrorCode::BodyTooDeep, e.to_string()),
        BodyError::EmptyGet => ApiError::bad_request(ErrorCode::EmptyDelivery, e.to_string()),
        BodyError::Malformed(_) => ApiError::bad_request(ErrorCode::MalformedBody, e.to_string()),
    }
}

/// A delivery that passed the provider's authentication, its body read.
pub(crate) struct Taken {
    pub source: std::net::IpAddr,
    /// What the URL takes: its refusals are logged as this kind.
    pub kind: DeliveryKind,
    pub method: String,
    pub content_type: Option<String>,
    pub request_id: Option<String>,
    pub now: callboard_core::time::Timestamp,
    /// The body (or the claims a token carried in place of it).
    pub bytes: Bytes,
    /// The query string, without a parameter that carried the credentials.
    pub query: Option<String>,
}

impl Taken {
    /// Logs a delivery whose body cannot be taken in the provider's
    /// ingestion log (rate-limited, off the request path), then refuses it.
    pub(crate) fn refuse(&self, state: &AppState, provider_id: i64, err: ApiError) -> ApiError {
        let kept: &[u8] = if self.bytes.is_empty() {
            self.query.as_deref().unwrap_or("").as_bytes()
        } else {
            &self.bytes
        };
        let r = (
            provider_id,
            self.method.as_str(),
            self.content_type.as_deref(),
            self.request_id.as_deref(),
            kept,
        );
        crate::refusals::record(state, self.source, self.kind, r, &err);
        err
    }
}

/// What authentication made of a request.
pub(crate) enum Authenticated {
    /// The platform checking the URL: the answer to send, nothing to store.
    Handshake(Response),
    Delivery(Taken),
}

/// Authenticates a request by `provider`'s scheme and reads its body under
/// the size, depth and time caps: 401 (logged as a refusal) for a missing or
/// wrong key or signature, 413/400/415 for a body that cannot be taken. The
/// call webhook and the lead webhook both start here; `kind` says which,
/// so the delivery log shows a refused lead delivery as a lead.
pub(crate) async fn authenticate(
    state: &AppState,
    provider: &ProviderRuntime,
    kind: DeliveryKind,
    req: Request,
) -> ApiResult<Authenticated> {
    let slug = provider.slug.clone();
    let (parts, body) = req.into_parts();
    let source = crate::auth::peer_ip(&parts.extensions);
    let rid = request_id(&parts.headers);
    let ctype = content_type(&parts.headers);
    let method = parts.method.clone();
    let now = state.store.now();
    let url = public_url(state, &parts.headers, &parts.uri);
    let lookup = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };

    // Keys are checked before the body is read; signatures need the body.
    let signed = provider.auth.uses_signing_secret();
    let mut body = Some(body);
    let mut bytes = Bytes::new();
    if signed {
        if let Some(b) = body.take() {
            bytes = read_body(
                b,
                &parts.headers,
                state.config.max_body_bytes,
                state.config.limits.body_timeout,
            )
            .await?;
        }
    }
    let verdict = provider.verify(&SignedRequest {
        method: method.as_str(),
        url: &url,
        query: parts.uri.query(),
        content_type: ctype.as_deref(),
        body: &bytes,
        header: &lookup,
        now,
    });
    let verified = match verdict {
        Ok(v) => v,
        Err(refusal) => {
            record_refusal(
                state,
                source,
                (provider.id, kind),
                method.as_str(),
                ctype.clone(),
                rid.clone(),
                &refusal,
            );
            return Err(ApiError::unauthorized(refusal.code, refusal.message));
        }
    };
    if let Some((name, value)) = verified.handshake {
        // The platform checking the URL (RingCentral's Validation-Token):
        // echo the header; there is no event to store.
        tracing::info!(provider = %slug, "answered the platform's URL validation handshake");
        let mut r = (
            StatusCode::OK,
            axum::Json(WebhookAck {
                status: "validated".into(),
                delivery_id: 0,
                call_id: None,
                duplicate_of: None,
                error: None,
                warnings: vec![],
            }),
        )
            .into_response();
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            r.headers_mut().insert(n, v);
        }
        return Ok(Authenticated::Handshake(r));
    }
    if let Some(b) = body.take() {
        bytes = match read_body(
            b,
            &parts.headers,
            state.config.max_body_bytes,
            state.config.limits.body_timeout,
        )
        .await
        {
            Ok(b) => b,
            Err(e) => {
                let r = (
                    provider.id,
                    method.as_str(),
                    ctype.as_deref(),
                    rid.as_deref(),
                    &b""[..],
                );
                crate::refusals::record(state, source, kind, r, &e);
                return Err(e);
            }
        };
    }
    let query = match &verified.strip_query_param {
        Some(p) => signature::strip_query_param(parts.uri.query(), p),
        None => parts.uri.query().map(str::to_string),
    };
    let (bytes, ctype) = match verified.body {
        Some(claims) => (Bytes::from(claims), Some("application/json".to_string())),
        None => (bytes, ctype),
    };
    Ok(Authenticated::Delivery(Taken {
        source,
        kind,
        method: method.as_str().to_string(),
        content_type: ctype,
        request_id: rid,
        now,
        bytes,
        query,
    }))
}

/// Authenticates, parses, maps and stores one delivery for `provider`.
pub(crate) async fn receive_for(
    state: AppState,
    provider: Arc<ProviderRuntime>,
    req: Request,
    ends_at_event: bool,
) -> ApiResult<Response> {
    let slug = provider.slug.clone();
    let taken = match authenticate(&state, &provider, DeliveryKind::Call, req).await? {
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
        max_future_skew: Some(chrono::Duration::seconds(state.config.max_future_skew_secs)),
    };
    let mut delivery = match Delivery::prepare(&provider, received) {
        Ok(d) => d,
        Err(e) => return Err(taken.refuse(&state, provider.id, body_error(e))),
    };
    if ends_at_event {
        delivery.end_at_event_time();
    }
    let result = state
        .store
        .write(move |w| ingest::ingest(w, delivery))
        .await?;
    Ok(match result {
        IngestResult::Applied {
            raw_event_id,
            call,
            warnings,
        } => (
            StatusCode::OK,
            axum::Json(WebhookAck {
                status: "applied".into(),
                delivery_id: raw_event_id,
                call_id: Some(call.call_id),
                duplicate_of: None,
                error: None,
                warnings,
            }),
        )
            .into_response(),
        IngestResult::Duplicate {
            raw_event_id,
            duplicate_of,
            call_id,
        } => (
            StatusCode::OK,
            axum::Json(WebhookAck {
                status: "duplicate".into(),
                delivery_id: raw_event_id,
                call_id,
                duplicate_of: Some(duplicate_of),
                error: None,
                warnings: vec![],
            }),
        )
            .into_response(),
        IngestResult::MappingFailed {
            raw_event_id,
            error,
        } => {
            tracing::warn!(provider = %slug, %error, "delivery stored with a mapping error");
            (
                StatusCode::ACCEPTED,
                axum::Json(WebhookAck {
                    status: "stored".into(),
                    delivery_id: raw_event_id,
                    call_id: None,
                    duplicate_of: None,
                    error: Some(error),
                    warnings: vec![],
                }),
            )
                .into_response()
        }
    })
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive_post, receive_get))
        .merge(crate::lead_webhooks::router())
}
