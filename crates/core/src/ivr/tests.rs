use super::exec::{Action, Speech};
use super::render::DIALECTS;
use super::*;
use chrono::TimeZone;
use serde_json::json;
use std::collections::BTreeMap;

fn env() -> FixedEnv {
    let mut numbers = BTreeMap::new();
    numbers.insert("sales".to_string(), vec!["+911111111111".to_string()]);
    numbers.insert("support".to_string(), vec![]);
    FixedEnv {
        now: chrono::Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap(),
        numbers,
        ..FixedEnv::default()
    }
}

fn flow(v: Value) -> FlowDef {
    let (f, errors) = validate(&v, &Context::default());
    assert!(errors.is_empty(), "{errors:?}");
    f.unwrap()
}

fn simple() -> FlowDef {
    flow(json!({
        "name": "Simple", "entry": "w",
        "nodes": [
            {"id": "w", "type": "welcome", "say": "Hi {{caller}}", "next": "m"},
            {"id": "m", "type": "menu", "say": "Press 1", "options": {"1": "q", "2": "g"}, "retries": 1,
             "on_invalid": "bye", "on_timeout": "bye"},
            {"id": "q", "type": "queue", "department": "sales", "max_wait_seconds": 30, "on_timeout": "vm"},
            {"id": "g", "type": "gather", "say": "Your account", "min_digits": 2, "max_digits": 4, "variable": "acct", "next": "d"},
            {"id": "d", "type": "decision", "rules": [{"if": {"field": "var.acct", "op": "eq", "value": "42"}, "next": "t"}], "else": "cb"},
            {"id": "t", "type": "transfer", "number": "+912222222222", "on_no_answer": "vm"},
            {"id": "cb", "type": "callback", "say": "We will call you", "next": "sms"},
            {"id": "sms", "type": "sms", "text": "Sorry we missed you, {{caller}}", "next": "bye"},
            {"id": "vm", "type": "record", "say": "Leave a message", "max_seconds": 30, "next": "bye"},
            {"id": "bye", "type": "hangup", "say": "Goodbye"}
        ]
    }))
}

fn start(f: &FlowDef, e: &dyn Env) -> Step {
    let st = CallState {
        caller: Some("+919800000000".into()),
        did: Some("+918000000000".into()),
        ..CallState::default()
    };
    step(f, &st, &IvrEvent::Start, e)
}

fn says(s: &Step) -> Vec<String> {
    let mut out = Vec::new();
    for a in &s.instruction.actions {
        match a {
            Action::Speak(Speech::Say { text, .. }) => out.push(text.clone()),
            Action::Gather { prompt, .. } => {
                for p in prompt {
                    if let Speech::Say { text, .. } = p {
                        out.push(text.clone());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn welcome_plays_and_the_menu_waits() {
    let f = simple();
    let s = start(&f, &env());
    assert_eq!(s.state.node.as_deref(), Some("m"));
    assert_eq!(says(&s), vec!["Hi +919800000000", "Press 1"]);
    assert!(matches!(
        s.instruction.actions[1],
        Action::Gather { max_digits: 1, .. }
    ));
    assert_eq!(s.visits.len(), 2);
    assert_eq!(s.visits[0].edge.as_deref(), Some("next"));
    assert_eq!(s.state.step, 1);
}

#[test]
fn menu_digit_goes_to_the_queue_and_an_answer_completes() {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "1".into() }, &e);
    assert_eq!(s2.state.node.as_deref(), Some("q"));
    assert!(
        matches!(&s2.instruction.actions[0], Action::Dial { numbers, timeout_seconds: 30, .. } if numbers == &vec!["+911111111111".to_string()])
    );
    assert_eq!(s2.visits[0].edge.as_deref(), Some("options.1"));
    assert!(s2.visits[0].resumed);
    let s3 = step(&f, &s2.state, &IvrEvent::Dialed { answered: true }, &e);
    assert!(s3.state.ended && s3.state.answered);
    assert_eq!(s3.state.exit_reason.as_deref(), Some("completed"));
}

#[test]
fn menu_invalid_and_timeout_retry_then_leave() {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "9".into() }, &e);
    assert_eq!(s2.state.node.as_deref(), Some("m"), "replayed");
    assert_eq!(s2.state.attempts, 1);
    let s3 = step(&f, &s2.state, &IvrEvent::Timeout, &e);
    assert!(s3.state.ended, "retries used: on_timeout → bye");
    assert_eq!(says(&s3), vec!["Goodbye"]);
    assert_eq!(s3.state.exit_reason.as_deref(), Some("completed"));
}

#[test]
fn hangup_in_the_menu_is_an_ivr_abandon_at_that_node() {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Hangup, &e);
    assert_eq!(s2.state.exit_reason.as_deref(), Some("ivr_abandon"));
    assert_eq!(s2.state.node.as_deref(), Some("m"));
    assert_eq!(s2.visits[0].edge.as_deref(), Some("hangup"));
    assert!(s2.instruction.actions.is_empty());
    assert_eq!(exec::exit_status("ivr_abandon"), crate::Status::Hangup);
}

#[test]
fn queue_without_agents_overflows_and_a_hangup_there_is_a_queue_abandon() {
    let f = simple();
    let mut e = env();
    e.numbers.clear();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "1".into() }, &e);
    assert_eq!(
        s2.state.node.as_deref(),
        Some("vm"),
        "no agents: on_timeout"
    );
    let e = env();
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "1".into() }, &e);
    let s3 = step(&f, &s2.state, &IvrEvent::Hangup, &e);
    assert_eq!(s3.state.exit_reason.as_deref(), Some("queue_abandon"));
}

