//! Remote mode: a replica of a receiver. It keeps a local SQLite cache (the
//! same rows as the receiver), follows the receiver's event stream, serves
//! the same console API from the cache, and forwards writes — through a
//! local outbox when the receiver cannot be reached.
//!
//! `start_replica` is what `callboard connect` and the desktop shell share.

mod client;
mod follow;
pub mod forward;
pub(crate) mod sessions;

pub use client::{sign_in, Remote, RemoteError};
pub use forward::forward_writes;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::Config;
use callboard_core::store::replica as cache;
use callboard_core::store::users::{Role, User};
use callboard_core::{keys, time, Store};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Mutex, Notify};
use tokio::task::JoinHandle;

/// Everything `callboard connect` takes.
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// The receiver's base URL, e.g. `http://192.168.1.10:8787`.
    pub remote_url: String,
    /// A session token on the receiver (`CALLBOARD_REMOTE_TOKEN`); the
    /// replica acts as that user, and its local API accepts the same token.
    pub remote_token: String,
    pub data_dir: PathBuf,
    /// Where the local API listens (`127.0.0.1:0` picks a port).
    pub listen: String,
    /// More bearer tokens the local API accepts as the same user (the
    /// desktop's per-launch token).
    pub extra_tokens: Vec<String>,
    /// Browser origins allowed to call the local API cross-origin.
    pub allowed_origins: Vec<String>,
    /// A PEM file of CA certificates trusted for an `https://` receiver
    /// (`--remote-ca`), besides the public roots.
    pub remote_ca: Option<PathBuf>,
    /// A browser session signed in on this replica ends after this long
    /// without a request (`--session-idle`; 1 h as on a receiver:
    /// [`Config::default`])…
    pub session_idle: std::time::Duration,
    /// …and this long after sign-in, whatever happens (`--session-max`; 12 h).
    pub session_max: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("the remote URL `{0}` is not an http:// or https:// URL")]
    RemoteUrl(String),
    #[error("give the receiver's token (CALLBOARD_REMOTE_TOKEN)")]
    MissingToken,
    #[error(transparent)]
    Launch(#[from] crate::LaunchError),
    #[error("cannot read the replica's cache: {0}")]
    Cache(#[from] callboard_core::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// How the replica stands with its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    /// Following the receiver's stream, caught up.
    Live,
    /// Copying a fresh snapshot page by page (the first connection, or the
    /// receiver's logs no longer reached back): the cache fills as pages
    /// arrive; `snapshot` says how far. Live once every page is applied and
    /// the changes made meanwhile are.
    Syncing,
    /// The connection dropped; trying again now.
    Reconnecting,
    /// The receiver cannot be reached; serving the last known state.
    Offline,
}

/// `GET /api/replica/status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplicaStatus {
    pub state: ReplicaState,
    /// When the replica lost the receiver (RFC 3339); null while live.
    pub offline_since: Option<String>,
    /// The receiver's event seq the cache is consistent with.
    pub last_seq: i64,
    /// The newest seq the receiver was known to have.
    pub receiver_seq: i64,
    /// Events behind the receiver (`receiver_seq - last_seq`, as last known).
    pub lag: i64,
    /// When the cache last caught up with the receiver.
    pub last_sync_at: Option<String>,
    /// Writes waiting in the outbox for the receiver.
    pub pending_writes: i64,
    /// Writes the receiver refused (conflicts and other errors): see
    /// `GET /api/replica/outbox`.
    pub failed_writes: i64,
    /// Why the last connection attempt failed.
    pub last_error: Option<String>,
    pub remote_url: String,
    /// While `syncing`: the snapshot copy's progress; null otherwise.
    pub snapshot: Option<SnapshotProgress>,
    /// While it waits to try the receiver again (`reconnecting` or
    /// `offline`): milliseconds until the next attempt (10 s at most;
    /// `POST /api/replica/reconnect` tries at once). Null while an attempt
    /// is under way and while live.
    // Counted when read (`Shared::status`): always null in the watch copy.
    pub retry_in_ms: Option<u64>,
}

/// How far a paged snapshot copy is.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnapshotProgress {
    /// When the copy started (RFC 3339).
    pub started_at: String,
    /// Pages applied so far.
    pub pages: i64,
    /// Rows applied so far.
    pub rows: i64,
    /// The table the next page starts in; null once the last page is in.
    pub table: Option<String>,
}

