//! Platform agent ids mapped to Callboard users, so a platform's events name
//! the right agent; and the lookup the ingestion uses. Mappings are kept per
//! platform: a provider's preset (every Dialpad department shares Dialpad's
//! user ids), or for a provider made without one, `provider:<slug>`.

use super::audit::Actor;
use super::{audit, Writer};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// One mapping: `external_id` on `platform` is Callboard user `user_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentMapping {
    pub platform: String,
    /// The platform's user id (Dialpad: the user's numeric id, as text).
    pub external_id: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    /// The CRM's own id for this agent (unique per platform), if one was given.
    pub crm_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One row of a bulk sync: the user by id or by user name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    pub external_id: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    /// The CRM's own id for this agent: omitted keeps the current one, an
    /// empty string clears it.
    #[serde(default)]
    pub crm_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BulkReport {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Mappings removed because `replace` was set and the sync did not list them.
    pub deleted: i64,
}

const COLS: &str = "e.platform, e.external_id, e.user_id, u.username, u.display_name, e.crm_id, e.created_at, e.updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentMapping> {
    Ok(AgentMapping {
        platform: r.get(0)?,
        external_id: r.get(1)?,
        user_id: r.get(2)?,
        username: r.get(3)?,
        display_name: r.get(4)?,
        crm_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

pub fn list(conn: &Connection, platform: &str) -> Result<Vec<AgentMapping>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM external_users e JOIN users u ON u.id = e.user_id
         WHERE e.platform = ?1 ORDER BY e.external_id"
    ))?;
    let rows = stmt.query_map([platform], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn get(conn: &Connection, platform: &str, external_id: &str) -> Result<AgentMapping> {
    conn.query_row(
        &format!(
            "SELECT {COLS} FROM external_users e JOIN users u ON u.id = e.user_id
             WHERE e.platform = ?1 AND e.external_id = ?2"
        ),
        params![platform, external_id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no {platform} user `{external_id}` is mapped")))
}

/// The mappings of `platform`, or only the one with `crm_id` (none or one).
pub fn find(conn: &Connection, platform: &str, crm_id: Option<&str>) -> Result<Vec<AgentMapping>> {
    match crm_id {
        Some(crm) => Ok(by_crm_id(conn, platform, crm)?.into_iter().collect()),
        None => list(conn, platform),
    }
}

/// The mapping whose CRM id is `crm_id` (a CRM asking who its agent is).
pub fn by_crm_id(conn: &Connection, platform: &str, crm_id: &str) -> Result<Option<AgentMapping>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLS} FROM external_users e JOIN users u ON u.id = e.user_id
                 WHERE e.platform = ?1 AND e.crm_id = ?2"
            ),
            params![platform, crm_id.trim()],
            from_row,
        )
        .optional()?)
}

/// What an input asks of the CRM id: None keeps it, Some(None) clears it.
fn crm_change(input: &MappingInput) -> Result<Option<Option<String>>> {
    let Some(raw) = input.crm_id.as_deref() else {
        return Ok(None);
    };
    let id = raw.trim();
    if id.is_empty() {
        return Ok(Some(None));
    }
    if id.len() > 128 || id.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{}: crm_id must be 1-128 characters without control characters",
            input.external_id
        )));
    }
    Ok(Some(Some(id.to_string())))
}

/// Refuses a CRM id another agent id of the platform already has.
fn check_crm_free(conn: &Connection, platform: &str, external_id: &str, crm: &str) -> Result<()> {
    let holder: Option<String> = conn
        .query_row(
            "SELECT external_id FROM external_users
             WHERE platform = ?1 AND crm_id = ?2 AND external_id != ?3",
            params![platform, crm, external_id],
            |r| r.get(0),
        )
        .optional()?;
    match holder {
        Some(other) => Err(Error::Conflict(format!(
            "crm_id `{crm}` already belongs to {platform} user `{other}`"
        ))),
        None => Ok(()),
    }
}

fn validate_external_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() || id.len() > 128 {
        return Err(Error::invalid("external_id must be 1-128 characters"));
    }
    Ok(id)
}