#[test]
fn gather_decision_transfer_record() {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "2".into() }, &e);
    assert_eq!(s2.state.node.as_deref(), Some("g"));
    let bad = step(&f, &s2.state, &IvrEvent::Digits { digits: "1".into() }, &e);
    assert_eq!(
        bad.state.node.as_deref(),
        Some("g"),
        "too short: asked again"
    );
    let s3 = step(
        &f,
        &s2.state,
        &IvrEvent::Digits {
            digits: "42#".into(),
        },
        &e,
    );
    assert_eq!(s3.state.vars.get("acct").map(String::as_str), Some("42"));
    assert_eq!(
        s3.state.node.as_deref(),
        Some("t"),
        "decision took rules[0]"
    );
    let s4 = step(&f, &s3.state, &IvrEvent::Dialed { answered: false }, &e);
    assert_eq!(s4.state.node.as_deref(), Some("vm"));
    let s5 = step(
        &f,
        &s4.state,
        &IvrEvent::Recorded {
            url: Some("https://r/1.wav".into()),
        },
        &e,
    );
    assert_eq!(s5.state.exit_reason.as_deref(), Some("voicemail"));
    assert!(s5.state.ended);
    assert_eq!(exec::exit_status("voicemail"), crate::Status::Missed);
}

#[test]
fn callback_marks_the_call_and_sms_is_an_action() {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "2".into() }, &e);
    let s3 = step(
        &f,
        &s2.state,
        &IvrEvent::Digits {
            digits: "77".into(),
        },
        &e,
    );
    assert_eq!(s3.state.exit_reason.as_deref(), Some("callback_requested"));
    assert!(s3.instruction.actions.iter().any(|a| matches!(a, Action::Sms { to, text } if to == "+919800000000" && text.contains("+919800000000"))));
    assert!(s3.state.ended);
}

#[test]
fn api_node_asks_then_assigns_or_takes_its_error_edge() {
    let v = customer_support_template("sales", "support");
    let (f, _) = validate(&v, &Context::default());
    let f = f.unwrap();
    let mut e = env();
    let s = start(&f, &e);
    let req = s.needs_api.clone().expect("asks for the lookup");
    assert_eq!(
        req.url,
        "https://crm.example.com/customers?phone=+919800000000"
    );
    e.api.insert(
        "lookup".into(),
        ApiOutcome::Ok {
            body: json!({"name": "Asha"}),
        },
    );
    let s = start(&f, &e);
    assert!(s.needs_api.is_none());
    assert_eq!(s.state.node.as_deref(), Some("main_menu"));
    assert!(says(&s).iter().any(|t| t.contains("Hello Asha")));
    e.api.insert(
        "lookup".into(),
        ApiOutcome::Failed {
            error: "timeout".into(),
        },
    );
    e.closed.push("sales".into());
    let s = start(&f, &e);
    assert_eq!(
        s.state.node.as_deref(),
        Some("after_hours"),
        "error edge, then closed"
    );
    assert!(s.problem.is_some());
}

