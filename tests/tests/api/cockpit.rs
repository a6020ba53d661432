//! The supervisor cockpit (issue 16): the queue's order, refused deliveries
//! in the ingestion log, honest figures, thresholds and alerts, the agent
//! board and call history.

use callboard_tests::{generic_mapping, generic_status_map, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};

/// The generic mapping plus the platform's start and answer times.
fn timed_mapping() -> Value {
    let mut m = generic_mapping();
    m["started_at"] = json!("data.started");
    m["answered_at"] = json!("data.answered");
    m
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["call_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_queue_lists_the_longest_wait_first_within_each_status() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server
        .provider_with("Queue", timed_mapping(), generic_status_map())
        .await
        .unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    // Created in order w0 … w299, but w299 started waiting first: the order
    // of arrival at Callboard is the opposite of the order of waiting.
    for i in 0..300i64 {
        let started = t0 + chrono::Duration::seconds(300 - i);
        let body = json!({"data": {"call_id": format!("w{i}"), "caller": format!("+91{i:08}"),
            "status": "queued", "started": started.to_rfc3339()}});
        let (s, b) = server.webhook(&slug, &key, &body).await.unwrap();
        assert_eq!(s, 200, "{b}");
    }
    // Two ringing calls: their group comes after the waiting group.
    for (id, secs) in [("r0", 5), ("r1", 1)] {
        let started = t0 + chrono::Duration::seconds(secs);
        let body = json!({"data": {"call_id": id, "caller": "+9100", "status": "ringing",
            "started": started.to_rfc3339()}});
        assert_eq!(server.webhook(&slug, &key, &body).await.unwrap().0, 200);
    }
    let (s, list) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting,ringing&limit=1000"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{list}");
    let got = ids(&list);
    assert_eq!(got.len(), 302);
    let mut want: Vec<String> = (0..300).rev().map(|i| format!("w{i}")).collect();
    want.extend(["r1".to_string(), "r0".to_string()]);
    assert_eq!(got, want, "longest wait first, waiting before ringing");

    // The first page holds the longest waiter.
    let (_, page) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=live&limit=10"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&page)[0], "w299");

    // `sort` keeps the other orders.
    let (_, newest) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting&sort=-created_at&limit=3"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&newest), ["w299", "w298", "w297"].map(String::from));
    let (_, shortest) = server
        .get_json(
            &format!("/api/calls?department={slug}&status=waiting&sort=-wait&limit=2"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    assert_eq!(ids(&shortest), ["w0", "w1"].map(String::from));
    let (s, bad) = server
        .get_json("/api/calls?sort=password", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 422, "{bad}");
}

/// The provider's refused deliveries, newest first, once `n` are logged
/// (they are written off the request path).
async fn refused(server: &TestServer, slug: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let (s, log) = server
            .get_json(
                &format!("/api/providers/{slug}/deliveries?outcome=rejected"),
                ADMIN_TOKEN,
            )
            .await
            .unwrap();
        assert_eq!(s, 200, "{log}");
        let rows = log["data"].as_array().cloned().unwrap_or_default();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} refused deliveries were logged");
}

#[tokio::test]
async fn deliveries_refused_before_parsing_are_in_the_ingestion_log() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server.provider("Refusals").await.unwrap();

    let (s, b) = server
        .webhook_raw(&slug, &key, "application/json", "{\"data\": {\"call_id\": ")
        .await
        .unwrap();
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "malformed_body");
    let rows = refused(&server, &slug, 1).await;
    assert_eq!(rows[0]["outcome"], "rejected");
    assert_eq!(rows[0]["method"], "POST");
    assert_eq!(rows[0]["content_type"], "application/json");
    let error = rows[0]["error"].as_str().unwrap();
    assert!(error.starts_with("malformed_body: "), "{error}");
    assert_eq!(rows[0]["payload"], "{\"data\": {\"call_id\": ");

    let (s, _) = server
        .webhook_raw(&slug, &key, "application/xml", "<call id=\"1\"/>")
        .await
        .unwrap();
    assert_eq!(s, 415);
    // Refusals are logged off the request's path: let this one land before
    // the next, so the log's newest-first order is the order they were sent.
    refused(&server, &slug, 2).await;
    let r = server
        .http
        .get(server.url(&format!("/webhooks/ivr/{slug}")))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let rows = refused(&server, &slug, 3).await;
    assert!(rows[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("empty_delivery: "));
    assert_eq!(rows[0]["method"], "GET");
    assert!(rows[0]["payload"].is_null(), "nothing was sent");
    assert!(rows[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("unsupported_media_type: "));
    assert_eq!(rows[1]["payload"], "<call id=\"1\"/>");

    // A long body is kept to its first 4 KiB.
    let long = format!("{{{}", "x".repeat(100_000));
    let (s, _) = server
        .webhook_raw(&slug, &key, "application/json", long)
        .await
        .unwrap();
    assert_eq!(s, 400);
    let rows = refused(&server, &slug, 4).await;
    let kept = rows[0]["payload"].as_str().unwrap();
    assert!(
        kept.len() <= 4096 + 3 && kept.ends_with('…'),
        "{}",
        kept.len()
    );

    // A flood is answered at once but logged within the limit, and a real
    // delivery after it is still applied.
    let mut answered = 0;
    for _ in 0..200 {
        let (s, _) = server
            .webhook_raw(&slug, &key, "application/json", "{nope")
            .await
            .unwrap();
        if s == 400 {
            answered += 1;
        }
    }
    assert_eq!(answered, 200);
    let (s, b) = server
        .webhook(
            &slug,
            &key,
            &callboard_tests::event("ok1", "queued", "+911"),
        )
        .await
        .unwrap();
    assert_eq!((s, b["status"].as_str()), (200, Some("applied")));
    let logged = refused(&server, &slug, 20).await.len();
    let (_, log) = server
        .get_json(
            &format!("/api/providers/{slug}/deliveries?outcome=rejected&limit=500"),
            ADMIN_TOKEN,
        )
        .await
        .unwrap();
    let all = log["data"].as_array().unwrap().len();
    assert!(
        logged >= 20 && all < 4 + 200,
        "the flood was rate-limited: {all} refusals logged"
    );
}

/// A local SMTP sink: answers just enough SMTP for a client to deliver, and
/// records each message's DATA.
async fn smtp_sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            seen.lock().unwrap().push(data.take().unwrap_or_default());
                            let _ = w.write_all(b"250 queued\r\n").await;
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"502 not here\r\n",
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, got)
}

