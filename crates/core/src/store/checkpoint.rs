//! The WAL checkpointer: copies committed pages from the WAL back into the
//! database on its own thread, so that commits never do that work, and keeps
//! the WAL file from growing without end under a steady load.
//!
//! A PASSIVE checkpoint never blocks the writer, but it cannot let the WAL
//! start again from its beginning while commits keep landing during each
//! copy: measured on the release build, a steady 1,000 webhooks/s grew the
//! file by 100 MB a second for as long as the load lasted (4 GB in 40 s),
//! and a burst left it at its largest for good. Past [`WAL_RESET_FRAMES`]
//! the checkpointer asks the writer to copy, between two batches, the little
//! its own passes left: with nothing committed meanwhile that copy is
//! complete, so the next commit starts the WAL again (SQLite does so when no
//! reader still needs the old frames), and `journal_size_limit`
//! ([`WAL_KEEP_BYTES`]) cuts the file back.
//!
//! The writer does that last copy itself rather than the checkpointer taking
//! the write lock (a RESTART checkpoint): that one polls for the lock, then
//! holds it while it waits for readers; under `ingest-bench` the writer
//! stalled 15–150 ms behind it, and a writer with no gaps between commits
//! (this module's test) kept it from ever getting the lock.

use crate::error::{Error, Result};
use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(250);

/// A WAL of this many frames (8 MiB of 4 KiB pages) or more at a
/// background round is started again. Only a load the background passes
/// cannot keep up with reaches it (a steady 1,000 webhooks/s on 2 cores does,
/// 100/s does not); the file then peaks at ~30–40 MiB, since a round comes
/// every 250 ms. Small on purpose: the commits around a restart were slower
/// the longer the WAL being restarted — webhook→stream p99 at a steady
/// 1,000/s was 13–21 ms restarting at 256 MiB, 148 ms at 1 GiB, and 6.5–10 ms
/// at 4–16 MiB (release builds, same session); the writer's own copy took
/// 4–12 ms (timed at 256 MiB), and durable ingestion did not change.
const WAL_RESET_FRAMES: i64 = 1 << 11;

/// What the WAL file is cut back to once it starts again
/// (`journal_size_limit`, set on the writer, whose commit restarts it): only
/// a WAL that outgrew it (a burst the background rounds could not keep up
/// with) is cut. With a 64 MiB limit and 256 MiB restarts the first batch
/// after each restart took 70–90 ms (the file cut back from ~250 MiB); a
/// file cut short grows again on later commits.
pub(crate) const WAL_KEEP_BYTES: i64 = 256 << 20;

/// Starts the checkpointer thread on `path`; send on (or drop) the sender to
/// stop it. It sets `restart` when the writer should finish a checkpoint.
pub(crate) fn spawn(path: &Path, restart: Arc<AtomicBool>) -> Result<(Sender<()>, JoinHandle<()>)> {
    let conn = Connection::open(path)?;
    // A PASSIVE checkpoint waits for no reader or writer; this only covers
    // the brief locks of opening the WAL, as before.
    conn.busy_timeout(Duration::from_secs(1))?;
    let (stop, stopped) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("callboard-checkpoint".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                if let Err(e) = round(&conn, WAL_RESET_FRAMES, &restart) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        })
        .map_err(|e| Error::Commit(format!("cannot start the checkpoint thread: {e}")))?;
    Ok((stop, handle))
}

/// One background round: a PASSIVE checkpoint, and when the WAL holds
/// `reset` frames or more, a second pass (for what was committed during the
/// first) before asking the writer for the rest.
fn round(conn: &Connection, reset: i64, restart: &AtomicBool) -> rusqlite::Result<()> {
    let frames = passive(conn)?.0;
    if frames >= reset {
        passive(conn)?;
        restart.store(true, Ordering::Release);
    }
    Ok(())
}

/// On the writer's connection between two batches: when asked, copies what
/// the background passes left, so that the next commit starts the WAL again.
/// Busy (the background thread mid-pass, or a reader holding frames back):
/// tried again after the next batch (a pass with nothing it may copy costs
/// no write and no sync).
pub(crate) fn finish_for_restart(conn: &Connection, restart: &AtomicBool) {
    if !restart.swap(false, Ordering::AcqRel) {
        return;
    }
    let started = std::time::Instant::now();
    let copy = passive(conn);
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match copy {
        Ok((frames, left)) if left > 0 => {
            tracing::debug!(frames, left, ms, "WAL not checkpointed to its end yet");
            restart.store(true, Ordering::Release);
        }
        Ok((frames, _)) => tracing::debug!(frames, ms, "WAL checkpointed to its end"),
        // Not asked again before the next background round: a failing disk
        // would otherwise log this after every batch.
        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
    }
}

