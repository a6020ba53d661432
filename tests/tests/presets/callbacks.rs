//! Calling back from the worklist through a platform's click-to-call API, a
//! fake platform on loopback standing in for Exotel and Twilio: what the
//! platform is asked, the attempt recorded on the call, the status report
//! that makes the call "attempted", and every refusal on the way.

use super::code;
use callboard_tests::fake_platform::{FakePlatform, Reply};
use callboard_tests::{event, until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

const API_TOKEN: &str = "exotel-api-token-never-shown";

/// A department with a missed call from +919811122233, an agent working it,
/// and (when `fake` is given) an Exotel dialer pointing at the fake.
async fn setup(srv: &TestServer, fake: Option<&FakePlatform>) -> (String, String, String) {
    let (slug, key) = srv.provider("Sales").await.unwrap();
    let (s, ack) = srv
        .webhook(&slug, &key, &event("m-1", "missed", "+919811122233"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let agent = srv.user("asha", "agent", &[&slug]).await.unwrap();
    if let Some(fake) = fake {
        let (s, d) = srv
            .put_json(
                &format!("/api/providers/{slug}/dialer"),
                ADMIN_TOKEN,
                &json!({"kind": "exotel",
                    "fields": {"account_sid": "acme1", "api_key": "key1", "caller_id": "08047112233",
                        "base_url": fake.base},
                    "secrets": {"api_token": API_TOKEN}}),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["ready"], true, "{d}");
        assert!(
            !d.to_string().contains(API_TOKEN),
            "secrets are never returned"
        );
    }
    (slug, agent, key)
}

async fn call_back(srv: &TestServer, token: &str, slug: &str, agent: &str) -> (u16, Value) {
    srv.post_json(
        &format!("/api/calls/m-1/callback?department={slug}"),
        token,
        &json!({"agent": agent}),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn call_back_rings_the_agent_then_the_customer_and_the_report_makes_the_call_attempted() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"Call": {"Sid": "b6cfaf3ec1", "Status": "in-progress"}}),
    ));
    let srv = TestServer::start().await.unwrap();
    let (slug, agent, _) = setup(&srv, Some(&fake)).await;

    // The secret is in the secret store, not in the database.
    let secrets = std::fs::read_to_string(srv.dir.path().join("secrets.json")).unwrap();
    assert!(secrets.contains(API_TOKEN));
    for f in ["callboard.db", "callboard.db-wal"] {
        if let Ok(bytes) = std::fs::read(srv.dir.path().join(f)) {
            assert!(!String::from_utf8_lossy(&bytes).contains(API_TOKEN), "{f}");
        }
    }
    // An agent sees the dialer without its settings.
    let (s, list) = srv.get_json("/api/dialers", &agent).await.unwrap();
    assert_eq!(s, 200, "{list}");
    assert_eq!(list[0]["kind"], "exotel");
    assert_eq!(list[0]["agent"], "phone");
    assert_eq!(list[0]["fields"], json!({}));

    let (s, started) = call_back(&srv, &agent, &slug, "+91 98000 00001").await;
    assert_eq!(s, 201, "{started}");
    assert_eq!(started["attempt"]["state"], "dialling");
    assert_eq!(started["attempt"]["platform_ref"], "b6cfaf3ec1");
    assert_eq!(started["attempt"]["actor"], "asha");
    // The caller's call is now the agent's, not yet attempted.
    assert_eq!(started["call"]["assignee_name"], "asha");
    assert_eq!(started["call"]["work_state"], "assigned");

    // What Exotel was asked: the agent first, the customer second.
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/v1/Accounts/acme1/Calls/connect.json");
    let basic = format!("Basic {}", base64_encode(&format!("key1:{API_TOKEN}")));
    assert_eq!(req.header("authorization"), Some(basic.as_str()));
    assert_eq!(req.form("From").as_deref(), Some("+919800000001"));
    assert_eq!(req.form("To").as_deref(), Some("+919811122233"));
    assert_eq!(req.form("CallerId").as_deref(), Some("08047112233"));
    let status_url = req.form("StatusCallback").unwrap();
    assert!(status_url.starts_with(&srv.url("/dial/")), "{status_url}");

    // Exotel reports the end: the customer did not answer.
    let report = json!({"CallSid": "b6cfaf3ec1", "EventType": "terminal", "Status": "no-answer",
        "ConversationDuration": 0, "Legs": [{"Status": "completed"}, {"Status": "no-answer"}]});
    let r = srv
        .http
        .post(&status_url)
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["attempts"], 1);
    assert_eq!(c["work_state"], "attempted");
    assert_eq!(c["last_outcome"], "no_answer");
    assert_eq!(c["callbacks"][0]["state"], "no_answer");
    assert!(c["callbacks"][0]["ended_at"].is_string());
    // A repeated report changes nothing.
    let r = srv
        .http
        .post(&status_url)
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(srv.call(&slug, "m-1").await.unwrap()["attempts"], 1);

    // The agent's disposition resolves it.
    let (s, d) = srv
        .post_json(
            &format!("/api/calls/m-1/disposition?department={slug}"),
            &agent,
            &json!({"category": "Callback done", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["call"]["work_state"], "resolved");
    // A resolved call is not called back again.
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (409, "conflict"), "{e}");
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn twilio_reports_the_customer_leg_through_the_dial_action() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(201, json!({"sid": "CA42", "status": "queued"})));
    let srv = TestServer::start().await.unwrap();
    let (slug, agent, _) = setup(&srv, None).await;
    let (s, d) = srv
        .put_json(
            &format!("/api/providers/{slug}/dialer"),
            ADMIN_TOKEN,
            &json!({"kind": "twilio", "fields": {"account_sid": "AC1", "caller_id": "+14155550100",
                "base_url": fake.base}, "secrets": {"auth_token": "tw-secret"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    let (s, started) = call_back(&srv, &agent, &slug, "+14155550111").await;
    assert_eq!(s, 201, "{started}");
    let req = &fake.seen()[0];
    assert_eq!(req.target, "/2010-04-01/Accounts/AC1/Calls.json");
    assert_eq!(req.form("To").as_deref(), Some("+14155550111"));
    let twiml = req.form("Twiml").unwrap();
    assert!(twiml.contains("<Number>+919811122233</Number>"), "{twiml}");
    let status_url = req.form("StatusCallback").unwrap();

    // The <Dial> action: the customer talked for 61 s (a form, as Twilio posts).
    let r = srv
        .http
        .post(&status_url)
        .form(&[
            ("CallSid", "CA42"),
            ("CallStatus", "in-progress"),
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "61"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Response/>"));
    // Then the agent's leg ends: nothing more to count.
    srv.http
        .post(&status_url)
        .form(&[("CallSid", "CA42"), ("CallStatus", "completed")])
        .send()
        .await
        .unwrap();
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["attempts"], 1);
    assert_eq!(c["callbacks"][0]["state"], "connected");
    assert_eq!(c["callbacks"][0]["duration_seconds"], 61);
}

#[tokio::test]
async fn refusals_name_what_is_wrong_and_keep_the_attempt() {
    let fake = FakePlatform::start().await;
    let srv = TestServer::start().await.unwrap();
    let (slug, agent, _) = setup(&srv, None).await;

    // No dialer: the console offers a tel: link instead.
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (409, "no_dialer"), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("+919811122233"));

    // Settings refused: a missing field, a secret among the fields, an
    // unknown kind; only admins configure.
    for (body, what) in [
        (
            json!({"kind": "exotel", "fields": {"account_sid": "a", "api_key": "k"}}),
            "caller_id",
        ),
        (
            json!({"kind": "exotel", "fields": {"account_sid": "a", "api_key": "k", "caller_id": "1", "api_token": "x"}}),
            "secret",
        ),
        (
            json!({"kind": "exotel", "fields": {"account_sid": "a", "api_key": "k", "caller_id": "1"}, "secrets": {"password": "x"}}),
            "password",
        ),
    ] {
        let (s, e) = srv
            .put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, &body)
            .await
            .unwrap();
        assert_eq!(s, 422, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(what),
            "{e}"
        );
    }
    let (s, _) = srv
        .put_json(
            &format!("/api/providers/{slug}/dialer"),
            ADMIN_TOKEN,
            &json!({"kind": "vonage"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422);
    let cfg = json!({"kind": "exotel", "fields": {"account_sid": "acme1", "api_key": "key1",
        "caller_id": "08047112233", "base_url": fake.base}});
    let (s, _) = srv
        .put_json(&format!("/api/providers/{slug}/dialer"), &agent, &cfg)
        .await
        .unwrap();
    assert_eq!(s, 403);

    // Without its API token the dialer is not ready, and says what it lacks.
    let (s, d) = srv
        .put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, &cfg)
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["missing_secrets"], json!(["api_token"]));
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (409, "no_dialer"), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("api_token"));
    let mut with_secret = cfg.clone();
    with_secret["secrets"] = json!({"api_token": API_TOKEN});
    let (s, _) = srv
        .put_json(
            &format!("/api/providers/{slug}/dialer"),
            ADMIN_TOKEN,
            &with_secret,
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    // Saving again without secrets keeps the stored one.
    let (s, d) = srv
        .put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, &cfg)
        .await
        .unwrap();
    assert_eq!((s, d["ready"].clone()), (200, json!(true)), "{d}");

    // Not a phone number.
    let (s, e) = call_back(&srv, &agent, &slug, "my desk").await;
    assert_eq!((s, code(&e)), (422, "invalid"), "{e}");
    assert!(fake.seen().is_empty(), "nothing was sent");

    // Another department's agent may not call this caller.
    let (other, _) = srv.provider("Support").await.unwrap();
    let outsider = srv.user("ravi", "agent", &[&other]).await.unwrap();
    let (s, _) = call_back(&srv, &outsider, &slug, "+919800000001").await;
    assert_eq!(s, 403);

    // The platform refuses (wrong credentials): 502 in its words, the
    // attempt kept as failed, the call not counted as attempted.
    fake.script(&[Reply::json(
        401,
        json!({"RestException": {"Status": 401, "Message": "Authentication is required to view this page."}}),
    )]);
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (502, "platform_error"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Authentication is required"),
        "{e}"
    );
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][0]["state"], "failed");
    assert!(c["callbacks"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("HTTP 401"));
    assert_eq!(c["attempts"], 0);

    // A 503 is retried (the platform did not act on it); a 500 is not (it
    // may have placed the call: dialling twice would ring the caller twice).
    let before = fake.seen().len();
    fake.script(&[
        Reply::json(503, json!({"message": "busy"})),
        Reply::json(200, json!({"Call": {"Sid": "retry-ok"}})),
    ]);
    let (s, r) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(fake.seen().len(), before + 2);
    let before = fake.seen().len();
    fake.script(&[Reply::json(500, json!({"message": "internal"}))]);
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (502, "platform_error"), "{e}");
    assert_eq!(fake.seen().len(), before + 1, "a 500 is not retried");

    // After repeated failures the circuit opens: the platform is left alone.
    fake.answer(Reply::json(500, json!({"message": "down"})));
    for _ in 0..5 {
        call_back(&srv, &agent, &slug, "+919800000001").await;
    }
    let before = fake.seen().len();
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (502, "platform_error"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("failed repeatedly"),
        "{e}"
    );
    assert_eq!(fake.seen().len(), before);
    let (_, list) = srv.get_json("/api/dialers", ADMIN_TOKEN).await.unwrap();
    assert_eq!(list[0]["circuit"], "open");

    // Status URLs: an unknown token is 404, a body that is not a form or
    // JSON object is 400.
    let r = srv
        .http
        .post(srv.url("/dial/not-a-token/status"))
        .json(&json!({"Status": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Removing the dialer removes its secrets.
    let (s, _) = srv
        .delete_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 204);
    let secrets = std::fs::read_to_string(srv.dir.path().join("secrets.json")).unwrap();
    assert!(!secrets.contains(API_TOKEN));
}

async fn sms_settings(srv: &TestServer, slug: &str, body: Value) -> (u16, Value) {
    srv.put_json(&format!("/api/providers/{slug}/sms"), ADMIN_TOKEN, &body)
        .await
        .unwrap()
}

async fn messages(srv: &TestServer, slug: &str) -> Vec<Value> {
    let (s, m) = srv
        .get_json(&format!("/api/providers/{slug}/sms/messages"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{m}");
    m.as_array().unwrap().clone()
}

#[tokio::test]
async fn missed_callers_get_one_text_outside_quiet_hours() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"SMSMessage": {"Sid": "sms-1", "Status": "queued"}}),
    ));
    let srv = TestServer::start().await.unwrap();
    // The department's missed call m-1 arrives before SMS is set up: no text.
    let (slug, _, key) = setup(&srv, Some(&fake)).await;

    // Settings are checked.
    for (body, what) in [
        (json!({"enabled": true, "template": "Hi {name}"}), "{name}"),
        (
            json!({"enabled": true, "template": "Hi", "quiet_from": "21:00"}),
            "quiet_to",
        ),
        (
            json!({"enabled": true, "template": "Hi", "time_zone": "Mars/Base"}),
            "time_zone",
        ),
        (json!({"enabled": true, "template": ""}), "template"),
    ] {
        let (s, e) = sms_settings(&srv, &slug, body).await;
        assert_eq!((s, code(&e)), (422, "invalid"), "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(what),
            "{e}"
        );
    }
    let (s, set) = sms_settings(
        &srv,
        &slug,
        json!({"enabled": true, "template": "Sorry we missed your call, {caller_name}. {department} will call you back shortly."}),
    )
    .await;
    assert_eq!(s, 200, "{set}");
    assert_eq!(set["time_zone"], "UTC");

    // A missed call: the text goes through Exotel's SMS API.
    let (s, ack) = srv
        .webhook(&slug, &key, &event("m-2", "missed", "+919811100001"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    until(10, "the text is sent", || async {
        messages(&srv, &slug)
            .await
            .first()
            .is_some_and(|m| m["state"] == "sent")
    })
    .await;
    let sent: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|r| r.target.ends_with("/Sms/send.json"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].target, "/v1/Accounts/acme1/Sms/send.json");
    assert_eq!(sent[0].form("To").as_deref(), Some("+919811100001"));
    assert_eq!(sent[0].form("From").as_deref(), Some("08047112233"));
    assert_eq!(
        sent[0].form("Body").as_deref(),
        Some("Sorry we missed your call, there. Sales will call you back shortly.")
    );
    let c = srv.call(&slug, "m-2").await.unwrap();
    assert_eq!(c["sms"][0]["platform_ref"], "sms-1");
    assert_eq!(c["sms"][0]["state"], "sent");

    // The same caller again within 12 h: no second text; a completed call
    // and our own outbound call: none either.
    srv.webhook(&slug, &key, &event("m-3", "missed", "+919811100001"))
        .await
        .unwrap();
    srv.webhook(&slug, &key, &event("m-4", "completed", "+919811100002"))
        .await
        .unwrap();
    assert_eq!(messages(&srv, &slug).await.len(), 1);

    // Quiet hours around now: the text waits for their end.
    let now = srv.now();
    let from = (now - chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let to = (now + chrono::Duration::hours(1))
        .format("%H:%M")
        .to_string();
    let (s, e) = sms_settings(
        &srv,
        &slug,
        json!({"enabled": true, "template": "Sorry we missed you.", "quiet_from": from, "quiet_to": to}),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    srv.webhook(&slug, &key, &event("m-5", "missed", "+919811100005"))
        .await
        .unwrap();
    let m = messages(&srv, &slug).await;
    assert_eq!(m[0]["state"], "queued", "{m:?}");
    assert!(m[0]["send_after"].as_str().unwrap() > now.to_rfc3339().as_str());
    let held = |m: Vec<Value>| {
        m.into_iter()
            .find(|m| m["to_number"] == "+919811100005")
            .unwrap()
    };
    // The quiet hours lifted, the next caller's text goes at once: the
    // sender has worked through the outbox since the held text was queued,
    // and left it.
    let (s, e) = sms_settings(
        &srv,
        &slug,
        json!({"enabled": true, "template": "Sorry we missed you."}),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    srv.webhook(&slug, &key, &event("m-7", "missed", "+919811100007"))
        .await
        .unwrap();
    until(10, "the next caller's text is sent", || async {
        messages(&srv, &slug).await[0]["state"] == "sent"
    })
    .await;
    let m = messages(&srv, &slug).await;
    assert_eq!(m[0]["to_number"], "+919811100007", "{m:?}");
    assert_eq!(held(m)["state"], "queued", "held in quiet hours");
    srv.advance(std::time::Duration::from_secs(2 * 3600));
    until(
        10,
        "the held text goes at the end of the quiet hours",
        || async { held(messages(&srv, &slug).await)["state"] == "sent" },
    )
    .await;

    // The platform refuses: failed, with its reason, not retried.
    fake.script(&[Reply::json(
        400,
        json!({"RestException": {"Status": 400, "Message": "To number is on the DND list"}}),
    )]);
    srv.webhook(&slug, &key, &event("m-6", "missed", "+919811100006"))
        .await
        .unwrap();
    until(10, "the refusal is recorded", || async {
        messages(&srv, &slug).await[0]["state"] == "failed"
    })
    .await;
    let m = messages(&srv, &slug).await;
    assert!(m[0]["detail"].as_str().unwrap().contains("DND"), "{m:?}");
    assert_eq!(m[0]["attempts"], 1);
}

/// Knowlarity reports no status of its own: the outbound call its webhook
/// reports to the caller's number settles the call back.
#[tokio::test]
async fn a_platform_without_status_reports_settles_the_call_back_through_its_webhook() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"success": {"status": "success", "message": "Call initiated", "call_id": "kn-77"}}),
    ));
    let srv = TestServer::start().await.unwrap();
    let mut mapping = callboard_tests::generic_mapping();
    mapping["direction"] = json!("data.direction");
    let (slug, key) = srv
        .provider_with("Sales", mapping, callboard_tests::generic_status_map())
        .await
        .unwrap();
    let agent = srv.user("asha", "agent", &[&slug]).await.unwrap();
    let (s, d) = srv
        .put_json(
            &format!("/api/providers/{slug}/dialer"),
            ADMIN_TOKEN,
            &json!({"kind": "knowlarity", "fields": {"k_number": "+918047000000", "base_url": fake.base},
                "secrets": {"api_key": "x1", "sr_api_key": "sr1"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["reports_status"], false);
    for (id, caller) in [("m-1", "+919811122233"), ("m-2", "+919811100002")] {
        srv.webhook(&slug, &key, &event(id, "no-answer", caller))
            .await
            .unwrap();
    }
    for id in ["m-1", "m-2"] {
        let (s, r) = srv
            .post_json(
                &format!("/api/calls/{id}/callback?department={slug}"),
                &agent,
                &json!({"agent": "+919800000001"}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["attempt"]["platform_ref"], "kn-77");
    }
    let req = &fake.seen()[0];
    assert_eq!(req.target, "/Basic/v1/account/call/makecall");
    assert_eq!(req.header("x-api-key"), Some("x1"));
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["customer_number"], "+919811122233");
    assert_eq!(body["agent_number"], "+919800000001");

    // Knowlarity's webhook: the outbound call to m-1's caller rang out; the
    // one to m-2's caller was answered.
    let out = |id: &str, caller: &str, status: &str| json!({"data": {"call_id": id, "caller": caller, "status": status, "direction": "outbound"}});
    srv.webhook(&slug, &key, &out("ob-1", "+919811122233", "no-answer"))
        .await
        .unwrap();
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][0]["state"], "no_answer", "{c}");
    assert_eq!(c["attempts"], 1);
    assert_eq!(c["work_state"], "attempted");
    assert_eq!(c["last_outcome"], "no_answer");
    for status in ["answered", "completed"] {
        srv.webhook(&slug, &key, &out("ob-2", "+919811100002", status))
            .await
            .unwrap();
    }
    let c = srv.call(&slug, "m-2").await.unwrap();
    assert_eq!(c["callbacks"][0]["state"], "connected", "{c}");
    assert_eq!(c["callbacks"][0]["platform_ref"], "kn-77");
    // Reached: the caller's missed call settled by the answered call back.
    assert_eq!(c["work_state"], "resolved", "{c}");
    assert_eq!(c["attempts"], 1);
    // An inbound call from a number with an open attempt settles nothing.
    let (s, r) = srv
        .post_json(
            &format!("/api/calls/m-1/callback?department={slug}"),
            &agent,
            &json!({"agent": "+919800000001"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{r}");
    srv.webhook(&slug, &key, &event("in-1", "completed", "+919811122233"))
        .await
        .unwrap();
    let c1 = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c1["callbacks"][1]["state"], "dialling", "{c1}");
    assert_eq!(c1["callbacks"].as_array().unwrap().len(), 2);
}
