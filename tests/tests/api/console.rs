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

/// The console's bundle and large answers go compressed to a client that
/// asks (brotli or gzip); a webhook's small acknowledgement does not.
#[tokio::test]
async fn large_answers_are_compressed_for_clients_that_ask() {
    use std::io::Read;
    let srv = TestServer::start().await.unwrap();
    let (_, _, home) = get(&srv, "/").await;
    let script = home
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page loads a script")
        .to_string();
    let plain = srv.http.get(srv.url(&script)).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 10_000, "{}", plain.len());

    let br = srv
        .http
        .get(srv.url(&script))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    let br = br.bytes().await.unwrap();
    assert!(
        br.len() * 2 < plain.len(),
        "{} of {}",
        br.len(),
        plain.len()
    );

    let gz = srv
        .http
        .get(srv.url(&script))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);

    let (slug, key) = srv.provider("Sales").await.unwrap();
    let ack = srv
        .http
        .post(srv.url(&format!("/webhooks/ivr/{slug}")))
        .header("x-api-key", &key)
        .header("accept-encoding", "gzip, br")
        .json(&callboard_tests::event("c1", "ringing", "+919811122233"))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 200);
    assert!(ack.headers().get("content-encoding").is_none());

    // The streamed CSV export arrives whole, compressed (its stream is
    // polled again after its end by the compression, which must not panic).
    for i in 0..40 {
        srv.webhook(
            &slug,
            &key,
            &callboard_tests::event(&format!("x{i}"), "no-answer", "+919811122233"),
        )
        .await
        .unwrap();
    }
    let csv = |enc: &'static str| {
        srv.http
            .get(srv.url("/api/calls/export.csv"))
            .bearer_auth(callboard_tests::ADMIN_TOKEN)
            .header("accept-encoding", enc)
            .send()
    };
    let plain = csv("identity").await.unwrap().bytes().await.unwrap();
    assert!(plain.len() > 1024, "{}", plain.len());
    let gz = csv("gzip").await.unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
}
