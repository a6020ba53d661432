//! Timestamp parsing for the `epoch_s`, `epoch_ms`, `iso8601` and `datetime`
//! transforms. Every function returns `Ok(None)` for "not set" sentinels
//! (epoch `0`, `0000-00-00 …`), `Err(message)` for values that cannot be read.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// The unit of an epoch number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unit {
    Seconds,
    Millis,
    /// `> 1e17` → ns, `> 1e14` → µs, `> 1e11` → ms, else seconds.
    Auto,
}

/// A number read from JSON or from a numeric string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn from_json(n: &serde_json::Number) -> Option<Num> {
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i))
        } else {
            n.as_f64().filter(|f| f.is_finite()).map(Num::Float)
        }
    }

    /// A decimal number written as text (`"1716708621946"`, `"-3"`, `"12.5"`,
    /// `"1e3"`); `NaN`, `inf` and the like are rejected.
    pub(crate) fn parse(s: &str) -> Option<Num> {
        let s = s.trim();
        if s.is_empty()
            || !s.bytes().any(|b| b.is_ascii_digit())
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            return None;
        }
        if let Ok(i) = s.parse::<i64>() {
            return Some(Num::Int(i));
        }
        s.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Num::Float)
    }

    fn abs_f64(self) -> f64 {
        match self {
            Num::Int(i) => (i as f64).abs(),
            Num::Float(f) => f.abs(),
        }
    }
}

/// An epoch number as a timestamp. `0` means "not set".
pub(crate) fn from_epoch(n: Num, unit: Unit) -> Result<Option<DateTime<Utc>>, String> {
    if n.abs_f64() == 0.0 {
        return Ok(None);
    }
    // nanoseconds per unit
    let scale: i64 = match unit {
        Unit::Seconds => 1_000_000_000,
        Unit::Millis => 1_000_000,
        Unit::Auto => {
            let a = n.abs_f64();
            if a > 1e17 {
                1
            } else if a > 1e14 {
                1_000
            } else if a > 1e11 {
                1_000_000
            } else {
                1_000_000_000
            }
        }
    };
    let out_of_range = || match n {
        Num::Int(i) => format!("timestamp {i} is out of range"),
        Num::Float(f) => format!("timestamp {f} is out of range"),
    };
    let dt = match n {
        Num::Int(i) => match scale {
            1 => Some(DateTime::from_timestamp_nanos(i)),
            1_000 => DateTime::from_timestamp_micros(i),
            1_000_000 => DateTime::from_timestamp_millis(i),
            _ => DateTime::from_timestamp(i, 0),
        },
        Num::Float(f) => {
            // whole units and the fraction apart, the fraction rounded to the
            // microsecond (an f64 epoch carries no more), so that
            // 1716708621.946 s is .946 s exactly
            let whole = f.trunc();
            if whole.is_finite() && whole.abs() < 9.2e18 {
                let frac = if scale >= 1_000 {
                    (f.fract() * (scale / 1_000) as f64).round() as i64 * 1_000
                } else {
                    f.fract().round() as i64
                };
                (whole as i64)
                    .checked_mul(scale)
                    .and_then(|n| n.checked_add(frac))
                    .map(DateTime::from_timestamp_nanos)
            } else {
                None
            }
        }
    };
    dt.map(Some).ok_or_else(out_of_range)
}

fn is_zero_date(s: &str) -> bool {
    s.starts_with("0000-00-00") || s.starts_with("0000/00/00") || s.starts_with("00-00-0000")
}

/// ISO 8601 / RFC 3339: with an offset (`Z`, `+05:30`, `+0530`) or without
/// one (then UTC), `T` or space between date and time, optional fraction,
/// or a bare date (midnight UTC).
pub(crate) fn parse_iso(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if is_zero_date(s) {
        return Ok(None);
    }
    iso(s)
        .map(Some)
        .ok_or_else(|| format!("cannot parse `{s}` as an ISO 8601 date/time"))
}

fn iso(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

/// A date and time written without an offset (`YYYY-MM-DD HH:MM:SS`, `T`
/// or space, optional fraction); `None` for anything else.
pub(crate) fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .filter(|_| !is_zero_date(s))
}

