//! Vonage as a click-to-call dialer (its Voice API, signed with the
//! application's RSA key) and texts to missed callers through Vonage's
//! Messages API and Dialpad's SMS API, a fake platform on loopback standing
//! in for each: what the platform is asked, the token it can verify, the
//! status reports that make the call attempted, refusals and retries.

use super::code;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use callboard_tests::fake_platform::{FakePlatform, Reply, Seen};
use callboard_tests::{event, until, TestServer, ADMIN_TOKEN};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};

// A throwaway key generated once for the tests (see the fixtures' README);
// it belongs to no Vonage application.
const PRIVATE_KEY: &str =
    include_str!("../../../crates/core/tests/fixtures/vonage-application-key.GENERATED.pem");
const PUBLIC_KEY: &str =
    include_str!("../../../crates/core/tests/fixtures/vonage-application-key.GENERATED.pub.pem");
const APP_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";

/// Checks the request's Bearer JWT as Vonage does: RS256 over header and
/// claims with the application's public key. Returns the claims.
fn verified_claims(req: &Seen) -> Value {
    let auth = req
        .header("authorization")
        .expect("an Authorization header");
    let jwt = auth.strip_prefix("Bearer ").expect("a Bearer token");
    let (input, sig) = jwt.rsplit_once('.').expect("a compact JWS");
    let public: String = PUBLIC_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    UnparsedPublicKey::new(
        &RSA_PKCS1_2048_8192_SHA256,
        STANDARD.decode(public).unwrap(),
    )
    .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
    .expect("the token verifies with the application's public key");
    let mut parts = input.split('.');
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap()
}

fn vonage_dialer(fake: &FakePlatform) -> Value {
    json!({"kind": "vonage",
        "fields": {"application_id": APP_ID, "caller_id": "+14155550100", "base_url": fake.base},
        "secrets": {"private_key": PRIVATE_KEY}})
}

async fn put_dialer(srv: &TestServer, slug: &str, body: &Value) -> (u16, Value) {
    srv.put_json(&format!("/api/providers/{slug}/dialer"), ADMIN_TOKEN, body)
        .await
        .unwrap()
}

async fn call_back(srv: &TestServer, token: &str, slug: &str, agent: &str) -> (u16, Value) {
    srv.post_json(
        &format!("/api/calls/m-1/callback?department={slug}"),
        token,
        &json!({"agent": agent}),
    )
    .await
    .unwrap()
}

