//! `GET /api/calls/export.csv`: the calls list's filters, RFC 4180, the BOM
//! option, formula defusing, role scoping and the audit row.

use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use futures_util::StreamExt;
use serde_json::{json, Value};

async fn export(srv: &TestServer, token: &str, query: &str) -> reqwest::Response {
    srv.get(&format!("/api/calls/export.csv{query}"), token)
        .send()
        .await
        .unwrap()
}

fn parse(body: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn named(name: &str, id: &str, status: &str, caller: &str) -> Value {
    let mut e = event(id, status, caller);
    e["data"]["name"] = json!(name);
    e
}

#[tokio::test]
async fn exports_every_matching_call_as_safe_rfc4180_csv() {
    let srv = TestServer::start().await.unwrap();
    let (sales, key) = srv.provider("Sales").await.unwrap();
    let (other, okey) = srv.provider("Other").await.unwrap();
    let rows = [
        named(
            "=HYPERLINK(\"http://evil\",\"x\")",
            "f1",
            "abandoned",
            "+919800000001",
        ),
        named("Ravi, \"the\" boss", "f2", "abandoned", "9800000002"),
        named("Åsa Ñandú", "f3", "completed", "9800000003"),
        named("@SUM(A1)", "f4", "no-answer", "-1+2"),
    ];
    for r in &rows {
        assert_eq!(srv.webhook(&sales, &key, r).await.unwrap().0, 200);
    }
    srv.webhook(&other, &okey, &event("o1", "abandoned", "9811"))
        .await
        .unwrap();

    let r = export(&srv, ADMIN_TOKEN, &format!("?department={sales}&bom=true")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment; filename=\"calls-") && cd.ends_with(".csv\""),
        "{cd}"
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "starts with a BOM");
    let text = std::str::from_utf8(&body[3..]).unwrap();
    assert!(
        text.contains("\r\n") && text.ends_with("\r\n"),
        "CRLF records"
    );
    // Quotes doubled inside a quoted field; a comma forces quoting.
    assert!(text.contains("\"Ravi, \"\"the\"\" boss\""), "{text}");
    let table = parse(&body[3..]);
    let header = &table[0];
    assert_eq!(&header[..3], ["call_id", "department", "status"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(table.len(), 5, "header + the four Sales calls, not Other's");
    let by_id = |id: &str| table.iter().find(|r| r[0] == id).unwrap().clone();
    assert_eq!(
        by_id("f1")[col("caller_name")],
        "'=HYPERLINK(\"http://evil\",\"x\")"
    );
    // A phone number is a number, not a formula: no `'` in front.
    assert_eq!(by_id("f1")[col("mobile_number")], "+919800000001");
    assert_eq!(by_id("f1")[col("status")], "hangup");
    assert_eq!(by_id("f2")[col("caller_name")], "Ravi, \"the\" boss");
    assert_eq!(by_id("f3")[col("caller_name")], "Åsa Ñandú");
    assert_eq!(by_id("f4")[col("caller_name")], "'@SUM(A1)");
    assert_eq!(by_id("f4")[col("mobile_number")], "'-1+2");
    // Oldest first.
    let ids: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["f1", "f2", "f3", "f4"]);

    // The calls list's filters: status and text search; no BOM by default.
    let r = export(&srv, ADMIN_TOKEN, "?status=hangup&q=Ravi").await;
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(b"call_id,"));
    let table = parse(&body);
    assert_eq!(table.len(), 2);
    assert_eq!(table[1][0], "f2");
    // Every hangup across departments.
    let table = parse(
        &export(&srv, ADMIN_TOKEN, "?status=hangup")
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(table.len(), 4); // f1 f2 o1

    // Each export is in the audit log with who, the filters and the row count.
    let (s, audit) = srv
        .get_json("/api/audit?action=calls.export", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let first = entries.last().unwrap();
    assert_eq!(first["actor"], "admin-token");
    assert_eq!(first["details"]["filters"], json!({"department": sales}));
    assert_eq!(first["details"]["rows"], 4);
    assert_eq!(first["details"]["status"], "completed");
    assert_eq!(entries[0]["details"]["rows"], 3);
}

#[tokio::test]
async fn agents_export_only_their_departments_and_bad_filters_are_refused() {
    let srv = TestServer::start().await.unwrap();
    let (sales, key) = srv.provider("Sales").await.unwrap();
    let (other, okey) = srv.provider("Other").await.unwrap();
    srv.webhook(&sales, &key, &event("a1", "abandoned", "98"))
        .await
        .unwrap();
    srv.webhook(&other, &okey, &event("b1", "abandoned", "98"))
        .await
        .unwrap();
    let agent = srv.user("agent1", "agent", &[&sales]).await.unwrap();
    let table = parse(&export(&srv, &agent, "").await.bytes().await.unwrap());
    assert_eq!(table.len(), 2);
    assert_eq!(table[1][0], "a1");
    let table = parse(
        &export(&srv, &agent, &format!("?department={other}"))
            .await
            .bytes()
            .await
            .unwrap(),
    );
    assert_eq!(
        table.len(),
        1,
        "header only: not the other department's calls"
    );

    for bad in ["?status=bogus", "?from=yesterday", "?assignee=somebody"] {
        let r = export(&srv, ADMIN_TOKEN, bad).await;
        assert_eq!(r.status(), 422, "{bad}");
        let b: Value = r.json().await.unwrap();
        assert!(b["error"]["message"].is_string(), "{bad}: {b}");
    }
    assert_eq!(export(&srv, "", "").await.status(), 401);
    // Refused exports leave no audit row; the two agent exports do.
    let (_, audit) = srv
        .get_json("/api/audit?action=calls.export", ADMIN_TOKEN)
        .await
        .unwrap();
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["actor"], "agent1");
}

#[tokio::test]
async fn a_large_export_streams_in_pages_and_keeps_every_row_once() {
    let srv = TestServer::start().await.unwrap();
    let (sales, key) = srv.provider("Sales").await.unwrap();
    // More than two pages (2000 rows each), sent concurrently.
    let n = 4500;
    let mut tasks = futures_util::stream::iter((0..n).map(|i| {
        let e = event(&format!("L{i:05}"), "no-answer", "98");
        let (srv, sales, key) = (&srv, &sales, &key);
        async move { srv.webhook(sales, key, &e).await.unwrap().0 }
    }))
    .buffer_unordered(32);
    while let Some(s) = tasks.next().await {
        assert_eq!(s, 200);
    }
    let body = export(&srv, ADMIN_TOKEN, "").await.bytes().await.unwrap();
    let table = parse(&body);
    assert_eq!(table.len(), n + 1);
    let mut ids: Vec<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
}
