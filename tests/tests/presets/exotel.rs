//! Exotel: Passthru callbacks (GET, query parameters, documented on Exotel's
//! "Working with Passthru applet" page) and status callbacks (form POST).

use crate::code;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::json;

#[tokio::test]
async fn exotel_passthru_and_status_callbacks() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Exotel Support", "exotel", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let key = p["api_key"].as_str().unwrap().to_string();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let passthru = |q: &[(&str, &str)]| {
        let mut q: Vec<(&str, &str)> = q.to_vec();
        q.push(("token", key.as_str()));
        srv.http.get(&url).query(&q)
    };

    // The caller hung up during the Connect applet.
    let (s, ack) = srv
        .send(passthru(&[
            ("CallSid", "b6cfaf0d2e0a1b2c3d4e5f60718293a4"),
            ("CallFrom", "09876543210"),
            ("CallTo", "08030752400"),
            ("Direction", "incoming"),
            ("Created", "Sun, 26 May 2024 13:00:21"),
            ("DialCallDuration", "0"),
            ("StartTime", "2024-05-26 13:00:21"),
            ("EndTime", "1970-01-01 05:30:00"),
            ("CallType", "client-hangup"),
            ("DialWhomNumber", ""),
            ("CurrentTime", "2024-05-26 13:00:51"),
            ("digits", ""),
        ]))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(&slug, "b6cfaf0d2e0a1b2c3d4e5f60718293a4")
        .await
        .unwrap();
    assert_eq!(c["status"], "hangup");
    assert_eq!(c["mobile_number"], "+919876543210");
    assert_eq!(c["did"], "+918030752400");
    assert_eq!(c["direction"], "incoming");
    // IST without an offset → UTC; Exotel's constant EndTime means "unknown".
    assert_eq!(c["started_at"], "2024-05-26T07:30:21.000Z");
    assert!(c["ended_at"].is_null(), "{c}");

    // A conversation happened.
    let (s, _) = srv
        .send(passthru(&[
            ("CallSid", "c1"),
            ("CallFrom", "09876500001"),
            ("CallTo", "08030752400"),
            ("Direction", "incoming"),
            ("DialCallDuration", "45"),
            ("StartTime", "2024-05-26 13:10:00"),
            ("CallType", "completed"),
            ("DialWhomNumber", "09812345678"),
        ]))
        .await
        .unwrap();
    assert_eq!(s, 200);
    let c = srv.call(&slug, "c1").await.unwrap();
    assert_eq!(
        (c["status"].as_str(), c["duration_seconds"].as_i64()),
        (Some("completed"), Some(45))
    );
    assert_eq!(c["agent_id"], "09812345678");

    // Nobody picked up (Connect applet, no agent), and voicemail.
    for (sid, ty) in [("c2", "incomplete"), ("c3", "voicemail")] {
        let (s, _) = srv
            .send(passthru(&[
                ("CallSid", sid),
                ("CallFrom", "09876500002"),
                ("CallType", ty),
            ]))
            .await
            .unwrap();
        assert_eq!(s, 200);
        assert_eq!(
            srv.call(&slug, sid).await.unwrap()["status"],
            "missed",
            "{ty}"
        );
    }

    // Status callbacks of API-originated calls: form POSTs.
    for (sid, status, want) in [
        ("o1", "no-answer", "missed"),
        ("o2", "busy", "failed"),
        ("o3", "completed", "completed"),
    ] {
        let form = [
            ("CallSid", sid),
            ("Status", status),
            ("From", "09876500003"),
            ("To", "08030752400"),
            ("DateUpdated", "2024-05-26 13:20:00"),
            ("RecordingUrl", ""),
        ];
        let (s, ack) = srv
            .send(srv.http.post(format!("{url}?token={key}")).form(&form))
            .await
            .unwrap();
        assert_eq!(s, 200, "{ack}");
        assert_eq!(srv.call(&slug, sid).await.unwrap()["status"], want);
    }

    // Without the token: 401, logged; the token is never stored.
    let (s, b) = srv
        .send(srv.http.get(&url).query(&[("CallSid", "x")]))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "missing_api_key"));
    let (s, b) = srv
        .send(
            srv.http
                .get(&url)
                .query(&[("CallSid", "x"), ("token", "cbk_wrong")]),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_api_key"));
    let (_, log) = srv
        .get_json(
            &format!("/api/providers/{slug}/deliveries?limit=500"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let text = log.to_string();
    assert!(
        !text.contains(&key),
        "the token is not in the ingestion log"
    );
    assert!(!text.contains("cbk_wrong"));
    assert!(text.contains("b6cfaf0d2e0a1b2c3d4e5f60718293a4"));
}
