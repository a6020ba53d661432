//! A certificate authority of the test's own, and server certificates for
//! 127.0.0.1 signed by it: TLS on loopback without trusting anything real.

use anyhow::Result;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server certificate and its key, in PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate's DER, to recognise it in a handshake.
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Callboard test CA");
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa { cert, key })
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate for `localhost` and 127.0.0.1, named `common_name`.
    pub fn leaf(&self, common_name: &str) -> Result<Leaf> {
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::IpAddr::V4(
                std::net::Ipv4Addr::LOCALHOST,
            )));
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok(Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        })
    }
}
