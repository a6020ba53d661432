use super::*;
use serde_json::json;

const CLOUDONIX_SESSION: &str =
    include_str!("../../tests/fixtures/cloudonix-session-update-connected.json");
const DIALPAD_RINGING: &str =
    include_str!("../../tests/fixtures/dialpad-call-event-ringing-inbound-to-user.json");
const DIALPAD_HANGUP: &str = include_str!(
    "../../tests/fixtures/dialpad-call-event-hangup-inbound-to-office-transferred.json"
);
const AIRCALL_ANSWERED: &str =
    include_str!("../../tests/fixtures/aircall-05-call-answered-inbound.json");

fn ctx() -> MapContext<'static> {
    MapContext {
        slug: "acme",
        received_at: ts("2024-05-26T07:31:00Z"),
    }
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn map(fm: Value, sm: Value, payload: &Value) -> MapOutcome {
    Mapping::compile(&fm, &sm)
        .unwrap_or_else(|e| panic!("compile: {e}"))
        .apply(payload, &ctx())
}

fn compile_err(fm: Value) -> MappingError {
    Mapping::compile(&fm, &Value::Null).expect_err("should not compile")
}

#[test]
fn mapping_is_send_sync_clone_debug() {
    fn check<T: std::fmt::Debug + Clone + Send + Sync>() {}
    check::<Mapping>();
}

#[test]
fn empty_mapping_generates_call_id() {
    for fm in [Value::Null, json!({})] {
        let m = Mapping::compile(&fm, &Value::Null).unwrap();
        assert!(m.is_empty());
        let out = m.apply(&json!({"a": 1}), &ctx());
        assert!(
            out.call.call_id.starts_with("acme-"),
            "{}",
            out.call.call_id
        );
        assert_eq!(out.call.call_id.len(), "acme-".len() + 26);
        assert!(ulid::Ulid::from_string(&out.call.call_id[5..]).is_ok());
        assert_eq!(out.error, None);
        assert!(out.warnings.is_empty());
        assert_eq!(out.event_id, None);
        assert_eq!(out.event_at, None);
        assert!(!out.unknown_status);
    }
}

#[test]
fn field_mapping_must_be_an_object() {
    for bad in [json!([]), json!("call_id"), json!(3), json!(true)] {
        assert_eq!(
            Mapping::compile(&bad, &Value::Null).unwrap_err(),
            MappingError::NotAnObject
        );
    }
}

#[test]
fn compile_errors_name_the_field() {
    let cases = [
        (json!({"call_id": ""}), "call_id", "empty path"),
        (json!({"call_id": "a..b"}), "call_id", "invalid path"),
        (json!({"call_id": "$.a["}), "call_id", "unclosed bracket"),
        (
            json!({"call_id": "$.a[?@.b ==]"}),
            "call_id",
            "invalid JSONPath",
        ),
        (json!({"call_id": "$..[0"}), "call_id", "unclosed bracket"),
        (json!({"did": "a | "}), "did", "empty alternative"),
        (json!({"did": 5}), "did", "expected a path string"),
        (json!({"did": []}), "did", "at least one"),
        (
            json!({"did": ["a", 5]}),
            "did",
            "[1]: expected a path string",
        ),
        (json!({"did": ["a", "b..c"]}), "did[1]", "invalid path"),
        (json!({"$bogus": {}}), "$bogus", "unknown setting"),
        (
            json!({"did": {"transform": "trim"}}),
            "did",
            "`path` is required",
        ),
        (
            json!({"did": {"path": 3}}),
            "did",
            "`path` must be a string",
        ),
        (
            json!({"did": {"path": "a", "transform": "bogus"}}),
            "did",
            "unknown transform `bogus`",
        ),
        (
            json!({"did": {"path": "a", "transform": ["trim", "nope:1"]}}),
            "did",
            "unknown transform `nope`",
        ),
        (
            json!({"did": {"path": "a", "transform": [1]}}),
            "did",
            "must be a string or an array",
        ),
        (
            json!({"did": {"path": "a", "transform": {"x": 1}}}),
            "did",
            "must be a string or an array",
        ),
        (
            json!({"did": {"path": "a", "transform": "e164:abc"}}),
            "did",
            "country calling code",
        ),
        (
            json!({"did": {"path": "a", "transform": "uuid_v5:xyz"}}),
            "did",
            "not a UUID",
        ),
        (
            json!({"did": {"path": "a", "required": "yes"}}),
            "did",
            "`required` must be",
        ),
        (
            json!({"did": {"path": "a", "transfrom": "trim"}}),
            "did",
            "unknown key `transfrom`",
        ),
        (
            json!({"duration_seconds": {"path": "a", "transform": "seconds_between"}}),
            "duration_seconds",
            "needs a `to`",
        ),
        (
            json!({"duration_seconds": {"path": "a", "to": "b"}}),
            "duration_seconds",
            "only used with",
        ),
        (
            json!({"duration_seconds": {"path": "a", "to": "b..c", "transform": "seconds_between"}}),
            "duration_seconds",
            "to:",
        ),
        (
            json!({"duration_seconds": {"default": 0, "to": "b", "transform": "seconds_between"}}),
            "duration_seconds",
            "needs a `path`",
        ),
        (json!({"": "a"}), "", "empty column name"),
    ];
    for (fm, field, needle) in cases {
        match compile_err(fm.clone()) {
            MappingError::Field { field: f, message } => {
                assert_eq!(f, field, "{fm}");
                assert!(
                    message.contains(needle),
                    "{fm}: `{message}` lacks `{needle}`"
                );
            }
            other => panic!("{fm}: unexpected {other:?}"),
        }
    }
    // the Display form
    let e = compile_err(json!({"call_id": ""}));
    assert_eq!(e.to_string(), "field_mapping.call_id: empty path");
}

