//! TLS to the cluster's PostgreSQL, asked for with `sslmode=require` in the
//! URL: rustls, the server's certificate verified against the public roots
//! and, for a private CA, the PEM file in `CALLBOARD_DATABASE_CA`. Unlike
//! libpq's `require`, the certificate is always verified: a cluster's
//! database is reached across sites, where an unverified channel is no
//! protection.

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The variable naming a PEM file of CA certificates to trust as well.
pub const CA_VAR: &str = "CALLBOARD_DATABASE_CA";

pub(crate) fn connector() -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = std::env::var_os(CA_VAR).filter(|p| !p.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let certs = CertificateDer::pem_file_iter(&path)
            .map_err(|e| Error::invalid(format!("{CA_VAR}: cannot read {shown}: {e}")))?;
        let mut added = 0;
        for cert in certs {
            let cert =
                cert.map_err(|e| Error::invalid(format!("{CA_VAR}: {shown} is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::invalid(format!("{CA_VAR}: {shown}: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::invalid(format!(
                "{CA_VAR}: {shown} holds no certificate"
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Cluster(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
