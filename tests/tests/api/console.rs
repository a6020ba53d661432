//! The web console is served by the same binary: its client-side routes get
//! the page, API paths keep their JSON errors.
use callboard_tests::TestServer;

async fn get(srv: &TestServer, path: &str) -> (u16, String, String) {
    let r = srv.http.get(srv.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, r.text().await.unwrap())
}

#[tokio::test]
async fn console_routes_serve_the_page_and_api_paths_stay_json() {
    let srv = TestServer::start().await.unwrap();
    let (s, ct, home) = get(&srv, "/").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(home.contains("<title>Callboard</title>"), "{home}");
    // Deep links (and the first-start /login?code=) load the same page.
    for path in [
        "/live/all",
        "/hangup/sales?view=pending",
        "/login?code=cbl_x",
        "/masters/providers",
    ] {
        let (s, ct, body) = get(&srv, path).await;
        assert_eq!((s, body.as_str()), (200, home.as_str()), "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    for path in ["/api/nope", "/webhooks/nope", "/api"] {
        let (s, ct, body) = get(&srv, path).await;
        assert_eq!(s, 404, "{path}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        assert!(body.contains("route_not_found"), "{path}: {body}");
    }
    // A stale tab asking for an old bundle gets a 404, not HTML as JavaScript.
    let (s, _, _) = get(&srv, "/assets/index-old.js").await;
    assert_eq!(s, 404);
    // Writes to console paths are not pages.
    let r = srv.http.post(srv.url("/live/all")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
