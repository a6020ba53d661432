//! The call history's filters on `GET /api/calls`: agent, last outcome, the
//! caller's number, and `repeat=true` naming the page's repeat callers.

use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["call_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn call(id: &str, status: &str, caller: &str, agent: Option<&str>) -> Value {
    let mut data = json!({ "call_id": id, "caller": caller, "status": status });
    if let Some(a) = agent {
        data["agent"] = json!(a);
    }
    json!({ "data": data })
}

#[tokio::test]
async fn history_filters_by_agent_outcome_and_number_and_flags_repeat_callers() {
    let srv = TestServer::start().await.unwrap();
    let (sales, key) = srv.provider("Sales").await.unwrap();
    let mut mapping = generic_mapping();
    mapping["agent_id"] = json!("data.agent");
    let (support, key2) = srv
        .provider_with("Support", mapping, generic_status_map())
        .await
        .unwrap();
    let agent = srv.user("meera", "agent", &[&sales]).await.unwrap();
    for (slug, k, id, status, caller, who) in [
        (&sales, &key, "h1", "completed", "+911111", Some("Asha Rao")),
        (&sales, &key, "h2", "no-answer", "+911111", None),
        (&sales, &key, "h3", "completed", "+912222", Some("Ravi")),
        (&support, &key2, "h4", "completed", "+913333", Some("asha")),
        (&support, &key2, "h5", "no-answer", "+913333", None),
    ] {
        let (s, b) = srv
            .webhook(slug, k, &call(id, status, caller, who))
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = srv
        .post_json(
            "/api/calls/h2/disposition",
            ADMIN_TOKEN,
            &json!({"category": "Not reachable", "outcome": "no_answer"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");

    // The agent, by part of a name or an id, any case.
    let (s, l) = srv
        .get_json("/api/calls?agent=ASHA", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{l}");
    assert_eq!(ids(&l), ["h1", "h4"]);
    // The last disposition's outcome.
    let (_, l) = srv
        .get_json("/api/calls?outcome=no_answer", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(ids(&l), ["h2"]);
    // A caller's calls by number, with the other filters.
    let (_, l) = srv
        .get_json("/api/calls?number=%2B911111", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(ids(&l), ["h1", "h2"]);
    let (_, l) = srv
        .get_json("/api/calls?number=%2B911111&status=completed", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(ids(&l), ["h1"]);

    // The CSV export takes the same filters.
    let r = srv
        .get("/api/calls/export.csv?number=%2B911111", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("h1") && csv.contains("h2"), "{csv}");
    assert!(!csv.contains("h3") && !csv.contains("h4"), "{csv}");
    let r = srv
        .get("/api/calls/export.csv?agent=ravi", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert!(csv.contains("h3") && !csv.contains("h1"), "{csv}");

    // Repeat callers are named only when asked.
    let (_, l) = srv.get_json("/api/calls", ADMIN_TOKEN).await.unwrap();
    assert_eq!(l["repeat_callers"], json!([]));
    let (_, l) = srv
        .get_json("/api/calls?repeat=true", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(l["repeat_callers"], json!(["+911111", "+913333"]), "{l}");
    // Only the calls of the page's numbers count, and a page of one number.
    let (_, l) = srv
        .get_json("/api/calls?repeat=true&number=%2B912222", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(l["repeat_callers"], json!([]));
    // An agent's repeat callers count only their departments' calls.
    let (s, l) = srv
        .get_json("/api/calls?repeat=true", &agent)
        .await
        .unwrap();
    assert_eq!(s, 200, "{l}");
    assert_eq!(ids(&l), ["h1", "h2", "h3"]);
    assert_eq!(l["repeat_callers"], json!(["+911111"]));
}

#[tokio::test]
async fn a_bad_history_filter_is_a_json_error() {
    let srv = TestServer::start().await.unwrap();
    for path in [
        "/api/calls?outcome=maybe",
        "/api/calls?repeat=perhaps",
        "/api/calls?from=yesterday",
    ] {
        let (s, b) = srv.get_json(path, ADMIN_TOKEN).await.unwrap();
        assert!(s == 400 || s == 422, "{path}: {s} {b}");
        assert!(b["error"]["code"].is_string(), "{path}: {b}");
        assert!(b["error"]["message"].is_string(), "{path}: {b}");
    }
}
