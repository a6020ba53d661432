//! Path expressions: `a.b[0].c | $.json.path | headers["x-id"]`.
//!
//! An expression is a list of alternatives separated by `|`, tried left to
//! right; the first that yields a present, non-null, non-empty value wins.
//! Alternatives starting with `$` are RFC 9535 JSONPath queries (compiled
//! once with `serde_json_path`); the others use dot notation.

use serde_json::Value;
use serde_json_path::JsonPath;

/// A compiled path expression.
#[derive(Debug, Clone)]
pub(crate) struct PathExpr {
    alternatives: Vec<Alternative>,
    text: String,
}

#[derive(Debug, Clone)]
enum Alternative {
    Json(Box<JsonPath>),
    Dot(Vec<Segment>),
}

/// One step of a dot path. `index` is set when the segment is an integer
/// (`legs.0`, `legs[0]`, `legs[-1]`): it indexes arrays; on objects the
/// segment is looked up as the key `key`. Quoted keys never index arrays.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    key: String,
    index: Option<i64>,
}

impl PathExpr {
    /// Compiles an expression; the error is a human-readable message.
    pub(crate) fn parse(text: &str) -> Result<PathExpr, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty path".to_string());
        }
        let mut alternatives = Vec::new();
        for alt in split_alternatives(text)? {
            let alt = alt.trim();
            if alt.is_empty() {
                return Err(format!("empty alternative in `{text}`"));
            }
            if alt.starts_with('$') {
                let path =
                    JsonPath::parse(alt).map_err(|e| format!("invalid JSONPath `{alt}`: {e}"))?;
                alternatives.push(Alternative::Json(Box::new(path)));
            } else {
                let segs = parse_dot(alt).map_err(|e| format!("invalid path `{alt}`: {e}"))?;
                alternatives.push(Alternative::Dot(segs));
            }
        }
        Ok(PathExpr {
            alternatives,
            text: text.to_string(),
        })
    }

    /// The expression as written (trimmed), for messages.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The first alternative that yields a usable value.
    pub(crate) fn resolve<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.alternatives.iter().find_map(|alt| {
            let v = match alt {
                Alternative::Json(p) => p.query(root).first(),
                Alternative::Dot(segs) => resolve_dot(segs, root),
            }?;
            is_present(v).then_some(v)
        })
    }
}

/// Null and empty (or blank) strings count as absent.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

