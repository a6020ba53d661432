//! Defect 1: connections time out and are capped, and webhooks keep
//! flowing through a slowloris and an idle flood.

use super::support::{closed_within, fresh_client, provider, Limited};
use callboard_tests::{event, TestServer};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const SHORT: &[(&str, &str)] = &[
    ("CALLBOARD_HEADER_TIMEOUT_MS", "600"),
    ("CALLBOARD_BODY_TIMEOUT_MS", "600"),
];

#[tokio::test]
async fn idle_and_slow_connections_are_closed_after_the_timeouts() {
    let srv = TestServer::start_with_env(SHORT).await.unwrap();

    // A socket that never says anything.
    let mut idle = TcpStream::connect(&srv.addr).await.unwrap();
    let t = Instant::now();
    closed_within(&mut idle, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "closed too early"
    );

    // A slowloris: a header line every 100 ms, never finishing the head.
    let mut slow = TcpStream::connect(&srv.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let trickle = async {
        for i in 0..100 {
            if slow
                .write_all(format!("x-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    let closed = tokio::time::timeout(Duration::from_secs(8), trickle)
        .await
        .unwrap_or(false);
    assert!(closed, "a slowloris kept its connection open");

    // A keep-alive connection left idle after one request.
    let mut ka = TcpStream::connect(&srv.addr).await.unwrap();
    ka.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let got = closed_within(&mut ka, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn a_trickled_body_times_out_on_sign_in_and_webhooks() {
    let srv = TestServer::start_with_env(SHORT).await.unwrap();
    let (slug, key) = srv.provider("Slow").await.unwrap();
    for (path, auth) in [
        ("/api/auth/login".to_string(), String::new()),
        (
            format!("/webhooks/ivr/{slug}"),
            format!("x-api-key: {key}\r\n"),
        ),
        (
            "/api/users".to_string(),
            format!("authorization: Bearer {}\r\n", callboard_tests::ADMIN_TOKEN),
        ),
    ] {
        let mut s = TcpStream::connect(&srv.addr).await.unwrap();
        s.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{auth}content-length: 100\r\n\r\n{{\"user"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let got = closed_within(&mut s, Duration::from_secs(5)).await.unwrap();
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 408"), "{path}: {text}");
        assert!(text.contains("\"body_timeout\""), "{path}: {text}");
    }
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let srv = TestServer::start().await.unwrap();
    let mut s = TcpStream::connect(&srv.addr).await.unwrap();
    let mut head = String::from("GET /healthz HTTP/1.1\r\nhost: x\r\n");
    // 150 KB in 50 headers: under hyper's own limits (100 headers,
    // ~400 KB), over ours (64 KiB).
    for i in 0..50 {
        head.push_str(&format!("x-pad-{i}: {}\r\n", "a".repeat(3000)));
    }
    head.push_str("\r\n");
    // The server may close while we still write.
    let _ = s.write_all(head.as_bytes()).await;
    let got = closed_within(&mut s, Duration::from_secs(5)).await.unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
    assert!(!text.starts_with("HTTP/1.1 200"));
}

/// 300 idle sockets and 60 slowloris sockets against a server limited to
/// 256 descriptors, while a webhook loop on fresh connections must keep
/// getting 2xx.
#[tokio::test]
async fn webhooks_flow_through_an_idle_flood_and_a_slowloris() {
    let srv = Limited::start(256, &[("CALLBOARD_HEADER_TIMEOUT_MS", "3000")])
        .await
        .unwrap();
    let http = fresh_client(Duration::from_secs(10));
    let (slug, key) = provider(&http, &srv.base, "Flood").await.unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers = Vec::new();
    // The idle flood: keeps up to 300 sockets open, reopening closed ones
    // (a bounded number of times).
    {
        let (addr, stop) = (srv.addr.clone(), stop.clone());
        attackers.push(tokio::spawn(async move {
            let mut socks = Vec::new();
            let mut opened = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && opened < 3000 {
                socks.retain(|s: &TcpStream| s.peer_addr().is_ok());
                while socks.len() < 300 && opened < 3000 {
                    match tokio::time::timeout(
                        Duration::from_millis(200),
                        TcpStream::connect(&addr),
                    )
                    .await
                    {
                        Ok(Ok(s)) => socks.push(s),
                        _ => break,
                    }
                    opened += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    // The slowloris: 60 sockets trickling header lines.
    for _ in 0..60 {
        let (addr, stop) = (srv.addr.clone(), stop.clone());
        attackers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200 {
                let Ok(Ok(mut s)) =
                    tokio::time::timeout(Duration::from_millis(500), TcpStream::connect(&addr))
                        .await
                else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    n += 1;
                    continue;
                };
                let _ = s
                    .write_all(b"POST /api/auth/login HTTP/1.1\r\nhost: x\r\n")
                    .await;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200 {
                    n += 1;
                    if s.write_all(b"x-a: b\r\n").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    // Let the flood reach the server's descriptor limit.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut failures = Vec::new();
    let mut latencies = Vec::new();
    for i in 0..40 {
        let t = Instant::now();
        let r = http
            .post(format!("{}/webhooks/ivr/{slug}", srv.base))
            .header("x-api-key", &key)
            .json(&event(&format!("flood-{i}"), "ringing", "+15550001"))
            .send()
            .await;
        latencies.push(t.elapsed());
        match r {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => failures.push(format!("{i}: {}", r.status())),
            Err(e) => failures.push(format!("{i}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health = http.get(format!("{}/healthz", srv.base)).send().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for a in attackers {
        a.abort();
    }
    latencies.sort();
    assert!(
        failures.is_empty(),
        "{} of 40 webhooks failed under the flood: {failures:?}",
        failures.len()
    );
    assert!(
        health.map(|r| r.status().as_u16()).unwrap_or(0) == 200,
        "/healthz failed under the flood"
    );
    assert!(
        latencies[latencies.len() - 1] < Duration::from_secs(3),
        "slowest webhook {:?}",
        latencies[latencies.len() - 1]
    );
}
