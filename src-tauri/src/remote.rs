//! Signing in to a remote receiver.

use crate::shell::ShellError;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
struct Login {
    token: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

/// `POST {url}/api/auth/login`: the token this desktop uses from now on.
pub async fn sign_in(url: &str, username: &str, password: &str) -> Result<String, ShellError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ShellError::Remote(
            "the receiver's address starts with http:// or https://".into(),
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ShellError::Remote(e.to_string()))?;
    let r = client
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .map_err(|e| ShellError::Remote(format!("cannot reach {url}: {e}")))?;
    let status = r.status();
    if status.is_success() {
        return r
            .json::<Login>()
            .await
            .map(|l| l.token)
            .map_err(|_| ShellError::Remote(format!("{url} is not a Callboard receiver")));
    }
    let message = r
        .json::<ErrorBody>()
        .await
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| format!("{url} answered {status}"));
    Err(ShellError::Remote(message))
}
