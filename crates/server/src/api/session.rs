//! Sign in, sign out, who am I, and the first-start login link.

use crate::auth::{self, Admin, ClientIp, Principal};
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::keys;
use callboard_core::store::totp;
use callboard_core::store::users::{self, Role, User};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit code of the authenticator app, for a user with two-step
    /// sign-in on (without it: 401 `totp_required`).
    #[serde(default)]
    pub totp: Option<String>,
    /// True (the web console): the session goes into an `HttpOnly`,
    /// `SameSite=Strict` cookie that script cannot read, ending after the
    /// server's idle time without use or its maximum; the answer then carries
    /// `csrf_token` instead of `token`.
    #[serde(default)]
    pub cookie: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Absent for a cookie session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// For a cookie session: send as `X-CSRF-Token` with every change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    pub expires_at: String,
    pub user: User,
    /// Signed in with a password that must be changed (the printed
    /// first-start one, a temporary one): until `POST /api/auth/password`,
    /// this session may only do that, read `/api/auth/me` or sign out
    /// (403 `password_change_required` elsewhere).
    pub must_change_password: bool,
}

/// The answer to a sign-in: a bearer token in the body, or the session in a
/// cookie with its CSRF token in the body (a replica's own sessions too).
pub(crate) fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    user: User,
    token: String,
    expires_at: String,
    cookie: bool,
    must_change_password: bool,
) -> Response {
    if !cookie {
        return Json(LoginResponse {
            token: Some(token),
            csrf_token: None,
            expires_at,
            user,
            must_change_password,
        })
        .into_response();
    }
    let secure = crate::forwarded::is_https(headers);
    let set = auth::session_cookie_header(
        &state.config.session_cookie,
        &token,
        state.config.session_max,
        secure,
    );
    let body = LoginResponse {
        token: None,
        csrf_token: Some(auth::csrf_token(&token)),
        expires_at,
        user,
        must_change_password,
    };
    ([(header::SET_COOKIE, set)], Json(body)).into_response()
}

/// How long a console session lasts, from the server's configuration.
pub(crate) fn browser_policy(state: &AppState) -> users::BrowserPolicy {
    let d = |d: std::time::Duration| {
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(12))
    };
    users::BrowserPolicy {
        idle: d(state.config.session_idle),
        max: d(state.config.session_max),
    }
}

#[utoipa::path(post, path = "/api/auth/login", operation_id = "login", tag = "auth", request_body = LoginRequest,
    description = "With `cookie: true` (the web console) the session is set as the HttpOnly, SameSite=Strict cookie `callboard_session` and the answer carries `csrf_token` (send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE); that session ends after `--session-idle` without a request (1 h) and `--session-max` after sign-in (12 h), answering 401 `session_expired`. Otherwise the answer carries a bearer `token` (30 days). After 5 wrong passwords for a user name from one client (IP address), that client's attempts at that name wait 30 s, doubling to 15 min (429 with Retry-After); after 20 wrong passwords from one client across any names, it waits for every name. A success resets that name for that client. Other clients are never locked out by someone else's failures; an admin clears locks with DELETE /api/auth/lockouts. On a replica (`callboard connect`) the cookie is named `callboard_session_<port>` (the port the replica listens on; browsers share cookies across the ports of one host), and the credentials are checked by the receiver: a session opens only for the user the replica mirrors (403 `replica_user_mismatch` for anyone else, another user name without asking the receiver), the browser's address goes to the receiver as `X-Forwarded-For` (believed when the receiver lists the replica in `--trusted-proxy`), the receiver's refusals (401, 429) are passed on, and 503 `sign_in_needs_receiver` answers while the receiver cannot be reached.",
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    key: IdempotencyKey,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    refuse_while_locked(&state, &req.username, client)?;
    let username = req.username.clone();
    let found = state
        .store
        .read(move |c| users::credentials(c, &username))
        .await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, String::new()),
    };
    let ok = password_matches(req.password.clone(), hash).await;
    let user = match (ok, user) {
        (true, Some(u)) => {
            second_factor(&state, &u, req.totp.as_deref(), &req.username, client).await?;
            state.logins.succeeded(&req.username, client);
            u
        }
        _ => {
            state
                .logins
                .failed(&req.username, client, std::time::Instant::now());
            return Err(ApiError::unauthorized(
                ErrorCode::BadCredentials,
                "wrong user name or password",
            ));
        }
    };
    let uid = user.id;
    let browser = req.cookie.then(|| browser_policy(&state));
    let (token, expires_at, must_change) = state
        .store
        .write_keyed(key.0, move |w| {
            users::issue_password_session(w, uid, browser)
        })
        .await?;
    Ok(signed_in(
        &state,
        &headers,
        user,
        token,
        expires_at,
        req.cookie,
        must_change,
    ))
}