fn resolve_dot<'a>(segs: &[Segment], root: &'a Value) -> Option<&'a Value> {
    let mut cur = root;
    for seg in segs {
        cur = match cur {
            Value::Object(map) => map.get(&seg.key)?,
            Value::Array(items) => {
                let i = seg.index?;
                let idx = if i < 0 {
                    let back = usize::try_from(i.unsigned_abs()).ok()?;
                    items.len().checked_sub(back)?
                } else {
                    usize::try_from(i).ok()?
                };
                items.get(idx)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Splits on `|` outside brackets, parentheses and (bracketed) quotes, so
/// JSONPath filters such as `$[?@.a == 1 || @.b == 2]` and keys such as
/// `["a|b"]` stay whole.
fn split_alternatives(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth: i32 = 0;
    let mut quote: Option<char> = None;
    let mut escape = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escape {
                escape = false;
            } else if c == '\\' {
                escape = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' if depth > 0 => quote = Some(c),
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            '|' if depth <= 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Err(format!("unterminated quote in `{text}`"));
    }
    if depth > 0 {
        return Err(format!("unclosed bracket in `{text}`"));
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn integer_segment(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Dot notation: `name(.name | [N] | ["key"] | ['key'])*`, possibly starting
/// with a bracket.
fn parse_dot(s: &str) -> Result<Vec<Segment>, String> {
    let bytes = s.as_bytes();
    let mut segs = Vec::new();
    let mut i = 0;
    // true when a name (not a bracket) must come next: at the start and after '.'
    let mut expect_name = true;
    let mut after_dot = false;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => {
                if after_dot {
                    return Err("`.` must be followed by a key, not `[`".to_string());
                }
                let (seg, next) = parse_bracket(s, i)?;
                segs.push(seg);
                i = next;
                expect_name = false;
            }
            b'.' => {
                if expect_name {
                    return Err("empty segment".to_string());
                }
                i += 1;
                expect_name = true;
                after_dot = true;
                continue;
            }
            b']' => return Err("unexpected `]`".to_string()),
            _ => {
                if !expect_name {
                    return Err(format!("expected `.` or `[` at position {i}"));
                }
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'.' | b'[' | b']') {
                    i += 1;
                }
                let name = &s[start..i];
                segs.push(Segment {
                    key: name.to_string(),
                    index: integer_segment(name),
                });
                expect_name = false;
            }
        }
        after_dot = false;
    }
    if expect_name {
        return Err(if segs.is_empty() {
            "empty path".to_string()
        } else {
            "path ends with `.`".to_string()
        });
    }
    Ok(segs)
}

/// Parses `[...]` starting at `open` (the index of `[`); returns the segment
/// and the index after `]`.
fn parse_bracket(s: &str, open: usize) -> Result<(Segment, usize), String> {
    let rest = &s[open + 1..];
    let trimmed_start = rest.len() - rest.trim_start().len();
    let body = &rest[trimmed_start..];
    let mut chars = body.char_indices();
    match chars.next() {
        Some((_, q)) if q == '"' || q == '\'' => {
            let mut key = String::new();
            let mut escape = false;
            for (j, c) in chars {
                if escape {
                    key.push(c);
                    escape = false;
                } else if c == '\\' {
                    escape = true;
                } else if c == q {
                    let after = &body[j + c.len_utf8()..];
                    let ws = after.len() - after.trim_start().len();
                    if !after[ws..].starts_with(']') {
                        return Err("expected `]` after quoted key".to_string());
                    }
                    let next = open + 1 + trimmed_start + j + c.len_utf8() + ws + 1;
                    return Ok((Segment { key, index: None }, next));
                } else {
                    key.push(c);
                }
            }
            Err("unterminated quoted key".to_string())
        }
        _ => {
            let close = rest.find(']').ok_or_else(|| "unclosed `[`".to_string())?;
            let inner = rest[..close].trim();
            let index = integer_segment(inner).ok_or_else(|| {
                format!(
                    "`[{inner}]`: expected an array index or a quoted key (use a `$` JSONPath for wildcards and filters)"
                )
            })?;
            Ok((
                Segment {
                    key: inner.to_string(),
                    index: Some(index),
                },
                open + 1 + close + 1,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get<'a>(path: &str, v: &'a Value) -> Option<&'a Value> {
        PathExpr::parse(path).expect(path).resolve(v)
    }

    fn sample() -> Value {
        json!({
            "data": {
                "legs": [{"from": "111"}, {"from": "222"}, {"from": "333"}],
                "user": {"name": "Asha"},
                "empty": "",
                "blank": "   ",
                "nothing": null,
                "num": 42
            },
            "headers": {"x-id": "abc", "a.b": 1, "a|b": 2, "q\"k": 3},
            "2": "two-key",
            "top": [[1, 2], [3, 4]]
        })
    }

    #[test]
    fn dot_paths_and_indices() {
        let v = sample();
        assert_eq!(get("data.user.name", &v), Some(&json!("Asha")));
        assert_eq!(get("data.legs[0].from", &v), Some(&json!("111")));
        assert_eq!(get("data.legs.1.from", &v), Some(&json!("222")));
        assert_eq!(get("data.legs[-1].from", &v), Some(&json!("333")));
        assert_eq!(get("data.legs.-2.from", &v), Some(&json!("222")));
        assert_eq!(get("data.legs[3].from", &v), None);
        assert_eq!(get("data.legs[-4].from", &v), None);
        assert_eq!(get("top[1][0]", &v), Some(&json!(3)));
        assert_eq!(get("top[-1][-1]", &v), Some(&json!(4)));
        // a numeric segment on an object is a key
        assert_eq!(get("2", &v), Some(&json!("two-key")));
        assert_eq!(get("data.num", &v), Some(&json!(42)));
        // descending into a scalar yields nothing
        assert_eq!(get("data.num.x", &v), None);
        assert_eq!(get("data.user.name.first", &v), None);
        // non-numeric key on an array yields nothing
        assert_eq!(get("data.legs.from", &v), None);
    }

    #[test]
    fn quoted_keys() {
        let v = sample();
        assert_eq!(get(r#"headers["x-id"]"#, &v), Some(&json!("abc")));
        assert_eq!(get("headers['x-id']", &v), Some(&json!("abc")));
        assert_eq!(get(r#"headers[ "a.b" ]"#, &v), Some(&json!(1)));
        assert_eq!(get(r#"headers["a|b"]"#, &v), Some(&json!(2)));
        assert_eq!(get(r#"headers["q\"k"]"#, &v), Some(&json!(3)));
        assert_eq!(get(r#"["headers"]["x-id"]"#, &v), Some(&json!("abc")));
        // quoted numeric key does not index arrays
        assert_eq!(get(r#"data.legs["0"]"#, &v), None);
    }

    #[test]
    fn jsonpath_alternatives() {
        let v = sample();
        assert_eq!(get("$.data.user.name", &v), Some(&json!("Asha")));
        assert_eq!(get("$.data.legs[-1].from", &v), Some(&json!("333")));
        assert_eq!(get("$.data.legs[*].from", &v), Some(&json!("111")));
        assert_eq!(
            get("$.data.legs[?@.from == '222' || @.from == 'x'].from", &v),
            Some(&json!("222"))
        );
        assert_eq!(get("$.headers['x-id']", &v), Some(&json!("abc")));
        assert_eq!(get("$.nope", &v), None);
    }

    #[test]
    fn fallbacks_skip_missing_null_and_empty() {
        let v = sample();
        assert_eq!(
            get(
                "data.missing | data.nothing | data.empty | data.blank | data.user.name",
                &v
            ),
            Some(&json!("Asha"))
        );
        assert_eq!(
            get("data.missing|$.data.legs[1].from", &v),
            Some(&json!("222"))
        );
        assert_eq!(get("data.nothing | data.empty", &v), None);
        // zero and false are present
        let z = json!({"a": 0, "b": false});
        assert_eq!(get("a | b", &z), Some(&json!(0)));
        assert_eq!(get("b | a", &z), Some(&json!(false)));
    }

    #[test]
    fn compile_errors() {
        for bad in [
            "",
            "   ",
            "a..b",
            ".a",
            "a.",
            "a | ",
            "a || b",
            "| a",
            "a[",
            "a[0",
            "a]",
            "a[x]",
            "a[*]",
            "a.[0]",
            "a[0]b",
            r#"a["x"#,
            r#"a["x"b]"#,
            "$.a[",
            "$$",
            "$.a | b..c",
        ] {
            assert!(PathExpr::parse(bad).is_err(), "`{bad}` should not compile");
        }
    }

    #[test]
    fn text_is_kept() {
        let p = PathExpr::parse("  a.b | c ").unwrap();
        assert_eq!(p.text(), "a.b | c");
    }
}
