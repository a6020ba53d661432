//! The paged first snapshot (issue 17): the receiver answers
//! `/api/replica/snapshot?limit=N` page by page, scoped as the unpaged
//! snapshot; a replica copies the pages one transaction each, says
//! `syncing` meanwhile, and converges to exactly the receiver's rows,
//! including rows changed and deleted while it copied.

use super::without_clock_fields;
use callboard_tests::{assert_match_schemas, event, until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Rows per page the replicas of these tests ask for.
const PAGE: &str = "2";

async fn replica(srv: &TestServer, token: &str) -> TestServer {
    TestServer::launch(
        tempfile::tempdir().unwrap(),
        &["connect", "--remote", &srv.base],
        &[
            ("CALLBOARD_REMOTE_TOKEN", token),
            ("CALLBOARD_SNAPSHOT_PAGE_ROWS", PAGE),
        ],
    )
    .await
    .unwrap()
}

async fn status(rep: &TestServer, token: &str) -> Value {
    rep.get_json("/api/replica/status", token).await.unwrap().1
}

/// Every page of the paged snapshot for `token`, `limit` rows each.
async fn pages(srv: &TestServer, token: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = format!("/api/replica/snapshot?limit={limit}");
    loop {
        let (s, page) = srv.get_json(&path, token).await.unwrap();
        assert_eq!(s, 200, "{path}: {page}");
        let n: usize = page["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["rows"].as_array().unwrap().len())
            .sum();
        assert!(n <= limit, "{path}: a page of {n} rows");
        let next = page["next"].clone();
        out.push(page);
        if next.is_null() {
            return out;
        }
        path = format!(
            "/api/replica/snapshot?limit={limit}&table={}&after={}",
            next["table"].as_str().unwrap(),
            next["after"]
        );
        assert!(out.len() < 1000, "the pages never end");
    }
}

/// table → rows, from one snapshot or from its pages.
fn by_table(snaps: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for s in snaps {
        for t in s["tables"].as_array().unwrap() {
            out.entry(t["table"].as_str().unwrap().to_string())
                .or_default()
                .extend(t["rows"].as_array().unwrap().iter().cloned());
        }
    }
    out.retain(|_, rows| !rows.is_empty());
    out
}

/// Two departments, calls with deliveries, an assignment and a disposition,
/// categories, a flow: the paged snapshot holds, for each role, exactly the
/// rows of the unpaged one, in pages of at most `limit` rows.
#[tokio::test]
async fn the_paged_snapshot_gives_each_role_the_rows_of_the_unpaged_one() {
    let srv = TestServer::start().await.unwrap();
    let (a, ka) = srv.provider("Alpha").await.unwrap();
    let (b, kb) = srv.provider("Beta").await.unwrap();
    for (slug, key) in [(&a, &ka), (&b, &kb)] {
        for i in 0..4 {
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
        let (s, _) = srv
            .webhook(slug, key, &json!({"nothing": "here"}))
            .await
            .unwrap();
        assert_eq!(s, 202);
    }
    let supervisor = srv.user("sue", "supervisor", &[]).await.unwrap();
    let agent = srv.user("amy", "agent", &[&a]).await.unwrap();
    let bob = srv.user("bob", "agent", &[&a, &b]).await.unwrap();
    let bob_id = srv.user_id("bob").await.unwrap();
    let (s, r) = srv
        .post_json(
            &format!("/api/calls/{a}-0/assign?department={a}"),
            ADMIN_TOKEN,
            &json!({"user_id": bob_id}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    let (s, r) = srv
        .post_json(
            &format!("/api/calls/{a}-1/disposition?department={a}"),
            &bob,
            &json!({"category": "Callback done", "outcome": "resolved", "notes": "n"}),
        )
        .await
        .unwrap();
    assert!(s == 200 || s == 201, "{s} {r}");
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    for (role, token) in [
        ("admin", ADMIN_TOKEN),
        ("supervisor", supervisor.as_str()),
        ("agent", agent.as_str()),
    ] {
        let (s, whole) = srv.get_json("/api/replica/snapshot", token).await.unwrap();
        assert_eq!(s, 200, "{role}: {whole}");
        assert!(whole["next"].is_null(), "{role}: the unpaged form is whole");
        let paged = pages(&srv, token, 4).await;
        assert!(paged.len() > 3, "{role}: only {} pages", paged.len());
        // Nothing changed in between: the first page's cursor is the
        // unpaged snapshot's.
        assert_eq!(
            (&paged[0]["seq"], &paged[0]["change"]),
            (&whole["seq"], &whole["change"]),
            "{role}"
        );
        assert_eq!(
            by_table(&paged),
            by_table(&[whole]),
            "{role}: the same rows"
        );
        assert_match_schemas(&doc, &[("Snapshot", paged[1].clone())]);
    }
    // The agent's pages hold Alpha's calls only.
    let calls = &by_table(&pages(&srv, &agent, 2).await)["calls"];
    assert_eq!(calls.len(), 4);
    assert!(
        calls.iter().all(|c| c["department"] == a.as_str()),
        "{calls:?}"
    );
    // A table that is not replicated is refused.
    let (s, _) = srv
        .get_json(
            "/api/replica/snapshot?limit=5&table=tokens&after=0",
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 422);
}

/// What retention does to a call: its dispositions and voicemails go, its
/// deliveries lose the link, the call goes (no event: the replica's poll of
/// the changes brings it).
fn delete_call(srv: &TestServer, call_id: &str) {
    let mut db = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    db.pragma_update(None, "foreign_keys", true).unwrap();
    // Immediate: a transaction that reads first and then writes cannot wait
    // for the server's writer (SQLite answers "busy" at once, whatever the
    // busy timeout, when a reader's snapshot would have to become a writer).
    let tx = db
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let id: i64 = tx
        .query_row("SELECT id FROM calls WHERE call_id = ?1", [call_id], |r| {
            r.get(0)
        })
        .unwrap();
    for sql in [
        "DELETE FROM dispositions WHERE call_row_id = ?1",
        "DELETE FROM voicemails WHERE call_row_id = ?1",
        "DELETE FROM callback_attempts WHERE call_row_id = ?1",
        "DELETE FROM sms_outbox WHERE call_row_id = ?1",
        "UPDATE raw_events SET call_row_id = NULL WHERE call_row_id = ?1",
        "DELETE FROM calls WHERE id = ?1",
    ] {
        tx.execute(sql, [id]).unwrap();
    }
    tx.commit().unwrap();
}

async fn same(srv: &TestServer, rep: &TestServer, token: &str, path: &str) {
    let (s1, b1) = srv.get_json(path, token).await.unwrap();
    let (s2, b2) = rep.get_json(path, token).await.unwrap();
    assert_eq!(s1, 200, "{path}: {b1}");
    assert_eq!(
        (s2, without_clock_fields(b2)),
        (s1, without_clock_fields(b1)),
        "GET {path} differs between the receiver and the replica"
    );
}

/// An administrator's and an agent's replica copy a receiver of some 250
/// rows two rows a page while calls are added, changed, assigned to users
/// added meanwhile, and deleted, and categories and a flow come and go:
/// both say `syncing` (with their progress) while they copy, then go live
/// holding exactly what the receiver answers each of them.
#[tokio::test]
async fn replicas_copying_page_by_page_converge_with_rows_changed_and_deleted_meanwhile() {
    let srv = TestServer::start().await.unwrap();
    let (a, ka) = srv.provider("Alpha").await.unwrap();
    let (b, kb) = srv.provider("Beta").await.unwrap();
    let agent = srv.user("amy", "agent", &[&a]).await.unwrap();
    for i in 0..60 {
        for (prefix, slug, key) in [("s", &a, &ka), ("d", &a, &ka), ("o", &b, &kb)] {
            let (s, r) = srv
                .webhook(
                    slug,
                    key,
                    &event(&format!("{prefix}{i}"), "no-answer", "+9198"),
                )
                .await
                .unwrap();
            assert_eq!(s, 200, "{r}");
        }
    }
    let mut flows = Vec::new();
    for name in ["One", "Two"] {
        let (s, f) = srv
            .post_json(
                "/api/flows",
                ADMIN_TOKEN,
                &json!({"name": name, "entry": "bye", "nodes": [
                    {"id": "bye", "type": "hangup", "say": "Goodbye"}
                ]}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{f}");
        flows.push(f["id"].as_i64().unwrap());
    }

    let admin_rep = replica(&srv, ADMIN_TOKEN).await;
    let agent_rep = replica(&srv, &agent).await;
    let (mut seen_syncing, mut changed_while_syncing) = ([false, false], 0);
    let mut deleted = Vec::new();
    for i in 0usize.. {
        assert!(i < 500, "the replicas never went live");
        let states = [
            status(&admin_rep, ADMIN_TOKEN).await,
            status(&agent_rep, &agent).await,
        ];
        let mut syncing = false;
        for (k, st) in states.iter().enumerate() {
            if st["state"] == "syncing" {
                syncing = true;
                if st["snapshot"]["rows"].as_i64().unwrap_or(0) > 0 {
                    seen_syncing[k] = true;
                }
            }
        }
        if states.iter().all(|s| s["state"] == "live") {
            break;
        }
        // Changes on the receiver, whatever the replicas have copied yet.
        let (s, r) = srv
            .webhook(&a, &ka, &event(&format!("n{i}"), "no-answer", "+9199"))
            .await
            .unwrap();
        assert_eq!(s, 200, "{r}");
        let (s, r) = srv
            .webhook(
                &a,
                &ka,
                &event(&format!("s{}", i % 60), "completed", "+9198"),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{r}");
        if i < 60 {
            delete_call(&srv, &format!("d{i}"));
            deleted.push(format!("d{i}"));
        }
        if i % 3 == 0 {
            // A user added now, and a call of the agent's department
            // assigned to them: a row referring to a row newer than the
            // users' pages.
            let (s, u) = srv
                .post_json(
                    "/api/users",
                    ADMIN_TOKEN,
                    &json!({"username": format!("u{i}"), "password": "password-123",
                            "role": "agent", "departments": [a]}),
                )
                .await
                .unwrap();
            assert_eq!(s, 201, "{u}");
            let (s, r) = srv
                .post_json(
                    &format!("/api/calls/s{}/assign?department={a}", (i * 7) % 60),
                    ADMIN_TOKEN,
                    &json!({"user_id": u["id"]}),
                )
                .await
                .unwrap();
            assert_eq!(s, 200, "{r}");
        }
        if i % 4 == 0 {
            let (s, c) = srv
                .post_json(
                    "/api/categories",
                    ADMIN_TOKEN,
                    &json!({"name": format!("Cat {i}"), "department": a}),
                )
                .await
                .unwrap();
            assert!(s < 300, "{c}");
            if i % 8 == 0 {
                let (s, r) = srv
                    .delete_json(&format!("/api/categories/{}", c["id"]), ADMIN_TOKEN)
                    .await
                    .unwrap();
                assert!(s < 300, "{r}");
            }
        }
        if i == 5 {
            let (s, r) = srv
                .delete_json(&format!("/api/flows/{}", flows[0]), ADMIN_TOKEN)
                .await
                .unwrap();
            assert!(s < 300, "{r}");
        }
        if syncing {
            changed_while_syncing += 1;
        }
    }
    assert_eq!(
        seen_syncing,
        [true, true],
        "each replica said it was syncing, with its progress"
    );
    assert!(
        changed_while_syncing >= 3,
        "only {changed_while_syncing} rounds of changes during the copy"
    );

    // Caught up: the changes after the copy (some without an event: the
    // deleted calls) are polled.
    for (rep, token) in [(&admin_rep, ADMIN_TOKEN), (&agent_rep, agent.as_str())] {
        let want = srv
            .get_json("/api/calls?limit=1000", token)
            .await
            .unwrap()
            .1;
        until(30, "the replica's calls to be the receiver's", || async {
            let st = status(rep, token).await;
            let (code, got) = rep.get_json("/api/calls?limit=1000", token).await.unwrap();
            code == 200
                && st["state"] == "live"
                && st["snapshot"].is_null()
                && without_clock_fields(got) == without_clock_fields(want.clone())
        })
        .await;
    }
    for path in [
        "/api/calls?limit=1000",
        "/api/calls?status=worklist&limit=1000",
        "/api/categories?include_inactive=true",
        "/api/providers",
        "/api/auth/me",
    ] {
        same(&srv, &admin_rep, ADMIN_TOKEN, path).await;
        same(&srv, &agent_rep, &agent, path).await;
    }
    for path in ["/api/users", "/api/flows"] {
        same(&srv, &admin_rep, ADMIN_TOKEN, path).await;
    }
    // Exactly the receiver's calls: none deleted there survive here, and
    // the agent's cache holds its department only.
    let (_, all) = srv
        .get_json("/api/calls?limit=1000", ADMIN_TOKEN)
        .await
        .unwrap();
    let ids = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["call_id"].as_str().unwrap().to_string())
            .collect()
    };
    let theirs = ids(&all);
    assert!(
        !theirs.iter().any(|c| deleted.contains(c)),
        "the deleted calls are gone"
    );
    assert!(
        theirs.iter().any(|c| c.starts_with('n')),
        "calls were added during the copy"
    );
    for rep in [&admin_rep, &agent_rep] {
        let db = rusqlite::Connection::open(rep.dir.path().join("callboard.db")).unwrap();
        let left: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM calls WHERE call_id IN (SELECT value FROM json_each(?1))",
                [serde_json::to_string(&deleted).unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0, "a call deleted during the copy survived");
    }
    let db = rusqlite::Connection::open(agent_rep.dir.path().join("callboard.db")).unwrap();
    let other: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM calls WHERE department = ?1",
            [&b],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(other, 0, "another department's calls in an agent's cache");
}
