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
//!         [--min-ratio 0.35] [--max-ack-ratio 10] [--max-ws-p99-ms 5] [--schema-probe SQL]…
//!
//! It exits non-zero when a floor is missed (after printing every figure):
//! durable webhooks below `--min-ratio` × the no-op route, ack p99 above
//! `--max-ack-ratio` × the no-op's p99, webhook→WebSocket p99 above
//! `--max-ws-p99-ms`. Beside each HTTP phase it prints the CPU time per
//! request of the server (its writer thread apart), of the bench itself,
//! and how busy the machine's cores were, read from `/proc`.
//!
//! `--schema-probe 'DROP TRIGGER calls_search_ins'` (repeatable) runs SQL on
//! the server's database after the warm-up, to measure what one trigger or
//! index costs the webhook path against a run without it; such a run says so
//! above its table and is an experiment, not Callboard as shipped.

use anyhow::{bail, Context, Result};
use callboard_tests::{bench_event, cpu, pct, probe_schema, BENCH_METRICS_TOKEN};
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
    /// Issue 17's floors: durable webhooks ÷ the no-op route, ack p99 ÷ the
    /// no-op's p99, webhook→WebSocket p99 at `rate`.
    min_ratio: f64,
    max_ack_ratio: f64,
    max_ws_p99_ms: f64,
    /// SQL run on the server's database before the measured phases: an
    /// experiment (what a trigger or an index costs), never a figure of
    /// Callboard as shipped.
    schema_probe: Vec<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        concurrency: 64,
        requests: 40_000,
        rate: 1000,
        seconds: 5,
        database_url: None,
        min_ratio: 0.35,
        max_ack_ratio: 10.0,
        max_ws_p99_ms: 5.0,
        schema_probe: Vec::new(),
    };
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--concurrency" => a.concurrency = v.parse()?,
            "--requests" => a.requests = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--database-url" => a.database_url = Some(v),
            "--min-ratio" => a.min_ratio = v.parse()?,
            "--max-ack-ratio" => a.max_ack_ratio = v.parse()?,
            "--max-ws-p99-ms" => a.max_ws_p99_ms = v.parse()?,
            "--schema-probe" => a.schema_probe.push(v),
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
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
            let b = bench_event(i).to_string();
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
        // The search index's entries, as the writer writes them before each commit.
        callboard_core::store::search::flush(&tx)?;
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

    let srv =
        TestServer::start_process_with_env(&[("CALLBOARD_METRICS_TOKEN", BENCH_METRICS_TOKEN)])
            .await?;
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

    for sql in &a.schema_probe {
        probe_schema(&srv.data_dir().join("callboard.db"), sql)?;
        println!(
            "# probe: the schema was changed with `{sql}`: an experiment, not Callboard as shipped"
        );
    }

    let pid = srv.pid().context("no server pid")?;
    let hz = srv.url("/healthz");
    let meter = Meter::start(pid)?;
    let (noop_rps, noop_lat) =
        fire(&srv, a.requests, a.concurrency, move |h, _| h.get(&hz)).await?;
    let noop_cpu = meter.stop(a.requests)?;

    let k = key.clone();
    let u = srv.url(&format!("/webhooks/ivr/{slug}"));
    let meter = Meter::start(pid)?;
    let batches_before = batches(&srv).await?;
    let (rps, lat) = fire(&srv, a.requests, a.concurrency, move |h, i| {
        h.post(&u).header("x-api-key", &k).json(&bench_event(i))
    })
    .await?;
    let durable_cpu = meter.stop(a.requests)?;
    let batches_after = batches(&srv).await?;
    let mean_batch =
        (batches_after.1 - batches_before.1) / (batches_after.0 - batches_before.0).max(1.0);

    let (achieved, ws_lat, ws_acks) =
        ws_latency(&srv, &srv, &slug, &key, a.rate, a.seconds).await?;

    let commits = callboard_tests::commit_times(&srv).await?;
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
    println!(
        "| CPU per no-op request | server {:.1} µs, bench {:.1} µs | cores busy {:.0} % |",
        noop_cpu.server_us,
        noop_cpu.bench_us,
        noop_cpu.busy * 100.0
    );
    println!(
        "| CPU per durable webhook | server {:.1} µs (writer thread {:.1} µs), bench {:.1} µs | cores busy {:.0} % |",
        durable_cpu.server_us,
        durable_cpu.writer_us,
        durable_cpu.bench_us,
        durable_cpu.busy * 100.0
    );
    println!(
        "| — the writer's transactions (group commit) | {mean_batch:.1} writes per commit on average | |"
    );
    println!("| — the writer's commits (write and sync), whole run | {commits} | |");
    println!(
        "| — the server's threads, per durable webhook | {} | |",
        durable_cpu
            .threads
            .iter()
            .map(|(name, us)| format!("`{name}` {us:.1} µs"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(url) = &a.database_url {
        cluster(&a, url, base, rps, noop_rps).await?;
    }

    let mut missed = Vec::new();
    let ratio = rps / noop_rps;
    if ratio < a.min_ratio {
        missed.push(format!(
            "durable webhooks {ratio:.2}× the no-op route < {}×",
            a.min_ratio
        ));
    }
    let ack_ratio = pct(&lat, 0.99) / pct(&noop_lat, 0.99);
    if ack_ratio > a.max_ack_ratio {
        missed.push(format!(
            "ack p99 {ack_ratio:.1}× the no-op's p99 > {}×",
            a.max_ack_ratio
        ));
    }
    let ws_p99 = pct(&ws_lat, 0.99);
    if ws_p99 > a.max_ws_p99_ms {
        missed.push(format!(
            "webhook→WebSocket p99 {ws_p99:.2} ms at {achieved:.0}/s > {} ms",
            a.max_ws_p99_ms
        ));
    }
    callboard_tests::floors(&missed)
}

/// The writer's committed transactions and the writes in them so far
/// (`callboard_writer_batch_size` count and sum, from `/metrics`).
async fn batches(srv: &TestServer) -> Result<(f64, f64)> {
    let text = callboard_tests::bench_metrics(srv).await?;
    let sample = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .with_context(|| format!("no {name} in /metrics"))
    };
    Ok((
        sample("callboard_writer_batch_size_count")?,
        sample("callboard_writer_batch_size_sum")?,
    ))
}

/// CPU time over one phase of the bench: the server's, its writer thread's,
/// the bench's own, and the machine's busy share.
struct Meter {
    pid: u32,
    server: cpu::Process,
    bench: cpu::Process,
    machine: cpu::Machine,
}

struct PhaseCpu {
    server_us: f64,
    writer_us: f64,
    bench_us: f64,
    busy: f64,
    /// The server's threads by name, µs per request, busiest first.
    threads: Vec<(String, f64)>,
}

/// The writer thread's name as `/proc` shows it (cut to 15 bytes).
const WRITER_THREAD: &str = "callboard-write";

impl Meter {
    fn start(pid: u32) -> Result<Meter> {
        Ok(Meter {
            pid,
            server: cpu::Process::read(pid)?,
            bench: cpu::Process::read(std::process::id())?,
            machine: cpu::Machine::read()?,
        })
    }

    fn stop(self, requests: usize) -> Result<PhaseCpu> {
        let server = cpu::Process::read(self.pid)?;
        let bench = cpu::Process::read(std::process::id())?;
        let machine = cpu::Machine::read()?;
        let us = 1e6 / cpu::ticks_per_second() / requests.max(1) as f64;
        // Threads from the scheduler's nanoseconds; processes in ticks.
        let ns_us = 1e-3 / requests.max(1) as f64;
        let mut threads: Vec<(String, f64)> = server
            .threads_ns
            .keys()
            .map(|name| {
                (
                    name.clone(),
                    server.thread_ns_since(&self.server, name) as f64 * ns_us,
                )
            })
            .filter(|(_, t)| *t > 0.0)
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(PhaseCpu {
            threads,
            server_us: server.total.saturating_sub(self.server.total) as f64 * us,
            writer_us: server.thread_ns_since(&self.server, WRITER_THREAD) as f64 * ns_us,
            bench_us: bench.total.saturating_sub(self.bench.total) as f64 * us,
            busy: machine.busy_since(&self.machine),
        })
    }
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
                .json(&bench_event(i))
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