#[test]
fn null_spec_means_unmapped() {
    let out = map(
        json!({"caller_name": null}),
        Value::Null,
        &json!({"caller_name": "x"}),
    );
    assert_eq!(out.call.caller_name, None);
}

#[test]
fn string_and_object_specs() {
    let p = json!({
        "id": 123,
        "from": "+91 98765 43210",
        "name": "  Asha  ",
        "dir": "INBOUND",
        "agent": {"id": 7, "name": "Ravi"},
        "rec": "https://r.example/1.mp3",
        "did": 8001234567u64,
        "flag": true
    });
    let out = map(
        json!({
            "call_id": "id",
            "mobile_number": {"path": "from", "transform": "e164"},
            "caller_name": {"path": "name", "transform": "trim"},
            "direction": {"path": "dir", "transform": "lower"},
            "agent_id": "agent.id",
            "agent_name": "agent.name",
            "recording_url": "rec",
            "did": "did",
            "queue": "flag",
            "agent_obj": "agent"
        }),
        Value::Null,
        &p,
    );
    assert_eq!(out.error, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let c = &out.call;
    assert_eq!(c.call_id, "123");
    assert_eq!(c.mobile_number.as_deref(), Some("+919876543210"));
    assert_eq!(c.caller_name.as_deref(), Some("Asha"));
    assert_eq!(c.direction.as_deref(), Some("inbound"));
    assert_eq!(c.agent_id.as_deref(), Some("7"));
    assert_eq!(c.agent_name.as_deref(), Some("Ravi"));
    assert_eq!(c.recording_url.as_deref(), Some("https://r.example/1.mp3"));
    assert_eq!(c.did.as_deref(), Some("8001234567"));
    assert_eq!(c.metadata.get("queue"), Some(&json!(true)));
    assert_eq!(
        c.metadata.get("agent_obj"),
        Some(&json!({"id": 7, "name": "Ravi"}))
    );
}

#[test]
fn numeric_phone_numbers_are_stringified() {
    let out = map(
        json!({"mobile_number": "from", "caller_name": "n"}),
        Value::Null,
        &json!({"from": 919876543210u64, "n": false}),
    );
    assert_eq!(out.call.mobile_number.as_deref(), Some("919876543210"));
    assert_eq!(out.call.caller_name.as_deref(), Some("false"));
}

#[test]
fn object_for_a_string_column_is_a_warning() {
    let out = map(
        json!({"caller_name": "c", "did": "d"}),
        Value::Null,
        &json!({"c": {"first": "A"}, "d": [1, 2]}),
    );
    assert_eq!(out.call.caller_name, None);
    assert_eq!(out.call.did, None);
    assert_eq!(
        out.warnings,
        vec![
            "field caller_name: expected a string, got an object".to_string(),
            "field did: expected a string, got an array".to_string()
        ]
    );
    assert_eq!(out.error, None);
}

#[test]
fn fallbacks_and_defaults() {
    let p = json!({"a": null, "b": "", "c": {"d": "found"}, "legs": [{"n": "1"}, {"n": "2"}]});
    let out = map(
        json!({
            "caller_name": "a | b | c.d",
            "agent_name": "missing|$.legs[-1].n",
            "direction": {"path": "x | y", "default": "inbound"},
            "did": {"default": "1800123"},
            "department": {"default": {"id": 4}},
            "agent_id": "nothing.here"
        }),
        Value::Null,
        &p,
    );
    assert_eq!(out.call.caller_name.as_deref(), Some("found"));
    assert_eq!(out.call.agent_name.as_deref(), Some("2"));
    assert_eq!(out.call.direction.as_deref(), Some("inbound"));
    assert_eq!(out.call.did.as_deref(), Some("1800123"));
    assert_eq!(out.call.agent_id, None);
    assert_eq!(out.call.metadata.get("department"), Some(&json!({"id": 4})));
    assert!(out.warnings.is_empty());
    assert_eq!(out.error, None);
}

#[test]
fn default_skips_transforms_but_not_conversion() {
    let out = map(
        json!({
            "mobile_number": {"path": "x", "transform": "e164:91", "default": "unknown"},
            "started_at": {"path": "x", "transform": "epoch_ms", "default": "2024-01-01 00:00:00"},
            "duration_seconds": {"path": "x", "default": "0"}
        }),
        Value::Null,
        &json!({}),
    );
    assert_eq!(out.call.mobile_number.as_deref(), Some("unknown"));
    assert_eq!(out.call.started_at, Some(ts("2024-01-01T00:00:00Z")));
    assert_eq!(out.call.duration_seconds, Some(0));
    assert!(out.warnings.is_empty());
}

#[test]
fn transform_lists_apply_in_order() {
    let out = map(
        json!({
            "caller_name": {"path": "n", "transform": ["trim", "upper"]},
            "agent_id": {"path": "a", "transform": ["digits", "int"]},
            "did": {"path": "d", "transform": ["digits", "e164:91"]},
            "event_id": {"path": "e", "transform": "uuid_v5"}
        }),
        Value::Null,
        &json!({"n": "  asha ", "a": "agent-0042", "d": "tel:098765 43210", "e": "evt-1"}),
    );
    assert_eq!(out.call.caller_name.as_deref(), Some("ASHA"));
    assert_eq!(out.call.agent_id.as_deref(), Some("42"));
    assert_eq!(out.call.did.as_deref(), Some("+919876543210"));
    assert_eq!(
        out.event_id,
        Some(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"evt-1").to_string())
    );
}

