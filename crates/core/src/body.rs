//! Normalises webhook bodies (JSON, form, query string) into one JSON value.
//!
//! Rules (see `normalize`):
//! - `application/json`, `text/json` and any `+json` type are parsed as JSON;
//!   `text/plain` is accepted when the body is a JSON object or array.
//! - `application/x-www-form-urlencoded` becomes an object of strings; a
//!   repeated key becomes an array of its strings, in order.
//! - Without a content type the body is sniffed: `{`/`[` → JSON, else form.
//! - An empty body (any content type, e.g. a GET callback) yields the query
//!   string as an object.
//! - Query parameters are added to an object body for keys the body lacks
//!   (the body wins); a non-object body ignores the query.
//! - Nesting deeper than [`MAX_DEPTH`] is rejected before parsing.

use serde_json::map::Entry;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum BodyError {
    #[error("unsupported content type `{0}`: send application/json, application/x-www-form-urlencoded or a query string")]
    UnsupportedMediaType(String),
    #[error("malformed body: {0}")]
    Malformed(String),
    #[error("body nests deeper than {0} levels")]
    TooDeep(usize),
    /// Nothing to store: a GET without a query string, or a POST with an
    /// empty body and no query string.
    #[error("the delivery is empty: send the event in the body (or, for a GET callback, in the query string)")]
    EmptyGet,
}

/// The deepest nesting of arrays/objects accepted (`[[1]]` is 2 levels).
pub const MAX_DEPTH: usize = 64;

/// The media type without parameters, lower-cased (`Application/JSON; charset=utf-8` → `application/json`).
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_json_type(media: &str) -> bool {
    media == "application/json" || media == "text/json" || media.ends_with("+json")
}

/// Strips a UTF-8 byte-order mark and surrounding ASCII whitespace.
fn trim_body(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.trim_ascii()
}

fn looks_like_json(trimmed: &[u8]) -> bool {
    matches!(trimmed.first(), Some(b'{' | b'['))
}

/// Rejects JSON nested deeper than `MAX_DEPTH` with one pass over the bytes
/// (brackets inside strings do not count). Done before parsing, so that
/// `serde_json`'s own recursion limit (128) is never what answers.
fn check_depth(json: &[u8]) -> Result<(), BodyError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escape = false;
    for &b in json {
        if in_string {
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(BodyError::TooDeep(MAX_DEPTH));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn parse_json(trimmed: &[u8]) -> Result<Value, BodyError> {
    check_depth(trimmed)?;
    serde_json::from_slice(trimmed).map_err(|e| BodyError::Malformed(format!("invalid JSON: {e}")))
}

/// `a=1&b=2&a=3` → `{"a": ["1", "3"], "b": "2"}`. Percent-escapes that do
/// not decode to UTF-8 are replaced (U+FFFD); empty keys are dropped.
fn decode_form(bytes: &[u8]) -> Result<Map<String, Value>, BodyError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| BodyError::Malformed(format!("invalid form body: {e}")))?;
    let mut map = Map::new();
    for (k, v) in pairs {
        if k.is_empty() {
            continue;
        }
        match map.entry(k) {
            Entry::Vacant(e) => {
                e.insert(Value::String(v));
            }
            Entry::Occupied(mut e) => match e.get_mut() {
                Value::Array(items) => items.push(Value::String(v)),
                first => {
                    let prev = first.take();
                    *first = Value::Array(vec![prev, Value::String(v)]);
                }
            },
        }
    }
    Ok(map)
}

fn decode_form_body(body: &[u8]) -> Result<Map<String, Value>, BodyError> {
    std::str::from_utf8(body)
        .map_err(|e| BodyError::Malformed(format!("body is not valid UTF-8: {e}")))?;
    decode_form(body)
}

