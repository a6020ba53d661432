//! The voicemail inbox: voicemails a mapping or the IVR recorded, filtered
//! by department, state, date and agent; the first play noted, handled and
//! reopened, deleted by a supervisor (audited), each department's only to
//! its own agents.

use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

async fn line(srv: &TestServer, name: &str) -> (String, String) {
    let mut mapping = generic_mapping();
    mapping["voicemail_link"] = json!("data.vm");
    mapping["transcription_text"] = json!("data.tx");
    mapping["voicemail_duration_ms"] = json!({"path": "data.vm_ms", "transform": "int"});
    srv.provider_with(name, mapping, generic_status_map())
        .await
        .unwrap()
}

async fn voicemail(srv: &TestServer, slug: &str, key: &str, id: &str, agent: &str) {
    let (s, ack) = srv
        .webhook(
            slug,
            key,
            &json!({"data": {"call_id": id, "caller": "+919811122233", "status": "no-answer", "agent": agent,
                "vm": format!("https://rec.example/{id}.mp3"), "tx": "Please call me back about my order", "vm_ms": 14600}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
}

async fn inbox(srv: &TestServer, token: &str, query: &str) -> Value {
    let (s, v) = srv
        .get_json(&format!("/api/voicemails{query}"), token)
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    v
}

fn call_ids(v: &Value) -> Vec<&str> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["call_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_inbox_filters_plays_handles_and_deletes_voicemails() {
    let srv = TestServer::start().await.unwrap();
    let (sales, sk) = line(&srv, "Sales").await;
    let (care, ck) = line(&srv, "Care").await;
    voicemail(&srv, &sales, &sk, "s-1", "Asha Rao").await;
    voicemail(&srv, &sales, &sk, "s-2", "Ravi").await;
    voicemail(&srv, &care, &ck, "c-1", "Meera").await;
    let agent = srv.user("asha", "agent", &[&sales]).await.unwrap();
    let sup = srv.user("sup", "supervisor", &[]).await.unwrap();

    let all = inbox(&srv, ADMIN_TOKEN, "").await;
    assert_eq!(all["total"], 3);
    assert_eq!(call_ids(&all), ["c-1", "s-2", "s-1"], "newest first");
    let first = &all["data"][2];
    assert_eq!(first["duration_seconds"], 15);
    assert_eq!(first["agent"], "Asha Rao");
    assert!(first["listened_at"].is_null() && first["handled_at"].is_null());
    // An agent sees only their department, even when asking for another.
    assert_eq!(call_ids(&inbox(&srv, &agent, "").await), ["s-2", "s-1"]);
    assert_eq!(
        inbox(&srv, &agent, &format!("?department={care}")).await["total"],
        0
    );
    assert_eq!(
        call_ids(&inbox(&srv, ADMIN_TOKEN, "?agent=asha").await),
        ["s-1"]
    );
    let (s, e) = srv
        .get_json("/api/voicemails?from=yesterday", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");

    // The agent plays s-1: listened, by them, once.
    let id = first["id"].as_i64().unwrap();
    let (s, v) = srv
        .post_json(
            &format!("/api/voicemails/{id}/listened"),
            &agent,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["listened_by"], "asha");
    let at = v["listened_at"].clone();
    srv.post_json(
        &format!("/api/voicemails/{id}/listened"),
        ADMIN_TOKEN,
        &json!({}),
    )
    .await
    .unwrap();
    let again = inbox(&srv, ADMIN_TOKEN, "?view=listened").await;
    assert_eq!(call_ids(&again), ["s-1"]);
    assert_eq!(again["data"][0]["listened_at"], at);
    assert_eq!(again["data"][0]["listened_by"], "asha");
    assert_eq!(
        call_ids(&inbox(&srv, ADMIN_TOKEN, "?view=unlistened").await),
        ["c-1", "s-2"]
    );

    // Handled: out of the open inbox, audited; reopened: back.
    let (s, v) = srv
        .post_json(
            &format!("/api/voicemails/{id}/handled"),
            &agent,
            &json!({"handled": true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["handled_by"], "asha");
    assert_eq!(call_ids(&inbox(&srv, &agent, "").await), ["s-2"]);
    assert_eq!(
        call_ids(&inbox(&srv, &agent, "?view=handled").await),
        ["s-1"]
    );
    srv.post_json(
        &format!("/api/voicemails/{id}/handled"),
        &agent,
        &json!({"handled": false}),
    )
    .await
    .unwrap();
    assert_eq!(inbox(&srv, &agent, "").await["total"], 2);
    let (s, e) = srv
        .post_json(
            &format!("/api/voicemails/{id}/handled"),
            &agent,
            &json!({"done": true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");

    // Another department's voicemail is not the agent's to touch.
    let care_id = all["data"][0]["id"].as_i64().unwrap();
    let (s, _) = srv
        .post_json(
            &format!("/api/voicemails/{care_id}/listened"),
            &agent,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 403);

    // Deleting: supervisors only; audited with what it held; the call stays.
    let (s, _) = srv
        .delete_json(&format!("/api/voicemails/{id}"), &agent)
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = srv
        .delete_json(&format!("/api/voicemails/{id}"), &sup)
        .await
        .unwrap();
    assert_eq!(s, 204);
    let (s, _) = srv
        .delete_json(&format!("/api/voicemails/{id}"), &sup)
        .await
        .unwrap();
    assert_eq!(s, 404);
    assert_eq!(inbox(&srv, ADMIN_TOKEN, "?view=all").await["total"], 2);
    let c = srv.call(&sales, "s-1").await.unwrap();
    assert!(c["voicemail"].is_null());
    let (_, audit) = srv
        .get_json("/api/audit?limit=20", ADMIN_TOKEN)
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "voicemail.delete",
        "voicemail.reopened",
        "voicemail.handled",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

/// The `voicemail.received` messages among `msgs`.
fn received(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter()
        .filter(|m| m["type"] == "voicemail.received")
        .collect()
}

#[tokio::test]
async fn a_voicemail_is_announced_once_to_the_department_naming_whom_it_is_for() {
    let srv = TestServer::start().await.unwrap();
    let mut mapping = generic_mapping();
    mapping["voicemail_link"] = json!("data.vm");
    mapping["transcription_text"] = json!("data.tx");
    mapping["agent_id"] = json!("data.agent_id");
    let (sales, key) = srv
        .provider_with("Sales", mapping, generic_status_map())
        .await
        .unwrap();
    let (care, _) = line(&srv, "Care").await;
    let asha_token = srv.user("asha", "agent", &[&sales]).await.unwrap();
    let meera_token = srv.user("meera", "agent", &[&care]).await.unwrap();
    let asha = srv.user_id("asha").await.unwrap();
    let (s, b) = srv
        .send(
            srv.http
                .put(srv.url(&format!("/api/providers/{sales}/agent-ids/ag-7")))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"user_id": asha})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let mut hers = callboard_tests::ws::connect(&srv.ws_url(&asha_token, None))
        .await
        .unwrap();
    let mut other = callboard_tests::ws::connect(&srv.ws_url(&meera_token, None))
        .await
        .unwrap();
    let post = |id: &'static str, agent: Option<&'static str>, tx: &'static str| {
        let mut data = json!({"call_id": id, "caller": "+919811122233", "status": "no-answer",
            "vm": format!("https://rec.example/{id}.mp3"), "tx": tx});
        if let Some(a) = agent {
            data["agent_id"] = json!(a);
        }
        let body = json!({ "data": data });
        let (srv, sales, key) = (&srv, sales.clone(), key.clone());
        async move { srv.webhook(&sales, &key, &body).await }
    };
    let (s, ack) = post("v-1", Some("ag-7"), "Call me back").await.unwrap();
    assert_eq!(s, 200, "{ack}");
    // The transcript arriving again in a later delivery is not a new voicemail.
    let (s, ack) = post("v-1", Some("ag-7"), "Call me back about the order")
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let (s, ack) = post("v-2", None, "Nobody's").await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let msgs = callboard_tests::ws::collect(&mut hers, 50, std::time::Duration::from_millis(800))
        .await
        .unwrap();
    let got = received(&msgs);
    assert_eq!(got.len(), 2, "one per voicemail: {msgs:?}");
    assert_eq!(got[0]["data"]["call_id"], "v-1");
    assert_eq!(
        got[0]["data"]["for_user_id"], asha,
        "meant for the mapped agent"
    );
    assert_eq!(got[0]["data"]["link"], "https://rec.example/v-1.mp3");
    assert_eq!(got[0]["data"]["department"], sales.as_str());
    assert_eq!(got[1]["data"]["call_id"], "v-2");
    assert_eq!(
        got[1]["data"]["for_user_id"],
        Value::Null,
        "no agent: for nobody in particular"
    );
    let theirs =
        callboard_tests::ws::collect(&mut other, 50, std::time::Duration::from_millis(300))
            .await
            .unwrap();
    assert!(
        received(&theirs).is_empty(),
        "another department's agent hears nothing: {theirs:?}"
    );
    // Assigned in the worklist, a voicemail is meant for the assignee.
    let bob_token = srv.user("bob", "agent", &[&sales]).await.unwrap();
    let bob = srv.user_id("bob").await.unwrap();
    let (s, ack) = srv
        .webhook(
            &sales,
            &key,
            &json!({"data": {"call_id": "v-3", "caller": "+919811100000", "status": "no-answer"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let (s, b) = srv
        .post_json(
            &format!("/api/calls/v-3/assign?department={sales}"),
            ADMIN_TOKEN,
            &json!({"user_id": bob}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let mut his = callboard_tests::ws::connect(&srv.ws_url(&bob_token, None))
        .await
        .unwrap();
    let (s, ack) = post("v-3", Some("ag-7"), "Hello again").await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let msgs = callboard_tests::ws::collect(&mut his, 50, std::time::Duration::from_millis(800))
        .await
        .unwrap();
    let got = received(&msgs);
    assert_eq!(got.len(), 1, "{msgs:?}");
    assert_eq!(
        got[0]["data"]["for_user_id"], bob,
        "the assignee before the mapped agent"
    );
}
