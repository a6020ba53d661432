//! Convoso's call-log API (`GET {base}/log/retrieve`), read page by page at
//! most N requests a second, retrying 429s, 5xx and timeouts with
//! exponential backoff and jitter, through the provider's circuit breaker.
//! Errors never carry the URL (it holds the auth token).

use crate::outbound::breaker::Breaker;
use crate::outbound::{self, OutboundError, Pacer, Retry};
use callboard_core::store::connectors::ConnectorOptions;
use callboard_core::time::SharedClock;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    pacer: Pacer,
    breaker: Arc<Mutex<Breaker>>,
    /// The breaker's clock (the store's).
    clock: SharedClock,
}

impl Client {
    pub fn new(
        base: &str,
        token: String,
        opts: ConnectorOptions,
        breaker: Arc<Mutex<Breaker>>,
        clock: SharedClock,
    ) -> Result<Client, FetchError> {
        let http = crate::http::client()
            .timeout(Duration::from_secs_f64(opts.timeout_seconds))
            .build()
            .map_err(|e| FetchError::Refused(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
            pacer: Pacer::per_second(opts.max_requests_per_second),
            opts,
            breaker,
            clock,
        })
    }

    /// One page of call logs between `from` and `to` (`YYYY-MM-DD HH:MM:SS`).
    pub async fn page(&mut self, from: &str, to: &str, offset: i64) -> Result<Page, FetchError> {
        self.retrieve(from, to, offset, None).await
    }

    /// The call log `id` (Convoso's documented `id` filter, "specific log ID
    /// to retrieve") within `from`..`to`, with its recordings: the records
    /// Convoso answers (the caller matches the id itself, in case an account
    /// ignores the filter).
    pub async fn by_id(&mut self, id: &str, from: &str, to: &str) -> Result<Page, FetchError> {
        self.retrieve(from, to, 0, Some(id)).await
    }

    async fn retrieve(
        &mut self,
        from: &str,
        to: &str,
        offset: i64,
        id: Option<&str>,
    ) -> Result<Page, FetchError> {
        let url = format!("{}/log/retrieve", self.base);
        let mut query = vec![
            ("auth_token", self.token.clone()),
            ("start_time", from.to_string()),
            ("end_time", to.to_string()),
            ("limit", self.opts.page_size.to_string()),
            ("offset", offset.to_string()),
            ("order", "asc".to_string()),
            ("include_recordings", "1".to_string()),
        ];
        if let Some(id) = id {
            query.push(("id", id.to_string()));
        }
        let retry = Retry {
            max_attempts: self.opts.max_attempts,
            backoff_base_ms: self.opts.backoff_base_ms,
            backoff_max_ms: self.opts.backoff_max_ms,
            // Reading a page twice is harmless.
            retry_ambiguous: true,
        };
        let http = &self.http;
        outbound::send(
            &self.breaker,
            &self.clock,
            &retry,
            &mut self.pacer,
            || http.get(&url).query(&query),
            parse,
        )
        .await
        .map_err(|e| match e {
            OutboundError::CircuitOpen(s) => FetchError::CircuitOpen(s),
            OutboundError::Exhausted { attempts, last } => FetchError::Exhausted { attempts, last },
            OutboundError::Refused { status, .. } => FetchError::Refused(format!(
                "Convoso answered {}: check the base URL and the auth token",
                reqwest::StatusCode::from_u16(status)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|_| status.to_string())
            )),
            OutboundError::Invalid(why) => FetchError::Refused(why),
            // Reads retry everything, so this does not happen; kept exact.
            OutboundError::Uncertain(last) => FetchError::Exhausted { attempts: 1, last },
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
    fn pages_parse_with_string_or_number_totals() {
        let p = parse(br#"{"success":true,"data":{"offset":0,"limit":500,"total_found":"546","entries":1,"results":[{"id":"1"}]}}"#).unwrap();
        assert_eq!((p.records.len(), p.total), (1, Some(546)));
        assert!(parse(br#"{"success":false,"text":"bad token"}"#).is_err());
        assert!(parse(b"<html>").is_err());
    }
}
