//! Ed25519 signatures over `{timestamp}|{body}` (Telnyx's
//! `telnyx-signature-ed25519` and `telnyx-timestamp`): the platform signs
//! with its private key; the provider's secret is the account's public key
//! (base64 of the 32 raw bytes, as the platform's portal shows it).

use super::{refuse, Refusal, SignedRequest};
use crate::error::ErrorCode;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};

pub(super) struct Config<'a> {
    pub header: &'a str,
    pub timestamp_header: &'a str,
    pub tolerance_seconds: i64,
}

/// The public key a provider stores, checked when it is set.
pub fn public_key(text: &str) -> Result<VerifyingKey, String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| "the public key is not base64".to_string())?;
    let bytes: [u8; 32] = raw
        .as_slice()
        .try_into()
        .map_err(|_| format!("the public key has {} bytes, not 32", raw.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "the public key is not an Ed25519 key".to_string())
}

pub(super) fn verify(
    cfg: &Config<'_>,
    public: &str,
    req: &SignedRequest<'_>,
) -> Result<(), Refusal> {
    let key = public_key(public).map_err(|e| {
        refuse(
            ErrorCode::NoSigningSecret,
            format!("{e}: an admin must paste the platform's public key"),
        )
    })?;
    let sent = (req.header)(&cfg.header.to_ascii_lowercase()).ok_or_else(|| {
        refuse(
            ErrorCode::MissingSignature,
            format!("the `{}` signature header is missing", cfg.header),
        )
    })?;
    let ts = super::fresh_timestamp(req, cfg.timestamp_header, cfg.tolerance_seconds)?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sent.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| {
            refuse(
                ErrorCode::InvalidSignature,
                "the signature is not a base64 Ed25519 signature",
            )
        })?;
    let mut message = Vec::with_capacity(ts.len() + 1 + req.body.len());
    message.extend_from_slice(ts.as_bytes());
    message.push(b'|');
    message.extend_from_slice(req.body);
    key.verify_strict(&message, &sig).map_err(|_| {
        refuse(
            ErrorCode::InvalidSignature,
            "the body signature does not match",
        )
    })
}
