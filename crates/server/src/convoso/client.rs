//! Convoso's call-log API (`GET {base}/log/retrieve`), read page by page at
//! most N requests a second, retrying 429s, 5xx and timeouts with
//! exponential backoff and jitter, through the provider's circuit breaker.
//! Errors never carry the URL (it holds the auth token).

use super::breaker::Breaker;
use callboard_core::store::connectors::ConnectorOptions;
use callboard_core::time::SharedClock;
use rand::Rng;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Page {
    pub records: Vec<Value>,
    /// Convoso's `total_found`, when it sends one.
    pub total: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("the circuit is open after repeated failures; next try in {0} s")]
    CircuitOpen(u64),
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: String },
    #[error("{0}")]
    Refused(String),
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    opts: ConnectorOptions,
    last_request: Option<Instant>,
    breaker: Arc<Mutex<Breaker>>,
    /// The breaker's clock (the store's).
    clock: SharedClock,
}

/// Backoff before retry `attempt` (0-based): `d = min(base·2^attempt, max)`,
/// then a delay between d/2 and d.
pub fn backoff(opts: &ConnectorOptions, attempt: u32) -> Duration {
    let d = opts
        .backoff_base_ms
        .saturating_mul(1u64 << attempt.min(20))
        .min(opts.backoff_max_ms);
    let half = d / 2;
    Duration::from_millis(half + rand::rng().random_range(0..=d - half))
}

impl Client {
    pub fn new(
        base: &str,
        token: String,
        opts: ConnectorOptions,
        breaker: Arc<Mutex<Breaker>>,
        clock: SharedClock,
    ) -> Result<Client, FetchError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(opts.timeout_seconds))
            .build()
            .map_err(|e| FetchError::Refused(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
            opts,
            last_request: None,
            breaker,
            clock,
        })
    }

    fn with_breaker<T>(&self, f: impl FnOnce(&mut Breaker) -> T) -> Option<T> {
        self.breaker.lock().ok().map(|mut b| f(&mut b))
    }

    /// Waits so requests stay under the rate limit.
    async fn pace(&mut self) {
        let gap = Duration::from_secs_f64(1.0 / self.opts.max_requests_per_second);
        if let Some(last) = self.last_request {
            let next = last + gap;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
        self.last_request = Some(Instant::now());
    }

    /// One page of call logs between `from` and `to` (`YYYY-MM-DD HH:MM:SS`).
    pub async fn page(&mut self, from: &str, to: &str, offset: i64) -> Result<Page, FetchError> {
        let limit = self.opts.page_size.to_string();
        let offset_s = offset.to_string();
        let url = format!("{}/log/retrieve", self.base);
        let mut last = String::new();
        for attempt in 0..self.opts.max_attempts {
            let now = self.clock.now();
            if !self.with_breaker(|b| b.allow(now)).unwrap_or(true) {
                let wait = self
                    .with_breaker(|b| b.retry_at())
                    .flatten()
                    .map(|t| (t - now).num_seconds().max(0) as u64)
                    .unwrap_or(0);
                return Err(FetchError::CircuitOpen(wait));
            }
            self.pace().await;
            let sent = self
                .http
                .get(&url)
                .query(&[
                    ("auth_token", self.token.as_str()),
                    ("start_time", from),
                    ("end_time", to),
                    ("limit", limit.as_str()),
                    ("offset", offset_s.as_str()),
                    ("order", "asc"),
                    ("include_recordings", "1"),
                ])
                .send()
                .await;
            let retry_after = match sent {
                Ok(resp) if resp.status().is_success() => {
                    let body = resp.bytes().await.map_err(|e| e.without_url().to_string());
                    match body.map(|b| parse(&b)) {
                        Ok(Ok(page)) => {
                            self.with_breaker(|b| b.success(self.clock.now()));
                            return Ok(page);
                        }
                        Ok(Err(e)) | Err(e) => {
                            self.with_breaker(|b| b.failure(self.clock.now()));
                            return Err(FetchError::Refused(e));
                        }
                    }
                }
                Ok(resp) => {
                    let status = resp.status();
                    self.with_breaker(|b| b.failure(self.clock.now()));
                    if status.as_u16() != 429 && !status.is_server_error() {
                        return Err(FetchError::Refused(format!(
                            "Convoso answered {status}: check the base URL and the auth token"
                        )));
                    }
                    last = format!("HTTP {status}");
                    resp.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(300)))
                }
                Err(e) => {
                    self.with_breaker(|b| b.failure(self.clock.now()));
                    last = if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        e.without_url().to_string()
                    };
                    None
                }
            };
            tracing::debug!(attempt, error = %last, "Convoso request failed; retrying");
            if attempt + 1 < self.opts.max_attempts {
                let delay = retry_after.unwrap_or_else(|| backoff(&self.opts, attempt));
                tokio::time::sleep(delay).await;
            }
        }
        Err(FetchError::Exhausted {
            attempts: self.opts.max_attempts,
            last,
        })
    }
}

fn parse(body: &[u8]) -> Result<Page, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("Convoso's answer is not JSON: {e}"))?;
    if v["success"] == Value::Bool(false) {
        let why = v["text"]
            .as_str()
            .or(v["error"].as_str())
            .unwrap_or("no reason given");
        return Err(format!("Convoso refused the request: {why}"));
    }
    let data = &v["data"];
    let records = data["results"].as_array().cloned().unwrap_or_default();
    let total = match &data["total_found"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(Page { records, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let o = ConnectorOptions {
            backoff_base_ms: 100,
            backoff_max_ms: 1000,
            ..Default::default()
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

    #[test]
    fn pages_parse_with_string_or_number_totals() {
        let p = parse(br#"{"success":true,"data":{"offset":0,"limit":500,"total_found":"546","entries":1,"results":[{"id":"1"}]}}"#).unwrap();
        assert_eq!((p.records.len(), p.total), (1, Some(546)));
        assert!(parse(br#"{"success":false,"text":"bad token"}"#).is_err());
        assert!(parse(b"<html>").is_err());
    }
}
