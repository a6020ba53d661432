//! Defect 2: the replica snapshot and change feed give each role exactly
//! what the normal read routes give it, table by table.

use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn table<'a>(feed: &'a Value, name: &str) -> Vec<&'a Value> {
    feed["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"] == name)
        .flat_map(|t| t["rows"].as_array().unwrap().iter())
        .collect()
}

fn ids(rows: &[&Value], key: &str) -> BTreeSet<i64> {
    rows.iter().filter_map(|r| r[key].as_i64()).collect()
}

async fn api_ids(srv: &TestServer, token: &str, path: &str, key: &str) -> Option<BTreeSet<i64>> {
    let (s, b) = srv.get_json(path, token).await.unwrap();
    if s == 403 {
        return None;
    }
    assert_eq!(s, 200, "{path}: {b}");
    Some(
        b["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r[key].as_i64())
            .collect(),
    )
}

/// Two departments with calls, a delivery that failed to map, a category
/// each, a call of department A assigned to another agent and disposed.
async fn office() -> (TestServer, Vec<(&'static str, String)>) {
    let srv = TestServer::start().await.unwrap();
    let (a, ka) = srv.provider("Alpha").await.unwrap();
    let (b, kb) = srv.provider("Beta").await.unwrap();
    for (slug, key, n) in [(&a, &ka, 3), (&b, &kb, 2)] {
        for i in 0..n {
            let (s, r) = srv
                .webhook(
                    slug,
                    key,
                    &event(&format!("{slug}-{i}"), "no-answer", "+15550100"),
                )
                .await
                .unwrap();
            assert_eq!(s, 200, "{r}");
        }
        // A delivery that cannot be mapped: in the delivery log only.
        let (s, _) = srv
            .webhook(slug, key, &json!({"nothing": "here"}))
            .await
            .unwrap();
        assert_eq!(s, 202);
    }
    for (dep, name) in [(Some(&a), "Alpha only"), (Some(&b), "Beta only")] {
        let (s, r) = srv
            .post_json(
                "/api/categories",
                ADMIN_TOKEN,
                &json!({"department": dep, "name": name}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{r}");
    }
    let admin = ADMIN_TOKEN.to_string();
    let supervisor = srv.user("sue", "supervisor", &[]).await.unwrap();
    let agent = srv.user("amy", "agent", &[&a]).await.unwrap();
    let other = srv.user("bob", "agent", &[&a, &b]).await.unwrap();
    let bob = srv.user_id("bob").await.unwrap();
    let (s, r) = srv
        .post_json(
            &format!("/api/calls/{a}-0/assign?department={a}"),
            &admin,
            &json!({"user_id": bob}),
        )
        .await
        .unwrap();
    assert!(s == 200, "assign: {s} {r}");
    let (s, r) = srv
        .post_json(
            &format!("/api/calls/{a}-1/disposition?department={a}"),
            &other,
            &json!({"category": "Alpha only", "outcome": "resolved", "notes": "n"}),
        )
        .await
        .unwrap();
    assert!(s == 200 || s == 201, "dispose: {s} {r}");
    (
        srv,
        vec![
            ("admin", admin),
            ("supervisor", supervisor),
            ("agent", agent),
        ],
    )
}

#[tokio::test]
async fn the_replica_feed_gives_each_role_what_the_read_routes_give_it() {
    let (srv, people) = office().await;
    let amy = srv.user_id("amy").await.unwrap();
    for (role, token) in &people {
        let (s, snap) = srv.get_json("/api/replica/snapshot", token).await.unwrap();
        assert_eq!(s, 200, "{role}: {snap}");
        let (s, feed) = srv
            .get_json("/api/replica/changes?seq=0&change=0", token)
            .await
            .unwrap();
        assert_eq!(s, 200, "{role}: {feed}");
        for (what, rows_of) in [("snapshot", &snap), ("changes", &feed)] {
            let ctx = format!("{role} {what}");
            // Providers: those /api/providers lists (inactive ones too for admins).
            let providers = table(rows_of, "providers");
            let listed = api_ids(&srv, token, "/api/providers?include_inactive=true", "id")
                .await
                .unwrap();
            assert_eq!(ids(&providers, "id"), listed, "{ctx}: providers");
            for p in &providers {
                if *role != "admin" {
                    assert_eq!(p["api_key_hint"], "", "{ctx}: a key prefix leaked: {p}");
                }
                assert!(
                    p["api_key_hash"].as_str().unwrap_or("").is_empty()
                        && p["signing_secret"].as_str().unwrap_or("").is_empty(),
                    "{ctx}: a secret leaked: {p}"
                );
            }
            // Categories: those /api/categories lists.
            let cats = ids(&table(rows_of, "categories"), "id");
            let listed = api_ids(&srv, token, "/api/categories?include_inactive=true", "id")
                .await
                .unwrap();
            assert_eq!(cats, listed, "{ctx}: categories");
            // Calls: those /api/calls lists.
            let calls = ids(&table(rows_of, "calls"), "id");
            let listed = api_ids(&srv, token, "/api/calls?limit=1000", "id")
                .await
                .unwrap();
            assert_eq!(calls, listed, "{ctx}: calls");
            // Dispositions, voicemails and deliveries only of those calls.
            for t in ["dispositions", "voicemails"] {
                for r in table(rows_of, t) {
                    assert!(
                        calls.contains(&r["call_row_id"].as_i64().unwrap()),
                        "{ctx}: {t} of a call not shown: {r}"
                    );
                }
            }
            let raw = table(rows_of, "raw_events");
            let deliveries = api_ids(&srv, token, "/api/providers/alpha/deliveries", "id").await;
            match deliveries {
                Some(_) => assert!(
                    raw.iter().any(|r| r["call_row_id"].is_null()),
                    "{ctx}: the delivery log is incomplete"
                ),
                None => {
                    for r in &raw {
                        let call = r["call_row_id"].as_i64();
                        assert!(
                            call.is_some_and(|c| calls.contains(&c)),
                            "{ctx}: a delivery outside the calls shown: {r}"
                        );
                    }
                }
            }
            // Users: /api/users, or for an agent themselves plus the names
            // on their calls, with nothing else about them.
            let users = table(rows_of, "users");
            match api_ids(&srv, token, "/api/users", "id").await {
                Some(listed) => assert_eq!(ids(&users, "id"), listed, "{ctx}: users"),
                None => {
                    assert!(ids(&users, "id").contains(&amy), "{ctx}: own row missing");
                    for u in &users {
                        assert!(u["password_hash"].as_str().unwrap_or("").is_empty());
                        if u["id"].as_i64() != Some(amy) {
                            assert_eq!(u["departments"], "[]", "{ctx}: {u}");
                            assert_eq!(u["role"], "agent", "{ctx}: {u}");
                        }
                    }
                    let names: BTreeSet<&str> = users
                        .iter()
                        .filter_map(|u| u["username"].as_str())
                        .collect();
                    assert!(
                        !names.contains("sue"),
                        "{ctx}: an unrelated user: {names:?}"
                    );
                    assert!(
                        !names.contains("admin"),
                        "{ctx}: an unrelated user: {names:?}"
                    );
                }
            }
            // Agent states: those /api/agents lists.
            let states = ids(&table(rows_of, "agent_states"), "user_id");
            let listed = api_ids(&srv, token, "/api/agents", "id").await.unwrap();
            assert!(
                states.is_subset(&listed),
                "{ctx}: agent states {states:?} ⊄ {listed:?}"
            );
            // Administration tables: only where the routes answer.
            for (t, path) in [
                ("external_users", "/api/dialpad/users"),
                ("audit_log", "/api/audit"),
                ("retention_runs", "/api/retention/runs"),
            ] {
                let (s, _) = srv.get_json(path, token).await.unwrap();
                if s == 403 {
                    assert!(table(rows_of, t).is_empty(), "{ctx}: {t} leaked");
                }
            }
            for t in ["connectors", "sync_runs"] {
                if *role == "agent" {
                    assert!(table(rows_of, t).is_empty(), "{ctx}: {t} leaked");
                }
            }
        }
    }
}
