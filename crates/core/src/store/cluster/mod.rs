//! Several receivers on one PostgreSQL (`serve --database-url`).
//!
//! Each instance keeps its own SQLite copy, which every read and every rule
//! of the store runs on unchanged; PostgreSQL holds the one ordered log of
//! what was committed, and the snapshots new instances start from. A write
//! batch takes the log's sequencer (a row lock), first applies whatever
//! other instances appended, runs its jobs, and appends its own changes
//! before it answers: a 2xx means the change is in PostgreSQL. Because
//! batches are serialised cluster-wide and each runs on an up-to-date copy,
//! duplicate deliveries, forward-only statuses and older-event merging
//! behave exactly as on one machine, and the event log's seq numbers are the
//! same on every instance, so `since` resumes anywhere. Idle instances follow
//! the log on `NOTIFY` (and once a second, should a notification be lost).

pub mod changes;
pub mod leader;
pub mod log;
pub mod snapshot;
pub mod storage;
pub mod tls;

use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::store::{events, migrate, ProviderCache};
use changes::Entry;
use postgres::Client;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Entries fetched per round trip while catching up.
const PAGE: i64 = 512;

/// Where the cluster's PostgreSQL is, and what this instance calls itself in
/// the log (host name and process id unless set).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub url: String,
    pub origin: String,
}

impl ClusterConfig {
    pub fn new(url: impl Into<String>) -> ClusterConfig {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "callboard".into());
        ClusterConfig {
            url: url.into(),
            origin: format!("{host}:{}", std::process::id()),
        }
    }
}

/// What this instance knows of the cluster, for `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct ClusterStatus {
    /// The last log entry applied to this copy.
    pub applied: AtomicI64,
    /// Whether the writer's connection to PostgreSQL is up.
    pub connected: AtomicBool,
    /// Whether this instance holds the leader lock (runs the once-only jobs).
    pub leader: AtomicBool,
    /// Why the last write to the log failed, until one succeeds.
    pub last_error: Mutex<Option<String>>,
}

impl ClusterStatus {
    fn failed(&self, e: &Error) {
        self.connected.store(false, Ordering::Release);
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(e.to_string());
        }
    }

    fn ok(&self) {
        self.connected.store(true, Ordering::Release);
        if let Ok(mut last) = self.last_error.lock() {
            *last = None;
        }
    }

    pub fn error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|l| l.clone())
    }
}

/// The writer's side of the cluster: its PostgreSQL session and how far its
/// copy has followed the log.
pub(crate) struct Link {
    config: ClusterConfig,
    client: Option<Client>,
    cluster_id: String,
    sqlite_schema: i64,
    pub(crate) applied: i64,
    /// Set when this copy can no longer follow (it diverged, or fell behind
    /// the retained log): writes are refused until it is restarted.
    broken: Option<String>,
    pub(crate) status: Arc<ClusterStatus>,
    /// A wake-up from the listener is queued and not yet handled: one is enough.
    pub(crate) follow_pending: Arc<AtomicBool>,
}

impl Link {
    /// Connects and brings the tables up to date.
    pub(crate) fn connect(config: ClusterConfig) -> Result<Link> {
        let mut client = log::connect(&config.url)?;
        log::migrate(&mut client)?;
        Ok(Link {
            config,
            client: Some(client),
            cluster_id: String::new(),
            sqlite_schema: migrate::known_version(),
            applied: 0,
            broken: None,
            status: Arc::new(ClusterStatus::default()),
            follow_pending: Arc::new(AtomicBool::new(false)),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.config.url
    }

    fn client(&mut self) -> Result<&mut Client> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = None;
            self.client = Some(log::connect(&self.config.url)?);
        }
        self.client
            .as_mut()
            .ok_or_else(|| Error::Cluster("not connected".into()))
    }

