//! The metrics' sums per department and UTC quarter hour, kept between
//! reports. A quarter's sums are reused while its change counter in
//! `metrics_quarters` (kept by triggers on `calls`, v22_metrics_quarters.sql)
//! stands still, so a report over a month sums again only the quarters whose
//! calls changed since the last one — in a live center, the last few — and
//! the partial quarters at the range's ends.
//!
//! The one input that changes without a write is "now": a callback SLA clock
//! that runs out stops without touching its call. Kept sums count only the
//! clocks stopped by a resolution; the ones run out by now are counted at
//! each report from the worklist's SLA index (open calls only).

use super::{grouped_each, Acc, MetricsQuery, OFFERED_AT, SEP};
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::Connection;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// A call's quarter from the per-call query's `offered_at`; the triggers of
/// v22 compute the same text from `COALESCE(started_at, created_at)`.
pub(super) const QUARTER: &str = "strftime('%Y-%m-%dT%H:', offered_at) \
     || printf('%02d', (CAST(strftime('%M', offered_at) AS INTEGER) / 15) * 15)";

pub(super) const QUARTER_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// Past this many kept quarters (about a year of one department, or a month
/// of forty) the cache starts over rather than grow.
const MAX_KEPT: usize = 120_000;

/// More separate runs of changed quarters than this are summed as one range.
const MAX_RUNS: usize = 12;

/// Sums of one department's quarter, with the counter they were made at.
#[derive(Debug, Clone, Copy)]
struct Kept {
    changes: i64,
    acc: Packed,
}

/// [`Acc`] as it is kept: its fourteen counts as `u32` (one department's
/// quarter hour never counts four billion calls), its three sums as they
/// are: 88 bytes a value instead of 136.
#[derive(Debug, Clone, Copy, Default)]
struct Packed {
    counts: [u32; 14],
    wait_ms: i64,
    handle_s: f64,
    cb_wait_ms: i64,
}

impl Packed {
    /// None when a count does not fit (then the cell is summed at each report).
    fn pack(a: &Acc) -> Option<Packed> {
        let c = |v: i64| u32::try_from(v).ok();
        Some(Packed {
            counts: [
                c(a.offered)?,
                c(a.answered)?,
                c(a.in_sl)?,
                c(a.abandoned)?,
                c(a.short)?,
                c(a.missed)?,
                c(a.wait_n)?,
                c(a.handle_n)?,
                c(a.due)?,
                c(a.attempted)?,
                c(a.resolved)?,
                c(a.sla_met)?,
                c(a.sla_stopped)?,
                c(a.cb_wait_n)?,
            ],
            wait_ms: a.wait_ms,
            handle_s: a.handle_s,
            cb_wait_ms: a.cb_wait_ms,
        })
    }

