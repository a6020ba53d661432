//! The accept loop: what stands between the internet and the router.
//!
//! A receiver must be reachable by cloud telephony platforms, so anyone can
//! open a socket to it. Every connection here is bounded:
//! - the request head must arrive within `header_timeout` from the moment
//!   the server waits for it (the connection's start, or the end of the
//!   previous response), so a slowloris and an idle keep-alive are both
//!   closed after it;
//! - a request head larger than `max_header_bytes` is refused (431);
//! - a request body must arrive within `body_timeout` (408 `body_timeout`);
//! - at most `max_connections` are open at once. At the cap, the connection
//!   that has been idle longest (no request in progress) is closed to make
//!   room, and when fewer than `reserved_connections` are left, only
//!   webhooks, IVR callbacks and `/healthz` are served (others get 503 `server_busy`), so
//!   deliveries go first when the cap is near.

use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use callboard_core::ErrorCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tower::ServiceExt;

/// The error code of a console request refused near the connection cap.
pub const SERVER_BUSY: &str = callboard_core::ErrorCode::ServerBusy.as_str();

/// Connection timeouts and caps (`callboard serve --header-timeout-ms …`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send a whole request head; also how long an idle keep-alive
    /// connection is kept.
    pub header_timeout: Duration,
    /// Time to send a whole request body, on every route.
    pub body_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Of those, kept for webhooks: when fewer are left, console requests
    /// get 503 `server_busy`.
    pub reserved_connections: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            reserved_connections: 128,
            max_header_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The cap fitted to the descriptors this process may open (a few are
    /// kept for the database, logs and outgoing calls).
    pub fn fit_to_descriptors(mut self, nofile: Option<u64>) -> Limits {
        if let Some(n) = nofile {
            let usable = usize::try_from(n.saturating_sub(64))
                .unwrap_or(usize::MAX)
                .max(16);
            self.max_connections = self.max_connections.min(usable);
        }
        self.max_connections = self.max_connections.max(2);
        self.reserved_connections = self.reserved_connections.min(self.max_connections / 2);
        self
    }
}

/// Raises this process's soft limit of open descriptors to its hard limit
/// (Linux and macOS; elsewhere a no-op). Returns the soft limit in force.
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => {
                tracing::debug!(nofile = n, "descriptor limit");
                Some(n)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot raise the descriptor limit");
                rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// One open connection, as the cap sees it.
struct Conn {
    /// Requests in progress (head read, response not yet fully sent).
    busy: AtomicUsize,
    /// Milliseconds since the registry's start when it was last busy.
    last_active: AtomicU64,
}

#[derive(Default)]
struct Registry {
    next: u64,
    open: HashMap<u64, (Arc<Conn>, Option<oneshot::Sender<()>>)>,
}

/// The live connections and the permits they hold.
struct Tracker {
    permits: Arc<Semaphore>,
    registry: Mutex<Registry>,
    started: Instant,
    limits: Limits,
}

impl Tracker {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn open(&self) -> usize {
        self.limits.max_connections - self.permits.available_permits()
    }

    /// Closes the connection idle for longest; false when every connection
    /// has a request in progress.
    fn evict_idlest(&self) -> bool {
        let Ok(mut reg) = self.registry.lock() else {
            return false;
        };
        let victim = reg
            .open
            .iter()
            .filter(|(_, (c, tx))| tx.is_some() && c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, (c, _))| c.last_active.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        match victim
            .and_then(|id| reg.open.get_mut(&id))
            .and_then(|e| e.1.take())
        {
            Some(tx) => {
                let _ = tx.send(());
                true
            }
            None => false,
        }
    }

    fn register(&self) -> (u64, Arc<Conn>, oneshot::Receiver<()>) {
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            last_active: AtomicU64::new(self.now_ms()),
        });
        let (tx, rx) = oneshot::channel();
        let id = match self.registry.lock() {
            Ok(mut reg) => {
                reg.next += 1;
                let id = reg.next;
                reg.open.insert(id, (conn.clone(), Some(tx)));
                id
            }
            Err(_) => 0,
        };
        (id, conn, rx)
    }

    fn unregister(&self, id: u64) {
        if let Ok(mut reg) = self.registry.lock() {
            reg.open.remove(&id);
        }
    }
}

