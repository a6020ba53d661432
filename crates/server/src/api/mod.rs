//! The console API under `/api`.

pub mod agent_ids;
pub mod agents;
pub mod calls;
pub mod categories;
pub mod cockpit;
pub mod connectors;
pub mod delivery_health;
pub mod dialers;
pub mod dialpad;
pub mod events;
pub mod export;
pub mod flows;
pub mod integrations;
pub mod leads;
pub mod metrics;
pub mod presets;
pub mod providers;
pub mod replica;
pub mod retention;
pub mod session;
pub mod sms;
pub mod stats;
pub mod users;
pub mod voicemails;

use crate::error::{ApiError, ApiResult};

/// An RFC 3339 parameter, or a 422 naming it.
pub(crate) fn timestamp(s: &str, name: &str) -> ApiResult<callboard_core::time::Timestamp> {
    callboard_core::time::parse(s)
        .ok_or_else(|| ApiError::invalid(format!("{name} `{s}` is not an RFC 3339 timestamp")))
}

/// An optional RFC 3339 parameter in the store's text form (UTC, millis), or
/// a 422 naming the parameter.
pub(crate) fn timestamp_param(value: Option<String>, name: &str) -> ApiResult<Option<String>> {
    value
        .map(|s| timestamp(&s, name).map(callboard_core::time::fmt))
        .transpose()
}
