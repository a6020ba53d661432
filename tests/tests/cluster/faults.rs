//! The real binary, twice, on one PostgreSQL under load: SIGKILL one, and
//! restart PostgreSQL; nothing acknowledged may be lost.

use super::instance;
use super::shared::knows;
use anyhow::Result;
use callboard_tests::pg::Pg;
use callboard_tests::{until, ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn body(call_id: &str) -> Value {
    json!({ "data": { "call_id": call_id, "caller": "+15551234", "status": "no-answer" } })
}

/// Every call id in `ids` is stored and visible on `server`.
async fn all_stored(server: &TestServer, slug: &str, ids: &[String]) -> Result<()> {
    let missing = Arc::new(Mutex::new(Vec::new()));
    let mut set = tokio::task::JoinSet::new();
    for chunk in ids.chunks(ids.len().div_ceil(16).max(1)) {
        let chunk = chunk.to_vec();
        let http = server.http.clone();
        let base = server.base.clone();
        let slug = slug.to_string();
        let missing = Arc::clone(&missing);
        set.spawn(async move {
            for id in chunk {
                let r = http
                    .get(format!("{base}/api/calls/{id}?department={slug}"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await;
                if !matches!(r, Ok(ref r) if r.status() == 200) {
                    if let Ok(mut m) = missing.lock() {
                        m.push(id);
                    }
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let missing = missing.lock().map(|m| m.clone()).unwrap_or_default();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    Ok(())
}

async fn leads(server: &TestServer) -> bool {
    match server.get_json("/readyz", ADMIN_TOKEN).await {
        Ok((_, r)) => r["cluster"]["leader"] == true,
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_killed_mid_load_loses_nothing_and_its_jobs_move_to_the_survivor() -> Result<()>
{
    let pg = Pg::start()?;
    let url = pg.database()?;
    let a = instance(&url).await?;
    let b = instance(&url).await?;
    let (slug, key) = b.provider("Front desk").await?;
    knows(&a, &slug).await;
    until(10, "one of them leads", || async {
        leads(&a).await || leads(&b).await
    })
    .await;
    // The leader is the one killed, so its once-only jobs must move.
    let (mut victim, survivor) = if leads(&a).await { (a, b) } else { (b, a) };
    assert!(!leads(&survivor).await, "one leader at a time");
    let mut stream = ws::connect(&survivor.ws_url(ADMIN_TOKEN, None)).await?;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let targets = [victim.base.clone(), survivor.base.clone()];
    let mut senders = tokio::task::JoinSet::new();
    for conn in 0..64usize {
        let http = callboard_server::http::client()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(1)
            .build()?;
        let mut target = targets[conn % 2].clone();
        let fallback = survivor.base.clone();
        let slug = slug.clone();
        let key = key.clone();
        let acked = Arc::clone(&acked);
        senders.spawn(async move {
            for i in 0..25 {
                let id = format!("k-{conn}-{i}");
                let r = http
                    .post(format!("{target}/webhooks/ivr/{slug}"))
                    .header("x-api-key", &key)
                    .json(&body(&id))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        if let Ok(mut a) = acked.lock() {
                            a.push(id);
                        }
                    }
                    // The killed receiver: carry on against the survivor.
                    _ => target = fallback.clone(),
                }
            }
        });
    }
    // Kill one mid-load.
    until(20, "some of the load acknowledged", || async {
        acked.lock().map(|a| a.len() >= 300).unwrap_or(false)
    })
    .await;
    victim.kill9().await?;
    while senders.join_next().await.is_some() {}
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(acked.len() > 300, "{} acknowledged", acked.len());

    all_stored(&survivor, &slug, &acked).await?;

    // The survivor's stream: every call once, in seq order, with no gap.
    let mut seen: Vec<Value> = Vec::new();
    loop {
        match ws::next(&mut stream, Duration::from_secs(3)).await? {
            Some(e) if e.get("seq").is_some() => seen.push(e),
            Some(_) => {}
            None => break,
        }
    }
    let seqs: Vec<i64> = seen.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, no gap, no repeat"
    );
    let calls: Vec<String> = seen
        .iter()
        .filter(|e| e["type"] == "call.upserted")
        .filter_map(|e| e["data"]["call_id"].as_str().map(str::to_string))
        .collect();
    let unique: HashSet<&String> = calls.iter().collect();
    assert_eq!(unique.len(), calls.len(), "each call's event once");
    let streamed: BTreeSet<&str> = calls.iter().map(String::as_str).collect();
    for id in &acked {
        assert!(
            streamed.contains(id.as_str()),
            "{id} acknowledged but never streamed"
        );
    }

    // The once-only jobs run on the survivor now.
    until(10, "the survivor leads", || async {
        leads(&survivor).await
    })
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_restarts_writes_get_503_never_a_false_2xx_and_recover_alone() -> Result<()>
{
    let pg = Pg::start()?;
    let url = pg.database()?;
    let r = instance(&url).await?;
    let (slug, key) = r.provider("Night shift").await?;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let statuses = Arc::new(Mutex::new(Vec::<u16>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = tokio::task::JoinSet::new();
    for conn in 0..8usize {
        let http = callboard_server::http::client()
            .timeout(Duration::from_secs(20))
            .build()?;
        let url = r.url(&format!("/webhooks/ivr/{slug}"));
        let key = key.clone();
        let (acked, statuses, stop) =
            (Arc::clone(&acked), Arc::clone(&statuses), Arc::clone(&stop));
        senders.spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let id = format!("p-{conn}-{i}");
                i += 1;
                if let Ok(resp) = http
                    .post(&url)
                    .header("x-api-key", &key)
                    .json(&body(&id))
                    .send()
                    .await
                {
                    let s = resp.status().as_u16();
                    if let Ok(mut st) = statuses.lock() {
                        st.push(s);
                    }
                    if resp.status().is_success() {
                        if let Ok(mut a) = acked.lock() {
                            a.push(id);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    pg.stop()?;
    let before_down = acked.lock().map(|a| a.len()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (down, body503) = r
        .send(
            r.http
                .post(r.url(&format!("/webhooks/ivr/{slug}")))
                .header("x-api-key", &key)
                .json(&body("during")),
        )
        .await?;
    assert_eq!(down, 503, "{body503}");
    assert_eq!(body503["error"]["code"], "storage_unavailable", "{body503}");
    let (_, ready) = r.get_json("/readyz", ADMIN_TOKEN).await?;
    assert_eq!(ready["status"], "not_ready", "{ready}");
    pg.start_again()?;
    // Recovers without a restart.
    until(20, "webhooks are stored again", || async {
        r.webhook(&slug, &key, &body("after"))
            .await
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Release);
    while senders.join_next().await.is_some() {}

    let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "only 200 or 503: {statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "some writes were refused while it was down"
    );
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(
        acked.len() > before_down,
        "writes resumed after the restart"
    );
    all_stored(&r, &slug, &acked).await?;
    // And in PostgreSQL itself: a fresh instance, started from the log, has them.
    let fresh = instance(&url).await?;
    all_stored(&fresh, &slug, &acked).await?;
    Ok(())
}