/// 429 while `username` is locked for this client (too many wrong passwords).
pub(crate) fn refuse_while_locked(
    state: &AppState,
    username: &str,
    client: std::net::IpAddr,
) -> ApiResult<()> {
    let Some(wait) = state
        .logins
        .wait(username, client, std::time::Instant::now())
    else {
        return Ok(());
    };
    let secs = wait.as_secs().max(1);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyAttempts,
        format!("too many wrong passwords from here: try again in {secs} s, or ask an admin to clear the lock"),
    );
    e.retry_after = Some(secs);
    Err(e)
}

/// Checks a password off the async threads (argon2 is slow on purpose). An
/// empty `hash` (no such user) is checked against a dummy, so timing does
/// not reveal who exists.
async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { dummy_hash() } else { hash };
        keys::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false)
}

/// A real argon2 hash of a random password, so a login for a user that does
/// not exist costs the same as one with a wrong password.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| keys::hash_password(&keys::new_token()).unwrap_or_default())
        .clone()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The `code` from the one-time login link.
    pub code: String,
    /// True (the web console): a cookie session, as for `login`.
    #[serde(default)]
    pub cookie: bool,
}

#[utoipa::path(post, path = "/api/auth/exchange", operation_id = "exchangeCode", tag = "auth",
    description = "Spends a one-time login code (the link `callboard serve` prints on first start) for a session token.",
    request_body = ExchangeRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn exchange(
    State(state): State<AppState>,
    key: IdempotencyKey,
    headers: HeaderMap,
    Json(req): Json<ExchangeRequest>,
) -> ApiResult<Response> {
    let code = req.code;
    let browser = req.cookie.then(|| browser_policy(&state));
    match state
        .store
        .write_keyed(key.0, move |w| users::redeem_login_link(w, &code, browser))
        .await?
    {
        // A one-time code is spent by its use: its session is a full one.
        Some((user, token, expires_at)) => Ok(signed_in(
            &state, &headers, user, token, expires_at, req.cookie, false,
        )),
        None => Err(ApiError::unauthorized(
            ErrorCode::InvalidLoginCode,
            "this login link was already used or has expired",
        )),
    }
}