/// Turns a webhook delivery into one JSON value; see the module docs.
///
/// # Errors
/// `UnsupportedMediaType` for a non-empty body of another type (XML,
/// multipart, …); `Malformed` for invalid JSON (with serde's line and
/// column) or a body that is not UTF-8; `TooDeep` past [`MAX_DEPTH`].
pub fn normalize(
    content_type: Option<&str>,
    body: &[u8],
    query: Option<&str>,
) -> Result<Value, BodyError> {
    let media = content_type.map(essence).filter(|m| !m.is_empty());
    let query = query
        .map(|q| q.strip_prefix('?').unwrap_or(q))
        .filter(|q| !q.trim().is_empty());
    let trimmed = trim_body(body);

    if trimmed.is_empty() {
        let map = match query {
            Some(q) => decode_form(q.as_bytes())?,
            None => Map::new(),
        };
        return Ok(Value::Object(map));
    }

    let mut value = match media.as_deref() {
        None if looks_like_json(trimmed) => parse_json(trimmed)?,
        None => Value::Object(decode_form_body(trimmed)?),
        Some(m) if is_json_type(m) => parse_json(trimmed)?,
        Some("application/x-www-form-urlencoded") => Value::Object(decode_form_body(trimmed)?),
        Some("text/plain") if looks_like_json(trimmed) => parse_json(trimmed)?,
        Some(m) => return Err(BodyError::UnsupportedMediaType(m.to_string())),
    };

    if let (Some(q), Value::Object(obj)) = (query, &mut value) {
        for (k, v) in decode_form(q.as_bytes())? {
            obj.entry(k).or_insert(v);
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn json_bodies() {
        assert_eq!(normalize(JSON, br#"{"a":1}"#, None), Ok(json!({"a": 1})));
        assert_eq!(
            normalize(Some("Application/JSON; charset=UTF-8"), br#"{"a":1}"#, None),
            Ok(json!({"a": 1}))
        );
        assert_eq!(
            normalize(Some("application/vnd.api+json"), b"[1,2]", None),
            Ok(json!([1, 2]))
        );
        assert_eq!(
            normalize(Some("application/cloudevents+JSON"), br#"{"x":"y"}"#, None),
            Ok(json!({"x": "y"}))
        );
        assert_eq!(normalize(Some("text/json"), b"{}", None), Ok(json!({})));
        // scalars are valid JSON too
        assert_eq!(normalize(JSON, b"42", None), Ok(json!(42)));
        // whitespace and a BOM around the body
        assert_eq!(
            normalize(JSON, b"\xEF\xBB\xBF \n {\"a\": \"\xC3\xA9\"} \n", None),
            Ok(json!({"a": "é"}))
        );
        // big integers stay integers
        assert_eq!(
            normalize(JSON, br#"{"call_id": 6421977457180672}"#, None),
            Ok(json!({"call_id": 6421977457180672u64}))
        );
    }

    #[test]
    fn text_plain_json() {
        assert_eq!(
            normalize(Some("text/plain; charset=utf-8"), br#" {"a":1}"#, None),
            Ok(json!({"a": 1}))
        );
        assert_eq!(
            normalize(Some("text/plain"), b"[true]", None),
            Ok(json!([true]))
        );
        assert!(matches!(
            normalize(Some("text/plain"), br#"{"a":"#, None),
            Err(BodyError::Malformed(_))
        ));
        assert_eq!(
            normalize(Some("text/plain"), b"hello", None),
            Err(BodyError::UnsupportedMediaType("text/plain".into()))
        );
    }

    #[test]
    fn malformed_json_reports_position() {
        let Err(BodyError::Malformed(msg)) = normalize(JSON, b"{\n  \"a\": 1,\n  \"b\" 2\n}", None)
        else {
            panic!("expected Malformed");
        };
        assert!(msg.contains("line 3 column"), "{msg}");
        assert!(matches!(
            normalize(JSON, b"{\"a\":", None),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            normalize(JSON, b"nope", None),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            normalize(JSON, b"{} {}", None),
            Err(BodyError::Malformed(_))
        ));
        // NaN is not JSON
        assert!(matches!(
            normalize(JSON, b"{\"a\": NaN}", None),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        assert!(matches!(
            normalize(JSON, b"{\"a\": \"\xFF\xFE\"}", None),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            normalize(FORM, b"a=\xFF", None),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            normalize(None, b"a=\xC3", None),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn form_bodies() {
        assert_eq!(
            normalize(
                FORM,
                b"CallSid=CA1&From=%2B919876543210&CallStatus=ringing&Empty=",
                None
            ),
            Ok(
                json!({"CallSid": "CA1", "From": "+919876543210", "CallStatus": "ringing", "Empty": ""})
            )
        );
        assert_eq!(
            normalize(
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                b"name=A+B&x=%C3%A9",
                None
            ),
            Ok(json!({"name": "A B", "x": "é"}))
        );
        // repeated keys become arrays, in order
        assert_eq!(
            normalize(FORM, b"tag=a&n=1&tag=b&tag=c", None),
            Ok(json!({"tag": ["a", "b", "c"], "n": "1"}))
        );
        // a form body is never parsed as JSON, whatever it looks like
        assert_eq!(
            normalize(FORM, b"{\"a\":1}", None),
            Ok(json!({"{\"a\":1}": ""}))
        );
        // empty keys are dropped
        assert_eq!(normalize(FORM, b"=x&&a=1", None), Ok(json!({"a": "1"})));
    }

    #[test]
    fn no_content_type_is_sniffed() {
        assert_eq!(normalize(None, b"  {\"a\":1}", None), Ok(json!({"a": 1})));
        assert_eq!(normalize(None, b"\n[1]", None), Ok(json!([1])));
        assert_eq!(
            normalize(None, b"a=1&b=2", None),
            Ok(json!({"a": "1", "b": "2"}))
        );
        assert!(matches!(
            normalize(None, b"{oops", None),
            Err(BodyError::Malformed(_))
        ));
        // an empty Content-Type header is the same as none
        assert_eq!(normalize(Some(" "), b"a=1", None), Ok(json!({"a": "1"})));
    }

    #[test]
    fn empty_body_uses_the_query() {
        for ct in [
            None,
            JSON,
            FORM,
            Some("application/xml"),
            Some("text/plain"),
        ] {
            assert_eq!(
                normalize(ct, b"", Some("CallSid=1&From=%2B1555&d=a&d=b")),
                Ok(json!({"CallSid": "1", "From": "+1555", "d": ["a", "b"]})),
                "{ct:?}"
            );
            assert_eq!(
                normalize(ct, b" \r\n", Some("?x=1")),
                Ok(json!({"x": "1"})),
                "{ct:?}"
            );
            assert_eq!(normalize(ct, b"", None), Ok(json!({})), "{ct:?}");
            assert_eq!(normalize(ct, b"", Some("")), Ok(json!({})), "{ct:?}");
        }
    }

    #[test]
    fn query_merges_into_object_bodies() {
        assert_eq!(
            normalize(
                JSON,
                br#"{"a":"body","n":{"x":1}}"#,
                Some("a=query&b=2&b=3")
            ),
            Ok(json!({"a": "body", "n": {"x": 1}, "b": ["2", "3"]}))
        );
        assert_eq!(
            normalize(FORM, b"a=body", Some("a=query&c=3")),
            Ok(json!({"a": "body", "c": "3"}))
        );
        // a body key whose value is null still wins
        assert_eq!(
            normalize(JSON, br#"{"a":null}"#, Some("a=1")),
            Ok(json!({"a": null}))
        );
        // non-object bodies ignore the query
        assert_eq!(normalize(JSON, b"[1]", Some("a=1")), Ok(json!([1])));
        assert_eq!(normalize(JSON, b"\"s\"", Some("a=1")), Ok(json!("s")));
    }

    #[test]
    fn unsupported_media_types() {
        assert_eq!(
            normalize(Some("application/xml"), b"<a/>", None),
            Err(BodyError::UnsupportedMediaType("application/xml".into()))
        );
        assert_eq!(
            normalize(
                Some("multipart/form-data; boundary=xyz"),
                b"--xyz\r\n",
                None
            ),
            Err(BodyError::UnsupportedMediaType(
                "multipart/form-data".into()
            ))
        );
        assert_eq!(
            normalize(Some("application/octet-stream"), b"{}", None),
            Err(BodyError::UnsupportedMediaType(
                "application/octet-stream".into()
            ))
        );
        let msg = BodyError::UnsupportedMediaType("text/xml".into()).to_string();
        assert!(msg.contains("text/xml"));
    }

    fn nested(depth: usize) -> Vec<u8> {
        let mut s = "[".repeat(depth);
        s.push_str(&"]".repeat(depth));
        s.into_bytes()
    }

    #[test]
    fn depth_limit() {
        assert!(normalize(JSON, &nested(MAX_DEPTH), None).is_ok());
        assert_eq!(
            normalize(JSON, &nested(MAX_DEPTH + 1), None),
            Err(BodyError::TooDeep(64))
        );
        // beyond serde_json's own limit of 128 it is still TooDeep
        assert_eq!(
            normalize(JSON, &nested(1000), None),
            Err(BodyError::TooDeep(64))
        );
        assert_eq!(
            normalize(None, &nested(200), None),
            Err(BodyError::TooDeep(64))
        );
        // objects count too
        let mut obj = String::new();
        for _ in 0..65 {
            obj.push_str("{\"a\":");
        }
        obj.push('1');
        obj.push_str(&"}".repeat(65));
        assert_eq!(
            normalize(JSON, obj.as_bytes(), None),
            Err(BodyError::TooDeep(64))
        );
        // brackets inside strings do not count
        let s = format!("{{\"a\": \"{}\", \"b\": \"\\\"[[\"}}", "[".repeat(500));
        assert!(normalize(JSON, s.as_bytes(), None).is_ok());
        // wide is fine
        let wide = format!("[{}]", vec!["[]"; 10_000].join(","));
        assert!(normalize(JSON, wide.as_bytes(), None).is_ok());
    }
}
