//! Convoso call webhooks (the call-log record shape of Convoso's API), signed
//! with `x-convoso-signature`: hex HMAC-SHA256 of the raw body.

use crate::code;
use callboard_core::signature::{hmac_sha256_signature, Encoding};
use callboard_tests::TestServer;
use serde_json::json;

#[tokio::test]
async fn convoso_signed_call_logs_become_calls_keyed_by_uuid_v5() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Convoso Outbound", "convoso", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let secret = p["signing_secret"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |body: String, sig: String| {
        srv.send(
            srv.http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-convoso-signature", sig)
                .body(body),
        )
    };
    let sale = json!({
        "id": "9999999999", "lead_id": "99999999", "list_id": "99999", "campaign_id": "9999",
        "campaign": "Medicare Q4", "user": "Jane Smith", "user_id": "12345",
        "phone_number": "(555) 123-4567", "number_dialed": "5551234567", "first_name": "Ada",
        "status": "SALE", "status_name": "Sale", "call_length": "300",
        "call_date": "2026-03-03 14:30:00", "queue_id": null, "call_type": "OUTBOUND",
        "language": "es", "tags": ["vip"],
        "recording": [{"src": "https://convoso.example/recording/rec123", "public_url": "https://convoso.example/public/rec123"}]
    })
    .to_string();
    let (s, ack) = post(
        sale.clone(),
        hmac_sha256_signature(&secret, None, sale.as_bytes(), Encoding::Hex),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{ack}");
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"9999999999").to_string();
    assert_eq!(ack["call_id"], id.as_str());
    let c = srv.call(slug, &id).await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["mobile_number"], "5551234567");
    assert_eq!(c["direction"], "outbound");
    assert_eq!(c["duration_seconds"], 300);
    assert_eq!(c["agent_name"], "Jane Smith");
    assert_eq!(c["recording_url"], "https://convoso.example/public/rec123");
    assert_eq!(c["metadata"]["convoso_call_id"], "9999999999");
    assert_eq!(c["metadata"]["language"], "es");
    assert_eq!(c["metadata"]["tags"], json!(["vip"]));

    // No answer, direction left out: outbound by default.
    let na = json!({"id": 10000001, "phone_number": "+1 555 000 1111", "status": "NA", "user_id": 12345}).to_string();
    let (s, ack) = post(
        na.clone(),
        hmac_sha256_signature(&secret, None, na.as_bytes(), Encoding::Hex),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(slug, ack["call_id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (c["status"].as_str(), c["direction"].as_str()),
        (Some("missed"), Some("outbound"))
    );

    // The same call again (a retry or a later update) updates, never duplicates.
    let again = json!({"id": "9999999999", "status": "SALE", "call_length": 301, "phone_number": "5551234567"}).to_string();
    let (s, ack) = post(
        again.clone(),
        hmac_sha256_signature(&secret, None, again.as_bytes(), Encoding::Hex),
    )
    .await
    .unwrap();
    assert_eq!((s, ack["call_id"].as_str()), (200, Some(id.as_str())));
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}"),
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 2);

    // Tampered body, wrong secret, no signature: 401.
    let sig = hmac_sha256_signature(&secret, None, sale.as_bytes(), Encoding::Hex);
    let (s, b) = post(sale.replace("SALE", "DNC"), sig).await.unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = post(
        sale.clone(),
        hmac_sha256_signature("cbs_wrong-secret", None, sale.as_bytes(), Encoding::Hex),
    )
    .await
    .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = srv
        .send(
            srv.http
                .post(&url)
                .header("content-type", "application/json")
                .body(sale.clone()),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "missing_signature"));
}

#[tokio::test]
async fn hmac_with_a_timestamp_refuses_stale_replays() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset(
            "Signed Generic",
            "generic",
            json!({"auth_config": {"scheme": "hmac_sha256", "header": "x-signature", "encoding": "base64", "prefix": "sha256=", "timestamp_header": "x-timestamp", "tolerance_seconds": 300}}),
        )
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let secret = p["signing_secret"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let body = json!({"data": {"call_id": "s-1", "status": "ringing"}}).to_string();
    let send = |ts: i64| {
        let ts = ts.to_string();
        let sig = format!(
            "sha256={}",
            hmac_sha256_signature(&secret, Some(&ts), body.as_bytes(), Encoding::Base64)
        );
        srv.send(
            srv.http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-signature", sig)
                .header("x-timestamp", ts)
                .body(body.clone()),
        )
    };
    let now = chrono::Utc::now().timestamp();
    let (s, ack) = send(now).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let (s, b) = send(now - 3600).await.unwrap();
    assert_eq!((s, code(&b)), (401, "stale_signature"));
}
