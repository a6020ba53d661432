//! A full disk: webhooks answer 503 (never a 2xx for an event not stored),
//! `/readyz` is red with the reason, every acknowledged event survives, and
//! the receiver recovers by itself when space returns. A real small file
//! system: an 8 MiB tmpfs (needs root, which the test machine has).

use callboard_tests::TestServer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::Builder::new()
            .prefix("callboard-full-")
            .tempdir()
            .ok()?
            .keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            Some(Tmpfs(dir))
        } else {
            let _ = std::fs::remove_dir(&dir);
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a filler file until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.flush();
}

fn event(i: usize) -> Value {
    json!({ "data": { "call_id": format!("full-{i}"), "caller": "+919800000000",
        "status": "no-answer", "pad": "p".repeat(16 * 1024) } })
}

#[tokio::test]
async fn a_full_disk_answers_503_loses_nothing_acknowledged_and_recovers() {
    let Some(fs) = Tmpfs::mount("8m") else {
        panic!("cannot mount a tmpfs (this test needs root): run it as root or skip it by name");
    };
    let data = fs.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Keep the TempDir type the harness wants, but over the tmpfs.
    let dir = tempfile::Builder::new().tempdir_in(&data).unwrap();
    let srv = TestServer::launch(dir, &["serve", "--disk-floor-mb", "1"], &[])
        .await
        .unwrap();
    let (slug, key) = srv.provider("Full").await.unwrap();
    let r = srv.http.get(srv.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    fill(&fs.0.join("filler"));
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0..60 {
        let (s, b) = srv.webhook(&slug, &key, &event(i)).await.unwrap();
        match s {
            200 => acked.push(i),
            503 => {
                assert_eq!(b["error"]["code"], "storage_unavailable", "{b}");
                refused += 1;
            }
            other => panic!("delivery {i}: {other} {b}"),
        }
    }
    assert!(refused > 0, "the disk never filled ({} acked)", acked.len());
    let r = srv.http.get(srv.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["disk"]["ok"], false, "{body}");

    // Space returns: ready again and storing, without a restart.
    std::fs::remove_file(fs.0.join("filler")).unwrap();
    let mut ready = false;
    for _ in 0..50 {
        if srv
            .http
            .get(srv.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "not ready after space returned");
    let (s, b) = srv.webhook(&slug, &key, &event(1000)).await.unwrap();
    assert_eq!(s, 200, "{b}");
    acked.push(1000);

    // Every acknowledged delivery is there, after a restart too.
    let srv = srv.restart().await.unwrap();
    for i in acked {
        srv.call(&slug, &format!("full-{i}")).await.unwrap();
    }
    drop(srv);
    drop(fs);
}
