//! The executor: a pure function `(flow version, call state, event, the
//! world it may ask about) → (new state, instruction, path taken)`. It never
//! does I/O: an `api` node's answer comes in through [`Env::api_result`]
//! (the server makes the request and runs the step again with the answer).

use super::model::{Condition, FlowDef, NodeKind, Prompt};
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// At most this many nodes run in one step (a guard; the validator refuses
/// loops without an input node).
pub const MAX_HOPS: usize = 64;

/// What a platform told us, in no platform's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IvrEvent {
    /// A new call (or the first request of one).
    Start,
    /// Keys pressed (without the finish key).
    Digits { digits: String },
    /// No key before the timeout.
    Timeout,
    /// The result of a dial (queue/transfer).
    Dialed { answered: bool },
    /// A recording finished.
    Recorded { url: Option<String> },
    /// The caller (or the platform) hung up.
    Hangup,
    /// The platform asks what next without news (a redirect).
    Continue,
}

impl IvrEvent {
    pub fn name(&self) -> &'static str {
        match self {
            IvrEvent::Start => "start",
            IvrEvent::Digits { .. } => "digits",
            IvrEvent::Timeout => "timeout",
            IvrEvent::Dialed { .. } => "dialed",
            IvrEvent::Recorded { .. } => "recorded",
            IvrEvent::Hangup => "hangup",
            IvrEvent::Continue => "continue",
        }
    }
}

/// The IVR state of one call, kept in SQLite between requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallState {
    /// The node waiting for the caller or the platform; none before the start.
    pub node: Option<String>,
    pub vars: BTreeMap<String, String>,
    /// Replays of the current menu/gather so far.
    pub attempts: u32,
    pub exit_reason: Option<String>,
    /// An agent answered.
    pub answered: bool,
    pub ended: bool,
    /// Steps taken; action URLs carry it so a retried request is recognised.
    pub step: u64,
    pub caller: Option<String>,
    pub did: Option<String>,
    /// When the call entered the queue it waits at: its repeated
    /// announcements count the wait from here.
    #[serde(default)]
    pub queue_since: Option<DateTime<Utc>>,
}

/// One spoken text or audio file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Speech {
    Say {
        text: String,
        voice: Option<String>,
        language: Option<String>,
    },
    Play {
        url: String,
    },
}

/// One platform-neutral action; a dialect renders a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Speak(Speech),
    /// Collect keys (the prompt plays while waiting); the platform calls
    /// back with the keys or with a timeout.
    Gather {
        prompt: Vec<Speech>,
        min_digits: u32,
        max_digits: u32,
        finish_on_key: String,
        timeout_seconds: u32,
    },
    /// Ring these numbers (the first to answer takes the call).
    Dial {
        numbers: Vec<String>,
        timeout_seconds: u32,
        music_url: Option<String>,
        caller_id: Option<String>,
    },
    Record {
        max_seconds: u32,
        finish_on_key: String,
    },
    /// An SMS to send (where the dialect has an in-call verb; otherwise the
    /// receiver queues it in the department's SMS outbox).
    Sms {
        to: String,
        text: String,
    },
    Hangup,
}

/// What the platform gets back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Instruction {
    pub actions: Vec<Action>,
}

impl Instruction {
    /// Whether the platform will call back (a gather, dial or record).
    pub fn waits(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Gather { .. } | Action::Dial { .. } | Action::Record { .. }
            )
        })
    }
}

/// One node visited in a step and the edge it left by (none: it waits, or
/// the call ended there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visit {
    pub node: String,
    #[serde(rename = "type")]
    pub node_type: String,
    pub edge: Option<String>,
    /// The node was entered in an earlier step: this row only records how
    /// the caller left it.
    #[serde(default)]
    pub resumed: bool,
    /// What became of the node's side effect, as a reason code: for an
    /// `sms` node, `sms_queued`, `sms_in_call`, `sms_already_queued` or
    /// `sms_not_sent_…` (set by the receiver, not by the executor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An HTTP request an `api` node wants made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiRequest {
    pub node: String,
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub timeout_ms: u32,
}

/// The answer to an `api` node's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApiOutcome {
    Ok {
        #[schema(value_type = Object)]
        body: Value,
    },
    Failed {
        error: String,
    },
}