#[test]
fn decision_conditions() {
    let e = env();
    let st = CallState {
        caller: Some("+919800000000".into()),
        vars: [("n".to_string(), "5".to_string())].into(),
        ..CallState::default()
    };
    let c = |field: &str, op: &str, value: Value, dept: Option<&str>| model::Condition {
        field: field.into(),
        op: op.into(),
        value: Some(value),
        department: dept.map(str::to_string),
    };
    assert!(exec::evaluate(
        &c("caller", "starts_with", json!("+91"), None),
        &st,
        &e
    ));
    assert!(exec::evaluate(&c("var.n", "gt", json!(3), None), &st, &e));
    assert!(!exec::evaluate(&c("var.n", "lt", json!(3), None), &st, &e));
    assert!(exec::evaluate(
        &c("time", "gte", json!("09:30"), None),
        &st,
        &e
    ));
    assert!(exec::evaluate(
        &c("weekday", "eq", json!("wed"), None),
        &st,
        &e
    ));
    assert!(exec::evaluate(
        &c("agents_available", "gt", json!(0), Some("sales")),
        &st,
        &e
    ));
    assert!(!exec::evaluate(
        &c("agents_available", "gt", json!(0), Some("support")),
        &st,
        &e
    ));
    assert!(exec::evaluate(
        &c("business_hours", "is_true", json!(null), Some("sales")),
        &st,
        &e
    ));
    assert!(exec::evaluate(
        &c("var.missing", "ne", json!("x"), None),
        &st,
        &e
    ));
}

#[test]
fn unknown_node_at_run_time_says_goodbye() {
    let f = simple();
    let st = CallState {
        node: Some("gone".into()),
        ..CallState::default()
    };
    let s = step(&f, &st, &IvrEvent::Digits { digits: "1".into() }, &env());
    assert!(s.state.ended && s.problem.is_some());
    assert!(matches!(s.instruction.actions.last(), Some(Action::Hangup)));
}

#[test]
fn an_ended_call_is_told_to_hang_up() {
    let f = simple();
    let st = CallState {
        ended: true,
        ..CallState::default()
    };
    let s = step(&f, &st, &IvrEvent::Continue, &env());
    assert_eq!(s.instruction.actions, vec![Action::Hangup]);
}

// ------------------------------------------------------------ validator

fn codes(v: Value, ctx: &Context) -> Vec<(Option<String>, String)> {
    validate(&v, ctx)
        .1
        .into_iter()
        .map(|e| (e.node, e.code))
        .collect()
}

#[test]
fn the_template_is_valid_with_staffed_departments() {
    let v = customer_support_template("sales", "support");
    let ctx = Context {
        departments: Some([("sales".to_string(), 2), ("support".to_string(), 1)].into()),
    };
    assert!(validate(&v, &ctx).1.is_empty());
    let ctx = Context {
        departments: Some([("sales".to_string(), 2), ("support".to_string(), 0)].into()),
    };
    assert_eq!(
        codes(v, &ctx),
        vec![(Some("support_queue".into()), "department_no_agents".into())]
    );
}

