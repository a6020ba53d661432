//! TLS on the receiver itself (`--tls-cert/--tls-key`): rustls over the
//! same accept loop, HTTP/1.1 only (what hyper serves here).
//!
//! The certificate is reloaded without a restart: the files are checked
//! every [`POLL_EVERY`] and on SIGHUP (`systemctl reload`), so a renewal by
//! certbot or an ACME client takes effect on its own. A new pair that does
//! not load (unreadable, not PEM, key not matching the certificate) is
//! refused with an error in the log and in `/readyz`: the running one stays,
//! since serving nothing would stop every delivery.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the certificate files are checked for a change.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// `--tls-cert` and `--tls-key`: PEM files (the chain, leaf first; the key
/// in PKCS#8, PKCS#1 or SEC1 form).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("cannot read the TLS key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the TLS key {key} does not fit the certificate {cert}: {reason}")]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// What the certificate in use says, for `/readyz` and `/metrics`.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// The leaf certificate's end of validity (Unix seconds), when readable.
    pub not_after: Option<i64>,
    /// When this pair was loaded.
    pub loaded_at: SystemTime,
    /// Why the last reload was refused, until one succeeds.
    pub error: Option<String>,
}

struct Loaded {
    key: Arc<CertifiedKey>,
    /// The files' modification times when read: a change means a reload.
    stamp: (Option<SystemTime>, Option<SystemTime>),
    info: CertInfo,
}

/// The certificate in use, swapped in place on reload; new handshakes get
/// the new one, open connections keep theirs.
pub struct Certs {
    files: TlsFiles,
    provider: Arc<rustls::crypto::CryptoProvider>,
    current: RwLock<Loaded>,
}

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certs").field("files", &self.files).finish()
    }
}

impl ResolvesServerCert for Certs {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.key.clone())
    }
}

use callboard_core::tls::pem_error;

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The leaf's `notAfter`, in Unix seconds.
fn not_after(leaf: &CertificateDer<'_>) -> Option<i64> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(leaf.as_ref()).ok()?;
    let t = cert.tbs_certificate.validity.not_after.to_unix_duration();
    i64::try_from(t.as_secs()).ok()
}

fn load(files: &TlsFiles, provider: &rustls::crypto::CryptoProvider) -> Result<Loaded, TlsError> {
    // Read the times first: a file replaced between the two reads is
    // seen as changed at the next check, and read again.
    let stamp = (modified(&files.cert), modified(&files.key));
    let cert_err = |reason: String| TlsError::Cert {
        path: files.cert.clone(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_err(pem_error(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(pem_error(e)))?;
    let Some(leaf) = chain.first() else {
        return Err(cert_err("no CERTIFICATE block in the file".into()));
    };
    let expires = not_after(leaf);
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: pem_error(e),
    })?;
    let key = CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Pair {
        cert: files.cert.clone(),
        key: files.key.clone(),
        reason: e.to_string(),
    })?;
    Ok(Loaded {
        key: Arc::new(key),
        stamp,
        info: CertInfo {
            not_after: expires,
            loaded_at: SystemTime::now(),
            error: None,
        },
    })
}

impl Certs {
    /// Loads the pair, or says why it cannot be served.
    pub fn load(files: TlsFiles) -> Result<Arc<Certs>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let loaded = load(&files, &provider)?;
        Ok(Arc::new(Certs {
            files,
            provider,
            current: RwLock::new(loaded),
        }))
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    pub fn info(&self) -> Option<CertInfo> {
        self.current.read().ok().map(|c| c.info.clone())
    }

    /// Reads the files again when they changed since the last load (or
    /// always, with `force`). Ok(true) when a new pair is in use.
    pub fn reload(&self, force: bool) -> Result<bool, TlsError> {
        let stamp = (modified(&self.files.cert), modified(&self.files.key));
        let unchanged = self.current.read().is_ok_and(|c| c.stamp == stamp);
        if unchanged && !force {
            return Ok(false);
        }
        match load(&self.files, &self.provider) {
            Ok(new) => {
                if let Ok(mut c) = self.current.write() {
                    *c = new;
                }
                Ok(true)
            }
            Err(e) => {
                if let Ok(mut c) = self.current.write() {
                    // Not retried until the files change again.
                    c.stamp = stamp;
                    c.info.error = Some(e.to_string());
                }
                Err(e)
            }
        }
    }

    /// The server configuration for the accept loop.
    pub fn acceptor(self: &Arc<Certs>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// Reloads and logs the outcome (the poll and SIGHUP share it).
pub async fn reload_and_log(certs: Arc<Certs>, force: bool) {
    let files = certs.files().clone();
    let outcome = tokio::task::spawn_blocking(move || certs.reload(force)).await;
    match outcome {
        Ok(Ok(true)) => tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "TLS certificate not reloaded; the one in use stays")
        }
        Err(e) => tracing::error!(error = %e, "TLS reload task failed"),
    }
}

/// Checks the files every [`POLL_EVERY`] while the certificate is in use.
pub fn watch(certs: &Arc<Certs>) {
    let weak = Arc::downgrade(certs);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL_EVERY).await;
            let Some(certs) = weak.upgrade() else { return };
            reload_and_log(certs, false).await;
        }
    });
}

/// Client side: the public roots plus, for a private CA or a self-signed
/// receiver, the PEM file `extra_ca` (`connect --remote-ca`).
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    callboard_core::tls::client_config(extra_ca).map_err(|e| match e {
        callboard_core::tls::CaError::Read { path, reason } => TlsError::Cert { path, reason },
        callboard_core::tls::CaError::Setup(reason) => TlsError::Setup(reason),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> TlsFiles {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let files = TlsFiles {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn a_key_that_does_not_fit_is_refused_and_the_old_pair_stays() {
        let dir = tempfile::tempdir().unwrap();
        let a = pair(dir.path(), "a.test");
        let b = pair(dir.path(), "b.test");
        let mismatched = TlsFiles {
            cert: a.cert.clone(),
            key: b.key.clone(),
        };
        assert!(matches!(
            Certs::load(mismatched),
            Err(TlsError::Pair { .. })
        ));
        let certs = Certs::load(a.clone()).unwrap();
        assert!(certs.info().unwrap().not_after.is_some());
        std::fs::write(&a.key, "not a key").unwrap();
        assert!(matches!(certs.reload(true), Err(TlsError::Key { .. })));
        let info = certs.info().unwrap();
        assert!(info.error.unwrap().contains("TLS key"));
        // Unchanged files are not read again.
        assert!(!certs.reload(false).unwrap());
        std::fs::copy(&b.cert, &a.cert).unwrap();
        std::fs::copy(&b.key, &a.key).unwrap();
        assert!(certs.reload(true).unwrap());
        assert!(certs.info().unwrap().error.is_none());
    }
}
