//! Leads (Convoso's lead webhook): one row per lead of a department, kept
//! current by later deliveries, and linked to the calls whose
//! `metadata.lead_id` names it.

use super::calls::{self, Call};
use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::mapping::MappedLead;
use crate::time;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Lead {
    /// Internal row id.
    pub id: i64,
    /// The provider's slug.
    pub department: String,
    /// The platform's lead id.
    pub lead_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164 when valid, else as received.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The platform's status code (`NEW`, `SALE`, …) and its name.
    pub status: Option<String>,
    pub status_name: Option<String>,
    pub list_id: Option<String>,
    /// The platform's user the lead belongs to (`owner_id`, else `user_id`).
    pub owner_id: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// The platform's times (RFC 3339, UTC).
    pub created_at: Option<String>,
    pub modified_at: Option<String>,
    /// The newest applied delivery as received: custom fields are here.
    #[schema(value_type = Object)]
    pub raw: Value,
    /// When that delivery arrived.
    pub received_at: String,
    pub updated_at: String,
    /// Bumped by every applied delivery.
    pub version: i64,
    /// When retention moved the lead to `leads_archive`: only on the lead
    /// of a call's detail found there (a call that named the lead again
    /// after it was archived); never on a live lead, which leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
}

const COLS: &str = "id, department, lead_id, first_name, last_name, phone, email, status, status_name, list_id, owner_id, address1, city, state, postal_code, created_at, modified_at, raw, received_at, updated_at, version";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    read_row(r, "leads")
}

/// A `leads_archive` row: [`COLS`], then `archived_at`.
fn archived_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    let mut lead = read_row(r, "leads_archive")?;
    lead.archived_at = Some(r.get(21)?);
    Ok(lead)
}

fn read_row(r: &Row<'_>, table: &'static str) -> rusqlite::Result<Lead> {
    let id: i64 = r.get(0)?;
    let at = At::new(table, id);
    Ok(Lead {
        id,
        department: r.get(1)?,
        lead_id: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        phone: r.get(5)?,
        email: r.get(6)?,
        status: r.get(7)?,
        status_name: r.get(8)?,
        list_id: r.get(9)?,
        owner_id: r.get(10)?,
        address1: r.get(11)?,
        city: r.get(12)?,
        state: r.get(13)?,
        postal_code: r.get(14)?,
        created_at: r.get(15)?,
        modified_at: r.get(16)?,
        raw: at.json(r, 17, "raw")?,
        received_at: r.get(18)?,
        updated_at: r.get(19)?,
        version: r.get(20)?,
        archived_at: None,
    })
}

/// What a delivery did to its lead.
#[derive(Debug, Clone, PartialEq)]
pub enum Upserted {
    /// Created or updated: the lead as it is now.
    Applied(Box<Lead>),
    /// Older than the stored lead (`modified_at`): nothing changed.
    Stale(Box<Lead>),
}

