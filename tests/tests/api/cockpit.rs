//! The supervisor cockpit (issue 16): the queue's order, refused deliveries
//! in the ingestion log, honest figures, thresholds and alerts, the agent
//! board and call history.

use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

/// The generic mapping plus the platform's start and answer times.
fn timed_mapping() -> Value {
    let mut m = generic_mapping();
    m["started_at"] = json!("data.started");
    m["answered_at"] = json!("data.answered");
    m
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["call_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_queue_lists_the_longest_wait_first_within_each_status() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server
        .provider_with("Queue", timed_mapping(), generic_status_map())
        .await
        .unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    // Created in order w0 … w299, but w299 started waiting first: the order
    // of arrival at Callboard is the opposite of the order of waiting.
    for i in 0..300i64 {
        let started = t0 + chrono::Duration::seconds(300 - i);
        let body = json!({"data": {"call_id": format!("w{i}"), "caller": format!("+91{i:08}"),
            "status": "queued", "started": started.to_rfc3339()}});
        let (s, b) = server.webhook(&slug, &key, &body).await.unwrap();
        assert_eq!(s, 200, "{b}");
    }
    // Two ringing calls: their group comes after the waiting group.
    for (id, secs) in [("r0", 5), ("r1", 1)] {
        let started = t0 + chrono::Duration::seconds(secs);
        let body = json!({"data": {"call_id": id, "caller": "+9100", "status": "ringing",
            "started": started.to_rfc3339()}});
        assert_eq!(server.webhook(&slug, &key, &body).await.unwrap().0, 200);
    }
    let (s, list) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting,ringing&limit=1000"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{list}");
    let got = ids(&list);
    assert_eq!(got.len(), 302);
    let mut want: Vec<String> = (0..300).rev().map(|i| format!("w{i}")).collect();
    want.extend(["r1".to_string(), "r0".to_string()]);
    assert_eq!(got, want, "longest wait first, waiting before ringing");

    // The first page holds the longest waiter.
    let (_, page) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=live&limit=10"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&page)[0], "w299");

    // `sort` keeps the other orders.
    let (_, newest) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting&sort=-created_at&limit=3"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&newest), ["w299", "w298", "w297"].map(String::from));
    let (_, shortest) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting&sort=-wait&limit=2"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&shortest), ["w0", "w1"].map(String::from));
    let (s, bad) = server
        .get_json("/api/calls?sort=password", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{bad}");
}

/// The provider's refused deliveries, newest first, once `n` are logged
/// (they are written off the request path).
async fn refused(server: &TestServer, slug: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let (s, log) = server
            .get_json(
                &format!("/api/providers/{slug}/deliveries?outcome=rejected"),
                ADMIN_TOKEN,
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{log}");
        let rows = log["data"].as_array().cloned().unwrap_or_default();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} refused deliveries were logged");
}

#[tokio::test]
async fn deliveries_refused_before_parsing_are_in_the_ingestion_log() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server.provider("Refusals").await.unwrap();

    let (s, b) = server
        .webhook_raw(&slug, &key, "application/json", "{\"data\": {\"call_id\": ")
        .await
        .unwrap();
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "malformed_body");
    let rows = refused(&server, &slug, 1).await;
    assert_eq!(rows[0]["outcome"], "rejected");
    assert_eq!(rows[0]["method"], "POST");
    assert_eq!(rows[0]["content_type"], "application/json");
    let error = rows[0]["error"].as_str().unwrap();
    assert!(error.starts_with("malformed_body: "), "{error}");
    assert_eq!(rows[0]["payload"], "{\"data\": {\"call_id\": ");

    let (s, _) = server
        .webhook_raw(&slug, &key, "application/xml", "<call id=\"1\"/>")
        .await
        .unwrap();
    assert_eq!(s, 415);
    let r = server
        .http
        .get(server.url(&format!("/webhooks/ivr/{slug}")))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let rows = refused(&server, &slug, 3).await;
    assert!(rows[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("empty_delivery: "));
    assert_eq!(rows[0]["method"], "GET");
    assert!(rows[0]["payload"].is_null(), "nothing was sent");
    assert!(rows[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("unsupported_media_type: "));
    assert_eq!(rows[1]["payload"], "<call id=\"1\"/>");

    // A long body is kept to its first 4 KiB.
    let long = format!("{{{}", "x".repeat(100_000));
    let (s, _) = server
        .webhook_raw(&slug, &key, "application/json", long)
        .await
        .unwrap();
    assert_eq!(s, 400);
    let rows = refused(&server, &slug, 4).await;
    let kept = rows[0]["payload"].as_str().unwrap();
    assert!(
        kept.len() <= 4096 + 3 && kept.ends_with('…'),
        "{}",
        kept.len()
    );

    // A flood is answered at once but logged within the limit, and a real
    // delivery after it is still applied.
    let mut answered = 0;
    for _ in 0..200 {
        let (s, _) = server
            .webhook_raw(&slug, &key, "application/json", "{nope")
            .await
            .unwrap();
        if s == 400 {
            answered += 1;
        }
    }
    assert_eq!(answered, 200);
    let (s, b) = server
        .webhook(
            &slug,
            &key,
            &callboard_tests::event("ok1", "queued", "+911"),
        )
        .await
        .unwrap();
    assert_eq!((s, b["status"].as_str()), (200, Some("applied")));
    let logged = refused(&server, &slug, 20).await.len();
    let (_, log) = server
        .get_json(
            &format!("/api/providers/{slug}/deliveries?outcome=rejected&limit=500"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let all = log["data"].as_array().unwrap().len();
    assert!(
        logged >= 20 && all < 4 + 200,
        "the flood was rate-limited: {all} refusals logged"
    );
}
