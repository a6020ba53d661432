//! The flow model: nodes with typed fields and named edges. A node is
//! `{"id", "type", …fields}` (internally tagged by `type`); unknown fields are
//! refused. `position` and `label` are the editor's and never change how a
//! call runs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A flow as edited and as published (a version is an immutable copy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    pub name: String,
    /// The id of the node a call starts on (normally a `welcome`).
    pub entry: String,
    pub nodes: Vec<Node>,
}

impl FlowDef {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Where the editor draws a node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// One node: its id, the editor's placement, and its typed kind.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Node {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// Fields every node carries besides its kind's.
pub const COMMON_FIELDS: [&str; 3] = ["id", "position", "label"];

impl Node {
    /// Parses one node from JSON, refusing unknown types and fields.
    pub fn from_value(v: &Value) -> Result<Node, String> {
        Node::parse(v).map_err(|e| e.1)
    }

    /// [`Node::from_value`] with a validation code (`unknown_type`,
    /// `unknown_field`, `invalid_node`).
    pub fn parse(v: &Value) -> Result<Node, (&'static str, String)> {
        let bad = |m: &str| ("invalid_node", m.to_string());
        let obj = v
            .as_object()
            .ok_or_else(|| bad("a node must be a JSON object"))?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a node needs a string `id`"))?
            .to_string();
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a node needs a string `type`"))?;
        if !NODE_TYPES.contains(&ty) {
            return Err((
                "unknown_type",
                format!(
                    "unknown node type `{ty}`: use one of {}",
                    NODE_TYPES.join(", ")
                ),
            ));
        }
        let allowed = fields_of(ty);
        if let Some(k) = obj
            .keys()
            .find(|k| !COMMON_FIELDS.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
        {
            return Err((
                "unknown_field",
                format!(
                    "a `{ty}` node has no field `{k}` (it takes {})",
                    allowed[1..].join(", ")
                ),
            ));
        }
        let position = match obj.get("position") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                serde_json::from_value::<Position>(p.clone())
                    .map_err(|e| ("invalid_node", format!("position: {e}")))?,
            ),
        };
        let label = match obj.get("label") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("label must be a string")),
        };
        let rest: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !COMMON_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let kind = serde_json::from_value::<NodeKind>(Value::Object(rest))
            .map_err(|e| ("invalid_node", format!("`{ty}` node: {e}")))?;
        Ok(Node {
            id,
            position,
            label,
            kind,
        })
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Node::from_value(&v).map_err(serde::de::Error::custom)
    }
}

/// A spoken (text-to-speech) or recorded prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    /// Text to speak; may hold `{{caller}}`, `{{did}}`, `{{var}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub say: Option<String>,
    /// An audio file to play instead of (or after) the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// e.g. `en-IN`, `hi-IN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl Prompt {
    pub fn is_empty(&self) -> bool {
        self.say.as_deref().is_none_or(|s| s.trim().is_empty()) && self.audio_url.is_none()
    }
}

/// What a decision rule tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// `caller`, `did`, `time` (HH:MM in the department's time zone, else
    /// UTC), `weekday` (mon…sun), `business_hours` (the department's SLA
    /// hours: `true` when open), `agents_available` (how many of the
    /// department's agents are available), or `var.<name>`.
    pub field: String,
    /// `eq`, `ne`, `starts_with`, `ends_with`, `contains`, `in`, `gt`, `gte`,
    /// `lt`, `lte`, `exists`, `is_true`, `is_false`.
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
    /// The department for `business_hours`, `agents_available` and `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(rename = "if")]
    pub condition: Condition,
    pub next: String,
}

fn default_timeout() -> u32 {
    5
}
fn default_retries() -> u32 {
    2
}
fn default_min_digits() -> u32 {
    1
}
fn default_max_digits() -> u32 {
    1
}
fn default_finish() -> String {
    "#".into()
}
fn default_max_wait() -> u32 {
    120
}
fn default_ring() -> u32 {
    30
}
fn default_record() -> u32 {
    60
}
fn default_method() -> String {
    "GET".into()
}
fn default_api_timeout() -> u32 {
    2000
}

