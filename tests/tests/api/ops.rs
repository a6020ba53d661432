//! SLA clocks in business hours and the breach scheduler, agent states and
//! callback routing, retention runs and the audit filters.

use callboard_tests::{ws, TestServer, ADMIN_TOKEN};
use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::time::Duration;

fn missed_at(call_id: &str, ts: &str) -> Value {
    json!({ "data": { "call_id": call_id, "caller": "+9198", "status": "no-answer", "ts": ts } })
}

/// The next `call.sla_breached` event within `wait`, if any.
async fn next_breach(sock: &mut ws::Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ws::next(sock, left).await.unwrap() {
            Some(e) if e["type"] == "call.sla_breached" => return Some(e),
            Some(_) => {}
            None => return None,
        }
    }
}

fn iso(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[tokio::test]
async fn business_hours_set_the_deadline_are_validated_and_recompute_open_calls() {
    // The calls are stamped in 2030, on known weekdays: allow events that
    // far ahead (by default a stamp more than 5 minutes ahead is clamped).
    let srv = TestServer::start_with_env(&[("CALLBOARD_MAX_FUTURE_SKEW_SECS", "315360000")])
        .await
        .unwrap();
    let (slug, key) = srv.provider("Hours").await.unwrap();
    // A bad field is named.
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"business_hours": {"time_zone": "UTC", "weekly": {"mon": [["09:00", "18:00"], ["17:00", "19:00"]]}}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("business_hours.weekly.mon"),
        "{b}"
    );
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"business_hours": {"time_zone": "Nowhere/Land", "weekly": {"mon": [["09:00", "18:00"]]}}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("business_hours.time_zone"),
        "{b}"
    );
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"routing": {"strategy": "fastest"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");

    // 24×7 first: a Friday 17:50 miss is due 30 minutes later.
    srv.webhook(&slug, &key, &missed_at("bh1", "2030-11-29T17:50:00Z"))
        .await
        .unwrap();
    let c = srv.call(&slug, "bh1").await.unwrap();
    assert_eq!(c["sla_due_at"], "2030-11-29T18:20:00.000Z");

    // Office hours Mon-Fri 09:00-18:00 London: the same call is due Monday 09:20.
    let hours = json!({"time_zone": "Europe/London",
        "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
                   "thu": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]]},
        "holidays": ["2030-12-25"]});
    let (s, p) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"business_hours": hours}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["business_hours"]["time_zone"], "Europe/London");
    let c = srv.call(&slug, "bh1").await.unwrap();
    assert_eq!(
        c["sla_due_at"], "2030-12-02T09:20:00.000Z",
        "recomputed when hours changed"
    );
    // New calls use the hours; a holiday is skipped.
    srv.webhook(&slug, &key, &missed_at("bh2", "2030-12-24T17:45:00Z"))
        .await
        .unwrap();
    assert_eq!(
        srv.call(&slug, "bh2").await.unwrap()["sla_due_at"],
        "2030-12-26T09:15:00.000Z"
    );
    // The worklist sorts by time left.
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?department={slug}&status=worklist&sort=sla_due_at"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let order: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec!["bh1", "bh2"]);
    // Clearing the hours goes back to 24×7; the change is audited.
    let (s, p) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"business_hours": null}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert!(p["business_hours"].is_null());
    assert_eq!(
        srv.call(&slug, "bh1").await.unwrap()["sla_due_at"],
        "2030-11-29T18:20:00.000Z"
    );
    let (_, audit) = srv
        .get_json(
            &format!("/api/audit?entity=provider&target={slug}"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["business_hours"].is_object()),
        "{audit}"
    );
}

