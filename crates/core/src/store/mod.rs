//! The store: one writer thread that owns the write connection and commits
//! whatever arrives together in one transaction (group commit), and a small
//! pool of read connections used from blocking threads. No rusqlite call runs
//! on a tokio worker thread.

pub mod agent_board;
pub mod agent_calls;
pub mod agents;
pub mod agents_map;
pub mod audit;
pub mod backup;
pub mod callbacks;
pub mod calls;
pub mod categories;
pub mod connectors;
pub mod deadlines;
pub(crate) mod decode;
pub mod delivery_health;
pub mod events;
pub mod exports;
pub mod figures;
pub mod health;
pub mod idempotency;
pub mod ingest;
pub mod integrations;
pub mod ivr;
pub mod metrics;
pub mod migrate;
pub mod providers;
pub mod queue_order;
pub mod refusals;
pub mod repeat_callers;
pub mod replica;
pub mod retention;
pub mod sms;
pub mod stats;
pub mod thresholds;
pub mod totp;
pub mod users;
pub mod voicemails;
pub mod workflow;

use crate::error::{Error, Result};
use crate::hub::{Event, Hub};
use crate::time::{self, SharedClock, Timestamp};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

pub use providers::ProviderCache;

/// Most jobs a single transaction takes; bounds the latency of the first one.
const MAX_BATCH: usize = 1024;
const READERS: usize = 4;
const HUB_CAPACITY: usize = 8192;

/// The write side of one job inside the shared transaction.
pub struct Writer<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) now: Timestamp,
    events: Vec<Event>,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
    pub(crate) providers: &'a ProviderCache,
    deadlines: &'a Arc<Notify>,
}

impl<'a> Writer<'a> {
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Appends a change to the event log; it is published once committed.
    pub(crate) fn emit(
        &mut self,
        kind: crate::hub::EventKind,
        department: Option<&str>,
        audience: crate::hub::Audience,
        data: String,
    ) -> Result<i64> {
        let at = time::fmt(self.now);
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO event_log (at, type, department, audience, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        stmt.execute(rusqlite::params![
            at,
            kind.as_str(),
            department,
            audience.as_str(),
            data
        ])?;
        let seq = self.conn.last_insert_rowid();
        self.events.push(Event {
            seq,
            kind: kind.to_string(),
            department: department.map(str::to_string),
            audience,
            at,
            data,
        });
        Ok(seq)
    }

    /// Runs `f` after the transaction commits (in commit order), e.g. to
    /// refresh an in-memory cache so it never shows uncommitted state.
    pub(crate) fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }

    /// Tells the breach scheduler, once committed, that a deadline was added
    /// or moved, so it wakes before its planned time if it must.
    pub(crate) fn deadlines_changed(&mut self) {
        let n = Arc::clone(self.deadlines);
        self.after_commit(move || n.notify_one());
    }
}

