use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

async fn view_total(srv: &TestServer, slug: &str, view: &str) -> i64 {
    let (_, b) = srv
        .get_json(
            &format!("/api/calls?department={slug}&view={view}"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    b["total"].as_i64().unwrap()
}

#[tokio::test]
async fn the_four_views_cover_every_hangup_call_exactly_once() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Views").await.unwrap();
    let agent = srv.user("meera", "agent", &[&slug]).await.unwrap();
    for i in 0..12 {
        let status = if i % 2 == 0 { "no-answer" } else { "abandoned" };
        srv.webhook(&slug, &key, &event(&format!("v{i}"), status, "+91"))
            .await
            .unwrap();
    }
    // A live call and a completed one are not in the worklist.
    srv.webhook(&slug, &key, &event("live", "ringing", "+91"))
        .await
        .unwrap();
    srv.webhook(&slug, &key, &event("done", "completed", "+91"))
        .await
        .unwrap();
    // Assign some, attempt some, resolve some, and mix.
    for i in 0..3 {
        let (s, b) = srv
            .post_json(&format!("/api/calls/v{i}/assign"), &agent, &json!({}))
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
    }
    for i in 3..6 {
        let (s, b) = srv.post_json(&format!("/api/calls/v{i}/disposition"), &agent, &json!({"category": "Not reachable", "sub_category": "No answer", "outcome": "no_answer"})).await.unwrap();
        assert_eq!(s, 201, "{b}");
    }
    for i in 6..8 {
        let (s, b) = srv
            .post_json(
                &format!("/api/calls/v{i}/disposition"),
                &agent,
                &json!({"category": "Callback done", "outcome": "resolved", "notes": "sorted"}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{b}");
    }
    // Assigned then unassigned is pending again.
    srv.post_json("/api/calls/v8/assign", &agent, &json!({}))
        .await
        .unwrap();
    let (s, _) = srv
        .post_json("/api/calls/v8/unassign", &agent, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200);

    let (_, all) = srv
        .get_json(
            &format!("/api/calls?department={slug}&status=worklist&limit=1000"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let total = all["total"].as_i64().unwrap();
    assert_eq!(total, 12);
    let counts: Vec<i64> = futures_util::future::join_all(
        ["pending", "assigned", "attempted", "resolved"].map(|v| view_total(&srv, &slug, v)),
    )
    .await;
    assert_eq!(counts, vec![4, 3, 3, 2]);
    assert_eq!(
        counts.iter().sum::<i64>(),
        total,
        "no hangup call falls through the views"
    );
    // Every worklist call says which view it is in.
    for c in all["data"].as_array().unwrap() {
        assert!(
            ["pending", "assigned", "attempted", "resolved"]
                .contains(&c["work_state"].as_str().unwrap()),
            "{c}"
        );
    }
    let (_, stats) = srv.get_json("/api/stats", ADMIN_TOKEN).await.unwrap();
    assert_eq!(stats["hangup_pending"][&slug], 4);
    assert_eq!(
        stats["worklist"][&slug],
        json!({"pending": 4, "assigned": 3, "attempted": 3, "resolved": 2})
    );
}

#[tokio::test]
async fn dispositions_are_validated_counted_and_kept_in_history() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Disp").await.unwrap();
    srv.webhook(&slug, &key, &event("x1", "no-answer", "+9198"))
        .await
        .unwrap();
    let bad: [(Value, &str); 5] = [
        (
            json!({"category": "Nope", "outcome": "resolved"}),
            "category",
        ),
        (
            json!({"category": "Not reachable", "sub_category": "Moon", "outcome": "no_answer"}),
            "sub_category",
        ),
        (
            json!({"category": "Not reachable", "outcome": "callback"}),
            "next_callback_at",
        ),
        (
            json!({"category": "Not reachable", "outcome": "callback", "next_callback_at": "2001-01-01T00:00:00Z"}),
            "future",
        ),
        (
            json!({"category": "Not reachable", "outcome": "teleported"}),
            "outcome",
        ),
    ];
    for (body, needle) in bad {
        let (s, b) = srv
            .post_json("/api/calls/x1/disposition", ADMIN_TOKEN, &body)
            .await
            .unwrap();
        assert_eq!(s, 422, "{body} → {b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(needle),
            "{b}"
        );
    }
    let (s, b) = srv.post_json("/api/calls/x1/disposition", ADMIN_TOKEN, &json!({"category": "not reachable", "sub_category": "busy", "outcome": "callback", "next_callback_at": "2099-01-01T09:30:00+05:30", "notes": "call after lunch"})).await.unwrap();
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["disposition"]["category"], "Not reachable");
    assert_eq!(
        b["disposition"]["next_callback_at"],
        "2099-01-01T04:00:00.000Z"
    );
    assert_eq!(b["call"]["attempts"], 1);
    let version = b["call"]["version"].as_i64().unwrap();
    // A stale version is a conflict, not an overwrite.
    let (s, b) = srv.post_json("/api/calls/x1/disposition", ADMIN_TOKEN, &json!({"category": "Callback done", "outcome": "resolved", "expected_version": version - 1})).await.unwrap();
    assert_eq!(s, 409, "{b}");
    let (s, b) = srv.post_json("/api/calls/x1/disposition", ADMIN_TOKEN, &json!({"category": "Callback done", "outcome": "resolved", "expected_version": version})).await.unwrap();
    assert_eq!(s, 201, "{b}");
    let (_, c) = srv.get_json("/api/calls/x1", ADMIN_TOKEN).await.unwrap();
    assert_eq!(c["attempts"], 2);
    assert_eq!(c["work_state"], "resolved");
    assert_eq!(c["dispositions"].as_array().unwrap().len(), 2);
    assert_eq!(c["dispositions"][0]["notes"], "call after lunch");

    // Department categories are offered only there.
    let (s, cat) = srv
        .post_json(
            "/api/categories",
            ADMIN_TOKEN,
            &json!({"department": slug, "name": "Escalated", "sub_categories": ["Manager"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{cat}");
    let (_, cats) = srv
        .get_json(&format!("/api/categories?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert!(cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "Escalated"));
    let (s, _) = srv
        .post_json(
            "/api/calls/x1/disposition",
            ADMIN_TOKEN,
            &json!({"category": "Escalated", "sub_category": "Manager", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201);
}

#[tokio::test]
async fn list_filters_search_sort_and_paginate() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Lists").await.unwrap();
    for i in 0..25 {
        let status = ["queued", "ringing", "answered", "no-answer", "completed"][i % 5];
        srv.webhook(&slug, &key, &json!({"data": {"call_id": format!("L{i:02}"), "caller": format!("+9190000000{i:02}"), "name": if i == 7 { "Priya Sharma" } else { "Caller" }, "status": status}})).await.unwrap();
    }
    let (_, live) = srv
        .get_json(
            &format!("/api/calls?department={slug}&status=live&limit=5&offset=0"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(live["total"], 20);
    assert_eq!(live["data"].as_array().unwrap().len(), 5);
    let (_, q) = srv
        .get_json("/api/calls?q=priya", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(q["total"], 1);
    assert_eq!(q["data"][0]["call_id"], "L07");
    let (_, q) = srv
        .get_json("/api/calls?q=%2B919000000012", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(q["data"][0]["call_id"], "L12");
    let (_, asc) = srv
        .get_json("/api/calls?sort=mobile_number&limit=3", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(asc["data"][0]["call_id"], "L00");
    let (_, page2) = srv
        .get_json(
            "/api/calls?sort=mobile_number&limit=3&offset=3",
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(page2["data"][0]["call_id"], "L03");
    let (s, b) = srv
        .get_json("/api/calls?sort=password", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    let (s, _) = srv
        .get_json("/api/calls?status=bogus", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422);
    let (_, stats) = srv.get_json("/api/stats", ADMIN_TOKEN).await.unwrap();
    assert_eq!(
        stats["live"][&slug],
        json!({"waiting": 5, "ringing": 5, "active": 5, "missed": 5})
    );
    assert_eq!(stats["active_calls"], 15);
    assert_eq!(stats["total_today"], 25);
    assert_eq!(stats["completed_today"], 5);
}

#[tokio::test]
async fn stats_count_sla_breaches_and_split_the_day_by_department() {
    let srv = TestServer::start().await.unwrap();
    let (late, late_key) = srv.provider("Late").await.unwrap();
    let (calm, calm_key) = srv.provider("Calm").await.unwrap();
    // A zero-minute SLA is due the moment the call is missed.
    let (s, b) = srv
        .patch_json(
            &format!("/api/providers/{late}"),
            ADMIN_TOKEN,
            &json!({"sla_minutes": 0}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    for i in 0..3 {
        srv.webhook(
            &late,
            &late_key,
            &event(&format!("l{i}"), "no-answer", "+91"),
        )
        .await
        .unwrap();
    }
    srv.webhook(&calm, &calm_key, &event("c0", "no-answer", "+91"))
        .await
        .unwrap();
    srv.webhook(&calm, &calm_key, &event("c1", "completed", "+91"))
        .await
        .unwrap();
    // A resolved call no longer breaches.
    let (s, b) = srv
        .post_json(
            &format!("/api/calls/l0/disposition?department={late}"),
            ADMIN_TOKEN,
            &json!({"category": "Callback done", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let (_, stats) = srv.get_json("/api/stats", ADMIN_TOKEN).await.unwrap();
    assert_eq!(stats["sla_breached"], 2, "{stats}");
    assert_eq!(stats["departments"][&late]["sla_breached"], 2);
    assert_eq!(stats["departments"][&late]["total_today"], 3);
    assert_eq!(stats["departments"][&late]["missed_today"], 3);
    assert_eq!(stats["departments"][&calm]["sla_breached"], 0);
    assert_eq!(stats["departments"][&calm]["total_today"], 2);
    assert_eq!(stats["departments"][&calm]["completed_today"], 1);
    assert_eq!(stats["total_today"], 5);
}

#[tokio::test]
async fn cursor_pages_walk_the_same_order_as_offset_pages() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Cursors").await.unwrap();
    for i in 0..17 {
        let status = ["no-answer", "ringing", "completed"][i % 3];
        // Some calls share a number, some have none: ties and empty values.
        let mut data = json!({"call_id": format!("K{i:02}"), "status": status});
        if i % 4 != 0 {
            data["caller"] = json!(format!("+91800000{}", i % 5));
        }
        let (s, b) = srv
            .webhook(&slug, &key, &json!({ "data": data }))
            .await
            .unwrap();
        assert!((200..300).contains(&s), "{b}");
    }
    for sort in [
        "mobile_number",
        "-mobile_number",
        "-created_at",
        "sla_due_at",
    ] {
        let ids = |b: &Value| -> Vec<String> {
            b["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["call_id"].as_str().unwrap().to_string())
                .collect()
        };
        let mut by_offset = Vec::new();
        for offset in (0..21).step_by(4) {
            let (_, b) = srv
                .get_json(
                    &format!("/api/calls?department={slug}&sort={sort}&limit=4&offset={offset}"),
                    ADMIN_TOKEN,
                )
                .await
                .unwrap();
            by_offset.extend(ids(&b));
        }
        assert_eq!(by_offset.len(), 17);
        let mut by_cursor = Vec::new();
        let mut cursor = String::new();
        for _ in 0..10 {
            let (s, b) = srv
                .get_json(
                    &format!("/api/calls?department={slug}&sort={sort}&limit=4&cursor={cursor}"),
                    ADMIN_TOKEN,
                )
                .await
                .unwrap();
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["total"], 17);
            by_cursor.extend(ids(&b));
            match b["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(by_cursor, by_offset, "sort {sort}");
    }
    // A cursor belongs to its sort; a forged one and one with an offset are refused.
    let (_, b) = srv
        .get_json(
            &format!("/api/calls?department={slug}&sort=mobile_number&limit=4"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let c = b["next_cursor"].as_str().unwrap().to_string();
    for bad in [
        format!("/api/calls?sort=-mobile_number&cursor={c}"),
        format!("/api/calls?sort=mobile_number&cursor={c}&offset=4"),
        "/api/calls?sort=mobile_number&cursor=nothex".to_string(),
    ] {
        let (s, b) = srv.get_json(&bad, ADMIN_TOKEN).await.unwrap();
        assert_eq!(s, 422, "{bad}: {b}");
        assert_eq!(b["error"]["code"], "invalid", "{b}");
    }
}

/// The first event of a provider whose mapping also reads the direction.
async fn directed(srv: &TestServer) -> (String, String) {
    let mut mapping = callboard_tests::generic_mapping();
    mapping["direction"] = json!("data.direction");
    srv.provider_with("Reach", mapping, callboard_tests::generic_status_map())
        .await
        .unwrap()
}

fn call_event(id: &str, status: &str, caller: &str, direction: &str) -> Value {
    json!({"data": {"call_id": id, "caller": caller, "status": status, "direction": direction}})
}

#[tokio::test]
async fn a_department_that_settles_by_hand_keeps_a_reached_callers_missed_call() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = directed(&srv).await;
    let (_, p) = srv
        .get_json(&format!("/api/providers/{slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(p["auto_resolve"], true, "on by default: {p}");
    let (s, p) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"auto_resolve": false}),
        )
        .await
        .unwrap();
    assert_eq!((s, &p["auto_resolve"]), (200, &json!(false)), "{p}");
    let (_, audit) = srv
        .get_json("/api/audit?action=provider.update", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        audit["data"][0]["details"]["auto_resolve"],
        json!({"from": true, "to": false}),
        "{audit}"
    );
    let asha = "+919812345678";
    for (id, status, direction) in [
        ("m1", "no-answer", "inbound"),
        ("in1", "answered", "inbound"),
        ("out1", "completed", "outbound-api"),
    ] {
        srv.webhook(&slug, &key, &call_event(id, status, asha, direction))
            .await
            .unwrap();
    }
    let c = srv.call(&slug, "m1").await.unwrap();
    assert_eq!(c["work_state"], "pending", "only a person settles it: {c}");
    // Turned back on, the next reach settles it.
    let (s, _) = srv
        .patch_json(
            &format!("/api/providers/{slug}"),
            ADMIN_TOKEN,
            &json!({"auto_resolve": true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    srv.webhook(&slug, &key, &call_event("in2", "answered", asha, "inbound"))
        .await
        .unwrap();
    assert_eq!(
        srv.call(&slug, "m1").await.unwrap()["work_state"],
        "resolved"
    );
}

#[tokio::test]
async fn a_missed_call_resolves_itself_when_the_caller_is_reached_saying_how() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = directed(&srv).await;
    let (other, other_key) = srv.provider("Elsewhere").await.unwrap();
    let asha = "+919812345678";
    let ravi = "+919800000001";
    for (id, status, who) in [
        ("m1", "no-answer", asha),
        ("m2", "abandoned", asha),
        ("m3", "no-answer", ravi),
    ] {
        srv.webhook(&slug, &key, &call_event(id, status, who, "inbound"))
            .await
            .unwrap();
    }
    // The same caller missed in another department: not this one's to settle.
    srv.webhook(&other, &other_key, &event("x1", "no-answer", asha))
        .await
        .unwrap();
    assert_eq!(view_total(&srv, &slug, "pending").await, 3);

    // Asha calls again and gets through: ringing settles nothing, the answer does.
    srv.webhook(&slug, &key, &call_event("in1", "ringing", asha, "inbound"))
        .await
        .unwrap();
    assert_eq!(view_total(&srv, &slug, "pending").await, 3);
    srv.webhook(&slug, &key, &call_event("in1", "answered", asha, "inbound"))
        .await
        .unwrap();
    for id in ["m1", "m2"] {
        let c = srv.call(&slug, id).await.unwrap();
        assert_eq!(c["work_state"], "resolved", "{c}");
        assert_eq!(c["last_outcome"], "resolved");
        assert_eq!(c["attempts"], 0, "her own call is not an attempt of ours");
        let (_, detail) = srv
            .get_json(&format!("/api/calls/{id}?department={slug}"), ADMIN_TOKEN)
            .await
            .unwrap();
        let d = &detail["dispositions"][0];
        assert_eq!(d["actor"], "callboard", "{detail}");
        assert_eq!(d["category"], "Reached");
        assert_eq!(d["outcome"], "resolved");
        assert!(d["notes"].as_str().unwrap().contains("in1"), "{d}");
    }
    assert_eq!(view_total(&srv, &slug, "pending").await, 1, "Ravi's stays");
    assert_eq!(view_total(&srv, &slug, "resolved").await, 2);
    assert_eq!(view_total(&srv, &other, "pending").await, 1);
    // The call's end settles nothing twice.
    srv.webhook(
        &slug,
        &key,
        &call_event("in1", "completed", asha, "inbound"),
    )
    .await
    .unwrap();
    let (_, detail) = srv
        .get_json(&format!("/api/calls/m1?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(detail["dispositions"].as_array().unwrap().len(), 1);

    // An agent dials Ravi back through the platform and he answers: an attempt, resolved.
    srv.webhook(
        &slug,
        &key,
        &call_event("out1", "completed", ravi, "outbound-api"),
    )
    .await
    .unwrap();
    let c = srv.call(&slug, "m3").await.unwrap();
    assert_eq!(
        (&c["work_state"], &c["attempts"]),
        (&json!("resolved"), &json!(1)),
        "{c}"
    );

    // A missed call after the answered one is new business: it stays.
    srv.webhook(&slug, &key, &call_event("m4", "no-answer", asha, "inbound"))
        .await
        .unwrap();
    assert_eq!(
        srv.call(&slug, "m4").await.unwrap()["work_state"],
        "pending"
    );
    // A withheld number reaches nobody in particular.
    for (id, status) in [("w1", "no-answer"), ("w2", "completed")] {
        srv.webhook(&slug, &key, &call_event(id, status, "anonymous", "inbound"))
            .await
            .unwrap();
    }
    assert_eq!(
        srv.call(&slug, "w1").await.unwrap()["work_state"],
        "pending"
    );

    // The figures: Ravi's dial-back is a callback that worked; Asha getting
    // through on her own is not a callback at all.
    let day = |d: i64| callboard_core::time::fmt(srv.now() + chrono::Duration::days(d));
    let (s, m) = srv
        .get_json(
            &format!(
                "/api/metrics?department={slug}&from={}&to={}",
                day(-1),
                day(1)
            ),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{m}");
    let o = &m["overall"];
    assert_eq!(
        (&o["callbacks_attempted"], &o["callbacks_resolved"]),
        (&json!(1), &json!(1)),
        "{o}"
    );
    assert_eq!(o["callback_success_rate"], 1.0);
}
