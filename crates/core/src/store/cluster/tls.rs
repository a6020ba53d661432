//! TLS to the cluster's PostgreSQL, asked for with `sslmode=require` in the
//! URL: rustls, the server's certificate verified against the public roots
//! and, for a private CA, the PEM file in `CALLBOARD_DATABASE_CA`. Unlike
//! libpq's `require`, the certificate is always verified: a cluster's
//! database is reached across sites, where an unverified channel is no
//! protection.

use crate::error::{Error, Result};
use crate::tls::CaError;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The variable naming a PEM file of CA certificates to trust as well.
pub const CA_VAR: &str = "CALLBOARD_DATABASE_CA";

pub(crate) fn connector() -> Result<MakeRustlsConnect> {
    let ca = std::env::var_os(CA_VAR).filter(|p| !p.is_empty());
    let config = crate::tls::client_config(ca.as_deref().map(std::path::Path::new)).map_err(
        |e| match e {
            CaError::Read { .. } => Error::invalid(format!("{CA_VAR}: {e}")),
            CaError::Setup(_) => Error::Cluster(e.to_string()),
        },
    )?;
    Ok(MakeRustlsConnect::new(rustls::ClientConfig::clone(&config)))
}