#[test]
fn failing_transform_warns_and_omits() {
    let out = map(
        json!({
            "mobile_number": {"path": "m", "transform": "e164:91"},
            "started_at": {"path": "s", "transform": "epoch_s"},
            "agent_id": {"path": "a", "transform": "int"},
            "caller_name": {"path": "c", "transform": "digits"}
        }),
        Value::Null,
        &json!({"m": "12345", "s": "yesterday", "a": "x", "c": "anonymous"}),
    );
    // not a valid number: kept as received, with a warning
    assert_eq!(out.call.mobile_number.as_deref(), Some("12345"));
    assert_eq!(out.call.started_at, None);
    assert_eq!(out.call.agent_id, None);
    // digits of "anonymous" is empty: no value, no warning
    assert_eq!(out.call.caller_name, None);
    assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
    assert!(out
        .warnings
        .iter()
        .any(|w| w.starts_with("field mobile_number: e164:")));
    assert!(out
        .warnings
        .iter()
        .any(|w| w.starts_with("field started_at: ")));
    assert!(out
        .warnings
        .iter()
        .any(|w| w.starts_with("field agent_id: ")));
    assert_eq!(out.error, None);
}

#[test]
fn automatic_conversions() {
    let out = map(
        json!({
            "started_at": "s",
            "answered_at": "a",
            "ended_at": "e",
            "event_at": "t",
            "duration_seconds": "d",
            "queued_at": "q",
            "hold": "h"
        }),
        Value::Null,
        &json!({
            "s": 1716708621946i64,
            "a": "2024-05-26T07:30:25.343Z",
            "e": "2024-05-26 07:31:00",
            "t": 1716708660,
            "d": "33.4",
            "q": "26-05-2024 07:30:20",
            "h": "12"
        }),
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.call.started_at, Some(ts("2024-05-26T07:30:21.946Z")));
    assert_eq!(out.call.answered_at, Some(ts("2024-05-26T07:30:25.343Z")));
    assert_eq!(out.call.ended_at, Some(ts("2024-05-26T07:31:00Z")));
    assert_eq!(out.event_at, Some(ts("2024-05-26T07:31:00Z")));
    assert_eq!(out.call.duration_seconds, Some(33));
    assert_eq!(
        out.call.metadata.get("queued_at"),
        Some(&json!("2024-05-26T07:30:20Z"))
    );
    assert_eq!(out.call.metadata.get("hold"), Some(&json!("12")));
}

#[test]
fn metadata_keeps_transform_results() {
    let out = map(
        json!({
            "hold_secs": {"path": "h", "transform": "int"},
            "seen_at": {"path": "s", "transform": "string"},
            "when": {"path": "w", "transform": "epoch_s"}
        }),
        Value::Null,
        &json!({"h": "12", "s": 1716708621, "w": 1716708621}),
    );
    assert_eq!(out.call.metadata.get("hold_secs"), Some(&json!(12)));
    // a transform was given: `_at` is not auto-parsed
    assert_eq!(out.call.metadata.get("seen_at"), Some(&json!("1716708621")));
    assert_eq!(
        out.call.metadata.get("when"),
        Some(&json!("2024-05-26T07:30:21Z"))
    );
}

