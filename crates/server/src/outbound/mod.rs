//! Requests to other services (Convoso's API, the platforms' click-to-call
//! APIs) go through one path: a timeout on each try, retries with
//! exponential backoff and jitter (or the server's `Retry-After`) on 429,
//! 5xx and transport errors, and the service's circuit breaker, which stops
//! hammering a service that keeps failing. Errors never carry the URL (it
//! may hold a token).

pub mod breaker;
pub mod credentials;

use breaker::{Breaker, CircuitState};
use callboard_core::dialer::request::{Body, Method, Outbound};
use callboard_core::time::SharedClock;
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How hard to try.
#[derive(Debug, Clone)]
pub struct Retry {
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Retry what may have been acted on (a 500, a timeout after sending).
    /// Off for requests that must not run twice (placing a call): those
    /// retry only what the service certainly did not act on (429, 503, a
    /// connection that never opened).
    pub retry_ambiguous: bool,
}

/// Backoff before retry `attempt` (0-based): `d = min(base·2^attempt, max)`,
/// then a delay between d/2 and d.
pub fn backoff(r: &Retry, attempt: u32) -> Duration {
    let d = r
        .backoff_base_ms
        .saturating_mul(1u64 << attempt.min(20))
        .min(r.backoff_max_ms);
    let half = d / 2;
    Duration::from_millis(half + rand::rng().random_range(0..=d - half))
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutboundError {
    #[error("the circuit is open after repeated failures; next try in {0} s")]
    CircuitOpen(u64),
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: String },
    /// A final answer that is not a success (4xx other than 429).
    #[error("answered HTTP {status}")]
    Refused { status: u16, body: Vec<u8> },
    /// The request was sent and no answer came back (a timeout, a cut
    /// connection): the service may have acted on it, so it is not retried.
    #[error("no answer after sending ({0}): it may have gone through")]
    Uncertain(String),
    /// A success status whose body is not a valid answer.
    #[error("{0}")]
    Invalid(String),
}

/// Keeps tries at least `gap` apart (a service's rate limit), retries
/// included.
#[derive(Debug, Default)]
pub struct Pacer {
    gap: Duration,
    last: Option<std::time::Instant>,
}

impl Pacer {
    pub fn per_second(max: f64) -> Pacer {
        Pacer {
            gap: Duration::from_secs_f64(1.0 / max),
            last: None,
        }
    }

    async fn wait(&mut self) {
        if let Some(last) = self.last {
            let next = last + self.gap;
            let now = std::time::Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
        self.last = Some(std::time::Instant::now());
    }
}

/// Sends the request `build` makes (once per try, paced) through `breaker`; a 2xx
/// body goes to `accept`, whose refusal (a success status with an answer
/// that is not one) counts against the service like any failure.
pub async fn send<T>(
    breaker: &Mutex<Breaker>,
    clock: &SharedClock,
    retry: &Retry,
    pacer: &mut Pacer,
    build: impl Fn() -> reqwest::RequestBuilder,
    accept: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<T, OutboundError> {
    let with = |f: &mut dyn FnMut(&mut Breaker)| {
        if let Ok(mut b) = breaker.lock() {
            f(&mut b);
        }
    };
    let mut last = String::new();
    for attempt in 0..retry.max_attempts {
        let now = clock.now();
        let mut allowed = true;
        let mut wait = 0u64;
        with(&mut |b| {
            allowed = b.allow(now);
            if !allowed {
                wait = b
                    .retry_at()
                    .map(|t| (t - now).num_seconds().max(0) as u64)
                    .unwrap_or(0);
            }
        });
        if !allowed {
            return Err(OutboundError::CircuitOpen(wait));
        }
        pacer.wait().await;
        let (retry_after, may_retry) = match build().send().await {
            Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                Ok(body) => {
                    let accepted = accept(&body);
                    match &accepted {
                        Ok(_) => with(&mut |b| b.success(clock.now())),
                        Err(_) => with(&mut |b| b.failure(clock.now())),
                    }
                    return accepted.map_err(OutboundError::Invalid);
                }
                Err(e) => {
                    with(&mut |b| b.failure(clock.now()));
                    last = format!("the answer's body was cut short: {}", e.without_url());
                    (None, retry.retry_ambiguous)
                }
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                with(&mut |b| b.failure(clock.now()));
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(300)));
                let certain_not_done = status == 429 || status == 503;
                if !(certain_not_done || (status >= 500 && retry.retry_ambiguous)) {
                    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                    return Err(OutboundError::Refused { status, body });
                }
                last = format!("HTTP {status}");
                (retry_after, true)
            }
            Err(e) => {
                with(&mut |b| b.failure(clock.now()));
                let never_sent = e.is_connect();
                last = if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    e.without_url().to_string()
                };
                (None, never_sent || retry.retry_ambiguous)
            }
        };
        tracing::debug!(attempt, error = %last, "outbound request failed");
        if !may_retry {
            return Err(OutboundError::Uncertain(last));
        }
        if attempt + 1 < retry.max_attempts {
            tokio::time::sleep(retry_after.unwrap_or_else(|| backoff(retry, attempt))).await;
        }
    }
    Err(OutboundError::Exhausted {
        attempts: retry.max_attempts,
        last,
    })
}

