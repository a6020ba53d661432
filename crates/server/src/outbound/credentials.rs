//! A department's dialer credentials (API tokens) in the receiver's secret
//! store, as one JSON object per department: read by the click-to-call
//! routes and the text sender, written by the dialer settings.

use crate::error::{ApiError, ApiResult};
use axum::http::StatusCode;
use callboard_core::secrets::SecretStore;
use callboard_core::ErrorCode;
use std::collections::BTreeMap;
use std::sync::Arc;

fn secret_name(department: &str) -> String {
    format!("dialer:{department}")
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::StorageError,
        format!("secret store: {e}"),
    )
}

pub(crate) async fn read_secrets(
    store: Arc<SecretStore>,
    department: &str,
) -> ApiResult<BTreeMap<String, String>> {
    let name = secret_name(department);
    let raw = tokio::task::spawn_blocking(move || store.get(&name))
        .await
        .map_err(storage)?
        .map_err(storage)?;
    match raw {
        None => Ok(BTreeMap::new()),
        Some(s) => serde_json::from_str(&s).map_err(|e| storage(format!("dialer secrets: {e}"))),
    }
}

/// Each department's dialer secrets, from one read of the store.
pub(crate) async fn read_secrets_of(
    store: Arc<SecretStore>,
    departments: Vec<String>,
) -> ApiResult<BTreeMap<String, BTreeMap<String, String>>> {
    let names: Vec<String> = departments.iter().map(|d| secret_name(d)).collect();
    let raw = tokio::task::spawn_blocking(move || store.get_many(&names))
        .await
        .map_err(storage)?
        .map_err(storage)?;
    departments
        .into_iter()
        .map(|d| {
            let parsed = match raw.get(&secret_name(&d)).cloned().flatten() {
                None => BTreeMap::new(),
                Some(s) => serde_json::from_str(&s)
                    .map_err(|e| storage(format!("dialer secrets of {d}: {e}")))?,
            };
            Ok((d, parsed))
        })
        .collect()
}

pub(crate) async fn write_secrets(
    store: Arc<SecretStore>,
    department: &str,
    secrets: Option<BTreeMap<String, String>>,
) -> ApiResult<()> {
    let name = secret_name(department);
    let value = secrets
        .map(|s| serde_json::to_string(&s))
        .transpose()
        .map_err(storage)?;
    tokio::task::spawn_blocking(move || store.set(&name, value.as_deref()))
        .await
        .map_err(storage)?
        .map_err(storage)
}
