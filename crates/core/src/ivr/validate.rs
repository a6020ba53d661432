//! Flow validation: every problem names its node, with a stable code.

use super::exec::{template_vars, ANNOUNCE_EVERY_MIN, BUILTIN_VARS};
use super::model::{FlowDef, Node, NodeKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlowError {
    /// The node's id; null for the flow as a whole.
    pub node: Option<String>,
    /// `invalid_flow`, `invalid_node`, `unknown_type`, `unknown_field`,
    /// `duplicate_id`, `missing_entry`, `dangling_edge`, `missing_edge`,
    /// `unreachable`, `menu_no_invalid`, `menu_no_timeout`, `no_options`,
    /// `loop_without_input`, `undefined_variable`, `unknown_department`,
    /// `department_no_agents`, `invalid_field`.
    pub code: String,
    pub message: String,
}

fn err(node: Option<&str>, code: &str, message: impl Into<String>) -> FlowError {
    FlowError {
        node: node.map(str::to_string),
        code: code.to_string(),
        message: message.into(),
    }
}

/// What validation may know about the receiver: departments (provider
/// slugs) and how many agents work in each. `None`: not checked.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub departments: Option<BTreeMap<String, usize>>,
}

const CONDITION_FIELDS: [&str; 6] = [
    "caller",
    "did",
    "time",
    "weekday",
    "business_hours",
    "agents_available",
];
const OPS: [&str; 13] = [
    "eq",
    "ne",
    "starts_with",
    "ends_with",
    "contains",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "is_true",
    "is_false",
];

/// Validates a flow given as JSON. Returns the typed flow when it parses
/// (it may still have errors) and every problem found.
pub fn validate(raw: &Value, ctx: &Context) -> (Option<FlowDef>, Vec<FlowError>) {
    let mut errors = Vec::new();
    let Some(obj) = raw.as_object() else {
        return (
            None,
            vec![err(None, "invalid_flow", "a flow is a JSON object")],
        );
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["name", "entry", "nodes"].contains(&k.as_str()))
    {
        errors.push(err(
            None,
            "unknown_field",
            format!("a flow has no field `{k}` (it takes name, entry, nodes)"),
        ));
    }
    let name = obj.get("name").and_then(Value::as_str).unwrap_or("").trim();
    if name.is_empty() || name.chars().count() > 120 {
        errors.push(err(None, "invalid_flow", "name must be 1-120 characters"));
    }
    let entry = obj.get("entry").and_then(Value::as_str).unwrap_or("");
    let Some(raw_nodes) = obj.get("nodes").and_then(Value::as_array) else {
        errors.push(err(None, "invalid_flow", "nodes must be an array"));
        return (None, errors);
    };
    let mut nodes: Vec<Node> = Vec::with_capacity(raw_nodes.len());
    let mut all_parsed = true;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (i, rn) in raw_nodes.iter().enumerate() {
        let id = rn.get("id").and_then(Value::as_str).map(str::to_string);
        match Node::parse(rn) {
            Ok(n) => {
                if !seen.insert(n.id.clone()) {
                    errors.push(err(
                        Some(&n.id),
                        "duplicate_id",
                        format!("two nodes are called `{}`", n.id),
                    ));
                }
                nodes.push(n);
            }
            Err((code, message)) => {
                all_parsed = false;
                let label = id.clone().unwrap_or_else(|| format!("nodes[{i}]"));
                if let Some(id) = &id {
                    seen.insert(id.clone());
                }
                errors.push(err(Some(&label), code, message));
            }
        }
    }
    if entry.is_empty() {
        errors.push(err(None, "missing_entry", "the flow has no entry node"));
    } else if !seen.contains(entry) {
        errors.push(err(
            None,
            "missing_entry",
            format!("the entry `{entry}` is not a node of the flow"),
        ));
    }
    let flow = FlowDef {
        name: name.to_string(),
        entry: entry.to_string(),
        nodes,
    };
    check(&flow, &seen, all_parsed, ctx, &mut errors);
    (Some(flow), errors)
}

