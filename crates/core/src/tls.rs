//! The TLS client configuration Callboard's own links use (a replica to its
//! receiver, an instance to the cluster's PostgreSQL): ring, the public
//! roots, and for a private CA or a self-signed peer the certificates of one
//! PEM file. The certificate is always verified.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot read the CA file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("TLS setup: {0}")]
    Setup(String),
}

pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, CaError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let err = |reason: String| CaError::Read {
            path: path.to_path_buf(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| err(pem_error(e)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(pem_error(e)))?;
        if certs.is_empty() {
            return Err(err("no CERTIFICATE block in the file".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| err(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CaError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// pki-types shows markers as byte lists; an operator reads text.
pub fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { end_marker } => format!(
            "a PEM block does not end (no `-----END {}-----` line)",
            String::from_utf8_lossy(&end_marker)
        ),
        Error::IllegalSectionStart { line } => format!(
            "a PEM block starts badly: `{}`",
            String::from_utf8_lossy(&line)
        ),
        Error::NoItemsFound => "no key (PRIVATE KEY block) in the file".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "not a certificate\n").unwrap();
        let e = client_config(Some(&f)).unwrap_err().to_string();
        assert!(
            e.contains("ca.pem") && e.contains("no CERTIFICATE block"),
            "{e}"
        );
        let e = client_config(Some(&dir.path().join("missing.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.pem"), "{e}");
        assert!(client_config(None).is_ok());
    }
}