/// What the local API and the background tasks share.
pub struct Shared {
    pub(crate) store: Store,
    pub(crate) remote: Remote,
    token_hashes: Vec<String>,
    /// The remote principal, as `/api/auth/me` last said.
    me: RwLock<Option<Me>>,
    status: watch::Sender<ReplicaStatus>,
    /// One sync at a time: pages apply in order.
    pub(crate) sync_lock: Mutex<()>,
    /// One write to the receiver at a time: the outbox stays in order.
    pub(crate) write_lock: Mutex<()>,
    pub(crate) outbox_wake: Notify,
    /// When the follower will next try the receiver, while it waits.
    pub(crate) next_attempt: std::sync::Mutex<Option<tokio::time::Instant>>,
    /// Cuts that wait short (`POST /api/replica/reconnect`).
    pub(crate) retry_now: Notify,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Me {
    pub user: Option<User>,
    pub role: Role,
    pub departments: Option<Vec<String>>,
}

impl Shared {
    /// 401 unless `token` is one this replica was started with.
    pub fn check_token(&self, token: &str) -> Result<(), ApiError> {
        if self
            .token_hashes
            .iter()
            .any(|h| keys::secret_matches(token, h))
        {
            Ok(())
        } else {
            Err(ApiError::unauthorized(
                ErrorCode::InvalidToken,
                "this replica accepts only the receiver token it was started with, or a session signed in here",
            ))
        }
    }

    /// The remote principal, once the receiver has said who it is (kept in
    /// the cache across restarts); 503 `replica_not_ready` before.
    pub(crate) fn me(&self) -> Result<Me, ApiError> {
        self.me.read().ok().and_then(|m| m.clone()).ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ReplicaNotReady,
                "the replica has not reached its receiver yet",
            )
        })
    }

    /// A local request's token, as the remote user; other tokens get 401.
    /// (Sessions signed in through the replica: [`sessions::principal`].)
    pub fn principal(&self, token: String) -> Result<Principal, ApiError> {
        self.check_token(&token)?;
        let me = self.me()?;
        Ok(Principal {
            user: me.user,
            role: me.role,
            token,
            integration: None,
            csrf_token: None,
            // The receiver refuses such a token its snapshot: a replica
            // never gets this far with one.
            password_change: false,
        })
    }

    pub fn status(&self) -> ReplicaStatus {
        let mut s = self.status.borrow().clone();
        s.retry_in_ms = self.retry_in().map(|d| d.as_millis() as u64);
        s
    }

    /// How long until the follower tries the receiver again, while it waits.
    pub(crate) fn retry_in(&self) -> Option<std::time::Duration> {
        let at = (*self.next_attempt.lock().ok()?)?;
        Some(at.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// Ends the wait before the next attempt at once; false when the
    /// follower is not waiting (live, or an attempt under way).
    pub(crate) fn reconnect_now(&self) -> bool {
        let waiting = self.retry_in().is_some();
        // Wakes only a follower waiting now: a click while live must not
        // skip the backoff of some later disconnection.
        self.retry_now.notify_waiters();
        waiting
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut ReplicaStatus)) {
        self.status.send_modify(f);
    }

    /// The connection is gone: `reconnecting` the first time, `offline` after.
    pub(crate) fn went_down(&self, error: String) {
        let now = time::fmt(self.store.now());
        self.update(|s| {
            s.state = match s.state {
                ReplicaState::Live | ReplicaState::Syncing => ReplicaState::Reconnecting,
                _ => ReplicaState::Offline,
            };
            if s.offline_since.is_none() {
                s.offline_since = Some(now);
            }
            s.last_error = Some(error);
            // A copy cut short starts again from its first page.
            s.snapshot = None;
        });
    }

    pub(crate) async fn refresh_outbox_counts(&self) {
        if let Ok((pending, failed)) = self.store.read(cache::outbox_counts).await {
            self.update(|s| {
                s.pending_writes = pending;
                s.failed_writes = failed;
            });
        }
    }

    pub(crate) fn scope_source(&self, me: &Me) -> String {
        format!(
            "{}|{}|{}|{}",
            self.remote.base(),
            me.role.as_str(),
            me.user.as_ref().map(|u| u.id).unwrap_or(0),
            serde_json::to_string(&me.departments).unwrap_or_default()
        )
    }

    pub(crate) async fn set_me(&self, me: Me) -> Result<(), callboard_core::Error> {
        if let Ok(mut g) = self.me.write() {
            *g = Some(me.clone());
        }
        let text = serde_json::to_string(&me)?;
        self.store
            .write(move |w| cache::set_state(w, "me", &text))
            .await
    }
}