/// The node types. Edges are the fields holding node ids (`next`,
/// `options`, `on_*`, `rules[].next`, `else`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// The entry greeting: a `play` that starts a flow.
    Welcome {
        #[serde(flatten)]
        prompt: Prompt,
        next: Option<String>,
    },
    Play {
        #[serde(flatten)]
        prompt: Prompt,
        next: Option<String>,
    },
    /// Press a digit: `options` maps a key to the next node.
    Menu {
        #[serde(flatten)]
        prompt: Prompt,
        options: BTreeMap<String, String>,
        #[serde(default = "default_timeout")]
        timeout_seconds: u32,
        /// Replays after an invalid key or silence before `on_invalid` / `on_timeout`.
        #[serde(default = "default_retries")]
        retries: u32,
        on_invalid: Option<String>,
        on_timeout: Option<String>,
    },
    /// Collects digits into `variable`.
    Gather {
        #[serde(flatten)]
        prompt: Prompt,
        #[serde(default = "default_min_digits")]
        min_digits: u32,
        #[serde(default = "default_max_digits")]
        max_digits: u32,
        #[serde(default = "default_finish")]
        finish_on_key: String,
        #[serde(default = "default_timeout")]
        timeout_seconds: u32,
        #[serde(default = "default_retries")]
        retries: u32,
        variable: String,
        next: Option<String>,
        #[serde(default)]
        on_timeout: Option<String>,
    },
    Decision {
        rules: Vec<Rule>,
        #[serde(rename = "else")]
        otherwise: Option<String>,
    },
    /// Offers the call to the department's available agents.
    Queue {
        #[serde(flatten)]
        prompt: Prompt,
        department: String,
        #[serde(default)]
        hold_music_url: Option<String>,
        #[serde(default)]
        announce_position: bool,
        /// While waiting, the caller hears their (updated) place again this
        /// often: the agents ring in slices of this length, each followed by
        /// the announcement, until `max_wait_seconds` have passed. None: once,
        /// on entry.
        #[serde(default)]
        announce_every_seconds: Option<u32>,
        #[serde(default = "default_max_wait")]
        max_wait_seconds: u32,
        on_timeout: Option<String>,
    },
    /// To an agent of a department, or to a fixed number.
    Transfer {
        #[serde(flatten)]
        prompt: Prompt,
        #[serde(default)]
        department: Option<String>,
        #[serde(default)]
        number: Option<String>,
        #[serde(default = "default_ring")]
        timeout_seconds: u32,
        on_no_answer: Option<String>,
    },
    /// Voicemail.
    Record {
        #[serde(flatten)]
        prompt: Prompt,
        #[serde(default = "default_record")]
        max_seconds: u32,
        #[serde(default = "default_finish")]
        finish_on_key: String,
        next: Option<String>,
    },
    /// An HTTP request made by the receiver; the answer's fields go into variables.
    Api {
        #[serde(default = "default_method")]
        method: String,
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        body: Option<String>,
        #[serde(default = "default_api_timeout")]
        timeout_ms: u32,
        /// variable → dot path into the JSON answer (`customer.name`).
        #[serde(default)]
        assign: BTreeMap<String, String>,
        next: Option<String>,
        on_error: Option<String>,
    },
    /// A templated SMS to the caller.
    Sms {
        text: String,
        #[serde(default)]
        to: Option<String>,
        next: Option<String>,
    },
    /// "We will call you back": the caller lands in the hangup worklist
    /// with `exit_reason` `callback_requested`.
    Callback {
        #[serde(flatten)]
        prompt: Prompt,
        next: Option<String>,
    },
    Hangup {
        #[serde(flatten)]
        prompt: Prompt,
    },
}

/// Node type names, as in `type`.
pub const NODE_TYPES: [&str; 12] = [
    "welcome", "play", "menu", "gather", "decision", "queue", "transfer", "record", "api", "sms",
    "callback", "hangup",
];

/// The fields a node type accepts (besides `id`, `position`, `label`).
pub fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "welcome" | "play" | "callback" => {
            &["type", "say", "audio_url", "voice", "language", "next"]
        }
        "menu" => &[
            "type",
            "say",
            "audio_url",
            "voice",
            "language",
            "options",
            "timeout_seconds",
            "retries",
            "on_invalid",
            "on_timeout",
        ],
        "gather" => &[
            "type",
            "say",
            "audio_url",
            "voice",
            "language",
            "min_digits",
            "max_digits",
            "finish_on_key",
            "timeout_seconds",
            "retries",
            "variable",
            "next",
            "on_timeout",
        ],
        "decision" => &["type", "rules", "else"],
        "queue" => &[
            "type",
            "say",
            "audio_url",
            "voice",
            "language",
            "department",
            "hold_music_url",
            "announce_position",
            "announce_every_seconds",
            "max_wait_seconds",
            "on_timeout",
        ],
        "transfer" => &[
            "type",
            "say",
            "audio_url",
            "voice",
            "language",
            "department",
            "number",
            "timeout_seconds",
            "on_no_answer",
        ],
        "record" => &[
            "type",
            "say",
            "audio_url",
            "voice",
            "language",
            "max_seconds",
            "finish_on_key",
            "next",
        ],
        "api" => &[
            "type",
            "method",
            "url",
            "headers",
            "body",
            "timeout_ms",
            "assign",
            "next",
            "on_error",
        ],
        "sms" => &["type", "text", "to", "next"],
        "hangup" => &["type", "say", "audio_url", "voice", "language"],
        _ => &[],
    }
}

