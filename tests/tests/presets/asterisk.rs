//! Asterisk's ARI events (recorded by the CGRateS team from a real Asterisk,
//! and the ARI tutorial's) through the `asterisk` preset: over the ARI
//! WebSocket that Callboard connects to (a fake Asterisk on loopback that
//! checks the credentials, then drops the connection to force a reconnect),
//! and posted by a relay with HTTP Basic.

use super::code;
use callboard_tests::{until, TestServer, ADMIN_TOKEN};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::Message;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            "../../../crates/core/tests/fixtures/asterisk-ari-",
            $name,
            ".json"
        ))
    };
}

const RING: &str = fixture!("cgrates-01-StasisStart-ring");
const UP: &str = fixture!("cgrates-02-ChannelStateChange-up");
const ENDED_ANSWERED: &str = fixture!("cgrates-03-ChannelDestroyed-answered-normal-clearing");
const ENDED_RINGING: &str = fixture!("cgrates-04-ChannelDestroyed-unanswered");
const BUSY: &str = fixture!("cgrates-05-ChannelDestroyed-busy");
const WITH_NODE: &str = fixture!("cgrates-06-StasisStart-with-asterisk_id");
const HELLO_START: &str = fixture!("docs-01-StasisStart-hello-world");
const HELLO_END: &str = fixture!("docs-02-StasisEnd-hello-world");

async fn asterisk_provider(srv: &TestServer) -> (String, String) {
    let p = srv
        .provider_from_preset("PBX", "asterisk", json!({}))
        .await
        .unwrap();
    (
        p["slug"].as_str().unwrap().to_string(),
        p["api_key"].as_str().unwrap().to_string(),
    )
}

/// What each recorded call becomes, whichever way its events arrived.
async fn check_calls(srv: &TestServer, slug: &str) {
    let c = srv.call(slug, "1473681228.6").await.unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["mobile_number"], "1001");
    assert_eq!(c["did"], "1002");
    assert_eq!(c["agent_id"], "1002");
    assert_eq!(c["started_at"], "2016-09-12T11:53:48.918Z");
    // Answered at the ChannelStateChange to Up; the +0200 offset (no colon) read.
    assert_eq!(c["answered_at"], "2016-09-12T11:53:52.110Z");
    assert_eq!(c["metadata"]["hangup_cause"], "Normal Clearing");
    // Destroyed while still ringing: nobody answered, a caller to call back.
    let c = srv.call(slug, "1473696018.2").await.unwrap();
    assert_eq!(c["status"], "missed", "{c}");
    assert_eq!(c["work_state"], "pending");
    let c = srv.call(slug, "1473764378.3").await.unwrap();
    assert_eq!(c["status"], "failed", "{c}");
    assert_eq!(c["metadata"]["hangup_cause"], "User busy");
}

#[tokio::test]
async fn a_relay_posts_ari_events_with_basic_auth() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = asterisk_provider(&srv).await;
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let post = |body: &'static str, pass: Option<&str>| {
        let mut r = srv
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(p) = pass {
            r = r.basic_auth("asterisk", Some(p));
        }
        srv.send(r)
    };
    let (s, e) = post(RING, None).await.unwrap();
    assert_eq!((s, code(&e)), (401, "missing_credentials"), "{e}");
    let (s, e) = post(RING, Some("wrong")).await.unwrap();
    assert_eq!((s, code(&e)), (401, "invalid_api_key"), "{e}");
    for body in [
        RING,
        UP,
        ENDED_ANSWERED,
        ENDED_RINGING,
        BUSY,
        WITH_NODE,
        HELLO_START,
        HELLO_END,
    ] {
        let (s, ack) = post(body, Some(&key)).await.unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    check_calls(&srv, &slug).await;
    let c = srv.call(&slug, "1543140206.0").await.unwrap();
    assert_eq!(c["status"], "waiting", "{c}");
    assert_eq!(c["metadata"]["asterisk_id"], "08:00:27:b7:b8:1f");
    // The tutorial's channel is up in the app; leaving the app is not a hang-up.
    let c = srv.call(&slug, "1400609726.3").await.unwrap();
    assert_eq!(c["status"], "active", "{c}");
    assert_eq!(c["started_at"], "2014-05-20T18:15:26.628Z");
}