    /// Before the local database is opened: holds the start-up lock, and
    /// replaces the local copy with the newest snapshot when it cannot
    /// follow the log from where it is.
    pub(crate) fn prepare_local(&mut self, path: &Path) -> Result<()> {
        let client = self.client()?;
        client.execute("SELECT pg_advisory_lock($1)", &[&log::INIT_KEY])?;
        let Some(row) = log::cluster(client)? else {
            return refuse_unsuitable_founder(path);
        };
        check_schema(row.sqlite_schema)?;
        let local = local_position(path)?;
        let oldest = log::oldest(client)?;
        let usable = match &local {
            Some((id, head, version)) => {
                *id == row.cluster_id
                    && *version == row.sqlite_schema
                    && *head <= row.head
                    && (*head == row.head || oldest.is_some_and(|o| o <= head + 1))
            }
            None => false,
        };
        if usable {
            return Ok(());
        }
        let snap = snapshot::latest(client)?
            .ok_or_else(|| Error::Cluster("the cluster holds no snapshot to start from".into()))?;
        if snap.sqlite_schema != row.sqlite_schema {
            return Err(Error::Cluster(format!(
                "the newest snapshot is of schema v{}, the cluster of v{}",
                snap.sqlite_schema, row.sqlite_schema
            )));
        }
        let download = sibling(path, "cluster-download");
        let _ = std::fs::remove_file(&download);
        tracing::info!(
            snapshot = snap.id,
            head = snap.head,
            bytes = snap.bytes,
            "loading the cluster's snapshot"
        );
        snapshot::download(client, &snap, &download)?;
        if path.exists() {
            let aside = sibling(path, "before-cluster");
            std::fs::rename(path, &aside).map_err(|e| {
                Error::Cluster(format!(
                    "cannot move the old copy aside to {}: {e}",
                    aside.display()
                ))
            })?;
            tracing::warn!(kept = %aside.display(), "this instance's copy could not follow the log: replaced by the snapshot");
        }
        for ext in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(with_suffix(path, ext));
        }
        std::fs::rename(&download, path)
            .map_err(|e| Error::Cluster(format!("cannot install the snapshot: {e}")))?;
        Ok(())
    }

    /// After the local database is open: founds the cluster from it when
    /// there is none yet, else reads how far it has followed. Releases the
    /// start-up lock.
    pub(crate) fn join(&mut self, conn: &Connection) -> Result<()> {
        let out = self.join_locked(conn);
        if let Some(c) = self.client.as_mut() {
            let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&log::INIT_KEY]);
        }
        out
    }

    fn join_locked(&mut self, conn: &Connection) -> Result<()> {
        let url = self.config.url.clone();
        let client = self.client()?;
        match log::cluster(client)? {
            Some(row) => {
                let (id, head) = read_state(conn)?.ok_or_else(|| {
                    Error::Cluster("the local copy has no cluster position".into())
                })?;
                if id != row.cluster_id {
                    return Err(Error::Cluster(format!(
                        "the local copy belongs to cluster {id}, {url} holds {}",
                        row.cluster_id
                    )));
                }
                self.cluster_id = row.cluster_id;
                self.sqlite_schema = row.sqlite_schema;
                self.applied = head;
            }
            None => {
                let id = ulid::Ulid::new().to_string();
                found(client, conn, &id)?;
                tracing::info!(cluster = %id, "founded a new cluster on this database");
                self.cluster_id = id;
                self.applied = 0;
            }
        }
        self.status.applied.store(self.applied, Ordering::Release);
        self.status.ok();
        Ok(())
    }

    /// Fails when this copy can no longer take part.
    fn usable(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::Cluster(why.clone())),
            None => Ok(()),
        }
    }

    fn lost(&mut self, e: Error) -> Error {
        // A failed statement may have left the session mid-transaction or
        // dead: start the next attempt on a fresh one.
        self.client = None;
        self.status.failed(&e);
        e
    }

    /// Applies what other instances appended (outside any batch: followers).
    pub(crate) fn follow(&mut self, conn: &mut Connection, cx: &Followers<'_>) -> Result<()> {
        self.usable()?;
        loop {
            let applied = self.applied;
            let page = match self.client().and_then(|c| log::after(c, applied, PAGE)) {
                Ok(p) => p,
                Err(e) => return Err(self.lost(e)),
            };
            let more = page.len() as i64 == PAGE;
            self.apply_page(conn, page, cx)?;
            if !more {
                return Ok(());
            }
        }
    }

    fn apply_page(
        &mut self,
        conn: &mut Connection,
        page: Vec<(i64, Entry)>,
        cx: &Followers<'_>,
    ) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        let mut providers_touched = false;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut head = self.applied;
        for (seq, entry) in &page {
            if *seq != head + 1 {
                let why = format!(
                    "this instance is at log entry {head} but the log continues at {seq} \
                     (it fell behind what the log keeps): restart it to reload the snapshot"
                );
                self.broken = Some(why.clone());
                return Err(Error::Cluster(why));
            }
            if let Err(e) = changes::apply(&tx, entry) {
                // A conflict means this copy diverged: it stops taking part.
                // Anything else (a full disk) passes: the next follow retries.
                if matches!(e, Error::Cluster(_)) {
                    self.broken = Some(e.to_string());
                }
                return Err(e);
            }
            providers_touched |= changes::touches(entry, "providers");
            head = *seq;
        }
        write_state(&tx, &self.cluster_id, head)?;
        tx.commit()?;
        self.applied = head;
        self.status.applied.store(head, Ordering::Release);
        cx.published(conn, providers_touched)
    }

    /// Opens a batch: takes the sequencer and brings the copy up to its head.
    pub(crate) fn begin(&mut self, conn: &mut Connection, cx: &Followers<'_>) -> Result<Sequencer> {
        self.usable()?;
        let opened = (|| {
            let client = self.client()?;
            client.batch_execute("BEGIN")?;
            let row = log::lock(client)?;
            Ok::<_, Error>(row)
        })();
        let row = match opened {
            Ok(r) => r,
            Err(e) => return Err(self.lost(e)),
        };
        if row.cluster_id != self.cluster_id || row.sqlite_schema != self.sqlite_schema {
            let _ = self.rollback();
            let why = format!(
                "the cluster changed under this instance (now {} at schema v{}): restart it",
                row.cluster_id, row.sqlite_schema
            );
            self.broken = Some(why.clone());
            return Err(Error::Cluster(why));
        }
        while self.applied < row.head {
            let applied = self.applied;
            let page = match self.client().and_then(|c| log::after(c, applied, PAGE)) {
                Ok(p) => p,
                Err(e) => return Err(self.lost(e)),
            };
            if page.is_empty() {
                let _ = self.rollback();
                return Err(Error::Cluster(format!(
                    "the log ends at {applied} but its head says {}",
                    row.head
                )));
            }
            if let Err(e) = self.apply_page(conn, page, cx) {
                let _ = self.rollback();
                return Err(e);
            }
        }
        Ok(Sequencer { next: row.head + 1 })
    }

    /// Appends the batch's changes and commits: durable once this returns.
    pub(crate) fn commit(&mut self, seq: &Sequencer, entry: &Entry) -> Result<()> {
        let origin = self.config.origin.clone();
        let out = (|| {
            let client = self.client()?;
            log::append(client, seq.next, &origin, entry)?;
            client.batch_execute("COMMIT")?;
            Ok::<_, Error>(())
        })();
        match out {
            Ok(()) => {
                self.status.ok();
                Ok(())
            }
            Err(e) => Err(self.lost(e)),
        }
    }

    /// Ends a batch that changed nothing (or failed): the sequencer is free.
    pub(crate) fn rollback(&mut self) -> Result<()> {
        let out = self.client().and_then(|c| Ok(c.batch_execute("ROLLBACK")?));
        out.map_err(|e| self.lost(e))
    }

    /// The batch's own entry is now in the local copy too.
    pub(crate) fn committed_locally(&mut self, seq: &Sequencer) {
        self.applied = seq.next;
        self.status.applied.store(seq.next, Ordering::Release);
    }

    /// The listener's wake-up was taken off the queue (a batch catches up anyway).
    pub(crate) fn follow_taken(&self) {
        self.follow_pending.store(false, Ordering::Release);
    }

    pub(crate) fn cluster_id(&self) -> &str {
        &self.cluster_id
    }
}

