//! Edge cases of the metric formulas on a hand-made fixture. The expected
//! numbers are worked out by hand in the comments, not by the code under test.

use super::*;
use rusqlite::params;

fn db() -> Connection {
    crate::store::test_support::with_departments(&["a", "b"])
}

#[derive(Default)]
struct C<'a> {
    dep: &'a str,
    id: &'a str,
    status: &'a str,
    started: Option<&'a str>,
    answered: Option<&'a str>,
    ended: Option<&'a str>,
    duration: Option<i64>,
    direction: Option<&'a str>,
    agent: Option<&'a str>,
    metadata: &'a str,
    attempts: i64,
    resolved: Option<&'a str>,
    sla_due: Option<&'a str>,
}

fn t(hms: &str) -> String {
    format!("2026-11-24T{hms}.000Z")
}

fn insert(conn: &Connection, c: C<'_>) -> i64 {
    let worklist = matches!(c.status, "missed" | "hangup");
    let since = worklist.then(|| c.ended.or(c.started).unwrap_or("2026-11-24T10:00:00.000Z"));
    conn.execute(
        "INSERT INTO calls (provider_id, department, call_id, status, started_at, answered_at, ended_at,
            duration_seconds, direction, agent_name, metadata, attempts, resolved_at, sla_due_at,
            worklist_since, created_at, updated_at)
         VALUES ((SELECT id FROM providers WHERE slug = ?1), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
            ?11, ?12, ?13, ?14, '2026-11-24T00:00:00.000Z', '2026-11-24T00:00:00.000Z')",
        params![
            c.dep,
            c.id,
            c.status,
            c.started,
            c.answered,
            c.ended,
            c.duration,
            c.direction,
            c.agent,
            if c.metadata.is_empty() { "{}" } else { c.metadata },
            c.attempts,
            c.resolved,
            c.sla_due,
            since
        ],
    )
    .unwrap();
    conn.last_insert_rowid()
}

fn disposition(
    conn: &Connection,
    call: i64,
    user: Option<i64>,
    actor: &str,
    category: &str,
    outcome: &str,
    at: &str,
) {
    conn.execute(
        "INSERT INTO dispositions (call_row_id, user_id, actor, category, outcome, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![call, user, actor, category, outcome, at],
    )
    .unwrap();
}

/// Every report of these tests is made three ways: summed from the rows, from
/// an empty cache of quarter sums, and from that cache again. All must agree.
fn report(conn: &Connection, q: &MetricsQuery) -> Result<MetricsReport> {
    let plain = super::report(conn, q);
    let cache = QuarterCache::default();
    for _ in 0..2 {
        let kept = report_with(conn, q, Some(&cache));
        match (&plain, &kept) {
            (Ok(a), Ok(b)) => assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::to_value(b).unwrap()
            ),
            (Err(_), Err(_)) => {}
            _ => panic!("{plain:?} but from the cache {kept:?}"),
        }
    }
    plain
}

fn query(from: &str, to: &str) -> MetricsQuery {
    MetricsQuery {
        from: from.into(),
        to: to.into(),
        departments: None,
        sl_seconds: 20,
        short_abandon_seconds: 5,
        utc_offset_minutes: 0,
        zone: None,
        now: t("12:00:00"),
        hourly: true,
        daily: true,
    }
}

