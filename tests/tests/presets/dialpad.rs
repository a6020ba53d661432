//! Dialpad call events: the body is a compact JWT signed HS256 with the
//! webhook secret; its claims are the event.

use crate::code;
use callboard_core::signature::sign_hs256;
use callboard_tests::TestServer;
use serde_json::{json, Value};

const RINGING_JWT: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-ringing-inbound-to-user.GENERATED.jwt"
);
const VECTOR: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-signature-test-vector.GENERATED.json"
);
const RINGING: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-ringing-inbound-to-user.json"
);
const HANGUP_OFFICE: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-hangup-inbound-to-office-transferred.json"
);

#[tokio::test]
async fn dialpad_jwt_events_ringing_connected_hangup_missed_voicemail() {
    let srv = TestServer::start().await.unwrap();
    let vector: Value = serde_json::from_str(VECTOR).unwrap();
    let secret = vector["secret"].as_str().unwrap();
    let p = srv
        .provider_from_preset("Dialpad", "dialpad", json!({"signing_secret": secret}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |jwt: String| {
        srv.send(
            srv.http
                .post(&url)
                .header("content-type", "application/jwt")
                .body(jwt),
        )
    };

    // The generated vector, byte for byte.
    let (s, ack) = post(RINGING_JWT.to_string()).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["status"], "ringing");
    assert_eq!(c["mobile_number"], "+15109109100");
    assert_eq!(c["agent_id"], "5991398486736896");
    assert_eq!(c["agent_name"], "obscure2 user");

    // Then connected and hung up (the same event with its later fields).
    let ringing: Value = serde_json::from_str(RINGING).unwrap();
    let later = |state: &str, ts: i64, extra: Value| {
        let mut e = ringing.clone();
        e["state"] = json!(state);
        e["event_timestamp"] = json!(ts);
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_hs256(secret, &e)
    };
    let (s, _) = post(later(
        "connected",
        1731605960000,
        json!({"date_connected": 1731605960000i64}),
    ))
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        srv.call(slug, "5314479320940544").await.unwrap()["status"],
        "active"
    );
    let (s, _) = post(later(
        "hangup",
        1731606020500,
        json!({"date_connected": 1731605960000i64, "date_ended": 1731606020500i64, "total_duration": 65602.5}),
    ))
    .await
    .unwrap();
    assert_eq!(s, 200);
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 60);
    assert_eq!(c["metadata"]["total_duration_ms"], 65603);

    // The office line's hangup that never connected: a hangup.
    let office: Value = serde_json::from_str(HANGUP_OFFICE).unwrap();
    let (s, ack) = post(sign_hs256(secret, &office)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let id = office["call_id"].to_string();
    assert_eq!(srv.call(slug, &id).await.unwrap()["status"], "hangup");

    // Missed and voicemail events.
    for (id, state) in [
        (7000000000000001i64, "missed"),
        (7000000000000002, "voicemail"),
    ] {
        let mut e = ringing.clone();
        e["call_id"] = json!(id);
        e["state"] = json!(state);
        if state == "voicemail" {
            e["voicemail_link"] = json!("https://dialpad.example/v/abc");
        }
        let (s, _) = post(sign_hs256(secret, &e)).await.unwrap();
        assert_eq!(s, 200);
        let c = srv.call(slug, &id.to_string()).await.unwrap();
        assert_eq!(c["status"], "missed", "{state}");
    }

    // The wrong secret, a forged payload, plain JSON: 401.
    let (s, b) = post(sign_hs256(
        vector["wrong_secret"].as_str().unwrap(),
        &ringing,
    ))
    .await
    .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = srv.send(srv.http.post(&url).json(&ringing)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    // An expired token is a replay.
    let mut stale = ringing.clone();
    stale["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let (s, b) = post(sign_hs256(secret, &stale)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "stale_signature"));
}
