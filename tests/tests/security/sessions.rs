//! The console's cookie session: script cannot read it, another site cannot
//! spend it (CSRF), and it ends after a time without use and at its maximum,
//! saying so (`session_expired`) and dropping the cookie.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

struct Browser {
    cookie: String,
    csrf: String,
}

/// Signs `name` in the way the console does, checking what the answer holds.
async fn sign_in(srv: &TestServer, name: &str) -> Browser {
    let res = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"username": name, "password": "password-123", "cookie": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("token").is_none(), "no token for script: {body}");
    let csrf = body["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=46800"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let pair = set.split(';').next().unwrap().to_string();
    assert!(
        pair.starts_with("callboard_session=") && pair.len() > 30,
        "{pair}"
    );
    Browser { cookie: pair, csrf }
}

async fn me(srv: &TestServer, b: &Browser) -> (u16, Value, Option<String>) {
    let res = srv
        .http
        .get(srv.url("/api/auth/me"))
        .header(COOKIE, &b.cookie)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let set = res
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap_or(Value::Null), set)
}

async fn logout(srv: &TestServer, b: &Browser, csrf: Option<&str>) -> (u16, Value, Option<String>) {
    let mut req = srv
        .http
        .post(srv.url("/api/auth/logout"))
        .header(COOKIE, &b.cookie);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let set = res
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap_or(Value::Null), set)
}

/// The session's last use as stored (the idle clock's start).
fn last_used(srv: &TestServer) -> Option<String> {
    let db = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
    db.query_row(
        "SELECT last_used_at FROM tokens WHERE idle_seconds IS NOT NULL ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// Waits until the session's last use moves on from `before`.
async fn use_noted(srv: &TestServer, before: Option<String>) {
    let noted = async {
        while last_used(srv) == before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), noted)
        .await
        .expect("the use is noted");
}

#[tokio::test]
async fn a_cookie_session_reads_freely_but_changes_only_with_its_csrf_token() {
    let srv = TestServer::start().await.unwrap();
    srv.user("asha", "supervisor", &[]).await.unwrap();
    let b = sign_in(&srv, "asha").await;

    let (s, body, _) = me(&srv, &b).await;
    assert_eq!((s, &body["user"]["username"]), (200, &json!("asha")));
    assert_eq!(
        body["csrf_token"],
        json!(b.csrf),
        "a reload gets the same CSRF token"
    );

    // A forged page can make the browser send the cookie, not the header.
    for forged in [None, Some(""), Some("0".repeat(64).as_str())] {
        let (s, body, _) = logout(&srv, &b, forged).await;
        assert_eq!(
            (s, &body["error"]["code"]),
            (403, &json!("csrf_failed")),
            "{forged:?}"
        );
    }
    assert_eq!(
        me(&srv, &b).await.0,
        200,
        "the refused change changed nothing"
    );

    // Another session's token does not fit this one.
    srv.user("ravi", "agent", &[]).await.unwrap();
    let other = sign_in(&srv, "ravi").await;
    assert_eq!(logout(&srv, &b, Some(&other.csrf)).await.0, 403);

    let (s, _, set) = logout(&srv, &b, Some(&b.csrf)).await;
    assert_eq!(s, 204);
    assert!(
        set.is_some_and(|c| c.contains("Max-Age=0")),
        "signing out clears the cookie"
    );
    let (s, body, set) = me(&srv, &b).await;
    assert_eq!((s, &body["error"]["code"]), (401, &json!("invalid_token")));
    assert!(
        set.is_some_and(|c| c.starts_with("callboard_session=;")),
        "a dead cookie is dropped"
    );
    assert_eq!(me(&srv, &other).await.0, 200, "other sessions stay");
}

#[tokio::test]
async fn a_bearer_token_needs_no_csrf_token_and_wins_over_a_cookie() {
    let srv = TestServer::start().await.unwrap();
    let token = srv.user("asha", "supervisor", &[]).await.unwrap();
    let dead = Browser {
        cookie: "callboard_session=not-a-session".into(),
        csrf: String::new(),
    };
    let res = srv
        .http
        .post(srv.url("/api/auth/logout"))
        .bearer_auth(&token)
        .header(COOKIE, &dead.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (s, body) = srv.get_json("/api/auth/me", &token).await.unwrap();
    assert_eq!((s, &body["error"]["code"]), (401, &json!("invalid_token")));
}

#[tokio::test]
async fn a_cookie_session_ends_after_an_idle_hour_and_at_twelve_hours_saying_so() {
    let srv = TestServer::start().await.unwrap();
    srv.user("asha", "supervisor", &[]).await.unwrap();

    // Used every 45 minutes, it lives past the idle hour…
    let b = sign_in(&srv, "asha").await;
    let first = last_used(&srv);
    srv.advance(Duration::from_secs(45 * 60));
    assert_eq!(me(&srv, &b).await.0, 200);
    // (its use is noted off the request's path)
    use_noted(&srv, first).await;
    let second = last_used(&srv);
    srv.advance(Duration::from_secs(45 * 60));
    assert_eq!(
        me(&srv, &b).await.0,
        200,
        "90 minutes in, 45 since its last use"
    );
    // Noted before the clock moves on, or the note would carry the later time.
    use_noted(&srv, second).await;

    // …and ends after an hour without use.
    srv.advance(Duration::from_secs(61 * 60));
    let (s, body, set) = me(&srv, &b).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (401, &json!("session_expired")),
        "{body}"
    );
    assert!(set.is_some_and(|c| c.contains("Max-Age=0")));

    // Used every 50 minutes, it still ends 12 hours after sign-in.
    let b = sign_in(&srv, "asha").await;
    let mut alive = 0;
    for _ in 0..15 {
        let before = last_used(&srv);
        srv.advance(Duration::from_secs(50 * 60));
        let (s, body, _) = me(&srv, &b).await;
        if s != 200 {
            assert_eq!(
                (s, &body["error"]["code"]),
                (401, &json!("session_expired"))
            );
            break;
        }
        alive += 1;
        // Let the use be noted before the clock moves on.
        use_noted(&srv, before).await;
    }
    assert_eq!(alive, 14, "alive through 11 h 40 min, gone at 12 h 30 min");

    // A bearer session (API, desktop) has no idle end.
    let (s, b) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "asha", "password": "password-123"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let token = b["token"].as_str().unwrap().to_string();
    srv.advance(Duration::from_secs(3 * 24 * 3600));
    assert_eq!(srv.get_json("/api/auth/me", &token).await.unwrap().0, 200);
}

#[tokio::test]
async fn the_event_stream_takes_the_cookie_from_the_console_page() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let srv = TestServer::start().await.unwrap();
    srv.user("asha", "supervisor", &[]).await.unwrap();
    let b = sign_in(&srv, "asha").await;
    let url = srv.url("/api/events").replace("http://", "ws://");

    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", b.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", srv.base.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("the console's own page connects with its cookie");
    srv.provider("Front Desk").await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    assert!(
        matches!(first, Ok(Some(Ok(_)))),
        "a first message: {first:?}"
    );

    let req = url.as_str().into_client_request().unwrap();
    let refused = tokio_tungstenite::connect_async(req).await;
    assert!(refused.is_err(), "no cookie, no token: refused");
}

