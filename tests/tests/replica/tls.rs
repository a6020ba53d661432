//! The receiver speaking HTTPS itself (`--tls-cert/--tls-key`), a replica
//! following it over `https://` and `wss://`, and a certificate renewed
//! without a restart.

use super::status;
use callboard_tests::pki::{Leaf, TestCa};
use callboard_tests::{event, until, TestServer, ADMIN_TOKEN};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Files {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

fn write(dir: &Path, ca: &TestCa, leaf: &Leaf) -> Files {
    let files = Files {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
        ca: dir.join("ca.pem"),
    };
    std::fs::write(&files.ca, ca.pem()).unwrap();
    std::fs::write(&files.cert, &leaf.cert_pem).unwrap();
    std::fs::write(&files.key, &leaf.key_pem).unwrap();
    files
}

/// The certificate a new TLS handshake with `addr` is given.
async fn served_certificate(addr: &str, ca_pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn hangup(srv: &TestServer) {
    let pid = srv.pid().unwrap().to_string();
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -HUP {pid}");
}

async fn readyz_tls(srv: &TestServer) -> Value {
    let r = srv.http.get(srv.url("/readyz")).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    v["tls"].clone()
}

#[tokio::test]
async fn a_replica_follows_a_tls_receiver_over_wss_and_a_renewed_certificate_is_served_without_a_restart(
) {
    let pki = tempfile::tempdir().unwrap();
    let ca = TestCa::new().unwrap();
    let first = ca.leaf("callboard first").unwrap();
    let files = write(pki.path(), &ca, &first);
    let cert = files.cert.to_str().unwrap();
    let key = files.key.to_str().unwrap();
    let mut srv = TestServer::launch(
        tempfile::tempdir().unwrap(),
        &["serve", "--tls-cert", cert, "--tls-key", key],
        &[],
    )
    .await
    .unwrap();
    assert!(
        srv.base.starts_with("https://"),
        "the banner says https: {:?}",
        srv.banner
    );
    srv.trust(&ca.pem()).unwrap();

    // A client speaking plain HTTP to the TLS port is told why.
    let plain = reqwest::get(format!("http://{}/healthz", srv.addr))
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 400);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["error"]["code"], "tls_required", "{body}");

    // The session cookie of a sign-in over TLS is `Secure`.
    let first_start = srv.printed_password().unwrap();
    let r = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": first_start, "cookie": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cookie.contains("Secure"), "{cookie}");

    let tls = readyz_tls(&srv).await;
    assert_eq!(tls["certificate"], cert, "{tls}");
    assert!(tls["days_left"].as_i64().unwrap() > 300, "{tls}");
    assert!(tls["error"].is_null(), "{tls}");

    let (slug, api_key) = srv.provider("Sales").await.unwrap();
    let (s, b) = srv
        .webhook(
            &slug,
            &api_key,
            &event("tls-1", "no-answer", "+919800000001"),
        )
        .await
        .unwrap();
    assert!(s < 300, "{b}");

    // Without the CA the replica refuses the receiver's certificate.
    let doubtful = TestServer::replica_in(tempfile::tempdir().unwrap(), &srv.base, ADMIN_TOKEN)
        .await
        .unwrap();
    until(20, "the replica to report the unknown issuer", || async {
        let s = status(&doubtful).await;
        s["state"] != "live"
            && s["last_error"]
                .as_str()
                .is_some_and(|e| e.to_lowercase().contains("certificate"))
    })
    .await;
    drop(doubtful);

    // With it, the replica goes live: live means its `wss://` stream is up.
    let ca_file = files.ca.to_str().unwrap();
    let rep = TestServer::launch(
        tempfile::tempdir().unwrap(),
        &["connect", "--remote", &srv.base, "--remote-ca", ca_file],
        &[("CALLBOARD_REMOTE_TOKEN", ADMIN_TOKEN)],
    )
    .await
    .unwrap();
    let has = |id: &'static str| {
        let rep = &rep;
        async move {
            rep.get_json(&format!("/api/calls/{id}"), ADMIN_TOKEN)
                .await
                .is_ok_and(|(s, _)| s == 200)
        }
    };
    until(30, "the replica to hold the first call", || has("tls-1")).await;
    until(30, "the replica to be live", || async {
        status(&rep).await["state"] == "live"
    })
    .await;
    let (s, b) = srv
        .webhook(&slug, &api_key, &event("tls-2", "ringing", "+919800000002"))
        .await
        .unwrap();
    assert!(s < 300, "{b}");
    until(10, "the streamed call on the replica", || has("tls-2")).await;

    // Renewal: new files, SIGHUP, and new handshakes get the new certificate.
    assert_eq!(served_certificate(&srv.addr, &ca.pem()).await, first.der);
    let renewed = ca.leaf("callboard renewed").unwrap();
    write(pki.path(), &ca, &renewed);
    hangup(&srv);
    until(10, "the renewed certificate to be served", || async {
        served_certificate(&srv.addr, &ca.pem()).await == renewed.der
    })
    .await;

    // A broken renewal is refused; the good pair stays in use.
    std::fs::write(&files.key, "-----BEGIN PRIVATE KEY-----\nbroken\n").unwrap();
    hangup(&srv);
    until(10, "the refused reload in /readyz", || async {
        readyz_tls(&srv).await["error"]
            .as_str()
            .is_some_and(|e| e.contains("TLS key"))
    })
    .await;
    assert_eq!(served_certificate(&srv.addr, &ca.pem()).await, renewed.der);

    // The replica's stream survived all of it.
    let (s, b) = srv
        .webhook(
            &slug,
            &api_key,
            &event("tls-3", "completed", "+919800000003"),
        )
        .await
        .unwrap();
    assert!(s < 300, "{b}");
    until(10, "a call after the renewal on the replica", || {
        has("tls-3")
    })
    .await;
    assert_eq!(status(&rep).await["state"], "live");
}

#[test]
fn a_receiver_refuses_to_start_with_a_key_that_does_not_fit_its_certificate() {
    let pki = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let ca = TestCa::new().unwrap();
    let files = write(pki.path(), &ca, &ca.leaf("one").unwrap());
    std::fs::write(&files.key, ca.leaf("two").unwrap().key_pem).unwrap();
    let out = std::process::Command::new(callboard_tests::binary_path())
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&files.cert)
        .arg("--tls-key")
        .arg(&files.key)
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("CALLBOARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not fit the certificate"),
        "the error names the mismatch: {stderr}"
    );
    assert!(
        !data.path().join("callboard.db").exists(),
        "nothing is created before the certificate is checked"
    );
}
