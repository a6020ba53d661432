//! Convoso's lead webhook (`/webhooks/ivr/{slug}/leads`), signed like its
//! call webhooks (`x-convoso-signature`, hex HMAC-SHA256 of the raw body).
//! The deliveries are constructed from Convoso's documented lead fields
//! (crates/core/tests/fixtures/README.md): no recorded one is public.

use crate::code;
use callboard_core::signature::{hmac_sha256_signature, Encoding};
use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

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
    // The delivery log holds no applied delivery: only refusals.
    let (_, log) = srv
        .get_json(&format!("/api/providers/{slug}/deliveries"), ADMIN_TOKEN)
        .await
        .unwrap();
    for r in log["data"].as_array().unwrap() {
        assert_eq!(r["outcome"], "rejected", "{r}");
    }
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
