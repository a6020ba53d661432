//! Two background sessions an instance keeps with the cluster's PostgreSQL:
//! the leader lock (jobs that must run once run where it is held), and the
//! `LISTEN` that wakes the writer to follow the log.

use super::{log, ClusterStatus, FOLLOW_EVERY};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// How often the leader checks that its session (and so its lock) is alive,
/// and how often the others try to take the lock.
const CHECK_EVERY: Duration = Duration::from_millis(500);

fn pause(closing: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < d && !closing.load(Ordering::Acquire) {
        std::thread::sleep(step);
        waited += step;
    }
}

/// Holds the session-level advisory lock while it can: PostgreSQL frees it
/// the moment the session ends (the process died, the network went), and
/// another instance takes it within `CHECK_EVERY`.
pub(crate) fn spawn_leadership(
    url: String,
    leader: watch::Sender<bool>,
    status: Arc<ClusterStatus>,
    closing: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("callboard-leader".into())
        .spawn(move || {
            let set = |v: bool| {
                status.leader.store(v, Ordering::Release);
                leader.send_if_modified(|cur| std::mem::replace(cur, v) != v);
            };
            while !closing.load(Ordering::Acquire) {
                let mut client = match log::connect(&url) {
                    Ok(c) => c,
                    Err(e) => {
                        set(false);
                        tracing::debug!(error = %e, "leader lock: PostgreSQL unreachable");
                        pause(&closing, CHECK_EVERY);
                        continue;
                    }
                };
                loop {
                    if closing.load(Ordering::Acquire) {
                        break;
                    }
                    let held = client
                        .query_one("SELECT pg_try_advisory_lock($1)", &[&log::LEADER_KEY])
                        .map(|r| r.get::<_, bool>(0));
                    match held {
                        Ok(true) => {
                            if !*leader.borrow() {
                                tracing::info!("this instance leads: it runs the once-only jobs");
                            }
                            set(true);
                            // Taken: keep the session alive and check it.
                            while !closing.load(Ordering::Acquire)
                                && client.simple_query("SELECT 1").is_ok()
                            {
                                pause(&closing, CHECK_EVERY);
                            }
                            if !closing.load(Ordering::Acquire) {
                                tracing::warn!("lost the leader lock's session");
                            }
                            set(false);
                            break;
                        }
                        Ok(false) => {
                            set(false);
                            pause(&closing, CHECK_EVERY);
                        }
                        Err(e) => {
                            set(false);
                            tracing::debug!(error = %e, "leader lock: session lost");
                            break;
                        }
                    }
                }
                pause(&closing, Duration::from_millis(200));
            }
            set(false);
        })
}

/// Calls `wake` on every `NOTIFY` of a new entry, and every `FOLLOW_EVERY`
/// without one; stops when `wake` returns false (the store closed).
pub(crate) fn spawn_listener(
    url: String,
    wake: impl Fn() -> bool + Send + 'static,
    closing: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("callboard-follow".into())
        .spawn(move || {
            while !closing.load(Ordering::Acquire) {
                let mut client = match log::connect(&url) {
                    Ok(c) => c,
                    Err(_) => {
                        pause(&closing, FOLLOW_EVERY);
                        continue;
                    }
                };
                if client
                    .batch_execute(&format!("LISTEN {}", log::CHANNEL))
                    .is_err()
                {
                    pause(&closing, FOLLOW_EVERY);
                    continue;
                }
                // The timeout is short so closing is noticed; the writer is
                // only woken on a notification or once per FOLLOW_EVERY.
                let mut idle = Duration::ZERO;
                loop {
                    if closing.load(Ordering::Acquire) {
                        return;
                    }
                    let got = {
                        use postgres::fallible_iterator::FallibleIterator;
                        let mut n = client.notifications();
                        let mut it = n.timeout_iter(Duration::from_millis(200));
                        it.next().map(|n| n.is_some())
                    };
                    match got {
                        Ok(true) => {
                            idle = Duration::ZERO;
                            if !wake() {
                                return;
                            }
                        }
                        Ok(false) => {
                            idle += Duration::from_millis(200);
                            if idle >= FOLLOW_EVERY {
                                idle = Duration::ZERO;
                                if !wake() {
                                    return;
                                }
                            }
                        }
                        Err(_) => break,
                    }
                    if client.is_closed() {
                        break;
                    }
                }
                pause(&closing, Duration::from_millis(200));
            }
        })
}