/// The fixture of docs/METRICS.md's worked example.
fn fixture(conn: &Connection) -> (i64, i64) {
    let s = |x: &str| Some(t(x));
    let (c1s, c1a, c1e) = (s("10:00:00"), s("10:00:10"), s("10:02:10"));
    // c1: answered after 10 s (within T=20), talked 120 s.
    insert(
        conn,
        C {
            dep: "a",
            id: "c1",
            status: "completed",
            started: c1s.as_deref(),
            answered: c1a.as_deref(),
            ended: c1e.as_deref(),
            duration: Some(120),
            agent: Some("Asha"),
            ..Default::default()
        },
    );
    // c2: answered after 30 s (outside T), talked 60 s + 30 s wrap.
    let (c2s, c2a) = (s("10:05:00"), s("10:05:30"));
    insert(
        conn,
        C {
            dep: "a",
            id: "c2",
            status: "completed",
            started: c2s.as_deref(),
            answered: c2a.as_deref(),
            duration: Some(60),
            agent: Some("asha"),
            metadata: r#"{"wrap_seconds": 30}"#,
            ..Default::default()
        },
    );
    // c3: hung up after 3 s: a short abandon; its SLA clock ran out unworked.
    let (c3s, c3e, c3d) = (s("10:10:00"), s("10:10:03"), s("10:40:03"));
    insert(
        conn,
        C {
            dep: "a",
            id: "c3",
            status: "hangup",
            started: c3s.as_deref(),
            ended: c3e.as_deref(),
            sla_due: c3d.as_deref(),
            ..Default::default()
        },
    );
    // c4: hung up after 40 s: abandoned; called back after 300 s and resolved in SLA.
    let (c4s, c4e, c4r, c4d) = (s("10:20:00"), s("10:20:40"), s("10:30:00"), s("10:50:40"));
    let c4 = insert(
        conn,
        C {
            dep: "a",
            id: "c4",
            status: "hangup",
            started: c4s.as_deref(),
            ended: c4e.as_deref(),
            attempts: 1,
            resolved: c4r.as_deref(),
            sla_due: c4d.as_deref(),
            ..Default::default()
        },
    );
    // c5: missed; two attempts (first after 600 s), still open and past due at 12:00.
    let (c5s, c5d) = (s("11:00:00"), s("11:30:00"));
    let c5 = insert(
        conn,
        C {
            dep: "a",
            id: "c5",
            status: "missed",
            started: c5s.as_deref(),
            attempts: 2,
            sla_due: c5d.as_deref(),
            ..Default::default()
        },
    );
    // c6: outbound: never offered.
    let c6s = s("10:40:00");
    insert(
        conn,
        C {
            dep: "a",
            id: "c6",
            status: "completed",
            started: c6s.as_deref(),
            answered: c6s.as_deref(),
            duration: Some(500),
            direction: Some("outbound-api"),
            agent: Some("Asha"),
            ..Default::default()
        },
    );
    // c7: one millisecond before the range.
    insert(
        conn,
        C {
            dep: "a",
            id: "c7",
            status: "completed",
            started: Some("2026-11-24T09:59:59.999Z"),
            answered: s("10:00:01").as_deref(),
            duration: Some(10),
            ..Default::default()
        },
    );
    // c8 (department b): answered after exactly 20 s (within T), talked 100 s.
    let (c8s, c8a) = (s("10:30:00"), s("10:30:20"));
    insert(
        conn,
        C {
            dep: "b",
            id: "c8",
            status: "completed",
            started: c8s.as_deref(),
            answered: c8a.as_deref(),
            duration: Some(100),
            agent: Some("Ravi"),
            ..Default::default()
        },
    );
    disposition(
        conn,
        c4,
        None,
        "ravi",
        "Callback done",
        "resolved",
        &t("10:25:40"),
    );
    disposition(
        conn,
        c5,
        None,
        "ravi",
        "Not reachable",
        "no_answer",
        &t("11:10:00"),
    );
    disposition(
        conn,
        c5,
        None,
        "Asha",
        "Not reachable",
        "no_answer",
        &t("11:20:00"),
    );
    (c4, c5)
}

#[test]
fn no_calls_give_zero_counts_and_null_rates() {
    let conn = db();
    let r = report(&conn, &query(&t("10:00:00"), &t("12:00:00"))).unwrap();
    let m = &r.overall.metrics;
    let empty = Metrics {
        service_level_reason: Some("no_calls".into()),
        ..Metrics::default()
    };
    assert_eq!(m, &empty);
    assert!(m.abandon_rate.is_none() && m.service_level.is_none() && m.asa_seconds.is_none());
    assert!(r.departments.is_empty());
    assert_eq!(r.overall.longest_current_wait_seconds, None);
    // Dense series: two empty hours, one empty day.
    let hourly = r.series.hourly.unwrap();
    assert_eq!(hourly.len(), 2);
    assert_eq!(hourly[1].start, t("11:00:00"));
    assert_eq!(hourly[1].metrics, empty);
    assert_eq!(r.series.daily.unwrap().len(), 1);
    // And the JSON has nulls, never NaN.
    let json = serde_json::to_value(&r.overall).unwrap();
    assert!(json["service_level"].is_null());
}

