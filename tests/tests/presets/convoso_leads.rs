//! Convoso's lead webhook (`/webhooks/ivr/{slug}/leads`), signed like its
//! call webhooks (`x-convoso-signature`, hex HMAC-SHA256 of the raw body).
//! The deliveries are constructed from Convoso's documented lead fields
//! (crates/core/tests/fixtures/README.md): no recorded one is public.

use crate::code;
use callboard_core::signature::{hmac_sha256_signature, Encoding};
use callboard_tests::{until, ws, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

const CREATED: &str =
    include_str!("../../../crates/core/tests/fixtures/convoso-lead-created.CONSTRUCTED.json");
const UPDATED: &str =
    include_str!("../../../crates/core/tests/fixtures/convoso-lead-updated.CONSTRUCTED.form");
const LEAD: &str = "88001234";

/// A Convoso department: (slug, signing secret).
async fn convoso(srv: &TestServer, name: &str) -> (String, String) {
    let p = srv
        .provider_from_preset(name, "convoso", json!({}))
        .await
        .unwrap();
    (
        p["slug"].as_str().unwrap().to_string(),
        p["signing_secret"].as_str().unwrap().to_string(),
    )
}

/// POSTs `body` to `path` with `content_type`, signed with `secret` (or
/// with the signature given).
async fn post(
    srv: &TestServer,
    path: &str,
    content_type: &str,
    body: &str,
    signature: Option<String>,
) -> (u16, Value) {
    let mut req = srv
        .http
        .post(srv.url(path))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("x-convoso-signature", sig);
    }
    srv.send(req).await.unwrap()
}

fn sign(secret: &str, body: &str) -> Option<String> {
    Some(hmac_sha256_signature(
        secret,
        None,
        body.as_bytes(),
        Encoding::Hex,
    ))
}

async fn lead_post(srv: &TestServer, slug: &str, secret: &str, ct: &str, body: &str) -> Value {
    let (s, ack) = post(
        srv,
        &format!("/webhooks/ivr/{slug}/leads"),
        ct,
        body,
        sign(secret, body),
    )
    .await;
    assert_eq!(s, 200, "{ack}");
    ack
}

/// A signed call-log webhook naming the lead; returns the call id.
async fn call_for_lead(srv: &TestServer, slug: &str, secret: &str, id: &str) -> String {
    let body = json!({"id": id, "lead_id": LEAD, "phone_number": "2125550147", "status": "SALE",
        "call_date": "2026-03-03 10:00:00", "call_length": 120})
    .to_string();
    let (s, ack) = post(
        srv,
        &format!("/webhooks/ivr/{slug}"),
        "application/json",
        &body,
        sign(secret, &body),
    )
    .await;
    assert_eq!(s, 200, "{ack}");
    ack["call_id"].as_str().unwrap().to_string()
}

async fn leads_total(srv: &TestServer, query: &str, token: &str) -> i64 {
    let (s, b) = srv
        .get_json(&format!("/api/leads{query}"), token)
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    b["total"].as_i64().unwrap()
}

