//! Sign-in throttling: after repeated wrong passwords for one user name,
//! further attempts wait, doubling up to a cap. Webhooks are never throttled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(3600);
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl LoginThrottle {
    /// How long `username` must wait before trying again, if at all.
    pub fn wait(&self, username: &str, now: Instant) -> Option<Duration> {
        let map = self.entries.lock().ok()?;
        let until = map.get(&key(username))?.locked_until?;
        (until > now).then(|| until - now)
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= MAX_TRACKED {
            map.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        }
        let e = map.entry(key(username)).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(e.last) >= FORGET_AFTER {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= FREE_FAILURES {
            let doublings = (e.failures - FREE_FAILURES).min(10);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            e.locked_until = Some(now + lock);
        }
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(&key(username));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_failures_and_doubles() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("Asha", now);
        }
        assert_eq!(t.wait("asha", now), None);
        t.failed("asha", now);
        assert_eq!(t.wait("ASHA", now), Some(FIRST_LOCK));
        t.failed("asha", now);
        assert_eq!(t.wait("asha", now), Some(FIRST_LOCK * 2));
        assert_eq!(t.wait("asha", now + FIRST_LOCK * 3), None);
        t.succeeded("asha");
        assert_eq!(t.wait("asha", now), None);
    }

    #[test]
    fn the_lock_is_capped() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..40 {
            t.failed("x", now);
        }
        assert_eq!(t.wait("x", now), Some(MAX_LOCK));
    }
}
