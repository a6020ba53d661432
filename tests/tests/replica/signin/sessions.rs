//! A replica's own sessions beyond the sign-in itself: their lifetimes
//! (`callboard connect --session-idle/--session-max`).

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
    until(30, "the replica to be live", || async {
        let (_, s) = rep.get_json("/api/replica/status", &token).await.unwrap();
        s["state"] == "live"
    })
    .await;
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
