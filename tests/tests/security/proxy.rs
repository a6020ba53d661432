//! Behind a reverse proxy (`--trusted-proxy`): the client's own address
//! counts for the sign-in limits, URLs and the cookie follow the scheme and
//! host the client used; from anyone else, the same headers change nothing.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

async fn wrong_password(srv: &TestServer, forwarded_for: &str) -> u16 {
    srv.http
        .post(srv.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn locked_clients(srv: &TestServer) -> Vec<String> {
    let (_, locks) = srv
        .get_json("/api/auth/lockouts", ADMIN_TOKEN)
        .await
        .unwrap();
    locks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["client"].as_str().unwrap().to_string())
        .collect()
}

/// What a provider's webhook URL and a console sign-in look like through a
/// proxy that says the client used https://calls.example.com.
async fn seen_through_proxy(srv: &TestServer) -> (String, String) {
    let (_, p) = srv
        .post_json("/api/providers", ADMIN_TOKEN, &json!({"name": "Proxied"}))
        .await
        .unwrap();
    let slug = p["slug"].as_str().unwrap().to_string();
    let view: Value = srv
        .http
        .get(srv.url(&format!("/api/providers/{slug}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "calls.example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    srv.user("asha", "agent", &[]).await.unwrap();
    let res = srv
        .http
        .post(srv.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "asha", "password": "password-123", "cookie": true}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    (view["webhook_url"].as_str().unwrap().to_string(), cookie)
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_the_scheme_and_the_host() {
    let srv = TestServer::start_with(|o| {
        o.trusted_proxies = vec![callboard_server::forwarded::parse_proxy("127.0.0.1").unwrap()];
    })
    .await
    .unwrap();
    // Five wrong passwords from one client behind the proxy lock that client
    // only; the left-most (forgeable) address is not the one that counts.
    for _ in 0..5 {
        wrong_password(&srv, "198.51.100.1, 203.0.113.5").await;
    }
    assert_eq!(wrong_password(&srv, "203.0.113.5").await, 429);
    assert_eq!(
        wrong_password(&srv, "203.0.113.6").await,
        401,
        "another client is not locked"
    );
    assert_eq!(locked_clients(&srv).await, vec!["203.0.113.5"]);

    let (url, cookie) = seen_through_proxy(&srv).await;
    assert!(
        url.starts_with("https://calls.example.com/webhooks/ivr/"),
        "{url}"
    );
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn without_trust_the_forwarding_headers_change_nothing() {
    let srv = TestServer::start().await.unwrap();
    // A client cannot dodge the lock by naming a new address each time.
    for i in 0..5 {
        wrong_password(&srv, &format!("203.0.113.{i}")).await;
    }
    assert_eq!(wrong_password(&srv, "203.0.113.99").await, 429);
    assert_eq!(locked_clients(&srv).await, vec!["127.0.0.1"]);

    let (url, cookie) = seen_through_proxy(&srv).await;
    assert!(
        url.starts_with(&format!("{}/webhooks/ivr/", srv.base)),
        "{url}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
}
