//! The Convoso API poller against a fake Convoso on loopback: pages, 429s,
//! 500s and a stalled request; backoff, the rate limit, the circuit breaker,
//! re-runs that insert nothing, and the `callboard backfill` command.

use callboard_core::signature::{hmac_sha256_signature, Encoding};
use callboard_tests::fake_convoso::{FakeConvoso, Step};
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

const TOKEN: &str = "convoso-api-token-do-not-log";

fn records(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"id": format!("{}", 50_000 + i), "lead_id": format!("{}", 9_000 + i), "user": format!("Agent {}", i % 7),
                "user_id": format!("{}", 100 + i % 7), "phone_number": format!("(555) 01{:05}", i),
                "status": if i % 3 == 0 { "NA" } else { "SALE" }, "call_length": format!("{}", i % 300),
                "call_date": "2026-03-03 14:30:00", "call_type": "OUTBOUND", "campaign": "Q1"})
        })
        .collect()
}

/// The provider's slug and webhook signing secret.
async fn setup(srv: &TestServer, fake: &FakeConvoso) -> (String, String) {
    let p = srv
        .provider_from_preset("Convoso API", "convoso", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let secret = p["signing_secret"].as_str().unwrap().to_string();
    let (s, c) = srv
        .send(
            srv.http
                .put(srv.url(&format!("/api/providers/{slug}/connector")))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"base_url": fake.base, "auth_token": TOKEN, "interval_minutes": 15,
                    "options": {"timeout_seconds": 1.0, "backoff_base_ms": 200, "backoff_max_ms": 800,
                        "breaker_open_seconds": 60.0}})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["has_auth_token"], true);
    assert!(!c.to_string().contains(TOKEN));
    // The token is in the secret store, not in the database (nor its WAL).
    let secrets = std::fs::read_to_string(srv.dir.path().join("secrets.json")).unwrap();
    assert!(secrets.contains(TOKEN));
    for f in ["callboard.db", "callboard.db-wal"] {
        if let Ok(bytes) = std::fs::read(srv.dir.path().join(f)) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(TOKEN),
                "{f} holds the token"
            );
        }
    }
    (slug, secret)
}

