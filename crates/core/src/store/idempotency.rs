//! `Idempotency-Key` on the receiver: the first request with a key runs and
//! its answer is stored; a retry with the same key and the same request gets
//! the stored answer, never a second effect.
//!
//! The key is also written inside the transaction of the write itself (the
//! handler passes it to [`super::Store::write_keyed`]), so a crash between
//! the effect and storing the answer still leaves proof that the effect
//! happened.

use super::Writer;
use crate::error::Result;
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};

/// Keys are kept this long; a replica retries well within it.
pub const KEEP_HOURS: i64 = 24;

/// The request a key was first used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    pub key: String,
    /// Who sent it (a hash of the bearer token): keys are per principal.
    pub principal: String,
    pub method: String,
    pub path: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
}

/// What a key holds.
#[derive(Debug, Clone)]
pub struct Stored {
    pub request: KeyedRequest,
    /// None: the effect committed but its answer was never stored.
    pub status: Option<u16>,
    pub body: Option<String>,
}

pub fn lookup(conn: &Connection, key: &str) -> Result<Option<Stored>> {
    Ok(conn
        .query_row(
            "SELECT key, principal, method, path, request_hash, status, body FROM idempotency_keys WHERE key = ?1",
            [key],
            |r| {
                Ok(Stored {
                    request: KeyedRequest {
                        key: r.get(0)?,
                        principal: r.get(1)?,
                        method: r.get(2)?,
                        path: r.get(3)?,
                        request_hash: r.get(4)?,
                    },
                    status: r.get::<_, Option<i64>>(5)?.map(|s| s as u16),
                    body: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// Marks the key as used, inside the write's own transaction.
pub(crate) fn record_effect(w: &Writer<'_>, req: &KeyedRequest) -> Result<()> {
    w.conn
        .prepare_cached(
            "INSERT INTO idempotency_keys (key, principal, method, path, request_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![
            req.key,
            req.principal,
            req.method,
            req.path,
            req.request_hash,
            time::fmt(w.now)
        ])?;
    Ok(())
}

/// Stores the answer sent for the key.
pub fn store_response(
    w: &mut Writer<'_>,
    req: &KeyedRequest,
    status: u16,
    body: &str,
) -> Result<()> {
    w.conn.execute(
        "INSERT INTO idempotency_keys (key, principal, method, path, request_hash, status, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body",
        params![
            req.key,
            req.principal,
            req.method,
            req.path,
            req.request_hash,
            status,
            body,
            time::fmt(w.now)
        ],
    )?;
    Ok(())
}

/// Forgets keys older than [`KEEP_HOURS`].
pub fn prune(w: &mut Writer<'_>) -> Result<usize> {
    let before = time::fmt(w.now - chrono::Duration::hours(KEEP_HOURS));
    Ok(w.conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?1",
        [before],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_keyed_write_records_its_key_in_the_same_transaction() {
        let (_d, store) = temp_store();
        let req = Arc::new(KeyedRequest {
            key: "k1".into(),
            principal: "p".into(),
            method: "POST".into(),
            path: "/api/x".into(),
            request_hash: "h".into(),
        });
        // A failing write leaves no key behind: a retry runs again.
        let failed = store
            .write_keyed(Some(req.clone()), |_| -> Result<()> {
                Err(crate::Error::invalid("no"))
            })
            .await;
        assert!(failed.is_err());
        assert!(store.read(|c| lookup(c, "k1")).await.unwrap().is_none());
        store
            .write_keyed(Some(req.clone()), |_| Ok(()))
            .await
            .unwrap();
        let s = store.read(|c| lookup(c, "k1")).await.unwrap().unwrap();
        assert_eq!((s.request, s.status), ((*req).clone(), None));
        let r2 = (*req).clone();
        store
            .write(move |w| store_response(w, &r2, 201, "{}"))
            .await
            .unwrap();
        let s = store.read(|c| lookup(c, "k1")).await.unwrap().unwrap();
        assert_eq!((s.status, s.body.as_deref()), (Some(201), Some("{}")));
    }
}