fn resolve_user(conn: &Connection, input: &MappingInput) -> Result<i64> {
    let found: Option<i64> = match (input.user_id, input.username.as_deref()) {
        (Some(id), _) => conn
            .query_row("SELECT id FROM users WHERE id = ?1", [id], |r| r.get(0))
            .optional()?,
        (None, Some(name)) => conn
            .query_row("SELECT id FROM users WHERE username = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?,
        (None, None) => {
            return Err(Error::invalid(format!(
                "{}: give user_id or username",
                input.external_id
            )))
        }
    };
    found.ok_or_else(|| {
        Error::invalid(format!(
            "{}: no Callboard user {}",
            input.external_id,
            input
                .user_id
                .map(|i| i.to_string())
                .or(input.username.clone())
                .unwrap_or_default()
        ))
    })
}

enum Change {
    Created,
    Updated,
    Unchanged,
}

fn put(
    w: &Writer<'_>,
    platform: &str,
    external_id: &str,
    user_id: i64,
    crm: Option<Option<String>>,
) -> Result<Change> {
    let at = crate::time::fmt(w.now);
    let cur: Option<(i64, Option<String>)> = w
        .conn
        .query_row(
            "SELECT user_id, crm_id FROM external_users WHERE platform = ?1 AND external_id = ?2",
            params![platform, external_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some(Some(id)) = &crm {
        check_crm_free(w.conn, platform, external_id, id)?;
    }
    Ok(match cur {
        Some((u, old_crm)) => {
            let crm = crm.unwrap_or(old_crm.clone());
            if u == user_id && crm == old_crm {
                return Ok(Change::Unchanged);
            }
            w.conn.execute(
                "UPDATE external_users SET user_id = ?3, crm_id = ?4, updated_at = ?5
                 WHERE platform = ?1 AND external_id = ?2",
                params![platform, external_id, user_id, crm, at],
            )?;
            Change::Updated
        }
        None => {
            w.conn.execute(
                "INSERT INTO external_users (platform, external_id, user_id, crm_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![platform, external_id, user_id, crm.flatten(), at],
            )?;
            Change::Created
        }
    })
}

/// Creates or changes one mapping.
pub fn upsert(
    w: &mut Writer<'_>,
    platform: &str,
    input: MappingInput,
    actor: &Actor,
) -> Result<AgentMapping> {
    let external_id = validate_external_id(&input.external_id)?.to_string();
    let user_id = resolve_user(w.conn, &input)?;
    let crm = crm_change(&input)?;
    put(w, platform, &external_id, user_id, crm.clone())?;
    let mut detail = serde_json::json!({ "external_id": external_id, "user_id": user_id });
    if let Some(crm) = crm {
        detail["crm_id"] = serde_json::json!(crm);
    }
    audit::record(w, actor, "agent_mapping.put", Some(platform), detail)?;
    get(w.conn, platform, &external_id)
}

pub fn delete(w: &mut Writer<'_>, platform: &str, external_id: &str, actor: &Actor) -> Result<()> {
    let n = w.conn.execute(
        "DELETE FROM external_users WHERE platform = ?1 AND external_id = ?2",
        params![platform, external_id],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!(
            "no {platform} user `{external_id}` is mapped"
        )));
    }
    audit::record(
        w,
        actor,
        "agent_mapping.delete",
        Some(platform),
        serde_json::json!({ "external_id": external_id }),
    )?;
    Ok(())
}

/// Applies a sync from a CRM in one transaction: every row is checked first,
/// so a bad row changes nothing. With `replace`, mappings not listed are removed.
pub fn bulk(
    w: &mut Writer<'_>,
    platform: &str,
    items: Vec<MappingInput>,
    replace: bool,
    actor: &Actor,
) -> Result<BulkReport> {
    if items.len() > 10_000 {
        return Err(Error::invalid("at most 10000 mappings per sync"));
    }
    let mut resolved: Vec<(String, i64, Option<Option<String>>)> = Vec::with_capacity(items.len());
    for item in &items {
        let id = validate_external_id(&item.external_id)?.to_string();
        if resolved.iter().any(|(e, _, _)| *e == id) {
            return Err(Error::invalid(format!("{id} is listed twice")));
        }
        let crm = crm_change(item)?;
        if let Some(Some(c)) = &crm {
            if resolved
                .iter()
                .any(|(_, _, o)| o.as_ref().and_then(|o| o.as_ref()) == Some(c))
            {
                return Err(Error::invalid(format!("crm_id `{c}` is listed twice")));
            }
        }
        resolved.push((id, resolve_user(w.conn, item)?, crm));
    }
    // A sync may move a CRM id from one listed agent to another: the ids it
    // sets are freed from the listed agents first, so the order of the rows
    // does not matter (an unlisted agent holding one is still a conflict).
    for (external_id, _, crm) in &resolved {
        if let Some(Some(c)) = crm {
            let listed: Option<String> = w
                .conn
                .query_row(
                    "SELECT external_id FROM external_users
                     WHERE platform = ?1 AND crm_id = ?2 AND external_id != ?3",
                    params![platform, c, external_id],
                    |r| r.get(0),
                )
                .optional()?
                .filter(|holder| resolved.iter().any(|(e, _, _)| e == holder));
            if let Some(holder) = listed {
                w.conn.execute(
                    "UPDATE external_users SET crm_id = NULL WHERE platform = ?1 AND external_id = ?2",
                    params![platform, holder],
                )?;
            }
        }
    }
    let mut report = BulkReport::default();
    for (external_id, user_id, crm) in &resolved {
        match put(w, platform, external_id, *user_id, crm.clone())? {
            Change::Created => report.created += 1,
            Change::Updated => report.updated += 1,
            Change::Unchanged => report.unchanged += 1,
        }
    }
    if replace {
        let existing: Vec<String> = list(w.conn, platform)?
            .into_iter()
            .map(|m| m.external_id)
            .collect();
        for e in existing {
            if !resolved.iter().any(|(r, _, _)| *r == e) {
                w.conn.execute(
                    "DELETE FROM external_users WHERE platform = ?1 AND external_id = ?2",
                    params![platform, e],
                )?;
                report.deleted += 1;
            }
        }
    }
    audit::record(
        w,
        actor,
        "agent_mapping.bulk",
        Some(platform),
        serde_json::to_value(&report)?,
    )?;
    Ok(report)
}

/// The platform a provider's agent ids are kept under.
pub fn platform_of(conn: &Connection, slug: &str) -> Result<String> {
    conn.query_row(
        "SELECT COALESCE(preset, 'provider:' || slug) FROM providers WHERE slug = ?1",
        [slug],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no provider `{slug}`")))
}

/// [`platform_of`], inside a write.
pub fn platform_for(w: &Writer<'_>, slug: &str) -> Result<String> {
    platform_of(w.conn, slug)
}

/// The Callboard user a provider's agent id maps to, by the provider's
/// platform (see [`platform_of`]): `(user id, display name or user name)`.
pub(crate) fn user_for_agent(
    conn: &Connection,
    provider_id: i64,
    agent_id: &str,
) -> Result<Option<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, COALESCE(u.display_name, u.username) FROM providers p
           JOIN external_users e
             ON e.platform = COALESCE(p.preset, 'provider:' || p.slug) AND e.external_id = ?2
           JOIN users u ON u.id = e.user_id
         WHERE p.id = ?1",
    )?;
    Ok(stmt
        .query_row(params![provider_id, agent_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}
