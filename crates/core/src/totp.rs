//! Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s), as every
//! authenticator app reads them from an `otpauth://` link or its secret.

use crate::time::Timestamp;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

const ISSUER: &str = "Callboard";

/// A new secret (160 bits), base32 as people type it into an app.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    // One step either side: a phone's clock a little off still signs in.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(ISSUER.to_string()),
        account.replace(':', "_"),
    )
    .ok()
}

/// The `otpauth://` link an authenticator app adds from.
pub fn url(secret: &str, account: &str) -> Option<String> {
    Some(totp(secret, account)?.get_url())
}

/// Whether `code` is right for `secret` at `now` (or one step either side).
pub fn check(secret: &str, code: &str, now: Timestamp) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    code.len() == 6
        && totp(secret, "x").is_some_and(|t| t.check(&code, now.timestamp().max(0) as u64))
}

/// The code for `now` (what the app shows); for tests and tools.
pub fn code_at(secret: &str, now: Timestamp) -> Option<String> {
    Some(totp(secret, "x")?.generate(now.timestamp().max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_checks_within_one_step_and_not_beyond() {
        let s = new_secret();
        let now = chrono::Utc::now();
        let code = code_at(&s, now).unwrap();
        assert!(check(&s, &code, now));
        assert!(
            check(&s, &format!("{} {}", &code[..3], &code[3..]), now),
            "spaces as apps show them"
        );
        assert!(check(&s, &code, now + chrono::Duration::seconds(30)));
        assert!(!check(&s, &code, now + chrono::Duration::seconds(95)));
        assert!(!check(&s, "12345", now));
        assert!(!check("not base32!", &code, now));
        let u = url(&s, "asha").unwrap();
        assert!(
            u.starts_with("otpauth://totp/Callboard:asha?") && u.contains(&s),
            "{u}"
        );
    }
}