#[test]
fn broken_flows_table() {
    let base = |nodes: Value| json!({"name": "B", "entry": "a", "nodes": nodes});
    let hang = json!({"id": "z", "type": "hangup"});
    let table: Vec<(Value, &str, &str)> = vec![
        (
            base(json!([{"id": "a", "type": "teleport"}])),
            "a",
            "unknown_type",
        ),
        (
            base(json!([{"id": "a", "type": "play", "say": "x", "colour": "red"}])),
            "a",
            "unknown_field",
        ),
        (
            base(json!([{"id": "a", "type": "play", "say": "x", "next": "nowhere"}])),
            "a",
            "dangling_edge",
        ),
        (
            base(
                json!([{"id": "a", "type": "play", "say": "x", "next": "z"}, hang, {"id": "lost", "type": "hangup"}]),
            ),
            "lost",
            "unreachable",
        ),
        (
            base(
                json!([{"id": "a", "type": "menu", "say": "x", "options": {"1": "z"}, "on_timeout": "z"}, hang]),
            ),
            "a",
            "menu_no_invalid",
        ),
        (
            base(
                json!([{"id": "a", "type": "menu", "say": "x", "options": {"1": "z"}, "on_invalid": "z"}, hang]),
            ),
            "a",
            "menu_no_timeout",
        ),
        (
            base(
                json!([{"id": "a", "type": "menu", "say": "x", "options": {}, "on_invalid": "z", "on_timeout": "z"}, hang]),
            ),
            "a",
            "no_options",
        ),
        (
            base(
                json!([{"id": "a", "type": "play", "say": "x", "next": "b"}, {"id": "b", "type": "decision", "rules": [], "else": "a"}]),
            ),
            "a",
            "loop_without_input",
        ),
        (
            base(json!([{"id": "a", "type": "play", "say": "Hi {{who}}", "next": "z"}, hang])),
            "a",
            "undefined_variable",
        ),
        (
            base(
                json!([{"id": "a", "type": "decision", "rules": [{"if": {"field": "var.x", "op": "eq", "value": 1}, "next": "z"}], "else": "z"}, hang]),
            ),
            "a",
            "undefined_variable",
        ),
        (
            base(
                json!([{"id": "a", "type": "queue", "department": "sales", "on_timeout": "z"}, hang]),
            ),
            "a",
            "department_no_agents",
        ),
        (
            base(
                json!([{"id": "a", "type": "transfer", "department": "nope", "on_no_answer": "z"}, hang]),
            ),
            "a",
            "unknown_department",
        ),
        (
            base(json!([{"id": "a", "type": "transfer", "on_no_answer": "z"}, hang])),
            "a",
            "invalid_field",
        ),
        (
            base(
                json!([{"id": "a", "type": "api", "url": "https://x", "timeout_ms": 5000, "next": "z"}, hang]),
            ),
            "a",
            "invalid_field",
        ),
        (
            base(
                json!([{"id": "a", "type": "gather", "variable": "v", "min_digits": 5, "max_digits": 2, "next": "z"}, hang]),
            ),
            "a",
            "invalid_field",
        ),
        (
            base(
                json!([{"id": "a", "type": "play", "say": "x", "next": "z"}, hang, {"id": "z", "type": "hangup"}]),
            ),
            "z",
            "duplicate_id",
        ),
        (
            base(json!([{"id": "a", "type": "queue", "department": "sales"}])),
            "a",
            "missing_edge",
        ),
        (
            base(
                json!([{"id": "a", "type": "menu", "say": "x", "options": {"1": "z"}, "on_invalid": "z", "on_timeout": "z", "timeout_seconds": "five"}, hang]),
            ),
            "a",
            "invalid_node",
        ),
    ];
    let ctx = Context {
        departments: Some([("sales".to_string(), 0)].into()),
    };
    for (v, node, code) in table {
        let found = codes(v.clone(), &ctx);
        assert!(
            found
                .iter()
                .any(|(n, c)| n.as_deref() == Some(node) && c == code),
            "{code} at {node} expected in {found:?} for {v}"
        );
    }
    let missing = codes(json!({"name": "B", "entry": "x", "nodes": [hang]}), &ctx);
    assert!(missing
        .iter()
        .any(|(n, c)| n.is_none() && c == "missing_entry"));
    let top = codes(
        json!({"name": "B", "entry": "z", "nodes": [hang], "extra": 1}),
        &ctx,
    );
    assert!(top.iter().any(|(n, c)| n.is_none() && c == "unknown_field"));
    let shape = codes(json!({"name": "B", "entry": "z", "nodes": {}}), &ctx);
    assert_eq!(shape, vec![(None, "invalid_flow".to_string())]);
}

