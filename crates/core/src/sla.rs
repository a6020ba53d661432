//! SLA clocks that run only within a department's business hours: a weekly
//! schedule in an IANA time zone, minus holidays. Pure functions over an
//! explicit start time, so every rule is testable without a clock.
//!
//! Minutes are counted as real elapsed time inside open intervals: an
//! interval that spans a DST change is one hour shorter (spring) or longer
//! (autumn) than its wall-clock length, as a waiting caller experiences it.

use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Weekday keys as they appear in `weekly`, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// How long the search for open time may look ahead before giving up: a
/// schedule that is open at least once a week never comes near it.
const HORIZON_DAYS: i64 = 3 * 366;

/// Business hours as configured on a provider, e.g.
/// `{"time_zone":"Europe/London","weekly":{"mon":[["09:00","18:00"]]},"holidays":["2026-12-25"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursConfig {
    /// An IANA time zone, e.g. `Asia/Kolkata`.
    pub time_zone: String,
    /// Per weekday (`mon` … `sun`), open intervals `["HH:MM","HH:MM"]`; the
    /// end may be `24:00`. A day left out is closed.
    #[serde(default)]
    pub weekly: BTreeMap<String, Vec<[String; 2]>>,
    /// Closed dates (`YYYY-MM-DD`, in the department's time zone).
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Compiled business hours.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: Tz,
    /// Per weekday (Monday = 0), sorted, non-overlapping, in minutes since
    /// local midnight; `end` may be 1440.
    days: [Vec<(u32, u32)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

fn parse_hhmm(s: &str, field: &str) -> Result<u32> {
    let bad = || {
        Error::invalid(format!(
            "{field}: `{s}` is not a time: use HH:MM (00:00-24:00)"
        ))
    };
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl BusinessHours {
    /// Validates `cfg`; errors name the offending field
    /// (`business_hours.weekly.mon[1]`, `business_hours.time_zone`, …).
    pub fn compile(cfg: &BusinessHoursConfig) -> Result<BusinessHours> {
        let tz: Tz = cfg.time_zone.trim().parse().map_err(|_| {
            Error::invalid(format!(
                "business_hours.time_zone: `{}` is not an IANA time zone (e.g. `Europe/London`)",
                cfg.time_zone
            ))
        })?;
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for (key, intervals) in &cfg.weekly {
            let Some(i) = DAYS.iter().position(|d| d == key) else {
                return Err(Error::invalid(format!(
                    "business_hours.weekly.{key}: not a weekday: use {}",
                    DAYS.join(", ")
                )));
            };
            let mut list = Vec::with_capacity(intervals.len());
            for (n, [a, b]) in intervals.iter().enumerate() {
                let field = format!("business_hours.weekly.{key}[{n}]");
                let (start, end) = (parse_hhmm(a, &field)?, parse_hhmm(b, &field)?);
                if start >= end {
                    return Err(Error::invalid(format!(
                        "{field}: opens at {a} but closes at {b}: the end must be after the start"
                    )));
                }
                list.push((start, end));
            }
            list.sort_unstable();
            if let Some(w) = list.windows(2).find(|w| w[1].0 < w[0].1) {
                return Err(Error::invalid(format!(
                    "business_hours.weekly.{key}: intervals overlap ({:02}:{:02} starts before {:02}:{:02} ends)",
                    w[1].0 / 60, w[1].0 % 60, w[0].1 / 60, w[0].1 % 60
                )));
            }
            days[i] = list;
        }
        if days.iter().all(Vec::is_empty) {
            return Err(Error::invalid(
                "business_hours.weekly: give at least one open interval (or no business hours for 24×7)",
            ));
        }
        let mut holidays = BTreeSet::new();
        for (n, h) in cfg.holidays.iter().enumerate() {
            let d = NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").map_err(|_| {
                Error::invalid(format!(
                    "business_hours.holidays[{n}]: `{h}` is not a date: use YYYY-MM-DD"
                ))
            })?;
            holidays.insert(d);
        }
        Ok(BusinessHours { tz, days, holidays })
    }

    /// The real instant of local `minute` (minutes since midnight, may be
    /// 1440) on `date`. A wall time skipped by a DST change maps to the
    /// first instant after the gap; a repeated one to its `later` or earlier
    /// occurrence.
    fn instant(&self, date: NaiveDate, minute: u32, later: bool) -> Option<DateTime<Utc>> {
        let (date, minute) = if minute >= 1440 {
            (date.succ_opt()?, minute - 1440)
        } else {
            (date, minute)
        };
        let mut naive = date.and_time(NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)?);
        // Gaps are at most a few hours; step forward to the first valid minute.
        for _ in 0..(4 * 60) {
            match self.tz.from_local_datetime(&naive) {
                chrono::LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                chrono::LocalResult::Ambiguous(a, b) => {
                    return Some(if later { b } else { a }.with_timezone(&Utc))
                }
                chrono::LocalResult::None => naive += Duration::minutes(1),
            }
        }
        None
    }

    /// Open intervals (UTC) of the local day `date`, in order.
    fn open_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let wd = date.weekday().num_days_from_monday() as usize;
        self.days[wd]
            .iter()
            .filter_map(|&(a, b)| {
                let s = self.instant(date, a, false)?;
                let e = self.instant(date, b, true)?;
                (s < e).then_some((s, e))
            })
            .collect()
    }

    /// Walks open intervals from `from` on, calling `f(start, end)` for each
    /// (clipped to `from`) until `f` returns true or the horizon is reached.
    fn walk(&self, from: DateTime<Utc>, mut f: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> bool) {
        // Start a day early: an interval of the previous local day may run
        // past midnight (`24:00`) into `from`.
        let first = from
            .with_timezone(&self.tz)
            .date_naive()
            .pred_opt()
            .unwrap_or(NaiveDate::MIN);
        let mut date = first;
        for _ in 0..HORIZON_DAYS {
            for (s, e) in self.open_on(date) {
                if e <= from {
                    continue;
                }
                if f(s.max(from), e) {
                    return;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => return,
            }
        }
    }

    /// Whether `t` falls inside business hours.
    /// The department's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let mut open = false;
        self.walk(t, |s, _| {
            open = s == t;
            true
        });
        open
    }
}

