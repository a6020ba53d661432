//! Twilio voice status callbacks, signed with X-Twilio-Signature over the
//! public URL (`--public-url`) as Twilio computes it.

use crate::code;
use callboard_core::signature::twilio_signature;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::json;

const PUBLIC: &str = "https://calls.example.com";
const AUTH_TOKEN: &str = "twilio-auth-token-0123456789abcdef";

fn form(sid: &str, status: &str, seq: u32, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Called", "+18005551212"),
        ("Caller", "+14158675309"),
        ("Direction", "inbound"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("CallbackSource", "call-progress-events"),
        ("Timestamp", "Sun, 26 May 2024 07:30:21 +0000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    f.push(("SequenceNumber".into(), seq.to_string()));
    f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    f
}

#[tokio::test]
async fn twilio_status_callbacks_are_verified_against_the_public_url() {
    let srv = TestServer::start_with_env(&[("CALLBOARD_PUBLIC_URL", PUBLIC)])
        .await
        .unwrap();
    let p = srv
        .provider_from_preset("Twilio US", "twilio", json!({"signing_secret": AUTH_TOKEN}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    assert_eq!(p["webhook_url"], format!("{PUBLIC}/webhooks/ivr/{slug}"));
    // Twilio's secret is its own auth token: pasted in, never echoed.
    assert!(p["signing_secret"].is_null());
    assert_eq!(p["has_signing_secret"], true);
    let public_url = format!("{PUBLIC}/webhooks/ivr/{slug}");
    let local_url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let send = |f: Vec<(String, String)>, sig: String| {
        srv.send(
            srv.http
                .post(&local_url)
                .header("X-Twilio-Signature", sig)
                .form(&f),
        )
    };

    for (status, seq, extra) in [
        ("ringing", 0, vec![]),
        ("in-progress", 1, vec![]),
        ("completed", 2, vec![("CallDuration", "33")]),
    ] {
        let f = form("CA1", status, seq, &extra);
        let sig = twilio_signature(AUTH_TOKEN, &public_url, &f);
        let (s, ack) = send(f, sig).await.unwrap();
        assert_eq!(s, 200, "{status}: {ack}");
    }
    let c = srv.call(slug, "CA1").await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 33);
    assert_eq!(c["mobile_number"], "+14158675309");
    assert_eq!(c["metadata"]["sequence_number"], 2);

    for (sid, status, want) in [
        ("CA2", "no-answer", "missed"),
        ("CA3", "busy", "failed"),
        ("CA4", "canceled", "hangup"),
    ] {
        let f = form(sid, status, 1, &[]);
        let sig = twilio_signature(AUTH_TOKEN, &public_url, &f);
        let (s, _) = send(f, sig).await.unwrap();
        assert_eq!(s, 200);
        assert_eq!(srv.call(slug, sid).await.unwrap()["status"], want);
    }

    // Tampered body, wrong token, the receiver's own URL, no header: 401.
    let f = form("CA5", "ringing", 0, &[]);
    let good = twilio_signature(AUTH_TOKEN, &public_url, &f);
    let mut tampered = f.clone();
    tampered[3].1 = "completed".into();
    let (s, b) = send(tampered, good.clone()).await.unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = send(
        f.clone(),
        twilio_signature("not-the-token", &public_url, &f),
    )
    .await
    .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = send(f.clone(), twilio_signature(AUTH_TOKEN, &local_url, &f))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = srv.send(srv.http.post(&local_url).form(&f)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "missing_signature"));
    let (s, _) = srv
        .get_json(&format!("/api/calls/CA5?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 404, "no refused delivery made a call");

    // The refusals are in the ingestion log with their reason, never the token.
    let mut rejected = Vec::new();
    for _ in 0..100 {
        let (_, log) = srv
            .get_json(
                &format!("/api/providers/{slug}/deliveries?outcome=rejected"),
                ADMIN_TOKEN,
            )
            .await
            .unwrap();
        assert!(!log.to_string().contains(AUTH_TOKEN));
        rejected = log["data"].as_array().unwrap().clone();
        if rejected.len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rejected.len(), 4);
    assert!(rejected.iter().any(|d| d["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid_signature: ")));
    assert!(rejected.iter().any(|d| d["error"]
        .as_str()
        .unwrap()
        .starts_with("missing_signature: ")));
}

const PLIVO_TOKEN: &str = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4";

#[tokio::test]
async fn plivo_callbacks_are_verified_with_signature_v3() {
    use callboard_core::signature::plivo_v3_signature;
    let srv = TestServer::start_with_env(&[("CALLBOARD_PUBLIC_URL", PUBLIC)])
        .await
        .unwrap();
    let p = srv
        .provider_from_preset("Plivo", "plivo", json!({"signing_secret": PLIVO_TOKEN}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    assert!(
        p["signing_secret"].is_null(),
        "the auth token is never echoed"
    );
    let public_url = format!("{PUBLIC}/webhooks/ivr/{slug}");
    let local_url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let form = |status: &str, extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = [
            ("CallUUID", "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Direction", "inbound"),
            ("CallStatus", status),
            ("Event", "Hangup"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f
    };
    let send = |f: Vec<(String, String)>, sig: Option<String>, nonce: &str| {
        let mut r = srv
            .http
            .post(&local_url)
            .header("X-Plivo-Signature-V3-Nonce", nonce)
            .form(&f);
        if let Some(s) = sig {
            r = r.header("X-Plivo-Signature-V3", s);
        }
        srv.send(r)
    };
    let f = form("ringing", &[]);
    let sig = plivo_v3_signature(PLIVO_TOKEN, "POST", &public_url, &f, "111");
    let (s, ack) = send(f, Some(sig), "111").await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let f = form(
        "completed",
        &[
            ("Duration", "42"),
            ("AnswerTime", "2024-05-26 07:30:30"),
            ("EndTime", "2024-05-26 07:31:12"),
            ("HangupCause", "NORMAL_CLEARING"),
        ],
    );
    // Several active auth tokens: Plivo sends one signature per token.
    let sig = format!(
        "c29tZW90aGVy,{}",
        plivo_v3_signature(PLIVO_TOKEN, "POST", &public_url, &f, "222")
    );
    let (s, ack) = send(f.clone(), Some(sig), "222").await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(&slug, "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36")
        .await
        .unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["duration_seconds"], 42);
    assert_eq!(c["mobile_number"], "+14158675309");

    // Forged (signed for another URL), and missing.
    let forged = plivo_v3_signature(PLIVO_TOKEN, "POST", &local_url, &f, "333");
    let (s, body) = send(f.clone(), Some(forged), "333").await.unwrap();
    assert_eq!((s, code(&body)), (401, "invalid_signature"), "{body}");
    let (s, body) = send(f, None, "444").await.unwrap();
    assert_eq!((s, code(&body)), (401, "missing_signature"), "{body}");
}
