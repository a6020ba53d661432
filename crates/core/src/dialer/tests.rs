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
    let r = request::build(&c, &secrets(&[("api_token", "tok1")]), &DIAL);
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
fn twilio_dials_the_customer_from_twiml_with_an_escaped_action() {
    let c = cfg(
        DialerKind::Twilio,
        &[("account_sid", "AC123"), ("caller_id", "+14155550100")],
    );
    let d = Dial {
        status_url: "https://cb.example/dial/a&b/status",
        ..DIAL
    };
    let r = request::build(&c, &secrets(&[("auth_token", "t")]), &d);
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
    );
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
    );
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
    );
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
    );
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
    )
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
        Some("sms-1".into())
    );
    let pl = cfg(
        DialerKind::Plivo,
        &[("auth_id", "MA1"), ("caller_id", "14155550100")],
    );
    let r = request::sms(&pl, &secrets(&[("auth_token", "t")]), "+14155550111", "Hi").unwrap();
    let Body::Json(b) = r.body else { panic!() };
    assert_eq!(b["dst"], "14155550111");
    assert_eq!(
        request::sms_accepted(
            DialerKind::Plivo,
            br#"{"message_uuid":["db3ce55a"],"api_id":"x"}"#
        ),
        Some("db3ce55a".into())
    );
    assert!(request::sms(&cfg(DialerKind::Dialpad, &[]), &secrets(&[]), "+1", "x").is_none());
    assert!(!request::sends_sms(DialerKind::Knowlarity));
}