/// Validates a typed flow (its JSON form, to report unknown fields too).
pub fn validate_flow(flow: &FlowDef, ctx: &Context) -> Vec<FlowError> {
    match serde_json::to_value(flow) {
        Ok(v) => validate(&v, ctx).1,
        Err(e) => vec![err(None, "invalid_flow", e.to_string())],
    }
}

fn check(
    flow: &FlowDef,
    ids: &BTreeSet<String>,
    all_parsed: bool,
    ctx: &Context,
    errors: &mut Vec<FlowError>,
) {
    let index: HashMap<&str, &Node> = flow.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    // Variables the flow defines.
    let mut defined: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    defined.insert("recording_url".into());
    for n in &flow.nodes {
        match &n.kind {
            NodeKind::Gather { variable, .. } => {
                defined.insert(variable.clone());
            }
            NodeKind::Api { assign, .. } => defined.extend(assign.keys().cloned()),
            _ => {}
        }
    }
    for n in &flow.nodes {
        let id = Some(n.id.as_str());
        if n.id.trim().is_empty() || n.id.len() > 64 {
            errors.push(err(id, "invalid_node", "a node id must be 1-64 characters"));
        }
        for (edge, target) in n.kind.edges() {
            if !ids.contains(target) {
                errors.push(err(
                    id,
                    "dangling_edge",
                    format!(
                        "`{edge}` of `{}` points to `{target}`, which is not a node",
                        n.id
                    ),
                ));
            }
        }
        for text in n.kind.texts() {
            for v in template_vars(text) {
                let name = v.strip_prefix("var.").unwrap_or(&v);
                if !defined.contains(name) {
                    errors.push(err(
                        id,
                        "undefined_variable",
                        format!(
                            "`{}` uses `{{{{{v}}}}}`, which no gather or api node sets",
                            n.id
                        ),
                    ));
                }
            }
        }
        node_rules(n, &defined, ctx, errors);
    }
    // Reachability from the entry.
    if index.contains_key(flow.entry.as_str()) {
        let mut reached: BTreeSet<&str> = BTreeSet::new();
        let mut stack = vec![flow.entry.as_str()];
        while let Some(id) = stack.pop() {
            if !reached.insert(id) {
                continue;
            }
            if let Some(n) = index.get(id) {
                for (_, t) in n.kind.edges() {
                    if index.contains_key(t) {
                        stack.push(t);
                    }
                }
            }
        }
        if all_parsed {
            for n in &flow.nodes {
                if !reached.contains(n.id.as_str()) {
                    errors.push(err(
                        Some(&n.id),
                        "unreachable",
                        format!(
                            "no path from the entry `{}` leads to `{}`",
                            flow.entry, n.id
                        ),
                    ));
                }
            }
        }
    }
    loops(flow, &index, errors);
}