#[tokio::test]
async fn a_breach_is_marked_and_announced_the_moment_it_happens() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Breach").await.unwrap();
    let (s, _) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"sla_minutes": 1}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    // The clock started 30 s ago by the server's clock: 30 s left.
    let started = srv.now() - ChronoDuration::seconds(30);
    srv.webhook(&slug, &key, &missed_at("late", &iso(started)))
        .await
        .unwrap();
    // A call with a minute left must not be marked.
    srv.webhook(&slug, &key, &missed_at("fresh", &iso(srv.now())))
        .await
        .unwrap();
    let c = srv.call(&slug, "late").await.unwrap();
    assert!(c["sla_breached_at"].is_null(), "not yet: {c}");
    let due = chrono::DateTime::parse_from_rfc3339(c["sla_due_at"].as_str().unwrap()).unwrap();
    // 25 s later (the clock moved, not waited for): 5 s left, nothing marked.
    srv.advance(Duration::from_secs(25));
    assert_eq!(
        next_breach(&mut sock, Duration::from_millis(300)).await,
        None,
        "announced before the deadline"
    );
    assert!(srv.call(&slug, "late").await.unwrap()["sla_breached_at"].is_null());
    // Past the deadline: marked and announced at once.
    srv.advance(Duration::from_secs(6));
    let moved = std::time::Instant::now();
    let breach = next_breach(&mut sock, Duration::from_secs(10))
        .await
        .expect("a call.sla_breached event");
    assert!(
        moved.elapsed() < Duration::from_millis(1500),
        "announced {:?} after the clock passed the deadline",
        moved.elapsed()
    );
    assert_eq!(breach["data"]["call_id"], "late");
    let at =
        chrono::DateTime::parse_from_rfc3339(breach["data"]["sla_breached_at"].as_str().unwrap())
            .unwrap();
    let late_by = at.signed_duration_since(due).num_milliseconds();
    assert!(
        (0..2500).contains(&late_by),
        "marked {late_by} ms after the deadline by the server's clock"
    );
    let c = srv.call(&slug, "late").await.unwrap();
    assert!(c["sla_breached_at"].is_string());
    assert!(srv.call(&slug, "fresh").await.unwrap()["sla_breached_at"].is_null());
    let (_, stats) = srv.get_json("/api/stats", ADMIN_TOKEN).await.unwrap();
    assert_eq!(stats["sla_breached"], 1);
}

async fn agent(srv: &TestServer, name: &str, dept: &str) -> (i64, String) {
    let token = srv.user(name, "agent", &[dept]).await.unwrap();
    (srv.user_id(name).await.unwrap(), token)
}

async fn set_state(srv: &TestServer, id: i64, token: &str, state: &str) -> (u16, Value) {
    srv.put_json(
        &format!("/api/agents/{id}/state"),
        token,
        &json!({"state": state}),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn agents_set_their_state_and_supervisors_see_everyone() {
    let srv = TestServer::start().await.unwrap();
    let (slug, _) = srv.provider("States").await.unwrap();
    let (ann, ann_t) = agent(&srv, "ann", &slug).await;
    let (bob, bob_t) = agent(&srv, "bob", &slug).await;
    let sup = srv.user("sue", "supervisor", &[]).await.unwrap();
    let mut sock = ws::connect(&srv.ws_url(&sup, None)).await.unwrap();

    let (s, b) = set_state(&srv, ann, &ann_t, "available").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["state"], "available");
    assert!(b["since"].is_string());
    let (s, _) = set_state(&srv, bob, &ann_t, "away").await;
    assert_eq!(s, 403, "an agent cannot set someone else's state");
    let (s, b) = set_state(&srv, ann, &ann_t, "sleeping").await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = set_state(&srv, bob, &sup, "away").await;
    assert_eq!(s, 200, "a supervisor sets anyone's");
    let (s, _) = set_state(&srv, 9999, &sup, "away").await;
    assert_eq!(s, 404);

    let (_, list) = srv.get_json("/api/agents", &sup).await.unwrap();
    let state_of = |name: &str| {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == name)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state_of("ann"), "available");
    assert_eq!(state_of("bob"), "away");
    assert_eq!(state_of("sue"), "offline", "never set: offline");
    // An agent sees only themselves.
    let (_, mine) = srv.get_json("/api/agents", &bob_t).await.unwrap();
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["username"], "bob");

    let events = ws::collect(&mut sock, 10, Duration::from_millis(800))
        .await
        .unwrap();
    let changes: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "agent.state_changed")
        .collect();
    assert_eq!(changes.len(), 2, "{events:?}");
    assert_eq!(changes[1]["data"]["username"], "bob");
}

