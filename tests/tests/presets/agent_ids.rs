//! Agent ids for every provider: a department's platform agent ids mapped
//! to Callboard users, so its events name the user. Kept per platform: a
//! preset's departments share one list (Dialpad's is `/api/dialpad/users`),
//! a provider made without a preset has its own.

use crate::code;
use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::json;

#[tokio::test]
async fn a_custom_providers_agent_ids_name_the_user_on_its_calls() {
    let srv = TestServer::start().await.unwrap();
    let mut mapping = generic_mapping();
    mapping["agent_id"] = json!("data.agent_id");
    let (slug, key) = srv
        .provider_with("Front Desk", mapping, generic_status_map())
        .await
        .unwrap();
    let agent = srv.user("asha", "agent", &[&slug]).await.unwrap();
    let supervisor = srv.user("sara", "supervisor", &[]).await.unwrap();
    let asha = srv.user_id("asha").await.unwrap();
    let path = format!("/api/providers/{slug}/agent-ids");

    let (s, l) = srv.get_json(&path, &supervisor).await.unwrap();
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["platform"], format!("provider:{slug}"));
    assert_eq!(l["data"], json!([]));
    let put = |token: &str, id: &str, body: serde_json::Value| {
        srv.http
            .put(srv.url(&format!("{path}/{id}")))
            .bearer_auth(token)
            .json(&body)
    };
    let (s, _) = srv
        .send(put(&agent, "ag-7", json!({"user_id": asha})))
        .await
        .unwrap();
    assert_eq!(s, 403, "agents cannot map");
    let (s, b) = srv
        .send(put(ADMIN_TOKEN, "ag-7", json!({"username": "nobody"})))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (422, "invalid"), "{b}");
    let (s, m) = srv
        .send(put(ADMIN_TOKEN, "ag-7", json!({"username": "asha"})))
        .await
        .unwrap();
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["external_id"].as_str(), m["user_id"].as_i64()),
        (Some("ag-7"), Some(asha))
    );

    // The platform's event names ag-7: the call names Asha.
    for (id, agent_id) in [("c-1", "ag-7"), ("c-2", "ag-unknown")] {
        srv.webhook(
            &slug,
            &key,
            &json!({"data": {"call_id": id, "caller": "+919800000001", "status": "answered", "agent_id": agent_id}}),
        )
        .await
        .unwrap();
    }
    let c = srv.call(&slug, "c-1").await.unwrap();
    assert_eq!(c["agent_id"], "ag-7");
    assert_eq!(c["agent_name"], "asha", "{c}");
    assert_eq!(c["metadata"]["agent_user_id"], asha);
    let c = srv.call(&slug, "c-2").await.unwrap();
    assert_eq!(
        (c["agent_id"].as_str(), c["agent_name"].as_str()),
        (Some("ag-unknown"), None),
        "an unmapped id stays as sent: {c}"
    );

    // Removed: gone, and a second removal is a 404.
    let del = || {
        srv.http
            .delete(srv.url(&format!("{path}/ag-7")))
            .bearer_auth(ADMIN_TOKEN)
    };
    assert_eq!(srv.send(del()).await.unwrap().0, 204);
    assert_eq!(srv.send(del()).await.unwrap().0, 404);
    let (s, b) = srv
        .get_json("/api/providers/nowhere/agent-ids", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
}

#[tokio::test]
async fn a_presets_departments_share_one_list_and_dialpads_is_its_own_route() {
    let srv = TestServer::start().await.unwrap();
    srv.user("ravi", "agent", &[]).await.unwrap();
    let mut slugs = Vec::new();
    for (name, preset) in [
        ("Exotel North", "exotel"),
        ("Exotel South", "exotel"),
        ("Dialpad Sales", "dialpad"),
    ] {
        let p = srv
            .provider_from_preset(name, preset, json!({}))
            .await
            .unwrap();
        slugs.push(p["slug"].as_str().unwrap().to_string());
    }
    let (s, r) = srv
        .post_json(
            &format!("/api/providers/{}/agent-ids/bulk", slugs[0]),
            ADMIN_TOKEN,
            &json!({"items": [{"external_id": "EX-1", "username": "ravi"}]}),
        )
        .await
        .unwrap();
    assert_eq!((s, r["created"].as_i64()), (200, Some(1)), "{r}");
    let (_, south) = srv
        .get_json(
            &format!("/api/providers/{}/agent-ids", slugs[1]),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(south["platform"], "exotel");
    assert_eq!(south["data"][0]["external_id"], "EX-1", "shared: {south}");

    let (s, _) = srv
        .send(
            srv.http
                .put(srv.url(&format!("/api/providers/{}/agent-ids/77", slugs[2])))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"username": "ravi"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (_, d) = srv
        .get_json("/api/dialpad/users", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(d["data"][0]["external_id"], "77", "the same list: {d}");
    let (_, ex) = srv
        .get_json(
            &format!("/api/providers/{}/agent-ids", slugs[0]),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(
        ex["data"].as_array().unwrap().len(),
        1,
        "Dialpad's are not Exotel's"
    );
}
