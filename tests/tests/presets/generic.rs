use callboard_tests::TestServer;
use serde_json::json;

#[tokio::test]
async fn generic_json_ringing_answered_completed_and_missed() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Front Desk", "generic", json!({}))
        .await
        .unwrap();
    let (slug, key) = (p["slug"].as_str().unwrap(), p["api_key"].as_str().unwrap());
    for (status, ts) in [
        ("ringing", "2024-05-26T07:30:00Z"),
        ("answered", "2024-05-26T07:30:10Z"),
        ("completed", "2024-05-26T07:31:10Z"),
    ] {
        let body = json!({"data": {"call_id": "g-1", "caller": "+919876543210", "status": status, "ts": ts,
            "answered_at": if status == "answered" { json!(ts) } else { json!(null) },
            "ended_at": if status == "completed" { json!(ts) } else { json!(null) }}});
        let (s, ack) = srv.webhook(slug, key, &body).await.unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let c = srv.call(slug, "g-1").await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 60);
    assert_eq!(c["mobile_number"], "+919876543210");
    let (s, _) = srv
        .webhook(
            slug,
            key,
            &json!({"data": {"call_id": "g-2", "caller": "+919876500000", "status": "NO-ANSWER"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(srv.call(slug, "g-2").await.unwrap()["status"], "missed");
    let (s, _) = srv
        .webhook(
            slug,
            key,
            &json!({"data": {"call_id": "g-3", "caller": "+919876500001", "status": "busy"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(srv.call(slug, "g-3").await.unwrap()["status"], "failed");
}