#[test]
fn the_worked_example_by_hand() {
    let conn = db();
    fixture(&conn);
    let r = report(&conn, &query(&t("10:00:00"), &t("12:00:00"))).unwrap();
    let m = &r.overall.metrics;
    // Offered: c1 c2 c3 c4 c5 c8 (c6 outbound, c7 before the range).
    assert_eq!(m.offered, 6);
    assert_eq!(m.answered, 3); // c1 c2 c8
    assert_eq!(m.answered_within_sl, 2); // c1 (10 s), c8 (20 s ≤ 20)
    assert_eq!(m.short_abandoned, 1); // c3
    assert_eq!(m.abandoned, 1); // c4
    assert_eq!(m.missed, 1); // c5
    assert_eq!(m.abandon_rate, Some(0.2)); // 1 / (6 - 1)
    assert_eq!(m.service_level, Some(0.4)); // 2 / (6 - 1)
    assert_eq!(m.asa_seconds, Some(20.0)); // (10 + 30 + 20) / 3
    assert_eq!(m.aht_seconds, Some(103.3)); // (120 + 60+30 + 100) / 3 = 103.33
    assert_eq!(m.callbacks_due, 3); // c3 c4 c5
    assert_eq!(m.callbacks_attempted, 2); // c4 c5
    assert_eq!(m.callbacks_resolved, 1); // c4
    assert_eq!(m.callback_success_rate, Some(0.5));
    // Clocks stopped or run out: c3 (due 10:40), c4 (resolved), c5 (due 11:30); met: c4.
    assert_eq!(m.callback_sla_compliance, Some(0.3333));
    // First attempts: c4 300 s after 10:20:40, c5 600 s after 11:00.
    assert_eq!(m.avg_callback_wait_seconds, Some(450.0));

    let a = &r.departments[0];
    assert_eq!(a.department, "a");
    assert_eq!(a.metrics.offered, 5);
    assert_eq!(a.metrics.abandon_rate, Some(0.25)); // 1 / (5 - 1)
    assert_eq!(a.metrics.service_level, Some(0.25)); // 1 / (5 - 1)
    assert_eq!(a.metrics.asa_seconds, Some(20.0)); // (10 + 30) / 2
    assert_eq!(a.metrics.aht_seconds, Some(105.0)); // (120 + 90) / 2
    let b = &r.departments[1];
    assert_eq!(
        (
            b.department.as_str(),
            b.metrics.offered,
            b.metrics.service_level
        ),
        ("b", 1, Some(1.0))
    );

    let hourly = r.series.hourly.unwrap();
    assert_eq!(
        hourly.iter().map(|b| b.metrics.offered).collect::<Vec<_>>(),
        vec![5, 1]
    );
    assert_eq!(hourly[0].metrics.service_level, Some(0.5)); // c1, c8 of 5 - 1
    assert_eq!(hourly[1].metrics.missed, 1);
    let daily = r.series.daily.unwrap();
    assert_eq!(daily.len(), 1);
    assert_eq!(daily[0].start, t("00:00:00"));
    assert_eq!(daily[0].metrics, r.overall.metrics);
}

#[test]
fn thresholds_move_calls_between_buckets_of_the_formulas() {
    let conn = db();
    fixture(&conn);
    let mut q = query(&t("10:00:00"), &t("12:00:00"));
    q.sl_seconds = 30;
    q.short_abandon_seconds = 2;
    let m = report(&conn, &q).unwrap().overall.metrics;
    assert_eq!(m.answered_within_sl, 3); // c2's 30 s now counts
    assert_eq!((m.short_abandoned, m.abandoned), (0, 2)); // c3's 3 s is no longer short
    assert_eq!(m.service_level, Some(0.5)); // 3 / 6
    assert_eq!(m.abandon_rate, Some(0.3333)); // 2 / 6
}

