//! Two in-process receivers on one database.

use anyhow::Result;
use callboard_tests::pg::Pg;
use callboard_tests::{event, until, ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

const METRICS: &str = "cluster-metrics-token";

/// A gauge's value in `server`'s `/metrics`.
async fn gauge(server: &TestServer, name: &str) -> Result<i64> {
    let text = server.get("/metrics", METRICS).send().await?.text().await?;
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("callboard_{name} ")))
        .ok_or_else(|| anyhow::anyhow!("no {name} in /metrics"))?;
    Ok(line.rsplit(' ').next().unwrap_or_default().parse()?)
}

async fn pair(pg: &Pg) -> Result<(String, TestServer, TestServer)> {
    let url = pg.database()?;
    let env = [
        ("CALLBOARD_DATABASE_URL", url.as_str()),
        ("CALLBOARD_METRICS_TOKEN", METRICS),
    ];
    let a = TestServer::start_with_env(&env).await?;
    let b = TestServer::start_with_env(&env).await?;
    Ok((url, a, b))
}

/// Waits until `server` knows provider `slug` (it followed the log).
pub async fn knows(server: &TestServer, slug: &str) {
    until(10, "the other instance knows the provider", || async {
        server
            .get_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
            .await
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    })
    .await;
}

async fn events(server: &TestServer, since: i64, quiet: Duration) -> Result<Vec<Value>> {
    let mut s = ws::connect(&server.ws_url(ADMIN_TOKEN, Some(since))).await?;
    let all = ws::collect(&mut s, 10_000, quiet).await?;
    Ok(all.into_iter().filter(|e| e.get("seq").is_some()).collect())
}

