//! The provider-wide settings of a mapping, kept in the field mapping itself
//! under `$options` so that they travel with it (presets, the replica, the
//! editor's JSON view) without a column of their own:
//!
//! ```json
//! "$options": { "region": "IN", "time_zone": "Asia/Kolkata", "json_field": "data" }
//! ```
//!
//! - `region`: national phone numbers are read in this region by `e164`
//!   without an argument (ISO code or country calling code).
//! - `time_zone`: local times written without an offset are read in this
//!   IANA zone by `datetime` without an argument and by time columns with no
//!   transform.
//! - `json_field`: a form (or query) field whose value is the JSON body, as
//!   Ozonetel's `data=%7B…%7D`; its object is mapped, with the other fields
//!   of the delivery added where it lacks them.

use super::phone;
use super::transform::Defaults;
use chrono_tz::Tz;
use serde_json::Value;

/// The reserved key in `field_mapping`.
pub(crate) const KEY: &str = "$options";

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Options {
    pub(crate) defaults: Defaults,
    pub(crate) json_field: Option<String>,
}

impl Options {
    pub(crate) fn compile(spec: &Value) -> Result<Options, String> {
        let obj = match spec {
            Value::Null => return Ok(Options::default()),
            Value::Object(o) => o,
            _ => return Err("expected an object of settings".to_string()),
        };
        let mut out = Options::default();
        for (key, value) in obj {
            let text = || {
                value
                    .as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| format!("`{key}` must be a non-empty string"))
            };
            match key.as_str() {
                "region" => {
                    out.defaults.region =
                        Some(phone::region(text()?).map_err(|e| format!("region: {e}"))?)
                }
                "time_zone" => {
                    let t = text()?;
                    out.defaults.zone = Some(t.parse::<Tz>().map_err(|_| {
                        format!(
                            "time_zone: `{t}` is not an IANA time zone (e.g. `America/New_York`)"
                        )
                    })?)
                }
                "json_field" => out.json_field = Some(text()?.to_string()),
                other => {
                    return Err(format!(
                        "unknown setting `{other}` (known: region, time_zone, json_field)"
                    ))
                }
            }
        }
        Ok(out)
    }

    /// The payload to map when `json_field` holds a JSON object as text;
    /// `None`: map the payload as it is. A field that is present but not a
    /// JSON object is mapped as sent, with a warning.
    pub(crate) fn unwrap(&self, payload: &Value, warnings: &mut Vec<String>) -> Option<Value> {
        let field = self.json_field.as_deref()?;
        let outer = payload.as_object()?;
        let raw = outer.get(field)?;
        let text = match raw {
            Value::String(s) => s,
            // already an object (a JSON delivery): nothing to unwrap
            Value::Object(o) => {
                let mut inner = o.clone();
                merge_rest(&mut inner, outer, field);
                return Some(Value::Object(inner));
            }
            _ => {
                warnings.push(format!("`{field}` is not JSON text: mapped as sent"));
                return None;
            }
        };
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(mut inner)) => {
                merge_rest(&mut inner, outer, field);
                Some(Value::Object(inner))
            }
            Ok(_) => {
                warnings.push(format!(
                    "`{field}` holds JSON that is not an object: mapped as sent"
                ));
                None
            }
            Err(e) => {
                warnings.push(format!("`{field}` is not valid JSON ({e}): mapped as sent"));
                None
            }
        }
    }
}

/// The delivery's other fields (a `token` query parameter, say), where the
/// unwrapped body has none of its own.
fn merge_rest(
    inner: &mut serde_json::Map<String, Value>,
    outer: &serde_json::Map<String, Value>,
    field: &str,
) {
    for (k, v) in outer {
        if k != field && !inner.contains_key(k) {
            inner.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_are_checked() {
        let o = Options::compile(
            &json!({"region": "91", "time_zone": "Asia/Kolkata", "json_field": "data"}),
        )
        .unwrap();
        assert_eq!(o.defaults.region, Some(phonenumber::country::Id::IN));
        assert_eq!(o.defaults.zone, Some(chrono_tz::Asia::Kolkata));
        assert_eq!(o.json_field.as_deref(), Some("data"));
        for bad in [
            json!({"region": "XX"}),
            json!({"time_zone": "+05:30"}),
            json!({"json_field": ""}),
            json!({"json_field": 3}),
            json!({"zone": "UTC"}),
            json!("IN"),
        ] {
            assert!(Options::compile(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_form_field_holding_json_is_the_body() {
        let o = Options::compile(&json!({"json_field": "data"})).unwrap();
        let mut w = Vec::new();
        let p = json!({"data": "{\"monitorUCID\":\"9\",\"Status\":\"Answered\"}", "token": "t"});
        assert_eq!(
            o.unwrap(&p, &mut w),
            Some(json!({"monitorUCID": "9", "Status": "Answered", "token": "t"}))
        );
        assert!(w.is_empty());
        assert_eq!(o.unwrap(&json!({"other": 1}), &mut w), None);
        assert!(w.is_empty());
        assert_eq!(o.unwrap(&json!({"data": "{oops"}), &mut w), None);
        assert_eq!(o.unwrap(&json!({"data": "[1]"}), &mut w), None);
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