/// A replica serving its local API until [`ReplicaRunning::stop`].
pub struct ReplicaRunning {
    pub addr: SocketAddr,
    /// The local cache. Its `hub()` publishes each replicated event with the
    /// receiver's `seq`, `type` and `data`; after a fresh snapshot it
    /// publishes one `reload` event instead of replaying old calls.
    pub store: Store,
    pub shared: Arc<Shared>,
    status: watch::Receiver<ReplicaStatus>,
    stop: Option<watch::Sender<bool>>,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
    server_stop: Option<oneshot::Sender<()>>,
}

impl ReplicaRunning {
    /// Live status; changes as the connection comes and goes.
    pub fn status(&self) -> watch::Receiver<ReplicaStatus> {
        self.status.clone()
    }

    /// Stops following, lets in-flight requests finish and flushes the writer.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        if let Some(s) = self.server_stop.take() {
            let _ = s.send(());
        }
        match self.server.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// Opens (or creates) the cache in `data_dir`, binds the local API and starts
/// following the receiver. The local API serves the last known state at
/// once, even when the receiver is unreachable.
pub async fn start_replica(opts: ReplicaOptions) -> Result<ReplicaRunning, ReplicaError> {
    let url = opts.remote_url.trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ReplicaError::RemoteUrl(opts.remote_url));
    }
    if opts.remote_token.is_empty() {
        return Err(ReplicaError::MissingToken);
    }
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| crate::LaunchError::DataDir {
        path: opts.data_dir.clone(),
        source,
    })?;
    let db_path = opts.data_dir.join("callboard.db");
    let path = db_path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path, time::system_clock()))
        .await
        .map_err(|e| crate::LaunchError::Bootstrap(e.to_string()))?
        .map_err(|source| crate::LaunchError::Store {
            path: db_path.clone(),
            source,
        })?;
    let listener = match TcpListener::bind(&opts.listen).await {
        Ok(l) => l,
        Err(source) => {
            store.close().await;
            return Err(crate::LaunchError::Listen {
                listen: opts.listen.clone(),
                source,
            }
            .into());
        }
    };
    let addr = listener
        .local_addr()
        .map_err(|source| crate::LaunchError::Listen {
            listen: opts.listen.clone(),
            source,
        })?;

    let (me, cursor, counts) = store
        .read(|c| {
            Ok((
                cache::get_state(c, "me")?,
                cache::cursor(c)?,
                cache::outbox_counts(c)?,
            ))
        })
        .await?;
    let me: Option<Me> = me.and_then(|m| serde_json::from_str(&m).ok());
    let mut token_hashes = vec![keys::hash_secret(&opts.remote_token)];
    token_hashes.extend(
        opts.extra_tokens
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| keys::hash_secret(t)),
    );
    let seq = cursor.as_ref().map(|c| c.seq).unwrap_or(0);
    let (status_tx, status_rx) = watch::channel(ReplicaStatus {
        state: ReplicaState::Reconnecting,
        offline_since: Some(time::fmt(store.now())),
        last_seq: seq,
        receiver_seq: seq,
        lag: 0,
        last_sync_at: None,
        pending_writes: counts.0,
        failed_writes: counts.1,
        last_error: None,
        remote_url: url.clone(),
        snapshot: None,
        retry_in_ms: None,
    });
    let shared = Arc::new(Shared {
        store: store.clone(),
        remote: Remote::new(
            &url,
            &opts.remote_token,
            crate::tls::client_config(opts.remote_ca.as_deref())?,
        ),
        token_hashes,
        me: RwLock::new(me),
        status: status_tx,
        sync_lock: Mutex::new(()),
        write_lock: Mutex::new(()),
        outbox_wake: Notify::new(),
        next_attempt: std::sync::Mutex::new(None),
        retry_now: Notify::new(),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(follow::run(shared.clone(), stop_rx.clone())),
        tokio::spawn(forward::deliver(shared.clone(), stop_rx)),
    ];
    let config = Config {
        allowed_origins: opts.allowed_origins.clone(),
        // Its own cookie name: a receiver (or another replica) on the same
        // host keeps its own session beside this one.
        session_cookie: crate::auth::replica_cookie_name(addr.port()),
        // Its own sessions' lifetimes (`--session-idle/--session-max`).
        session_idle: opts.session_idle,
        session_max: opts.session_max,
        // Webhook URLs shown in the console are the receiver's.
        public_url: Some(url.clone()),
        ..Config::default()
    };
    let (server_stop, server_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::app::serve_with(
        listener,
        store.clone(),
        config,
        Some(shared.clone()),
        async move {
            let _ = server_rx.await;
        },
    ));
    tracing::info!(%addr, remote = %url, data = %db_path.display(), "replica started");
    Ok(ReplicaRunning {
        addr,
        store,
        shared,
        status: status_rx,
        stop: Some(stop_tx),
        server,
        tasks,
        server_stop: Some(server_stop),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{start_receiver, ReceiverOptions};
    use std::time::Duration;

    /// What a new administrator does first: sign in with the printed
    /// password and choose their own.
    pub(crate) async fn change_first_password(url: &str, user: &str, printed: &str, new: &str) {
        let http = crate::http::default_client();
        let v: serde_json::Value = http
            .post(format!("{url}/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": printed}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["must_change_password"], true, "{v}");
        let token = v["token"].as_str().unwrap();
        let r = http
            .post(format!("{url}/api/auth/password"))
            .bearer_auth(token)
            .json(&serde_json::json!({"current": printed, "new": new}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// The library API the desktop uses: sign in, start a replica in-process,
    /// watch its status, hear the receiver's events on its hub, stop it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_in_start_follow_and_stop_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let receiver = start_receiver(ReceiverOptions::new(dir.path().join("r"), "127.0.0.1:0"))
            .await
            .unwrap();
        let first = receiver.first_start.clone().unwrap();
        let url = format!("http://{}", receiver.addr);
        assert!(matches!(
            sign_in(&url, &first.username, "wrong").await,
            Err(RemoteError::Unauthorized)
        ));
        // The printed first-start password signs in to nothing but its change.
        assert!(matches!(
            sign_in(&url, &first.username, &first.password).await,
            Err(RemoteError::PasswordChangeRequired)
        ));
        let fresh = "a-password-of-my-own";
        change_first_password(&url, &first.username, &first.password, fresh).await;
        let token = sign_in(&url, &first.username, fresh).await.unwrap();

        let running = start_replica(ReplicaOptions {
            remote_url: url.clone(),
            remote_token: token.clone(),
            data_dir: dir.path().join("replica"),
            listen: "127.0.0.1:0".into(),
            extra_tokens: vec!["per-launch".into()],
            allowed_origins: vec![],
            remote_ca: None,
            session_idle: Config::default().session_idle,
            session_max: Config::default().session_max,
        })
        .await
        .unwrap();
        let mut status = running.status();
        tokio::time::timeout(Duration::from_secs(20), async {
            while status.borrow_and_update().state != ReplicaState::Live {
                status.changed().await.unwrap();
            }
        })
        .await
        .unwrap();

        // A change on the receiver reaches the replica's hub with the
        // receiver's seq.
        let mut events = running.store.hub().subscribe();
        let seq = receiver
            .store
            .write(|w| {
                callboard_core::store::categories::create(
                    w,
                    callboard_core::store::categories::NewCategory {
                        department: None,
                        name: "From the receiver".into(),
                        sub_categories: vec![],
                        display_order: None,
                    },
                    &callboard_core::store::audit::Actor {
                        user_id: None,
                        name: "test".into(),
                    },
                )
            })
            .await
            .map(|_| receiver.store.hub().head())
            .unwrap();
        let ev = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ev.seq, ev.kind.as_str()), (seq, "category.changed"));

        // The extra token is accepted locally as the same user.
        let me: serde_json::Value = crate::http::default_client()
            .get(format!("http://{}/api/auth/me", running.addr))
            .bearer_auth("per-launch")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["username"], first.username);
        running.stop().await.unwrap();
        receiver.stop().await.unwrap();
    }
}