/// The frames in the WAL when the pass began, and how many of them it could
/// not copy (another checkpoint running, or readers still on older frames).
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        let busy: i64 = r.get(0)?;
        let frames: i64 = r.get(1)?;
        let done: i64 = r.get(2)?;
        Ok((
            frames,
            if busy != 0 {
                frames.max(1)
            } else {
                frames - done
            },
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a steady load did to the WAL.
    struct Seen {
        /// Times the WAL started again from its beginning (its header's
        /// checkpoint sequence number changed).
        restarts: u32,
        /// The file's largest size seen during the load.
        largest: u64,
        /// The file's size after one more commit once the load stopped.
        after: u64,
    }

    /// The WAL header's checkpoint sequence number (bytes 12..16), which
    /// SQLite increments each time the WAL starts again.
    fn sequence(wal: &Path) -> Option<u32> {
        use std::io::Read;
        // The header only: the control's WAL reaches ~100 MB.
        let mut head = [0u8; 16];
        std::fs::File::open(wal).ok()?.read_exact(&mut head).ok()?;
        let field: [u8; 4] = head[12..16].try_into().ok()?;
        Some(u32::from_be_bytes(field))
    }

    /// Commits 4 KiB rows one at a time for `secs`, as the writer does its
    /// batches (checking for a restart after each), while the background
    /// rounds run every 10 ms with `reset`.
    fn steady_load(reset: i64, secs: f64) -> Seen {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let wal = dir.path().join("t.db-wal");
        let w = Connection::open(&path).expect("open");
        w.pragma_update(None, "journal_mode", "WAL").expect("wal");
        w.pragma_update(None, "synchronous", "NORMAL")
            .expect("sync");
        w.pragma_update(None, "wal_autocheckpoint", 0)
            .expect("auto");
        w.pragma_update(None, "journal_size_limit", 256 << 10)
            .expect("limit");
        w.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
            .expect("table");
        let c = Connection::open(&path).expect("open");
        let restart = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (restart2, stop2) = (Arc::clone(&restart), Arc::clone(&stop));
        let writer = std::thread::spawn(move || {
            let blob = vec![7u8; 4096];
            let mut n = 0i64;
            while !stop2.load(Ordering::Relaxed) {
                // A row replaced in place, as a call's events update it: the
                // database stays small while the WAL takes every commit.
                w.execute(
                    "INSERT OR REPLACE INTO t (id, b) VALUES (?1, ?2)",
                    rusqlite::params![n % 64, blob],
                )
                .expect("insert");
                finish_for_restart(&w, &restart2);
                n += 1;
                // Some 40 MB a second rather than all the disk takes: the
                // control's WAL still grows past its bound many times over.
                std::thread::sleep(Duration::from_micros(50));
            }
            w
        });
        let size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let mut restarts = 0;
        let mut largest = 0;
        let mut last = None;
        let start = std::time::Instant::now();
        while start.elapsed().as_secs_f64() < secs {
            round(&c, reset, &restart).expect("checkpoint");
            let now = sequence(&wal);
            if last.is_some() && now.is_some() && now != last {
                restarts += 1;
            }
            last = now.or(last);
            largest = largest.max(size());
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        let w = writer.join().expect("writer");
        round(&c, reset, &restart).expect("checkpoint");
        finish_for_restart(&w, &restart);
        w.execute("INSERT OR REPLACE INTO t (id, b) VALUES (0, x'00')", [])
            .expect("insert");
        Seen {
            restarts,
            largest,
            after: size(),
        }
    }

    #[test]
    fn a_steady_load_restarts_the_wal_and_cuts_it_back() {
        // Without the restart (the control), the background passes alone
        // hardly ever let the WAL start again while commits keep coming, and
        // it is as long as everything written since.
        let control = steady_load(i64::MAX, 1.0);
        // Restarted past 64 frames (256 KiB): it starts again round after
        // round, and is cut back to the 256 KiB limit once the load stops.
        let bounded = steady_load(64, 1.0);
        assert!(
            bounded.restarts >= 10 && bounded.restarts > 4 * control.restarts,
            "the WAL should start again on most of the ~100 rounds: {} restarts (the control: {})",
            bounded.restarts,
            control.restarts
        );
        assert!(
            control.largest > 8 << 20 && bounded.largest < control.largest,
            "the control's WAL should grow past 8 MiB and the restarted one less: {} and {} bytes",
            control.largest,
            bounded.largest
        );
        assert!(
            bounded.after <= 256 << 10,
            "the WAL should be cut back to 256 KiB, is {} bytes",
            bounded.after
        );
    }
}
