//! Prometheus `/metrics` (opt-in with `--metrics-token`, bearer-protected):
//! deliveries by provider and outcome, webhook ack latency, writer batches
//! and queue depth, stream clients, replica lag, poller circuits, SLA
//! breaches. Counters live for the process; gauges are read at scrape time.

use crate::error::ApiError;
use crate::outbound::breaker::CircuitState;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callboard_core::keys;
use callboard_core::ErrorCode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::time::Instant;

type Labels = Vec<(String, String)>;

/// The process-wide counters.
#[derive(Debug, Clone)]
struct Static {
    deliveries: Family<Labels, Counter>,
    ack_seconds: Histogram,
    sla_breaches: Counter,
}

fn statics() -> &'static Static {
    static S: OnceLock<Static> = OnceLock::new();
    S.get_or_init(|| Static {
        deliveries: Family::default(),
        // 1 ms … ~4 s.
        ack_seconds: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.001, 2.0, 13,
        )),
        sla_breaches: Counter::default(),
    })
}

/// Counts `n` calls marked as breaching their SLA.
pub fn sla_breached(n: usize) {
    statics().sla_breaches.inc_by(n as u64);
}

/// What a webhook answer means for an operator.
fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "stored",
        401 | 403 => "unauthorized",
        404 => "unknown_provider",
        400..=499 => "rejected",
        503 => "unavailable",
        _ => "failed",
    }
}

/// Where the webhook routes start; the provider's slug follows.
const WEBHOOKS: &str = "/webhooks/ivr/";

/// The requests [`track_webhooks`] may count: those to a webhook route.
pub fn concerns(req: &Request) -> bool {
    req.uri().path().starts_with(WEBHOOKS)
}

/// Middleware: times and counts every webhook delivery by provider and outcome.
pub async fn track_webhooks(req: Request, next: Next) -> Response {
    let slug = req
        .uri()
        .path()
        .strip_prefix(WEBHOOKS)
        // A contact lookup reads; it is not a delivery.
        .filter(|rest| !rest.ends_with("/contacts"))
        // `{slug}/leads` (the lead webhook) is counted under its provider.
        .map(|s| s.split('/').next().unwrap_or_default().to_string());
    let Some(slug) = slug else {
        return next.run(req).await;
    };
    let started = Instant::now();
    let res = next.run(req).await;
    let s = statics();
    let status = res.status();
    s.ack_seconds.observe(started.elapsed().as_secs_f64());
    // Unknown slugs would grow the label set without bound: one bucket.
    let provider = if status == StatusCode::NOT_FOUND {
        "unknown".to_string()
    } else {
        slug
    };
    s.deliveries
        .get_or_create(&vec![
            ("provider".into(), provider),
            ("outcome".into(), outcome(status).into()),
        ])
        .inc();
    res
}

/// A histogram the store keeps itself (the writer's batch sizes and commit
/// times), encoded from its counts at scrape time (not cumulative, as
/// prometheus-client's encoder accumulates them).
#[derive(Debug)]
struct KeptHistogram(callboard_core::store::health::Histogram);

impl EncodeMetric for KeptHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let h = &self.0;
        encoder.encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)
    }
    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

fn gauge(v: i64) -> ConstGauge<i64> {
    ConstGauge::new(v)
}