#[test]
fn from_is_inclusive_and_to_is_exclusive() {
    let conn = db();
    fixture(&conn);
    // c1 starts exactly at 10:00:00, c2 exactly at 10:05:00.
    let r = report(&conn, &query(&t("10:00:00"), &t("10:05:00"))).unwrap();
    assert_eq!(r.overall.metrics.offered, 1);
    let r = report(&conn, &query("2026-11-24T09:59:59.999Z", &t("10:00:00"))).unwrap();
    assert_eq!(r.overall.metrics.offered, 1); // c7 only
    assert!(report(&conn, &query(&t("10:00:00"), &t("10:00:00"))).is_err());
}

#[test]
fn departments_restrict_everything() {
    let conn = db();
    fixture(&conn);
    let mut q = query(&t("10:00:00"), &t("12:00:00"));
    q.departments = Some(vec!["b".into()]);
    let r = report(&conn, &q).unwrap();
    assert_eq!(r.overall.metrics.offered, 1);
    assert_eq!(r.departments.len(), 1);
    q.departments = Some(vec![]);
    assert_eq!(report(&conn, &q).unwrap().overall.metrics.offered, 0);
}

#[test]
fn longest_current_wait_counts_calls_waiting_or_ringing_now() {
    let conn = db();
    let (w1, w2) = (t("11:59:00"), t("11:55:30"));
    insert(
        &conn,
        C {
            dep: "a",
            id: "w1",
            status: "waiting",
            started: Some(&w1),
            ..Default::default()
        },
    );
    insert(
        &conn,
        C {
            dep: "b",
            id: "w2",
            status: "ringing",
            started: Some(&w2),
            ..Default::default()
        },
    );
    let r = report(&conn, &query(&t("10:00:00"), &t("12:00:00"))).unwrap();
    assert_eq!(r.overall.longest_current_wait_seconds, Some(270));
    assert_eq!(r.departments[0].longest_current_wait_seconds, Some(60));
    // Waiting calls are offered but neither answered nor abandoned yet.
    assert_eq!(
        (r.overall.metrics.offered, r.overall.metrics.answered),
        (2, 0)
    );
}

#[test]
fn buckets_follow_the_requested_clock() {
    let conn = db();
    // 18:30Z on the 24th is midnight of the 25th at UTC+05:30.
    let started = "2026-11-24T18:45:00.000Z";
    insert(
        &conn,
        C {
            dep: "a",
            id: "x",
            status: "missed",
            started: Some(started),
            ..Default::default()
        },
    );
    let mut q = query("2026-11-24T18:30:00.000Z", "2026-11-25T18:30:00.000Z");
    q.utc_offset_minutes = 330;
    let r = report(&conn, &q).unwrap();
    let hourly = r.series.hourly.unwrap();
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[0].start, "2026-11-24T18:30:00.000Z");
    assert_eq!(hourly[0].metrics.offered, 1);
    let daily = r.series.daily.unwrap();
    assert_eq!(daily.len(), 1);
    assert_eq!(daily[0].start, "2026-11-24T18:30:00.000Z");
    assert_eq!(daily[0].metrics.offered, 1);
}

#[test]
fn a_series_too_long_is_refused_not_truncated() {
    let conn = db();
    let q = query("2020-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z");
    assert!(matches!(report(&conn, &q), Err(Error::Invalid(_))));
    let mut q = q;
    q.hourly = false;
    assert_eq!(report(&conn, &q).unwrap().series.daily.unwrap().len(), 2192);
}

