//! Scale benchmark: a year of a large center in a fresh data directory, then
//! the real release server on it, each console query timed beside a
//! baseline measured in the same run on the same file.
//!
//!     cargo build --release -p callboard-server -p callboard-tests --bins
//!     ./target/release/scale-bench [--calls 5000000] [--departments 20] [--deliveries 3] [--iterations 30] [--keep DIR]
//!
//! `--keep DIR` hard-links the written database into DIR, and a later run with
//! the same DIR measures that file again (migrated by the server if need be)
//! instead of writing a new year.
//!
//! What it writes (directly into the SQLite file, with the schema the store's
//! migrations create, in transactions of 50,000 calls): `--calls` calls over
//! the last 365 days spread over `--departments` departments (providers), in
//! the proportions of an inbound center — 74% completed, 9% hung up before an
//! answer, 8% missed, 3% failed, 6% outbound completed — with the calls of the
//! last few minutes still waiting, ringing or talking; every missed or hung-up
//! call in the worklist with its SLA clock, most of the old ones called back
//! and resolved (one to three dispositions each), the recent ones pending;
//! `--deliveries` raw deliveries per call (the payload a provider posts); the
//! event log of the last 7 days (its retention); and the newest 2,000,000 row
//! changes (what the server keeps for replicas). Retention is off (nothing is
//! archived).
//!
//! What it measures against `callboard serve` (release) on that file:
//! server start (spawn → listening) and its RSS; then, `--iterations` times
//! each, the console's queries — the live queue and the missed list of a
//! department, a number search, the hangup worklist in each view with each
//! sort the console offers, `/api/stats` (the worklist counts),
//! `/api/metrics` for 30 days, all departments, hourly series, and the
//! Retention screen's totals (`/api/retention/archive`) — each beside a
//! baseline: the same rows fetched by a bare indexed `SELECT` (row ids from
//! the answer, primary key) with rusqlite on the same file; then RSS again.
//!
//! Exits non-zero when a p99 is above its bound (lists and worklist 50 ms,
//! metrics and the archive totals 300 ms), start above 2 s, or RSS above 60 MiB.

use anyhow::{bail, Context, Result};
use callboard_tests::{pct, TestServer, ADMIN_TOKEN};
use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use rusqlite::params;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

struct Args {
    calls: usize,
    departments: usize,
    deliveries: usize,
    iterations: usize,
    list_ms: f64,
    metrics_ms: f64,
    start_ms: f64,
    rss_mib: f64,
    /// Where the written database is kept (hard-linked), and taken from
    /// when it is already there: a 5-million-call year is written once.
    keep: Option<std::path::PathBuf>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        calls: 5_000_000,
        departments: 20,
        deliveries: 3,
        iterations: 30,
        list_ms: 50.0,
        metrics_ms: 300.0,
        start_ms: 2000.0,
        rss_mib: 60.0,
        keep: None,
    };
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--calls" => a.calls = v.parse()?,
            "--departments" => a.departments = v.parse()?,
            "--deliveries" => a.deliveries = v.parse()?,
            "--iterations" => a.iterations = v.parse()?,
            "--list-ms" => a.list_ms = v.parse()?,
            "--metrics-ms" => a.metrics_ms = v.parse()?,
            "--start-ms" => a.start_ms = v.parse()?,
            "--rss-mib" => a.rss_mib = v.parse()?,
            "--keep" => a.keep = Some(v.into()),
            _ => bail!("unknown flag {flag}"),
        }
    }
    if a.departments == 0 || a.calls < a.departments {
        bail!("--calls must be at least --departments (> 0)");
    }
    Ok(a)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// 0.0..1.0
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn dept(i: usize) -> String {
    format!("dept{:02}", i + 1)
}

const AGENTS_PER_DEPT: usize = 5;
const CATEGORIES: [&str; 4] = ["Callback", "Sales", "Support", "Billing"];

