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

#[tokio::test]
async fn agent_grouped_calls_summarise_per_agent() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Convoso", "convoso", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let secret = p["signing_secret"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    // Jane: 3 calls (2 sales of 120 s and 60 s, 1 no answer); Raj: 1 sale of 600 s.
    let logs = [
        ("1", "Jane", "12345", "SALE", 120, "2026-03-03 10:00:00"),
        ("2", "Jane", "12345", "SALE", 60, "2026-03-03 11:00:00"),
        ("3", "Jane", "12345", "NA", 0, "2026-03-03 12:00:00"),
        ("4", "Raj", "777", "SALE", 600, "2026-03-04 09:00:00"),
    ];
    for (id, user, uid, status, len, date) in logs {
        let body =
            json!({"id": id, "user": user, "user_id": uid, "status": status, "call_length": len,
            "call_date": date, "phone_number": "5551234567"})
            .to_string();
        let sig = hmac_sha256_signature(&secret, None, body.as_bytes(), Encoding::Hex);
        let (s, ack) = srv
            .send(
                srv.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-convoso-signature", sig)
                    .body(body),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let (s, r) = srv
        .get_json("/api/agents/calls", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["summary"],
        json!({"totalAgents": 2, "totalCalls": 4, "avgCallsPerAgent": 2.0})
    );
    let jane = &r["data"][0];
    assert_eq!(jane["agentId"], "12345");
    assert_eq!(jane["agentName"], "Jane");
    assert_eq!(jane["calls"], 3);
    assert_eq!(jane["avgDurationSec"], 60.0);
    assert_eq!(jane["completedRate"], 0.67);
    assert_eq!(jane["totalDurationMin"], 3.0);
    assert_eq!(jane["lastCall"], "2026-03-03T12:00:00.000Z");
    // Filters: disposition, agent, date range, pagination.
    let (_, r) = srv
        .get_json(
            "/api/agents/calls?disposition=sale",
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(r["summary"]["totalCalls"], 3);
    let (_, r) = srv
        .get_json("/api/agents/calls?agent=Raj", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        (
            r["summary"]["totalAgents"].as_i64(),
            r["data"][0]["calls"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let (_, r) = srv
        .get_json(
            "/api/agents/calls?from=2026-03-04T00:00:00Z&to=2026-03-05T00:00:00Z",
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(r["summary"]["totalCalls"], 1);
    let (_, r) = srv
        .get_json(
            "/api/agents/calls?limit=1&offset=1",
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["agentName"], "Raj");
    assert_eq!(r["summary"]["totalAgents"], 2);
    let (s, _) = srv
        .get_json(
            "/api/agents/calls?from=yesterday",
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 422);
}
