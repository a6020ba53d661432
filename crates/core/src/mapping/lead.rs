//! A platform's lead record (Convoso's lead webhook: lead created or
//! updated) read from a normalised payload. The field names are Convoso's
//! documented ones, not a per-provider mapping: the lead is a fixed shape,
//! and only the provider's `$options` (phone region, time zone, a form field
//! holding the JSON body) apply, exactly as they do to its calls.

use super::phone::{self, Phone};
use super::transform::{self, Val};
use super::Mapping;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The values of one lead delivery.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MappedLead {
    /// The platform's lead id (`lead_id`, else `id`), as text.
    pub lead_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164 when valid (with `phone_code` when sent, else in the
    /// provider's region), else as received (with a warning).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub status_name: Option<String>,
    pub list_id: Option<String>,
    /// `owner_id`, else `user_id`: the agent the lead belongs to.
    pub owner_id: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// `modified_at`, else `last_modified`: orders the deliveries of a lead.
    pub modified_at: Option<DateTime<Utc>>,
    /// Values kept as received, each with why.
    pub warnings: Vec<String>,
}

/// Why a payload is not a lead: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadError {
    #[error("the lead delivery is not a JSON object or form")]
    NotAnObject,
    #[error("the lead delivery has no lead id: send `lead_id` (or `id`)")]
    MissingLeadId,
    #[error("`{field}`: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
}

fn field_err(field: &'static str, message: impl Into<String>) -> LeadError {
    LeadError::Field {
        field,
        message: message.into(),
    }
}

/// The first of `names` present with a value: text, or a number as written.
/// `null` and blank text count as absent; an object or array is an error.
fn text(
    obj: &Map<String, Value>,
    field: &'static str,
    names: &[&str],
) -> Result<Option<String>, LeadError> {
    for n in names {
        match obj.get(*n) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => {
                let t = s.trim();
                if !t.is_empty() {
                    return Ok(Some(t.to_string()));
                }
            }
            Some(Value::Number(num)) => return Ok(Some(transform::number_text(num))),
            Some(Value::Bool(b)) => return Ok(Some(b.to_string())),
            Some(other) => {
                return Err(field_err(
                    field,
                    format!(
                        "expected text or a number, got {}",
                        transform::describe(&Val::Ref(other))
                    ),
                ))
            }
        }
    }
    Ok(None)
}