/// The `datetime` auto-detection for strings.
pub(crate) fn parse_auto_str(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if is_zero_date(s) {
        return Ok(None);
    }
    // compact `YYYYMMDDHHMMSS` (14 digits; as epoch ms it would be past year 2286)
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S") {
            return Ok(Some(dt.and_utc()));
        }
    }
    if let Some(n) = Num::parse(s) {
        return from_epoch(n, Unit::Auto);
    }
    let fail = || format!("cannot parse `{s}` as a date/time");
    let b = s.as_bytes();
    if b.first().is_some_and(|c| c.is_ascii_alphabetic()) {
        return DateTime::parse_from_rfc2822(s)
            .map(|dt| Some(dt.with_timezone(&Utc)))
            .map_err(|_| fail());
    }
    if b.len() >= 10 {
        match (b[2], b[4]) {
            (_, b'-') => return iso(s).map(Some).ok_or_else(fail),
            (_, b'/') => {
                for fmt in [
                    "%Y/%m/%d %H:%M:%S%.f",
                    "%Y/%m/%dT%H:%M:%S%.f",
                    "%Y/%m/%d %H:%M",
                ] {
                    if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                        return Ok(Some(dt.and_utc()));
                    }
                }
            }
            (b'-', _) => {
                for fmt in [
                    "%d-%m-%Y %H:%M:%S%.f",
                    "%d-%m-%YT%H:%M:%S%.f",
                    "%d-%m-%Y %H:%M",
                ] {
                    if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                        return Ok(Some(dt.and_utc()));
                    }
                }
            }
            _ => {}
        }
    }
    Err(fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn epochs() {
        let t = ts("2024-05-26T07:30:21Z");
        assert_eq!(from_epoch(Num::Int(1716708621), Unit::Seconds), Ok(Some(t)));
        assert_eq!(
            from_epoch(Num::Int(1716708621000), Unit::Millis),
            Ok(Some(t))
        );
        assert_eq!(from_epoch(Num::Int(1716708621), Unit::Auto), Ok(Some(t)));
        assert_eq!(from_epoch(Num::Int(1716708621000), Unit::Auto), Ok(Some(t)));
        assert_eq!(
            from_epoch(Num::Int(1716708621000000), Unit::Auto),
            Ok(Some(t))
        );
        assert_eq!(
            from_epoch(Num::Int(1716708621000000000), Unit::Auto),
            Ok(Some(t))
        );
        assert_eq!(
            from_epoch(Num::Float(1716708621.5), Unit::Auto),
            Ok(Some(ts("2024-05-26T07:30:21.5Z")))
        );
        assert_eq!(from_epoch(Num::Int(0), Unit::Auto), Ok(None));
        assert_eq!(from_epoch(Num::Float(0.0), Unit::Seconds), Ok(None));
        assert!(from_epoch(Num::Int(i64::MAX), Unit::Seconds).is_err());
        assert!(from_epoch(Num::Int(i64::MIN), Unit::Millis).is_err());
        assert!(from_epoch(Num::Float(1e300), Unit::Seconds).is_err());
        assert!(from_epoch(Num::Float(-1e300), Unit::Auto).is_err());
    }

    #[test]
    fn numeric_strings() {
        assert_eq!(Num::parse(" 42 "), Some(Num::Int(42)));
        assert_eq!(Num::parse("-3"), Some(Num::Int(-3)));
        assert_eq!(Num::parse("12.5"), Some(Num::Float(12.5)));
        assert_eq!(Num::parse("NaN"), None);
        assert_eq!(Num::parse("inf"), None);
        assert_eq!(Num::parse("1e999"), None);
        assert_eq!(Num::parse("2024-05-26"), None);
        assert_eq!(Num::parse("-"), None);
        assert_eq!(Num::parse(""), None);
    }

    #[test]
    fn auto_strings() {
        let t = ts("2024-05-26T07:30:21Z");
        for s in [
            "2024-05-26T07:30:21Z",
            "2024-05-26T07:30:21.000Z",
            "2024-05-26T13:00:21+05:30",
            "2024-05-26T13:00:21+0530",
            "2024-05-26 13:00:21 +0530",
            "2024-05-26 07:30:21",
            "2024-05-26T07:30:21",
            "2024/05/26 07:30:21",
            "26-05-2024 07:30:21",
            "Sun, 26 May 2024 07:30:21 +0000",
            "Sun, 26 May 2024 07:30:21 GMT",
            "1716708621",
            "1716708621000",
            "20240526073021",
            " 2024-05-26 07:30:21 ",
        ] {
            assert_eq!(parse_auto_str(s), Ok(Some(t)), "{s}");
        }
        assert_eq!(
            parse_auto_str("2024-05-26 07:30:21.250"),
            Ok(Some(ts("2024-05-26T07:30:21.25Z")))
        );
        assert_eq!(
            parse_auto_str("2024-05-26"),
            Ok(Some(ts("2024-05-26T00:00:00Z")))
        );
        assert_eq!(parse_auto_str("0000-00-00 00:00:00"), Ok(None));
        assert_eq!(parse_auto_str("0"), Ok(None));
        for bad in [
            "yesterday",
            "2024-13-45 99:99:99",
            "26/05/2024 07:30:21",
            "12:30",
            "é",
        ] {
            assert!(parse_auto_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_strings() {
        let t = ts("2024-05-26T07:30:21.946Z");
        assert_eq!(parse_iso("2024-05-26T07:30:21.946Z"), Ok(Some(t)));
        assert_eq!(parse_iso("2024-05-26T07:30:21.946"), Ok(Some(t)));
        assert_eq!(parse_iso("2024-05-26 07:30:21.946"), Ok(Some(t)));
        assert_eq!(parse_iso("2024-05-26T09:30:21.946+02:00"), Ok(Some(t)));
        assert!(parse_iso("1716708621").is_err());
        assert!(parse_iso("26-05-2024 07:30:21").is_err());
        assert_eq!(parse_iso("0000-00-00T00:00:00"), Ok(None));
    }
}
