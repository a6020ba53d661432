//! `GET /api/metrics` and `GET /api/metrics/agents` against numbers worked
//! out by hand from webhooks with controlled timestamps (docs/METRICS.md).

use callboard_tests::{assert_match_schemas, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

const FROM: &str = "2026-03-02T10:00:00Z";
const TO: &str = "2026-03-02T12:00:00Z";

fn mapping() -> Value {
    json!({
        "call_id": "data.call_id",
        "mobile_number": "data.caller",
        "status": "data.status",
        "started_at": "data.started",
        "answered_at": "data.answered",
        "ended_at": "data.ended",
        "event_at": "data.ended",
        "agent_name": "data.agent",
        "direction": "data.direction"
    })
}

fn at(hms: &str) -> String {
    format!("2026-03-02T{hms}Z")
}

/// One final event per call: status, start, answer, end, agent.
fn call(
    id: &str,
    status: &str,
    started: &str,
    answered: Option<&str>,
    ended: &str,
    agent: Option<&str>,
) -> Value {
    // A caller of its own: an answered call to one number would settle
    // that number's missed calls (`resolve_reached`), which is not this test's.
    let caller = format!(
        "+9198{:08}",
        id.bytes().fold(0u64, |a, b| a * 256 + u64::from(b)) % 100_000_000
    );
    json!({"data": {"call_id": id, "caller": caller, "status": status, "started": at(started),
        "answered": answered.map(at), "ended": at(ended), "agent": agent}})
}

/// Two departments; the expected figures are in the comments of `by_hand`.
async fn fixture(srv: &TestServer) -> (String, String) {
    let (sales, sk) = srv
        .provider_with("Sales", mapping(), generic_status_map())
        .await
        .unwrap();
    let (support, pk) = srv
        .provider_with("Support", mapping(), generic_status_map())
        .await
        .unwrap();
    let events = [
        // s1: answered after 8 s, talked 180 s.
        call(
            "s1",
            "completed",
            "10:00:00",
            Some("10:00:08"),
            "10:03:08",
            Some("Asha"),
        ),
        // s2: answered after 25 s, talked 60 s.
        call(
            "s2",
            "completed",
            "10:10:00",
            Some("10:10:25"),
            "10:11:25",
            Some("Asha"),
        ),
        // s3: hung up after 2 s: a short abandon.
        call("s3", "abandoned", "10:20:00", None, "10:20:02", None),
        // s4: hung up after 60 s: abandoned.
        call("s4", "abandoned", "10:30:00", None, "10:31:00", None),
        // s5: nobody answered.
        call("s5", "no-answer", "11:15:00", None, "11:15:30", None),
        // s6: one second before the range.
        call(
            "s6",
            "completed",
            "09:59:59",
            Some("10:00:01"),
            "10:01:00",
            Some("Asha"),
        ),
    ];
    for e in &events {
        assert_eq!(srv.webhook(&sales, &sk, e).await.unwrap().0, 200, "{e}");
    }
    // s7: outbound, never offered.
    let mut out = call(
        "s7",
        "completed",
        "10:40:00",
        Some("10:40:01"),
        "10:50:00",
        Some("Asha"),
    );
    out["data"]["direction"] = json!("outbound");
    assert_eq!(srv.webhook(&sales, &sk, &out).await.unwrap().0, 200);
    // t1: answered after exactly 20 s (= T), talked 300 s.
    let t1 = call(
        "t1",
        "completed",
        "10:45:00",
        Some("10:45:20"),
        "10:50:20",
        Some("Ravi"),
    );
    assert_eq!(srv.webhook(&support, &pk, &t1).await.unwrap().0, 200);
    (sales, support)
}

async fn metrics(srv: &TestServer, token: &str, extra: &str) -> (u16, Value) {
    srv.get_json(
        &format!("/api/metrics?from={FROM}&to={TO}&utc_offset_minutes=0{extra}"),
        token,
    )
    .await
    .unwrap()
}

fn secs_between(a: &str, b: &str) -> f64 {
    let a = chrono::DateTime::parse_from_rfc3339(a).unwrap();
    let b = chrono::DateTime::parse_from_rfc3339(b).unwrap();
    (b - a).num_milliseconds() as f64 / 1000.0
}

#[tokio::test]
async fn metrics_match_the_figures_worked_out_by_hand() {
    let srv = TestServer::start().await.unwrap();
    let (sales, support) = fixture(&srv).await;
    // s4 is called back and resolved (after its 30-minute SLA: the clock is real time).
    let (s, d) = srv
        .post_json(
            &format!("/api/calls/s4/disposition?department={sales}"),
            ADMIN_TOKEN,
            &json!({"category": "Callback done", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{d}");
    let callback_wait = secs_between(
        &at("10:31:00"),
        d["disposition"]["created_at"].as_str().unwrap(),
    );

    let (s, r) = metrics(&srv, ADMIN_TOKEN, "").await;
    assert_eq!(s, 200, "{r}");
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    assert_match_schemas(&doc, &[("MetricsReport", r.clone())]);
    assert_eq!(
        (
            r["sl_seconds"].as_i64(),
            r["short_abandon_seconds"].as_i64()
        ),
        (Some(20), Some(5))
    );
    let o = &r["overall"];
    assert_eq!(o["offered"], 6); // s1 s2 s3 s4 s5 t1
    assert_eq!(o["answered"], 3); // s1 s2 t1
    assert_eq!(o["answered_within_sl"], 2); // s1 (8 s), t1 (20 s)
    assert_eq!(o["short_abandoned"], 1); // s3
    assert_eq!(o["abandoned"], 1); // s4
    assert_eq!(o["missed"], 1); // s5
    assert_eq!(o["abandon_rate"], 0.2); // 1 / (6 - 1)
    assert_eq!(o["service_level"], 0.4); // 2 / (6 - 1)
    assert_eq!(o["asa_seconds"], 17.7); // (8 + 25 + 20) / 3 = 17.67
    assert_eq!(o["aht_seconds"], 180.0); // (180 + 60 + 300) / 3
    assert_eq!(o["callbacks_due"], 3); // s3 s4 s5
    assert_eq!(o["callbacks_attempted"], 1);
    assert_eq!(o["callbacks_resolved"], 1);
    assert_eq!(o["callback_success_rate"], 1.0);
    // Every clock has stopped or run out; s4 was resolved after its due time.
    assert_eq!(o["callback_sla_compliance"], 0.0);
    let wait = o["avg_callback_wait_seconds"].as_f64().unwrap();
    // The figure is rounded to 0.1 s: up to 0.05 s off, plus float noise.
    assert!(
        (wait - callback_wait).abs() <= 0.06,
        "{wait} vs {callback_wait}"
    );
    assert!(o["longest_current_wait_seconds"].is_null());

    let deps = r["departments"].as_array().unwrap();
    assert_eq!(deps.len(), 2);
    let sales_m = deps
        .iter()
        .find(|d| d["department"] == sales.as_str())
        .unwrap();
    assert_eq!(sales_m["offered"], 5);
    assert_eq!(sales_m["abandon_rate"], 0.25); // 1 / (5 - 1)
    assert_eq!(sales_m["service_level"], 0.25); // 1 / (5 - 1)
    assert_eq!(sales_m["asa_seconds"], 16.5); // (8 + 25) / 2
    assert_eq!(sales_m["aht_seconds"], 120.0); // (180 + 60) / 2
    let support_m = deps
        .iter()
        .find(|d| d["department"] == support.as_str())
        .unwrap();
    assert_eq!(
        (
            support_m["offered"].as_i64(),
            support_m["service_level"].as_f64()
        ),
        (Some(1), Some(1.0))
    );

    let hourly = r["series"]["hourly"].as_array().unwrap();
    assert_eq!(hourly.len(), 2);
    assert_eq!(hourly[0]["start"], "2026-03-02T10:00:00.000Z");
    assert_eq!(
        (hourly[0]["offered"].as_i64(), hourly[1]["offered"].as_i64()),
        (Some(5), Some(1))
    );
    assert_eq!(hourly[0]["service_level"], 0.5); // s1, t1 of 5 - 1
    assert_eq!(hourly[1]["missed"], 1);
    let daily = r["series"]["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 1);
    assert_eq!(daily[0]["start"], "2026-03-02T00:00:00.000Z");
    assert_eq!(daily[0]["offered"], 6);

    // The same range on a browser's zone (`tz`): India's half-hour offset
    // puts 10:00Z at 15:30 local, so the hours are 15:00 and 16:00 and 17:00
    // local; the day starts at local midnight (18:30Z the day before).
    let (s, z) = metrics(&srv, ADMIN_TOKEN, "&tz=Asia/Kolkata").await;
    assert_eq!(s, 200, "{z}");
    assert_eq!(z["time_zone"], "Asia/Kolkata");
    let zh = z["series"]["hourly"].as_array().unwrap();
    assert_eq!(zh[0]["start"], "2026-03-02T09:30:00.000Z");
    let total: i64 = zh.iter().map(|b| b["offered"].as_i64().unwrap()).sum();
    assert_eq!(total, 6, "every call in exactly one local hour");
    let zd = z["series"]["daily"].as_array().unwrap();
    assert_eq!(zd[0]["start"], "2026-03-01T18:30:00.000Z");
    assert_eq!(zd[0]["offered"], 6);

    // The calls behind these figures: the export (and list) with `time=offered`
    // select by the same time; by creation (the default) none was created then.
    let export = |q: String| {
        let srv = &srv;
        async move {
            let r = srv
                .get(&format!("/api/calls/export.csv?{q}"), ADMIN_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap().trim_end().split("\r\n").count() - 1
        }
    };
    // s1-s5 and the outbound s7 (a filter on time, not on what the metrics count).
    assert_eq!(
        export(format!(
            "time=offered&from={FROM}&to={TO}&department={sales}"
        ))
        .await,
        6
    );
    assert_eq!(export(format!("from={FROM}&to={TO}")).await, 0);
    let (_, list) = srv
        .get_json(
            &format!("/api/calls?time=offered&from={FROM}&to={TO}"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(list["total"], 7);

    // Thresholds are parameters.
    let (_, r) = metrics(&srv, ADMIN_TOKEN, "&sl_seconds=30&short_abandon_seconds=1").await;
    assert_eq!(r["overall"]["answered_within_sl"], 3);
    assert_eq!(r["overall"]["service_level"], 0.5); // 3 / 6: no short abandon at 1 s
    assert_eq!(r["overall"]["abandon_rate"], 0.3333); // 2 / 6
                                                      // One department; one series.
    let (_, r) = metrics(
        &srv,
        ADMIN_TOKEN,
        &format!("&department={support}&interval=day"),
    )
    .await;
    assert_eq!(r["overall"]["offered"], 1);
    assert_eq!(r["overall"]["service_level"], 1.0);
    assert!(r["series"]["hourly"].is_null());
    assert_eq!(r["series"]["daily"].as_array().unwrap().len(), 1);
    // A range with nothing in it: rates are null, not NaN or 0.
    let (s, r) = srv
        .get_json(
            "/api/metrics?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z",
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(r["overall"]["offered"], 0);
    assert!(r["overall"]["service_level"].is_null() && r["overall"]["asa_seconds"].is_null());
}

#[tokio::test]
async fn agent_performance_by_hand() {
    let srv = TestServer::start().await.unwrap();
    let (sales, _) = fixture(&srv).await;
    let asha = srv.user("asha", "agent", &[&sales]).await.unwrap();
    for (id, outcome) in [("s3", "no_answer"), ("s4", "resolved")] {
        let (s, b) = srv
            .post_json(
                &format!("/api/calls/{id}/disposition"),
                &asha,
                &json!({"category": "Callback done", "outcome": outcome}),
            )
            .await
            .unwrap();
        assert_eq!(s, 201, "{b}");
    }
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(400)).to_rfc3339();
    let to = (now + chrono::Duration::hours(1)).to_rfc3339();
    let (s, r2) = srv
        .send(
            srv.get("/api/metrics/agents", ADMIN_TOKEN)
                .query(&[("from", from.as_str()), ("to", to.as_str())]),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{r2}");
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    assert_match_schemas(&doc, &[("AgentMetricsReport", r2.clone())]);
    let agents = r2["agents"].as_array().unwrap();
    // Asha: s1, s2 and s6 answered (s7 is outbound); AHT (180 + 60 + 59) / 3 = 99.67.
    // Her two dispositions are the same person (user `asha`, the same name ignoring case).
    let a = &agents[0];
    assert_eq!(a["agent"], "Asha");
    assert_eq!(a["calls_handled"], 3);
    assert_eq!(a["aht_seconds"], 99.7);
    assert_eq!(a["dispositions"], json!({"Callback done": 2}));
    assert_eq!(
        (
            a["callbacks_attempted"].as_i64(),
            a["callbacks_resolved"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(a["callback_success_rate"], 0.5);
    let ravi = &agents[1];
    assert_eq!(
        (
            ravi["agent"].as_str(),
            ravi["calls_handled"].as_i64(),
            ravi["aht_seconds"].as_f64()
        ),
        (Some("Ravi"), Some(1), Some(300.0))
    );
    assert!(ravi["callback_success_rate"].is_null());
    // Only supervisors and admins see other agents' figures.
    let (s, _) = srv.get_json("/api/metrics/agents", &asha).await.unwrap();
    assert_eq!(s, 403);
}

#[tokio::test]
async fn agents_see_only_their_departments_and_bad_input_is_a_422() {
    let srv = TestServer::start().await.unwrap();
    let (sales, support) = fixture(&srv).await;
    let agent = srv.user("ag", "agent", &[&sales]).await.unwrap();
    let (s, r) = metrics(&srv, &agent, "").await;
    assert_eq!(s, 200);
    assert_eq!(r["overall"]["offered"], 5);
    assert_eq!(r["departments"].as_array().unwrap().len(), 1);
    let (s, r) = metrics(&srv, &agent, &format!("&department={support}")).await;
    assert_eq!(s, 403, "{r}");
    assert_eq!(r["error"]["code"], "forbidden");
    for bad in [
        "/api/metrics?from=yesterday",
        "/api/metrics?from=2026-03-02T12:00:00Z&to=2026-03-02T10:00:00Z",
        "/api/metrics?sl_seconds=-1",
        "/api/metrics?utc_offset_minutes=5000",
        "/api/metrics?tz=Mars/Olympus_Mons",
        "/api/metrics?tz=%2B05:30",
        "/api/metrics?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let (s, r) = srv.get_json(bad, ADMIN_TOKEN).await.unwrap();
        assert_eq!(s, 422, "{bad}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{bad}: {r}"
        );
    }
    // A value of the wrong type is refused by the query parser (400, naming it).
    for bad in [
        "/api/metrics?short_abandon_seconds=x",
        "/api/metrics?interval=week",
    ] {
        let (s, r) = srv.get_json(bad, ADMIN_TOKEN).await.unwrap();
        assert_eq!(
            (s, r["error"]["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}: {r}"
        );
    }
    let (s, _) = srv.get_json("/api/metrics", "").await.unwrap();
    assert_eq!(s, 401);
}