/// The log position a batch will append at, while it holds the sequencer.
pub(crate) struct Sequencer {
    pub(crate) next: i64,
}

/// What the follower refreshes after applying others' entries.
pub(crate) struct Followers<'a> {
    pub(crate) hub: &'a Hub,
    pub(crate) providers: &'a ProviderCache,
    pub(crate) deadlines: &'a tokio::sync::Notify,
    /// The text sender's wake-up: another instance may have queued a text.
    pub(crate) sms: &'a tokio::sync::Notify,
}

impl Followers<'_> {
    fn published(&self, conn: &Connection, providers_touched: bool) -> Result<()> {
        if providers_touched {
            self.providers.reload(conn)?;
        }
        loop {
            let batch = events::since(conn, self.hub.head(), 1000)?;
            let n = batch.len();
            for event in batch {
                self.hub.publish(event);
            }
            if n < 1000 {
                break;
            }
        }
        self.deadlines.notify_one();
        self.sms.notify_one();
        Ok(())
    }
}

fn check_schema(cluster: i64) -> Result<()> {
    let known = migrate::known_version();
    if cluster > known {
        return Err(Error::SchemaTooNew {
            found: cluster,
            known,
        });
    }
    if cluster < known {
        return Err(Error::Cluster(format!(
            "the cluster's database is at schema v{cluster} and this build needs v{known}: stop every \
             instance, then run `callboard migrate-storage --upgrade --to <url>` with this build"
        )));
    }
    Ok(())
}

