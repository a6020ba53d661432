//! Readiness: `/readyz` says whether this receiver can take a delivery now
//! (writer alive and committing, disk space above the floor, schema current)
//! and how long ago each provider last delivered. `/healthz` (in `app`) only
//! says the process answers.

use crate::error::Json;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callboard_core::store::health;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// How long the heartbeat may take through the writer before it counts as stuck.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// Why not ready (empty when ready).
    pub reasons: Vec<String>,
    pub writer: WriterCheck,
    pub disk: Option<DiskCheck>,
    pub schema: SchemaCheck,
    /// Each active provider's newest delivery (information: a quiet provider
    /// does not make the receiver unready).
    pub providers: Vec<ProviderDelivery>,
    /// This instance's part in a cluster on PostgreSQL (absent on one machine).
    pub cluster: Option<ClusterCheck>,
    /// The certificate served with `--tls-cert` (absent without).
    pub tls: Option<TlsCheck>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TlsCheck {
    /// The certificate file (`--tls-cert`).
    pub certificate: String,
    /// The served certificate's end of validity (RFC 3339).
    pub expires_at: Option<String>,
    /// Whole days until then (negative once expired: not ready).
    pub days_left: Option<i64>,
    /// When the served pair was loaded (start, file change or SIGHUP).
    pub loaded_at: String,
    /// Why the last reload was refused (the previous pair is still served).
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClusterCheck {
    /// The writer reached PostgreSQL on its last try.
    pub connected: bool,
    /// This instance holds the leader lock: it runs the once-only jobs.
    pub leader: bool,
    /// The last log entry applied to this instance's copy.
    pub applied: i64,
    /// Why the last write to the shared log failed, until one succeeds.
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WriterCheck {
    pub ok: bool,
    /// Milliseconds the heartbeat took to commit.
    pub heartbeat_ms: Option<u64>,
    pub error: Option<String>,
    /// Writes waiting for the writer.
    pub queued: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiskCheck {
    pub ok: bool,
    pub free_bytes: u64,
    pub floor_bytes: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchemaCheck {
    pub ok: bool,
    pub version: Option<i64>,
    pub expected: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderDelivery {
    pub slug: String,
    pub last_delivery_at: Option<String>,
    /// Seconds since the last delivery.
    pub age_seconds: Option<i64>,
}

/// Free bytes for an unprivileged writer in the file system holding `dir`.
#[cfg(unix)]
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let st = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(not(unix))]
pub fn free_bytes(_dir: &Path) -> std::io::Result<u64> {
    Err(std::io::Error::other("not measured on this platform"))
}

/// Runs every readiness check.
pub async fn check(state: &AppState) -> Readiness {
    let store = &state.store;
    let mut reasons = Vec::new();

    let started = std::time::Instant::now();
    let writer = match tokio::time::timeout(HEARTBEAT_TIMEOUT, store.write(health::heartbeat)).await
    {
        Ok(Ok(())) => WriterCheck {
            ok: true,
            heartbeat_ms: Some(started.elapsed().as_millis() as u64),
            error: None,
            queued: store.writer_stats().queued(),
        },
        Ok(Err(e)) => WriterCheck {
            ok: false,
            heartbeat_ms: None,
            error: Some(format!("the writer cannot commit: {e}")),
            queued: store.writer_stats().queued(),
        },
        Err(_) => WriterCheck {
            ok: false,
            heartbeat_ms: None,
            error: Some(format!(
                "the writer did not commit a heartbeat within {} s",
                HEARTBEAT_TIMEOUT.as_secs()
            )),
            queued: store.writer_stats().queued(),
        },
    };
    if let Some(e) = &writer.error {
        reasons.push(e.clone());
    }

    let dir = store
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let floor = state.config.disk_floor_bytes;
    let disk = match tokio::task::spawn_blocking(move || free_bytes(&dir)).await {
        Ok(Ok(free)) => {
            let ok = free >= floor;
            if !ok {
                reasons.push(format!(
                    "{free} bytes free in the data directory, below the floor of {floor}"
                ));
            }
            Some(DiskCheck {
                ok,
                free_bytes: free,
                floor_bytes: floor,
            })
        }
        _ => None,
    };

    let (version, expected) = match store.read(health::schema_version).await {
        Ok((found, known)) => (Some(found), known),
        Err(e) => {
            reasons.push(format!("cannot read the schema version: {e}"));
            (None, callboard_core::store::migrate::known_version())
        }
    };
    let schema_ok = version == Some(expected);
    if version.is_some() && !schema_ok {
        reasons.push(format!(
            "schema version {} but this build expects {expected}",
            version.unwrap_or_default()
        ));
    }

    let now = store.now();
    let providers = match store.read(health::last_deliveries).await {
        Ok(rows) => rows
            .into_iter()
            .map(|(slug, at)| ProviderDelivery {
                age_seconds: at
                    .as_deref()
                    .and_then(callboard_core::time::parse)
                    .map(|t| (now - t).num_seconds().max(0)),
                slug,
                last_delivery_at: at,
            })
            .collect(),
        Err(e) => {
            reasons.push(format!("cannot read the providers: {e}"));
            Vec::new()
        }
    };

    let cluster = store.cluster_status().map(|c| {
        use std::sync::atomic::Ordering;
        ClusterCheck {
            connected: c.connected.load(Ordering::Acquire),
            leader: c.leader.load(Ordering::Acquire),
            applied: c.applied.load(Ordering::Acquire),
            error: c.error(),
        }
    });

    let tls = state.config.tls.as_ref().and_then(|certs| {
        let info = certs.info()?;
        let expires = info
            .not_after
            .and_then(|t| chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0));
        let days_left = expires.map(|t| (t - now).num_days());
        if let Some(t) = expires.filter(|t| *t <= now) {
            reasons.push(format!(
                "the TLS certificate expired at {}",
                callboard_core::time::fmt(t)
            ));
        }
        Some(TlsCheck {
            certificate: certs.files().cert.display().to_string(),
            expires_at: expires.map(callboard_core::time::fmt),
            days_left,
            loaded_at: callboard_core::time::fmt(info.loaded_at.into()),
            error: info.error,
        })
    });

    if !reasons.is_empty() {
        tracing::warn!(reasons = ?reasons, "not ready");
    }
    Readiness {
        status: if reasons.is_empty() {
            "ready"
        } else {
            "not_ready"
        }
        .into(),
        reasons,
        writer,
        disk,
        schema: SchemaCheck {
            ok: schema_ok,
            version,
            expected,
        },
        providers,
        cluster,
        tls,
    }
}

/// Whether this receiver can take deliveries now: 200 when ready, 503 with
/// the reasons when not. For load balancers and `systemd`/container checks.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let r = check(&state).await;
    let status = if r.reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r)).into_response()
}
