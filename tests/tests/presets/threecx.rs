//! 3CX call journaling: the template Callboard hands out (`GET
//! /api/presets`, installed in 3CX's CRM integration) posts, once a call
//! ends, the keys the `3cx` preset maps. The reports are made here as 3CX
//! would make them from that template: each `<Value>` whose `If` holds,
//! its expression replaced by what 3CX substitutes for the call.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `(key, condition, expression)` of each `<Value>` of the ReportCall
/// scenario.
fn post_values(template: &str) -> Vec<(String, Option<String>, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].replace("&quot;", "\""))
    };
    let scenario = template
        .split("<Scenario Id=\"ReportCall\"")
        .nth(1)
        .expect("a ReportCall scenario");
    scenario
        .split("<Value ")
        .skip(1)
        .map(|v| {
            let (tag, rest) = v.split_once('>').expect("a value tag");
            let tag = format!(" {tag}");
            let expr = rest.split("</Value>").next().expect("a closed value");
            (
                attr(&tag, "Key").expect("a key"),
                attr(&tag, "If"),
                expr.replace("&quot;", "\""),
            )
        })
        .collect()
}

/// The JSON 3CX posts for a call whose variables evaluate as `vars` (an
/// expression of the template missing from `vars` fails the test: the
/// template and this test are kept in step).
fn report(template: &str, call_type: &str, vars: &BTreeMap<&str, &str>) -> Value {
    let mut body = Map::new();
    for (key, cond, expr) in post_values(template) {
        if let Some(c) = cond {
            let want = c
                .strip_prefix("[CallType]==")
                .expect("a CallType condition");
            if want != call_type {
                continue;
            }
        }
        let value = vars
            .get(expr.as_str())
            .unwrap_or_else(|| panic!("what 3CX makes of `{expr}` is not in the test"));
        body.insert(key, json!(value));
    }
    Value::Object(body)
}

/// The `3cx` preset as `GET /api/presets` lists it, and its template's text.
async fn preset_and_template(srv: &TestServer) -> (Value, String) {
    let (s, list) = srv.get_json("/api/presets", ADMIN_TOKEN).await.unwrap();
    assert_eq!(s, 200, "{list}");
    let preset = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "3cx")
        .expect("the 3cx preset")
        .clone();
    let template = preset["template"]["text"].as_str().unwrap().to_string();
    (preset, template)
}

/// A department made from the `3cx` preset (its national numbers read in
/// `region`): its webhook URL with the `?token=` 3CX is given.
async fn department(srv: &TestServer, preset: &Value, name: &str, region: Option<&str>) -> String {
    let mut mapping = preset["field_mapping"].clone();
    if let Some(r) = region {
        mapping["$options"] = json!({ "region": r });
    }
    let p = srv
        .provider_from_preset(name, "3cx", json!({ "field_mapping": mapping }))
        .await
        .unwrap();
    p["platform_url"].as_str().unwrap().to_string()
}

const TIME: &str = "ToString(\"yyyy-MM-ddTHH:mm:ssZ\")";

fn vars<'a>(extra: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
    let mut v: BTreeMap<&str, &str> = BTreeMap::new();
    v.extend(extra.iter().copied());
    v
}

