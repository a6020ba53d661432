//! `GET /api/providers-health`: each provider's last delivery and error
//! rate over a window; refused and unmappable deliveries count as errors.

use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use serde_json::Value;

fn of<'a>(list: &'a Value, slug: &str) -> &'a Value {
    list["data"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["slug"] == slug))
        .unwrap_or_else(|| panic!("no {slug} in {list}"))
}

#[tokio::test]
async fn last_delivery_and_error_rate_per_provider() {
    let srv = TestServer::start().await.unwrap();
    let (busy, key) = srv.provider("Busy").await.unwrap();
    let (quiet, _) = srv.provider("Quiet").await.unwrap();

    let (s, list) = srv
        .get_json("/api/providers-health", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["hours"], 24);
    let b = of(&list, &busy);
    assert_eq!(b["last_delivery_at"], Value::Null);
    assert_eq!((&b["deliveries"], &b["errors"]), (&0.into(), &0.into()));
    assert_eq!(b["error_rate"], Value::Null);

    // Three good deliveries, one that cannot be mapped (no call id), one
    // refused before parsing (a malformed body).
    for i in 0..3 {
        let (s, _) = srv
            .webhook(&busy, &key, &event(&format!("d{i}"), "ringing", "+91"))
            .await
            .unwrap();
        assert_eq!(s, 200);
    }
    let (s, _) = srv
        .webhook(
            &busy,
            &key,
            &serde_json::json!({"data": {"status": "ringing"}}),
        )
        .await
        .unwrap();
    assert!(s < 300, "an unmappable delivery is still stored ({s})");
    let r = srv
        .post(&format!("/webhooks/ivr/{busy}"), "")
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // The refusal is logged off the request path: wait for it.
    let mut last = Value::Null;
    for _ in 0..250 {
        let (_, l) = srv
            .get_json("/api/providers-health", ADMIN_TOKEN)
            .await
            .unwrap();
        last = of(&l, &busy).clone();
        if last["deliveries"] == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(last["deliveries"], 5, "{last}");
    assert_eq!(last["errors"], 2, "{last}");
    assert_eq!(last["error_rate"], 0.4, "{last}");
    assert!(last["last_delivery_at"].is_string(), "{last}");
    assert!(last["last_error_at"].is_string(), "{last}");
    let (_, l) = srv
        .get_json("/api/providers-health", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(of(&l, &quiet)["deliveries"], 0);
}

#[tokio::test]
async fn the_window_is_checked_and_agents_are_refused() {
    let srv = TestServer::start().await.unwrap();
    for h in ["0", "169", "x"] {
        let (s, b) = srv
            .get_json(&format!("/api/providers-health?hours={h}"), ADMIN_TOKEN)
            .await
            .unwrap();
        assert!(s == 400 || s == 422, "hours={h}: {s} {b}");
        assert!(b["error"]["message"].is_string(), "{b}");
    }
    let (s, l) = srv
        .get_json("/api/providers-health?hours=1", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!((s, &l["hours"]), (200, &1.into()));
    let agent = srv.user("ravi", "agent", &[]).await.unwrap();
    let (s, _) = srv.get_json("/api/providers-health", &agent).await.unwrap();
    assert_eq!(s, 403);
}
