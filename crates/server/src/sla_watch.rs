//! The breach scheduler: sleeps until the earliest running SLA deadline
//! (not polling), wakes early when a deadline is added or moved, marks what
//! ran out in one write and announces each breach on the stream.

use callboard_core::store::deadlines;
use callboard_core::{time, Store};
use std::time::Duration;
use tokio::sync::watch;

/// Calls marked per write; more run out at once only after an outage.
const MARK_BATCH: i64 = 500;
/// Longest sleep with nothing due: a safety net, not the mechanism.
const MAX_SLEEP: Duration = Duration::from_secs(3600);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(30);

pub async fn run(store: Store, mut stop: watch::Receiver<bool>) {
    let woken = store.deadlines().clone();
    loop {
        let wait = match tick(&store).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "SLA breach check failed");
                RETRY_AFTER_ERROR
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = woken.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Marks every breach due now; returns how long to sleep until the next.
async fn tick(store: &Store) -> callboard_core::Result<Duration> {
    loop {
        let marked = store
            .write(|w| deadlines::mark_breaches(w, MARK_BATCH))
            .await?;
        if !marked.is_empty() {
            tracing::info!(count = marked.len(), "SLA breached");
            crate::metrics_export::sla_breached(marked.len());
        }
        if (marked.len() as i64) < MARK_BATCH {
            break;
        }
    }
    let next = store.read(deadlines::next_due).await?;
    Ok(match next.as_deref().and_then(time::parse) {
        None => MAX_SLEEP,
        Some(due) => {
            let left = due - store.now();
            // A millisecond past the deadline, so the write sees it due.
            left.to_std()
                .map(|d| (d + Duration::from_millis(1)).min(MAX_SLEEP))
                .unwrap_or(Duration::ZERO)
        }
    })
}
