use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::Value;

/// Every route the server answers, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/webhooks/ivr/{slug}"),
    ("get", "/webhooks/ivr/{slug}"),
    ("post", "/webhooks/ivr/{slug}/leads"),
    ("get", "/webhooks/ivr/{slug}/contacts"),
    ("post", "/api/session/update"),
    ("get", "/api/presets"),
    ("get", "/api/voicemails"),
    ("post", "/api/voicemails/{id}/listened"),
    ("post", "/api/voicemails/{id}/handled"),
    ("delete", "/api/voicemails/{id}"),
    ("get", "/api/agents/calls"),
    ("get", "/api/dialpad/users"),
    ("post", "/api/dialpad/users/bulk"),
    ("get", "/api/dialpad/users/{dialpad_user_id}"),
    ("put", "/api/dialpad/users/{dialpad_user_id}"),
    ("delete", "/api/dialpad/users/{dialpad_user_id}"),
    ("get", "/api/providers/{slug}/agent-ids"),
    ("post", "/api/providers/{slug}/agent-ids/bulk"),
    ("put", "/api/providers/{slug}/agent-ids/{agent_id}"),
    ("delete", "/api/providers/{slug}/agent-ids/{agent_id}"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/exchange"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/me"),
    ("get", "/api/auth/lockouts"),
    ("delete", "/api/auth/lockouts"),
    ("get", "/api/auth/totp"),
    ("post", "/api/auth/totp/setup"),
    ("post", "/api/auth/totp/enable"),
    ("post", "/api/auth/totp/disable"),
    ("post", "/api/auth/password"),
    ("delete", "/api/users/{id}/totp"),
    ("get", "/api/integration-tokens"),
    ("post", "/api/integration-tokens"),
    ("delete", "/api/integration-tokens/{id}"),
    ("get", "/api/providers"),
    ("post", "/api/providers"),
    ("get", "/api/providers/{slug}"),
    ("patch", "/api/providers/{slug}"),
    ("delete", "/api/providers/{slug}"),
    ("post", "/api/providers/{slug}/activate"),
    ("post", "/api/providers/{slug}/rotate-key"),
    ("get", "/api/providers/{slug}/deliveries"),
    ("post", "/api/providers/{slug}/replay"),
    ("post", "/api/providers/{slug}/preview"),
    ("get", "/api/providers/{slug}/connector"),
    ("put", "/api/providers/{slug}/connector"),
    ("post", "/api/providers/{slug}/connector/backfill"),
    ("post", "/api/providers/{slug}/connector/sync"),
    ("post", "/api/mapping/preview"),
    ("get", "/api/calls"),
    ("get", "/api/calls/export.csv"),
    ("get", "/api/calls/{call_id}"),
    ("get", "/api/leads"),
    ("get", "/api/leads/{department}/{lead_id}"),
    ("post", "/api/calls/{call_id}/disposition"),
    ("post", "/api/calls/{call_id}/assign"),
    ("post", "/api/calls/{call_id}/callback"),
    ("get", "/api/dialer-kinds"),
    ("get", "/api/dialers"),
    ("put", "/api/providers/{slug}/dialer"),
    ("get", "/api/providers/{slug}/sms"),
    ("put", "/api/providers/{slug}/sms"),
    ("delete", "/api/providers/{slug}/sms"),
    ("get", "/api/providers/{slug}/sms/messages"),
    ("delete", "/api/providers/{slug}/dialer"),
    ("get", "/dial/{token}/status"),
    ("post", "/dial/{token}/status"),
    ("get", "/dial/{token}/answer"),
    ("post", "/dial/{token}/answer"),
    ("post", "/api/calls/{call_id}/unassign"),
    ("get", "/api/categories"),
    ("post", "/api/categories"),
    ("patch", "/api/categories/{id}"),
    ("delete", "/api/categories/{id}"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("get", "/api/users/{id}"),
    ("patch", "/api/users/{id}"),
    ("delete", "/api/users/{id}"),
    ("get", "/api/stats"),
    ("get", "/api/thresholds"),
    ("put", "/api/thresholds"),
    ("get", "/api/thresholds/state"),
    ("get", "/api/alerts"),
    ("get", "/api/metrics"),
    ("get", "/api/metrics/agents"),
    ("get", "/api/audit"),
    ("get", "/api/events"),
    ("get", "/api/events/head"),
    ("get", "/api/replica/snapshot"),
    ("get", "/api/replica/changes"),
    ("get", "/api/replica/status"),
    ("post", "/api/replica/reconnect"),
    ("get", "/api/replica/outbox"),
    ("delete", "/api/replica/outbox/{id}"),
    ("get", "/api/agents"),
    ("get", "/api/agents/board"),
    ("get", "/api/providers-health"),
    ("put", "/api/agents/{id}/state"),
    ("get", "/api/settings/retention"),
    ("put", "/api/settings/retention"),
    ("post", "/api/retention/run"),
    ("get", "/api/retention/runs"),
    ("get", "/api/retention/archive"),
    ("get", "/api/retention/archive/calls.csv"),
    ("get", "/api/flows"),
    ("post", "/api/flows"),
    ("post", "/api/flows/template"),
    ("get", "/api/flows/{id}"),
    ("put", "/api/flows/{id}"),
    ("delete", "/api/flows/{id}"),
    ("get", "/api/flows/{id}/versions"),
    ("get", "/api/flows/{id}/analytics"),
    ("post", "/api/flows/{id}/duplicate"),
    ("post", "/api/flows/{id}/publish"),
    ("post", "/api/flows/{id}/rollback"),
    ("post", "/api/flows/{id}/simulate"),
    ("post", "/api/flows/{id}/validate"),
    ("get", "/api/ivr/settings"),
    ("put", "/api/ivr/settings"),
    ("get", "/api/users/{id}/phone"),
    ("put", "/api/users/{id}/phone"),
    ("get", "/ivr/{slug}"),
    ("post", "/ivr/{slug}"),
    ("get", "/ivr/{slug}/status"),
    ("post", "/ivr/{slug}/status"),
];

