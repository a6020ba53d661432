//! A circuit breaker: opens after N consecutive failures, lets one trial
//! through (half-open) after a pause, closes after M successes in a row.
//! Times come from the store's clock, so tests move past a pause instead of
//! waiting it out.

use callboard_core::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    failures_to_open: u32,
    open_for: Duration,
    successes_to_close: u32,
    state: CircuitState,
    consecutive_failures: u32,
    half_open_successes: u32,
    opened_at: Option<Timestamp>,
}

impl Breaker {
    pub fn new(failures_to_open: u32, open_for: Duration, successes_to_close: u32) -> Breaker {
        Breaker {
            failures_to_open,
            open_for,
            successes_to_close,
            state: CircuitState::Closed,
            consecutive_failures: 0,
            half_open_successes: 0,
            opened_at: None,
        }
    }

    /// Keeps the state, takes new limits.
    pub fn reconfigure(
        &mut self,
        failures_to_open: u32,
        open_for: Duration,
        successes_to_close: u32,
    ) {
        self.failures_to_open = failures_to_open;
        self.open_for = open_for;
        self.successes_to_close = successes_to_close;
    }

    /// The state at `now` (an open circuit whose pause is over is half-open).
    pub fn state(&mut self, now: Timestamp) -> CircuitState {
        if self.state == CircuitState::Open
            && self
                .opened_at
                .is_some_and(|t| (now - t).to_std().unwrap_or(Duration::ZERO) >= self.open_for)
        {
            self.state = CircuitState::HalfOpen;
            self.half_open_successes = 0;
        }
        self.state
    }

    /// May a request go out now?
    pub fn allow(&mut self, now: Timestamp) -> bool {
        self.state(now) != CircuitState::Open
    }

    /// When an open circuit lets a trial through.
    pub fn retry_at(&self) -> Option<Timestamp> {
        match self.state {
            CircuitState::Open => self.opened_at.map(|t| {
                t + chrono::Duration::from_std(self.open_for).unwrap_or(chrono::Duration::MAX)
            }),
            _ => None,
        }
    }

    pub fn success(&mut self, now: Timestamp) {
        self.consecutive_failures = 0;
        if self.state(now) == CircuitState::HalfOpen {
            self.half_open_successes += 1;
            if self.half_open_successes >= self.successes_to_close {
                self.state = CircuitState::Closed;
                self.opened_at = None;
            }
        }
    }

    pub fn failure(&mut self, now: Timestamp) {
        match self.state(now) {
            CircuitState::HalfOpen => self.open(now),
            CircuitState::Closed => {
                self.consecutive_failures += 1;
                if self.consecutive_failures >= self.failures_to_open {
                    self.open(now);
                }
            }
            CircuitState::Open => {}
        }
    }

    fn open(&mut self, now: Timestamp) {
        self.state = CircuitState::Open;
        self.opened_at = Some(now);
        self.half_open_successes = 0;
        self.consecutive_failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_five_failures_half_opens_after_the_pause_closes_after_three_successes() {
        let t0 = chrono::Utc::now();
        let secs = chrono::Duration::seconds;
        let mut b = Breaker::new(5, Duration::from_secs(60), 3);
        for _ in 0..4 {
            b.failure(t0);
        }
        assert_eq!(b.state(t0), CircuitState::Closed);
        b.success(t0); // a success resets the count
        for _ in 0..4 {
            b.failure(t0);
        }
        assert!(b.allow(t0));
        b.failure(t0);
        assert_eq!(b.state(t0), CircuitState::Open);
        assert!(!b.allow(t0 + secs(59)));
        assert_eq!(b.retry_at(), Some(t0 + secs(60)));
        let t1 = t0 + secs(60);
        assert_eq!(b.state(t1), CircuitState::HalfOpen);
        // A failure in half-open opens again, for another full pause.
        b.failure(t1);
        assert_eq!(b.state(t1 + secs(30)), CircuitState::Open);
        let t2 = t1 + secs(60);
        assert!(b.allow(t2));
        b.success(t2);
        b.success(t2);
        assert_eq!(b.state(t2), CircuitState::HalfOpen);
        b.success(t2);
        assert_eq!(b.state(t2), CircuitState::Closed);
    }
}