#[tokio::test]
async fn a_signed_lead_is_stored_linked_to_its_calls_and_updated_in_order() {
    let srv = TestServer::start_process().await.unwrap();
    let (slug, secret) = convoso(&srv, "Convoso Sales").await;
    let call_id = call_for_lead(&srv, &slug, &secret, "5550001").await;

    // Created (JSON, as the fixture).
    let ack = lead_post(&srv, &slug, &secret, "application/json", CREATED).await;
    assert_eq!(ack["outcome"], "applied", "{ack}");
    let lead = &ack["lead"];
    assert_eq!(lead["lead_id"], LEAD);
    assert_eq!(
        lead["phone"], "+12125550147",
        "phone_code + national number"
    );
    assert_eq!(
        (lead["first_name"].as_str(), lead["email"].as_str()),
        (Some("Grace"), Some("grace.hopper@example.com"))
    );
    assert_eq!(
        (lead["list_id"].as_str(), lead["owner_id"].as_str()),
        (Some("4401"), Some("1077"))
    );
    assert_eq!(lead["raw"]["custom_field_plan"], "Medicare Advantage");

    // The call shows its lead; the lead lists its call; the list finds it.
    let c = srv.call(&slug, &call_id).await.unwrap();
    assert_eq!(c["lead"]["lead_id"], LEAD, "{c}");
    assert_eq!(c["lead"]["status"], "NEW");
    let (s, d) = srv
        .get_json(&format!("/api/leads/{slug}/{LEAD}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    let calls: Vec<&str> = d["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert_eq!(calls, vec![call_id.as_str()]);
    assert_eq!(leads_total(&srv, "?q=hopper", ADMIN_TOKEN).await, 1);
    assert_eq!(leads_total(&srv, "?q=212-555", ADMIN_TOKEN).await, 1);
    assert_eq!(leads_total(&srv, "?q=lovelace", ADMIN_TOKEN).await, 0);
    assert_eq!(
        leads_total(&srv, &format!("?department={slug}"), ADMIN_TOKEN).await,
        1
    );

    // Updated (a form, newer `modified_at`): the new values, the rest kept.
    let ack = lead_post(
        &srv,
        &slug,
        &secret,
        "application/x-www-form-urlencoded",
        UPDATED.trim_end(),
    )
    .await;
    assert_eq!(ack["outcome"], "applied", "{ack}");
    let c = srv.call(&slug, &call_id).await.unwrap();
    let lead = &c["lead"];
    assert_eq!(
        (
            lead["status"].as_str(),
            lead["email"].as_str(),
            lead["list_id"].as_str()
        ),
        (Some("SALE"), Some("grace@example.org"), Some("4402")),
        "{lead}"
    );
    assert_eq!(lead["address1"], "1 Navy Way", "a field left out is kept");
    assert_eq!(lead["version"], 2);

    // Stale (older `modified_at` than the stored one): recorded, not applied.
    let stale = json!({"lead_id": LEAD, "status": "DNC", "email": "old@example.com",
        "modified_at": "2026-03-03 09:30:00"})
    .to_string();
    let ack = lead_post(&srv, &slug, &secret, "application/json", &stale).await;
    assert_eq!(ack["outcome"], "stale", "{ack}");
    let (_, d) = srv
        .get_json(&format!("/api/leads/{slug}/{LEAD}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(
        (
            d["status"].as_str(),
            d["email"].as_str(),
            d["version"].as_i64()
        ),
        (Some("SALE"), Some("grace@example.org"), Some(2)),
        "{d}"
    );

    // Every answer matches the schema the document declares for it.
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let (_, list) = srv
        .get_json("/api/leads?q=grace", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    callboard_tests::assert_match_schemas(
        &doc,
        &[
            ("LeadAck", ack.clone()),
            ("LeadDetail", d.clone()),
            ("LeadList", list),
            ("CallDetail", c.clone()),
        ],
    );

    // The delivery log tells the three lead deliveries apart from calls.
    let (s, log) = srv
        .get_json(&format!("/api/providers/{slug}/deliveries"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{log}");
    let rows = log["data"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("lead", "duplicate"),
            ("lead", "applied"),
            ("lead", "applied"),
            ("call", "applied")
        ]
    );
    // The stale one points at the delivery holding the newer data.
    assert_eq!(rows[0]["duplicate_of"], rows[1]["id"], "{log}");
    assert_eq!(rows[0]["event_id"], LEAD);
    assert!(
        rows[0]["warnings"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("stale"),
        "{log}"
    );
}

#[tokio::test]
async fn forged_unsigned_and_id_less_lead_deliveries_store_nothing() {
    let srv = TestServer::start_process().await.unwrap();
    let (slug, secret) = convoso(&srv, "Convoso Leads").await;
    let path = format!("/webhooks/ivr/{slug}/leads");

    // Signed for another body (tampered), with a wrong secret, unsigned: 401.
    let tampered = CREATED.replace("Grace", "Mallory");
    let (s, b) = post(
        &srv,
        &path,
        "application/json",
        &tampered,
        sign(&secret, CREATED),
    )
    .await;
    assert_eq!((s, code(&b)), (401, "invalid_signature"), "{b}");
    let (s, b) = post(
        &srv,
        &path,
        "application/json",
        CREATED,
        sign("cbs_wrong-secret", CREATED),
    )
    .await;
    assert_eq!((s, code(&b)), (401, "invalid_signature"), "{b}");
    let (s, b) = post(&srv, &path, "application/json", CREATED, None).await;
    assert_eq!((s, code(&b)), (401, "missing_signature"), "{b}");

    // Signed, but no lead id (JSON or form): 400 naming it.
    let no_id = json!({"first_name": "Nobody", "phone_number": "2125550148"}).to_string();
    let (s, b) = post(
        &srv,
        &path,
        "application/json",
        &no_id,
        sign(&secret, &no_id),
    )
    .await;
    assert_eq!((s, code(&b)), (400, "mapping_failed"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("lead_id"),
        "{b}"
    );
    let form = "first_name=Nobody&lead_id=";
    let (s, b) = post(
        &srv,
        &path,
        "application/x-www-form-urlencoded",
        form,
        sign(&secret, form),
    )
    .await;
    assert_eq!((s, code(&b)), (400, "mapping_failed"), "{b}");
    // An unreadable `modified_at` would break the ordering: refused too.
    let bad_time = json!({"lead_id": "77", "modified_at": "sometime"}).to_string();
    let (s, b) = post(
        &srv,
        &path,
        "application/json",
        &bad_time,
        sign(&secret, &bad_time),
    )
    .await;
    assert_eq!((s, code(&b)), (400, "mapping_failed"), "{b}");

    assert_eq!(leads_total(&srv, "", ADMIN_TOKEN).await, 0);
    let (s, b) = srv
        .get_json(&format!("/api/leads/{slug}/{LEAD}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
    // The delivery log holds no applied delivery: only the six refusals
    // (logged off the request path), each a lead delivery, not a call.
    let log = refusals_logged(&srv, &slug, 6).await;
    for r in &log {
        assert_eq!(
            (r["outcome"].as_str(), r["kind"].as_str()),
            (Some("rejected"), Some("lead")),
            "{r}"
        );
    }
    // A refused delivery to the call URL of the same provider stays a call.
    let call_path = format!("/webhooks/ivr/{slug}");
    let (s, b) = post(&srv, &call_path, "application/json", "{}", None).await;
    assert_eq!((s, code(&b)), (401, "missing_signature"), "{b}");
    let (s, b) = post(
        &srv,
        &call_path,
        "application/json",
        "{bad",
        sign(&secret, "{bad"),
    )
    .await;
    assert_eq!((s, code(&b)), (400, "malformed_body"), "{b}");
    let log = refusals_logged(&srv, &slug, 8).await;
    let kinds: Vec<&str> = log.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["call", "call", "lead", "lead", "lead", "lead", "lead", "lead"],
        "newest first: {log:?}"
    );
    // An unknown department's lead URL is a 404, like its call URL.
    let (s, b) = post(
        &srv,
        "/webhooks/ivr/no-such/leads",
        "application/json",
        CREATED,
        sign(&secret, CREATED),
    )
    .await;
    assert_eq!((s, code(&b)), (404, "not_found"), "{b}");
}

/// The provider's delivery log, newest first, once it holds `n` rows
/// (refusals are logged off the request path).
async fn refusals_logged(srv: &TestServer, slug: &str, n: usize) -> Vec<Value> {
    let path = format!("/api/providers/{slug}/deliveries");
    until(10, "the refusals to be logged", || async {
        let (_, log) = srv.get_json(&path, ADMIN_TOKEN).await.unwrap();
        log["data"].as_array().map_or(0, Vec::len) >= n
    })
    .await;
    let (_, log) = srv.get_json(&path, ADMIN_TOKEN).await.unwrap();
    log["data"].as_array().unwrap().clone()
}

fn table_rows<'a>(feed: &'a Value, name: &str) -> Vec<&'a Value> {
    feed["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"] == name)
        .flat_map(|t| t["rows"].as_array().unwrap().iter())
        .collect()
}

#[tokio::test]
async fn an_agent_of_another_department_neither_reads_nor_replicates_a_lead() {
    let srv = TestServer::start_process().await.unwrap();
    let (sales, secret) = convoso(&srv, "Convoso Sales").await;
    let (support, _) = convoso(&srv, "Convoso Support").await;
    let call_id = call_for_lead(&srv, &sales, &secret, "5550002").await;
    lead_post(&srv, &sales, &secret, "application/json", CREATED).await;
    let amy = srv.user("amy", "agent", &[&sales]).await.unwrap();
    let bea = srv.user("bea", "agent", &[&support]).await.unwrap();

    // Amy works in sales: she reads the lead, and it is in her replica.
    let (s, d) = srv
        .get_json(&format!("/api/leads/{sales}/{LEAD}"), &amy)
        .await
        .unwrap();
    assert_eq!(s, 200, "{d}");
    assert_eq!(leads_total(&srv, "", &amy).await, 1);
    let (s, c) = srv
        .get_json(&format!("/api/calls/{call_id}?department={sales}"), &amy)
        .await
        .unwrap();
    assert_eq!((s, c["lead"]["lead_id"].as_str()), (200, Some(LEAD)), "{c}");
    let (_, snap) = srv.get_json("/api/replica/snapshot", &amy).await.unwrap();
    assert_eq!(table_rows(&snap, "leads").len(), 1, "amy's snapshot");

    // Bea works in support only: refused, listed nowhere, never replicated.
    let (s, b) = srv
        .get_json(&format!("/api/leads/{sales}/{LEAD}"), &bea)
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (403, "forbidden"), "{b}");
    assert_eq!(leads_total(&srv, "", &bea).await, 0);
    assert_eq!(
        leads_total(&srv, &format!("?department={sales}"), &bea).await,
        0
    );
    let (s, _) = srv
        .get_json(&format!("/api/calls/{call_id}?department={sales}"), &bea)
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, snap) = srv.get_json("/api/replica/snapshot", &bea).await.unwrap();
    assert_eq!(s, 200, "{snap}");
    assert!(
        snap["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == "leads"),
        "the leads table is replicated"
    );
    assert!(
        table_rows(&snap, "leads").is_empty(),
        "bea's snapshot: {snap}"
    );
    let (s, feed) = srv
        .get_json("/api/replica/changes?seq=0&change=0", &bea)
        .await
        .unwrap();
    assert_eq!(s, 200, "{feed}");
    assert!(table_rows(&feed, "leads").is_empty(), "bea's changes");
}

/// The `lead.upserted` messages among `msgs`: (lead id, status).
fn lead_events(msgs: &[Value]) -> Vec<(String, String)> {
    msgs.iter()
        .filter(|m| m["type"] == "lead.upserted")
        .map(|m| {
            (
                m["data"]["lead_id"].as_str().unwrap_or("").to_string(),
                m["data"]["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_lead_change_is_streamed_to_its_department_and_replayed() {
    let srv = TestServer::start_process().await.unwrap();
    let (sales, secret) = convoso(&srv, "Convoso Sales").await;
    let (support, support_secret) = convoso(&srv, "Convoso Support").await;
    let amy = srv.user("amy", "agent", &[&sales]).await.unwrap();
    let bea = srv.user("bea", "agent", &[&support]).await.unwrap();
    let (_, h) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    let since = h["seq"].as_i64().unwrap();
    let mut amy_ws = ws::connect(&srv.ws_url(&amy, Some(since))).await.unwrap();
    let mut bea_ws = ws::connect(&srv.ws_url(&bea, Some(since))).await.unwrap();

    // Created, updated, then a stale delivery (changes nothing: no event).
    lead_post(&srv, &sales, &secret, "application/json", CREATED).await;
    let form = "application/x-www-form-urlencoded";
    lead_post(&srv, &sales, &secret, form, UPDATED.trim_end()).await;
    let stale =
        json!({"lead_id": LEAD, "status": "DNC", "modified_at": "2026-03-03 09:30:00"}).to_string();
    let ack = lead_post(&srv, &sales, &secret, "application/json", &stale).await;
    assert_eq!(ack["outcome"], "stale", "{ack}");
    let other = json!({"lead_id": "S1", "first_name": "Sam", "status": "NEW"}).to_string();
    lead_post(&srv, &support, &support_secret, "application/json", &other).await;

    // Each agent hears of their own department's leads only.
    let msgs = ws::collect(&mut amy_ws, 20, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(
        lead_events(&msgs),
        owned(&[(LEAD, "NEW"), (LEAD, "SALE")]),
        "amy (sales): {msgs:?}"
    );
    let (_, doc) = srv.get_json("/api/openapi.json", "").await.unwrap();
    let data: Vec<(&str, Value)> = msgs
        .iter()
        .filter(|m| m["type"] == "lead.upserted")
        .map(|m| ("Lead", m["data"].clone()))
        .collect();
    callboard_tests::assert_match_schemas(&doc, &data);
    assert_eq!(msgs.last().unwrap()["data"]["email"], "grace@example.org");
    let msgs = ws::collect(&mut bea_ws, 20, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        lead_events(&msgs),
        owned(&[("S1", "NEW")]),
        "bea (support): {msgs:?}"
    );

    // `since=` replays them from the log, in order, scoped the same way.
    let mut replay = ws::connect(&srv.ws_url(&amy, Some(since))).await.unwrap();
    let msgs = ws::collect(&mut replay, 20, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        lead_events(&msgs),
        owned(&[(LEAD, "NEW"), (LEAD, "SALE")]),
        "amy's replay: {msgs:?}"
    );
    let mut replay = ws::connect(&srv.ws_url(ADMIN_TOKEN, Some(since)))
        .await
        .unwrap();
    let msgs = ws::collect(&mut replay, 20, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        lead_events(&msgs),
        owned(&[(LEAD, "NEW"), (LEAD, "SALE"), ("S1", "NEW")]),
        "the admin's replay: {msgs:?}"
    );
}

/// A call webhook of `slug` naming `lead`, with a Convoso `status`; its call id.
async fn call_naming(
    srv: &TestServer,
    slug: &str,
    secret: &str,
    id: &str,
    lead: &str,
    status: &str,
) -> String {
    let body = json!({"id": id, "lead_id": lead, "phone_number": "2125550147", "status": status,
        "call_date": "2026-03-03 10:00:00"})
    .to_string();
    let (s, ack) = post(
        srv,
        &format!("/webhooks/ivr/{slug}"),
        "application/json",
        &body,
        sign(secret, &body),
    )
    .await;
    assert_eq!(s, 200, "{ack}");
    ack["call_id"].as_str().unwrap().to_string()
}

/// The status of `GET /api/leads/{slug}/{id}`: 200 kept, 404 gone.
async fn kept(srv: &TestServer, slug: &str, id: &str) -> u16 {
    let path = format!("/api/leads/{slug}/{id}");
    srv.get_json(&path, ADMIN_TOKEN).await.unwrap().0
}

/// Runs retention now (once the run of the start-up is done) and waits for
/// it to finish.
async fn retention_run(srv: &TestServer) -> Value {
    let mut started = None;
    for _ in 0..200 {
        let (s, b) = srv
            .post_json("/api/retention/run", ADMIN_TOKEN, &json!({}))
            .await
            .unwrap();
        if s == 202 {
            started = b["id"].as_i64();
            break;
        }
        assert_eq!(s, 409, "{b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = started.expect("a retention run starts");
    for _ in 0..400 {
        let (_, runs) = srv
            .get_json("/api/retention/runs", ADMIN_TOKEN)
            .await
            .unwrap();
        let run = runs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_default();
        if run["finished_at"].is_string() {
            assert!(run["error"].is_null(), "{run}");
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("retention run {id} did not finish");
}

#[tokio::test]
async fn retention_takes_a_lead_once_its_calls_are_gone_and_it_is_old() {
    let srv = TestServer::start().await.unwrap();
    let (slug, secret) = convoso(&srv, "Convoso Sales").await;
    let lead = |id: &str| json!({"lead_id": id, "first_name": id, "status": "NEW"}).to_string();
    for id in ["done", "open", "alone", "fresh"] {
        lead_post(&srv, &slug, &secret, "application/json", &lead(id)).await;
    }
    // `done` has a finished call, `open` a missed call still to be called
    // back (open work is never taken), `alone` and `fresh` none.
    call_naming(&srv, &slug, &secret, "c-done", "done", "SALE").await;
    let open = call_naming(&srv, &slug, &secret, "c-open", "open", "NA").await;
    srv.advance(Duration::from_secs(40 * 86_400));
    // `fresh` changed since: within the 30 days, it stays.
    lead_post(&srv, &slug, &secret, "application/json", &lead("fresh")).await;

    let run = retention_run(&srv).await;
    assert_eq!(
        (
            run["calls_archived"].as_i64(),
            run["leads_archived"].as_i64(),
            run["leads_deleted"].as_i64()
        ),
        (Some(1), Some(2), Some(0)),
        "{run}"
    );
    assert_eq!(
        kept(&srv, &slug, "done").await,
        404,
        "its only call was archived"
    );
    assert_eq!(
        kept(&srv, &slug, "alone").await,
        404,
        "no call, unchanged for 40 days"
    );
    assert_eq!(
        kept(&srv, &slug, "open").await,
        200,
        "its call is open work"
    );
    assert_eq!(
        kept(&srv, &slug, "fresh").await,
        200,
        "changed within the period"
    );
    // Archived as the calls are, with the data they had.
    let db = rusqlite::Connection::open(srv.dir.path().join("callboard.db")).unwrap();
    let archived: Vec<String> = db
        .prepare("SELECT first_name FROM leads_archive ORDER BY lead_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(archived, ["alone", "done"]);

    // Delete mode: the open call is called back and resolved; once the
    // period passes again, the call and its lead are deleted, not archived.
    let (s, b) = srv
        .put_json(
            "/api/settings/retention",
            ADMIN_TOKEN,
            &json!({"calls_days": 30, "mode": "delete", "raw_days": 0}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{b}");
    let (s, b) = srv
        .post_json(
            &format!("/api/calls/{open}/disposition?department={slug}"),
            ADMIN_TOKEN,
            &json!({"category": "Callback done", "outcome": "resolved"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    srv.advance(Duration::from_secs(40 * 86_400));
    let run = retention_run(&srv).await;
    assert_eq!(
        (
            run["calls_deleted"].as_i64(),
            run["leads_deleted"].as_i64(),
            run["leads_archived"].as_i64()
        ),
        (Some(1), Some(2), Some(0)),
        "open and fresh: {run}"
    );
    assert_eq!(leads_total(&srv, "", ADMIN_TOKEN).await, 0);
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM leads_archive", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "nothing more archived");
}

/// A call that names a lead after retention archived it (the lead dialled
/// again months later) still shows the lead in its detail: the archived
/// copy, with `archived_at`. The lead routes keep reading live leads only,
/// as archived calls are out of the call routes; once the lead is delivered
/// again, the call shows the live lead.
#[tokio::test]
async fn a_call_naming_an_archived_lead_still_shows_it() {
    let srv = TestServer::start().await.unwrap();
    let (slug, secret) = convoso(&srv, "Convoso Sales").await;
    let grace = json!({"lead_id": "5521", "first_name": "Grace", "status": "NEW"}).to_string();
    lead_post(&srv, &slug, &secret, "application/json", &grace).await;
    call_naming(&srv, &slug, &secret, "c-first", "5521", "SALE").await;
    srv.advance(Duration::from_secs(40 * 86_400));
    let run = retention_run(&srv).await;
    assert_eq!(
        (
            run["calls_archived"].as_i64(),
            run["leads_archived"].as_i64()
        ),
        (Some(1), Some(1)),
        "{run}"
    );
    assert_eq!(kept(&srv, &slug, "5521").await, 404, "archived");

    let again = call_naming(&srv, &slug, &secret, "c-again", "5521", "SALE").await;
    let detail = |call: String| {
        let (srv, slug) = (&srv, &slug);
        async move {
            let (s, b) = srv
                .get_json(&format!("/api/calls/{call}?department={slug}"), ADMIN_TOKEN)
                .await
                .unwrap();
            assert_eq!(s, 200, "{b}");
            b["lead"].clone()
        }
    };
    let lead = detail(again.clone()).await;
    assert_eq!(
        (lead["lead_id"].as_str(), lead["first_name"].as_str()),
        (Some("5521"), Some("Grace")),
        "{lead}"
    );
    assert!(lead["archived_at"].is_string(), "{lead}");
    assert_eq!(
        kept(&srv, &slug, "5521").await,
        404,
        "still out of /api/leads"
    );

    // Delivered again, the lead is live: the call shows it, not the archive.
    let ada = json!({"lead_id": "5521", "first_name": "Ada", "status": "NEW"}).to_string();
    lead_post(&srv, &slug, &secret, "application/json", &ada).await;
    let lead = detail(again).await;
    assert_eq!(lead["first_name"], "Ada", "{lead}");
    assert!(lead.get("archived_at").is_none(), "a live lead: {lead}");
}