#[test]
fn zero_and_placeholder_timestamps_are_absent() {
    let out = map(
        json!({"answered_at": "a", "ended_at": {"path": "e", "transform": "epoch_ms"}, "started_at": "s"}),
        Value::Null,
        &json!({"a": 0, "e": "0", "s": "0000-00-00 00:00:00"}),
    );
    assert_eq!(out.call.answered_at, None);
    assert_eq!(out.call.ended_at, None);
    assert_eq!(out.call.started_at, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

#[test]
fn time_columns_reject_garbage() {
    let out = map(
        json!({"started_at": "s"}),
        Value::Null,
        &json!({"s": "soon"}),
    );
    assert_eq!(out.call.started_at, None);
    assert_eq!(
        out.warnings,
        vec!["field started_at: cannot parse `soon` as a date/time"]
    );
}

#[test]
fn seconds_between_fields() {
    let fm = json!({
        "duration_seconds": {"path": "answer", "transform": "seconds_between", "to": "end"},
        "ring_seconds": {"path": "start", "transform": "seconds_between", "to": "answer"}
    });
    let out = map(
        fm.clone(),
        Value::Null,
        &json!({"start": 1716708621946i64, "answer": "2024-05-26T07:30:25Z", "end": 1716708658}),
    );
    assert_eq!(out.call.duration_seconds, Some(33));
    assert_eq!(out.call.metadata.get("ring_seconds"), Some(&json!(3)));

    // end before start: warning, no value
    let out = map(
        fm.clone(),
        Value::Null,
        &json!({"answer": "2024-05-26T07:30:25Z", "end": "2024-05-26T07:30:00Z"}),
    );
    assert_eq!(out.call.duration_seconds, None);
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].starts_with("field duration_seconds: seconds_between: negative"));

    // not ended yet: quietly no value
    let out = map(
        fm,
        Value::Null,
        &json!({"answer": "2024-05-26T07:30:25Z", "end": null}),
    );
    assert_eq!(out.call.duration_seconds, None);
    assert!(out.warnings.is_empty());
}

#[test]
fn duration_computed_from_answer_and_end() {
    let p = json!({"a": "2024-05-26T07:30:25Z", "e": "2024-05-26T07:31:00Z", "d": null});
    // not mapped
    let out = map(
        json!({"answered_at": "a", "ended_at": "e"}),
        Value::Null,
        &p,
    );
    assert_eq!(out.call.duration_seconds, Some(35));
    // mapped but missing
    let out = map(
        json!({"answered_at": "a", "ended_at": "e", "duration_seconds": "d"}),
        Value::Null,
        &p,
    );
    assert_eq!(out.call.duration_seconds, Some(35));
    // mapped and present wins
    let p2 = json!({"a": "2024-05-26T07:30:25Z", "e": "2024-05-26T07:31:00Z", "d": 40});
    let out = map(
        json!({"answered_at": "a", "ended_at": "e", "duration_seconds": "d"}),
        Value::Null,
        &p2,
    );
    assert_eq!(out.call.duration_seconds, Some(40));
    // only one end known
    let out = map(json!({"answered_at": "a"}), Value::Null, &p);
    assert_eq!(out.call.duration_seconds, None);
    // inverted: nothing, no warning
    let p3 = json!({"a": "2024-05-26T07:31:00Z", "e": "2024-05-26T07:30:25Z"});
    let out = map(
        json!({"answered_at": "a", "ended_at": "e"}),
        Value::Null,
        &p3,
    );
    assert_eq!(out.call.duration_seconds, None);
    assert!(out.warnings.is_empty());
}

#[test]
fn call_id_missing_is_an_error() {
    let out = map(
        json!({"call_id": "data.id | id", "did": "x"}),
        Value::Null,
        &json!({"x": "1"}),
    );
    assert_eq!(
        out.error.as_deref(),
        Some("required field call_id: no value at `data.id | id`")
    );
    assert_eq!(out.call.call_id, "");
    // the rest is still mapped for the ingestion log
    assert_eq!(out.call.did.as_deref(), Some("1"));
}

#[test]
fn call_id_object_is_an_error() {
    let out = map(
        json!({"call_id": "id"}),
        Value::Null,
        &json!({"id": {"a": 1}}),
    );
    assert_eq!(
        out.error.as_deref(),
        Some("required field call_id: expected a string, got an object")
    );
    assert_eq!(
        out.warnings,
        vec!["field call_id: expected a string, got an object"]
    );
}

#[test]
fn required_fields_list_every_missing_one() {
    let fm = json!({
        "mobile_number": {"path": "from", "required": true},
        "call_id": "id",
        "did": {"path": "to", "required": true},
        "agent_id": {"path": "agent", "required": false}
    });
    let out = map(fm.clone(), Value::Null, &json!({}));
    assert_eq!(
        out.error.as_deref(),
        Some(
            "required field call_id: no value at `id`; required field did: no value at `to`; \
             required field mobile_number: no value at `from`"
        )
    );
    let out = map(
        fm.clone(),
        Value::Null,
        &json!({"id": "c1", "to": "100", "from": "200"}),
    );
    assert_eq!(out.error, None);
    let out = map(fm, Value::Null, &json!({"id": "c1", "to": "100"}));
    assert_eq!(
        out.error.as_deref(),
        Some("required field mobile_number: no value at `from`")
    );
    assert_eq!(out.call.call_id, "c1");
}

