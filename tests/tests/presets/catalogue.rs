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
            "kookoo",
            "cloudonix",
            "dialpad",
            "convoso",
            "twilio",
            "telnyx",
            "aircall",
            "freeswitch",
            "ringcentral",
            "plivo",
            "asterisk",
            "vonage",
            "3cx"
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
    // Presets built without a recorded delivery say so (the console shows
    // it when the preset is chosen); the others carry no such field.
    let unverified: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["unverified"].is_string())
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(unverified, ["knowlarity", "convoso", "vonage", "3cx"]);
    let convoso = &list["data"][7];
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

/// The new routes' real responses, checked against their documented schemas.
#[tokio::test]
async fn new_responses_match_their_documented_schemas() {
    use callboard_core::signature::sign_hs256;
    use callboard_tests::assert_match_schemas;
    use callboard_tests::fake_convoso::FakeConvoso;
    use serde_json::Value;
    let srv = TestServer::start().await.unwrap();
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let mut checked: Vec<(&str, Value)> = Vec::new();
    checked.push((
        "PresetList",
        srv.get_json("/api/presets", ADMIN_TOKEN).await.unwrap().1,
    ));
    let dialpad = srv
        .provider_from_preset("Dialpad", "dialpad", json!({}))
        .await
        .unwrap();
    let secret = dialpad["signing_secret"].as_str().unwrap().to_string();
    checked.push(("ProviderCreated", dialpad));
    let convoso = srv
        .provider_from_preset("Convoso", "convoso", json!({}))
        .await
        .unwrap();
    checked.push(("ProviderCreated", convoso));
    let cloudonix = srv
        .provider_from_preset(
            "Cloudonix",
            "cloudonix",
            json!({"domains": ["schema.example.com"]}),
        )
        .await
        .unwrap();
    let (_, ack) = srv
        .send(
            srv.http
                .post(cloudonix["platform_url"].as_str().unwrap())
                .json(&json!({"domain": "schema.example.com", "token": "t1", "status": "ringing"})),
        )
        .await
        .unwrap();
    checked.push(("WebhookAck", ack));
    checked.push(("ProviderCreated", cloudonix));

    let event = json!({"call_id": 42, "state": "voicemail", "voicemail_link": "https://x.example/v", "target": {"type": "user", "id": 7, "name": "A"}});
    let (s, _) = srv
        .send(
            srv.http
                .post(srv.url("/webhooks/ivr/dialpad"))
                .body(sign_hs256(&secret, &event)),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let u = srv.user("mapped", "agent", &["dialpad"]).await;
    assert!(u.is_ok());
    let (_, m) = srv
        .send(
            srv.http
                .put(srv.url("/api/dialpad/users/7"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"username": "mapped"})),
        )
        .await
        .unwrap();
    checked.push(("AgentMapping", m));
    let (_, b) = srv
        .post_json(
            "/api/dialpad/users/bulk",
            ADMIN_TOKEN,
            &json!({"items": [{"external_id": "8", "username": "mapped"}]}),
        )
        .await
        .unwrap();
    checked.push(("BulkReport", b));

    let fake = FakeConvoso::start(
        vec![json!({"id": "1", "status": "SALE", "user_id": "5", "user": "B"})],
        "t",
    )
    .await;
    let (_, c) = srv
        .send(
            srv.http
                .put(srv.url("/api/providers/convoso/connector"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"base_url": fake.base, "auth_token": "t"})),
        )
        .await
        .unwrap();
    checked.push(("Connector", c));
    let (_, r) = srv
        .post_json(
            "/api/providers/convoso/connector/backfill",
            ADMIN_TOKEN,
            &json!({"from": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(r["inserted"], 1, "{r}");
    checked.push(("RunReport", r));
    for (schema, path) in [
        ("AgentMappingList", "/api/dialpad/users"),
        ("VoicemailList", "/api/voicemails"),
        ("CallDetail", "/api/calls/42"),
        ("AgentCalls", "/api/agents/calls"),
        ("ConnectorHealth", "/api/providers/convoso/connector"),
        ("ProviderView", "/api/providers/cloudonix"),
    ] {
        let (s, body) = srv.get_json(path, ADMIN_TOKEN).await.unwrap();
        assert_eq!(s, 200, "{path}: {body}");
        checked.push((schema, body));
    }
    assert_match_schemas(&doc, &checked);
}

#[tokio::test]
async fn http_basic_authenticates_with_the_api_key_as_password() {
    let srv = TestServer::start().await.unwrap();
    let p = srv
        .provider_from_preset(
            "Basic IVR",
            "generic",
            json!({"auth_config": {"scheme": "basic", "username": "ivr"}}),
        )
        .await
        .unwrap();
    let key = p["api_key"].as_str().unwrap();
    let url = srv.url("/webhooks/ivr/basic-ivr");
    let body = json!({"data": {"call_id": "b-1", "status": "ringing"}});
    let (s, b) = srv
        .send(srv.http.post(&url).basic_auth("ivr", Some(key)).json(&body))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let (s, b) = srv
        .send(
            srv.http
                .post(&url)
                .basic_auth("ivr", Some("cbk_wrong"))
                .json(&body),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_api_key"));
    let (s, b) = srv
        .send(
            srv.http
                .post(&url)
                .basic_auth("someone", Some(key))
                .json(&body),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (401, "invalid_api_key"));
    let (s, b) = srv.send(srv.http.post(&url).json(&body)).await.unwrap();
    assert_eq!((s, code(&b)), (401, "missing_credentials"));
}
