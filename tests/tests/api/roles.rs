use callboard_tests::{event, ws, TestServer, ADMIN_TOKEN};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn agents_see_only_their_departments() {
    let srv = TestServer::start().await.unwrap();
    let (sales, ks) = srv.provider("Sales").await.unwrap();
    let (support, kp) = srv.provider("Support").await.unwrap();
    let agent = srv.user("asha", "agent", &[&sales]).await.unwrap();
    let mut stream = ws::connect(&srv.ws_url(&agent, None)).await.unwrap();
    srv.webhook(&sales, &ks, &event("s-1", "no-answer", "+911"))
        .await
        .unwrap();
    srv.webhook(&support, &kp, &event("p-1", "no-answer", "+912"))
        .await
        .unwrap();
    srv.webhook(&sales, &ks, &event("s-2", "ringing", "+913"))
        .await
        .unwrap();

    let (_, list) = srv.get_json("/api/calls", &agent).await.unwrap();
    assert_eq!(list["total"], 2);
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["department"] == sales));
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={support}"), &agent)
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "another department's calls are absent");
    let (s, b) = srv.get_json("/api/calls/p-1", &agent).await.unwrap();
    assert_eq!(s, 403, "{b}");
    let (s, _) = srv
        .post_json(
            "/api/calls/p-1/disposition",
            &agent,
            &json!({"category": "Support", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (_, stats) = srv.get_json("/api/stats", &agent).await.unwrap();
    assert!(stats["hangup_pending"].get(&support).is_none());
    assert_eq!(stats["hangup_pending"][&sales], 1);
    let (_, provs) = srv.get_json("/api/providers", &agent).await.unwrap();
    assert_eq!(provs["data"].as_array().unwrap().len(), 1);
    assert!(
        provs["data"][0].get("api_key_hint").is_none(),
        "no part of a key for agents"
    );
    let (_, admin_view) = srv
        .get_json(
            &format!("/api/providers/{sales}"),
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert!(ks.starts_with(admin_view["api_key_hint"].as_str().unwrap()));

    // The stream carries only Sales events.
    let got = ws::collect(&mut stream, 3, Duration::from_millis(1500))
        .await
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|m| m["data"]["department"] == sales));
}

#[tokio::test]
async fn roles_gate_masters_and_tokens_end_at_logout() {
    let srv = TestServer::start().await.unwrap();
    let (sales, _) = srv.provider("Sales").await.unwrap();
    let sup = srv.user("sam", "supervisor", &[]).await.unwrap();
    let agent = srv.user("ravi", "agent", &[&sales]).await.unwrap();
    for t in [&sup, &agent] {
        let (s, b) = srv
            .post_json("/api/providers", t, &json!({"name": "X"}))
            .await
            .unwrap();
        assert_eq!(s, 403, "{b}");
        assert_eq!(b["error"]["code"], "forbidden");
        let (s, _) = srv
            .post_json(
                "/api/users",
                t,
                &json!({"username": "x1", "password": "password-123", "role": "admin"}),
            )
            .await
            .unwrap();
        assert_eq!(s, 403);
    }
    // Supervisors see every department's calls.
    let (s, _) = srv
        .get_json("/api/calls?department=anything", &sup)
        .await
        .unwrap();
    assert_eq!(s, 200);
    // No token, bad token.
    let r = srv.http.get(srv.url("/api/calls")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (s, b) = srv.get_json("/api/calls", "cbt_nope").await.unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str().unwrap()),
        (401, "invalid_token")
    );
    // Wrong password.
    let (s, b) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "ravi", "password": "nope-nope"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str().unwrap()),
        (401, "bad_credentials")
    );
    // Logout revokes.
    let (s, me) = srv.get_json("/api/auth/me", &agent).await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(me["role"], "agent");
    let r = srv.post("/api/auth/logout", &agent).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (s, _) = srv.get_json("/api/auth/me", &agent).await.unwrap();
    assert_eq!(s, 401);
}

#[tokio::test]
async fn first_start_prints_a_one_time_login_link() {
    let srv = TestServer::start().await.unwrap();
    let line = srv
        .banner
        .iter()
        .find(|l| l.contains("/login?code="))
        .expect("a login link")
        .clone();
    let code = line.split("code=").nth(1).unwrap().trim().to_string();
    let link = line
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    let page = srv.http.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // The console page; that it signs the admin in is proven in a real
    // browser by ui/e2e/console.test.mjs.
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>Callboard</title>"),
        "the link lands on the console"
    );
    let password = srv.printed_password().unwrap();
    let (s, _) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "admin", "password": password}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "the printed password works");
    let (s, b) = srv
        .post_json("/api/auth/exchange", "", &json!({"code": code}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["user"]["role"], "admin");
    let token = b["token"].as_str().unwrap();
    assert_eq!(srv.get_json("/api/providers", token).await.unwrap().0, 200);
    // Once only.
    let (s, _) = srv
        .post_json("/api/auth/exchange", "", &json!({"code": code}))
        .await
        .unwrap();
    assert_eq!(s, 401);
    // A second start of the same database creates no second admin.
    let srv = srv.restart().await.unwrap();
    assert!(!srv.banner.iter().any(|l| l.contains("/login?code=")));
}

