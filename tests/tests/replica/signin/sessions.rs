//! A replica's own sessions beyond the sign-in itself: their lifetimes
//! (`callboard connect --session-idle/--session-max`), a password change
//! made through the replica, and the one-time login code spent there
//! (`/api/auth/exchange`).

use super::*;
use std::time::{Duration, Instant};

/// `start`, with the replica launched with these variables besides the
/// harness's, and this configuration file.
async fn start_replica_with(env: &[(&str, &str)], file: Option<&str>) -> Pair {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Sales").await.unwrap();
    let (s, b) = srv
        .webhook(&slug, &key, &event("c1", "no-answer", "+919812345678"))
        .await
        .unwrap();
    assert!(s < 300, "{b}");
    let token = srv.user("asha", "agent", &[&slug]).await.unwrap();
    let proxy = Proxy::start(&srv.addr).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("callboard.toml");
    let config_arg = config.to_str().unwrap().to_string();
    let mut all: Vec<&str> = vec!["connect", "--remote"];
    let url = proxy.url();
    all.push(&url);
    if let Some(text) = file {
        std::fs::write(&config, text).unwrap();
        all.extend_from_slice(&["--config", &config_arg]);
    }
    let mut vars = vec![("CALLBOARD_REMOTE_TOKEN", token.as_str())];
    vars.extend_from_slice(env);
    let rep = TestServer::launch(dir, &all, &vars).await.unwrap();
    until_live(&rep, &token).await;
    Pair {
        srv,
        proxy,
        rep,
        slug,
        token,
    }
}

