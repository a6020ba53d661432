use callboard_tests::{event, ws, TestServer, ADMIN_TOKEN};
use serde_json::Value;
use std::time::Duration;

fn seqs(msgs: &[Value]) -> Vec<i64> {
    msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn resume_after_a_disconnect_has_no_gap_and_no_duplicate() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Stream").await.unwrap();
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, Some(0)))
        .await
        .unwrap();
    for i in 0..5 {
        srv.webhook(&slug, &key, &event(&format!("w{i}"), "ringing", "+91"))
            .await
            .unwrap();
    }
    // provider.changed + 5 call.upserted
    let first = ws::collect(&mut sock, 6, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(first.len(), 6);
    assert_eq!(first[0]["type"], "provider.changed");
    assert!(first[1..].iter().all(|m| m["type"] == "call.upserted"));
    assert_eq!(first[5]["data"]["call_id"], "w4");
    let s = seqs(&first);
    assert!(s.windows(2).all(|w| w[1] == w[0] + 1), "consecutive: {s:?}");
    let last = *s.last().unwrap();
    drop(sock);

    // Missed while away.
    for i in 5..12 {
        srv.webhook(&slug, &key, &event(&format!("w{i}"), "no-answer", "+91"))
            .await
            .unwrap();
    }
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, Some(last)))
        .await
        .unwrap();
    // And live after reconnecting.
    for i in 12..15 {
        srv.webhook(&slug, &key, &event(&format!("w{i}"), "no-answer", "+91"))
            .await
            .unwrap();
    }
    let rest = ws::collect(&mut sock, 20, Duration::from_millis(1500))
        .await
        .unwrap();
    let s = seqs(&rest);
    assert_eq!(
        s,
        ((last + 1)..=(last + 10)).collect::<Vec<_>>(),
        "exactly the missed and new events, in order"
    );
    let ids: Vec<&str> = rest
        .iter()
        .map(|m| m["data"]["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, (5..15).map(|i| format!("w{i}")).collect::<Vec<_>>());
    assert_eq!(
        rest[0]["data"]["status"], "missed",
        "events carry the whole call"
    );
}

#[tokio::test]
async fn a_seq_the_server_never_issued_asks_for_a_reload() {
    let srv = TestServer::start().await.unwrap();
    let (_, _) = srv.provider("Reload").await.unwrap();
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, Some(10_000)))
        .await
        .unwrap();
    let msg = ws::next(&mut sock, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msg["type"], "reload");
    assert_eq!(msg["data"]["reason"], "unknown_seq");
    let (_, head) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    assert_eq!(msg["data"]["head"], head["seq"]);
}

#[tokio::test]
async fn the_stream_refuses_a_missing_or_bad_token() {
    let srv = TestServer::start().await.unwrap();
    let err = ws::connect(&format!("ws://{}/api/events", srv.addr))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = ws::connect(&format!("ws://{}/api/events?token=cbt_bad", srv.addr))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn dispositions_are_on_the_stream() {
    let srv = TestServer::start().await.unwrap();
    let (slug, key) = srv.provider("Disp Stream").await.unwrap();
    srv.webhook(&slug, &key, &event("ds1", "no-answer", "+91"))
        .await
        .unwrap();
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, None)).await.unwrap();
    let (s, _) = srv
        .post_json(
            "/api/calls/ds1/disposition",
            ADMIN_TOKEN,
            &serde_json::json!({"category": "Wrong number", "outcome": "wrong_number"}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201);
    let got = ws::collect(&mut sock, 2, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got[0]["type"], "disposition.saved");
    assert_eq!(got[0]["data"]["disposition"]["outcome"], "wrong_number");
    assert_eq!(got[1]["type"], "call.upserted");
    assert_eq!(got[1]["data"]["work_state"], "resolved");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_never_slows_ingestion() {
    use futures_util::StreamExt;
    use std::collections::HashSet;
    use tokio_tungstenite::tungstenite::Message;

    // The send timeout is 10 s in production; half a second here.
    let send_timeout = Duration::from_millis(500);
    let srv = TestServer::start_with(|o| o.event_send_timeout = send_timeout)
        .await
        .unwrap();
    let (slug, key) = srv.provider("Slow Reader").await.unwrap();
    let (_, head) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    let start_seq = head["seq"].as_i64().unwrap();

    // A client with a tiny receive window that reads nothing.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(srv.addr.parse().unwrap()).await.unwrap();
    let (mut slow, _) =
        tokio_tungstenite::client_async(srv.ws_url(ADMIN_TOKEN, Some(start_seq)), stream)
            .await
            .unwrap();

    // Ingestion goes on at full speed regardless.
    let total = 5000;
    let began = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..32 {
        let http = srv.http.clone();
        let url = srv.url(&format!("/webhooks/ivr/{slug}"));
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..total).step_by(32) {
                let r = http
                    .post(&url)
                    .header("x-api-key", &key)
                    .json(&event(&format!("sr{i}"), "ringing", "+91"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(began.elapsed() < Duration::from_secs(60));
    let (_, head) = srv.get_json("/api/events/head", ADMIN_TOKEN).await.unwrap();
    let end_seq = head["seq"].as_i64().unwrap();

    // Past the server's send timeout, the slow client has been dropped.
    tokio::time::sleep(send_timeout * 2).await;
    let mut seen: Vec<i64> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut record = |v: Value, seen: &mut Vec<i64>| {
        seen.push(v["seq"].as_i64().unwrap());
        if let Some(id) = v["data"]["call_id"].as_str() {
            assert!(ids.insert(id.to_string()), "duplicate delivery of {id}");
        }
    };
    loop {
        match tokio::time::timeout(Duration::from_secs(5), slow.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => record(serde_json::from_str(&t).unwrap(), &mut seen),
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => break,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("the slow client was never dropped"),
        }
    }
    assert!(
        seen.len() < total,
        "dropped before it got everything ({} events)",
        seen.len()
    );

    // It resumes from its last seq and ends with every event exactly once.
    let last = seen.last().copied().unwrap_or(start_seq);
    let mut sock = ws::connect(&srv.ws_url(ADMIN_TOKEN, Some(last)))
        .await
        .unwrap();
    let rest = ws::collect(
        &mut sock,
        (end_seq - last) as usize,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    for v in rest {
        record(v, &mut seen);
    }
    assert_eq!(seen.last(), Some(&end_seq), "everything up to the head");
    // Nothing repeats after the head either: the next call's event is the
    // very next message.
    let r = srv
        .http
        .post(srv.url(&format!("/webhooks/ivr/{slug}")))
        .header("x-api-key", &key)
        .json(&event("sr-after", "ringing", "+91"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let next = ws::next(&mut sock, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("the next call's event");
    assert_eq!(next["data"]["call_id"], "sr-after", "{next}");
    record(next, &mut seen);
    assert!(
        seen.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap, no duplicate"
    );
    assert_eq!(ids.len(), total + 1);
}
