//! The store: one writer thread that owns the write connection and commits
//! whatever arrives together in one transaction (group commit), and a small
//! pool of read connections used from blocking threads. No rusqlite call runs
//! on a tokio worker thread.

pub mod agent_board;
pub mod agent_calls;
pub mod agents;
pub mod agents_map;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod callbacks;
pub mod calls;
pub mod categories;
mod checkpoint;
pub mod cluster;
pub mod connectors;
pub mod contacts;
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
pub mod lead_deliveries;
pub mod leads;
pub mod metrics;
pub mod migrate;
pub mod providers;
pub mod queue_order;
pub mod queue_waits;
pub mod recording_fetches;
pub mod refusals;
pub mod repeat_callers;
pub mod replica;
pub mod retention;
pub mod search;
pub mod sms;
pub mod stats;
pub mod thresholds;
pub mod totp;
pub mod users;
pub mod voicemails;
pub mod workflow;

/// What `Store::read` hands its closures (named by callers that keep one).
pub use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::hub::{Event, Hub};
use crate::time::{self, SharedClock, Timestamp};
use rusqlite::{OpenFlags, TransactionBehavior};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot, watch, Notify, Semaphore};

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
    /// Set when a job queued a text: the sender is woken once committed.
    sms_queued: AtomicBool,
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

    /// Tells the text sender, once committed, that a text was queued.
    pub(crate) fn sms_queued(&self) {
        self.sms_queued.store(true, Ordering::Relaxed);
    }
}

/// Why a batch did not commit: told to each of its jobs.
#[derive(Debug, Clone)]
enum Failure {
    /// SQLite would not begin or commit.
    Commit(String),
    /// The cluster's PostgreSQL would not take the batch (nothing stored).
    Cluster(String),
}

impl Failure {
    fn error(&self) -> Error {
        match self {
            Failure::Commit(m) => Error::Commit(m.clone()),
            Failure::Cluster(m) => Error::Cluster(m.clone()),
        }
    }

    fn of(e: &Error) -> Failure {
        match e {
            Error::Cluster(m) => Failure::Cluster(m.clone()),
            other => Failure::Commit(other.to_string()),
        }
    }
}

