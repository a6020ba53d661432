//! Click-to-call: calling a missed caller back through the department's
//! platform. The platform rings the agent's phone first, then connects the
//! customer, and reports how the customer leg ended to a status URL that
//! carries the attempt's own token.
//!
//! This module knows each platform's request and status shapes and nothing
//! of HTTP clients: [`request::build`] says what to send, [`status::parse`]
//! reads what comes back. Credentials never reach the database (they live in
//! the secret store), so the settings kept here are the public half.

pub mod request;
pub mod status;
pub mod vonage;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A platform Callboard can dial out through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DialerKind {
    /// Exotel "connect two numbers" (`/Calls/connect`).
    Exotel,
    /// Twilio Programmable Voice (`/Calls.json` with a `<Dial>`).
    Twilio,
    /// Plivo Voice (`/Call/` with an answer URL that dials the customer).
    Plivo,
    /// Knowlarity SuperReceptionist click-to-call (`makecall`).
    Knowlarity,
    /// Dialpad `POST /api/v2/call`: rings the Dialpad user's devices.
    Dialpad,
    /// Ozonetel CloudAgent manual dial (`AgentManualDial.php`).
    Ozonetel,
    /// Vonage Voice API (`/v1/calls` with an NCCO that connects the
    /// customer), signed with the application's key.
    Vonage,
}

impl DialerKind {
    pub const ALL: [DialerKind; 7] = [
        DialerKind::Exotel,
        DialerKind::Twilio,
        DialerKind::Plivo,
        DialerKind::Knowlarity,
        DialerKind::Dialpad,
        DialerKind::Ozonetel,
        DialerKind::Vonage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DialerKind::Exotel => "exotel",
            DialerKind::Twilio => "twilio",
            DialerKind::Plivo => "plivo",
            DialerKind::Knowlarity => "knowlarity",
            DialerKind::Dialpad => "dialpad",
            DialerKind::Ozonetel => "ozonetel",
            DialerKind::Vonage => "vonage",
        }
    }

    pub fn parse(s: &str) -> Option<DialerKind> {
        DialerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether Callboard sends texts through this platform (`request::sms`
    /// has its request), so a text is worth queueing at all.
    pub fn sends_sms(self) -> bool {
        !matches!(self, DialerKind::Knowlarity | DialerKind::Ozonetel)
    }

    /// What the platform offers, for the settings form and validation.
    pub fn spec(self) -> DialerSpec {
        let f = |name: &'static str, label: &'static str, required: bool| FieldSpec {
            name,
            label,
            required,
            secret: false,
            multiline: false,
        };
        let secret = |name: &'static str, label: &'static str| FieldSpec {
            name,
            label,
            required: true,
            secret: true,
            multiline: false,
        };
        let base = |url: &'static str| FieldSpec {
            name: "base_url",
            label: url,
            required: false,
            secret: false,
            multiline: false,
        };
        let (label, agent, reports_status, fields) = match self {
            DialerKind::Exotel => (
                "Exotel",
                AgentIdentity::Phone,
                true,
                vec![
                    f("account_sid", "Account SID", true),
                    f("api_key", "API key", true),
                    secret("api_token", "API token"),
                    f("caller_id", "ExoPhone (caller ID)", true),
                    base("https://api.exotel.com (or https://api.in.exotel.com)"),
                ],
            ),
            DialerKind::Twilio => (
                "Twilio",
                AgentIdentity::Phone,
                true,
                vec![
                    f("account_sid", "Account SID", true),
                    secret("auth_token", "Auth token"),
                    f("caller_id", "Twilio number (caller ID)", true),
                    base("https://api.twilio.com"),
                ],
            ),
            DialerKind::Plivo => (
                "Plivo",
                AgentIdentity::Phone,
                true,
                vec![
                    f("auth_id", "Auth ID", true),
                    secret("auth_token", "Auth token"),
                    f("caller_id", "Plivo number (caller ID)", true),
                    base("https://api.plivo.com"),
                ],
            ),
            DialerKind::Knowlarity => (
                "Knowlarity",
                AgentIdentity::Phone,
                false,
                vec![
                    f("k_number", "Knowlarity number", true),
                    f("caller_id", "Caller ID shown to the customer", false),
                    secret("api_key", "x-api-key"),
                    secret("sr_api_key", "SR API key (Authorization)"),
                    base("https://kpi.knowlarity.com"),
                ],
            ),
            DialerKind::Dialpad => (
                "Dialpad",
                AgentIdentity::UserId,
                false,
                vec![
                    secret("api_key", "API key"),
                    f("caller_id", "Outbound caller ID", false),
                    f(
                        "sms_user_id",
                        "User id missed-call texts are sent as (for texts)",
                        false,
                    ),
                    base("https://dialpad.com"),
                ],
            ),
            DialerKind::Ozonetel => (
                "Ozonetel CloudAgent",
                AgentIdentity::AgentId,
                false,
                vec![
                    f("username", "CloudAgent user name", true),
                    secret("api_key", "API key"),
                    f("campaign_name", "Campaign (manual dial)", true),
                    base("https://in1-cpaas.ozonetel.com"),
                ],
            ),
            DialerKind::Vonage => (
                "Vonage",
                AgentIdentity::Phone,
                true,
                vec![
                    f("application_id", "Application ID", true),
                    FieldSpec {
                        multiline: true,
                        ..secret("private_key", "Private key (the application's private.key)")
                    },
                    f("caller_id", "Vonage number (caller ID)", true),
                    base("https://api.nexmo.com"),
                ],
            ),
        };
        DialerSpec {
            kind: self,
            label,
            agent,
            reports_status,
            fields,
        }
    }

    fn default_base(self) -> &'static str {
        match self {
            DialerKind::Exotel => "https://api.exotel.com",
            DialerKind::Twilio => "https://api.twilio.com",
            DialerKind::Plivo => "https://api.plivo.com",
            DialerKind::Knowlarity => "https://kpi.knowlarity.com",
            DialerKind::Dialpad => "https://dialpad.com",
            DialerKind::Ozonetel => "https://in1-cpaas.ozonetel.com",
            DialerKind::Vonage => "https://api.nexmo.com",
        }
    }
}

