//! The Convoso API poller: backfills on demand and delta syncs on a
//! schedule, each record going through the provider's mapping and the same
//! ingestion as a webhook (so the UUID v5 call ids agree and a re-run only
//! finds duplicates). One run at a time per provider.

pub mod client;
pub mod recordings;

use crate::outbound::breaker::{Breaker, CircuitState};
use callboard_core::secrets::SecretStore;
use callboard_core::store::connectors::{self, RunReport};
use callboard_core::store::ingest::{self, Delivery, IngestResult, Received};
use callboard_core::store::providers::ProviderRuntime;
use callboard_core::{time, Store};
use chrono::{DateTime, Utc};
use client::{Client, FetchError};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Per provider: its circuit and its run lock.
#[derive(Default)]
struct Slot {
    breaker: Option<Arc<Mutex<Breaker>>>,
    running: Arc<tokio::sync::Mutex<()>>,
}

/// Every poller's live state.
#[derive(Default, Clone)]
pub struct Pollers {
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] callboard_core::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("a sync of this provider is already running")]
    Busy,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Circuit {
    pub state: CircuitState,
    /// Seconds until an open circuit lets a trial request through.
    pub retry_in_seconds: Option<u64>,
}

/// Convoso's time format for an instant, on the account's clock: Convoso
/// reads `start_time`/`end_time` in the account's time zone, which the
/// provider's mapping names (`$options.time_zone`); UTC when it names none.
fn convoso_time(t: DateTime<Utc>, zone: Option<chrono_tz::Tz>) -> String {
    match zone {
        Some(z) => t.with_timezone(&z).format("%Y-%m-%d %H:%M:%S").to_string(),
        None => t.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// A call-log record as a delivery of `provider` (method `POLL`), mapped
/// like a webhook body; None when it cannot be read as one.
fn delivery(provider: &ProviderRuntime, record: &Value, now: DateTime<Utc>) -> Option<Delivery> {
    let body = serde_json::to_vec(record).ok()?;
    Delivery::prepare(
        provider,
        Received {
            method: "POLL",
            content_type: Some("application/json"),
            body: &body,
            query: None,
            request_id: None,
            at: now,
            max_future_skew: None,
        },
    )
    .ok()
}

/// A delta sync is due when the interval has passed since the last run
/// started (or, before the first run, since the poller was configured).
pub fn is_due(c: &connectors::Connector, last_started: Option<&str>, now: DateTime<Utc>) -> bool {
    let since = last_started.unwrap_or(&c.updated_at);
    time::parse(since).is_none_or(|t| (now - t).num_seconds() >= c.interval_seconds)
}

/// Where a delta sync starts: the end of the last clean window (else one
/// interval ago), less the overlap for records Convoso writes late.
pub fn delta_from(c: &connectors::Connector, now: DateTime<Utc>) -> DateTime<Utc> {
    c.synced_until
        .as_deref()
        .and_then(time::parse)
        .unwrap_or(now - chrono::Duration::seconds(c.interval_seconds))
        - chrono::Duration::minutes(c.options.overlap_minutes)
}

impl Pollers {
    fn slot<T>(&self, slug: &str, f: impl FnOnce(&mut Slot) -> T) -> Option<T> {
        let mut map = self.slots.lock().ok()?;
        Some(f(map.entry(slug.to_string()).or_default()))
    }

    pub(crate) fn breaker(
        &self,
        slug: &str,
        o: &connectors::ConnectorOptions,
    ) -> Arc<Mutex<Breaker>> {
        let open_for = Duration::from_secs_f64(o.breaker_open_seconds);
        let make = || Breaker::new(o.breaker_failures, open_for, o.breaker_successes);
        self.slot(slug, |s| {
            let b = s
                .breaker
                .get_or_insert_with(|| Arc::new(Mutex::new(make())))
                .clone();
            if let Ok(mut g) = b.lock() {
                g.reconfigure(o.breaker_failures, open_for, o.breaker_successes);
            }
            b
        })
        .unwrap_or_else(|| Arc::new(Mutex::new(make())))
    }

    /// The circuit of `slug` at `now` (the store's clock).
    pub fn circuit(&self, slug: &str, now: DateTime<Utc>) -> Circuit {
        let b = self.slot(slug, |s| s.breaker.clone()).flatten();
        match b.and_then(|b| b.lock().ok().map(|mut g| (g.state(now), g.retry_at()))) {
            Some((state, at)) => Circuit {
                state,
                retry_in_seconds: at.map(|t| (t - now).num_seconds().max(0) as u64),
            },
            None => Circuit {
                state: CircuitState::Closed,
                retry_in_seconds: None,
            },
        }
    }

    pub fn is_running(&self, slug: &str) -> bool {
        self.slot(slug, |s| s.running.try_lock().is_err())
            .unwrap_or(false)
    }

    /// Runs one sync of `slug` over `[from, to)`, reporting progress as
    /// `(scanned, total)`. `kind` is `backfill` or `delta`.
    #[allow(clippy::too_many_arguments)]
    pub async fn run(
        &self,
        store: &Store,
        secrets: &Arc<SecretStore>,
        slug: &str,
        kind: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        progress: &(dyn Fn(i64, Option<i64>) + Send + Sync),
    ) -> Result<RunReport, RunError> {
        if from >= to {
            return Err(RunError::Invalid("`from` must be before `to`".into()));
        }
        let lock = self
            .slot(slug, |s| s.running.clone())
            .ok_or_else(|| RunError::Invalid("poller state unavailable".into()))?;
        let _guard = lock.try_lock().map_err(|_| RunError::Busy)?;
        let s = slug.to_string();
        let conf = store.read(move |c| connectors::get(c, &s)).await?;
        if conf.kind != "convoso" {
            return Err(RunError::Invalid(
                "this connector streams events live (Asterisk ARI): there is nothing to poll or backfill"
                    .into(),
            ));
        }
        // The secret store is a file: read it off the async threads.
        let (file, name) = (secrets.clone(), connectors::token_name(slug));
        let token = tokio::task::spawn_blocking(move || file.get(&name))
            .await
            .map_err(|e| RunError::Invalid(e.to_string()))?
            .map_err(|e| RunError::Invalid(e.to_string()))?
            .ok_or_else(|| {
                RunError::Invalid("no auth token is stored for this poller: set one first".into())
            })?;
        let provider = store
            .providers()
            .get(slug)
            .filter(|p| p.active)
            .ok_or_else(|| RunError::Invalid(format!("no active provider `{slug}`")))?;
        let breaker = self.breaker(slug, &conf.options);
        let mut client = Client::new(
            &conf.base_url,
            token,
            conf.options.clone(),
            breaker,
            store.clock().clone(),
        )
        .map_err(|e| RunError::Invalid(e.to_string()))?;

        let started = Instant::now();
        let mut report = RunReport {
            kind: kind.to_string(),
            window_from: Some(time::fmt(from)),
            window_to: Some(time::fmt(to)),
            started_at: time::fmt(store.now()),
            ..Default::default()
        };
        let zone = provider.mapping.time_zone();
        let (f, t) = (convoso_time(from, zone), convoso_time(to, zone));
        let mut offset = 0i64;
        loop {
            let page = match client.page(&f, &t, offset).await {
                Ok(p) => p,
                Err(e) => {
                    report.failed += 1;
                    report.error = Some(e.to_string());
                    if !matches!(e, FetchError::CircuitOpen(_)) {
                        tracing::warn!(provider = %slug, error = %e, "Convoso page failed");
                    }
                    break;
                }
            };
            let n = page.records.len() as i64;
            report.scanned += n;
            let now = store.now();
            let deliveries: Vec<Delivery> = page
                .records
                .iter()
                .filter_map(|r| delivery(&provider, r, now))
                .collect();
            report.failed += n - deliveries.len() as i64;
            let outcomes = store
                .write(move |w| {
                    deliveries
                        .into_iter()
                        .map(|d| ingest::ingest(w, d))
                        .collect::<callboard_core::Result<Vec<_>>>()
                })
                .await?;
            for o in outcomes {
                match o {
                    IngestResult::Applied { call, .. } if call.events_count <= 1 => {
                        report.inserted += 1
                    }
                    IngestResult::Applied { .. } => report.updated += 1,
                    IngestResult::Duplicate { .. } => {}
                    IngestResult::MappingFailed { .. } => report.failed += 1,
                }
            }
            progress(report.scanned, page.total);
            if n < conf.options.page_size || n == 0 {
                break;
            }
            offset += n;
        }
        report.duration_ms = started.elapsed().as_millis() as i64;
        report.finished_at = Some(time::fmt(store.now()));
        let synced = report.error.is_none().then(|| time::fmt(to));
        let s = slug.to_string();
        let r = report.clone();
        let saved = store
            .write(move |w| connectors::record_run(w, &s, &r, synced.as_deref()))
            .await?;
        tracing::info!(provider = %slug, kind, scanned = saved.scanned, inserted = saved.inserted,
            updated = saved.updated, failed = saved.failed, duration_ms = saved.duration_ms, "Convoso sync finished");
        Ok(saved)
    }

    /// One delta sync of `slug` now: from where the last clean window ended
    /// (less the overlap) to now. The schedule and "sync now" both run this.
    pub async fn delta(
        &self,
        store: &Store,
        secrets: &Arc<SecretStore>,
        slug: &str,
    ) -> Result<RunReport, RunError> {
        let s = slug.to_string();
        let c = store.read(move |c| connectors::get(c, &s)).await?;
        let now = store.now();
        self.run(
            store,
            secrets,
            slug,
            "delta",
            delta_from(&c, now),
            now,
            &|_, _| {},
        )
        .await
    }

    /// Delta syncs every provider whose interval has passed since its last
    /// run (or since it was configured), until `stop`.
    pub async fn schedule(
        self,
        store: Store,
        secrets: Arc<SecretStore>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let list = match store.read(connectors::list).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list pollers");
                    continue;
                }
            };
            for c in list
                .into_iter()
                .filter(|c| c.kind == "convoso" && c.enabled && c.has_auth_token)
            {
                let slug = c.department.clone();
                let s = slug.clone();
                let last = store
                    .read(move |conn| connectors::last_run(conn, &s))
                    .await
                    .ok()
                    .flatten();
                let now = store.now();
                if !is_due(&c, last.as_ref().map(|r| r.started_at.as_str()), now)
                    || self.is_running(&slug)
                {
                    continue;
                }
                let (pollers, store, secrets) = (self.clone(), store.clone(), secrets.clone());
                tokio::spawn(async move {
                    if let Err(e) = pollers.delta(&store, &secrets, &slug).await {
                        tracing::warn!(provider = %slug, error = %e, "delta sync could not run");
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callboard_core::store::connectors::{Connector, ConnectorOptions};

    #[test]
    fn the_poll_window_is_written_on_the_accounts_clock() {
        let t = time::parse("2024-07-15T13:00:00Z").unwrap();
        assert_eq!(convoso_time(t, None), "2024-07-15 13:00:00");
        // New York is on daylight time in July, standard time in January
        let ny = Some(chrono_tz::America::New_York);
        assert_eq!(convoso_time(t, ny), "2024-07-15 09:00:00");
        let w = time::parse("2024-01-15T13:00:00Z").unwrap();
        assert_eq!(convoso_time(w, ny), "2024-01-15 08:00:00");
    }

    fn connector(updated: &str, synced: Option<&str>) -> Connector {
        Connector {
            department: "c".into(),
            kind: "convoso".into(),
            base_url: "http://x".into(),
            has_auth_token: true,
            interval_seconds: 900,
            enabled: true,
            options: ConnectorOptions::default(),
            synced_until: synced.map(str::to_string),
            updated_at: updated.into(),
        }
    }

    #[test]
    fn a_delta_is_due_every_interval_and_overlaps_the_last_window() {
        let now = time::parse("2026-03-03T12:00:00Z").unwrap();
        let fresh = connector("2026-03-03T11:50:00.000Z", None);
        assert!(
            !is_due(&fresh, None, now),
            "a new poller waits one interval"
        );
        assert!(is_due(
            &connector("2026-03-03T11:45:00.000Z", None),
            None,
            now
        ));
        assert!(!is_due(&fresh, Some("2026-03-03T11:46:00.000Z"), now));
        assert!(is_due(&fresh, Some("2026-03-03T11:44:59.000Z"), now));
        // From one interval ago less the overlap, until something was synced…
        assert_eq!(
            time::fmt(delta_from(&fresh, now)),
            "2026-03-03T11:30:00.000Z"
        );
        // …then from the end of the last clean window less the overlap.
        let synced = connector("2026-03-01T00:00:00.000Z", Some("2026-03-03T11:50:00.000Z"));
        assert_eq!(
            time::fmt(delta_from(&synced, now)),
            "2026-03-03T11:35:00.000Z"
        );
    }
}