/// Renders the OpenMetrics text for this process.
pub async fn render(state: &AppState) -> Result<String, std::fmt::Error> {
    let mut reg = Registry::with_prefix("callboard");
    let s = statics().clone();
    reg.register(
        "webhook_deliveries",
        "Webhook deliveries answered, by provider slug and outcome",
        s.deliveries,
    );
    reg.register(
        "webhook_ack_seconds",
        "Time from a webhook request to its answer (a 2xx means committed)",
        s.ack_seconds,
    );
    reg.register(
        "sla_breaches",
        "Calls marked as breaching their SLA",
        s.sla_breaches,
    );

    let w = state.store.writer_stats();
    reg.register(
        "writer_queue_depth",
        "Writes waiting for the writer thread",
        gauge(w.queued()),
    );
    reg.register(
        "writer_failed_commits",
        "Group commits that failed (every write in them answered with an error)",
        ConstCounter::new(w.failed_commits()),
    );
    reg.register(
        "writer_last_commit_timestamp_seconds",
        "Unix time of the last successful commit",
        gauge(w.last_commit_unix_ms() / 1000),
    );
    reg.register(
        "writer_batch_size",
        "Writes committed together in one transaction (group commit)",
        KeptHistogram(w.batch_sizes()),
    );
    reg.register(
        "writer_commit_seconds",
        "Time to write and sync one group commit (every write in it waits for it)",
        KeptHistogram(w.commit_times()),
    );
    reg.register(
        "stream_clients",
        "Live event-stream subscribers (consoles and replicas)",
        gauge(state.store.hub().subscribers() as i64),
    );
    reg.register(
        "event_seq",
        "Newest event sequence number",
        gauge(state.store.hub().head()),
    );
    reg.register(
        "metrics_kept_quarters",
        "Department quarter hours whose analytics sums are kept between reports (warmed at start)",
        gauge(state.store.metrics_cache().cells() as i64),
    );

    if let Some(not_after) = state
        .config
        .tls
        .as_ref()
        .and_then(|c| c.info())
        .and_then(|i| i.not_after)
    {
        reg.register(
            "tls_certificate_expiry_seconds",
            "When the served TLS certificate expires (Unix time): alert some days before",
            gauge(not_after),
        );
    }

    if let Some(cluster) = state.store.cluster_status() {
        use std::sync::atomic::Ordering;
        reg.register(
            "cluster_applied_entry",
            "The last entry of the cluster's log applied to this instance's copy",
            gauge(cluster.applied.load(Ordering::Acquire)),
        );
        reg.register(
            "cluster_connected",
            "1 when this instance's writer reached PostgreSQL on its last try",
            gauge(i64::from(cluster.connected.load(Ordering::Acquire))),
        );
        reg.register(
            "cluster_leader",
            "1 on the instance running the once-only jobs",
            gauge(i64::from(cluster.leader.load(Ordering::Acquire))),
        );
    }

    if let Some(replica) = &state.replica {
        let st = replica.status();
        reg.register(
            "replica_lag_events",
            "Events this replica is behind its receiver",
            gauge(st.lag),
        );
        reg.register(
            "replica_pending_writes",
            "Writes queued in this replica's outbox",
            gauge(st.pending_writes),
        );
        reg.register(
            "replica_failed_writes",
            "Writes the receiver refused",
            gauge(st.failed_writes),
        );
    }

    let circuits: Family<Labels, Gauge> = Family::default();
    if let Ok(list) = state
        .store
        .read(callboard_core::store::connectors::list)
        .await
    {
        for c in list.iter().filter(|c| c.enabled) {
            let open = match state
                .pollers
                .circuit(&c.department, state.store.now())
                .state
            {
                CircuitState::Closed => 0,
                CircuitState::HalfOpen => 1,
                CircuitState::Open => 2,
            };
            circuits
                .get_or_create(&vec![("provider".into(), c.department.clone())])
                .set(open);
        }
    }
    reg.register(
        "poller_circuit",
        "Each enabled API poller's circuit: 0 closed (healthy), 1 half-open, 2 open (failing)",
        circuits,
    );
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg)?;
    Ok(out)
}

/// Bearer `--metrics-token`, compared in constant time.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(hash) = &state.config.metrics_token_hash else {
        return Err(ApiError::not_found(
            "metrics are off: start the receiver with --metrics-token",
        ));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !token.is_empty() && keys::secret_matches(token, hash) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            ErrorCode::MetricsTokenRequired,
            "send the metrics token as a bearer token",
        ))
    }
}

/// Prometheus metrics in the OpenMetrics text format; off (404) unless the
/// receiver was started with `--metrics-token`, which scrapers send as a
/// bearer token.
#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "prometheus_metrics",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
              (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = authorized(&state, &headers) {
        return e.into_response();
    }
    match render(&state).await {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::MetricsFailed,
            "the metrics could not be rendered",
        )
        .into_response(),
    }
}