/// Writes the year. Returns (calls, dispositions, deliveries, events) written.
fn fill(db: &Path, a: &Args) -> Result<(usize, usize, usize, usize)> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -1_048_576)?; // 1 GiB while writing
    let now = Utc::now();
    let now_s = ts(now);
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('retention', '{\"calls_days\":0,\"mode\":\"archive\",\"raw_days\":0}')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [],
    )?;
    for d in 0..a.departments {
        tx.execute(
            "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, sla_minutes, created_at, updated_at)
             VALUES (?1, ?2, 'x', 'cbk_', 30, ?3, ?3)",
            params![dept(d), format!("Department {}", d + 1), now_s],
        )?;
        for k in 0..AGENTS_PER_DEPT {
            tx.execute(
                "INSERT INTO users (username, display_name, password_hash, role, departments, created_at, updated_at)
                 VALUES (?1, ?2, 'x', 'agent', ?3, ?4, ?4)",
                params![
                    format!("agent{:02}{k}", d + 1),
                    format!("Agent {k} of {}", dept(d)),
                    format!("[\"{}\"]", dept(d)),
                    now_s
                ],
            )?;
        }
    }
    for (i, c) in CATEGORIES.iter().enumerate() {
        tx.execute(
            // The migrations seed some of these already.
            "INSERT OR IGNORE INTO categories (department, name, display_order, created_at, updated_at)
             VALUES (NULL, ?1, ?2, ?3, ?3)",
            params![c, i as i64, now_s],
        )?;
    }
    tx.commit()?;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let year = ChronoDuration::days(365);
    let begin = now - year;
    let step_ms = year.num_milliseconds() as f64 / a.calls as f64;
    let event_keep = now - ChronoDuration::days(7);
    let (mut disps, mut deliveries, mut events) = (0usize, 0usize, 0usize);
    let mut i = 0usize;
    while i < a.calls {
        let tx = conn.transaction()?;
        {
            let mut call = tx.prepare_cached(
                "INSERT INTO calls (provider_id, department, call_id, mobile_number, caller_name, did, direction,
                    status, raw_status, agent_id, agent_name, started_at, answered_at, ended_at, duration_seconds,
                    metadata, assignee_id, assigned_at, attempts, last_outcome, next_callback_at, resolved_at,
                    worklist_since, sla_due_at, sla_breached_at, event_at, events_count, version, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
                    ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
            )?;
            let mut disp = tx.prepare_cached(
                "INSERT INTO dispositions (call_row_id, user_id, actor, category_id, category, outcome,
                    next_callback_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut raw = tx.prepare_cached(
                "INSERT INTO raw_events (provider_id, received_at, method, content_type, payload, body_hash,
                    event_id, event_at, outcome, call_row_id, call_id)
                 VALUES (?1, ?2, 'POST', 'application/json', ?3, ?4, ?5, ?6, 'applied', ?7, ?8)",
            )?;
            let mut event = tx.prepare_cached(
                "INSERT INTO event_log (at, type, department, audience, data) VALUES (?1, 'call.upserted', ?2, 'all', ?3)",
            )?;
            for _ in 0..50_000.min(a.calls - i) {
                let d = (rng.below(a.departments as u64)) as usize;
                let provider = d as i64 + 1;
                let dep = dept(d);
                let created = begin
                    + ChronoDuration::milliseconds(
                        (i as f64 * step_ms + rng.unit() * step_ms) as i64,
                    );
                let age = now - created;
                let started = created - ChronoDuration::milliseconds(rng.below(2000) as i64);
                let agent = rng.below(AGENTS_PER_DEPT as u64) as usize;
                let agent_user = (d * AGENTS_PER_DEPT + agent + 1) as i64;
                let roll = rng.below(100);
                let outbound = roll >= 94;
                // Calls of the last few minutes are still in the queue.
                let live = age < ChronoDuration::minutes(3) && !outbound;
                let status = if live {
                    ["waiting", "ringing", "active"][rng.below(3) as usize]
                } else if outbound {
                    "completed"
                } else {
                    match roll {
                        0..=73 => "completed",
                        74..=82 => "hangup",
                        83..=90 => "missed",
                        _ => "failed",
                    }
                };
                let answered = matches!(status, "completed" | "active");
                let wait = ChronoDuration::milliseconds(rng.below(45_000) as i64 + 500);
                let answered_at = answered.then(|| started + wait);
                let talk = rng.below(540) as i64 + 30;
                let ended_at = match status {
                    "completed" => answered_at.map(|t| t + ChronoDuration::seconds(talk)),
                    "hangup" | "missed" | "failed" => Some(started + wait),
                    _ => None,
                };
                let duration = (status == "completed").then_some(talk);
                let last = ended_at.unwrap_or(created);
                let worklist = matches!(status, "missed" | "hangup");
                let worklist_since = worklist.then_some(last);
                let sla_due = worklist_since.map(|t| t + ChronoDuration::minutes(30));
                // Older worklist calls were mostly worked; the last days' mostly not.
                let (mut attempts, mut resolved_at, mut assignee, mut last_outcome) =
                    (0i64, None, None, None);
                let mut disp_times = Vec::new();
                if let Some(since) = worklist_since {
                    let worked = if age > ChronoDuration::days(2) {
                        95
                    } else if age > ChronoDuration::hours(2) {
                        60
                    } else {
                        10
                    };
                    if rng.below(100) < worked {
                        assignee = Some(agent_user);
                        let n = 1 + rng.below(3) as usize;
                        let mut t = since;
                        for _ in 0..n {
                            t += ChronoDuration::minutes(5 + rng.below(120) as i64);
                            if t > now {
                                break;
                            }
                            disp_times.push(t);
                        }
                        attempts = disp_times.len() as i64;
                        let closes = rng.below(100) < 92;
                        if let (Some(t), true) = (disp_times.last(), closes) {
                            resolved_at = Some(*t);
                            last_outcome = Some("resolved");
                        } else if !disp_times.is_empty() {
                            last_outcome = Some("no_answer");
                        }
                    } else if rng.below(100) < 10 {
                        assignee = Some(agent_user);
                    }
                }
                let breached = match (sla_due, resolved_at) {
                    (Some(due), None) if due < now => Some(due),
                    (Some(due), Some(r)) if r > due && due < now => Some(due),
                    _ => None,
                };
                let updated = *disp_times.last().unwrap_or(&last);
                let number = format!("+9198{:08}", rng.below(100_000_000));
                let call_id = format!("{dep}-{i:08}");
                let metadata = format!(
                    "{{\"queue\":\"q{}\",\"wrap_seconds\":{},\"lang\":\"{}\"}}",
                    rng.below(6),
                    rng.below(60),
                    ["en", "hi", "ta"][rng.below(3) as usize]
                );
                let caller = format!("Caller {}", rng.below(1_000_000));
                let events_count = a.deliveries.max(1) as i64;
                call.execute(params![
                    provider,
                    dep,
                    call_id,
                    number,
                    caller,
                    format!("1800{:06}", d),
                    if outbound { "outbound" } else { "inbound" },
                    status,
                    answered.then(|| format!("a{agent}")),
                    answered.then(|| format!("Agent {agent}")),
                    ts(started),
                    answered_at.map(ts),
                    ended_at.map(ts),
                    duration,
                    metadata,
                    assignee,
                    assignee.map(|_| ts(since_or(worklist_since, last))),
                    attempts,
                    last_outcome,
                    Option::<String>::None,
                    resolved_at.map(ts),
                    worklist_since.map(ts),
                    sla_due.map(ts),
                    breached.map(ts),
                    ts(last),
                    events_count,
                    events_count + attempts + assignee.is_some() as i64,
                    ts(created),
                    ts(updated),
                ])?;
                let row = tx.last_insert_rowid();
                for t in &disp_times {
                    let c = rng.below(CATEGORIES.len() as u64) as usize;
                    disp.execute(params![
                        row,
                        agent_user,
                        format!("agent{:02}{agent}", d + 1),
                        c as i64 + 1,
                        CATEGORIES[c],
                        if Some(*t) == resolved_at {
                            "resolved"
                        } else {
                            "no_answer"
                        },
                        Option::<String>::None,
                        ts(*t),
                    ])?;
                    disps += 1;
                }
                let raw_status = ["queued", "ringing", status];
                for k in 0..a.deliveries {
                    let at = created
                        + ChronoDuration::milliseconds(
                            (last - created).num_milliseconds() * k as i64
                                / a.deliveries.max(1) as i64,
                        );
                    let payload = format!(
                        "{{\"data\":{{\"call_id\":\"{call_id}\",\"caller\":\"{number}\",\"status\":\"{}\",\"event_id\":\"{call_id}-{k}\",\"timestamp\":\"{}\"}}}}",
                        raw_status[k.min(2)],
                        ts(at)
                    );
                    raw.execute(params![
                        provider,
                        ts(at),
                        payload,
                        format!("{:016x}{:016x}", rng.next(), rng.next()),
                        format!("{call_id}-{k}"),
                        ts(at),
                        row,
                        call_id,
                    ])?;
                    deliveries += 1;
                    if at >= event_keep {
                        let data = format!(
                            "{{\"id\":{row},\"call_id\":\"{call_id}\",\"department\":\"{dep}\",\"mobile_number\":\"{number}\",\"status\":\"{}\",\"created_at\":\"{}\",\"metadata\":{metadata}}}",
                            raw_status[k.min(2)],
                            ts(created)
                        );
                        event.execute(params![ts(at), dep, data])?;
                        events += 1;
                    }
                }
                i += 1;
            }
        }
        // The search index's entries, as the writer writes them before each commit.
        callboard_core::store::search::flush(&tx)?;
        tx.commit()?;
        if i.is_multiple_of(500_000) {
            eprintln!("  {i} calls written");
        }
    }
    // What the server keeps for replicas (app.rs ROW_CHANGES_KEPT): the rest
    // would have been pruned long ago.
    conn.execute(
        "DELETE FROM row_changes WHERE id <= (SELECT MAX(id) FROM row_changes) - 2000000",
        [],
    )?;
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok((a.calls, disps, deliveries, events))
}

