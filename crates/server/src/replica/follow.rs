//! Following the receiver: sign in, snapshot when needed, then the event
//! stream from the cache's `seq`. Each stream message wakes a sync that
//! pulls the changed rows and the events after the cursor and applies them
//! with the new cursor in one local transaction. On a disconnect: reconnect
//! with exponential backoff and jitter, and resume from the cursor.

use super::client::RemoteError;
use super::{Me, ReplicaState, Shared};
use callboard_core::store::replica as cache;
use callboard_core::time;
use futures_util::StreamExt;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// The receiver pings every 30 s: this much silence means a dead link.
const SILENCE: Duration = Duration::from_secs(75);
/// How often the changes are polled besides the stream's wake-ups.
const POLL_EVERY: Duration = Duration::from_secs(1);
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub(crate) enum FollowError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("local cache: {0}")]
    Cache(#[from] callboard_core::Error),
    #[error("event stream: {0}")]
    Stream(String),
}

/// Exponential backoff with full jitter in [d/2, d].
fn backoff(failures: u32) -> Duration {
    let d = BACKOFF_FIRST
        .saturating_mul(1u32 << failures.min(16))
        .min(BACKOFF_MAX);
    let ms = d.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms.max(1)))
}

pub(crate) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        let outcome = tokio::select! {
            r = session(&shared, &mut failures) => r,
            _ = stop.changed() => return,
        };
        let error = match outcome {
            Ok(()) => "the receiver closed the event stream".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::info!(%error, "replica disconnected");
        shared.went_down(error);
        let wait = backoff(failures);
        failures = failures.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn session(shared: &Arc<Shared>, failures: &mut u32) -> Result<(), FollowError> {
    let me: Me = serde_json::from_value(shared.remote.me().await?)
        .map_err(|e| FollowError::Stream(format!("unexpected /api/auth/me: {e}")))?;
    shared.set_me(me.clone()).await?;
    // The receiver answers again: catching up (live once caught up).
    shared.update(|s| {
        if s.state == ReplicaState::Offline {
            s.state = ReplicaState::Reconnecting;
        }
    });
    let source = shared.scope_source(&me);
    let cursor = shared.store.read(cache::cursor).await?;
    if cursor.as_ref().map(|c| c.source.as_str()) != Some(source.as_str()) {
        snapshot(shared, &source).await?;
    }
    let seq = shared
        .store
        .read(cache::cursor)
        .await?
        .map(|c| c.seq)
        .unwrap_or(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        shared.remote.events_url(seq),
        None,
        false,
        Some(shared.remote.ws_connector()),
    )
    .await
    .map_err(|e| FollowError::Remote(RemoteError::Unreachable(e.to_string())))?;
    sync(shared, &source).await?;
    shared.update(|s| {
        s.state = ReplicaState::Live;
        s.offline_since = None;
        s.last_error = None;
    });
    *failures = 0;
    shared.outbox_wake.notify_one();
    tracing::info!(seq, "replica live");
    // Some rows change without an event (audit entries, platform user maps,
    // poller runs): a light poll of the changes catches those too.
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = tokio::time::Instant::now();
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = poll.tick() => {
                if heard.elapsed() > SILENCE {
                    return Err(FollowError::Stream("no message or ping for 75 s".into()));
                }
                sync(shared, &source).await?;
                continue;
            }
        };
        heard = tokio::time::Instant::now();
        let msg = match msg {
            None => return Ok(()),
            Some(Err(e)) => return Err(FollowError::Stream(e.to_string())),
            Some(Ok(m)) => m,
        };
        match msg {
            Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                let seq = v["seq"].as_i64().unwrap_or(0);
                shared.update(|s| {
                    s.receiver_seq = s.receiver_seq.max(seq);
                    s.lag = (s.receiver_seq - s.last_seq).max(0);
                });
                if v["type"] == "reload" {
                    snapshot(shared, &source).await?;
                }
                if seq > shared.status().last_seq {
                    sync(shared, &source).await?;
                }
            }
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
}

/// Replaces the cache with a fresh snapshot of what the principal may see.
pub(crate) async fn snapshot(shared: &Shared, source: &str) -> Result<(), FollowError> {
    let _guard = shared.sync_lock.lock().await;
    let started = std::time::Instant::now();
    let snap = shared.remote.snapshot().await?;
    let seq = snap.seq;
    let source = source.to_string();
    shared
        .store
        .write(move |w| cache::apply_snapshot(w, &snap, &source))
        .await?;
    tracing::info!(
        seq,
        ms = started.elapsed().as_millis() as u64,
        "replica snapshot applied"
    );
    let now = time::fmt(shared.store.now());
    shared.update(|s| {
        s.last_seq = seq;
        s.receiver_seq = s.receiver_seq.max(seq);
        s.lag = (s.receiver_seq - seq).max(0);
        s.last_sync_at = Some(now);
    });
    Ok(())
}

/// Pulls and applies pages of changes until caught up.
pub(crate) async fn sync(shared: &Shared, source: &str) -> Result<(), FollowError> {
    loop {
        let guard = shared.sync_lock.lock().await;
        let Some(from) = shared.store.read(cache::cursor).await? else {
            drop(guard);
            snapshot(shared, source).await?;
            continue;
        };
        let page = match shared.remote.changes(from.seq, from.change).await {
            Ok(p) => p,
            Err(RemoteError::TooFarBehind) => {
                drop(guard);
                tracing::info!(
                    seq = from.seq,
                    "too far behind the receiver: taking a fresh snapshot"
                );
                snapshot(shared, source).await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let (more, head) = (page.more, page.head);
        let next = shared
            .store
            .write(move |w| cache::apply_changes(w, &from, &page))
            .await?;
        drop(guard);
        let now = time::fmt(shared.store.now());
        shared.update(|s| {
            s.last_seq = next.seq;
            s.receiver_seq = s.receiver_seq.max(head);
            s.lag = (s.receiver_seq - next.seq).max(0);
            s.last_sync_at = Some(now);
        });
        if !more {
            return Ok(());
        }
    }
}

/// Brings the cache up to date now (after a forwarded write, so the person
/// reads what they just wrote); gives up quietly when offline.
pub(crate) async fn sync_now(shared: &Shared) {
    let source = match shared.me.read().ok().and_then(|m| m.clone()) {
        Some(me) => shared.scope_source(&me),
        None => return,
    };
    if let Err(e) = tokio::time::timeout(Duration::from_secs(5), sync(shared, &source)).await {
        tracing::debug!(error = %e, "sync after a write timed out");
    }
}
