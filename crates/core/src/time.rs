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