/// Marks its connection busy until the response body is sent (or dropped).
struct BusyGuard {
    conn: Arc<Conn>,
    tracker: Arc<Tracker>,
}

impl BusyGuard {
    fn new(conn: Arc<Conn>, tracker: Arc<Tracker>) -> BusyGuard {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.last_active.store(tracker.now_ms(), Ordering::Release);
        BusyGuard { conn, tracker }
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.conn
            .last_active
            .store(self.tracker.now_ms(), Ordering::Release);
        self.conn.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy while it streams
/// (hyper takes it as it is: no second box around the response's body).
struct GuardedBody {
    inner: Body,
    _guard: Option<BusyGuard>,
}

impl http_body::Body for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Largest console request body (axum's default limit, which the
/// extractors apply again).
const CONSOLE_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The requests [`body_in_time`] reads: a console request with a body.
pub fn reads_body_in_time(req: &Request<Body>) -> bool {
    let path = req.uri().path();
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    has_body && !platform_path(path) && path != "/api/session/update"
}

/// Reads every console request's body within `body_timeout` (408
/// `body_timeout`), so a client cannot hold a request open by trickling its
/// body. Webhook routes read their own bodies, with the same timeout.
pub async fn body_in_time(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !reads_body_in_time(&req) {
        return next.run(req).await;
    }
    let timeout = state.config.limits.body_timeout;
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, CONSOLE_BODY_LIMIT);
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => crate::error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the body could not be read within {CONSOLE_BODY_LIMIT} bytes: {e}"),
        )
        .into_response(),
        Err(_) => body_timeout(timeout).into_response(),
    }
}

/// 408 `body_timeout`: the body did not arrive in time.
pub fn body_timeout(timeout: Duration) -> crate::error::ApiError {
    crate::error::ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::BodyTimeout,
        format!("the body did not arrive within {} ms", timeout.as_millis()),
    )
}

/// A telephony platform's routes: its webhooks and its IVR requests.
pub fn platform_path(path: &str) -> bool {
    path.starts_with("/webhooks/") || path.starts_with("/ivr/")
}

/// Paths served even when the connection cap is near.
fn priority_path(path: &str) -> bool {
    platform_path(path) || path == "/healthz"
}

