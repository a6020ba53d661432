//! Implausible values: a mapped value that parses but cannot be true (a
//! negative duration, an event from the far future, a recording URL that is
//! not a web address, a phone number with control characters) is refused
//! or clamped, never stored silently: each becomes a warning in the
//! provider's ingestion log.

use super::MapOutcome;
use chrono::{DateTime, Duration, Utc};

/// How far ahead of the time of receipt an event may be stamped (clock
/// skew between the platform and us) when nothing else is configured.
pub const DEFAULT_FUTURE_SKEW: Duration = Duration::minutes(5);

/// The longest plausible call: a day.
pub const MAX_DURATION_SECONDS: i64 = 24 * 3600;

/// Unicode bidirectional formatting characters: they reorder how a number
/// is displayed (a spoofed caller id) without being part of it.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Fullwidth digits and plus sign (as some Asian keyboards type them)
/// become their ASCII forms.
fn normalise_fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' => char::from_digit(u32::from(c) - 0xFF10, 10).unwrap_or(c),
            '\u{FF0B}' => '+',
            _ => c,
        })
        .collect()
}

/// A phone number as stored: fullwidth digits normalised; `Err` when it
/// holds control or bidirectional formatting characters.
pub fn phone_number(s: &str) -> Result<String, String> {
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err("contains control or bidirectional formatting characters".into());
    }
    Ok(normalise_fullwidth(s))
}

/// Whether `s` is an absolute `http` or `https` URL.
pub fn is_web_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !s.chars().any(|c| c.is_control() || c == ' ')
    })
}

/// Refuses or clamps implausible values in `out`, adding a warning for each.
pub fn check(out: &mut MapOutcome, received_at: DateTime<Utc>, max_future_skew: Duration) {
    let call = &mut out.call;
    let w = &mut out.warnings;
    if let Some(d) = call.duration_seconds {
        if d < 0 {
            w.push(format!("duration_seconds {d} is negative: ignored"));
            call.duration_seconds = None;
        } else if d > MAX_DURATION_SECONDS {
            w.push(format!(
                "duration_seconds {d} is longer than a day ({MAX_DURATION_SECONDS} s): ignored"
            ));
            call.duration_seconds = None;
        }
    }
    let limit = received_at + max_future_skew;
    let skew = max_future_skew.num_seconds();
    if let Some(t) = out.event_at {
        if t > limit {
            w.push(format!(
                "event_at {} is in the future (more than {skew} s after receipt): the time of receipt is used",
                super::transform::time_text(&t)
            ));
            out.event_at = Some(received_at);
        }
    }
    for (name, slot) in [
        ("started_at", &mut call.started_at),
        ("answered_at", &mut call.answered_at),
        ("ended_at", &mut call.ended_at),
    ] {
        if let Some(t) = *slot {
            if t > limit {
                w.push(format!(
                    "{name} {} is in the future (more than {skew} s after receipt): ignored",
                    super::transform::time_text(&t)
                ));
                *slot = None;
            }
        }
    }
    if let Some(u) = &call.recording_url {
        if !is_web_url(u) {
            w.push(format!(
                "recording_url `{}` is not an http(s) URL: ignored",
                u.escape_debug()
            ));
            call.recording_url = None;
        }
    }
    for (name, slot) in [
        ("mobile_number", &mut call.mobile_number),
        ("did", &mut call.did),
    ] {
        if let Some(v) = slot.take() {
            match phone_number(&v) {
                Ok(n) => *slot = Some(n),
                Err(why) => w.push(format!("{name} `{}` {why}: ignored", v.escape_debug())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappedCall;

    fn outcome(call: MappedCall, event_at: Option<DateTime<Utc>>) -> MapOutcome {
        MapOutcome {
            call,
            event_id: None,
            event_at,
            warnings: vec![],
            error: None,
            unknown_status: false,
        }
    }

    #[test]
    fn implausible_values_are_refused_or_clamped_with_a_warning() {
        let now = Utc::now();
        let far = now + Duration::days(365 * 900);
        let mut o = outcome(
            MappedCall {
                duration_seconds: Some(-100_000),
                recording_url: Some("javascript:alert(1)".into()),
                mobile_number: Some("+91\u{202E}98765".into()),
                did: Some("\u{FF0B}\u{FF19}\u{FF11}80".into()),
                ended_at: Some(far),
                ..Default::default()
            },
            Some(far),
        );
        check(&mut o, now, DEFAULT_FUTURE_SKEW);
        assert_eq!(o.call.duration_seconds, None);
        assert_eq!(o.call.recording_url, None);
        assert_eq!(o.call.mobile_number, None);
        assert_eq!(o.call.did.as_deref(), Some("+9180"));
        assert_eq!(o.call.ended_at, None);
        assert_eq!(o.event_at, Some(now));
        assert_eq!(o.warnings.len(), 5, "{:?}", o.warnings);
    }

    #[test]
    fn plausible_values_pass_untouched() {
        let now = Utc::now();
        let call = MappedCall {
            duration_seconds: Some(95),
            recording_url: Some("https://rec.example.com/a.mp3".into()),
            mobile_number: Some("+919876543210".into()),
            ended_at: Some(now + Duration::seconds(30)),
            ..Default::default()
        };
        let mut o = outcome(call.clone(), Some(now + Duration::seconds(60)));
        check(&mut o, now, DEFAULT_FUTURE_SKEW);
        assert_eq!(o.call, call);
        assert!(o.warnings.is_empty());
        for bad in [
            "ftp://x",
            "file:///etc/passwd",
            "http://",
            "https:///x",
            "data:text/html,x",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
