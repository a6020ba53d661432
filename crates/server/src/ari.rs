//! Asterisk's ARI event stream as a pull connector. Asterisk does not post
//! webhooks: Callboard connects to `ws://pbx:8088/ari/events` with the
//! `ari.conf` credentials, subscribed to every channel event, and feeds each
//! JSON frame through the provider's mapping (`streams`, which supervises
//! and reconnects it).

use crate::streams::Streams;
use callboard_core::Store;
use futures_util::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The connector kind of an ARI stream (`connectors.kind`).
pub const KIND: &str = "asterisk_ari";

/// The Stasis application name Callboard subscribes as.
pub const APP: &str = "callboard";

/// The events URL of an ARI base (`http://pbx:8088/ari`, `https://…`, or
/// already `ws(s)://…`); credentials go in `api_key` as ARI expects.
pub fn events_url(base: &str, credentials: &str) -> Result<String, String> {
    let base = base.trim().trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_string()
    } else {
        return Err(format!(
            "`{base}` is not an ARI address: give http://pbx:8088/ari"
        ));
    };
    let ws = ws.trim_end_matches("/events").to_string();
    let mut url =
        reqwest::Url::parse(&format!("{ws}/events")).map_err(|e| format!("`{base}`: {e}"))?;
    url.query_pairs_mut()
        .append_pair("app", APP)
        .append_pair("subscribeAll", "true")
        .append_pair("api_key", credentials);
    Ok(url.to_string())
}

/// One connection to Asterisk: events until it closes.
pub(crate) async fn session(
    streams: &Streams,
    store: &Store,
    credentials: &str,
    slug: &str,
    base: &str,
) -> Result<(), String> {
    let url = events_url(base, credentials)?;
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(url.as_str()),
    )
    .await
    .map_err(|_| "connecting timed out after 10 s".to_string())?
    // The error may quote the URL, which holds the credentials.
    .map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => format!(
            "Asterisk refused the connection (HTTP {}): check the ARI user and password",
            r.status()
        ),
        tokio_tungstenite::tungstenite::Error::Io(io) => format!("cannot connect: {io}"),
        other => format!(
            "cannot connect: {}",
            other.to_string().replace(credentials, "…")
        ),
    })?;
    tracing::info!(provider = %slug, "ARI stream connected");
    streams.connected(slug, store);
    while let Some(frame) = ws.next().await {
        let text = match frame.map_err(|e| e.to_string())? {
            Message::Text(t) => t,
            Message::Close(_) => return Ok(()),
            _ => continue,
        };
        streams.ingest(store, slug, "ARI", text.as_bytes()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_url_carries_the_app_and_the_credentials() {
        let u = events_url("http://pbx:8088/ari/", "cb:s3cret").unwrap();
        assert_eq!(
            u,
            "ws://pbx:8088/ari/events?app=callboard&subscribeAll=true&api_key=cb%3As3cret"
        );
        assert!(events_url("https://pbx/ari", "a:b")
            .unwrap()
            .starts_with("wss://pbx/ari/events?"));
        assert!(events_url("ws://pbx:8088/ari/events", "a:b")
            .unwrap()
            .starts_with("ws://pbx:8088/ari/events?app="));
        assert!(events_url("pbx:8088", "a:b").is_err());
    }
}
