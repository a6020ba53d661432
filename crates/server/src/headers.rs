//! Security headers on every answer, and the `Origin` rule the event stream
//! shares with the REST API's CORS.
//!
//! The console is served by the same process as the API, so its policy is
//! strict: its own scripts only, no framing, no plugins, connections only to
//! itself (its WebSocket included). API answers get the strictest policy:
//! nothing in them is ever meant to run.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// The console's policy: `connect-src` names the host the page came from,
/// for the WebSocket (`'self'` covers `ws:` only in newer browsers).
fn console_policy(host: Option<&str>) -> String {
    let ws = host
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    // Recordings and voicemails play inline from the platform's servers,
    // and from an office PBX over plain http on the LAN (media cannot run
    // script).
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob: https: http:; \
         connect-src 'self'{ws}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub async fn secure(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A header value is a shared buffer: keeping it costs no copy.
    let host = req.headers().get(header::HOST).cloned();
    // Only this instance's cookie: a replica's on the same host (another
    // name) is not ours to judge or clear.
    let cookie = &state.config.session_cookie;
    let had_session = crate::auth::session_cookie(req.headers(), cookie).is_some();
    let mut res = next.run(req).await;
    // A session cookie the server no longer honours is dropped at once, so
    // the console's next load starts signed out instead of asking again.
    if had_session
        && res.status() == StatusCode::UNAUTHORIZED
        && !res.headers().contains_key(header::SET_COOKIE)
    {
        res.headers_mut().insert(
            header::SET_COOKIE,
            crate::auth::clear_session_cookie(cookie),
        );
    }
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let policy = if is_page {
        HeaderValue::from_str(&console_policy(host.as_ref().and_then(|h| h.to_str().ok()))).ok()
    } else {
        Some(HeaderValue::from_static(API_POLICY))
    };
    let h = res.headers_mut();
    // Room for the five headers below at once, not a regrowth per insert.
    h.reserve(5);
    if let Some(v) = policy {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Whether a browser page at `Origin` may use this server: its own origin
/// (the `Host` it asked), or one listed in `--allowed-origin` (the desktop
/// window's). No `Origin` is not a browser: tokens decide.
pub fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if allowed.iter().any(|o| o == origin) {
        return true;
    }
    let (_, host) = crate::forwarded::scheme_and_host(headers);
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}
