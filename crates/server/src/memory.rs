//! The allocator's settings, and giving memory back to the system after the
//! requests that used a lot of it.
//!
//! A month's metrics, a worklist sort or an export page builds large
//! temporary buffers on a blocking thread; glibc keeps the freed pages in
//! that thread's arena, so the process's resident size stays at its peak.
//! After a slow request (the ones that build such buffers) one
//! `malloc_trim` hands the free pages back. That is what lets the server
//! run with enough arenas for the webhook path's threads not to queue on
//! one allocator lock, within the memory bound of a year of calls.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A request that ran this long may have left large free blocks behind.
const SLOW: Duration = Duration::from_millis(20);

/// One trim at a time: a second slow request while one runs does not wait
/// for it.
static TRIMMING: AtomicBool = AtomicBool::new(false);

/// Middleware: after a slow console request, trim the allocator before the
/// answer goes out, so what the request built is back with the system when
/// its client sees the answer (a trim takes a few milliseconds; the
/// requests it follows took twenty or more). Only `/api/`: a webhook or an
/// IVR step is slow when it queued behind the writer under load, not
/// because it built anything large, and a trim then (it takes each arena's
/// lock in turn) would only add to the queue.
pub async fn give_back(req: Request, next: Next) -> Response {
    let console = concerns(&req);
    let started = Instant::now();
    let response = next.run(req).await;
    if console && started.elapsed() >= SLOW && !TRIMMING.swap(true, Ordering::AcqRel) {
        // Released even if the client hangs up while the trim runs.
        let _turn = Turn;
        let _ = tokio::task::spawn_blocking(trim).await;
    }
    response
}

/// The requests [`give_back`] may trim after: the console's.
pub fn concerns(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
}

/// The trimming turn, given back when dropped.
struct Turn;

impl Drop for Turn {
    fn drop(&mut self) {
        TRIMMING.store(false, Ordering::Release);
    }
}

/// Hands the allocator's free pages back to the system (blocking: a few ms).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn trim() {
    // SAFETY: `malloc_trim` only returns free pages to the system; it takes
    // the arenas' locks itself and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn trim() {}

/// glibc's malloc raises its mmap threshold after the first large block is
/// freed, so later large buffers (a month's metrics, an export page) come
/// from the thread's arena and stay there; with one arena per blocking
/// thread that pinned ~20 MiB per thread (`scale-bench`: 160 MiB after the
/// queries instead of ~55). Fixed thresholds give it back, and a cap on the
/// arenas bounds it: four rather than two, because the writer and the two
/// HTTP workers each allocate on every webhook and queued on two arenas'
/// locks (about +20 % durable webhooks with four); what the extra arenas keep
/// after a heavy query, [`give_back`] returns.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    // SAFETY: `mallopt` only sets allocator parameters; `callboard serve`
    // calls this once, first thing in `main`, and the values are in range.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
