//! IVR black-box tests: the real `callboard serve`, flows published through
//! the API, and scripted platform dialogues per dialect (KooKoo GETs,
//! Twilio signed form POSTs, Exotel GETs, Vonage JSON).

use callboard_core::signature::twilio_signature;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

mod sms;
mod twilio_queue;

const AGENT_PHONE: &str = "+919000000001";

/// A 3-level flow: welcome → menu (1: sales queue, 2: gather) → …
fn flow(dept: &str) -> Value {
    json!({
        "name": "Test IVR",
        "entry": "welcome",
        "nodes": [
            {"id": "welcome", "type": "welcome", "say": "Welcome to the test line", "next": "menu"},
            {"id": "menu", "type": "menu", "say": "For sales press 1", "options": {"1": "sales", "2": "acct"},
             "timeout_seconds": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "vm"},
            {"id": "sales", "type": "queue", "department": dept, "max_wait_seconds": 30, "on_timeout": "vm"},
            {"id": "acct", "type": "gather", "say": "Account number", "min_digits": 3, "max_digits": 6,
             "variable": "acct", "next": "cb"},
            {"id": "cb", "type": "callback", "say": "We will call you back about {{acct}}", "next": "bye"},
            {"id": "vm", "type": "record", "say": "Leave a message", "max_seconds": 60, "next": "bye"},
            {"id": "bye", "type": "hangup", "say": "Goodbye"}
        ]
    })
}

