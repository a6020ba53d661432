//! A body that is a compact JWS signed HS256 (Dialpad with a webhook
//! secret): the signature is checked, `alg` must be HS256, an `exp` claim in
//! the past is refused, and the claims become the event.

use super::{refuse, Refusal};
use crate::time::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Seconds of clock skew allowed on `exp` and `nbf`.
const LEEWAY: i64 = 60;

fn mac(secret: &str, signing_input: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(signing_input);
    m
}

/// Signs `claims` as a compact HS256 JWT (for tests and tools).
pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, input.as_bytes()).finalize().into_bytes());
    format!("{input}.{sig}")
}

fn trim(body: &[u8]) -> &[u8] {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &body[start..end.max(start)]
}

/// Verifies the JWT body; returns its claims as JSON bytes.
pub(super) fn verify(secret: &str, body: &[u8], now: Timestamp) -> Result<Vec<u8>, Refusal> {
    let malformed = || refuse("invalid_signature", "the body is not a compact JWT");
    let token = std::str::from_utf8(trim(body)).map_err(|_| malformed())?;
    let mut parts = token.split('.');
    let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => (h, p, s),
        _ => return Err(malformed()),
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    if header["alg"] != "HS256" {
        return Err(refuse(
            "invalid_signature",
            format!("JWT alg {} is not HS256", header["alg"]),
        ));
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    let signing_input = &token.as_bytes()[..h.len() + 1 + p.len()];
    mac(secret, signing_input)
        .verify_slice(&sig)
        .map_err(|_| refuse("invalid_signature", "the JWT signature does not match"))?;
    let claims = URL_SAFE_NO_PAD.decode(p).map_err(|_| malformed())?;
    let value: Value = serde_json::from_slice(&claims)
        .map_err(|_| refuse("invalid_signature", "the JWT claims are not JSON"))?;
    let now_s = now.timestamp();
    if let Some(exp) = value.get("exp").and_then(Value::as_i64) {
        if now_s > exp + LEEWAY {
            return Err(refuse(
                "stale_signature",
                format!(
                    "the JWT expired {} s ago: a replay or a wrong clock",
                    now_s - exp
                ),
            ));
        }
    }
    if let Some(nbf) = value.get("nbf").and_then(Value::as_i64) {
        if nbf > now_s + LEEWAY {
            return Err(refuse("stale_signature", "the JWT is not valid yet"));
        }
    }
    Ok(claims)
}
