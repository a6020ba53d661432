//! Telnyx (Ed25519-signed Call Control webhooks) and Aircall (a token in the
//! body), on the platforms' own recorded payloads.

use crate::code;
use callboard_tests::TestServer;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};

const VECTOR: &str =
    include_str!("../../../crates/core/tests/fixtures/telnyx-signature-test-vector.GENERATED.json");
const INITIATED: &str =
    include_str!("../../../crates/core/tests/fixtures/telnyx-01-call-initiated.json");
const ANSWERED: &str =
    include_str!("../../../crates/core/tests/fixtures/telnyx-02-call-answered.json");
const HANGUP: &str = include_str!("../../../crates/core/tests/fixtures/telnyx-05-call-hangup.json");
const REJECTED: &str =
    include_str!("../../../crates/core/tests/fixtures/telnyx-docs-call-hangup-rejected.json");

fn seed(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[tokio::test]
async fn telnyx_call_control_signed_with_ed25519() {
    let v: Value = serde_json::from_str(VECTOR).unwrap();
    let public = v["public_key_base64"].as_str().unwrap();
    let key = SigningKey::from_bytes(&seed(v["private_key_seed_hex"].as_str().unwrap()));
    let vector_ts: i64 = v["headers"]["telnyx-timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let srv = TestServer::start().await.unwrap();
    // The recorded call happened on 2025-11-23: run the server's clock then,
    // so the signed timestamps are fresh.
    let clock = srv.clock().unwrap();
    clock
        .advance(chrono::DateTime::from_timestamp(vector_ts - 30, 0).unwrap() - chrono::Utc::now());

    // A key that is not an Ed25519 public key is refused when it is set.
    let (s, body) = srv
        .post_json(
            "/api/providers",
            callboard_tests::ADMIN_TOKEN,
            &json!({"name": "Bad key", "preset": "telnyx", "signing_secret": "bm90LWEta2V5LWF0LWFsbA=="}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{body}");

    let p = srv
        .provider_from_preset("Telnyx", "telnyx", json!({"signing_secret": public}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let send = |body: &'static str, ts: String, sig: Option<String>| {
        let mut r = srv
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("telnyx-timestamp", ts)
            .body(body);
        if let Some(sig) = sig {
            r = r.header("telnyx-signature-ed25519", sig);
        }
        srv.send(r)
    };
    let sign = |body: &str, ts: &str| {
        use base64::Engine;
        let mut m = ts.as_bytes().to_vec();
        m.push(b'|');
        m.extend_from_slice(body.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(key.sign(&m).to_bytes())
    };
    let now_ts = || {
        (chrono::Utc::now() + clock.offset())
            .timestamp()
            .to_string()
    };

    let ts = now_ts();
    let (s, ack) = send(INITIATED, ts.clone(), Some(sign(INITIATED, &ts)))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let call_id = "b0e6141e-c81c-11f0-abac-02420aef93a0";
    let c = srv.call(&slug, call_id).await.unwrap();
    assert_eq!(c["status"], "ringing");
    assert_eq!(c["mobile_number"], "+18124040851");
    assert_eq!(c["did"], "+13057864498");
    assert_eq!(c["started_at"], "2025-11-23T03:30:00.076Z");

    let ts = now_ts();
    let (s, ack) = send(ANSWERED, ts.clone(), Some(sign(ANSWERED, &ts)))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    assert_eq!(srv.call(&slug, call_id).await.unwrap()["status"], "active");

    // The hangup with the vector's own timestamp and signature.
    let (s, ack) = send(
        HANGUP,
        vector_ts.to_string(),
        Some(
            v["headers"]["telnyx-signature-ed25519"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(&slug, call_id).await.unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["ended_at"], "2025-11-23T03:30:30.816Z");
    assert_eq!(c["metadata"]["hangup_source"], "caller");

    // Forged, stale and missing signatures, each with its code.
    let forged = v["negative_case_signature_base64"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, body) = send(HANGUP, vector_ts.to_string(), Some(forged))
        .await
        .unwrap();
    assert_eq!((s, code(&body)), (401, "invalid_signature"), "{body}");
    let old = (vector_ts - 3600).to_string();
    let (s, body) = send(HANGUP, old.clone(), Some(sign(HANGUP, &old)))
        .await
        .unwrap();
    assert_eq!((s, code(&body)), (401, "stale_signature"), "{body}");
    let (s, body) = send(HANGUP, now_ts(), None).await.unwrap();
    assert_eq!((s, code(&body)), (401, "missing_signature"), "{body}");

    // Telnyx's documented rejected call: a failed call, not the worklist's.
    clock.advance(chrono::Duration::seconds(1));
    let ts = now_ts();
    let (s, ack) = send(REJECTED, ts.clone(), Some(sign(REJECTED, &ts)))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(&slug, "428c31b6-7af4-4bcb-b7f5-5013ef9657c1")
        .await
        .unwrap();
    assert_eq!(c["status"], "failed", "{c}");
    assert_eq!(c["mobile_number"], "+35319605860");
}

const AC_CREATED: &str =
    include_str!("../../../crates/core/tests/fixtures/aircall-02-call-created-inbound.json");
const AC_RINGING: &str = include_str!(
    "../../../crates/core/tests/fixtures/aircall-03-call-ringing_on_agent-inbound.json"
);
const AC_HUNGUP: &str =
    include_str!("../../../crates/core/tests/fixtures/aircall-12-call-hungup-inbound.json");
const AC_ENDED: &str =
    include_str!("../../../crates/core/tests/fixtures/aircall-15-call-ended-inbound.json");
const AC_ANSWERED: &str =
    include_str!("../../../crates/core/tests/fixtures/aircall-05-call-answered-inbound.json");
const AC_TOKEN: &str = "58ffd2bc5f3113f7bebf210a49299a1b";

#[tokio::test]
async fn aircall_token_in_the_body_and_a_missed_inbound_call() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Aircall", "aircall", json!({"signing_secret": AC_TOKEN}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |body: String| {
        srv.send(
            srv.http
                .post(&url)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    for (body, status) in [
        (AC_CREATED, "waiting"),
        (AC_RINGING, "ringing"),
        (AC_HUNGUP, "missed"),
        (AC_ENDED, "missed"),
    ] {
        let (s, ack) = post(body.to_string()).await.unwrap();
        assert_eq!(s, 200, "{ack}");
        let c = srv.call(&slug, "780836754").await.unwrap();
        assert_eq!(c["status"], status, "{c}");
    }
    let c = srv.call(&slug, "780836754").await.unwrap();
    // `raw_digits` arrives spaced: "+44 330 818 6690"
    assert_eq!(c["mobile_number"], "+443308186690");
    assert_eq!(c["did"], "+43720880079");
    assert_eq!(c["metadata"]["missed_reason"], "agents_did_not_answer");
    assert_eq!(c["started_at"], "2022-03-04T10:28:59.000Z");

    // An answered call of the same account.
    let (s, ack) = post(AC_ANSWERED.to_string()).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(&slug, "780883160").await.unwrap();
    assert_eq!(c["status"], "active");
    assert!(c["agent_name"].is_string(), "{c}");

    // A wrong token, and no token: refused with their codes.
    let mut forged: Value = serde_json::from_str(AC_CREATED).unwrap();
    forged["token"] = json!("58ffd2bc5f3113f7bebf210a49299a1c");
    let (s, body) = post(forged.to_string()).await.unwrap();
    assert_eq!((s, code(&body)), (401, "invalid_api_key"), "{body}");
    forged.as_object_mut().unwrap().remove("token");
    let (s, body) = post(forged.to_string()).await.unwrap();
    assert_eq!((s, code(&body)), (401, "missing_api_key"), "{body}");
}

const FS_CDR: &str =
    include_str!("../../../crates/core/tests/fixtures/freeswitch-mod_json_cdr-2018-same-call.json");

#[tokio::test]
async fn freeswitch_mod_json_cdr_with_basic_auth() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("PBX", "freeswitch", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let key = p["api_key"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |user: &str, pass: Option<&str>| {
        let mut r = srv
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(FS_CDR);
        if let Some(pass) = pass {
            r = r.basic_auth(user, Some(pass));
        }
        srv.send(r)
    };
    let (s, body) = post("freeswitch", None).await.unwrap();
    assert_eq!((s, code(&body)), (401, "missing_credentials"), "{body}");
    let (s, body) = post("freeswitch", Some("wrong-key")).await.unwrap();
    assert_eq!((s, code(&body)), (401, "invalid_api_key"), "{body}");
    let (s, ack) = post("freeswitch", Some(&key)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(&slug, "5a3a1d91-90d3-4db4-af5c-cc3ae15d93a4")
        .await
        .unwrap();
    // NORMAL_CLEARING after an answer: a completed call, timed in µs epochs
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["mobile_number"], "1001");
    assert_eq!(c["started_at"], "2018-03-14T11:09:18.006Z");
    assert_eq!(c["answered_at"], "2018-03-14T11:09:27.766Z");
    assert_eq!(c["ended_at"], "2018-03-14T11:09:48.366Z");
    assert_eq!(c["duration_seconds"], 21);
    assert_eq!(c["metadata"]["hangup_cause_q850"], "16");
    // The same CDR again (mod_json_cdr retries): applied once.
    let (s, _) = post("freeswitch", Some(&key)).await.unwrap();
    assert_eq!(s, 200);
}

const RC_STREAM: &str =
    include_str!("../../../crates/core/tests/fixtures/ringcentral-pstn-to-extension.DERIVED.jsonl");

#[tokio::test]
async fn ringcentral_handshake_token_and_a_call_through_the_ivr() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("RingCentral", "ringcentral", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let token = p["signing_secret"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));

    // The subscription's URL check: the header comes back, nothing is stored.
    let r = srv
        .http
        .post(&url)
        .header("Validation-Token", "rc-check-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("validation-token")
            .and_then(|v| v.to_str().ok()),
        Some("rc-check-7f3a")
    );
    let ack: Value = r.json().await.unwrap();
    assert_eq!(ack["status"], "validated");

    let post = |body: String, tok: Option<&str>| {
        let mut r = srv
            .http
            .post(&url)
            .header("content-type", "application/json; charset=UTF-8")
            .body(body);
        if let Some(t) = tok {
            r = r.header("Verification-Token", t);
        }
        srv.send(r)
    };
    let events: Vec<&str> = RC_STREAM.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(events.len(), 11);
    let (s, body) = post(events[0].to_string(), None).await.unwrap();
    assert_eq!((s, code(&body)), (401, "missing_api_key"), "{body}");
    let (s, body) = post(events[0].to_string(), Some("not-the-token"))
        .await
        .unwrap();
    assert_eq!((s, code(&body)), (401, "invalid_api_key"), "{body}");

    // The published stream of one call: PSTN caller → IVR → extension.
    let session = "s-718107795d564867a6f635fd81e89940";
    let mut seen = Vec::new();
    for e in &events {
        let (s, ack) = post(e.to_string(), Some(&token)).await.unwrap();
        assert_eq!(s, 200, "{ack}");
        let c = srv.call(&slug, session).await.unwrap();
        seen.push(c["status"].as_str().unwrap().to_string());
    }
    // The IVR answering the caller's leg is not an agent answering.
    assert_eq!(
        seen,
        [
            "waiting",
            "waiting",
            "waiting",
            "waiting",
            "waiting",
            "ringing",
            "active",
            "active",
            "active",
            "active",
            "completed"
        ]
    );
    let c = srv.call(&slug, session).await.unwrap();
    assert_eq!(c["mobile_number"], "+14083388064");
    assert_eq!(c["did"], "+18003151571");
    assert_eq!(c["agent_id"], "809646016");

    // A caller who hangs up in the IVR: the first four events, then their
    // leg disconnects. A hang-up for the worklist, not a completed call.
    for (i, e) in events.iter().take(4).enumerate() {
        let mut v: Value = serde_json::from_str(e).unwrap();
        v["uuid"] = json!(format!("abandon-{i}"));
        v["body"]["telephonySessionId"] = json!("s-abandoned");
        let (s, ack) = post(v.to_string(), Some(&token)).await.unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let mut last: Value = serde_json::from_str(events[10]).unwrap();
    last["uuid"] = json!("abandon-end");
    last["body"]["telephonySessionId"] = json!("s-abandoned");
    let (s, ack) = post(last.to_string(), Some(&token)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    assert_eq!(
        srv.call(&slug, "s-abandoned").await.unwrap()["status"],
        "hangup"
    );
}
