//! Transforms and the intermediate values they work on.

use super::path::PathExpr;
use super::phone::{self, Phone};
use super::time::{self, Num, Unit};
use chrono::{DateTime, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use phonenumber::country::Id;
use serde_json::Value;
use std::borrow::Cow;
use uuid::Uuid;

/// The namespace `uuid_v5` uses when none is given.
pub(crate) const DEFAULT_UUID_NAMESPACE: Uuid = Uuid::NAMESPACE_OID;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transform {
    Trim,
    Lower,
    Upper,
    Digits,
    /// The region national numbers are read in; `None`: the mapping's
    /// default region (`$options.region`), if any.
    E164(Option<Id>),
    EpochS,
    EpochMs,
    Iso8601,
    DateTime,
    /// `datetime`, reading a text without an offset as local time at this
    /// offset (seconds east of UTC).
    LocalDateTime(i32),
    /// `datetime`, reading a text without an offset as local time in this
    /// zone (daylight saving included).
    ZonedDateTime(Tz),
    /// `HH:MM:SS`, `MM:SS` or plain seconds → whole seconds.
    DurationHms,
    /// Text put in front of the value (`prefix:summary_`).
    Prefix(String),
    SecondsBetween,
    UuidV5(Uuid),
    Int,
    Str,
}

/// A value on its way through the transforms: borrowed from the payload (or
/// the spec's default) until something has to be computed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Ref(&'a Value),
    Str(String),
    Int(i64),
    Time(DateTime<Utc>),
}

/// `Ok(None)`: the value turned out to be "not set" (epoch 0, a missing `to`).
pub(crate) type Step<'a> = Result<Option<Val<'a>>, String>;

/// Provider-wide settings from the mapping's `$options`, used by the
/// transforms that take no argument.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Defaults {
    /// Region of national phone numbers (`e164`).
    pub(crate) region: Option<Id>,
    /// Zone of local times written without an offset (`datetime`).
    pub(crate) zone: Option<Tz>,
}

/// What a transform sees besides its value: the provider's defaults, and
/// where to note a value it kept but could not vouch for.
pub(crate) struct Env<'e> {
    pub(crate) defaults: &'e Defaults,
    pub(crate) warnings: &'e mut Vec<String>,
}

