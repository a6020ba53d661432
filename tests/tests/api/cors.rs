//! The desktop window calls the local API from its own origin: exactly that
//! origin is allowed, never any other and never `*`.
use callboard_tests::{TestServer, ADMIN_TOKEN};

async fn preflight(srv: &TestServer, origin: &str) -> reqwest::Response {
    srv.http
        .request(reqwest::Method::OPTIONS, srv.url("/api/calls"))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

fn allow_origin(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn only_the_listed_origins_may_call_the_api_cross_origin() {
    let srv = TestServer::start_with_env(&[(
        "CALLBOARD_ALLOWED_ORIGINS",
        "tauri://localhost,http://tauri.localhost",
    )])
    .await
    .unwrap();
    for origin in ["tauri://localhost", "http://tauri.localhost"] {
        let r = preflight(&srv, origin).await;
        assert_eq!(allow_origin(&r).as_deref(), Some(origin), "{origin}");
        let allowed = r
            .headers()
            .get("access-control-allow-headers")
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default();
        assert!(allowed.contains("authorization"), "{allowed}");
        let r = srv
            .get("/api/auth/me", ADMIN_TOKEN)
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(allow_origin(&r).as_deref(), Some(origin));
    }
    for origin in ["http://evil.example", "null", "tauri://localhost.evil"] {
        let r = preflight(&srv, origin).await;
        assert_eq!(allow_origin(&r), None, "{origin} must not be allowed");
    }
}

#[tokio::test]
async fn without_configured_origins_no_cross_origin_access_is_granted() {
    let srv = TestServer::start().await.unwrap();
    let r = preflight(&srv, "tauri://localhost").await;
    assert_eq!(allow_origin(&r), None);
    let r = srv
        .get("/api/auth/me", ADMIN_TOKEN)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&r), None);
}
