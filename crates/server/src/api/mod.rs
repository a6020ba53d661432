//! The console API under `/api`.

pub mod agents;
pub mod calls;
pub mod categories;
pub mod connectors;
pub mod dialpad;
pub mod events;
pub mod presets;
pub mod providers;
pub mod session;
pub mod stats;
pub mod users;

use crate::error::{ApiError, ApiResult};

/// An optional RFC 3339 parameter in the store's text form (UTC, millis), or
/// a 422 naming the parameter.
pub(crate) fn timestamp_param(value: Option<String>, name: &str) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(s) => callboard_core::time::parse(&s)
            .map(|t| Some(callboard_core::time::fmt(t)))
            .ok_or_else(|| ApiError::invalid(format!("{name} `{s}` is not an RFC 3339 timestamp"))),
    }
}
