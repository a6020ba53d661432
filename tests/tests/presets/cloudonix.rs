//! Cloudonix session updates on `POST /api/session/update`, routed by the
//! payload's `domain`; never rate limited.

use crate::code;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

const CONNECTED: &str =
    include_str!("../../../crates/core/tests/fixtures/cloudonix-session-update-connected.json");

async fn cloudonix(srv: &TestServer) -> (String, String) {
    let p = srv
        .provider_from_preset(
            "Cloudonix",
            "cloudonix",
            json!({"domains": ["example.com"]}),
        )
        .await
        .unwrap();
    let url = p["platform_url"].as_str().unwrap().to_string();
    assert!(url.contains("/api/session/update?token=cbk_"), "{url}");
    (p["slug"].as_str().unwrap().to_string(), url)
}

#[tokio::test]
async fn session_updates_map_the_status_vocabulary_and_compute_duration() {
    let srv = TestServer::start().await.unwrap();
    let (slug, url) = cloudonix(&srv).await;
    let connected: Value = serde_json::from_str(CONNECTED).unwrap();
    let (s, ack) = srv
        .send(srv.http.post(&url).json(&connected))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call(&slug, "16a7294c989b11e7b3d32b9edb8660c7")
        .await
        .unwrap();
    assert_eq!(c["status"], "active");
    assert_eq!(c["mobile_number"], "12127773456");
    assert_eq!(c["did"], "63121233333");
    assert_eq!(c["direction"], "application");
    assert_eq!(c["started_at"], "2024-05-26T07:30:21.946Z");
    assert_eq!(c["answered_at"], "2024-05-26T07:30:25.343Z");
    assert_eq!(
        c["metadata"]["session"], connected,
        "the whole payload is kept"
    );
    assert_eq!(
        c["metadata"]["sip_call_id"],
        "315df9a833a762214873c11b49bf622a@XXX.XXX.XXX.XXX:5060"
    );

    // The end of the session: no end time is sent; the duration comes from
    // the answer time to the update's modifiedAt.
    let mut ended = connected.clone();
    ended["status"] = json!("completed");
    ended["modifiedAt"] = json!("2024-05-26T07:30:58Z");
    ended["eventId"] = json!("9e938c49-0000-0000-0000-000000000002");
    let (s, _) = srv.send(srv.http.post(&url).json(&ended)).await.unwrap();
    assert_eq!(s, 200);
    let c = srv
        .call(&slug, "16a7294c989b11e7b3d32b9edb8660c7")
        .await
        .unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["ended_at"], "2024-05-26T07:30:58.000Z");
    assert_eq!(c["duration_seconds"], 32);

    // The rest of the vocabulary.
    let cases = [
        ("new", "waiting"),
        ("processing", "waiting"),
        ("ringing", "ringing"),
        ("connected", "active"),
        ("answer", "active"),
        ("external", "active"),
        ("noanswer", "missed"),
        ("busy", "failed"),
        ("nocredit", "failed"),
        ("cancel", "hangup"),
        ("error", "failed"),
    ];
    for (i, (word, want)) in cases.iter().enumerate() {
        let update = json!({"domain": "example.com", "token": format!("tok-{i}"), "callerId": "12125550100",
            "destination": "100", "direction": "incoming", "status": word,
            "callStartTime": 1716708621946i64, "modifiedAt": "2024-05-26T07:31:00Z", "eventId": format!("e-{i}")});
        let (s, ack) = srv.send(srv.http.post(&url).json(&update)).await.unwrap();
        assert_eq!(s, 200, "{word}: {ack}");
        let c = srv.call(&slug, &format!("tok-{i}")).await.unwrap();
        assert_eq!(c["status"], *want, "{word}");
        if matches!(*want, "missed" | "failed" | "hangup") {
            assert_eq!(c["ended_at"], "2024-05-26T07:31:00.000Z", "{word}");
        }
    }

    // Unknown domain: 404; no token: 401; not JSON: 400.
    let mut other = connected.clone();
    other["domain"] = json!("nobody.example.org");
    let (s, b) = srv.send(srv.http.post(&url).json(&other)).await.unwrap();
    assert_eq!((s, code(&b)), (404, "not_found"));
    let (s, b) = srv
        .send(
            srv.http
                .post(srv.url("/api/session/update"))
                .json(&connected),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "missing_api_key"));
    let (s, b) = srv
        .send(
            srv.http
                .post(&url)
                .header("content-type", "application/json")
                .body("{"),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (400, "malformed_body"));
}

#[tokio::test]
async fn a_burst_of_1000_updates_for_100_sessions_is_all_applied_in_order() {
    let srv = TestServer::start().await.unwrap();
    let (slug, url) = cloudonix(&srv).await;
    let statuses = [
        "new",
        "processing",
        "ringing",
        "ringing",
        "connected",
        "connected",
        "connected",
        "connected",
        "connected",
        "connected",
    ];
    let started = std::time::Instant::now();
    let sessions = (0..100).map(|s| {
        let (srv, url) = (&srv, url.clone());
        async move {
            for (i, status) in statuses.iter().enumerate() {
                let body = json!({"domain": "example.com", "token": format!("burst-{s}"), "callerId": format!("1212555{s:04}"),
                    "destination": "100", "direction": "incoming", "status": status, "seq": i,
                    "callStartTime": 1716708621946i64, "eventId": format!("burst-{s}-{i}"),
                    "modifiedAt": format!("2024-05-26T07:31:{i:02}Z")});
                let (st, ack) = srv.send(srv.http.post(&url).json(&body)).await.unwrap();
                assert_eq!(st, 200, "session {s} update {i}: {ack}");
                assert_eq!(ack["status"], "applied");
            }
        }
    });
    futures_util::future::join_all(sessions).await;
    eprintln!("1000 session updates in {:?}", started.elapsed());
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&limit=1000"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 100);
    for c in list["data"].as_array().unwrap() {
        assert_eq!(c["events_count"], 10, "{}", c["call_id"]);
        assert_eq!(c["status"], "active");
        assert_eq!(
            c["metadata"]["session"]["seq"], 9,
            "the last update is the one kept"
        );
        assert_eq!(c["event_at"], "2024-05-26T07:31:09.000Z");
    }
}
