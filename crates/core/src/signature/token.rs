//! A static token the platform sends back on every delivery, equal to the
//! provider's signing secret: in the JSON body (Aircall's top-level
//! `token`) or in a header (RingCentral's `Verification-Token`). Nothing is
//! signed, so the only proof is the token itself, compared in constant time.

use super::{refuse, same, Refusal, SignedRequest, Verified};
use crate::error::ErrorCode;
use serde_json::Value;

/// `sent` (if any) against `token`; a header's value is compared trimmed.
fn check(
    sent: Option<String>,
    token: &str,
    trim: bool,
    missing: String,
    wrong: String,
) -> Result<(), Refusal> {
    let sent = sent
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse(ErrorCode::MissingApiKey, missing))?;
    if same(if trim { sent.trim() } else { &sent }, token) {
        Ok(())
    } else {
        Err(refuse(ErrorCode::InvalidApiKey, wrong))
    }
}

/// The token as the top-level string `field` of a JSON body.
pub(super) fn in_body(field: &str, token: &str, req: &SignedRequest<'_>) -> Result<(), Refusal> {
    let sent = serde_json::from_slice::<Value>(req.body)
        .ok()
        .and_then(|v| v.get(field).and_then(Value::as_str).map(str::to_string));
    check(
        sent,
        token,
        false,
        format!("the JSON body has no `{field}`: send the platform's webhook token in it"),
        format!("the body's `{field}` is not this provider's webhook token"),
    )
}

/// A request carrying `handshake_header` and no body: the platform checking
/// the URL when the subscription is created. Answered with the header echoed.
pub(super) fn handshake(handshake_header: &str, req: &SignedRequest<'_>) -> Option<Verified> {
    let v = (req.header)(&handshake_header.to_ascii_lowercase())?;
    (req.body.iter().all(u8::is_ascii_whitespace) && !v.trim().is_empty()).then(|| Verified {
        handshake: Some((handshake_header.to_string(), v)),
        ..Verified::default()
    })
}

/// The token in `header`.
pub(super) fn in_header(header: &str, token: &str, req: &SignedRequest<'_>) -> Result<(), Refusal> {
    check(
        (req.header)(&header.to_ascii_lowercase()),
        token,
        true,
        format!("the `{header}` header is missing: set the subscription's verification token"),
        format!("the `{header}` header is not this provider's verification token"),
    )
}