/// The click-to-call path: one HTTP client and a breaker per department.
#[derive(Clone)]
pub struct Dialling {
    pub http: reqwest::Client,
    breakers: Arc<Mutex<HashMap<String, Arc<Mutex<Breaker>>>>>,
}

impl Default for Dialling {
    fn default() -> Self {
        Dialling::new(Duration::from_secs(10))
    }
}

impl Dialling {
    pub fn new(timeout: Duration) -> Dialling {
        let http = crate::http::client()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Dialling {
            http,
            breakers: Arc::default(),
        }
    }

    /// Opens after 5 failures in a row, tries again after 60 s.
    pub fn breaker(&self, department: &str) -> Arc<Mutex<Breaker>> {
        let mut map = match self.breakers.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(department.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(Breaker::new(5, Duration::from_secs(60), 1))))
            .clone()
    }

    pub fn circuit(&self, department: &str, now: callboard_core::time::Timestamp) -> CircuitState {
        self.breaker(department)
            .lock()
            .map(|mut b| b.state(now))
            .unwrap_or(CircuitState::Closed)
    }

    /// Sends a platform request (a call back, a text) through the
    /// department's breaker; the 2xx body, or why not.
    pub async fn send(
        &self,
        department: &str,
        clock: &SharedClock,
        out: &Outbound,
    ) -> Result<Vec<u8>, OutboundError> {
        let http = &self.http;
        let build = || {
            let mut r = match out.method {
                Method::Get => http.get(&out.url),
                Method::Post => http.post(&out.url),
            };
            if !out.query.is_empty() {
                r = r.query(&out.query);
            }
            if let Some((u, p)) = &out.basic {
                r = r.basic_auth(u, Some(p));
            }
            for (k, v) in &out.headers {
                r = r.header(k, v);
            }
            match &out.body {
                Body::None => r,
                Body::Form(f) => r.form(f),
                Body::Json(v) => r.json(v),
            }
        };
        send(
            &self.breaker(department),
            clock,
            &Dialling::retry(),
            &mut Pacer::default(),
            build,
            |b| Ok(b.to_vec()),
        )
        .await
    }

    /// Placing a call must not run twice: retry only what the platform
    /// certainly did not act on.
    pub fn retry() -> Retry {
        Retry {
            max_attempts: 3,
            backoff_base_ms: 250,
            backoff_max_ms: 2_000,
            retry_ambiguous: false,
        }
    }
}

/// A failed platform request in words an agent or admin can act on:
/// `what` is "the call", "the message".
pub fn explain(label: &str, what: &str, e: &OutboundError) -> String {
    match e {
        OutboundError::Refused { status, body } => {
            match callboard_core::dialer::request::refusal_reason(body) {
                Some(why) => format!("{label} refused {what} (HTTP {status}): {why}"),
                None => {
                    format!("{label} refused {what} (HTTP {status}): check the dialer's settings")
                }
            }
        }
        OutboundError::CircuitOpen(s) => {
            format!("{label} has failed repeatedly; Callboard waits {s} s before trying it again")
        }
        e => format!("{label} could not be reached: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let o = Retry {
            max_attempts: 5,
            backoff_base_ms: 100,
            backoff_max_ms: 1000,
            retry_ambiguous: true,
        };
        for _ in 0..50 {
            let d0 = backoff(&o, 0).as_millis();
            assert!((50..=100).contains(&d0), "{d0}");
            let d2 = backoff(&o, 2).as_millis();
            assert!((200..=400).contains(&d2), "{d2}");
            let d9 = backoff(&o, 9).as_millis();
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }
}
