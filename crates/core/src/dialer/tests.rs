use super::request::{self, Body, Dial, Method};
use super::status::{self, AttemptState};
use super::*;
use serde_json::{json, Map, Value};

fn cfg(kind: DialerKind, fields: &[(&str, &str)]) -> DialerConfig {
    DialerConfig {
        kind,
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn secrets(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn now() -> crate::time::Timestamp {
    chrono::TimeZone::timestamp_opt(&chrono::Utc, 1_767_225_600, 0).unwrap()
}

const DIAL: Dial<'static> = Dial {
    agent: "+919800000001",
    customer: "+919811122233",
    status_url: "https://cb.example/dial/tok/status",
    answer_url: "https://cb.example/dial/tok/answer",
};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn settings_refuse_unknown_missing_and_secret_fields() {
    let ok = cfg(
        DialerKind::Exotel,
        &[
            ("account_sid", "acme"),
            ("api_key", "k"),
            ("caller_id", "08047000000"),
        ],
    );
    ok.validate().unwrap();
    let missing = cfg(
        DialerKind::Exotel,
        &[("account_sid", "acme"), ("api_key", "k")],
    );
    assert!(missing
        .validate()
        .unwrap_err()
        .to_string()
        .contains("caller_id"));
    let mut unknown = ok.clone();
    unknown.fields.insert("colour".into(), "red".into());
    assert!(unknown
        .validate()
        .unwrap_err()
        .to_string()
        .contains("colour"));
    let mut secret = ok.clone();
    secret.fields.insert("api_token".into(), "t".into());
    assert!(secret
        .validate()
        .unwrap_err()
        .to_string()
        .contains("secret"));
    let mut bad_base = ok;
    bad_base.fields.insert("base_url".into(), "ftp://x".into());
    assert!(bad_base.validate().is_err());
    assert_eq!(
        missing_secrets(DialerKind::Knowlarity, &secrets(&[("api_key", "a")])),
        vec!["sr_api_key"]
    );
    assert!(validate_secrets(DialerKind::Twilio, &secrets(&[("api_key", "x")])).is_err());
    assert!(validate_secrets(DialerKind::Twilio, &secrets(&[("auth_token", " ")])).is_err());
}

#[test]
fn agent_numbers_are_phones_or_platform_ids() {
    assert_eq!(
        agent_endpoint(DialerKind::Exotel, " +91 98000-00001 ").unwrap(),
        "+919800000001"
    );
    assert_eq!(agent_endpoint(DialerKind::Twilio, "201").unwrap(), "201");
    assert!(agent_endpoint(DialerKind::Exotel, "call me").is_err());
    assert!(agent_endpoint(DialerKind::Exotel, "12").is_err());
    assert_eq!(
        agent_endpoint(DialerKind::Dialpad, "5734525342").unwrap(),
        "5734525342"
    );
    assert!(agent_endpoint(DialerKind::Ozonetel, "a b").is_err());
}

#[test]
fn exotel_connects_the_agent_first_with_a_terminal_json_callback() {
    let c = cfg(
        DialerKind::Exotel,
        &[
            ("account_sid", "acme1"),
            ("api_key", "key1"),
            ("caller_id", "08047112233"),
            ("base_url", "https://api.in.exotel.com/"),
        ],
    );
    let r = request::build(&c, &secrets(&[("api_token", "tok1")]), &DIAL, now()).unwrap();
    assert_eq!(r.method, Method::Post);
    assert_eq!(
        r.url,
        "https://api.in.exotel.com/v1/Accounts/acme1/Calls/connect.json"
    );
    assert_eq!(r.basic, Some(("key1".into(), "tok1".into())));
    let Body::Form(f) = r.body else {
        panic!("form expected")
    };
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("From"), Some("+919800000001"));
    assert_eq!(get("To"), Some("+919811122233"));
    assert_eq!(get("CallerId"), Some("08047112233"));
    assert_eq!(get("StatusCallback"), Some(DIAL.status_url));
    assert_eq!(get("StatusCallbackEvents[0]"), Some("terminal"));
    assert_eq!(
        request::accepted(
            DialerKind::Exotel,
            br#"{"Call":{"Sid":"b6cfaf3","Status":"in-progress"}}"#
        )
        .unwrap(),
        Some("b6cfaf3".into())
    );
}

#[test]
fn twilio_rings_a_queues_agent_and_cancels_a_leg_only_through_twilio() {
    let c = cfg(
        DialerKind::Twilio,
        &[("account_sid", "AC123"), ("caller_id", "+14155550100")],
    );
    let keys = secrets(&[("auth_token", "t")]);
    let r = request::twilio_queue_leg(&c, &keys, "+15550100", "<Response/>", 900).unwrap();
    assert_eq!(
        r.url,
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"
    );
    assert_eq!(r.basic, Some(("AC123".into(), "t".into())));
    let Body::Form(f) = r.body else {
        panic!("form expected")
    };
    let field = |k: &str| f.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(field("To"), "+15550100");
    assert_eq!(field("From"), "+14155550100");
    assert_eq!(field("Twiml"), "<Response/>");
    assert_eq!(field("Timeout"), "600", "Twilio rings at most 600 s");
    let x = request::twilio_cancel(&c, &keys, "CAleg").unwrap();
    assert_eq!(
        x.url,
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls/CAleg.json"
    );
    assert_eq!(
        x.body,
        Body::Form(vec![("Status".into(), "canceled".into())])
    );
    let plivo = cfg(DialerKind::Plivo, &[("auth_id", "MA1")]);
    assert!(request::twilio_queue_leg(&plivo, &keys, "+1", "<Response/>", 60).is_none());
    assert!(request::twilio_cancel(&plivo, &keys, "x").is_none());
}

#[test]
fn twilio_dials_the_customer_from_twiml_with_an_escaped_action() {
    let c = cfg(
        DialerKind::Twilio,
        &[("account_sid", "AC123"), ("caller_id", "+14155550100")],
    );
    let d = Dial {
        status_url: "https://cb.example/dial/a&b/status",
        ..DIAL
    };
    let r = request::build(&c, &secrets(&[("auth_token", "t")]), &d, now()).unwrap();
    assert_eq!(
        r.url,
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"
    );
    let Body::Form(f) = r.body else {
        panic!("form expected")
    };
    let twiml = &f.iter().find(|(k, _)| k == "Twiml").unwrap().1;
    assert!(
        twiml.contains("action=\"https://cb.example/dial/a&amp;b/status\""),
        "{twiml}"
    );
    assert!(twiml.contains("<Number>+919811122233</Number>"));
    assert_eq!(
        f.iter().find(|(k, _)| k == "To").unwrap().1,
        "+919800000001"
    );
    assert_eq!(
        request::accepted(DialerKind::Twilio, br#"{"sid":"CA42","status":"queued"}"#).unwrap(),
        Some("CA42".into())
    );
}

#[test]
fn plivo_knowlarity_dialpad_and_ozonetel_requests() {
    let p = request::build(
        &cfg(
            DialerKind::Plivo,
            &[("auth_id", "MA1"), ("caller_id", "14155550100")],
        ),
        &secrets(&[("auth_token", "t")]),
        &DIAL,
        now(),
    )
    .unwrap();
    assert_eq!(p.url, "https://api.plivo.com/v1/Account/MA1/Call/");
    let Body::Json(b) = &p.body else { panic!() };
    assert_eq!(b["to"], "+919800000001");
    assert_eq!(b["answer_url"], DIAL.answer_url);
    assert_eq!(b["hangup_url"], DIAL.status_url);
    let xml = request::plivo_answer("14155550100", "+919811122233", DIAL.status_url);
    assert!(xml.contains("<Number>919811122233</Number>"), "{xml}");

    let k = request::build(
        &cfg(DialerKind::Knowlarity, &[("k_number", "+918047000000")]),
        &secrets(&[("api_key", "x1"), ("sr_api_key", "sr1")]),
        &DIAL,
        now(),
    )
    .unwrap();
    assert_eq!(
        k.url,
        "https://kpi.knowlarity.com/Basic/v1/account/call/makecall"
    );
    assert!(k.headers.contains(&("x-api-key".into(), "x1".into())));
    assert!(k.headers.contains(&("authorization".into(), "sr1".into())));
    assert!(request::accepted(
        DialerKind::Knowlarity,
        br#"{"error":{"code":"DND","message":"number is on DND"}}"#
    )
    .unwrap_err()
    .contains("DND"));

    let d = request::build(
        &cfg(DialerKind::Dialpad, &[]),
        &secrets(&[("api_key", "dp")]),
        &Dial {
            agent: "5734525342",
            ..DIAL
        },
        now(),
    )
    .unwrap();
    assert_eq!(d.url, "https://dialpad.com/api/v2/call");
    let Body::Json(b) = &d.body else { panic!() };
    assert_eq!(b["user_id"], "5734525342");
    assert!(d
        .headers
        .contains(&("authorization".into(), "Bearer dp".into())));

    let o = request::build(
        &cfg(
            DialerKind::Ozonetel,
            &[("username", "acme"), ("campaign_name", "Callbacks")],
        ),
        &secrets(&[("api_key", "KK")]),
        &Dial {
            agent: "agent7",
            ..DIAL
        },
        now(),
    )
    .unwrap();
    assert_eq!(o.method, Method::Get);
    assert!(o
        .query
        .contains(&("customerNumber".into(), "919811122233".into())));
    assert!(o.query.contains(&("agentID".into(), "agent7".into())));
    assert!(request::accepted(
        DialerKind::Ozonetel,
        br#"{"status":"error","message":"Agent not logged in"}"#
    )
    .unwrap_err()
    .contains("not logged in"));
}

#[test]
fn exotel_status_reads_the_legs() {
    // The shape of Exotel's terminal StatusCallback (JSON) for /Calls/connect.
    let answered = obj(json!({
        "CallSid": "b6cfaf3", "EventType": "terminal", "Status": "completed",
        "ConversationDuration": 42,
        "Legs": [{"Status": "completed", "OnCallDuration": 50}, {"Status": "completed", "OnCallDuration": 42}]
    }));
    let u = status::parse(DialerKind::Exotel, &answered).unwrap();
    assert_eq!(
        (u.state, u.duration_seconds),
        (AttemptState::Connected, Some(42))
    );
    let busy =
        obj(json!({"Status": "busy", "Legs": [{"Status": "completed"}, {"Status": "busy"}]}));
    assert_eq!(
        status::parse(DialerKind::Exotel, &busy).unwrap().state,
        AttemptState::Busy
    );
    let agent_away =
        obj(json!({"Status": "no-answer", "Legs": [{"Status": "no-answer"}, {"Status": ""}]}));
    assert_eq!(
        status::parse(DialerKind::Exotel, &agent_away)
            .unwrap()
            .state,
        AttemptState::AgentUnreachable
    );
    assert!(status::parse(DialerKind::Exotel, &obj(json!({"CallSid": "x"}))).is_none());
}

#[test]
fn twilio_and_plivo_status_prefer_the_customer_leg() {
    let dial = obj(
        json!({"CallSid": "CA1", "CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialCallDuration": "0"}),
    );
    assert_eq!(
        status::parse(DialerKind::Twilio, &dial).unwrap().state,
        AttemptState::NoAnswer
    );
    let talked = obj(json!({"DialCallStatus": "completed", "DialCallDuration": "61"}));
    let u = status::parse(DialerKind::Twilio, &talked).unwrap();
    assert_eq!(
        (u.state, u.duration_seconds),
        (AttemptState::Connected, Some(61))
    );
    let parent_done = obj(json!({"CallStatus": "completed"}));
    assert!(status::parse(DialerKind::Twilio, &parent_done).is_none());
    let agent_busy = obj(json!({"CallStatus": "busy"}));
    assert_eq!(
        status::parse(DialerKind::Twilio, &agent_busy)
            .unwrap()
            .state,
        AttemptState::AgentUnreachable
    );
    let plivo = obj(json!({"DialStatus": "timeout", "DialBLegDuration": "0"}));
    assert_eq!(
        status::parse(DialerKind::Plivo, &plivo).unwrap().state,
        AttemptState::NoAnswer
    );
    assert!(AttemptState::Busy.reached_customer_leg());
    assert!(!AttemptState::AgentUnreachable.reached_customer_leg());
    assert_eq!(
        AttemptState::parse("agent_unreachable"),
        Some(AttemptState::AgentUnreachable)
    );
}

#[test]
fn sms_requests_for_the_platforms_that_send_them() {
    let ex = cfg(
        DialerKind::Exotel,
        &[
            ("account_sid", "acme1"),
            ("api_key", "k"),
            ("caller_id", "EXOTEL"),
        ],
    );
    let r = request::sms(
        &ex,
        &secrets(&[("api_token", "t")]),
        "+919811122233",
        "Sorry",
        now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        r.url,
        "https://api.exotel.com/v1/Accounts/acme1/Sms/send.json"
    );
    let Body::Form(f) = r.body else { panic!() };
    assert!(f.contains(&("To".into(), "+919811122233".into())));
    assert!(f.contains(&("Body".into(), "Sorry".into())));
    assert_eq!(
        request::sms_accepted(
            DialerKind::Exotel,
            br#"{"SMSMessage":{"Sid":"sms-1","Status":"queued"}}"#
        ),
        Ok(Some("sms-1".into()))
    );
    let pl = cfg(
        DialerKind::Plivo,
        &[("auth_id", "MA1"), ("caller_id", "14155550100")],
    );
    let r = request::sms(
        &pl,
        &secrets(&[("auth_token", "t")]),
        "+14155550111",
        "Hi",
        now(),
    )
    .unwrap()
    .unwrap();
    let Body::Json(b) = r.body else { panic!() };
    assert_eq!(b["dst"], "14155550111");
    assert_eq!(
        request::sms_accepted(
            DialerKind::Plivo,
            br#"{"message_uuid":["db3ce55a"],"api_id":"x"}"#
        ),
        Ok(Some("db3ce55a".into()))
    );
    assert!(request::sms(
        &cfg(DialerKind::Knowlarity, &[]),
        &secrets(&[]),
        "+1",
        "x",
        now()
    )
    .unwrap()
    .is_none());
    assert!(!request::sends_sms(DialerKind::Knowlarity));
    assert!(request::sends_sms(DialerKind::Vonage) && request::sends_sms(DialerKind::Dialpad));
}

const VONAGE_KEY: &str = include_str!("../../tests/fixtures/vonage-application-key.GENERATED.pem");

fn vonage() -> DialerConfig {
    cfg(
        DialerKind::Vonage,
        &[
            ("application_id", "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"),
            ("caller_id", "+14155550100"),
        ],
    )
}

fn bearer_claims(r: &request::Outbound) -> Value {
    use base64::Engine;
    let auth = &r
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1;
    let jwt = auth.strip_prefix("Bearer ").unwrap();
    let claims = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn vonage_rings_the_agent_and_its_ncco_connects_the_customer() {
    let c = vonage();
    c.validate().unwrap();
    let keys = secrets(&[("private_key", VONAGE_KEY)]);
    validate_secrets(DialerKind::Vonage, &keys).unwrap();
    let r = request::build(&c, &keys, &DIAL, now()).unwrap();
    assert_eq!(
        (r.method, r.url.as_str()),
        (Method::Post, "https://api.nexmo.com/v1/calls")
    );
    assert!(r.basic.is_none());
    let claims = bearer_claims(&r);
    assert_eq!(
        claims["application_id"],
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
    );
    assert_eq!(claims["iat"], 1_767_225_600);
    assert_eq!(claims["exp"], 1_767_225_600 + 900);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let Body::Json(b) = &r.body else {
        panic!("JSON expected")
    };
    assert_eq!(
        b["to"],
        json!([{"type": "phone", "number": "919800000001"}])
    );
    assert_eq!(b["from"], json!({"type": "phone", "number": "14155550100"}));
    assert_eq!(b["ncco"][0]["action"], "connect");
    assert_eq!(
        b["ncco"][0]["endpoint"],
        json!([{"type": "phone", "number": "919811122233"}])
    );
    assert_eq!(b["ncco"][0]["eventUrl"], json!([DIAL.status_url]));
    assert_eq!(
        b["event_url"],
        json!(["https://cb.example/dial/tok/status?cb_leg=agent"])
    );
    assert_eq!(
        request::accepted(
            DialerKind::Vonage,
            br#"{"uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356","status":"started","direction":"outbound","conversation_uuid":"CON-f972836a"}"#
        )
        .unwrap(),
        Some("63f61863-4a51-4f6b-86e1-46edebcf9356".into())
    );
    // Vonage's problem document names the parameter at fault.
    assert_eq!(
        request::refusal_reason(
            br#"{"type":"https://developer.nexmo.com/api-errors#validation","title":"Bad Request","detail":"The request failed due to validation errors","invalid_parameters":[{"name":"to[0].number","reason":"must match pattern"}]}"#
        )
        .unwrap(),
        "The request failed due to validation errors (to[0].number: must match pattern)"
    );
}

#[test]
fn a_vonage_key_that_cannot_sign_is_refused_when_saved_and_when_used() {
    for bad in [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ] {
        let e = validate_secrets(DialerKind::Vonage, &secrets(&[("private_key", bad)]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("private_key: the key is"), "{e}");
    }
    // Longer than other secrets may be, within reason.
    assert!(VONAGE_KEY.len() > 500);
    let huge = "A".repeat(10_001);
    assert!(
        validate_secrets(DialerKind::Vonage, &secrets(&[("private_key", &huge)]))
            .unwrap_err()
            .to_string()
            .contains("1-10000")
    );
    let spec = DialerKind::Vonage.spec();
    let key_field = spec
        .fields
        .iter()
        .find(|f| f.name == "private_key")
        .unwrap();
    assert!(key_field.secret && key_field.multiline);
    assert_eq!(
        missing_secrets(DialerKind::Vonage, &secrets(&[])),
        vec!["private_key"]
    );
    // Edited behind Callboard's back: the request is not built.
    let e = request::build(
        &vonage(),
        &secrets(&[("private_key", "junk")]),
        &DIAL,
        now(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("private_key cannot sign"), "{e}");
    assert_eq!(DialerKind::parse("vonage"), Some(DialerKind::Vonage));
}

#[test]
fn vonage_status_reads_the_customer_leg_and_an_agent_who_never_answered() {
    let parse = |v: Value| status::parse(DialerKind::Vonage, &obj(v));
    // The connect action's leg (the customer): only its end counts.
    for word in ["started", "ringing", "answered"] {
        assert!(
            parse(json!({"status": word, "direction": "outbound"})).is_none(),
            "{word}"
        );
    }
    let u = parse(json!({"status": "completed", "duration": "42", "uuid": "b-leg"})).unwrap();
    assert_eq!(
        (u.state, u.duration_seconds),
        (AttemptState::Connected, Some(42))
    );
    for (word, state) in [
        ("busy", AttemptState::Busy),
        ("timeout", AttemptState::NoAnswer),
        ("unanswered", AttemptState::NoAnswer),
        ("cancelled", AttemptState::NoAnswer),
        ("rejected", AttemptState::Failed),
        ("failed", AttemptState::Failed),
    ] {
        assert_eq!(
            parse(json!({"status": word})).unwrap().state,
            state,
            "{word}"
        );
    }
    assert_eq!(
        parse(json!({"status": "completed", "duration": "0"}))
            .unwrap()
            .state,
        AttemptState::NoAnswer
    );
    // The agent's leg (marked by the query Callboard put on its event URL).
    for word in [
        "busy",
        "timeout",
        "failed",
        "rejected",
        "cancelled",
        "unanswered",
    ] {
        let u = parse(json!({"status": word, "cb_leg": "agent"})).unwrap();
        assert_eq!(
            (u.state, u.raw.as_str()),
            (AttemptState::AgentUnreachable, word)
        );
    }
    for word in ["started", "ringing", "answered", "completed"] {
        assert!(
            parse(json!({"status": word, "cb_leg": "agent"})).is_none(),
            "{word}"
        );
    }
    // An event without a status (a transfer, a recording).
    assert!(parse(json!({"type": "transfer", "conversation_uuid_to": "CON-1"})).is_none());
}

#[test]
fn vonage_and_dialpad_send_texts() {
    let keys = secrets(&[("private_key", VONAGE_KEY)]);
    let r = request::sms(&vonage(), &keys, "+919811122233", "Sorry", now())
        .unwrap()
        .unwrap();
    assert_eq!(r.url, "https://api.nexmo.com/v1/messages");
    assert_eq!(
        bearer_claims(&r)["application_id"],
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
    );
    let Body::Json(b) = &r.body else { panic!() };
    assert_eq!(
        b,
        &json!({"message_type": "text", "channel": "sms", "to": "919811122233",
            "from": "14155550100", "text": "Sorry"})
    );
    assert_eq!(
        request::sms_accepted(
            DialerKind::Vonage,
            br#"{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"}"#
        ),
        Ok(Some("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab".into()))
    );

    let dp = cfg(DialerKind::Dialpad, &[("sms_user_id", "5734525342")]);
    dp.validate().unwrap();
    let r = request::sms(
        &dp,
        &secrets(&[("api_key", "dp")]),
        "+14155550111",
        "Hi",
        now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(r.url, "https://dialpad.com/api/v2/sms");
    assert!(r
        .headers
        .contains(&("authorization".into(), "Bearer dp".into())));
    let Body::Json(b) = &r.body else { panic!() };
    assert_eq!(
        b,
        &json!({"user_id": 5734525342u64, "to_numbers": ["+14155550111"], "text": "Hi",
            "infer_country_code": false})
    );
    // A number kept without its country code: Dialpad reads it in the
    // sender's country.
    let r = request::sms(
        &dp,
        &secrets(&[("api_key", "dp")]),
        "04155550111",
        "Hi",
        now(),
    )
    .unwrap()
    .unwrap();
    let Body::Json(b) = &r.body else { panic!() };
    assert_eq!(b["infer_country_code"], true);
    assert_eq!(
        request::sms_accepted(
            DialerKind::Dialpad,
            br#"{"id": 4912345, "message_status": "pending"}"#
        ),
        Ok(Some("4912345".into()))
    );
    assert!(request::sms_accepted(
        DialerKind::Dialpad,
        br#"{"id": 4912346, "message_status": "failed", "message_delivery_result": "invalid_destination"}"#
    )
    .unwrap_err()
    .contains("invalid_destination"));
    // Without the sender, and with a sender that is not a user id.
    let e = request::sms(
        &cfg(DialerKind::Dialpad, &[]),
        &secrets(&[("api_key", "dp")]),
        "+1",
        "x",
        now(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sms_user_id"), "{e}");
    assert!(
        cfg(DialerKind::Dialpad, &[("sms_user_id", "asha@example.com")])
            .validate()
            .unwrap_err()
            .to_string()
            .contains("numeric")
    );
    // Dialpad's error document.
    assert_eq!(
        request::refusal_reason(br#"{"error":{"code":400,"message":"Invalid phone number","errors":[{"reason":"badRequest"}]}}"#)
            .as_deref(),
        Some("Invalid phone number")
    );
}

#[test]
fn sends_sms_names_exactly_the_platforms_with_an_sms_request() {
    // An IVR `sms` node queues a text only for a dialer that can send it:
    // the two must not drift apart.
    for kind in DialerKind::ALL {
        let (c, keys) = match kind {
            DialerKind::Vonage => (vonage(), secrets(&[("private_key", VONAGE_KEY)])),
            DialerKind::Dialpad => (
                cfg(kind, &[("sms_user_id", "5551234")]),
                secrets(&[("api_key", "k")]),
            ),
            _ => (cfg(kind, &[("caller_id", "+14155550100")]), secrets(&[])),
        };
        let built = request::sms(&c, &keys, "+919811122233", "Hi", now()).unwrap();
        assert_eq!(built.is_some(), kind.sends_sms(), "{kind:?}");
    }
}
