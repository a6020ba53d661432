//! Convoso recordings not ready when the call is first seen (issue 15): the
//! talked-on call is queued, a fake Convoso on loopback is asked again with
//! backoff (the server's clock moved, never waited for) until the record
//! carries a recording or the last try is spent; a later webhook takes the
//! call off the queue; an open circuit postpones without spending tries.

use callboard_core::signature::{hmac_sha256_signature, Encoding};
use callboard_core::store::recording_fetches::{self, RecordingFetch};
use callboard_tests::fake_convoso::{FakeConvoso, Step};
use callboard_tests::{until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

const TOKEN: &str = "convoso-recordings-token";
const REC: &str = "https://convoso.example/public/rec-70001";

/// A minute ago on the server's clock, as Convoso writes it.
fn a_minute_ago(srv: &TestServer) -> String {
    (srv.now() - chrono::Duration::minutes(1))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A talked-on call log (a sale, 42 s of talk) started at `started`, with or
/// without its recording.
fn record(started: &str, id: &str, recording: bool) -> Value {
    let mut r = json!({"id": id, "lead_id": "9001", "user": "Agent A", "user_id": "101",
        "phone_number": "5550100001", "status": "SALE", "call_length": "60", "talk_time": "42",
        "call_date": started, "call_type": "OUTBOUND", "campaign": "Q1"});
    if recording {
        r["recording"] =
            json!([{"src": "https://convoso.example/recording/rec-70001", "public_url": REC}]);
    }
    r
}

fn uuid_of(id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes()).to_string()
}

/// A Convoso provider; with `options`, its API connector too (its schedule
/// a day apart, so only the recording task asks the fake anything).
async fn provider(
    srv: &TestServer,
    fake: &FakeConvoso,
    name: &str,
    options: Option<Value>,
) -> (String, String) {
    let p = srv
        .provider_from_preset(name, "convoso", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let secret = p["signing_secret"].as_str().unwrap().to_string();
    if let Some(options) = options {
        let (s, c) = srv
            .put_json(
                &format!("/api/providers/{slug}/connector"),
                ADMIN_TOKEN,
                &json!({"base_url": fake.base, "auth_token": TOKEN, "interval_minutes": 1440,
                    "options": options}),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{c}");
    }
    (slug, secret)
}

async fn webhook(srv: &TestServer, slug: &str, secret: &str, body: &Value) {
    let body = body.to_string();
    let sig = hmac_sha256_signature(secret, None, body.as_bytes(), Encoding::Hex);
    let (s, ack) = srv
        .send(
            srv.http
                .post(srv.url(&format!("/webhooks/ivr/{slug}")))
                .header("content-type", "application/json")
                .header("x-convoso-signature", sig)
                .body(body),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
}

async fn queue(srv: &TestServer, slug: &str) -> Vec<RecordingFetch> {
    let s = slug.to_string();
    srv.store()
        .unwrap()
        .read(move |c| recording_fetches::list(c, &s))
        .await
        .unwrap()
}

async fn recordings(srv: &TestServer, slug: &str) -> Value {
    let (s, h) = srv
        .get_json(&format!("/api/providers/{slug}/connector"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{h}");
    h["recordings"].clone()
}

/// Waits until the queue's only row has spent `tries` tries (or left `pending`).
async fn until_tries(srv: &TestServer, slug: &str, tries: i64) {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let q = queue(srv, slug).await;
        if q.first()
            .is_some_and(|r| r.tries >= tries || r.state != "pending")
        {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "waiting for try {tries}: {q:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn secs_between(a: &str, b: chrono::DateTime<chrono::Utc>) -> i64 {
    (callboard_core::time::parse(a).unwrap() - b).num_seconds()
}

#[tokio::test]
async fn a_recording_not_ready_is_fetched_again_with_backoff_until_it_is_there() {
    let srv = TestServer::start().await.unwrap();
    let fake = FakeConvoso::start(vec![], TOKEN).await;
    let at = a_minute_ago(&srv);
    let (slug, secret) = provider(&srv, &fake, "Convoso Recordings", Some(json!({}))).await;
    let first = record(&at, "70001", false);
    fake.set_records(vec![first.clone()]);
    webhook(&srv, &slug, &secret, &first).await;

    // Queued with the call, in the same transaction: its Convoso id and start.
    let q = queue(&srv, &slug).await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((q[0].state.as_str(), q[0].tries), ("pending", 0));
    assert_eq!(q[0].convoso_id, "70001");
    assert_eq!(q[0].call_id, uuid_of("70001"));
    let r = recordings(&srv, &slug).await;
    assert_eq!(
        (
            r["pending"].as_i64(),
            r["fetched"].as_i64(),
            r["given_up"].as_i64()
        ),
        (Some(1), Some(0), Some(0)),
        "{r}"
    );
    let wait = secs_between(r["next_try_at"].as_str().unwrap(), srv.now());
    assert!((55..=60).contains(&wait), "first try in a minute: {r}");
    assert!(fake.log().is_empty());

    // A minute on: Convoso is asked for that id around the call's start,
    // answers without a recording, and the row waits twice as long.
    srv.advance(Duration::from_secs(61));
    until_tries(&srv, &slug, 1).await;
    let log = fake.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].1.contains("id=70001") && log[0].1.contains("include_recordings=1"),
        "{log:?}"
    );
    let r = recordings(&srv, &slug).await;
    assert_eq!(r["pending"], 1, "{r}");
    assert!(
        r["last_error"]
            .as_str()
            .unwrap()
            .contains("no recording yet"),
        "{r}"
    );
    let wait = secs_between(r["next_try_at"].as_str().unwrap(), srv.now());
    assert!(
        (115..=120).contains(&wait),
        "second try two minutes on: {r}"
    );
    // Not due yet: nothing is asked.
    srv.advance(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.log().len(), 1);

    // Convoso has finished the recording: the next try stores it with the call.
    fake.set_records(vec![record(&at, "70001", true)]);
    srv.advance(Duration::from_secs(61));
    let id = uuid_of("70001");
    until(10, "the call gains its recording", || async {
        srv.call(&slug, &id).await.unwrap()["recording_url"] == REC
    })
    .await;
    let q = queue(&srv, &slug).await;
    assert_eq!((q[0].state.as_str(), q[0].tries), ("fetched", 2), "{q:?}");
    let r = recordings(&srv, &slug).await;
    assert_eq!(
        (
            r["pending"].as_i64(),
            r["fetched"].as_i64(),
            r["given_up"].as_i64()
        ),
        (Some(0), Some(1), Some(0)),
        "{r}"
    );
    assert!(
        r["next_try_at"].is_null() && r["last_error"].is_null(),
        "{r}"
    );
    // The same call, not a second one; the try is one more event of it and a
    // polled delivery in the ingestion log.
    let c = srv.call(&slug, &id).await.unwrap();
    assert_eq!(c["events_count"], 2, "{c}");
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=5"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let (_, d) = srv
        .get_json(&format!("/api/providers/{slug}/deliveries"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(d["data"][0]["method"], "POLL", "{d}");
    assert_eq!(d["data"][0]["outcome"], "applied", "{d}");
    // Nothing more is asked.
    srv.advance(Duration::from_secs(600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.log().len(), 2);
}

#[tokio::test]
async fn a_recording_that_never_comes_is_given_up_after_the_last_try_with_its_reason() {
    let srv = TestServer::start().await.unwrap();
    let fake = FakeConvoso::start(vec![], TOKEN).await;
    let at = a_minute_ago(&srv);
    let (slug, secret) = provider(
        &srv,
        &fake,
        "Convoso Recordings",
        Some(json!({"recording_max_tries": 3})),
    )
    .await;
    let r = record(&at, "70002", false);
    fake.set_records(vec![r.clone()]);
    webhook(&srv, &slug, &secret, &r).await;
    // Tries after 1, then 1 + 2, then 1 + 2 + 4 minutes.
    for (n, wait) in [(1, 61), (2, 121), (3, 241)] {
        srv.advance(Duration::from_secs(wait));
        until_tries(&srv, &slug, n).await;
    }
    let q = queue(&srv, &slug).await;
    assert_eq!((q[0].state.as_str(), q[0].tries), ("given_up", 3), "{q:?}");
    let r = recordings(&srv, &slug).await;
    assert_eq!(
        (
            r["pending"].as_i64(),
            r["fetched"].as_i64(),
            r["given_up"].as_i64()
        ),
        (Some(0), Some(0), Some(1)),
        "{r}"
    );
    let why = r["last_error"].as_str().unwrap();
    assert!(
        why.contains("gave up after 3 tries") && why.contains("no recording yet"),
        "{r}"
    );
    assert!(r["next_try_at"].is_null(), "{r}");
    assert_eq!(fake.log().len(), 3);
    // Given up means given up.
    srv.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.log().len(), 3);
    assert!(srv.call(&slug, &uuid_of("70002")).await.unwrap()["recording_url"].is_null());
}

#[tokio::test]
async fn only_talked_on_calls_of_a_provider_with_the_connector_are_queued() {
    let srv = TestServer::start().await.unwrap();
    let fake = FakeConvoso::start(vec![], TOKEN).await;
    let at = a_minute_ago(&srv);
    let (slug, secret) = provider(&srv, &fake, "Convoso Recordings", Some(json!({}))).await;
    // A provider without the connector (beside one with it): nothing is queued.
    let (bare, bare_secret) = provider(&srv, &fake, "Convoso Bare", None).await;
    webhook(&srv, &bare, &bare_secret, &record(&at, "70003", false)).await;
    assert!(queue(&srv, &bare).await.is_empty());
    // With the connector: a missed call (never talked on) is not queued, a
    // sale without its recording is, one with it is not.
    let mut missed = record(&at, "70004", false);
    missed["status"] = json!("NA");
    missed["talk_time"] = json!("0");
    webhook(&srv, &slug, &secret, &missed).await;
    webhook(&srv, &slug, &secret, &record(&at, "70005", true)).await;
    assert!(queue(&srv, &slug).await.is_empty());
    webhook(&srv, &slug, &secret, &record(&at, "70006", false)).await;
    let q = queue(&srv, &slug).await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].convoso_id, "70006");
    srv.advance(Duration::from_secs(120));
    until_tries(&srv, &slug, 1).await;
    // Only the queued call was asked about.
    let log = fake.log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].1.contains("id=70006"), "{log:?}");
}

#[tokio::test]
async fn a_later_webhook_with_the_recording_takes_the_call_off_the_queue() {
    let srv = TestServer::start().await.unwrap();
    let fake = FakeConvoso::start(vec![], TOKEN).await;
    let at = a_minute_ago(&srv);
    let (slug, secret) = provider(&srv, &fake, "Convoso Recordings", Some(json!({}))).await;
    webhook(&srv, &slug, &secret, &record(&at, "70007", false)).await;
    assert_eq!(queue(&srv, &slug).await.len(), 1);
    webhook(&srv, &slug, &secret, &record(&at, "70007", true)).await;
    assert!(queue(&srv, &slug).await.is_empty());
    assert_eq!(recordings(&srv, &slug).await["pending"], 0);
    assert_eq!(
        srv.call(&slug, &uuid_of("70007")).await.unwrap()["recording_url"],
        REC
    );
    srv.advance(Duration::from_secs(300));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(fake.log().is_empty(), "{:?}", fake.log());
}

#[tokio::test]
async fn an_open_circuit_postpones_the_try_and_spends_none() {
    let srv = TestServer::start().await.unwrap();
    let fake = FakeConvoso::start(vec![], TOKEN).await;
    let at = a_minute_ago(&srv);
    // One try only: a try spent while the circuit is open would give it up.
    let (slug, secret) = provider(
        &srv,
        &fake,
        "Convoso Recordings",
        Some(
            json!({"recording_max_tries": 1, "max_attempts": 1, "breaker_failures": 1,
            "breaker_open_seconds": 600.0, "backoff_base_ms": 10, "backoff_max_ms": 10}),
        ),
    )
    .await;
    let r = record(&at, "70008", false);
    webhook(&srv, &slug, &secret, &r).await;
    // A failing backfill opens the provider's circuit (the poller's and the
    // recording task's are one).
    fake.script(&[Step::Status(500)]);
    let (s, run) = srv
        .post_json(
            &format!("/api/providers/{slug}/connector/backfill"),
            ADMIN_TOKEN,
            &json!({"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{run}");
    let (_, h) = srv
        .get_json(&format!("/api/providers/{slug}/connector"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(h["circuit"]["state"], "open", "{h}");
    let asked = fake.log().len();

    // The row is due, the circuit is open: postponed to the circuit's trial,
    // no request, no try spent.
    srv.advance(Duration::from_secs(120));
    let opened_until = srv.now() + chrono::Duration::seconds(480);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let q = queue(&srv, &slug).await;
        if q[0].last_error.is_some() {
            assert_eq!((q[0].state.as_str(), q[0].tries), ("pending", 0), "{q:?}");
            assert!(
                q[0].last_error
                    .as_deref()
                    .unwrap()
                    .contains("circuit is open"),
                "{q:?}"
            );
            assert!(
                secs_between(&q[0].next_at, opened_until).abs() <= 2,
                "{q:?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < end, "never tried: {q:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.log().len(), asked);
    // Past the pause, the trial request finds the recording.
    fake.set_records(vec![record(&at, "70008", true)]);
    srv.advance(Duration::from_secs(481));
    let id = uuid_of("70008");
    until(10, "the call gains its recording", || async {
        srv.call(&slug, &id).await.unwrap()["recording_url"] == REC
    })
    .await;
    let q = queue(&srv, &slug).await;
    assert_eq!((q[0].state.as_str(), q[0].tries), ("fetched", 1), "{q:?}");
}
