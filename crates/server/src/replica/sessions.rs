//! Signing in through a replica's own page.
//!
//! A replica holds no password hashes (the snapshot blanks them), so the
//! receiver judges the password: the credentials go to its
//! `/api/auth/login` (or `/api/auth/exchange`) in bearer mode, over the
//! replica's own client (its TLS roots included). Only when the receiver
//! accepts them for the replica's own user does the replica open a session
//! of its own: its cache is that user's view (role, departments), so anyone
//! else would be shown the wrong data. The receiver's token is revoked at
//! once: the replica forwards writes with the token it follows with, so that
//! one would only lie about for 30 days.
//!
//! A local session is a row of the cache's `tokens` table (which no
//! replicated table refers to and a fresh snapshot empties), so it is
//! judged exactly as the receiver judges its own (`users::authenticate`:
//! idle time, maximum, revocation, a deactivated user) and survives a
//! restart of the replica, and of the receiver: a session already open keeps
//! working while the receiver is down, only a new sign-in needs it.

use super::Shared;
use crate::api::session::{self as login_api, ExchangeRequest, LoginRequest};
use crate::auth::{Principal, Via};
use crate::error::{ApiError, ErrorCode, Json};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::store::users::{self, User};
use serde_json::{json, Value};

/// A token presented to the replica's local API: one it was started with,
/// else a session signed in through it. Other tokens get 401.
pub(crate) async fn principal(shared: &Shared, token: String) -> Result<Principal, ApiError> {
    if shared.check_token(&token).is_ok() {
        return shared.principal(token);
    }
    // Sessions open here only once the user is known: before, a token that
    // is not the replica's own is simply unknown (401, not 503).
    let unknown = || {
        shared
            .check_token(&token)
            .err()
            .unwrap_or_else(crate::auth::missing_token)
    };
    let Ok(me) = shared.me() else {
        return Err(unknown());
    };
    let now = shared.store.now();
    let t = token.clone();
    let found = shared
        .store
        .read(move |c| users::authenticate(c, &t, now))
        .await?;
    match found {
        // The user id is checked again: a cache re-pointed at another user
        // drops its sessions with the snapshot, but `me` changes first.
        users::Lookup::Active(session) if me.user.as_ref().map(|u| u.id) == Some(session.user.id) => {
            if session.needs_touch(now) {
                let (id, store) = (session.id, shared.store.clone());
                // Off the request's path: a read never waits on the writer.
                tokio::spawn(async move {
                    if let Err(e) = store.write(move |w| users::touch_session(w, id)).await {
                        tracing::debug!(error = %e, "could not note a local session's use");
                    }
                });
            }
            Ok(Principal {
                user: me.user,
                role: me.role,
                token,
                integration: None,
                csrf_token: None,
                // A sign-in with a password to change is refused here (the
                // change is made on the receiver), so none gets this far.
                password_change: false,
            })
        }
        users::Lookup::Expired => Err(ApiError::unauthorized(
            ErrorCode::SessionExpired,
            "your session has ended (unused for too long, or at the end of its time): sign in again",
        )),
        _ => Err(unknown()),
    }
}

/// Whether `token` is a session signed in through this replica (not one
/// it was started with).
pub(crate) fn is_local(shared: &Shared, token: &str) -> bool {
    shared.check_token(token).is_err()
}