/// A browser sign-in as asha with `password`.
async fn browser_sign_in_with(rep: &TestServer, password: &str) -> (String, String) {
    let a = login(
        rep,
        json!({"username": "asha", "password": password, "cookie": true}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let pair = a.set_cookie.unwrap().split(';').next().unwrap().to_string();
    (pair, a.body["csrf_token"].as_str().unwrap().to_string())
}

/// `callboard connect` takes `--session-idle` / `--session-max` as `serve`
/// does (flag, `CALLBOARD_SESSION_IDLE` / `CALLBOARD_SESSION_MAX`, or the
/// configuration file's `session_idle` / `session_max`), for the sessions
/// signed in on its own page.
#[tokio::test]
async fn connect_takes_the_session_idle_time_and_maximum_like_serve() {
    let p = start_replica_with(
        &[("CALLBOARD_SESSION_IDLE", "2s")],
        Some("session_max = \"4s\"\n"),
    )
    .await;
    let name = cookie_name(&p.rep);

    // The cookie lasts the maximum, not a receiver's default 12 h.
    let a = login(
        &p.rep,
        json!({"username": "asha", "password": PASSWORD, "cookie": true}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let set = a.set_cookie.clone().unwrap();
    // (The browser keeps it an hour longer: the server says when it ended.)
    assert!(set.contains("Max-Age=3604"), "{set}");
    let expires = callboard_core::time::parse(a.body["expires_at"].as_str().unwrap()).unwrap();
    let left = expires - chrono::Utc::now();
    assert!(
        left <= chrono::Duration::seconds(4) && left > chrono::Duration::zero(),
        "expires in {left}"
    );
    let idle = set.split(';').next().unwrap().to_string();
    assert!(idle.starts_with(&format!("{name}=")), "{idle}");

    // A session kept in use past the maximum ends at it…
    let (busy, _) = browser_sign_in_with(&p.rep, PASSWORD).await;
    let started = Instant::now();
    let ended = loop {
        let me = with_cookie(&p.rep, "/api/auth/me", &busy).await;
        if me.status != 200 {
            break me;
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "still signed in after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        (ended.status, code(&ended)),
        (401, "session_expired"),
        "{}",
        ended.body
    );
    assert!(
        started.elapsed() >= Duration::from_millis(3500),
        "kept in use, it lasted only {:?}",
        started.elapsed()
    );
    // …and the first one, unused for the idle time, ended before (it was
    // signed in before `busy` and last used at its sign-in).
    let me = with_cookie(&p.rep, "/api/auth/me", &idle).await;
    assert_eq!(
        (me.status, code(&me)),
        (401, "session_expired"),
        "{}",
        me.body
    );

    // Unused for longer than the idle time, a fresh session ends within the
    // maximum.
    let (fresh, _) = browser_sign_in_with(&p.rep, PASSWORD).await;
    let me = with_cookie(&p.rep, "/api/auth/me", &fresh).await;
    assert_eq!(me.status, 200, "{}", me.body);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let me = with_cookie(&p.rep, "/api/auth/me", &fresh).await;
    assert_eq!(
        (me.status, code(&me)),
        (401, "session_expired"),
        "ended by the idle time: {}",
        me.body
    );
    // The replica's own token is no browser session.
    let (s, _) = p.rep.get_json("/api/calls", &p.token).await.unwrap();
    assert_eq!(s, 200);
}

/// Sessions of `user` the receiver still honours: sessions only (unspent
/// login codes are rows of the same table).
async fn receiver_sessions(srv: &TestServer, user: &str) -> i64 {
    let user = user.to_string();
    let now = callboard_core::time::fmt(srv.now());
    srv.store()
        .unwrap()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM tokens t JOIN users u ON u.id = t.user_id
                 WHERE u.username = ?1 AND t.kind = 'session' AND t.revoked_at IS NULL
                   AND t.expires_at > ?2",
                [user, now],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// The replica's writes waiting in its outbox.
async fn pending_writes(p: &Pair) -> i64 {
    let (_, s) = p
        .rep
        .get_json("/api/replica/status", &p.token)
        .await
        .unwrap();
    s["pending_writes"].as_i64().unwrap()
}

/// A password changed through the replica ends the user's other sessions
/// there, as the receiver ends its own, and keeps the one it was changed
/// from; the change is never queued while the receiver is away.
#[tokio::test]
async fn a_password_changed_through_the_replica_ends_the_other_sessions_there() {
    let p = start().await;
    let name = cookie_name(&p.rep);
    let (mine, csrf) = browser_sign_in(&p.rep, "asha", &name).await;
    let (other, _) = browser_sign_in(&p.rep, "asha", &name).await;
    let bearer = login(&p.rep, json!({"username": "asha", "password": PASSWORD})).await;
    assert_eq!(bearer.status, 200, "{}", bearer.body);
    let bearer = bearer.body["token"].as_str().unwrap().to_string();
    let on_receiver = login(&p.srv, json!({"username": "asha", "password": PASSWORD})).await;
    let on_receiver = on_receiver.body["token"].as_str().unwrap().to_string();
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 2);

    // A wrong current password changes nothing, ends nothing.
    let new = "a-new-password-456";
    let wrong = post_with_cookie(
        &p.rep,
        "/api/auth/password",
        &mine,
        Some(&csrf),
        &json!({"current": "wrong", "new": new}),
    )
    .await;
    assert_eq!(
        (wrong.status, code(&wrong)),
        (422, "bad_credentials"),
        "{}",
        wrong.body
    );
    assert_eq!(
        with_cookie(&p.rep, "/api/auth/me", &other).await.status,
        200
    );
    // Without the CSRF token: refused here.
    let forged = post_with_cookie(
        &p.rep,
        "/api/auth/password",
        &mine,
        None,
        &json!({"current": PASSWORD, "new": new}),
    )
    .await;
    assert_eq!((forged.status, code(&forged)), (403, "csrf_failed"));

    let done = post_with_cookie(
        &p.rep,
        "/api/auth/password",
        &mine,
        Some(&csrf),
        &json!({"current": PASSWORD, "new": new}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    // The receiver's session, and the two others here.
    assert_eq!(done.body["other_sessions_ended"], 3, "{}", done.body);
    // This one stays; the other browser and the bearer token are out.
    let me = with_cookie(&p.rep, "/api/auth/me", &mine).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let gone = with_cookie(&p.rep, "/api/auth/me", &other).await;
    assert_eq!(
        (gone.status, code(&gone)),
        (401, "invalid_token"),
        "{}",
        gone.body
    );
    assert!(
        gone.set_cookie
            .is_some_and(|c| c.starts_with(&format!("{name}=;"))),
        "the ended session's cookie is cleared"
    );
    let (s, b) = p.rep.get_json("/api/auth/me", &bearer).await.unwrap();
    assert_eq!((s, &b["error"]["code"]), (401, &json!("invalid_token")));
    // On the receiver: its own other session ended, the replica's kept.
    let (s, _) = p.srv.get_json("/api/auth/me", &on_receiver).await.unwrap();
    assert_eq!(s, 401);
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 1);
    let (s, st) = p
        .rep
        .get_json("/api/replica/status", &p.token)
        .await
        .unwrap();
    assert_eq!((s, &st["state"]), (200, &json!("live")), "{st}");
    // The new password is the one now, here too.
    let old = login(&p.rep, json!({"username": "asha", "password": PASSWORD})).await;
    assert_eq!((old.status, code(&old)), (401, "bad_credentials"));
    let again = login(&p.rep, json!({"username": "asha", "password": new})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let again = again.body["token"].as_str().unwrap().to_string();

    // Changed with the replica's own token (the desktop's window): every
    // session signed in here is another one.
    let newer = "a-newer-password-789";
    let (s, b) = p
        .rep
        .post_json(
            "/api/auth/password",
            &p.token,
            &json!({"current": new, "new": newer}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["other_sessions_ended"], 2, "{b}");
    assert_eq!(with_cookie(&p.rep, "/api/auth/me", &mine).await.status, 401);
    assert_eq!(p.rep.get_json("/api/auth/me", &again).await.unwrap().0, 401);
    assert_eq!(p.rep.get_json("/api/calls", &p.token).await.unwrap().0, 200);
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 1);

    // The receiver away: refused, not queued (the passwords would wait on
    // disk, and nothing would end the sessions here when it lands).
    let (keep, keep_csrf) = browser_sign_in_with(&p.rep, newer).await;
    p.proxy.cut();
    let r = post_with_cookie(
        &p.rep,
        "/api/auth/password",
        &keep,
        Some(&keep_csrf),
        &json!({"current": newer, "new": "offline-password-000"}),
    )
    .await;
    assert_eq!(
        (r.status, code(&r)),
        (503, "sign_in_needs_receiver"),
        "{}",
        r.body
    );
    assert_eq!(pending_writes(&p).await, 0, "nothing queued");
    assert_eq!(with_cookie(&p.rep, "/api/auth/me", &keep).await.status, 200);
    p.proxy.heal();
    let direct = login(&p.srv, json!({"username": "asha", "password": newer})).await;
    assert_eq!(direct.status, 200, "unchanged: {}", direct.body);
}

/// A one-time login code for `user`, as the receiver's first start prints
/// one for its admin.
async fn login_code(srv: &TestServer, user: &str) -> String {
    let store = srv.store().unwrap();
    let user = user.to_string();
    let id = store
        .read(move |c| callboard_core::store::users::by_username(c, &user))
        .await
        .unwrap()
        .id;
    store
        .write(move |w| callboard_core::store::users::issue_login_link(w, id))
        .await
        .unwrap()
}

async fn exchange(server: &TestServer, body: Value) -> Answer {
    answer(
        server
            .http
            .post(server.url("/api/auth/exchange"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A one-time login code spent on the replica's page (`/api/auth/exchange`):
/// the receiver spends it, and the replica opens a session of its own for its
/// own user only (the receiver's session revoked at once), in a cookie or as
/// a bearer token; unknown and spent codes are the receiver's 401, another
/// user's code is refused, and without the receiver nothing is spent.
#[tokio::test]
async fn a_login_code_spent_through_the_replica_opens_a_session_for_its_user_only() {
    let p = start().await;
    let name = cookie_name(&p.rep);
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 1);

    // An unknown code: the receiver's answer, passed on.
    let a = exchange(&p.rep, json!({"code": "cbl_not-a-code", "cookie": true})).await;
    assert_eq!(
        (a.status, code(&a)),
        (401, "invalid_login_code"),
        "{}",
        a.body
    );
    assert!(a.set_cookie.is_none() && a.body.get("token").is_none());
    // Fields the receiver does not take are refused here, as there.
    let odd = json!({"code": "x", "username": "asha"});
    let (here, there) = (
        exchange(&p.rep, odd.clone()).await,
        exchange(&p.srv, odd).await,
    );
    assert_eq!((here.status, code(&here)), (there.status, code(&there)));
    assert!(here.status == 400 || here.status == 422, "{}", here.body);

    // asha's code, for the console: a cookie session of this replica.
    let mine = login_code(&p.srv, "asha").await;
    let a = exchange(&p.rep, json!({"code": mine, "cookie": true})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.get("token").is_none(), "{}", a.body);
    assert_eq!(a.body["user"]["username"], "asha");
    assert_eq!(a.body["must_change_password"], false);
    let set = a.set_cookie.expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=46800"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
    let csrf = a.body["csrf_token"].as_str().unwrap().to_string();
    // The receiver's session the exchange opened is revoked at once.
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 1);
    let me = with_cookie(&p.rep, "/api/auth/me", &cookie).await;
    assert_eq!(
        (
            me.status,
            &me.body["user"]["username"],
            &me.body["csrf_token"]
        ),
        (200, &json!("asha"), &json!(csrf)),
        "{}",
        me.body
    );
    let done = post_with_cookie(
        &p.rep,
        "/api/calls/c1/disposition",
        &cookie,
        Some(&csrf),
        &json!({"category": "Callback done", "outcome": "resolved", "notes": "from a code"}),
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.body);
    let call = p.srv.call(&p.slug, "c1").await.unwrap();
    assert_eq!(call["dispositions"][0]["actor"], "asha", "{call}");
    // Spent: once only.
    let a = exchange(&p.rep, json!({"code": mine, "cookie": true})).await;
    assert_eq!((a.status, code(&a)), (401, "invalid_login_code"));

    // In bearer mode: a token of this replica the receiver does not know.
    let a = exchange(&p.rep, json!({"code": login_code(&p.srv, "asha").await})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.set_cookie.is_none());
    let token = a.body["token"].as_str().unwrap().to_string();
    assert_eq!(p.rep.get_json("/api/calls", &token).await.unwrap().0, 200);
    assert_eq!(p.srv.get_json("/api/calls", &token).await.unwrap().0, 401);
    assert_eq!(receiver_sessions(&p.srv, "asha").await, 1);

    // Another user's code: the receiver names bela, so no session here, and
    // the one it opened for bela there is revoked.
    let bela_before = receiver_sessions(&p.srv, "bela").await;
    for cookie in [true, false] {
        let theirs = login_code(&p.srv, "bela").await;
        let a = exchange(&p.rep, json!({"code": theirs, "cookie": cookie})).await;
        assert_eq!(
            (a.status, code(&a)),
            (403, "replica_user_mismatch"),
            "{}",
            a.body
        );
        assert!(a.set_cookie.is_none() && a.body.get("token").is_none());
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("bela") && message.contains(&p.proxy.url()),
            "{message}"
        );
    }
    assert_eq!(receiver_sessions(&p.srv, "bela").await, bela_before);

    // The receiver away: 503, and the code is not spent.
    let later = login_code(&p.srv, "asha").await;
    p.proxy.cut();
    let a = exchange(&p.rep, json!({"code": later, "cookie": true})).await;
    assert_eq!(
        (a.status, code(&a)),
        (503, "sign_in_needs_receiver"),
        "{}",
        a.body
    );
    assert!(a.set_cookie.is_none());
    p.proxy.heal();
    let a = exchange(&p.rep, json!({"code": later, "cookie": true})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["user"]["username"], "asha");
}

/// A bearer password change at `rep` from the loopback address `from` (a
/// browser machine of its own, as far as the replica can tell).
async fn change_password_from(rep: &TestServer, token: &str, body: Value, from: [u8; 4]) -> Answer {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    answer(
        http.post(rep.url("/api/auth/password"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A receiver (listing the replica in `--trusted-proxy` when `trusting`), a
/// replica following it as asha, live, and a session of asha's signed in at
/// the replica.
async fn pair_with_session(trusting: bool) -> (TestServer, TestServer, String) {
    let srv = TestServer::start_with(|o| {
        if trusting {
            o.trusted_proxies =
                vec![callboard_server::forwarded::parse_proxy("127.0.0.1").unwrap()];
        }
    })
    .await
    .unwrap();
    let (slug, _) = srv.provider("Sales").await.unwrap();
    let token = srv.user("asha", "agent", &[&slug]).await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.url(""), &token)
        .await
        .unwrap();
    until_live(&rep, &token).await;
    let a = login(&rep, json!({"username": "asha", "password": PASSWORD})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let session = a.body["token"].as_str().unwrap().to_string();
    (srv, rep, session)
}

/// Wrong current passwords from the browser at 127.0.0.2, until it is held.
async fn guess_until_held(rep: &TestServer, session: &str) {
    let wrong = json!({"current": "wrong", "new": "a-new-password-456"});
    let mut last = None;
    for _ in 0..6 {
        last = Some(change_password_from(rep, session, wrong.clone(), [127, 0, 0, 2]).await);
    }
    let last = last.unwrap();
    assert_eq!(
        (last.status, code(&last)),
        (429, "too_many_attempts"),
        "the guessing browser is held: {}",
        last.body
    );
}

/// A password change through a replica sends the browser's address as
/// `X-Forwarded-For`, as a sign-in does: a receiver that trusts the replica
/// holds the guessing browser, not every browser at the replica.
#[tokio::test]
async fn a_receiver_trusting_the_replica_holds_only_the_browser_guessing_a_current_password() {
    let (srv, rep, session) = pair_with_session(true).await;
    guess_until_held(&rep, &session).await;
    let (s, locks) = srv
        .get_json("/api/auth/lockouts", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{locks}");
    assert!(locks.to_string().contains("127.0.0.2"), "{locks}");
    assert!(!locks.to_string().contains("\"127.0.0.1\""), "{locks}");
    // Another browser at the replica changes it at once.
    let ok = change_password_from(
        &rep,
        &session,
        json!({"current": PASSWORD, "new": "a-new-password-456"}),
        [127, 0, 0, 4],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

/// A receiver that does not trust the replica holds the replica's one
/// address; its 429 reaches a browser the replica itself has not held with
/// the receiver's `Retry-After`, as a sign-in's does.
#[tokio::test]
async fn the_receivers_hold_on_a_password_change_is_passed_on_with_its_retry_after() {
    let (srv, rep, session) = pair_with_session(false).await;
    guess_until_held(&rep, &session).await;
    let held = change_password_from(
        &rep,
        &session,
        json!({"current": PASSWORD, "new": "a-new-password-456"}),
        [127, 0, 0, 4],
    )
    .await;
    assert_held(&held);
    // Nothing changed (asked from an address the receiver has not held).
    let direct = login_from(
        &srv,
        json!({"username": "asha", "password": PASSWORD}),
        [127, 0, 0, 5],
    )
    .await;
    assert_eq!(direct.status, 200, "{}", direct.body);
}
