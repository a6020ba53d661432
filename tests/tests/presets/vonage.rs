//! Vonage Voice API event webhooks, signed as Vonage signs them (a Bearer
//! JWT, HS256 with the signature secret, carrying the body's SHA-256),
//! through the `vonage` preset: one answered and one abandoned inbound call,
//! each a caller's leg and an agent's leg of one conversation.

use super::code;
use callboard_core::signature::sign_hs256;
use callboard_tests::TestServer;
use serde_json::{json, Value};
use sha2::Digest;

const ANSWERED: &str =
    include_str!("../../../crates/core/tests/fixtures/vonage-voice-events-answered.DERIVED.jsonl");
const ABANDONED: &str =
    include_str!("../../../crates/core/tests/fixtures/vonage-voice-events-abandoned.DERIVED.jsonl");
const SECRET: &str = "vonage-signature-secret-e2e-0123456789";

fn bearer(secret: &str, body: &str, iat: i64) -> String {
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let claims = json!({"iat": iat, "jti": format!("jti-{iat}-{}", body.len()), "iss": "Vonage",
        "payload_hash": hash, "api_key": "abcd1234", "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"});
    format!("Bearer {}", sign_hs256(secret, &claims))
}

#[tokio::test]
async fn signed_vonage_events_make_an_answered_and_an_abandoned_call() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Vonage", "vonage", json!({"signing_secret": SECRET}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let now = srv.now().timestamp();
    let post = |body: String, auth: Option<String>| {
        let mut r = srv
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        srv.send(r)
    };

    let first = ANSWERED.lines().next().unwrap().to_string();
    let (s, e) = post(first.clone(), None).await.unwrap();
    assert_eq!((s, code(&e)), (401, "missing_signature"), "{e}");
    let (s, e) = post(first.clone(), Some(bearer("guessed", &first, now)))
        .await
        .unwrap();
    assert_eq!((s, code(&e)), (401, "invalid_signature"), "{e}");
    let (s, e) = post(first.clone(), Some(bearer(SECRET, &first, now - 3600)))
        .await
        .unwrap();
    assert_eq!((s, code(&e)), (401, "stale_signature"), "{e}");
    // A valid token for another body.
    let other = first.replace("started", "completed");
    let (s, e) = post(other, Some(bearer(SECRET, &first, now)))
        .await
        .unwrap();
    assert_eq!((s, code(&e)), (401, "invalid_signature"), "{e}");

    for line in ANSWERED.lines().chain(ABANDONED.lines()) {
        let (s, ack) = post(line.to_string(), Some(bearer(SECRET, line, now)))
            .await
            .unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let c: Value = srv
        .call(&slug, "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
        .await
        .unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["mobile_number"], "+442079460000");
    assert_eq!(c["did"], "+447700900000");
    assert_eq!(c["agent_id"], "447700900111");
    assert_eq!(c["answered_at"], "2020-01-01T12:00:09.000Z");
    assert_eq!(c["ended_at"], "2020-01-01T12:01:12.000Z");
    assert_eq!(c["duration_seconds"], 62);
    assert_eq!(c["events_count"], 6);

    let c = srv
        .call(&slug, "CON-cccccccc-bbbb-cccc-dddd-0123456789ab")
        .await
        .unwrap();
    assert_eq!(c["status"], "hangup", "{c}");
    assert_eq!(c["work_state"], "pending");
    assert!(c["answered_at"].is_null());
    assert_eq!(c["mobile_number"], "+442079460001");
}
