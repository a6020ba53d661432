//! What readiness checks read and write: a heartbeat through the writer, the
//! schema version, the newest delivery per provider.

use crate::error::Result;
use crate::store::{migrate, Writer};
use rusqlite::Connection;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the batch-size histogram (jobs per group commit).
pub const BATCH_BOUNDS: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Upper bounds of the commit-time histogram, in seconds. A commit writes
/// the batch's pages to the WAL and syncs it, and every write of the batch
/// waits for it: a healthy disk syncs in well under a millisecond, a
/// stalling one in tenths of a second or more, which only this shows.
pub const COMMIT_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A commit this slow is logged: platforms wait for the acknowledgement
/// behind it, and some give up after a few seconds.
pub const SLOW_COMMIT: Duration = Duration::from_millis(500);

/// The writer's counters, for metrics and readiness: lock-free, updated by
/// the writer thread and by callers of `Store::write`.
#[derive(Debug, Default)]
pub struct WriterStats {
    queued: AtomicI64,
    jobs: AtomicU64,
    batches: AtomicU64,
    failed_commits: AtomicU64,
    last_commit_unix_ms: AtomicI64,
    /// Batches with at most `BATCH_BOUNDS[i]` jobs (not cumulative).
    buckets: [AtomicU64; BATCH_BOUNDS.len()],
    /// Commits that took at most `COMMIT_BOUNDS[i]` seconds (not
    /// cumulative); the last, longer than every bound.
    commit_buckets: [AtomicU64; COMMIT_BOUNDS.len() + 1],
    commit_micros: AtomicU64,
}

/// How long the writer's commits took: per bucket of `COMMIT_BOUNDS` (not
/// cumulative; the last bucket's bound is infinity), their number and sum.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitTimes {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl WriterStats {
    pub(crate) fn enqueued(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn batch(&self, jobs: usize) {
        self.queued.fetch_sub(jobs as i64, Ordering::Relaxed);
        self.jobs.fetch_add(jobs as u64, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        let i = BATCH_BOUNDS
            .iter()
            .position(|b| jobs as u64 <= *b)
            .unwrap_or(BATCH_BOUNDS.len() - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
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
        let secs = took.as_secs_f64();
        let i = COMMIT_BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(COMMIT_BOUNDS.len());
        self.commit_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.commit_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        took >= SLOW_COMMIT
    }

    pub fn commit_times(&self) -> CommitTimes {
        let buckets: Vec<(f64, u64)> = COMMIT_BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.commit_buckets.iter())
            .map(|(bound, n)| (bound, n.load(Ordering::Relaxed)))
            .collect();
        CommitTimes {
            count: buckets.iter().map(|(_, n)| n).sum(),
            buckets,
            sum_seconds: self.commit_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }

    /// Jobs sent to the writer and not yet taken into a batch.
    pub fn queued(&self) -> i64 {
        self.queued.load(Ordering::Relaxed).max(0)
    }

    pub fn jobs(&self) -> u64 {
        self.jobs.load(Ordering::Relaxed)
    }

    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    pub fn failed_commits(&self) -> u64 {
        self.failed_commits.load(Ordering::Relaxed)
    }

    /// Wall-clock time of the last successful commit (0: none yet).
    pub fn last_commit_unix_ms(&self) -> i64 {
        self.last_commit_unix_ms.load(Ordering::Relaxed)
    }

    /// Cumulative counts per `BATCH_BOUNDS` upper bound.
    pub fn batch_histogram(&self) -> Vec<(u64, u64)> {
        let mut total = 0;
        BATCH_BOUNDS
            .iter()
            .zip(self.buckets.iter())
            .map(|(b, c)| {
                total += c.load(Ordering::Relaxed);
                (*b, total)
            })
            .collect()
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
        assert!(commits.sum_seconds > 0.0, "{commits:?}");
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
        assert!((t.sum_seconds - 4.6033).abs() < 1e-9, "{t:?}");
    }
}
