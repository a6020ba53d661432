//! The cluster's PostgreSQL: one sequencer row, the log of every commit in
//! order, and snapshots to start a new instance from.
//!
//! Gap-free by construction: an instance appends `head + 1` while holding the
//! sequencer row's lock (`SELECT … FOR UPDATE`), which it keeps until its
//! transaction commits. Entry N+1 therefore cannot even be numbered before N
//! is committed, and what a reader sees is always a prefix of the log: no
//! entry can commit later with a smaller number than one already read.

use super::changes::Entry;
use crate::error::{Error, Result};
use postgres::{Client, GenericClient, NoTls, Transaction};
use std::time::Duration;

/// The version of the PostgreSQL tables below (not of the SQLite schema the
/// changesets are made against, which `callboard_cluster` records).
pub const SCHEMA: i32 = 1;

const V1: &str = "
CREATE TABLE callboard_cluster (
    id integer PRIMARY KEY CHECK (id = 1),
    cluster_id text NOT NULL,
    head bigint NOT NULL,
    sqlite_schema integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE callboard_log (
    seq bigint PRIMARY KEY,
    origin text NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    changeset bytea NOT NULL,
    sequences text NOT NULL
);
CREATE TABLE callboard_snapshots (
    id bigserial PRIMARY KEY,
    head bigint NOT NULL,
    sqlite_schema integer NOT NULL,
    bytes bigint NOT NULL,
    sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE callboard_snapshot_chunks (
    snapshot_id bigint NOT NULL REFERENCES callboard_snapshots (id) ON DELETE CASCADE,
    n integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (snapshot_id, n)
);
";

/// Advisory lock keys (a fixed 64-bit space shared with whatever else uses
/// the database: ours start with the bytes of \"cb\").
pub(crate) const MIGRATE_KEY: i64 = 0x6362_0001;
pub(crate) const INIT_KEY: i64 = 0x6362_0002;
pub(crate) const LEADER_KEY: i64 = 0x6362_0003;

/// The channel `NOTIFY` wakes followers on.
pub(crate) const CHANNEL: &str = "callboard_log";

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let detail = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => match std::error::Error::source(&e) {
                Some(src) => format!("{e}: {src}"),
                None => e.to_string(),
            },
        };
        Error::Cluster(detail)
    }
}

/// A connection, failing within seconds when PostgreSQL is away. The server
/// is asked to probe it as often (`tcp_keepalives_*`), so a dead instance's
/// session, and the leader lock it held, go within about 11 s.
pub(crate) fn connect(url: &str) -> Result<Client> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| Error::Invalid(format!("the database URL is not valid: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    // A path that goes silent (a cable, a firewall dropping the session)
    // must end the session within seconds, not TCP's hours: the leader lock
    // is only released, and a writer only fails over to 503, when it ends.
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .keepalives_interval(Duration::from_secs(2))
        .keepalives_retries(3)
        .tcp_user_timeout(Duration::from_secs(15));
    config.application_name("callboard");
    let mut client = match config.get_ssl_mode() {
        postgres::config::SslMode::Require => config.connect(super::tls::connector()?)?,
        _ => config.connect(NoTls)?,
    };
    client.batch_execute(
        "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3",
    )?;
    Ok(client)
}

/// Creates or upgrades the tables; refuses a newer layout.
pub(crate) fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_KEY])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS callboard_schema (version integer NOT NULL)")?;
    let found: Option<i32> = tx
        .query_opt("SELECT version FROM callboard_schema", &[])?
        .map(|r| r.get(0));
    let found = found.unwrap_or(0);
    if found > SCHEMA {
        return Err(Error::SchemaTooNew {
            found: found.into(),
            known: SCHEMA.into(),
        });
    }
    if found < 1 {
        tx.batch_execute(V1)?;
    }
    if found == 0 {
        tx.execute(
            "INSERT INTO callboard_schema (version) VALUES ($1)",
            &[&SCHEMA],
        )?;
    } else if found < SCHEMA {
        tx.execute("UPDATE callboard_schema SET version = $1", &[&SCHEMA])?;
    }
    tx.commit()?;
    Ok(())
}

/// The sequencer row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRow {
    pub cluster_id: String,
    pub head: i64,
    pub sqlite_schema: i64,
}

fn row(r: postgres::Row) -> ClusterRow {
    ClusterRow {
        cluster_id: r.get(0),
        head: r.get(1),
        sqlite_schema: i64::from(r.get::<_, i32>(2)),
    }
}

pub(crate) fn cluster(c: &mut impl GenericClient) -> Result<Option<ClusterRow>> {
    Ok(c.query_opt(
        "SELECT cluster_id, head, sqlite_schema FROM callboard_cluster WHERE id = 1",
        &[],
    )?
    .map(row))
}

/// Takes the sequencer: until the caller's transaction ends, no other
/// instance can append.
pub(crate) fn lock(c: &mut impl GenericClient) -> Result<ClusterRow> {
    c.query_opt(
        "SELECT cluster_id, head, sqlite_schema FROM callboard_cluster WHERE id = 1 FOR UPDATE",
        &[],
    )?
    .map(row)
    .ok_or_else(|| Error::Cluster("the cluster's sequencer row is missing".into()))
}

pub(crate) fn create(
    tx: &mut Transaction<'_>,
    cluster_id: &str,
    head: i64,
    sqlite_schema: i64,
) -> Result<()> {
    let schema = i32::try_from(sqlite_schema)
        .map_err(|_| Error::Invalid(format!("schema version {sqlite_schema} out of range")))?;
    tx.execute(
        "INSERT INTO callboard_cluster (id, cluster_id, head, sqlite_schema) VALUES (1, $1, $2, $3)",
        &[&cluster_id, &head, &schema],
    )?;
    Ok(())
}

/// Entries after `after`, oldest first, at most `limit`.
pub(crate) fn after(
    c: &mut impl GenericClient,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Entry)>> {
    let rows = c.query(
        "SELECT seq, changeset, sequences FROM callboard_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after, &limit],
    )?;
    rows.into_iter()
        .map(|r| {
            let seq: i64 = r.get(0);
            let sequences: String = r.get(2);
            let sequences = serde_json::from_str(&sequences).map_err(|e| {
                Error::Cluster(format!("log entry {seq}: unreadable counters: {e}"))
            })?;
            Ok((
                seq,
                Entry {
                    changeset: r.get(1),
                    sequences,
                },
            ))
        })
        .collect()
}

/// The oldest entry still held (None when the log is empty).
pub(crate) fn oldest(c: &mut impl GenericClient) -> Result<Option<i64>> {
    Ok(c.query_one("SELECT MIN(seq) FROM callboard_log", &[])?
        .get(0))
}

/// Appends entry `seq` (the locked head + 1), moves the head and wakes the
/// followers, in one statement; visible to them when the caller commits.
pub(crate) fn append(
    c: &mut impl GenericClient,
    seq: i64,
    origin: &str,
    entry: &Entry,
) -> Result<()> {
    c.query(
        "WITH e AS (
            INSERT INTO callboard_log (seq, origin, changeset, sequences) VALUES ($1, $2, $3, $4)
         ), h AS (
            UPDATE callboard_cluster SET head = $1 WHERE id = 1
         )
         SELECT pg_notify($5, $1::text)",
        &[
            &seq,
            &origin,
            &entry.changeset,
            &entry.sequences_json(),
            &CHANNEL,
        ],
    )?;
    Ok(())
}