#[tokio::test]
async fn new_missed_calls_are_routed_round_robin_to_available_agents_only() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Routing").await.unwrap();
    let (other, _) = srv.provider("Elsewhere").await.unwrap();
    let (ann, ann_t) = agent(&srv, "ann", &slug).await;
    let (bob, bob_t) = agent(&srv, "bob", &slug).await;
    let (cat, cat_t) = agent(&srv, "cat", &slug).await;
    let (dan, dan_t) = agent(&srv, "dan", &other).await;
    set_state(&srv, ann, &ann_t, "available").await;
    set_state(&srv, bob, &bob_t, "away").await;
    set_state(&srv, cat, &cat_t, "busy").await;
    set_state(&srv, dan, &dan_t, "available").await;

    // Routing off: nobody is assigned.
    srv.webhook(
        &slug,
        &key,
        &callboard_tests::event("r0", "no-answer", "+91"),
    )
    .await
    .unwrap();
    assert!(srv.call(&slug, "r0").await.unwrap()["assignee_id"].is_null());

    let (s, p) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"routing": {"strategy": "round_robin"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["routing"]["strategy"], "round_robin");
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    for i in 1..=4 {
        let status = if i % 2 == 0 { "abandoned" } else { "no-answer" };
        let (s, ack) = srv
            .webhook(
                &slug,
                &key,
                &callboard_tests::event(&format!("r{i}"), status, "+91"),
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let mut got = Vec::new();
    for i in 1..=4 {
        got.push(
            srv.call(&slug, &format!("r{i}")).await.unwrap()["assignee_id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(
        got,
        vec![ann, cat, ann, cat],
        "in turn, never to away bob or to another department"
    );
    // Each assignment is on the stream.
    let events = ws::collect(&mut sock, 40, Duration::from_millis(800))
        .await
        .unwrap();
    let assigned: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "call.upserted" && e["data"]["assignee_id"].is_i64())
        .collect();
    assert_eq!(assigned.len(), 4, "{events:?}");
    // One event per routed delivery: the call as assigned, not also the
    // unassigned call just before it.
    for i in 1..=4 {
        let id = format!("r{i}");
        let n = events
            .iter()
            .filter(|e| e["type"] == "call.upserted" && e["data"]["call_id"] == id.as_str())
            .count();
        assert_eq!(n, 1, "{id}: {events:?}");
    }
    // The call is in the assignee's worklist.
    let (_, mine) = srv
        .get_json("/api/calls?assignee=me&status=worklist", &ann_t)
        .await
        .unwrap();
    assert_eq!(mine["total"], 2);
    // Open assignments are counted.
    let (_, list) = srv.get_json("/api/agents", ADMIN_TOKEN).await.unwrap();
    let ann_row = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "ann")
        .unwrap()
        .clone();
    assert_eq!(ann_row["open_assignments"], 2);
    assert!(ann_row["last_assigned_at"].is_string());
    // Manual reassignment still works.
    let (s, c) = srv
        .post_json(
            "/api/calls/r1/assign",
            ADMIN_TOKEN,
            &json!({"user_id": bob}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["assignee_id"], bob);
    // Nobody available: the call waits unassigned.
    set_state(&srv, ann, &ann_t, "offline").await;
    set_state(&srv, cat, &cat_t, "away").await;
    srv.webhook(
        &slug,
        &key,
        &callboard_tests::event("r5", "no-answer", "+91"),
    )
    .await
    .unwrap();
    assert!(srv.call(&slug, "r5").await.unwrap()["assignee_id"].is_null());
}

#[tokio::test]
async fn skills_routing_goes_to_the_agent_with_the_skills() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Skills").await.unwrap();
    let (ann, ann_t) = agent(&srv, "ann", &slug).await;
    let (bob, bob_t) = agent(&srv, "bob", &slug).await;
    let (s, u) = srv
        .patch_json(
            &format!("/api/users/{bob}"),
            ADMIN_TOKEN,
            &json!({"skills": ["Spanish", "billing"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["skills"], json!(["spanish", "billing"]));
    set_state(&srv, ann, &ann_t, "available").await;
    set_state(&srv, bob, &bob_t, "available").await;
    let (s, p) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"routing": {"strategy": "skills", "skills": []}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "skills needs skills: {p}");
    assert!(p["error"]["message"]
        .as_str()
        .unwrap()
        .contains("routing.skills"));
    srv.patch_json(
        &format!("/api/providers/{slug}"),
        ADMIN_TOKEN,
        &json!({"routing": {"strategy": "skills", "skills": ["spanish"]}}),
    )
    .await
    .unwrap();
    for i in 0..3 {
        srv.webhook(
            &slug,
            &key,
            &callboard_tests::event(&format!("s{i}"), "no-answer", "+91"),
        )
        .await
        .unwrap();
        assert_eq!(
            srv.call(&slug, &format!("s{i}")).await.unwrap()["assignee_id"],
            bob
        );
    }
}

/// Puts `n` finished calls created `days` ago straight into the database
/// file (the API only creates calls "now"), with raw deliveries and a
/// disposition on the first.
fn seed_old_calls(
    db: &std::path::Path,
    slug: &str,
    n: usize,
    days: i64,
    status: &str,
    resolved: bool,
) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let at = iso(Utc::now() - ChronoDuration::days(days));
    let pid: i64 = conn
        .query_row("SELECT id FROM providers WHERE slug = ?1", [slug], |r| {
            r.get(0)
        })
        .unwrap();
    let tag = if resolved { "r" } else { "" };
    for i in 0..n {
        conn.execute(
            "INSERT INTO calls (provider_id, department, call_id, status, created_at, updated_at, resolved_at, worklist_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
            rusqlite::params![pid, slug, format!("{status}{tag}-{days}-{i}"), status, at,
                resolved.then(|| at.clone()), (status == "missed").then(|| at.clone())],
        )
        .unwrap();
        let id = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO raw_events (provider_id, received_at, method, payload, body_hash, outcome, call_row_id, call_id)
             VALUES (?1, ?2, 'POST', '{}', ?3, 'applied', ?4, ?5)",
            rusqlite::params![pid, at, format!("h{status}{tag}{days}{i}"), id, format!("{status}{tag}-{days}-{i}")],
        )
        .unwrap();
        if i == 0 {
            conn.execute(
                "INSERT INTO dispositions (call_row_id, actor, category, outcome, created_at) VALUES (?1, 'x', 'Support', 'resolved', ?2)",
                rusqlite::params![id, at],
            )
            .unwrap();
        }
    }
}

async fn wait_for_run(srv: &TestServer, id: i64) -> Value {
    for _ in 0..200 {
        let (_, runs) = srv
            .get_json("/api/retention/runs", ADMIN_TOKEN)
            .await
            .unwrap();
        if let Some(r) = runs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
        {
            if r["finished_at"].is_string() {
                return r.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("retention run {id} did not finish");
}

#[tokio::test]
async fn retention_archives_old_finished_calls_and_never_touches_open_work() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Retain").await.unwrap();
    let agent_t = srv.user("ann", "agent", &[&slug]).await.unwrap();
    // Settings: defaults, validation, admins only.
    let (s, d) = srv
        .get_json("/api/settings/retention", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        d,
        json!({"calls_days": 30, "mode": "archive", "raw_days": 7})
    );
    let (s, _) = srv
        .get_json("/api/settings/retention", &agent_t)
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = srv
        .post_json("/api/retention/run", &agent_t, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, b) = srv
        .put_json(
            "/api/settings/retention",
            ADMIN_TOKEN,
            &json!({"calls_days": -1, "mode": "archive", "raw_days": 7}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("calls_days"));
    let (s, b) = srv
        .put_json(
            "/api/settings/retention",
            ADMIN_TOKEN,
            &json!({"calls_days": 30, "mode": "shred", "raw_days": 7}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");

    srv.webhook(
        &slug,
        &key,
        &callboard_tests::event("today", "completed", "+91"),
    )
    .await
    .unwrap();
    let mut srv = srv;
    srv.stop().await.unwrap();
    let db = srv.dir.path().join("callboard.db");
    seed_old_calls(&db, &slug, 1200, 40, "completed", false);
    seed_old_calls(&db, &slug, 5, 40, "missed", true);
    // Open work, however old: an unresolved missed call and a call still ringing.
    seed_old_calls(&db, &slug, 3, 40, "missed", false);
    seed_old_calls(&db, &slug, 2, 40, "ringing", false);
    seed_old_calls(&db, &slug, 4, 10, "completed", false);
    let srv = srv.restart().await.unwrap();

    let (s, run) = srv
        .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 202, "{run}");
    assert_eq!(run["trigger"], "manual");
    let run = wait_for_run(&srv, run["id"].as_i64().unwrap()).await;
    assert!(run["error"].is_null(), "{run}");
    assert_eq!(run["calls_archived"], 1205);
    assert_eq!(run["calls_deleted"], 0);
    // 1214 seeded raw deliveries are older than 7 days, plus none of today's.
    assert_eq!(run["raw_events_deleted"], 1214);
    assert!(run["batches"].as_i64().unwrap() >= 3, "in batches: {run}");

    let conn = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM calls_archive"), 1205);
    assert_eq!(count("SELECT COUNT(*) FROM dispositions_archive"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE status = 'missed' AND resolved_at IS NULL"),
        3
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE status = 'ringing'"),
        2
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM calls WHERE call_id LIKE 'completed-10-%'"),
        4
    );
    assert!(srv.call(&slug, "today").await.is_ok());

    // Delete mode; 0 keeps everything.
    let (s, _) = srv
        .put_json(
            "/api/settings/retention",
            ADMIN_TOKEN,
            &json!({"calls_days": 5, "mode": "delete", "raw_days": 0}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (_, run) = srv
        .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    let run = wait_for_run(&srv, run["id"].as_i64().unwrap()).await;
    assert_eq!(run["calls_deleted"], 4);
    assert_eq!(run["raw_events_deleted"], 0);
    assert_eq!(count("SELECT COUNT(*) FROM calls_archive"), 1205);

    // Both runs and the settings change are in the audit log.
    let (_, audit) = srv
        .get_json("/api/audit?entity=retention&actor=admin-token", ADMIN_TOKEN)
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["retention.run", "retention.settings", "retention.run"]
    );
    assert_eq!(audit["data"][0]["details"]["calls_deleted"], 4);
    // The daily run started on the first start-up (no run had ever happened).
    let (_, runs) = srv
        .get_json("/api/retention/runs", ADMIN_TOKEN)
        .await
        .unwrap();
    let runs = runs["data"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(runs[2]["trigger"], "schedule");
    assert_eq!(runs[2]["actor"], "retention-schedule");
}

/// What retention archived can be counted and read back: the totals of the
/// live and archived tables, and a period of the archive as CSV (admins
/// only, recorded in the audit log), each call with its assignee, when it
/// was archived and its last disposition.
#[tokio::test]
async fn admins_count_the_archive_and_export_a_period_of_it() {
    let mut srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Archive").await.unwrap();
    let (other, _) = srv.provider("Elsewhere").await.unwrap();
    let agent_t = srv.user("ann", "agent", &[&slug]).await.unwrap();
    srv.webhook(
        &slug,
        &key,
        &callboard_tests::event("today", "completed", "+91"),
    )
    .await
    .unwrap();
    srv.stop().await.unwrap();
    let db = srv.dir.path().join("callboard.db");
    seed_old_calls(&db, &slug, 3, 40, "completed", false);
    seed_old_calls(&db, &slug, 2, 50, "missed", true);
    let srv = srv.restart().await.unwrap();
    let (_, run) = srv
        .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
        .await
        .unwrap();
    let run = wait_for_run(&srv, run["id"].as_i64().unwrap()).await;
    assert_eq!(run["calls_archived"], 5, "{run}");

    let (s, t) = srv
        .get_json("/api/retention/archive", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["calls_live"], 1, "{t}");
    assert_eq!(t["calls_archived"], 5, "{t}");
    assert_eq!(t["dispositions_archived"], 2, "{t}");
    let oldest = t["oldest_archived_call"].as_str().unwrap().to_string();
    let newest = t["newest_archived_call"].as_str().unwrap().to_string();
    assert!(oldest < newest, "{t}");
    let (s, _) = srv
        .get_json("/api/retention/archive", &agent_t)
        .await
        .unwrap();
    assert_eq!(s, 403);

    let csv = |q: Vec<(&str, String)>, token: String| {
        let req = srv
            .get("/api/retention/archive/calls.csv", &token)
            .query(&q);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The 50-day-old calls only: [oldest, newest).
    let q = vec![
        ("department", slug.clone()),
        ("from", oldest.clone()),
        ("to", newest.clone()),
    ];
    let (s, body) = csv(q, ADMIN_TOKEN.into()).await;
    assert_eq!(s, 200, "{body}");
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("call_id,department,status,"), "{body}");
    assert!(lines[0].contains("archived_at,dispositions,last_disposition,last_disposition_notes"));
    assert_eq!(lines.len(), 3, "the header and the two calls: {body}");
    assert!(
        lines[1].starts_with("missedr-50-0,archive,missed,"),
        "{body}"
    );
    assert!(lines[1].contains(",1,Support,"), "its disposition: {body}");
    assert!(lines[2].starts_with("missedr-50-1,"), "{body}");
    // Everything archived, oldest first.
    let (_, all) = csv(vec![], ADMIN_TOKEN.into()).await;
    assert_eq!(
        all.split("\r\n").filter(|l| !l.is_empty()).count(),
        6,
        "{all}"
    );
    // Another department archived nothing.
    let (_, none) = csv(vec![("department", other.clone())], ADMIN_TOKEN.into()).await;
    assert_eq!(
        none.split("\r\n").filter(|l| !l.is_empty()).count(),
        1,
        "{none}"
    );
    let (s, b) = csv(vec![("from", "last-tuesday".into())], ADMIN_TOKEN.into()).await;
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("from"), "{b}");
    let (s, _) = csv(vec![], agent_t.clone()).await;
    assert_eq!(s, 403);

    // Each download is in the audit log, with what was sent.
    let (_, audit) = srv
        .get_json("/api/audit?action=calls.archive_export", ADMIN_TOKEN)
        .await
        .unwrap();
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{audit}");
    let first = entries.last().unwrap();
    assert_eq!(
        first["details"]["filters"]["department"],
        slug.as_str(),
        "{first}"
    );
    assert_eq!(first["details"]["rows"], 2, "{first}");
    assert_eq!(first["details"]["status"], "completed", "{first}");
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let srv = TestServer::start().await.unwrap();
    for i in 0..5 {
        srv.provider(&format!("Audit {i}")).await.unwrap();
    }
    srv.user("ann", "agent", &[]).await.unwrap();
    let (_, page1) = srv
        .get_json("/api/audit?entity=provider&limit=3", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(page1["data"].as_array().unwrap().len(), 3);
    let before = page1["next_before"].as_i64().unwrap();
    let (_, page2) = srv
        .get_json(
            &format!("/api/audit?entity=provider&limit=3&before={before}"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(page2["data"].as_array().unwrap().len(), 2);
    assert!(page2["next_before"].is_null());
    let (_, users) = srv
        .get_json("/api/audit?entity=user", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(users["data"][0]["action"], "user.create");
    assert_eq!(users["data"][0]["target"], "ann");
    let (_, by_actor) = srv
        .get_json("/api/audit?actor=admin-token&entity=user", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(by_actor["data"].as_array().unwrap().len(), 1);
    let (_, none) = srv
        .get_json("/api/audit?from=2099-01-01T00:00:00Z", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(none["data"].as_array().unwrap().is_empty());
    let (s, b) = srv
        .get_json("/api/audit?from=yesterday", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    // The "%" in an entity is not a wildcard.
    let (_, wild) = srv
        .get_json("/api/audit?entity=%25", ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(wild["data"].as_array().unwrap().is_empty());
}
