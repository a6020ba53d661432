//! Trying the receiver again at once: `POST /api/replica/reconnect`, the
//! console's "Retry now" while the replica waits between attempts.

use super::*;
use std::time::Instant;

fn retry_in_ms(s: &Value) -> Option<u64> {
    s["retry_in_ms"].as_u64()
}

/// After a long cut the replica waits seconds between attempts and says how
/// long (`retry_in_ms`); "Retry now" reaches the receiver, back meanwhile,
/// before that wait would have ended, and the calls made during the cut
/// arrive. Live, there is nothing to cut short (200); a receiver is no
/// replica (404); anyone else is refused.
#[tokio::test]
async fn retry_now_reaches_a_receiver_back_before_the_wait_ends() {
    let (srv, proxy, rep) = start_pair().await;
    let (slug, key) = srv.provider("Sales").await.unwrap();
    caught_up(&srv, &rep).await;
    let (s, b) = rep
        .post_json("/api/replica/reconnect", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!((s, &b["state"]), (200, &json!("live")), "{b}");
    assert!(b["retry_in_ms"].is_null(), "{b}");
    let (s, b) = srv
        .post_json("/api/replica/reconnect", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(
        (s, &b["error"]["code"]),
        (404, &json!("not_a_replica")),
        "{b}"
    );
    let (s, _) = rep
        .post_json("/api/replica/reconnect", "not-this-replicas", &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 401);

    proxy.cut();
    // Each failed attempt doubles the wait: until the next one is seconds away.
    until(
        30,
        "a wait of more than 2 s before the next attempt",
        || async {
            let s = status(&rep).await;
            s["state"] == "offline" && retry_in_ms(&s).is_some_and(|ms| ms > 2_000)
        },
    )
    .await;
    let (s, b) = srv
        .webhook(&slug, &key, &event("during-the-cut", "no-answer", "+9198"))
        .await
        .unwrap();
    assert!(s < 300, "{b}");
    proxy.heal();
    let waiting = status(&rep).await;
    let left = Duration::from_millis(retry_in_ms(&waiting).expect("still waiting"));
    let asked = Instant::now();
    let (s, b) = rep
        .post_json("/api/replica/reconnect", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 202, "{b}");
    until(30, "the replica live again", || async {
        status(&rep).await["state"] == "live"
    })
    .await;
    assert!(
        asked.elapsed() < left,
        "live after {:?}: the attempt it was waiting for was {left:?} away",
        asked.elapsed()
    );
    assert!(retry_in_ms(&status(&rep).await).is_none());
    let (s, calls) = rep.get_json("/api/calls", ADMIN_TOKEN).await.unwrap();
    assert_eq!(s, 200, "{calls}");
    assert!(calls.to_string().contains("during-the-cut"), "{calls}");
}