/// A fake Asterisk: one script of frames per accepted connection, after
/// which it closes; it refuses a connection whose credentials are wrong
/// with 401, as Asterisk does.
async fn fake_asterisk(
    sessions: Vec<Vec<&'static str>>,
    credentials: &'static str,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/ari", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut sessions = sessions.into_iter();
        while let Ok((sock, _)) = listener.accept().await {
            let log = log.clone();
            // The callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                let uri = req.uri().to_string();
                log.lock().unwrap().push(uri.clone());
                let wanted = format!("api_key={}", credentials.replace(':', "%3A"));
                if uri.contains(&wanted) {
                    Ok(resp)
                } else {
                    let mut e = ErrorResponse::new(Some("Authentication required".into()));
                    *e.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
                    Err(e)
                }
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(sock, check).await else {
                continue;
            };
            let frames = sessions.next().unwrap_or_default();
            for f in frames {
                let _ = ws.send(Message::text(f)).await;
            }
            let _ = ws.close(None).await;
        }
    });
    (base, seen)
}

async fn put_stream(srv: &TestServer, slug: &str, base: &str, credentials: &str) -> Value {
    let (s, c) = srv
        .put_json(
            &format!("/api/providers/{slug}/connector"),
            ADMIN_TOKEN,
            &json!({"base_url": base, "auth_token": credentials}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{c}");
    c
}

async fn stream_health(srv: &TestServer, slug: &str) -> Value {
    let (s, h) = srv
        .get_json(&format!("/api/providers/{slug}/connector"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{h}");
    h
}

#[tokio::test]
async fn callboard_follows_the_ari_websocket_and_reconnects() {
    let srv = TestServer::start().await.unwrap();
    let (slug, _) = asterisk_provider(&srv).await;
    let (base, seen) = fake_asterisk(
        vec![vec![RING, UP, ENDED_ANSWERED], vec![ENDED_RINGING, BUSY]],
        "callboard:ari-pass",
    )
    .await;

    // Wrong credentials: refused, said so in the health, retried.
    let c = put_stream(&srv, &slug, &base, "callboard:wrong").await;
    assert_eq!(c["kind"], "asterisk_ari");
    assert!(!c.to_string().contains("callboard:wrong"));
    until(15, "the refusal shows in the health", || async {
        stream_health(&srv, &slug).await["stream"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 401"))
    })
    .await;
    let h = stream_health(&srv, &slug).await;
    assert_eq!(h["stream"]["connected"], false);
    assert!(
        !h.to_string().contains("wrong"),
        "the password is never shown: {h}"
    );

    // Right credentials: both sessions are read, the second after Asterisk
    // dropped the first.
    put_stream(&srv, &slug, &base, "callboard:ari-pass").await;
    until(20, "both sessions' events are stored", || async {
        srv.call(&slug, "1473764378.3")
            .await
            .is_ok_and(|c| c["status"] == "failed")
    })
    .await;
    check_calls(&srv, &slug).await;
    let uris = seen.lock().unwrap().clone();
    let good: Vec<_> = uris.iter().filter(|u| u.contains("ari-pass")).collect();
    assert!(good.len() >= 2, "reconnected: {uris:?}");
    assert!(
        good[0].starts_with("/ari/events?app=callboard&subscribeAll=true"),
        "{uris:?}"
    );
    let h = stream_health(&srv, &slug).await;
    assert_eq!(h["stream"]["events"], 5, "{h}");
    assert_eq!(h["stream"]["failed"], 0, "{h}");

    // A stream has nothing to backfill.
    let (s, e) = srv
        .post_json(
            &format!("/api/providers/{slug}/connector/sync"),
            ADMIN_TOKEN,
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{e}");
}
