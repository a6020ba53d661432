//! What readiness checks read and write: a heartbeat through the writer, the
//! schema version, the newest delivery per provider.

use crate::error::Result;
use crate::store::{migrate, Writer};
use rusqlite::Connection;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the batch-size histogram (jobs per group commit; a batch
/// holds at most 1,024).
pub const BATCH_BOUNDS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// Upper bounds of the commit-time histogram, in seconds. A commit writes
/// the batch's pages to the WAL and syncs it, and every write of the batch
/// waits for it: a healthy disk syncs in well under a millisecond, a
/// stalling one in tenths of a second or more, which only this shows.
pub const COMMIT_BOUNDS: [f64; 13] = [
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    f64::INFINITY,
];

/// A commit this slow is logged: platforms wait for the acknowledgement
/// behind it, and some give up after a few seconds.
pub const SLOW_COMMIT: Duration = Duration::from_millis(500);

/// A histogram read from the writer's counters: the count under each upper
/// bound (not cumulative), how many were observed and their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum: f64,
}

/// A histogram kept lock-free over fixed upper bounds: a value counts under
/// the first bound it does not exceed (the last bound when it exceeds all).
/// The sum is kept in whole units of `1 / scale` (jobs: 1; seconds: 10⁶).
#[derive(Debug)]
struct Buckets<const N: usize> {
    bounds: &'static [f64; N],
    scale: f64,
    counts: [AtomicU64; N],
    sum: AtomicU64,
}

