//! Vonage's Voice and Messages APIs take no shared secret: each request
//! carries a JWT that Callboard signs RS256 with the Vonage application's
//! private key (claims `application_id`, `iat`, `jti`, `exp`, as Vonage's
//! SDKs make them, good for 15 minutes). jsonwebtoken is HS256-only in this
//! build (signature/jwt.rs), so the signature is ring's RSA PKCS#1 v1.5
//! SHA-256, from the copy of ring that rustls already brings.

use crate::time::Timestamp;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::Serialize;

/// How long a token is good for (the SDKs' default).
pub const TOKEN_SECONDS: i64 = 15 * 60;

/// Why a private key cannot sign. The messages finish "the private key is …"
/// for the admin who pasted it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM private key: paste the whole private.key file Vonage gave, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----")]
    NotPem,
    #[error("encrypted with a passphrase: export it without one (openssl pkcs8 -topk8 -nocrypt)")]
    Encrypted,
    #[error("a PEM `{0}`, not a private key")]
    OtherPem(String),
    #[error("not valid base64 between its BEGIN and END lines ({0})")]
    Base64(String),
    #[error(
        "not an RSA private key Callboard can sign with ({0}); Vonage's keys are 2048-bit RSA"
    )]
    Rejected(String),
    #[error("unusable: signing with it failed")]
    Signing,
}

/// A parsed application key. Its Debug shows nothing of the key.
pub struct ApplicationKey(RsaKeyPair);

impl std::fmt::Debug for ApplicationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicationKey(..)")
    }
}

impl ApplicationKey {
    /// The public half as DER `RSAPublicKey`, what ring's verifier takes.
    pub fn public_key_der(&self) -> &[u8] {
        self.0.public().as_ref()
    }
}

/// Reads the key as Vonage hands it out (PKCS#8 `PRIVATE KEY`) or in the
/// older PKCS#1 `RSA PRIVATE KEY` form. Pasted keys arrive with their line
/// breaks, with literal `\n` (copied from an .env file) or flattened to one
/// line, so whitespace inside the body is dropped and text around it ignored.
pub fn parse_private_key(text: &str) -> Result<ApplicationKey, KeyError> {
    let text = text.replace("\\n", "\n");
    let start = text.find("-----BEGIN ").ok_or(KeyError::NotPem)?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label_end = after.find("-----").ok_or(KeyError::NotPem)?;
    let label = after[..label_end].trim();
    let rest = &after[label_end + "-----".len()..];
    let end = rest
        .find(&format!("-----END {label}-----"))
        .ok_or(KeyError::NotPem)?;
    let body = &rest[..end];
    // PKCS#8's encrypted form has its own label; PKCS#1's keeps the label
    // and adds `Proc-Type: 4,ENCRYPTED` headers inside the body.
    if label == "ENCRYPTED PRIVATE KEY" || body.contains("ENCRYPTED") {
        return Err(KeyError::Encrypted);
    }
    if label != "PRIVATE KEY" && label != "RSA PRIVATE KEY" {
        return Err(KeyError::OtherPem(label.chars().take(40).collect()));
    }
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|e| KeyError::Base64(e.to_string()))?;
    let pair = if label == "PRIVATE KEY" {
        RsaKeyPair::from_pkcs8(&der)
    } else {
        RsaKeyPair::from_der(&der)
    }
    .map_err(|e| KeyError::Rejected(e.to_string()))?;
    Ok(ApplicationKey(pair))
}

// Field order is the token's claim order: fixed, so a token is reproducible
// from its claims (the test vector depends on it).
#[derive(Serialize)]
struct Claims<'a> {
    application_id: &'a str,
    iat: i64,
    jti: &'a str,
    exp: i64,
}

