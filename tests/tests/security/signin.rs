//! Sign-in throttling is per client: a stranger guessing the admin's
//! password locks only themselves out, and an admin can lift any lock.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

use crate::support::client_from as from;

async fn login(srv: &TestServer, client: &reqwest::Client, user: &str, pw: &str) -> (u16, Value) {
    let r = client
        .post(srv.url("/api/auth/login"))
        .json(&json!({ "username": user, "password": pw }))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_admin_out_and_an_admin_lifts_locks() {
    let srv = TestServer::start().await.unwrap();
    srv.user("boss", "admin", &[]).await.unwrap();
    let (attacker, desk, sprayer) = (from("127.0.0.2"), from("127.0.0.1"), from("127.0.0.3"));
    for _ in 0..5 {
        assert_eq!(login(&srv, &attacker, "boss", "guess").await.0, 401);
    }
    let (s, b) = login(&srv, &attacker, "boss", "password-123").await;
    assert_eq!(
        s, 429,
        "the guessing client waits, even with the right password: {b}"
    );
    assert_eq!(b["error"]["code"], "too_many_attempts");
    let (s, b) = login(&srv, &desk, "boss", "password-123").await;
    assert_eq!(s, 200, "the admin at their own desk signs in: {b}");
    let boss = b["token"].as_str().unwrap().to_string();

    // Spraying many names from one client locks that client for all names.
    for i in 0..20 {
        login(&srv, &sprayer, &format!("user{i}"), "guess").await;
    }
    assert_eq!(login(&srv, &sprayer, "boss", "password-123").await.0, 429);
    assert_eq!(login(&srv, &desk, "boss", "password-123").await.0, 200);

    // The admin sees both locks and lifts them; agents may not.
    let (s, b) = srv.get_json("/api/auth/lockouts", &boss).await.unwrap();
    assert_eq!(s, 200, "{b}");
    let locks = b["data"].as_array().unwrap();
    assert!(locks
        .iter()
        .any(|l| l["username"] == "boss" && l["client"] == "127.0.0.2" && l["failures"] == 5));
    assert!(locks
        .iter()
        .any(|l| l.get("username").is_none() && l["client"] == "127.0.0.3"));
    let agent = srv.user("ravi", "agent", &[]).await.unwrap();
    assert_eq!(
        srv.get_json("/api/auth/lockouts", &agent).await.unwrap().0,
        403
    );
    let (s, b) = srv.delete_json("/api/auth/lockouts", &boss).await.unwrap();
    assert_eq!((s, &b["error"]["code"]), (422, &json!("invalid")), "{b}");
    let (s, b) = srv
        .delete_json("/api/auth/lockouts?client=not-an-ip", &boss)
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    let (s, b) = srv
        .delete_json("/api/auth/lockouts?username=BOSS", &boss)
        .await
        .unwrap();
    assert_eq!((s, b["cleared"].as_u64()), (200, Some(1)), "{b}");
    assert_eq!(
        login(&srv, &attacker, "boss", "guess").await.0,
        401,
        "lifted"
    );
    let (s, b) = srv
        .delete_json("/api/auth/lockouts?client=127.0.0.3", &boss)
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(login(&srv, &sprayer, "ravi", "password-123").await.0, 200);
    // Recorded: who lifted what.
    let (_, audit) = srv
        .get_json("/api/audit?action=auth.unlock", ADMIN_TOKEN)
        .await
        .unwrap();
    let entries = audit["data"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .filter(|e| e["action"] == "auth.unlock")
            .count()
            >= 2,
        "{audit}"
    );
}