async fn report(srv: &TestServer, url: &str, body: Value) {
    let r = srv.http.post(url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
}

#[tokio::test]
async fn vonage_rings_the_agent_with_a_signed_request_and_its_events_make_the_call_attempted() {
    let fake = FakePlatform::start().await;
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Sales").await.unwrap();
    let (s, ack) = srv
        .webhook(&slug, &key, &event("m-1", "missed", "+919811122233"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
    let agent = srv.user("asha", "agent", &[&slug]).await.unwrap();

    // A key that cannot sign is refused when saved, with the reason, and
    // nothing is stored.
    for (bad, why) in [
        ("my-secret", "not a PEM private key"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "not an RSA private key",
        ),
        (PUBLIC_KEY, "RSA PUBLIC KEY"),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "passphrase",
        ),
    ] {
        let mut body = vonage_dialer(&fake);
        body["secrets"]["private_key"] = json!(bad);
        let (s, e) = put_dialer(&srv, &slug, &body).await;
        assert_eq!((s, code(&e)), (422, "invalid"), "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("private_key:") && msg.contains(why), "{e}");
    }
    let (_, list) = srv.get_json("/api/dialers", ADMIN_TOKEN).await.unwrap();
    assert_eq!(list, json!([]), "a refused key saves nothing");
    // The settings form learns the key is several lines long.
    let (_, kinds) = srv.get_json("/api/dialer-kinds", &agent).await.unwrap();
    let vonage = kinds
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "vonage")
        .unwrap();
    let key_field = vonage["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "private_key")
        .unwrap();
    assert_eq!(
        (&key_field["secret"], &key_field["multiline"]),
        (&json!(true), &json!(true))
    );

    // Without the key the dialer says what it lacks; with it, it is ready and
    // the key is never shown again.
    let mut no_key = vonage_dialer(&fake);
    no_key["secrets"] = json!({});
    let (s, d) = put_dialer(&srv, &slug, &no_key).await;
    assert_eq!(
        (s, &d["missing_secrets"]),
        (200, &json!(["private_key"])),
        "{d}"
    );
    let (s, d) = put_dialer(&srv, &slug, &vonage_dialer(&fake)).await;
    assert_eq!((s, &d["ready"]), (200, &json!(true)), "{d}");
    let (_, list) = srv.get_json("/api/dialers", ADMIN_TOKEN).await.unwrap();
    assert!(!list.to_string().contains("PRIVATE KEY"), "{list}");
    assert_eq!(list[0]["missing_secrets"], json!([]));
    let secrets = std::fs::read_to_string(srv.dir.path().join("secrets.json")).unwrap();
    assert!(secrets.contains("BEGIN PRIVATE KEY"));

    fake.answer(Reply::json(
        201,
        json!({"uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356", "status": "started",
            "direction": "outbound", "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}),
    ));
    let (s, started) = call_back(&srv, &agent, &slug, "+91 98000 00001").await;
    assert_eq!(s, 201, "{started}");
    assert_eq!(started["attempt"]["state"], "dialling");
    assert_eq!(
        started["attempt"]["platform_ref"],
        "63f61863-4a51-4f6b-86e1-46edebcf9356"
    );

    // What Vonage was asked: a signed request that rings the agent, whose
    // NCCO connects the caller.
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("POST", "/v1/calls")
    );
    let claims = verified_claims(req);
    assert_eq!(claims["application_id"], APP_ID);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - srv.now().timestamp()).abs() <= 5, "{claims}");
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 900);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(
        body["to"],
        json!([{"type": "phone", "number": "919800000001"}])
    );
    assert_eq!(
        body["from"],
        json!({"type": "phone", "number": "14155550100"})
    );
    let connect = &body["ncco"][0];
    assert_eq!(connect["action"], "connect");
    assert_eq!(
        connect["endpoint"],
        json!([{"type": "phone", "number": "919811122233"}])
    );
    let status_url = connect["eventUrl"][0].as_str().unwrap().to_string();
    assert!(status_url.starts_with(&srv.url("/dial/")), "{status_url}");
    let agent_url = body["event_url"][0].as_str().unwrap().to_string();
    assert_eq!(agent_url, format!("{status_url}?cb_leg=agent"));

    // Vonage's events: the agent's leg answered, the caller's leg rang,
    // was answered and completed after 42 s.
    let leg = |status: &str| {
        json!({"from": "14155550100", "to": "919811122233", "uuid": "aaaaaaaa-b-leg",
            "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22", "status": status,
            "direction": "outbound", "timestamp": "2026-01-01T00:00:30.000Z"})
    };
    report(
        &srv,
        &agent_url,
        json!({"status": "answered", "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356"}),
    )
    .await;
    for status in ["started", "ringing", "answered"] {
        report(&srv, &status_url, leg(status)).await;
    }
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][0]["state"], "dialling", "{c}");
    assert_eq!(c["attempts"], 0);
    let mut done = leg("completed");
    done["duration"] = json!("42");
    report(&srv, &status_url, done).await;
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][0]["state"], "connected", "{c}");
    assert_eq!(c["callbacks"][0]["duration_seconds"], 42);
    assert_eq!(c["attempts"], 1);
    assert_eq!(c["work_state"], "attempted");
    // Then the agent's leg ends: nothing more to count.
    report(
        &srv,
        &agent_url,
        json!({"status": "completed", "duration": "50"}),
    )
    .await;
    assert_eq!(srv.call(&slug, "m-1").await.unwrap()["attempts"], 1);

    // A second call back: the agent's phone times out, so the caller was
    // never dialled and it is not an attempt on the call.
    let (s, started) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!(s, 201, "{started}");
    let body: Value = serde_json::from_str(&fake.seen()[1].body).unwrap();
    let agent_url = body["event_url"][0].as_str().unwrap().to_string();
    let second = verified_claims(&fake.seen()[1]);
    assert_ne!(second["jti"], claims["jti"], "each request has its own jti");
    report(
        &srv,
        &agent_url,
        json!({"status": "timeout", "direction": "outbound"}),
    )
    .await;
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][1]["state"], "agent_unreachable", "{c}");
    assert_eq!(c["attempts"], 1);

    // Vonage refuses (its RFC 7807 problem): 502 with its reason, the
    // attempt kept as failed.
    fake.script(&[Reply::json(
        401,
        json!({"type": "https://developer.nexmo.com/api-errors#unauthorized", "title": "Unauthorized",
            "detail": "You did not provide correct credentials.", "instance": "798b8f199c45014ab7b08bfe9cc1c12c"}),
    )]);
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (502, "platform_error"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not provide correct credentials"),
        "{e}"
    );
    let c = srv.call(&slug, "m-1").await.unwrap();
    assert_eq!(c["callbacks"][2]["state"], "failed", "{c}");

    // A key damaged in the secret store behind Callboard's back: no attempt,
    // no request, a 409 naming the key.
    let path = srv.dir.path().join("secrets.json");
    let stored = std::fs::read_to_string(&path).unwrap();
    let damaged = stored.replace("-----END PRIVATE KEY-----", "");
    std::fs::write(&path, damaged).unwrap();
    let before = fake.seen().len();
    let (s, e) = call_back(&srv, &agent, &slug, "+919800000001").await;
    assert_eq!((s, code(&e)), (409, "no_dialer"), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("private_key"),
        "{e}"
    );
    assert_eq!(fake.seen().len(), before);
    assert_eq!(
        srv.call(&slug, "m-1").await.unwrap()["callbacks"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn messages(srv: &TestServer, slug: &str) -> Vec<Value> {
    let (s, m) = srv
        .get_json(&format!("/api/providers/{slug}/sms/messages"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{m}");
    m.as_array().unwrap().clone()
}

/// A department texting its missed callers through `dialer`.
async fn texting(srv: &TestServer, dialer: Value) -> (String, String) {
    let (slug, key) = srv.provider("Sales").await.unwrap();
    let (s, d) = put_dialer(srv, &slug, &dialer).await;
    assert_eq!((s, &d["ready"]), (200, &json!(true)), "{d}");
    let (s, set) = srv
        .put_json(
            &format!("/api/providers/{slug}/sms"),
            ADMIN_TOKEN,
            &json!({"enabled": true, "template": "Sorry we missed your call. {department} will call you back."}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{set}");
    (slug, key)
}

async fn missed(srv: &TestServer, slug: &str, key: &str, id: &str, caller: &str) {
    let (s, ack) = srv
        .webhook(slug, key, &event(id, "missed", caller))
        .await
        .unwrap();
    assert_eq!(s, 200, "{ack}");
}

async fn newest_is(srv: &TestServer, slug: &str, state: &'static str) -> Value {
    until(15, state, || async {
        messages(srv, slug)
            .await
            .first()
            .is_some_and(|m| m["state"] == state)
    })
    .await;
    messages(srv, slug).await[0].clone()
}

#[tokio::test]
async fn vonage_texts_missed_callers_through_the_messages_api() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        202,
        json!({"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"}),
    ));
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = texting(&srv, vonage_dialer(&fake)).await;

    missed(&srv, &slug, &key, "m-1", "+919811100001").await;
    let m = newest_is(&srv, &slug, "sent").await;
    assert_eq!(m["platform_ref"], "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab");
    let req = &fake.seen()[0];
    assert_eq!(req.target, "/v1/messages");
    assert_eq!(verified_claims(req)["application_id"], APP_ID);
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(
        body,
        json!({"message_type": "text", "channel": "sms", "to": "919811100001",
            "from": "14155550100", "text": "Sorry we missed your call. Sales will call you back."})
    );

    // A refusal (Vonage's problem document): failed with its reason, one try.
    fake.script(&[Reply::json(
        422,
        json!({"type": "https://developer.vonage.com/api-errors/messages#1150", "title": "Invalid params",
            "detail": "The value of one or more parameters is invalid.", "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
            "invalid_parameters": [{"name": "from", "reason": "Invalid sender"}]}),
    )]);
    let before = fake.seen().len();
    missed(&srv, &slug, &key, "m-2", "+919811100002").await;
    let m = newest_is(&srv, &slug, "failed").await;
    let detail = m["detail"].as_str().unwrap();
    assert!(
        detail.contains("HTTP 422") && detail.contains("from: Invalid sender"),
        "{m}"
    );
    assert_eq!(m["attempts"], 1);
    assert_eq!(fake.seen().len(), before + 1, "a refusal is not retried");

    // A 503 (Vonage did not take it) is tried again.
    fake.script(&[Reply::json(503, json!({"title": "Service Unavailable"}))]);
    let before = fake.seen().len();
    missed(&srv, &slug, &key, "m-3", "+919811100003").await;
    let m = newest_is(&srv, &slug, "sent").await;
    assert_eq!(m["to_number"], "+919811100003", "{m}");
    assert_eq!(fake.seen().len(), before + 2);
}

#[tokio::test]
async fn dialpad_texts_missed_callers_as_the_configured_user() {
    let fake = FakePlatform::start().await;
    fake.answer(Reply::json(
        200,
        json!({"id": 4912345, "message_status": "pending", "direction": "outbound"}),
    ));
    let srv = TestServer::start().await.unwrap();
    let dialpad = |sms_user: Option<&str>| {
        let mut d = json!({"kind": "dialpad", "fields": {"base_url": fake.base},
            "secrets": {"api_key": "dp-key"}});
        if let Some(u) = sms_user {
            d["fields"]["sms_user_id"] = json!(u);
        }
        d
    };
    // Without a sender the text cannot go: failed, with what to set.
    let (slug, key) = texting(&srv, dialpad(None)).await;
    missed(&srv, &slug, &key, "m-1", "+14155550101").await;
    let m = newest_is(&srv, &slug, "failed").await;
    assert!(m["detail"].as_str().unwrap().contains("sms_user_id"), "{m}");
    assert!(fake.seen().is_empty());
    // A sender that is not a user id is refused when saved.
    let (s, e) = put_dialer(&srv, &slug, &dialpad(Some("asha@example.com"))).await;
    assert_eq!((s, code(&e)), (422, "invalid"), "{e}");

    let (s, d) = put_dialer(&srv, &slug, &dialpad(Some("5734525342"))).await;
    assert_eq!(s, 200, "{d}");
    missed(&srv, &slug, &key, "m-2", "+14155550102").await;
    let m = newest_is(&srv, &slug, "sent").await;
    assert_eq!(m["platform_ref"], "4912345");
    let req = &fake.seen()[0];
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("POST", "/api/v2/sms")
    );
    assert_eq!(req.header("authorization"), Some("Bearer dp-key"));
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(
        body,
        json!({"user_id": 5734525342u64, "to_numbers": ["+14155550102"],
            "text": "Sorry we missed your call. Sales will call you back.", "infer_country_code": false})
    );

    // Dialpad refuses (its error document): failed with its reason.
    fake.script(&[Reply::json(
        400,
        json!({"error": {"code": 400, "message": "Invalid phone number: +14155550103",
            "errors": [{"domain": "global", "reason": "badRequest", "message": "Invalid phone number: +14155550103"}]}}),
    )]);
    missed(&srv, &slug, &key, "m-3", "+14155550103").await;
    let m = newest_is(&srv, &slug, "failed").await;
    assert!(
        m["detail"]
            .as_str()
            .unwrap()
            .contains("Invalid phone number"),
        "{m}"
    );
    assert_eq!(m["attempts"], 1);

    // Accepted, but Dialpad says it will not deliver: failed with its word.
    fake.script(&[Reply::json(
        200,
        json!({"id": 4912399, "message_status": "failed", "message_delivery_result": "invalid_destination"}),
    )]);
    missed(&srv, &slug, &key, "m-4", "+14155550104").await;
    let m = newest_is(&srv, &slug, "failed").await;
    assert!(
        m["detail"]
            .as_str()
            .unwrap()
            .contains("invalid_destination"),
        "{m}"
    );

    // Dialpad unavailable (503) on every try of a round: the text waits in
    // the outbox with the reason and goes on a later round.
    fake.script(&[
        Reply::json(
            503,
            json!({"error": {"code": 503, "message": "Backend Error"}}),
        ),
        Reply::json(
            503,
            json!({"error": {"code": 503, "message": "Backend Error"}}),
        ),
        Reply::json(
            503,
            json!({"error": {"code": 503, "message": "Backend Error"}}),
        ),
    ]);
    let before = fake.seen().len();
    missed(&srv, &slug, &key, "m-5", "+14155550105").await;
    until(15, "a round of three tries", || async {
        messages(&srv, &slug).await[0]["attempts"] == 1
    })
    .await;
    let m = messages(&srv, &slug).await[0].clone();
    assert_eq!(m["state"], "queued", "{m}");
    assert!(m["detail"].as_str().unwrap().contains("503"), "{m}");
    assert_eq!(fake.seen().len(), before + 3);
    srv.advance(std::time::Duration::from_secs(5 * 60));
    let m = newest_is(&srv, &slug, "sent").await;
    assert_eq!(m["attempts"], 2, "{m}");
    assert_eq!(fake.seen().len(), before + 4);
}
