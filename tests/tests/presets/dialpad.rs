//! Dialpad call events: the body is a compact JWT signed HS256 with the
//! webhook secret; its claims are the event.

use crate::code;
use callboard_core::signature::sign_hs256;
use callboard_tests::TestServer;
use serde_json::{json, Value};

const RINGING_JWT: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-ringing-inbound-to-user.GENERATED.jwt"
);
const VECTOR: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-signature-test-vector.GENERATED.json"
);
const RINGING: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-ringing-inbound-to-user.json"
);
const HANGUP_OFFICE: &str = include_str!(
    "../../../crates/core/tests/fixtures/dialpad-call-event-hangup-inbound-to-office-transferred.json"
);

#[tokio::test]
async fn dialpad_jwt_events_ringing_connected_hangup_missed_voicemail() {
    let srv = TestServer::start().await.unwrap();
    let vector: Value = serde_json::from_str(VECTOR).unwrap();
    let secret = vector["secret"].as_str().unwrap();
    let p = srv
        .provider_from_preset("Dialpad", "dialpad", json!({"signing_secret": secret}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |jwt: String| {
        srv.send(
            srv.http
                .post(&url)
                .header("content-type", "application/jwt")
                .body(jwt),
        )
    };

    // The generated vector, byte for byte.
    let (s, ack) = post(RINGING_JWT.to_string()).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["status"], "ringing");
    assert_eq!(c["mobile_number"], "+15109109100");
    assert_eq!(c["agent_id"], "5991398486736896");
    assert_eq!(c["agent_name"], "obscure2 user");

    // Then connected and hung up (the same event with its later fields).
    let ringing: Value = serde_json::from_str(RINGING).unwrap();
    let later = |state: &str, ts: i64, extra: Value| {
        let mut e = ringing.clone();
        e["state"] = json!(state);
        e["event_timestamp"] = json!(ts);
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_hs256(secret, &e)
    };
    let (s, _) = post(later(
        "connected",
        1731605960000,
        json!({"date_connected": 1731605960000i64}),
    ))
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        srv.call(slug, "5314479320940544").await.unwrap()["status"],
        "active"
    );
    let (s, _) = post(later(
        "hangup",
        1731606020500,
        json!({"date_connected": 1731605960000i64, "date_ended": 1731606020500i64, "total_duration": 65602.5}),
    ))
    .await
    .unwrap();
    assert_eq!(s, 200);
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 60);
    assert_eq!(c["metadata"]["total_duration_ms"], 65603);

    // The office line's hangup that never connected: a hangup.
    let office: Value = serde_json::from_str(HANGUP_OFFICE).unwrap();
    let (s, ack) = post(sign_hs256(secret, &office)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let id = office["call_id"].to_string();
    assert_eq!(srv.call(slug, &id).await.unwrap()["status"], "hangup");

    // Missed and voicemail events.
    for (id, state) in [
        (7000000000000001i64, "missed"),
        (7000000000000002, "voicemail"),
    ] {
        let mut e = ringing.clone();
        e["call_id"] = json!(id);
        e["state"] = json!(state);
        if state == "voicemail" {
            e["voicemail_link"] = json!("https://dialpad.example/v/abc");
        }
        let (s, _) = post(sign_hs256(secret, &e)).await.unwrap();
        assert_eq!(s, 200);
        let c = srv.call(slug, &id.to_string()).await.unwrap();
        assert_eq!(c["status"], "missed", "{state}");
    }

    // The wrong secret, a forged payload, plain JSON: 401.
    let (s, b) = post(sign_hs256(
        vector["wrong_secret"].as_str().unwrap(),
        &ringing,
    ))
    .await
    .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    let (s, b) = srv.send(srv.http.post(&url).json(&ringing)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_signature"));
    // An expired token is a replay.
    let mut stale = ringing.clone();
    stale["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let (s, b) = post(sign_hs256(secret, &stale)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "stale_signature"));
}

#[tokio::test]
async fn dialpad_users_map_to_agents_and_voicemails_are_kept() {
    let srv = TestServer::start().await.unwrap();
    let secret = "dialpad-example-webhook-secret";
    let p = srv
        .provider_from_preset(
            "Dialpad Sales",
            "dialpad",
            json!({"signing_secret": secret}),
        )
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let agent_token = srv.user("asha", "agent", &[slug]).await.unwrap();
    let other = srv.provider("Other Line").await.unwrap().0;
    srv.user("ravi", "agent", &[other.as_str()]).await.unwrap();
    let asha = srv.user_id("asha").await.unwrap();

    // CRUD on one mapping.
    let (s, m) = srv
        .send(
            srv.http
                .put(srv.url("/api/dialpad/users/5991398486736896"))
                .bearer_auth(callboard_tests::ADMIN_TOKEN)
                .json(&json!({"user_id": asha})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["username"].as_str(), m["external_id"].as_str()),
        (Some("asha"), Some("5991398486736896"))
    );
    let (s, _) = srv
        .send(
            srv.http
                .put(srv.url("/api/dialpad/users/1"))
                .bearer_auth(&agent_token)
                .json(&json!({"user_id": asha})),
        )
        .await
        .unwrap();
    assert_eq!(s, 403, "agents cannot map users");
    let (s, b) = srv
        .send(
            srv.http
                .put(srv.url("/api/dialpad/users/2"))
                .bearer_auth(callboard_tests::ADMIN_TOKEN)
                .json(&json!({"username": "nobody"})),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (422, "invalid"));

    // A bulk sync from a CRM: all or nothing.
    let (s, r) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            callboard_tests::ADMIN_TOKEN,
            &json!({"items": [{"external_id": "111", "username": "ravi"}, {"external_id": "222", "username": "ghost"}]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{r}");
    let (_, l) = srv
        .get_json("/api/dialpad/users", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        l["data"].as_array().unwrap().len(),
        1,
        "nothing of the failed sync applied"
    );
    let (s, r) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            callboard_tests::ADMIN_TOKEN,
            &json!({"items": [{"external_id": "111", "username": "ravi"}, {"external_id": "5991398486736896", "user_id": asha}]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r,
        json!({"created": 1, "updated": 0, "unchanged": 1, "deleted": 0})
    );
    let (_, r) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            callboard_tests::ADMIN_TOKEN,
            &json!({"items": [{"external_id": "5991398486736896", "username": "asha"}], "replace": true}),
        )
        .await
        .unwrap();
    assert_eq!(r["deleted"], 1);
    let (s, _) = srv
        .delete_json("/api/dialpad/users/111", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 404, "already removed by the replace");

    // Events for that Dialpad user name the Callboard agent.
    let (s, _) = srv
        .send(
            srv.http
                .post(srv.url(&format!("/webhooks/ivr/{slug}")))
                .body(RINGING_JWT),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["agent_id"], "5991398486736896");
    assert_eq!(c["agent_name"], "asha");
    assert_eq!(c["metadata"]["agent_user_id"], asha);

    // A voicemail event keeps the voicemail, linked to its call.
    let mut vm: Value = serde_json::from_str(RINGING).unwrap();
    vm["state"] = json!("voicemail");
    vm["event_timestamp"] = json!(1731605990000i64);
    vm["voicemail_link"] = json!("https://dialpad.example/vm/5314479320940544");
    vm["transcription_text"] = json!("Hi, please call me back about my order.");
    vm["duration"] = json!(14250.5);
    let (s, ack) = srv
        .send(
            srv.http
                .post(srv.url(&format!("/webhooks/ivr/{slug}")))
                .body(sign_hs256(secret, &vm)),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv.call(slug, "5314479320940544").await.unwrap();
    assert_eq!(c["status"], "missed");
    assert_eq!(
        c["voicemail"]["link"],
        "https://dialpad.example/vm/5314479320940544"
    );
    assert_eq!(
        c["voicemail"]["transcript"],
        "Hi, please call me back about my order."
    );
    assert_eq!(c["voicemail"]["duration_seconds"], 14);
    let (s, l) = srv
        .get_json(&format!("/api/voicemails?department={slug}"), &agent_token)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(l["total"], 1);
    assert_eq!(l["data"][0]["call_id"], "5314479320940544");
    let ravi = srv
        .send(
            srv.http
                .post(srv.url("/api/auth/login"))
                .json(&json!({"username": "ravi", "password": "password-123"})),
        )
        .await
        .unwrap()
        .1;
    let (_, l) = srv
        .get_json("/api/voicemails", ravi["token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(l["total"], 0, "other departments' voicemails are not shown");
}

#[tokio::test]
async fn dialpad_users_are_found_by_their_crm_id_and_crm_ids_stay_unique() {
    let srv = TestServer::start().await.unwrap();
    for name in ["asha", "ravi", "meena"] {
        srv.user(name, "agent", &[]).await.unwrap();
    }
    let admin = callboard_tests::ADMIN_TOKEN;
    let put = |id: &str, body: Value| {
        srv.send(
            srv.http
                .put(srv.url(&format!("/api/dialpad/users/{id}")))
                .bearer_auth(admin)
                .json(&body),
        )
    };
    let (s, m) = put("111", json!({"username": "asha", "crm_id": " SF-005 "}))
        .await
        .unwrap();
    assert_eq!((s, m["crm_id"].as_str()), (200, Some("SF-005")), "{m}");
    // A CRM asks who its agent SF-005 is.
    let (s, l) = srv
        .get_json("/api/dialpad/users?crm_id=SF-005", admin)
        .await
        .unwrap();
    assert_eq!(s, 200, "{l}");
    let found = l["data"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{l}");
    assert_eq!(
        (
            found[0]["external_id"].as_str(),
            found[0]["username"].as_str()
        ),
        (Some("111"), Some("asha"))
    );
    let (_, none) = srv
        .get_json("/api/dialpad/users?crm_id=SF-404", admin)
        .await
        .unwrap();
    assert_eq!(none["data"], json!([]));
    // Omitted keeps it; another agent cannot take it; an empty string clears it.
    let (_, m) = put("111", json!({"username": "ravi"})).await.unwrap();
    assert_eq!(
        (m["username"].as_str(), m["crm_id"].as_str()),
        (Some("ravi"), Some("SF-005"))
    );
    let (s, b) = put("222", json!({"username": "meena", "crm_id": "SF-005"}))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (409, "conflict"), "{b}");
    let (s, b) = put("222", json!({"username": "meena", "crm_id": "bad\u{7}id"}))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (422, "invalid"), "{b}");
    let (_, l) = srv.get_json("/api/dialpad/users", admin).await.unwrap();
    assert_eq!(
        l["data"].as_array().unwrap().len(),
        1,
        "nothing of the refused ones: {l}"
    );
    // A sync may swap two CRM ids between listed agents, in any order.
    let (s, r) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            admin,
            &json!({"items": [
                {"external_id": "222", "username": "meena", "crm_id": "SF-005"},
                {"external_id": "111", "username": "ravi", "crm_id": "SF-007"}]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r,
        json!({"created": 1, "updated": 1, "unchanged": 0, "deleted": 0})
    );
    let (_, l) = srv
        .get_json("/api/dialpad/users?crm_id=SF-005", admin)
        .await
        .unwrap();
    assert_eq!(l["data"][0]["external_id"], "222");
    // The same CRM id twice in one sync is refused whole.
    let (s, r) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            admin,
            &json!({"items": [
                {"external_id": "333", "username": "asha", "crm_id": "SF-9"},
                {"external_id": "444", "username": "asha", "crm_id": "SF-9"}]}),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&r)), (422, "invalid"), "{r}");
    let (_, m) = put("111", json!({"username": "ravi", "crm_id": ""}))
        .await
        .unwrap();
    assert_eq!(m["crm_id"], Value::Null, "{m}");
    // The same lookup on any provider's agent ids.
    let p = srv
        .provider_from_preset(
            "Dialpad Support",
            "dialpad",
            json!({"signing_secret": "dialpad-support-secret"}),
        )
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap();
    let (s, l) = srv
        .get_json(
            &format!("/api/providers/{slug}/agent-ids?crm_id=SF-007"),
            admin,
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["data"], json!([]), "SF-007 was cleared above: {l}");
    let (_, l) = srv
        .get_json(
            &format!("/api/providers/{slug}/agent-ids?crm_id=SF-005"),
            admin,
        )
        .await
        .unwrap();
    assert_eq!(l["data"][0]["username"], "meena", "{l}");
}
