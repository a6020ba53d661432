//! Transforms and the intermediate values they work on.

use super::path::PathExpr;
use super::time::{self, Num, Unit};
use chrono::{DateTime, SecondsFormat, Utc};
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
    /// Default country code (digits only), if any.
    E164(Option<String>),
    EpochS,
    EpochMs,
    Iso8601,
    DateTime,
    /// `datetime`, reading a text without an offset as local time at this
    /// offset (seconds east of UTC).
    LocalDateTime(i32),
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
                Some(a) => parse_offset(a).map(Transform::LocalDateTime).ok_or_else(|| {
                    format!("datetime: `{a}` is not a UTC offset (e.g. `datetime:+05:30`)")
                }),
            },
            "seconds_between" => no_arg(Transform::SecondsBetween),
            "int" => no_arg(Transform::Int),
            "string" => no_arg(Transform::Str),
            "e164" => match arg {
                None => Ok(Transform::E164(None)),
                Some(a) => {
                    let cc = a.strip_prefix('+').unwrap_or(a);
                    if (1..=3).contains(&cc.len())
                        && cc.bytes().all(|b| b.is_ascii_digit())
                        && !cc.starts_with('0')
                    {
                        Ok(Transform::E164(Some(cc.to_string())))
                    } else {
                        Err(format!(
                            "e164: `{a}` is not a country calling code (1–3 digits, e.g. `e164:91`)"
                        ))
                    }
                }
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
                 epoch_s, epoch_ms, iso8601, datetime, datetime:+HH:MM, seconds_between, uuid_v5, int, string)"
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
            Transform::E164(cc) => e164(&text(&v)?, cc.as_deref()).map(|s| Some(Val::Str(s))),
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
            Transform::DateTime => Ok(to_time(&v)?.map(Val::Time)),
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

/// E.164 normalisation; see docs/MAPPING.md.
pub(crate) fn e164(input: &str, cc: Option<&str>) -> Result<String, String> {
    let plus = input
        .chars()
        .find(|c| c.is_ascii_digit() || *c == '+')
        .is_some_and(|c| c == '+');
    let digits: String = input.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return Err(format!("e164: `{input}` has no digits"));
    }
    let out = if plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if let Some(cc) = cc {
        if let Some(rest) = digits.strip_prefix('0') {
            format!("+{cc}{rest}")
        } else if digits.len() <= 10 {
            format!("+{cc}{digits}")
        } else {
            format!("+{digits}")
        }
    } else {
        digits
    };
    let n = out.bytes().filter(|b| b.is_ascii_digit()).count();
    if (8..=15).contains(&n) {
        Ok(out)
    } else {
        Err(format!(
            "e164: `{input}` gives {n} digits (a phone number has 8 to 15)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run<'a>(t: &str, v: &'a Value) -> Step<'a> {
        Transform::parse(t).unwrap().apply(Val::Ref(v), None, v)
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
            Ok(Transform::E164(Some("91".into())))
        );
        assert_eq!(
            Transform::parse("e164:+1"),
            Ok(Transform::E164(Some("1".into())))
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
    fn e164_rules() {
        let cc = Some("91");
        assert_eq!(e164("+91 98765-43210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("0091 9876543210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("09876543210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("9876543210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("919876543210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("(987) 654-3210", cc).unwrap(), "+919876543210");
        assert_eq!(e164("12127773456", Some("1")).unwrap(), "+12127773456");
        assert_eq!(e164("2127773456", Some("1")).unwrap(), "+12127773456");
        // without a country code only + and 00 are normalised
        assert_eq!(e164("+44 330 818 6690", None).unwrap(), "+443308186690");
        assert_eq!(e164("00443308186690", None).unwrap(), "+443308186690");
        assert_eq!(e164("12127773456", None).unwrap(), "12127773456");
        // digit count
        assert!(e164("88888", None).is_err());
        assert!(e164("88888", cc).is_err()); // +9188888: 7 digits
        assert_eq!(
            e164("088888", Some("91")).unwrap_err(),
            "e164: `088888` gives 7 digits (a phone number has 8 to 15)"
        );
        assert!(e164("+1234567", None).is_err());
        assert!(e164("+1234567890123456", None).is_err());
        assert!(e164("anonymous", cc).is_err());
        assert!(e164("", cc).is_err());
    }

    #[test]
    fn e164_through_transform() {
        assert_eq!(s(run("e164:91", &json!(9876543210u64))), "+919876543210");
        assert!(run("e164:91", &json!("123")).is_err());
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
        assert_eq!(
            t.apply(start.clone(), Some(&to("b")), &p),
            Ok(Some(Val::Int(30)))
        );
        assert!(t.apply(start.clone(), Some(&to("c")), &p).is_err());
        assert_eq!(t.apply(start.clone(), Some(&to("missing")), &p), Ok(None));
        assert_eq!(t.apply(start.clone(), Some(&to("z")), &p), Ok(None));
        assert!(t.apply(start, None, &p).is_err());
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
