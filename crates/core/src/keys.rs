//! Secrets: provider API keys and session tokens (random, stored as SHA-256)
//! and user passwords (argon2).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const API_KEY_PREFIX: &str = "cbk_";
pub const TOKEN_PREFIX: &str = "cbt_";
pub const LOGIN_CODE_PREFIX: &str = "cbl_";
pub const INTEGRATION_TOKEN_PREFIX: &str = "cbi_";

fn random_secret(prefix: &str) -> String {
    // 192 bits: well above the 128 the threat model needs.
    let mut bytes = [0u8; 24];
    // ThreadRng: a CSPRNG seeded (and reseeded) from the OS.
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn new_api_key() -> String {
    random_secret(API_KEY_PREFIX)
}

pub const SIGNING_SECRET_PREFIX: &str = "cbs_";

/// A shared secret for signature schemes (HMAC, JWT): kept in clear by the
/// store, since verifying a signature needs it.
pub fn new_signing_secret() -> String {
    random_secret(SIGNING_SECRET_PREFIX)
}

pub fn new_token() -> String {
    random_secret(TOKEN_PREFIX)
}

/// A password a person can type: 20 characters from an alphabet without
/// look-alikes (about 100 bits), in groups of five.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..20)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A bearer token for an integration (a CRM, a BI tool).
pub fn new_integration_token() -> String {
    random_secret(INTEGRATION_TOKEN_PREFIX)
}

pub fn new_login_code() -> String {
    random_secret(LOGIN_CODE_PREFIX)
}

/// High-entropy secrets need no slow hash: SHA-256 keeps a stolen database
/// from yielding usable keys while a webhook check stays in microseconds.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// What may be shown of a key after creation: its prefix and first characters.
pub fn key_hint(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 6).collect()
}

pub fn hash_password(password: &str) -> Result<String, String> {
    // 16 random bytes (the recommended salt length), from the same CSPRNG as
    // the secrets: no second `rand_core` with OS entropy just for this.
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_long_prefixed_and_unique() {
        let a = new_api_key();
        let b = new_api_key();
        assert!(a.starts_with(API_KEY_PREFIX));
        assert_eq!(a.len(), API_KEY_PREFIX.len() + 48);
        assert_ne!(a, b);
        assert!(secret_matches(&a, &hash_secret(&a)));
        assert!(!secret_matches(&b, &hash_secret(&a)));
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
