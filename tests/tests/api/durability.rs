use callboard_tests::{event, TestServer, ADMIN_TOKEN};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn all_call_ids(srv: &TestServer) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut offset = 0;
    loop {
        let (s, b) = srv
            .get_json(
                &format!("/api/calls?limit=1000&offset={offset}&sort=created_at"),
                ADMIN_TOKEN,
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{b}");
        let page = b["data"].as_array().unwrap();
        for c in page {
            ids.insert(c["call_id"].as_str().unwrap().to_string());
        }
        if page.len() < 1000 {
            return ids;
        }
        offset += 1000;
    }
}

#[tokio::test]
async fn data_survives_a_clean_restart() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Persist").await.unwrap();
    for i in 0..20 {
        srv.webhook(&slug, &key, &event(&format!("p{i}"), "no-answer", "+91"))
            .await
            .unwrap();
    }
    srv.post_json(
        "/api/calls/p0/disposition",
        ADMIN_TOKEN,
        &serde_json::json!({"category": "Support", "outcome": "resolved"}),
    )
    .await
    .unwrap();
    let (_, head_before) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    let srv = srv.restart().await.unwrap();
    assert_eq!(all_call_ids(&srv).await.len(), 20);
    let (_, p0) = srv.get_json("/api/calls/p0", ADMIN_TOKEN).await.unwrap();
    assert_eq!(p0["work_state"], "resolved");
    let (_, head_after) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    assert_eq!(
        head_before["seq"], head_after["seq"],
        "the event log continues where it stopped"
    );
    // The key still works after the restart.
    assert_eq!(
        srv.webhook(&slug, &key, &event("p-after", "ringing", "+91"))
            .await
            .unwrap()
            .0,
        200
    );
}

enum Stop {
    Kill,
    Term,
}

/// Fires webhooks from 16 connections until at least 500 are acknowledged,
/// then stops the server with `stop`; returns the acknowledged call ids.
async fn ack_under_load_then(srv: &mut TestServer, stop: Stop) -> Vec<String> {
    let (slug, key) = srv.provider("Crash").await.unwrap();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let http = srv.http.clone();
        let url = srv.url(&format!("/webhooks/ivr/{slug}"));
        let key = key.clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("k{worker}-{i}");
                let r = http
                    .post(&url)
                    .header("x-api-key", &key)
                    .json(&event(&id, "no-answer", "+91"))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().push(id),
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let load build up, then stop the server.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acked.lock().unwrap().len() >= 500 {
            break;
        }
    }
    match stop {
        Stop::Kill => srv.kill9().await.unwrap(),
        Stop::Term => assert_eq!(srv.stop().await.unwrap(), Some(0), "clean exit"),
    }
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    acked
}

async fn assert_all_stored(srv: &mut TestServer, acked: &[String]) {
    let dir = std::mem::replace(&mut srv.dir, tempfile::tempdir().unwrap());
    let again = TestServer::start_in(dir, &[]).await.unwrap();
    let stored = all_call_ids(&again).await;
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged events lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
}

#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_event() {
    // The process boundary is the point: a real SIGKILL / SIGTERM.
    let mut srv = TestServer::start_process().await.unwrap();
    let acked = ack_under_load_then(&mut srv, Stop::Kill).await;
    assert_all_stored(&mut srv, &acked).await;
}

#[tokio::test]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_cleanly() {
    // The process boundary is the point: a real SIGKILL / SIGTERM.
    let mut srv = TestServer::start_process().await.unwrap();
    let acked = ack_under_load_then(&mut srv, Stop::Term).await;
    assert_all_stored(&mut srv, &acked).await;
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it() {
    // A file backup restored into a new data directory is SQLite's way back;
    // a cluster's is PostgreSQL's own backups (docs/OPERATIONS.md), and a
    // cluster instance refuses a copy with calls of its own (cluster tests).
    if callboard_tests::pg::test_engine().is_some() {
        return;
    }
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Backup").await.unwrap();
    for i in 0..50 {
        srv.webhook(&slug, &key, &event(&format!("bk{i}"), "no-answer", "+91"))
            .await
            .unwrap();
    }
    // Keep ingesting while the backup runs.
    let http = srv.http.clone();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let k = key.clone();
    let load = tokio::spawn(async move {
        for i in 0..300 {
            let r = http
                .post(&url)
                .header("x-api-key", &k)
                .json(&event(&format!("during{i}"), "ringing", "+91"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    });
    let restored = tempfile::tempdir().unwrap();
    let out = restored.path().join("callboard.db");
    let status = tokio::process::Command::new(callboard_tests::binary())
        .arg("backup")
        .arg("--data-dir")
        .arg(srv.dir.path())
        .arg("--out")
        .arg(&out)
        .status()
        .await
        .unwrap();
    assert!(status.success());
    load.await.unwrap();
    // A second backup to the same file is refused, not overwritten.
    let again = tokio::process::Command::new(callboard_tests::binary())
        .args(["backup", "--data-dir"])
        .arg(srv.dir.path())
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let copy = TestServer::start_in(restored, &[]).await.unwrap();
    let ids = all_call_ids(&copy).await;
    assert!((0..50).all(|i| ids.contains(&format!("bk{i}"))));
    // The copy is a working receiver: the provider and its key came along.
    assert_eq!(
        copy.webhook(&slug, &key, &event("after-restore", "ringing", "+91"))
            .await
            .unwrap()
            .0,
        200
    );
}