/// `POST /api/auth/login` and `/api/auth/exchange` on a replica.
pub(crate) async fn sign_in(state: &AppState, shared: &Shared, req: Request) -> Response {
    match try_sign_in(state, shared, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn try_sign_in(
    state: &AppState,
    shared: &Shared,
    req: Request,
) -> Result<Response, ApiError> {
    let path = req.uri().path().to_string();
    let client = crate::auth::peer_ip(req.extensions());
    let headers = req.headers().clone();
    // Parsed here (the same rules and errors as on the receiver), then sent
    // on in bearer mode: the receiver's cookie would be for its own host.
    let (cookie, username, body) = if path == "/api/auth/exchange" {
        let Json(x) = Json::<ExchangeRequest>::from_request(req, state).await?;
        (x.cookie, None, json!({ "code": x.code }))
    } else {
        let Json(l) = Json::<LoginRequest>::from_request(req, state).await?;
        // This replica's own lock per client, besides the receiver's (which
        // sees every browser here as the replica's one address unless it
        // trusts this replica as a proxy).
        login_api::refuse_while_locked(state, &l.username, client)?;
        // Only the mirrored user can sign in here: any other name is
        // refused before the receiver is asked, so guesses at other
        // accounts through this page never count against them there.
        // (User names compare as SQLite's NOCASE does: ASCII only.)
        let mine = shared.me()?.user.map(|u| u.username);
        if !mine.is_some_and(|m| m.eq_ignore_ascii_case(&l.username)) {
            return Err(not_this_desktop(shared));
        }
        let body = json!({ "username": l.username, "password": l.password, "totp": l.totp });
        (l.cookie, Some(l.username), body)
    };
    let me = shared.me()?;
    let answer = match shared.remote.sign_in(&path, &body, client).await {
        Ok(a) if a.status < 500 => a,
        Ok(a) => return Err(needs_receiver(shared, &format!("it answered {}", a.status))),
        Err(e) => return Err(needs_receiver(shared, &e.to_string())),
    };
    if answer.status != 200 {
        // A wrong password (or code) counts here too; `totp_required` is
        // a right password still waiting for its code.
        let code = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
        if let (Some(name), Some("bad_credentials" | "invalid_totp")) = (&username, code.as_deref())
        {
            state.logins.failed(name, client, std::time::Instant::now());
        }
        return Ok(passed_on(answer.status, answer.body, answer.retry_after));
    }
    let v: Value = serde_json::from_str(&answer.body).map_err(|e| bad_answer(&e.to_string()))?;
    let Some(remote_token) = v["token"].as_str() else {
        return Err(bad_answer("no token in the sign-in answer"));
    };
    // Not needed whatever follows: this replica writes with its own token.
    if let Err(e) = shared.remote.revoke(remote_token).await {
        tracing::warn!(error = %e, "could not revoke the receiver session a sign-in here opened");
    }
    let user: User =
        serde_json::from_value(v["user"].clone()).map_err(|e| bad_answer(&e.to_string()))?;
    if me.user.as_ref().map(|u| u.id) != Some(user.id) {
        return Err(mismatch(shared, me.user.as_ref(), &user));
    }
    if v["must_change_password"] == true {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PasswordChangeRequired,
            format!(
                "this password must be changed first: sign in on the receiver's own page ({}), choose a new password there, then sign in here with it",
                shared.remote.base()
            ),
        ));
    }
    if let Some(name) = &username {
        state.logins.succeeded(name, client);
    }
    let browser = cookie.then(|| login_api::browser_policy(state));
    let uid = user.id;
    let (token, expires_at) = shared
        .store
        .write(move |w| users::issue_token(w, uid, browser))
        .await?;
    tracing::info!(user = %user.username, cookie, "signed in through the replica");
    Ok(login_api::signed_in(
        state, &headers, user, token, expires_at, cookie, false,
    ))
}

