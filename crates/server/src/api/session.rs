//! Sign in, sign out, who am I, and the first-start login link.

use crate::auth::{Admin, ClientIp, Principal};
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use callboard_core::keys;
use callboard_core::store::users::{self, Role, User};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub user: User,
}

#[utoipa::path(post, path = "/api/auth/login", operation_id = "login", tag = "auth", request_body = LoginRequest,
    description = "After 5 wrong passwords for a user name from one client (IP address), that client's attempts at that name wait 30 s, doubling to 15 min (429 with Retry-After); after 20 wrong passwords from one client across any names, it waits for every name. A success resets that name for that client. Other clients are never locked out by someone else's failures; an admin clears locks with DELETE /api/auth/lockouts.",
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    key: IdempotencyKey,
    ClientIp(client): ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let attempt = std::time::Instant::now();
    if let Some(wait) = state.logins.wait(&req.username, client, attempt) {
        let secs = wait.as_secs().max(1);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            format!("too many wrong passwords from here: try again in {secs} s, or ask an admin to clear the lock"),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    let username = req.username.clone();
    let found = state
        .store
        .read(move |c| users::credentials(c, &username))
        .await?;
    let password = req.password.clone();
    // Verify even for unknown users so timing does not reveal who exists.
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, String::new()),
    };
    let ok = tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { dummy_hash() } else { hash };
        keys::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false);
    let user = match (ok, user) {
        (true, Some(u)) => {
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
    let (token, expires_at) = state
        .store
        .write_keyed(key.0, move |w| users::issue_token(w, uid))
        .await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
    }))
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
}

#[utoipa::path(post, path = "/api/auth/exchange", operation_id = "exchangeCode", tag = "auth",
    description = "Spends a one-time login code (the link `callboard serve` prints on first start) for a session token.",
    request_body = ExchangeRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn exchange(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Json(req): Json<ExchangeRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let code = req.code;
    match state
        .store
        .write_keyed(key.0, move |w| users::redeem_login_link(w, &code))
        .await?
    {
        Some((user, token, expires_at)) => Ok(Json(LoginResponse {
            token,
            expires_at,
            user,
        })),
        None => Err(ApiError::unauthorized(
            ErrorCode::InvalidLoginCode,
            "this login link was already used or has expired",
        )),
    }
}

#[utoipa::path(post, path = "/api/auth/logout", operation_id = "logout", tag = "auth",
    responses((status = 204, description = "The token is revoked")), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Principal,
) -> ApiResult<StatusCode> {
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
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: Option<User>,
    pub role: Role,
    /// None: every department.
    pub departments: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/auth/me", operation_id = "getMe", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(who: Principal) -> Json<Me> {
    Json(Me {
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

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(exchange))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(lockouts, clear_lockouts))
}
