use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test]
async fn every_refusal_has_its_status_and_a_json_error() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Sales IVR").await.unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let body = event("c-1", "ringing", "+919876543210");

    // 401: no key, wrong key.
    let r = srv.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "missing_api_key");
    let r = srv
        .http
        .post(&url)
        .header("x-api-key", "cbk_wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "invalid_api_key");

    // 404: unknown slug.
    let (s, b) = srv.webhook("nope", &key, &body).await.unwrap();
    assert_eq!((s, code(&b)), (404, "not_found"));

    // 400: unparseable JSON.
    let (status, b) = srv
        .webhook_raw(&slug, &key, "application/json", "{\"data\": {")
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(code(&b), "malformed_body");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("line"),
        "{b}"
    );

    // 413: over 1 MiB.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let (status, b) = srv
        .webhook_raw(&slug, &key, "application/json", big)
        .await
        .unwrap();
    assert_eq!(status, 413);
    assert_eq!(code(&b), "body_too_large");

    // 415: XML.
    let (status, b) = srv
        .webhook_raw(&slug, &key, "application/xml", "<call/>")
        .await
        .unwrap();
    assert_eq!(status, 415);
    assert_eq!(code(&b), "unsupported_media_type");

    // None of the refusals created a call.
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 0);

    // The key failures are in the ingestion log with their reason, never the key.
    let mut reasons: Vec<String> = Vec::new();
    for _ in 0..50 {
        let (_, l) = srv
            .get_json(
                &format!("/api/providers/{slug}/deliveries?outcome=rejected"),
                ADMIN_TOKEN,
            )
            .await
            .unwrap();
        assert!(
            !l.to_string().contains("cbk_wrong"),
            "the offered key is not logged"
        );
        reasons = l["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["error"].as_str().unwrap().to_string())
            .collect();
        if reasons.len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    reasons.sort();
    // Every refusal is in the ingestion log, those before parsing too (issue 16).
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        codes,
        vec![
            "body_too_large",
            "invalid_api_key",
            "malformed_body",
            "missing_api_key",
            "unsupported_media_type"
        ]
    );
}

#[tokio::test]
async fn an_applied_event_is_a_call_in_its_department() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Support Line").await.unwrap();
    assert_eq!(slug, "support-line");
    let (s, ack) = srv
        .webhook(&slug, &key, &json!({"data": {"call_id": "abc", "caller": "+91 98765 43210", "name": "Asha", "status": "RINGING", "did": "1800"}}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["status"], "applied");
    let (s, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(list["total"], 1);
    let c = &list["data"][0];
    assert_eq!(c["call_id"], "abc");
    assert_eq!(c["department"], slug);
    assert_eq!(c["mobile_number"], "+91 98765 43210");
    assert_eq!(c["status"], "ringing");
    assert_eq!(c["raw_status"], "RINGING");
    let (s, one) = srv.get_json("/api/calls/abc", ADMIN_TOKEN).await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(one["caller_name"], "Asha");
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
    assert_eq!(one["events"][0]["payload"]["data"]["did"], "1800");
}

#[tokio::test]
async fn duplicate_deliveries_are_recorded_and_applied_once() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Dup").await.unwrap();
    let body = json!({"data": {"call_id": "d1", "caller": "+911", "status": "no-answer"}});
    let (_, first) = srv.webhook(&slug, &key, &body).await.unwrap();
    assert_eq!(first["status"], "applied");
    for _ in 0..3 {
        let (s, again) = srv.webhook(&slug, &key, &body).await.unwrap();
        assert_eq!(s, 200);
        assert_eq!(again["status"], "duplicate");
        assert_eq!(again["duplicate_of"], first["delivery_id"]);
    }
    // Same provider event id, different body: still a duplicate.
    let (_, by_id) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "d2", "event_id": "E9", "status": "ringing"}}),
        )
        .await
        .unwrap();
    assert_eq!(by_id["status"], "applied");
    let (_, dup) = srv
        .webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": "d2", "event_id": "E9", "status": "completed"}}),
        )
        .await
        .unwrap();
    assert_eq!(dup["status"], "duplicate");

    let (_, call) = srv.get_json("/api/calls/d1", ADMIN_TOKEN).await.unwrap();
    assert_eq!(call["events_count"], 1, "applied once");
    assert_eq!(call["attempts"], 0);
    let (_, d2) = srv.get_json("/api/calls/d2", ADMIN_TOKEN).await.unwrap();
    assert_eq!(
        d2["status"], "ringing",
        "the duplicate event id was not applied"
    );
    let (_, log) = srv
        .get_json(
            &format!("/api/providers/{slug}/deliveries?outcome=duplicate"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(
        log["data"].as_array().unwrap().len(),
        4,
        "every duplicate is recorded"
    );
}

#[tokio::test]
async fn statuses_only_move_forward_and_old_events_never_overwrite() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Order").await.unwrap();
    let ev = |status: &str, ts: &str, caller: &str| json!({"data": {"call_id": "o1", "status": status, "ts": ts, "caller": caller}});
    srv.webhook(
        &slug,
        &key,
        &ev("completed", "2026-01-01T10:05:00Z", "+91-new"),
    )
    .await
    .unwrap();
    // A late ringing (older, different caller spelling) arrives after the end.
    let (s, _) = srv
        .webhook(
            &slug,
            &key,
            &ev("ringing", "2026-01-01T10:00:00Z", "+91-old"),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (_, c) = srv.get_json("/api/calls/o1", ADMIN_TOKEN).await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["raw_status"], "completed");
    assert_eq!(c["mobile_number"], "+91-new");
    assert_eq!(c["event_at"], "2026-01-01T10:05:00.000Z");
    assert_eq!(c["events_count"], 2);
}

