//! `Idempotency-Key` on writes: a retry of a write (a replica's outbox after
//! a cut connection) gets the first answer again instead of a second effect.
//! Same key + same request → the stored answer (with
//! `Idempotent-Replayed: true`); same key + another request → 422.

use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callboard_core::keys;
use callboard_core::store::idempotency::{self, KeyedRequest};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The request's `Idempotency-Key` as [`honour_key`] accepted it: a writing
/// handler passes it to `Store::write_keyed`, which records it in the
/// transaction of the effect.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<Arc<KeyedRequest>>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IdempotencyKey(
            parts.extensions.get::<Arc<KeyedRequest>>().cloned(),
        ))
    }
}

/// Keys being handled right now by one server: a concurrent duplicate must
/// wait its turn.
pub type InFlightKeys = Arc<Mutex<HashSet<String>>>;

struct InFlight(InFlightKeys, String);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut k) = self.0.lock() {
            k.remove(&self.1);
        }
    }
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic())
}

fn stored_answer(status: u16, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// The requests [`honour_key`] concerns: a change that carries a key.
pub fn concerns(req: &Request) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.headers().contains_key("idempotency-key")
}

/// Only the requests it [`concerns`] reach it (`app::router` gates it).
pub async fn honour_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = match req.headers().get("idempotency-key") {
        Some(key) if concerns(&req) => key.clone(),
        _ => return next.run(req).await,
    };
    let key = match key.to_str() {
        Ok(k) if valid_key(k) => k.to_string(),
        _ => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key: 1 to 255 visible ASCII characters",
            )
            .into_response()
        }
    };
    // Keys are per caller: the Authorization header (as it always was, so
    // keys stored before an upgrade still replay), else the console's cookie.
    let principal = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(keys::hash_secret)
        .or_else(|| {
            crate::auth::session_cookie(req.headers(), &state.config.session_cookie)
                .map(|t| keys::hash_secret(&format!("cookie:{t}")))
        })
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                e.to_string(),
            )
            .into_response()
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let method = parts.method.to_string();
    let request_hash = keys::hash_secret(&format!(
        "{method}\n{path}\n{}",
        String::from_utf8_lossy(&bytes)
    ));
    let keyed = KeyedRequest {
        key: key.clone(),
        principal,
        method,
        path,
        request_hash,
    };
    let _guard = {
        let Ok(mut set) = state.idempotency_in_flight.lock() else {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Busy,
                "try again",
            )
            .into_response();
        };
        if !set.insert(key.clone()) {
            return ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyKeyInUse,
                "a request with this Idempotency-Key is being handled: retry shortly",
            )
            .into_response();
        }
        InFlight(state.idempotency_in_flight.clone(), key.clone())
    };
    let k = key.clone();
    let found = match state.store.read(move |c| idempotency::lookup(c, &k)).await {
        Ok(f) => f,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(stored) = found {
        let same = stored.request.request_hash == keyed.request_hash
            && stored.request.principal == keyed.principal;
        if !same {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyMismatch,
                "this Idempotency-Key was used for another request: use a new key",
            )
            .into_response();
        }
        return match stored.status {
            Some(s) => stored_answer(s, stored.body.unwrap_or_default()),
            // The effect committed but the answer was lost (a crash in
            // between): applying it again would double it.
            None => stored_answer(
                200,
                serde_json::json!({ "applied": true, "message": "this request was already applied; its original answer was lost" })
                    .to_string(),
            ),
        };
    }
    let keyed = Arc::new(keyed);
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(keyed.clone());
    let res = next.run(req).await;
    let status = res.status();
    // Answers that say nothing about the request itself are not kept: a
    // retry may succeed.
    if status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                e.to_string(),
            )
            .into_response()
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let code = status.as_u16();
    if let Err(e) = state
        .store
        .write(move |w| idempotency::store_response(w, &keyed, code, &text))
        .await
    {
        tracing::warn!(error = %e, "cannot store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}
