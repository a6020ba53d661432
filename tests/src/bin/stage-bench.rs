//! Stage benchmark: what each stage of a durable webhook costs, measured in
//! process without HTTP, so the figures are not drowned by the load
//! generator and the network stack sharing the cores (`ingest-bench` gives
//! those: the server's and the bench's CPU per request).
//!
//! - **prepare**: `Delivery::prepare` (normalise the body, map it, check its
//!   times), one thread, µs per delivery;
//! - **writer**: CPU of the writer thread per job (read from `/proc`) and
//!   wall time per job, `--in-flight` jobs queued at once as the HTTP
//!   workers would: an empty job (the queue, the job's savepoint, its share
//!   of the batch's commit), a delivery whose mapping fails (the duplicate
//!   check and the delivery row alone), and the whole ingestion
//!   (`ingest-bench`'s department and events: the call upsert and its
//!   triggers besides) as shipped, then without one mapped field (the
//!   agent's name, the caller's number and name, the status) or with one
//!   group of triggers or indexes dropped, each on a fresh database. What
//!   leaving a part out saves is what it costs.
//!
//! Every variant runs `--rounds` times, and each variant of the whole
//! ingestion right after a run of the whole ingestion on its own fresh
//! database: the table gives its median ratio to that neighbour, since the
//! machine's speed drifts between minutes by more than most stages cost.
//!
//!     cargo run --release -p callboard-tests --bin stage-bench -- [--jobs 30000] [--rounds 3] [--in-flight 64] [--only NAME]

use anyhow::{bail, Context, Result};
use callboard_core::store::audit::Actor;
use callboard_core::store::ingest::{self, Delivery, IngestResult, Received};
use callboard_core::store::providers::{self, NewProvider, ProviderRuntime};
use callboard_core::Store;
use callboard_tests::{bench_event, cpu, generic_mapping, generic_status_map, probe_schema};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

struct Args {
    jobs: usize,
    rounds: usize,
    in_flight: usize,
    /// Run only the variants whose name holds this (for a profile of one).
    only: Option<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        jobs: 30_000,
        rounds: 3,
        in_flight: 64,
        only: None,
    };
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--jobs" => a.jobs = v.parse()?,
            "--rounds" => a.rounds = v.parse()?,
            "--in-flight" => a.in_flight = v.parse()?,
            "--only" => a.only = Some(v),
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// A delivery its department's mapping (`{"call_id": "id"}`) cannot take:
/// stored with its error, so only the duplicate check and the delivery row
/// are written.
fn unmappable(i: usize) -> Vec<u8> {
    json!({"data": {"note": format!("n{i}")}})
        .to_string()
        .into_bytes()
}

#[derive(Clone, Copy, PartialEq)]
enum Job {
    Empty,
    DeliveryRow,
    Ingest,
}

fn prepare(provider: &ProviderRuntime, store: &Store, bytes: &[u8]) -> Result<Delivery> {
    Delivery::prepare(
        provider,
        Received {
            method: "POST",
            content_type: Some("application/json"),
            body: bytes,
            query: None,
            request_id: None,
            at: store.now(),
            max_future_skew: None,
        },
    )
    .map_err(|e| anyhow::anyhow!("prepare: {e}"))
}

async fn run_job(store: &Store, provider: &ProviderRuntime, job: Job, i: usize) -> Result<()> {
    match job {
        Job::Empty => store.write(|_| Ok(())).await?,
        Job::DeliveryRow => {
            let d = prepare(provider, store, &unmappable(i))?;
            match store.write(move |w| ingest::ingest(w, d)).await? {
                IngestResult::MappingFailed { .. } => {}
                IngestResult::Applied { call, .. } => {
                    bail!(
                        "an unmappable delivery was applied to call {}",
                        call.call_id
                    )
                }
                IngestResult::Duplicate { duplicate_of, .. } => {
                    bail!("an unmappable delivery was a duplicate of {duplicate_of}")
                }
            }
        }
        Job::Ingest => {
            let d = prepare(provider, store, &bench_event(i).to_string().into_bytes())?;
            match store.write(move |w| ingest::ingest(w, d)).await? {
                IngestResult::Applied { .. } => {}
                _ => bail!("delivery {i} was not applied"),
            }
        }
    }
    Ok(())
}