/// What the executor may ask about the world. Pure for a given value.
pub trait Env {
    fn now(&self) -> DateTime<Utc>;
    /// Whether the department is within its business hours (none: open).
    fn business_open(&self, department: &str, at: DateTime<Utc>) -> bool;
    /// The department's time zone offset, for `time`/`weekday` rules.
    fn local_time(&self, department: Option<&str>, at: DateTime<Utc>) -> (u32, u32, u32);
    /// How many of the department's agents are available.
    fn agents_available(&self, department: &str) -> usize;
    /// The numbers to ring for the department, in its routing order.
    fn agent_numbers(&self, department: &str) -> Vec<String>;
    /// The answer to `node`'s request, once the server made it.
    fn api_result(&self, node: &str) -> Option<ApiOutcome>;
    /// Callers already queued for the department's agents (this one not
    /// counted) and the wait they make, for a queue's announcement.
    fn queue_ahead(&self, department: &str) -> QueueAhead;
}

/// The shortest slice a queue rings its agents for between announcements.
pub const ANNOUNCE_EVERY_MIN: u32 = 15;
/// A repeated queue's wait ends rather than ring for less than this.
const MIN_RING_SECONDS: i64 = 5;

/// What a queue announces on entry (and, with `announce_every_seconds`,
/// again while the caller waits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueAhead {
    /// Callers ringing the same agents before this one.
    pub ahead: usize,
    /// Their expected wait, from the department's recent talk times and its
    /// available agents; None without recent history.
    pub expected_wait_seconds: Option<i64>,
}

/// "You are number 3 in the queue. The expected wait is about 4 minutes."
pub fn position_announcement(q: QueueAhead) -> String {
    let mut text = format!("You are number {} in the queue.", q.ahead + 1);
    match q.expected_wait_seconds {
        Some(s) if s < 60 => text.push_str(" The expected wait is less than a minute."),
        Some(s) => {
            let minutes = (s + 59) / 60;
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            text.push_str(&format!(" The expected wait is about {minutes} {unit}."));
        }
        None => {}
    }
    text
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub state: CallState,
    pub instruction: Instruction,
    pub visits: Vec<Visit>,
    /// Set when an `api` node needs its answer: make the request, then run
    /// the same step again with the answer in [`Env::api_result`].
    pub needs_api: Option<ApiRequest>,
    /// Why something went wrong (logged; the caller still hears something).
    pub problem: Option<String>,
}

const GOODBYE: &str =
    "Sorry, we cannot take your call right now. Please call again later. Goodbye.";

