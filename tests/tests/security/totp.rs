//! Two-step sign-in: an admin turns it on with their app; from then on the
//! password alone is not enough; a wrong code counts as a wrong password;
//! another admin resets it for a lost phone.

use callboard_core::totp;
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

async fn login(srv: &TestServer, body: Value) -> (u16, Value) {
    srv.post_json("/api/auth/login", "", &body).await.unwrap()
}

#[tokio::test]
async fn an_admin_with_two_step_sign_in_needs_the_code_of_the_moment() {
    let srv = TestServer::start().await.unwrap();
    let boss = srv.user("boss", "admin", &[]).await.unwrap();
    let (s, st) = srv.get_json("/api/auth/totp", &boss).await.unwrap();
    assert_eq!(
        (s, &st),
        (200, &json!({"enabled": false, "pending": false}))
    );

    let (s, setup) = srv
        .post_json("/api/auth/totp/setup", &boss, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Callboard:boss?"));
    // Pending: sign-in does not ask yet, and a wrong code does not turn it on.
    assert_eq!(
        login(
            &srv,
            json!({"username": "boss", "password": "password-123"})
        )
        .await
        .0,
        200
    );
    let (s, b) = srv
        .post_json("/api/auth/totp/enable", &boss, &json!({"code": "000000"}))
        .await
        .unwrap();
    assert_eq!(
        (s, &b["error"]["code"]),
        (422, &json!("invalid_totp")),
        "the session stays"
    );
    let code = totp::code_at(&secret, srv.now()).unwrap();
    let (s, b) = srv
        .post_json("/api/auth/totp/enable", &boss, &json!({"code": code}))
        .await
        .unwrap();
    assert_eq!((s, &b["enabled"]), (200, &json!(true)), "{b}");
    let (s, b) = srv
        .post_json("/api/auth/totp/setup", &boss, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 409, "no new secret while it is on: {b}");

    // The password alone no longer signs in; the code does; a stale code does not.
    let (s, b) = login(
        &srv,
        json!({"username": "boss", "password": "password-123"}),
    )
    .await;
    assert_eq!(
        (s, &b["error"]["code"]),
        (401, &json!("totp_required")),
        "{b}"
    );
    assert!(b.get("token").is_none());
    let (s, b) = login(
        &srv,
        json!({"username": "boss", "password": "password-123", "totp": "123456"}),
    )
    .await;
    assert_eq!(
        (s, &b["error"]["code"]),
        (401, &json!("invalid_totp")),
        "{b}"
    );
    let old = totp::code_at(&secret, srv.now() - chrono::Duration::minutes(5)).unwrap();
    let (s, _) = login(
        &srv,
        json!({"username": "boss", "password": "password-123", "totp": old}),
    )
    .await;
    assert_eq!(s, 401, "a code from five minutes ago");
    let now = totp::code_at(&secret, srv.now()).unwrap();
    let (s, b) = login(
        &srv,
        json!({"username": "boss", "password": "password-123", "totp": now}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // A wrong password with a right code is still a wrong password.
    let (s, b) = login(
        &srv,
        json!({"username": "boss", "password": "nope", "totp": now}),
    )
    .await;
    assert_eq!((s, &b["error"]["code"]), (401, &json!("bad_credentials")));
    // Wrong codes count towards the sign-in lock like wrong passwords (the
    // success above started the count over: one wrong password, four codes).
    for _ in 0..4 {
        login(
            &srv,
            json!({"username": "boss", "password": "password-123", "totp": "000000"}),
        )
        .await;
    }
    let (s, _) = login(
        &srv,
        json!({"username": "boss", "password": "password-123", "totp": now}),
    )
    .await;
    assert_eq!(s, 429, "five failures from this client");
    srv.delete_json("/api/auth/lockouts?username=boss", ADMIN_TOKEN)
        .await
        .unwrap();

    // A lost phone: another admin resets it; the audit log says who.
    let uid = srv.user_id("boss").await.unwrap();
    let agent = srv.user("ravi", "agent", &[]).await.unwrap();
    assert_eq!(
        srv.delete_json(&format!("/api/users/{uid}/totp"), &agent)
            .await
            .unwrap()
            .0,
        403
    );
    let (s, b) = srv
        .delete_json(&format!("/api/users/{uid}/totp"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        login(
            &srv,
            json!({"username": "boss", "password": "password-123"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        srv.delete_json("/api/users/999/totp", ADMIN_TOKEN)
            .await
            .unwrap()
            .0,
        404
    );
    let (_, audit) = srv
        .get_json("/api/audit?action=user.totp", ADMIN_TOKEN)
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"user.totp_on") && actions.contains(&"user.totp_off"),
        "{actions:?}"
    );
    // The admin token is not a person: it has no second factor.
    let (s, _) = srv
        .post_json("/api/auth/totp/setup", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 422);
}
