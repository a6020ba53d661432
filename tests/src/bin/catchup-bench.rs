//! Catch-up benchmark: a replica is cut off from its receiver while N
//! webhooks arrive there; the proxy heals and the time until the replica
//! holds the receiver's head is measured, next to a baseline from the same
//! run: the time the receiver took to ingest those N webhooks. Then a new
//! replica is started on the receiver, and its first snapshot (spawn → live
//! at the receiver's head; it copies the paged snapshot) is timed alone,
//! against the same baseline, with the receiver's peak RSS during the copy
//! (its `VmHWM`, reset before) and the new replica's. Last, the unpaged
//! snapshot an older replica asks for is fetched once, for the receiver's
//! peak RSS and time answering it in the same run.
//!
//!     cargo build --release -p callboard-server
//!     cargo run --release -p callboard-tests --bin catchup-bench -- [--events 10000] [--concurrency 32] [--max-catchup-ms 1000] [--max-first-snapshot-ms 1000]
//!
//! It exits non-zero when pulling and applying the missed events (the
//! reconnect's backoff wait apart) or the new replica's first snapshot takes
//! longer than its bound; the bounds are for 10,000 events (raise them with
//! `--events`).

use anyhow::{bail, Context, Result};
use callboard_tests::proxy::Proxy;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn status(rep: &TestServer) -> Result<Value> {
    Ok(rep.get_json("/api/replica/status", ADMIN_TOKEN).await?.1)
}

