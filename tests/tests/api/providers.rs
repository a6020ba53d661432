use callboard_tests::{event, ws, TestServer, ADMIN_TOKEN};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn slugs_are_generated_unique_and_immutable() {
    let srv = TestServer::start().await.unwrap();
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": "Sales IVR (North)"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["slug"], "sales-ivr-north");
    assert!(b["api_key"].as_str().unwrap().starts_with("cbk_"));
    assert!(
        b["api_key"].as_str().unwrap().len() >= 4 + 32,
        "at least 128 bits"
    );
    assert!(b["webhook_url"]
        .as_str()
        .unwrap()
        .ends_with("/webhooks/ivr/sales-ivr-north"));
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": "Sales IVR North"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "conflict");
    let (status, _) = srv
        .patch_json(
            "/api/providers/sales-ivr-north",
            ADMIN_TOKEN,
            &json!({"slug": "renamed"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 422);
    // The key is never shown again.
    let (_, got) = srv
        .get_json("/api/providers/sales-ivr-north", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(got.get("api_key").is_none());
    assert!(!got.to_string().contains("api_key_hash"));
    // A bad mapping is refused when saved, not when the first call comes.
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": "Bad", "status_map": {"ring": "ringin"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn rotation_kills_the_old_key_or_keeps_it_for_the_grace_period() {
    let srv = TestServer::start().await.unwrap();
    let (slug, k1) = srv.provider("Rot").await.unwrap();
    let (s, b) = srv
        .post_json(
            &format!("/api/providers/{slug}/rotate-key"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let k2 = b["api_key"].as_str().unwrap().to_string();
    assert_ne!(k1, k2);
    assert_eq!(
        srv.webhook(&slug, &k1, &event("r1", "ringing", "1"))
            .await
            .unwrap()
            .0,
        401
    );
    assert_eq!(
        srv.webhook(&slug, &k2, &event("r1", "ringing", "1"))
            .await
            .unwrap()
            .0,
        200
    );
    // With a grace period both keys work.
    let (_, b) = srv
        .post_json(
            &format!("/api/providers/{slug}/rotate-key"),
            ADMIN_TOKEN,
            &json!({"grace_seconds": 3600}),
        )
        .await
        .unwrap();
    let k3 = b["api_key"].as_str().unwrap().to_string();
    assert!(b["previous_key_expires_at"].is_string());
    assert_eq!(
        srv.webhook(&slug, &k2, &event("r2", "ringing", "1"))
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        srv.webhook(&slug, &k3, &event("r3", "ringing", "1"))
            .await
            .unwrap()
            .0,
        200
    );
    // Rotated in the audit log.
    let (_, audit) = srv
        .get_json("/api/audit?action=provider.rotate_key", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(audit["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn deactivated_providers_answer_404_and_keep_their_calls() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Seasonal").await.unwrap();
    srv.webhook(&slug, &key, &event("s1", "no-answer", "+91"))
        .await
        .unwrap();
    let (status, _) = srv
        .delete_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (s, b) = srv
        .webhook(&slug, &key, &event("s2", "ringing", "+91"))
        .await
        .unwrap();
    assert_eq!(s, 404, "{b}");
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let (_, provs) = srv.get_json("/api/providers", ADMIN_TOKEN).await.unwrap();
    assert!(provs["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["slug"] != slug));
    let (_, provs) = srv
        .get_json("/api/providers?include_inactive=true", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(provs["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["slug"] == slug));
    let (s, _) = srv
        .post_json(
            &format!("/api/providers/{slug}/activate"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        srv.webhook(&slug, &key, &event("s3", "ringing", "+91"))
            .await
            .unwrap()
            .0,
        200
    );
    let (_, audit) = srv
        .get_json(&format!("/api/audit?target={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "provider.activate",
            "provider.deactivate",
            "provider.create"
        ]
    );
}

#[tokio::test]
async fn provider_changes_reach_every_console_at_once() {
    let srv = TestServer::start().await.unwrap();
    let mut a = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    let mut b = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    let (slug, _) = srv.provider("Live Edit").await.unwrap();
    let (status, _) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"name": "Live Edit Renamed", "display_order": 1}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    for sock in [&mut a, &mut b] {
        let got = ws::collect(sock, 2, Duration::from_secs(5)).await.unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|m| m["type"] == "provider.changed"));
        assert_eq!(got[1]["data"]["name"], "Live Edit Renamed");
        assert_eq!(got[1]["data"]["display_order"], 1);
    }
}