    fn unpack(&self) -> Acc {
        let [offered, answered, in_sl, abandoned, short, missed, wait_n, handle_n, due, attempted, resolved, sla_met, sla_stopped, cb_wait_n] =
            self.counts.map(i64::from);
        Acc {
            offered,
            answered,
            in_sl,
            abandoned,
            short,
            missed,
            wait_ms: self.wait_ms,
            wait_n,
            handle_s: self.handle_s,
            handle_n,
            due,
            attempted,
            resolved,
            sla_met,
            sla_stopped,
            cb_wait_ms: self.cb_wait_ms,
            cb_wait_n,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// The thresholds (T and short abandon, ms) the kept sums were made with.
    thresholds: (i64, i64),
    departments: Vec<String>,
    numbers: HashMap<String, u32>,
    kept: Cells,
}

/// A department's quarter: (quarter, department number).
type Key = (i64, u32);

/// The kept sums, sorted by key. A month of twenty departments is ~57,400
/// cells (the warm-up's count at `scale-bench`'s year): 104 bytes each, in
/// a vector of exactly that many 5.7 MiB; a hash table held them in 131,072
/// slots (it doubles past 57,344), 13 MiB of the server's 60 MiB bound.
#[derive(Debug, Default)]
struct Cells(Vec<(Key, Kept)>);

impl Cells {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn at(&self, key: &Key) -> Option<usize> {
        self.0.binary_search_by_key(key, |e| e.0).ok()
    }

    fn get(&self, key: &Key) -> Option<&Kept> {
        self.at(key).map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut Kept> {
        self.at(key).map(|i| &mut self.0[i].1)
    }

    fn remove(&mut self, key: &Key) {
        if let Some(i) = self.at(key) {
            self.0.remove(i);
        }
    }

    /// Adds cells not kept yet. New quarters are the latest ones, so most
    /// often this only appends.
    fn add(&mut self, mut new: Vec<(Key, Kept)>) {
        if new.is_empty() {
            return;
        }
        new.sort_unstable_by_key(|e| e.0);
        let appends = self.0.last().is_none_or(|last| last.0 < new[0].0);
        self.0.extend(new);
        if !appends {
            self.0.sort_by_key(|e| e.0);
        }
    }
}

impl State {
    fn department(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.numbers.get(name) {
            return i;
        }
        let i = self.departments.len() as u32;
        self.departments.push(name.to_string());
        self.numbers.insert(name.to_string(), i);
        i
    }
}

/// What a store keeps of past reports; one per open database.
#[derive(Debug, Default)]
pub struct QuarterCache {
    state: Mutex<State>,
}

impl QuarterCache {
    /// Department quarter hours whose sums are kept.
    pub fn cells(&self) -> usize {
        self.state.lock().map(|s| s.kept.len()).unwrap_or(0)
    }
}

/// Minutes since the epoch / 15.
fn index_of(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp().div_euclid(900)
}

fn start_of(index: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(index * 900, 0).ok_or_else(|| Error::invalid("quarter out of range"))
}

fn parse_quarter(text: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(text, QUARTER_FORMAT)
        .ok()
        .map(index_of)
}

/// The sums per department and quarter of the calls offered in
/// `[q.from, q.to)`, with the callback SLA clocks run out by `q.now`, each
/// handed to `sink` (department number, quarter: seconds since the epoch /
/// 900, sums; a cell may come in parts, to be added up); returns the
/// department names the numbers stand for.
///
/// Allocation matters here: a month of forty departments is ~100,000 cells,
/// so nothing is collected per cell but the kept sums themselves.
pub(super) fn sums(
    conn: &Connection,
    q: &MetricsQuery,
    cache: &QuarterCache,
    sink: &mut dyn FnMut(u32, i64, &Acc),
) -> Result<Vec<String>> {
    let from = crate::time::parse(&q.from).ok_or_else(|| Error::invalid("bad `from`"))?;
    let to = crate::time::parse(&q.to).ok_or_else(|| Error::invalid("bad `to`"))?;
    let first = (from.timestamp() + 899).div_euclid(900);
    let end = to.timestamp().div_euclid(900);
    let thresholds = (q.sl_seconds * 1000, q.short_abandon_seconds * 1000);
    let mut guard = cache
        .state
        .lock()
        .map_err(|_| Error::invalid("metrics cache poisoned"))?;
    let state: &mut State = &mut guard;
    if state.thresholds != thresholds || state.kept.len() > MAX_KEPT {
        *state = State {
            thresholds,
            ..State::default()
        };
    }
    // One snapshot: the counters and the sums made from the rows must agree.
    let tx = conn.unchecked_transaction()?;
    let group = format!("dep || char(31) || {QUARTER}");
    let raw = |state: &mut State,
               range: (&str, &str),
               each: &mut dyn FnMut(u32, i64, Acc)|
     -> Result<()> {
        grouped_each(&tx, q, &group, range, "", |k, acc| {
            if let Some((dep, quarter)) = k.split_once(SEP) {
                if let Some(quarter) = parse_quarter(quarter) {
                    each(state.department(dep), quarter, acc);
                }
            }
        })
    };
    let mut not_kept: Vec<(String, String)> = Vec::new();
    if first >= end {
        not_kept.push((q.from.clone(), q.to.clone()));
    } else {
        let whole = (
            crate::time::fmt(start_of(first)?),
            crate::time::fmt(start_of(end)?),
        );
        // The partial quarters at both ends are never kept.
        if q.from < whole.0 {
            not_kept.push((q.from.clone(), whole.0.clone()));
        }
        if whole.1 < q.to {
            not_kept.push((whole.1.clone(), q.to.clone()));
        }
        let counters = counters(&tx, q, (first, end), state)?;
        let mut stale: HashMap<(i64, u32), i64> = HashMap::new();
        // Cells too big to keep (see `Packed`): summed now, and again next time.
        let mut oversized: HashMap<(i64, u32), Acc> = HashMap::new();
        let mut added = Vec::new();
        for &(quarter, d, changes) in &counters {
            match state.kept.get_mut(&(quarter, d)) {
                Some(k) if k.changes == changes => {}
                Some(k) => {
                    // Summed again below; a quarter left with no call sums to nothing.
                    *k = Kept {
                        changes,
                        acc: Packed::default(),
                    };
                    stale.insert((quarter, d), changes);
                }
                None => {
                    added.push((
                        (quarter, d),
                        Kept {
                            changes,
                            acc: Packed::default(),
                        },
                    ));
                    stale.insert((quarter, d), changes);
                }
            }
        }
        state.kept.add(added);
        let quarters: BTreeSet<i64> = stale.keys().map(|s| s.0).collect();
        for (a, b) in runs(&quarters) {
            let range = (
                crate::time::fmt(start_of(a)?),
                crate::time::fmt(start_of(b + 1)?),
            );
            let mut fresh: Vec<((i64, u32), Acc)> = Vec::new();
            raw(state, (&range.0, &range.1), &mut |d, quarter, acc| {
                // A merged run also reads quarters that did not change: kept as they are.
                if stale.contains_key(&(quarter, d)) {
                    fresh.push(((quarter, d), acc));
                }
            })?;
            for (key, acc) in fresh {
                match Packed::pack(&acc) {
                    Some(packed) => {
                        if let Some(k) = state.kept.get_mut(&key) {
                            k.acc = packed;
                        }
                    }
                    None => {
                        state.kept.remove(&key);
                        oversized.insert(key, acc);
                    }
                }
            }
        }
        for &(quarter, d, _) in &counters {
            if let Some(k) = state.kept.get(&(quarter, d)) {
                sink(d, quarter, &k.acc.unpack());
            } else if let Some(acc) = oversized.get(&(quarter, d)) {
                sink(d, quarter, acc);
            }
        }
    }
    for range in &not_kept {
        raw(state, (&range.0, &range.1), &mut |d, quarter, acc| {
            sink(d, quarter, &acc)
        })?;
    }
    for (dep, quarter, n) in run_out_clocks(&tx, q)? {
        let d = state.department(&dep);
        let acc = Acc {
            sla_stopped: n,
            ..Acc::default()
        };
        sink(d, quarter, &acc);
    }
    tx.finish()?;
    Ok(state.departments.clone())
}

/// The change counters of the whole quarters `[first, end)` of the query's
/// departments: (quarter, department, changes).
fn counters(
    conn: &Connection,
    q: &MetricsQuery,
    (first, end): (i64, i64),
    state: &mut State,
) -> Result<Vec<(i64, u32, i64)>> {
    let fmt = |i: i64| -> Result<String> { Ok(start_of(i)?.format(QUARTER_FORMAT).to_string()) };
    let mut stmt = conn.prepare_cached(
        "SELECT quarter, department, changes FROM metrics_quarters WHERE quarter >= ?1 AND quarter < ?2",
    )?;
    let mut rows = stmt.query([fmt(first)?, fmt(end)?])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let as_str = |i: usize| -> rusqlite::Result<&str> {
            r.get_ref(i)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        let dep = as_str(1)?;
        if q.departments
            .as_ref()
            .is_some_and(|ds| !ds.iter().any(|d| d == dep))
        {
            continue;
        }
        let Some(quarter) = parse_quarter(as_str(0)?) else {
            continue;
        };
        let d = state.department(dep);
        out.push((quarter, d, r.get::<_, i64>(2)?));
    }
    Ok(out)
}

/// Contiguous runs `[a, b]` of the quarters; past [`MAX_RUNS`], one run from
/// the first to the last.
fn runs(quarters: &BTreeSet<i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &q in quarters {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == q => *b = q,
            _ => out.push((q, q)),
        }
    }
    if out.len() > MAX_RUNS {
        let (a, b) = (out[0].0, out[out.len() - 1].1);
        return vec![(a, b)];
    }
    out
}

/// Missed and hung-up calls offered in the range whose callback SLA ran out
/// by `q.now` with the call still open, per department and quarter: read
/// from the worklist's index, never from the range's rows.
fn run_out_clocks(conn: &Connection, q: &MetricsQuery) -> Result<Vec<(String, i64, i64)>> {
    let deps = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let mut stmt = conn.prepare_cached(&run_out_sql())?;
    let rows = stmt.query_map(rusqlite::params![q.from, q.to, q.now, deps], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (dep, quarter, n) = row?;
        if let Some(i) = parse_quarter(&quarter) {
            out.push((dep, i, n));
        }
    }
    Ok(out)
}

pub(super) fn run_out_sql() -> String {
    // The open worklist by offer time (v24: it holds every column read
    // here): the range's open calls only, never the range's every call (a
    // month of them) nor every open call whose clock ran out (a year's).
    format!(
        "SELECT dep, {QUARTER}, COUNT(*) FROM (
            SELECT c.department AS dep, {OFFERED_AT} AS offered_at FROM calls c INDEXED BY calls_open_offered
             WHERE c.work_state <> 'resolved'
               AND {OFFERED_AT} >= ?1 AND {OFFERED_AT} < ?2
               AND c.sla_due_at <= ?3
               AND (?4 IS NULL OR c.department IN (SELECT value FROM json_each(?4)))
               AND LOWER(COALESCE(c.direction, '')) NOT LIKE 'out%')
         GROUP BY 1, 2"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_quarters_are_summed_in_few_runs() {
        let set = |v: &[i64]| v.iter().copied().collect::<BTreeSet<i64>>();
        assert_eq!(runs(&set(&[])), vec![]);
        assert_eq!(runs(&set(&[5, 6, 7, 10])), vec![(5, 7), (10, 10)]);
        let scattered: Vec<i64> = (0..30).map(|i| i * 3).collect();
        assert_eq!(runs(&set(&scattered)), vec![(0, 87)]);
    }

    #[test]
    fn kept_sums_unpack_to_what_was_packed_and_oversized_ones_are_not_kept() {
        let acc = Acc {
            offered: 7,
            answered: 5,
            in_sl: 4,
            abandoned: 1,
            short: 1,
            missed: 1,
            wait_ms: -1_500,
            wait_n: 5,
            handle_s: 812.5,
            handle_n: 5,
            due: 2,
            attempted: 2,
            resolved: 1,
            sla_met: 1,
            sla_stopped: 2,
            cb_wait_ms: 9_000_000_000,
            cb_wait_n: 2,
        };
        let back = Packed::pack(&acc).expect("fits").unpack();
        assert_eq!(format!("{back:?}"), format!("{acc:?}"));
        for too_big in [i64::from(u32::MAX) + 1, -1] {
            let a = Acc {
                offered: too_big,
                ..acc
            };
            assert!(Packed::pack(&a).is_none(), "{too_big}");
        }
    }

    #[test]
    fn kept_cells_are_found_whatever_order_they_came_in() {
        let kept = |changes| Kept {
            changes,
            acc: Packed::default(),
        };
        let mut cells = Cells::default();
        cells.add(vec![((10, 1), kept(1)), ((10, 0), kept(2))]);
        // Later quarters append; an earlier one (a late call) sorts in.
        cells.add(vec![((11, 0), kept(3))]);
        cells.add(vec![((9, 5), kept(4)), ((12, 0), kept(5))]);
        assert_eq!(cells.len(), 5);
        for (key, changes) in [
            ((9, 5), 4),
            ((10, 0), 2),
            ((10, 1), 1),
            ((11, 0), 3),
            ((12, 0), 5),
        ] {
            assert_eq!(cells.get(&key).map(|k| k.changes), Some(changes), "{key:?}");
        }
        if let Some(k) = cells.get_mut(&(11, 0)) {
            k.changes = 30;
        }
        cells.remove(&(10, 0));
        assert_eq!(cells.get(&(11, 0)).map(|k| k.changes), Some(30));
        assert!(cells.get(&(10, 0)).is_none());
        assert!(cells.get(&(13, 0)).is_none());
        assert_eq!(cells.len(), 4);
    }

    #[test]
    fn quarters_round_trip_through_their_text() {
        let i = parse_quarter("2026-03-01T10:45").unwrap();
        assert_eq!(
            start_of(i).unwrap().format(QUARTER_FORMAT).to_string(),
            "2026-03-01T10:45"
        );
        assert_eq!(
            parse_quarter("2026-03-01T10:45").unwrap() + 1,
            parse_quarter("2026-03-01T11:00").unwrap()
        );
    }
}