async fn backfill(srv: &TestServer, slug: &str) -> Value {
    let (s, r) = srv
        .post_json(
            &format!("/api/providers/{slug}/connector/backfill"),
            ADMIN_TOKEN,
            &json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-05T00:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    r
}

async fn health(srv: &TestServer, slug: &str) -> Value {
    let (s, h) = srv
        .get_json(&format!("/api/providers/{slug}/connector"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{h}");
    assert!(!h.to_string().contains(TOKEN), "the token is never shown");
    h
}

#[tokio::test]
async fn backfill_retries_with_backoff_opens_and_recovers_the_circuit_and_never_duplicates() {
    let fake = FakeConvoso::start(records(1234), TOKEN).await;
    let srv = TestServer::start().await.unwrap();
    let (slug, secret) = setup(&srv, &fake).await;

    // The webhook told us about the first call already: the poller updates it.
    let hook =
        json!({"id": "50000", "status": "NA", "phone_number": "5550100000", "user_id": "100"})
            .to_string();
    let sig = hmac_sha256_signature(&secret, None, hook.as_bytes(), Encoding::Hex);
    let (s, ack) = srv
        .send(
            srv.http
                .post(srv.url(&format!("/webhooks/ivr/{slug}")))
                .header("content-type", "application/json")
                .header("x-convoso-signature", sig)
                .body(hook),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");

    // 3 pages (500, 500, 234) through a 429, a 500 and a stalled request.
    fake.script(&[
        Step::Status(429),
        Step::Stall(Duration::ZERO),
        Step::Status(500),
        Step::Stall(Duration::ZERO),
        Step::Stall(Duration::from_millis(1500)),
    ]);
    let r = backfill(&srv, &slug).await;
    assert_eq!(
        (
            r["scanned"].as_i64(),
            r["inserted"].as_i64(),
            r["updated"].as_i64(),
            r["failed"].as_i64()
        ),
        (Some(1234), Some(1233), Some(1), Some(0)),
        "{r}"
    );
    assert!(r["error"].is_null());
    assert!(r["duration_ms"].as_i64().unwrap() > 0);
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 1234);

    // Requests: the retries waited (backoff ≥ half the base delay), and
    // nothing went faster than 10 requests a second.
    let log = fake.log();
    assert_eq!(log.len(), 6, "{log:?}");
    for pair in log.windows(2) {
        let gap = pair[1].0.duration_since(pair[0].0);
        assert!(gap >= Duration::from_millis(95), "requests {gap:?} apart");
    }
    assert!(
        log[1].0.duration_since(log[0].0) >= Duration::from_millis(100),
        "backoff after the 429"
    );
    assert!(log.iter().all(|(_, q)| q.contains("limit=500")));
    assert!(log[5].1.contains("offset=1000"));

    // A re-run reads everything again and inserts nothing.
    let r = backfill(&srv, &slug).await;
    assert_eq!(
        (
            r["scanned"].as_i64(),
            r["inserted"].as_i64(),
            r["updated"].as_i64()
        ),
        (Some(1234), Some(0), Some(0)),
        "{r}"
    );
    let h = health(&srv, &slug).await;
    assert_eq!(h["circuit"]["state"], "closed");
    assert_eq!(h["last_run"]["inserted"], 0);
    assert_eq!(h["last_run"]["scanned"], 1234);

    // Five failures in a row open the circuit; the run stops and says why.
    fake.script(&[
        Step::Status(500),
        Step::Status(503),
        Step::Status(500),
        Step::Status(502),
        Step::Status(500),
    ]);
    let r = backfill(&srv, &slug).await;
    assert_eq!(r["failed"], 1, "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("gave up after 5 attempts"),
        "{r}"
    );
    assert_eq!(health(&srv, &slug).await["circuit"]["state"], "open");
    // While open, no request goes out.
    let before = fake.log().len();
    let r = backfill(&srv, &slug).await;
    assert!(
        r["error"].as_str().unwrap().contains("circuit is open"),
        "{r}"
    );
    assert_eq!(fake.log().len(), before);
    let h = health(&srv, &slug).await;
    assert!(
        (59..=60).contains(&h["circuit"]["retry_in_seconds"].as_i64().unwrap()),
        "{h}"
    );
    // Still open just before the pause is over (the server's clock, moved
    // forward instead of waited for).
    srv.advance(Duration::from_secs(55));
    assert_eq!(health(&srv, &slug).await["circuit"]["state"], "open");
    // After the pause it lets a trial through (half-open) and closes after three successes.
    srv.advance(Duration::from_secs(6));
    assert_eq!(health(&srv, &slug).await["circuit"]["state"], "half_open");
    let r = backfill(&srv, &slug).await;
    assert!(r["error"].is_null(), "{r}");
    assert_eq!(r["inserted"], 0);
    assert_eq!(health(&srv, &slug).await["circuit"]["state"], "closed");

    // A delta sync on demand.
    let (s, r) = srv
        .post_json(
            &format!("/api/providers/{slug}/connector/sync"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["kind"], "delta");

    let h = health(&srv, &slug).await;
    assert!(h["connector"]["synced_until"].is_string());
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 1234);
}

#[tokio::test]
async fn the_backfill_command_shows_progress_and_reports() {
    let fake = FakeConvoso::start(records(700), TOKEN).await;
    let srv = TestServer::start().await.unwrap();
    let (slug, _) = setup(&srv, &fake).await;
    let out = tokio::process::Command::new(callboard_tests::binary())
        .args([
            "backfill",
            "--provider",
            &slug,
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-05",
        ])
        .arg("--data-dir")
        .arg(srv.dir.path())
        .env("CALLBOARD_LOG", "warn")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("700/700 records (100%)"), "{stderr}");
    assert!(
        stdout.contains("scanned 700 · inserted 700 · updated 0 · failed 0"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    // The running receiver sees the calls.
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 700);
}
