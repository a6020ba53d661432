//! Deliveries refused before they could be parsed (a malformed body, an
//! unsupported content type, an empty callback, a body over the limit): they
//! are kept in the provider's ingestion log as `rejected`, with the reason
//! and the first bytes of the body, so "every delivery is logged" holds.

use super::Writer;
use crate::error::Result;
use crate::time;
use rusqlite::params;

/// Most bytes of a refused body kept in the log.
pub const BODY_EXCERPT_BYTES: usize = 4096;

/// What a delivery was sent as, by the URL it came to: the delivery log's
/// `kind` (`raw_events.kind`), so a refused lead delivery reads as a lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A call event (`/webhooks/ivr/{slug}`).
    #[default]
    Call,
    /// A lead record (`/webhooks/ivr/{slug}/leads`).
    Lead,
}

impl DeliveryKind {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Call => "call",
            DeliveryKind::Lead => "lead",
        }
    }
}

/// A refused delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Refused {
    pub provider_id: i64,
    /// Sent as a call event or as a lead.
    pub kind: DeliveryKind,
    pub method: String,
    pub content_type: Option<String>,
    pub request_id: Option<String>,
    /// `code: message`, as the sender was answered.
    pub reason: String,
    /// The body (or query string of a bodiless callback) as received.
    pub body: Vec<u8>,
}

/// The first [`BODY_EXCERPT_BYTES`] of `body` as text (invalid UTF-8
/// replaced), cut on a character boundary; None when empty.
pub fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let head = &body[..body.len().min(BODY_EXCERPT_BYTES)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    if body.len() > BODY_EXCERPT_BYTES {
        // A multi-byte character cut in two became U+FFFD: drop it.
        while text.ends_with('\u{FFFD}') && text.len() > 1 {
            text.pop();
        }
        text.push('…');
    }
    Some(text)
}

/// Logs a refused delivery; its payload is the body excerpt as a JSON string.
pub fn record(w: &mut Writer<'_>, r: &Refused) -> Result<i64> {
    let payload = excerpt(&r.body)
        .map(|t| serde_json::to_string(&t))
        .transpose()?;
    w.conn.execute(
        "INSERT INTO raw_events (provider_id, received_at, method, content_type, payload, body_hash, outcome, error, request_id, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, '', 'rejected', ?6, ?7, ?8)",
        params![
            r.provider_id,
            time::fmt(w.now),
            r.method,
            r.content_type,
            payload,
            r.reason,
            r.request_id,
            r.kind.as_str()
        ],
    )?;
    Ok(w.conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded_and_cut_on_characters() {
        assert_eq!(excerpt(b""), None);
        assert_eq!(excerpt(b"{bad").as_deref(), Some("{bad"));
        let long = "é".repeat(BODY_EXCERPT_BYTES);
        let e = excerpt(long.as_bytes()).unwrap();
        assert!(e.len() <= BODY_EXCERPT_BYTES + '…'.len_utf8());
        assert!(e.ends_with("é…"), "{}", &e[e.len() - 8..]);
    }
}
