//! What a browser is told about each answer (its content policy, framing,
//! sniffing, referrers), and who may open the event stream from a page.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_console_and_the_api_carry_a_strict_content_policy() {
    let srv = TestServer::start().await.unwrap();
    let page = srv
        .http
        .get(srv.url("/live"))
        .header("host", "callboard.office.lan:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = header(&page, "content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "connect-src 'self' ws://callboard.office.lan:8080 wss://callboard.office.lan:8080;",
    ] {
        assert!(csp.contains(part), "console CSP lacks {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let api = srv.get("/api/calls", ADMIN_TOKEN).send().await.unwrap();
    for r in [&page, &api] {
        assert_eq!(header(r, "x-content-type-options"), "nosniff");
        assert_eq!(header(r, "x-frame-options"), "DENY");
        assert_eq!(header(r, "referrer-policy"), "no-referrer");
    }
    assert!(
        header(&api, "content-security-policy").starts_with("default-src 'none'"),
        "nothing in a JSON answer may run"
    );
    // A Host that is not a host name does not reach the policy.
    let odd = srv
        .http
        .get(srv.url("/"))
        .header("host", "x; script-src *")
        .send()
        .await
        .unwrap();
    let csp = header(&odd, "content-security-policy");
    assert!(!csp.contains("script-src *"), "{csp}");
}

async fn open_stream(srv: &TestServer, origin: Option<&str>) -> Result<u16, u16> {
    let mut req = srv.ws_url(ADMIN_TOKEN, None).into_client_request().unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, res)) => Ok(res.status().as_u16()),
        Err(WsError::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_page_on_another_site_cannot_open_the_event_stream() {
    let srv = TestServer::start_with_env(&[("CALLBOARD_ALLOWED_ORIGINS", "tauri://localhost")])
        .await
        .unwrap();
    let own = srv.url("").trim_end_matches('/').to_string();
    assert_eq!(
        open_stream(&srv, None).await,
        Ok(101),
        "no Origin: not a browser"
    );
    assert_eq!(
        open_stream(&srv, Some(&own)).await,
        Ok(101),
        "the console's own page"
    );
    assert_eq!(open_stream(&srv, Some("tauri://localhost")).await, Ok(101));
    for evil in [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        assert_eq!(open_stream(&srv, Some(evil)).await, Err(403), "{evil}");
    }
    // The refusal names itself.
    let res = srv
        .http
        .get(srv.url("/api/events"))
        .bearer_auth(ADMIN_TOKEN)
        .header("origin", "http://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
}
