//! Helpers the security tests share.

use anyhow::{anyhow, bail, Context, Result};
use callboard_tests::{binary, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// `callboard serve` started under a descriptor limit of `nofile` (soft and
/// hard), as a small server or container would run it.
pub struct Limited {
    _child: Child,
    pub addr: String,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Limited {
    pub async fn start(nofile: u32, env: &[(&str, &str)]) -> Result<Limited> {
        let dir = tempfile::tempdir()?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -Sn {nofile} && ulimit -Hn {nofile} && exec \"$0\" \"$@\""
            ))
            .arg(binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("CALLBOARD_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CALLBOARD_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().context("spawn sh")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(a) = line.strip_prefix("callboard listening on http://") {
                    return Ok(a.trim().to_string());
                }
            }
            bail!("the server exited before listening")
        })
        .await
        .context("server did not start within 30 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Limited {
            _child: child,
            base: format!("http://{addr}"),
            addr,
            _dir: dir,
        })
    }
}

/// A client that opens a fresh connection for every request, as many
/// telephony platforms do.
/// A client whose requests come from `ip` (any 127.x address is loopback):
/// a second or third sender for per-client limits.
pub fn client_from(ip: &str) -> reqwest::Client {
    callboard_server::http::client()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

pub fn fresh_client(timeout: Duration) -> reqwest::Client {
    callboard_server::http::client()
        .pool_max_idle_per_host(0)
        .timeout(timeout)
        .build()
        .expect("client")
}

/// Creates a generic provider on `base`; returns (slug, api key).
pub async fn provider(http: &reqwest::Client, base: &str, name: &str) -> Result<(String, String)> {
    let r = http
        .post(format!("{base}/api/providers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "name": name,
            "field_mapping": callboard_tests::generic_mapping(),
            "status_map": callboard_tests::generic_status_map(),
        }))
        .send()
        .await?;
    let s = r.status().as_u16();
    let b: Value = r.json().await?;
    if s != 201 {
        bail!("create provider: {s} {b}");
    }
    Ok((
        b["slug"].as_str().unwrap_or_default().to_string(),
        b["api_key"].as_str().unwrap_or_default().to_string(),
    ))
}

/// Waits until the server closes `sock` (EOF or reset), reading and
/// discarding what it sends; returns the bytes read, or an error after `within`.
pub async fn closed_within(sock: &mut TcpStream, within: Duration) -> Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .map_err(|_| anyhow!("still open after {within:?}"))?;
    Ok(got)
}
