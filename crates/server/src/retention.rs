//! Retention runs: one at a time, daily and on demand, in small batches with
//! a pause between them so webhook ingestion keeps its latency.

use callboard_core::store::audit::Actor;
use callboard_core::store::retention::{self, RetentionRun};
use callboard_core::{time, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

/// Room for ingestion between two batches.
const PAUSE: Duration = Duration::from_millis(5);
const CHECK_EVERY: Duration = Duration::from_secs(3600);
const DAY: i64 = 86_400;

/// Held while a run goes; a second request is refused rather than queued.
/// Made before the server takes its first request: runs started before that
/// and never finished were cut off by a stop.
#[derive(Clone)]
pub struct RetentionLock {
    lock: Arc<Mutex<()>>,
    serving_since: callboard_core::time::Timestamp,
}

impl RetentionLock {
    pub fn new(serving_since: callboard_core::time::Timestamp) -> RetentionLock {
        RetentionLock {
            lock: Arc::default(),
            serving_since,
        }
    }

    pub fn try_take(&self) -> Option<OwnedMutexGuard<()>> {
        Arc::clone(&self.lock).try_lock_owned().ok()
    }
}

/// Starts a run (its row exists when this returns) and carries it out in
/// the background. `None` when a run is already going.
pub async fn start(
    store: &Store,
    lock: &RetentionLock,
    trigger: &'static str,
    actor: Actor,
    stop: watch::Receiver<bool>,
) -> callboard_core::Result<Option<(RetentionRun, tokio::task::JoinHandle<()>)>> {
    let Some(guard) = lock.try_take() else {
        return Ok(None);
    };
    let a = actor.clone();
    let plan = store
        .write(move |w| retention::start(w, trigger, &a))
        .await?;
    let id = plan.run_id;
    let run = store.read(move |c| retention::run(c, id)).await?;
    let store = store.clone();
    let handle = tokio::spawn(async move {
        let _guard = guard;
        let error = carry_out(&store, &plan, stop).await;
        let e = error.clone();
        match store
            .write(move |w| retention::finish(w, id, e.as_deref(), &actor))
            .await
        {
            Ok(r) => {
                tracing::info!(run = id, archived = r.calls_archived, deleted = r.calls_deleted,
                raw = r.raw_events_deleted, leads_archived = r.leads_archived, leads_deleted = r.leads_deleted, batches = r.batches, error = ?error, "retention run finished")
            }
            Err(e) => {
                tracing::warn!(run = id, error = %e, "cannot record the end of a retention run")
            }
        }
    });
    Ok(Some((run, handle)))
}

async fn carry_out(
    store: &Store,
    plan: &retention::Plan,
    stop: watch::Receiver<bool>,
) -> Option<String> {
    loop {
        if *stop.borrow() {
            return Some("stopped: the server is shutting down".into());
        }
        let p = plan.clone();
        match store.write(move |w| retention::batch(w, &p)).await {
            Ok(0) => return None,
            Ok(_) => tokio::time::sleep(PAUSE).await,
            Err(e) => return Some(e.to_string()),
        }
    }
}

/// Runs retention once a day (a day after the previous run started, which
/// survives restarts).
pub async fn daily(store: Store, lock: RetentionLock, mut stop: watch::Receiver<bool>) {
    // A manual run may have started before this task did (a request right
    // after the start): it started after `serving_since`, so it is never
    // closed as interrupted.
    let since = lock.serving_since;
    if let Err(e) = store
        .write(move |w| retention::close_interrupted(w, since))
        .await
    {
        tracing::warn!(error = %e, "cannot close interrupted retention runs");
    }
    let mut every = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let due = match store.read(retention::last_started).await {
            Ok(None) => true,
            Ok(Some(t)) => time::parse(&t).is_none_or(|t| (store.now() - t).num_seconds() >= DAY),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read retention runs");
                false
            }
        };
        if !due {
            continue;
        }
        let actor = Actor {
            user_id: None,
            name: "retention-schedule".into(),
        };
        match start(&store, &lock, "schedule", actor, stop.clone()).await {
            Ok(Some((_, handle))) => {
                let _ = handle.await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot start the daily retention run"),
        }
    }
}
