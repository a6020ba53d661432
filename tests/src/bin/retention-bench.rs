//! Retention benchmark: a database of 1,000,000 old finished calls, the real
//! release server, webhook ingestion at a fixed rate; the ack latency is
//! measured first without retention (the baseline) and then while a
//! retention run archives those calls, and the two are compared.
//!
//!     cargo build --release -p callboard-server
//!     cargo run --release -p callboard-tests --bin retention-bench -- [--calls 1000000] [--rate 200] [--seconds 10] [--max-ratio 3]
//!
//! Exits non-zero when the p99 during retention exceeds `--max-ratio` times
//! the baseline p99.

use anyhow::{bail, Result};
use callboard_tests::pct;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    calls: usize,
    rate: u64,
    seconds: u64,
    max_ratio: f64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        calls: 1_000_000,
        rate: 200,
        seconds: 10,
        max_ratio: 3.0,
    };
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--calls" => a.calls = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--max-ratio" => a.max_ratio = v.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// Old finished calls, written straight into the file in large transactions
/// (the API only creates calls "now").
fn fill(db: &std::path::Path, calls: usize) -> Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let pid: i64 = conn.query_row("SELECT id FROM providers WHERE slug = 'bench'", [], |r| {
        r.get(0)
    })?;
    let base = Utc::now() - ChronoDuration::days(90);
    let mut i = 0usize;
    while i < calls {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO calls (provider_id, department, call_id, mobile_number, status, raw_status,
                     started_at, ended_at, duration_seconds, metadata, created_at, updated_at, event_at, events_count)
                 VALUES (?1, 'bench', ?2, ?3, ?4, ?4, ?5, ?5, 42, '{}', ?5, ?5, ?5, 3)",
            )?;
            for _ in 0..50_000.min(calls - i) {
                let at = (base + ChronoDuration::seconds((i / 20) as i64))
                    .to_rfc3339_opts(SecondsFormat::Millis, true);
                let status = if i.is_multiple_of(7) {
                    "failed"
                } else {
                    "completed"
                };
                stmt.execute(rusqlite::params![
                    pid,
                    format!("old{i}"),
                    format!("+9198{:08}", i),
                    status,
                    at
                ])?;
                i += 1;
            }
        }
        // The search index's entries, as the writer writes them before each commit.
        callboard_core::store::search::flush(&tx)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok(())
}

/// Fires webhooks at `rate` per second for `seconds` (open loop: a slow
/// answer does not slow the sender) and returns the sorted ack latencies.
async fn fire(
    srv: &TestServer,
    key: &str,
    tag: &str,
    rate: u64,
    seconds: u64,
) -> Result<Vec<Duration>> {
    let lat = Arc::new(Mutex::new(Vec::new()));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    let url = srv.url("/webhooks/ivr/bench");
    for i in 0..(rate * seconds) {
        tick.tick().await;
        let (http, url, key, lat) = (srv.http.clone(), url.clone(), key.to_string(), lat.clone());
        let status = ["queued", "ringing", "no-answer"][(i % 3) as usize];
        let body = json!({"data": {"call_id": format!("{tag}{}", i / 3), "caller": "+919800000000",
            "status": status, "event_id": format!("{tag}e{i}")}});
        tasks.spawn(async move {
            let t = Instant::now();
            let r = http
                .post(url)
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await?;
            let s = r.status();
            let _ = r.bytes().await?;
            if !s.is_success() {
                bail!("webhook {i}: {s}");
            }
            if let Ok(mut l) = lat.lock() {
                l.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let mut all = std::mem::take(&mut *lat.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
    all.sort();
    Ok(all)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a = args()?;
    let mut srv = TestServer::start_process().await?;
    let (s, p) = srv
        .post_json("/api/providers", ADMIN_TOKEN, &json!({"name": "Bench", "slug": "bench",
            "field_mapping": callboard_tests::generic_mapping(), "status_map": callboard_tests::generic_status_map()}))
        .await?;
    if s != 201 {
        bail!("create provider: {s} {p}");
    }
    let key = p["api_key"].as_str().unwrap_or_default().to_string();
    srv.stop().await?;
    let t = Instant::now();
    fill(&srv.dir.path().join("callboard.db"), a.calls)?;
    println!(
        "filled {} old calls in {:.1} s",
        a.calls,
        t.elapsed().as_secs_f64()
    );
    let srv = srv.restart().await?;
    // The start-up's daily run must not overlap the baseline: wait it out.
    for _ in 0..600 {
        let (_, runs) = srv.get_json("/api/retention/runs", ADMIN_TOKEN).await?;
        let busy = runs["data"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["finished_at"].is_null()));
        if !busy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (s, _) = srv
        .put_json(
            "/api/settings/retention",
            ADMIN_TOKEN,
            &json!({"calls_days": 30, "mode": "archive", "raw_days": 7}),
        )
        .await?;
    if s != 200 {
        bail!("settings: {s}");
    }
    let (_, runs) = srv.get_json("/api/retention/runs", ADMIN_TOKEN).await?;
    let already = runs["data"][0]["calls_archived"].as_i64().unwrap_or(0);
    if already > 0 {
        bail!("the start-up run already archived {already} calls: nothing left to measure");
    }

    let base = fire(&srv, &key, "base", a.rate, a.seconds).await?;
    let (s, run) = srv
        .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
        .await?;
    if s != 202 {
        bail!("retention run: {s} {run}");
    }
    let id = run["id"].as_i64().unwrap_or_default();
    let started = Instant::now();
    let during = fire(&srv, &key, "during", a.rate, a.seconds).await?;
    let (_, runs) = srv.get_json("/api/retention/runs", ADMIN_TOKEN).await?;
    let mid = runs["data"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == id).cloned())
        .unwrap_or_default();
    let covered = mid["finished_at"].is_null();
    let finished = loop {
        let (_, runs) = srv.get_json("/api/retention/runs", ADMIN_TOKEN).await?;
        let r = runs["data"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == id).cloned())
            .unwrap_or_default();
        if r["finished_at"].is_string() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let run_secs = started.elapsed().as_secs_f64();
    let (b99, d99) = (pct(&base, 0.99), pct(&during, 0.99));
    let ratio = d99 / b99;
    println!(
        "webhook ack latency at {} req/s for {} s each:",
        a.rate, a.seconds
    );
    println!(
        "  baseline (no retention):  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  n={}",
        pct(&base, 0.5),
        b99,
        pct(&base, 1.0),
        base.len()
    );
    println!(
        "  during the retention run: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  n={}",
        pct(&during, 0.5),
        d99,
        pct(&during, 1.0),
        during.len()
    );
    println!(
        "  p99 ratio during/baseline: {ratio:.2} (bound {:.1})",
        a.max_ratio
    );
    println!(
        "retention run {id}: archived {} calls in {} batches, {:.1} s ({:.0} calls/s); the whole measurement ran inside it: {covered}",
        finished["calls_archived"], finished["batches"], run_secs,
        finished["calls_archived"].as_f64().unwrap_or(0.0) / run_secs
    );
    if finished["calls_archived"].as_u64() != Some(a.calls as u64) {
        bail!(
            "expected {} archived calls, got {}",
            a.calls,
            finished["calls_archived"]
        );
    }
    if !covered {
        println!("warning: the run finished before the measurement did; raise --calls or lower --seconds");
    }
    if ratio > a.max_ratio {
        bail!(
            "p99 during retention is {ratio:.2}× the baseline (bound {:.1})",
            a.max_ratio
        );
    }
    Ok(())
}