fn since_or(
    since: Option<chrono::DateTime<Utc>>,
    last: chrono::DateTime<Utc>,
) -> chrono::DateTime<Utc> {
    since.unwrap_or(last)
}

/// The call columns the API returns, as the baseline reads them.
const COLS: &str = "c.id, c.call_id, c.department, c.mobile_number, c.caller_name, c.did, c.direction, c.status,
    c.raw_status, c.agent_id, c.agent_name, c.started_at, c.answered_at, c.ended_at, c.duration_seconds,
    c.recording_url, c.metadata, c.assignee_id, u.username, c.assigned_at, c.attempts, c.last_outcome,
    c.next_callback_at, c.resolved_at, c.worklist_since, c.sla_due_at, c.work_state, c.event_at,
    c.events_count, c.version, c.created_at, c.updated_at, c.sla_breached_at";

/// Baseline: the rows with these ids, fetched by primary key, every value touched.
fn fetch_ids(conn: &rusqlite::Connection, ids: &[i64]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM calls c LEFT JOIN users u ON u.id = c.assignee_id WHERE c.id = ?1"
    ))?;
    let mut bytes = 0usize;
    for id in ids {
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            for k in 0..33 {
                if let rusqlite::types::ValueRef::Text(t) = r.get_ref(k)? {
                    bytes += t.len();
                }
            }
        }
    }
    Ok(std::hint::black_box(bytes))
}

