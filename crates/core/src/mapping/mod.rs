//! The mapping engine: turns a provider's normalised payload into a call,
//! following the provider's `field_mapping` and `status_map`.
//!
//! `Mapping::compile` validates and compiles a provider's configuration once
//! (paths, JSONPath queries, transforms, status map); `Mapping::apply` then
//! maps each payload without re-parsing anything and without cloning the
//! payload. The format is documented for admins in `docs/MAPPING.md`.

mod lead;
mod options;
mod path;
mod phone;
pub mod plausible;
mod time;
mod transform;

pub use lead::{LeadError, MappedLead};
pub(crate) use transform::local_in;

use crate::status::Status;
use chrono::{DateTime, Utc};
use options::Options;
use path::PathExpr;
use serde_json::{Map, Value};
use std::collections::HashMap;
use transform::{Env, Transform, Val};

/// Why a provider's mapping configuration is unusable (rejected when the provider is saved).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum MappingError {
    #[error("field_mapping must be a JSON object of column → path")]
    NotAnObject,
    #[error("field_mapping.{field}: {message}")]
    Field { field: String, message: String },
    #[error("status_map: {0}")]
    StatusMap(String),
    #[error("field_mapping.$options: {0}")]
    Options(String),
}

/// The values a payload yields for our call columns.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MappedCall {
    /// The mapped call id; generated (`{slug}-{ulid}`) when `call_id` is not
    /// mapped; empty when it is mapped but missing (then `MapOutcome::error`
    /// is set).
    pub call_id: String,
    pub mobile_number: Option<String>,
    pub caller_name: Option<String>,
    pub did: Option<String>,
    pub direction: Option<String>,
    pub status: Option<Status>,
    pub raw_status: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub recording_url: Option<String>,
    pub metadata: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapOutcome {
    pub call: MappedCall,
    pub event_id: Option<String>,
    pub event_at: Option<DateTime<Utc>>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    pub unknown_status: bool,
}

pub struct MapContext<'a> {
    pub slug: &'a str,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    CallId,
    MobileNumber,
    CallerName,
    Did,
    Direction,
    Status,
    AgentId,
    AgentName,
    StartedAt,
    AnsweredAt,
    EndedAt,
    DurationSeconds,
    RecordingUrl,
    EventId,
    EventAt,
    Metadata,
}

/// How a target's value is finally converted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Time,
    Int,
    Json,
}

impl Target {
    fn from_name(name: &str) -> Target {
        match name {
            "call_id" => Target::CallId,
            "mobile_number" => Target::MobileNumber,
            "caller_name" => Target::CallerName,
            "did" => Target::Did,
            "direction" => Target::Direction,
            "status" => Target::Status,
            "agent_id" => Target::AgentId,
            "agent_name" => Target::AgentName,
            "started_at" => Target::StartedAt,
            "answered_at" => Target::AnsweredAt,
            "ended_at" => Target::EndedAt,
            "duration_seconds" => Target::DurationSeconds,
            "recording_url" => Target::RecordingUrl,
            "event_id" => Target::EventId,
            "event_at" => Target::EventAt,
            _ => Target::Metadata,
        }
    }

    fn kind(self) -> Kind {
        match self {
            Target::StartedAt | Target::AnsweredAt | Target::EndedAt | Target::EventAt => {
                Kind::Time
            }
            Target::DurationSeconds => Kind::Int,
            Target::Metadata => Kind::Json,
            _ => Kind::Text,
        }
    }
}

#[derive(Debug, Clone)]
struct FieldSpec {
    name: String,
    target: Target,
    path: Option<PathExpr>,
    to: Option<PathExpr>,
    transforms: Vec<Transform>,
    default: Option<Value>,
    required: bool,
    /// A metadata target ending in `_at` with no transform: parsed as `datetime`.
    auto_time: bool,
}

/// A compiled `field_mapping` + `status_map`.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// `call_id` first (when mapped), then the other fields; each field is
    /// one spec or several tried in order (a JSON array of specs).
    fields: Vec<Vec<FieldSpec>>,
    options: Options,
    call_id_mapped: bool,
    /// Lower-cased, trimmed raw status → canonical status.
    status_map: HashMap<String, Status>,
}

const SPEC_KEYS: &str = "path, transform, default, required, to";

fn field_err(field: &str, message: impl Into<String>) -> MappingError {
    MappingError::Field {
        field: field.to_string(),
        message: message.into(),
    }
}