/// A new cluster starts from a fresh database: one that already holds calls
/// is copied with `migrate-storage`, which verifies what it copied.
fn refuse_unsuitable_founder(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let has_calls: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls')",
            [],
            |r| r.get(0),
        )
        .unwrap_or(false)
        && conn
            .query_row("SELECT EXISTS (SELECT 1 FROM calls)", [], |r| r.get(0))
            .unwrap_or(false);
    if has_calls {
        return Err(Error::Conflict(format!(
            "{} already holds calls and the shared database is empty: copy it with \
             `callboard migrate-storage --from <data-dir> --to <url>` (which verifies the copy) first",
            path.display()
        )));
    }
    Ok(())
}

/// (cluster id, applied head, schema version) of an existing local copy.
fn local_position(path: &Path) -> Result<Option<(String, i64, i64)>> {
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_state: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_state')",
        [],
        |r| r.get(0),
    )?;
    if !has_state {
        return Ok(None);
    }
    Ok(read_state(&conn)?.map(|(id, head)| (id, head, version)))
}

pub(crate) fn read_state(conn: &Connection) -> Result<Option<(String, i64)>> {
    Ok(conn
        .query_row(
            "SELECT cluster_id, head FROM cluster_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub(crate) fn write_state(conn: &Connection, cluster_id: &str, head: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cluster_state (id, cluster_id, head) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET cluster_id = excluded.cluster_id, head = excluded.head",
    )?
    .execute(rusqlite::params![cluster_id, head])?;
    Ok(())
}

/// Uploads `conn`'s database as the snapshot at entry 0 and creates the
/// sequencer row: the cluster exists once both are committed.
fn found(client: &mut Client, conn: &Connection, cluster_id: &str) -> Result<()> {
    write_state(conn, cluster_id, 0)?;
    let dir = tempfile_dir(conn)?;
    let file = dir.join(format!("callboard-found-{}.db", ulid::Ulid::new()));
    snapshot::copy(conn, &file)?;
    let uploaded = snapshot::upload(client, &file, 0, migrate::known_version());
    let _ = std::fs::remove_file(&file);
    uploaded?;
    let mut tx = client.transaction()?;
    log::create(&mut tx, cluster_id, 0, migrate::known_version())?;
    tx.commit()?;
    Ok(())
}

/// Snapshots are written beside the database (same disk, enough room).
fn tempfile_dir(conn: &Connection) -> Result<PathBuf> {
    conn.path()
        .filter(|p| !p.is_empty())
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .ok_or_else(|| Error::invalid("the database has no directory to write a snapshot in"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn sibling(path: &Path, what: &str) -> PathBuf {
    with_suffix(path, &format!(".{what}"))
}

/// How often an idle follower looks at the log without a notification.
pub(crate) const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// How often the leader stores a snapshot (each one lets the log entries
/// before the previous snapshot go).
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(3600);

/// What [`compact`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Compacted {
    /// The log entry the new snapshot includes (None: nothing new since the last).
    pub snapshot_head: Option<i64>,
    /// Log entries deleted (all of them older than the previous snapshot).
    pub deleted: u64,
}

/// Stores a snapshot of the local copy at `path` (read through its own
/// read-only connection: the writer goes on meanwhile) and deletes the log
/// entries only the previous snapshot still needed. An instance further
/// behind than that starts again from the newest snapshot.
pub(crate) fn compact(path: &Path, url: &str) -> Result<Compacted> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid("the database has no directory"))?;
    let file = dir.join(format!("callboard-snapshot-{}.db", ulid::Ulid::new()));
    let out = (|| {
        {
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            snapshot::copy(&conn, &file)?;
        }
        let (head, version) = {
            let copy = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let version: i64 = copy.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let (_, head) = read_state(&copy)?
                .ok_or_else(|| Error::Cluster("the local copy has no cluster position".into()))?;
            (head, version)
        };
        let mut client = log::connect(url)?;
        let previous = snapshot::latest(&mut client)?;
        if previous.as_ref().is_some_and(|p| p.head >= head) {
            return Ok(Compacted {
                snapshot_head: None,
                deleted: 0,
            });
        }
        snapshot::upload(&mut client, &file, head, version)?;
        let deleted = match previous {
            Some(p) => client.execute("DELETE FROM callboard_log WHERE seq <= $1", &[&p.head])?,
            None => 0,
        };
        Ok(Compacted {
            snapshot_head: Some(head),
            deleted,
        })
    })();
    let _ = std::fs::remove_file(&file);
    out
}