impl NodeKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Welcome { .. } => "welcome",
            NodeKind::Play { .. } => "play",
            NodeKind::Menu { .. } => "menu",
            NodeKind::Gather { .. } => "gather",
            NodeKind::Decision { .. } => "decision",
            NodeKind::Queue { .. } => "queue",
            NodeKind::Transfer { .. } => "transfer",
            NodeKind::Record { .. } => "record",
            NodeKind::Api { .. } => "api",
            NodeKind::Sms { .. } => "sms",
            NodeKind::Callback { .. } => "callback",
            NodeKind::Hangup { .. } => "hangup",
        }
    }

    /// Nodes that wait for the caller or the platform (a key, a dial, a
    /// recording): a loop must pass through one of them.
    pub fn takes_input(&self) -> bool {
        matches!(
            self,
            NodeKind::Menu { .. }
                | NodeKind::Gather { .. }
                | NodeKind::Queue { .. }
                | NodeKind::Transfer { .. }
                | NodeKind::Record { .. }
        )
    }

    /// The outgoing edges: (edge name, target id).
    pub fn edges(&self) -> Vec<(String, &str)> {
        fn put<'a>(out: &mut Vec<(String, &'a str)>, name: &str, t: &'a Option<String>) {
            if let Some(t) = t {
                out.push((name.to_string(), t.as_str()));
            }
        }
        let mut out: Vec<(String, &str)> = Vec::new();
        match self {
            NodeKind::Welcome { next, .. }
            | NodeKind::Play { next, .. }
            | NodeKind::Record { next, .. }
            | NodeKind::Sms { next, .. }
            | NodeKind::Callback { next, .. } => put(&mut out, "next", next),
            NodeKind::Menu {
                options,
                on_invalid,
                on_timeout,
                ..
            } => {
                put(&mut out, "on_invalid", on_invalid);
                put(&mut out, "on_timeout", on_timeout);
                for (k, v) in options {
                    out.push((format!("options.{k}"), v.as_str()));
                }
            }
            NodeKind::Gather {
                next, on_timeout, ..
            } => {
                put(&mut out, "next", next);
                put(&mut out, "on_timeout", on_timeout);
            }
            NodeKind::Decision { rules, otherwise } => {
                for (i, r) in rules.iter().enumerate() {
                    out.push((format!("rules[{i}]"), r.next.as_str()));
                }
                put(&mut out, "else", otherwise);
            }
            NodeKind::Queue { on_timeout, .. } => put(&mut out, "on_timeout", on_timeout),
            NodeKind::Transfer { on_no_answer, .. } => put(&mut out, "on_no_answer", on_no_answer),
            NodeKind::Api { next, on_error, .. } => {
                put(&mut out, "next", next);
                put(&mut out, "on_error", on_error);
            }
            NodeKind::Hangup { .. } => {}
        }
        out
    }

    /// The templated texts of the node (to find the variables they use).
    pub fn texts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let prompt = match self {
            NodeKind::Welcome { prompt, .. }
            | NodeKind::Play { prompt, .. }
            | NodeKind::Menu { prompt, .. }
            | NodeKind::Gather { prompt, .. }
            | NodeKind::Queue { prompt, .. }
            | NodeKind::Transfer { prompt, .. }
            | NodeKind::Record { prompt, .. }
            | NodeKind::Callback { prompt, .. }
            | NodeKind::Hangup { prompt } => Some(prompt),
            _ => None,
        };
        if let Some(p) = prompt {
            out.extend(p.say.as_deref());
            out.extend(p.audio_url.as_deref());
        }
        match self {
            NodeKind::Api {
                url, headers, body, ..
            } => {
                out.push(url);
                out.extend(headers.values().map(String::as_str));
                out.extend(body.as_deref());
            }
            NodeKind::Sms { text, to, .. } => {
                out.push(text);
                out.extend(to.as_deref());
            }
            NodeKind::Transfer {
                number: Some(n), ..
            } => out.push(n),
            _ => {}
        }
        out
    }
}
