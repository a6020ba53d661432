//! The replica's HTTP client for its receiver.

use callboard_core::store::replica::{Changes, Snapshot, SnapshotKey, TOO_FAR_BEHIND};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The receiver was not reached, or the answer was cut: try again later.
    #[error("the receiver is unreachable: {0}")]
    Unreachable(String),
    #[error("the receiver refused the token: sign in again")]
    Unauthorized,
    /// The logs no longer reach back to our cursor.
    #[error("too far behind the receiver: a fresh snapshot is needed")]
    TooFarBehind,
    #[error("the receiver answered {status}: {message}")]
    Status { status: u16, message: String },
    /// Signed in with a printed or temporary password: the receiver allows
    /// nothing else until it is changed.
    #[error("this password must be changed first: sign in to the receiver's console in a browser, choose a new password, then use it here")]
    PasswordChangeRequired,
}

/// reqwest's message alone hides why ("error sending request"): the causes
/// (refused, timed out, an untrusted certificate) are what an operator needs.
fn unreachable(e: reqwest::Error) -> RemoteError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    RemoteError::Unreachable(message)
}

#[derive(Clone)]
pub struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
    /// For snapshots and big pages of changes.
    slow: reqwest::Client,
    /// The roots an `https://` receiver's certificate is checked against,
    /// for the HTTP calls and the `wss://` stream alike.
    tls: Arc<rustls::ClientConfig>,
}

fn client(timeout: Duration, tls: Option<&Arc<rustls::ClientConfig>>) -> reqwest::Client {
    let mut b = crate::http::client()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout);
    if let Some(config) = tls {
        b = b.use_preconfigured_tls(rustls::ClientConfig::clone(config));
    }
    b.build().unwrap_or_default()
}

/// A receiver's answer to a forwarded write.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Its `Retry-After` (a 429), passed on as it came.
    pub retry_after: Option<String>,
}

impl Remote {
    /// A receiver whose `https://` certificate is checked against `tls`'s roots.
    pub fn new(base: &str, token: &str, tls: Arc<rustls::ClientConfig>) -> Remote {
        Remote {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: client(Duration::from_secs(15), Some(&tls)),
            slow: client(Duration::from_secs(300), Some(&tls)),
            tls,
        }
    }

