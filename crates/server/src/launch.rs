//! Starting and stopping a receiver in-process: what `callboard serve` and the
//! desktop shell share, so both wire the crates together the same way.

use crate::state::Config;
use callboard_core::store::users;
use callboard_core::{keys, time, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the provider presets shipped with this build are invalid: {0}")]
    Presets(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open {path}: {source}")]
    Store {
        path: PathBuf,
        source: callboard_core::Error,
    },
    #[error("cannot listen on {listen}: {source}")]
    Listen {
        listen: String,
        source: std::io::Error,
    },
    #[error("first start: {0}")]
    Bootstrap(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// Everything `callboard serve` takes.
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    pub data_dir: PathBuf,
    /// `0.0.0.0:8787` for the LAN, `127.0.0.1:8787` for this computer only; port 0 picks one.
    pub listen: String,
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub event_retention_days: i64,
    /// `CALLBOARD_ADMIN_TOKEN`: a bearer token with the admin role, for automation.
    pub admin_token: Option<String>,
    /// Browser origins allowed to call the API cross-origin (the desktop
    /// window's own origin); empty means same-origin only.
    pub allowed_origins: Vec<String>,
    /// Connection timeouts and caps.
    pub limits: crate::conn::Limits,
    /// Seconds an event may be stamped ahead of its receipt.
    pub max_future_skew_secs: i64,
    /// `/readyz` is red below this much free disk space (bytes).
    pub disk_floor_bytes: u64,
    /// `--metrics-token`: turns `/metrics` on, for scrapers bearing it.
    pub metrics_token: Option<String>,
    /// The wall clock every stored time, SLA deadline and circuit pause is
    /// read from: the system clock, or a test's [`time::OffsetClock`].
    pub clock: time::SharedClock,
    /// How long an event-stream client may take to accept a message before
    /// it is dropped (10 s; tests shorten it).
    pub event_send_timeout: std::time::Duration,
    /// The event stream's ping, and its check that the session still holds
    /// (30 s; tests shorten it).
    pub event_ping_every: std::time::Duration,
    /// `--trusted-proxy`: proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A console (cookie) session ends after this long without use (1 h).
    pub session_idle: std::time::Duration,
    /// A console (cookie) session ends this long after sign-in (12 h).
    pub session_max: std::time::Duration,
    /// `--database-url`: one of several receivers on this PostgreSQL.
    pub database_url: Option<String>,
    /// `--tls-cert/--tls-key`: serve HTTPS (and `wss://`) on the listener.
    pub tls: Option<crate::tls::TlsFiles>,
}

impl ReceiverOptions {
    pub fn new(data_dir: PathBuf, listen: impl Into<String>) -> ReceiverOptions {
        let defaults = Config::default();
        ReceiverOptions {
            data_dir,
            listen: listen.into(),
            public_url: None,
            max_body_bytes: defaults.max_body_bytes,
            event_retention_days: defaults.event_retention_days,
            admin_token: None,
            allowed_origins: Vec::new(),
            limits: defaults.limits,
            max_future_skew_secs: defaults.max_future_skew_secs,
            disk_floor_bytes: defaults.disk_floor_bytes,
            metrics_token: None,
            clock: time::system_clock(),
            event_send_timeout: defaults.event_send_timeout,
            event_ping_every: defaults.event_ping_every,
            trusted_proxies: Vec::new(),
            session_idle: defaults.session_idle,
            session_max: defaults.session_max,
            database_url: None,
            tls: None,
        }
    }
}

/// The administrator created on the first start of an empty database.
#[derive(Debug, Clone)]
pub struct FirstStart {
    pub username: String,
    pub password: String,
    /// One-time sign-in code for `/login?code=` (24 hours).
    pub login_code: String,
}

/// A receiver serving on its listener until [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    /// Where this receiver is reachable: loopback first, then each LAN address.
    pub urls: Vec<String>,
    pub db_path: PathBuf,
    pub first_start: Option<FirstStart>,
    pub store: Store,
    /// The certificate served, with `--tls-cert` (reloaded on SIGHUP).
    pub tls: Option<std::sync::Arc<crate::tls::Certs>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The base URL to show for webhooks: `--public-url`, else the first LAN
    /// address (loopback when listening on this computer only).
    pub fn base_url(&self, public_url: Option<&str>) -> String {
        match public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => self.urls[self.urls.len().min(2) - 1].clone(),
        }
    }

    /// What `callboard serve` prints once listening: the first-start sign-in
    /// (on an empty database), the `callboard listening on http://…` line
    /// that scripts and tests wait for, the URLs and the data file.
    pub fn banner(&self, public_url: Option<&str>) -> Vec<String> {
        let base = self.base_url(public_url);
        let mut lines = Vec::new();
        if let Some(first) = &self.first_start {
            lines.push(format!(
                "First start: an administrator `{}` was created.",
                first.username
            ));
            lines.push(format!(
                "  Sign in once with this link (valid 24 hours): {base}/login?code={}",
                first.login_code
            ));
            lines.push(format!(
                "  Or with user `admin` and password {}",
                first.password
            ));
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        lines.push(format!("callboard listening on {scheme}://{}", self.addr));
        for u in &self.urls {
            lines.push(format!(
                "  console and webhooks: {u}  (webhooks at {u}/webhooks/ivr/<slug>)"
            ));
        }
        lines.push(format!("  data: {}", self.db_path.display()));
        lines
    }

    /// A session token for the first active administrator: how the desktop
    /// window of the receiver's own computer is signed in.
    pub async fn admin_session(&self) -> Result<String, callboard_core::Error> {
        self.store.write(users::admin_session).await
    }

    /// Stops accepting, lets in-flight requests finish, closes event streams
    /// and flushes the writer.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.join().await
    }

    /// Waits for the server to stop (after `stop`, or on a fatal error).
    async fn join(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Serves until `shutdown` resolves, then stops cleanly.
    pub async fn until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        shutdown.await;
        self.stop().await
    }
}

