//! Deliveries refused (bad credentials, or a body that cannot be taken) go
//! to the provider's ingestion log, off the request path and rate-limited
//! per provider and source address (`governor`): a sender flooding forged
//! or malformed requests gets its 401s and 400s at once, the writer keeps
//! its time for real deliveries, and another source's refusals are still
//! logged. Authenticated, well-formed deliveries are never limited.

use crate::error::ApiError;
use crate::state::AppState;
use callboard_core::store::refusals::{self, DeliveryKind, Refused};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;

/// Refusals logged at once per provider and source before the limit applies.
pub const BURST: u32 = 20;
/// Refusals logged per second per provider and source once the burst is spent.
pub const PER_SECOND: u32 = 2;

type Key = (i64, IpAddr);

/// A token bucket per (provider, source), and how many each left out.
pub struct Limiter {
    buckets: DefaultKeyedRateLimiter<Key>,
    dropped: Mutex<HashMap<Key, u64>>,
}

impl Default for Limiter {
    fn default() -> Self {
        let quota = Quota::per_second(NonZeroU32::new(PER_SECOND).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN));
        Limiter {
            buckets: RateLimiter::keyed(quota),
            dropped: Mutex::default(),
        }
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

impl Limiter {
    /// Whether a refusal of `provider` from `source` is logged; when it is,
    /// how many of theirs were left out before it.
    pub fn admit(&self, provider: i64, source: IpAddr) -> Option<u64> {
        let key = (provider, source);
        let mut dropped = self.dropped.lock().ok()?;
        if self.buckets.check_key(&key).is_ok() {
            Some(dropped.remove(&key).unwrap_or(0))
        } else {
            // Bound the memory a spoofing flood can take.
            if dropped.len() > 10_000 {
                dropped.clear();
                self.buckets.retain_recent();
            }
            *dropped.entry(key).or_default() += 1;
            None
        }
    }

    /// [`Limiter::admit`], as what to append to the logged reason: empty, or
    /// how many of this sender's refusals were left out before this one.
    pub fn admit_noting(&self, provider: i64, source: IpAddr) -> Option<String> {
        self.admit(provider, source).map(|dropped| {
            if dropped == 0 {
                String::new()
            } else {
                format!(" ({dropped} earlier refusals from {source} were not logged: over {PER_SECOND}/s)")
            }
        })
    }
}

/// What the receiver knew of a delivery it refused: the provider's id, the
/// method, the content type, the request id and the body as received.
pub type Refusal<'a> = (i64, &'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// Logs `r`, refused with `err`, unless its sender's refusals are over the
/// limit; never delays the answer. `kind` is what the URL takes (a call
/// event or a lead), as the delivery log shows it.
pub fn record(
    state: &AppState,
    source: IpAddr,
    kind: DeliveryKind,
    r: Refusal<'_>,
    err: &ApiError,
) {
    let (provider_id, method, content_type, request_id, body) = r;
    let Some(note) = state.refusals.admit_noting(provider_id, source) else {
        return;
    };
    let reason = format!("{}: {}{note}", err.code, err.message);
    let refused = Refused {
        provider_id,
        kind,
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
    fn a_flood_is_cut_to_the_burst_per_source() {
        let l = Limiter::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let admitted = (0..100).filter(|_| l.admit(7, a).is_some()).count();
        assert!(
            (BURST as usize..=BURST as usize + 1).contains(&admitted),
            "{admitted}"
        );
        assert_eq!(l.admit(7, b), Some(0), "another source is logged");
        assert_eq!(l.admit(8, a), Some(0), "another provider is logged");
        std::thread::sleep(std::time::Duration::from_millis(600));
        let next = l.admit(7, a);
        assert!(
            next.is_some_and(|d| d >= 79),
            "the count of what was left out: {next:?}"
        );
    }
}
