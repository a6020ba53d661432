//! CSV export benchmark: builds a database of N calls (default 1,000,000),
//! starts the real `callboard serve` on it, downloads
//! `GET /api/calls/export.csv` and reports throughput and the server's
//! memory, next to baselines measured in the same run: a plain `SELECT` of
//! the same rows with rusqlite, and the server's resident memory before the
//! export.
//!
//!     cargo build --release -p callboard-server
//!     cargo run --release -p callboard-tests --bin export-bench -- [--rows 1000000] [--min-rows-per-sec 200000] [--max-rss-mib 64]
//!
//! It exits non-zero when the export is slower than `--min-rows-per-sec` or
//! the server's peak resident memory during it (VmHWM) passes `--max-rss-mib`.

use anyhow::{bail, Context, Result};
use callboard_tests::{TestServer, ADMIN_TOKEN};
use rusqlite::params;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    rows: usize,
    /// Issue 17's floors: export rate, and the server's peak memory during it.
    min_rows_per_sec: f64,
    max_rss_mib: f64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        rows: 1_000_000,
        min_rows_per_sec: 200_000.0,
        max_rss_mib: 64.0,
    };
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--rows" => a.rows = v.parse()?,
            "--min-rows-per-sec" => a.min_rows_per_sec = v.parse()?,
            "--max-rss-mib" => a.max_rss_mib = v.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// A database with our schema and `rows` calls, written directly.
async fn build(dir: &std::path::Path, rows: usize) -> Result<()> {
    let path = dir.join("callboard.db");
    let s = callboard_core::Store::open(&path, callboard_core::time::system_clock())?;
    s.close().await;
    let mut conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.execute(
        "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
         VALUES ('bench', 'Bench', 'x', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        [],
    )?;
    // Retention off: its first run at start-up would archive the old calls
    // while they are exported (the bench's year is older than 30 days).
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ('retention', '{\"calls_days\":0,\"mode\":\"archive\",\"raw_days\":0}')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [],
    )?;
    let statuses = ["completed", "hangup", "missed", "completed", "failed"];
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO calls (provider_id, department, call_id, mobile_number, caller_name, did, direction,
                status, raw_status, agent_id, agent_name, started_at, answered_at, ended_at, duration_seconds,
                metadata, created_at, updated_at)
             VALUES (1, 'bench', ?1, ?2, ?3, '18001234', 'inbound', ?4, ?4, ?5, ?6, ?7, ?7, ?7, ?8, ?9, ?7, ?7)",
        )?;
        for i in 0..rows {
            let t = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                1 + (i / 2_000_000) % 12,
                1 + (i / 80_000) % 28,
                (i / 3600) % 24,
                (i / 60) % 60,
                i % 60
            );
            // Every 50th caller name looks like a formula, as a hostile caller id might.
            let name = if i % 50 == 0 {
                format!("=HYPERLINK(\"x{i}\")")
            } else {
                format!("Caller, \"{i}\"")
            };
            stmt.execute(params![
                format!("bench-{i:07}"),
                format!("+9198{i:08}"),
                name,
                statuses[i % statuses.len()],
                format!("a{}", i % 40),
                format!("Agent {}", i % 40),
                t,
                (i % 600) as i64,
                format!("{{\"queue\":\"q{}\",\"lang\":\"hi\"}}", i % 7),
            ])?;
        }
    }
    // The search index's entries, as the writer writes them before each commit.
    callboard_core::store::search::flush(&tx)?;
    tx.commit()?;
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok(())
}

