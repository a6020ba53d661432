//! Ingest benchmark: fires webhooks at the real `callboard` binary over
//! keep-alive connections and reports durable ingests per second, ack latency
//! and webhook→WebSocket latency, next to two baselines measured in the same
//! run: raw SQLite inserts of the same rows in batched transactions, and the
//! same HTTP stack answering a no-op route.
//!
//! With `--database-url`, the same load again on a cluster (`serve
//! --database-url`): one instance, then two sharing the load, each on a new
//! database the bench creates there, and webhook→stream across the two.
//! `--database-url auto` starts a throwaway PostgreSQL with durable commits
//! (`fsync` on), as the receivers would have in production.
//!
//!     cargo build --release -p callboard-server
//!     cargo run --release -p callboard-tests --bin ingest-bench -- [--concurrency 64] [--requests 40000] [--rate 1000] [--seconds 5] [--database-url auto|postgres://…/postgres]

use anyhow::{bail, Context, Result};
use callboard_tests::pct;
use callboard_tests::{ws, TestServer, ADMIN_TOKEN};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    concurrency: usize,
    requests: usize,
    rate: u64,
    seconds: u64,
    database_url: Option<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        concurrency: 64,
        requests: 40_000,
        rate: 1000,
        seconds: 5,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--concurrency" => a.concurrency = v.parse()?,
            "--requests" => a.requests = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--database-url" => a.database_url = Some(v),
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// Each call gets three events, as a platform would send them.
fn body(i: usize) -> serde_json::Value {
    let call = i / 3;
    let status = ["queued", "ringing", "no-answer"][i % 3];
    json!({"data": {"call_id": format!("b{call}"), "caller": format!("+9198{:08}", call), "name": "Bench Caller",
        "did": "18001234", "status": status, "agent": "Agent 7", "event_id": format!("e{i}")}})
}

async fn fire<F>(
    srv: &TestServer,
    total: usize,
    concurrency: usize,
    make: F,
) -> Result<(f64, Vec<Duration>)>
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let make = Arc::new(make);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let http = srv.http.clone();
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                let r = make(&http, i).send().await?;
                let status = r.status();
                let _ = r.bytes().await?;
                if !status.is_success() {
                    bail!("request {i}: {status}");
                }
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    Ok((total as f64 / secs, all))
}

fn sqlite_baseline(rows: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("callboard.db");
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let s = callboard_core::Store::open(&path, callboard_core::time::system_clock())?;
            s.close().await;
            Ok::<_, anyhow::Error>(())
        })?;
    }
    let conn = rusqlite::Connection::open(&path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute(
        "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at) VALUES ('b', 'B', 'x', 'x', 't', 't')",
        [],
    )?;
    let start = Instant::now();
    let mut i = 0;
    while i < rows {
        let tx = conn.unchecked_transaction()?;
        for _ in 0..256.min(rows - i) {
            let b = body(i).to_string();
            let call = format!("b{}", i / 3);
            tx.prepare_cached(
                "INSERT INTO calls (provider_id, department, call_id, mobile_number, status, metadata, created_at, updated_at, event_at)
                 VALUES (1, 'b', ?1, '+91', 'ringing', '{}', 't', 't', 't')
                 ON CONFLICT (provider_id, call_id) DO UPDATE SET status = excluded.status, version = version + 1",
            )?
            .execute([&call])?;
            tx.prepare_cached(
                "INSERT INTO raw_events (provider_id, received_at, method, payload, body_hash, outcome, call_id) VALUES (1, 't', 'POST', ?1, ?2, 'applied', ?3)",
            )?
            .execute(rusqlite::params![b, format!("{i:064}"), call])?;
            tx.prepare_cached("INSERT INTO event_log (at, type, department, data) VALUES ('t', 'call.upserted', 'b', ?1)")?
                .execute([&b])?;
            i += 1;
        }
        tx.commit()?;
    }
    Ok(rows as f64 / start.elapsed().as_secs_f64())
}

