//! One text form for every stored timestamp (sortable as text) and an
//! injectable clock so time-based rules can be tested.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::Arc;

pub type Timestamp = DateTime<Utc>;

/// `2026-11-24T18:30:59.123Z`: fixed width, so text order is time order.
pub fn fmt(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn fmt_opt(t: Option<Timestamp>) -> Option<String> {
    t.map(fmt)
}

pub fn parse(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

pub type SharedClock = Arc<dyn Clock>;

pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that runs with real time but can be moved forward: what tests
/// inject to reach an SLA deadline, a breaker's pause or a retention cut-off
/// without waiting for it. Time keeps flowing between advances, so ordering by
/// timestamp behaves as with the system clock.
#[derive(Debug, Default)]
pub struct OffsetClock {
    /// Milliseconds added to the system clock.
    offset_ms: std::sync::atomic::AtomicI64,
}

impl OffsetClock {
    pub fn new() -> Arc<OffsetClock> {
        Arc::new(OffsetClock::default())
    }

    /// Moves this clock forward by `by` (backward when negative).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }

    /// How far ahead of the system clock this clock is.
    pub fn offset(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Utc::now() + self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_moves_forward_when_advanced_and_runs_in_between() {
        let c = OffsetClock::new();
        let before = Utc::now();
        c.advance(chrono::Duration::minutes(5));
        let t = c.now();
        assert!(t >= before + chrono::Duration::minutes(5));
        assert!(t < Utc::now() + chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
        assert!(c.now() >= t, "never goes back on its own");
        assert_eq!(c.offset(), chrono::Duration::minutes(5));
    }
}
