//! A body that is a compact JWS signed HS256 (Dialpad with a webhook
//! secret): the `jsonwebtoken` crate checks the structure, the algorithm
//! (HS256 only, so `alg: none` and key confusion are refused) and the
//! signature; `exp` and `nbf` are checked here against the store's clock, which
//! tests control. The claims become the event.

use super::{refuse, Refusal};
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

/// Seconds of clock skew allowed on `exp` and `nbf`.
const LEEWAY: i64 = 60;

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

/// Verifies the JWT body; returns its claims as JSON bytes.
pub(super) fn verify(secret: &str, body: &[u8], now: Timestamp) -> Result<Vec<u8>, Refusal> {
    provider();
    let token = std::str::from_utf8(body)
        .map_err(|_| refuse("invalid_signature", "the body is not a compact JWT"))?
        .trim();
    let mut validation = Validation::new(Algorithm::HS256);
    // Time claims are checked below against the injected clock.
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
        ErrorKind::InvalidSignature => {
            refuse("invalid_signature", "the JWT signature does not match")
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            refuse("invalid_signature", "the JWT is not signed with HS256")
        }
        _ => refuse(
            "invalid_signature",
            format!("the body is not a valid JWT: {e}"),
        ),
    })?;
    let value = data.claims;
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
    serde_json::to_vec(&value).map_err(|e| refuse("invalid_signature", e.to_string()))
}