/// The printed first-start password signs in to one thing only: choosing
/// a new one. The same for a temporary password an admin hands out.
#[tokio::test]
async fn a_printed_or_temporary_password_must_be_changed_before_anything_else() {
    let srv = TestServer::start().await.unwrap();
    let printed = srv.printed_password().unwrap();
    let login = |password: String| {
        let srv = &srv;
        async move {
            srv.post_json(
                "/api/auth/login",
                "",
                &json!({"username": "admin", "password": password}),
            )
            .await
            .unwrap()
        }
    };
    let (s, b) = login(printed.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["must_change_password"], true, "{b}");
    let token = b["token"].as_str().unwrap().to_string();
    let (s, me) = srv.get_json("/api/auth/me", &token).await.unwrap();
    assert_eq!(
        (s, &me["must_change_password"]),
        (200, &json!(true)),
        "{me}"
    );
    for path in ["/api/calls", "/api/providers", "/api/users"] {
        let (s, b) = srv.get_json(path, &token).await.unwrap();
        assert_eq!(s, 403, "GET {path}: {b}");
        assert_eq!(b["error"]["code"], "password_change_required", "{b}");
    }
    let (s, b) = srv
        .post_json(
            "/api/providers",
            &token,
            &json!({"name": "Sneaky", "field_mapping": {"call_id": "id"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (403, Some("password_change_required")),
        "{b}"
    );
    // A wrong current password changes nothing.
    let (s, _) = srv
        .post_json(
            "/api/auth/password",
            &token,
            &json!({"current": "not-it", "new": "a-brand-new-one"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422);
    let (s, b) = srv
        .post_json(
            "/api/auth/password",
            &token,
            &json!({"current": printed, "new": "a-brand-new-one"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    // The same session is a full one now.
    let (s, me) = srv.get_json("/api/auth/me", &token).await.unwrap();
    assert_eq!((s, &me["must_change_password"]), (200, &json!(false)));
    assert_eq!(srv.get_json("/api/calls", &token).await.unwrap().0, 200);
    let (s, _) = login(printed).await;
    assert_eq!(s, 401, "the printed password is gone");
    let (s, b) = login("a-brand-new-one".into()).await;
    assert_eq!((s, &b["must_change_password"]), (200, &json!(false)));

    // An admin may hand out a temporary password, on creation or later.
    let (s, b) = srv
        .post_json(
            "/api/users",
            ADMIN_TOKEN,
            &json!({"username": "temp", "password": "temporary-1", "role": "agent", "must_change_password": true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    let (s, b) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "temp", "password": "temporary-1"}),
        )
        .await
        .unwrap();
    assert_eq!((s, &b["must_change_password"]), (200, &json!(true)));
    let temp = b["token"].as_str().unwrap().to_string();
    assert_eq!(srv.get_json("/api/calls", &temp).await.unwrap().0, 403);
    let (s, b) = srv
        .post_json(
            "/api/auth/password",
            &temp,
            &json!({"current": "temporary-1", "new": "my-own-password"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(srv.get_json("/api/calls", &temp).await.unwrap().0, 200);
    // A flag without a new password is refused: it would lock a user out
    // of a password they chose.
    let id = srv.user_id("temp").await.unwrap();
    let r = srv
        .http
        .patch(srv.url(&format!("/api/users/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"must_change_password": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422, "{:?}", r.text().await);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_that_user_name_for_a_while() {
    let srv = TestServer::start().await.unwrap();
    srv.user("target", "agent", &[]).await.unwrap();
    srv.user("bystander", "agent", &[]).await.unwrap();
    for _ in 0..5 {
        let (s, _) = srv
            .post_json(
                "/api/auth/login",
                "",
                &json!({"username": "target", "password": "guess-guess"}),
            )
            .await
            .unwrap();
        assert_eq!(s, 401);
    }
    let r = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"username": "Target", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "even the right password waits");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "too_many_attempts");
    let (s, _) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "bystander", "password": "password-123"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "other users are not affected");
}

/// The OpenAPI document names the least role of each operation (the bearer
/// scope); every operation holds to it: no token is a 401, a weaker role a
/// 403 before anything is read or written.
#[tokio::test]
async fn every_operation_refuses_the_roles_its_document_excludes() {
    let srv = TestServer::start().await.unwrap();
    let (sales, _) = srv.provider("Sales").await.unwrap();
    let sup = srv.user("sam", "supervisor", &[]).await.unwrap();
    let agent = srv.user("ravi", "agent", &[&sales]).await.unwrap();
    let doc: serde_json::Value = reqwest::get(srv.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = callboard_server::http::default_client();
    let (mut gated, mut checked) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = srv.url(&path.replace(['{', '}'], "").replace("slug", &sales));
        for (method, op) in item.as_object().unwrap() {
            let Some(bearer) = op["security"]
                .as_array()
                .and_then(|s| s.iter().find_map(|r| r.get("bearer")))
            else {
                continue;
            };
            let scope = bearer[0].as_str().unwrap_or("");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let refused: &[&str] = match scope {
                "admin" => &[&sup, &agent],
                "supervisor" => &[&agent],
                "" => &[],
                other => panic!("{method} {path}: unknown scope {other}"),
            };
            let res = client.request(m.clone(), &url).send().await.unwrap();
            assert_eq!(res.status(), 401, "{method} {path} without a token");
            for token in refused {
                let res = client
                    .request(m.clone(), &url)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                assert_eq!(status, 403, "{method} {path} ({scope}): {body}");
                assert_eq!(body["error"]["code"], "forbidden", "{method} {path}");
                gated += 1;
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 80 && gated >= 80,
        "{checked} operations, {gated} refusals"
    );
    // Nothing an excluded role sent was kept.
    let (_, provs) = srv
        .get_json("/api/providers", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(provs["data"].as_array().unwrap().len(), 1);
}