/// A provider from `preset` with an available agent who has a phone, and
/// the test flow published and attached. Returns (slug, token or secret, created).
async fn setup(srv: &TestServer, preset: &str, extra: Value) -> (String, Value) {
    let p = srv
        .provider_from_preset(&format!("IVR {preset}"), preset, extra)
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    srv.user(&format!("agent-{slug}"), "agent", &[&slug])
        .await
        .unwrap();
    let uid = srv.user_id(&format!("agent-{slug}")).await.unwrap();
    let (s, b) = srv
        .put_json(
            &format!("/api/users/{uid}/phone"),
            ADMIN_TOKEN,
            &json!({"phone": AGENT_PHONE}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let (s, b) = srv
        .put_json(
            &format!("/api/agents/{uid}/state"),
            ADMIN_TOKEN,
            &json!({"state": "available"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    publish_and_attach(srv, &slug, &flow(&slug)).await;
    (slug, p)
}

/// Creates `definition`, publishes it (version 1) and points the provider
/// at it; returns the flow's id.
async fn publish_and_attach(srv: &TestServer, slug: &str, definition: &Value) -> i64 {
    let (s, f) = srv
        .post_json("/api/flows", ADMIN_TOKEN, definition)
        .await
        .unwrap();
    assert_eq!(s, 201, "{f}");
    assert_eq!(f["version"], 0);
    assert_eq!(f["errors"], json!([]), "{f}");
    let id = f["id"].as_i64().unwrap();
    let (s, b) = srv
        .post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["version"], 1);
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"flow_id": id}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["flow_id"], id);
    id
}

async fn get_text(srv: &TestServer, url: &str) -> (u16, String) {
    let r = srv.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A form's fields as owned pairs.
fn owned(form: &[(&str, &str)]) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A form POST as Twilio makes it to `public` (an address under the
/// receiver's public base `public_base`), signed with `token` (None: a wrong
/// signature), sent to the test server's own address.
async fn twilio_post(
    srv: &TestServer,
    public_base: &str,
    token: Option<&str>,
    public: String,
    f: Vec<(String, String)>,
) -> (u16, String) {
    let sig = match token {
        Some(token) => twilio_signature(token, &public, &f),
        None => "bad".to_string(),
    };
    let local = public.replace(public_base, &srv.base);
    let r = srv
        .http
        .post(local)
        .header("X-Twilio-Signature", sig)
        .form(&f)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn ivr_url(p: &Value) -> String {
    p["ivr_url"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_api_contract_roles_and_simulator() {
    let srv = TestServer::start().await.unwrap();
    let (slug, _) = srv.provider("Sales").await.unwrap();
    // A draft with errors is saved; publishing it is refused with them.
    let mut bad = flow(&slug);
    bad["nodes"][1]
        .as_object_mut()
        .unwrap()
        .remove("on_invalid");
    bad["nodes"][2]["department"] = json!("nowhere");
    let (s, f) = srv
        .post_json("/api/flows", ADMIN_TOKEN, &bad)
        .await
        .unwrap();
    assert_eq!(s, 201, "{f}");
    let id = f["id"].as_i64().unwrap();
    let (s, v) = srv
        .post_json(
            &format!("/api/flows/{id}/validate"),
            ADMIN_TOKEN,
            &json!(null),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let codes: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        codes.contains(&("menu".into(), "menu_no_invalid".into())),
        "{codes:?} {v}"
    );
    assert!(
        codes.contains(&("sales".into(), "unknown_department".into())),
        "{codes:?}"
    );
    let (s, p) = srv
        .post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["error"]["code"], "invalid_flow");
    assert_eq!(
        p["errors"].as_array().unwrap().len(),
        v["errors"].as_array().unwrap().len()
    );
    // An unknown node type or field is refused as a validation error, a broken shape as a 422.
    let mut odd = flow(&slug);
    odd["nodes"][0]["colour"] = json!("red");
    let (s, v) = srv
        .post_json(&format!("/api/flows/{id}/validate"), ADMIN_TOKEN, &odd)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(v["errors"][0]["code"], "unknown_field", "{v}");
    assert_eq!(v["errors"][0]["node"], "welcome");
    let (s, e) = srv
        .put_json(
            &format!("/api/flows/{id}"),
            ADMIN_TOKEN,
            &json!({"name": "x", "nodes": 3}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");
    // Fixed: no agents yet in the department.
    let (s, f) = srv
        .put_json(&format!("/api/flows/{id}"), ADMIN_TOKEN, &flow(&slug))
        .await
        .unwrap();
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["errors"][0]["code"], "department_no_agents", "{f}");
    srv.user("ann", "agent", &[&slug]).await.unwrap();
    let (s, p) = srv
        .post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["version"], 1);

    // Roles: supervisors view, agents do not; only admins edit.
    let sup = srv.user("sue", "supervisor", &[]).await.unwrap();
    let agent = srv.user("andy", "agent", &[&slug]).await.unwrap();
    assert_eq!(srv.get_json("/api/flows", &sup).await.unwrap().0, 200);
    assert_eq!(
        srv.get_json(&format!("/api/flows/{id}/analytics"), &sup)
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(srv.get_json("/api/flows", &agent).await.unwrap().0, 403);
    assert_eq!(
        srv.get_json(&format!("/api/flows/{id}"), &agent)
            .await
            .unwrap()
            .0,
        403
    );
    assert_eq!(
        srv.put_json(&format!("/api/flows/{id}"), &sup, &flow(&slug))
            .await
            .unwrap()
            .0,
        403
    );
    assert_eq!(
        srv.post_json(&format!("/api/flows/{id}/publish"), &sup, &json!({}))
            .await
            .unwrap()
            .0,
        403
    );

    // The simulator: each node visited and the exact answer per dialect.
    let (s, sim) = srv
        .post_json(
            &format!("/api/flows/{id}/simulate"),
            &sup,
            &json!({"dialect": "twilio", "caller": "+919800000000", "did": "+918000000000",
                    "at": "2026-12-02T10:00:00Z", "inputs": ["9", "2", "1234", "hangup"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{sim}");
    let steps = sim["steps"].as_array().unwrap();
    assert_eq!(steps[0]["node"], "menu");
    assert!(
        steps[0]["rendered"]["body"]
            .as_str()
            .unwrap()
            .contains("<Gather"),
        "{sim}"
    );
    assert_eq!(steps[1]["node"], "menu", "an invalid key replays the menu");
    assert_eq!(steps[2]["node"], "acct");
    assert_eq!(steps[3]["exit_reason"], "callback_requested");
    assert!(steps[3]["rendered"]["body"]
        .as_str()
        .unwrap()
        .contains("about 1234"));
    let (s, e) = srv
        .post_json(
            &format!("/api/flows/{id}/simulate"),
            &sup,
            &json!({"dialect": "sip"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");

    // Delete is refused while a provider uses the flow; duplicate and rollback.
    let (s, _) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"flow_id": id, "ivr_dialect": "kookoo"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (s, e) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"ivr_dialect": "sip"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");
    let (s, e) = srv
        .delete_json(&format!("/api/flows/{id}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 409, "{e}");
    let (s, copy) = srv
        .post_json(
            &format!("/api/flows/{id}/duplicate"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201);
    assert_eq!(copy["version"], 0);
    let copy_id = copy["id"].as_i64().unwrap();
    assert_eq!(
        srv.delete_json(&format!("/api/flows/{copy_id}"), ADMIN_TOKEN)
            .await
            .unwrap()
            .0,
        204
    );
    srv.post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    let (s, rb) = srv
        .post_json(
            &format!("/api/flows/{id}/rollback"),
            ADMIN_TOKEN,
            &json!({"version": 1}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{rb}");
    assert_eq!(rb["version"], 3);
    // The template in one click.
    let (s, t) = srv
        .post_json("/api/flows/template", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["name"], "Customer support");
    let (_, list) = srv.get_json("/api/flows", ADMIN_TOKEN).await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    // Every change is audited.
    let (_, audit) = srv
        .get_json("/api/audit?action=flow.publish", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(audit.to_string().contains("flow.publish"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kookoo_dialogue_menu_queue_agent_invalid_duplicate_and_abandon() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    let url = ivr_url(&p);
    assert!(url.contains(&format!("/ivr/{slug}?token=")), "{url}");
    let ask = |q: String| {
        let u = format!("{url}&{q}");
        let srv = &srv;
        async move { get_text(srv, &u).await }
    };
    // Caller 1: welcome → menu → 1 → queue (dial the agent) → answered.
    let (s, x) = ask("event=NewCall&sid=K1&cid=9800000001&called_number=8000000000".into()).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("<playtext>Welcome to the test line</playtext>") && x.contains("<collectdtmf"),
        "{x}"
    );
    let (_, x) = ask("event=GotDTMF&sid=K1&data=7".into()).await;
    assert!(
        x.contains("<collectdtmf"),
        "an invalid key replays the menu: {x}"
    );
    let (_, x) = ask("event=GotDTMF&sid=K1&data=1".into()).await;
    assert!(x.contains(&format!(">{AGENT_PHONE}</dial>")), "{x}");
    // The same request again (a retry) gets the same answer and advances nothing.
    let (_, again) = ask("event=GotDTMF&sid=K1&data=1".into()).await;
    assert_eq!(again, x);
    let c = srv.call(&slug, "K1").await.unwrap();
    assert_eq!(c["status"], "ringing", "{c}");
    let events_before = c["events_count"].clone();
    let (_, x) = ask("event=Dial&sid=K1&status=answered&data=".into()).await;
    assert!(x.contains("<hangup/>"), "{x}");
    let c = srv.call(&slug, "K1").await.unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["metadata"]["exit_reason"], "completed");
    assert_eq!(
        c["events_count"].as_i64().unwrap(),
        events_before.as_i64().unwrap() + 1
    );

    // Caller 2 hangs up in the menu: a hangup call, ivr_abandon at `menu`, in the worklist.
    ask("event=NewCall&sid=K2&cid=9800000002&called_number=8000000000".into()).await;
    let c = srv.call(&slug, "K2").await.unwrap();
    assert_eq!(
        c["status"], "waiting",
        "IVR callers show in the live queue: {c}"
    );
    let (s, _) = ask("event=Hangup&sid=K2&data=".into()).await;
    assert_eq!(s, 200);
    let c = srv.call(&slug, "K2").await.unwrap();
    assert_eq!(c["status"], "hangup", "{c}");
    assert_eq!(c["metadata"]["exit_reason"], "ivr_abandon");
    assert_eq!(c["metadata"]["ivr_node"], "menu");
    assert!(c["work_state"].is_string(), "in the worklist: {c}");

    // Caller 3: silence twice → on_timeout → voicemail recorded → voicemail exit.
    ask("event=NewCall&sid=K3&cid=9800000003&called_number=8000000000".into()).await;
    let (_, x) = ask("event=GotDTMF&sid=K3&data=".into()).await;
    assert!(x.contains("<collectdtmf"), "{x}");
    std::thread::sleep(std::time::Duration::from_millis(10));
    let (_, x) = ask("event=GotDTMF&sid=K3&data=&t=2".into()).await;
    assert!(x.contains("<record"), "{x}");
    let (_, x) = ask("event=Record&sid=K3&data=https%3A%2F%2Fkookoo.example%2Fvm.wav".into()).await;
    assert!(x.contains("Goodbye"), "{x}");
    let c = srv.call(&slug, "K3").await.unwrap();
    assert_eq!(c["metadata"]["exit_reason"], "voicemail");
    assert_eq!(c["recording_url"], "https://kookoo.example/vm.wav");

    // Bad requests: unknown event → 400 JSON; wrong token → 401; unknown call digits start the flow.
    let (s, body) = ask("event=Teleport&sid=K9".into()).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("unreadable_ivr_request"));
    let (s, _) = get_text(
        &srv,
        &srv.url(&format!("/ivr/{slug}?token=wrong&event=NewCall&sid=K9")),
    )
    .await;
    assert_eq!(s, 401);
    let (s, x) = ask("event=GotDTMF&sid=K10&data=1".into()).await;
    assert_eq!(s, 200);
    assert!(
        x.contains("<collectdtmf"),
        "an unknown call starts at the entry: {x}"
    );

    // Analytics count the visits, exits and hang-ups.
    let fid = srv
        .get_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
        .await
        .unwrap()
        .1["flow_id"]
        .as_i64()
        .unwrap();
    let (s, a) = srv
        .get_json(&format!("/api/flows/{fid}/analytics"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{a}");
    let menu = a["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "menu")
        .unwrap()
        .clone();
    assert_eq!(menu["hangups"], 1, "{a}");
    assert_eq!(menu["exits"]["options.1"], 1, "{a}");
    assert_eq!(a["funnel"][3]["stage"], "agent");
    assert_eq!(a["funnel"][3]["calls"], 1, "{a}");
    assert_eq!(a["exit_reasons"]["ivr_abandon"], 1, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_signed_form_posts_follow_the_action_urls() {
    const PUBLIC: &str = "https://cb.example.test";
    const TOKEN: &str = "twilio-auth-token-0123456789abcdef";
    let srv = TestServer::start_with_env(&[("CALLBOARD_PUBLIC_URL", PUBLIC)])
        .await
        .unwrap();
    let (slug, p) = setup(&srv, "twilio", json!({"signing_secret": TOKEN})).await;
    assert_eq!(ivr_url(&p), format!("{PUBLIC}/ivr/{slug}"));
    let post = |public: String, form: Vec<(&str, &str)>, good: bool| {
        twilio_post(&srv, PUBLIC, good.then_some(TOKEN), public, owned(&form))
    };
    let start = format!("{PUBLIC}/ivr/{slug}");
    let base = [
        ("CallSid", "CA1"),
        ("From", "+15550001"),
        ("To", "+15550002"),
        ("CallStatus", "ringing"),
    ];
    let (s, _) = post(start.clone(), base.to_vec(), false).await;
    assert_eq!(s, 401, "a bad signature is refused");
    let (s, x) = post(start.clone(), base.to_vec(), true).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("<Say>Welcome to the test line</Say>") && x.contains("<Gather"),
        "{x}"
    );
    let action = format!("{start}?s=1");
    assert!(x.contains(&format!("action=\"{action}\"")), "{x}");
    // Silence (Twilio posts an empty Digits) replays the menu, twice → voicemail.
    let (_, x) = post(
        action.clone(),
        vec![("CallSid", "CA1"), ("Digits", "")],
        true,
    )
    .await;
    assert!(x.contains("<Gather"), "{x}");
    let (_, x) = post(
        format!("{start}?s=2"),
        vec![("CallSid", "CA1"), ("Digits", "")],
        true,
    )
    .await;
    assert!(x.contains("<Record"), "{x}");
    // A late retry of step 1 gets the current answer again, nothing advances.
    let (_, again) = post(
        action.clone(),
        vec![("CallSid", "CA1"), ("Digits", "")],
        true,
    )
    .await;
    assert!(again.contains("<Record"), "{again}");
    // A second call: digit 1 → dial the agent; no answer → voicemail.
    post(
        start.clone(),
        vec![
            ("CallSid", "CA2"),
            ("From", "+15550003"),
            ("To", "+15550002"),
        ],
        true,
    )
    .await;
    let (_, x) = post(
        action.clone(),
        vec![("CallSid", "CA2"), ("Digits", "1")],
        true,
    )
    .await;
    assert!(
        x.contains(&format!("<Number>{AGENT_PHONE}</Number>")),
        "{x}"
    );
    let (_, x) = post(
        format!("{start}?s=2"),
        vec![("CallSid", "CA2"), ("DialCallStatus", "no-answer")],
        true,
    )
    .await;
    assert!(x.contains("<Record"), "{x}");
    // A third hangs up while the agent rings: the status callback ends it as a queue abandon.
    post(
        start.clone(),
        vec![
            ("CallSid", "CA3"),
            ("From", "+15550004"),
            ("To", "+15550002"),
        ],
        true,
    )
    .await;
    post(
        action.clone(),
        vec![("CallSid", "CA3"), ("Digits", "1")],
        true,
    )
    .await;
    let (s, _) = post(
        format!("{start}/status"),
        vec![("CallSid", "CA3"), ("CallStatus", "completed")],
        true,
    )
    .await;
    assert_eq!(s, 200);
    let c = srv.call(&slug, "CA3").await.unwrap();
    assert_eq!(c["metadata"]["exit_reason"], "queue_abandon", "{c}");
    assert_eq!(c["status"], "hangup", "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exotel_gets_and_vonage_json() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "exotel", json!({})).await;
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&CallSid=E1&CallFrom=09800000001&CallTo=08000000000"),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert!(x.contains("<Gather") && x.contains("method=\"GET\""), "{x}");
    // Exotel quotes the digits.
    let (_, x) = get_text(&srv, &format!("{url}&s=1&CallSid=E1&digits=%222%22")).await;
    assert!(x.contains("Account number"), "{x}");
    let (_, x) = get_text(&srv, &format!("{url}&s=2&CallSid=E1&digits=%22123456%22")).await;
    assert!(x.contains("We will call you back about 123456"), "{x}");
    let c = srv.call(&slug, "E1").await.unwrap();
    assert_eq!(c["metadata"]["exit_reason"], "callback_requested", "{c}");
    assert_eq!(
        c["status"], "hangup",
        "the caller lands in the hangup worklist: {c}"
    );
    // Timeout marker from the Redirect after Gather.
    get_text(
        &srv,
        &format!("{url}&CallSid=E2&CallFrom=09800000002&CallTo=08000000000"),
    )
    .await;
    let (_, x) = get_text(&srv, &format!("{url}&s=1&ev=timeout&CallSid=E2")).await;
    assert!(x.contains("<Gather"), "{x}");

    // Vonage: an answer GET, then a JSON input event.
    let (vslug, vp) = {
        let p = srv
            .provider_from_preset(
                "Vonage line",
                "generic",
                json!({"auth_config": {"scheme": "query_token", "param": "token"}}),
            )
            .await
            .unwrap();
        let slug = p["slug"].as_str().unwrap().to_string();
        (slug, p)
    };
    let key = vp["api_key"].as_str().unwrap();
    let fid = srv
        .get_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
        .await
        .unwrap()
        .1["flow_id"]
        .as_i64()
        .unwrap();
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{vslug}"),
            ADMIN_TOKEN,
            &json!({"flow_id": fid, "ivr_dialect": "vonage"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["ivr_dialect"], "vonage");
    let answer = srv.url(&format!(
        "/ivr/{vslug}?token={key}&uuid=V1&conversation_uuid=C1&from=447700900001&to=447700900000"
    ));
    let (s, x) = get_text(&srv, &answer).await;
    assert_eq!(s, 200, "{x}");
    let ncco: Value = serde_json::from_str(&x).unwrap();
    let input = ncco
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "input")
        .unwrap();
    let event_url = input["eventUrl"][0].as_str().unwrap().to_string();
    assert!(event_url.contains("s=1"), "{event_url}");
    let r = srv
        .http
        .post(&event_url)
        .json(&json!({"uuid": "V1", "conversation_uuid": "C1", "from": "447700900001", "to": "447700900000",
                      "dtmf": {"digits": "2", "timed_out": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let x = r.text().await.unwrap();
    assert!(x.contains("Account number"), "{x}");
    // A malformed JSON body is a 400, as for webhooks.
    let r = srv
        .http
        .post(&event_url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_call_continues_from_the_node() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    let url = ivr_url(&p);
    let path = url.replace(&srv.base, "");
    let (_, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=R1&cid=9800000001&called_number=8000000000"),
    )
    .await;
    assert!(x.contains("<collectdtmf"), "{x}");
    let srv = srv.restart().await.unwrap();
    let (s, x) = get_text(
        &srv,
        &srv.url(&format!("{path}&event=GotDTMF&sid=R1&data=1")),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains(&format!(">{AGENT_PHONE}</dial>")),
        "continued at the menu: {x}"
    );
    let c = srv.call(&slug, "R1").await.unwrap();
    assert_eq!(c["metadata"]["ivr_node"], "sales");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_api_node_takes_its_error_edge_and_private_hosts_are_refused() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    // The api node points at the receiver itself (loopback): refused, error edge.
    let f = json!({"name": "Lookup", "entry": "w", "nodes": [
        {"id": "w", "type": "welcome", "say": "Hello", "next": "look"},
        {"id": "look", "type": "api", "url": format!("{}/healthz", srv.base), "timeout_ms": 1000,
         "assign": {"v": "version"}, "next": "found", "on_error": "oops"},
        {"id": "found", "type": "hangup", "say": "Found {{v}}"},
        {"id": "oops", "type": "hangup", "say": "Lookup failed"}
    ]});
    let (_, created) = srv.post_json("/api/flows", ADMIN_TOKEN, &f).await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let (s, b) = srv
        .post_json(&format!("/api/flows/{id}/publish"), ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    srv.patch_json(
        &format!("/api/providers/{slug}"),
        ADMIN_TOKEN,
        &json!({"flow_id": id}),
    )
    .await
    .unwrap();
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=A1&cid=1&called_number=2"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(x.contains("Lookup failed"), "{x}");
    // Allowed by the admin: the lookup works.
    let (s, b) = srv
        .put_json(
            "/api/ivr/settings",
            ADMIN_TOKEN,
            &json!({"api_allow_hosts": ["127.0.0.1"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let (_, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=A2&cid=1&called_number=2"),
    )
    .await;
    assert!(x.contains("Found "), "{x}");
}

/// A queue that announces: each caller hears their place among the callers
/// already ringing the department's agents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_announces_each_callers_position() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    let mut announcing = flow(&slug);
    announcing["nodes"][2]["announce_position"] = json!(true);
    announcing["nodes"][2]["say"] = json!("Please hold");
    publish_and_attach(&srv, &slug, &announcing).await;
    let url = ivr_url(&p);
    let ask = |q: String| {
        let u = format!("{url}&{q}");
        let srv = &srv;
        async move { get_text(srv, &u).await.1 }
    };
    for (sid, cid, place) in [("Q1", "9800000011", 1), ("Q2", "9800000012", 2)] {
        ask(format!(
            "event=NewCall&sid={sid}&cid={cid}&called_number=8000000000"
        ))
        .await;
        let x = ask(format!("event=GotDTMF&sid={sid}&data=1")).await;
        let heard = format!("<playtext>You are number {place} in the queue.</playtext>");
        assert!(x.contains("<playtext>Please hold</playtext>"), "{x}");
        assert!(x.contains(&heard), "{sid} hears its place {place}: {x}");
        assert!(
            x.find(&heard) < x.find(&format!(">{AGENT_PHONE}</dial>")),
            "before the agents ring: {x}"
        );
    }
    // The first is answered: the next caller is second again, not third.
    ask("event=Dial&sid=Q1&status=answered&data=".into()).await;
    ask("event=NewCall&sid=Q3&cid=9800000013&called_number=8000000000".into()).await;
    let x = ask("event=GotDTMF&sid=Q3&data=1".into()).await;
    assert!(
        x.contains("<playtext>You are number 2 in the queue.</playtext>"),
        "{x}"
    );
}

/// With `announce_every_seconds` the agents ring in slices: after each one
/// nobody answered, the caller hears their place again (one fewer once the
/// caller ahead is taken) and the agents ring again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_repeats_each_callers_position_while_they_wait() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    let mut repeating = flow(&slug);
    repeating["nodes"][2]["announce_position"] = json!(true);
    repeating["nodes"][2]["announce_every_seconds"] = json!(30);
    repeating["nodes"][2]["max_wait_seconds"] = json!(300);
    repeating["nodes"][2]["say"] = json!("Please hold");
    let fid = publish_and_attach(&srv, &slug, &repeating).await;
    let url = ivr_url(&p);
    let ask = |q: String| {
        let u = format!("{url}&{q}");
        let srv = &srv;
        async move { get_text(srv, &u).await.1 }
    };
    for (sid, cid) in [
        ("R1", "9800000021"),
        ("R2", "9800000022"),
        ("R3", "9800000023"),
    ] {
        ask(format!(
            "event=NewCall&sid={sid}&cid={cid}&called_number=8000000000"
        ))
        .await;
        let x = ask(format!("event=GotDTMF&sid={sid}&data=1")).await;
        assert!(x.contains("<playtext>Please hold</playtext>"), "{x}");
        assert_eq!(xml_attr(&x, "dial", "timeout"), "30", "a 30 s slice: {x}");
    }
    // R1 is answered; R2's slice ends unanswered: it is first now, and the
    // caller who came after it (R3) is not counted ahead of it.
    ask("event=Dial&sid=R1&status=answered&data=".into()).await;
    let x = ask("event=Dial&sid=R2&status=not_answered&data=".into()).await;
    assert!(
        x.contains("<playtext>You are number 1 in the queue.</playtext>"),
        "{x}"
    );
    assert!(
        !x.contains("Please hold"),
        "the prompt is not repeated: {x}"
    );
    assert_eq!(xml_attr(&x, "dial", "timeout"), "30", "{x}");
    assert!(x.contains(&format!(">{AGENT_PHONE}</dial>")), "{x}");
    let x = ask("event=Dial&sid=R3&status=not_answered&data=".into()).await;
    assert!(
        x.contains("<playtext>You are number 2 in the queue.</playtext>"),
        "{x}"
    );
    // The flow's analytics count each caller's wait once at the queue.
    let (s, b) = srv
        .get_json(&format!("/api/flows/{fid}/analytics"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let queue = b["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["node"] == "sales"))
        .unwrap_or_else(|| panic!("{b}"));
    assert_eq!(queue["visits"], 3, "{queue}");
}

/// A call's stored IVR state that cannot be read stops the step (the
/// error, naming the call's row, goes to the log) and the caller hears the
/// apology: never a silent restart at the entry, which would play the
/// greeting again mid-menu. The call's row is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_call_state_ends_the_call_politely_not_a_restart() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(&srv, "kookoo", json!({})).await;
    publish_and_attach(&srv, &slug, &flow(&slug)).await;
    let url = ivr_url(&p);
    let (s, x) = get_text(
        &srv,
        &format!("{url}&event=NewCall&sid=K1&cid=9800000031&called_number=8000000000"),
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert!(x.contains("Welcome to the test line"), "{x}");
    {
        let db = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
        let n = db
            .execute(
                "UPDATE ivr_calls SET state = '{\"node\": 7' WHERE call_id = 'K1'",
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let (s, x) = get_text(&srv, &format!("{url}&event=GotDTMF&sid=K1&data=1")).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains("Sorry, we cannot take your call right now"),
        "{x}"
    );
    assert!(
        !x.contains("Welcome to the test line"),
        "not restarted: {x}"
    );
    let (_, calls) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    let call = &calls["data"][0];
    assert_eq!(call["metadata"]["ivr_node"], "menu", "{calls}");
    assert_eq!(call["events_count"], 1, "nothing written: {calls}");
}

/// The value of `attr="…"` on the first `tag` of an XML answer, unescaped.
fn xml_attr(xml: &str, tag: &str, attr: &str) -> String {
    let at = xml
        .find(&format!("<{tag} "))
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let rest = &xml[at..];
    let start = rest
        .find(&format!(" {attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in {xml}"))
        + attr.len()
        + 3;
    let end = rest[start..].find('"').unwrap() + start;
    rest[start..end].replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plivo_fetches_a_queues_hold_music_without_moving_the_call_on() {
    let srv = TestServer::start().await.unwrap();
    let (slug, p) = setup(
        &srv,
        "generic",
        json!({"auth_config": {"scheme": "query_token", "param": "token"}}),
    )
    .await;
    let mut f = flow(&slug);
    f["nodes"][2]["hold_music_url"] = json!("https://cdn.example.com/hold.mp3?x=1&y=2");
    publish_and_attach(&srv, &slug, &f).await;
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"ivr_dialect": "plivo"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let key = p["api_key"].as_str().unwrap();
    let post = |url: String, form: Vec<(&'static str, &'static str)>| {
        let http = srv.http.clone();
        async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let call = vec![
        ("CallUUID", "P1"),
        ("From", "919800000001"),
        ("To", "918000000000"),
    ];
    let (s, x) = post(srv.url(&format!("/ivr/{slug}?token={key}")), call.clone()).await;
    assert_eq!(s, 200, "{x}");
    let action = xml_attr(&x, "GetInput", "action");
    let mut pressed = call.clone();
    pressed.push(("Digits", "1"));
    let (s, x) = post(action, pressed).await;
    assert_eq!(s, 200, "{x}");
    assert!(
        x.contains(&format!("<Number>{AGENT_PHONE}</Number>")),
        "{x}"
    );
    let music = xml_attr(&x, "Dial", "dialMusic");
    assert!(music.contains(&format!("token={key}")), "{music}");

    // Plivo asks for the music while the Dial rings: the audio, looped.
    let (s, m) = post(music.clone(), call.clone()).await;
    assert_eq!(s, 200, "{m}");
    assert!(
        m.contains(r#"<Play loop="0">https://cdn.example.com/hold.mp3?x=1&amp;y=2</Play>"#),
        "{m}"
    );
    // Asked again (Plivo loops or retries): the same, and the call is still
    // in the queue, where the Dial's result will find it.
    assert_eq!(post(music.clone(), call.clone()).await.1, m);
    let c = srv.call(&slug, "P1").await.unwrap();
    assert_eq!(c["metadata"]["ivr_node"], "sales");
    let mut unanswered = call.clone();
    unanswered.push(("DialStatus", "no-answer"));
    let (_, x) = post(xml_attr(&x, "Dial", "action"), unanswered).await;
    assert!(
        x.contains("Leave a message"),
        "the queue's timeout edge: {x}"
    );

    // Without the token it is refused like any IVR request; a music value
    // that is not a URL is a 400.
    let (s, _) = post(
        srv.url(&format!("/ivr/{slug}?music=https%3A%2F%2Fx")),
        call.clone(),
    )
    .await;
    assert_eq!(s, 401);
    let (s, b) = post(
        srv.url(&format!(
            "/ivr/{slug}?token={key}&music=javascript%3Aalert(1)"
        )),
        call.clone(),
    )
    .await;
    assert_eq!(s, 400, "{b}");
}
