//! Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's
//! auth token, over the full URL Twilio called followed by every POST
//! parameter (sorted by name) as name+value. JSON bodies are signed through a
//! `bodySHA256` query parameter instead.

use super::{form_urlencoded_pairs, query_param, refuse, Refusal, SignedRequest};
use crate::error::ErrorCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

fn mac_over(token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (k, v) in sorted {
        m.update(k.as_bytes());
        m.update(v.as_bytes());
    }
    m
}

/// The signature Twilio sends for `url` and form `params`.
pub fn twilio_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac_over(token, url, params).finalize().into_bytes())
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

pub(super) fn verify(token: &str, req: &SignedRequest<'_>) -> Result<(), Refusal> {
    let sent = (req.header)("x-twilio-signature").ok_or_else(|| {
        refuse(
            ErrorCode::MissingSignature,
            "the X-Twilio-Signature header is missing",
        )
    })?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(sent.trim())
        .map_err(|_| {
            refuse(
                ErrorCode::InvalidSignature,
                "X-Twilio-Signature is not base64",
            )
        })?;
    let params = if let Some(expected) = query_param(req.query, "bodySHA256") {
        let actual = hex::encode(Sha256::digest(req.body));
        let same: bool = subtle::ConstantTimeEq::ct_eq(
            actual.as_bytes(),
            expected.to_ascii_lowercase().as_bytes(),
        )
        .into();
        if !same {
            return Err(refuse(
                ErrorCode::InvalidSignature,
                "the body does not match its bodySHA256",
            ));
        }
        Vec::new()
    } else if is_form(req.content_type) {
        form_urlencoded_pairs(req.body)
    } else {
        Vec::new()
    };
    mac_over(token, req.url, &params)
        .verify_slice(&decoded)
        .map_err(|_| {
            refuse(
                ErrorCode::InvalidSignature,
                "X-Twilio-Signature does not match: check the auth token and that the public URL is the one configured in Twilio",
            )
        })
}
