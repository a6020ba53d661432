//! Property tests of what reads hostile input: the body normaliser, the
//! mapping engine (with every preset's mapping) and every preset's
//! authentication scheme. None may panic, whatever arrives; a refusal is an
//! error value. CI runs a bounded number of cases; for a longer hunt:
//! `PROPTEST_CASES=100000 cargo test -p callboard-core --test properties`.

use callboard_core::body;
use callboard_core::mapping::{MapContext, Mapping};
use callboard_core::presets;
use callboard_core::signature::{self, AuthScheme, Secrets, SignedRequest};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const MEDIA: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "",
    "application/JSON ;;; charset",
];

/// Bytes that look like the bodies platforms send, and bytes that do not.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[\\[\\]{}\",:0-9a-z%&=+. \\\\-]{0,256}".prop_map(String::into_bytes),
        json_values().prop_map(|v| v.to_string().into_bytes()),
        ("[a-zA-Z_]{1,12}", json_values()).prop_map(|(k, v)| format!(
            "{k}={}&data={}",
            v,
            urlencode(&v.to_string())
        )
        .into_bytes()),
    ]
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json_values() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Amounts and durations as platforms send them (serde_json reads
        // extreme floats back to the nearest, not the same, double).
        (-1_000_000_000i64..1_000_000_000, 0u32..1000)
            .prop_map(|(i, f)| Value::from(i as f64 + f64::from(f) / 1000.0)),
        ".{0,24}".prop_map(Value::String),
        "[+0-9 ()-]{0,18}".prop_map(Value::String),
        "(19|20|29)[0-9]{2}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-][01][0-9]:?[0-5][0-9])?"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z_]{1,10}",
                    Just("CallSid".to_string()),
                    Just("status".to_string()),
                    Just("From".to_string()),
                    Just("data".to_string()),
                    Just("call_id".to_string()),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_body_normaliser_never_panics(
        media in proptest::sample::select(MEDIA),
        body in bodies(),
        query in proptest::option::of("[a-z=&%0-9+]{0,40}"),
    ) {
        let ct = (!media.is_empty()).then_some(media);
        let _ = body::normalize(ct, &body, query.as_deref());
    }

    #[test]
    fn a_json_body_reads_back_as_itself(v in json_values()) {
        let wrapped = serde_json::json!({ "event": v });
        let got = body::normalize(Some("application/json"), wrapped.to_string().as_bytes(), None);
        prop_assert_eq!(got.ok(), Some(wrapped));
    }

    #[test]
    fn a_form_field_reads_back_as_its_text(key in "[a-zA-Z_][a-zA-Z0-9_]{0,11}", value in ".{0,40}") {
        let form = format!("{key}={}", urlencode(&value));
        let got = body::normalize(Some("application/x-www-form-urlencoded"), form.as_bytes(), None)
            .expect("a well-formed form");
        prop_assert_eq!(got.get(&key).and_then(Value::as_str), Some(value.as_str()));
    }

    #[test]
    fn every_presets_mapping_takes_any_payload(payload in json_values(), secs in 0i64..4_000_000_000) {
        let at = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        for p in presets::all().unwrap() {
            let m = Mapping::compile(&p.field_mapping, &p.status_map).unwrap();
            let a = m.apply(&payload, &MapContext { slug: "prop", received_at: at });
            let b = m.apply(&payload, &MapContext { slug: "prop", received_at: at });
            prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "{} maps the same payload the same way", p.id);
        }
    }

    #[test]
    fn every_presets_scheme_refuses_or_accepts_without_panicking(
        body in bodies(),
        headers in proptest::collection::vec(
            (prop_oneof![
                Just("x-api-key"), Just("authorization"), Just("x-twilio-signature"),
                Just("x-plivo-signature-v3"), Just("x-plivo-signature-v3-nonce"),
                Just("x-plivo-signature-v2"), Just("x-plivo-signature-v2-nonce"),
                Just("telnyx-signature-ed25519"), Just("telnyx-timestamp"),
                Just("x-signature"), Just("x-hub-signature-256"), Just("validation-token"),
                Just("verification-token"), Just("content-type"),
            ], ".{0,90}"),
            0..6,
        ),
        query in proptest::option::of(".{0,60}"),
        method in proptest::sample::select(&["GET", "POST", "PUT"][..]),
    ) {
        let url = format!("https://callboard.example/webhooks/ivr/prop{}", query.as_deref().map(|q| format!("?{q}")).unwrap_or_default());
        let lookup = |name: &str| headers.iter().find(|(h, _)| *h == name).map(|(_, v)| v.clone());
        let now = chrono::Utc::now();
        for p in presets::all().unwrap() {
            let scheme = AuthScheme::from_config(&p.auth).unwrap();
            let req = SignedRequest {
                method,
                url: &url,
                query: query.as_deref(),
                content_type: lookup("content-type").as_deref().map(|_| "application/json"),
                body: &body,
                header: &lookup,
                now,
            };
            let secrets = Secrets { key_matches: &|k: &str| k == "cbk_right", signing_secret: Some("cbs_secret") };
            // Random headers carry no valid key or signature: only a
            // platform's URL check (a handshake, nothing stored) may pass.
            if let Ok(v) = signature::verify(&scheme, &secrets, &req) {
                prop_assert!(v.handshake.is_some(), "{} accepted a forged request: {:?}", p.id, headers);
            }
        }
    }
}