#[test]
fn a_loop_through_a_menu_is_fine() {
    let v = json!({"name": "L", "entry": "a", "nodes": [
        {"id": "a", "type": "play", "say": "x", "next": "m"},
        {"id": "m", "type": "menu", "say": "x", "options": {"9": "a"}, "on_invalid": "a", "on_timeout": "z"},
        {"id": "z", "type": "hangup"}
    ]});
    assert!(validate(&v, &Context::default()).1.is_empty());
}

#[test]
fn nodes_round_trip_with_positions() {
    let v = customer_support_template("sales", "support");
    let f: FlowDef = serde_json::from_value(v.clone()).unwrap();
    let back = serde_json::to_value(&f).unwrap();
    let again: FlowDef = serde_json::from_value(back).unwrap();
    assert_eq!(f, again);
    assert!(f.nodes[0].position.is_some());
    assert!(serde_json::from_value::<FlowDef>(
        json!({"name": "x", "entry": "a", "nodes": [{"id": "a", "type": "hangup", "bogus": 1}]})
    )
    .is_err());
}

#[test]
fn validating_200_nodes_is_fast() {
    let mut nodes = vec![json!({"id": "n0", "type": "welcome", "say": "hi", "next": "m1"})];
    for i in 1..199 {
        let next = format!("m{}", i + 1);
        let next = if i == 198 { "end".to_string() } else { next };
        nodes.push(json!({"id": format!("m{i}"), "type": "menu", "say": "press", "options": {"1": next, "2": "n0"}, "on_invalid": "end", "on_timeout": "end"}));
    }
    nodes.push(json!({"id": "end", "type": "hangup"}));
    let v = json!({"name": "Big", "entry": "n0", "nodes": nodes});
    let t = std::time::Instant::now();
    let (_, errors) = validate(&v, &Context::default());
    let took = t.elapsed();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(took < std::time::Duration::from_millis(200), "{took:?}");
}

// ------------------------------------------------------------ renderers

fn golden_instructions() -> Vec<(&'static str, Instruction)> {
    let f = simple();
    let e = env();
    let s1 = start(&f, &e);
    let s2 = step(&f, &s1.state, &IvrEvent::Digits { digits: "1".into() }, &e);
    let s3 = step(&f, &s2.state, &IvrEvent::Dialed { answered: false }, &e);
    let s4 = step(&f, &s3.state, &IvrEvent::Recorded { url: None }, &e);
    let mut cb_state = s1.state.clone();
    cb_state.node = Some("g".into());
    let s5 = step(
        &f,
        &cb_state,
        &IvrEvent::Digits {
            digits: "77".into(),
        },
        &e,
    );
    vec![
        ("menu", s1.instruction),
        ("queue", s2.instruction),
        ("record", s3.instruction),
        ("hangup", s4.instruction),
        ("callback_sms", s5.instruction),
    ]
}

fn ext(d: Dialect) -> &'static str {
    match d {
        Dialect::Vonage | Dialect::Json => "json",
        _ => "xml",
    }
}

#[test]
fn renderers_match_their_golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ivr/golden");
    let ctx = RenderCtx {
        action_url: "https://cb.example.com/ivr/sales?token=T&s=1".into(),
        call_id: "CA123".into(),
        twilio_enqueue: false,
    };
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    for d in DIALECTS {
        for (name, instr) in golden_instructions() {
            let out = render(d, &instr, &ctx);
            let path = dir.join(format!("{}_{name}.{}", d.as_str(), ext(d)));
            if update {
                std::fs::write(&path, &out.body).unwrap();
            }
            let want =
                std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {path:?}"));
            assert_eq!(out.body, want, "{path:?}");
            if ext(d) == "json" {
                serde_json::from_str::<Value>(&out.body).unwrap();
            } else {
                assert!(out.body.starts_with("<?xml"));
            }
        }
    }
}

