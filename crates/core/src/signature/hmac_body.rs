//! HMAC-SHA256 of the raw body (Convoso's `x-convoso-signature` and any
//! platform that signs its body the same way).

use super::{refuse, Encoding, Refusal, SignedRequest};
use crate::error::ErrorCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(super) struct Config<'a> {
    pub header: &'a str,
    pub encoding: Encoding,
    pub prefix: Option<&'a str>,
    pub timestamp_header: Option<&'a str>,
    pub tolerance_seconds: i64,
}

/// The signature of `body` (after `{timestamp}.` when given), encoded.
pub fn sign(secret: &str, timestamp: Option<&str>, body: &[u8], encoding: Encoding) -> String {
    let mac = mac(secret, timestamp, body).finalize().into_bytes();
    match encoding {
        Encoding::Hex => hex::encode(mac),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
    }
}

fn mac(secret: &str, timestamp: Option<&str>, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    if let Some(ts) = timestamp {
        m.update(ts.as_bytes());
        m.update(b".");
    }
    m.update(body);
    m
}

pub(super) fn verify(
    cfg: &Config<'_>,
    secret: &str,
    req: &SignedRequest<'_>,
) -> Result<(), Refusal> {
    let sent = (req.header)(&cfg.header.to_ascii_lowercase()).ok_or_else(|| {
        refuse(
            ErrorCode::MissingSignature,
            format!("the `{}` signature header is missing", cfg.header),
        )
    })?;
    let sent = sent.trim();
    let sent = match cfg.prefix {
        Some(p) => sent.strip_prefix(p).ok_or_else(|| {
            refuse(
                ErrorCode::InvalidSignature,
                format!("the signature does not start with `{p}`"),
            )
        })?,
        None => sent,
    };
    let decoded = match cfg.encoding {
        Encoding::Hex => hex::decode(sent).ok(),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(sent).ok(),
    }
    .ok_or_else(|| {
        refuse(
            ErrorCode::InvalidSignature,
            "the signature is not well-formed",
        )
    })?;
    let timestamp = match cfg.timestamp_header {
        None => None,
        Some(h) => Some(super::fresh_timestamp(req, h, cfg.tolerance_seconds)?),
    };
    mac(secret, timestamp.as_deref(), req.body)
        .verify_slice(&decoded)
        .map_err(|_| {
            refuse(
                ErrorCode::InvalidSignature,
                "the body signature does not match",
            )
        })
}
