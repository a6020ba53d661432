//! Provider presets: templates for the platforms offices use, shipped as
//! data files (`crates/core/presets/*.json`, embedded at build time) and
//! checked at start. A preset fills a new provider's mapping, status map and
//! authentication scheme; the provider is then edited like any other.

use crate::mapping::Mapping;
use crate::signature::AuthScheme;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::OnceLock;

/// The files, in the order `GET /api/presets` lists them.
const FILES: [(&str, &str); 17] = [
    ("generic", include_str!("../presets/generic.json")),
    ("exotel", include_str!("../presets/exotel.json")),
    ("knowlarity", include_str!("../presets/knowlarity.json")),
    ("ozonetel", include_str!("../presets/ozonetel.json")),
    ("kookoo", include_str!("../presets/kookoo.json")),
    ("cloudonix", include_str!("../presets/cloudonix.json")),
    ("dialpad", include_str!("../presets/dialpad.json")),
    ("convoso", include_str!("../presets/convoso.json")),
    ("twilio", include_str!("../presets/twilio.json")),
    ("telnyx", include_str!("../presets/telnyx.json")),
    ("aircall", include_str!("../presets/aircall.json")),
    ("freeswitch", include_str!("../presets/freeswitch.json")),
    ("ringcentral", include_str!("../presets/ringcentral.json")),
    ("plivo", include_str!("../presets/plivo.json")),
    ("asterisk", include_str!("../presets/asterisk.json")),
    ("vonage", include_str!("../presets/vonage.json")),
    ("3cx", include_str!("../presets/3cx.json")),
];

/// Files a preset hands the admin to install on the platform, by preset.
const TEMPLATES: [(&str, &str, &str, &str); 1] = [(
    "3cx",
    "callboard-3cx.xml",
    "application/xml",
    include_str!("../presets/3cx.xml"),
)];

/// A file to install on the platform (3CX's CRM template), with the
/// preset.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PresetTemplate {
    pub file_name: String,
    pub media_type: String,
    pub text: String,
}

/// Which secret the platform needs from the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// Callboard's API key (header, query token or Basic password).
    ApiKey,
    /// A signing secret Callboard generates, to paste into the platform.
    SigningSecret,
    /// A secret the platform issues (Twilio's auth token): paste it into Callboard.
    Platform,
}

/// One preset as listed by `GET /api/presets`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub id: String,
    pub name: String,
    /// For the admin: where to paste the URL and the secret on the platform.
    pub notes: String,
    /// Set when the preset could not be checked against a delivery the
    /// platform really sent: what it was built from, for the admin to check
    /// the first calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified: Option<String>,
    /// The authentication scheme (`{"scheme": …, options}`).
    #[schema(value_type = Object)]
    pub auth: Value,
    /// What the platform sends: json, form, query, jwt…
    pub body_format: String,
    /// `webhook` (the provider's own URL, default) or `session_update`
    /// (Cloudonix's shared `POST /api/session/update`).
    #[serde(default = "default_route")]
    pub route: String,
    pub secret: SecretKind,
    #[schema(value_type = Object)]
    pub field_mapping: Value,
    #[schema(value_type = Object)]
    pub status_map: Value,
    /// A file the admin installs on the platform, when the platform needs
    /// one (not in the preset's own file: attached at load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PresetTemplate>,
}

fn default_route() -> String {
    "webhook".into()
}

/// Why a shipped preset is unusable (a build defect, caught at start and by tests).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("preset {id}: {message}")]
pub struct PresetError {
    pub id: String,
    pub message: String,
}

fn load_one(file_id: &str, text: &str) -> Result<Preset, PresetError> {
    let err = |m: String| PresetError {
        id: file_id.to_string(),
        message: m,
    };
    let mut p: Preset = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
    if p.id != file_id {
        return Err(err(format!("file says id `{}`", p.id)));
    }
    if p.template.is_some() {
        return Err(err("`template` comes from its own file".into()));
    }
    p.template = TEMPLATES
        .iter()
        .find(|(id, ..)| *id == file_id)
        .map(|(_, name, media, text)| PresetTemplate {
            file_name: name.to_string(),
            media_type: media.to_string(),
            text: text.to_string(),
        });
    Mapping::compile(&p.field_mapping, &p.status_map).map_err(|e| err(e.to_string()))?;
    let scheme = AuthScheme::from_config(&p.auth).map_err(|e| err(e.to_string()))?;
    let needs_signing = matches!(p.secret, SecretKind::SigningSecret | SecretKind::Platform);
    if needs_signing != scheme.uses_signing_secret() {
        return Err(err(format!(
            "secret {:?} does not fit scheme {}",
            p.secret,
            scheme.name()
        )));
    }
    if !["webhook", "session_update"].contains(&p.route.as_str()) {
        return Err(err(format!("unknown route `{}`", p.route)));
    }
    Ok(p)
}

/// Parses and checks every shipped preset.
pub fn load() -> Result<Vec<Preset>, PresetError> {
    FILES.iter().map(|(id, text)| load_one(id, text)).collect()
}

static PRESETS: OnceLock<Result<Vec<Preset>, PresetError>> = OnceLock::new();

/// The shipped presets, parsed once. An error here is a packaging defect;
/// `callboard serve` calls this at start and refuses to run on one.
pub fn all() -> Result<&'static [Preset], PresetError> {
    match PRESETS.get_or_init(load) {
        Ok(v) => Ok(v.as_slice()),
        Err(e) => Err(e.clone()),
    }
}

pub fn get(id: &str) -> Option<&'static Preset> {
    all().ok()?.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_preset_is_valid() {
        let all = load().unwrap();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "generic",
                "exotel",
                "knowlarity",
                "ozonetel",
                "kookoo",
                "cloudonix",
                "dialpad",
                "convoso",
                "twilio",
                "telnyx",
                "aircall",
                "freeswitch",
                "ringcentral",
                "plivo",
                "asterisk",
                "vonage",
                "3cx"
            ]
        );
        assert!(get("twilio").is_some());
        assert!(get("nope").is_none());
    }

    #[test]
    fn a_bad_preset_is_refused() {
        let bad = r#"{"id":"x","name":"X","notes":"","auth":{"scheme":"twilio"},"body_format":"form","secret":"api_key","field_mapping":{},"status_map":{}}"#;
        assert!(load_one("x", bad).is_err());
        let typo = r#"{"id":"x","name":"X","notes":"","auth":{},"body_format":"json","secret":"api_key","field_mapping":{"call_id":{"path":"a","transfrom":"lower"}},"status_map":{}}"#;
        assert!(load_one("x", typo).is_err());
    }
}
