//! The hostile table: one row per input an attacker (or a broken platform)
//! sends, each answered with the documented status and error code, nothing
//! stored, nothing secret echoed. Kinds: malformed and oversized bodies,
//! every scheme's forged and missing credentials, forged console tokens,
//! SQL-looking parameters, path traversal, wrong methods and types.

use callboard_tests::{TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

struct Row {
    what: &'static str,
    req: reqwest::RequestBuilder,
    status: u16,
    /// None: the status alone is the contract (a 404 page, a CORS answer).
    code: Option<&'static str>,
}

fn row(what: &'static str, req: reqwest::RequestBuilder, status: u16, code: &'static str) -> Row {
    Row {
        what,
        req,
        status,
        code: Some(code),
    }
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn every_hostile_input_gets_its_status_and_code_and_leaves_nothing() {
    let srv = TestServer::start().await.unwrap();
    let (plain, key) = srv.provider("Plain").await.unwrap();
    let twilio = srv
        .provider_from_preset(
            "Tw",
            "twilio",
            json!({"signing_secret": "twilio-auth-token-0123456789"}),
        )
        .await
        .unwrap();
    let dialpad = srv
        .provider_from_preset("Dp", "dialpad", json!({}))
        .await
        .unwrap();
    let convoso = srv
        .provider_from_preset("Cv", "convoso", json!({}))
        .await
        .unwrap();
    let exotel = srv
        .provider_from_preset("Ex", "exotel", json!({}))
        .await
        .unwrap();
    let plivo = srv
        .provider_from_preset(
            "Pl",
            "plivo",
            json!({"signing_secret": "plivo-auth-token-0123456789"}),
        )
        .await
        .unwrap();
    let basic = srv
        .provider_from_preset("Fs", "freeswitch", json!({}))
        .await
        .unwrap();
    let slug = |p: &Value| p["slug"].as_str().unwrap().to_string();
    let secrets: Vec<String> = [&twilio, &dialpad, &convoso, &exotel, &plivo, &basic]
        .iter()
        .flat_map(|p| [p["api_key"].as_str(), p["signing_secret"].as_str()])
        .flatten()
        .map(String::from)
        .chain([key.clone(), ADMIN_TOKEN.to_string()])
        .collect();
    let agent = srv.user("ravi", "agent", &[]).await.unwrap();
    srv.webhook(
        &plain,
        &key,
        &json!({"call_id": "seed", "status": "ringing", "from": "+911"}),
    )
    .await
    .unwrap();

    let http = &srv.http;
    let hook = |s: &str| http.post(srv.url(&format!("/webhooks/ivr/{s}")));
    let keyed = || hook(&plain).header("x-api-key", &key);
    let json_ct = "application/json";
    let api = |p: &str| http.get(srv.url(p));
    let mut rows = vec![
        // Bodies.
        row(
            "malformed JSON",
            keyed()
                .header("content-type", json_ct)
                .body("{\"call_id\": "),
            400,
            "malformed_body",
        ),
        row(
            "JSON with a trailing comma",
            keyed().header("content-type", json_ct).body("{\"a\":1,}"),
            400,
            "malformed_body",
        ),
        row(
            "invalid UTF-8",
            keyed()
                .header("content-type", json_ct)
                .body(vec![b'{', 0xff, 0xfe, b'}']),
            400,
            "malformed_body",
        ),
        row(
            "invalid UTF-8 in a form",
            keyed()
                .header("content-type", "application/x-www-form-urlencoded")
                .body(vec![b'a', b'=', 0xc3, 0x28]),
            400,
            "malformed_body",
        ),
        row(
            "a NUL byte outside a string",
            keyed()
                .header("content-type", json_ct)
                .body(b"{\"a\":1}\0".to_vec()),
            400,
            "malformed_body",
        ),
        row(
            "10,000-deep nesting",
            keyed().header("content-type", json_ct).body(nested(10_000)),
            400,
            "body_too_deep",
        ),
        row(
            "65-deep nesting",
            keyed().header("content-type", json_ct).body(nested(65)),
            400,
            "body_too_deep",
        ),
        row(
            "1 MiB + 1 byte",
            keyed()
                .header("content-type", json_ct)
                .body(vec![b' '; 1024 * 1024 + 1]),
            413,
            "body_too_large",
        ),
        row(
            "XML",
            keyed()
                .header("content-type", "application/xml")
                .body("<call/>"),
            415,
            "unsupported_media_type",
        ),
        row(
            "multipart",
            keyed()
                .header("content-type", "multipart/form-data; boundary=x")
                .body("--x--"),
            415,
            "unsupported_media_type",
        ),
        row(
            "an empty POST",
            keyed().header("content-type", json_ct),
            400,
            "empty_delivery",
        ),
        row(
            "whitespace only",
            keyed().header("content-type", json_ct).body("  \n "),
            400,
            "empty_delivery",
        ),
        row(
            "an unknown encoding",
            keyed()
                .header("content-type", json_ct)
                .header("content-encoding", "zstd")
                .body("x"),
            415,
            "unsupported_encoding",
        ),
        row(
            "gzip that is not gzip",
            keyed()
                .header("content-type", json_ct)
                .header("content-encoding", "gzip")
                .body("plain"),
            400,
            "malformed_body",
        ),
        // Webhook credentials.
        row(
            "no API key",
            hook(&plain).json(&json!({"call_id": "x"})),
            401,
            "missing_api_key",
        ),
        row(
            "a wrong API key",
            hook(&plain)
                .header("x-api-key", "cbk_wrong")
                .json(&json!({"call_id": "x"})),
            401,
            "invalid_api_key",
        ),
        row(
            "an empty API key",
            hook(&plain)
                .header("x-api-key", "")
                .json(&json!({"call_id": "x"})),
            401,
            "invalid_api_key",
        ),
        row(
            "another provider's key",
            hook(&slug(&exotel))
                .header("x-api-key", &key)
                .json(&json!({"call_id": "x"})),
            401,
            "missing_api_key",
        ),
        row(
            "the key in the wrong header",
            hook(&plain)
                .header("authorization", format!("Bearer {key}"))
                .json(&json!({"call_id": "x"})),
            401,
            "missing_api_key",
        ),
        row(
            "an unknown provider",
            http.post(srv.url("/webhooks/ivr/nobody"))
                .header("x-api-key", &key)
                .json(&json!({})),
            404,
            "not_found",
        ),
        row(
            "Twilio: no signature",
            hook(&slug(&twilio)).form(&[("CallSid", "CA1")]),
            401,
            "missing_signature",
        ),
        row(
            "Twilio: a forged signature",
            hook(&slug(&twilio))
                .header("x-twilio-signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .form(&[("CallSid", "CA1")]),
            401,
            "invalid_signature",
        ),
        row(
            "Twilio: signature garbage",
            hook(&slug(&twilio))
                .header("x-twilio-signature", "%%%not base64")
                .form(&[("CallSid", "CA1")]),
            401,
            "invalid_signature",
        ),
        row(
            "Plivo: no signature",
            hook(&slug(&plivo)).form(&[("CallUUID", "p1")]),
            401,
            "missing_signature",
        ),
        row(
            "Plivo: a forged V3 signature",
            hook(&slug(&plivo))
                .header("x-plivo-signature-v3", "Zm9yZ2Vk")
                .header("x-plivo-signature-v3-nonce", "1")
                .form(&[("CallUUID", "p1")]),
            401,
            "invalid_signature",
        ),
        row(
            "Convoso: no HMAC",
            hook(&slug(&convoso)).json(&json!({"call_id": 1})),
            401,
            "missing_signature",
        ),
        row(
            "Convoso: a forged HMAC",
            hook(&slug(&convoso))
                .header("x-convoso-signature", "00ff")
                .header("x-signature", "00ff")
                .json(&json!({"call_id": 1})),
            401,
            "invalid_signature",
        ),
        row(
            "Dialpad: a JWT with alg none",
            hook(&slug(&dialpad))
                .header("content-type", "application/jwt")
                .body("eyJhbGciOiJub25lIn0.eyJjYWxsX2lkIjoxfQ."),
            401,
            "invalid_signature",
        ),
        row(
            "Dialpad: an HS512 JWT",
            hook(&slug(&dialpad))
                .header("content-type", "application/jwt")
                .body("eyJhbGciOiJIUzUxMiJ9.eyJjYWxsX2lkIjoxfQ.c2ln"),
            401,
            "invalid_signature",
        ),
        row(
            "Dialpad: not a JWT",
            hook(&slug(&dialpad))
                .header("content-type", "application/jwt")
                .body("plainly not a token"),
            401,
            "invalid_signature",
        ),
        row(
            "Exotel: no token",
            hook(&slug(&exotel)).form(&[("CallSid", "e1")]),
            401,
            "missing_api_key",
        ),
        row(
            "Exotel: a wrong token",
            http.post(srv.url(&format!("/webhooks/ivr/{}?token=cbk_wrong", slug(&exotel))))
                .form(&[("CallSid", "e1")]),
            401,
            "invalid_api_key",
        ),
        row(
            "Basic: none",
            hook(&slug(&basic)).json(&json!({"call_id": 1})),
            401,
            "missing_credentials",
        ),
        row(
            "Basic: wrong",
            hook(&slug(&basic))
                .basic_auth("freeswitch", Some("guess"))
                .json(&json!({"call_id": 1})),
            401,
            "invalid_api_key",
        ),
        // Console credentials.
        row("no token", api("/api/calls"), 401, "missing_token"),
        row(
            "an unknown bearer",
            api("/api/calls").bearer_auth("cbt_0000"),
            401,
            "invalid_token",
        ),
        row(
            "an empty bearer",
            api("/api/calls").header("authorization", "Bearer "),
            401,
            "missing_token",
        ),
        row(
            "Basic instead of Bearer",
            api("/api/calls").basic_auth("admin", Some(ADMIN_TOKEN)),
            401,
            "missing_token",
        ),
        row(
            "the token in the query (not the stream)",
            api(&format!("/api/calls?token={ADMIN_TOKEN}")),
            401,
            "missing_token",
        ),
        row(
            "a forged session cookie",
            api("/api/calls").header("cookie", "callboard_session=cbt_forged"),
            401,
            "invalid_token",
        ),
        row(
            "a cookie-signed change without the CSRF token",
            http.post(srv.url("/api/providers"))
                .header("cookie", format!("callboard_session={ADMIN_TOKEN}"))
                .json(&json!({"name": "Planted by another site"})),
            403,
            "csrf_failed",
        ),
        row(
            "a cookie-signed change with a made-up CSRF token",
            http.post(srv.url("/api/providers"))
                .header("cookie", format!("callboard_session={ADMIN_TOKEN}"))
                .header("x-csrf-token", "0".repeat(64))
                .json(&json!({"name": "Planted by another site"})),
            403,
            "csrf_failed",
        ),
        row(
            "a JWT with alg none as a session",
            api("/api/calls").bearer_auth("eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ."),
            401,
            "invalid_token",
        ),
        row(
            "an API key as a session",
            api("/api/calls").bearer_auth(&key),
            401,
            "invalid_token",
        ),
        row(
            "a wrong password",
            http.post(srv.url("/api/auth/login"))
                .json(&json!({"username": "ravi", "password": "x"})),
            401,
            "bad_credentials",
        ),
        row(
            "a login with SQL for a name",
            http.post(srv.url("/api/auth/login"))
                .json(&json!({"username": "' OR 1=1 --", "password": "x"})),
            401,
            "bad_credentials",
        ),
        row(
            "a login with extra fields",
            http.post(srv.url("/api/auth/login"))
                .json(&json!({"username": "a", "password": "b", "role": "admin"})),
            422,
            "invalid",
        ),
        // Roles.
        row(
            "an agent creating a provider",
            http.post(srv.url("/api/providers"))
                .bearer_auth(&agent)
                .json(&json!({"name": "X"})),
            403,
            "forbidden",
        ),
        row(
            "an agent reading users",
            api("/api/users").bearer_auth(&agent),
            403,
            "forbidden",
        ),
        row(
            "an agent reading the audit log",
            api("/api/audit").bearer_auth(&agent),
            403,
            "forbidden",
        ),
        row(
            "an agent reading deliveries",
            api(&format!("/api/providers/{plain}/deliveries")).bearer_auth(&agent),
            403,
            "forbidden",
        ),
        row(
            "an agent reading a call of another department",
            api(&format!("/api/calls/seed?department={plain}")).bearer_auth(&agent),
            403,
            "forbidden",
        ),
        // SQL-looking parameters: data, never code.
        row(
            "SQL in department",
            api("/api/calls?department=x'%3B%20DROP%20TABLE%20calls%3B--").bearer_auth(ADMIN_TOKEN),
            200,
            "",
        ),
        row(
            "SQL in search",
            api("/api/calls?search=%27%20OR%201%3D1%20--").bearer_auth(ADMIN_TOKEN),
            200,
            "",
        ),
        row(
            "SQL in number",
            api("/api/calls?number=1%27)%20UNION%20SELECT%20*%20FROM%20users--")
                .bearer_auth(ADMIN_TOKEN),
            200,
            "",
        ),
        row(
            "SQL in a call id",
            api("/api/calls/seed'%20OR%20'1'='1").bearer_auth(ADMIN_TOKEN),
            404,
            "not_found",
        ),
        row(
            "SQL in the audit actor",
            api("/api/audit?actor=%27%3B--").bearer_auth(ADMIN_TOKEN),
            200,
            "",
        ),
        // Types and ranges.
        row(
            "a negative limit (clamped to 1)",
            api("/api/calls?limit=-1").bearer_auth(ADMIN_TOKEN),
            200,
            "",
        ),
        row(
            "a limit that is not a number",
            api("/api/calls?limit=ten").bearer_auth(ADMIN_TOKEN),
            400,
            "invalid_query",
        ),
        row(
            "an unknown status",
            api("/api/calls?status=teleported").bearer_auth(ADMIN_TOKEN),
            422,
            "invalid",
        ),
        row(
            "a date that is not a date",
            api("/api/calls?from=yesterday").bearer_auth(ADMIN_TOKEN),
            422,
            "invalid",
        ),
        row(
            "a wrong method",
            http.put(srv.url("/api/calls")).bearer_auth(ADMIN_TOKEN),
            405,
            "method_not_allowed",
        ),
        row(
            "an unknown API route",
            api("/api/nothing-here").bearer_auth(ADMIN_TOKEN),
            404,
            "route_not_found",
        ),
        row(
            "JSON of the wrong shape",
            http.post(srv.url("/api/providers"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"name": 7})),
            422,
            "invalid",
        ),
        row(
            "a provider without a body",
            http.post(srv.url("/api/providers"))
                .bearer_auth(ADMIN_TOKEN),
            415,
            "unsupported_media_type",
        ),
        // Paths.
        row(
            "traversal in a slug",
            http.post(srv.url("/webhooks/ivr/..%2F..%2Fetc%2Fpasswd"))
                .header("x-api-key", &key)
                .json(&json!({})),
            404,
            "not_found",
        ),
        row(
            "encoded dots above the API (a file outside the console)",
            api("/api/%2e%2e/%2e%2e/Cargo.toml"),
            404,
            "",
        ),
        row(
            "traversal under assets",
            api("/assets/..%2f..%2fCargo.toml"),
            404,
            "",
        ),
    ];
    assert!(rows.len() >= 60, "{} rows", rows.len());
    let mut wrong = Vec::new();
    for Row {
        what,
        req,
        status,
        code,
    } in rows.drain(..)
    {
        let res = req.send().await.unwrap();
        let got = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or_default();
        let got_code = body["error"]["code"].as_str().unwrap_or("");
        if got != status || code.is_some_and(|c| !c.is_empty() && c != got_code) {
            wrong.push(format!(
                "{what}: {got} {got_code} (expected {status} {})",
                code.unwrap_or("")
            ));
        }
        if code.is_some_and(|c| !c.is_empty()) {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{what}: {text}"
            );
        }
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} echoed a secret");
        }
        if what == "traversal under assets" {
            assert!(!text.contains("[workspace]"), "no file outside the console");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing any of them sent became a call; the calls table is whole.
    let (_, list) = srv.get_json("/api/calls", ADMIN_TOKEN).await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["data"][0]["call_id"], "seed");
    let (_, providers) = srv.get_json("/api/providers", ADMIN_TOKEN).await.unwrap();
    assert!(
        !providers.to_string().contains("Planted by another site"),
        "a refused cross-site change stored nothing"
    );
}
