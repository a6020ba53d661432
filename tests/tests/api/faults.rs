//! Fault paths: each refusal is clear, specific, and changes nothing.

use callboard_tests::{event, serve_expecting_failure, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

fn code(b: &Value) -> &str {
    b["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let srv = TestServer::start().await.unwrap();
    let dir = srv.dir.path().to_path_buf();
    let mut srv = srv;
    srv.stop().await.unwrap();
    {
        let conn = rusqlite::Connection::open(dir.join("callboard.db")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let (code, out) = serve_expecting_failure(&dir, "127.0.0.1:0").await.unwrap();
    assert_ne!(code, Some(0));
    assert!(out.contains("newer than this build"), "{out}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = b"this is a spreadsheet, not a database".repeat(200);
    std::fs::write(dir.path().join("callboard.db"), &garbage).unwrap();
    let (code, out) = serve_expecting_failure(dir.path(), "127.0.0.1:0")
        .await
        .unwrap();
    assert_ne!(code, Some(0));
    assert!(
        out.contains("cannot open") && out.contains("not a database"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("callboard.db")).unwrap(),
        garbage,
        "never overwritten"
    );
}

#[tokio::test]
async fn an_unusable_data_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (code, out) = serve_expecting_failure(&file.join("data"), "127.0.0.1:0")
        .await
        .unwrap();
    assert_ne!(code, Some(0));
    assert!(out.contains("cannot create the data directory"), "{out}");
}

#[tokio::test]
async fn a_port_in_use_is_an_error_not_a_log_line() {
    let srv = TestServer::start().await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let (code, out) = serve_expecting_failure(other.path(), &srv.addr)
        .await
        .unwrap();
    assert_ne!(code, Some(0));
    assert!(out.contains("cannot listen on"), "{out}");
}

#[tokio::test]
async fn hostile_or_empty_bodies_are_refused() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Faults").await.unwrap();
    let url = srv.url(&format!("/webhooks/ivr/{slug}"));
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let (status, b) = srv
        .webhook_raw(&slug, &key, "application/json", deep)
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(code(&b), "body_too_deep");
    let r = srv
        .http
        .get(&url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "empty_delivery");
    let (status, _) = srv
        .webhook_raw(&slug, &key, "application/json", vec![0xff, 0xfe, b'{'])
        .await
        .unwrap();
    assert_eq!(status, 400);
    let (_, list) = srv
        .get_json(&format!("/api/calls?department={slug}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn user_administration_refuses_bad_input() {
    let srv = TestServer::start().await.unwrap();
    let (s, b) = srv
        .post_json(
            "/api/users",
            ADMIN_TOKEN,
            &json!({"username": "al", "password": "short", "role": "agent"}),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (422, "invalid"));
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("8 characters"));
    let (s, b) = srv
        .post_json(
            "/api/users",
            ADMIN_TOKEN,
            &json!({"username": "al", "password": "password-123", "role": "wizard"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    let (s, b) = srv.post_json("/api/users", ADMIN_TOKEN, &json!({"username": "al", "password": "password-123", "role": "agent", "departments": ["ghost"]})).await.unwrap();
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("ghost"));
    srv.user("al", "agent", &[]).await.unwrap();
    let (s, b) = srv
        .post_json(
            "/api/users",
            ADMIN_TOKEN,
            &json!({"username": "AL", "password": "password-123", "role": "agent"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (s, code(&b)),
        (409, "conflict"),
        "user names are case-insensitive"
    );

    // The bootstrap admin is the only admin: it cannot be demoted or removed.
    let admin_id = srv.user_id("admin").await.unwrap();
    let (status, _) = srv
        .delete_json(&format!("/api/users/{admin_id}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(status, 409);

    // Deactivating a user ends their sessions at once.
    let tok = srv.user("gone", "supervisor", &[]).await.unwrap();
    assert_eq!(srv.get_json("/api/calls", &tok).await.unwrap().0, 200);
    let (_, me) = srv.get_json("/api/auth/me", &tok).await.unwrap();
    let id = me["user"]["id"].as_i64().unwrap();
    let (status, _) = srv
        .delete_json(&format!("/api/users/{id}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(srv.get_json("/api/calls", &tok).await.unwrap().0, 401);
    let (s, _) = srv
        .post_json(
            "/api/auth/login",
            "",
            &json!({"username": "gone", "password": "password-123"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 401);
}

#[tokio::test]
async fn call_ids_shared_by_two_departments_need_the_department() {
    let srv = TestServer::start().await.unwrap();
    let (a, ka) = srv.provider("Alpha").await.unwrap();
    let (b, kb) = srv.provider("Beta").await.unwrap();
    srv.webhook(&a, &ka, &event("same", "ringing", "+911"))
        .await
        .unwrap();
    srv.webhook(&b, &kb, &event("same", "no-answer", "+912"))
        .await
        .unwrap();
    let (s, body) = srv.get_json("/api/calls/same", ADMIN_TOKEN).await.unwrap();
    assert_eq!((s, code(&body)), (409, "conflict"));
    let (s, body) = srv
        .get_json(&format!("/api/calls/same?department={b}"), ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(body["mobile_number"], "+912");
    let (s, _) = srv
        .get_json("/api/calls/never-seen", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 404);
}

#[tokio::test]
async fn assignment_rules() {
    let srv = TestServer::start().await.unwrap();
    let (sales, k) = srv.provider("Sales").await.unwrap();
    let (other, _) = srv.provider("Other").await.unwrap();
    srv.webhook(&sales, &k, &event("a1", "no-answer", "+91"))
        .await
        .unwrap();
    let agent = srv.user("ag", "agent", &[&sales]).await.unwrap();
    srv.user("outsider", "agent", &[&other]).await.unwrap();
    let outsider = srv.user_id("outsider").await.unwrap();
    // An agent cannot hand work to someone else.
    let (s, b) = srv
        .post_json(
            "/api/calls/a1/assign",
            &agent,
            &json!({"user_id": outsider}),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (403, "forbidden"));
    // Nobody can assign to someone outside the department.
    let (s, b) = srv
        .post_json(
            "/api/calls/a1/assign",
            ADMIN_TOKEN,
            &json!({"user_id": outsider}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    let (s, b) = srv
        .post_json(
            "/api/calls/a1/assign",
            ADMIN_TOKEN,
            &json!({"user_id": 987654}),
        )
        .await
        .unwrap();
    assert_eq!(s, 404, "{b}");
    // Wrong JSON types are 422 with the field named.
    let (s, b) = srv
        .post_json(
            "/api/calls/a1/assign",
            ADMIN_TOKEN,
            &json!({"user_id": "me"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("user_id"),
        "{b}"
    );
    let (s, c) = srv
        .post_json("/api/calls/a1/assign", &agent, &json!({}))
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(c["assignee_name"], "ag");
    assert_eq!(c["work_state"], "assigned");
}

#[tokio::test]
async fn categories_refuse_duplicates_and_unknown_departments() {
    let srv = TestServer::start().await.unwrap();
    let (slug, _) = srv.provider("Cats").await.unwrap();
    let (s, _) = srv
        .post_json(
            "/api/categories",
            ADMIN_TOKEN,
            &json!({"department": slug, "name": "Refund"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201);
    let (s, b) = srv
        .post_json(
            "/api/categories",
            ADMIN_TOKEN,
            &json!({"department": slug, "name": "refund"}),
        )
        .await
        .unwrap();
    assert_eq!((s, code(&b)), (409, "conflict"));
    let (s, b) = srv
        .post_json(
            "/api/categories",
            ADMIN_TOKEN,
            &json!({"department": "nowhere", "name": "X"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
    let (s, b) = srv
        .post_json("/api/categories", ADMIN_TOKEN, &json!({"name": "  "}))
        .await
        .unwrap();
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn environment_variables_do_what_the_flags_do() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(callboard_tests::binary())
        .arg("serve")
        .env("CALLBOARD_DATA_DIR", dir.path())
        .env("CALLBOARD_LISTEN", "127.0.0.1:0")
        .env("CALLBOARD_ADMIN_TOKEN", "env-token-123456")
        .env("CALLBOARD_PUBLIC_URL", "https://ivr.example.com")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = String::new();
    while let Some(l) = lines.next_line().await.unwrap() {
        if let Some(a) = l.strip_prefix("callboard listening on http://") {
            addr = a.to_string();
            break;
        }
    }
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert!(dir.path().join("callboard.db").exists());
    let http = callboard_server::http::default_client();
    let r = http
        .post(format!("http://{addr}/api/providers"))
        .bearer_auth("env-token-123456")
        .json(&json!({"name": "Env"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["webhook_url"], "https://ivr.example.com/webhooks/ivr/env");
    child.kill().await.unwrap();
}