/// `POST /api/auth/logout` with a session signed in here: revoked here (the
/// replica's own token is still forwarded, as documented).
pub(crate) async fn sign_out(
    state: &AppState,
    shared: &Shared,
    token: String,
    via: Via,
) -> Response {
    if let Err(e) = principal(shared, token.clone()).await {
        return e.into_response();
    }
    if let Err(e) = shared.store.write(move |w| users::revoke(w, &token)).await {
        return ApiError::from(e).into_response();
    }
    if via == Via::Cookie {
        let clear = crate::auth::clear_session_cookie(&state.config.session_cookie);
        return (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /api/auth/password` on a replica, by `who` (a session signed in
/// here, or the replica's own token): sent to the receiver at once, which
/// judges the current password and stores the new one (never queued in the
/// outbox: the passwords would wait there on disk, and nothing would end the
/// sessions below when it lands; 503 `sign_in_needs_receiver` while it cannot
/// be reached). Once the receiver has changed it, this user's other sessions
/// here end as the receiver ends its own; the one it was changed from stays
/// (and on the receiver the replica's own token stays, the one it was sent
/// with). The answer's `other_sessions_ended` counts both.
pub(crate) async fn change_password(
    state: &AppState,
    shared: &Shared,
    req: Request,
    who: Principal,
) -> Response {
    match try_change_password(state, shared, req, who).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn try_change_password(
    state: &AppState,
    shared: &Shared,
    req: Request,
    who: Principal,
) -> Result<Response, ApiError> {
    let client = crate::auth::peer_ip(req.extensions());
    // As on the receiver: a wrong current password counts as a wrong
    // password, here per browser.
    let username = who.user.as_ref().map(|u| u.username.clone());
    if let Some(name) = &username {
        login_api::refuse_while_locked(state, name, client)?;
    }
    let key = super::forward::key_or_new(req.headers());
    let bytes = axum::body::to_bytes(req.into_body(), state.config.max_body_bytes)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                e.to_string(),
            )
        })?;
    let body = String::from_utf8_lossy(&bytes);
    let answer = match shared
        .remote
        .send(
            "POST",
            "/api/auth/password",
            Some(&body),
            &key,
            Some(client),
        )
        .await
    {
        Ok(a) if a.status < 500 => a,
        Ok(a) => {
            return Err(password_needs_receiver(
                shared,
                &format!("it answered {}", a.status),
            ))
        }
        Err(e) => return Err(password_needs_receiver(shared, &e.to_string())),
    };
    if !(200..300).contains(&answer.status) {
        let code = serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
        if let (Some(name), Some("bad_credentials")) = (&username, code.as_deref()) {
            state.logins.failed(name, client, std::time::Instant::now());
        }
        return Ok(passed_on(answer.status, answer.body, answer.retry_after));
    }
    if let Some(name) = &username {
        state.logins.succeeded(name, client);
    }
    let mut v: Value =
        serde_json::from_str(&answer.body).map_err(|e| bad_answer(&e.to_string()))?;
    let ended_here = match &who.user {
        Some(u) => {
            let (uid, keep) = (u.id, who.token.clone());
            shared
                .store
                .write(move |w| users::end_other_sessions(w, uid, &keep))
                .await?
        }
        None => 0,
    };
    let there = v["other_sessions_ended"].as_u64().unwrap_or(0);
    v["other_sessions_ended"] = json!(there + ended_here as u64);
    tracing::info!(
        user = username.as_deref().unwrap_or(""),
        ended_here,
        "password changed through the replica"
    );
    // Read-your-writes, as for any forwarded change.
    super::follow::sync_now(shared).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    Ok((status, axum::Json(v)).into_response())
}

fn password_needs_receiver(shared: &Shared, why: &str) -> ApiError {
    tracing::info!(error = %why, "password change through the replica: receiver unreachable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SignInNeedsReceiver,
        format!(
            "changing your password needs the receiver ({}), which cannot be reached now ({why}); nothing was changed or kept: try again when the receiver is back",
            shared.remote.base()
        ),
    )
}

/// The receiver's own refusal (wrong password, a code wanted, a lock), as
/// it came.
fn passed_on(status: u16, body: String, retry_after: Option<String>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(v) = retry_after.and_then(|r| HeaderValue::from_str(&r).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn needs_receiver(shared: &Shared, why: &str) -> ApiError {
    tracing::info!(error = %why, "sign-in through the replica: receiver unreachable");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SignInNeedsReceiver,
        format!(
            "signing in here needs the receiver ({}), which cannot be reached now ({why}); a session already open here keeps working: try again when the receiver is back",
            shared.remote.base()
        ),
    )
}

fn bad_answer(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        ErrorCode::Internal,
        format!("the receiver's sign-in answer could not be read: {why}"),
    )
}

/// Another user name than the mirrored user's: refused without naming
/// whose desktop this is (the password was not checked).
fn not_this_desktop(shared: &Shared) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ReplicaUserMismatch,
        format!(
            "only the user this desktop mirrors can sign in here (its cache holds only that user's view); open the receiver at {} to sign in as anyone else",
            shared.remote.base()
        ),
    )
}

fn mismatch(shared: &Shared, mine: Option<&User>, theirs: &User) -> ApiError {
    let url = shared.remote.base();
    let whose = match mine {
        Some(u) => format!("this desktop mirrors {}'s view of the receiver", u.username),
        None => "this desktop mirrors the receiver for its admin token, not for a person".into(),
    };
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::ReplicaUserMismatch,
        format!(
            "{whose}, so {} cannot sign in here (its cache holds only that view); open the receiver at {url} to sign in as {}",
            theirs.username, theirs.username
        ),
    )
}
