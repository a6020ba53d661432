//! A body that is a compact JWS signed HS256 (Dialpad with a webhook
//! secret): the `jsonwebtoken` crate checks the structure, the algorithm
//! (HS256 only, so `alg: none` and key confusion are refused) and the
//! signature; `exp` and `nbf` are checked here against the store's clock, which
//! tests control. The claims become the event.

use super::{refuse, Refusal};
use crate::error::ErrorCode;
use crate::time::Timestamp;
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

/// HS256 is all we sign or verify: this provider (HMAC-SHA256 from the
/// `hmac` and `sha2` crates we use anyway) stands in for jsonwebtoken's
/// `rust_crypto` feature, which would also build RSA, ECDSA and Ed25519.
/// Any other algorithm is refused.
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |alg, key| {
        Ok(Box::new(Hs256(hs256_key(alg, key.try_get_hmac_secret()?)?)) as Box<dyn JwtSigner>)
    },
    verifier_factory: |alg, key| {
        Ok(Box::new(Hs256(hs256_key(alg, key.try_get_hmac_secret()?)?)) as Box<dyn JwtVerifier>)
    },
    jwk_utils: JwkUtils::new_unimplemented(),
};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hs256_key(alg: &Algorithm, secret: &[u8]) -> jsonwebtoken::errors::Result<HmacSha256> {
    use hmac::Mac;
    if *alg != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    HmacSha256::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

struct Hs256(HmacSha256);

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(msg);
        // Constant time.
        mac.verify_slice(sig).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// Installs [`HS256_ONLY`] as jsonwebtoken's provider for this process
/// (once; a provider installed earlier by someone else stays).
fn provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = HS256_ONLY.install_default();
    });
}

/// Seconds of clock skew allowed on `exp` and `nbf` (documented in
/// docs/PRESETS.md): a JWT is refused 61 s after its `exp`.
pub const LEEWAY: i64 = 60;

/// A registered time claim (`exp`, `nbf`, `iat`): absent, or an integer
/// number of seconds (RFC 7519 NumericDate; a whole-valued float such as
/// `1.7e9` counts). A string, a fraction or anything else is refused, so a
/// malformed claim never skips its check.
fn time_claim(value: &Value, name: &str) -> Result<Option<i64>, Refusal> {
    let Some(v) = value.get(name) else {
        return Ok(None);
    };
    let whole = v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    });
    whole.map(Some).ok_or_else(|| {
        refuse(
            ErrorCode::InvalidSignature,
            format!("the JWT claim `{name}` must be a whole number of seconds, not {v}"),
        )
    })
}

/// Signs `claims` as a compact HS256 JWT (for tests and tools).
pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    provider();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_else(|e| unreachable!("HS256 signing of a JSON value cannot fail: {e}"))
}

/// The claims of an HS256 JWT signed with `secret` (time claims unchecked).
fn decode(secret: &str, token: &str) -> Result<Value, Refusal> {
    provider();
    let mut validation = Validation::new(Algorithm::HS256);
    // Time claims are checked by the callers against the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature => refuse(
            ErrorCode::InvalidSignature,
            "the JWT signature does not match",
        ),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => refuse(
            ErrorCode::InvalidSignature,
            "the JWT is not signed with HS256",
        ),
        _ => refuse(ErrorCode::InvalidSignature, format!("not a valid JWT: {e}")),
    })?;
    Ok(data.claims)
}

/// A request signed the Vonage way: `Authorization: Bearer <JWT>`, HS256
/// with the signature secret, issued (`iat`) within `tolerance` seconds of
/// now, whose `payload_hash` claim is the hex SHA-256 of the body (required
/// whenever there is a body, so a body cannot be swapped under a valid
/// token).
pub(super) fn verify_bearer(
    secret: &str,
    authorization: Option<&str>,
    body: &[u8],
    now: Timestamp,
    tolerance: i64,
) -> Result<(), Refusal> {
    let token = authorization
        .map(str::trim)
        .and_then(|h| {
            h.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| h[7..].trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            refuse(
                ErrorCode::MissingSignature,
                "send the signed JWT as `Authorization: Bearer …`",
            )
        })?;
    let claims = decode(secret, token)?;
    let iat = time_claim(&claims, "iat")?.ok_or_else(|| {
        refuse(
            ErrorCode::InvalidSignature,
            "the JWT has no `iat` (issued at) claim",
        )
    })?;
    let age = now.timestamp() - iat;
    if age.abs() > tolerance {
        return Err(refuse(
            ErrorCode::StaleSignature,
            format!("the JWT was issued {age} s from now (tolerance {tolerance} s): a replay or a wrong clock"),
        ));
    }
    if !body.is_empty() {
        use sha2::Digest;
        let sent = claims
            .get("payload_hash")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                refuse(
                    ErrorCode::InvalidSignature,
                    "the JWT has no `payload_hash` for the body",
                )
            })?;
        let actual = hex::encode(sha2::Sha256::digest(body));
        if !super::same(&sent.to_ascii_lowercase(), &actual) {
            return Err(refuse(
                ErrorCode::InvalidSignature,
                "the body does not match the JWT's `payload_hash`: it was changed on the way",
            ));
        }
    }
    Ok(())
}

/// Verifies the JWT body; returns its claims as JSON bytes.
pub(super) fn verify(secret: &str, body: &[u8], now: Timestamp) -> Result<Vec<u8>, Refusal> {
    let token = std::str::from_utf8(body)
        .map_err(|_| refuse(ErrorCode::InvalidSignature, "the body is not a compact JWT"))?
        .trim();
    let value = decode(secret, token).map_err(|r| {
        if r.message.starts_with("not a valid JWT") {
            refuse(
                ErrorCode::InvalidSignature,
                format!("the body is {}", r.message),
            )
        } else {
            r
        }
    })?;
    let now_s = now.timestamp();
    time_claim(&value, "iat")?;
    if let Some(exp) = time_claim(&value, "exp")? {
        if now_s > exp + LEEWAY {
            return Err(refuse(
                ErrorCode::StaleSignature,
                format!(
                    "the JWT expired {} s ago: a replay or a wrong clock",
                    now_s - exp
                ),
            ));
        }
    }
    if let Some(nbf) = time_claim(&value, "nbf")? {
        if nbf > now_s + LEEWAY {
            return Err(refuse(
                ErrorCode::StaleSignature,
                "the JWT is not valid yet",
            ));
        }
    }
    serde_json::to_vec(&value).map_err(|e| refuse(ErrorCode::InvalidSignature, e.to_string()))
}