impl Transform {
    pub(crate) fn parse(spec: &str) -> Result<Transform, String> {
        let spec = spec.trim();
        let (name, arg) = match spec.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (spec, None),
        };
        let name_lc = name.to_ascii_lowercase();
        let no_arg = |t: Transform| match arg {
            None => Ok(t),
            Some(_) => Err(format!("transform `{name}` takes no argument")),
        };
        match name_lc.as_str() {
            "trim" => no_arg(Transform::Trim),
            "lower" => no_arg(Transform::Lower),
            "upper" => no_arg(Transform::Upper),
            "digits" => no_arg(Transform::Digits),
            "epoch_s" => no_arg(Transform::EpochS),
            "epoch_ms" => no_arg(Transform::EpochMs),
            "iso8601" => no_arg(Transform::Iso8601),
            "datetime" => match arg {
                None => Ok(Transform::DateTime),
                Some(a) if a.starts_with(['+', '-']) => {
                    parse_offset(a).map(Transform::LocalDateTime).ok_or_else(|| {
                        format!("datetime: `{a}` is not a UTC offset (e.g. `datetime:+05:30`)")
                    })
                }
                Some(a) => a.parse::<Tz>().map(Transform::ZonedDateTime).map_err(|_| {
                    format!(
                        "datetime: `{a}` is neither a time zone (e.g. `datetime:America/New_York`) \
                         nor a UTC offset (e.g. `datetime:+05:30`)"
                    )
                }),
            },
            "duration" => match arg {
                None => Ok(Transform::DurationHms),
                Some(a) if a.eq_ignore_ascii_case("hms") => Ok(Transform::DurationHms),
                Some(a) => Err(format!("duration: unknown format `{a}` (known: hms)")),
            },
            "prefix" => match arg {
                Some(a) if !a.is_empty() => Ok(Transform::Prefix(a.to_string())),
                _ => Err("prefix needs the text to put in front, e.g. `prefix:summary_`".to_string()),
            },
            "seconds_between" => no_arg(Transform::SecondsBetween),
            "int" => no_arg(Transform::Int),
            "string" => no_arg(Transform::Str),
            "e164" => match arg {
                None => Ok(Transform::E164(None)),
                Some(a) => phone::region(a)
                    .map(|r| Transform::E164(Some(r)))
                    .map_err(|e| format!("e164: {e}")),
            },
            "uuid_v5" => match arg {
                None => Ok(Transform::UuidV5(DEFAULT_UUID_NAMESPACE)),
                Some(a) => match a.to_ascii_lowercase().as_str() {
                    "dns" => Ok(Transform::UuidV5(Uuid::NAMESPACE_DNS)),
                    "url" => Ok(Transform::UuidV5(Uuid::NAMESPACE_URL)),
                    "oid" => Ok(Transform::UuidV5(Uuid::NAMESPACE_OID)),
                    "x500" => Ok(Transform::UuidV5(Uuid::NAMESPACE_X500)),
                    _ => Uuid::parse_str(a)
                        .map(Transform::UuidV5)
                        .map_err(|e| format!("uuid_v5: namespace `{a}` is not a UUID ({e})")),
                },
            },
            "" => Err("empty transform name".to_string()),
            _ => Err(format!(
                "unknown transform `{name}` (known: trim, lower, upper, digits, e164, e164:CC, \
                 e164:IN, epoch_s, epoch_ms, iso8601, datetime, datetime:+HH:MM, datetime:Area/City, \
                 duration:hms, prefix:TEXT, seconds_between, uuid_v5, int, string)"
            )),
        }
    }

    /// Applies the transform. `to` is the spec's `to` path (used by
    /// `seconds_between`), resolved against `payload`.
    pub(crate) fn apply<'a>(
        &self,
        v: Val<'a>,
        to: Option<&PathExpr>,
        payload: &'a Value,
        env: &mut Env<'_>,
    ) -> Step<'a> {
        match self {
            Transform::Trim => {
                let t = text(&v)?;
                Ok(Some(Val::Str(t.trim().to_string())))
            }
            Transform::Lower => Ok(Some(Val::Str(text(&v)?.to_lowercase()))),
            Transform::Upper => Ok(Some(Val::Str(text(&v)?.to_uppercase()))),
            Transform::Digits => {
                let d: String = text(&v)?.chars().filter(|c| c.is_ascii_digit()).collect();
                Ok(Some(Val::Str(d)))
            }
            Transform::E164(region) => {
                match phone::e164(&text(&v)?, region.or(env.defaults.region))? {
                    Phone::Normalised(s) => Ok(Some(Val::Str(s))),
                    Phone::Kept { text, warning } => {
                        env.warnings.push(warning);
                        Ok(Some(Val::Str(text)))
                    }
                }
            }
            Transform::DurationHms => duration_hms(&v).map(|s| Some(Val::Int(s))),
            Transform::Prefix(p) => Ok(Some(Val::Str(format!("{p}{}", text(&v)?)))),
            Transform::ZonedDateTime(tz) => zoned(&v, *tz),
            Transform::EpochS => epoch(&v, Unit::Seconds),
            Transform::EpochMs => epoch(&v, Unit::Millis),
            Transform::Iso8601 => match &v {
                Val::Time(_) => Ok(Some(v)),
                Val::Ref(Value::String(s)) => Ok(time::parse_iso(s)?.map(Val::Time)),
                Val::Str(s) => Ok(time::parse_iso(s)?.map(Val::Time)),
                other => Err(format!(
                    "iso8601: expected a date/time string, got {}",
                    describe(other)
                )),
            },
            Transform::DateTime => match env.defaults.zone {
                Some(tz) => zoned(&v, tz),
                None => Ok(to_time(&v)?.map(Val::Time)),
            },
            Transform::LocalDateTime(offset) => {
                let naive = match &v {
                    Val::Ref(Value::String(s)) => time::parse_naive(s),
                    Val::Str(s) => time::parse_naive(s),
                    _ => None,
                };
                match naive {
                    // Epoch 0 in local time (Exotel's `1970-01-01 05:30:00`) means "not set".
                    Some(n) => Ok(Some(
                        (n - chrono::Duration::seconds(i64::from(*offset))).and_utc(),
                    )
                    .filter(|t| t.timestamp() != 0)
                    .map(Val::Time)),
                    None => Ok(to_time(&v)?.map(Val::Time)),
                }
            }
            Transform::SecondsBetween => {
                let Some(start) = to_time(&v)? else {
                    return Ok(None);
                };
                let Some(to) = to else {
                    return Err("seconds_between needs a `to` path".to_string());
                };
                let Some(end_raw) = to.resolve(payload) else {
                    return Ok(None);
                };
                let Some(end) = to_time(&Val::Ref(end_raw))
                    .map_err(|e| format!("seconds_between `to` ({}): {e}", to.text()))?
                else {
                    return Ok(None);
                };
                let secs = end.signed_duration_since(start).num_seconds();
                if secs < 0 {
                    Err(format!(
                        "seconds_between: negative duration ({secs} s): `{}` is before the start",
                        to.text()
                    ))
                } else {
                    Ok(Some(Val::Int(secs)))
                }
            }
            Transform::UuidV5(ns) => {
                let t = text(&v)?;
                Ok(Some(Val::Str(
                    Uuid::new_v5(ns, t.as_bytes()).hyphenated().to_string(),
                )))
            }
            Transform::Int => Ok(Some(Val::Int(to_int(&v)?))),
            Transform::Str => {
                let s = match &v {
                    Val::Ref(j @ (Value::Object(_) | Value::Array(_))) => j.to_string(),
                    _ => text(&v)?.into_owned(),
                };
                Ok(Some(Val::Str(s)))
            }
        }
    }
}

