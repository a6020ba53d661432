//! A redirected log is plain text: no colour escape codes.

use anyhow::{bail, Context, Result};
use callboard_tests::{binary, ADMIN_TOKEN};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// Runs `callboard serve` with stdout and stderr piped (as journald or a
/// redirect to a file would), makes it log, stops it; returns (stdout, stderr).
async fn piped_run(extra: &[&str]) -> Result<(String, String)> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(extra)
        .env("CALLBOARD_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("CALLBOARD_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let err_task = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut out = String::new();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            out.push_str(&line);
            out.push('\n');
            if let Some(a) = line.strip_prefix("callboard listening on http://") {
                return Ok(a.trim().to_string());
            }
        }
        bail!("exited before listening")
    })
    .await??;
    // Something that logs a warning and a request span.
    let http = callboard_server::http::default_client();
    let r = http
        .post(format!("http://{addr}/webhooks/ivr/nobody"))
        .header("x-api-key", "cbk_wrong")
        .json(&json!({"call_id": "x"}))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    let _ = http
        .post(format!("http://{addr}/api/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong"}))
        .send()
        .await?;
    if let Some(pid) = child.id() {
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
    }
    tokio::time::timeout(Duration::from_secs(20), child.wait()).await??;
    while let Some(line) = lines.next_line().await? {
        out.push_str(&line);
        out.push('\n');
    }
    Ok((out, err_task.await?))
}

#[tokio::test]
async fn a_redirected_log_has_no_colour_codes() {
    let (out, err) = piped_run(&[]).await.unwrap();
    // The log is there (a debug filter, so it has content to colour) ...
    assert!(err.contains("callboard started"), "{err}");
    assert!(err.contains("INFO"), "{err}");
    // ... and it is plain text.
    assert!(!err.contains('\u{1b}'), "escape codes in the log: {err:?}");
    assert!(!out.contains('\u{1b}'), "escape codes on stdout: {out:?}");
}

#[tokio::test]
async fn json_logs_stay_json_lines() {
    let (_, err) = piped_run(&["--log-format", "json"]).await.unwrap();
    let mut n = 0;
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        assert!(v.get("level").is_some(), "{line}");
        n += 1;
    }
    assert!(n > 0, "no log lines");
    assert!(!err.contains('\u{1b}'));
}
