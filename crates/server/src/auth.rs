//! Who is asking: a bearer token (API clients, the desktop) or the
//! console's session cookie resolved to a principal with a role and, for
//! agents, the departments they may see. A request signed in by the cookie
//! also proves it comes from the console (the CSRF header) before it changes
//! anything.

use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use callboard_core::keys;
use callboard_core::store::audit::Actor;
use callboard_core::store::integrations::{self, IntegrationToken, Scope};
use callboard_core::store::users::{self, Role, User};

#[derive(Debug, Clone)]
pub struct Principal {
    /// None for the `CALLBOARD_ADMIN_TOKEN` automation principal.
    pub user: Option<User>,
    pub role: Role,
    /// The bearer token presented (for logout).
    pub token: String,
    /// Set for an integration token: read-only, reaching only the routes its
    /// scopes name (checked when the principal is extracted), limited to its
    /// departments.
    pub integration: Option<IntegrationToken>,
    /// Set when signed in by the session cookie: what the console sends back
    /// in `X-CSRF-Token` with every change.
    pub csrf_token: Option<String>,
    /// Signed in with a password that must be changed: every route but
    /// [`PASSWORD_CHANGE_ROUTES`] refuses it (403 `password_change_required`).
    pub password_change: bool,
}

/// What a session that must change its password may still do.
pub const PASSWORD_CHANGE_ROUTES: &[&str] =
    &["/api/auth/me", "/api/auth/password", "/api/auth/logout"];

impl Principal {
    pub fn actor(&self) -> Actor {
        if let Some(i) = &self.integration {
            return Actor {
                user_id: None,
                name: format!("integration:{}", i.name),
            };
        }
        match &self.user {
            Some(u) => u.actor(),
            None => Actor {
                user_id: None,
                name: "admin-token".into(),
            },
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    pub fn can_see(&self, department: &str) -> bool {
        if let Some(i) = &self.integration {
            return i
                .departments
                .as_ref()
                .is_none_or(|d| d.iter().any(|d| d == department));
        }
        match (&self.user, self.role) {
            (Some(u), Role::Agent) => u.departments.iter().any(|d| d == department),
            _ => true,
        }
    }

    /// None: every department; Some(list): only these.
    pub fn scope(&self) -> Option<Vec<String>> {
        if let Some(i) = &self.integration {
            return i.departments.clone();
        }
        match (&self.user, self.role) {
            (Some(u), Role::Agent) => Some(u.departments.clone()),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn is_supervisor(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Supervisor)
    }

    /// For checks that depend on the request (another user's record); a route
    /// that is admin-only whatever the request takes [`Admin`] instead.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only admins may do this"))
        }
    }

    pub fn require_supervisor(&self) -> Result<(), ApiError> {
        if self.is_supervisor() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only supervisors and admins may do this",
            ))
        }
    }

    pub fn check_department(&self, department: &str) -> Result<(), ApiError> {
        if self.can_see(department) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "you do not work in department `{department}`"
            )))
        }
    }
}

/// The receiver's console session cookie (HttpOnly, SameSite=Strict); a
/// replica names its own ([`replica_cookie_name`]).
pub const SESSION_COOKIE: &str = "callboard_session";

/// A replica's session cookie: its own name, with the port it listens on, so
/// the receiver's cookie and each replica's on one host (browsers share
/// cookies across ports) are held side by side instead of overwriting each
/// other.
pub fn replica_cookie_name(port: u16) -> String {
    format!("{SESSION_COOKIE}_{port}")
}
/// How long the browser keeps the cookie past the session's own end.
const COOKIE_GRACE_SECS: i64 = 3600;
/// The header a cookie-signed request carries to change anything.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the credential arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    /// `?token=` on the event stream (browsers cannot set its headers).
    Query,
    Cookie,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Browsers cannot set headers on a WebSocket: the event stream also takes `?token=`.
fn query_token(uri: &Uri) -> Option<String> {
    if uri.path() != "/api/events" {
        return None;
    }
    let q = uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

/// The value of this instance's session cookie (`name`), if the request
/// carries one; other instances' cookies on the same host are ignored.
pub fn session_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The credential a request presents: a bearer header wins over the cookie
/// (an API client that also holds a cookie means the header). `cookie`: this
/// instance's session cookie name (`Config::session_cookie`).
pub fn credential(headers: &HeaderMap, uri: &Uri, cookie: &str) -> Option<(String, Via)> {
    bearer(headers)
        .map(|t| (t, Via::Bearer))
        .or_else(|| query_token(uri).map(|t| (t, Via::Query)))
        .or_else(|| session_cookie(headers, cookie).map(|t| (t, Via::Cookie)))
}

/// The answer to a request that presents no credential at all.
pub fn missing_token() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::MissingToken,
        "send `Authorization: Bearer <token>` (sign in at POST /api/auth/login)",
    )
}