/// The compact JWT for `application_id`, issued at `now`, with `jti` as its
/// unique id.
pub fn application_jwt(
    key: &ApplicationKey,
    application_id: &str,
    now: Timestamp,
    jti: &str,
) -> Result<String, KeyError> {
    let iat = now.timestamp();
    let claims = serde_json::to_vec(&Claims {
        application_id,
        iat,
        jti,
        exp: iat + TOKEN_SECONDS,
    })
    .map_err(|_| KeyError::Signing)?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut signature = vec![0; key.0.public().modulus_len()];
    key.0
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| KeyError::Signing)?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// A fresh token for one request: its own `jti`, so no two requests share
/// one.
pub fn bearer(private_key: &str, application_id: &str, now: Timestamp) -> Result<String, KeyError> {
    let key = parse_private_key(private_key)?;
    application_jwt(&key, application_id, now, &ulid::Ulid::new().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use serde_json::Value;

    // A throwaway key generated once with openssl for these tests (see
    // tests/fixtures/README.md); it belongs to no Vonage application.
    const KEY: &str = include_str!("../../tests/fixtures/vonage-application-key.GENERATED.pem");
    const KEY_PKCS1: &str =
        include_str!("../../tests/fixtures/vonage-application-key-pkcs1.GENERATED.pem");
    const PUBLIC: &str =
        include_str!("../../tests/fixtures/vonage-application-key.GENERATED.pub.pem");
    const VECTOR: &str = include_str!("../../tests/fixtures/vonage-jwt-test-vector.GENERATED.json");

    fn public_der() -> Vec<u8> {
        let b64: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(b64).unwrap()
    }

    fn part(token: &str, i: usize) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(token.split('.').nth(i).unwrap())
            .unwrap()
    }

    #[test]
    fn reproduces_the_token_openssl_signed_and_it_verifies_with_the_public_key() {
        let v: Value = serde_json::from_str(VECTOR).unwrap();
        let key = parse_private_key(KEY).unwrap();
        let now = chrono::Utc
            .timestamp_opt(v["iat"].as_i64().unwrap(), 0)
            .unwrap();
        let token = application_jwt(
            &key,
            v["application_id"].as_str().unwrap(),
            now,
            v["jti"].as_str().unwrap(),
        )
        .unwrap();
        // PKCS#1 v1.5 is deterministic: an independent signer (openssl) over
        // the same claims gives the same bytes.
        assert_eq!(token, v["token"].as_str().unwrap());

        let header: Value = serde_json::from_slice(&part(&token, 0)).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "RS256", "typ": "JWT"}));
        let claims: Value = serde_json::from_slice(&part(&token, 1)).unwrap();
        assert_eq!(claims["application_id"], v["application_id"]);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            900
        );
        let (input, _) = token.rsplit_once('.').unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_der());
        public
            .verify(input.as_bytes(), &part(&token, 2))
            .expect("the committed public key verifies the signature");
        assert!(public
            .verify(format!("{input}x").as_bytes(), &part(&token, 2))
            .is_err());
        assert_eq!(key.public_key_der(), public_der().as_slice());
    }

    #[test]
    fn each_bearer_has_its_own_jti_and_the_pkcs1_form_signs_the_same() {
        let now = chrono::Utc.timestamp_opt(1_767_225_600, 0).unwrap();
        let a = bearer(KEY, "app-1", now).unwrap();
        let b = bearer(KEY_PKCS1, "app-1", now).unwrap();
        let jti = |t: &str| {
            serde_json::from_slice::<Value>(&part(t, 1)).unwrap()["jti"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_ne!(jti(&a), jti(&b));
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_der());
        for t in [&a, &b] {
            let (input, _) = t.rsplit_once('.').unwrap();
            public.verify(input.as_bytes(), &part(t, 2)).unwrap();
        }
    }

    #[test]
    fn pasted_forms_of_the_key_are_read() {
        // Flattened to one line by an input field, and with \n escapes.
        let flat = KEY.replace('\n', " ");
        assert!(parse_private_key(&flat).is_ok());
        let escaped = KEY.replace('\n', "\\n");
        assert!(parse_private_key(&escaped).is_ok());
    }

    #[test]
    fn malformed_keys_are_refused_with_the_reason() {
        let err = |s: &str| parse_private_key(s).unwrap_err();
        assert_eq!(err("hunter2"), KeyError::NotPem);
        assert_eq!(err("-----BEGIN PRIVATE KEY-----\nMIIE"), KeyError::NotPem);
        assert_eq!(
            err("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----"),
            KeyError::Encrypted
        );
        assert_eq!(
            err("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----"),
            KeyError::Encrypted
        );
        assert!(matches!(err(PUBLIC), KeyError::OtherPem(l) if l == "RSA PUBLIC KEY"));
        assert!(matches!(
            err("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----"),
            KeyError::Base64(_)
        ));
        assert!(matches!(
            err("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
            KeyError::Rejected(_)
        ));
        // A key cut short in the middle of its body.
        let lines: Vec<&str> = KEY.lines().collect();
        let cut = format!(
            "{}\n{}\n-----END PRIVATE KEY-----",
            lines[2],
            lines[3..10].join("\n")
        );
        assert!(matches!(err(&cut), KeyError::Rejected(_)));
        assert!(format!("{:?}", parse_private_key(KEY).unwrap()) == "ApplicationKey(..)");
    }
}