/// A local webhook receiver (an axum-free loopback HTTP server: one JSON
/// POST per connection) recording each body.
async fn hook_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())
                                    .flatten()
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let body = &buf[end + 4..end + 4 + len];
                            seen.lock()
                                .unwrap()
                                .push(serde_json::from_slice(body).unwrap_or(Value::Null));
                            let _ = sock
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                                .await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, got)
}

async fn level_of(server: &TestServer, slug: &str) -> String {
    let (s, st) = server
        .get_json("/api/thresholds/state", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{st}");
    st["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department"] == slug)
        .map(|t| t["level"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

async fn wait_until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_threshold_crossing_reaches_a_webhook_and_an_smtp_sink_once() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server.provider("Alerts").await.unwrap();
    let (hook, hooks) = hook_sink().await;
    let (smtp_port, mails) = smtp_sink().await;
    let mut ws = callboard_tests::ws::connect(&server.ws_url(ADMIN_TOKEN, None))
        .await
        .unwrap();

    let cfg = json!({
        "thresholds": [{"department": slug, "metric": "waiting_count", "amber": 2, "red": 50,
                        "quiet_minutes": 10}],
        "channels": [{"kind": "webhook", "target": hook},
                     {"kind": "email", "target": "supervisor@example.com"}],
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                 "from": "callboard@example.com", "password": "s3cret"}
    });
    // Supervisors read, only admins write.
    let sup = server.user("sup", "supervisor", &[]).await.unwrap();
    let (s, _) = server
        .put_json("/api/thresholds", &sup, &cfg)
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, bad) = server
        .put_json(
            "/api/thresholds",
            ADMIN_TOKEN,
            &json!({"thresholds": [{"department": slug, "metric": "waiting_count", "amber": 5, "red": 2}]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 422, "{bad}");
    let (s, saved) = server
        .put_json("/api/thresholds", ADMIN_TOKEN, &cfg)
        .await
        .unwrap();
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["smtp"]["has_password"], true);
    assert!(saved["smtp"].get("password").is_none(), "never shown");
    let (s, read) = server.get_json("/api/thresholds", &sup).await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(read["thresholds"][0]["metric"], "waiting_count");

    // Two callers waiting: amber.
    for id in ["a1", "a2"] {
        let (s, _) = server
            .webhook(&slug, &key, &callboard_tests::event(id, "queued", "+911"))
            .await
            .unwrap();
        assert_eq!(s, 200);
    }
    wait_until("the webhook and the e-mail", || async {
        !hooks.lock().unwrap().is_empty() && !mails.lock().unwrap().is_empty()
    })
    .await;
    let h = hooks.lock().unwrap()[0].clone();
    assert_eq!(h["level"], "amber");
    assert_eq!(h["department"], slug.as_str());
    assert_eq!(h["metric"], "waiting_count");
    assert!(
        h["text"].as_str().unwrap().contains("calls waiting is 2"),
        "{h}"
    );
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("supervisor@example.com"), "{mail}");
    assert!(mail.contains("calls waiting"), "{mail}");

    // The value flaps: down to ok, up to amber again inside the quiet period.
    let (s, _) = server
        .webhook(
            &slug,
            &key,
            &callboard_tests::event("a2", "completed", "+911"),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    wait_until("the level back to ok", || async {
        level_of(&server, &slug).await == "ok"
    })
    .await;
    let (s, _) = server
        .webhook(&slug, &key, &callboard_tests::event("a3", "queued", "+912"))
        .await
        .unwrap();
    assert_eq!(s, 200);
    wait_until("the second crossing", || async {
        let (_, log) = server.get_json("/api/alerts", ADMIN_TOKEN).await.unwrap();
        log["data"].as_array().map_or(0, |a| a.len()) == 2
    })
    .await;
    let (_, log) = server.get_json("/api/alerts", &sup).await.unwrap();
    assert_eq!(log["data"][0]["status"], "suppressed", "{log}");
    wait_until("the first alert recorded as sent", || async {
        let (_, log) = server.get_json("/api/alerts", ADMIN_TOKEN).await.unwrap();
        log["data"][1]["status"] == "sent"
    })
    .await;
    let (_, log) = server.get_json("/api/alerts", ADMIN_TOKEN).await.unwrap();
    assert_eq!(log["data"][1]["deliveries"].as_array().unwrap().len(), 2);
    // The suppressed crossing was decided before anything could be sent:
    // exactly one message reached each sink.
    assert_eq!(hooks.lock().unwrap().len(), 1);
    assert_eq!(mails.lock().unwrap().len(), 1);

    // Every level change was on the stream.
    let events = callboard_tests::ws::collect(&mut ws, 200, std::time::Duration::from_millis(500))
        .await
        .unwrap();
    let levels: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "threshold.crossed")
        .map(|e| e["data"]["level"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        levels.ends_with(&["amber".into(), "ok".into(), "amber".into()]),
        "{levels:?}"
    );
}

/// A saved limit takes effect at once: the levels are measured against it in
/// the save itself, not at the next 15-second evaluation.
#[tokio::test]
async fn a_saved_threshold_shows_its_level_now() {
    let server = TestServer::start().await.unwrap();
    let (slug, key) = server.provider("Now").await.unwrap();
    for id in ["n1", "n2", "n3"] {
        server
            .webhook(&slug, &key, &callboard_tests::event(id, "queued", "+911"))
            .await
            .unwrap();
    }
    let cfg = json!({"thresholds": [{"department": slug, "metric": "waiting_count", "amber": 2, "red": 3}]});
    let (s, saved) = server
        .put_json("/api/thresholds", ADMIN_TOKEN, &cfg)
        .await
        .unwrap();
    assert_eq!(s, 200, "{saved}");
    let (_, st) = server
        .get_json("/api/thresholds/state", ADMIN_TOKEN)
        .await
        .unwrap();
    let row = st["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department"] == slug)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (row["level"].as_str(), row["value"].as_f64()),
        (Some("red"), Some(3.0)),
        "right after the save: {st}"
    );
    // A looser limit saved: back to ok at once.
    let cfg = json!({"thresholds": [{"department": slug, "metric": "waiting_count", "amber": 10, "red": 20}]});
    server
        .put_json("/api/thresholds", ADMIN_TOKEN, &cfg)
        .await
        .unwrap();
    assert_eq!(level_of(&server, &slug).await, "ok");
}