async fn ws_latency(
    srv: &TestServer,
    sender: &TestServer,
    slug: &str,
    key: &str,
    rate: u64,
    seconds: u64,
) -> Result<(f64, Vec<Duration>, Vec<Duration>)> {
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = (rate * seconds) as usize;
    let sent2 = sent.clone();
    let receiver = tokio::spawn(async move {
        let mut lat = Vec::with_capacity(total);
        while lat.len() < total {
            let msg = match tokio::time::timeout(Duration::from_secs(10), sock.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(_))) => continue,
                _ => break,
            };
            let now = Instant::now();
            let v: serde_json::Value = serde_json::from_str(&msg)?;
            if v["type"] != "call.upserted" {
                continue;
            }
            let id = v["data"]["call_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Some(t) = sent2
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .remove(&id)
            {
                lat.push(now - t);
            }
        }
        Ok::<_, anyhow::Error>(lat)
    });
    let url = sender.url(&format!("/webhooks/ivr/{slug}"));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let id = format!("lat{i}");
        let req = sender
            .http
            .post(&url)
            .header("x-api-key", key)
            .json(&json!({"data": {"call_id": id, "caller": "+91", "status": "ringing"}}));
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            sent.lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .insert(id, t);
            let r = req.send().await?;
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            if !ok {
                bail!("webhook failed");
            }
            Ok::<_, anyhow::Error>(t.elapsed())
        }));
    }
    let mut acks = Vec::with_capacity(total);
    for t in tasks {
        acks.push(t.await??);
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    let mut lat = receiver.await??;
    if lat.len() < total {
        bail!("only {} of {total} events reached the WebSocket", lat.len());
    }
    lat.sort();
    acks.sort();
    Ok((achieved, lat, acks))
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "# ingest-bench  {}  cpus={cpus}  concurrency={}  requests={}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        a.concurrency,
        a.requests
    );

    let base = tokio::task::spawn_blocking({
        let n = a.requests;
        move || sqlite_baseline(n)
    })
    .await??;

    let srv = TestServer::start_process().await?;
    let (slug, key) = srv.provider("Bench").await?;

    // Warm up connections and caches.
    let k = key.clone();
    let u = srv.url(&format!("/webhooks/ivr/{slug}"));
    fire(&srv, 2_000, a.concurrency, move |h, i| {
        h.post(&u)
            .header("x-api-key", &k)
            .json(&json!({"data": {"call_id": format!("warm{i}"), "status": "ringing"}}))
    })
    .await?;

    let hz = srv.url("/healthz");
    let (noop_rps, noop_lat) =
        fire(&srv, a.requests, a.concurrency, move |h, _| h.get(&hz)).await?;

    let k = key.clone();
    let u = srv.url(&format!("/webhooks/ivr/{slug}"));
    let (rps, lat) = fire(&srv, a.requests, a.concurrency, move |h, i| {
        h.post(&u).header("x-api-key", &k).json(&body(i))
    })
    .await?;

    let (achieved, ws_lat, ws_acks) =
        ws_latency(&srv, &srv, &slug, &key, a.rate, a.seconds).await?;

    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1"),
            ADMIN_TOKEN,
        )
        .await?;
    let expected = 2_000 + a.requests.div_ceil(3) + (a.rate * a.seconds) as usize;
    if list["total"].as_u64() != Some(expected as u64) {
        bail!("stored calls {} != expected {expected}", list["total"]);
    }

    println!();
    println!("| measure | value | vs baseline |");
    println!("|---|---|---|");
    println!("| raw SQLite insert, same rows, 256 per transaction | {base:.0} rows/s | 1.00 |");
    println!("| HTTP no-op (`GET /healthz`), {} conns | {noop_rps:.0} req/s (p50 {:.2} ms, p99 {:.2} ms) | 1.00 |", a.concurrency, pct(&noop_lat, 0.5), pct(&noop_lat, 0.99));
    println!(
        "| **durable webhooks**, {} conns | **{rps:.0} /s** | {:.2}× SQLite, {:.2}× no-op |",
        a.concurrency,
        rps / base,
        rps / noop_rps
    );
    println!(
        "| ack latency at {} conns | p50 {:.2} ms, p99 {:.2} ms | p99 {:.1}× no-op p99 |",
        a.concurrency,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 0.99) / pct(&noop_lat, 0.99)
    );
    println!(
        "| webhook→WebSocket at {achieved:.0}/s | p50 {:.2} ms, p99 {:.2} ms | |",
        pct(&ws_lat, 0.5),
        pct(&ws_lat, 0.99)
    );
    println!(
        "| ack latency at {achieved:.0}/s | p50 {:.2} ms, p99 {:.2} ms | |",
        pct(&ws_acks, 0.5),
        pct(&ws_acks, 0.99)
    );
    if let Some(url) = &a.database_url {
        cluster(&a, url, base, rps, noop_rps).await?;
    }
    Ok(())
}

