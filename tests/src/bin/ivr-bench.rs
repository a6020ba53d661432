//! IVR benchmark: simulated callers walk a 17-node flow through the real
//! `callboard` binary's dialect endpoint (`/ivr/{slug}`, JSON dialect), one
//! HTTP request per step; step latency p50/p99 next to the no-op route
//! (`GET /healthz`) measured in the same run at the same concurrency. Also
//! times the validation of a 200-node flow. Exits non-zero when the step
//! p99 is above the floor (10 ms) or validation above 10 ms.
//!
//! A simulated caller listens before pressing a key: `--think-ms` (1000)
//! between its steps, and the callers' first steps are spread over one
//! think time, so 500 callers offer about 500 steps/s, as 500 real callers
//! in menus would. `--think-ms 0` sends back to back (a saturation test:
//! then the latency measures the queue, not a step).
//!
//!     cargo build --release -p callboard-server -p callboard-tests --bin callboard --bin ivr-bench
//!     CALLBOARD_BIN=target/release/callboard ./target/release/ivr-bench [--callers 500] [--think-ms 1000] [--floor-ms 10]

use anyhow::{bail, Result};
use callboard_core::ivr::validate::{validate, Context as VContext};
use callboard_tests::{pct, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const MENUS: usize = 8;

/// welcome, 8 menus with a play between each pair, a goodbye: 17 nodes.
fn flow() -> Value {
    let mut nodes = vec![
        json!({"id": "welcome", "type": "welcome", "say": "Welcome to the bench line", "next": "m0"}),
    ];
    for i in 0..MENUS {
        let next = if i + 1 == MENUS {
            "bye".to_string()
        } else {
            format!("p{i}")
        };
        nodes.push(json!({"id": format!("m{i}"), "type": "menu", "say": format!("Menu {i}: press 1"),
            "options": {"1": next}, "timeout_seconds": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "bye"}));
        if i + 1 < MENUS {
            nodes.push(json!({"id": format!("p{i}"), "type": "play", "say": format!("You chose {i}"), "next": format!("m{}", i + 1)}));
        }
    }
    nodes.push(json!({"id": "bye", "type": "hangup", "say": "Goodbye"}));
    json!({"name": "Bench", "entry": "welcome", "nodes": nodes})
}

fn big_flow(n: usize) -> Value {
    let mut nodes = vec![json!({"id": "n0", "type": "welcome", "say": "hi", "next": "m1"})];
    for i in 1..n - 1 {
        let next = if i == n - 2 {
            "end".to_string()
        } else {
            format!("m{}", i + 1)
        };
        nodes.push(
            json!({"id": format!("m{i}"), "type": "menu", "say": "press {{caller}}",
            "options": {"1": next, "2": "n0"}, "on_invalid": "end", "on_timeout": "end"}),
        );
    }
    nodes.push(json!({"id": "end", "type": "hangup"}));
    json!({"name": "Big", "entry": "n0", "nodes": nodes})
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let mut callers = 500usize;
    let mut floor_ms = 10.0f64;
    let mut think_ms = 1000u64;
    for (flag, v) in callboard_tests::bench_flags()? {
        match flag.as_str() {
            "--callers" => callers = v.parse()?,
            "--floor-ms" => floor_ms = v.parse()?,
            "--think-ms" => think_ms = v.parse()?,
            _ => bail!("unknown flag {flag}"),
        }
    }

    // Validation of a 200-node flow (in-process, best of 20).
    let big = big_flow(200);
    let mut best = Duration::MAX;
    for _ in 0..20 {
        let t = Instant::now();
        let (_, errors) = validate(&big, &VContext::default());
        best = best.min(t.elapsed());
        if !errors.is_empty() {
            bail!("the 200-node flow is invalid: {errors:?}");
        }
    }

    // The real release server in its own process (`CALLBOARD_BIN`), with
    // the allocator settings of `callboard serve`: not a receiver sharing
    // this process's runtime with the callers.
    let srv = TestServer::start_process_with_env(&[(
        "CALLBOARD_METRICS_TOKEN",
        callboard_tests::BENCH_METRICS_TOKEN,
    )])
    .await?;
    let (s, p) = srv
        .post_json("/api/providers", ADMIN_TOKEN, &json!({"name": "Bench IVR", "auth_config": {"scheme": "query_token", "param": "token"}}))
        .await?;
    if s != 201 {
        bail!("provider: {s} {p}");
    }
    let slug = p["slug"].as_str().unwrap_or_default().to_string();
    let key = p["api_key"].as_str().unwrap_or_default().to_string();
    let (s, f) = srv.post_json("/api/flows", ADMIN_TOKEN, &flow()).await?;
    if s != 201 || f["errors"] != json!([]) {
        bail!("flow: {s} {f}");
    }
    let id = f["id"].as_i64().unwrap_or_default();
    let (s, b) = srv
        .post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await?;
    if s != 200 {
        bail!("publish: {s} {b}");
    }
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"flow_id": id, "ivr_dialect": "json"}),
        )
        .await?;
    if s != 200 {
        bail!("attach: {s} {b}");
    }
    let url = srv.url(&format!("/ivr/{slug}?token={key}"));
    let health = srv.url("/healthz");
    let http = callboard_server::http::client()
        .pool_max_idle_per_host(callers)
        .build()?;

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..callers {
        let (http, url, health) = (http.clone(), url.clone(), health.clone());
        tasks.spawn(async move {
            let mut steps: Vec<Duration> = Vec::with_capacity(MENUS + 1);
            let mut noop: Vec<Duration> = Vec::with_capacity(MENUS + 1);
            let call_id = format!("bench-{c}");
            let mut next_url = url.clone();
            let think = Duration::from_millis(think_ms);
            // Callers arrive spread over one think time, not all at once.
            tokio::time::sleep(think.mul_f64(c as f64 / callers as f64)).await;
            for i in 0..=MENUS {
                if i > 0 {
                    tokio::time::sleep(think).await;
                }
                let body = if i == 0 {
                    json!({"call_id": call_id, "caller": format!("+9198{c:08}"), "did": "18001234", "event": "start"})
                } else {
                    json!({"call_id": call_id, "event": "digits", "digits": "1"})
                };
                let t = Instant::now();
                let r = http.post(&next_url).json(&body).send().await?;
                let status = r.status();
                let answer: Value = r.json().await?;
                steps.push(t.elapsed());
                if !status.is_success() {
                    bail!("step {i} of {call_id}: {status} {answer}");
                }
                match answer["next_url"].as_str() {
                    Some(u) => next_url = u.to_string(),
                    None if i == MENUS => {}
                    None => bail!("step {i} of {call_id}: no next_url in {answer}"),
                }
                let t = Instant::now();
                let r = http.get(&health).send().await?;
                let _ = r.bytes().await?;
                noop.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>((steps, noop))
        });
    }
    let mut steps = Vec::new();
    let mut noop = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (s, n) = r??;
        steps.extend(s);
        noop.extend(n);
    }
    let wall = started.elapsed();
    steps.sort();
    noop.sort();
    // Every caller ended at the goodbye.
    let (s, a) = srv
        .get_json(&format!("/api/flows/{id}/analytics"), ADMIN_TOKEN)
        .await?;
    let completed = a["exit_reasons"]["completed"].as_i64().unwrap_or(0);
    println!("ivr-bench: {callers} concurrent callers × {} steps through a 17-node flow (JSON dialect), {think_ms} ms between a caller's steps, in {:.2} s", MENUS + 1, wall.as_secs_f64());
    println!(
        "  IVR step      p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} steps, {:.0} steps/s)",
        pct(&steps, 0.5),
        pct(&steps, 0.99),
        pct(&steps, 1.0),
        steps.len(),
        steps.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "  GET /healthz  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} requests, same run)",
        pct(&noop, 0.5),
        pct(&noop, 0.99),
        pct(&noop, 1.0),
        noop.len()
    );
    println!(
        "  validation of a 200-node flow: {:.3} ms (best of 20)",
        best.as_secs_f64() * 1000.0
    );
    println!("  analytics: {s}, {completed} calls completed");
    println!(
        "  the writer's commits (write and sync): {}",
        callboard_tests::commit_times(&srv).await?
    );
    if completed != callers as i64 {
        bail!("{completed} of {callers} callers completed the flow");
    }
    let p99 = pct(&steps, 0.99);
    if p99 > floor_ms {
        bail!("step p99 {p99:.2} ms is above the floor of {floor_ms} ms");
    }
    if best.as_secs_f64() * 1000.0 > 10.0 {
        bail!("validating 200 nodes took more than 10 ms");
    }
    Ok(())
}
