//! What readiness checks read and write: a heartbeat through the writer, the
//! schema version, the newest delivery per provider.

use crate::error::Result;
use crate::store::{migrate, Writer};
use rusqlite::Connection;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds of the batch-size histogram (jobs per group commit).
pub const BATCH_BOUNDS: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

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
    }
}
