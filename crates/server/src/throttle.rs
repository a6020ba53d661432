//! Sign-in throttling, per client: after repeated wrong passwords for one
//! user name from one client (IP address), that client waits before trying
//! that name again, doubling up to a cap; a client that fails across many
//! names (password spraying) waits for all of them. The name alone never
//! locks anyone out, so a stranger cannot keep the admin from signing in
//! from their own desk. An admin can clear a lock. Webhooks are never
//! throttled.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
/// Failures from one client, whatever the names, before it waits.
const FREE_CLIENT_FAILURES: u32 = 20;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(3600);
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// One name from one client.
    Name(String, IpAddr),
    /// Every name from one client.
    Client(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// A lock in force, for the admin's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// None: the client is locked for every name.
    pub username: Option<String>,
    pub client: IpAddr,
    pub failures: u32,
    pub wait: Duration,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<Key, Entry>>,
}

fn name(username: &str) -> String {
    username.trim().to_lowercase()
}

fn lock_for(failures: u32, free: u32) -> Option<Duration> {
    (failures >= free).then(|| {
        let doublings = (failures - free).min(10);
        FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK)
    })
}

impl LoginThrottle {
    /// How long `client` must wait before trying `username` again, if at all.
    pub fn wait(&self, username: &str, client: IpAddr, now: Instant) -> Option<Duration> {
        let map = self.entries.lock().ok()?;
        [Key::Name(name(username), client), Key::Client(client)]
            .iter()
            .filter_map(|k| map.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    pub fn failed(&self, username: &str, client: IpAddr, now: Instant) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= MAX_TRACKED {
            map.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        }
        for (key, free) in [
            (Key::Name(name(username), client), FREE_FAILURES),
            (Key::Client(client), FREE_CLIENT_FAILURES),
        ] {
            let e = map.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
                locked_until: None,
            });
            if now.duration_since(e.last) >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
            if let Some(lock) = lock_for(e.failures, free) {
                e.locked_until = Some(now + lock);
            }
        }
    }

    /// A right password: that name's count from that client starts over.
    pub fn succeeded(&self, username: &str, client: IpAddr) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(&Key::Name(name(username), client));
        }
    }

    /// The locks in force now, longest wait first.
    pub fn locks(&self, now: Instant) -> Vec<Lock> {
        let Ok(map) = self.entries.lock() else {
            return Vec::new();
        };
        let mut out: Vec<Lock> = map
            .iter()
            .filter_map(|(k, e)| {
                let until = e.locked_until.filter(|u| *u > now)?;
                let (username, client) = match k {
                    Key::Name(n, c) => (Some(n.clone()), *c),
                    Key::Client(c) => (None, *c),
                };
                Some(Lock {
                    username,
                    client,
                    failures: e.failures,
                    wait: until - now,
                })
            })
            .collect();
        out.sort_by_key(|l| std::cmp::Reverse(l.wait));
        out
    }

    /// Clears the locks of `username` (from every client) or, with
    /// `client`, also that client's lock for every name. Returns how many.
    pub fn clear(&self, username: Option<&str>, client: Option<IpAddr>) -> usize {
        let Ok(mut map) = self.entries.lock() else {
            return 0;
        };
        let before = map.len();
        let n = username.map(name);
        map.retain(|k, _| match k {
            Key::Name(kn, kc) => {
                !(n.as_deref().is_none_or(|n| n == kn) && client.is_none_or(|c| c == *kc))
            }
            Key::Client(kc) => client != Some(*kc),
        });
        before - map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn locks_one_name_for_one_client_after_five_failures_and_doubles() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("Asha", A, now);
        }
        assert_eq!(t.wait("asha", A, now), None);
        t.failed("asha", A, now);
        assert_eq!(t.wait("ASHA", A, now), Some(FIRST_LOCK));
        assert_eq!(t.wait("asha", B, now), None, "another client is not locked");
        t.failed("asha", A, now);
        assert_eq!(t.wait("asha", A, now), Some(FIRST_LOCK * 2));
        assert_eq!(t.wait("asha", A, now + FIRST_LOCK * 3), None);
        t.succeeded("asha", A);
        assert_eq!(t.wait("asha", A, now), None);
    }

    #[test]
    fn the_lock_is_capped() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..40 {
            t.failed("x", A, now);
        }
        assert_eq!(t.wait("x", A, now), Some(MAX_LOCK));
    }

    #[test]
    fn a_client_spraying_many_names_waits_for_all_of_them() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..FREE_CLIENT_FAILURES {
            t.failed(&format!("user{i}"), A, now);
        }
        assert_eq!(t.wait("someone-else", A, now), Some(FIRST_LOCK));
        assert_eq!(t.wait("someone-else", B, now), None);
    }

    #[test]
    fn an_admin_clears_a_name_from_every_client_or_one_client_entirely() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_CLIENT_FAILURES {
            t.failed("admin", A, now);
            t.failed("admin", B, now);
        }
        assert_eq!(t.locks(now).len(), 4);
        assert_eq!(t.clear(Some("ADMIN"), None), 2);
        assert_eq!(t.wait("admin", B, now), Some(t.locks(now)[0].wait));
        assert_eq!(t.clear(None, Some(B)), 1);
        assert_eq!(t.wait("admin", B, now), None);
        assert!(t.wait("admin", A, now).is_some(), "A's client lock stays");
    }
}