#[tokio::test]
async fn form_and_get_callbacks_are_normalised() {
    let srv = TestServer::start().await.unwrap();
    let mapping =
        json!({"call_id": "CallSid", "mobile_number": "From", "status": "CallStatus", "did": "To"});
    let (slug, key) = srv
        .provider_with(
            "Exo",
            mapping,
            json!({"ringing": "ringing", "no-answer": "missed", "completed": "completed"}),
        )
        .await
        .unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let (status, _) = srv
        .webhook_raw(
            &slug,
            &key,
            "application/x-www-form-urlencoded",
            "CallSid=CA1&From=%2B919876543210&To=0801234&CallStatus=no-answer",
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let r = srv
        .http
        .get(format!(
            "{url}?CallSid=CA2&From=09876543210&CallStatus=ringing"
        ))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, c1) = srv.get_json("/api/calls/CA1", ADMIN_TOKEN).await.unwrap();
    assert_eq!(c1["mobile_number"], "+919876543210");
    assert_eq!(c1["status"], "missed");
    assert_eq!(c1["did"], "0801234");
    let (_, c2) = srv.get_json("/api/calls/CA2", ADMIN_TOKEN).await.unwrap();
    assert_eq!(c2["status"], "ringing");
    assert_eq!(c2["events"][0]["method"], "GET");
}

#[tokio::test]
async fn unknown_raw_status_is_kept_and_flagged() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Odd").await.unwrap();
    let (s, ack) = srv
        .webhook(&slug, &key, &event("u1", "parked-in-orbit", "+91"))
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert!(
        ack["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("parked-in-orbit")),
        "{ack}"
    );
    let (_, c) = srv.get_json("/api/calls/u1", ADMIN_TOKEN).await.unwrap();
    assert_eq!(c["raw_status"], "parked-in-orbit");
    assert_eq!(c["status"], Value::Null, "no invented canonical status");
    let (_, log) = srv
        .get_json(&format!("/api/providers/{slug}/deliveries"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(log["data"][0]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("status map"));
}

#[tokio::test]
async fn a_mapping_failure_is_stored_then_replayed_after_the_fix() {
    let srv = TestServer::start().await.unwrap();
    // The platform actually sends `id`, not `data.call_id`.
    let (slug, key) = srv
        .provider_with(
            "Broken",
            json!({"call_id": "data.call_id", "mobile_number": "from", "status": "state"}),
            json!({"ringing": "ringing", "missed": "missed"}),
        )
        .await
        .unwrap();
    let mut acks = Vec::new();
    for i in 0..3 {
        let (s, ack) = srv
            .webhook(
                &slug,
                &key,
                &json!({"id": format!("r{i}"), "from": "+9180", "state": "missed"}),
            )
            .await
            .unwrap();
        assert_eq!(s, 202, "stored, not lost: {ack}");
        assert_eq!(ack["status"], "stored");
        assert!(ack["error"].as_str().unwrap().contains("call_id"));
        acks.push(ack);
    }
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let (_, log) = srv
        .get_json(
            &format!("/api/providers/{slug}/deliveries?outcome=mapping_failed"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(log["data"].as_array().unwrap().len(), 3);

    // Preview the fix against the last payload before saving it.
    let (s, pv) = srv.post_json(&format!("/api/providers/{slug}/preview"), ADMIN_TOKEN, &json!({"field_mapping": {"call_id": "id", "mobile_number": "from", "status": "state"}})).await.unwrap();
    assert_eq!(s, 200, "{pv}");
    assert_eq!(pv["call"]["call_id"], "r2");
    assert_eq!(pv["error"], Value::Null);

    let fix =
        json!({"field_mapping": {"call_id": "id", "mobile_number": "from", "status": "state"}});
    let (status, _) = srv
        .patch_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN, &fix)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (s, rep) = srv
        .post_json(
            &format!("/api/providers/{slug}/replay"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{rep}");
    assert_eq!(rep, json!({"replayed": 3, "applied": 3, "failed": 0}));
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 3);
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "missed"));
    // A second replay finds nothing left to do.
    let (_, rep) = srv
        .post_json(
            &format!("/api/providers/{slug}/replay"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(rep["replayed"], 0);
}
