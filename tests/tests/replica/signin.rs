//! Signing in through a replica's own page: the receiver checks the
//! password, the replica opens a session of its own for its own user only,
//! under a cookie of its own name (browsers share cookies across ports, so
//! a receiver and a replica on one host must not overwrite each other's).

use callboard_core::totp;
use callboard_tests::proxy::Proxy;
use callboard_tests::{event, until, TestServer};
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::{json, Value};

// The replica's own sessions beyond the sign-in, with this file's helpers.
mod sessions;

const PASSWORD: &str = "password-123";

struct Pair {
    srv: TestServer,
    proxy: Proxy,
    rep: TestServer,
    slug: String,
    /// The replica's own user (it follows the receiver with this token).
    token: String,
}

/// Waits until `rep`, following its receiver with `token`, is live.
async fn until_live(rep: &TestServer, token: &str) {
    until(30, "the replica to be live", || async {
        let (_, s) = rep.get_json("/api/replica/status", token).await.unwrap();
        s["state"] == "live"
    })
    .await;
}

/// A receiver with a Sales department, two missed calls and two agents, and
/// a replica (the binary) following it as `asha`, live.
async fn start() -> Pair {
    start_as("asha", "agent").await
}

async fn start_as(name: &str, role: &str) -> Pair {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Sales").await.unwrap();
    for id in ["c1", "c2"] {
        let (s, b) = srv
            .webhook(&slug, &key, &event(id, "no-answer", "+919812345678"))
            .await
            .unwrap();
        assert!(s < 300, "{b}");
    }
    let token = srv.user(name, role, &[&slug]).await.unwrap();
    srv.user("bela", "agent", &[&slug]).await.unwrap();
    let proxy = Proxy::start(&srv.addr).await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &proxy.url(), &token)
        .await
        .unwrap();
    until_live(&rep, &token).await;
    Pair {
        srv,
        proxy,
        rep,
        slug,
        token,
    }
}

/// This replica's cookie name: its own, with the port it listens on.
fn cookie_name(rep: &TestServer) -> String {
    let port = rep.addr.rsplit(':').next().unwrap();
    format!("callboard_session_{port}")
}

struct Answer {
    status: u16,
    body: Value,
    set_cookie: Option<String>,
    retry_after: Option<String>,
}

async fn answer(res: reqwest::Response) -> Answer {
    let set_cookie = res
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    let retry_after = res
        .headers()
        .get(RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_string());
    Answer {
        status: res.status().as_u16(),
        body: res.json().await.unwrap_or(Value::Null),
        set_cookie,
        retry_after,
    }
}

async fn login(server: &TestServer, body: Value) -> Answer {
    post_login(&server.http, server, body).await
}