fn compile_field(name: &str, spec: &Value) -> Result<Option<FieldSpec>, MappingError> {
    let target = Target::from_name(name);
    let mut field = FieldSpec {
        name: name.to_string(),
        target,
        path: None,
        to: None,
        transforms: Vec::new(),
        default: None,
        required: false,
        auto_time: false,
    };
    match spec {
        Value::Null => return Ok(None),
        Value::String(p) => {
            field.path = Some(PathExpr::parse(p).map_err(|e| field_err(name, e))?);
        }
        Value::Object(obj) => {
            for key in obj.keys() {
                if !matches!(
                    key.as_str(),
                    "path" | "transform" | "default" | "required" | "to"
                ) {
                    return Err(field_err(
                        name,
                        format!("unknown key `{key}` (expected {SPEC_KEYS})"),
                    ));
                }
            }
            field.default = obj.get("default").filter(|d| !d.is_null()).cloned();
            match obj.get("path") {
                None | Some(Value::Null) => {
                    if field.default.is_none() {
                        return Err(field_err(
                            name,
                            "`path` is required unless a `default` is given",
                        ));
                    }
                }
                Some(Value::String(p)) => {
                    field.path = Some(PathExpr::parse(p).map_err(|e| field_err(name, e))?);
                }
                Some(_) => return Err(field_err(name, "`path` must be a string")),
            }
            match obj.get("to") {
                None | Some(Value::Null) => {}
                Some(Value::String(p)) => {
                    field.to =
                        Some(PathExpr::parse(p).map_err(|e| field_err(name, format!("to: {e}")))?);
                }
                Some(_) => return Err(field_err(name, "`to` must be a string path")),
            }
            let names: Vec<&str> = match obj.get("transform") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|t| {
                        t.as_str().ok_or_else(|| {
                            field_err(name, "`transform` must be a string or an array of strings")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(field_err(
                        name,
                        "`transform` must be a string or an array of strings",
                    ))
                }
            };
            for t in names {
                field
                    .transforms
                    .push(Transform::parse(t).map_err(|e| field_err(name, e))?);
            }
            let between = field.transforms.contains(&Transform::SecondsBetween);
            if between && field.to.is_none() {
                return Err(field_err(
                    name,
                    "seconds_between needs a `to` path (the end timestamp)",
                ));
            }
            if !between && field.to.is_some() {
                return Err(field_err(
                    name,
                    "`to` is only used with the seconds_between transform",
                ));
            }
            if between && field.path.is_none() {
                return Err(field_err(
                    name,
                    "seconds_between needs a `path` (the start)",
                ));
            }
            field.required = match obj.get("required") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(field_err(name, "`required` must be true or false")),
            };
        }
        _ => {
            return Err(field_err(
                name,
                "expected a path string or an object with `path`",
            ))
        }
    }
    field.auto_time =
        target == Target::Metadata && name.ends_with("_at") && field.transforms.is_empty();
    Ok(Some(field))
}

/// `field_mapping.x: msg` → `field_mapping.x[i]: msg`.
fn prefix_err(e: MappingError, at: &str) -> MappingError {
    match e {
        MappingError::Field { field, message } => MappingError::Field {
            field: format!("{field}{at}"),
            message,
        },
        other => other,
    }
}

fn compile_status_map(status_map: &Value) -> Result<HashMap<String, Status>, MappingError> {
    let obj = match status_map {
        Value::Null => return Ok(HashMap::new()),
        Value::Object(o) => o,
        _ => {
            return Err(MappingError::StatusMap(
                "must be a JSON object of raw status → canonical status".to_string(),
            ))
        }
    };
    let mut map: HashMap<String, Status> = HashMap::with_capacity(obj.len());
    let mut originals: HashMap<String, &str> = HashMap::with_capacity(obj.len());
    for (key, value) in obj {
        let norm = key.trim().to_lowercase();
        if norm.is_empty() {
            return Err(MappingError::StatusMap("empty raw status key".to_string()));
        }
        let raw = value.as_str().ok_or_else(|| {
            MappingError::StatusMap(format!(
                "key `{key}`: the value must be a canonical status string"
            ))
        })?;
        let status: Status = raw
            .parse()
            .map_err(|e| MappingError::StatusMap(format!("key `{key}`: {e}")))?;
        if let Some(prev) = map.get(&norm) {
            if *prev != status {
                let other = originals.get(&norm).copied().unwrap_or_default();
                return Err(MappingError::StatusMap(format!(
                    "keys `{other}` and `{key}` are the same status (case-insensitive) but map to `{prev}` and `{status}`"
                )));
            }
        }
        originals.insert(norm.clone(), key.as_str());
        map.insert(norm, status);
    }
    Ok(map)
}

/// What a field yields for one payload.
enum Resolved<'a> {
    Value(Val<'a>),
    /// Nothing at the path (or the transforms found "not set").
    Missing,
    /// A transform or conversion failed; the message is already a warning.
    Failed(String),
}

