//! Integration tokens: what a CRM or BI tool gets instead of a person's
//! session. Read-only by construction (the server lets them reach only the
//! reads their scopes name), limited to departments when given, expiring
//! when given, revocable at once; shown once, kept as a SHA-256 hash.

use super::audit::{self, Actor};
use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::keys;
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// What a token may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    /// Calls: lists, one call, the CSV export, the event stream, the
    /// department list.
    #[serde(rename = "calls:read")]
    CallsRead,
    /// Figures: the dashboard's stats and the metrics (agents' included).
    #[serde(rename = "metrics:read")]
    MetricsRead,
    /// The wallboard, for a TV's kiosk link: today's counters, the
    /// departments and the threshold levels. No call, no number, no stream.
    #[serde(rename = "wallboard:read")]
    WallboardRead,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntegrationToken {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub hint: String,
    pub scopes: Vec<Scope>,
    /// Null: every department.
    pub departments: Option<Vec<String>>,
    /// Null: never expires.
    pub expires_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl IntegrationToken {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegrationToken {
    /// Who uses it ("Zoho CRM", "Power BI"): 1-80 characters.
    pub name: String,
    /// At least one.
    pub scopes: Vec<Scope>,
    /// Limit it to these departments (slugs); absent: every department.
    pub departments: Option<Vec<String>>,
    /// RFC 3339; absent: never expires. Must be in the future.
    pub expires_at: Option<String>,
}

const COLS: &str = "id, name, hint, scopes, departments, expires_at, created_by, created_at, revoked_at, last_used_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<IntegrationToken> {
    let id: i64 = r.get(0)?;
    Ok(IntegrationToken {
        id,
        name: r.get(1)?,
        hint: r.get(2)?,
        scopes: At::new("integration_tokens", id).json(r, 3, "scopes")?,
        departments: At::new("integration_tokens", id).json_opt(r, 4, "departments")?,
        expires_at: r.get(5)?,
        created_by: r.get(6)?,
        created_at: r.get(7)?,
        revoked_at: r.get(8)?,
        last_used_at: r.get(9)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<IntegrationToken>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM integration_tokens ORDER BY revoked_at IS NOT NULL, id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<IntegrationToken> {
    conn.query_row(
        &format!("SELECT {COLS} FROM integration_tokens WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("integration token {id}")))
}

/// Creates a token; returns it with the secret, which is never shown again.
pub fn create(
    w: &mut Writer<'_>,
    input: NewIntegrationToken,
    actor: &Actor,
) -> Result<(IntegrationToken, String)> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::invalid("name must be 1-80 characters"));
    }
    let mut scopes = input.scopes;
    scopes.sort_by_key(|s| *s as u8);
    scopes.dedup();
    if scopes.is_empty() {
        return Err(Error::invalid(
            "scopes: name at least one (calls:read, metrics:read, wallboard:read)",
        ));
    }
    if let Some(deps) = &input.departments {
        if deps.is_empty() {
            return Err(Error::invalid(
                "departments: name at least one, or leave it out for every department",
            ));
        }
        for d in deps {
            let known: bool = w.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM providers WHERE slug = ?1)",
                [d],
                |r| r.get(0),
            )?;
            if !known {
                return Err(Error::invalid(format!("departments: no department `{d}`")));
            }
        }
    }
    let expires_at = match input.expires_at.as_deref() {
        None => None,
        Some(e) => {
            let at = time::parse(e).ok_or_else(|| {
                Error::invalid(format!("expires_at `{e}` is not an RFC 3339 timestamp"))
            })?;
            if at <= w.now {
                return Err(Error::invalid("expires_at must be in the future"));
            }
            Some(time::fmt(at))
        }
    };
    let secret = keys::new_integration_token();
    w.conn.execute(
        "INSERT INTO integration_tokens (name, token_hash, hint, scopes, departments, expires_at, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            name,
            keys::hash_secret(&secret),
            keys::key_hint(&secret),
            serde_json::to_string(&scopes)?,
            input.departments.as_ref().map(serde_json::to_string).transpose()?,
            expires_at,
            actor.name,
            time::fmt(w.now),
        ],
    )?;
    let t = get(w.conn, w.conn.last_insert_rowid())?;
    audit::record(
        w,
        actor,
        "integration.create",
        Some(&t.name),
        serde_json::json!({ "id": t.id, "scopes": t.scopes, "departments": t.departments, "expires_at": t.expires_at }),
    )?;
    Ok((t, secret))
}

/// Revokes a token at once (kept, marked, for the record).
pub fn revoke(w: &mut Writer<'_>, id: i64, actor: &Actor) -> Result<IntegrationToken> {
    let t = get(w.conn, id)?;
    if t.revoked_at.is_some() {
        return Ok(t);
    }
    w.conn.execute(
        "UPDATE integration_tokens SET revoked_at = ?2 WHERE id = ?1",
        params![id, time::fmt(w.now)],
    )?;
    audit::record(
        w,
        actor,
        "integration.revoke",
        Some(&t.name),
        serde_json::json!({ "id": id }),
    )?;
    get(w.conn, id)
}

/// The live token `secret` names: not revoked, not expired.
pub fn authenticate(
    conn: &Connection,
    secret: &str,
    now: Timestamp,
) -> Result<Option<IntegrationToken>> {
    let t = conn
        .query_row(
            &format!("SELECT {COLS} FROM integration_tokens WHERE token_hash = ?1"),
            [keys::hash_secret(secret)],
            from_row,
        )
        .optional()?;
    let now = time::fmt(now);
    Ok(t.filter(|t| {
        t.revoked_at.is_none() && t.expires_at.as_deref().is_none_or(|e| e > now.as_str())
    }))
}

/// Notes a use, at most every few minutes (a BI tool may poll every second).
pub fn touch(w: &mut Writer<'_>, id: i64) -> Result<()> {
    let stale = time::fmt(w.now - chrono::Duration::minutes(5));
    w.conn.execute(
        "UPDATE integration_tokens SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
        params![id, time::fmt(w.now), stale],
    )?;
    Ok(())
}