/// Instances of `callboard serve --database-url` on a new database there.
async fn instances(base_url: &str, n: usize) -> Result<Vec<TestServer>> {
    let db = callboard_tests::pg::database_on(base_url)?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            TestServer::launch(
                tempfile::tempdir()?,
                &["serve"],
                &[("CALLBOARD_DATABASE_URL", &db), ("CALLBOARD_LOG", "error")],
            )
            .await?,
        );
    }
    Ok(out)
}

async fn stored(srv: &TestServer, slug: &str) -> Result<u64> {
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1"),
            ADMIN_TOKEN,
        )
        .await?;
    list["total"].as_u64().context("no total")
}

async fn cluster(a: &Args, url: &str, sqlite: f64, single: f64, noop: f64) -> Result<()> {
    let pg = if url == "auto" {
        Some(callboard_tests::pg::Pg::start_with(true)?)
    } else {
        None
    };
    let base_url = match &pg {
        Some(p) => p.url("postgres"),
        None => url.to_string(),
    };
    let mut rows = Vec::new();
    for n in [1usize, 2] {
        let group = instances(&base_url, n).await?;
        let (slug, key) = group[0].provider("Bench").await?;
        for other in &group[1..] {
            let path = format!("/api/providers/{slug}");
            callboard_tests::until(10, "the provider reached every instance", || async {
                other
                    .get_json(&path, ADMIN_TOKEN)
                    .await
                    .map(|(s, _)| s == 200)
                    .unwrap_or(false)
            })
            .await;
        }
        let urls: Vec<String> = group
            .iter()
            .map(|g| g.url(&format!("/webhooks/ivr/{slug}")))
            .collect();
        let (k, u) = (key.clone(), urls.clone());
        fire(&group[0], 2_000, a.concurrency, move |h, i| {
            h.post(&u[i % u.len()])
                .header("x-api-key", &k)
                .json(&json!({"data": {"call_id": format!("warm{i}"), "status": "ringing"}}))
        })
        .await?;
        let (k, u) = (key.clone(), urls.clone());
        let (rps, lat) = fire(&group[0], a.requests, a.concurrency, move |h, i| {
            h.post(&u[i % u.len()])
                .header("x-api-key", &k)
                .json(&body(i))
        })
        .await?;
        // Webhooks to the last instance, the stream read on the first.
        let sender = &group[group.len() - 1];
        let (achieved, ws_lat, _) =
            ws_latency(&group[0], sender, &slug, &key, a.rate, a.seconds).await?;
        let expected = (2_000 + a.requests.div_ceil(3) + (a.rate * a.seconds) as usize) as u64;
        for g in &group {
            callboard_tests::until(20, "every instance holds every call", || async {
                stored(g, &slug)
                    .await
                    .map(|t| t == expected)
                    .unwrap_or(false)
            })
            .await;
        }
        rows.push((n, rps, lat, achieved, ws_lat));
    }
    println!();
    println!(
        "PostgreSQL: {}",
        if pg.is_some() {
            "throwaway, fsync on (auto)"
        } else {
            "as given"
        }
    );
    println!("| cluster on PostgreSQL | value | vs baseline |");
    println!("|---|---|---|");
    for (n, rps, lat, achieved, ws_lat) in rows {
        println!(
            "| **durable webhooks, {n} instance{}**, {} conns | **{rps:.0} /s** (ack p99 {:.2} ms) | {:.2}× SQLite insert, {:.2}× one SQLite receiver, {:.2}× no-op |",
            if n == 1 { "" } else { "s" },
            a.concurrency,
            pct(&lat, 0.99),
            rps / sqlite,
            rps / single,
            rps / noop
        );
        println!(
            "| webhook→stream{} at {achieved:.0}/s | p50 {:.2} ms, p99 {:.2} ms | |",
            if n == 1 { "" } else { " across instances" },
            pct(&ws_lat, 0.5),
            pct(&ws_lat, 0.99)
        );
    }
    Ok(())
}
