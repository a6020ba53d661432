use crate::code;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::json;

#[tokio::test]
async fn presets_are_listed_and_create_editable_providers() {
    let srv = TestServer::start().await.unwrap();
    let (s, list) = srv.get_json("/api/presets", ADMIN_TOKEN).await.unwrap();
    assert_eq!(s, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "generic",
            "exotel",
            "knowlarity",
            "ozonetel",
            "cloudonix",
            "dialpad",
            "convoso",
            "twilio"
        ]
    );
    for p in list["data"].as_array().unwrap() {
        for field in [
            "name",
            "notes",
            "auth",
            "body_format",
            "field_mapping",
            "status_map",
            "secret",
        ] {
            assert!(!p[field].is_null(), "{} lacks {field}", p["id"]);
        }
    }
    let convoso = &list["data"][6];
    assert_eq!(convoso["auth"]["scheme"], "hmac_sha256");
    assert_eq!(convoso["auth"]["header"], "x-convoso-signature");
    // Presets need a signed-in user.
    let (s, _) = srv.get_json("/api/presets", "nope").await.unwrap();
    assert_eq!(s, 401);

    // Create from a preset: the scheme, mapping and secret come with it.
    let c = srv
        .provider_from_preset("Convoso Sales", "convoso", json!({}))
        .await
        .unwrap();
    assert_eq!(c["preset"], "convoso");
    assert_eq!(c["auth_scheme"], "hmac_sha256");
    assert_eq!(c["has_signing_secret"], true);
    let secret = c["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("cbs_"), "{c}");
    assert_eq!(c["secret"], c["signing_secret"]);
    assert_eq!(c["field_mapping"], convoso["field_mapping"]);
    // The secret is shown once: never in reads.
    let (_, got) = srv
        .get_json("/api/providers/convoso-sales", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(!got.to_string().contains(secret), "{got}");
    assert_eq!(got["auth_config"]["scheme"], "hmac_sha256");

    // A key-scheme preset hands out its API key as the secret; a query-token
    // preset gives the URL to paste, token included.
    let e = srv
        .provider_from_preset("Exotel", "exotel", json!({}))
        .await
        .unwrap();
    assert_eq!(e["secret"], e["api_key"]);
    assert!(e["signing_secret"].is_null());
    assert_eq!(
        e["platform_url"].as_str().unwrap(),
        format!(
            "{}?token={}",
            e["webhook_url"].as_str().unwrap(),
            e["api_key"].as_str().unwrap()
        )
    );

    // Explicit fields override the preset; editing works like any provider.
    let g = srv
        .provider_from_preset(
            "Generic",
            "generic",
            json!({"status_map": {"rung": "ringing"}}),
        )
        .await
        .unwrap();
    assert_eq!(g["status_map"], json!({"rung": "ringing"}));
    let (s, patched) = srv
        .patch_json(
            "/api/providers/generic",
            ADMIN_TOKEN,
            &json!({"auth_config": {"scheme": "api_key", "header": "x-ivr-key"}, "sla_minutes": 5}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["auth_config"]["header"], "x-ivr-key");
    let key = g["api_key"].as_str().unwrap();
    let body = json!({"data": {"call_id": "g-1", "status": "rung"}});
    let url = srv.url("/webhooks/ivr/generic");
    let (s, b) = srv
        .send(srv.http.post(&url).header("x-api-key", key).json(&body))
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "missing_api_key"));
    let (s, b) = srv
        .send(srv.http.post(&url).header("x-ivr-key", key).json(&body))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");

    // Mistakes are 422s that say what is wrong.
    for bad in [
        json!({"name": "X1", "preset": "nope"}),
        json!({"name": "X2", "auth_config": {"scheme": "rot13"}}),
        json!({"name": "X3", "preset": "twilio", "signing_secret": "short"}),
    ] {
        let (s, b) = srv
            .post_json("/api/providers", ADMIN_TOKEN, &bad)
            .await
            .unwrap();
        assert_eq!(s, 422, "{bad} → {b}");
    }
    // A domain belongs to one provider.
    srv.provider_from_preset(
        "Cloudonix A",
        "cloudonix",
        json!({"domains": ["a.example.com"]}),
    )
    .await
    .unwrap();
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": "Cloudonix B", "preset": "cloudonix", "domains": ["A.example.com"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 409, "{b}");
}
