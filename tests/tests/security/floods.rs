//! An unauthenticated flood (forged keys) is answered at once, but only a
//! bounded part of it reaches the writer's ingestion log, per source: a
//! second sender's refusals are still logged, and real deliveries go on.

use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use serde_json::Value;

use crate::support::client_from as from;

async fn rejected(srv: &TestServer, slug: &str) -> Vec<Value> {
    let (_, log) = srv
        .get_json(
            &format!("/api/providers/{slug}/deliveries?outcome=rejected&limit=500"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    log["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_forged_key_flood_is_answered_but_logged_within_a_limit_per_source() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Flooded").await.unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let (attacker, other) = (from("127.0.0.2"), from("127.0.0.3"));
    let mut refused = 0;
    for i in 0..300 {
        let r = attacker
            .post(&url)
            .header("x-api-key", format!("cbk_forged{i}"))
            .json(&event("f", "ringing", "+1"))
            .send()
            .await
            .unwrap();
        refused += usize::from(r.status() == 401);
        if i % 100 == 0 {
            let (s, b) = srv
                .webhook(&slug, &key, &event(&format!("real-{i}"), "ringing", "+911"))
                .await
                .unwrap();
            assert_eq!((s, b["status"].as_str()), (200, Some("applied")), "{b}");
        }
    }
    assert_eq!(refused, 300, "every forged request is refused at once");
    // The flood's share of the log settles within the limit...
    callboard_tests::until(10, "the flood's refusals logged", || async {
        rejected(&srv, &slug).await.len() >= 20
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let flood = rejected(&srv, &slug).await.len();
    assert!(
        flood < 40,
        "the flood reached the writer {flood} times, not 300"
    );
    // ...and another sender's refusals still get their own.
    for _ in 0..25 {
        let r = other
            .post(&url)
            .header("x-api-key", "cbk_typo")
            .json(&event("g", "ringing", "+1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    callboard_tests::until(10, "the other sender's refusals in the log", || async {
        rejected(&srv, &slug).await.len() >= flood + 20
    })
    .await;
    let (_, calls) = srv.get_json("/api/calls", ADMIN_TOKEN).await.unwrap();
    assert_eq!(calls["total"], 3, "every real delivery was applied");
}
