//! Outbound HTTP clients (platform APIs, webhooks out, the replica's link).
//! reqwest runs on rustls without a crypto provider of its own: the one TLS
//! stack in the process is ring, as for the listener and PostgreSQL, so it is
//! installed as the process default before the first client is built.
//! Certificates are checked against the operating system's roots
//! (rustls-platform-verifier), where an office adds its own CA.

/// A client builder with the crypto provider in place.
pub fn client() -> reqwest::ClientBuilder {
    install_crypto();
    reqwest::Client::builder()
}

/// A client with reqwest's defaults.
pub fn default_client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::new()
}

/// Idempotent: another part of the process may have installed ring first.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_builds_with_the_provider_in_place() {
        super::client().build().unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
