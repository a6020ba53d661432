//! Integration tokens: a CRM or BI tool reads what its scopes name, in its
//! departments, until it expires or is revoked, and can change nothing.

use callboard_tests::{event, until, ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

async fn create(srv: &TestServer, body: Value) -> (u16, Value) {
    srv.post_json("/api/integration-tokens", ADMIN_TOKEN, &body)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_calls_token_reads_its_departments_calls_and_nothing_else() {
    let srv = TestServer::start().await.unwrap();
    let (sales, ks) = srv.provider("Sales").await.unwrap();
    let (support, kp) = srv.provider("Support").await.unwrap();
    srv.webhook(&sales, &ks, &event("s-1", "no-answer", "+911"))
        .await
        .unwrap();
    srv.webhook(&support, &kp, &event("p-1", "no-answer", "+912"))
        .await
        .unwrap();
    let (s, b) = create(
        &srv,
        json!({"name": "Zoho CRM", "scopes": ["calls:read"], "departments": [sales]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let crm = b["token"].as_str().unwrap().to_string();
    assert!(crm.starts_with("cbi_"));
    assert!(crm.starts_with(b["hint"].as_str().unwrap()));

    let (s, list) = srv.get_json("/api/calls", &crm).await.unwrap();
    assert_eq!((s, list["total"].as_i64()), (200, Some(1)), "{list}");
    assert_eq!(list["data"][0]["department"], sales);
    assert_eq!(srv.get_json("/api/calls/s-1", &crm).await.unwrap().0, 200);
    assert_eq!(srv.get_json("/api/calls/p-1", &crm).await.unwrap().0, 403);
    let (_, provs) = srv.get_json("/api/providers", &crm).await.unwrap();
    assert_eq!(provs["data"].as_array().unwrap().len(), 1);
    let csv = srv.get("/api/calls/export.csv", &crm).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("s-1") && !csv.contains("p-1"), "{csv}");

    // Nothing outside its scope, and no write at all.
    for path in [
        "/api/stats",
        "/api/metrics",
        "/api/users",
        "/api/audit",
        "/api/agents/board",
    ] {
        let (s, b) = srv.get_json(path, &crm).await.unwrap();
        assert_eq!(s, 403, "{path}: {b}");
        assert_eq!(b["error"]["code"], "forbidden");
    }
    let (s, _) = srv
        .post_json(
            "/api/calls/s-1/disposition",
            &crm,
            &json!({"category": "Sales", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = srv
        .post_json(
            "/api/integration-tokens",
            &crm,
            &json!({"name": "x", "scopes": ["calls:read"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 403, "a token cannot mint another");
    let c = srv.call(&sales, "s-1").await.unwrap();
    assert!(c["dispositions"].as_array().unwrap().is_empty());

    // The stream carries only its departments' calls.
    let mut stream = ws::connect(&srv.ws_url(&crm, None)).await.unwrap();
    srv.webhook(&support, &kp, &event("p-2", "ringing", "+913"))
        .await
        .unwrap();
    srv.webhook(&sales, &ks, &event("s-2", "ringing", "+914"))
        .await
        .unwrap();
    let got = ws::collect(&mut stream, 2, Duration::from_millis(1500))
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["data"]["call_id"], "s-2");

    // Its use is noted for the admin; the secret never shows again.
    until(10, "last use noted", || async {
        let (_, l) = srv
            .get_json("/api/integration-tokens", ADMIN_TOKEN)
            .await
            .unwrap();
        l["data"][0]["last_used_at"].is_string()
    })
    .await;
    let (_, l) = srv
        .get_json("/api/integration-tokens", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(!l.to_string().contains(&crm), "no secret in the list");

    // Revoked: the next request is refused.
    let id = b["id"].as_i64().unwrap();
    let (s, r) = srv
        .delete_json(&format!("/api/integration-tokens/{id}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    assert!(r["revoked_at"].is_string());
    let (s, b) = srv.get_json("/api/calls", &crm).await.unwrap();
    assert_eq!((s, &b["error"]["code"]), (401, &json!("invalid_token")));
}

#[tokio::test]
async fn a_metrics_token_reads_figures_until_it_expires() {
    let srv = TestServer::start().await.unwrap();
    srv.provider("Sales").await.unwrap();
    let soon = (srv.now() + chrono::Duration::hours(1)).to_rfc3339();
    let (s, b) = create(
        &srv,
        json!({"name": "Power BI", "scopes": ["metrics:read"], "expires_at": soon}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let bi = b["token"].as_str().unwrap().to_string();
    for path in ["/api/stats", "/api/metrics", "/api/metrics/agents"] {
        let (s, b) = srv.get_json(path, &bi).await.unwrap();
        assert_eq!(s, 200, "{path}: {b}");
    }
    assert_eq!(srv.get_json("/api/calls", &bi).await.unwrap().0, 403);
    srv.advance(Duration::from_secs(3601));
    let (s, b) = srv.get_json("/api/stats", &bi).await.unwrap();
    assert_eq!(
        (s, &b["error"]["code"]),
        (401, &json!("invalid_token")),
        "expired"
    );
}

#[tokio::test]
async fn a_wallboard_token_reads_aggregates_only_and_stops_when_revoked() {
    let srv = TestServer::start().await.unwrap();
    let (sales, ks) = srv.provider("Sales").await.unwrap();
    srv.webhook(&sales, &ks, &event("w-1", "no-answer", "+919876500001"))
        .await
        .unwrap();
    let (s, b) = create(
        &srv,
        json!({"name": "Floor TV", "scopes": ["wallboard:read"]}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["scopes"], json!(["wallboard:read"]));
    let tv = b["token"].as_str().unwrap().to_string();
    let id = b["id"].as_i64().unwrap();
    for path in ["/api/stats", "/api/providers", "/api/thresholds/state"] {
        let (s, b) = srv.get_json(path, &tv).await.unwrap();
        assert_eq!(s, 200, "{path}: {b}");
        assert!(
            !b.to_string().contains("+919876500001"),
            "{path} shows no caller: {b}"
        );
    }
    // No call, no number, no stream: a link on a TV may leak.
    for path in [
        "/api/calls",
        "/api/calls/w-1",
        "/api/calls/export.csv",
        "/api/events/head",
        "/api/metrics",
        "/api/auth/me",
        "/api/voicemails",
    ] {
        let (s, b) = srv.get_json(path, &tv).await.unwrap();
        assert_eq!(s, 403, "{path}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the wallboard's figures"),
            "{b}"
        );
    }
    assert!(
        ws::connect(&srv.ws_url(&tv, None)).await.is_err(),
        "no event stream"
    );
    let (s, _) = srv
        .delete_json(&format!("/api/integration-tokens/{id}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (s, b) = srv.get_json("/api/stats", &tv).await.unwrap();
    assert_eq!((s, &b["error"]["code"]), (401, &json!("invalid_token")));
}

#[tokio::test]
async fn a_token_request_that_makes_no_sense_is_refused() {
    let srv = TestServer::start().await.unwrap();
    let past = (srv.now() - chrono::Duration::hours(1)).to_rfc3339();
    for (body, why) in [
        (json!({"name": "x", "scopes": []}), "no scope"),
        (json!({"name": "", "scopes": ["calls:read"]}), "no name"),
        (
            json!({"name": "x", "scopes": ["calls:write"]}),
            "unknown scope",
        ),
        (
            json!({"name": "x", "scopes": ["calls:read"], "departments": ["nowhere"]}),
            "unknown department",
        ),
        (
            json!({"name": "x", "scopes": ["calls:read"], "departments": []}),
            "empty departments",
        ),
        (
            json!({"name": "x", "scopes": ["calls:read"], "expires_at": past}),
            "expired already",
        ),
        (
            json!({"name": "x", "scopes": ["calls:read"], "expires_at": "tomorrow"}),
            "not a time",
        ),
    ] {
        let (s, b) = create(&srv, body).await;
        assert!(s == 422 || s == 400, "{why}: {s} {b}");
        assert!(b["error"]["message"].is_string(), "{why}: {b}");
    }
    let (_, l) = srv
        .get_json("/api/integration-tokens", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(l["data"].as_array().unwrap().len(), 0, "nothing half-made");
    let sup = srv.user("sam", "supervisor", &[]).await.unwrap();
    let (s, _) = srv
        .post_json(
            "/api/integration-tokens",
            &sup,
            &json!({"name": "x", "scopes": ["calls:read"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = srv
        .get_json(
            "/api/calls",
            "cbi_0000000000000000000000000000000000000000000000000",
        )
        .await
        .unwrap();
    assert_eq!(s, 401);
}