/// Creates or updates the lead. A delivery whose `modified_at` is older than
/// the stored one changes nothing; one without `modified_at` is taken as
/// current. Fields a delivery leaves out keep their stored values (an
/// update may carry only what changed).
pub fn upsert(
    w: &Writer<'_>,
    provider_id: i64,
    department: &str,
    lead: &MappedLead,
    raw: &str,
) -> Result<Upserted> {
    let stored = get(w.conn, department, &lead.lead_id)?;
    if let (Some(s), Some(new)) = (&stored, lead.modified_at) {
        let older = s
            .modified_at
            .as_deref()
            .and_then(time::parse)
            .is_some_and(|have| new < have);
        if older {
            return Ok(Upserted::Stale(Box::new(s.clone())));
        }
    }
    let now = time::fmt(w.now);
    w.conn
        .prepare_cached(
            "INSERT INTO leads (provider_id, department, lead_id, first_name, last_name, phone, email,
                 status, status_name, list_id, owner_id, address1, city, state, postal_code,
                 created_at, modified_at, raw, received_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)
             ON CONFLICT (department, lead_id) DO UPDATE SET
                 first_name = COALESCE(excluded.first_name, first_name),
                 last_name = COALESCE(excluded.last_name, last_name),
                 phone = COALESCE(excluded.phone, phone),
                 email = COALESCE(excluded.email, email),
                 status = COALESCE(excluded.status, status),
                 status_name = COALESCE(excluded.status_name, status_name),
                 list_id = COALESCE(excluded.list_id, list_id),
                 owner_id = COALESCE(excluded.owner_id, owner_id),
                 address1 = COALESCE(excluded.address1, address1),
                 city = COALESCE(excluded.city, city),
                 state = COALESCE(excluded.state, state),
                 postal_code = COALESCE(excluded.postal_code, postal_code),
                 created_at = COALESCE(excluded.created_at, created_at),
                 modified_at = COALESCE(excluded.modified_at, modified_at),
                 raw = excluded.raw,
                 received_at = excluded.received_at,
                 updated_at = excluded.updated_at,
                 version = version + 1",
        )?
        .execute(params![
            provider_id,
            department,
            lead.lead_id,
            lead.first_name,
            lead.last_name,
            lead.phone,
            lead.email,
            lead.status,
            lead.status_name,
            lead.list_id,
            lead.owner_id,
            lead.address1,
            lead.city,
            lead.state,
            lead.postal_code,
            time::fmt_opt(lead.created_at),
            time::fmt_opt(lead.modified_at),
            raw,
            now,
        ])?;
    let lead = get(w.conn, department, &lead.lead_id)?
        .ok_or_else(|| Error::not_found("the lead just written is gone"))?;
    Ok(Upserted::Applied(Box::new(lead)))
}

/// Tells the stream the lead as it now stands (`lead.upserted`), to its
/// department's members like a call.
pub(crate) fn announce(w: &mut Writer<'_>, lead: &Lead) -> Result<()> {
    let data = serde_json::to_string(lead)?;
    w.emit(
        crate::hub::EventKind::LeadUpserted,
        Some(&lead.department),
        crate::hub::Audience::All,
        data,
    )?;
    Ok(())
}

/// The lead `lead_id` of `department`, if any.
pub fn get(conn: &Connection, department: &str, lead_id: &str) -> Result<Option<Lead>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM leads WHERE department = ?1 AND lead_id = ?2"
        ))?
        .query_row(params![department, lead_id], from_row)
        .optional()?)
}

/// The lead a call names in `metadata.lead_id`, if it is known: the live
/// lead, else its newest archived copy (`archived_at` set). Retention
/// archives a lead only once no call names it, so a call found here with an
/// archived lead came in after that (the lead called or dialled again).
pub fn for_call(conn: &Connection, call: &Call) -> Result<Option<Lead>> {
    let lead_id = match call.metadata.get("lead_id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Ok(None),
    };
    match get(conn, &call.department, &lead_id)? {
        Some(lead) => Ok(Some(lead)),
        None => archived(conn, &call.department, &lead_id),
    }
}

/// The newest copy of the lead `lead_id` of `department` that retention
/// moved to `leads_archive`, if any (a lead archived, delivered again and
/// archived again has several).
pub fn archived(conn: &Connection, department: &str, lead_id: &str) -> Result<Option<Lead>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS}, archived_at FROM leads_archive WHERE department = ?1 AND lead_id = ?2
             ORDER BY archived_at DESC, id DESC LIMIT 1"
        ))?
        .query_row(params![department, lead_id], archived_row)
        .optional()?)
}

/// Most calls [`calls_of`] answers.
pub const CALLS_LIMIT: i64 = 200;

