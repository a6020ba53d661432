//! The analytics' first report after a start. The metrics keep their sums
//! per department and quarter hour between reports (`QuarterCache`), but
//! start empty: the first 30-day report summed every call of the month (3.3 s
//! at 5M calls, while the supervisor waited). One report made in the
//! background shortly after start fills them; later reports only sum the
//! quarters that changed.

use callboard_core::store::metrics::{self, MetricsQuery};
use callboard_core::{time, Store};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// After the start's own work (migrations, a replica's first snapshot).
const DELAY: Duration = Duration::from_secs(2);

/// The range warmed: a month back (what is kept by default) and the rest of
/// today ahead (the dashboard's business day ends in the future).
const BACK_DAYS: i64 = 30;

pub async fn metrics_cache(store: Store, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(DELAY) => {}
        _ = stop.changed() => return,
    }
    let now = store.now();
    let q = MetricsQuery {
        from: time::fmt(now - chrono::Duration::days(BACK_DAYS)),
        to: time::fmt(now + chrono::Duration::days(1)),
        departments: None,
        // The thresholds a report asks with unless told otherwise: the
        // cache's sums are made for one pair (another pair starts over).
        sl_seconds: crate::api::metrics::DEFAULT_SL_SECONDS,
        short_abandon_seconds: crate::api::metrics::DEFAULT_SHORT_ABANDON_SECONDS,
        utc_offset_minutes: 0,
        zone: None,
        now: time::fmt(now),
        hourly: false,
        daily: false,
    };
    let cache = store.metrics_cache();
    let started = Instant::now();
    let warmed = store
        .read(move |c| {
            metrics::report_with(c, &q, Some(&cache))?;
            Ok(cache.cells())
        })
        .await;
    // Summing the month left its row-by-row buffers free in the arenas.
    let _ = tokio::task::spawn_blocking(crate::memory::trim).await;
    match warmed {
        Ok(cells) => tracing::info!(
            cells,
            ms = started.elapsed().as_millis() as u64,
            "metrics warmed: the month's sums are kept"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "warming the metrics failed (the first report sums the rows)")
        }
    }
}
