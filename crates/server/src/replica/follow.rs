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
/// Short enough that a receiver back after a long cut is found within
/// seconds (the attempts cost it one request each); the console's "Retry
/// now" ends a wait at once.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

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
        let retry = shared.retry_now.notified();
        tokio::pin!(retry);
        // Registered before the wait is announced, so a "Retry now" seen
        // in the status always finds it.
        retry.as_mut().enable();
        set_next_attempt(&shared, Some(tokio::time::Instant::now() + wait));
        let stopped = tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = &mut retry => {
                tracing::info!("replica: trying the receiver now, as asked");
                false
            }
            _ = stop.changed() => true,
        };
        set_next_attempt(&shared, None);
        if stopped {
            return;
        }
    }
}

fn set_next_attempt(shared: &Shared, at: Option<tokio::time::Instant>) {
    if let Ok(mut n) = shared.next_attempt.lock() {
        *n = at;
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

/// Rows per snapshot page (`CALLBOARD_SNAPSHOT_PAGE_ROWS`, for tests and
/// measurements; the receiver caps it).
fn page_rows() -> i64 {
    std::env::var("CALLBOARD_SNAPSHOT_PAGE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(cache::SNAPSHOT_PAGE_ROWS)
}

fn rows_in(page: &cache::Snapshot) -> i64 {
    page.tables.iter().map(|t| t.rows.len() as i64).sum()
}

/// Replaces the cache with a fresh snapshot of what the principal may see,
/// page by page: each page applied in its own local transaction while the
/// next one is fetched (two pages in memory at most). The cursor is the
/// first page's, set with the last page; the changes made on the receiver
/// meanwhile are applied after, by [`sync`]. The status says `syncing`
/// until then.
pub(crate) async fn snapshot(shared: &Shared, source: &str) -> Result<(), FollowError> {
    let _guard = shared.sync_lock.lock().await;
    let started = std::time::Instant::now();
    let limit = page_rows();
    let was_live = shared.status().state == ReplicaState::Live;
    let now = time::fmt(shared.store.now());
    shared.update(|s| {
        s.state = ReplicaState::Syncing;
        s.snapshot = Some(super::SnapshotProgress {
            started_at: now,
            pages: 0,
            rows: 0,
            table: None,
        });
    });
    let first = shared.remote.snapshot_page(None, limit).await?;
    let (seq, change) = (first.seq, first.change);
    let mut page = first;
    let mut first_page = true;
    let (mut pages, mut rows, mut skipped) = (0i64, 0i64, 0usize);
    loop {
        let next = page.next.clone();
        let n = rows_in(&page);
        let apply = {
            let begin = first_page;
            shared.store.write(move |w| {
                if begin {
                    cache::begin_snapshot(w)?;
                }
                cache::apply_snapshot_page(w, &page.tables)
            })
        };
        first_page = false;
        // The next page is fetched while this one is applied.
        let (applied, fetched) = match &next {
            Some(k) => {
                let (a, f) = tokio::join!(apply, shared.remote.snapshot_page(Some(k), limit));
                (a, Some(f))
            }
            None => (apply.await, None),
        };
        skipped += applied?.1;
        pages += 1;
        rows += n;
        shared.update(|s| {
            if let Some(p) = s.snapshot.as_mut() {
                p.pages = pages;
                p.rows = rows;
                p.table = next.as_ref().map(|k| k.table.clone());
            }
        });
        match fetched {
            Some(f) => page = f?,
            None => break,
        }
    }
    let source = source.to_string();
    shared
        .store
        .write(move |w| cache::finish_snapshot(w, seq, change, &source))
        .await?;
    tracing::info!(
        seq,
        pages,
        rows,
        skipped,
        ms = started.elapsed().as_millis() as u64,
        "replica snapshot applied"
    );
    let now = time::fmt(shared.store.now());
    shared.update(|s| {
        s.last_seq = seq;
        s.receiver_seq = s.receiver_seq.max(seq);
        s.lag = (s.receiver_seq - seq).max(0);
        s.last_sync_at = Some(now);
        s.snapshot = None;
        // A snapshot taken while live (the receiver asked for a reload):
        // the changes since are a page or two away.
        if was_live {
            s.state = ReplicaState::Live;
        }
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
    // Mid-copy the write reaches the cache with the changes after the copy.
    if shared.status().state == ReplicaState::Syncing {
        return;
    }
    let source = match shared.me.read().ok().and_then(|m| m.clone()) {
        Some(me) => shared.scope_source(&me),
        None => return,
    };
    if let Err(e) = tokio::time::timeout(Duration::from_secs(5), sync(shared, &source)).await {
        tracing::debug!(error = %e, "sync after a write timed out");
    }
}