#[tokio::test]
async fn a_3cx_template_report_lands_as_a_completed_or_missed_call() {
    let srv = TestServer::start().await.unwrap();
    let (preset, template) = preset_and_template(&srv).await;
    assert_eq!(preset["template"]["file_name"], "callboard-3cx.xml");
    assert!(template.contains("Url=\"[WebhookUrl]?token=[ApiKey]\""));
    // Every key the template posts is one the preset reads; every field
    // the preset maps is posted by the template or made by the API stream.
    let posted: std::collections::BTreeSet<String> = post_values(&template)
        .into_iter()
        .map(|(k, ..)| k)
        .collect();
    let mapped: std::collections::BTreeSet<String> = preset["field_mapping"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|spec| spec.get("path").and_then(Value::as_str).or(spec.as_str()))
        .flat_map(|path| path.split('|').map(|p| p.trim().to_string()))
        .collect();
    let streamed = ["event_id", "dn"];
    assert!(posted.is_subset(&mapped), "{posted:?} ⊄ {mapped:?}");
    for m in &mapped {
        assert!(
            posted.contains(m) || streamed.contains(&m.as_str()),
            "`{m}` is read but never sent"
        );
    }
    // Mentioned in the preset's own words, with the file's name.
    assert!(preset["notes"]
        .as_str()
        .unwrap()
        .contains("callboard-3cx.xml"));

    // The department's region, for national numbers.
    let url = department(&srv, &preset, "Front desk", Some("GB")).await;
    assert!(url.contains("?token="), "{url}");

    // A missed call: no agent, no answer time.
    let start = format!("[[CallStartTimeUTC].{TIME}]");
    let end = format!("[[CallEndTimeUTC].{TIME}]");
    let established = format!("[[CallEstablishedTimeUTC].{TIME}]");
    let missed = report(
        &template,
        "Missed",
        &vars(&[
            (
                "[Number]-[[CallStartTimeUTC].ToString(\"yyyyMMddHHmmss\")]",
                "+442071838750-20261205093000",
            ),
            ("[Number]", "+442071838750"),
            ("[Name]", "Priya Shah"),
            ("[QueueExtension]", "800"),
            ("[CallType]", "Missed"),
            ("[CallDirection]", "Inbound"),
            (&start, "2026-12-05T09:30:00Z"),
            (&end, "2026-12-05T09:30:41Z"),
            ("[Duration]", "00:00:00"),
        ]),
    );
    assert!(missed.get("agent").is_none(), "{missed}");
    let (s, ack) = srv.send(srv.http.post(&url).json(&missed)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call("front-desk", "+442071838750-20261205093000")
        .await
        .unwrap();
    assert_eq!(c["status"], "missed", "{c}");
    assert_eq!(c["mobile_number"], "+442071838750", "{c}");
    assert_eq!(c["direction"], "inbound", "{c}");
    assert_eq!(c["ended_at"], "2026-12-05T09:30:41.000Z", "{c}");
    // The name 3CX knows the caller by, and the queue they waited in.
    assert_eq!(c["caller_name"], "Priya Shah", "{c}");
    assert_eq!(c["metadata"]["queue"], "800", "{c}");
    assert!(c["answered_at"].is_null(), "{c}");

    // An answered call with a national number: read in the department's
    // region; the agent who took it; the talk time from `[Duration]`.
    let answered = report(
        &template,
        "Inbound",
        &vars(&[
            (
                "[Number]-[[CallStartTimeUTC].ToString(\"yyyyMMddHHmmss\")]",
                "02079460000-20261205100000",
            ),
            ("[Number]", "02079460000"),
            ("[Name]", ""),
            ("[QueueExtension]", ""),
            ("[CallType]", "Inbound"),
            ("[CallDirection]", "Inbound"),
            (&start, "2026-12-05T10:00:00Z"),
            (&established, "2026-12-05T10:00:12Z"),
            (&end, "2026-12-05T10:04:17Z"),
            ("[Duration]", "00:04:05"),
            ("[Agent]", "101"),
            ("[AgentFirstName] [AgentLastName]", "Asha Rao"),
            ("[AgentEmail]", "asha@example.com"),
        ]),
    );
    let (s, ack) = srv.send(srv.http.post(&url).json(&answered)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    let c = srv
        .call("front-desk", "02079460000-20261205100000")
        .await
        .unwrap();
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(c["mobile_number"], "+442079460000", "{c}");
    assert_eq!(c["answered_at"], "2026-12-05T10:00:12.000Z", "{c}");
    assert_eq!(c["duration_seconds"], 245, "{c}");
    assert_eq!(c["agent_id"], "101", "{c}");
    assert_eq!(c["agent_name"], "Asha Rao", "{c}");
    assert_eq!(c["metadata"]["agent_email"], "asha@example.com", "{c}");

    // 3CX retries a report it thinks failed: the same call, once.
    let (s, ack) = srv.send(srv.http.post(&url).json(&answered)).await.unwrap();
    assert_eq!(s, 200, "{ack}");
    assert_eq!(ack["status"], "duplicate", "{ack}");

    // Without the key, or with another, nothing is stored.
    let bare = url.split('?').next().unwrap().to_string();
    let (s, _) = srv.send(srv.http.post(&bare).json(&missed)).await.unwrap();
    assert_eq!(s, 401);
    let (s, _) = srv
        .send(
            srv.http
                .post(format!("{bare}?token=cb_wrong"))
                .json(&missed),
        )
        .await
        .unwrap();
    assert_eq!(s, 401);
}

/// The URL of the template's contact lookup (the scenario without an Id),
/// with 3CX's variables as it substitutes them.
fn lookup_url(template: &str, webhook_url: &str, key: &str, number: &str) -> String {
    let scenario = template
        .split("<Scenario Type=\"REST\">")
        .nth(1)
        .expect("a lookup scenario");
    let start = scenario.find(" Url=\"").expect("its URL") + 6;
    let len = scenario[start..].find('"').expect("a closed URL");
    scenario[start..start + len]
        .replace("&amp;", "&")
        .replace("[WebhookUrl]", webhook_url)
        .replace("[ApiKey]", key)
        .replace("[Number]", number)
}

#[tokio::test]
async fn a_3cx_contact_lookup_names_a_known_caller_and_links_their_calls() {
    let srv = TestServer::start().await.unwrap();
    let (preset, template) = preset_and_template(&srv).await;
    // What 3CX shows comes from the answer's fields the template reads.
    for path in ["contacts.id", "contacts.first_name", "contacts.url"] {
        assert!(template.contains(&format!("Path=\"{path}\"")), "{path}");
    }
    // A department without a region (every number arrives with its
    // country code), and one that reads national numbers as British.
    let platform = department(&srv, &preset, "Front desk", None).await;
    let (webhook, key) = platform.split_once("?token=").unwrap();
    let branch = department(&srv, &preset, "Branch", Some("GB")).await;
    let (branch_webhook, branch_key) = branch.split_once("?token=").unwrap();
    let asha = "+919876543210";
    // Two calls from Asha, the newer one named (the stream reads 3CX's
    // caller name), and a caller nobody named, at the branch.
    for (url, id, name, number) in [
        (&platform, "c1", None, asha),
        (&platform, "c2", Some("Asha Rao"), asha),
        (&branch, "c3", None, "+442079460000"),
    ] {
        let (s, ack) = srv
            .send(srv.http.post(url).json(&json!({
                "call_id": id, "number": number, "call_type": "Missed", "name": name,
            })))
            .await
            .unwrap();
        assert_eq!(s, 200, "{ack}");
    }
    let srv = &srv;
    let ask_at = |webhook: &str, key: &str, number: &str| {
        let url = lookup_url(&template, webhook, key, number);
        async move { srv.send(srv.http.get(url)).await.unwrap() }
    };
    let ask = |number: &str| ask_at(webhook, key, number);

    // 3CX puts the number in the URL as it is: its `+` arrives as a space.
    let (s, found) = ask(asha).await;
    assert_eq!(s, 200, "{found}");
    let c = &found["contacts"][0];
    assert_eq!(c["id"], asha, "{found}");
    assert_eq!(c["first_name"], "Asha Rao", "{found}");
    assert_eq!(c["calls"], 2, "{found}");
    assert_eq!(c["last_status"], "missed", "{found}");
    // The console's history of the number, on the address 3CX reached.
    assert_eq!(
        c["url"],
        srv.url("/history?q=%2B919876543210&department=front-desk"),
        "{found}"
    );
    assert_eq!(ask("%2B919876543210").await.1, found);
    // Another department's caller is not this one's.
    assert_eq!(ask("+442079460000").await.1, json!({"contacts": []}));
    // At the branch: a national number is read in its region; a caller
    // without a name is shown by their number.
    let (_, other) = ask_at(branch_webhook, branch_key, "02079460000").await;
    assert_eq!(other["contacts"][0]["first_name"], "+442079460000");
    assert_eq!(
        ask_at(branch_webhook, branch_key, "+442079460000").await.1,
        other
    );
    // A number the department never heard from: nobody.
    let (s, none) = ask("+442079460999").await;
    assert_eq!((s, none), (200, json!({"contacts": []})));

    // No number, a word, no key, a wrong key, an unknown department.
    let (s, e) = srv
        .send(srv.http.get(format!("{webhook}/contacts?token={key}")))
        .await
        .unwrap();
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("number"));
    let (s, _) = ask("anonymous").await;
    assert_eq!(s, 400);
    for (url, status) in [
        (format!("{webhook}/contacts?number=1"), 401),
        (format!("{webhook}/contacts?token=cb_wrong&number=1"), 401),
        (
            srv.url("/webhooks/ivr/nobody/contacts?token=x&number=1"),
            404,
        ),
    ] {
        let (s, e) = srv.send(srv.http.get(&url)).await.unwrap();
        assert_eq!(s, status, "{url}: {e}");
    }
    // Lookups are not deliveries: the department's log holds its two calls.
    let (_, deliveries) = srv
        .get_json("/api/providers/front-desk/deliveries", ADMIN_TOKEN)
        .await
        .unwrap();
    let applied = deliveries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] == "applied")
        .count();
    assert_eq!(applied, 2, "{deliveries}");
}