type Completion = Box<dyn FnOnce(Option<&str>) + Send>;
/// A job runs inside the batch's transaction, or is told why there is none.
type Job = Box<dyn FnOnce(Result<&mut Writer<'_>, &str>) -> (bool, Completion) + Send>;

struct ReadPool {
    conns: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

struct Inner {
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Mutex<Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>>,
    readers: ReadPool,
    hub: Hub,
    clock: SharedClock,
    providers: ProviderCache,
    deadlines: Arc<Notify>,
    path: PathBuf,
    stats: Arc<health::WriterStats>,
}

/// A cheap, cloneable handle on the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

impl Store {
    /// Opens (creating and migrating if needed) `callboard.db` at `path`.
    pub fn open(path: impl AsRef<Path>, clock: SharedClock) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        // A zero-length file is not a new database but a lost one (a
        // failed copy, a full disk): refused, never silently initialised.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(Error::Invalid(format!(
                "{} is empty (0 bytes), not a Callboard database: restore a backup, or remove the file to start afresh",
                path.display()
            )));
        }
        // An upgrade keeps a copy of the database as it was.
        backup::before_migration(&path)?;
        let mut wconn = Connection::open(&path)?;
        // Checked before anything writes (the journal mode included), so a
        // newer database is left exactly as it was.
        migrate::refuse_newer(&wconn)?;
        configure(&wconn)?;
        // Checkpoints run on their own thread (below), not inside a commit.
        wconn.pragma_update(None, "wal_autocheckpoint", 0)?;
        migrate::run(&mut wconn)?;
        seed(&wconn, clock.now())?;

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            c.set_prepared_statement_cache_capacity(64);
            readers.push(c);
        }

        let head: i64 =
            wconn.query_row("SELECT COALESCE(MAX(seq), 0) FROM event_log", [], |r| {
                r.get(0)
            })?;
        let hub = Hub::new(HUB_CAPACITY, head);
        let providers = ProviderCache::load(&wconn)?;

        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let writer_hub = hub.clone();
        let writer_clock = clock.clone();
        let writer_providers = providers.clone();
        let deadlines = Arc::new(Notify::new());
        let writer_deadlines = Arc::clone(&deadlines);
        let stats = Arc::new(health::WriterStats::default());
        let writer_stats = Arc::clone(&stats);
        let handle = std::thread::Builder::new()
            .name("callboard-writer".into())
            .spawn(move || {
                writer_loop(
                    wconn,
                    rx,
                    writer_hub,
                    writer_clock,
                    writer_providers,
                    writer_deadlines,
                    writer_stats,
                )
            })
            .map_err(|e| Error::Commit(format!("cannot start the writer thread: {e}")))?;

        let checkpointer = spawn_checkpointer(&path)?;

        Ok(Store {
            inner: Arc::new(Inner {
                jobs: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                checkpointer: Mutex::new(Some(checkpointer)),
                readers: ReadPool {
                    conns: Mutex::new(readers),
                    permits: Arc::new(Semaphore::new(READERS)),
                },
                hub,
                clock,
                providers,
                deadlines,
                path,
                stats,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub fn providers(&self) -> &ProviderCache {
        &self.inner.providers
    }

    /// The writer's queue depth, batch sizes and last commit.
    pub fn writer_stats(&self) -> &health::WriterStats {
        &self.inner.stats
    }

    /// Signalled after a commit that added or moved an SLA deadline.
    pub fn deadlines(&self) -> &Arc<Notify> {
        &self.inner.deadlines
    }

    /// Runs `f` inside the writer's current transaction and resolves once that
    /// transaction has committed. An `Err` from `f` rolls back only `f`'s own
    /// changes (a savepoint), never its neighbours'.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer<'_>) -> Result<T> + Send + 'static,
    {
        self.write_keyed(None, f).await
    }

    /// [`Store::write`] for a request sent with an `Idempotency-Key`: the key
    /// is recorded in the same transaction as `f`'s effect, so a crash
    /// between the commit and storing the answer still leaves proof that the
    /// effect happened.
    pub async fn write_keyed<T, F>(
        &self,
        keyed: Option<Arc<idempotency::KeyedRequest>>,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |w| {
            let out = match w {
                // A bug in one job must not take the writer (and every later
                // write) down: the panic becomes this caller's error and its
                // savepoint is rolled back like any other failure.
                Ok(w) => catch_unwind(AssertUnwindSafe(|| {
                    let out = f(w)?;
                    if let Some(k) = &keyed {
                        idempotency::record_effect(w, k)?;
                    }
                    Ok(out)
                }))
                .unwrap_or_else(|_| {
                    tracing::error!("a write job panicked; its changes are rolled back");
                    Err(Error::Commit(
                        "the write failed on an internal error".into(),
                    ))
                }),
                Err(e) => Err(Error::Commit(e.to_string())),
            };
            let ok = out.is_ok();
            let done: Completion = Box::new(move |commit_error| {
                let result = match commit_error {
                    None => out,
                    Some(e) => Err(Error::Commit(e.to_string())),
                };
                let _ = reply.send(result);
            });
            (ok, done)
        });
        {
            let guard = self.inner.jobs.lock().map_err(|_| Error::Closed)?;
            let sender = guard.as_ref().ok_or(Error::Closed)?;
            self.inner.stats.enqueued();
            sender.send(job).map_err(|_| Error::Closed)?;
        }
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Runs `f` on a read connection in a blocking thread.
    ///
    /// The caller may be cancelled at any await (a client hangs up, a browser
    /// aborts a request): the permit and the connection therefore belong to
    /// the blocking task, which hands both back when `f` is done, never to
    /// the future, which may be dropped halfway.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.readers.permits)
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = inner
                .readers
                .conns
                .lock()
                .map_err(|_| Error::Closed)?
                .pop()
                .ok_or(Error::Closed)?;
            // The connection always goes back to the pool, even if `f` panics.
            let out = catch_unwind(AssertUnwindSafe(|| f(&conn))).unwrap_or_else(|_| {
                tracing::error!("a read panicked");
                Err(Error::Commit("the read failed on an internal error".into()))
            });
            if let Ok(mut pool) = inner.readers.conns.lock() {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(|e| Error::Commit(format!("read task failed: {e}")))?
    }

    /// Stops taking writes, commits what is queued and joins the writer.
    pub async fn close(&self) {
        let checkpointer = self
            .inner
            .checkpointer
            .lock()
            .ok()
            .and_then(|mut g| g.take());
        if let Some((stop, handle)) = checkpointer {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        let sender = self.inner.jobs.lock().ok().and_then(|mut g| g.take());
        drop(sender);
        let handle = self.inner.writer.lock().ok().and_then(|mut g| g.take());
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies the WAL back into the database in the background (PASSIVE: it
/// never blocks the writer or readers), keeping commits free of that work.
fn spawn_checkpointer(path: &Path) -> Result<(std::sync::mpsc::Sender<()>, JoinHandle<()>)> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("callboard-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        })
        .map_err(|e| Error::Commit(format!("cannot start the checkpoint thread: {e}")))?;
    Ok((stop, handle))
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    hub: Hub,
    clock: SharedClock,
    providers: ProviderCache,
    deadlines: Arc<Notify>,
    stats: Arc<health::WriterStats>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.batch(batch.len());
        let ok = run_batch(&mut conn, &mut batch, &hub, &clock, &providers, &deadlines);
        stats.committed(ok);
    }
    // Leave a tidy file behind for the next start.
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    tracing::debug!("writer stopped");
}

fn run_batch(
    conn: &mut Connection,
    batch: &mut Vec<Job>,
    hub: &Hub,
    clock: &SharedClock,
    providers: &ProviderCache,
    deadlines: &Arc<Notify>,
) -> bool {
    let now = clock.now();
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let msg = format!("cannot begin a write transaction: {e}");
            tracing::error!(error = %msg, "write batch refused");
            for job in batch.drain(..) {
                let (_, done) = job(Err(&msg));
                done(Some(&msg));
            }
            return false;
        }
    };
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let (events, after_commit) = {
        let mut w = Writer {
            conn: &tx,
            now,
            events: Vec::new(),
            after_commit: Vec::new(),
            providers,
            deadlines,
        };
        for job in batch.drain(..) {
            if let Err(e) = exec_cached(w.conn, "SAVEPOINT job") {
                tracing::error!(error = %e, "savepoint failed");
            }
            let events_mark = w.events.len();
            let hooks_mark = w.after_commit.len();
            let (ok, done) = job(Ok(&mut w));
            let end = if ok {
                exec_cached(w.conn, "RELEASE job")
            } else {
                w.events.truncate(events_mark);
                w.after_commit.truncate(hooks_mark);
                exec_cached(w.conn, "ROLLBACK TO job")
                    .and_then(|_| exec_cached(w.conn, "RELEASE job"))
            };
            if let Err(e) = end {
                tracing::error!(error = %e, "savepoint end failed");
            }
            completions.push(done);
        }
        (w.events, w.after_commit)
    };
    match tx.commit() {
        Ok(()) => {
            for hook in after_commit {
                hook();
            }
            for event in events {
                hub.publish(event);
            }
            for done in completions {
                done(None);
            }
            true
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::error!(error = %msg, jobs = completions.len(), "group commit failed");
            for done in completions {
                done(Some(&msg));
            }
            false
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute([])
}

/// Rows every new database starts with.
fn seed(conn: &Connection, now: Timestamp) -> Result<()> {
    let seeded: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = 'seeded'", [], |r| {
            r.get(0)
        })
        .ok();
    if seeded.is_some() {
        return Ok(());
    }
    let at = time::fmt(now);
    let defaults: [(&str, &[&str]); 5] = [
        (
            "Callback done",
            &["Issue resolved", "Information given", "Follow-up needed"],
        ),
        ("Not reachable", &["No answer", "Switched off", "Busy"]),
        ("Wrong number", &[]),
        (
            "Sales enquiry",
            &["New order", "Pricing", "Product information"],
        ),
        ("Support", &["Complaint", "Technical issue", "Billing"]),
    ];
    for (i, (name, subs)) in defaults.iter().enumerate() {
        conn.execute(
            "INSERT INTO categories (department, name, sub_categories, display_order, created_at, updated_at)
             VALUES (NULL, ?1, ?2, ?3, ?4, ?4)",
            rusqlite::params![name, serde_json::to_string(subs)?, i as i64, at],
        )?;
    }
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('seeded', ?1)",
        [at],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// An empty database with every migration applied, in memory.
    pub fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate::run(&mut conn).unwrap();
        conn
    }

    /// SQLite's plan for `sql` with `params`, its steps joined by ` | `.
    pub fn query_plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps: Vec<String> = stmt
            .query_map(params, |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        steps.join(" | ")
    }

    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("callboard.db"), time::system_clock()).unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::temp_store;
    use super::*;
    use crate::hub::Audience;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_rolls_back_alone_and_commits_publish_in_order() {
        let (_dir, store) = temp_store();
        let mut rx = store.hub().subscribe();
        let mut handles = Vec::new();
        for i in 0..200i64 {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                s.write(move |w| {
                    w.emit(
                        crate::hub::EventKind::Reload,
                        None,
                        Audience::All,
                        format!("{{\"i\":{i}}}"),
                    )?;
                    if i % 10 == 0 {
                        return Err(Error::invalid("boom"));
                    }
                    Ok(i)
                })
                .await
            }));
        }
        let mut ok = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::Invalid(m)) => assert_eq!(m, "boom"),
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(ok, 180);
        let logged: i64 = store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM event_log", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(logged, 180, "failed jobs left nothing behind");
        let mut last = 0;
        for _ in 0..180 {
            let ev = rx.recv().await.unwrap();
            assert!(ev.seq > last, "published in seq order");
            last = ev.seq;
        }
        assert_eq!(store.hub().head(), last);
        store.close().await;
        assert!(matches!(store.write(|_| Ok(())).await, Err(Error::Closed)));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_survives() {
        let (_dir, store) = temp_store();
        let boom = store
            .write(|w| -> Result<()> {
                w.emit(
                    crate::hub::EventKind::Reload,
                    None,
                    Audience::All,
                    "{}".into(),
                )?;
                panic!("bug in a job")
            })
            .await;
        assert!(boom.is_err());
        let seq = store
            .write(|w| {
                w.emit(
                    crate::hub::EventKind::Reload,
                    None,
                    Audience::All,
                    "{}".into(),
                )
            })
            .await
            .unwrap();
        assert_eq!(seq, 1, "the panicking job's event was rolled back");
    }

    #[tokio::test]
    async fn a_panicking_read_keeps_its_connection_in_the_pool() {
        let (_dir, store) = temp_store();
        for _ in 0..READERS {
            let r: Result<()> = store.read(|_| panic!("bug in a read")).await;
            assert!(r.is_err());
        }
        let n = store
            .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .unwrap();
        assert_eq!(n, 1, "every connection came back");
    }

    /// A browser that aborts a request drops the read's future halfway: the
    /// connection must still come back, or the pool empties and every later
    /// read fails.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_read_returns_its_connection() {
        let (_dir, store) = temp_store();
        for _ in 0..READERS * 3 {
            let slow = store.read(|c| {
                std::thread::sleep(std::time::Duration::from_millis(30));
                Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)
            });
            let r = tokio::time::timeout(std::time::Duration::from_millis(2), slow).await;
            assert!(r.is_err(), "the read was cancelled");
        }
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..READERS * 2 {
            let store = store.clone();
            reads.spawn(async move {
                store
                    .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
                    .await
            });
        }
        while let Some(r) = reads.join_next().await {
            assert_eq!(r.unwrap().unwrap(), 1);
        }
    }

    #[tokio::test]
    async fn seeds_global_categories_once() {
        let (dir, store) = temp_store();
        let n = store
            .read(|c| Ok(categories::list(c, None, false)?.len()))
            .await
            .unwrap();
        assert_eq!(n, 5);
        store.close().await;
        let again = Store::open(dir.path().join("callboard.db"), time::system_clock()).unwrap();
        let n = again
            .read(|c| Ok(categories::list(c, None, false)?.len()))
            .await
            .unwrap();
        assert_eq!(n, 5);
    }
}