/// Baseline for the metrics: the range's rows, through the offered-at index,
/// with the columns the formulas read.
fn offered_range(conn: &rusqlite::Connection, from: &str, to: &str) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.department, c.status, c.started_at, c.answered_at, c.ended_at, c.duration_seconds,
                c.direction, c.resolved_at, c.sla_due_at, c.worklist_since, c.attempts
         FROM calls c WHERE COALESCE(c.started_at, c.created_at) >= ?1 AND COALESCE(c.started_at, c.created_at) < ?2",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut n = 0usize;
    while let Some(r) = rows.next()? {
        for k in 0..11 {
            std::hint::black_box(r.get_ref(k)?);
        }
        n += 1;
    }
    Ok(n)
}

/// Baseline for the counts: each department's worklist views counted on the index.
fn count_views(conn: &rusqlite::Connection) -> Result<i64> {
    let mut stmt = conn
        .prepare_cached("SELECT COUNT(*) FROM calls WHERE work_state = ?1 AND department = ?2")?;
    let mut total = 0i64;
    for view in ["pending", "assigned", "attempted", "resolved"] {
        total += stmt.query_row(params![view, "dept01"], |r| r.get::<_, i64>(0))?;
    }
    Ok(total)
}

struct Row {
    name: String,
    bound_ms: f64,
    p50: f64,
    p99: f64,
    base_p50: f64,
    base_p99: f64,
    rows: usize,
    total: Option<i64>,
}