type Completion = Box<dyn FnOnce(Option<&Failure>) + Send>;
/// A job runs inside the batch's transaction, or is told why there is none.
type Job = Box<dyn FnOnce(Result<&mut Writer<'_>, &Failure>) -> (bool, Completion) + Send>;

/// What the writer thread is asked to do.
enum Msg {
    Job(Job),
    /// Apply what other cluster instances appended to the log.
    Follow,
}

/// A cluster member's background sessions (leader lock, log listener).
struct ClusterParts {
    url: String,
    status: Arc<cluster::ClusterStatus>,
    closing: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct ReadPool {
    conns: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

struct Inner {
    jobs: Mutex<Option<mpsc::UnboundedSender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Mutex<Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>>,
    readers: ReadPool,
    hub: Hub,
    clock: SharedClock,
    providers: ProviderCache,
    deadlines: Arc<Notify>,
    sms: Arc<Notify>,
    path: PathBuf,
    stats: Arc<health::WriterStats>,
    /// True while this instance should run the jobs that must run once: always
    /// on one machine; in a cluster, while it holds the leader lock.
    leader: watch::Receiver<bool>,
    /// Keeps a single machine's `leader` channel open.
    _leader_tx: watch::Sender<bool>,
    cluster: Option<ClusterParts>,
    /// The metrics' sums of past reports (`metrics::QuarterCache`).
    metrics: Arc<metrics::QuarterCache>,
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
        Store::open_with(path, clock, None)
    }

    /// [`Store::open`], as a member of the cluster on `cluster`'s PostgreSQL
    /// when given: the local copy is brought to the cluster's state (from its
    /// snapshot when it cannot follow the log), or founds the cluster.
    pub fn open_with(
        path: impl AsRef<Path>,
        clock: SharedClock,
        cluster: Option<cluster::ClusterConfig>,
    ) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let mut link = match cluster {
            Some(c) => {
                let mut link = cluster::Link::connect(c)?;
                link.prepare_local(&path)?;
                Some(link)
            }
            None => None,
        };
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
        // An acknowledgement means the delivery survives the machine going
        // down, not only this process: the writer syncs the WAL at each
        // commit (a group commit shares one sync among its batch). With
        // NORMAL a committed batch, its 2xx sent, could vanish in a power
        // cut or an OS crash. (A sync costs 0.1–0.3 ms here; BENCHMARKS.md.)
        wconn.pragma_update(None, "synchronous", "FULL")?;
        // Checkpoints run on their own thread (`checkpoint`), not inside a
        // commit; the file is cut back when the WAL starts again.
        wconn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // A call's update sets only the columns its event changed
        // (`calls::update_changed`): one statement per set of columns, and a
        // platform's events come in a few such sets, beside every other
        // write's statements.
        wconn.set_prepared_statement_cache_capacity(256);
        wconn.pragma_update(None, "journal_size_limit", checkpoint::WAL_KEEP_BYTES)?;
        migrate::run(&mut wconn)?;
        // Calls written into the file outside the writer (a bench, a test)
        // are searchable from the start; in one transaction, as the writer's.
        let tx = wconn.unchecked_transaction()?;
        search::flush(&tx)?;
        tx.commit()?;
        seed(&wconn, clock.now())?;
        match link.as_mut() {
            Some(link) => link.join(&wconn)?,
            // A cluster instance's copy opened on its own becomes a database
            // of its own: it no longer claims a place in the log, so joining
            // again reloads the cluster's snapshot instead of mixing them.
            None => {
                if let Some((id, head)) = cluster::read_state(&wconn)? {
                    tracing::warn!(cluster = %id, head, "this copy of a cluster now runs on its own: it leaves the cluster");
                    wconn.execute("DELETE FROM cluster_state", [])?;
                }
            }
        }

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            c.set_prepared_statement_cache_capacity(64);
            // 1 MiB of pages each, not SQLite's 2 MiB: the OS caches the
            // file anyway, and with four readers' 8 MiB the server came
            // within 0.1 MiB of its 60 MiB bound at a year of calls
            // (BENCHMARKS.md).
            c.pragma_update(None, "cache_size", -1024)?;
            readers.push(c);
        }

        let head: i64 =
            wconn.query_row("SELECT COALESCE(MAX(seq), 0) FROM event_log", [], |r| {
                r.get(0)
            })?;
        let hub = Hub::new(HUB_CAPACITY, head);
        let providers = ProviderCache::load(&wconn)?;

        let (tx, rx) = mpsc::unbounded_channel::<Msg>();
        let (leader_tx, leader) = watch::channel(link.is_none());
        let parts = match &link {
            Some(l) => Some(start_cluster_threads(l, &tx, leader_tx.clone())?),
            None => None,
        };
        let writer_hub = hub.clone();
        let writer_clock = clock.clone();
        let writer_providers = providers.clone();
        let deadlines = Arc::new(Notify::new());
        let writer_deadlines = Arc::clone(&deadlines);
        let sms = Arc::new(Notify::new());
        let writer_sms = Arc::clone(&sms);
        let stats = Arc::new(health::WriterStats::default());
        let writer_stats = Arc::clone(&stats);
        let wal_restart = Arc::new(AtomicBool::new(false));
        let writer_wal_restart = Arc::clone(&wal_restart);
        let handle = std::thread::Builder::new()
            .name("callboard-writer".into())
            .spawn(move || {
                writer_loop(
                    wconn,
                    rx,
                    Shared {
                        hub: writer_hub,
                        clock: writer_clock,
                        providers: writer_providers,
                        deadlines: writer_deadlines,
                        sms: writer_sms,
                        stats: writer_stats,
                        wal_restart: writer_wal_restart,
                    },
                    link,
                )
            })
            .map_err(|e| Error::Commit(format!("cannot start the writer thread: {e}")))?;

        let checkpointer = checkpoint::spawn(&path, wal_restart)?;

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
                sms,
                path,
                stats,
                leader,
                _leader_tx: leader_tx,
                cluster: parts,
                metrics: Arc::default(),
            }),
        })
    }

    /// Whether this instance runs the jobs that must run once (SLA breaches,
    /// retention, pollers, senders): changes as a cluster's leader moves.
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.inner.leader.clone()
    }

    /// In a cluster: stores a snapshot of this copy in PostgreSQL and lets the
    /// log entries only the previous snapshot needed go (the leader does this
    /// every [`cluster::SNAPSHOT_EVERY`]). None on a single machine.
    pub async fn compact_cluster(&self) -> Result<Option<cluster::Compacted>> {
        let Some(url) = self.inner.cluster.as_ref().map(|c| c.url.clone()) else {
            return Ok(None);
        };
        let path = self.inner.path.clone();
        tokio::task::spawn_blocking(move || cluster::compact(&path, &url))
            .await
            .map_err(|e| Error::Commit(format!("snapshot task failed: {e}")))?
            .map(Some)
    }

    /// The cluster this instance belongs to, if any: how far it has followed
    /// the log, whether it reaches PostgreSQL and leads.
    pub fn cluster_status(&self) -> Option<Arc<cluster::ClusterStatus>> {
        self.inner.cluster.as_ref().map(|c| Arc::clone(&c.status))
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

    /// What the metrics keep between reports on this database.
    pub fn metrics_cache(&self) -> Arc<metrics::QuarterCache> {
        Arc::clone(&self.inner.metrics)
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

    /// Signalled after a commit that queued a text in the SMS outbox (here,
    /// or in a cluster by another instance).
    pub fn sms_queued(&self) -> &Arc<Notify> {
        &self.inner.sms
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
                Err(e) => Err(e.error()),
            };
            let ok = out.is_ok();
            let done: Completion = Box::new(move |failure| {
                let result = match failure {
                    None => out,
                    Some(f) => Err(f.error()),
                };
                let _ = reply.send(result);
            });
            (ok, done)
        });
        {
            let guard = self.inner.jobs.lock().map_err(|_| Error::Closed)?;
            let sender = guard.as_ref().ok_or(Error::Closed)?;
            self.inner.stats.enqueued();
            sender.send(Msg::Job(job)).map_err(|_| Error::Closed)?;
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
        if let Some(c) = &self.inner.cluster {
            c.closing.store(true, Ordering::Release);
            let threads: Vec<JoinHandle<()>> = c
                .threads
                .lock()
                .map(|mut t| t.drain(..).collect())
                .unwrap_or_default();
            let _ = tokio::task::spawn_blocking(move || {
                for t in threads {
                    let _ = t.join();
                }
            })
            .await;
        }
    }
}