fn busy_response() -> Response<Body> {
    let body = serde_json::json!({"error": {
        "code": SERVER_BUSY,
        "message": "the server is near its connection limit and serves webhooks first: retry shortly",
    }});
    let mut res = Response::new(Body::from(body.to_string()));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// An error answer written straight to a socket that hyper never serves
/// (over the cap, plain HTTP on the TLS port), then closed.
fn raw_error(status_line: &str, extra_headers: &str, code: ErrorCode, message: &str) -> Vec<u8> {
    let body =
        serde_json::json!({"error": {"code": code.as_str(), "message": message}}).to_string();
    format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\n{extra_headers}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a connection over the cap hears before it is closed.
fn over_cap() -> Vec<u8> {
    raw_error(
        "503 Service Unavailable",
        "retry-after: 1\r\n",
        ErrorCode::ServerBusy,
        "too many connections: retry shortly",
    )
}

/// Accepts connections and serves `app` on each until `shutdown` resolves;
/// then stops accepting and lets open connections finish their requests.
pub async fn serve<A>(
    listener: TcpListener,
    app: A,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    A: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    A::Future: Send + 'static,
{
    let tracker = Arc::new(Tracker {
        permits: Arc::new(Semaphore::new(limits.max_connections)),
        registry: Mutex::new(Registry::default()),
        started: Instant::now(),
        limits: limits.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    let builder = Arc::new(builder);
    // Over-cap answers are written by a few short tasks at most.
    let refusals = Arc::new(Semaphore::new(32));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (EMFILE) and the like: wait for
                    // connections to close rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let permit = match tracker.permits.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                if tracker.evict_idlest() {
                    tokio::time::timeout(
                        Duration::from_millis(200),
                        tracker.permits.clone().acquire_owned(),
                    )
                    .await
                    .ok()
                    .and_then(Result::ok)
                } else {
                    None
                }
            }
        };
        let Some(permit) = permit else {
            refuse(stream, &refusals);
            continue;
        };
        let (id, conn, evicted) = tracker.register();
        let tracker = tracker.clone();
        let builder = builder.clone();
        let app = app.clone();
        let mut stop = stop_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let secure = tls.is_some();
            // The handshake shares the head's deadline: a client that opens
            // a socket and says nothing is closed alike, in plain or TLS.
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(acceptor) => {
                    match handshake(acceptor, stream, tracker.limits.header_timeout).await {
                        Some(s) => s,
                        None => {
                            tracker.unregister(id);
                            return;
                        }
                    }
                }
            };
            let service = {
                let tracker = tracker.clone();
                let conn = conn.clone();
                hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    let guard = BusyGuard::new(conn.clone(), tracker.clone());
                    let near_cap = tracker.open()
                        > tracker.limits.max_connections - tracker.limits.reserved_connections;
                    let refused = near_cap && !priority_path(req.uri().path());
                    req.extensions_mut().insert(ConnectInfo(peer));
                    if secure {
                        req.extensions_mut().insert(crate::forwarded::DirectTls);
                    }
                    let app = app.clone();
                    async move {
                        if refused {
                            return Ok::<_, Infallible>(busy_response().map(|b| GuardedBody {
                                inner: b,
                                _guard: None,
                            }));
                        }
                        let res = match app.oneshot(req.map(Body::new)).await {
                            Ok(r) => r,
                            Err(e) => match e {},
                        };
                        Ok(res.map(|b| GuardedBody {
                            inner: b,
                            _guard: Some(guard),
                        }))
                    }
                })
            };
            let connection = builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                r = connection.as_mut() => r,
                Ok(()) = evicted => Ok(()),
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            tracker.unregister(id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every open connection holds a permit: all back means all finished.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tracker.permits.acquire_many(all).await;
    Ok(())
}

/// A connection's byte stream: plain TCP or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Io for T {}

/// The TLS handshake, within `timeout`. A client speaking plain HTTP to the
/// TLS port hears why (in plain HTTP) rather than seeing the socket close.
async fn handshake(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    timeout: Duration,
) -> Option<Box<dyn Io>> {
    let peer = stream.peer_addr().ok();
    let mut first = [0u8; 1];
    match tokio::time::timeout(timeout, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] != TLS_HANDSHAKE_RECORD => {
            let mut stream = stream;
            let _ = tokio::time::timeout(Duration::from_millis(500), async {
                let _ = stream.write_all(&plain_http_on_tls()).await;
                let _ = stream.shutdown().await;
            })
            .await;
            return None;
        }
        Ok(Ok(1)) => {}
        _ => return None,
    }
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(Box::new(s)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, ?peer, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(?peer, "TLS handshake timed out");
            None
        }
    }
}

/// The first byte of a TLS ClientHello (a handshake record).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

fn plain_http_on_tls() -> Vec<u8> {
    raw_error(
        "400 Bad Request",
        "",
        ErrorCode::TlsRequired,
        "this receiver speaks HTTPS: use an https:// URL",
    )
}

/// Answers 503 to a connection over the cap and closes it, without waiting
/// for it (a few at a time; beyond that it is just closed).
fn refuse(mut stream: TcpStream, refusals: &Arc<Semaphore>) {
    let Ok(slot) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let _ = stream.write_all(&over_cap()).await;
            let _ = stream.shutdown().await;
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_cap_answer_declares_its_length() {
        let bytes = over_cap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], SERVER_BUSY);
    }

    #[test]
    fn limits_fit_the_descriptor_limit() {
        let l = Limits::default().fit_to_descriptors(Some(256));
        assert_eq!(l.max_connections, 192);
        assert!(l.reserved_connections <= 96);
        let l = Limits::default().fit_to_descriptors(Some(1 << 20));
        assert_eq!(l.max_connections, 1024);
    }
}