/// The CSRF token bound to a session token: derived, so it needs no storage,
/// and unknowable without the (HttpOnly) session token itself.
pub fn csrf_token(session_token: &str) -> String {
    keys::hash_secret(&csrf_secret(session_token))
}

/// What the CSRF token is the hash of.
fn csrf_secret(session_token: &str) -> String {
    format!("csrf:{session_token}")
}

/// A change made with the session cookie must carry the session's CSRF
/// token: another site can make the browser send the cookie, but it cannot
/// read the token. Reads need none.
pub fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    token: &str,
    via: Via,
) -> Result<(), ApiError> {
    if via != Via::Cookie || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !sent.is_empty() && keys::secret_matches(&csrf_secret(token), sent) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::CsrfFailed,
        "a change signed in by the session cookie needs the session's `X-CSRF-Token` header (from the sign-in answer or GET /api/auth/me)",
    ))
}

/// `Set-Cookie` for a new console session (cookie `name`) that the server
/// ends after `max`. `secure`: the console was reached over HTTPS (through a
/// trusted proxy).
pub fn session_cookie_header(
    name: &str,
    token: &str,
    max: std::time::Duration,
    secure: bool,
) -> HeaderValue {
    // `Secure` only over HTTPS: on the LAN the receiver speaks plain HTTP,
    // where a secure cookie would never be sent back; HttpOnly and
    // SameSite=Strict hold either way. The browser keeps it an hour past the
    // session's end, so the server (not the browser's clock) ends it and the
    // console can say so.
    let lasts = i64::try_from(max.as_secs()).unwrap_or(i64::MAX / 2) + COOKIE_GRACE_SECS;
    set_cookie(name, token, lasts, secure)
}

/// `Set-Cookie` that forgets the console session (cookie `name`).
pub fn clear_session_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", 0, false)
}

fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build();
    // A session token is URL-safe text, so the header value is always valid.
    HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Notes a credential's use off the request's path: a read never waits on
/// the writer, and a use that could not be noted costs nothing but the note.
fn note_use(
    state: &AppState,
    f: impl FnOnce(&mut callboard_core::store::Writer<'_>) -> callboard_core::Result<()>
        + Send
        + 'static,
) {
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.write(f).await {
            tracing::debug!(error = %e, "could not note a credential's use");
        }
    });
}

