//! `/readyz` goes red with a reason when the writer cannot commit or the disk
//! is below its floor, and green again by itself; `/metrics` is opt-in,
//! token-protected, and counts what happened.

use callboard_tests::{ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

fn missed(call_id: &str) -> Value {
    json!({ "data": { "call_id": call_id, "caller": "+919800000001", "status": "no-answer" } })
}

async fn readyz(srv: &TestServer) -> (u16, Value) {
    let r = srv.http.get(srv.url("/readyz")).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

#[tokio::test]
async fn readyz_is_green_on_a_healthy_receiver_and_reports_each_provider() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Ready").await.unwrap();
    let (s, b) = readyz(&srv).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "ready");
    assert_eq!(b["reasons"], json!([]));
    assert_eq!(b["writer"]["ok"], true);
    assert_eq!(b["schema"]["ok"], true);
    assert_eq!(b["disk"]["ok"], true);
    assert!(b["disk"]["free_bytes"].as_u64().unwrap() > 0);
    assert_eq!(b["providers"][0]["slug"], slug.as_str());
    assert_eq!(b["providers"][0]["last_delivery_at"], Value::Null);

    let (s, _) = srv.webhook(&slug, &key, &missed("r1")).await.unwrap();
    assert_eq!(s, 200);
    let (_, b) = readyz(&srv).await;
    let p = &b["providers"][0];
    assert!(p["last_delivery_at"].is_string(), "{b}");
    assert!(p["age_seconds"].as_i64().unwrap() <= 5, "{b}");

    // /healthz stays the cheap liveness check.
    let r = srv.http.get(srv.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn readyz_is_red_below_the_disk_floor() {
    let dir = tempfile::tempdir().unwrap();
    // A floor no test machine has: 1 EiB.
    let srv = TestServer::launch(dir, &["serve", "--disk-floor-mb", "1099511627776"], &[])
        .await
        .unwrap();
    let (s, b) = readyz(&srv).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["status"], "not_ready");
    assert_eq!(b["disk"]["ok"], false);
    let reasons = b["reasons"].to_string();
    assert!(reasons.contains("below the floor"), "{reasons}");
    // The writer itself is fine.
    assert_eq!(b["writer"]["ok"], true);
}

#[tokio::test]
async fn readyz_is_red_while_the_writer_cannot_commit_and_recovers() {
    let srv = TestServer::start().await.unwrap();
    let (s, _) = readyz(&srv).await;
    assert_eq!(s, 200);
    // Another process holds the database's write lock: the writer's heartbeat
    // cannot commit within its timeout.
    let db = srv.dir.path().join("callboard.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    let (s, b) = readyz(&srv).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["writer"]["ok"], false);
    assert!(
        b["reasons"].to_string().contains("heartbeat"),
        "{}",
        b["reasons"]
    );
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    // The stuck heartbeat drains (busy timeout), then it is green again.
    let mut last = Value::Null;
    for _ in 0..50 {
        let (s, b) = readyz(&srv).await;
        if s == 200 {
            return;
        }
        last = b;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("still not ready: {last}");
}

async fn scrape(srv: &TestServer, token: Option<&str>) -> (u16, String) {
    let mut req = srv.http.get(srv.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample whose line starts with `prefix` (labels included).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_are_off_unless_a_token_is_set() {
    let srv = TestServer::start().await.unwrap();
    let (s, body) = scrape(&srv, Some("anything")).await;
    assert_eq!(s, 404, "{body}");
    assert!(body.contains("--metrics-token"), "{body}");
}

#[tokio::test]
async fn metrics_need_the_token_and_count_deliveries_streams_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::launch(dir, &["serve"], &[("CALLBOARD_METRICS_TOKEN", "scrape-me")])
        .await
        .unwrap();
    assert_eq!(scrape(&srv, None).await.0, 401);
    assert_eq!(scrape(&srv, Some("wrong")).await.0, 401);
    // The admin token is not the metrics token.
    assert_eq!(scrape(&srv, Some(ADMIN_TOKEN)).await.0, 401);

    let (slug, key) = srv.provider("Metered").await.unwrap();
    for i in 0..3 {
        let (s, _) = srv
            .webhook(&slug, &key, &missed(&format!("m{i}")))
            .await
            .unwrap();
        assert_eq!(s, 200);
    }
    let (s, _) = srv.webhook(&slug, "cbk_wrong", &missed("x")).await.unwrap();
    assert_eq!(s, 401);
    let (s, _) = srv.webhook("no-such", &key, &missed("y")).await.unwrap();
    assert_eq!(s, 404);
    // A contact lookup reads: it is not counted as a delivery.
    let (s, found) = srv
        .send(
            srv.http
                .get(srv.url(&format!("/webhooks/ivr/{slug}/contacts?number=%2B15550100")))
                .header("x-api-key", &key),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{found}");
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    let _ = ws::next(&mut sock, Duration::from_millis(300)).await;

    let (s, text) = scrape(&srv, Some("scrape-me")).await;
    assert_eq!(s, 200, "{text}");
    let stored =
        format!("callboard_webhook_deliveries_total{{provider=\"{slug}\",outcome=\"stored\"}}");
    assert_eq!(sample(&text, &stored), Some(3.0), "{text}");
    let refused = format!(
        "callboard_webhook_deliveries_total{{provider=\"{slug}\",outcome=\"unauthorized\"}}"
    );
    assert_eq!(sample(&text, &refused), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "callboard_webhook_deliveries_total{provider=\"unknown\",outcome=\"unknown_provider\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "callboard_webhook_ack_seconds_count"),
        Some(5.0),
        "{text}"
    );
    assert!(
        sample(&text, "callboard_writer_batch_size_count").unwrap() >= 3.0,
        "{text}"
    );
    assert!(
        sample(&text, "callboard_writer_batch_size_sum").unwrap() >= 3.0,
        "{text}"
    );
    // Every commit timed, the slowest under the +Inf bucket.
    let commits = sample(&text, "callboard_writer_commit_seconds_count").unwrap();
    assert!(commits >= 3.0, "{text}");
    assert_eq!(
        sample(&text, "callboard_writer_commit_seconds_bucket{le=\"+Inf\"}"),
        Some(commits),
        "{text}"
    );
    assert!(
        sample(&text, "callboard_writer_commit_seconds_sum").unwrap() > 0.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "callboard_writer_queue_depth"),
        Some(0.0),
        "{text}"
    );
    assert!(
        sample(&text, "callboard_stream_clients").unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        sample(&text, "callboard_event_seq").unwrap() >= 3.0,
        "{text}"
    );
    assert!(text.contains("callboard_sla_breaches_total"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

#[tokio::test]
async fn the_analytics_sums_are_warmed_after_a_start_without_a_report() {
    let env = [("CALLBOARD_METRICS_TOKEN", "scrape-me")];
    let mut srv = TestServer::launch(tempfile::tempdir().unwrap(), &["serve"], &env)
        .await
        .unwrap();
    let (slug, key) = srv.provider("Warm").await.unwrap();
    for i in 0..2 {
        let (s, _) = srv
            .webhook(&slug, &key, &missed(&format!("w{i}")))
            .await
            .unwrap();
        assert_eq!(s, 200);
    }
    srv.stop().await.unwrap();
    let dir = std::mem::replace(&mut srv.dir, tempfile::tempdir().unwrap());
    let srv = TestServer::launch(dir, &["serve"], &env).await.unwrap();
    // Nobody asks for a report: the start fills the kept sums by itself, so
    // the first supervisor to open Analytics does not wait for a month's sum.
    let mut kept = 0.0;
    for _ in 0..150 {
        let (s, text) = scrape(&srv, Some("scrape-me")).await;
        assert_eq!(s, 200, "{text}");
        kept = sample(&text, "callboard_metrics_kept_quarters").unwrap_or(0.0);
        if kept >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        kept >= 1.0,
        "the quarter with the two calls is kept: {kept}"
    );
}