fn node_rules(n: &Node, defined: &BTreeSet<String>, ctx: &Context, errors: &mut Vec<FlowError>) {
    let id = Some(n.id.as_str());
    let dept_check = |d: &str, errors: &mut Vec<FlowError>| {
        if let Some(known) = &ctx.departments {
            match known.get(d) {
                None => errors.push(err(
                    id,
                    "unknown_department",
                    format!(
                        "`{}` sends calls to department `{d}`, which does not exist",
                        n.id
                    ),
                )),
                Some(0) => errors.push(err(
                    id,
                    "department_no_agents",
                    format!(
                        "`{}` sends calls to department `{d}`, which has no agents",
                        n.id
                    ),
                )),
                Some(_) => {}
            }
        }
    };
    match &n.kind {
        NodeKind::Menu {
            options,
            on_invalid,
            on_timeout,
            timeout_seconds,
            ..
        } => {
            if options.is_empty() {
                errors.push(err(
                    id,
                    "no_options",
                    format!("menu `{}` offers no keys", n.id),
                ));
            }
            for k in options.keys() {
                if k.is_empty()
                    || k.len() > 4
                    || !k
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
                {
                    errors.push(err(
                        id,
                        "invalid_field",
                        format!("menu `{}`: option `{k}` is not 1-4 keys (0-9, *, #)", n.id),
                    ));
                }
            }
            if on_invalid.is_none() {
                errors.push(err(
                    id,
                    "menu_no_invalid",
                    format!(
                        "menu `{}` does not say where an invalid key goes (on_invalid)",
                        n.id
                    ),
                ));
            }
            if on_timeout.is_none() {
                errors.push(err(
                    id,
                    "menu_no_timeout",
                    format!(
                        "menu `{}` does not say where silence goes (on_timeout)",
                        n.id
                    ),
                ));
            }
            if !(1..=60).contains(timeout_seconds) {
                errors.push(err(id, "invalid_field", "timeout_seconds must be 1-60"));
            }
        }
        NodeKind::Gather {
            min_digits,
            max_digits,
            variable,
            finish_on_key,
            ..
        } => {
            if *min_digits > *max_digits || *max_digits == 0 || *max_digits > 32 {
                errors.push(err(
                    id,
                    "invalid_field",
                    format!("gather `{}`: need 1 ≤ min_digits ≤ max_digits ≤ 32", n.id),
                ));
            }
            if variable.trim().is_empty()
                || !variable
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                errors.push(err(
                    id,
                    "invalid_field",
                    "variable must be letters, digits or _",
                ));
            }
            if finish_on_key.len() > 1 {
                errors.push(err(id, "invalid_field", "finish_on_key is one key"));
            }
        }
        NodeKind::Decision { rules, otherwise } => {
            if otherwise.is_none() {
                errors.push(err(
                    id,
                    "missing_edge",
                    format!("decision `{}` needs an `else`", n.id),
                ));
            }
            for (i, r) in rules.iter().enumerate() {
                let c = &r.condition;
                let var = c.field.strip_prefix("var.");
                if !CONDITION_FIELDS.contains(&c.field.as_str()) && var.is_none() {
                    errors.push(err(
                        id,
                        "invalid_field",
                        format!("rules[{i}]: unknown field `{}` (caller, did, time, weekday, business_hours, agents_available, var.<name>)", c.field),
                    ));
                }
                if let Some(v) = var {
                    if !defined.contains(v) {
                        errors.push(err(
                            id,
                            "undefined_variable",
                            format!("rules[{i}] tests `{v}`, which no gather or api node sets"),
                        ));
                    }
                }
                if !OPS.contains(&c.op.as_str()) {
                    errors.push(err(
                        id,
                        "invalid_field",
                        format!("rules[{i}]: unknown op `{}` ({})", c.op, OPS.join(", ")),
                    ));
                }
                if matches!(c.field.as_str(), "business_hours" | "agents_available") {
                    match &c.department {
                        None => errors.push(err(
                            id,
                            "invalid_field",
                            format!("rules[{i}]: `{}` needs a department", c.field),
                        )),
                        Some(d) => {
                            if let Some(known) = &ctx.departments {
                                if !known.contains_key(d) {
                                    errors.push(err(
                                        id,
                                        "unknown_department",
                                        format!("rules[{i}]: department `{d}` does not exist"),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        NodeKind::Queue {
            department,
            on_timeout,
            max_wait_seconds,
            announce_every_seconds,
            ..
        } => {
            dept_check(department, errors);
            if on_timeout.is_none() {
                errors.push(err(
                    id,
                    "missing_edge",
                    format!(
                        "queue `{}` needs `on_timeout` (where callers go when nobody answers)",
                        n.id
                    ),
                ));
            }
            if !(5..=3600).contains(max_wait_seconds) {
                errors.push(err(id, "invalid_field", "max_wait_seconds must be 5-3600"));
            }
            if let Some(every) = announce_every_seconds {
                if !(ANNOUNCE_EVERY_MIN..=600).contains(every) {
                    errors.push(err(
                        id,
                        "invalid_field",
                        format!("announce_every_seconds must be {ANNOUNCE_EVERY_MIN}-600"),
                    ));
                }
            }
        }
        NodeKind::Transfer {
            department, number, ..
        } => match (department, number) {
            (Some(_), Some(_)) | (None, None) => errors.push(err(
                id,
                "invalid_field",
                format!(
                    "transfer `{}` needs exactly one of department or number",
                    n.id
                ),
            )),
            (Some(d), None) => dept_check(d, errors),
            (None, Some(num)) => {
                if num.trim().is_empty() {
                    errors.push(err(id, "invalid_field", "number is empty"));
                }
            }
        },
        NodeKind::Record { max_seconds, .. } => {
            if !(1..=600).contains(max_seconds) {
                errors.push(err(id, "invalid_field", "max_seconds must be 1-600"));
            }
        }
        NodeKind::Api {
            method,
            url,
            timeout_ms,
            ..
        } => {
            if !["GET", "POST", "PUT", "PATCH", "DELETE"]
                .contains(&method.to_ascii_uppercase().as_str())
            {
                errors.push(err(
                    id,
                    "invalid_field",
                    format!("method `{method}` is not an HTTP method"),
                ));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errors.push(err(
                    id,
                    "invalid_field",
                    "url must start with http:// or https://",
                ));
            }
            if *timeout_ms == 0 || *timeout_ms > 3000 {
                errors.push(err(id, "invalid_field", "timeout_ms must be 1-3000"));
            }
        }
        NodeKind::Sms { text, .. } => {
            if text.trim().is_empty() {
                errors.push(err(id, "invalid_field", "text is empty"));
            }
        }
        NodeKind::Welcome { prompt, .. } | NodeKind::Play { prompt, .. } => {
            if prompt.is_empty() {
                errors.push(err(
                    id,
                    "invalid_field",
                    format!("`{}` has nothing to say (say or audio_url)", n.id),
                ));
            }
        }
        NodeKind::Callback { .. } | NodeKind::Hangup { .. } => {}
    }
}

/// A cycle made only of nodes that do not wait for input would spin.
fn loops(flow: &FlowDef, index: &HashMap<&str, &Node>, errors: &mut Vec<FlowError>) {
    // Iterative DFS with colours over the non-input subgraph.
    #[derive(Clone, Copy, PartialEq)]
    enum C {
        White,
        Grey,
        Black,
    }
    let mut colour: HashMap<&str, C> = flow
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), C::White))
        .collect();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for start in &flow.nodes {
        if start.kind.takes_input() || colour.get(start.id.as_str()) != Some(&C::White) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start.id.as_str(), 0)];
        colour.insert(start.id.as_str(), C::Grey);
        while let Some(&mut (id, ref mut i)) = stack.last_mut() {
            let succ: Vec<&str> = index
                .get(id)
                .map(|n| {
                    n.kind
                        .edges()
                        .into_iter()
                        .map(|(_, t)| t)
                        .filter(|t| index.get(t).is_some_and(|m| !m.kind.takes_input()))
                        .collect()
                })
                .unwrap_or_default();
            if *i < succ.len() {
                let t = succ[*i];
                *i += 1;
                match colour.get(t).copied() {
                    Some(C::White) => {
                        colour.insert(t, C::Grey);
                        stack.push((t, 0));
                    }
                    Some(C::Grey) if reported.insert(t.to_string()) => {
                        errors.push(err(
                            Some(t),
                            "loop_without_input",
                            format!("`{t}` is on a loop that never waits for the caller (add a menu or gather to it)"),
                        ));
                    }
                    _ => {}
                }
            } else {
                colour.insert(id, C::Black);
                stack.pop();
            }
        }
    }
}