pub async fn resolve(state: &AppState, token: String) -> Result<Principal, ApiError> {
    // A replica knows one user: the receiver's, by the token it was given,
    // or by a session signed in through the replica itself.
    if let Some(r) = &state.replica {
        return crate::replica::sessions::principal(r, token).await;
    }
    if let Some(hash) = &state.config.admin_token_hash {
        if keys::secret_matches(&token, hash) {
            return Ok(Principal {
                user: None,
                role: Role::Admin,
                token,
                integration: None,
                csrf_token: None,
                password_change: false,
            });
        }
    }
    let now = state.store.now();
    if token.starts_with(keys::INTEGRATION_TOKEN_PREFIX) {
        let t = token.clone();
        let found = state
            .store
            .read(move |c| integrations::authenticate(c, &t, now))
            .await?;
        let Some(grant) = found else {
            return Err(ApiError::unauthorized(
                ErrorCode::InvalidToken,
                "the integration token is unknown, expired or revoked: ask an admin for a new one",
            ));
        };
        let stale = grant.last_used_at.as_deref().is_none_or(|at| {
            callboard_core::time::parse(at).is_none_or(|at| now - at > chrono::Duration::minutes(5))
        });
        if stale {
            let id = grant.id;
            note_use(state, move |w| integrations::touch(w, id));
        }
        // Supervisor-level reads (agents' metrics), but only on the routes
        // its scopes name and only in its departments.
        return Ok(Principal {
            user: None,
            role: Role::Supervisor,
            token,
            integration: Some(grant),
            csrf_token: None,
            password_change: false,
        });
    }
    let t = token.clone();
    let found = state
        .store
        .read(move |c| users::authenticate(c, &t, now))
        .await?;
    match found {
        users::Lookup::Active(session) => {
            if session.needs_touch(now) {
                let id = session.id;
                note_use(state, move |w| users::touch_session(w, id));
            }
            let u = session.user;
            Ok(Principal {
                role: u.role,
                user: Some(u),
                token,
                integration: None,
                csrf_token: None,
                password_change: session.password_change,
            })
        }
        users::Lookup::Expired => Err(ApiError::unauthorized(
            ErrorCode::SessionExpired,
            "your session has ended (unused for too long, or at the end of its time): sign in again",
        )),
        users::Lookup::Unknown => Err(ApiError::unauthorized(
            ErrorCode::InvalidToken,
            "the token is unknown, revoked or signed out: sign in again",
        )),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, via) = credential(&parts.headers, &parts.uri, &state.config.session_cookie)
            .ok_or_else(missing_token)?;
        let mut who = resolve(state, token).await?;
        check_csrf(&parts.method, &parts.headers, &who.token, via)?;
        if via == Via::Cookie {
            who.csrf_token = Some(csrf_token(&who.token));
        }
        if who.password_change {
            let path = parts
                .extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str())
                .unwrap_or("");
            if !PASSWORD_CHANGE_ROUTES.contains(&path) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::PasswordChangeRequired,
                    "choose a new password first (POST /api/auth/password): this one was printed at the first start or given to you as temporary",
                ));
            }
        }
        if let Some(grant) = &who.integration {
            let path = parts
                .extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str())
                .unwrap_or("");
            let reads = matches!(parts.method, Method::GET | Method::HEAD);
            let allowed = reads
                && INTEGRATION_ROUTES
                    .iter()
                    .any(|(scope, p)| *p == path && grant.allows(*scope));
            if !allowed {
                return Err(ApiError::forbidden(format!(
                    "integration token `{}` may only read {}",
                    grant.name,
                    grant
                        .scopes
                        .iter()
                        .map(|s| match s {
                            Scope::CallsRead => "calls",
                            Scope::MetricsRead => "metrics",
                            Scope::WallboardRead => "the wallboard's figures",
                        })
                        .collect::<Vec<_>>()
                        .join(" and ")
                )));
            }
        }
        Ok(who)
    }
}

/// What each integration scope may read; every other route refuses an
/// integration token (403).
pub const INTEGRATION_ROUTES: &[(Scope, &str)] = &[
    (Scope::CallsRead, "/api/calls"),
    (Scope::CallsRead, "/api/calls/{call_id}"),
    (Scope::CallsRead, "/api/calls/export.csv"),
    (Scope::CallsRead, "/api/events"),
    (Scope::CallsRead, "/api/events/head"),
    (Scope::CallsRead, "/api/providers"),
    (Scope::MetricsRead, "/api/stats"),
    (Scope::MetricsRead, "/api/metrics"),
    (Scope::MetricsRead, "/api/metrics/agents"),
    (Scope::MetricsRead, "/api/providers"),
    // Aggregates only: a kiosk link on a TV may leak, so no call, no
    // number, and no event stream (the kiosk wallboard polls).
    (Scope::WallboardRead, "/api/stats"),
    (Scope::WallboardRead, "/api/providers"),
    (Scope::WallboardRead, "/api/thresholds/state"),
];

/// A signed-in admin (or the admin token): a handler that takes it cannot
/// forget the role check, and the check runs before the body is read.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

/// A signed-in supervisor or admin.
#[derive(Debug, Clone)]
pub struct Supervisor(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = Principal::from_request_parts(parts, state).await?;
        who.require_admin()?;
        Ok(Admin(who))
    }
}

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = Principal::from_request_parts(parts, state).await?;
        who.require_supervisor()?;
        Ok(Supervisor(who))
    }
}

/// The client's address (the TCP peer), for per-client limits. Unspecified
/// when the server was not reached over TCP (no peer is known).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(peer_ip(&parts.extensions)))
    }
}

/// The client's address: as a trusted proxy forwarded it, else the TCP
/// peer's; unspecified when none is known.
pub fn peer_ip(extensions: &axum::http::Extensions) -> std::net::IpAddr {
    use axum::extract::connect_info::ConnectInfo;
    if let Some(f) = extensions.get::<crate::forwarded::ForwardedClient>() {
        return f.0;
    }
    extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}