#[tokio::test]
async fn signing_out_ends_the_event_stream_the_session_opened() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;
    let srv = TestServer::start_with(|o| o.event_ping_every = Duration::from_millis(300))
        .await
        .unwrap();
    srv.user("asha", "supervisor", &[]).await.unwrap();
    let b = sign_in(&srv, "asha").await;
    let mut req = srv
        .url("/api/events")
        .replace("http://", "ws://")
        .as_str()
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", b.cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    // Pings while the session holds.
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    assert!(matches!(first, Ok(Some(Ok(Message::Ping(_))))), "{first:?}");

    assert_eq!(logout(&srv, &b, Some(&b.csrf)).await.0, 204);
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Close(frame) = m {
                return frame;
            }
        }
        None
    })
    .await
    .expect("the stream ends within a ping");
    let frame = closed.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4401);
    assert_eq!(frame.reason.as_str(), "invalid_token");
}

#[tokio::test]
async fn a_person_changes_their_password_with_the_current_one_and_other_sessions_end() {
    let srv = TestServer::start().await.unwrap();
    let here = srv.user("asha", "agent", &[]).await.unwrap();
    let uid = srv.user_id("asha").await.unwrap();
    let browser = sign_in(&srv, "asha").await;

    // A session alone cannot: not through the admin's route…
    let (s, b) = srv
        .patch_json(
            &format!("/api/users/{uid}"),
            &here,
            &json!({"password": "taken-over-1"}),
        )
        .await
        .unwrap();
    assert_eq!((s, &b["error"]["code"]), (403, &json!("forbidden")), "{b}");
    // …nor without the current password (which counts as a wrong one).
    let change = |current: &str, new: &str| json!({"current": current, "new": new});
    let (s, b) = srv
        .post_json(
            "/api/auth/password",
            &here,
            &change("guess-1234", "taken-over-1"),
        )
        .await
        .unwrap();
    assert_eq!(
        (s, &b["error"]["code"]),
        (422, &json!("bad_credentials")),
        "{b}"
    );
    let (s, b) = srv
        .post_json(
            "/api/auth/password",
            &here,
            &change("password-123", "short"),
        )
        .await
        .unwrap();
    assert_eq!((s, &b["error"]["code"]), (422, &json!("invalid")), "{b}");
    let login = |password: &str| json!({"username": "asha", "password": password});
    assert_eq!(
        srv.post_json("/api/auth/login", "", &login("password-123"))
            .await
            .unwrap()
            .0,
        200
    );

    let (s, b) = srv
        .post_json(
            "/api/auth/password",
            &here,
            &change("password-123", "a-new-password-9"),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["other_sessions_ended"], 2,
        "the cookie session and the other sign-in"
    );
    assert_eq!(
        srv.get_json("/api/auth/me", &here).await.unwrap().0,
        200,
        "this one stays"
    );
    assert_eq!(
        me(&srv, &browser).await.0,
        401,
        "the browser elsewhere is signed out"
    );
    assert_eq!(
        srv.post_json("/api/auth/login", "", &login("password-123"))
            .await
            .unwrap()
            .0,
        401
    );
    assert_eq!(
        srv.post_json("/api/auth/login", "", &login("a-new-password-9"))
            .await
            .unwrap()
            .0,
        200
    );

    // Guessing the current password from a stolen session runs into the sign-in lock.
    let mut last = 0;
    for i in 0..6 {
        last = srv
            .post_json(
                "/api/auth/password",
                &here,
                &change(&format!("guess-{i}-xyz"), "taken-over-1"),
            )
            .await
            .unwrap()
            .0;
    }
    assert_eq!(last, 429);
    let (_, audit) = srv
        .get_json("/api/audit?action=user.password", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(audit.to_string().contains("user.password"), "{audit}");
}