/// What identifies the agent's end of the call on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentIdentity {
    /// The agent's phone number (desk phone, mobile, SIP number).
    Phone,
    /// The agent's user id on the platform (Dialpad).
    UserId,
    /// The agent's id on the platform, signed in to it (Ozonetel CloudAgent).
    AgentId,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Write-only: kept in the secret store, never returned.
    pub secret: bool,
    /// Several lines (a PEM key): a single-line input would drop its breaks.
    pub multiline: bool,
}

impl FieldSpec {
    /// A PEM key runs to a few thousand characters; anything else is short.
    fn max_chars(&self) -> usize {
        if self.multiline {
            10_000
        } else {
            500
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DialerSpec {
    pub kind: DialerKind,
    pub label: &'static str,
    pub agent: AgentIdentity,
    /// The platform reports each attempt's end to its status URL; the others
    /// report the call through the department's normal webhook.
    pub reports_status: bool,
    pub fields: Vec<FieldSpec>,
}

/// A department's dialer: the kind and its public fields. The secret fields
/// are passed beside it, from the secret store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DialerConfig {
    pub kind: DialerKind,
    /// The public fields the kind names (`account_sid`, `caller_id`, …).
    pub fields: BTreeMap<String, String>,
}

impl DialerConfig {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    pub fn base_url(&self) -> String {
        self.field("base_url")
            .unwrap_or(self.kind.default_base())
            .trim_end_matches('/')
            .to_string()
    }

    /// Refuses unknown and missing fields, a secret among the public fields,
    /// and a base URL that is not http(s).
    pub fn validate(&self) -> Result<()> {
        let spec = self.kind.spec();
        for name in self.fields.keys() {
            match spec.fields.iter().find(|f| f.name == name) {
                None => {
                    return Err(Error::invalid(format!(
                        "`{name}` is not a field of the {} dialer (it has {})",
                        spec.label,
                        spec.fields
                            .iter()
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
                Some(f) if f.secret => {
                    return Err(Error::invalid(format!(
                        "`{name}` is a secret: send it in `secrets`, it is never stored with the settings"
                    )))
                }
                Some(_) => {}
            }
        }
        for f in spec.fields.iter().filter(|f| f.required && !f.secret) {
            if self.field(f.name).is_none() {
                return Err(Error::invalid(format!(
                    "`{}` ({}) is required for the {} dialer",
                    f.name, f.label, spec.label
                )));
            }
        }
        for (name, v) in &self.fields {
            if v.chars().count() > 500 {
                return Err(Error::invalid(format!(
                    "`{name}` must be at most 500 characters"
                )));
            }
        }
        if let Some(id) = self.field("sms_user_id") {
            if !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::invalid(format!(
                    "sms_user_id `{id}` must be the Dialpad user's numeric id"
                )));
            }
        }
        if let Some(u) = self.field("base_url") {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(Error::invalid(format!(
                    "base_url `{u}` must start with https:// (or http:// on a private network)"
                )));
            }
        }
        Ok(())
    }
}

/// Checks the secrets given for `kind`: names it knows, non-empty values of
/// a sane length, and a private key that can sign (refused when saved, not
/// at the first call back).
pub fn validate_secrets(kind: DialerKind, secrets: &BTreeMap<String, String>) -> Result<()> {
    let spec = kind.spec();
    for (name, v) in secrets {
        let Some(f) = spec.fields.iter().find(|f| f.secret && f.name == name) else {
            return Err(Error::invalid(format!(
                "`{name}` is not a secret of the {} dialer",
                spec.label
            )));
        };
        let max = f.max_chars();
        if v.trim().is_empty() || v.chars().count() > max {
            return Err(Error::invalid(format!(
                "secret `{name}` must be 1-{max} characters"
            )));
        }
        if kind == DialerKind::Vonage && name == "private_key" {
            vonage::parse_private_key(v)
                .map_err(|e| Error::invalid(format!("private_key: the key is {e}")))?;
        }
    }
    Ok(())
}

/// The secret names `kind` needs that `secrets` lacks.
pub fn missing_secrets(kind: DialerKind, secrets: &BTreeMap<String, String>) -> Vec<&'static str> {
    kind.spec()
        .fields
        .iter()
        .filter(|f| f.secret && secrets.get(f.name).is_none_or(|v| v.trim().is_empty()))
        .map(|f| f.name)
        .collect()
}

/// The agent's end as the request gives it: a phone number (digits with an
/// optional leading `+`, separators dropped) or a platform id.
pub fn agent_endpoint(kind: DialerKind, raw: &str) -> Result<String> {
    let raw = raw.trim();
    match kind.spec().agent {
        AgentIdentity::Phone => {
            let plus = raw.starts_with('+');
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            let junk = raw
                .chars()
                .any(|c| !(c.is_ascii_digit() || " +-().".contains(c)));
            if junk || !(3..=15).contains(&digits.len()) {
                return Err(Error::invalid(format!(
                    "`{raw}` is not a phone number: give the phone to ring first (digits, optionally with + and the country code)"
                )));
            }
            Ok(if plus { format!("+{digits}") } else { digits })
        }
        AgentIdentity::UserId | AgentIdentity::AgentId => {
            if raw.is_empty()
                || raw.len() > 100
                || raw.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(Error::invalid(format!(
                    "`{raw}` is not a {} id: give your user id on the platform",
                    kind.spec().label
                )));
            }
            Ok(raw.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