#[utoipa::path(post, path = "/api/auth/logout", operation_id = "logout", tag = "auth",
    description = "Revokes the token or cookie session presented; a cookie session's cookie is cleared too.",
    responses((status = 204, description = "The token is revoked")), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
) -> ApiResult<Response> {
    if who.user.is_none() {
        return Err(ApiError::invalid(
            "the admin token comes from the environment and cannot be revoked here",
        ));
    }
    let token = who.token;
    state
        .store
        .write_keyed(key.0, move |w| users::revoke(w, &token))
        .await?;
    if who.csrf_token.is_some() {
        let clear = [(
            header::SET_COOKIE,
            auth::clear_session_cookie(&state.config.session_cookie),
        )];
        return Ok((StatusCode::NO_CONTENT, clear).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: Option<User>,
    pub role: Role,
    /// None: every department.
    pub departments: Option<Vec<String>>,
    /// Signed in by the session cookie: send as `X-CSRF-Token` with every change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// This session may only change its password (`POST /api/auth/password`)
    /// or sign out: it signed in with a password that must be changed.
    pub must_change_password: bool,
}

#[utoipa::path(get, path = "/api/auth/me", operation_id = "getMe", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(who: Principal) -> Json<Me> {
    Json(Me {
        must_change_password: who.password_change,
        csrf_token: who.csrf_token.clone(),
        departments: who.scope(),
        role: who.role,
        user: who.user,
    })
}

/// A sign-in lock in force.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockView {
    /// The user name locked for `client`; absent: `client` is locked for every name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub client: String,
    pub failures: u32,
    /// Seconds until it lifts by itself.
    pub wait_seconds: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockList {
    pub data: Vec<LockView>,
}

#[utoipa::path(get, path = "/api/auth/lockouts", operation_id = "listLockouts", tag = "auth",
    description = "The sign-in locks in force (a user name from one client, or a client for every name), longest first.",
    responses((status = 200, body = LockList), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn lockouts(State(state): State<AppState>, _: Admin) -> Json<LockList> {
    let data = state
        .logins
        .locks(std::time::Instant::now())
        .into_iter()
        .map(|l| LockView {
            username: l.username,
            client: l.client.to_string(),
            failures: l.failures,
            wait_seconds: l.wait.as_secs().max(1),
        })
        .collect();
    Json(LockList { data })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClearParams {
    /// Clear this user name's locks, from every client.
    pub username: Option<String>,
    /// Clear this client's locks (with `username`: only for that name).
    pub client: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Cleared {
    pub cleared: usize,
}

#[utoipa::path(delete, path = "/api/auth/lockouts", operation_id = "clearLockouts", tag = "auth",
    description = "Lifts sign-in locks now: a user name's (from every client), a client's, or one name from one client. Recorded in the audit log.",
    params(ClearParams),
    responses((status = 200, body = Cleared), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn clear_lockouts(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    crate::error::Query(p): crate::error::Query<ClearParams>,
) -> ApiResult<Json<Cleared>> {
    let client = p
        .client
        .as_deref()
        .map(|c| {
            c.parse::<std::net::IpAddr>()
                .map_err(|_| ApiError::invalid(format!("client `{c}` is not an IP address")))
        })
        .transpose()?;
    if p.username.is_none() && client.is_none() {
        return Err(ApiError::invalid("name a `username`, a `client`, or both"));
    }
    let cleared = state.logins.clear(p.username.as_deref(), client);
    let actor = who.actor();
    let detail =
        serde_json::json!({ "username": p.username, "client": p.client, "cleared": cleared });
    state
        .store
        .write_keyed(key.0, move |w| {
            callboard_core::store::audit::record(w, &actor, "auth.unlock", None, detail)
        })
        .await?;
    Ok(Json(Cleared { cleared }))
}

/// A user with two-step sign-in on also gives the code of the moment; a
/// wrong one counts as a wrong password.
async fn second_factor(
    state: &AppState,
    u: &User,
    code: Option<&str>,
    username: &str,
    client: std::net::IpAddr,
) -> ApiResult<()> {
    let uid = u.id;
    let factor = state.store.read(move |c| totp::get(c, uid)).await?;
    let Some(secret) = factor.filter(|f| f.enabled).map(|f| f.secret) else {
        return Ok(());
    };
    match code {
        None | Some("") => Err(ApiError::unauthorized(
            ErrorCode::TotpRequired,
            "enter the 6-digit code from your authenticator app",
        )),
        Some(c) if callboard_core::totp::check(&secret, c, state.store.now()) => Ok(()),
        Some(_) => {
            state
                .logins
                .failed(username, client, std::time::Instant::now());
            Err(ApiError::unauthorized(
                ErrorCode::InvalidTotp,
                "that code is wrong or has expired: enter the one your app shows now",
            ))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now: a session alone (left open, or stolen) cannot change it.
    pub current: String,
    /// At least 8 characters.
    pub new: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// The person's other sessions (other browsers, devices, tokens) that ended.
    pub other_sessions_ended: usize,
}

#[utoipa::path(post, path = "/api/auth/password", operation_id = "changePassword", tag = "auth",
    description = "Changes the signed-in person's own password, given the current one. Every other session of theirs ends; this one stays. A wrong current password is 422 `bad_credentials` and counts as a wrong password for sign-in throttling (429 after too many). Audited.",
    request_body = PasswordChange,
    responses((status = 200, body = PasswordChanged), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    ClientIp(client): ClientIp,
    Json(req): Json<PasswordChange>,
) -> ApiResult<Json<PasswordChanged>> {
    let me = person(&who)?;
    refuse_while_locked(&state, &me.username, client)?;
    users::validate_password(&req.new)?;
    let username = me.username.clone();
    let stored = state
        .store
        .read(move |c| users::credentials(c, &username))
        .await?
        .map(|(_, hash)| hash)
        .unwrap_or_default();
    if !password_matches(req.current, stored).await {
        state
            .logins
            .failed(&me.username, client, std::time::Instant::now());
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadCredentials,
            "the current password is wrong",
        ));
    }
    let hash = crate::api::users::hash(req.new).await?;
    state.logins.succeeded(&me.username, client);
    let (uid, keep, actor) = (me.id, who.token.clone(), who.actor());
    let other_sessions_ended = state
        .store
        .write_keyed(key.0, move |w| {
            users::change_own_password(w, uid, hash, &keep, &actor)
        })
        .await?;
    Ok(Json(PasswordChanged {
        other_sessions_ended,
    }))
}

/// Two-step sign-in, for the signed-in user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpStatus {
    /// On: sign-in asks for a code.
    pub enabled: bool,
    /// Set up, waiting for the first code to turn it on.
    pub pending: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://totp/…`: what the app adds from (as a link or a QR code).
    pub otpauth_url: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The 6 digits the app shows now.
    pub code: String,
}

/// A signed-in person's code: 422, not 401, when wrong (the session is fine).
fn code_matches(state: &AppState, secret: &str, code: &str) -> ApiResult<()> {
    if callboard_core::totp::check(secret, code, state.store.now()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidTotp,
            "that code is wrong or has expired: enter the one your app shows now",
        ))
    }
}

/// The signed-in person's id and second factor (if set up).
async fn my_factor(state: &AppState, who: &Principal) -> ApiResult<(i64, Option<totp::Factor>)> {
    let uid = person(who)?.id;
    Ok((uid, state.store.read(move |c| totp::get(c, uid)).await?))
}

fn person(who: &Principal) -> ApiResult<User> {
    who.user.clone().ok_or_else(|| {
        ApiError::invalid("only a person signed in with a password has a second factor")
    })
}

#[utoipa::path(get, path = "/api/auth/totp", operation_id = "getTotp", tag = "auth",
    responses((status = 200, body = TotpStatus)), security(("bearer" = [])))]