#[test]
fn agents_by_hand() {
    let conn = db();
    fixture(&conn);
    let r = agents(&conn, &query(&t("10:00:00"), &t("12:00:00"))).unwrap();
    let names: Vec<&str> = r.agents.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(names, vec!["Asha", "Ravi"]);
    let asha = &r.agents[0];
    // c1 and c2 (its "asha" is the same agent); c6 is outbound.
    assert_eq!(asha.calls_handled, 2);
    assert_eq!(asha.aht_seconds, Some(105.0)); // (120 + 90) / 2
    assert_eq!(asha.dispositions.get("Not reachable"), Some(&1));
    assert_eq!((asha.callbacks_attempted, asha.callbacks_resolved), (1, 0));
    assert_eq!(asha.callback_success_rate, Some(0.0));
    let ravi = &r.agents[1];
    assert_eq!(ravi.calls_handled, 1);
    assert_eq!(ravi.aht_seconds, Some(100.0));
    assert_eq!((ravi.callbacks_attempted, ravi.callbacks_resolved), (2, 1));
    assert_eq!(ravi.callback_success_rate, Some(0.5));
    assert_eq!(ravi.dispositions.len(), 2);
}

#[test]
fn service_level_is_null_with_a_reason_when_no_answer_time_is_known() {
    let conn = db();
    // Answered, but the platform sent neither a start nor an answer time.
    insert(
        &conn,
        C {
            dep: "a",
            id: "n1",
            status: "completed",
            started: None,
            ..Default::default()
        },
    );
    let q = query(&t("00:00:00"), &t("12:00:00"));
    let m = report(&conn, &q).unwrap().overall.metrics;
    assert_eq!((m.offered, m.answered), (1, 1));
    assert_eq!(m.service_level, None, "unknown, not 0.0");
    assert_eq!(m.service_level_reason.as_deref(), Some("no_answer_times"));
    assert_eq!(m.answered_unknown_wait, 1);
    // One answered call with both times makes it a figure again.
    insert(
        &conn,
        C {
            dep: "a",
            id: "n2",
            status: "completed",
            started: Some(&t("10:00:00")),
            answered: Some(&t("10:00:05")),
            ..Default::default()
        },
    );
    let m = report(&conn, &q).unwrap().overall.metrics;
    assert_eq!(m.service_level, Some(0.5));
    assert_eq!(m.service_level_reason, None);
    assert_eq!(m.answered_unknown_wait, 1);
}

#[test]
fn buckets_follow_a_time_zone_across_a_change_of_clocks() {
    let conn = db();
    // New York's clocks went back at 06:00Z on 2026-11-01 (02:00 EDT → 01:00 EST):
    // that local day has 25 hours. One call in each 01:xx local hour.
    for (id, at) in [
        ("first", "2026-11-01T05:10:00.000Z"),  // 01:10 EDT
        ("second", "2026-11-01T06:20:00.000Z"), // 01:20 EST
        ("late", "2026-11-02T03:40:00.000Z"),   // 22:40 EST on the 1st
    ] {
        insert(
            &conn,
            C {
                dep: "a",
                id,
                status: "missed",
                started: Some(at),
                ..Default::default()
            },
        );
    }
    let mut q = query("2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z");
    q.zone = Some(chrono_tz::America::New_York);
    let r = report(&conn, &q).unwrap();
    assert_eq!(r.time_zone.as_deref(), Some("America/New_York"));
    let daily = r.series.daily.unwrap();
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(daily[0].start, "2026-11-01T04:00:00.000Z");
    assert_eq!(daily[0].metrics.offered, 3);
    let hourly = r.series.hourly.unwrap();
    // 25 hours, the repeated 01:00 one bucket: 24 labels
    assert_eq!(hourly.len(), 24, "{hourly:?}");
    assert_eq!(hourly[1].start, "2026-11-01T05:00:00.000Z");
    assert_eq!(hourly[1].metrics.offered, 2, "both 01:xx calls");
    assert_eq!(
        hourly[22].metrics.offered, 1,
        "22:40 EST is in the 22:00 bucket"
    );
    assert_eq!(hourly[22].start, "2026-11-02T03:00:00.000Z");
    // India: half-hour offset, quarters summed into local hours
    let mut q = query("2026-10-31T18:30:00.000Z", "2026-11-01T18:30:00.000Z");
    q.zone = Some(chrono_tz::Asia::Kolkata);
    let r = report(&conn, &q).unwrap();
    let hourly = r.series.hourly.unwrap();
    assert_eq!(hourly.len(), 24);
    // 05:10Z = 10:40 IST, 06:20Z = 11:50 IST
    assert_eq!(hourly[10].metrics.offered, 1);
    assert_eq!(hourly[11].metrics.offered, 1);
}