#[tokio::test]
async fn the_document_lists_every_route_and_every_listed_route_exists() {
    let srv = TestServer::start().await.unwrap();
    let (s, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing from openapi.json"
        );
    }
    // And the reverse: every documented operation is served (not the router's 404/405).
    let mut documented = 0;
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            documented += 1;
            assert!(
                ROUTES.contains(&(method.as_str(), path.as_str())),
                "{method} {path} documented but not in the test's list"
            );
            let concrete = path
                .replace("{slug}", "zz")
                .replace("{call_id}", "zz")
                .replace("{id}", "999");
            let req = srv
                .http
                .request(method.to_uppercase().parse().unwrap(), srv.url(&concrete))
                .bearer_auth(ADMIN_TOKEN);
            let r = req.send().await.unwrap();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert_ne!(body["error"]["code"], "route_not_found", "{method} {path}");
            assert_ne!(
                body["error"]["code"], "method_not_allowed",
                "{method} {path}"
            );
        }
    }
    assert_eq!(documented, ROUTES.len());
    let (s, h) = srv.get_json("/healthz", "").await.unwrap();
    assert_eq!((s, h["status"].as_str().unwrap()), (200, "ok"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let srv = TestServer::start().await.unwrap();
    let (s, b) = srv
        .get_json("/api/nothing-here", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str().unwrap()),
        (404, "route_not_found")
    );
    let r = srv
        .http
        .put(srv.url("/api/calls"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "method_not_allowed");
    // A malformed JSON body to the console API speaks the same shape.
    let r = srv
        .post("/api/providers", ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "malformed_json");
    assert!(r_has_request_id(&srv).await);
}

async fn r_has_request_id(srv: &TestServer) -> bool {
    let r = srv.http.get(srv.url("/healthz")).send().await.unwrap();
    r.headers().get("x-request-id").is_some()
}

/// Real responses, checked against the schemas the document declares for them.
#[tokio::test]
async fn responses_match_their_documented_schemas() {
    use callboard_tests::{assert_match_schemas, event, ws};
    use serde_json::json;
    let srv = TestServer::start().await.unwrap();
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    let mut checked: Vec<(&str, Value)> = Vec::new();

    let (_, created) = srv.post_json("/api/providers", ADMIN_TOKEN, &json!({"name": "Schema", "field_mapping": callboard_tests::generic_mapping(), "status_map": callboard_tests::generic_status_map()})).await.unwrap();
    let key = created["api_key"].as_str().unwrap().to_string();
    checked.push(("ProviderCreated", created));
    let (_, ack) = srv.webhook("schema", &key, &json!({"data": {"call_id": "sc1", "caller": "+91", "status": "no-answer", "ts": "2026-01-01T00:00:00Z"}})).await.unwrap();
    checked.push(("WebhookAck", ack));
    let (_, ack) = srv
        .webhook(
            "schema",
            &key,
            &json!({"data": {"status": "ringing"}, "call_id": null}),
        )
        .await
        .unwrap();
    checked.push(("WebhookAck", ack));
    let (_, err) = srv
        .webhook("schema", "bad", &event("x", "ringing", "1"))
        .await
        .unwrap();
    checked.push(("ErrorBody", err));
    let agent = srv
        .user("schema-agent", "agent", &["schema"])
        .await
        .unwrap();
    let (_, login) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "schema-agent", "password": "password-123"}),
        )
        .await
        .unwrap();
    checked.push(("LoginResponse", login));
    let (_, cookie_login) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "schema-agent", "password": "password-123", "cookie": true}),
        )
        .await
        .unwrap();
    checked.push(("LoginResponse", cookie_login));
    checked.push(("Me", srv.get_json("/api/auth/me", &agent).await.unwrap().1));
    let (_, saved) = srv.post_json("/api/calls/sc1/disposition", &agent, &json!({"category": "Support", "outcome": "callback", "next_callback_at": "2099-01-01T00:00:00Z"})).await.unwrap();
    checked.push(("DispositionSaved", saved));
    for (schema, path) in [
        ("ProviderList", "/api/providers"),
        ("ProviderView", "/api/providers/schema"),
        ("CallList", "/api/calls?department=schema"),
        ("CallDetail", "/api/calls/sc1"),
        ("StatsReport", "/api/stats"),
        ("ThresholdConfig", "/api/thresholds"),
        ("ThresholdStates", "/api/thresholds/state"),
        ("AlertList", "/api/alerts"),
        ("UserList", "/api/users"),
        ("CategoryList", "/api/categories"),
        ("DeliveryList", "/api/providers/schema/deliveries"),
        ("AuditList", "/api/audit"),
        ("Head", "/api/events/head"),
        ("Health", "/healthz"),
        ("AgentList", "/api/agents"),
        ("AgentBoard", "/api/agents/board"),
        ("DeliveryHealthList", "/api/providers-health"),
        ("RetentionSettings", "/api/settings/retention"),
    ] {
        let (s, body) = srv.get_json(path, ADMIN_TOKEN).await.unwrap();
        assert_eq!(s, 200, "{path}: {body}");
        checked.push((schema, body));
    }
    let (_, pv) = srv
        .post_json("/api/providers/schema/preview", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    checked.push(("PreviewResponse", pv));
    let (_, rep) = srv
        .post_json("/api/providers/schema/replay", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    checked.push(("ReplayReport", rep));
    let (_, rot) = srv
        .post_json(
            "/api/providers/schema/rotate-key",
            ADMIN_TOKEN,
            &json!({"grace_seconds": 60}),
        )
        .await
        .unwrap();
    checked.push(("RotateResponse", rot));
    let me = srv.user_id("schema-agent").await.unwrap();
    let (s, st) = srv
        .put_json(
            &format!("/api/agents/{me}/state"),
            &agent,
            &json!({"state": "available"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{st}");
    checked.push(("AgentStatus", st));
    let (s, run) = srv
        .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert!(s == 202 || s == 409, "{run}");
    if s == 202 {
        checked.push(("RetentionRun", run));
    }
    let (_, runs) = srv
        .get_json("/api/retention/runs", ADMIN_TOKEN)
        .await
        .unwrap();
    checked.push(("RetentionRuns", runs));

    // Event payloads are the documented objects too.
    let events = ws::collect(&mut sock, 20, std::time::Duration::from_millis(1500))
        .await
        .unwrap();
    for e in &events {
        let schema = match e["type"].as_str().unwrap() {
            "call.upserted" => "Call",
            "provider.changed" => "Provider",
            "disposition.saved" => "DispositionSaved",
            "user.changed" => "User",
            // The test's calls are dated 2026-01-01: their SLA ran out long ago.
            "call.sla_breached" => "Call",
            "agent.state_changed" => "AgentStatus",
            other => panic!("unexpected event type {other}"),
        };
        checked.push((schema, e["data"].clone()));
    }
    assert!(events.iter().any(|e| e["type"] == "call.upserted"));

    assert_match_schemas(&doc, &checked);
}

/// Every operation has an `operationId` of its own: the console's client is
/// generated from them, and two operations of one name collapse into one.
#[tokio::test]
async fn every_operation_id_is_present_and_unique() {
    let srv = TestServer::start().await.unwrap();
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut bad = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let here = format!("{method} {path}");
            match op["operationId"].as_str() {
                None => bad.push(format!("{here}: no operationId")),
                Some(id) => {
                    if let Some(first) = seen.insert(id.to_string(), here.clone()) {
                        bad.push(format!("{here}: operationId {id} also names {first}"));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(seen.len(), ROUTES.len());
}

/// A `$ref` to a schema the document does not define breaks every client
/// generator (the console's types are generated from this document).
#[tokio::test]
async fn every_schema_reference_resolves() {
    fn walk(
        v: &Value,
        path: &str,
        schemas: &serde_json::Map<String, Value>,
        bad: &mut Vec<String>,
    ) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    if k == "$ref" {
                        let name = child.as_str().unwrap_or_default();
                        let name = name.trim_start_matches("#/components/schemas/");
                        if !schemas.contains_key(name) {
                            bad.push(format!("{path}: {child}"));
                        }
                    } else {
                        walk(child, &format!("{path}/{k}"), schemas, bad);
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{i}"), schemas, bad);
                }
            }
            _ => {}
        }
    }
    let srv = TestServer::start().await.unwrap();
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut bad = Vec::new();
    walk(&doc, "", schemas, &mut bad);
    assert!(bad.is_empty(), "dangling references: {bad:#?}");
}
