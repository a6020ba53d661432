//! Plivo's request signatures, as its SDKs compute them.
//!
//! V3 (`X-Plivo-Signature-V3`, `X-Plivo-Signature-V3-Nonce`): base64
//! HMAC-SHA256 with the account's auth token over `{canonical}.{nonce}`,
//! where the canonical text depends on the method:
//! - GET: the URL without its query, then `?` and every query parameter
//!   sorted by name as `name=value` joined by `&` (nothing when there are
//!   none);
//! - POST: the URL without its query, then `?` and the sorted query (as for
//!   GET) when there is a query or a form body, then `.` when there are both,
//!   then every form parameter sorted by name as `namevalue`.
//!
//! Repeated names contribute each value, sorted. The header may carry
//! several comma-separated signatures (one per active auth token): any match
//! is enough.
//!
//! V2 (`X-Plivo-Signature-V2`, `-V2-Nonce`): base64 HMAC-SHA256 over the URL
//! without its query followed by the nonce.

use super::{form_urlencoded_pairs, refuse, Refusal, SignedRequest};
use crate::error::ErrorCode;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

type Params = BTreeMap<String, Vec<String>>;

fn collect(pairs: Vec<(String, String)>) -> Params {
    let mut out: Params = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k).or_default().push(v);
    }
    for vals in out.values_mut() {
        vals.sort();
    }
    out
}

fn split_url(url: &str) -> (&str, &str) {
    let url = url.split('#').next().unwrap_or(url);
    url.split_once('?').unwrap_or((url, ""))
}

fn sorted_query(params: &Params) -> String {
    params
        .iter()
        .flat_map(|(k, vals)| vals.iter().map(move |v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join("&")
}

fn sorted_body(params: &Params) -> String {
    params
        .iter()
        .flat_map(|(k, vals)| vals.iter().map(move |v| format!("{k}{v}")))
        .collect()
}

/// The text V3 signs before `.{nonce}`.
fn canonical(method: &str, url: &str, form: &[(String, String)]) -> String {
    let (base, query) = split_url(url);
    let mut q = collect(form_urlencoded_pairs(query.as_bytes()));
    if method.eq_ignore_ascii_case("GET") {
        for (k, vals) in collect(form.to_vec()) {
            q.entry(k).or_default().extend(vals);
        }
        let qs = sorted_query(&q);
        return if qs.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{qs}")
        };
    }
    let body = collect(form.to_vec());
    let qs = sorted_query(&q);
    let mut out = base.to_string();
    if !qs.is_empty() || !body.is_empty() {
        out.push('?');
        out.push_str(&qs);
    }
    if !qs.is_empty() && !body.is_empty() {
        out.push('.');
    }
    out.push_str(&sorted_body(&body));
    out
}

fn hmac_b64(token: &str, parts: &[&str]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for p in parts {
        m.update(p.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

/// The V3 signature Plivo sends for this request.
pub fn plivo_v3_signature(
    token: &str,
    method: &str,
    url: &str,
    form: &[(String, String)],
    nonce: &str,
) -> String {
    hmac_b64(token, &[&canonical(method, url, form), ".", nonce])
}

fn matches_any(header: &str, expected: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .fold(false, |found, sig| found | super::same(sig, expected))
}

pub(super) fn verify(token: &str, req: &SignedRequest<'_>) -> Result<(), Refusal> {
    let bad = || {
        refuse(
            ErrorCode::InvalidSignature,
            "the Plivo signature does not match (check the auth token and --public-url)",
        )
    };
    let missing = |h: &str| {
        refuse(
            ErrorCode::MissingSignature,
            format!("the `{h}` header is missing"),
        )
    };
    if let Some(sig) = (req.header)("x-plivo-signature-v3") {
        let nonce = (req.header)("x-plivo-signature-v3-nonce")
            .ok_or_else(|| missing("X-Plivo-Signature-V3-Nonce"))?;
        let form = if req.method.eq_ignore_ascii_case("GET") {
            Vec::new()
        } else {
            form_urlencoded_pairs(req.body)
        };
        let expected = plivo_v3_signature(token, req.method, req.url, &form, nonce.trim());
        return if matches_any(&sig, &expected) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    if let Some(sig) = (req.header)("x-plivo-signature-v2") {
        let nonce = (req.header)("x-plivo-signature-v2-nonce")
            .ok_or_else(|| missing("X-Plivo-Signature-V2-Nonce"))?;
        let (base, _) = split_url(req.url);
        let expected = hmac_b64(token, &[base, nonce.trim()]);
        return if matches_any(&sig, &expected) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    Err(missing("X-Plivo-Signature-V3"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Plivo's Go SDK test vectors (plivo-go, utils_test.go:
    // TestValidateSignatureV3Pass1..4 and TestValidateSignatureV2Pass).
    const TOKEN: &str = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4";
    const NONCE: &str = "31627761595286130198";

    fn params() -> Vec<(String, String)> {
        [
            ("Direction", "outbound"),
            ("From", "19792014278"),
            ("ALegUUID", "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"),
            ("CallStatus", "in-progress"),
            ("BillRate", "0.002"),
            ("ParentAuthID", "MANWVLYTK4ZWU1YTY4QA"),
            (
                "To",
                "sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com",
            ),
            ("ALegRequestUUID", "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"),
            ("CallUUID", "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"),
            ("RequestUUID", "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36"),
            (
                "SIP-H-To",
                "<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1",
            ),
            ("SessionStart", "2020-04-08 11:34:33.238707"),
            ("Event", "StartApp"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn the_sdk_v3_vectors() {
        let with_query =
            "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml/?a=b&c=d";
        let without = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml";
        assert_eq!(
            plivo_v3_signature(TOKEN, "POST", with_query, &params(), NONCE),
            "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c="
        );
        assert_eq!(
            plivo_v3_signature(TOKEN, "POST", without, &params(), NONCE),
            "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0="
        );
        // GET: the SDK's params are query parameters
        assert_eq!(
            plivo_v3_signature(TOKEN, "GET", with_query, &params(), NONCE),
            "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ="
        );
        assert_eq!(
            plivo_v3_signature(TOKEN, "GET", without, &params(), NONCE),
            "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc="
        );
    }

    #[test]
    fn the_sdk_v2_vector() {
        assert_eq!(
            hmac_b64("my_auth_token", &["https://answer.url", "12345"]),
            "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc="
        );
    }

    #[test]
    fn any_of_several_signatures_matches() {
        assert!(matches_any("x, y ,z", "y"));
        assert!(!matches_any("x,y", "z"));
        assert!(!matches_any("", "z"));
    }
}
