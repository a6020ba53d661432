//! Writes on a replica: forwarded to the receiver with an `Idempotency-Key`;
//! when it cannot be reached they wait in the local outbox (answer 202) and
//! are delivered in order, exactly once, when it is back.

use super::client::RemoteError;
use super::{follow, Shared};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callboard_core::store::replica as cache;
use callboard_core::store::replica::OutboxState;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The 202 answer of a write queued in the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuedWrite {
    /// Always true.
    pub queued: bool,
    /// The outbox entry (`GET /api/replica/outbox`).
    pub outbox_id: i64,
    pub idempotency_key: String,
    pub message: String,
}

fn answer(status: u16, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}

/// Middleware of a replica's local API: reads pass through to the handlers
/// over the cache; writes go to the receiver; webhooks belong to the
/// receiver alone. Put on a replica's router only (`app::router`).
pub async fn forward_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(shared) = state.replica.clone() else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    if path.starts_with("/webhooks/") || path == "/api/session/update" {
        return ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            ErrorCode::NotTheReceiver,
            "this is a replica: platforms post webhooks to the receiver",
        )
        .into_response();
    }
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if read || !path.starts_with("/api/") || path.starts_with("/api/replica/") {
        return next.run(req).await;
    }
    // A sign-in is checked by the receiver and opens a session here
    // (`sessions`); everything else needs our token or such a session, and,
    // signed in by the cookie, its CSRF token (the receiver only ever sees
    // the replica's bearer token, so the check is made here).
    if path == "/api/auth/login" || path == "/api/auth/exchange" {
        return super::sessions::sign_in(&state, &shared, req).await;
    }
    let Some((token, via)) =
        crate::auth::credential(req.headers(), req.uri(), &state.config.session_cookie)
    else {
        return crate::auth::missing_token().into_response();
    };
    if let Err(e) = crate::auth::check_csrf(req.method(), req.headers(), &token, via) {
        return e.into_response();
    }
    // Signing out of a session opened here ends it here; the replica's own
    // token is forwarded like any write (the receiver revokes it).
    if path == "/api/auth/logout" && super::sessions::is_local(&shared, &token) {
        return super::sessions::sign_out(&state, &shared, token, via).await;
    }
    let who = match super::sessions::principal(&shared, token).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    // A password change is made on the receiver at once (never queued), and
    // ends the user's other sessions here too.
    if path == "/api/auth/password" {
        return super::sessions::change_password(&state, &shared, req, who).await;
    }
    let method = req.method().to_string();
    let path_q = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or(path);
    let key = key_or_new(req.headers());
    let bytes = match axum::body::to_bytes(req.into_body(), state.config.max_body_bytes).await {
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
    let body = (!bytes.iter().all(u8::is_ascii_whitespace))
        .then(|| String::from_utf8_lossy(&bytes).into_owned());
    submit(&shared, method, path_q, body, key).await
}

async fn queue(
    shared: &Shared,
    method: String,
    path: String,
    body: Option<String>,
    key: String,
) -> Response {
    let k = key.clone();
    let entry = shared
        .store
        .write(move |w| cache::enqueue(w, &k, &method, &path, body.as_deref()))
        .await;
    shared.refresh_outbox_counts().await;
    shared.outbox_wake.notify_one();
    match entry {
        Ok(e) => (
            StatusCode::ACCEPTED,
            axum::Json(QueuedWrite {
                queued: true,
                outbox_id: e.id,
                idempotency_key: key,
                message: "the receiver is unreachable: this change is queued and will be delivered when it is back".into(),
            }),
        )
            .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn submit(
    shared: &Arc<Shared>,
    method: String,
    path: String,
    body: Option<String>,
    key: String,
) -> Response {
    let guard = shared.write_lock.lock().await;
    // Writes already waiting go first: this one queues behind them.
    let pending = shared
        .store
        .read(cache::outbox_counts)
        .await
        .map(|(p, _)| p)
        .unwrap_or(0);
    if pending > 0 {
        drop(guard);
        return queue(shared, method, path, body, key).await;
    }
    match shared
        .remote
        .send(&method, &path, body.as_deref(), &key, None)
        .await
    {
        Ok(a) if a.status >= 500 && a.status != 501 => {
            drop(guard);
            queue(shared, method, path, body, key).await
        }
        Ok(a) => {
            drop(guard);
            if (200..300).contains(&a.status) {
                // Read-your-writes: the cache catches up before the answer.
                follow::sync_now(shared).await;
            }
            answer(a.status, a.body)
        }
        Err(e) => {
            drop(guard);
            tracing::info!(error = %e, "receiver unreachable: write queued");
            queue(shared, method, path, body, key).await
        }
    }
}

/// Delivers the outbox in order whenever the receiver may be back.
pub(crate) async fn deliver(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shared.outbox_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
        let mut delivered = false;
        loop {
            match deliver_one(&shared).await {
                Ok(true) => {
                    delivered = true;
                    continue;
                }
                Ok(false) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "outbox delivery waits for the receiver");
                    break;
                }
            }
        }
        shared.refresh_outbox_counts().await;
        if delivered {
            follow::sync_now(&shared).await;
        }
    }
}

/// Delivers the oldest pending write; Ok(false) when there is none.
async fn deliver_one(shared: &Arc<Shared>) -> Result<bool, RemoteError> {
    let _guard = shared.write_lock.lock().await;
    let Ok(Some(entry)) = shared.store.read(cache::next_pending).await else {
        return Ok(false);
    };
    let sent = shared
        .remote
        .send(
            &entry.method,
            &entry.path,
            entry.body_text.as_deref(),
            &entry.idempotency_key,
            None,
        )
        .await;
    let (state, status, body, error) = match &sent {
        Err(e) => (None, None, None, Some(e.to_string())),
        Ok(a) if a.status >= 500 => (
            None,
            Some(a.status),
            None,
            Some(format!("receiver answered {}", a.status)),
        ),
        Ok(a) if (200..300).contains(&a.status) => (
            Some(OutboxState::Delivered),
            Some(a.status),
            Some(a.body.clone()),
            None,
        ),
        Ok(a) if a.status == 409 => (
            Some(OutboxState::Conflict),
            Some(a.status),
            Some(a.body.clone()),
            None,
        ),
        Ok(a) => (
            Some(OutboxState::Failed),
            Some(a.status),
            Some(a.body.clone()),
            None,
        ),
    };
    let id = entry.id;
    let e2 = error.clone();
    if let Err(e) = shared
        .store
        .write(move |w| cache::settle(w, id, state, status, body.as_deref(), e2.as_deref()))
        .await
    {
        tracing::warn!(error = %e, "cannot record an outbox delivery");
    }
    match (state, sent) {
        (None, Err(e)) => Err(e),
        (None, Ok(_)) => Err(RemoteError::Unreachable(error.unwrap_or_default())),
        (Some(_), _) => {
            tracing::info!(
                id,
                state = state.map(OutboxState::as_str),
                "outbox write delivered"
            );
            Ok(true)
        }
    }
}

/// The write's `Idempotency-Key` as the browser sent it, or a new one: the
/// receiver then applies a retried forward once.
pub(super) fn key_or_new(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| ulid::Ulid::new().to_string())
}