impl Mapping {
    /// Validates and compiles a provider's `field_mapping` (an object of
    /// column → spec, or `null` for none) and `status_map` (an object of raw
    /// status → canonical status, or `null`).
    ///
    /// # Errors
    /// `NotAnObject` when `field_mapping` is neither an object nor null;
    /// `Field` for a bad path, transform or spec key; `StatusMap` for a value
    /// that is not a canonical status or for colliding keys.
    pub fn compile(field_mapping: &Value, status_map: &Value) -> Result<Mapping, MappingError> {
        let obj = match field_mapping {
            Value::Null => None,
            Value::Object(o) => Some(o),
            _ => return Err(MappingError::NotAnObject),
        };
        let mut fields = Vec::new();
        let mut call_id_mapped = false;
        let mut options = Options::default();
        for (name, spec) in obj.into_iter().flatten() {
            if name.trim().is_empty() {
                return Err(field_err(name, "empty column name"));
            }
            if name.starts_with('$') {
                if name != options::KEY {
                    return Err(field_err(
                        name,
                        format!("unknown setting (`$` keys are settings: {})", options::KEY),
                    ));
                }
                options = Options::compile(spec).map_err(MappingError::Options)?;
                continue;
            }
            let specs: Vec<FieldSpec> = match spec {
                Value::Array(items) if items.is_empty() => {
                    return Err(field_err(name, "an array of specs needs at least one"))
                }
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        if !matches!(item, Value::String(_) | Value::Object(_)) {
                            return Err(field_err(
                                name,
                                format!("[{i}]: expected a path string or an object with `path`"),
                            ));
                        }
                        if let Some(f) = compile_field(name, item)
                            .map_err(|e| prefix_err(e, &format!("[{i}]")))?
                        {
                            out.push(f);
                        }
                    }
                    out
                }
                _ => compile_field(name, spec)?.into_iter().collect(),
            };
            let Some(first) = specs.first() else { continue };
            if first.target == Target::CallId {
                call_id_mapped = true;
                fields.insert(0, specs);
            } else {
                fields.push(specs);
            }
        }
        Ok(Mapping {
            fields,
            options,
            call_id_mapped,
            status_map: compile_status_map(status_map)?,
        })
    }

    /// The zone the provider writes local times in (`$options.time_zone`).
    pub fn time_zone(&self) -> Option<chrono_tz::Tz> {
        self.options.defaults.zone
    }

    /// A phone number as this provider's calls store it: E.164 read in the
    /// provider's region (`$options.region`), else as received (trimmed);
    /// `None` when it has no digit at all.
    pub fn number(&self, raw: &str) -> Option<String> {
        match phone::e164(raw, self.options.defaults.region) {
            Ok(phone::Phone::Normalised(n)) => Some(n),
            Ok(phone::Phone::Kept { text, .. }) => Some(text),
            Err(_) => None,
        }
    }

    /// Whether the mapping has no fields at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Maps one normalised payload. Never fails and never panics: values that
    /// cannot be converted become warnings, missing required fields (and a
    /// mapped but missing `call_id`) become `MapOutcome::error`.
    pub fn apply(&self, payload: &Value, ctx: &MapContext<'_>) -> MapOutcome {
        let mut out = MapOutcome {
            call: MappedCall::default(),
            event_id: None,
            event_at: None,
            warnings: Vec::new(),
            error: None,
            unknown_status: false,
        };
        let mut missing: Vec<String> = Vec::new();
        let unwrapped = self.options.unwrap(payload, &mut out.warnings);
        let payload = unwrapped.as_ref().unwrap_or(payload);

        for specs in &self.fields {
            let Some(first) = specs.first() else { continue };
            let required = first.target == Target::CallId || specs.iter().any(|f| f.required);
            let mut failed: Option<String> = None;
            let mut found = None;
            for f in specs {
                let mut kept = Vec::new();
                match self.resolve(f, payload, &mut kept) {
                    Resolved::Value(v) => {
                        out.warnings
                            .extend(kept.into_iter().map(|w| format!("field {}: {w}", f.name)));
                        found = Some((f, v));
                        break;
                    }
                    Resolved::Missing => {}
                    Resolved::Failed(msg) => {
                        out.warnings.push(format!("field {}: {msg}", f.name));
                        failed.get_or_insert(msg);
                    }
                }
            }
            match found {
                Some((f, val)) => self.store(f, val, &mut out),
                None if required => {
                    let why = match failed {
                        Some(msg) => msg,
                        None => {
                            let at: Vec<&str> = specs
                                .iter()
                                .map(|f| f.path.as_ref().map_or("", |p| p.text()))
                                .collect();
                            format!("no value at `{}`", at.join("`, `"))
                        }
                    };
                    missing.push(format!("required field {}: {why}", first.name));
                }
                None => {}
            }
        }

        if !self.call_id_mapped {
            out.call.call_id = format!("{}-{}", ctx.slug, ulid::Ulid::new());
        }
        if out.call.duration_seconds.is_none() {
            if let (Some(a), Some(e)) = (out.call.answered_at, out.call.ended_at) {
                let secs = e.signed_duration_since(a).num_seconds();
                out.call.duration_seconds = (secs >= 0).then_some(secs);
            }
        }
        if !missing.is_empty() {
            out.error = Some(missing.join("; "));
        }
        out
    }

    /// Path (with fallbacks) → default → transforms → the target's conversion.
    fn resolve<'a>(
        &'a self,
        f: &'a FieldSpec,
        payload: &'a Value,
        warnings: &mut Vec<String>,
    ) -> Resolved<'a> {
        let found = f.path.as_ref().and_then(|p| p.resolve(payload));
        let mut val = found.map(Val::Ref);
        let mut env = Env {
            defaults: &self.options.defaults,
            warnings,
        };
        for t in &f.transforms {
            let Some(cur) = val else { break };
            // Ok(None): the transform found "not set" (epoch 0, no `to` value)
            val = match t.apply(cur, f.to.as_ref(), payload, &mut env) {
                Ok(next) => next,
                Err(e) => return Resolved::Failed(e),
            };
        }
        if val.is_none() {
            // the default is used as given, only the column's conversion applies
            val = f.default.as_ref().map(Val::Ref);
        }
        let Some(val) = val else {
            return Resolved::Missing;
        };
        let converted = match f.target.kind() {
            Kind::Time => match self.options.defaults.zone {
                // a bare local time in a column of times reads in the provider's zone
                Some(tz) if f.transforms.is_empty() => transform::zoned(&val, tz),
                _ => transform::to_time(&val).map(|t| t.map(Val::Time)),
            },
            Kind::Int => transform::to_int(&val).map(|i| Some(Val::Int(i))),
            // a blank string (e.g. `digits` of "anonymous") counts as no value
            Kind::Text => transform::text(&val)
                .map(|s| (!s.trim().is_empty()).then(|| Val::Str(s.into_owned()))),
            Kind::Json if f.auto_time => transform::to_time(&val).map(|t| t.map(Val::Time)),
            Kind::Json => Ok(Some(val)),
        };
        match converted {
            Ok(Some(v)) => Resolved::Value(v),
            Ok(None) => Resolved::Missing,
            Err(e) => Resolved::Failed(e),
        }
    }

    fn store(&self, f: &FieldSpec, val: Val<'_>, out: &mut MapOutcome) {
        let call = &mut out.call;
        match (f.target, val) {
            (Target::Metadata, v) => {
                let json = match v {
                    Val::Ref(j) => j.clone(),
                    Val::Str(s) => Value::String(s),
                    Val::Int(i) => Value::from(i),
                    Val::Time(t) => Value::String(transform::time_text(&t)),
                };
                call.metadata.insert(f.name.clone(), json);
            }
            (Target::StartedAt, Val::Time(t)) => call.started_at = Some(t),
            (Target::AnsweredAt, Val::Time(t)) => call.answered_at = Some(t),
            (Target::EndedAt, Val::Time(t)) => call.ended_at = Some(t),
            (Target::EventAt, Val::Time(t)) => out.event_at = Some(t),
            (Target::DurationSeconds, Val::Int(i)) => call.duration_seconds = Some(i),
            (Target::Status, Val::Str(s)) => {
                let raw = s.trim();
                if raw.is_empty() {
                    return;
                }
                let status = self
                    .status_map
                    .get(&raw.to_lowercase())
                    .copied()
                    .or_else(|| raw.parse::<Status>().ok());
                if status.is_none() {
                    out.unknown_status = true;
                    out.warnings.push(format!(
                        "unknown raw status `{raw}`: add it to the status map"
                    ));
                }
                call.status = status;
                call.raw_status = Some(raw.to_string());
            }
            (target, Val::Str(s)) => {
                let slot = match target {
                    Target::MobileNumber => &mut call.mobile_number,
                    Target::CallerName => &mut call.caller_name,
                    Target::Did => &mut call.did,
                    Target::Direction => &mut call.direction,
                    Target::AgentId => &mut call.agent_id,
                    Target::AgentName => &mut call.agent_name,
                    Target::RecordingUrl => &mut call.recording_url,
                    Target::EventId => &mut out.event_id,
                    Target::CallId => {
                        call.call_id = s;
                        return;
                    }
                    _ => return,
                };
                *slot = Some(s);
            }
            // resolve() converts every value to its target's kind
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