impl<const N: usize> Buckets<N> {
    fn new(bounds: &'static [f64; N], scale: f64) -> Self {
        Self {
            bounds,
            scale,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(N - 1);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        // `as` saturates: a value past u64 counts as its largest.
        self.sum
            .fetch_add((value * self.scale).round() as u64, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.counts.iter().map(|n| n.load(Ordering::Relaxed)).sum()
    }

    fn read(&self) -> Histogram {
        let buckets: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(self.counts.iter())
            .map(|(bound, n)| (*bound, n.load(Ordering::Relaxed)))
            .collect();
        Histogram {
            count: buckets.iter().map(|(_, n)| n).sum(),
            buckets,
            sum: self.sum.load(Ordering::Relaxed) as f64 / self.scale,
        }
    }
}

/// The writer's counters, for metrics and readiness: lock-free, updated by
/// the writer thread and by callers of `Store::write`.
#[derive(Debug)]
pub struct WriterStats {
    queued: AtomicI64,
    failed_commits: AtomicU64,
    last_commit_unix_ms: AtomicI64,
    /// Jobs per batch: its count is the batches, its sum the jobs.
    batch_sizes: Buckets<{ BATCH_BOUNDS.len() }>,
    /// Seconds per successful commit.
    commit_times: Buckets<{ COMMIT_BOUNDS.len() }>,
}

impl Default for WriterStats {
    fn default() -> Self {
        Self {
            queued: AtomicI64::new(0),
            failed_commits: AtomicU64::new(0),
            last_commit_unix_ms: AtomicI64::new(0),
            batch_sizes: Buckets::new(&BATCH_BOUNDS, 1.0),
            commit_times: Buckets::new(&COMMIT_BOUNDS, 1e6),
        }
    }
}

impl WriterStats {
    pub(crate) fn enqueued(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn batch(&self, jobs: usize) {
        self.queued.fetch_sub(jobs as i64, Ordering::Relaxed);
        self.batch_sizes.observe(jobs as f64);
    }

    pub(crate) fn committed(&self, ok: bool) {
        if ok {
            self.last_commit_unix_ms
                .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        } else {
            self.failed_commits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how long a successful commit took; true when it was slow
    /// enough to log.
    pub(crate) fn commit_took(&self, took: Duration) -> bool {
        self.commit_times.observe(took.as_secs_f64());
        took >= SLOW_COMMIT
    }

    /// Jobs sent to the writer and not yet taken into a batch.
    pub fn queued(&self) -> i64 {
        self.queued.load(Ordering::Relaxed).max(0)
    }

    pub fn jobs(&self) -> u64 {
        self.batch_sizes.read().sum as u64
    }

    pub fn batches(&self) -> u64 {
        self.batch_sizes.count()
    }

    pub fn failed_commits(&self) -> u64 {
        self.failed_commits.load(Ordering::Relaxed)
    }

    /// Wall-clock time of the last successful commit (0: none yet).
    pub fn last_commit_unix_ms(&self) -> i64 {
        self.last_commit_unix_ms.load(Ordering::Relaxed)
    }

    /// Jobs per group commit (`BATCH_BOUNDS`).
    pub fn batch_sizes(&self) -> Histogram {
        self.batch_sizes.read()
    }

    /// Seconds per successful commit (`COMMIT_BOUNDS`).
    pub fn commit_times(&self) -> Histogram {
        self.commit_times.read()
    }
}

/// Writes one small row through the writer: proof that it is alive and that
/// the disk takes a commit (an empty transaction would commit on a full disk).
pub fn heartbeat(w: &mut Writer<'_>) -> Result<()> {
    let now = crate::time::fmt(w.now());
    w.conn
        .prepare_cached(
            "INSERT INTO settings (key, value) VALUES ('health.heartbeat', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute([now])?;
    Ok(())
}

/// `(found, known)`: the database's schema version and this build's.
pub fn schema_version(conn: &Connection) -> Result<(i64, i64)> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((found, migrate::known_version()))
}

/// Each active provider's slug and when its newest delivery arrived (None
/// when it has had none). One index seek per provider.
pub fn last_deliveries(conn: &Connection) -> Result<Vec<(String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.slug,
                (SELECT r.received_at FROM raw_events r WHERE r.provider_id = p.id
                  ORDER BY r.id DESC LIMIT 1)
           FROM providers p WHERE p.active = 1 ORDER BY p.slug",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn heartbeat_commits_and_the_schema_is_current() {
        let (_dir, store) = temp_store();
        store.write(heartbeat).await.unwrap();
        store.write(heartbeat).await.unwrap();
        let (found, known) = store.read(schema_version).await.unwrap();
        assert_eq!(found, known);
        let beat: String = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT value FROM settings WHERE key = 'health.heartbeat'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert!(crate::time::parse(&beat).is_some(), "{beat}");
        assert!(store.read(last_deliveries).await.unwrap().is_empty());
        let stats = store.writer_stats();
        assert!(stats.jobs() >= 2 && stats.batches() >= 1);
        assert_eq!(stats.queued(), 0);
        assert!(stats.last_commit_unix_ms() > 0);
        // Each commit timed: a successful batch is one commit.
        let commits = stats.commit_times();
        assert_eq!(commits.count, stats.batches());
        assert!(commits.sum > 0.0, "{commits:?}");
    }

    #[test]
    fn a_commit_is_counted_under_the_first_bound_it_fits_and_a_stall_is_flagged() {
        let stats = WriterStats::default();
        assert!(!stats.commit_took(Duration::from_micros(300)));
        assert!(!stats.commit_took(Duration::from_millis(3)));
        assert!(!stats.commit_took(Duration::from_millis(100)));
        assert!(stats.commit_took(SLOW_COMMIT));
        assert!(stats.commit_took(Duration::from_secs(4)));
        let t = stats.commit_times();
        let at = |bound: f64| {
            t.buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .map(|(_, n)| *n)
                .unwrap()
        };
        assert_eq!(at(0.0005), 1);
        assert_eq!(at(0.005), 1);
        assert_eq!(at(0.002), 0);
        assert_eq!(at(0.1), 1, "a bound is inclusive");
        assert_eq!(at(0.5), 1);
        assert_eq!(at(f64::INFINITY), 1, "slower than every bound");
        assert_eq!(t.count, 5);
        assert!((t.sum - 4.6033).abs() < 1e-9, "{t:?}");
    }
}