#[test]
fn required_field_failing_its_transform_is_an_error() {
    let out = map(
        json!({"call_id": "id", "mobile_number": {"path": "from", "transform": "e164", "required": true}}),
        Value::Null,
        &json!({"id": 1, "from": "withheld"}),
    );
    let err = out.error.unwrap();
    assert!(
        err.starts_with("required field mobile_number: e164:"),
        "{err}"
    );
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn status_map_rules() {
    let sm = json!({"Connected": "active", " ANSWER ": "Active", "no-answer": "missed", "busy": "failed", "done": "completed"});
    let fm = json!({"status": "s"});
    let m = Mapping::compile(&fm, &sm).unwrap();
    let run = |raw: Value| m.apply(&json!({ "s": raw }), &ctx());

    let out = run(json!("connected"));
    assert_eq!(out.call.status, Some(Status::Active));
    assert_eq!(out.call.raw_status.as_deref(), Some("connected"));
    assert!(!out.unknown_status);

    let out = run(json!("  answer "));
    assert_eq!(out.call.status, Some(Status::Active));
    assert_eq!(out.call.raw_status.as_deref(), Some("answer"));

    let out = run(json!("NO-ANSWER"));
    assert_eq!(out.call.status, Some(Status::Missed));

    // a canonical name not in the map is used directly
    let out = run(json!("Ringing"));
    assert_eq!(out.call.status, Some(Status::Ringing));
    assert!(!out.unknown_status);
    assert!(out.warnings.is_empty());

    // unknown raw status
    let out = run(json!("parked"));
    assert_eq!(out.call.status, None);
    assert_eq!(out.call.raw_status.as_deref(), Some("parked"));
    assert!(out.unknown_status);
    assert_eq!(
        out.warnings,
        vec!["unknown raw status `parked`: add it to the status map"]
    );
    assert_eq!(out.error, None);

    // numeric raw statuses are stringified
    let m2 = Mapping::compile(&fm, &json!({"3": "completed"})).unwrap();
    let out = m2.apply(&json!({"s": 3}), &ctx());
    assert_eq!(out.call.status, Some(Status::Completed));
    assert_eq!(out.call.raw_status.as_deref(), Some("3"));

    // no status in the payload
    let out = m.apply(&json!({}), &ctx());
    assert_eq!(out.call.status, None);
    assert_eq!(out.call.raw_status, None);
    assert!(!out.unknown_status);
    assert!(out.warnings.is_empty());
}

#[test]
fn status_map_entries_win_over_canonical_names() {
    // a provider whose "completed" means something else
    let m = Mapping::compile(&json!({"status": "s"}), &json!({"completed": "hangup"})).unwrap();
    let out = m.apply(&json!({"s": "COMPLETED"}), &ctx());
    assert_eq!(out.call.status, Some(Status::Hangup));
}

#[test]
fn status_with_transforms() {
    let m = Mapping::compile(
        &json!({"status": {"path": "event", "transform": "lower"}}),
        &json!({"call.hungup": "hangup"}),
    )
    .unwrap();
    let out = m.apply(&json!({"event": "CALL.HUNGUP"}), &ctx());
    assert_eq!(out.call.status, Some(Status::Hangup));
    assert_eq!(out.call.raw_status.as_deref(), Some("call.hungup"));
}

#[test]
fn status_map_errors() {
    let err = |sm: Value| Mapping::compile(&Value::Null, &sm).unwrap_err();
    match err(json!({"x": "y"})) {
        MappingError::StatusMap(m) => {
            assert!(m.starts_with("key `x`: unknown status `y`"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(err(json!({"x": 1})), MappingError::StatusMap(m) if m.contains("key `x`")));
    assert!(matches!(err(json!(["a"])), MappingError::StatusMap(_)));
    assert!(matches!(
        err(json!({" ": "missed"})),
        MappingError::StatusMap(_)
    ));
    assert!(matches!(
        err(json!({"Busy": "failed", "busy": "missed"})),
        MappingError::StatusMap(m) if m.contains("same status")
    ));
    // the same status twice is fine
    assert!(Mapping::compile(&Value::Null, &json!({"Busy": "failed", "busy": "failed"})).is_ok());
    let e = err(json!({"x": "y"}));
    assert!(e
        .to_string()
        .starts_with("status_map: key `x`: unknown status `y`"));
}

#[test]
fn event_id_and_event_at() {
    let out = map(
        json!({"event_id": "eventId", "event_at": "modifiedAt"}),
        Value::Null,
        &json!({"eventId": 123, "modifiedAt": "2024-05-26T07:30:25Z"}),
    );
    assert_eq!(out.event_id.as_deref(), Some("123"));
    assert_eq!(out.event_at, Some(ts("2024-05-26T07:30:25Z")));
    assert!(out.call.metadata.is_empty());
}

#[test]
fn never_panics_on_odd_payloads() {
    let m = Mapping::compile(
        &json!({
            "call_id": "a.b[-1] | $..id",
            "mobile_number": {"path": "a[9999999999999]", "transform": "e164:91"},
            "caller_name": {"path": "x", "transform": ["trim", "upper", "digits", "int"]},
            "started_at": "t",
            "answered_at": {"path": "t", "transform": "epoch_ms"},
            "ended_at": {"path": "t", "transform": "iso8601"},
            "duration_seconds": {"path": "t", "transform": "seconds_between", "to": "t2"},
            "event_id": {"path": "x", "transform": "uuid_v5"},
            "status": "x",
            "m_at": "t"
        }),
        &json!({"x": "failed"}),
    )
    .unwrap();
    let payloads = [
        json!(null),
        json!(1),
        json!("str"),
        json!([]),
        json!({"a": {"b": []}}),
        json!({"a": [1], "t": i64::MIN, "t2": i64::MAX, "x": "é∂ 𝄞"}),
        json!({"t": u64::MAX, "x": u64::MAX, "t2": -1}),
        json!({"t": 1e308, "x": -1e308, "t2": "9999-99-99"}),
        json!({"t": "-9223372036854775808", "x": {"deep": [[[]]]}, "t2": []}),
        json!({"t": "١٢٣", "x": "", "t2": "+"}),
        json!({"t": true, "x": [null], "id": {"id": 1}}),
    ];
    for p in &payloads {
        let _ = m.apply(p, &ctx());
    }
}

#[test]
fn cloudonix_session_update() {
    let payload: Value = serde_json::from_str(CLOUDONIX_SESSION).unwrap();
    let out = map(
        json!({
            "call_id": "token",
            "mobile_number": {"path": "callerId", "transform": "e164:1"},
            "did": "destination",
            "direction": "direction",
            "status": "status",
            "agent_id": "subscriberId",
            "started_at": {"path": "callStartTime", "transform": "epoch_ms"},
            "answered_at": {"path": "answerTime", "transform": "iso8601"},
            "event_id": "eventId",
            "event_at": "modifiedAt",
            "sip_call_id": "profile.callId[0]",
            "trunk": r#"profile["inbound-trunk-name"]"#,
            "tx_mos": "$.profile.qos.tx_mos",
            "rx_mos": "profile.qos.rx_mos"
        }),
        json!({"processing": "waiting", "ringing": "ringing", "connected": "active", "answer": "active"}),
        &payload,
    );
    assert_eq!(out.error, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let c = &out.call;
    assert_eq!(c.call_id, "16a7294c989b11e7b3d32b9edb8660c7");
    assert_eq!(c.mobile_number.as_deref(), Some("+12127773456"));
    assert_eq!(c.did.as_deref(), Some("63121233333"));
    assert_eq!(c.direction.as_deref(), Some("application"));
    assert_eq!(c.status, Some(Status::Active));
    assert_eq!(c.raw_status.as_deref(), Some("connected"));
    assert_eq!(c.agent_id.as_deref(), Some("372"));
    assert_eq!(c.started_at, Some(ts("2024-05-26T07:30:21.946Z")));
    assert_eq!(c.answered_at, Some(ts("2024-05-26T07:30:25.343Z")));
    assert_eq!(c.ended_at, None);
    assert_eq!(c.duration_seconds, None);
    assert_eq!(
        out.event_id.as_deref(),
        Some("9e938c49-6c37-40c7-a6b0-c16a625088f2")
    );
    assert_eq!(out.event_at, Some(ts("2024-05-26T07:30:25Z")));
    assert_eq!(
        c.metadata.get("sip_call_id"),
        Some(&json!(
            "315df9a833a762214873c11b49bf622a@XXX.XXX.XXX.XXX:5060"
        ))
    );
    assert_eq!(c.metadata.get("trunk"), Some(&json!("fromPSTN")));
    assert_eq!(c.metadata.get("tx_mos"), Some(&json!(4.4)));
    assert_eq!(c.metadata.get("rx_mos"), Some(&json!("NaN")));
}

#[test]
fn cloudonix_with_auto_detected_times() {
    // the same instant is published as epoch ms and as ISO: both auto-detect
    let payload: Value = serde_json::from_str(CLOUDONIX_SESSION).unwrap();
    let out = map(
        json!({"call_id": "token", "started_at": "callStartTime | startTime", "answered_at": "startTime"}),
        Value::Null,
        &payload,
    );
    assert_eq!(out.call.started_at, out.call.answered_at);
    assert_eq!(out.call.started_at, Some(ts("2024-05-26T07:30:21.946Z")));
    // `connected` is not a canonical name and the map is empty
    let out = map(
        json!({"call_id": "token", "status": "status"}),
        Value::Null,
        &payload,
    );
    assert!(out.unknown_status);
    assert_eq!(out.call.raw_status.as_deref(), Some("connected"));
}

fn dialpad_mapping() -> Mapping {
    Mapping::compile(
        &json!({
            "call_id": "call_id",
            "mobile_number": "external_number | contact.phone",
            "caller_name": "contact.name",
            "did": "internal_number",
            "direction": "direction",
            "status": "state",
            "agent_id": "$[?@.type == 'user'].id",
            "agent_name": "$[?@.type == 'user'].name",
            "started_at": "date_started",
            "answered_at": "date_connected",
            "ended_at": "date_ended",
            "total_duration_ms": {"path": "total_duration", "transform": "int"},
            "event_at": {"path": "event_timestamp", "transform": "epoch_ms"},
            "event_id": {"path": "call_id", "transform": ["string", "uuid_v5"]},
            "master_call_id": "master_call_id | call_id",
            "office_id": "target.office_id"
        }),
        &json!({"calling": "ringing", "ringing": "ringing", "connected": "active", "hangup": "completed", "missed": "missed", "voicemail": "missed", "queued": "waiting"}),
    )
    .unwrap()
}

#[test]
fn dialpad_ringing_event() {
    let payload: Value = serde_json::from_str(DIALPAD_RINGING).unwrap();
    let out = dialpad_mapping().apply(&payload, &ctx());
    assert_eq!(out.error, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let c = &out.call;
    assert_eq!(c.call_id, "5314479320940544");
    assert_eq!(c.mobile_number.as_deref(), Some("+15109109100"));
    assert_eq!(c.caller_name.as_deref(), Some("obscure user"));
    assert_eq!(c.did.as_deref(), Some("+15105105100"));
    assert_eq!(c.direction.as_deref(), Some("inbound"));
    assert_eq!(c.status, Some(Status::Ringing));
    assert_eq!(c.agent_id.as_deref(), Some("5991398486736896"));
    assert_eq!(c.agent_name.as_deref(), Some("obscure2 user"));
    assert_eq!(c.started_at, Some(ts("2024-11-14T17:39:14.898Z")));
    assert_eq!(c.answered_at, None);
    assert_eq!(c.ended_at, None);
    assert_eq!(c.duration_seconds, None);
    assert_eq!(out.event_at, Some(ts("2024-11-14T17:39:15.966Z")));
    assert_eq!(
        out.event_id,
        Some(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"5314479320940544").to_string())
    );
    assert_eq!(
        c.metadata.get("master_call_id"),
        Some(&json!(5314479320940544u64))
    );
    assert_eq!(
        c.metadata.get("office_id"),
        Some(&json!(5527348325810176u64))
    );
}

#[test]
fn dialpad_hangup_to_office() {
    let payload: Value = serde_json::from_str(DIALPAD_HANGUP).unwrap();
    let out = dialpad_mapping().apply(&payload, &ctx());
    assert_eq!(out.error, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let c = &out.call;
    assert_eq!(c.call_id, "6421977457180672");
    assert_eq!(c.status, Some(Status::Completed));
    assert_eq!(c.raw_status.as_deref(), Some("hangup"));
    // the target is an office, not a user: no agent
    assert_eq!(c.agent_id, None);
    assert_eq!(c.agent_name, None);
    assert_eq!(c.answered_at, None);
    assert_eq!(c.ended_at, Some(ts("2024-11-14T22:40:48.355Z")));
    // never connected: no duration computed
    assert_eq!(c.duration_seconds, None);
    // total_duration is milliseconds as a float; `int` rounds
    assert_eq!(c.metadata.get("total_duration_ms"), Some(&json!(8951)));
}

#[test]
fn aircall_answered_event() {
    let payload: Value = serde_json::from_str(AIRCALL_ANSWERED).unwrap();
    let out = map(
        json!({
            "call_id": "data.id",
            "mobile_number": {"path": "data.raw_digits", "transform": "e164"},
            "did": {"path": "data.number.digits", "transform": "e164"},
            "direction": "data.direction",
            "status": "event",
            "agent_id": "data.user.id",
            "agent_name": "data.user.name | data.user.email",
            "started_at": {"path": "data.started_at", "transform": "epoch_s"},
            "answered_at": "data.answered_at",
            "ended_at": "data.ended_at",
            "recording_url": "data.recording | data.voicemail",
            "event_id": {"path": "$.data.id", "transform": "string"},
            "event_at": "timestamp",
            "line_name": "data.number.name",
            "missed_reason": "data.missed_call_reason",
            "tags": "data.tags"
        }),
        json!({"call.created": "waiting", "call.ringing_on_agent": "ringing", "call.answered": "active", "call.hungup": "hangup", "call.ended": "completed"}),
        &payload,
    );
    assert_eq!(out.error, None);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let c = &out.call;
    assert_eq!(c.call_id, "780883160");
    assert_eq!(c.mobile_number.as_deref(), Some("+443308186690"));
    assert_eq!(c.did.as_deref(), Some("+43720880079"));
    assert_eq!(c.direction.as_deref(), Some("inbound"));
    assert_eq!(c.status, Some(Status::Active));
    assert_eq!(c.raw_status.as_deref(), Some("call.answered"));
    assert_eq!(c.agent_id.as_deref(), Some("731416"));
    assert_eq!(c.agent_name.as_deref(), Some("Koen Verduijn SE"));
    assert_eq!(c.started_at, Some(ts("2022-03-04T10:52:54Z")));
    assert_eq!(c.answered_at, Some(ts("2022-03-04T10:53:09Z")));
    assert_eq!(c.ended_at, None);
    assert_eq!(c.recording_url, None);
    assert_eq!(out.event_id.as_deref(), Some("780883160"));
    assert_eq!(out.event_at, Some(ts("2022-03-04T10:53:09Z")));
    assert_eq!(
        c.metadata.get("line_name"),
        Some(&json!("Koens Product number"))
    );
    // null values are absent, empty arrays are values
    assert_eq!(c.metadata.get("missed_reason"), None);
    assert_eq!(c.metadata.get("tags"), Some(&json!([])));
}

#[test]
fn outcome_serializes() {
    let payload: Value = serde_json::from_str(AIRCALL_ANSWERED).unwrap();
    let out = map(
        json!({"call_id": "data.id", "status": "data.status", "started_at": "data.started_at"}),
        Value::Null,
        &payload,
    );
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(v["call"]["call_id"], json!("780883160"));
    assert_eq!(v["call"]["status"], Value::Null);
    assert_eq!(v["call"]["raw_status"], json!("answered"));
    assert_eq!(v["unknown_status"], json!(true));
}

#[test]
fn documented_uuid_v5_example() {
    let out = map(
        json!({"event_id": {"path": "e", "transform": "uuid_v5"}}),
        Value::Null,
        &json!({"e": "evt-1"}),
    );
    assert_eq!(
        out.event_id.as_deref(),
        Some("4fefc6d6-04f5-5465-9de2-0dfca9179c1d")
    );
}

#[test]
fn options_set_region_zone_and_the_json_field() {
    let fm = json!({
        "$options": {"region": "IT", "time_zone": "Europe/Rome", "json_field": "data"},
        "call_id": "id",
        "mobile_number": {"path": "from", "transform": "e164"},
        "started_at": "start",
        "ended_at": {"path": "end", "transform": "datetime"}
    });
    let inner = json!({"id": "c1", "from": "06 6982 1234", "start": "2024-07-01 10:00:00",
        "end": "2024-01-10 10:00:00"});
    let out = map(
        fm.clone(),
        Value::Null,
        &json!({"data": inner.to_string(), "token": "x"}),
    );
    assert_eq!(out.error, None, "{:?}", out.warnings);
    assert_eq!(out.call.call_id, "c1");
    assert_eq!(out.call.mobile_number.as_deref(), Some("+390669821234"));
    // CEST in July, CET in January
    assert_eq!(out.call.started_at, Some(ts("2024-07-01T08:00:00Z")));
    assert_eq!(out.call.ended_at, Some(ts("2024-01-10T09:00:00Z")));
    // the same body sent as JSON maps the same
    let out = map(fm, Value::Null, &inner);
    assert_eq!(out.call.mobile_number.as_deref(), Some("+390669821234"));
    for bad in [
        json!({"$options": {"region": "ZZ"}}),
        json!({"$options": {"time_zone": "Nowhere/Place"}}),
        json!({"$options": {"colour": "red"}}),
        json!({"$options": []}),
    ] {
        assert!(
            matches!(compile_err(bad.clone()), MappingError::Options(_)),
            "{bad}"
        );
    }
}

#[test]
fn an_array_of_specs_is_tried_in_order() {
    let fm = json!({
        "call_id": "id",
        "status": [
            {"path": "action", "transform": "lower"},
            {"path": "Status", "transform": ["lower", "prefix:summary_"]}
        ],
        "duration_seconds": [{"path": "talk", "transform": "duration:hms"}, "len"],
        "agent_id": {"path": "x", "required": true}
    });
    let sm = json!({"answered": "active", "summary_answered": "completed"});
    let out = map(
        fm.clone(),
        sm.clone(),
        &json!({"id": 1, "action": "Answered", "Status": "Answered", "x": "a", "len": 9}),
    );
    assert_eq!(out.call.status, Some(Status::Active));
    assert_eq!(out.call.duration_seconds, Some(9));
    let out = map(
        fm.clone(),
        sm.clone(),
        &json!({"id": 1, "Status": "Answered", "talk": "00:01:05", "x": "a"}),
    );
    assert_eq!(out.call.status, Some(Status::Completed));
    assert_eq!(out.call.raw_status.as_deref(), Some("summary_answered"));
    assert_eq!(out.call.duration_seconds, Some(65));
    // a failing alternative warns and the next one is tried
    let out = map(
        fm.clone(),
        sm.clone(),
        &json!({"id": 1, "talk": "soon", "len": 4, "x": "a"}),
    );
    assert_eq!(out.call.duration_seconds, Some(4));
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    // required: every alternative missing is an error naming the paths
    let out = map(
        json!({"call_id": "id", "agent_id": [{"path": "a", "required": true}, "b"]}),
        Value::Null,
        &json!({"id": 1}),
    );
    assert_eq!(
        out.error.as_deref(),
        Some("required field agent_id: no value at `a`, `b`")
    );
}