/// A short description of a value's type for messages.
pub(crate) fn describe(v: &Val<'_>) -> &'static str {
    match v {
        Val::Ref(Value::Null) => "null",
        Val::Ref(Value::Bool(_)) => "a boolean",
        Val::Ref(Value::Number(_)) | Val::Int(_) => "a number",
        Val::Ref(Value::String(_)) | Val::Str(_) => "a string",
        Val::Ref(Value::Array(_)) => "an array",
        Val::Ref(Value::Object(_)) => "an object",
        Val::Time(_) => "a timestamp",
    }
}

/// A JSON number as text: integers exactly, integral floats without `.0`
/// (so a phone number sent as `9.19876543210e11` reads `919876543210`).
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

pub(crate) fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The value as text: strings as-is, numbers and booleans stringified,
/// timestamps as RFC 3339; objects and arrays are an error.
pub(crate) fn text<'b>(v: &'b Val<'_>) -> Result<Cow<'b, str>, String> {
    match v {
        Val::Ref(Value::String(s)) => Ok(Cow::Borrowed(s.as_str())),
        Val::Str(s) => Ok(Cow::Borrowed(s.as_str())),
        Val::Ref(Value::Number(n)) => Ok(Cow::Owned(number_text(n))),
        Val::Ref(Value::Bool(b)) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
        Val::Int(i) => Ok(Cow::Owned(i.to_string())),
        Val::Time(t) => Ok(Cow::Owned(time_text(t))),
        other => Err(format!("expected a string, got {}", describe(other))),
    }
}

fn num_of(v: &Val<'_>) -> Option<Num> {
    match v {
        Val::Ref(Value::Number(n)) => Num::from_json(n),
        Val::Ref(Value::String(s)) => Num::parse(s),
        Val::Str(s) => Num::parse(s),
        Val::Int(i) => Some(Num::Int(*i)),
        _ => None,
    }
}

fn epoch<'a>(v: &Val<'a>, unit: Unit) -> Step<'a> {
    if let Val::Time(t) = v {
        return Ok(Some(Val::Time(*t)));
    }
    let n = num_of(v).ok_or_else(|| match text(v) {
        Ok(s) => format!("`{s}` is not an epoch number"),
        Err(_) => format!("expected an epoch number, got {}", describe(v)),
    })?;
    Ok(time::from_epoch(n, unit)?.map(Val::Time))
}

