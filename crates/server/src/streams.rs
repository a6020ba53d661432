//! Event streams a connector follows instead of receiving webhooks
//! (Asterisk's ARI in `ari`, 3CX's Call Control API in `threecx`): one task
//! per enabled connector, restarted when its settings change, reconnecting
//! by itself (1 s, doubling to 30 s) after either side restarts; each event
//! goes through the provider's mapping exactly as a webhook delivery, and
//! the stream's state is part of the connector's health.

use callboard_core::secrets::SecretStore;
use callboard_core::store::connectors::{self, Connector};
use callboard_core::store::ingest::{self, Delivery, Received};
use callboard_core::time;
use callboard_core::Store;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Whether connectors of `kind` are event streams (the others are pollers).
pub fn is_stream(kind: &str) -> bool {
    kind == crate::ari::KIND || kind == crate::threecx::KIND
}

/// What the console shows of a stream.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct StreamHealth {
    pub connected: bool,
    /// Since when it is connected (or when it last failed).
    pub since: Option<String>,
    /// Events read since the process started.
    pub events: u64,
    /// Events the mapping could not use (in the ingestion log).
    pub failed: u64,
    /// Why the last connection ended or failed.
    pub last_error: Option<String>,
    /// Connection attempts since the last success.
    pub retries: u32,
}

struct Running {
    version: String,
    task: tokio::task::JoinHandle<()>,
}

/// Every stream's task and health.
#[derive(Clone, Default)]
pub struct Streams {
    health: Arc<Mutex<HashMap<String, StreamHealth>>>,
    running: Arc<Mutex<HashMap<String, Running>>>,
    /// 3CX's calls per department, kept when its task restarts (a new
    /// setting) so that the next snapshot ends what ended meanwhile.
    calls: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<crate::threecx::Calls>>>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Streams {
    fn calls_of(&self, slug: &str) -> Arc<tokio::sync::Mutex<crate::threecx::Calls>> {
        lock(&self.calls)
            .entry(slug.to_string())
            .or_default()
            .clone()
    }

    pub fn health(&self, slug: &str) -> Option<StreamHealth> {
        lock(&self.health).get(slug).cloned()
    }

    fn update(&self, slug: &str, f: impl FnOnce(&mut StreamHealth)) {
        f(lock(&self.health).entry(slug.to_string()).or_default());
    }

    /// Keeps one task per enabled stream connector (ARI, 3CX) with a stored
    /// credential, restarting it when its settings change, until `stop`.
    pub async fn supervise(
        self,
        store: Store,
        secrets: Arc<SecretStore>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => {
                    for (_, r) in lock(&self.running).drain() {
                        r.task.abort();
                    }
                    return;
                }
            }
            let Ok(list) = store.read(connectors::list).await else {
                continue;
            };
            let wanted: HashMap<String, Connector> = list
                .into_iter()
                .filter(|c| is_stream(&c.kind) && c.enabled && c.has_auth_token)
                .map(|c| (c.department.clone(), c))
                .collect();
            let mut running = lock(&self.running);
            running.retain(|slug, r| {
                let keep = wanted.get(slug).is_some_and(|c| c.updated_at == r.version)
                    && !r.task.is_finished();
                if !keep {
                    r.task.abort();
                }
                keep
            });
            for (slug, c) in wanted {
                if running.contains_key(&slug) {
                    continue;
                }
                let task = tokio::spawn(self.clone().follow(
                    store.clone(),
                    secrets.clone(),
                    slug.clone(),
                    c.kind.clone(),
                    c.base_url.clone(),
                ));
                running.insert(
                    slug,
                    Running {
                        version: c.updated_at,
                        task,
                    },
                );
            }
        }
    }

    /// Connects, reads, reconnects: forever (the supervisor aborts it).
    async fn follow(
        self,
        store: Store,
        secrets: Arc<SecretStore>,
        slug: String,
        kind: String,
        base: String,
    ) {
        let mut failures: u32 = 0;
        // 3CX's calls, kept across reconnections (`threecx::Calls`).
        let calls = self.calls_of(&slug);
        loop {
            let session = match credentials(&secrets, &slug).await {
                Err(e) => Err(e),
                Ok(c) if kind == crate::threecx::KIND => {
                    let mut calls = calls.lock().await;
                    crate::threecx::session(&self, &store, &c, &slug, &base, &mut calls).await
                }
                Ok(c) => crate::ari::session(&self, &store, &c, &slug, &base).await,
            };
            let why = match session {
                Ok(()) => "the platform closed the connection".to_string(),
                Err(e) => e,
            };
            failures = failures.saturating_add(1);
            let wait = Duration::from_secs((1u64 << failures.min(5).saturating_sub(1)).min(30));
            tracing::warn!(provider = %slug, kind = %kind, error = %why, retry_in_s = wait.as_secs(), "event stream down");
            self.update(&slug, |h| {
                h.connected = false;
                h.since = Some(time::fmt(store.now()));
                h.last_error = Some(why);
                h.retries = failures;
            });
            tokio::time::sleep(wait).await;
        }
    }

    pub(crate) fn connected(&self, slug: &str, store: &Store) {
        self.update(slug, |h| {
            h.connected = true;
            h.since = Some(time::fmt(store.now()));
            h.retries = 0;
        });
    }

    /// A document a connector made (3CX), through the provider's mapping.
    pub(crate) async fn ingest_json(
        &self,
        store: &Store,
        slug: &str,
        method: &'static str,
        doc: &serde_json::Value,
    ) -> Result<(), String> {
        let body = serde_json::to_vec(doc).map_err(|e| e.to_string())?;
        self.ingest(store, slug, method, &body).await
    }

    /// One event through the provider's mapping, stored before the next is
    /// read (so a restart loses at most the frame in flight, which ARI never
    /// replays: the stream is live only).
    pub(crate) async fn ingest(
        &self,
        store: &Store,
        slug: &str,
        method: &'static str,
        body: &[u8],
    ) -> Result<(), String> {
        let provider = store
            .providers()
            .get(slug)
            .filter(|p| p.active)
            .ok_or_else(|| format!("provider `{slug}` is inactive or gone"))?;
        let delivery = Delivery::prepare(
            &provider,
            Received {
                method,
                content_type: Some("application/json"),
                body,
                query: None,
                request_id: None,
                at: store.now(),
                max_future_skew: None,
            },
        );
        let failed = match delivery {
            Ok(d) => {
                let outcome = store
                    .write(move |w| ingest::ingest(w, d))
                    .await
                    .map_err(|e| format!("storing an event failed: {e}"))?;
                matches!(outcome, ingest::IngestResult::MappingFailed { .. })
            }
            Err(e) => {
                tracing::warn!(provider = %slug, error = %e, "stream event refused");
                true
            }
        };
        self.update(slug, |h| {
            h.events += 1;
            if failed {
                h.failed += 1;
            }
        });
        Ok(())
    }
}

/// The connector's credentials from the secret store (`user:password` for
/// ARI, `client_id:api_key` for 3CX).
async fn credentials(secrets: &Arc<SecretStore>, slug: &str) -> Result<String, String> {
    let (file, name) = (secrets.clone(), connectors::token_name(slug));
    tokio::task::spawn_blocking(move || file.get(&name))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no credentials are stored".to_string())
}
