//! Disposition categories, per department or global (department null).

use super::audit::Actor;
use super::decode::At;
use super::{audit, Writer};
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::time;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub id: i64,
    /// Null: offered in every department.
    pub department: Option<String>,
    pub name: String,
    pub sub_categories: Vec<String>,
    pub display_order: i64,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub department: Option<String>,
    pub name: String,
    #[serde(default)]
    pub sub_categories: Vec<String>,
    pub display_order: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub sub_categories: Option<Vec<String>>,
    pub display_order: Option<i64>,
    pub active: Option<bool>,
}

const COLS: &str =
    "id, department, name, sub_categories, display_order, active, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Category> {
    let id: i64 = r.get(0)?;
    Ok(Category {
        id,
        department: r.get(1)?,
        name: r.get(2)?,
        sub_categories: At::new("categories", id).json(r, 3, "sub_categories")?,
        display_order: r.get(4)?,
        active: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Category> {
    conn.query_row(
        &format!("SELECT {COLS} FROM categories WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no category {id}")))
}

/// Categories offered in `department` (its own and the global ones), or all.
pub fn list(
    conn: &Connection,
    department: Option<&str>,
    include_inactive: bool,
) -> Result<Vec<Category>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM categories
         WHERE (?1 IS NULL OR department IS NULL OR department = ?1) AND (?2 OR active = 1)
         ORDER BY department IS NOT NULL, display_order, name"
    ))?;
    let rows = stmt.query_map(params![department, include_inactive], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The active category named `name` (case-insensitive) offered in `department`.
pub fn resolve(conn: &Connection, department: &str, name: &str) -> Result<Category> {
    let offered = list(conn, Some(department), false)?;
    offered
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|c| c.name.as_str()).collect();
            Error::invalid(format!(
                "category `{name}` is not offered in `{department}`: choose one of {names:?}"
            ))
        })
}

fn clean_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 {
        return Err(Error::invalid("category name must be 1-80 characters"));
    }
    Ok(n.to_string())
}

fn clean_subs(subs: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in subs {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 80 {
            return Err(Error::invalid("sub-category names must be 1-80 characters"));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

fn announce(w: &mut Writer<'_>, c: &Category) -> Result<()> {
    let data = serde_json::to_string(c)?;
    w.emit(
        crate::hub::EventKind::CategoryChanged,
        c.department.as_deref(),
        Audience::All,
        data,
    )?;
    Ok(())
}

fn map_unique(e: rusqlite::Error, name: &str) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::Conflict(format!("a category named `{name}` already exists there"))
        }
        _ => Error::Sqlite(e),
    }
}

pub fn create(w: &mut Writer<'_>, input: NewCategory, actor: &Actor) -> Result<Category> {
    let name = clean_name(&input.name)?;
    let subs = clean_subs(&input.sub_categories)?;
    if let Some(d) = &input.department {
        super::providers::get(w.conn, d)
            .map_err(|_| Error::invalid(format!("department `{d}` does not exist")))?;
    }
    let at = time::fmt(w.now);
    w.conn
        .execute(
            "INSERT INTO categories (department, name, sub_categories, display_order, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![input.department, name, serde_json::to_string(&subs)?, input.display_order.unwrap_or(0), at],
        )
        .map_err(|e| map_unique(e, &name))?;
    let c = get(w.conn, w.conn.last_insert_rowid())?;
    announce(w, &c)?;
    audit::record(
        w,
        actor,
        "category.create",
        Some(&c.name),
        serde_json::json!({ "department": c.department }),
    )?;
    Ok(c)
}

pub fn update(
    w: &mut Writer<'_>,
    id: i64,
    patch: CategoryPatch,
    actor: &Actor,
) -> Result<Category> {
    let cur = get(w.conn, id)?;
    let name = match &patch.name {
        Some(n) => clean_name(n)?,
        None => cur.name.clone(),
    };
    let subs = match &patch.sub_categories {
        Some(s) => clean_subs(s)?,
        None => cur.sub_categories.clone(),
    };
    w.conn
        .execute(
            "UPDATE categories SET name = ?2, sub_categories = ?3, display_order = ?4, active = ?5, updated_at = ?6 WHERE id = ?1",
            params![
                id,
                name,
                serde_json::to_string(&subs)?,
                patch.display_order.unwrap_or(cur.display_order),
                patch.active.unwrap_or(cur.active),
                time::fmt(w.now)
            ],
        )
        .map_err(|e| map_unique(e, &name))?;
    let c = get(w.conn, id)?;
    announce(w, &c)?;
    audit::record(
        w,
        actor,
        "category.update",
        Some(&c.name),
        serde_json::json!({ "id": id }),
    )?;
    Ok(c)
}
