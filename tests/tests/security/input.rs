//! Defects 3–6: implausible values, `Content-Encoding`, empty deliveries,
//! and databases that must be refused before anything touches them.

use callboard_tests::{serve_expecting_failure, until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::io::Write;

fn code(b: &Value) -> &str {
    b["error"]["code"].as_str().unwrap_or("<none>")
}

async fn provider_with_fields(srv: &TestServer, name: &str) -> (String, String) {
    let mut mapping = callboard_tests::generic_mapping();
    mapping["duration_seconds"] = json!("data.duration");
    mapping["recording_url"] = json!("data.recording");
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": name, "field_mapping": mapping,
                     "status_map": callboard_tests::generic_status_map()}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    (
        b["slug"].as_str().unwrap().to_string(),
        b["api_key"].as_str().unwrap().to_string(),
    )
}

async fn newest_delivery(srv: &TestServer, slug: &str) -> Value {
    let (s, log) = srv
        .get_json(&format!("/api/providers/{slug}/deliveries"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    log["data"][0].clone()
}

#[tokio::test]
async fn implausible_values_are_refused_or_clamped_with_a_warning() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = provider_with_fields(&srv, "Plausible").await;

    // A negative duration would make the average handle time negative.
    let (s, r) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "neg", "caller": "+15550001",
            "status": "completed", "duration": -100000}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        srv.call(&slug, "neg").await.unwrap()["duration_seconds"],
        Value::Null
    );
    let d = newest_delivery(&srv, &slug).await;
    assert!(d["warnings"].to_string().contains("negative"), "{d}");

    // An event from the year 2999 must not freeze the call: it is clamped
    // to its receipt, so the next real event still applies.
    let (s, _) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "future", "caller": "+15550002",
            "status": "ringing", "ts": "2999-01-01T00:00:00Z"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert!(newest_delivery(&srv, &slug).await["warnings"]
        .to_string()
        .contains("future"));
    let (s, _) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "future", "caller": "+15550002",
            "status": "answered"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let call = srv.call(&slug, "future").await.unwrap();
    assert_eq!(call["status"], "active", "{call}");
    assert!(
        !call["event_at"].as_str().unwrap().starts_with("2999"),
        "{call}"
    );

    // URL fields are http(s) only; numbers lose bidi tricks, keep fullwidth digits.
    let (s, _) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "url", "caller": "+1555\u{202E}0003",
            "status": "completed", "recording": "javascript:alert(document.cookie)",
            "did": "\u{FF0B}\u{FF11}\u{FF18}\u{FF10}\u{FF10}"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let call = srv.call(&slug, "url").await.unwrap();
    assert_eq!(call["recording_url"], Value::Null, "{call}");
    assert_eq!(call["mobile_number"], Value::Null, "{call}");
    assert_eq!(call["did"], "+1800", "{call}");
    let w = newest_delivery(&srv, &slug).await["warnings"].to_string();
    assert!(
        w.contains("recording_url") && w.contains("mobile_number"),
        "{w}"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn compressed_bodies_are_decoded_within_the_limit() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Zipped").await.unwrap();
    let send = |encoding: &'static str, body: Vec<u8>| {
        srv.send(
            srv.http
                .post(srv.url(&format!("/webhooks/ivr/{slug}")))
                .header("x-api-key", &key)
                .header("content-type", "application/json")
                .header("content-encoding", encoding)
                .body(body),
        )
    };
    let event = serde_json::to_vec(&callboard_tests::event("gz1", "ringing", "+15550009")).unwrap();
    let (s, r) = send("gzip", gzip(&event)).await.unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(srv.call(&slug, "gz1").await.unwrap()["status"], "ringing");

    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&serde_json::to_vec(&callboard_tests::event("df1", "ringing", "+1")).unwrap())
        .unwrap();
    let (s, r) = send("deflate", z.finish().unwrap()).await.unwrap();
    assert_eq!(s, 200, "{r}");

    // A zip bomb: 1 KB on the wire, 64 MB once decoded.
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 100 * 1024);
    let (s, r) = send("gzip", bomb).await.unwrap();
    assert_eq!((s, code(&r)), (413, "body_too_large"), "{r}");

    let (s, r) = send("compress", event.clone()).await.unwrap();
    assert_eq!((s, code(&r)), (415, "unsupported_encoding"), "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("compress"));

    let (s, r) = send("gzip", b"not gzip at all".to_vec()).await.unwrap();
    assert_eq!((s, code(&r)), (400, "malformed_body"), "{r}");
    // Only the two good deliveries were stored; the refusals are in the
    // ingestion log as rejected, with no call.
    // 2 stored + 3 refused (the zip bomb, `compress`, bad gzip).
    let log = deliveries_once_there(&srv, &slug, 5).await;
    let rows = log["data"].as_array().unwrap();
    let (refused, stored): (Vec<&Value>, Vec<&Value>) =
        rows.iter().partition(|d| d["outcome"] == "rejected");
    assert_eq!(stored.len(), 2, "{log}");
    assert!(!refused.is_empty(), "{log}");
    assert!(refused.iter().all(|d| d["call_id"].is_null()), "{log}");
}

/// The ingestion log once it holds `n` deliveries: refusals are logged off
/// the request path, so they land a moment after the answer.
async fn deliveries_once_there(srv: &TestServer, slug: &str, n: usize) -> Value {
    let path = format!("/api/providers/{slug}/deliveries");
    until(5, "the refusals in the ingestion log", || async {
        let (_, log) = srv.get_json(&path, ADMIN_TOKEN).await.unwrap();
        log["data"].as_array().is_some_and(|d| d.len() >= n)
    })
    .await;
    srv.get_json(&path, ADMIN_TOKEN).await.unwrap().1
}

#[tokio::test]
async fn an_empty_post_is_refused_and_not_stored() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Empty").await.unwrap();
    for ct in [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
    ] {
        let (s, r) = srv.webhook_raw(&slug, &key, ct, "").await.unwrap();
        assert_eq!((s, code(&r)), (400, "empty_delivery"), "{ct}: {r}");
    }
    let log = deliveries_once_there(&srv, &slug, 3).await;
    // Logged as refused (the ingestion log misses nothing), never as a call.
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{log}");
    for d in rows {
        assert_eq!(d["outcome"], "rejected", "{log}");
        assert!(d["call_id"].is_null(), "{log}");
        assert!(
            d["error"].as_str().unwrap().starts_with("empty_delivery"),
            "{log}"
        );
    }
    let (_, calls) = srv.get_json("/api/calls", ADMIN_TOKEN).await.unwrap();
    assert_eq!(calls["total"], 0, "{calls}");
}

#[tokio::test]
async fn a_newer_database_is_refused_before_anything_touches_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("callboard.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE future (x); INSERT INTO future VALUES (1);")
            .unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let (code, out) = serve_expecting_failure(dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    assert_ne!(code, Some(0));
    assert!(out.contains("newer than this build"), "{out}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file was modified");
    assert!(
        !dir.path().join("callboard.db-wal").exists(),
        "a WAL was created"
    );
}

#[tokio::test]
async fn a_zero_length_database_is_refused_not_initialised() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("callboard.db");
    std::fs::write(&db, b"").unwrap();
    let (code, out) = serve_expecting_failure(dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    assert_ne!(code, Some(0));
    assert!(out.contains("empty (0 bytes)"), "{out}");
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "initialised anyway"
    );
}
