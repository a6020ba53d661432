//! The agents' phones rung for callers waiting in a Twilio queue (the
//! server's `queue_legs` places and cancels them). Kept here, not in one
//! receiver's memory, so that whichever receiver Twilio's next request
//! reaches — this one after a restart, or another instance of a cluster —
//! knows which phones still ring and which agent took the caller.
//!
//! A wait is one slice of ringing: each new slice replaces the call's row
//! (a new id), so that legs placed for an earlier slice, whose ids Twilio
//! gave only after the caller moved on, are told apart and cancelled.

use super::Writer;
use crate::error::Result;
use crate::time;
use rusqlite::{params, OptionalExtension};

/// Waits nobody closed (the platform never called back) are forgotten
/// after this long: no Twilio call rings for hours.
const FORGET_AFTER_SECONDS: i64 = 3 * 3600;

/// A leg Twilio created: its call id and the agent's phone it rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub sid: String,
    pub number: String,
}

/// What the legs of a slice became once Twilio gave their ids.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Placed {
    /// Placed for a caller no longer waiting for them: to cancel.
    pub late: Vec<String>,
    /// The phone of the leg that took the caller before its id was on
    /// record.
    pub taker: Option<String>,
}

/// An agent took the caller.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The other legs, still ringing: to cancel.
    pub others: Vec<String>,
    /// The phone the taking leg rang, when its id is on record.
    pub number: Option<String>,
}

/// Starts a new slice for the call: returns its id (given to `placed`) and
/// the previous slice's legs to cancel (never the one that took the
/// caller). Forgets waits older than three hours.
pub fn open(w: &Writer<'_>, provider_id: i64, call_id: &str) -> Result<(i64, Vec<String>)> {
    let stale = close(w, provider_id, call_id)?;
    let cutoff = time::fmt(w.now - chrono::Duration::seconds(FORGET_AFTER_SECONDS));
    w.conn
        .prepare_cached(
            "DELETE FROM ivr_queue_legs WHERE wait_id IN (SELECT id FROM ivr_queue_waits WHERE since < ?1)",
        )?
        .execute([&cutoff])?;
    w.conn
        .prepare_cached("DELETE FROM ivr_queue_waits WHERE since < ?1")?
        .execute([&cutoff])?;
    let id = w
        .conn
        .prepare_cached(
            "INSERT INTO ivr_queue_waits (provider_id, call_id, since) VALUES (?1, ?2, ?3) RETURNING id",
        )?
        .query_row(params![provider_id, call_id, time::fmt(w.now)], |r| r.get(0))?;
    Ok((id, stale))
}