fn seqs(events: &[Value]) -> Vec<(i64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap_or(-1),
                e["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receivers_keep_one_history_with_duplicates_and_statuses_as_on_one_machine(
) -> Result<()> {
    let pg = Pg::start()?;
    let (_url, a, b) = pair(&pg).await?;
    let (slug, key) = a.provider("Sales").await?;
    knows(&b, &slug).await;

    // A call begun on one instance and answered on the other is one call.
    let (s, ack) = a
        .webhook(&slug, &key, &event("c-1", "ringing", "+15550001"))
        .await?;
    assert_eq!((s, ack["status"].as_str()), (200, Some("applied")), "{ack}");
    let (s, ack) = b
        .webhook(&slug, &key, &event("c-1", "answered", "+15550001"))
        .await?;
    assert_eq!((s, ack["status"].as_str()), (200, Some("applied")), "{ack}");

    // The same delivery sent to both at once: applied once, a duplicate once.
    let same = json!({ "data": { "call_id": "c-2", "caller": "+15550002", "status": "no-answer", "event_id": "ev-2" } });
    let (ra, rb) = tokio::join!(a.webhook(&slug, &key, &same), b.webhook(&slug, &key, &same));
    let mut outcomes = vec![
        ra?.1["status"].as_str().unwrap_or_default().to_string(),
        rb?.1["status"].as_str().unwrap_or_default().to_string(),
    ];
    outcomes.sort();
    assert_eq!(outcomes, ["applied", "duplicate"]);

    // Statuses only move forward, whichever instance hears the late event.
    let (s, _) = a
        .webhook(&slug, &key, &event("c-3", "completed", "+15550003"))
        .await?;
    assert_eq!(s, 200);
    let (s, _) = b
        .webhook(&slug, &key, &event("c-3", "ringing", "+15550003"))
        .await?;
    assert_eq!(s, 200);

    for server in [&a, &b] {
        until(10, "both calls reached this instance", || async {
            server.call(&slug, "c-3").await.is_ok() && server.call(&slug, "c-2").await.is_ok()
        })
        .await;
        assert_eq!(server.call(&slug, "c-1").await?["status"], "active");
        assert_eq!(server.call(&slug, "c-2").await?["status"], "missed");
        assert_eq!(server.call(&slug, "c-3").await?["status"], "completed");
    }

    // One event log: the same seq numbers, kinds and order on both streams.
    let on_a = events(&a, 0, Duration::from_millis(700)).await?;
    let on_b = events(&b, 0, Duration::from_millis(700)).await?;
    assert!(on_a.len() >= 5, "{on_a:?}");
    assert_eq!(seqs(&on_a), seqs(&on_b));
    let s = seqs(&on_a);
    assert!(
        s.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "gap-free: {s:?}"
    );

    // Exactly one leads; both reach PostgreSQL (the Prometheus gauges).
    until(10, "one leader", || async {
        matches!(
            (gauge(&a, "cluster_leader").await, gauge(&b, "cluster_leader").await),
            (Ok(x), Ok(y)) if x + y == 1
        )
    })
    .await;
    assert_eq!(gauge(&a, "cluster_connected").await?, 1);
    assert_eq!(gauge(&b, "cluster_connected").await?, 1);
    assert!(gauge(&b, "cluster_applied_entry").await? > 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_on_one_instance_sees_the_other_instances_events_at_once() -> Result<()> {
    let pg = Pg::start()?;
    let (_url, a, b) = pair(&pg).await?;
    let (slug, key) = a.provider("Support").await?;
    knows(&b, &slug).await;
    let mut stream = ws::connect(&a.ws_url(ADMIN_TOKEN, None)).await?;
    let (s, _) = b
        .webhook(&slug, &key, &event("live-1", "queued", "+15550010"))
        .await?;
    assert_eq!(s, 200);
    let mut seen = None;
    for _ in 0..20 {
        match ws::next(&mut stream, Duration::from_secs(5)).await? {
            Some(e) if e["type"] == "call.upserted" => {
                seen = Some(e);
                break;
            }
            Some(_) => continue,
            None => break,
        }
    }
    let e = seen.expect("the event reached the other instance's stream");
    assert_eq!(e["data"]["call_id"], "live-1");
    Ok(())
}

/// The sequencer, forced: a transaction holding entry N uncommitted keeps
/// every instance from numbering N+1, so no reader can see N+1 and miss N.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncommitted_log_entry_holds_back_every_later_one() -> Result<()> {
    let pg = Pg::start()?;
    let (url, a, b) = pair(&pg).await?;
    let (slug, key) = a.provider("Billing").await?;
    knows(&b, &slug).await;

    let (held_tx, held_rx) = std::sync::mpsc::channel::<i64>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let raw_url = url.clone();
    let raw = std::thread::spawn(move || -> Result<()> {
        let mut c = postgres::Client::connect(&raw_url, postgres::NoTls)?;
        c.batch_execute("BEGIN")?;
        let head: i64 = c
            .query_one(
                "SELECT head FROM callboard_cluster WHERE id = 1 FOR UPDATE",
                &[],
            )?
            .get(0);
        let empty: Vec<u8> = Vec::new();
        c.execute(
            "INSERT INTO callboard_log (seq, origin, changeset, sequences) VALUES ($1, 'held', $2, '{}')",
            &[&(head + 1), &empty],
        )?;
        c.execute(
            "UPDATE callboard_cluster SET head = $1 WHERE id = 1",
            &[&(head + 1)],
        )?;
        held_tx.send(head + 1)?;
        go_rx.recv()?;
        c.batch_execute("COMMIT")?;
        Ok(())
    });
    let held = held_rx.recv_timeout(Duration::from_secs(10))?;

    let body = event("held-1", "ringing", "+15550020");
    let write = {
        let http = b.http.clone();
        let url = b.url(&format!("/webhooks/ivr/{slug}"));
        let key = key.clone();
        tokio::spawn(async move {
            let r = http
                .post(url)
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await?;
            Ok::<_, anyhow::Error>(r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !write.is_finished(),
        "a write committed while an earlier entry was uncommitted"
    );
    go_tx.send(())?;
    raw.join()
        .map_err(|_| anyhow::anyhow!("the holding thread panicked"))??;
    assert_eq!(write.await??, 200);

    let order = pg.psql(
        url.rsplit('/').next().unwrap_or_default(),
        &format!(
            "SELECT string_agg(origin, ',' ORDER BY seq) FROM callboard_log WHERE seq >= {held}"
        ),
    )?;
    let origins: Vec<&str> = order.split(',').collect();
    assert_eq!(origins.first(), Some(&"held"), "{order}");
    assert_eq!(
        origins.len(),
        2,
        "the write came right after the held entry: {order}"
    );
    // Both instances follow past both entries.
    for server in [&a, &b] {
        until(
            10,
            "the instance applied the held entry and the write",
            || async {
                let (_, r) = server
                    .get_json("/readyz", ADMIN_TOKEN)
                    .await
                    .unwrap_or_default();
                r["cluster"]["applied"].as_i64().unwrap_or(0) > held
            },
        )
        .await;
        assert_eq!(server.call(&slug, "held-1").await?["status"], "ringing");
    }
    Ok(())
}

/// The leader's snapshots keep the log short: the entries only an older
/// snapshot needed go, and an instance started afterwards (from the new
/// snapshot) has every call and follows what comes next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_lets_the_old_log_go_and_new_instances_start_from_it() -> Result<()> {
    let pg = Pg::start()?;
    let (url, a, b) = pair(&pg).await?;
    let db = url.rsplit('/').next().unwrap_or_default().to_string();
    let (slug, key) = a.provider("Archive").await?;
    knows(&b, &slug).await;
    for i in 0..20 {
        let (s, _) = b
            .webhook(
                &slug,
                &key,
                &event(&format!("s-{i}"), "no-answer", "+15550300"),
            )
            .await?;
        assert_eq!(s, 200);
    }
    let store = a.store().expect("in-process");
    until(10, "a has followed b", || async {
        a.call(&slug, "s-19").await.is_ok()
    })
    .await;
    let first = store.compact_cluster().await?.expect("a cluster");
    let head1 = first.snapshot_head.expect("a new snapshot");
    assert_eq!(
        first.deleted, 0,
        "the founding snapshot's entries are still needed"
    );
    let again = store.compact_cluster().await?.expect("a cluster");
    assert_eq!(again.snapshot_head, None, "nothing new: no snapshot");

    let (s, _) = b
        .webhook(&slug, &key, &event("s-late", "no-answer", "+15550300"))
        .await?;
    assert_eq!(s, 200);
    until(10, "a has the late call", || async {
        a.call(&slug, "s-late").await.is_ok()
    })
    .await;
    let second = store.compact_cluster().await?.expect("a cluster");
    assert!(second.snapshot_head.is_some_and(|h| h > head1));
    assert!(second.deleted > 0, "{second:?}");
    let oldest: i64 = pg
        .psql(&db, "SELECT MIN(seq) FROM callboard_log")?
        .parse()?;
    assert_eq!(
        oldest,
        head1 + 1,
        "only entries after the previous snapshot are kept"
    );
    assert_eq!(
        pg.psql(&db, "SELECT COUNT(*) FROM callboard_snapshots")?,
        "2"
    );

    let c = TestServer::start_with_env(&[("CALLBOARD_DATABASE_URL", &url)]).await?;
    for id in ["s-0", "s-19", "s-late"] {
        assert_eq!(c.call(&slug, id).await?["status"], "missed");
    }
    let (s, _) = b
        .webhook(&slug, &key, &event("s-after", "ringing", "+15550300"))
        .await?;
    assert_eq!(s, 200);
    until(10, "the new instance follows", || async {
        c.call(&slug, "s-after").await.is_ok()
    })
    .await;
    Ok(())
}

/// A desktop replica behind a load balancer that moves it from one instance
/// to another mid-stream continues where it was: the same seq numbers and
/// change feed on every instance, nothing applied twice, nothing missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_moved_to_another_instance_continues_where_it_was() -> Result<()> {
    let pg = Pg::start()?;
    let (_url, a, b) = pair(&pg).await?;
    let (slug, key) = a.provider("Desk").await?;
    knows(&b, &slug).await;
    let proxy = callboard_tests::proxy::Proxy::start(&a.addr).await?;
    let rep = TestServer::replica_in(tempfile::tempdir()?, &proxy.url(), ADMIN_TOKEN).await?;
    let head = |s: &TestServer| {
        let s = s.get("/healthz", ADMIN_TOKEN);
        async move {
            let v: Value = s.send().await?.json().await?;
            Ok::<_, anyhow::Error>(v["seq"].as_i64().unwrap_or(-1))
        }
    };
    let live_at = |target: i64| {
        let rep = &rep;
        async move {
            let (_, st) = rep
                .get_json("/api/replica/status", ADMIN_TOKEN)
                .await
                .unwrap_or_default();
            st["state"] == "live" && st["last_seq"].as_i64() == Some(target)
        }
    };
    for i in 0..5 {
        let (s, _) = a
            .webhook(
                &slug,
                &key,
                &event(&format!("r-a{i}"), "no-answer", "+15550500"),
            )
            .await?;
        assert_eq!(s, 200);
    }
    let at_a = head(&a).await?;
    until(30, "the replica follows a", || live_at(at_a)).await;
    let since = at_a;
    let mut window = ws::connect(&rep.ws_url(ADMIN_TOKEN, Some(since))).await?;

    // The balancer moves it: every connection to a dropped, new ones go to b.
    proxy.cut();
    proxy.set_target(&b.addr);
    proxy.heal();
    for i in 0..5 {
        let (s, _) = b
            .webhook(
                &slug,
                &key,
                &event(&format!("r-b{i}"), "no-answer", "+15550500"),
            )
            .await?;
        assert_eq!(s, 200);
    }
    let at_b = head(&b).await?;
    until(10, "one history: a reaches b's head", || async {
        head(&a).await.ok() == Some(at_b)
    })
    .await;
    until(30, "the replica follows b", || live_at(at_b)).await;
    for id in ["r-a0", "r-a4", "r-b0", "r-b4"] {
        assert_eq!(rep.call(&slug, id).await?["status"], "missed", "{id}");
    }
    let msgs = ws::collect(&mut window, (at_b - since) as usize, Duration::from_secs(5)).await?;
    let seqs: Vec<i64> = msgs.iter().filter_map(|m| m["seq"].as_i64()).collect();
    let expected: Vec<i64> = (since + 1..=at_b).collect();
    assert_eq!(seqs, expected, "each event once, in order, across the move");
    Ok(())
}