/// The `datetime` auto-detection.
/// `+05:30`, `-0400`, `+5` → seconds east of UTC.
fn parse_offset(a: &str) -> Option<i32> {
    let (sign, rest) = match a.as_bytes().first()? {
        b'+' => (1, &a[1..]),
        b'-' => (-1, &a[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 3600 + m * 60))
}

pub(crate) fn to_time(v: &Val<'_>) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        Val::Time(t) => Ok(Some(*t)),
        Val::Ref(Value::Number(n)) => match Num::from_json(n) {
            Some(n) => time::from_epoch(n, Unit::Auto),
            None => Err(format!("`{n}` is not a timestamp")),
        },
        Val::Int(i) => time::from_epoch(Num::Int(*i), Unit::Auto),
        Val::Ref(Value::String(s)) => time::parse_auto_str(s),
        Val::Str(s) => time::parse_auto_str(s),
        other => Err(format!("expected a date/time, got {}", describe(other))),
    }
}

/// Number or numeric string → integer, floats rounded half away from zero.
pub(crate) fn to_int(v: &Val<'_>) -> Result<i64, String> {
    match v {
        Val::Int(i) => return Ok(*i),
        Val::Time(t) => return Ok(t.timestamp()),
        Val::Ref(Value::Number(n)) if n.as_i64().is_none() && n.as_u64().is_some() => {
            return Err(format!("`{n}` is out of range"));
        }
        _ => {}
    }
    match num_of(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) => {
            let r = f.round();
            if r.abs() < 9.2e18 {
                Ok(r as i64)
            } else {
                Err(format!("`{f}` is out of range"))
            }
        }
        None => Err(match text(v) {
            Ok(s) => format!("`{s}` is not a number"),
            Err(_) => format!("expected a number, got {}", describe(v)),
        }),
    }
}

/// A local time without an offset, read in `tz`; anything with an offset
/// or an epoch as `datetime` reads it.
pub(crate) fn zoned<'a>(v: &Val<'a>, tz: Tz) -> Step<'a> {
    let naive = match v {
        Val::Ref(Value::String(s)) => time::parse_naive(s),
        Val::Str(s) => time::parse_naive(s),
        _ => None,
    };
    match naive {
        Some(n) => Ok(Some(local_in(n, tz))
            .filter(|t| t.timestamp() != 0)
            .map(Val::Time)),
        None => Ok(to_time(v)?.map(Val::Time)),
    }
}

/// A wall-clock time in `tz`: the earlier instant when the clock was turned
/// back (the hour happens twice), and the offset before the change when it
/// was turned forward (the hour does not exist).
pub(crate) fn local_in(n: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&n).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => {
            let before = tz.offset_from_utc_datetime(&n).fix().local_minus_utc();
            (n - chrono::Duration::seconds(i64::from(before))).and_utc()
        }
    }
}

