//! The agent board (`GET /api/agents/board`): state, the call an agent is
//! on, callbacks open and overdue, calls handled today; agents see only
//! themselves; a bad `day_start` is a 422.

use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

fn row<'a>(board: &'a Value, username: &str) -> &'a Value {
    board["data"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["username"] == username))
        .unwrap_or_else(|| panic!("no row for {username}: {board}"))
}

fn call(call_id: &str, status: &str, agent: Option<&str>) -> Value {
    let mut data = json!({ "call_id": call_id, "caller": "+919800000001", "status": status });
    if let Some(a) = agent {
        data["agent"] = json!(a);
    }
    json!({ "data": data })
}

#[tokio::test]
async fn the_board_shows_each_agents_call_callbacks_and_handled_count() {
    let srv = TestServer::start().await.unwrap();
    let mut mapping = generic_mapping();
    mapping["agent_id"] = json!("data.agent");
    let (slug, key) = srv
        .provider_with("Board", mapping, generic_status_map())
        .await
        .unwrap();
    let ravi = srv.user("ravi", "agent", &[&slug]).await.unwrap();
    srv.user("meera", "agent", &[&slug]).await.unwrap();
    let ravi_id = srv.user_id("ravi").await.unwrap();
    let (s, b) = srv
        .put_json(
            &format!("/api/agents/{ravi_id}/state"),
            &ravi,
            &json!({"state": "available"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");

    // Nothing yet: state, no call, nothing open or handled.
    let (s, board) = srv
        .get_json("/api/agents/board", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{board}");
    let r = row(&board, "ravi");
    assert_eq!(r["state"], "available");
    assert!(r["since"].is_string(), "{r}");
    assert_eq!(r["current_call"], Value::Null);
    assert_eq!(
        (
            &r["open_assignments"],
            &r["callbacks_overdue"],
            &r["handled_today"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );

    // Ravi talks to a caller (the platform names him by his user name).
    for (id, st) in [("b1", "ringing"), ("b1", "answered")] {
        let (s, b) = srv
            .webhook(&slug, &key, &call(id, st, Some("ravi")))
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    // Two missed calls assigned to him; a zero-minute SLA makes them overdue.
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"sla_minutes": 0}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    for id in ["m1", "m2"] {
        srv.webhook(&slug, &key, &call(id, "no-answer", None))
            .await
            .unwrap();
        let (s, b) = srv
            .post_json(&format!("/api/calls/{id}/assign"), &ravi, &json!({}))
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    let (_, board) = srv
        .get_json("/api/agents/board", ADMIN_TOKEN)
        .await
        .unwrap();
    let r = row(&board, "ravi");
    assert_eq!(r["current_call"]["call_id"], "b1", "{r}");
    assert_eq!(r["current_call"]["status"], "active");
    assert_eq!(r["current_call"]["department"], slug.as_str());
    assert_eq!(r["current_call"]["mobile_number"], "+919800000001");
    assert_eq!(r["open_assignments"], 2);
    assert_eq!(r["callbacks_overdue"], 2);
    assert_eq!(r["handled_today"], 0);
    assert_eq!(row(&board, "meera")["current_call"], Value::Null);

    // He finishes the call and records a callback: two calls handled today;
    // a second disposition on the same call does not count it twice.
    srv.webhook(&slug, &key, &call("b1", "completed", Some("ravi")))
        .await
        .unwrap();
    for outcome in ["no_answer", "resolved"] {
        let (s, b) = srv
            .post_json(
                "/api/calls/m1/disposition",
                &ravi,
                &json!({"category": "Not reachable", "outcome": outcome}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{b}");
    }
    let (_, board) = srv
        .get_json("/api/agents/board", ADMIN_TOKEN)
        .await
        .unwrap();
    let r = row(&board, "ravi");
    assert_eq!(r["current_call"], Value::Null, "{r}");
    assert_eq!(r["handled_today"], 2, "{r}");
    assert_eq!(r["open_assignments"], 1);
    assert_eq!(r["callbacks_overdue"], 1);
    assert_eq!(row(&board, "meera")["handled_today"], 0);

    // "Today" starting tomorrow: nothing handled yet.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let (s, board) = srv
        .get_json(
            &format!(
                "/api/agents/board?day_start={}",
                tomorrow.replace('+', "%2B")
            ),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(row(&board, "ravi")["handled_today"], 0, "{board}");

    // An agent sees only their own row.
    let (s, mine) = srv.get_json("/api/agents/board", &ravi).await.unwrap();
    assert_eq!(s, 200, "{mine}");
    let rows = mine["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{mine}");
    assert_eq!(rows[0]["username"], "ravi");
}

#[tokio::test]
async fn a_bad_day_start_is_refused_with_a_json_error() {
    let srv = TestServer::start().await.unwrap();
    let (s, b) = srv
        .get_json("/api/agents/board?day_start=yesterday", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("day_start"),
        "{b}"
    );
    let (s, _) = srv.get_json("/api/agents/board", "").await.unwrap();
    assert_eq!(s, 401);
}