/// What the writer thread shares with the rest of the store.
struct Shared {
    hub: Hub,
    clock: SharedClock,
    providers: ProviderCache,
    deadlines: Arc<Notify>,
    sms: Arc<Notify>,
    stats: Arc<health::WriterStats>,
    /// Set by the checkpointer when the WAL should start again.
    wal_restart: Arc<AtomicBool>,
}

impl Shared {
    fn followers(&self) -> cluster::Followers<'_> {
        cluster::Followers {
            hub: &self.hub,
            providers: &self.providers,
            deadlines: &self.deadlines,
            sms: &self.sms,
        }
    }
}

/// The leader lock's session and the log listener, both on their own threads.
fn start_cluster_threads(
    link: &cluster::Link,
    jobs: &mpsc::UnboundedSender<Msg>,
    leader: watch::Sender<bool>,
) -> Result<ClusterParts> {
    let closing = Arc::new(AtomicBool::new(false));
    let pending = Arc::clone(&link.follow_pending);
    let status = Arc::clone(&link.status);
    let thread_err =
        |e: std::io::Error| Error::Commit(format!("cannot start a cluster thread: {e}"));
    let leadership = cluster::leader::spawn_leadership(
        link.url().to_string(),
        leader,
        Arc::clone(&status),
        Arc::clone(&closing),
    )
    .map_err(thread_err)?;
    // Weak: the listener must not keep the writer's queue open after close.
    let weak = jobs.downgrade();
    let flag = Arc::clone(&pending);
    let listener = cluster::leader::spawn_listener(
        link.url().to_string(),
        move || {
            let Some(jobs) = weak.upgrade() else {
                return false;
            };
            if !flag.swap(true, Ordering::AcqRel) {
                return jobs.send(Msg::Follow).is_ok();
            }
            true
        },
        Arc::clone(&closing),
    )
    .map_err(thread_err)?;
    Ok(ClusterParts {
        url: link.url().to_string(),
        status,
        closing,
        threads: Mutex::new(vec![leadership, listener]),
    })
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    shared: Shared,
    mut cluster: Option<cluster::Link>,
) {
    // A cluster member first catches up with what was appended while it was away.
    if let Some(link) = cluster.as_mut() {
        if let Err(e) = link.follow(&mut conn, &shared.followers()) {
            tracing::error!(error = %e, "cannot follow the cluster's log");
        }
    }
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // The same failure once a second is one log line, not one a second.
    let mut last_follow_error: Option<String> = None;
    while let Some(first) = rx.blocking_recv() {
        match first {
            Msg::Job(job) => batch.push(job),
            Msg::Follow => {
                if let Some(link) = cluster.as_mut() {
                    link.follow_taken();
                    match link.follow(&mut conn, &shared.followers()) {
                        Ok(()) => {
                            if last_follow_error.take().is_some() {
                                tracing::info!("following the cluster's log again");
                            }
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            if last_follow_error.as_deref() != Some(msg.as_str()) {
                                tracing::warn!(error = %msg, "cannot follow the cluster's log");
                                last_follow_error = Some(msg);
                            }
                        }
                    }
                }
                continue;
            }
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => batch.push(job),
                // The batch catches up with the log anyway.
                Ok(Msg::Follow) => {
                    if let Some(link) = cluster.as_ref() {
                        link.follow_taken();
                    }
                }
                Err(_) => break,
            }
        }
        let link = cluster.as_mut();
        let ok = run_batch(&mut conn, &mut batch, &mut rx, &shared, link);
        shared.stats.committed(ok);
        checkpoint::finish_for_restart(&conn, &shared.wal_restart);
    }
    // Leave a tidy file behind for the next start.
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    tracing::debug!("writer stopped");
}