/// Baseline: the same rows and columns read with a plain `SELECT`, each row decoded.
fn select_baseline(dir: &std::path::Path) -> Result<(usize, f64)> {
    let conn = rusqlite::Connection::open(dir.join("callboard.db"))?;
    let start = Instant::now();
    let mut stmt = conn.prepare(
        "SELECT c.id, c.call_id, c.department, c.mobile_number, c.caller_name, c.did, c.direction, c.status,
                c.raw_status, c.agent_id, c.agent_name, c.started_at, c.answered_at, c.ended_at,
                c.duration_seconds, c.recording_url, c.metadata, c.assignee_id, u.username, c.assigned_at,
                c.attempts, c.last_outcome, c.next_callback_at, c.resolved_at, c.worklist_since, c.sla_due_at,
                c.work_state, c.event_at, c.events_count, c.version, c.created_at, c.updated_at
         FROM calls c LEFT JOIN users u ON u.id = c.assignee_id ORDER BY c.id",
    )?;
    let mut rows = stmt.query([])?;
    let (mut n, mut bytes) = (0usize, 0usize);
    while let Some(r) = rows.next()? {
        for i in 0..32 {
            if let rusqlite::types::ValueRef::Text(t) = r.get_ref(i)? {
                bytes += t.len();
            }
        }
        n += 1;
    }
    std::hint::black_box(bytes);
    Ok((n, start.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let rows = a.rows;
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    build(dir.path(), rows).await?;
    eprintln!("built {rows} calls in {:.1} s", t.elapsed().as_secs_f64());
    let db_bytes = std::fs::metadata(dir.path().join("callboard.db"))?.len();

    let (n, secs) = select_baseline(dir.path())?;
    let select_rate = n as f64 / secs;

    let srv = TestServer::start_process_in(dir, &[]).await?;
    let pid = srv.pid().context("no server pid")?;
    // Let the server settle, then take its resident memory with no export running.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = callboard_tests::proc_kib(pid, "VmRSS:")?;
    let hwm_idle = callboard_tests::proc_kib(pid, "VmHWM:")?;

    // Sample the resident memory while the export runs.
    let peak = Arc::new(AtomicU64::new(rss_idle));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(kib) = callboard_tests::proc_kib(pid, "VmRSS:") {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let http = callboard_server::http::client().build()?;
    let start = Instant::now();
    let mut resp = http
        .get(srv.url("/api/calls/export.csv?bom=true"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("export: {}", resp.status());
    }
    let first_byte = start.elapsed();
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let export_secs = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let hwm_after = callboard_tests::proc_kib(pid, "VmHWM:")?;
    let peak_rss = peak.load(Ordering::Relaxed);
    // The header is one line; every record ends in CRLF (no caller name here holds a line break).
    let exported = lines.saturating_sub(1);
    if exported != rows as u64 {
        bail!("exported {exported} rows, expected {rows}");
    }
    let export_rate = exported as f64 / export_secs;

    println!(
        "export-bench: {rows} calls, database {:.1} MiB",
        db_bytes as f64 / 1048576.0
    );
    println!("| measure | value | vs baseline |");
    println!("|---|---|---|");
    println!("| plain SELECT of the same rows (rusqlite, one connection) | {select_rate:.0} rows/s ({secs:.2} s) | 1.00 |");
    println!(
        "| **CSV export over HTTP** | **{export_rate:.0} rows/s** ({export_secs:.2} s, {:.1} MiB, first byte {:.0} ms) | {:.2}× SELECT |",
        bytes as f64 / 1048576.0,
        first_byte.as_secs_f64() * 1000.0,
        export_rate / select_rate
    );
    println!(
        "| server RSS before the export | {:.1} MiB (VmHWM {:.1} MiB) | 1.00 |",
        rss_idle as f64 / 1024.0,
        hwm_idle as f64 / 1024.0
    );
    println!(
        "| **server peak RSS during the export** | **{:.1} MiB** (VmHWM after {:.1} MiB) | {:.2}× idle; +{:.1} MiB for a {:.0} MiB file |",
        peak_rss as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        peak_rss as f64 / rss_idle as f64,
        (hwm_after.max(peak_rss) as f64 - rss_idle as f64) / 1024.0,
        bytes as f64 / 1048576.0
    );
    let peak_mib = hwm_after.max(peak_rss) as f64 / 1024.0;
    let mut missed = Vec::new();
    if export_rate < a.min_rows_per_sec {
        missed.push(format!(
            "export {export_rate:.0} rows/s < {:.0} rows/s",
            a.min_rows_per_sec
        ));
    }
    if peak_mib > a.max_rss_mib {
        missed.push(format!(
            "peak RSS {peak_mib:.1} MiB > {:.0} MiB",
            a.max_rss_mib
        ));
    }
    callboard_tests::floors(&missed)
}
