//! Remote mode, black-box: a real receiver, a real replica process
//! (`callboard connect`) and a TCP proxy between them that the test cuts
//! and heals.

use callboard_tests::proxy::Proxy;
use callboard_tests::{assert_match_schemas, event, until, ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

mod paged;
mod reconnect;
mod signin;
mod tls;

async fn status(rep: &TestServer) -> Value {
    rep.get_json("/api/replica/status", ADMIN_TOKEN)
        .await
        .unwrap()
        .1
}

async fn head(srv: &TestServer) -> i64 {
    srv.get_json("/healthz", ADMIN_TOKEN).await.unwrap().1["seq"]
        .as_i64()
        .unwrap()
}

/// Waits until the replica is live at the receiver's head, and has synced
/// twice more since (rows that change without an event are polled: two syncs
/// after this point means one started after it).
async fn caught_up(srv: &TestServer, rep: &TestServer) {
    until(30, "the replica to catch up", || async {
        let s = status(rep).await;
        s["state"] == "live" && s["last_seq"].as_i64() == Some(head(srv).await)
    })
    .await;
    for _ in 0..2 {
        let seen = status(rep).await["last_sync_at"].clone();
        until(30, "another sync", || async {
            status(rep).await["last_sync_at"] != seen
        })
        .await;
    }
}

async fn start_pair() -> (TestServer, Proxy, TestServer) {
    start_pair_with(TestServer::start().await.unwrap()).await
}

/// The pair over a given receiver (the binary, where a test kills it).
async fn start_pair_with(srv: TestServer) -> (TestServer, Proxy, TestServer) {
    let proxy = Proxy::start(&srv.addr).await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &proxy.url(), ADMIN_TOKEN)
        .await
        .unwrap();
    (srv, proxy, rep)
}

