//! Scheduled snapshots (`--backup-every`, keep N) and `callboard restore`,
//! which checks the file before it replaces anything.

use callboard_tests::{binary, TestServer};
use serde_json::json;
use std::time::Duration;

fn snapshots(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn scheduled_snapshots_keep_n_and_restore_brings_one_back() {
    // On a cluster the log in PostgreSQL is the truth: a restored local copy
    // catches up with it on start (what a restore means there is
    // PostgreSQL's own point-in-time recovery, docs/OPERATIONS.md).
    if callboard_tests::pg::test_engine().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut srv = TestServer::launch(
        dir,
        &["serve", "--backup-every", "1s", "--backup-keep", "2"],
        &[],
    )
    .await
    .unwrap();
    let (slug, key) = srv.provider("Backed").await.unwrap();
    let body = json!({ "data": { "call_id": "b1", "caller": "+9198", "status": "no-answer" } });
    assert_eq!(srv.webhook(&slug, &key, &body).await.unwrap().0, 200);
    let backups = srv.dir.path().join("backups");
    // Three intervals or more: never more than two kept.
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let kept = snapshots(&backups);
    assert_eq!(kept.len(), 2, "{kept:?}");
    let snap = kept[1].clone();

    // A call arrives after the snapshot, then the snapshot is restored.
    let late = json!({ "data": { "call_id": "late", "caller": "+9198", "status": "no-answer" } });
    assert_eq!(srv.webhook(&slug, &key, &late).await.unwrap().0, 200);
    assert_eq!(srv.stop().await.unwrap(), Some(0));
    let data = srv.dir.path().to_path_buf();

    // A file that is not a database: refused, nothing replaced.
    let junk = data.join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let before = std::fs::read(data.join("callboard.db")).unwrap();
    let out = tokio::process::Command::new(binary())
        .args(["restore", "--data-dir"])
        .arg(&data)
        .arg(&junk)
        .env_remove("RUST_BACKTRACE")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a database"), "{err}");
    assert_eq!(std::fs::read(data.join("callboard.db")).unwrap(), before);

    let out = tokio::process::Command::new(binary())
        .args(["restore", "--data-dir"])
        .arg(&data)
        .arg(&snap)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("restored"), "{text}");
    assert!(text.contains("before-restore-"), "{text}");

    let srv = srv.restart().await.unwrap();
    assert_eq!(srv.call(&slug, "b1").await.unwrap()["call_id"], "b1");
    let (s, _) = srv
        .get_json(
            &format!("/api/calls/late?department={slug}"),
            callboard_tests::ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 404, "the call after the snapshot is not in it");
}