/// Runs jobs `from..to`, `in_flight` at a time.
async fn fire(
    store: &Store,
    provider: &Arc<ProviderRuntime>,
    job: Job,
    from: usize,
    to: usize,
    in_flight: usize,
) -> Result<()> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(from));
    let mut tasks = Vec::new();
    for _ in 0..in_flight {
        let (store, provider, next) = (store.clone(), provider.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= to {
                    return Ok::<_, anyhow::Error>(());
                }
                run_job(&store, &provider, job, i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// The writer thread's name as `/proc` shows it (cut to 15 bytes).
const WRITER_THREAD: &str = "callboard-write";

struct Figure {
    writer_us: f64,
    wall_us: f64,
    /// Jobs per committed transaction.
    mean_batch: f64,
}

/// What one line of the table measures.
struct Variant {
    name: &'static str,
    job: Job,
    /// The department's mapping, when not `ingest-bench`'s.
    mapping: Option<serde_json::Value>,
    /// SQL run after the warm-up (a trigger or index dropped).
    probe: Option<&'static str>,
}

/// One variant on a fresh database: warm up, change the schema, measure.
async fn measure(a: &Args, v: &Variant) -> Result<Figure> {
    let (job, probe) = (v.job, v.probe);
    // As `ingest-bench`'s department unless the variant says otherwise.
    let mapping = v.mapping.clone().unwrap_or_else(generic_mapping);
    let (dir, store, provider) = department(mapping).await?;
    let path = dir.path().join("callboard.db");
    let warm = 2_000;
    fire(&store, &provider, job, 0, warm, a.in_flight).await?;
    if let Some(sql) = probe {
        probe_schema(&path, sql)?;
    }
    let pid = std::process::id();
    let before = cpu::Process::read(pid)?;
    let stats = store.writer_stats();
    let (jobs0, batches0) = (stats.jobs(), stats.batches());
    let start = Instant::now();
    fire(&store, &provider, job, warm, warm + a.jobs, a.in_flight).await?;
    let wall = start.elapsed();
    let after = cpu::Process::read(pid)?;
    let stats = store.writer_stats();
    let mean_batch = (stats.jobs() - jobs0) as f64 / (stats.batches() - batches0).max(1) as f64;
    store.close().await;
    let per_job = 1e6 / a.jobs as f64;
    Ok(Figure {
        writer_us: after.thread_ns_since(&before, WRITER_THREAD) as f64 / 1e3 / a.jobs as f64,
        wall_us: wall.as_secs_f64() * per_job,
        mean_batch,
    })
}

/// A fresh database in a new directory with one department mapped by `mapping`.
async fn department(
    mapping: serde_json::Value,
) -> Result<(tempfile::TempDir, Store, Arc<ProviderRuntime>)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(
        dir.path().join("callboard.db"),
        callboard_core::time::system_clock(),
    )?;
    let actor = Actor {
        user_id: None,
        name: "stage-bench".into(),
    };
    let slug = store
        .write(move |w| {
            let created = providers::create(
                w,
                NewProvider {
                    name: "Bench".into(),
                    field_mapping: Some(mapping),
                    status_map: Some(generic_status_map()),
                    ..Default::default()
                },
                &actor,
            )?;
            Ok(created.provider.slug)
        })
        .await?;
    let provider = store
        .providers()
        .get(&slug)
        .context("the provider is not in the cache")?;
    Ok((dir, store, provider))
}

/// µs per `Delivery::prepare`, one thread.
async fn prepare_cost(jobs: usize) -> Result<f64> {
    let (_dir, store, provider) = department(generic_mapping()).await?;
    let bodies: Vec<Vec<u8>> = (0..jobs)
        .map(|i| bench_event(i).to_string().into_bytes())
        .collect();
    let start = Instant::now();
    for b in &bodies {
        std::hint::black_box(prepare(&provider, &store, b)?);
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / jobs as f64;
    store.close().await;
    Ok(us)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args()?;
    // The allocator as `callboard serve` sets it (arenas, fixed thresholds).
    if std::env::var_os("STAGE_BENCH_DEFAULT_MALLOC").is_none() {
        callboard_server::memory::tune();
    }
    let generic = |drop: &[&str]| {
        let mut m = generic_mapping();
        if let Some(o) = m.as_object_mut() {
            for k in drop {
                o.remove(*k);
            }
        }
        Some(m)
    };
    let shipped = |name, probe| Variant {
        name,
        job: Job::Ingest,
        mapping: None,
        probe: Some(probe),
    };
    let variants = vec![
        Variant { name: "an empty job (queue, savepoint, share of the commit)", job: Job::Empty, mapping: None, probe: None },
        // No call id: a mapping with fallbacks would make one up.
        Variant { name: "the duplicate check and the delivery row (an unmappable delivery)", job: Job::DeliveryRow,
            mapping: Some(json!({"call_id": "id"})), probe: None },
        Variant { name: "**the whole ingestion** (`ingest-bench`'s department and events)", job: Job::Ingest, mapping: None, probe: None },
        Variant { name: "— without the agent's name (no agent to attribute)", job: Job::Ingest,
            mapping: generic(&["agent_name"]), probe: None },
        Variant { name: "— without the caller's number and name (nothing to normalise or index for search)", job: Job::Ingest,
            mapping: generic(&["mobile_number", "caller_name"]), probe: None },
        Variant { name: "— without a status (no call ends missed: no worklist, no SLA)", job: Job::Ingest,
            mapping: generic(&["status"]), probe: None },
        shipped("— without the number-search index (FTS5) triggers",
            "DROP TRIGGER calls_search_ins; DROP TRIGGER calls_search_upd"),
        shipped("— without the quarter change counters",
            "DROP TRIGGER metrics_quarters_ins; DROP TRIGGER metrics_quarters_upd"),
        shipped("— without the row-change log (replicas)",
            "DROP TRIGGER calls_ins; DROP TRIGGER calls_upd; DROP TRIGGER raw_events_ins"),
        shipped("— without the worklist and SLA-breach counts",
            "DROP TRIGGER worklist_counts_ins; DROP TRIGGER worklist_counts_upd; DROP TRIGGER sla_breached_counts_ins; DROP TRIGGER sla_breached_counts_upd"),
        shipped("— without the six worklist indexes",
            "DROP INDEX calls_work_sla; DROP INDEX calls_work_since; DROP INDEX calls_work_attempts; DROP INDEX calls_work_number; DROP INDEX calls_work_callback; DROP INDEX calls_open_offered"),
        shipped("— without the delivery rows' indexes",
            "DROP INDEX raw_events_provider; DROP INDEX raw_events_call; DROP INDEX raw_events_failed; DROP INDEX raw_events_received"),
    ];
    println!(
        "# stage-bench  {}  cpus={}  jobs={}  rounds={}  in flight={}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        a.jobs,
        a.rounds,
        a.in_flight
    );
    const WHOLE: usize = 2;
    let mut prep = Vec::new();
    let mut figures: Vec<Vec<Figure>> = variants.iter().map(|_| Vec::new()).collect();
    // Each variant of the whole ingestion beside a run of the whole
    // ingestion just before it: the machine's speed drifts by a quarter
    // between minutes, so a variant is read as its ratio to its neighbour.
    let mut ratios: Vec<Vec<f64>> = variants.iter().map(|_| Vec::new()).collect();
    let wanted = |v: &Variant| a.only.as_deref().is_none_or(|o| v.name.contains(o));
    for round in 0..a.rounds {
        prep.push(prepare_cost(a.jobs).await?);
        for (n, v) in variants.iter().enumerate() {
            if !wanted(v) || (n == WHOLE && a.only.is_none()) {
                continue;
            }
            let beside = if v.job == Job::Ingest && n != WHOLE {
                let f = measure(&a, &variants[WHOLE]).await?;
                let w = f.writer_us;
                figures[WHOLE].push(f);
                Some(w)
            } else {
                None
            };
            let f = measure(&a, v).await?;
            eprintln!(
                "round {}: {}: writer {:.1} µs, wall {:.1} µs per job, {:.1} jobs per commit{}",
                round + 1,
                v.name,
                f.writer_us,
                f.wall_us,
                f.mean_batch,
                beside
                    .map(|b| format!(" (the whole ingestion just before: {b:.1} µs)"))
                    .unwrap_or_default()
            );
            if let Some(b) = beside {
                ratios[n].push(f.writer_us / b);
            }
            figures[n].push(f);
        }
    }
    if a.only.is_some() {
        return Ok(());
    }
    println!();
    println!(
        "| stage | writer CPU per job (median) | wall per job (median) | jobs per commit | vs the whole ingestion beside it (median) |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| normalise and map (`Delivery::prepare`, off the writer) | {:.1} µs (one thread) | | | |",
        median(prep)
    );
    let whole = median(figures[WHOLE].iter().map(|f| f.writer_us).collect());
    for (n, Variant { name, .. }) in variants.iter().enumerate() {
        let w = median(figures[n].iter().map(|f| f.writer_us).collect());
        let wall = median(figures[n].iter().map(|f| f.wall_us).collect());
        let batch = median(figures[n].iter().map(|f| f.mean_batch).collect());
        let vs = if ratios[n].is_empty() {
            w / whole
        } else {
            median(ratios[n].clone())
        };
        println!("| {name} | {w:.1} µs | {wall:.1} µs | {batch:.1} | {vs:.2}× |");
    }
    Ok(())
}