/// A receiver with a bit of everything the console reads.
async fn seed(srv: &TestServer) -> (String, String) {
    let (slug, key) = srv.provider("Sales").await.unwrap();
    let agent = srv.user("asha", "agent", &[&slug]).await.unwrap();
    for i in 0..6 {
        let status = [
            "no-answer",
            "abandoned",
            "ringing",
            "completed",
            "answered",
            "busy",
        ][i];
        let (s, b) = srv
            .webhook(&slug, &key, &event(&format!("c{i}"), status, "+9198"))
            .await
            .unwrap();
        assert!(s < 300, "{b}");
    }
    // A lead (the lead webhook), so the replica's lead reads have a row.
    let r = srv
        .http
        .post(srv.url(&format!("/webhooks/ivr/{slug}/leads")))
        .header("x-api-key", &key)
        .json(&json!({"lead_id": "L1", "first_name": "Lea", "status": "NEW"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, b) = srv
        .post_json("/api/calls/c0/assign", &agent, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let (s, b) = srv
        .post_json(
            "/api/calls/c1/disposition",
            &agent,
            &json!({"category": "Callback done", "outcome": "resolved", "notes": "done"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    let (s, b) = srv
        .post_json(
            "/api/categories",
            ADMIN_TOKEN,
            &json!({"name": "Escalated", "department": slug}),
        )
        .await
        .unwrap();
    assert!(s < 300, "{b}");
    // An IVR flow, published twice (two versions), attached to the department.
    let (s, f) = srv
        .post_json(
            "/api/flows",
            ADMIN_TOKEN,
            &json!({"name": "Front desk", "entry": "w", "nodes": [
                {"id": "w", "type": "welcome", "say": "Welcome", "next": "bye"},
                {"id": "bye", "type": "hangup", "say": "Goodbye"}
            ]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{f}");
    let flow = f["id"].as_i64().unwrap();
    for _ in 0..2 {
        let (s, b) = srv
            .post_json(
                &format!("/api/flows/{flow}/publish"),
                ADMIN_TOKEN,
                &json!({}),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"flow_id": flow}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let r = srv
        .http
        .put(srv.url("/api/dialpad/users/dp-1"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"username": "asha"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    (slug, key)
}

/// GET routes that cannot be compared, with the reason.
const SKIPPED: &[(&str, &str)] = &[
    ("/ivr/{slug}", "a platform's IVR request, answered by the receiver only"),
    ("/ivr/{slug}/status", "a platform's IVR status callback, receiver only"),
    ("/api/events", "a WebSocket: compared message by message in other tests"),
    (
        "/api/events/head",
        "`oldest` differs by design: a replica's log starts at its snapshot (the seq is compared through /healthz)",
    ),
    ("/api/replica/status", "exists on replicas only"),
    (
        "/readyz",
        "each process's own writer, disk and timings (tests/tests/ops/health.rs)",
    ),
    (
        "/metrics",
        "each process's own counters, off without --metrics-token (tests/tests/ops/health.rs)",
    ),
    ("/api/replica/outbox", "exists on replicas only"),
    (
        "/api/replica/snapshot",
        "the receiver's replication feed (cursors of its own row log)",
    ),
    (
        "/api/replica/changes",
        "the receiver's replication feed (cursors of its own row log)",
    ),
    ("/webhooks/ivr/{slug}", "a webhook (a write), refused on replicas"),
    (
        "/webhooks/ivr/{slug}/contacts",
        "a platform's contact lookup, answered by the receiver only (platforms never reach a replica)",
    ),
    (
        "/dial/{token}/status",
        "a platform's report on a call back, receiver only",
    ),
    (
        "/dial/{token}/answer",
        "a platform fetching a call back's instruction, receiver only",
    ),
    (
        "/api/retention/archive",
        "the archive stays on the receiver: a replica says so (the_archive_is_the_receivers)",
    ),
    (
        "/api/retention/archive/calls.csv",
        "the archive stays on the receiver: a replica says so (the_archive_is_the_receivers)",
    ),
];

/// Every GET route of the OpenAPI document, with path parameters filled.
async fn read_routes(srv: &TestServer, slug: &str) -> Vec<String> {
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let user_id = srv.user_id("asha").await.unwrap();
    let (_, flows) = srv.get_json("/api/flows", ADMIN_TOKEN).await.unwrap();
    let flow_id = flows["data"][0]["id"].as_i64().unwrap_or(0).to_string();
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if ops.get("get").is_none() {
            continue;
        }
        if SKIPPED.iter().any(|(p, _)| p == path) {
            continue;
        }
        let id = if path.starts_with("/api/flows/") {
            &flow_id
        } else {
            &user_id.to_string()
        };
        let filled = path
            .replace("{slug}", slug)
            .replace("{call_id}", "c1")
            .replace("{id}", id)
            .replace("{dialpad_user_id}", "dp-1")
            .replace("{department}", slug)
            .replace("{lead_id}", "L1");
        assert!(
            !filled.contains('{'),
            "a new path parameter to fill: {path}"
        );
        out.push(filled);
    }
    // Filters take a different path through the same handlers.
    out.push("/api/calls?status=worklist&view=resolved".into());
    out.push("/api/calls?status=live&sort=call_id".into());
    out.push(format!("/api/providers/{slug}/deliveries?limit=3"));
    out
}

/// Fields computed from "now" at the moment of the request (how long the
/// oldest waiting caller has waited) differ between two requests a second
/// apart on the same server too: they are compared as present, not by value.
fn without_clock_fields(mut v: Value) -> Value {
    const CLOCK: [&str; 1] = ["longest_current_wait_seconds"];
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in CLOCK {
                    if let Some(x) = m.get_mut(k) {
                        *x = Value::from(x.is_number());
                    }
                }
                // A window that ends now (`GET /api/providers-health`) starts
                // at the request's "now" less its length.
                if let Some(x) = m.get_mut("since") {
                    *x = Value::from(x.is_string());
                }
                // Rolling windows (`last_15m`, …) end at the request's "now".
                if let Some(Value::Object(windows)) = m.get_mut("windows") {
                    for w in windows.values_mut().filter_map(Value::as_object_mut) {
                        for k in ["from", "to"] {
                            if let Some(x) = w.get_mut(k) {
                                *x = Value::from(x.is_string());
                            }
                        }
                    }
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// The same request gives the same JSON on the receiver and on the replica.
/// `via`: the address the replica reaches the receiver at (a proxy), which
/// is the base of the webhook URLs the replica shows.
async fn assert_same_reads(srv: &TestServer, rep: &TestServer, via: &str, slug: &str, token: &str) {
    for path in read_routes(srv, slug).await {
        let (s1, b1) = srv.get_json(&path, token).await.unwrap();
        let (s2, b2) = rep.get_json(&path, token).await.unwrap();
        let b2: Value = serde_json::from_str(&b2.to_string().replace(via, &srv.addr)).unwrap();
        let (b1, b2) = (without_clock_fields(b1), without_clock_fields(b2));
        assert_eq!(
            (s1, &b1),
            (s2, &b2),
            "GET {path} differs between receiver and replica"
        );
    }
}

#[tokio::test]
async fn every_read_route_answers_the_same_json_on_the_replica() {
    // Straight to the receiver: the replica shows the very same webhook URLs.
    let srv = TestServer::start().await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.base, ADMIN_TOKEN)
        .await
        .unwrap();
    let (slug, _) = seed(&srv).await;
    caught_up(&srv, &rep).await;
    assert_same_reads(&srv, &rep, &srv.addr, &slug, ADMIN_TOKEN).await;
    // The replication routes answer what the document says.
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let (_, snap) = srv
        .get_json("/api/replica/snapshot", ADMIN_TOKEN)
        .await
        .unwrap();
    let (_, changes) = srv
        .get_json("/api/replica/changes?seq=0&change=0", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(!changes["events"].as_array().unwrap().is_empty());
    let (_, st) = rep
        .get_json("/api/replica/status", ADMIN_TOKEN)
        .await
        .unwrap();
    let (_, outbox) = rep
        .get_json("/api/replica/outbox", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_match_schemas(
        &doc,
        &[
            ("Snapshot", snap.clone()),
            ("Changes", changes),
            ("ReplicaStatus", st),
            ("Outbox", outbox),
        ],
    );
    // Secrets never leave the receiver.
    let providers = snap["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "providers")
        .unwrap();
    assert_eq!(providers["rows"][0]["api_key_hash"], "");
    // A cursor from the future is refused: take a snapshot.
    let (s, b) = srv
        .get_json("/api/replica/changes?seq=999999&change=0", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("too_far_behind"))
    );
    // The receiver is not a replica.
    let (s, b) = srv
        .get_json("/api/replica/status", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("not_a_replica"))
    );
    // The replica accepts only its token.
    let (s, _) = rep.get_json("/api/calls", "someone-else").await.unwrap();
    assert_eq!(s, 401);
    // Webhooks belong to the receiver.
    let r = rep
        .http
        .post(rep.url(&format!("/webhooks/ivr/{slug}")))
        .json(&event("x", "ringing", "+1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
}

#[tokio::test]
async fn an_agents_replica_holds_only_the_agents_departments() {
    let srv = TestServer::start().await.unwrap();
    let (mine, k1) = srv.provider("Mine").await.unwrap();
    let (other, k2) = srv.provider("Other").await.unwrap();
    let agent = srv.user("ravi", "agent", &[&mine]).await.unwrap();
    srv.webhook(&mine, &k1, &event("m1", "no-answer", "+1"))
        .await
        .unwrap();
    srv.webhook(&other, &k2, &event("o1", "no-answer", "+2"))
        .await
        .unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.base, &agent)
        .await
        .unwrap();
    until(30, "live", || async {
        rep.get_json("/api/replica/status", &agent).await.unwrap().1["state"] == "live"
    })
    .await;
    for path in [
        "/api/calls",
        "/api/calls/m1",
        "/api/providers",
        "/api/auth/me",
    ] {
        let a = srv.get_json(path, &agent).await.unwrap();
        let b = rep.get_json(path, &agent).await.unwrap();
        assert_eq!(a, b, "GET {path} as the agent");
    }
    // The one difference by design: a call of another department never
    // leaves the receiver, so the replica does not know it exists (404
    // where the receiver says 403).
    assert_eq!(srv.get_json("/api/calls/o1", &agent).await.unwrap().0, 403);
    assert_eq!(rep.get_json("/api/calls/o1", &agent).await.unwrap().0, 404);
    // The other department's call is not even in the cache.
    let db = rusqlite::Connection::open(rep.dir.path().join("callboard.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM calls WHERE department = ?1",
            [&other],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

/// A lead change reaches the stream of an agent's replica, as the receiver
/// logged it, for the agent's departments only; the lead row follows.
#[tokio::test]
async fn a_lead_change_reaches_an_agents_replica_stream_for_their_departments_only() {
    let srv = TestServer::start().await.unwrap();
    let (mine, k1) = srv.provider("Mine").await.unwrap();
    let (other, k2) = srv.provider("Other").await.unwrap();
    let agent = srv.user("ravi", "agent", &[&mine]).await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.base, &agent)
        .await
        .unwrap();
    until(30, "live", || async {
        rep.get_json("/api/replica/status", &agent).await.unwrap().1["state"] == "live"
    })
    .await;
    let since = rep.get_json("/api/events/head", &agent).await.unwrap().1["seq"]
        .as_i64()
        .unwrap();
    let mut local = ws::connect(&rep.ws_url(&agent, Some(since))).await.unwrap();
    let lead = |slug: &str, key: &str, id: &str, status: &str| {
        srv.http
            .post(srv.url(&format!("/webhooks/ivr/{slug}/leads")))
            .header("x-api-key", key)
            .json(&json!({"lead_id": id, "first_name": "Lea", "status": status}))
            .send()
    };
    assert_eq!(lead(&other, &k2, "O1", "NEW").await.unwrap().status(), 200);
    assert_eq!(lead(&mine, &k1, "L1", "NEW").await.unwrap().status(), 200);
    assert_eq!(lead(&mine, &k1, "L1", "SALE").await.unwrap().status(), 200);
    let msgs = ws::collect(&mut local, 20, Duration::from_secs(3))
        .await
        .unwrap();
    let leads: Vec<(&str, &str)> = msgs
        .iter()
        .filter(|m| m["type"] == "lead.upserted")
        .map(|m| {
            (
                m["data"]["lead_id"].as_str().unwrap_or(""),
                m["data"]["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(leads, [("L1", "NEW"), ("L1", "SALE")], "{msgs:?}");
    // The row came with the event: the replica answers as the receiver.
    let path = format!("/api/leads/{mine}/L1");
    let (s, l) = rep.get_json(&path, &agent).await.unwrap();
    assert_eq!((s, l["status"].as_str()), (200, Some("SALE")), "{l}");
    assert_eq!(
        rep.get_json("/api/leads", &agent).await.unwrap().1["total"],
        1
    );
}

/// The seqs of `call.upserted`/`disposition.saved` events in the replica's
/// own event log.
fn replica_log(rep: &TestServer) -> Vec<i64> {
    let db = rusqlite::Connection::open(rep.dir.path().join("callboard.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT seq FROM event_log WHERE type != 'reload' ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<i64>, _>>()
        .unwrap()
}

fn receiver_log(srv: &TestServer) -> Vec<i64> {
    let db = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT seq FROM event_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<i64>, _>>()
        .unwrap()
}

#[tokio::test]
async fn after_the_receiver_is_killed_mid_stream_the_replica_converges_exactly() {
    let (srv, proxy, rep) = start_pair_with(TestServer::start_process().await.unwrap()).await;
    let (slug, key) = seed(&srv).await;
    caught_up(&srv, &rep).await;
    // The replica's own event stream, as its window sees it.
    let since = head(&srv).await;
    let mut local = ws::connect(&rep.ws_url(ADMIN_TOKEN, Some(since)))
        .await
        .unwrap();
    let mut srv = srv;
    let sender = {
        let http = srv.http.clone();
        let url = srv.url(&format!("/webhooks/ivr/{slug}"));
        let key = key.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            for i in 0..5000 {
                let r = http
                    .post(&url)
                    .header("x-api-key", &key)
                    .json(&event(&format!("k{i}"), "ringing", "+91"))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => sent += 1,
                    _ => break,
                }
            }
            sent
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.kill9().await.unwrap();
    let sent_before = sender.await.unwrap();
    assert!(sent_before > 0, "events flowed before the kill");
    let srv = srv.restart().await.unwrap();
    proxy.set_target(&srv.addr);
    for i in 0..50 {
        let (s, b) = srv
            .webhook(
                &slug,
                &key,
                &event(&format!("after{i}"), "no-answer", "+91"),
            )
            .await
            .unwrap();
        assert!(s < 300, "{b}");
    }
    caught_up(&srv, &rep).await;
    assert_same_reads(&srv, &rep, &proxy.addr, &slug, ADMIN_TOKEN).await;
    // Every event the receiver logged, once, in order; no more, no less.
    let theirs = receiver_log(&srv);
    let ours = replica_log(&rep);
    let after_seed: Vec<i64> = theirs
        .iter()
        .copied()
        .filter(|s| *s > ours[0] - 1)
        .collect();
    assert_eq!(ours, after_seed, "the replica's log is the receiver's");
    // And its window saw each new event exactly once, in seq order.
    let want = theirs.iter().filter(|s| **s > since).count();
    let msgs = ws::collect(&mut local, want, Duration::from_secs(5))
        .await
        .unwrap();
    let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let unique: BTreeSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "no event published twice");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order");
    assert_eq!(seqs.last(), theirs.last(), "up to the receiver's head");
}

async fn dispose_body(version: Option<i64>) -> Value {
    let mut b =
        json!({"category": "Not reachable", "sub_category": "No answer", "outcome": "no_answer"});
    if let Some(v) = version {
        b["expected_version"] = json!(v);
    }
    b
}

#[tokio::test]
async fn cut_off_the_replica_serves_reads_queues_writes_and_applies_each_once_after_the_heal() {
    let (srv, proxy, rep) = start_pair().await;
    let (slug, key) = seed(&srv).await;
    for i in 0..3 {
        srv.webhook(&slug, &key, &event(&format!("w{i}"), "abandoned", "+44"))
            .await
            .unwrap();
    }
    caught_up(&srv, &rep).await;
    let (_, before) = rep
        .get_json("/api/calls?status=worklist", ADMIN_TOKEN)
        .await
        .unwrap();

    proxy.cut();
    until(30, "the replica to say offline", || async {
        let s = status(&rep).await;
        s["state"] == "offline" && s["offline_since"].is_string()
    })
    .await;
    // Reads are served from the cache.
    let (s, now) = rep
        .get_json("/api/calls?status=worklist", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!((s, &now), (200, &before));
    // Writes are queued.
    for i in 0..3 {
        let (s, b) = rep
            .post_json(
                &format!("/api/calls/w{i}/disposition"),
                ADMIN_TOKEN,
                &dispose_body(None).await,
            )
            .await
            .unwrap();
        assert_eq!(s, 202, "{b}");
        assert_eq!(b["queued"], true);
        let (_, doc) = rep.get_json("/api/openapi.json", "").await.unwrap();
        assert_match_schemas(&doc, &[("QueuedWrite", b)]);
    }
    let st = status(&rep).await;
    assert_eq!(st["pending_writes"], 3);
    let (_, outbox) = rep
        .get_json("/api/replica/outbox", ADMIN_TOKEN)
        .await
        .unwrap();
    let states: Vec<&str> = outbox["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pending"; 3]);

    proxy.heal();
    until(60, "the outbox to drain", || async {
        let s = status(&rep).await;
        s["pending_writes"] == 0 && s["state"] == "live"
    })
    .await;
    caught_up(&srv, &rep).await;
    for i in 0..3 {
        let c = srv.call(&slug, &format!("w{i}")).await.unwrap();
        assert_eq!(
            c["dispositions"].as_array().unwrap().len(),
            1,
            "w{i} dispositioned exactly once: {c}"
        );
    }
    assert_same_reads(&srv, &rep, &proxy.addr, &slug, ADMIN_TOKEN).await;
}

#[tokio::test]
async fn the_receiver_honours_idempotency_keys() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Idem").await.unwrap();
    srv.webhook(&slug, &key, &event("i1", "no-answer", "+1"))
        .await
        .unwrap();
    let send = |body: Value, k: &'static str| {
        srv.post("/api/calls/i1/disposition", ADMIN_TOKEN)
            .header("idempotency-key", k)
            .json(&body)
            .send()
    };
    let body = dispose_body(None).await;
    let first = send(body.clone(), "key-1").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone(), "key-1").await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the stored answer"
    );
    let c = srv.call(&slug, "i1").await.unwrap();
    assert_eq!(
        c["dispositions"].as_array().unwrap().len(),
        1,
        "applied once"
    );
    // The same key for another request is refused.
    let other = send(
        json!({"category": "Wrong number", "outcome": "resolved"}),
        "key-1",
    )
    .await
    .unwrap();
    assert_eq!(other.status().as_u16(), 422);
    let b: Value = other.json().await.unwrap();
    assert_eq!(b["error"]["code"], "idempotency_key_mismatch");
    // A malformed key is refused before anything runs.
    let bad = send(body, "").await.unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    let c = srv.call(&slug, "i1").await.unwrap();
    assert_eq!(c["dispositions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_write_that_conflicts_with_a_newer_one_is_shown_not_overwritten() {
    let (srv, proxy, rep) = start_pair().await;
    let (slug, key) = seed(&srv).await;
    srv.webhook(&slug, &key, &event("cf", "abandoned", "+33"))
        .await
        .unwrap();
    caught_up(&srv, &rep).await;
    let (_, call) = rep.get_json("/api/calls/cf", ADMIN_TOKEN).await.unwrap();
    let version = call["version"].as_i64().unwrap();

    proxy.cut();
    until(30, "offline", || async {
        status(&rep).await["state"] == "offline"
    })
    .await;
    let (s, b) = rep
        .post_json(
            "/api/calls/cf/disposition",
            ADMIN_TOKEN,
            &dispose_body(Some(version)).await,
        )
        .await
        .unwrap();
    assert_eq!(s, 202, "{b}");
    // Meanwhile someone else dispositions the call on the receiver.
    let (s, b) = srv
        .post_json(
            "/api/calls/cf/disposition",
            ADMIN_TOKEN,
            &json!({"category": "Callback done", "outcome": "resolved", "notes": "by Priya"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");

    proxy.heal();
    until(60, "the conflict to show", || async {
        status(&rep).await["failed_writes"] == 1
    })
    .await;
    let (_, outbox) = rep
        .get_json("/api/replica/outbox", ADMIN_TOKEN)
        .await
        .unwrap();
    let entry = outbox["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["state"] == "conflict")
        .cloned()
        .unwrap_or_else(|| panic!("no conflict in {outbox}"));
    assert_eq!(entry["response_status"], 409);
    let current = &entry["response_body"]["error"]["current"];
    assert_eq!(current["call_id"], "cf");
    assert!(current["version"].as_i64().unwrap() > version, "{current}");
    assert_eq!(current["last_outcome"], "resolved");
    // The other person's disposition stands, alone.
    let c = srv.call(&slug, "cf").await.unwrap();
    assert_eq!(c["dispositions"].as_array().unwrap().len(), 1);
    assert_eq!(c["dispositions"][0]["notes"], "by Priya");
    // The person discards it.
    let id = entry["id"].as_i64().unwrap();
    let r = rep
        .http
        .delete(rep.url(&format!("/api/replica/outbox/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(status(&rep).await["failed_writes"], 0);
}

#[tokio::test]
async fn notifications_do_not_repeat_after_a_reconnect_or_a_fresh_snapshot() {
    let (srv, proxy, rep) = start_pair().await;
    let (slug, key) = seed(&srv).await;
    caught_up(&srv, &rep).await;
    let start = head(&srv).await;
    let mut local = ws::connect(&rep.ws_url(ADMIN_TOKEN, Some(start)))
        .await
        .unwrap();
    srv.webhook(&slug, &key, &event("n1", "no-answer", "+1"))
        .await
        .unwrap();
    caught_up(&srv, &rep).await;
    proxy.cut();
    until(30, "offline", || async {
        status(&rep).await["state"] == "offline"
    })
    .await;
    srv.webhook(&slug, &key, &event("n2", "no-answer", "+1"))
        .await
        .unwrap();
    proxy.heal();
    caught_up(&srv, &rep).await;
    let msgs = ws::collect(&mut local, 10, Duration::from_secs(2))
        .await
        .unwrap();
    let missed: Vec<(&str, i64)> = msgs
        .iter()
        .filter(|m| m["type"] == "call.upserted")
        .map(|m| {
            (
                m["data"]["call_id"].as_str().unwrap(),
                m["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(missed.len(), 2, "one notification per call: {missed:?}");
    assert_eq!((missed[0].0, missed[1].0), ("n1", "n2"));
    let last = missed[1].1;

    // A fresh snapshot (the replica now follows as another user): its window
    // is told to reload, and old calls are not announced again.
    drop(local);
    let sup = srv.user("sunita", "supervisor", &[]).await.unwrap();
    let dir = {
        let mut rep = rep;
        rep.stop().await.unwrap();
        std::mem::replace(&mut rep.dir, tempfile::tempdir().unwrap())
    };
    let rep = TestServer::replica_in(dir, &proxy.url(), &sup)
        .await
        .unwrap();
    until(30, "live again", || async {
        rep.get_json("/api/replica/status", &sup).await.unwrap().1["state"] == "live"
    })
    .await;
    let mut local = ws::connect(&rep.ws_url(&sup, Some(last))).await.unwrap();
    let first = ws::next(&mut local, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first["type"], "reload", "{first}");
    srv.webhook(&slug, &key, &event("n3", "no-answer", "+1"))
        .await
        .unwrap();
    let msgs = ws::collect(&mut local, 5, Duration::from_secs(2))
        .await
        .unwrap();
    let calls: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "call.upserted")
        .map(|m| m["data"]["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["n3"], "only the new call");
}

#[tokio::test]
async fn a_replica_whose_token_the_receiver_refuses_says_so_and_retries() {
    let srv = TestServer::start().await.unwrap();
    let rep = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.base, "not-a-token")
        .await
        .unwrap();
    until(30, "the refusal to show", || async {
        let (s, b) = rep
            .get_json("/api/replica/status", "not-a-token")
            .await
            .unwrap();
        s == 200
            && b["state"] == "offline"
            && b["last_error"]
                .as_str()
                .unwrap_or("")
                .contains("refused the token")
    })
    .await;
    // Nothing to serve yet: no user, no rows.
    let (s, b) = rep.get_json("/api/calls", "not-a-token").await.unwrap();
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (503, Some("replica_not_ready"))
    );
    let (s, _) = rep.get_json("/api/replica/status", "other").await.unwrap();
    assert_eq!(s, 401);
}

/// A replica holds no archived rows: the archive's routes say where it is
/// instead of answering with empty totals or an empty file.
#[tokio::test]
async fn the_archive_is_the_receivers() {
    let (srv, proxy, rep) = start_pair().await;
    caught_up(&srv, &rep).await;
    for path in ["/api/retention/archive", "/api/retention/archive/calls.csv"] {
        let (s, b) = rep.get_json(path, ADMIN_TOKEN).await.unwrap();
        assert_eq!(
            (s, &b["error"]["code"]),
            (421, &json!("not_the_receiver")),
            "{path}: {b}"
        );
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&proxy.url()),
            "names the receiver: {b}"
        );
        let (s, _) = srv.get_json(path, ADMIN_TOKEN).await.unwrap();
        assert_eq!(s, 200, "{path} on the receiver");
    }
}