pub async fn totp_status(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<TotpStatus>> {
    let (_, f) = my_factor(&state, &who).await?;
    Ok(Json(TotpStatus {
        enabled: f.as_ref().is_some_and(|f| f.enabled),
        pending: f.is_some_and(|f| !f.enabled),
    }))
}

#[utoipa::path(post, path = "/api/auth/totp/setup", operation_id = "setUpTotp", tag = "auth",
    description = "Starts two-step sign-in with a new secret (shown this once); POST /api/auth/totp/enable with a code turns it on. Refused (409) while it is on.",
    responses((status = 200, body = TotpSetup), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn totp_setup(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
) -> ApiResult<Json<TotpSetup>> {
    let u = person(&who)?;
    let uid = u.id;
    let secret = state
        .store
        .write_keyed(key.0, move |w| totp::set_up(w, uid))
        .await?;
    let otpauth_url = callboard_core::totp::url(&secret, &u.username)
        .ok_or_else(|| ApiError::invalid("this user name cannot label an authenticator entry"))?;
    Ok(Json(TotpSetup {
        secret,
        otpauth_url,
    }))
}

#[utoipa::path(post, path = "/api/auth/totp/enable", operation_id = "enableTotp", tag = "auth",
    description = "Turns two-step sign-in on, with the code the app shows for the secret just set up.",
    request_body = TotpCode,
    responses((status = 200, body = TotpStatus), (status = 422, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn totp_enable(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Json(req): Json<TotpCode>,
) -> ApiResult<Json<TotpStatus>> {
    let (uid, f) = my_factor(&state, &who).await?;
    let Some(f) = f.filter(|f| !f.enabled) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "nothing to turn on: set it up first (or it is on already)",
        ));
    };
    code_matches(&state, &f.secret, &req.code)?;
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| totp::enable(w, uid, &actor))
        .await?;
    Ok(Json(TotpStatus {
        enabled: true,
        pending: false,
    }))
}

#[utoipa::path(post, path = "/api/auth/totp/disable", operation_id = "disableTotp", tag = "auth",
    description = "Turns two-step sign-in off, with a current code (a lost phone: an admin resets it with DELETE /api/users/{id}/totp).",
    request_body = TotpCode,
    responses((status = 200, body = TotpStatus), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn totp_disable(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
    Json(req): Json<TotpCode>,
) -> ApiResult<Json<TotpStatus>> {
    let (uid, f) = my_factor(&state, &who).await?;
    if let Some(f) = f.filter(|f| f.enabled) {
        code_matches(&state, &f.secret, &req.code)?;
    }
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| totp::remove(w, uid, &actor))
        .await?;
    Ok(Json(TotpStatus {
        enabled: false,
        pending: false,
    }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(exchange))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(lockouts, clear_lockouts))
        .routes(routes!(change_password))
        .routes(routes!(totp_status))
        .routes(routes!(totp_setup))
        .routes(routes!(totp_enable))
        .routes(routes!(totp_disable))
}