#[test]
fn kept_quarter_sums_follow_every_change_of_a_call_and_the_clock() {
    let conn = db();
    let (missed, hangup) = fixture(&conn);
    let cache = QuarterCache::default();
    // A range that starts and ends inside quarters, so both ends are partial.
    let mut q = query("2026-11-24T09:50:00.000Z", "2026-11-24T12:07:00.000Z");
    let same = |q: &MetricsQuery, why: &str| {
        let kept = report_with(&conn, q, Some(&cache)).unwrap();
        let plain = super::report(&conn, q).unwrap();
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::to_value(&plain).unwrap(),
            "{why}"
        );
        kept
    };
    let before = same(&q, "cold");
    same(&q, "warm");
    conn.execute(
        "UPDATE calls SET resolved_at = CASE WHEN resolved_at IS NULL THEN ?2 END,
            attempts = attempts + 1 WHERE id = ?1",
        params![missed, t("11:00:00")],
    )
    .unwrap();
    let after = same(&q, "a call resolved");
    assert_ne!(
        before.overall.metrics.callbacks_resolved, after.overall.metrics.callbacks_resolved,
        "the kept sums did not hide the change"
    );
    conn.execute(
        "UPDATE calls SET started_at = ?2 WHERE id = ?1",
        params![hangup, t("11:40:00")],
    )
    .unwrap();
    same(&q, "a call moved to another quarter");
    conn.execute("UPDATE calls SET department = 'b' WHERE id = ?1", [hangup])
        .unwrap();
    same(&q, "a call moved to another department");
    // What retention does, less the archive: the call's other rows aside.
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute("DELETE FROM calls WHERE id = ?1", [hangup])
        .unwrap();
    same(&q, "a call deleted");
    conn.execute(
        "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
         VALUES ('c', 'c', 'h', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        [],
    )
    .unwrap();
    insert(
        &conn,
        C {
            dep: "c",
            id: "late",
            status: "missed",
            started: Some(&t("11:59:00")),
            sla_due: Some(&t("12:30:00")),
            ..Default::default()
        },
    );
    same(&q, "a call added");
    // Its SLA runs out with no write: only the clock moves.
    let only_c = MetricsQuery {
        departments: Some(vec!["c".into()]),
        ..q.clone()
    };
    let open = same(&only_c, "a clock still running");
    assert_eq!(open.overall.metrics.callback_sla_compliance, None);
    q.now = t("12:31:00");
    let late = same(
        &MetricsQuery {
            now: q.now.clone(),
            ..only_c
        },
        "the clock ran out",
    );
    assert_eq!(late.overall.metrics.callback_sla_compliance, Some(0.0));
    same(&q, "the clock ran out, every department");
    q.sl_seconds = 7;
    same(&q, "other thresholds");
    q.departments = Some(vec!["b".into()]);
    same(&q, "one department");
    q.utc_offset_minutes = 330;
    same(&q, "another clock");
    q.utc_offset_minutes = 7;
    same(&q, "a clock off the quarter hours (summed from the rows)");
    q.utc_offset_minutes = 0;
    q.zone = Some(chrono_tz::Asia::Kolkata);
    same(&q, "a time zone");
}

#[test]
fn run_out_clocks_are_read_from_the_open_worklist_in_the_range() {
    let conn = db();
    let plan = crate::store::test_support::query_plan(
        &conn,
        &quarters::run_out_sql(),
        params![
            "2026-01-01T00:00:00.000Z",
            "2026-02-01T00:00:00.000Z",
            "2026-02-01T00:00:00.000Z",
            None::<String>
        ],
    );
    // The range of the open calls' offer times, not every open call whose
    // clock ran out (a year's backlog), nor every call of the range.
    assert!(
        plan.contains("USING INDEX calls_open_offered (<expr>>? AND <expr><?)"),
        "{plan}"
    );
    assert!(!plan.contains("calls_offered_at"), "{plan}");
}