/// `HH:MM:SS`, `H:MM:SS`, `MM:SS` (a fraction of a second is dropped) or a
/// plain number of seconds.
fn duration_hms(v: &Val<'_>) -> Result<i64, String> {
    let t = text(v)?;
    let t = t.trim();
    let bad = || format!("duration: `{t}` is not HH:MM:SS, MM:SS or seconds");
    if !t.contains(':') {
        return to_int(v)
            .map_err(|_| bad())
            .and_then(|s| if s < 0 { Err(bad()) } else { Ok(s) });
    }
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() > 3 {
        return Err(bad());
    }
    let mut total: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let whole = if last {
            part.split_once('.').map_or(*part, |(w, _)| w)
        } else {
            part
        };
        if whole.is_empty() || whole.len() > 6 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: i64 = whole.parse().map_err(|_| bad())?;
        // minutes and seconds after the first part are below 60
        if i > 0 && n >= 60 {
            return Err(bad());
        }
        total = total * 60 + n;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run<'a>(t: &str, v: &'a Value) -> Step<'a> {
        run_with(t, v, &Defaults::default(), &mut Vec::new())
    }

    fn run_with<'a>(t: &str, v: &'a Value, d: &Defaults, warnings: &mut Vec<String>) -> Step<'a> {
        let mut env = Env {
            defaults: d,
            warnings,
        };
        Transform::parse(t)
            .unwrap()
            .apply(Val::Ref(v), None, v, &mut env)
    }

    fn s(v: Step<'_>) -> String {
        match v {
            Ok(Some(Val::Str(s))) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parse_names_and_args() {
        assert_eq!(Transform::parse(" TRIM "), Ok(Transform::Trim));
        assert_eq!(Transform::parse("e164"), Ok(Transform::E164(None)));
        assert_eq!(
            Transform::parse("e164:91"),
            Ok(Transform::E164(Some(Id::IN)))
        );
        assert_eq!(
            Transform::parse("e164:+1"),
            Ok(Transform::E164(Some(Id::US)))
        );
        assert_eq!(
            Transform::parse("e164:gb"),
            Ok(Transform::E164(Some(Id::GB)))
        );
        assert_eq!(
            Transform::parse("datetime:America/New_York"),
            Ok(Transform::ZonedDateTime(chrono_tz::America::New_York))
        );
        assert_eq!(Transform::parse("duration:hms"), Ok(Transform::DurationHms));
        assert_eq!(
            Transform::parse("prefix:summary_"),
            Ok(Transform::Prefix("summary_".into()))
        );
        assert_eq!(
            Transform::parse("uuid_v5"),
            Ok(Transform::UuidV5(Uuid::NAMESPACE_OID))
        );
        assert_eq!(
            Transform::parse("uuid_v5:dns"),
            Ok(Transform::UuidV5(Uuid::NAMESPACE_DNS))
        );
        assert_eq!(
            Transform::parse("uuid_v5:6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
            Ok(Transform::UuidV5(Uuid::NAMESPACE_URL))
        );
        for bad in [
            "nope",
            "",
            "trim:x",
            "e164:abc",
            "e164:1234",
            "e164:0",
            "e164:XX",
            "datetime:Mars/Olympus",
            "duration:iso",
            "prefix",
            "uuid_v5:zzz",
            "int:2",
        ] {
            assert!(Transform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn string_transforms() {
        assert_eq!(s(run("trim", &json!("  a b  "))), "a b");
        assert_eq!(s(run("lower", &json!("RiNgInG"))), "ringing");
        assert_eq!(s(run("upper", &json!("abc"))), "ABC");
        assert_eq!(s(run("upper", &json!(12))), "12");
        assert_eq!(s(run("trim", &json!(12.5))), "12.5");
        assert_eq!(s(run("lower", &json!(true))), "true");
        assert_eq!(
            s(run("digits", &json!("+44 (330) 818-6690"))),
            "443308186690"
        );
        assert_eq!(s(run("digits", &json!(919876543210u64))), "919876543210");
        assert_eq!(s(run("string", &json!(919876543210u64))), "919876543210");
        assert_eq!(s(run("string", &json!(9.1987654321e11))), "919876543210");
        assert_eq!(s(run("string", &json!({"a": 1}))), r#"{"a":1}"#);
        assert_eq!(s(run("string", &json!([1, "x"]))), r#"[1,"x"]"#);
        assert!(run("trim", &json!({"a": 1})).is_err());
        assert!(run("lower", &json!([1])).is_err());
    }

    #[test]
    fn e164_through_transform() {
        assert_eq!(s(run("e164:91", &json!(9876543210u64))), "+919876543210");
        // an invalid number is kept as received, with a warning
        let mut w = Vec::new();
        assert_eq!(
            s(run_with(
                "e164:91",
                &json!(" 123 "),
                &Defaults::default(),
                &mut w
            )),
            "123"
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(run("e164:91", &json!("anonymous")).is_err());
        // `e164` without an argument reads national numbers in the default region
        let it = Defaults {
            region: Some(Id::IT),
            zone: None,
        };
        let mut w = Vec::new();
        assert_eq!(
            s(run_with("e164", &json!("06 6982 1234"), &it, &mut w)),
            "+390669821234"
        );
        assert!(w.is_empty());
        // the transform's own region wins over the default
        assert_eq!(
            s(run_with("e164:IN", &json!("9876543210"), &it, &mut w)),
            "+919876543210"
        );
    }

    #[test]
    fn zoned_local_times_follow_daylight_saving() {
        let time = |v: Step<'_>| match v {
            Ok(Some(Val::Time(t))) => t,
            other => panic!("expected a time, got {other:?}"),
        };
        // New York: EST (-5) in January, EDT (-4) in July
        assert_eq!(
            time(run(
                "datetime:America/New_York",
                &json!("2024-01-15 09:00:00")
            )),
            ts("2024-01-15T14:00:00Z")
        );
        assert_eq!(
            time(run(
                "datetime:America/New_York",
                &json!("2024-07-15 09:00:00")
            )),
            ts("2024-07-15T13:00:00Z")
        );
        // London: GMT then BST
        assert_eq!(
            time(run("datetime:Europe/London", &json!("2024-03-30 12:00:00"))),
            ts("2024-03-30T12:00:00Z")
        );
        assert_eq!(
            time(run("datetime:Europe/London", &json!("2024-04-01 12:00:00"))),
            ts("2024-04-01T11:00:00Z")
        );
        // the repeated hour of the autumn change: the first one
        assert_eq!(
            time(run(
                "datetime:America/New_York",
                &json!("2024-11-03 01:30:00")
            )),
            ts("2024-11-03T05:30:00Z")
        );
        // the missing hour of the spring change: read at the winter offset
        assert_eq!(
            time(run(
                "datetime:America/New_York",
                &json!("2024-03-10 02:30:00")
            )),
            ts("2024-03-10T07:30:00Z")
        );
        // an explicit offset wins over the zone
        assert_eq!(
            time(run(
                "datetime:America/New_York",
                &json!("2024-07-15T09:00:00Z")
            )),
            ts("2024-07-15T09:00:00Z")
        );
        // `datetime` without an argument uses the provider's zone
        let d = Defaults {
            region: None,
            zone: Some(chrono_tz::Asia::Kolkata),
        };
        assert_eq!(
            time(run_with(
                "datetime",
                &json!("2024-05-26 13:00:21"),
                &d,
                &mut Vec::new()
            )),
            ts("2024-05-26T07:30:21Z")
        );
    }

    #[test]
    fn durations_and_prefixes() {
        let int = |v: Value| match run("duration:hms", &v) {
            Ok(Some(Val::Int(i))) => Ok(i),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(int(json!("00:00:30")), Ok(30));
        assert_eq!(int(json!("01:02:03")), Ok(3723));
        assert_eq!(int(json!("2:03")), Ok(123));
        assert_eq!(int(json!("00:00:07.5")), Ok(7));
        assert_eq!(int(json!("45")), Ok(45));
        assert_eq!(int(json!(45)), Ok(45));
        assert_eq!(int(json!("100:00:00")), Ok(360_000));
        for bad in ["00:61:00", "1:2:3:4", "aa:bb", "", "-5", "::", "00:-1:00"] {
            assert!(int(json!(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            s(run("prefix:summary_", &json!("answered"))),
            "summary_answered"
        );
    }

    #[test]
    fn epoch_and_iso() {
        let t = ts("2024-05-26T07:30:21.946Z");
        let time = |v: Step<'_>| match v {
            Ok(Some(Val::Time(t))) => t,
            other => panic!("expected a time, got {other:?}"),
        };
        assert_eq!(time(run("epoch_ms", &json!(1716708621946i64))), t);
        assert_eq!(time(run("epoch_ms", &json!("1716708621946"))), t);
        assert_eq!(time(run("epoch_s", &json!(1716708621.946))), t);
        assert_eq!(
            time(run("epoch_s", &json!("1716708621"))),
            ts("2024-05-26T07:30:21Z")
        );
        assert_eq!(time(run("iso8601", &json!("2024-05-26T07:30:21.946Z"))), t);
        assert_eq!(time(run("iso8601", &json!("2024-05-26T07:30:21.946"))), t);
        assert_eq!(time(run("datetime", &json!(1716708621946i64))), t);
        assert_eq!(time(run("datetime", &json!("2024-05-26 07:30:21.946"))), t);
        assert_eq!(run("epoch_s", &json!(0)), Ok(None));
        assert!(run("epoch_s", &json!("soon")).is_err());
        assert!(run("epoch_ms", &json!(true)).is_err());
        assert!(run("iso8601", &json!(1716708621)).is_err());
        assert!(run("iso8601", &json!("26/05/2024")).is_err());
        assert!(run("datetime", &json!({"t": 1})).is_err());
        assert!(run("datetime", &json!("not a date")).is_err());
        // local times without an offset, at a given offset
        assert_eq!(
            time(run("datetime:+05:30", &json!("2024-05-26 13:00:21.946"))),
            t
        );
        assert_eq!(
            time(run("datetime:+05:30", &json!("2024-05-26T07:30:21.946Z"))),
            t
        );
        assert!(run("datetime:+05:30", &json!("1970-01-01 05:30:00"))
            .unwrap()
            .is_none());
        assert!(Transform::parse("datetime:IST").is_err());
        assert_eq!(
            Transform::parse("datetime:-0400"),
            Ok(Transform::LocalDateTime(-4 * 3600))
        );
    }

    #[test]
    fn seconds_between() {
        let p = json!({"a": "2024-05-26T07:30:21Z", "b": 1716708651, "c": "2024-05-26T07:00:00Z", "z": 0});
        let t = Transform::SecondsBetween;
        let to = |s: &str| PathExpr::parse(s).unwrap();
        let start = Val::Ref(&p["a"]);
        let d = Defaults::default();
        let mut w = Vec::new();
        let mut env = Env {
            defaults: &d,
            warnings: &mut w,
        };
        assert_eq!(
            t.apply(start.clone(), Some(&to("b")), &p, &mut env),
            Ok(Some(Val::Int(30)))
        );
        assert!(t
            .apply(start.clone(), Some(&to("c")), &p, &mut env)
            .is_err());
        assert_eq!(
            t.apply(start.clone(), Some(&to("missing")), &p, &mut env),
            Ok(None)
        );
        assert_eq!(
            t.apply(start.clone(), Some(&to("z")), &p, &mut env),
            Ok(None)
        );
        assert!(t.apply(start, None, &p, &mut env).is_err());
    }

    #[test]
    fn uuid_v5_and_int() {
        let v = json!("16a7294c989b11e7b3d32b9edb8660c7");
        let expected = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"16a7294c989b11e7b3d32b9edb8660c7")
            .hyphenated()
            .to_string();
        assert_eq!(s(run("uuid_v5", &v)), expected);
        assert_eq!(
            s(run("uuid_v5:url", &v)),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"16a7294c989b11e7b3d32b9edb8660c7").to_string()
        );
        assert_eq!(
            s(run("uuid_v5", &json!(42))),
            Uuid::new_v5(&Uuid::NAMESPACE_OID, b"42").to_string()
        );

        let int = |v: Value| run("int", &v).map(|x| x.map(|x| to_int(&x).unwrap()));
        assert_eq!(int(json!(17)), Ok(Some(17)));
        assert_eq!(int(json!(8951.029999999999)), Ok(Some(8951)));
        assert_eq!(int(json!(2.5)), Ok(Some(3)));
        assert_eq!(int(json!(" 31 ")), Ok(Some(31)));
        assert_eq!(int(json!("12.6")), Ok(Some(13)));
        assert!(run("int", &json!("abc")).is_err());
        assert!(run("int", &json!(true)).is_err());
        assert!(run("int", &json!(u64::MAX)).is_err());
        assert!(run("int", &json!(1e300)).is_err());
        assert!(run("int", &json!("NaN")).is_err());
    }
}