/// The caller left the queue (answered, gave up, or the slice ended): the
/// wait ends; returns the legs still ringing, to cancel (never the one that
/// took the caller). Nothing when the call never waited.
pub fn close(w: &Writer<'_>, provider_id: i64, call_id: &str) -> Result<Vec<String>> {
    let wait: Option<(i64, Option<String>)> = w
        .conn
        .prepare_cached(
            "DELETE FROM ivr_queue_waits WHERE provider_id = ?1 AND call_id = ?2 RETURNING id, taken_by",
        )?
        .query_row(params![provider_id, call_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((id, taken_by)) = wait else {
        return Ok(Vec::new());
    };
    let legs = take_legs(w, id)?;
    Ok(legs
        .into_iter()
        .map(|l| l.sid)
        .filter(|s| Some(s) != taken_by.as_ref())
        .collect())
}

/// Records the legs placed for slice `wait_id`. Those placed for a slice
/// that is over, or for a caller already taken, come back to be cancelled;
/// the one that took the caller gives its phone.
pub fn placed(w: &Writer<'_>, wait_id: i64, legs: &[Leg]) -> Result<Placed> {
    let wait: Option<(bool, Option<String>)> = w
        .conn
        .prepare_cached("SELECT open, taken_by FROM ivr_queue_waits WHERE id = ?1")?
        .query_row([wait_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let mut out = Placed::default();
    match wait {
        Some((true, _)) => {
            let mut ins = w.conn.prepare_cached(
                "INSERT OR REPLACE INTO ivr_queue_legs (sid, wait_id, number) VALUES (?1, ?2, ?3)",
            )?;
            for l in legs {
                ins.execute(params![l.sid, wait_id, l.number])?;
            }
        }
        Some((false, taken_by)) => {
            for l in legs {
                if Some(&l.sid) == taken_by.as_ref() {
                    out.taker = Some(l.number.clone());
                } else {
                    out.late.push(l.sid.clone());
                }
            }
        }
        None => out.late = legs.iter().map(|l| l.sid.clone()).collect(),
    }
    Ok(out)
}

/// The agent's call `by` (Twilio's `DequeingCallSid`) is taking the caller:
/// the wait closes to new legs and hands back the others. `None` when the
/// call has no wait on record (never rung through a dialer, or forgotten).
pub fn taken(
    w: &Writer<'_>,
    provider_id: i64,
    call_id: &str,
    by: Option<&str>,
) -> Result<Option<Taken>> {
    let id: Option<i64> = w
        .conn
        .prepare_cached(
            "UPDATE ivr_queue_waits SET open = 0, taken_by = ?3 WHERE provider_id = ?1 AND call_id = ?2 RETURNING id",
        )?
        .query_row(params![provider_id, call_id, by], |r| r.get(0))
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    let mut out = Taken::default();
    for l in take_legs(w, id)? {
        if Some(l.sid.as_str()) == by {
            out.number = Some(l.number);
        } else {
            out.others.push(l.sid);
        }
    }
    Ok(Some(out))
}

fn take_legs(w: &Writer<'_>, wait_id: i64) -> Result<Vec<Leg>> {
    let mut stmt = w
        .conn
        .prepare_cached("DELETE FROM ivr_queue_legs WHERE wait_id = ?1 RETURNING sid, number")?;
    let rows = stmt.query_map([wait_id], |r| {
        Ok(Leg {
            sid: r.get(0)?,
            number: r.get(1)?,
        })
    })?;
    let mut legs = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    legs.sort_by(|a, b| a.sid.cmp(&b.sid));
    Ok(legs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn leg(sid: &str, number: &str) -> Leg {
        Leg {
            sid: sid.into(),
            number: number.into(),
        }
    }

    #[tokio::test]
    async fn each_slice_keeps_its_own_legs_and_late_ones_come_back_to_be_cancelled() {
        let (_dir, store) = temp_store();
        let out = store
            .write(|w| {
                let (first, stale) = open(w, 1, "CA1")?;
                assert!(stale.is_empty());
                let p = placed(w, first, &[leg("L1", "+1"), leg("L2", "+2")])?;
                assert_eq!(p, Placed::default());
                // The next slice: the first one's legs are handed back.
                let (second, stale) = open(w, 1, "CA1")?;
                assert_ne!(first, second);
                assert_eq!(stale, ["L1", "L2"]);
                // A first-slice leg whose id came only now is late.
                let p = placed(w, first, &[leg("L0", "+3")])?;
                assert_eq!(p.late, ["L0"]);
                placed(w, second, &[leg("L3", "+1"), leg("L4", "+2")])?;
                // Another call's wait is untouched by this one's.
                let (other, _) = open(w, 1, "CA2")?;
                placed(w, other, &[leg("M1", "+1")])?;
                // L4 takes the caller: L3 stops, L4 rang +2.
                let t = taken(w, 1, "CA1", Some("L4"))?.expect("a wait");
                assert_eq!(t.others, ["L3"]);
                assert_eq!(t.number.as_deref(), Some("+2"));
                // A leg of the taken slice whose id comes after: late, and
                // the taker's own id, arriving late, names its phone.
                let p = placed(w, second, &[leg("L5", "+5"), leg("L4", "+2")])?;
                assert_eq!(p.late, ["L5"]);
                assert_eq!(p.taker.as_deref(), Some("+2"));
                // The caller leaves: nothing of this call rings, never the
                // taker; an unknown call has nothing.
                assert!(close(w, 1, "CA1")?.is_empty());
                assert!(taken(w, 1, "CA9", Some("X"))?.is_none());
                close(w, 1, "CA2")
            })
            .await
            .unwrap();
        assert_eq!(out, ["M1"]);
    }

    /// The waits and legs of `call` on record.
    fn on_record(w: &Writer<'_>, call: &str) -> Result<(i64, i64)> {
        Ok(w.conn.query_row(
            "SELECT COUNT(*), (SELECT COUNT(*) FROM ivr_queue_legs l JOIN ivr_queue_waits q ON q.id = l.wait_id WHERE q.call_id = ?1)
             FROM ivr_queue_waits WHERE call_id = ?1",
            [call],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    #[tokio::test]
    async fn a_wait_nobody_closed_is_forgotten_after_three_hours() {
        let dir = tempfile::tempdir().unwrap();
        let clock = crate::time::OffsetClock::new();
        let store = crate::Store::open(dir.path().join("callboard.db"), clock.clone()).unwrap();
        store
            .write(|w| {
                let (id, _) = open(w, 1, "CA-old")?;
                placed(w, id, &[leg("L1", "+1")])?;
                Ok(())
            })
            .await
            .unwrap();
        // Another caller's wait opening is what forgets the old ones.
        clock.advance(chrono::Duration::minutes(3 * 60 - 1));
        let before = store
            .write(|w| {
                open(w, 1, "CA-new")?;
                on_record(w, "CA-old")
            })
            .await
            .unwrap();
        assert_eq!(before, (1, 1), "under three hours: still on record");
        clock.advance(chrono::Duration::minutes(2));
        let after = store
            .write(|w| {
                open(w, 1, "CA-other")?;
                on_record(w, "CA-old")
            })
            .await
            .unwrap();
        assert_eq!(after, (0, 0), "forgotten after three hours, with its legs");
    }
}