/// Tells every job of a batch that ran but did not commit that it failed.
fn tell_failed(completions: Vec<Completion>, failure: &Failure) {
    for done in completions {
        done(Some(failure));
    }
}

fn refuse_all(batch: &mut Vec<Job>, failure: &Failure) {
    for job in batch.drain(..) {
        let (_, done) = job(Err(failure));
        done(Some(failure));
    }
}

fn run_batch(
    conn: &mut Connection,
    batch: &mut Vec<Job>,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    shared: &Shared,
    mut link: Option<&mut cluster::Link>,
) -> bool {
    // In a cluster, the sequencer first: the copy is then up to date and no
    // other instance commits until this batch is in the log.
    let seq = match link.as_deref_mut() {
        Some(l) => match l.begin(conn, &shared.followers()) {
            Ok(seq) => {
                // What arrived while another instance held the sequencer
                // joins this batch: under contention, fewer and fuller
                // batches, so fewer hand-overs of the lock.
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Msg::Job(job)) => batch.push(job),
                        Ok(Msg::Follow) => l.follow_taken(),
                        Err(_) => break,
                    }
                }
                Some(seq)
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = batch.len(), "the cluster refused the write batch");
                refuse_all(batch, &Failure::of(&e));
                return false;
            }
        },
        None => None,
    };
    shared.stats.batch(batch.len());
    let now = shared.clock.now();
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let msg = format!("cannot begin a write transaction: {e}");
            tracing::error!(error = %msg, "write batch refused");
            if let Some(l) = link.as_deref_mut() {
                let _ = l.rollback();
            }
            refuse_all(batch, &Failure::Commit(msg));
            return false;
        }
    };
    let before = match seq
        .as_ref()
        .map(|_| cluster::changes::sequences(&tx))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            drop(tx);
            if let Some(l) = link.as_deref_mut() {
                let _ = l.rollback();
            }
            refuse_all(batch, &Failure::of(&e));
            return false;
        }
    };
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let recorded = {
        let mut session = match seq
            .as_ref()
            .map(|_| cluster::changes::record(&tx))
            .transpose()
        {
            Ok(s) => s,
            Err(e) => {
                if let Some(l) = link.as_deref_mut() {
                    let _ = l.rollback();
                }
                refuse_all(batch, &Failure::of(&e));
                return false;
            }
        };
        let mut w = Writer {
            conn: &tx,
            now,
            events: Vec::new(),
            after_commit: Vec::new(),
            providers: &shared.providers,
            deadlines: &shared.deadlines,
            sms_queued: AtomicBool::new(false),
        };
        for job in batch.drain(..) {
            if let Err(e) = exec_cached(w.conn, "SAVEPOINT job") {
                tracing::error!(error = %e, "savepoint failed");
            }
            let events_mark = w.events.len();
            let hooks_mark = w.after_commit.len();
            let sms_mark = w.sms_queued.load(Ordering::Relaxed);
            let (ok, done) = job(Ok(&mut w));
            let end = if ok {
                exec_cached(w.conn, "RELEASE job")
            } else {
                w.events.truncate(events_mark);
                w.after_commit.truncate(hooks_mark);
                w.sms_queued.store(sms_mark, Ordering::Relaxed);
                exec_cached(w.conn, "ROLLBACK TO job")
                    .and_then(|_| exec_cached(w.conn, "RELEASE job"))
            };
            if let Err(e) = end {
                tracing::error!(error = %e, "savepoint end failed");
            }
            completions.push(done);
        }
        // The search index's entries for the batch's calls, in one write
        // (`search::flush`) rather than one per job.
        let indexed = search::flush(w.conn);
        let entry = session
            .as_mut()
            .map(|s| cluster::changes::take(s, &tx))
            .transpose();
        if w.sms_queued.into_inner() {
            let n = Arc::clone(&shared.sms);
            w.after_commit.push(Box::new(move || n.notify_one()));
        }
        (w.events, w.after_commit, entry, indexed)
    };
    let (events, after_commit, entry, indexed) = recorded;
    if let Err(e) = indexed {
        drop(tx);
        if let Some(l) = link.as_deref_mut() {
            let _ = l.rollback();
        }
        tracing::error!(error = %e, jobs = completions.len(), "the batch's search entries could not be written");
        tell_failed(completions, &Failure::of(&e));
        return false;
    }
    // The batch's changes go to the shared log before SQLite commits: if
    // PostgreSQL refuses, nothing is committed anywhere and every job fails.
    let mut appended = None;
    if let (Some(l), Some(seq)) = (link.as_deref_mut(), seq.as_ref()) {
        let shipped = match entry {
            Ok(Some(entry)) if !entry.is_empty() || Some(&entry.sequences) != before.as_ref() => {
                cluster::write_state(&tx, l.cluster_id(), seq.next)
                    .and_then(|_| l.commit(seq, &entry))
                    .map(|_| true)
            }
            Ok(_) => l.rollback().map(|_| false),
            Err(e) => {
                let _ = l.rollback();
                Err(e)
            }
        };
        match shipped {
            Ok(true) => appended = Some(seq),
            Ok(false) => {}
            Err(e) => {
                drop(tx);
                tracing::error!(error = %e, jobs = completions.len(), "the batch could not be stored in the cluster's log");
                tell_failed(completions, &Failure::of(&e));
                return false;
            }
        }
    }
    let committing = std::time::Instant::now();
    match tx.commit() {
        Ok(()) => {
            let took = committing.elapsed();
            if shared.stats.commit_took(took) {
                tracing::warn!(
                    ms = took.as_millis() as u64,
                    jobs = completions.len(),
                    "a slow commit: the disk was slow to write and sync the WAL, and every write of the batch waited for it"
                );
            }
            if let (Some(l), Some(seq)) = (link, appended) {
                l.committed_locally(seq);
            }
            for hook in after_commit {
                hook();
            }
            for event in events {
                shared.hub.publish(event);
            }
            for done in completions {
                done(None);
            }
            true
        }
        Err(e) => {
            // In a cluster the batch is in the log already: the next follow
            // applies it here (its jobs are told it failed; retries dedupe).
            let msg = e.to_string();
            tracing::error!(error = %msg, jobs = completions.len(), "group commit failed");
            tell_failed(completions, &Failure::Commit(msg));
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

    /// [`migrated`] with a provider (department) for each slug, ids from 1.
    pub fn with_departments(slugs: &[&str]) -> Connection {
        let conn = migrated();
        for slug in slugs {
            conn.execute(
                "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
                 VALUES (?1, ?1, 'h', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
                [slug],
            )
            .unwrap();
        }
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

    /// Creates the department (provider) `name`, as an admin would.
    pub fn create_department(w: &mut Writer<'_>, name: &str) -> Result<()> {
        let actor = super::audit::Actor {
            user_id: None,
            name: "t".into(),
        };
        let new = super::providers::NewProvider {
            name: name.into(),
            ..Default::default()
        };
        super::providers::create(w, new, &actor)?;
        Ok(())
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

    #[tokio::test]
    async fn the_writer_syncs_every_commit() {
        let (_dir, store) = temp_store();
        let writer: i64 = store
            .write(|w| Ok(w.conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?))
            .await
            .unwrap();
        // 2 = FULL: the WAL is synced before a commit returns, so before
        // any acknowledgement goes out.
        assert_eq!(writer, 2);
    }

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
            // Far longer than the 2 ms allowed, so that a runtime starved by a
            // loaded machine still cancels before the read could finish.
            let slow = store.read(|c| {
                std::thread::sleep(std::time::Duration::from_millis(250));
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