async fn post_login(http: &reqwest::Client, server: &TestServer, body: Value) -> Answer {
    answer(
        http.post(server.url("/api/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A sign-in from another loopback address (a second browser machine, as
/// far as the server can tell).
async fn login_from(server: &TestServer, body: Value, from: [u8; 4]) -> Answer {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    post_login(&http, server, body).await
}

/// A browser's sign-in: (the `name=value` cookie pair, its CSRF token).
async fn browser_sign_in(server: &TestServer, name: &str, cookie: &str) -> (String, String) {
    let a = login(
        server,
        json!({"username": name, "password": PASSWORD, "cookie": true}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body.get("token").is_none(),
        "no token for script: {}",
        a.body
    );
    assert_eq!(a.body["user"]["username"], name, "{}", a.body);
    let set = a.set_cookie.expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=46800"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let pair = set.split(';').next().unwrap().to_string();
    assert!(
        pair.starts_with(&format!("{cookie}=")) && pair.len() > cookie.len() + 20,
        "{pair}"
    );
    (pair, a.body["csrf_token"].as_str().unwrap().to_string())
}

async fn with_cookie(server: &TestServer, path: &str, cookie: &str) -> Answer {
    answer(
        server
            .http
            .get(server.url(path))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post_with_cookie(
    server: &TestServer,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: &Value,
) -> Answer {
    let mut req = server
        .http
        .post(server.url(path))
        .header(COOKIE, cookie)
        .json(body);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    answer(req.send().await.unwrap()).await
}

/// Sessions of `user` the receiver still honours (not revoked, not expired).
async fn live_receiver_sessions(srv: &TestServer, user: &str) -> i64 {
    let user = user.to_string();
    let now = callboard_core::time::fmt(srv.now());
    srv.store()
        .unwrap()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM tokens t JOIN users u ON u.id = t.user_id
                 WHERE u.username = ?1 AND t.revoked_at IS NULL AND t.expires_at > ?2",
                [user, now],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or("")
}

/// The receiver's throttle, passed on: 429 `too_many_attempts` with a
/// `Retry-After` of some seconds.
fn assert_held(a: &Answer) {
    assert_eq!(
        (a.status, code(a)),
        (429, "too_many_attempts"),
        "{}",
        a.body
    );
    assert!(
        a.retry_after
            .as_deref()
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)),
        "{:?}",
        a.retry_after
    );
}

#[tokio::test]
async fn a_browser_signs_in_through_the_replica_and_the_console_works_with_its_cookie() {
    let p = start().await;
    let name = cookie_name(&p.rep);
    let (cookie, csrf) = browser_sign_in(&p.rep, "asha", &name).await;
    // The receiver's session the forwarded sign-in opened is revoked at
    // once: only the replica's own token is left there.
    assert_eq!(live_receiver_sessions(&p.srv, "asha").await, 1);

    // Reads with the cookie alone, from the cache.
    let calls = with_cookie(&p.rep, "/api/calls", &cookie).await;
    assert_eq!(calls.status, 200, "{}", calls.body);
    let ids: Vec<&str> = calls.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert!(ids.contains(&"c1") && ids.contains(&"c2"), "{ids:?}");
    let me = with_cookie(&p.rep, "/api/auth/me", &cookie).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        (&me.body["user"]["username"], &me.body["csrf_token"]),
        (&json!("asha"), &json!(csrf)),
        "{}",
        me.body
    );
    assert_eq!(me.body["departments"], json!([p.slug]));
    // The console's connection indicator.
    let status = with_cookie(&p.rep, "/api/replica/status", &cookie).await;
    assert_eq!(
        (status.status, &status.body["state"]),
        (200, &json!("live")),
        "{}",
        status.body
    );

    // A change needs the session's CSRF token…
    let dispose =
        json!({"category": "Callback done", "outcome": "resolved", "notes": "via the replica"});
    let refused =
        post_with_cookie(&p.rep, "/api/calls/c1/disposition", &cookie, None, &dispose).await;
    assert_eq!(
        (refused.status, code(&refused)),
        (403, "csrf_failed"),
        "{}",
        refused.body
    );
    let forged = post_with_cookie(
        &p.rep,
        "/api/calls/c1/disposition",
        &cookie,
        Some("not-the-token"),
        &dispose,
    )
    .await;
    assert_eq!((forged.status, code(&forged)), (403, "csrf_failed"));
    assert_eq!(
        p.srv.call(&p.slug, "c1").await.unwrap()["dispositions"],
        json!([]),
        "nothing reached the receiver"
    );
    // …and with it is forwarded and lands on the receiver.
    let done = post_with_cookie(
        &p.rep,
        "/api/calls/c1/disposition",
        &cookie,
        Some(&csrf),
        &dispose,
    )
    .await;
    assert_eq!(done.status, 201, "{}", done.body);
    let on_receiver = p.srv.call(&p.slug, "c1").await.unwrap();
    assert_eq!(on_receiver["dispositions"][0]["notes"], "via the replica");
    assert_eq!(
        on_receiver["dispositions"][0]["actor"], "asha",
        "{on_receiver}"
    );

    // Signing out ends this session here, clears its cookie, and leaves the
    // replica's own token (and so the replica) alone.
    let out = post_with_cookie(&p.rep, "/api/auth/logout", &cookie, None, &json!({})).await;
    assert_eq!(
        (out.status, code(&out)),
        (403, "csrf_failed"),
        "signing out is a change too"
    );
    let out = post_with_cookie(&p.rep, "/api/auth/logout", &cookie, Some(&csrf), &json!({})).await;
    assert_eq!(out.status, 204);
    let cleared = out.set_cookie.expect("the cookie is cleared");
    assert!(cleared.starts_with(&format!("{name}=;")), "{cleared}");
    let after = with_cookie(&p.rep, "/api/calls", &cookie).await;
    assert_eq!(
        (after.status, code(&after)),
        (401, "invalid_token"),
        "{}",
        after.body
    );
    assert!(
        after
            .set_cookie
            .is_some_and(|c| c.starts_with(&format!("{name}=;"))),
        "a refused cookie is dropped"
    );
    let (s, st) = p
        .rep
        .get_json("/api/replica/status", &p.token)
        .await
        .unwrap();
    assert_eq!((s, &st["state"]), (200, &json!("live")), "{st}");
    assert_eq!(live_receiver_sessions(&p.srv, "asha").await, 1);
}

#[tokio::test]
async fn bearer_sign_in_through_the_replica_gives_a_local_token_ended_by_logout() {
    let p = start().await;
    let a = login(&p.rep, json!({"username": "asha", "password": PASSWORD})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.set_cookie.is_none(), "no cookie in bearer mode");
    assert!(a.body.get("csrf_token").is_none(), "{}", a.body);
    let token = a.body["token"].as_str().unwrap().to_string();
    assert_ne!(token, p.token);
    // A local token: the receiver never issued it (its own was revoked).
    let (s, _) = p.srv.get_json("/api/calls", &token).await.unwrap();
    assert_eq!(s, 401, "the receiver does not know a replica's session");
    assert_eq!(live_receiver_sessions(&p.srv, "asha").await, 1);
    let (s, calls) = p.rep.get_json("/api/calls", &token).await.unwrap();
    assert_eq!(s, 200, "{calls}");
    // A bearer change needs no CSRF token, and is forwarded.
    let (s, b) = p
        .rep
        .post_json(
            "/api/calls/c2/disposition",
            &token,
            &json!({"category": "Callback done", "outcome": "resolved", "notes": "bearer"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        p.srv.call(&p.slug, "c2").await.unwrap()["dispositions"][0]["notes"],
        "bearer"
    );
    let r = p.rep.post("/api/auth/logout", &token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (s, b) = p.rep.get_json("/api/calls", &token).await.unwrap();
    assert_eq!((s, &b["error"]["code"]), (401, &json!("invalid_token")));
    // The replica still follows with its own token.
    let (s, _) = p.rep.get_json("/api/calls", &p.token).await.unwrap();
    assert_eq!(s, 200);
}

#[tokio::test]
async fn another_user_a_wrong_password_or_no_receiver_opens_no_session_here() {
    let p = start().await;
    let url = p.proxy.url();

    // Another user's right password: 403 before the receiver is asked,
    // without naming whose desktop this is (no password was checked).
    for cookie in [true, false] {
        let a = login(
            &p.rep,
            json!({"username": "bela", "password": PASSWORD, "cookie": cookie}),
        )
        .await;
        assert_eq!(
            (a.status, code(&a)),
            (403, "replica_user_mismatch"),
            "{}",
            a.body
        );
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("only the user this desktop mirrors")
                && !message.contains("asha")
                && message.contains(&url),
            "{message}"
        );
        assert!(a.set_cookie.is_none() && a.body.get("token").is_none());
    }
    // The receiver was not asked: no session opened for bela there.
    assert_eq!(live_receiver_sessions(&p.srv, "bela").await, 1);
    // Guesses at bela's password through this page are refused here, so
    // they never lock bela out on the receiver.
    for _ in 0..7 {
        let a = login(&p.rep, json!({"username": "Bela", "password": "wrong"})).await;
        assert_eq!(a.status, 403, "{}", a.body);
    }
    let direct = login(&p.srv, json!({"username": "bela", "password": PASSWORD})).await;
    assert_eq!(
        direct.status, 200,
        "bela is not locked out: {}",
        direct.body
    );

    // A wrong password: the receiver's own answer, nothing issued.
    let a = login(
        &p.rep,
        json!({"username": "asha", "password": "wrong", "cookie": true}),
    )
    .await;
    assert_eq!((a.status, code(&a)), (401, "bad_credentials"), "{}", a.body);
    assert!(a.set_cookie.is_none() && a.body.get("token").is_none());
    // Too many: 429 with Retry-After, passed on.
    let mut last = None;
    for _ in 0..6 {
        last = Some(login(&p.rep, json!({"username": "asha", "password": "wrong"})).await);
    }
    assert_held(&last.unwrap());

    // Receiver gone: 503 naming it; nothing issued. (From another browser:
    // this one is locked out of asha here by now.)
    p.proxy.cut();
    let a = login_from(
        &p.rep,
        json!({"username": "asha", "password": PASSWORD, "cookie": true}),
        [127, 0, 0, 3],
    )
    .await;
    assert_eq!(
        (a.status, code(&a)),
        (503, "sign_in_needs_receiver"),
        "{}",
        a.body
    );
    assert!(
        a.body["error"]["message"].as_str().unwrap().contains(&url),
        "{}",
        a.body
    );
    assert!(a.set_cookie.is_none());
}

/// A receiver that lists the replica in `--trusted-proxy` throttles each
/// browser at the replica on its own (the replica sends the browser's
/// address as `X-Forwarded-For`): one browser's wrong guesses do not lock
/// the user out for another browser at the same replica.
#[tokio::test]
async fn a_receiver_trusting_the_replica_throttles_each_browser_on_its_own() {
    let srv = TestServer::start_with(|o| {
        o.trusted_proxies = vec![callboard_server::forwarded::parse_proxy("127.0.0.1").unwrap()];
    })
    .await
    .unwrap();
    let (slug, _) = srv.provider("Sales").await.unwrap();
    let token = srv.user("asha", "agent", &[&slug]).await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.url(""), &token)
        .await
        .unwrap();
    until_live(&rep, &token).await;
    let wrong = json!({"username": "asha", "password": "wrong"});
    let mut last = None;
    for _ in 0..6 {
        last = Some(login_from(&rep, wrong.clone(), [127, 0, 0, 2]).await);
    }
    let last = last.unwrap();
    assert_eq!(
        last.status, 429,
        "the guessing browser is held: {}",
        last.body
    );
    // The receiver held 127.0.0.2, not the replica's own address: another
    // browser at the replica signs in at once.
    let ok = login_from(
        &rep,
        json!({"username": "asha", "password": PASSWORD}),
        [127, 0, 0, 4],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // And the receiver itself says which client it locked.
    let (s, locks) = srv
        .get_json("/api/auth/lockouts", callboard_tests::ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{locks}");
    assert!(locks.to_string().contains("127.0.0.2"), "{locks}");
    assert!(!locks.to_string().contains("\"127.0.0.1\""), "{locks}");
}

#[tokio::test]
async fn a_session_opened_here_outlives_the_receiver_going_away() {
    let p = start().await;
    let name = cookie_name(&p.rep);
    let (cookie, csrf) = browser_sign_in(&p.rep, "asha", &name).await;
    p.proxy.cut();
    until(30, "the replica to notice", || async {
        let (_, s) = p
            .rep
            .get_json("/api/replica/status", &p.token)
            .await
            .unwrap();
        s["state"] != "live"
    })
    .await;
    let a = login(
        &p.rep,
        json!({"username": "asha", "password": PASSWORD, "cookie": true}),
    )
    .await;
    assert_eq!(
        (a.status, code(&a)),
        (503, "sign_in_needs_receiver"),
        "{}",
        a.body
    );
    assert!(a.set_cookie.is_none());
    // The open session reads the last known state and queues a change.
    let calls = with_cookie(&p.rep, "/api/calls", &cookie).await;
    assert_eq!(calls.status, 200, "{}", calls.body);
    let queued = post_with_cookie(
        &p.rep,
        "/api/calls/c2/disposition",
        &cookie,
        Some(&csrf),
        &json!({"category": "Callback done", "outcome": "resolved", "notes": "offline"}),
    )
    .await;
    assert_eq!(
        (queued.status, &queued.body["queued"]),
        (202, &json!(true)),
        "{}",
        queued.body
    );
    p.proxy.heal();
    until(60, "the queued change to land", || async {
        p.srv.call(&p.slug, "c2").await.unwrap()["dispositions"][0]["notes"] == "offline"
    })
    .await;
}

#[tokio::test]
async fn the_receivers_cookie_and_the_replicas_are_held_side_by_side() {
    let p = start().await;
    let name = cookie_name(&p.rep);
    assert_ne!(name, "callboard_session");
    let (on_receiver, receiver_csrf) = browser_sign_in(&p.srv, "asha", "callboard_session").await;
    let (on_replica, replica_csrf) = browser_sign_in(&p.rep, "asha", &name).await;
    assert_ne!(receiver_csrf, replica_csrf);
    // One host: the browser sends both cookies to each; each takes its own.
    for both in [
        format!("{on_receiver}; {on_replica}"),
        format!("{on_replica}; {on_receiver}"),
    ] {
        let me = with_cookie(&p.srv, "/api/auth/me", &both).await;
        assert_eq!(
            (me.status, &me.body["csrf_token"]),
            (200, &json!(receiver_csrf)),
            "{}",
            me.body
        );
        let me = with_cookie(&p.rep, "/api/auth/me", &both).await;
        assert_eq!(
            (me.status, &me.body["csrf_token"]),
            (200, &json!(replica_csrf)),
            "{}",
            me.body
        );
        assert!(me.set_cookie.is_none());
    }
    // A change on each with its own CSRF token, both cookies sent…
    let both = format!("{on_receiver}; {on_replica}");
    let dispose =
        |notes: &str| json!({"category": "Callback done", "outcome": "resolved", "notes": notes});
    let r = post_with_cookie(
        &p.srv,
        "/api/calls/c1/disposition",
        &both,
        Some(&receiver_csrf),
        &dispose("receiver"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let l = post_with_cookie(
        &p.rep,
        "/api/calls/c2/disposition",
        &both,
        Some(&replica_csrf),
        &dispose("replica"),
    )
    .await;
    assert_eq!(l.status, 201, "{}", l.body);
    // …and not with the other's.
    let l = post_with_cookie(
        &p.rep,
        "/api/calls/c2/disposition",
        &both,
        Some(&receiver_csrf),
        &dispose("crossed"),
    )
    .await;
    assert_eq!((l.status, code(&l)), (403, "csrf_failed"), "{}", l.body);
    let r = post_with_cookie(
        &p.srv,
        "/api/calls/c1/disposition",
        &both,
        Some(&replica_csrf),
        &dispose("crossed"),
    )
    .await;
    assert_eq!((r.status, code(&r)), (403, "csrf_failed"), "{}", r.body);
    // Neither judges (or clears) the other's cookie: alone, it is no credential.
    let only_replicas = with_cookie(&p.srv, "/api/auth/me", &on_replica).await;
    assert_eq!(
        (only_replicas.status, code(&only_replicas)),
        (401, "missing_token")
    );
    assert!(
        only_replicas.set_cookie.is_none(),
        "the receiver leaves the replica's cookie alone"
    );
    let only_receivers = with_cookie(&p.rep, "/api/auth/me", &on_receiver).await;
    assert_eq!(
        (only_receivers.status, code(&only_receivers)),
        (401, "missing_token")
    );
    assert!(
        only_receivers.set_cookie.is_none(),
        "the replica leaves the receiver's cookie alone"
    );
    // A stale replica cookie is cleared by the replica, under its own name.
    let stale = with_cookie(
        &p.rep,
        "/api/auth/me",
        &format!("{name}=cbt_stale; {on_receiver}"),
    )
    .await;
    assert_eq!(stale.status, 401);
    assert!(
        stale
            .set_cookie
            .as_deref()
            .is_some_and(|c| c.starts_with(&format!("{name}=;"))),
        "{:?}",
        stale.set_cookie
    );
    // Both sessions still hold.
    assert_eq!(
        with_cookie(&p.srv, "/api/auth/me", &on_receiver)
            .await
            .status,
        200
    );
    assert_eq!(
        with_cookie(&p.rep, "/api/auth/me", &on_replica)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn an_admin_with_two_step_sign_in_signs_in_through_the_replica_with_the_code() {
    let p = start_as("boss", "admin").await;
    let (s, setup) = p
        .srv
        .post_json("/api/auth/totp/setup", &p.token, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_string();
    let code_now = totp::code_at(&secret, p.srv.now()).unwrap();
    let (s, b) = p
        .srv
        .post_json(
            "/api/auth/totp/enable",
            &p.token,
            &json!({"code": code_now}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");

    // The receiver's question, passed on in its own shape.
    let a = login(
        &p.rep,
        json!({"username": "boss", "password": PASSWORD, "cookie": true}),
    )
    .await;
    assert_eq!((a.status, code(&a)), (401, "totp_required"), "{}", a.body);
    assert!(a.set_cookie.is_none());
    let a = login(
        &p.rep,
        json!({"username": "boss", "password": PASSWORD, "totp": "000000", "cookie": true}),
    )
    .await;
    assert_eq!((a.status, code(&a)), (401, "invalid_totp"), "{}", a.body);
    assert!(a.set_cookie.is_none());
    let code_now = totp::code_at(&secret, p.srv.now()).unwrap();
    let (cookie, _) = {
        let a = login(
            &p.rep,
            json!({"username": "boss", "password": PASSWORD, "totp": code_now, "cookie": true}),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let set = a.set_cookie.unwrap();
        (set.split(';').next().unwrap().to_string(), a.body)
    };
    let me = with_cookie(&p.rep, "/api/auth/me", &cookie).await;
    assert_eq!(
        (me.status, &me.body["role"]),
        (200, &json!("admin")),
        "{}",
        me.body
    );
}
