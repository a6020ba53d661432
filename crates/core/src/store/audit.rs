//! The audit log: who changed what, when.

use super::decode::At;
use super::Writer;
use crate::error::Result;
use crate::time;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

/// Who did it, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

pub fn record(
    w: &mut Writer<'_>,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    details: Value,
) -> Result<()> {
    let details = if details.is_null() {
        "{}".to_string()
    } else {
        serde_json::to_string(&details)?
    };
    w.conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![time::fmt(w.now), actor.user_id, actor.name, action, target, details],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// The action's first word: `provider` matches `provider.update`.
    pub entity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: i64,
    pub before_id: Option<i64>,
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub fn list(conn: &Connection, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT id, at, actor_id, actor, action, target, details FROM audit_log WHERE 1 = 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    // `{}` in a clause is where its bound value goes.
    let mut push = |clause: &str, v: String| {
        args.push(v.into());
        sql.push_str(" AND ");
        sql.push_str(&clause.replace("{}", &format!("?{}", args.len())));
    };
    if let Some(a) = &q.action {
        push("action LIKE {} ESCAPE '\\'", format!("{}%", escape_like(a)));
    }
    if let Some(e) = &q.entity {
        push(
            "action LIKE {} ESCAPE '\\'",
            format!("{}.%", escape_like(e)),
        );
    }
    if let Some(a) = &q.actor {
        push("actor = {}", a.clone());
    }
    if let Some(t) = &q.target {
        push("target = {}", t.clone());
    }
    if let Some(f) = &q.from {
        push("at >= {}", f.clone());
    }
    if let Some(t) = &q.to {
        push("at < {}", t.clone());
    }
    if let Some(b) = q.before_id {
        args.push(b.into());
        sql.push_str(&format!(" AND id < ?{}", args.len()));
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT {}",
        q.limit.clamp(1, 1000)
    ));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        let id: i64 = r.get(0)?;
        Ok(AuditEntry {
            id,
            at: r.get(1)?,
            actor_id: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            details: At::new("audit_log", id).json(r, 6, "details")?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