/// Fills `{{caller}}`, `{{did}}`, `{{name}}` / `{{var.name}}` from the state.
pub fn template(text: &str, state: &CallState) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                out.push_str(&lookup(name, state).unwrap_or_default());
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The variable names `{{…}}` in `text` refers to.
pub fn template_vars(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// Variables every call has.
pub const BUILTIN_VARS: [&str; 3] = ["caller", "did", "call_id"];

fn lookup(name: &str, state: &CallState) -> Option<String> {
    let name = name.strip_prefix("var.").unwrap_or(name);
    match name {
        "caller" => state.caller.clone(),
        "did" => state.did.clone(),
        _ => state.vars.get(name).cloned(),
    }
}

fn speech(p: &Prompt, state: &CallState) -> Vec<Speech> {
    let mut out = Vec::new();
    if let Some(t) = p.say.as_deref().filter(|t| !t.trim().is_empty()) {
        out.push(Speech::Say {
            text: template(t, state),
            voice: p.voice.clone(),
            language: p.language.clone(),
        });
    }
    if let Some(u) = &p.audio_url {
        out.push(Speech::Play {
            url: template(u, state),
        });
    }
    out
}

fn speak(actions: &mut Vec<Action>, p: &Prompt, state: &CallState) {
    actions.extend(speech(p, state).into_iter().map(Action::Speak));
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Evaluates one decision condition.
pub fn evaluate(c: &Condition, state: &CallState, env: &dyn Env) -> bool {
    let now = env.now();
    let dept = c.department.as_deref();
    let subject: Option<Value> = match c.field.as_str() {
        "caller" => state.caller.clone().map(Value::String),
        "did" => state.did.clone().map(Value::String),
        "time" => {
            let (h, m, _) = env.local_time(dept, now);
            Some(Value::String(format!("{h:02}:{m:02}")))
        }
        "weekday" => {
            let (_, _, wd) = env.local_time(dept, now);
            Some(Value::String(
                crate::sla::DAYS
                    .get(wd as usize)
                    .copied()
                    .unwrap_or("mon")
                    .into(),
            ))
        }
        "business_hours" => Some(Value::Bool(dept.is_none_or(|d| env.business_open(d, now)))),
        "agents_available" => Some(Value::from(
            dept.map(|d| env.agents_available(d)).unwrap_or(0) as u64,
        )),
        f => {
            let name = f.strip_prefix("var.").unwrap_or(f);
            state.vars.get(name).cloned().map(Value::String)
        }
    };
    let value = c.value.clone().unwrap_or(Value::Null);
    let truthy = |v: &Value| match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no"
        ),
        Value::Null => false,
        _ => true,
    };
    let Some(subject) = subject else {
        return matches!(c.op.as_str(), "is_false" | "ne");
    };
    let s = as_text(&subject);
    let v = as_text(&value);
    match c.op.as_str() {
        "exists" => !s.is_empty(),
        "is_true" => truthy(&subject),
        "is_false" => !truthy(&subject),
        "eq" => match (&subject, &value) {
            (Value::Bool(a), b) => *a == truthy(b),
            _ => s == v || (as_f64(&subject).is_some() && as_f64(&subject) == as_f64(&value)),
        },
        "ne" => s != v,
        "starts_with" => s.starts_with(&v),
        "ends_with" => s.ends_with(&v),
        "contains" => s.contains(&v),
        "in" => value
            .as_array()
            .is_some_and(|a| a.iter().any(|x| as_text(x) == s)),
        "gt" | "gte" | "lt" | "lte" => {
            // Numbers compare as numbers, HH:MM and other text as text.
            let ord = match (as_f64(&subject), as_f64(&value)) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => Some(s.as_str().cmp(v.as_str())),
            };
            match (c.op.as_str(), ord) {
                ("gt", Some(o)) => o.is_gt(),
                ("gte", Some(o)) => o.is_ge(),
                ("lt", Some(o)) => o.is_lt(),
                ("lte", Some(o)) => o.is_le(),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Reads a dot path (`customer.name`, `items.0.id`) from a JSON answer.
pub fn json_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path
        .trim_start_matches("$.")
        .split('.')
        .filter(|p| !p.is_empty())
    {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Final call status for an exit reason: which queue the call lands in.
pub fn exit_status(reason: &str) -> crate::Status {
    use crate::Status;
    match reason {
        "completed" => Status::Completed,
        "voicemail" | "transfer_no_answer" => Status::Missed,
        _ => Status::Hangup,
    }
}

struct Run<'a> {
    flow: &'a FlowDef,
    env: &'a dyn Env,
    state: CallState,
    actions: Vec<Action>,
    visits: Vec<Visit>,
    needs_api: Option<ApiRequest>,
    problem: Option<String>,
}

impl<'a> Run<'a> {
    fn visit(&mut self, node: &str, ty: &str, edge: Option<&str>) {
        self.visits.push(Visit {
            node: node.to_string(),
            node_type: ty.to_string(),
            edge: edge.map(str::to_string),
            resumed: false,
            detail: None,
        });
    }

    fn resume(&mut self, node: &str, ty: &str, edge: Option<&str>) {
        self.visit(node, ty, edge);
        if let Some(v) = self.visits.last_mut() {
            v.resumed = true;
        }
    }

    fn goodbye(&mut self, why: String) {
        tracing::debug!(%why, "IVR goodbye");
        self.problem.get_or_insert(why);
        self.actions.push(Action::Speak(Speech::Say {
            text: GOODBYE.into(),
            voice: None,
            language: None,
        }));
        self.actions.push(Action::Hangup);
        self.state.node = None;
        self.state.ended = true;
        self.state
            .exit_reason
            .get_or_insert_with(|| "ivr_error".into());
    }

    /// Leaves the waiting node by `edge` to `target` (or says goodbye when
    /// the edge is not set).
    fn leave(&mut self, from: &str, edge: &str, target: Option<&str>) {
        if let Some(last) = self.visits.last_mut() {
            if last.node == from && last.edge.is_none() {
                last.edge = Some(edge.to_string());
            }
        }
        self.state.attempts = 0;
        match target {
            Some(t) => self.walk(t.to_string()),
            None => {
                let why = format!("node `{from}` has no `{edge}` edge");
                self.goodbye(why)
            }
        }
    }

    /// Runs nodes from `id` until one waits, the call ends, or an `api`
    /// node needs its answer.
    fn walk(&mut self, start: String) {
        let mut id = start;
        for _ in 0..MAX_HOPS {
            let Some(node) = self.flow.node(&id) else {
                self.goodbye(format!("node `{id}` does not exist"));
                return;
            };
            let ty = node.kind.type_name();
            let next: Option<(&str, Option<&String>)> = match &node.kind {
                NodeKind::Welcome { prompt, next } | NodeKind::Play { prompt, next } => {
                    speak(&mut self.actions, prompt, &self.state);
                    Some(("next", next.as_ref()))
                }
                NodeKind::Callback { prompt, next } => {
                    speak(&mut self.actions, prompt, &self.state);
                    self.state.exit_reason = Some("callback_requested".into());
                    Some(("next", next.as_ref()))
                }
                NodeKind::Sms { text, to, next } => {
                    let to = to
                        .as_deref()
                        .map(|t| template(t, &self.state))
                        .or_else(|| self.state.caller.clone())
                        .unwrap_or_default();
                    self.actions.push(Action::Sms {
                        to,
                        text: template(text, &self.state),
                    });
                    Some(("next", next.as_ref()))
                }
                NodeKind::Decision { rules, otherwise } => {
                    let mut taken: Option<(String, &String)> = None;
                    for (i, r) in rules.iter().enumerate() {
                        if evaluate(&r.condition, &self.state, self.env) {
                            taken = Some((format!("rules[{i}]"), &r.next));
                            break;
                        }
                    }
                    match taken {
                        Some((edge, t)) => {
                            self.visit(&id, ty, Some(&edge));
                            id = t.clone();
                            continue;
                        }
                        None => Some(("else", otherwise.as_ref())),
                    }
                }
                NodeKind::Api {
                    method,
                    url,
                    headers,
                    body,
                    timeout_ms,
                    assign,
                    next,
                    on_error,
                } => match self.env.api_result(&id) {
                    None => {
                        self.needs_api = Some(ApiRequest {
                            node: id.clone(),
                            method: method.clone(),
                            url: template(url, &self.state),
                            headers: headers
                                .iter()
                                .map(|(k, v)| (k.clone(), template(v, &self.state)))
                                .collect(),
                            body: body.as_deref().map(|b| template(b, &self.state)),
                            timeout_ms: (*timeout_ms).min(3000),
                        });
                        return;
                    }
                    Some(ApiOutcome::Ok { body }) => {
                        for (var, path) in assign {
                            if let Some(v) = json_path(&body, path) {
                                self.state.vars.insert(var.clone(), as_text(v));
                            }
                        }
                        Some(("next", next.as_ref()))
                    }
                    Some(ApiOutcome::Failed { error }) => {
                        self.problem = Some(format!("api node `{id}`: {error}"));
                        match on_error {
                            Some(t) => Some(("on_error", Some(t))),
                            // No error edge: carry on as if the lookup found nothing.
                            None => Some(("next", next.as_ref())),
                        }
                    }
                },
                NodeKind::Menu {
                    prompt,
                    options,
                    timeout_seconds,
                    ..
                } => {
                    let max = options.keys().map(|k| k.len() as u32).max().unwrap_or(1);
                    self.actions.push(Action::Gather {
                        prompt: speech(prompt, &self.state),
                        min_digits: 1,
                        max_digits: max.max(1),
                        finish_on_key: "#".into(),
                        timeout_seconds: *timeout_seconds,
                    });
                    self.wait(&id, ty);
                    return;
                }
                NodeKind::Gather {
                    prompt,
                    min_digits,
                    max_digits,
                    finish_on_key,
                    timeout_seconds,
                    ..
                } => {
                    self.actions.push(Action::Gather {
                        prompt: speech(prompt, &self.state),
                        min_digits: *min_digits,
                        max_digits: *max_digits,
                        finish_on_key: finish_on_key.clone(),
                        timeout_seconds: *timeout_seconds,
                    });
                    self.wait(&id, ty);
                    return;
                }
                NodeKind::Queue {
                    on_timeout,
                    max_wait_seconds,
                    ..
                } => {
                    self.state.queue_since = Some(self.env.now());
                    if self.ring_queue(&node.kind, true, *max_wait_seconds) {
                        self.wait(&id, ty);
                        return;
                    }
                    Some(("on_timeout", on_timeout.as_ref()))
                }
                NodeKind::Transfer {
                    prompt,
                    department,
                    number,
                    timeout_seconds,
                    on_no_answer,
                } => {
                    let numbers = match (number, department) {
                        (Some(n), _) => vec![template(n, &self.state)],
                        (None, Some(d)) => self.env.agent_numbers(d),
                        (None, None) => Vec::new(),
                    };
                    if numbers.is_empty() {
                        Some(("on_no_answer", on_no_answer.as_ref()))
                    } else {
                        speak(&mut self.actions, prompt, &self.state);
                        self.actions.push(Action::Dial {
                            numbers,
                            timeout_seconds: *timeout_seconds,
                            music_url: None,
                            caller_id: self.state.did.clone(),
                        });
                        self.wait(&id, ty);
                        return;
                    }
                }
                NodeKind::Record {
                    prompt,
                    max_seconds,
                    finish_on_key,
                    ..
                } => {
                    speak(&mut self.actions, prompt, &self.state);
                    self.actions.push(Action::Record {
                        max_seconds: *max_seconds,
                        finish_on_key: finish_on_key.clone(),
                    });
                    self.wait(&id, ty);
                    return;
                }
                NodeKind::Hangup { prompt } => {
                    speak(&mut self.actions, prompt, &self.state);
                    self.actions.push(Action::Hangup);
                    self.visit(&id, ty, None);
                    self.state.node = Some(id.clone());
                    self.state.ended = true;
                    self.state
                        .exit_reason
                        .get_or_insert_with(|| "completed".into());
                    return;
                }
            };
            let Some((edge, target)) = next else { return };
            self.visit(&id, ty, Some(edge));
            match target {
                Some(t) => id = t.clone(),
                None => {
                    // A node without its next edge ends the call politely.
                    self.actions.push(Action::Hangup);
                    self.state.node = Some(id.clone());
                    self.state.ended = true;
                    self.state
                        .exit_reason
                        .get_or_insert_with(|| "completed".into());
                    return;
                }
            }
        }
        self.goodbye(format!("more than {MAX_HOPS} nodes in one step (a loop?)"));
    }

    fn wait(&mut self, id: &str, ty: &str) {
        self.visit(id, ty, None);
        self.state.node = Some(id.to_string());
    }

    /// Replays the waiting node, or leaves it by `edge` once its replays are used up.
    /// Rings a queue's agents for at most `left` seconds (a slice of
    /// `announce_every_seconds` when set), after its prompt on entry and its
    /// position announcement. False when no agent can be rung.
    fn ring_queue(&mut self, kind: &NodeKind, entry: bool, left: u32) -> bool {
        let NodeKind::Queue {
            prompt,
            department,
            hold_music_url,
            announce_position,
            announce_every_seconds,
            ..
        } = kind
        else {
            return false;
        };
        let numbers = self.env.agent_numbers(department);
        if numbers.is_empty() {
            return false;
        }
        if entry {
            speak(&mut self.actions, prompt, &self.state);
        }
        if *announce_position {
            // In the prompt's voice and language.
            self.actions.push(Action::Speak(Speech::Say {
                text: position_announcement(self.env.queue_ahead(department)),
                voice: prompt.voice.clone(),
                language: prompt.language.clone(),
            }));
        } else if !entry {
            // Without a position to give, the prompt again says the caller
            // is still in line rather than ringing on in silence.
            speak(&mut self.actions, prompt, &self.state);
        }
        let slice = announce_every_seconds.map_or(left, |every| every.min(left));
        self.actions.push(Action::Dial {
            numbers,
            timeout_seconds: slice,
            music_url: hold_music_url.clone(),
            caller_id: self.state.did.clone(),
        });
        true
    }

    fn retry(&mut self, id: &str, retries: u32, edge: &str, target: Option<&str>) {
        if self.state.attempts < retries {
            self.state.attempts += 1;
            let attempts = self.state.attempts;
            if let Some(last) = self.visits.last_mut() {
                last.edge = Some(format!("{edge}:retry"));
            }
            self.walk(id.to_string());
            self.state.attempts = attempts;
        } else {
            self.leave(id, edge, target);
        }
    }
}

/// Runs one step of `flow` for the call in `state` on `event`.
pub fn step(flow: &FlowDef, state: &CallState, event: &IvrEvent, env: &dyn Env) -> Step {
    let mut run = Run {
        flow,
        env,
        state: state.clone(),
        actions: Vec::new(),
        visits: Vec::new(),
        needs_api: None,
        problem: None,
    };
    run.state.step += 1;
    if run.state.ended {
        if !matches!(event, IvrEvent::Hangup) {
            run.actions.push(Action::Hangup);
        }
        return run.finish();
    }
    if let IvrEvent::Hangup = event {
        run.state.ended = true;
        let reason = match (&run.state.exit_reason, run.state.answered) {
            (Some(r), _) => r.clone(),
            (None, true) => "completed".into(),
            (None, false) => match run
                .state
                .node
                .as_deref()
                .and_then(|n| flow.node(n))
                .map(|n| n.kind.type_name())
            {
                Some("queue") => "queue_abandon".into(),
                Some("transfer") => "transfer_no_answer".into(),
                _ => "ivr_abandon".into(),
            },
        };
        if let Some(n) = run.state.node.clone() {
            let ty = flow.node(&n).map_or("", |x| x.kind.type_name()).to_string();
            run.resume(&n, &ty, Some("hangup"));
        }
        run.state.exit_reason = Some(reason);
        return run.finish();
    }
    let current = run.state.node.clone();
    let Some(current) = current else {
        // No node yet: every event starts the call at the entry.
        let entry = flow.entry.clone();
        run.walk(entry);
        return run.finish();
    };
    let Some(node) = flow.node(&current) else {
        run.goodbye(format!(
            "the call's node `{current}` is not in its flow version"
        ));
        return run.finish();
    };
    let ty = node.kind.type_name();
    run.resume(&current, ty, None);
    match (&node.kind, event) {
        (
            NodeKind::Menu {
                options,
                retries,
                on_invalid,
                ..
            },
            IvrEvent::Digits { digits },
        ) => {
            let key = digits.trim().trim_end_matches('#');
            match options.get(key) {
                Some(t) => {
                    let t = t.clone();
                    run.leave(&current, &format!("options.{key}"), Some(&t));
                }
                None => run.retry(&current, *retries, "on_invalid", on_invalid.as_deref()),
            }
        }
        (
            NodeKind::Menu {
                retries,
                on_timeout,
                ..
            },
            IvrEvent::Timeout,
        ) => run.retry(&current, *retries, "on_timeout", on_timeout.as_deref()),
        (
            NodeKind::Gather {
                min_digits,
                max_digits,
                finish_on_key,
                retries,
                variable,
                next,
                on_timeout,
                ..
            },
            IvrEvent::Digits { digits },
        ) => {
            let d = digits.trim().trim_end_matches(finish_on_key.as_str());
            let n = d.chars().count() as u32;
            let ok = d.chars().all(|c| c.is_ascii_digit() || c == '*')
                && n >= *min_digits
                && n <= *max_digits;
            if ok {
                run.state.vars.insert(variable.clone(), d.to_string());
                run.leave(&current, "next", next.as_deref());
            } else {
                let target = on_timeout.as_deref().or(next.as_deref());
                run.retry(&current, *retries, "on_invalid", target);
            }
        }
        (
            NodeKind::Gather {
                retries,
                on_timeout,
                next,
                ..
            },
            IvrEvent::Timeout,
        ) => {
            let target = on_timeout.as_deref().or(next.as_deref());
            run.retry(&current, *retries, "on_timeout", target)
        }
        (
            NodeKind::Queue {
                on_timeout,
                announce_every_seconds,
                max_wait_seconds,
                ..
            },
            IvrEvent::Dialed { answered },
        ) => {
            if *answered {
                run.agent_answered(&current);
            } else {
                let waited = run
                    .state
                    .queue_since
                    .map_or(i64::MAX, |t| (env.now() - t).num_seconds().max(0));
                let left = i64::from(*max_wait_seconds).saturating_sub(waited);
                // A slice too short to be worth ringing ends the wait.
                let again = announce_every_seconds.is_some() && left >= MIN_RING_SECONDS;
                let left = u32::try_from(left).unwrap_or(0);
                if again && run.ring_queue(&node.kind, false, left) {
                    // Still the same wait: no new visit, so the node's
                    // analytics count one entry and its whole time.
                    run.visits.pop();
                } else {
                    run.leave(&current, "on_timeout", on_timeout.as_deref());
                }
            }
        }
        (NodeKind::Transfer { on_no_answer, .. }, IvrEvent::Dialed { answered }) => {
            if *answered {
                run.agent_answered(&current);
            } else {
                if on_no_answer.is_none() {
                    run.state.exit_reason = Some("transfer_no_answer".into());
                }
                run.leave(&current, "on_no_answer", on_no_answer.as_deref());
            }
        }
        (NodeKind::Record { next, .. }, IvrEvent::Recorded { url }) => {
            if let Some(u) = url {
                run.state.vars.insert("recording_url".into(), u.clone());
            }
            run.state.exit_reason = Some("voicemail".into());
            run.leave(&current, "next", next.as_deref());
        }
        (NodeKind::Record { next, .. }, IvrEvent::Timeout | IvrEvent::Continue) => {
            run.leave(&current, "next", next.as_deref());
        }
        // Anything else at a waiting node (a key where none is asked, a
        // repeated start): the node is offered again, never silence.
        _ => {
            run.visits.clear();
            run.walk(current.clone());
        }
    }
    run.finish()
}

impl Run<'_> {
    fn agent_answered(&mut self, node: &str) {
        if let Some(last) = self.visits.last_mut() {
            last.edge = Some("answered".into());
        }
        let _ = node;
        self.state.answered = true;
        self.state.ended = true;
        self.state.exit_reason = Some("completed".into());
        self.actions.push(Action::Hangup);
    }

    fn finish(self) -> Step {
        Step {
            state: self.state,
            instruction: Instruction {
                actions: self.actions,
            },
            visits: self.visits,
            needs_api: self.needs_api,
            problem: self.problem,
        }
    }
}

/// An [`Env`] with fixed answers: the simulator's and the tests'.
#[derive(Debug, Clone, Default)]
pub struct FixedEnv {
    pub now: DateTime<Utc>,
    /// Departments outside business hours.
    pub closed: Vec<String>,
    /// Numbers per department (their available agents').
    pub numbers: BTreeMap<String, Vec<String>>,
    pub api: BTreeMap<String, ApiOutcome>,
    /// Minutes east of UTC for `time` rules.
    pub offset_minutes: i32,
    /// Queued callers per department, for position announcements.
    pub ahead: BTreeMap<String, QueueAhead>,
}

impl Env for FixedEnv {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn business_open(&self, department: &str, _at: DateTime<Utc>) -> bool {
        !self.closed.iter().any(|d| d == department)
    }
    fn local_time(&self, _department: Option<&str>, at: DateTime<Utc>) -> (u32, u32, u32) {
        let t = at + chrono::Duration::minutes(i64::from(self.offset_minutes));
        (t.hour(), t.minute(), t.weekday().num_days_from_monday())
    }
    fn agents_available(&self, department: &str) -> usize {
        self.numbers.get(department).map_or(0, Vec::len)
    }
    fn agent_numbers(&self, department: &str) -> Vec<String> {
        self.numbers.get(department).cloned().unwrap_or_default()
    }
    fn api_result(&self, node: &str) -> Option<ApiOutcome> {
        self.api.get(node).cloned()
    }
    fn queue_ahead(&self, department: &str) -> QueueAhead {
        self.ahead.get(department).copied().unwrap_or_default()
    }
}