    /// How the event stream is dialled: over `tls` for a `wss://` URL.
    pub fn ws_connector(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(self.tls.clone())
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The event stream's URL (the token in the query, as browsers do).
    pub fn events_url(&self, since: i64) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!(
                "ws://{}",
                self.base.strip_prefix("http://").unwrap_or(&self.base)
            )
        };
        let q = serde_urlencoded::to_string([
            ("since", since.to_string()),
            ("token", self.token.clone()),
        ])
        .unwrap_or_default();
        format!("{ws}/api/events?{q}")
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
    ) -> Result<T, RemoteError> {
        let r = http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = r.status().as_u16();
        if status == 401 {
            return Err(RemoteError::Unauthorized);
        }
        let text = r.text().await.map_err(unreachable)?;
        if status != 200 {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if v["error"]["code"] == TOO_FAR_BEHIND {
                return Err(RemoteError::TooFarBehind);
            }
            if status >= 500 {
                return Err(RemoteError::Unreachable(format!("{status}: {text}")));
            }
            return Err(RemoteError::Status {
                status,
                message: v["error"]["message"].as_str().unwrap_or(&text).to_string(),
            });
        }
        serde_json::from_str(&text).map_err(|e| RemoteError::Status {
            status,
            message: format!("unexpected answer: {e}"),
        })
    }

    pub async fn me(&self) -> Result<Value, RemoteError> {
        self.get_json(&self.http, "/api/auth/me").await
    }

    /// One page of the paged snapshot: the first without `from`. (A
    /// receiver older than the paged form answers every row at once, with
    /// no `next`: that is a whole snapshot, applied the same way.)
    pub async fn snapshot_page(
        &self,
        from: Option<&SnapshotKey>,
        limit: i64,
    ) -> Result<Snapshot, RemoteError> {
        let mut q = vec![("limit", limit.to_string())];
        if let Some(k) = from {
            q.push(("table", k.table.clone()));
            q.push(("after", k.after.to_string()));
        }
        let q = serde_urlencoded::to_string(q).unwrap_or_default();
        self.get_json(&self.slow, &format!("/api/replica/snapshot?{q}"))
            .await
    }

    pub async fn changes(&self, seq: i64, change: i64) -> Result<Changes, RemoteError> {
        self.get_json(
            &self.slow,
            &format!("/api/replica/changes?seq={seq}&change={change}"),
        )
        .await
    }

    /// Sends a write with its idempotency key. Any answer is returned (the
    /// caller decides); only a failure to get one is an error. `client`, when
    /// given, is the browser's address, sent as `X-Forwarded-For` (see
    /// [`Remote::sign_in`]).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        key: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Answer, RemoteError> {
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| RemoteError::Status {
                status: 405,
                message: e.to_string(),
            })?;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("idempotency-key", key);
        if let Some(ip) = client {
            req = req.header("x-forwarded-for", ip.to_string());
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.map_err(unreachable)?;
        let status = r.status().as_u16();
        let retry_after = retry_after(r.headers());
        let body = r.text().await.map_err(unreachable)?;
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The receiver's answer to a sign-in forwarded by a replica.
pub struct SignInAnswer {
    pub status: u16,
    pub body: String,
    /// Its `Retry-After` (a 429), passed on as it came.
    pub retry_after: Option<String>,
}

impl Remote {
    /// Forwards a sign-in (`/api/auth/login` or `/api/auth/exchange`, in
    /// bearer mode) without the replica's own token: the receiver judges the
    /// credentials in `body` alone. Any answer is returned; only a failure to
    /// get one is an error.
    /// `client` is the browser's address, sent as `X-Forwarded-For`: a
    /// receiver that lists this replica in `--trusted-proxy` then throttles
    /// each browser on its own instead of the replica's one address.
    pub async fn sign_in(
        &self,
        path: &str,
        body: &Value,
        client: std::net::IpAddr,
    ) -> Result<SignInAnswer, RemoteError> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-forwarded-for", client.to_string())
            .json(body)
            .send()
            .await
            .map_err(unreachable)?;
        let status = r.status().as_u16();
        let retry_after = retry_after(r.headers());
        let body = r.text().await.map_err(unreachable)?;
        Ok(SignInAnswer {
            status,
            body,
            retry_after,
        })
    }

    /// Revokes a session token on the receiver (`POST /api/auth/logout`).
    pub async fn revoke(&self, token: &str) -> Result<(), RemoteError> {
        let r = self
            .http
            .post(format!("{}/api/auth/logout", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unreachable)?;
        match r.status().as_u16() {
            204 | 401 => Ok(()),
            status => Err(RemoteError::Status {
                status,
                message: r.text().await.unwrap_or_default(),
            }),
        }
    }
}

/// Signs in on a receiver (`POST /api/auth/login`) and returns the session
/// token: what the desktop asks for on its first run in remote mode.
pub async fn sign_in(
    remote_url: &str,
    username: &str,
    password: &str,
) -> Result<String, RemoteError> {
    let base = remote_url.trim_end_matches('/');
    let r = client(Duration::from_secs(30), None)
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .map_err(unreachable)?;
    let status = r.status().as_u16();
    let v: Value = r.json().await.map_err(unreachable)?;
    match (status, v["token"].as_str()) {
        (200, Some(_)) if v["must_change_password"] == true => {
            Err(RemoteError::PasswordChangeRequired)
        }
        (200, Some(t)) => Ok(t.to_string()),
        (401, _) => Err(RemoteError::Unauthorized),
        _ => Err(RemoteError::Status {
            status,
            message: v["error"]["message"]
                .as_str()
                .unwrap_or("sign-in failed")
                .to_string(),
        }),
    }
}
