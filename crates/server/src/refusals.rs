//! Deliveries refused before parsing go to the provider's ingestion log
//! (`callboard_core::store::refusals`), off the request path and rate-limited
//! per provider: a sender flooding malformed bodies gets its 400s at once,
//! and the writer keeps its time for real deliveries.

use crate::error::ApiError;
use crate::state::AppState;
use callboard_core::store::refusals::{self, Refused};
use callboard_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

/// Refusals logged at once per provider before the limit applies.
pub const BURST: f64 = 20.0;
/// Refusals logged per second per provider once the burst is spent.
pub const PER_SECOND: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
    /// Refusals not logged since the last one that was.
    dropped: u64,
}

/// A token bucket per provider.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl Limiter {
    /// Whether a refusal of `provider` at `now` is logged; when it is, how
    /// many were left out before it.
    pub fn admit(&self, provider: i64, now: Timestamp) -> Option<u64> {
        let mut buckets = self.buckets.lock().ok()?;
        // Bound the map: providers are few, but never let it grow unchecked.
        if buckets.len() > 10_000 {
            buckets.clear();
        }
        let b = buckets.entry(provider).or_insert(Bucket {
            tokens: BURST,
            at: now,
            dropped: 0,
        });
        let elapsed = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * PER_SECOND).min(BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Some(std::mem::take(&mut b.dropped))
        } else {
            b.dropped += 1;
            None
        }
    }
}

/// What the receiver knew of a delivery it refused: the provider's id, the
/// method, the content type, the request id and the body as received.
pub type Refusal<'a> = (i64, &'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// Logs `r`, refused with `err`, unless the provider's refusals are over
/// the limit; never delays the answer.
pub fn record(state: &AppState, r: Refusal<'_>, err: &ApiError) {
    let (provider_id, method, content_type, request_id, body) = r;
    let Some(dropped) = state.refusals.admit(provider_id, state.store.now()) else {
        return;
    };
    let mut reason = format!("{}: {}", err.code, err.message);
    if dropped > 0 {
        reason.push_str(&format!(
            " ({dropped} earlier refusals of this provider were not logged: over {PER_SECOND}/s)"
        ));
    }
    let refused = Refused {
        provider_id,
        method: method.to_string(),
        content_type: content_type.map(str::to_string),
        request_id: request_id.map(str::to_string),
        reason,
        body: body[..body.len().min(refusals::BODY_EXCERPT_BYTES + 4)].to_vec(),
    };
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.write(move |w| refusals::record(w, &refused)).await {
            tracing::warn!(error = %e, "could not log a refused delivery");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_burst_then_the_rate() {
        let l = Limiter::default();
        let t0 = chrono::Utc::now();
        let admitted = (0..100).filter(|_| l.admit(7, t0).is_some()).count();
        assert_eq!(admitted, BURST as usize);
        assert!(
            l.admit(8, t0).is_some(),
            "another provider has its own bucket"
        );
        let later = t0 + chrono::Duration::seconds(1);
        assert_eq!(l.admit(7, later), Some(100 - BURST as u64));
        assert_eq!(l.admit(7, later), Some(0));
        assert_eq!(l.admit(7, later), None);
    }
}
