//! Who is asking: a bearer token resolved to a principal with a role and,
//! for agents, the departments they may see.

use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::Method;
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
}

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

fn bearer(parts: &Parts) -> Option<String> {
    let h = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Browsers cannot set headers on a WebSocket: the event stream also takes `?token=`.
fn query_token(parts: &Parts) -> Option<String> {
    if parts.uri.path() != "/api/events" {
        return None;
    }
    let q = parts.uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

pub async fn resolve(state: &AppState, token: String) -> Result<Principal, ApiError> {
    // A replica knows one user: the receiver's, by the token it was given.
    if let Some(r) = &state.replica {
        return r.principal(token);
    }
    if let Some(hash) = &state.config.admin_token_hash {
        if keys::secret_matches(&token, hash) {
            return Ok(Principal {
                user: None,
                role: Role::Admin,
                token,
                integration: None,
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
            // Noted off the request's path: a read never waits on the writer.
            let (store, id) = (state.store.clone(), grant.id);
            tokio::spawn(async move {
                if let Err(e) = store.write(move |w| integrations::touch(w, id)).await {
                    tracing::debug!(error = %e, "could not note an integration token's use");
                }
            });
        }
        // Supervisor-level reads (agents' metrics), but only on the routes
        // its scopes name and only in its departments.
        return Ok(Principal {
            user: None,
            role: Role::Supervisor,
            token,
            integration: Some(grant),
        });
    }
    let t = token.clone();
    let user = state
        .store
        .read(move |c| users::authenticate(c, &t, now))
        .await?;
    match user {
        Some(u) => Ok(Principal {
            role: u.role,
            user: Some(u),
            token,
            integration: None,
        }),
        None => Err(ApiError::unauthorized(
            ErrorCode::InvalidToken,
            "the token is unknown, expired or revoked: sign in again",
        )),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .or_else(|| query_token(parts))
            .ok_or_else(|| {
                ApiError::unauthorized(
                    ErrorCode::MissingToken,
                    "send `Authorization: Bearer <token>` (sign in at POST /api/auth/login)",
                )
            })?;
        let who = resolve(state, token).await?;
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

/// The TCP peer's address, unspecified when none is known.
pub fn peer_ip(extensions: &axum::http::Extensions) -> std::net::IpAddr {
    use axum::extract::connect_info::ConnectInfo;
    extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}