/// When an SLA of `sla_minutes` that starts at `start` runs out, counting
/// only open time. No business hours: the clock runs around the clock.
pub fn deadline(
    start: DateTime<Utc>,
    sla_minutes: i64,
    hours: Option<&BusinessHours>,
) -> DateTime<Utc> {
    let fallback = start + Duration::minutes(sla_minutes);
    let Some(hours) = hours else {
        return fallback;
    };
    let mut left = Duration::minutes(sla_minutes.max(0));
    let mut due = None;
    hours.walk(start, |s, e| {
        let open = e - s;
        if left <= open {
            due = Some(s + left);
            return true;
        }
        left -= open;
        false
    });
    // Only a schedule with no open time within the horizon gets here
    // (holidays covering years); the plain clock is the safe answer.
    due.unwrap_or(fallback)
}

/// Open time between `from` and `to` (zero when `to` is not after `from`).
pub fn open_between(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hours: Option<&BusinessHours>,
) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    let Some(hours) = hours else {
        return to - from;
    };
    let mut total = Duration::zero();
    hours.walk(from, |s, e| {
        if s >= to {
            return true;
        }
        total += e.min(to) - s;
        e >= to
    });
    total
}

/// Time left on a clock that runs out at `due`, as of `now`: open time
/// still to run, or (negative) the real time since it ran out.
pub fn remaining(
    now: DateTime<Utc>,
    due: DateTime<Utc>,
    hours: Option<&BusinessHours>,
) -> Duration {
    if now >= due {
        return -(now - due);
    }
    open_between(now, due, hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(tz: &str, weekly: &[(&str, &[(&str, &str)])], holidays: &[&str]) -> BusinessHours {
        let cfg = BusinessHoursConfig {
            time_zone: tz.into(),
            weekly: weekly
                .iter()
                .map(|(d, iv)| {
                    (
                        d.to_string(),
                        iv.iter()
                            .map(|(a, b)| [a.to_string(), b.to_string()])
                            .collect(),
                    )
                })
                .collect(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        };
        BusinessHours::compile(&cfg).unwrap()
    }

    const NINE_TO_SIX_WITH_LUNCH: &[(&str, &str)] = &[("09:00", "13:00"), ("14:00", "18:00")];

    fn office(tz: &str, holidays: &[&str]) -> BusinessHours {
        hours(
            tz,
            &[
                ("mon", NINE_TO_SIX_WITH_LUNCH),
                ("tue", NINE_TO_SIX_WITH_LUNCH),
                ("wed", NINE_TO_SIX_WITH_LUNCH),
                ("thu", NINE_TO_SIX_WITH_LUNCH),
                ("fri", NINE_TO_SIX_WITH_LUNCH),
            ],
            holidays,
        )
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn without_business_hours_the_clock_runs_around_the_clock() {
        let t = utc("2026-11-28T23:50:00Z");
        assert_eq!(deadline(t, 30, None), utc("2026-11-29T00:20:00Z"));
        assert_eq!(
            remaining(t, utc("2026-11-29T00:20:00Z"), None),
            Duration::minutes(30)
        );
    }

    #[test]
    fn a_miss_before_opening_starts_counting_at_opening() {
        let h = office("UTC", &[]);
        // Tuesday 07:12 → clock starts at 09:00.
        assert_eq!(
            deadline(utc("2026-11-24T07:12:00Z"), 30, Some(&h)),
            utc("2026-11-24T09:30:00Z")
        );
    }

    #[test]
    fn the_lunch_gap_does_not_count() {
        let h = office("UTC", &[]);
        assert_eq!(
            deadline(utc("2026-11-24T12:45:00Z"), 30, Some(&h)),
            utc("2026-11-24T14:15:00Z")
        );
        // Missed during lunch: starts at 14:00.
        assert_eq!(
            deadline(utc("2026-11-24T13:20:00Z"), 30, Some(&h)),
            utc("2026-11-24T14:30:00Z")
        );
    }

    #[test]
    fn a_weekend_is_skipped() {
        let h = office("UTC", &[]);
        // Friday 17:50 + 30 min → Monday 09:20.
        assert_eq!(
            deadline(utc("2026-11-27T17:50:00Z"), 30, Some(&h)),
            utc("2026-11-30T09:20:00Z")
        );
        // Missed on Saturday → Monday 09:30.
        assert_eq!(
            deadline(utc("2026-11-28T11:00:00Z"), 30, Some(&h)),
            utc("2026-11-30T09:30:00Z")
        );
    }

    #[test]
    fn a_holiday_is_skipped() {
        let h = office("UTC", &["2026-12-25"]);
        // Thursday 24 Dec 17:45 + 30 → Friday 25 is a holiday → Monday 28 09:15.
        assert_eq!(
            deadline(utc("2026-12-24T17:45:00Z"), 30, Some(&h)),
            utc("2026-12-28T09:15:00Z")
        );
    }

    #[test]
    fn exactly_at_boundaries() {
        let h = office("UTC", &[]);
        // Starting exactly at opening, and an SLA that ends exactly at closing.
        assert_eq!(
            deadline(utc("2026-11-24T09:00:00Z"), 240, Some(&h)),
            utc("2026-11-24T13:00:00Z")
        );
        // Starting exactly at closing: the next interval.
        assert_eq!(
            deadline(utc("2026-11-24T13:00:00Z"), 1, Some(&h)),
            utc("2026-11-24T14:01:00Z")
        );
        assert_eq!(
            deadline(utc("2026-11-24T18:00:00Z"), 1, Some(&h)),
            utc("2026-11-25T09:01:00Z")
        );
        // Zero minutes: due the moment the clock would start.
        assert_eq!(
            deadline(utc("2026-11-24T09:00:00Z"), 0, Some(&h)),
            utc("2026-11-24T09:00:00Z")
        );
        assert!(h.is_open(utc("2026-11-24T09:00:00Z")));
        assert!(!h.is_open(utc("2026-11-24T13:00:00Z")));
        assert!(!h.is_open(utc("2026-11-28T10:00:00Z")));
    }

    #[test]
    fn the_local_time_zone_decides_the_day() {
        // 09:00-18:00 in Kolkata (UTC+5:30) = 03:30-12:30 UTC.
        let h = hours("Asia/Kolkata", &[("mon", &[("09:00", "18:00")])], &[]);
        // Sunday 23:00 UTC is Monday 04:30 local: before opening.
        assert_eq!(
            deadline(utc("2026-11-29T23:00:00Z"), 60, Some(&h)),
            utc("2026-11-30T04:30:00Z")
        );
    }

    #[test]
    fn new_york_spring_forward() {
        // 2026-03-08 02:00 EST → 03:00 EDT. Open Sunday 00:00-06:00 local,
        // which is five real hours (05:00Z-10:00Z).
        let h = hours("America/New_York", &[("sun", &[("00:00", "06:00")])], &[]);
        let start = utc("2026-03-08T05:00:00Z"); // 00:00 EST
        assert_eq!(
            deadline(start, 5 * 60, Some(&h)),
            utc("2026-03-08T10:00:00Z")
        );
        assert_eq!(
            open_between(start, utc("2026-03-09T00:00:00Z"), Some(&h)),
            Duration::hours(5)
        );
        // One more minute spills into the next Sunday (EDT: 04:00Z).
        assert_eq!(
            deadline(start, 5 * 60 + 1, Some(&h)),
            utc("2026-03-15T04:01:00Z")
        );
    }

    #[test]
    fn new_york_opening_inside_the_skipped_hour_opens_after_it() {
        let h = hours("America/New_York", &[("sun", &[("02:30", "04:00")])], &[]);
        // 02:30 does not exist on 8 March: opens at 03:00 EDT = 07:00Z.
        assert_eq!(
            deadline(utc("2026-03-08T05:00:00Z"), 10, Some(&h)),
            utc("2026-03-08T07:10:00Z")
        );
    }

    #[test]
    fn new_york_fall_back() {
        // 2026-11-01 02:00 EDT → 01:00 EST: 00:00-06:00 local is seven real hours.
        let h = hours("America/New_York", &[("sun", &[("00:00", "06:00")])], &[]);
        let start = utc("2026-11-01T04:00:00Z"); // 00:00 EDT
        assert_eq!(
            open_between(start, utc("2026-11-02T00:00:00Z"), Some(&h)),
            Duration::hours(7)
        );
        assert_eq!(
            deadline(start, 7 * 60, Some(&h)),
            utc("2026-11-01T11:00:00Z")
        );
    }

    #[test]
    fn london_clocks_change_keeps_office_hours_local() {
        let h = office("Europe/London", &[]);
        // Friday 27 March 2026 17:30 GMT (= 17:30Z); clocks go forward on
        // Sunday 29 March; Monday opens 09:00 BST = 08:00Z.
        assert_eq!(
            deadline(utc("2026-03-27T17:30:00Z"), 60, Some(&h)),
            utc("2026-03-30T08:30:00Z")
        );
        // Friday 23 October 2026 17:30 BST (16:30Z); back to GMT on the
        // 25th; Monday opens 09:00 GMT = 09:00Z.
        assert_eq!(
            deadline(utc("2026-10-23T16:30:00Z"), 60, Some(&h)),
            utc("2026-10-26T09:30:00Z")
        );
    }

    #[test]
    fn remaining_counts_open_time_and_goes_negative_after_the_deadline() {
        let h = office("UTC", &[]);
        let due = utc("2026-11-30T09:20:00Z");
        // Friday 17:50: 10 minutes today + 20 on Monday.
        assert_eq!(
            remaining(utc("2026-11-27T17:50:00Z"), due, Some(&h)),
            Duration::minutes(30)
        );
        assert_eq!(
            remaining(utc("2026-11-28T12:00:00Z"), due, Some(&h)),
            Duration::minutes(20)
        );
        assert_eq!(
            remaining(utc("2026-11-30T09:25:00Z"), due, Some(&h)),
            Duration::minutes(-5)
        );
    }

    #[test]
    fn an_interval_to_midnight_reaches_the_next_day() {
        let h = hours(
            "UTC",
            &[
                ("mon", &[("22:00", "24:00")]),
                ("tue", &[("00:00", "02:00")]),
            ],
            &[],
        );
        assert_eq!(
            deadline(utc("2026-11-30T23:30:00Z"), 60, Some(&h)),
            utc("2026-12-01T00:30:00Z")
        );
    }

    #[test]
    fn validation_names_the_bad_field() {
        let bad = |cfg: serde_json::Value| {
            let cfg: BusinessHoursConfig = serde_json::from_value(cfg).unwrap();
            BusinessHours::compile(&cfg).unwrap_err().to_string()
        };
        assert!(bad(
            serde_json::json!({"time_zone": "Mars/Base", "weekly": {"mon": [["09:00", "17:00"]]}})
        )
        .contains("business_hours.time_zone"));
        assert!(bad(
            serde_json::json!({"time_zone": "UTC", "weekly": {"funday": [["09:00", "17:00"]]}})
        )
        .contains("business_hours.weekly.funday"));
        assert!(bad(serde_json::json!({"time_zone": "UTC", "weekly": {"mon": [["09:00", "17:00"], ["9am", "10:00"]]}}))
            .contains("business_hours.weekly.mon[1]"));
        assert!(bad(
            serde_json::json!({"time_zone": "UTC", "weekly": {"tue": [["18:00", "09:00"]]}})
        )
        .contains("business_hours.weekly.tue[0]"));
        assert!(bad(serde_json::json!({"time_zone": "UTC", "weekly": {"wed": [["09:00", "13:00"], ["12:00", "18:00"]]}}))
            .contains("overlap"));
        assert!(bad(serde_json::json!({"time_zone": "UTC", "weekly": {}}))
            .contains("business_hours.weekly"));
        assert!(bad(serde_json::json!({"time_zone": "UTC", "weekly": {"mon": [["09:00", "17:00"]]}, "holidays": ["25/12/2026"]}))
            .contains("business_hours.holidays[0]"));
    }
}
