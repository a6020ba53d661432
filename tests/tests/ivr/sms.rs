//! An IVR flow's `sms` node in dialects with no in-call SMS verb (ExoML,
//! TwiML, KooKoo, NCCO): the text goes through the department's SMS outbox and dialer,
//! to a fake platform on loopback that records what it was asked. KooKoo
//! alone has a fallback: with no dialer that can text, the answer carries
//! `<sendsms to>` (Ozonetel's KooKoo libraries' tag) instead.

use super::{get_text, ivr_url, owned, publish_and_attach, twilio_post};
use callboard_tests::fake_platform::{FakePlatform, Reply, Seen};
use callboard_tests::{until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

/// welcome → menu (1: text the caller, then goodbye).
fn sms_flow() -> Value {
    json!({
        "name": "Texting IVR",
        "entry": "welcome",
        "nodes": [
            {"id": "welcome", "type": "welcome", "say": "Welcome", "next": "menu"},
            {"id": "menu", "type": "menu", "say": "Press 1 for a text", "options": {"1": "text"},
             "timeout_seconds": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "bye"},
            {"id": "text", "type": "sms", "text": "Thanks for calling, {{caller}}", "next": "bye"},
            {"id": "bye", "type": "hangup", "say": "Goodbye"}
        ]
    })
}

async fn put_dialer(srv: &TestServer, slug: &str, body: Value) {
    let (s, d) = srv
        .put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, &body)
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["ready"], true, "{d}");
}

fn texts(fake: &FakePlatform, suffix: &str) -> Vec<Seen> {
    fake.seen()
        .into_iter()
        .filter(|r| r.target.ends_with(suffix))
        .collect()
}

