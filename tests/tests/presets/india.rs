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

/// CloudAgent's call summary, as a public integration received it: a form
/// with one field, `data`, whose value is the JSON summary.
const OZONETEL_SUMMARY: &str =
    include_str!("../../../crates/core/tests/fixtures/ozonetel-call-summary-answered.json");

#[tokio::test]
async fn ozonetel_call_summary_as_a_form_field_or_a_query_parameter() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("Ozonetel", "ozonetel", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let url = p["platform_url"].as_str().unwrap();

    // POST, application/x-www-form-urlencoded: data=%7B%22monitorUCID%22…
    let (s, ack) = srv
        .send(srv.http.post(url).form(&[("data", OZONETEL_SUMMARY)]))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(slug, "9049754955340984").await.unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["raw_status"], "summary_answered");
    assert_eq!(c["mobile_number"], "+919080600507");
    assert_eq!(c["did"], "+914466949093");
    assert_eq!(c["agent_id"], "kannadasan_tendercuts");
    // Indian local time (UTC+05:30)
    assert_eq!(c["started_at"], "2018-08-06T11:29:33.000Z");
    assert_eq!(c["ended_at"], "2018-08-06T11:30:03.000Z");
    // HH:MM:SS durations as seconds: talk time, and the others kept
    assert_eq!(c["duration_seconds"], 23);
    assert_eq!(c["metadata"]["call_duration_seconds"], 30);
    assert_eq!(c["metadata"]["time_to_answer_seconds"], 7);
    assert_eq!(c["metadata"]["hangup_by"], "UserHangup");

    // The same callback configured as GET: `?data=` in the query string.
    // Not answered: a missed call for the worklist.
    let mut missed: Value = serde_json::from_str(OZONETEL_SUMMARY).unwrap();
    missed["monitorUCID"] = json!("9049754955340985");
    missed["Status"] = json!("NotAnswered");
    missed["CallerID"] = json!("09080600508");
    missed["Duration"] = json!("00:00:00");
    let data = missed.to_string();
    let (s, ack) = srv
        .send(srv.http.get(url).query(&[("data", data.as_str())]))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(slug, "9049754955340985").await.unwrap();
    assert_eq!(c["status"], "missed", "{c}");
    assert_eq!(c["mobile_number"], "+919080600508");

    // A `data` field that is not JSON is stored and flagged, never dropped.
    let (s, ack) = srv
        .send(srv.http.post(url).form(&[("data", "{not json")]))
        .await
        .unwrap();
    assert_eq!(s, 202, "{ack}");
}
