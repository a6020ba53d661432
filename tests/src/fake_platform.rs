//! A telephony platform's API on loopback, for the click-to-call tests: it
//! records every request (method, path and query, headers, body) and answers
//! what the test scripted (a status and body, after an optional stall), else
//! a default success.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A form field of the body.
    pub fn form(&self, name: &str) -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.body)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub stall: Duration,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            stall: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    /// Replies kept for requests whose path ends so, before `script`.
    by_path: Vec<(String, VecDeque<Reply>)>,
    default: Option<Reply>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct FakePlatform {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for FakePlatform {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = {
        let mut s = inner.lock().unwrap();
        s.seen.push(Seen {
            method: method.to_string(),
            target: uri.to_string(),
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        });
        let path = uri.path().to_string();
        s.by_path
            .iter_mut()
            .find(|(suffix, q)| path.ends_with(suffix.as_str()) && !q.is_empty())
            .and_then(|(_, q)| q.pop_front())
            .or_else(|| s.script.pop_front())
            .or_else(|| s.default.clone())
            .unwrap_or_else(|| Reply::json(200, serde_json::json!({"ok": true})))
    };
    if !reply.stall.is_zero() {
        tokio::time::sleep(reply.stall).await;
    }
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        reply.body,
    )
}

impl FakePlatform {
    pub async fn start() -> FakePlatform {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePlatform {
            base,
            inner,
            task: Arc::new(task),
        }
    }

    /// What the next requests get, in order.
    pub fn script(&self, replies: &[Reply]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .extend(replies.iter().cloned());
    }

    /// What the next requests whose path ends with `suffix` get, in order
    /// (before the general script).
    pub fn script_path(&self, suffix: &str, replies: &[Reply]) {
        let mut s = self.inner.lock().unwrap();
        match s.by_path.iter_mut().find(|(p, _)| p == suffix) {
            Some((_, q)) => q.extend(replies.iter().cloned()),
            None => s
                .by_path
                .push((suffix.to_string(), replies.iter().cloned().collect())),
        }
    }

    /// What requests get once the script is used up.
    pub fn answer(&self, reply: Reply) {
        self.inner.lock().unwrap().default = Some(reply);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }
}