impl Mapping {
    /// Reads a lead from a normalised payload with this provider's
    /// `$options`. Never panics; a missing lead id or an unreadable field is
    /// an error naming it, so nothing half-read is stored.
    pub fn map_lead(&self, payload: &Value) -> Result<MappedLead, LeadError> {
        let mut warnings = Vec::new();
        let unwrapped = self.options.unwrap(payload, &mut warnings);
        let payload = unwrapped.as_ref().unwrap_or(payload);
        let obj = payload.as_object().ok_or(LeadError::NotAnObject)?;
        let lead_id = text(obj, "lead_id", &["lead_id", "id"])?.ok_or(LeadError::MissingLeadId)?;
        let time = |field: &'static str, names: &[&str]| -> Result<_, LeadError> {
            let Some(raw) = text(obj, field, names)? else {
                return Ok(None);
            };
            let v = Value::String(raw);
            let read = match self.options.defaults.zone {
                Some(tz) => transform::zoned(&Val::Ref(&v), tz).map(|t| match t {
                    Some(Val::Time(t)) => Some(t),
                    _ => None,
                }),
                None => transform::to_time(&Val::Ref(&v)),
            };
            read.map_err(|e| field_err(field, e))
        };
        let created_at = time("created_at", &["created_at"])?;
        let modified_at = time("modified_at", &["modified_at", "last_modified"])?;
        let phone = match text(obj, "phone_number", &["phone_number"])? {
            None => None,
            Some(number) => {
                let code = text(obj, "phone_code", &["phone_code"])?;
                // A country code beside a national number makes it
                // international; a number already written with `+` keeps its own.
                let input = match code.as_deref().map(|c| c.trim_start_matches('+')) {
                    Some(c) if !number.starts_with('+') && !c.is_empty() => {
                        format!("+{c}{number}")
                    }
                    _ => number.clone(),
                };
                match phone::e164(&input, self.options.defaults.region) {
                    Ok(Phone::Normalised(n)) => Some(n),
                    Ok(Phone::Kept { text, warning }) => {
                        warnings.push(format!("phone_number: {warning}"));
                        Some(text)
                    }
                    // No digit at all (`anonymous`): no number to keep.
                    Err(e) => {
                        warnings.push(format!("phone_number: {e}"));
                        None
                    }
                }
            }
        };
        Ok(MappedLead {
            lead_id,
            first_name: text(obj, "first_name", &["first_name"])?,
            last_name: text(obj, "last_name", &["last_name"])?,
            phone,
            email: text(obj, "email", &["email"])?,
            status: text(obj, "status", &["status"])?,
            status_name: text(obj, "status_name", &["status_name"])?,
            list_id: text(obj, "list_id", &["list_id"])?,
            owner_id: text(obj, "owner_id", &["owner_id", "user_id"])?,
            address1: text(obj, "address1", &["address1"])?,
            city: text(obj, "city", &["city"])?,
            state: text(obj, "state", &["state"])?,
            postal_code: text(obj, "postal_code", &["postal_code"])?,
            created_at,
            modified_at,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(options: Value) -> Mapping {
        Mapping::compile(&json!({"$options": options, "call_id": "id"}), &Value::Null).unwrap()
    }

    #[test]
    fn reads_the_documented_fields() {
        let m = mapping(json!({"time_zone": "America/New_York"}));
        let l = m
            .map_lead(&json!({
                "id": 4711, "first_name": " Ada ", "last_name": "Lovelace",
                "phone_number": "2125550147", "phone_code": "1", "email": "ada@example.com",
                "status": "NEW", "status_name": "New lead", "list_id": 333, "user_id": "77",
                "created_at": "2026-03-03 09:00:00", "modified_at": "2026-03-03 10:15:00",
                "custom_field_1": "kept in the raw body only"
            }))
            .unwrap();
        assert_eq!(l.lead_id, "4711");
        assert_eq!(l.first_name.as_deref(), Some("Ada"));
        assert_eq!(l.phone.as_deref(), Some("+12125550147"));
        assert_eq!(l.list_id.as_deref(), Some("333"));
        assert_eq!(l.owner_id.as_deref(), Some("77"));
        // 10:15 in New York in March (EST, before the change) is 15:15 UTC.
        assert_eq!(
            l.modified_at.map(|t| t.to_rfc3339()),
            Some("2026-03-03T15:15:00+00:00".into())
        );
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn lead_id_wins_over_id_and_a_missing_one_is_an_error() {
        let m = mapping(Value::Null);
        let l = m
            .map_lead(&json!({"id": "call-9", "lead_id": "L1"}))
            .unwrap();
        assert_eq!(l.lead_id, "L1");
        assert_eq!(
            m.map_lead(&json!({"first_name": "Ada", "lead_id": " "})),
            Err(LeadError::MissingLeadId)
        );
        assert_eq!(m.map_lead(&json!(["x"])), Err(LeadError::NotAnObject));
    }

    #[test]
    fn an_unreadable_field_is_named() {
        let m = mapping(Value::Null);
        match m.map_lead(&json!({"lead_id": "1", "modified_at": "yesterday-ish"})) {
            Err(LeadError::Field { field, .. }) => assert_eq!(field, "modified_at"),
            other => panic!("{other:?}"),
        }
        match m.map_lead(&json!({"lead_id": "1", "email": {"a": 1}})) {
            Err(LeadError::Field { field, .. }) => assert_eq!(field, "email"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_national_number_is_read_in_the_region_and_an_invalid_one_kept() {
        let m = mapping(json!({"region": "IN"}));
        let l = m
            .map_lead(&json!({"lead_id": "1", "phone_number": "09876543210"}))
            .unwrap();
        assert_eq!(l.phone.as_deref(), Some("+919876543210"));
        let l = m
            .map_lead(&json!({"lead_id": "1", "phone_number": "12"}))
            .unwrap();
        assert_eq!(l.phone.as_deref(), Some("12"));
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    }
}