async fn head(srv: &TestServer) -> Result<i64> {
    srv.get_json("/healthz", ADMIN_TOKEN).await?.1["seq"]
        .as_i64()
        .context("no seq")
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS.
fn reset_peak(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .with_context(|| format!("reset the peak RSS of {pid}"))
}

/// The first 1,000 calls the console lists.
async fn calls(srv: &TestServer) -> Result<Value> {
    let (s, v) = srv.get_json("/api/calls?limit=1000", ADMIN_TOKEN).await?;
    if s != 200 {
        bail!("/api/calls answered {s}: {v}");
    }
    Ok(v)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn wait_caught_up(srv: &TestServer, rep: &TestServer, limit: Duration) -> Result<()> {
    let target = head(srv).await?;
    let end = Instant::now() + limit;
    loop {
        let s = status(rep).await?;
        if s["state"] == "live" && s["last_seq"].as_i64() == Some(target) {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("the replica did not catch up: {s}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut events = 10_000usize;
    let mut concurrency = 32usize;
    // Issue 17's floors (at 10,000 events): pulling and applying the missed
    // events, and a new replica's first snapshot, each within a second.
    let mut max_catchup_ms = 1_000.0f64;
    let mut max_first_ms = 1_000.0f64;
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--events" => events = v.parse()?,
            "--concurrency" => concurrency = v.parse()?,
            "--max-catchup-ms" => max_catchup_ms = v.parse()?,
            "--max-first-snapshot-ms" => max_first_ms = v.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    let srv = TestServer::start_process().await?;
    let (slug, key) = srv.provider("Bench").await?;
    let proxy = Proxy::start(&srv.addr).await?;
    let rep = TestServer::replica_in(tempfile::tempdir()?, &proxy.url(), ADMIN_TOKEN).await?;
    wait_caught_up(&srv, &rep, Duration::from_secs(60)).await?;

    proxy.cut();
    let end = Instant::now() + Duration::from_secs(60);
    while status(&rep).await?["state"] != "offline" {
        if Instant::now() > end {
            bail!("the replica never went offline");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Baseline: the receiver ingesting the events (durable acks).
    let next = Arc::new(AtomicUsize::new(0));
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, url, key, http) = (next.clone(), url.clone(), key.clone(), srv.http.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= events {
                    return Ok::<_, anyhow::Error>(());
                }
                let status = ["queued", "ringing", "no-answer"][i % 3];
                let body = json!({"data": {"call_id": format!("b{}", i / 3), "caller": "+919800000000", "status": status}});
                let r = http.post(&url).header("x-api-key", &key).json(&body).send().await?;
                if !r.status().is_success() {
                    bail!("webhook answered {}", r.status());
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let ingest = started.elapsed();

    let started = Instant::now();
    proxy.heal();
    // The reconnect waits for the backoff's next attempt: measured apart
    // (the replica says `reconnecting` once the receiver answers again).
    let end = Instant::now() + Duration::from_secs(120);
    while status(&rep).await?["state"] == "offline" {
        if Instant::now() > end {
            bail!("the replica did not reconnect");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reconnect = started.elapsed();
    wait_caught_up(&srv, &rep, Duration::from_secs(600)).await?;
    let catchup = started.elapsed();
    let apply = catchup - reconnect;

    let a = calls(&srv).await?;
    let b = calls(&rep).await?;
    if a != b {
        bail!("the replica's calls differ from the receiver's");
    }

    // A new desktop joining: everything above in its first snapshot, page
    // by page. The receiver's peak RSS is reset first.
    let pid = srv.pid().context("the receiver is a process")?;
    let receiver_idle = callboard_tests::proc_kib(pid, "VmRSS:")?;
    reset_peak(pid)?;
    let started = Instant::now();
    let fresh = TestServer::replica_in(tempfile::tempdir()?, &srv.url(""), ADMIN_TOKEN).await?;
    // When its console first lists a call (the cache fills as pages land).
    let mut first_calls = None;
    let target = head(&srv).await?;
    let end = Instant::now() + Duration::from_secs(600);
    loop {
        let s = status(&fresh).await?;
        if std::env::var_os("BENCH_TRACE").is_some() {
            eprintln!(
                "{:>6} ms {} {} {}",
                started.elapsed().as_millis(),
                s["state"],
                s["snapshot"],
                s["last_seq"]
            );
        }
        if s["state"] == "live" && s["last_seq"].as_i64() == Some(target) {
            break;
        }
        if first_calls.is_none() {
            let (_, v) = fresh.get_json("/api/calls?limit=1", ADMIN_TOKEN).await?;
            if v["data"].as_array().is_some_and(|d| !d.is_empty()) {
                first_calls = Some(started.elapsed());
            }
        }
        if Instant::now() > end {
            bail!("the new replica did not catch up: {s}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let first = started.elapsed();
    let receiver_peak = callboard_tests::proc_kib(pid, "VmHWM:")?;
    let replica_peak =
        callboard_tests::proc_kib(fresh.pid().context("the replica is a process")?, "VmHWM:")?;
    let c = calls(&fresh).await?;
    if a != c {
        bail!("the new replica's calls differ from the receiver's");
    }

    // What an older replica asks: every row in one answer.
    reset_peak(pid)?;
    let started = Instant::now();
    let r = srv
        .http
        .get(srv.url("/api/replica/snapshot"))
        .bearer_auth(ADMIN_TOKEN)
        .timeout(Duration::from_secs(600))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("the unpaged snapshot answered {}", r.status());
    }
    let unpaged_bytes = r.bytes().await?.len();
    let unpaged = started.elapsed();
    let unpaged_peak = callboard_tests::proc_kib(pid, "VmHWM:")?;

    println!("events: {events} webhooks ({} calls)", events.div_ceil(3));
    println!(
        "baseline — receiver ingest: {:.0} ms ({:.0} /s)",
        ingest.as_secs_f64() * 1000.0,
        events as f64 / ingest.as_secs_f64()
    );
    println!(
        "replica catch-up after the heal: {:.0} ms = {:.2}× the ingest time",
        catchup.as_secs_f64() * 1000.0,
        catchup.as_secs_f64() / ingest.as_secs_f64()
    );
    println!(
        "  of which waiting for the reconnect (backoff): {:.0} ms; pulling and applying: {:.0} ms ({:.0} events/s) = {:.2}× the ingest time",
        reconnect.as_secs_f64() * 1000.0,
        apply.as_secs_f64() * 1000.0,
        events as f64 / apply.as_secs_f64(),
        apply.as_secs_f64() / ingest.as_secs_f64()
    );
    println!(
        "a new replica's first snapshot (spawn → live at the receiver's head): {:.0} ms = {:.2}× the ingest time",
        first.as_secs_f64() * 1000.0,
        first.as_secs_f64() / ingest.as_secs_f64()
    );
    if let Some(t) = first_calls {
        println!(
            "  its console first listed a call after {:.0} ms",
            t.as_secs_f64() * 1000.0
        );
    }
    println!(
        "  receiver RSS before {:.1} MiB, peak during the copy {:.1} MiB; the new replica's peak {:.1} MiB",
        mib(receiver_idle),
        mib(receiver_peak),
        mib(replica_peak)
    );
    println!(
        "the unpaged snapshot (as an older replica asks): {:.0} ms, {:.1} MiB of JSON; receiver peak RSS {:.1} MiB",
        unpaged.as_secs_f64() * 1000.0,
        unpaged_bytes as f64 / 1048576.0,
        mib(unpaged_peak)
    );
    let mut missed = Vec::new();
    let apply_ms = apply.as_secs_f64() * 1000.0;
    if apply_ms > max_catchup_ms {
        missed.push(format!(
            "pulling and applying {events} missed events took {apply_ms:.0} ms > {max_catchup_ms:.0} ms"
        ));
    }
    let first_ms = first.as_secs_f64() * 1000.0;
    if first_ms > max_first_ms {
        missed.push(format!(
            "a new replica's first snapshot took {first_ms:.0} ms > {max_first_ms:.0} ms"
        ));
    }
    callboard_tests::floors(&missed)
}
