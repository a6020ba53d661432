//! Knowlarity and Ozonetel: JSON pushes with the token in the URL.

use callboard_tests::TestServer;
use serde_json::{json, Value};

async fn post(srv: &TestServer, created: &Value, body: &Value) {
    let url = created["platform_url"].as_str().unwrap();
    let (s, ack) = srv.send(srv.http.post(url).json(body)).await.unwrap();
    assert_eq!(s, 200, "{body} → {ack}");
}

#[tokio::test]
async fn knowlarity_ringing_answered_hangup_and_missed() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Knowlarity", "knowlarity", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let base = json!({"uuid": "kn-1", "caller_id": "+919876543210", "dispnumber": "+918069000000",
        "call_direction": "Inbound", "start_time": "2024-05-26 13:00:21"});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    post(
        &srv,
        &p,
        &with(json!({"call_status": "Ringing", "event_time": "2024-05-26 13:00:22"})),
    )
    .await;
    assert_eq!(srv.call(slug, "kn-1").await.unwrap()["status"], "ringing");
    post(&srv, &p, &with(json!({"call_status": "Answered", "agent_number": "+919812345678", "event_time": "2024-05-26 13:00:30"}))).await;
    assert_eq!(srv.call(slug, "kn-1").await.unwrap()["status"], "active");
    post(&srv, &p, &with(json!({"call_status": "Hangup", "call_duration": 60, "end_time": "2024-05-26 13:01:30", "event_time": "2024-05-26 13:01:30"}))).await;
    let c = srv.call(slug, "kn-1").await.unwrap();
    // Answered, then hung up: a completed call.
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 60);
    assert_eq!(c["agent_id"], "+919812345678");
    assert_eq!(c["ended_at"], "2024-05-26T07:31:30.000Z");
    assert_eq!(c["direction"], "inbound");

    post(
        &srv,
        &p,
        &json!({"uuid": "kn-2", "caller_id": "9876500000", "call_status": "Missed"}),
    )
    .await;
    let c = srv.call(slug, "kn-2").await.unwrap();
    assert_eq!(
        (c["status"].as_str(), c["mobile_number"].as_str()),
        (Some("missed"), Some("+919876500000"))
    );
    post(
        &srv,
        &p,
        &json!({"uuid": "kn-3", "caller_id": "9876500001", "call_status": "Busy"}),
    )
    .await;
    assert_eq!(srv.call(slug, "kn-3").await.unwrap()["status"], "failed");
}

#[tokio::test]
async fn ozonetel_call_events_calling_answered_disconnect() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Ozonetel", "ozonetel", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    // The documented event shape of Ozonetel's events subscription.
    let event = |ucid: &str, action: &str, at: &str| {
        json!({"eventType": "Call", "eventTime": at, "username": "demo_user", "action": action,
            "call_type": "InBound", "ucid": ucid, "monitor_ucid": ucid, "agent_id": "hari",
            "skill": "General", "caller_id": "8123441234", "did": "911274700770",
            "agent_number": "8812345676", "event_time": at})
    };
    post(
        &srv,
        &p,
        &event("9012345670571155", "Calling", "2023-12-03 10:35:55"),
    )
    .await;
    assert_eq!(
        srv.call(slug, "9012345670571155").await.unwrap()["status"],
        "ringing"
    );
    post(
        &srv,
        &p,
        &event("9012345670571155", "Answered", "2023-12-03 10:36:05"),
    )
    .await;
    assert_eq!(
        srv.call(slug, "9012345670571155").await.unwrap()["status"],
        "active"
    );
    post(
        &srv,
        &p,
        &event("9012345670571155", "Disconnect", "2023-12-03 10:40:05"),
    )
    .await;
    let c = srv.call(slug, "9012345670571155").await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["mobile_number"], "+918123441234");
    assert_eq!(c["did"], "+911274700770");
    assert_eq!(c["agent_id"], "hari");
    assert_eq!(c["metadata"]["skill"], "General");
    assert_eq!(c["event_at"], "2023-12-03T05:10:05.000Z");

    // Rang, then the caller hung up: a hangup for the worklist.
    post(
        &srv,
        &p,
        &event("9012345670571156", "Calling", "2023-12-03 11:00:00"),
    )
    .await;
    post(
        &srv,
        &p,
        &event("9012345670571156", "Disconnect", "2023-12-03 11:00:20"),
    )
    .await;
    assert_eq!(
        srv.call(slug, "9012345670571156").await.unwrap()["status"],
        "hangup"
    );
}
