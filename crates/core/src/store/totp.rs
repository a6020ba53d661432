//! Users' TOTP secrets: set up (pending), confirmed with a code (enabled),
//! turned off by the user or reset by an admin (a lost phone).

use super::audit::{self, Actor};
use super::Writer;
use crate::error::{Error, Result};
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};

/// A user's second factor, if set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    pub secret: String,
    pub enabled: bool,
}

pub fn get(conn: &Connection, user_id: i64) -> Result<Option<Factor>> {
    Ok(conn
        .query_row(
            "SELECT secret, enabled_at IS NOT NULL FROM user_totp WHERE user_id = ?1",
            [user_id],
            |r| {
                Ok(Factor {
                    secret: r.get(0)?,
                    enabled: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Starts (or restarts) set-up with a new secret; refused while enabled.
pub fn set_up(w: &mut Writer<'_>, user_id: i64) -> Result<String> {
    if get(w.conn, user_id)?.is_some_and(|f| f.enabled) {
        return Err(Error::Conflict(
            "two-step sign-in is on: turn it off first to set up a new phone".into(),
        ));
    }
    let secret = crate::totp::new_secret();
    w.conn.execute(
        "INSERT INTO user_totp (user_id, secret) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, enabled_at = NULL",
        params![user_id, secret],
    )?;
    Ok(secret)
}

/// Turns it on (the caller checked a code against the pending secret).
pub fn enable(w: &mut Writer<'_>, user_id: i64, actor: &Actor) -> Result<()> {
    let n = w.conn.execute(
        "UPDATE user_totp SET enabled_at = ?2 WHERE user_id = ?1 AND enabled_at IS NULL",
        params![user_id, time::fmt(w.now)],
    )?;
    if n == 0 {
        return Err(Error::Conflict(
            "nothing to turn on: set it up first".into(),
        ));
    }
    audit::record(
        w,
        actor,
        "user.totp_on",
        Some(&user_id.to_string()),
        serde_json::Value::Null,
    )
}

/// Turns it off (the user, with a code; or an admin, for a lost phone).
pub fn remove(w: &mut Writer<'_>, user_id: i64, actor: &Actor) -> Result<bool> {
    let n = w
        .conn
        .execute("DELETE FROM user_totp WHERE user_id = ?1", [user_id])?;
    if n > 0 {
        audit::record(
            w,
            actor,
            "user.totp_off",
            Some(&user_id.to_string()),
            serde_json::Value::Null,
        )?;
    }
    Ok(n > 0)
}

/// An admin turns a user's second factor off (a lost phone).
pub fn reset(w: &mut Writer<'_>, user_id: i64, actor: &Actor) -> Result<()> {
    let known: bool = w.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)",
        [user_id],
        |r| r.get(0),
    )?;
    if !known {
        return Err(Error::NotFound(format!("user {user_id}")));
    }
    remove(w, user_id, actor).map(|_| ())
}