/// Opens (or creates) the database, creates the first administrator on an
/// empty one, binds the listener and starts serving.
pub async fn start_receiver(opts: ReceiverOptions) -> Result<Running, LaunchError> {
    let presets =
        callboard_core::presets::all().map_err(|e| LaunchError::Presets(e.to_string()))?;
    // A certificate that cannot be served stops the start before anything
    // is opened: better than a receiver every platform fails to reach.
    let tls = match opts.tls.clone() {
        Some(files) => Some(
            tokio::task::spawn_blocking(move || crate::tls::Certs::load(files))
                .await
                .map_err(|e| LaunchError::Bootstrap(e.to_string()))??,
        ),
        None => None,
    };
    tracing::debug!(count = presets.len(), "provider presets loaded");
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| LaunchError::DataDir {
        path: opts.data_dir.clone(),
        source,
    })?;
    let db_path = opts.data_dir.join("callboard.db");
    let path = db_path.clone();
    let clock = opts.clock.clone();
    let cluster = opts
        .database_url
        .clone()
        .map(callboard_core::store::cluster::ClusterConfig::new);
    let store = tokio::task::spawn_blocking(move || Store::open_with(&path, clock, cluster))
        .await
        .map_err(|e| LaunchError::Bootstrap(e.to_string()))?
        .map_err(|source| LaunchError::Store {
            path: db_path.clone(),
            source,
        })?;
    let listener = match TcpListener::bind(&opts.listen).await {
        Ok(l) => l,
        Err(source) => {
            store.close().await;
            return Err(LaunchError::Listen {
                listen: opts.listen.clone(),
                source,
            });
        }
    };
    let addr = listener
        .local_addr()
        .map_err(|source| LaunchError::Listen {
            listen: opts.listen.clone(),
            source,
        })?;
    let first_start = bootstrap(&store).await?;
    let config = Config {
        public_url: opts.public_url.clone(),
        admin_token_hash: opts
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(keys::hash_secret),
        max_body_bytes: opts.max_body_bytes,
        event_retention_days: opts.event_retention_days,
        allowed_origins: opts.allowed_origins.clone(),
        limits: opts.limits.clone(),
        max_future_skew_secs: opts.max_future_skew_secs,
        disk_floor_bytes: opts.disk_floor_bytes,
        metrics_token_hash: opts
            .metrics_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(keys::hash_secret),
        event_send_timeout: opts.event_send_timeout,
        event_ping_every: opts.event_ping_every,
        trusted_proxies: opts.trusted_proxies.clone(),
        session_idle: opts.session_idle,
        session_max: opts.session_max,
        tls: tls.clone(),
        // Documented API: the receiver's cookie keeps its name.
        session_cookie: crate::auth::SESSION_COOKIE.to_string(),
    };
    if let Some(certs) = &tls {
        crate::tls::watch(certs);
    }
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(crate::serve(listener, store.clone(), config, async move {
        let _ = rx.await;
    }));
    tracing::info!(%addr, data = %db_path.display(), "callboard started");
    Ok(Running {
        addr,
        urls: lan_urls(addr, tls.is_some()),
        db_path,
        first_start,
        store,
        tls,
        stop: Some(tx),
        task,
    })
}

async fn bootstrap(store: &Store) -> Result<Option<FirstStart>, LaunchError> {
    let password = keys::new_password();
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || keys::hash_password(&p))
        .await
        .map_err(|e| LaunchError::Bootstrap(e.to_string()))?
        .map_err(LaunchError::Bootstrap)?;
    let created = store
        .write(move |w| users::bootstrap_admin(w, hash))
        .await
        .map_err(|e| LaunchError::Bootstrap(e.to_string()))?;
    Ok(created.map(|(user, login_code)| FirstStart {
        username: user.username,
        password,
        login_code,
    }))
}

/// Loopback first, then every IPv4 LAN address when listening on all interfaces.
pub fn lan_urls(addr: SocketAddr, https: bool) -> Vec<String> {
    let scheme = if https { "https" } else { "http" };
    if !addr.ip().is_unspecified() {
        return vec![format!("{scheme}://{addr}")];
    }
    let mut urls = vec![format!("{scheme}://127.0.0.1:{}", addr.port())];
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for i in ifaces {
            if !i.is_loopback() && i.ip().is_ipv4() {
                urls.push(format!("{scheme}://{}:{}", i.ip(), addr.port()));
            }
        }
    }
    urls
}
