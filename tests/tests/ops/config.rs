//! `--config FILE`: flag > environment > file > default; unknown keys named;
//! SIGHUP re-reads the file and applies the log filter live.

use callboard_tests::{binary, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The webhook URL a new provider is shown with: where `public_url` lands.
async fn shown_url(srv: &TestServer) -> String {
    let (s, b) = srv
        .post_json(
            "/api/providers",
            ADMIN_TOKEN,
            &json!({"name": "Shown", "field_mapping": {"call_id": "id"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    b["webhook_url"].as_str().unwrap().to_string()
}

async fn start(file: &str, args: &[&str], env: &[(&str, &str)]) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callboard.toml");
    std::fs::write(&path, file).unwrap();
    let config = format!("--config={}", path.display());
    let mut all = vec!["serve", config.as_str()];
    all.extend_from_slice(args);
    TestServer::launch(dir, &all, env).await.unwrap()
}

#[tokio::test]
async fn precedence_is_flag_then_environment_then_file_then_default() {
    let file = "public_url = \"https://file.example\"\nmax_body_bytes = 64\n";
    // The file alone.
    let srv = start(file, &[], &[]).await;
    assert!(shown_url(&srv)
        .await
        .starts_with("https://file.example/webhooks/ivr/"));
    // Its max_body_bytes applies too: a 100-byte body is over it.
    let (slug, key) = srv.provider("Small").await.unwrap();
    let (s, b) = srv
        .webhook(&slug, &key, &json!({"data": {"call_id": "x".repeat(100)}}))
        .await
        .unwrap();
    assert_eq!(s, 413, "{b}");
    drop(srv);
    // The environment wins over the file.
    let srv = start(
        file,
        &[],
        &[("CALLBOARD_PUBLIC_URL", "https://env.example")],
    )
    .await;
    assert!(shown_url(&srv).await.starts_with("https://env.example/"));
    drop(srv);
    // The flag wins over both.
    let srv = start(
        file,
        &["--public-url", "https://flag.example"],
        &[("CALLBOARD_PUBLIC_URL", "https://env.example")],
    )
    .await;
    assert!(shown_url(&srv).await.starts_with("https://flag.example/"));
    drop(srv);
    // Without any: the default (the request's Host).
    let srv = start("", &[], &[]).await;
    let url = shown_url(&srv).await;
    assert!(url.starts_with(&format!("http://{}/", srv.addr)), "{url}");
}

#[tokio::test]
async fn an_unknown_key_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callboard.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:0\"\npubic_url = \"https://typo\"\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("CALLBOARD_CONFIG", &path)
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key `pubic_url`"), "{err}");
    assert!(!dir.path().join("callboard.db").exists(), "started anyway");
}

#[tokio::test]
async fn sighup_applies_a_new_log_filter_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("callboard.toml");
    std::fs::write(&path, "log = \"error\"\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let mut child = Command::new(binary())
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("CALLBOARD_CONFIG", &path)
        .env("CALLBOARD_ADMIN_TOKEN", ADMIN_TOKEN)
        .env_remove("CALLBOARD_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = out.next_line().await.unwrap().expect("exited");
        if let Some(a) = line.strip_prefix("callboard listening on http://") {
            break a.trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Ok(Some(l)) = err.next_line().await {
            let _ = lines_tx.send(l);
        }
    });
    let http = callboard_server::http::default_client();
    let not_ready = |http: reqwest::Client| {
        let addr = addr.clone();
        async move {
            // A warning (not ready) is logged at WARN: silent under `error`.
            let r: Value = http
                .get(format!("http://{addr}/readyz"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        }
    };
    let _ = not_ready(http.clone()).await;
    // Nothing at info while the filter is `error`.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(l) = lines.try_recv() {
        assert!(!l.contains("INFO"), "logged under `error`: {l}");
    }
    std::fs::write(&path, "log = \"info\"\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let reloaded = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(l) = lines.recv().await {
            if l.contains("configuration reloaded") {
                return l;
            }
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(reloaded.contains("log = info"), "{reloaded}");
    // Still serving after SIGHUP (its default action would have stopped it).
    let r = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A broken file on reload: refused, the running configuration stays.
    std::fs::write(&path, "log = \"info\"\nnot_a_key = 1\n").unwrap();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(l) = lines.recv().await {
            if l.contains("not reloaded") {
                return l;
            }
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(refused.contains("not_a_key"), "{refused}");
    let r = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