/// The `text` node's row of the call's IVR path.
fn sms_visit(call: &Value) -> Value {
    call["ivr_path"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["node"] == "text")
        .cloned()
        .unwrap_or_else(|| panic!("no sms node in the path: {call}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exotel_flow_texts_the_caller_once_through_the_outbox() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"SMSMessage": {"Sid": "sms-ivr-1", "Status": "queued"}}),
    ));
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("IVR texts", "exotel", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &slug, &sms_flow()).await;
    exotel_dialer(&srv, &slug, &fake).await;
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&CallSid=X1&CallFrom=09800000001&CallTo=08000000000"),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    let step = format!("{url}&s=1&CallSid=X1&digits=%221%22");
    let (s, x) = get_text(&srv, &step).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("Goodbye") && x.contains("<Hangup"),
        "the flow goes on past the text: {x}"
    );
    // The platform asks for the same step again: the same answer, no
    // second text.
    let (s, again) = get_text(&srv, &step).await;
    assert_eq!((s, &again), (200, &x));
    until(10, "the text is sent", || async {
        srv.call(&slug, "X1").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Sms/send.json");
    assert_eq!(sent.len(), 1, "one text");
    assert_eq!(sent[0].target, "/v1/Accounts/acme1/Sms/send.json");
    assert_eq!(sent[0].form("To").as_deref(), Some("09800000001"));
    assert_eq!(sent[0].form("From").as_deref(), Some("08047112233"));
    assert_eq!(
        sent[0].form("Body").as_deref(),
        Some("Thanks for calling, 09800000001")
    );
    let c = srv.call(&slug, "X1").await.unwrap();
    let sms = c["sms"].as_array().unwrap();
    assert_eq!(sms.len(), 1, "{c}");
    assert_eq!(sms[0]["kind"], "ivr");
    assert_eq!(sms[0]["ivr_node"], "text");
    assert_eq!(sms[0]["platform_ref"], "sms-ivr-1");
    assert_eq!(sms_visit(&c)["detail"], "sms_queued", "{c}");

    // A caller whose number is not a phone's (an extension): not texted,
    // and the call still goes on.
    get_text(
        &srv,
        &format!("{url}&CallSid=X2&CallFrom=1001&CallTo=08000000000"),
    )
    .await;
    let (s, x) = get_text(&srv, &format!("{url}&s=1&CallSid=X2&digits=%221%22")).await;
    assert_eq!(s, 200, "{x}");
    assert!(x.contains("Goodbye") && x.contains("<Hangup"), "{x}");
    let c = srv.call(&slug, "X2").await.unwrap();
    assert_eq!(c["sms"], json!([]), "{c}");
    assert_eq!(sms_visit(&c)["detail"], "sms_not_sent_not_a_phone", "{c}");

    // Nothing more goes out later for either call: a third caller's text,
    // queued after them, is the one next text the sender sends.
    get_text(
        &srv,
        &format!("{url}&CallSid=X3&CallFrom=09800000003&CallTo=08000000000"),
    )
    .await;
    let (s, x) = get_text(&srv, &format!("{url}&s=1&CallSid=X3&digits=%221%22")).await;
    assert_eq!(s, 200, "{x}");
    until(10, "the third caller's text is sent", || async {
        srv.call(&slug, "X3").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Sms/send.json");
    assert_eq!(sent.len(), 2, "X1 once, X2 not texted, X3 once");
    assert_eq!(sent[1].form("To").as_deref(), Some("09800000003"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dialer_the_step_log_says_why_and_the_call_goes_on() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("IVR no dialer", "exotel", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &slug, &sms_flow()).await;
    let url = ivr_url(&p);
    get_text(
        &srv,
        &format!("{url}&CallSid=N1&CallFrom=09800000009&CallTo=08000000000"),
    )
    .await;
    let (s, x) = get_text(&srv, &format!("{url}&s=1&CallSid=N1&digits=%221%22")).await;
    assert_eq!(s, 200, "never an error to the platform: {x}");
    assert!(
        x.contains("<Say>Goodbye</Say>") && x.contains("<Hangup"),
        "the platform still gets the next verb: {x}"
    );
    let c = srv.call(&slug, "N1").await.unwrap();
    assert_eq!(c["sms"], json!([]), "{c}");
    assert_eq!(sms_visit(&c)["detail"], "sms_not_sent_no_dialer", "{c}");
    assert_eq!(sms_visit(&c)["edge"], "next", "{c}");
    assert_eq!(c["metadata"]["exit_reason"], "completed", "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_flow_texts_through_the_messages_api_once() {
    const PUBLIC: &str = "https://cb.example.test";
    const TOKEN: &str = "twilio-auth-token-0123456789abcdef";
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(201, json!({"sid": "SM42", "status": "queued"})));
    let srv = TestServer::start_with_env(&[("CALLBOARD_PUBLIC_URL", PUBLIC)])
        .await
        .unwrap();
    let p = srv
        .provider_from_preset(
            "IVR twilio texts",
            "twilio",
            json!({"signing_secret": TOKEN}),
        )
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &slug, &sms_flow()).await;
    put_dialer(
        &srv,
        &slug,
        json!({"kind": "twilio", "fields": {"account_sid": "AC1", "caller_id": "+14155550100",
            "base_url": fake.base}, "secrets": {"auth_token": "tw-secret"}}),
    )
    .await;
    let post = |public: String, form: Vec<(&str, &str)>| {
        twilio_post(&srv, PUBLIC, Some(TOKEN), public, owned(&form))
    };
    let start = format!("{PUBLIC}/ivr/{slug}");
    let (s, x) = post(
        start.clone(),
        vec![
            ("CallSid", "CAT1"),
            ("From", "+15550001234"),
            ("To", "+15550002"),
            ("CallStatus", "ringing"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{x}");
    let step = format!("{start}?s=1");
    let (s, x) = post(step.clone(), vec![("CallSid", "CAT1"), ("Digits", "1")]).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("<Say>Goodbye</Say>") && x.contains("<Hangup/>"),
        "{x}"
    );
    let (_, again) = post(step, vec![("CallSid", "CAT1"), ("Digits", "1")]).await;
    assert_eq!(again, x, "a repeated step gets the same answer");
    until(10, "the text is sent", || async {
        srv.call(&slug, "CAT1").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Messages.json");
    assert_eq!(sent.len(), 1, "one text");
    assert_eq!(sent[0].target, "/2010-04-01/Accounts/AC1/Messages.json");
    assert_eq!(sent[0].form("To").as_deref(), Some("+15550001234"));
    assert_eq!(sent[0].form("From").as_deref(), Some("+14155550100"));
    assert_eq!(
        sent[0].form("Body").as_deref(),
        Some("Thanks for calling, +15550001234")
    );
    assert!(
        sent[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "the account's credentials"
    );
    let c = srv.call(&slug, "CAT1").await.unwrap();
    assert_eq!(c["sms"][0]["kind"], "ivr", "{c}");
    assert_eq!(c["sms"][0]["platform_ref"], "SM42", "{c}");
    assert_eq!(sms_visit(&c)["detail"], "sms_queued", "{c}");
    // Nothing more goes out later: the next caller's text, queued after
    // it, is the one next text the sender sends.
    post(
        start.clone(),
        vec![
            ("CallSid", "CAT2"),
            ("From", "+15550005678"),
            ("To", "+15550002"),
            ("CallStatus", "ringing"),
        ],
    )
    .await;
    let (s, x) = post(
        format!("{start}?s=1"),
        vec![("CallSid", "CAT2"), ("Digits", "1")],
    )
    .await;
    assert_eq!(s, 200, "{x}");
    until(10, "the next caller's text is sent", || async {
        srv.call(&slug, "CAT2").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Messages.json");
    assert_eq!(sent.len(), 2, "one text per call");
    assert_eq!(sent[1].form("To").as_deref(), Some("+15550005678"));
}

/// An Exotel dialer on `slug` whose texts reach `fake`.
async fn exotel_dialer(srv: &TestServer, slug: &str, fake: &FakePlatform) {
    put_dialer(
        srv,
        slug,
        json!({"kind": "exotel",
            "fields": {"account_sid": "acme1", "api_key": "key1", "caller_id": "08047112233",
                "base_url": fake.base},
            "secrets": {"api_token": "exotel-token"}}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kookoo_and_ncco_flows_text_the_caller_once_through_the_outbox() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"SMSMessage": {"Sid": "sms-ivr-k", "Status": "queued"}}),
    ));
    let srv = TestServer::start().await.unwrap();

    // KooKoo (Ozonetel's IVR): NewCall, then the digit.
    let p = srv
        .provider_from_preset("KooKoo texts", "kookoo", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &slug, &sms_flow()).await;
    exotel_dialer(&srv, &slug, &fake).await;
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=K1&cid=9800000001&called_number=8000000000"),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    let step = format!("{url}&event=GotDTMF&sid=K1&data=1");
    let (s, x) = get_text(&srv, &step).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("Goodbye") && x.contains("<hangup"),
        "the flow goes on past the text: {x}"
    );
    let (_, again) = get_text(&srv, &step).await;
    assert_eq!(again, x, "a repeated step gets the same answer");
    until(10, "the KooKoo call's text is sent", || async {
        srv.call(&slug, "K1").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Sms/send.json");
    assert_eq!(sent.len(), 1, "one text");
    assert!(
        sent[0]
            .form("To")
            .is_some_and(|t| t.ends_with("9800000001")),
        "{:?}",
        sent[0].form("To")
    );
    assert_eq!(
        sent[0]
            .form("Body")
            .as_deref()
            .map(|b| b.starts_with("Thanks for calling, ")),
        Some(true)
    );
    let c = srv.call(&slug, "K1").await.unwrap();
    assert_eq!(
        (
            c["sms"][0]["kind"].as_str(),
            c["sms"][0]["ivr_node"].as_str()
        ),
        (Some("ivr"), Some("text")),
        "{c}"
    );
    assert_eq!(sms_visit(&c)["detail"], "sms_queued", "{c}");

    // NCCO (Vonage): the answer GET, then the digit as a JSON input event.
    let vp = srv
        .provider_from_preset(
            "NCCO texts",
            "generic",
            json!({"auth_config": {"scheme": "query_token", "param": "token"}}),
        )
        .await
        .unwrap();
    let vslug = vp["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &vslug, &sms_flow()).await;
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{vslug}"),
            ADMIN_TOKEN,
            &json!({"ivr_dialect": "vonage"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    exotel_dialer(&srv, &vslug, &fake).await;
    let key = vp["api_key"].as_str().unwrap();
    let answer = srv.url(&format!(
        "/ivr/{vslug}?token={key}&uuid=V1&conversation_uuid=C1&from=447700900001&to=447700900000"
    ));
    let (s, x) = get_text(&srv, &answer).await;
    assert_eq!(s, 200, "{x}");
    let ncco: Value = serde_json::from_str(&x).unwrap();
    let event_url = ncco
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "input")
        .and_then(|a| a["eventUrl"][0].as_str())
        .unwrap_or_else(|| panic!("no input action: {x}"))
        .to_string();
    let press = || async {
        let r = srv
            .http
            .post(&event_url)
            .json(
                &json!({"uuid": "V1", "conversation_uuid": "C1", "from": "447700900001",
                          "to": "447700900000", "dtmf": {"digits": "1", "timed_out": false}}),
            )
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (s, x) = press().await;
    assert_eq!(s, 200, "{x}");
    assert!(x.contains("Goodbye"), "the flow goes on past the text: {x}");
    let (_, again) = press().await;
    assert_eq!(again, x, "a repeated event gets the same answer");
    until(10, "the NCCO call's text is sent", || async {
        srv.call(&vslug, "V1").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Sms/send.json");
    assert_eq!(sent.len(), 2, "one text per call");
    assert!(
        sent[1]
            .form("To")
            .is_some_and(|t| t.ends_with("447700900001")),
        "{:?}",
        sent[1].form("To")
    );
    let c = srv.call(&vslug, "V1").await.unwrap();
    assert_eq!(sms_visit(&c)["detail"], "sms_queued", "{c}");
    // Nothing more goes out later: another KooKoo caller's text, queued
    // after both, is the one next text the sender sends.
    get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=K2&cid=9800000002&called_number=8000000000"),
    )
    .await;
    let (s, x) = get_text(&srv, &format!("{url}&event=GotDTMF&sid=K2&data=1")).await;
    assert_eq!(s, 200, "{x}");
    until(10, "the next KooKoo call's text is sent", || async {
        srv.call(&slug, "K2").await.unwrap()["sms"][0]["state"] == "sent"
    })
    .await;
    let sent = texts(&fake, "/Sms/send.json");
    assert_eq!(sent.len(), 3, "nothing more later");
    assert!(
        sent[2]
            .form("To")
            .is_some_and(|t| t.ends_with("9800000002")),
        "{:?}",
        sent[2].form("To")
    );
}

/// A KooKoo department whose dialer Callboard sends no SMS through
/// (Ozonetel's own CloudAgent, on a fake platform that records everything):
/// the flow's text goes in the answer as `<sendsms to>`, once, and nothing
/// is queued or sent out of the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kookoo_without_a_texting_dialer_sends_the_text_in_the_call() {
    let fake = FakePlatform::start().await;
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset("KooKoo in-call", "kookoo", json!({}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    publish_and_attach(&srv, &slug, &sms_flow()).await;
    put_dialer(
        &srv,
        &slug,
        json!({"kind": "ozonetel",
            "fields": {"username": "acme", "campaign_name": "Manual", "base_url": fake.base},
            "secrets": {"api_key": "oz-key"}}),
    )
    .await;
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=K9&cid=9800000003&called_number=8000000000"),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert!(!x.contains("sendsms"), "no text before the menu: {x}");
    let step = format!("{url}&event=GotDTMF&sid=K9&data=1");
    let (s, x) = get_text(&srv, &step).await;
    assert_eq!(s, 200, "{x}");
    let sendsms = x
        .split("<sendsms ")
        .nth(1)
        .and_then(|rest| rest.split("</sendsms>").next())
        .unwrap_or_else(|| panic!("no <sendsms> in the answer: {x}"));
    let (to, text) = sendsms.split_once('>').unwrap();
    assert!(
        to.starts_with("to=\"") && to.trim_end_matches('"').ends_with("9800000003"),
        "to the caller: {to}"
    );
    assert!(text.starts_with("Thanks for calling, "), "{text}");
    assert!(
        x.find("<sendsms").unwrap() < x.find("Goodbye").unwrap() && x.contains("<hangup"),
        "in the flow's order, and the flow goes on: {x}"
    );
    let (_, again) = get_text(&srv, &step).await;
    assert_eq!(again, x, "a repeated step gets the same answer");

    let c = srv.call(&slug, "K9").await.unwrap();
    assert_eq!(sms_visit(&c)["detail"], "sms_in_call", "{c}");
    assert_eq!(c["sms"], json!([]), "nothing queued: {c}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(fake.seen().is_empty(), "nothing sent out of the call");
}
