//! What every handler shares.

use callboard_core::Store;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL the IVR platforms reach us at (for webhook URLs); when unset,
    /// derived from each request's Host header.
    pub public_url: Option<String>,
    /// SHA-256 of `CALLBOARD_ADMIN_TOKEN`, when set.
    pub admin_token_hash: Option<String>,
    pub max_body_bytes: usize,
    /// Days of event log kept for `since=` resumes.
    pub event_retention_days: i64,
    /// Origins allowed to call the API from another origin (the desktop
    /// window's `tauri://localhost`); never `*`.
    pub allowed_origins: Vec<String>,
    /// Connection timeouts and caps.
    pub limits: crate::conn::Limits,
    /// How far ahead of its receipt an event may be stamped; later stamps
    /// are clamped to the time of receipt, with a warning.
    pub max_future_skew_secs: i64,
    /// `/readyz` turns red below this much free space in the data directory.
    pub disk_floor_bytes: u64,
    /// SHA-256 of `--metrics-token`; `/metrics` is off (404) when unset.
    pub metrics_token_hash: Option<String>,
    /// An event-stream client that has not taken a message for this long is
    /// dropped (it resumes with `since=`).
    pub event_send_timeout: std::time::Duration,
    /// How often the event stream pings its client and checks that the
    /// client's session still holds (signed out, expired: closed).
    pub event_ping_every: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For/Proto/Host` are believed
    /// (`--trusted-proxy`); from anyone else those headers are dropped.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The console's cookie session ends after this long without a request…
    pub session_idle: std::time::Duration,
    /// …and this long after sign-in, whatever happens.
    pub session_max: std::time::Duration,
    /// `--tls-cert/--tls-key`: this receiver speaks HTTPS itself.
    pub tls: Option<std::sync::Arc<crate::tls::Certs>>,
    /// The console's session cookie: `callboard_session` on a receiver, its
    /// own name on a replica ([`crate::auth::replica_cookie_name`]). Browsers
    /// do not keep cookies apart by port, so a receiver and a replica on one
    /// host would otherwise overwrite (and, refused, clear) each other's.
    pub session_cookie: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_url: None,
            admin_token_hash: None,
            max_body_bytes: 1024 * 1024,
            event_retention_days: 7,
            allowed_origins: Vec::new(),
            limits: crate::conn::Limits::default(),
            max_future_skew_secs: 300,
            disk_floor_bytes: 64 * 1024 * 1024,
            metrics_token_hash: None,
            event_send_timeout: std::time::Duration::from_secs(10),
            event_ping_every: std::time::Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            session_idle: std::time::Duration::from_secs(60 * 60),
            session_max: std::time::Duration::from_secs(12 * 60 * 60),
            tls: None,
            session_cookie: crate::auth::SESSION_COOKIE.to_string(),
        }
    }
}

/// What every handler shares, behind one `Arc`: axum clones the state for
/// every middleware layer of every request, and a clone of a dozen `Arc`s
/// was a fifth of the HTTP workers' time under load (perf, ingest-bench).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub store: Store,
    pub config: Arc<Config>,
    /// Flips to true when the server is shutting down (closes event streams).
    pub shutdown: watch::Receiver<bool>,
    pub logins: Arc<crate::throttle::LoginThrottle>,
    /// API pollers' circuits and run locks.
    pub pollers: crate::convoso::Pollers,
    /// Credentials for calling other services (Convoso's API token).
    pub secrets: Arc<callboard_core::secrets::SecretStore>,
    /// Set in remote mode: this process is a replica of a receiver.
    pub replica: Option<Arc<crate::replica::Shared>>,
    /// Held while a retention run goes.
    pub retention: crate::retention::RetentionLock,
    /// Refused deliveries logged per provider (a token bucket each).
    pub refusals: Arc<crate::refusals::Limiter>,
    /// Idempotency keys being handled right now by this server.
    pub idempotency_in_flight: crate::idempotency::InFlightKeys,
    /// Click-to-call: the HTTP client and each department's breaker.
    pub dialling: crate::outbound::Dialling,
    /// Twilio IVR queues: the agents' calls still ringing for each caller.
    pub queue_legs: crate::queue_legs::Legs,
    /// Asterisk ARI event streams: their tasks and health.
    pub streams: crate::streams::Streams,
}

impl AppState {
    /// The base URL platforms reach us at: `--public-url`, else this
    /// request's own (behind a trusted proxy: the scheme and host it was
    /// forwarded for, see `forwarded::normalise`).
    pub fn base_url(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(u) = &self.config.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let (scheme, host) = crate::forwarded::scheme_and_host(headers);
        match host {
            Some(h) => format!("{scheme}://{h}"),
            None => "http://localhost:8787".to_string(),
        }
    }

    pub fn webhook_url(&self, headers: &axum::http::HeaderMap, slug: &str) -> String {
        format!("{}/webhooks/ivr/{slug}", self.base_url(headers))
    }
}