#[test]
fn xml_text_is_escaped() {
    let instr = Instruction {
        actions: vec![Action::Speak(Speech::Say {
            text: "Tom & Jerry <3 \"quotes\"".into(),
            voice: None,
            language: None,
        })],
    };
    let ctx = RenderCtx {
        action_url: "https://x/ivr/a?token=a&s=1".into(),
        call_id: "c".into(),
        twilio_enqueue: false,
    };
    for d in [
        Dialect::Twilio,
        Dialect::Exotel,
        Dialect::Kookoo,
        Dialect::Plivo,
    ] {
        let body = render(d, &instr, &ctx).body;
        assert!(
            body.contains("Tom &amp; Jerry &lt;3 &quot;quotes&quot;"),
            "{body}"
        );
    }
}

// ------------------------------------------------------------ requests

#[test]
fn platform_requests_become_neutral_events() {
    use request::parse;
    let r = parse(Dialect::Kookoo, &json!({"event": "NewCall", "sid": "K1", "cid": "9800000000", "called_number": "8000000000"}), false).unwrap();
    assert_eq!(
        (r.call_id.as_str(), r.event.clone()),
        ("K1", IvrEvent::Start)
    );
    assert_eq!(r.caller.as_deref(), Some("9800000000"));
    let r = parse(
        Dialect::Kookoo,
        &json!({"event": "GotDTMF", "sid": "K1", "data": "1"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Digits { digits: "1".into() });
    let r = parse(
        Dialect::Kookoo,
        &json!({"event": "GotDTMF", "sid": "K1", "data": ""}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Timeout);
    assert!(parse(
        Dialect::Kookoo,
        &json!({"event": "Teleport", "sid": "K1"}),
        false
    )
    .is_err());
    assert!(parse(Dialect::Kookoo, &json!({"event": "NewCall"}), false).is_err());
    let r = parse(
        Dialect::Twilio,
        &json!({"CallSid": "CA1", "From": "+1", "To": "+2", "CallStatus": "ringing"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Start);
    let r = parse(
        Dialect::Twilio,
        &json!({"CallSid": "CA1", "Digits": "2", "s": "3"}),
        false,
    )
    .unwrap();
    assert_eq!(
        (r.event, r.step),
        (IvrEvent::Digits { digits: "2".into() }, Some(3))
    );
    let r = parse(
        Dialect::Twilio,
        &json!({"CallSid": "CA1", "Digits": ""}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Timeout);
    let r = parse(
        Dialect::Twilio,
        &json!({"CallSid": "CA1", "DialCallStatus": "no-answer"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Dialed { answered: false });
    let r = parse(
        Dialect::Twilio,
        &json!({"CallSid": "CA1", "CallStatus": "completed"}),
        true,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Hangup);
    // `<Enqueue>`'s action: how the caller left their queue.
    for (result, event) in [
        ("bridged", IvrEvent::Dialed { answered: true }),
        ("leave", IvrEvent::Dialed { answered: false }),
        ("queue-full", IvrEvent::Dialed { answered: false }),
        ("error", IvrEvent::Dialed { answered: false }),
        ("hangup", IvrEvent::Hangup),
    ] {
        let r = parse(
            Dialect::Twilio,
            &json!({"CallSid": "CA1", "QueueResult": result, "QueueTime": "31", "CallStatus": "in-progress", "s": "4"}),
            false,
        )
        .unwrap();
        assert_eq!(r.event, event, "{result}");
    }
    let r = parse(
        Dialect::Exotel,
        &json!({"CallSid": "E1", "CallFrom": "0980", "CallTo": "0800", "digits": "\"1\""}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Digits { digits: "1".into() });
    let r = parse(
        Dialect::Exotel,
        &json!({"CallSid": "E1", "ev": "timeout", "s": "2"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Timeout);
    let r = parse(Dialect::Vonage, &json!({"uuid": "V1", "from": "4470", "to": "4480", "dtmf": {"digits": "1", "timed_out": false}}), false).unwrap();
    assert_eq!(r.event, IvrEvent::Digits { digits: "1".into() });
    let r = parse(
        Dialect::Vonage,
        &json!({"uuid": "V1", "dtmf": {"digits": "", "timed_out": true}}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Timeout);
    let r = parse(
        Dialect::Vonage,
        &json!({"uuid": "V1", "status": "completed"}),
        true,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Hangup);
    let r = parse(
        Dialect::Plivo,
        &json!({"CallUUID": "P1", "From": "1", "To": "2", "Digits": "2"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Digits { digits: "2".into() });
    let r = parse(
        Dialect::Plivo,
        &json!({"CallUUID": "P1", "DialStatus": "completed"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Dialed { answered: true });
    let r = parse(
        Dialect::Json,
        &json!({"call_id": "J1", "event": "digits", "digits": "1"}),
        false,
    )
    .unwrap();
    assert_eq!(r.event, IvrEvent::Digits { digits: "1".into() });
    assert!(parse(Dialect::Json, &json!({"event": "start"}), false).is_err());
}

#[test]
fn dialects_parse_and_default_from_presets() {
    for d in DIALECTS {
        assert_eq!(Dialect::parse(d.as_str()), Some(d));
    }
    assert_eq!(Dialect::parse("sip"), None);
    assert_eq!(Dialect::for_preset(Some("kookoo")), Dialect::Kookoo);
    assert_eq!(Dialect::for_preset(Some("exotel")), Dialect::Exotel);
    assert_eq!(Dialect::for_preset(None), Dialect::Json);
}

#[test]
fn a_queue_announces_the_callers_place_and_wait_in_every_dialect() {
    use super::exec::{position_announcement, QueueAhead};
    assert_eq!(
        position_announcement(QueueAhead {
            ahead: 0,
            expected_wait_seconds: None
        }),
        "You are number 1 in the queue."
    );
    assert_eq!(
        position_announcement(QueueAhead {
            ahead: 1,
            expected_wait_seconds: Some(40)
        }),
        "You are number 2 in the queue. The expected wait is less than a minute."
    );
    assert_eq!(
        position_announcement(QueueAhead {
            ahead: 2,
            expected_wait_seconds: Some(61)
        }),
        "You are number 3 in the queue. The expected wait is about 2 minutes."
    );
    let f = flow(json!({
        "name": "Announce", "entry": "q",
        "nodes": [
            {"id": "q", "type": "queue", "department": "sales", "say": "Please hold",
             "language": "en-IN", "announce_position": true, "on_timeout": "z"},
            {"id": "z", "type": "hangup"}
        ]
    }));
    let mut e = env();
    e.ahead.insert(
        "sales".into(),
        QueueAhead {
            ahead: 2,
            expected_wait_seconds: Some(240),
        },
    );
    let s = step(&f, &CallState::default(), &IvrEvent::Start, &e);
    let said: Vec<_> = s
        .instruction
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Speak(Speech::Say { text, language, .. }) => {
                Some((text.as_str(), language.clone()))
            }
            _ => None,
        })
        .collect();
    let lang = Some("en-IN".to_string());
    assert_eq!(
        said,
        vec![
            ("Please hold", lang.clone()),
            (
                "You are number 3 in the queue. The expected wait is about 4 minutes.",
                lang
            )
        ]
    );
    assert!(matches!(
        s.instruction.actions.last(),
        Some(Action::Dial { .. })
    ));
    for d in DIALECTS {
        let r = render::render(
            d,
            &s.instruction,
            &render::RenderCtx {
                action_url: "https://cb.example/ivr/x?s=1".into(),
                call_id: "c".into(),
                twilio_enqueue: false,
            },
        );
        assert!(
            r.body.contains("You are number 3 in the queue."),
            "{d:?}: {}",
            r.body
        );
    }
    // Off: nothing is said beyond the prompt.
    let mut quiet = f.clone();
    if let Some(NodeKind::Queue {
        announce_position, ..
    }) = quiet.nodes.get_mut(0).map(|n| &mut n.kind)
    {
        *announce_position = false;
    }
    let s = step(&quiet, &CallState::default(), &IvrEvent::Start, &e);
    assert!(!format!("{:?}", s.instruction).contains("You are number"));
}

/// With `announce_every_seconds` the caller hears their (updated) place
/// again after each slice of ringing, until the queue's maximum wait; the
/// whole wait stays one visit of the node.
#[test]
fn a_queue_repeats_the_callers_place_while_they_wait() {
    use super::exec::QueueAhead;
    let f = flow(json!({
        "name": "Repeat", "entry": "q",
        "nodes": [
            {"id": "q", "type": "queue", "department": "sales", "say": "Please hold",
             "announce_position": true, "announce_every_seconds": 30,
             "max_wait_seconds": 80, "on_timeout": "z"},
            {"id": "z", "type": "hangup", "say": "Sorry"}
        ]
    }));
    let mut e = env();
    let start = e.now;
    let ahead = |n| QueueAhead {
        ahead: n,
        expected_wait_seconds: None,
    };
    e.ahead.insert("sales".into(), ahead(2));
    let said = |s: &super::exec::Step| -> Vec<String> {
        s.instruction
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Speak(Speech::Say { text, .. }) => Some(text.clone()),
                _ => None,
            })
            .collect()
    };
    let rang = |s: &super::exec::Step| {
        s.instruction.actions.iter().find_map(|a| match a {
            Action::Dial {
                timeout_seconds, ..
            } => Some(*timeout_seconds),
            _ => None,
        })
    };
    let s1 = step(&f, &CallState::default(), &IvrEvent::Start, &e);
    assert_eq!(said(&s1), ["Please hold", "You are number 3 in the queue."]);
    assert_eq!(rang(&s1), Some(30), "the first slice");
    assert_eq!(s1.state.queue_since, Some(start));

    // 30 s later nobody answered; one caller ahead was taken meanwhile.
    e.now = start + chrono::Duration::seconds(30);
    e.ahead.insert("sales".into(), ahead(1));
    let no = IvrEvent::Dialed { answered: false };
    let s2 = step(&f, &s1.state, &no, &e);
    assert_eq!(
        said(&s2),
        ["You are number 2 in the queue."],
        "the place again, without the prompt"
    );
    assert_eq!(rang(&s2), Some(30));
    assert_eq!(s2.state.node.as_deref(), Some("q"));
    assert!(
        s2.visits.is_empty(),
        "still the same visit: {:?}",
        s2.visits
    );

    // At 60 s only 20 s of the 80 s wait are left: the last slice is shorter.
    e.now = start + chrono::Duration::seconds(60);
    let s3 = step(&f, &s2.state, &no, &e);
    assert_eq!(rang(&s3), Some(20));

    // At 80 s the wait is over: on to `on_timeout`.
    e.now = start + chrono::Duration::seconds(80);
    let s4 = step(&f, &s3.state, &no, &e);
    assert_eq!(said(&s4), ["Sorry"]);
    assert_eq!(rang(&s4), None);
    assert!(s4.state.ended);
    let edges: Vec<_> = s4.visits.iter().map(|v| v.edge.as_deref()).collect();
    assert_eq!(edges.first(), Some(&Some("on_timeout")), "{:?}", s4.visits);

    // Without `announce_every_seconds` a no-answer leaves at once.
    let mut once = f.clone();
    if let Some(NodeKind::Queue {
        announce_every_seconds,
        ..
    }) = once.nodes.get_mut(0).map(|n| &mut n.kind)
    {
        *announce_every_seconds = None;
    }
    e.now = start;
    let o1 = step(&once, &CallState::default(), &IvrEvent::Start, &e);
    assert_eq!(rang(&o1), Some(80), "one ring for the whole wait");
    e.now = start + chrono::Duration::seconds(80);
    assert!(step(&once, &o1.state, &no, &e).state.ended);

    // An agent answering ends the wait as before.
    e.now = start + chrono::Duration::seconds(30);
    let a = step(&f, &s1.state, &IvrEvent::Dialed { answered: true }, &e);
    assert!(a.state.answered);
}

#[test]
fn a_queues_announcement_interval_is_validated() {
    let v = |every: u32| {
        json!({
            "name": "Repeat", "entry": "q",
            "nodes": [
                {"id": "q", "type": "queue", "department": "sales",
                 "announce_every_seconds": every, "on_timeout": "z"},
                {"id": "z", "type": "hangup"}
            ]
        })
    };
    for bad in [5, 601] {
        assert_eq!(
            codes(v(bad), &Context::default()),
            vec![(Some("q".into()), "invalid_field".into())],
            "{bad}"
        );
    }
    assert!(codes(v(45), &Context::default()).is_empty());
}