enum Baseline<'a> {
    Ids,
    Offered(&'a str, &'a str),
    Counts,
    /// `SELECT COUNT(*)` of the calls table: what the archive totals must read.
    CountCalls,
}

async fn measure(
    http: &reqwest::Client,
    srv: &TestServer,
    conn: &rusqlite::Connection,
    name: &str,
    path: &str,
    baseline: Baseline<'_>,
    (bound_ms, iterations): (f64, usize),
) -> Result<Row> {
    let mut api = Vec::with_capacity(iterations);
    let mut base = Vec::with_capacity(iterations);
    let mut ids: Vec<i64> = Vec::new();
    let mut total = None;
    // One untimed request first (statement caches, pages in the OS cache).
    for k in 0..=iterations {
        let t = Instant::now();
        let resp = http
            .get(srv.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        let took = t.elapsed();
        if !status.is_success() {
            bail!("{path}: {status}: {}", String::from_utf8_lossy(&body));
        }
        if k == 0 {
            let v: Value = serde_json::from_slice(&body)?;
            if let Some(data) = v["data"].as_array() {
                ids = data.iter().filter_map(|c| c["id"].as_i64()).collect();
            }
            total = v["total"].as_i64();
            continue;
        }
        api.push(took);
        let t = Instant::now();
        match baseline {
            Baseline::Ids => {
                fetch_ids(conn, &ids)?;
            }
            Baseline::Offered(from, to) => {
                offered_range(conn, from, to)?;
            }
            Baseline::Counts => {
                count_views(conn)?;
            }
            Baseline::CountCalls => {
                conn.query_row("SELECT COUNT(*) FROM calls", [], |r| r.get::<_, i64>(0))?;
            }
        }
        base.push(t.elapsed());
    }
    api.sort();
    base.sort();
    let row = Row {
        name: name.to_string(),
        bound_ms,
        p50: pct(&api, 0.5),
        p99: pct(&api, 0.99),
        base_p50: pct(&base, 0.5),
        base_p99: pct(&base, 0.99),
        rows: ids.len(),
        total,
    };
    eprintln!(
        "  {name}: p50 {:.1} ms, p99 {:.1} ms (baseline p99 {:.2} ms)",
        row.p50, row.p99, row.base_p99
    );
    Ok(row)
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// What a kept database holds, for the report.
fn counts(db: &Path) -> Result<(usize, usize, usize, usize)> {
    let conn = rusqlite::Connection::open(db)?;
    let n = |table: &str| -> Result<usize> {
        let v: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(usize::try_from(v)?)
    };
    Ok((
        n("calls")?,
        n("dispositions")?,
        n("raw_events")?,
        n("event_log")?,
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("callboard.db");
    let kept = a.keep.as_ref().map(|k| k.join("callboard.db"));
    let t = Instant::now();
    let (calls, disps, deliveries, events) = match &kept {
        Some(kept) if kept.exists() => {
            std::fs::hard_link(kept, &db)?;
            eprintln!(
                "reusing {} (the server migrates it if needed)",
                kept.display()
            );
            counts(&db)?
        }
        _ => {
            // The schema exactly as the store's migrations create it.
            let s = callboard_core::Store::open(&db, callboard_core::time::system_clock())?;
            s.close().await;
            let written = fill(&db, &a)?;
            if let Some(kept) = &kept {
                std::fs::create_dir_all(kept.parent().context("--keep has no parent")?)?;
                std::fs::hard_link(&db, kept)?;
            }
            written
        }
    };
    let fill_secs = t.elapsed().as_secs_f64();
    let db_mib = std::fs::metadata(&db)?.len() as f64 / 1048576.0;
    eprintln!(
        "wrote {calls} calls, {disps} dispositions, {deliveries} deliveries, {events} events in {fill_secs:.0} s ({db_mib:.0} MiB)"
    );

    // Server start: spawn → listening (migrations checked, caches loaded).
    let t = Instant::now();
    let srv = TestServer::start_process_in(dir, &[]).await?;
    let start_ms = t.elapsed().as_secs_f64() * 1000.0;
    let pid = srv.pid().context("no server pid")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_start = callboard_tests::proc_kib(pid, "VmRSS:")? as f64 / 1024.0;

    let conn = rusqlite::Connection::open_with_flags(
        srv.dir.path().join("callboard.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let http = callboard_server::http::default_client();
    let n = a.iterations;
    let lb = a.list_ms;
    let mut rows = Vec::new();
    let dep = "dept07";
    // A number fragment that exists: the last digits of a stored number.
    let number: String = conn.query_row(
        "SELECT mobile_number FROM calls WHERE department = ?1 ORDER BY id DESC LIMIT 1 OFFSET 1000",
        [dep],
        |r| r.get(0),
    )?;
    let fragment = number[number.len() - 6..].to_string();

    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "live queue (waiting, ringing, active), first page",
            &format!("/api/calls?department={dep}&status=waiting,ringing,active&limit=50"),
            Baseline::Ids,
            (lb, n),
        )
        .await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "missed, pending (live page), first page",
            &format!("/api/calls?department={dep}&status=missed&view=pending&limit=50"),
            Baseline::Ids,
            (lb, n),
        )
        .await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "all calls of the department, newest first",
            &format!("/api/calls?department={dep}&sort=-created_at&repeat=true&limit=50"),
            Baseline::Ids,
            (lb, n),
        )
        .await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            &format!("number search `{fragment}` in the department"),
            &format!(
                "/api/calls?department={dep}&q={fragment}&sort=-created_at&repeat=true&limit=50"
            ),
            Baseline::Ids,
            (lb, n),
        )
        .await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "status filter: completed, newest first",
            &format!("/api/calls?department={dep}&status=completed&sort=-created_at&repeat=true&limit=50"),
            Baseline::Ids,
            (lb, n),
        )
        .await?,
    );
    // The hangup worklist page: each view, each sort it offers, 500 rows a page.
    for view in ["pending", "assigned", "attempted", "resolved"] {
        for sort in [
            "sla_due_at",
            "-sla_due_at",
            "-worklist_since",
            "worklist_since",
            "-attempts",
            "mobile_number",
            "next_callback_at",
        ] {
            rows.push(
                measure(&http, &srv, &conn, &format!("worklist {view}, sort {sort}"),
                    &format!("/api/calls?department={dep}&status=worklist&view={view}&sort={sort}&limit=500"),
                    Baseline::Ids, (lb, n), ).await?,
            );
        }
    }
    rows.push(
        measure(&http, &srv, &conn, "worklist search by number (pending)",
            &format!("/api/calls?department={dep}&status=worklist&view=pending&q={fragment}&sort=sla_due_at&limit=500"),
            Baseline::Ids, (lb, n), ).await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "/api/stats (worklist and live counts)",
            "/api/stats",
            Baseline::Counts,
            (lb, n),
        )
        .await?,
    );
    let to = Utc::now();
    let from = to - ChronoDuration::days(30);
    let (from_s, to_s) = (ts(from), ts(to));
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "/api/metrics, 30 days, all departments, hourly",
            &format!(
                "/api/metrics?from={}&to={}&interval=hour&utc_offset_minutes=0",
                enc(&from_s),
                enc(&to_s)
            ),
            Baseline::Offered(&from_s, &to_s),
            (a.metrics_ms, n.min(10)),
        )
        .await?,
    );
    rows.push(
        measure(
            &http,
            &srv,
            &conn,
            "/api/retention/archive (live and archived totals)",
            "/api/retention/archive",
            Baseline::CountCalls,
            (a.metrics_ms, n.min(10)),
        )
        .await?,
    );
    let rss_after = callboard_tests::proc_kib(pid, "VmRSS:")? as f64 / 1024.0;
    let hwm = callboard_tests::proc_kib(pid, "VmHWM:")? as f64 / 1024.0;
    // Heap and stacks, against the mapped pages of the binary itself.
    let anon = callboard_tests::proc_kib(pid, "RssAnon:")? as f64 / 1024.0;
    let file = callboard_tests::proc_kib(pid, "RssFile:")? as f64 / 1024.0;

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "scale-bench: {calls} calls over {} departments, {disps} dispositions, {deliveries} deliveries, {events} event-log rows; database {db_mib:.0} MiB written in {fill_secs:.0} s; {n} iterations; load average {}",
        a.departments,
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("| query | rows (of total) | p50 | **p99** | baseline p50 / p99 | p99 vs baseline | bound |");
    println!("|---|---|---|---|---|---|---|");
    let mut failed = Vec::new();
    for r in &rows {
        let total = r.total.map(|t| format!(" of {t}")).unwrap_or_default();
        println!(
            "| {} | {}{total} | {:.1} ms | **{:.1} ms** | {:.2} / {:.2} ms | {:.1}× | {} {:.0} ms |",
            r.name,
            r.rows,
            r.p50,
            r.p99,
            r.base_p50,
            r.base_p99,
            r.p99 / r.base_p99.max(0.001),
            if r.p99 <= r.bound_ms { "≤" } else { "**over**" },
            r.bound_ms
        );
        if r.p99 > r.bound_ms {
            failed.push(format!(
                "{}: p99 {:.1} ms > {:.0} ms",
                r.name, r.p99, r.bound_ms
            ));
        }
    }
    println!(
        "| server start (spawn → listening) | | | **{start_ms:.0} ms** | | | ≤ {:.0} ms |",
        a.start_ms
    );
    println!(
        "| RSS after start | | | **{rss_start:.1} MiB** | | | ≤ {:.0} MiB |",
        a.rss_mib
    );
    println!("| RSS after the queries | | | **{rss_after:.1} MiB** (anonymous {anon:.1}, file {file:.1}; VmHWM {hwm:.1} MiB) | | | ≤ {:.0} MiB |", a.rss_mib);
    if start_ms > a.start_ms {
        failed.push(format!("start {start_ms:.0} ms > {:.0} ms", a.start_ms));
    }
    for (what, mib) in [
        ("RSS after start", rss_start),
        ("RSS after the queries", rss_after),
    ] {
        if mib > a.rss_mib {
            failed.push(format!("{what} {mib:.1} MiB > {:.0} MiB", a.rss_mib));
        }
    }
    callboard_tests::floors(&failed)
}