/// The calls of the lead's department that name it, newest first.
pub fn calls_of(conn: &Connection, department: &str, lead_id: &str) -> Result<Vec<Call>> {
    // The condition is the `calls_lead` index's expression, so it is used.
    // A platform may send the id as a JSON number (`"lead_id": 5521`), which
    // `json_extract` gives back as an integer: never equal to the text
    // '5521', so the number is asked for too.
    let as_number = lead_id
        .parse::<i64>()
        .ok()
        .filter(|n| n.to_string() == lead_id);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE c.department = ?1 AND json_extract(c.metadata, '$.lead_id') IN (?2, ?4)
         ORDER BY c.created_at DESC, c.id DESC LIMIT ?3",
        calls::CALL_COLS,
        calls::CALL_FROM
    ))?;
    let rows = stmt.query_map(
        params![department, lead_id, CALLS_LIMIT, as_number],
        calls::from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The filters of the lead list.
#[derive(Debug, Clone, Default)]
pub struct LeadQuery {
    /// None: every department; Some: only these.
    pub departments: Option<Vec<String>>,
    /// Any part of the name, phone, e-mail or lead id (any case).
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

fn like(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// One page of leads, most recently updated first, and how many match.
pub fn list(conn: &Connection, q: &LeadQuery) -> Result<(Vec<Lead>, i64)> {
    let departments = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let text = q
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(like);
    // A number typed with spaces or dashes still finds the stored E.164.
    let digits = q.text.as_deref().and_then(|t| {
        let d: String = t.chars().filter(char::is_ascii_digit).collect();
        (d.len() >= 3).then(|| like(&d))
    });
    let filter = "(?1 IS NULL OR department IN (SELECT value FROM json_each(?1)))
        AND (?2 IS NULL
             OR (COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')) LIKE ?2 ESCAPE '\\'
             OR email LIKE ?2 ESCAPE '\\' OR phone LIKE ?2 ESCAPE '\\' OR lead_id LIKE ?2 ESCAPE '\\'
             OR (?3 IS NOT NULL AND phone LIKE ?3 ESCAPE '\\'))";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM leads WHERE {filter}"))?
        .query_row(params![departments, text, digits], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM leads WHERE {filter} ORDER BY updated_at DESC, id DESC LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(
        params![
            departments,
            text,
            digits,
            q.limit.clamp(1, 500),
            q.offset.max(0)
        ],
        from_row,
    )?;
    Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::Actor;
    use crate::store::providers::{self, NewProvider};

    /// A call that names its lead with a JSON number (as platforms send ids)
    /// is one of the lead's calls like one that names it with text, and the
    /// lookup still goes through the `calls_lead` index.
    #[tokio::test]
    async fn a_lead_id_sent_as_a_number_links_the_call() {
        let (_dir, store) = crate::store::test_support::temp_store();
        let (found, plan) = store
            .write(|w| {
                let actor = Actor { user_id: None, name: "t".into() };
                providers::create(w, NewProvider { name: "Sales".into(), ..Default::default() }, &actor)?;
                for (id, meta) in [
                    ("n", r#"{"lead_id": 5521}"#),
                    ("t", r#"{"lead_id": "5521"}"#),
                    ("o", r#"{"lead_id": 5522}"#),
                ] {
                    w.conn.execute(
                        "INSERT INTO calls (provider_id, department, call_id, status, metadata, created_at, updated_at)
                         VALUES (1, 'sales', ?1, 'completed', ?2, 't', 't')",
                        params![id, meta],
                    )?;
                }
                let found: Vec<String> =
                    calls_of(w.conn, "sales", "5521")?.into_iter().map(|c| c.call_id).collect();
                let plan: Vec<String> = w
                    .conn
                    .prepare(
                        "EXPLAIN QUERY PLAN SELECT id FROM calls c WHERE c.department = 'sales'
                         AND json_extract(c.metadata, '$.lead_id') IN ('5521', 5521)",
                    )?
                    .query_map([], |r| r.get::<_, String>(3))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok((found, plan))
            })
            .await
            .unwrap();
        let mut found = found;
        found.sort();
        assert_eq!(found, ["n", "t"]);
        assert!(plan.iter().any(|p| p.contains("calls_lead")), "{plan:?}");
    }
}
