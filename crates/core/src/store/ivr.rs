//! IVR flows and calls in the IVR: drafts, immutable published versions,
//! the state of each call (so a restart continues a call from its node), the
//! step log, and one step run inside the writer transaction together with
//! the call upsert, so a retried request is recognised and answered again
//! without advancing the flow twice.

use super::audit::Actor;
use super::calls::Call;
use super::decode::At;
use super::providers::ProviderCache;
use super::{audit, sms, voicemails, Writer};
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::ivr::exec::{self, ApiOutcome, ApiRequest, CallState, Env, IvrEvent, Visit};
use crate::ivr::render::{self, Dialect, RenderCtx, Rendered};
use crate::ivr::request::IvrRequest;
use crate::ivr::validate::{self, Context, FlowError};
use crate::ivr::FlowDef;
use crate::mapping::MappedCall;
use crate::status::Status;
use crate::time::{self, Timestamp};
use chrono::{DateTime, Datelike, Timelike, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A flow as the console sees it: its draft and its publishing state.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flow {
    pub id: i64,
    pub name: String,
    pub entry: String,
    /// The draft's nodes (`{"id","type",…}`).
    #[schema(value_type = Vec<Object>)]
    pub nodes: Value,
    /// Newest published version; 0: a draft never published.
    pub version: i64,
    /// The draft differs from the newest published version.
    pub draft_changed: bool,
    /// Providers (department slugs) that run this flow.
    pub used_by: Vec<String>,
    /// The draft's validation errors (empty: it may be published).
    pub errors: Vec<FlowError>,
    pub created_at: String,
    pub updated_at: String,
}

/// One published version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlowVersion {
    pub version: i64,
    pub published_at: String,
    pub published_by: String,
    pub rolled_back_from: Option<i64>,
}

/// The validation context from the database: departments and their agents.
pub fn context(conn: &Connection) -> Result<Context> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.slug, (SELECT COUNT(*) FROM users u WHERE u.active = 1 AND u.role = 'agent'
             AND EXISTS (SELECT 1 FROM json_each(u.departments) d WHERE d.value = p.slug))
         FROM providers p WHERE p.active = 1",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut deps = BTreeMap::new();
    for row in rows {
        let (slug, n) = row?;
        deps.insert(slug, n.max(0) as usize);
    }
    Ok(Context {
        departments: Some(deps),
    })
}

/// Checks the draft's shape (an object with `name`, `entry`, `nodes`):
/// a draft may be invalid, but it must be a flow.
fn shape(raw: &Value) -> Result<(String, String, Value)> {
    let obj = raw
        .as_object()
        .ok_or_else(|| Error::invalid("a flow is a JSON object {name, entry, nodes}"))?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["name", "entry", "nodes"].contains(&k.as_str()))
    {
        return Err(Error::invalid(format!(
            "a flow has no field `{k}` (it takes name, entry, nodes)"
        )));
    }
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::invalid("name must be 1-120 characters"));
    }
    let entry = match obj.get("entry") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Error::invalid("entry must be a node id (a string)")),
    };
    let nodes = match obj.get("nodes") {
        None | Some(Value::Null) => Value::Array(vec![]),
        Some(Value::Array(a)) => {
            if a.len() > 1000 {
                return Err(Error::invalid("a flow has at most 1000 nodes"));
            }
            if a.iter().any(|n| !n.is_object()) {
                return Err(Error::invalid("every node is a JSON object"));
            }
            Value::Array(a.clone())
        }
        Some(_) => return Err(Error::invalid("nodes must be an array")),
    };
    Ok((name.to_string(), entry, nodes))
}

fn draft_json(name: &str, entry: &str, nodes: &Value) -> Value {
    json!({"name": name, "entry": entry, "nodes": nodes})
}

fn used_by(conn: &Connection, id: i64) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT slug FROM providers WHERE flow_id = ?1 ORDER BY slug")?;
    let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn load(conn: &Connection, id: i64, ctx: Option<&Context>) -> Result<Flow> {
    let row: Option<(String, String, i64, String, String)> = conn
        .prepare_cached(
            "SELECT name, draft, version, created_at, updated_at FROM flows WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let (name, draft, version, created_at, updated_at) =
        row.ok_or_else(|| Error::not_found(format!("no flow {id}")))?;
    let draft: Value = serde_json::from_str(&draft)?;
    let published: Option<String> = if version > 0 {
        conn.prepare_cached(
            "SELECT definition FROM flow_versions WHERE flow_id = ?1 AND version = ?2",
        )?
        .query_row(params![id, version], |r| r.get(0))
        .optional()?
    } else {
        None
    };
    let draft_changed = match &published {
        Some(p) => serde_json::from_str::<Value>(p)? != draft,
        None => true,
    };
    let owned;
    let ctx = match ctx {
        Some(c) => c,
        None => {
            owned = context(conn)?;
            &owned
        }
    };
    let errors = validate::validate(&draft, ctx).1;
    Ok(Flow {
        id,
        name,
        entry: draft
            .get("entry")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        nodes: draft.get("nodes").cloned().unwrap_or(Value::Array(vec![])),
        version,
        draft_changed,
        used_by: used_by(conn, id)?,
        errors,
        created_at,
        updated_at,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Flow> {
    load(conn, id, None)
}

pub fn list(conn: &Connection) -> Result<Vec<Flow>> {
    let ctx = context(conn)?;
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM flows ORDER BY name COLLATE NOCASE, id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter()
        .map(|id| load(conn, id, Some(&ctx)))
        .collect()
}

pub fn versions(conn: &Connection, id: i64) -> Result<Vec<FlowVersion>> {
    load(conn, id, Some(&Context::default()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT version, published_at, published_by, rolled_back_from FROM flow_versions
         WHERE flow_id = ?1 ORDER BY version DESC",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(FlowVersion {
            version: r.get(0)?,
            published_at: r.get(1)?,
            published_by: r.get(2)?,
            rolled_back_from: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn changed(
    w: &mut Writer<'_>,
    id: i64,
    action: &str,
    actor: &Actor,
    details: Value,
) -> Result<Flow> {
    audit::record(
        w,
        actor,
        &format!("flow.{action}"),
        Some(&format!("flow:{id}")),
        details,
    )?;
    let flow = load(w.conn, id, None)?;
    let data = serde_json::to_string(&json!({"action": action, "flow": flow}))?;
    w.emit(
        crate::hub::EventKind::FlowChanged,
        None,
        Audience::Admin,
        data,
    )?;
    Ok(flow)
}

pub fn create(w: &mut Writer<'_>, raw: &Value, actor: &Actor) -> Result<Flow> {
    let (name, entry, nodes) = shape(raw)?;
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO flows (name, draft, version, created_at, updated_at) VALUES (?1, ?2, 0, ?3, ?3)",
        params![name, draft_json(&name, &entry, &nodes).to_string(), now],
    )?;
    let id = w.conn.last_insert_rowid();
    changed(w, id, "create", actor, json!({"name": name}))
}

pub fn update(w: &mut Writer<'_>, id: i64, raw: &Value, actor: &Actor) -> Result<Flow> {
    let (name, entry, nodes) = shape(raw)?;
    let n = w.conn.execute(
        "UPDATE flows SET name = ?2, draft = ?3, updated_at = ?4 WHERE id = ?1",
        params![
            id,
            name,
            draft_json(&name, &entry, &nodes).to_string(),
            time::fmt(w.now)
        ],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("no flow {id}")));
    }
    changed(w, id, "update", actor, json!({"name": name}))
}

pub fn delete(w: &mut Writer<'_>, id: i64, actor: &Actor) -> Result<()> {
    let flow = load(w.conn, id, Some(&Context::default()))?;
    if !flow.used_by.is_empty() {
        return Err(Error::Conflict(format!(
            "flow {id} is used by {}: point them at another flow first",
            flow.used_by.join(", ")
        )));
    }
    let live: i64 = w.conn.query_row(
        "SELECT COUNT(*) FROM ivr_calls WHERE flow_id = ?1 AND json_extract(state, '$.ended') = 0",
        [id],
        |r| r.get(0),
    )?;
    if live > 0 {
        return Err(Error::Conflict(format!(
            "flow {id} has {live} call(s) in progress"
        )));
    }
    w.conn.execute("DELETE FROM flows WHERE id = ?1", [id])?;
    audit::record(
        w,
        actor,
        "flow.delete",
        Some(&format!("flow:{id}")),
        json!({"name": flow.name}),
    )?;
    let data = serde_json::to_string(&json!({"action": "delete", "id": id}))?;
    w.emit(
        crate::hub::EventKind::FlowChanged,
        None,
        Audience::Admin,
        data,
    )?;
    Ok(())
}

/// Publishes the draft as the next version, or returns its errors.
pub fn publish(
    w: &mut Writer<'_>,
    id: i64,
    actor: &Actor,
) -> Result<std::result::Result<Flow, Vec<FlowError>>> {
    let flow = load(w.conn, id, None)?;
    if !flow.errors.is_empty() {
        return Ok(Err(flow.errors));
    }
    let def = draft_json(&flow.name, &flow.entry, &flow.nodes);
    insert_version(w, id, &def, actor, None).map(Ok)
}

fn insert_version(
    w: &mut Writer<'_>,
    id: i64,
    def: &Value,
    actor: &Actor,
    rolled_back_from: Option<i64>,
) -> Result<Flow> {
    let next: i64 = w.conn.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM flow_versions WHERE flow_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO flow_versions (flow_id, version, definition, published_at, published_by, rolled_back_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, next, def.to_string(), now, actor.name, rolled_back_from],
    )?;
    w.conn.execute(
        "UPDATE flows SET version = ?2, draft = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, next, def.to_string(), now],
    )?;
    let action = if rolled_back_from.is_some() {
        "rollback"
    } else {
        "publish"
    };
    changed(
        w,
        id,
        action,
        actor,
        json!({"version": next, "from": rolled_back_from}),
    )
}

/// Publishes an older version again as the newest (history stays).
pub fn rollback(w: &mut Writer<'_>, id: i64, version: Option<i64>, actor: &Actor) -> Result<Flow> {
    let flow = load(w.conn, id, Some(&Context::default()))?;
    let target = match version {
        Some(v) => v,
        None if flow.version > 1 => flow.version - 1,
        None => {
            return Err(Error::invalid(
                "there is no earlier version to roll back to",
            ))
        }
    };
    let def: Option<String> = w
        .conn
        .query_row(
            "SELECT definition FROM flow_versions WHERE flow_id = ?1 AND version = ?2",
            params![id, target],
            |r| r.get(0),
        )
        .optional()?;
    let def = def.ok_or_else(|| Error::not_found(format!("flow {id} has no version {target}")))?;
    let def: Value = serde_json::from_str(&def)?;
    insert_version(w, id, &def, actor, Some(target))
}

/// Creates the shipped "Customer support" flow as a draft; its queues go
/// to `sales` and `support` (default: the first two active providers).
pub fn create_template(
    w: &mut Writer<'_>,
    sales: Option<&str>,
    support: Option<&str>,
    name: Option<&str>,
    actor: &Actor,
) -> Result<Flow> {
    let slugs: Vec<String> = super::providers::list(w.conn, false)?
        .into_iter()
        .map(|p| p.slug)
        .collect();
    let sales = sales
        .map(str::to_string)
        .or_else(|| slugs.first().cloned())
        .unwrap_or_else(|| "sales".into());
    let support = support
        .map(str::to_string)
        .or_else(|| slugs.get(1).cloned())
        .unwrap_or_else(|| sales.clone());
    let mut v = crate::ivr::customer_support_template(&sales, &support);
    if let Some(n) = name {
        v["name"] = Value::String(n.to_string());
    }
    create(w, &v, actor)
}

pub fn duplicate(w: &mut Writer<'_>, id: i64, actor: &Actor) -> Result<Flow> {
    let flow = load(w.conn, id, Some(&Context::default()))?;
    let name: String = format!("{} (copy)", flow.name).chars().take(120).collect();
    create(w, &draft_json(&name, &flow.entry, &flow.nodes), actor)
}

/// Published versions by (database file, flow id, version): immutable once
/// written. The file is part of the key because one process can hold
/// several databases (the desktop switching modes, the test harness).
type VersionCache = Mutex<HashMap<(String, i64, i64), Arc<FlowDef>>>;
static VERSIONS: OnceLock<VersionCache> = OnceLock::new();

/// A published version, typed (versions never change: cached, except for
/// in-memory databases, which have no identity to key on).
pub fn version_def(conn: &Connection, id: i64, version: i64) -> Result<Arc<FlowDef>> {
    let cache = VERSIONS.get_or_init(Default::default);
    let key = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(|p| (p.to_string(), id, version));
    if let Some(f) = key
        .as_ref()
        .and_then(|k| cache.lock().ok().and_then(|m| m.get(k).cloned()))
    {
        return Ok(f);
    }
    let text: String = conn
        .prepare_cached("SELECT definition FROM flow_versions WHERE flow_id = ?1 AND version = ?2")?
        .query_row(params![id, version], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found(format!("flow {id} has no version {version}")))?;
    let def: FlowDef = serde_json::from_str(&text)?;
    let def = Arc::new(def);
    if let (Some(k), Ok(mut m)) = (key, cache.lock()) {
        if m.len() > 1000 {
            m.clear();
        }
        m.insert(k, Arc::clone(&def));
    }
    Ok(def)
}

/// Sets a provider's flow and dialect (from `PATCH /api/providers/{slug}`).
pub(crate) fn set_provider_ivr(
    w: &mut Writer<'_>,
    provider_id: i64,
    flow_id: Option<Option<i64>>,
    dialect: Option<&str>,
) -> Result<()> {
    if let Some(f) = flow_id {
        if let Some(id) = f {
            let version: Option<i64> = w
                .conn
                .query_row("SELECT version FROM flows WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            match version {
                None => return Err(Error::invalid(format!("flow_id: no flow {id}"))),
                Some(0) => {
                    return Err(Error::invalid(format!(
                        "flow_id: flow {id} is not published yet: publish it first"
                    )))
                }
                Some(_) => {}
            }
        }
        w.conn.execute(
            "UPDATE providers SET flow_id = ?2 WHERE id = ?1",
            params![provider_id, f],
        )?;
    }
    if let Some(d) = dialect {
        let d = Dialect::parse(d).ok_or_else(|| {
            Error::invalid(format!(
                "ivr_dialect `{d}` is not one of exotel, twilio, kookoo, vonage, plivo, json"
            ))
        })?;
        w.conn.execute(
            "UPDATE providers SET ivr_dialect = ?2 WHERE id = ?1",
            params![provider_id, d.as_str()],
        )?;
    }
    Ok(())
}

/// Sets (or clears) the number an agent is rung on by queue and transfer nodes.
pub fn set_phone(
    w: &mut Writer<'_>,
    user_id: i64,
    phone: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = phone {
        let digits = p.trim_start_matches('+');
        if digits.len() < 3 || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::invalid(
                "phone must be 3-20 digits, with an optional leading +",
            ));
        }
    }
    let n = w.conn.execute(
        "INSERT INTO settings (key, value) VALUES ('agent_phone:' || ?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![user_id, phone.unwrap_or("")],
    )?;
    let exists: bool =
        w.conn
            .query_row("SELECT COUNT(*) FROM users WHERE id = ?1", [user_id], |r| {
                r.get::<_, i64>(0)
            })?
            > 0;
    if n == 0 || !exists {
        return Err(Error::not_found(format!("no user {user_id}")));
    }
    audit::record(
        w,
        actor,
        "user.phone",
        Some(&format!("user:{user_id}")),
        json!({"phone": phone}),
    )
}

pub fn phone(conn: &Connection, user_id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'agent_phone:' || ?1",
            [user_id],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .filter(|p| !p.is_empty()))
}

/// The admin's allow-list of hosts `api` nodes may reach although they are
/// private or loopback.
pub fn api_allow_hosts(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'ivr_api_allow_hosts'",
            [],
            |r| At::new("settings", "ivr_api_allow_hosts").json(r, 0, "value"),
        )
        .optional()?
        .unwrap_or_default())
}

pub fn set_api_allow_hosts(
    w: &mut Writer<'_>,
    hosts: &[String],
    actor: &Actor,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for h in hosts {
        let h = h.trim().to_ascii_lowercase();
        if h.is_empty() || h.len() > 253 || h.contains(['/', ' ', '@']) {
            return Err(Error::invalid(format!(
                "`{h}` is not a host name or address"
            )));
        }
        if !out.contains(&h) {
            out.push(h);
        }
    }
    w.conn.execute(
        "INSERT INTO settings (key, value) VALUES ('ivr_api_allow_hosts', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [serde_json::to_string(&out)?],
    )?;
    audit::record(w, actor, "ivr.api_allow_hosts", None, json!({"hosts": out}))?;
    Ok(out)
}

// ---------------------------------------------------------------- the world

/// The executor's view of the receiver: business hours, agents and their
/// numbers, read in the step's transaction.
pub struct DbEnv<'a> {
    pub conn: &'a Connection,
    pub providers: &'a ProviderCache,
    pub now: Timestamp,
    pub api: &'a BTreeMap<String, ApiOutcome>,
    /// The call being stepped (not counted in its own queue position).
    pub call_id: &'a str,
}

impl DbEnv<'_> {
    fn available(&self, department: &str) -> Vec<(i64, Option<String>)> {
        let q = || -> Result<Vec<(i64, Option<String>)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT u.id, (SELECT NULLIF(value, '') FROM settings WHERE key = 'agent_phone:' || u.id)
                 FROM users u JOIN agent_states s ON s.user_id = u.id
                 WHERE u.active = 1 AND u.role = 'agent' AND s.state = 'available'
                   AND EXISTS (SELECT 1 FROM json_each(u.departments) d WHERE d.value = ?1)
                 ORDER BY s.last_assigned_at IS NOT NULL, s.last_assigned_at, s.since, u.id",
            )?;
            let rows = stmt.query_map([department], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        };
        q().unwrap_or_else(|e| {
            tracing::warn!(error = %e, department, "cannot read the department's agents");
            Vec::new()
        })
    }
}

impl Env for DbEnv<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn business_open(&self, department: &str, at: DateTime<Utc>) -> bool {
        match self.providers.get(department).and_then(|p| p.hours.clone()) {
            Some(h) => h.is_open(at),
            None => true,
        }
    }
    fn local_time(&self, department: Option<&str>, at: DateTime<Utc>) -> (u32, u32, u32) {
        let tz = department.and_then(|d| {
            let p = super::providers::get(self.conn, d).ok()?;
            p.business_hours?.time_zone.parse::<chrono_tz::Tz>().ok()
        });
        match tz {
            Some(tz) => {
                let t = at.with_timezone(&tz);
                (t.hour(), t.minute(), t.weekday().num_days_from_monday())
            }
            None => (at.hour(), at.minute(), at.weekday().num_days_from_monday()),
        }
    }
    fn agents_available(&self, department: &str) -> usize {
        self.available(department).len()
    }
    fn agent_numbers(&self, department: &str) -> Vec<String> {
        self.available(department)
            .into_iter()
            .filter_map(|(_, p)| p)
            .collect()
    }
    fn api_result(&self, node: &str) -> Option<ApiOutcome> {
        self.api.get(node).cloned()
    }
    fn queue_ahead(&self, department: &str) -> exec::QueueAhead {
        let q = || -> Result<exec::QueueAhead> {
            // Queued callers ring the department's agents: the ringing calls
            // that came in before this one (a repeated announcement must not
            // count those who arrived later).
            let ahead: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM calls c WHERE c.status = 'ringing' AND c.department = ?1 AND c.call_id <> ?2
                   AND NOT EXISTS (SELECT 1 FROM calls me WHERE me.department = ?1 AND me.call_id = ?2
                                     AND (me.created_at, me.id) < (c.created_at, c.id))",
                params![department, self.call_id],
                |r| r.get(0),
            )?;
            // Recent talk times, bounded (a day, 200 calls) so a long
            // history never slows a caller's step.
            let talk: Option<f64> = self.conn.query_row(
                "SELECT AVG(d) FROM (
                    SELECT duration_seconds AS d FROM calls
                     WHERE department = ?1 AND created_at >= ?2
                       AND status = 'completed' AND duration_seconds > 0
                     ORDER BY created_at DESC LIMIT 200)",
                params![department, time::fmt(self.now - chrono::Duration::days(1))],
                |r| r.get(0),
            )?;
            let ahead = usize::try_from(ahead).unwrap_or(0);
            let agents = i64::try_from(self.available(department).len().max(1)).unwrap_or(1);
            Ok(exec::QueueAhead {
                ahead,
                expected_wait_seconds: talk.map(|t| {
                    (t * i64::try_from(ahead).unwrap_or(0) as f64 / agents as f64).round() as i64
                }),
            })
        };
        q().unwrap_or_else(|e| {
            tracing::warn!(error = %e, department, "cannot read the queue");
            exec::QueueAhead::default()
        })
    }
}

// ---------------------------------------------------------------- steps

/// One platform request, read and authenticated by the server.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub provider_id: i64,
    pub slug: String,
    pub sla_minutes: i64,
    pub flow_id: Option<i64>,
    pub dialect: Dialect,
    pub request: IvrRequest,
    /// Identifies the request as sent (a retry has the same).
    pub fingerprint: String,
    pub request_id: Option<String>,
    /// The URL the platform called, without `s=` (it keeps the token of
    /// query-token providers).
    pub action_base: String,
    /// Answers to `api` nodes, made by the server before this run.
    pub api: BTreeMap<String, ApiOutcome>,
}

/// What a step produced.
#[derive(Debug, Clone)]
pub enum StepOutput {
    /// The answer to send (committed with the state).
    Answer {
        rendered: Rendered,
        /// A retried request: the earlier answer, nothing advanced.
        duplicate: bool,
        call: Option<Box<Call>>,
        visits: Vec<Visit>,
        problem: Option<String>,
        /// The `sms` nodes reached in this step and what became of each.
        sms: Vec<SmsNote>,
        /// The agents to ring through the department's Twilio dialer while
        /// the caller waits in `<Enqueue>` (see `ivr::render::twiml`).
        queue_legs: Option<QueueLegs>,
        /// Agents' calls of an earlier slice, or of a wait the caller left,
        /// still ringing: to cancel (`store::queue_waits`).
        cancel_legs: Vec<String>,
    },
    /// An `api` node needs its answer: nothing was written.
    NeedsApi(ApiRequest),
}

/// A Twilio queue's agents, rung by the receiver once the answer is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLegs {
    /// The slice these legs ring for (`store::queue_waits::placed`).
    pub wait_id: i64,
    /// The caller's Twilio queue (`cb-<CallSid>`).
    pub queue: String,
    pub numbers: Vec<String>,
    pub ring_seconds: u32,
}

/// An `sms` node reached in a step: where its text went (`code` is the
/// reason code kept in the step log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsNote {
    pub node: String,
    pub to: String,
    pub code: &'static str,
}

/// How long a repeated identical request without a step number counts as
/// a retry (KooKoo's requests carry none).
const RETRY_WINDOW_MS: i64 = 5000;

struct Row {
    flow_id: i64,
    version: i64,
    state: CallState,
    last_request: Option<String>,
    last_at: Option<String>,
    last_response: Option<String>,
    last_content_type: Option<String>,
}

fn with_step(base: &str, step: u64) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}s={step}")
}

/// A valid goodbye in `dialect`, for when nothing else can be said.
pub fn goodbye(dialect: Dialect, call_id: &str, action_base: &str) -> Rendered {
    let instr = exec::Instruction {
        actions: vec![
            exec::Action::Speak(exec::Speech::Say {
                text:
                    "Sorry, we cannot take your call right now. Please call again later. Goodbye."
                        .into(),
                voice: None,
                language: None,
            }),
            exec::Action::Hangup,
        ],
    };
    render::render(
        dialect,
        &instr,
        &RenderCtx {
            action_url: action_base.to_string(),
            call_id: call_id.to_string(),
            twilio_enqueue: false,
        },
    )
}

/// Runs one step for the request, inside the writer's transaction.
pub fn run_step(w: &mut Writer<'_>, input: StepInput) -> Result<StepOutput> {
    let req = &input.request;
    let row: Option<Row> = w
        .conn
        .prepare_cached(
            "SELECT flow_id, version, state, last_request, last_at, last_response, last_content_type
             FROM ivr_calls WHERE provider_id = ?1 AND call_id = ?2",
        )?
        .query_row(params![input.provider_id, req.call_id], |r| {
            Ok(Row {
                flow_id: r.get(0)?,
                version: r.get(1)?,
                // A state this build cannot read stops the step with an error
                // naming the call: restarting it at the entry would replay
                // the greeting to a caller mid-menu, or lose a queue place.
                state: At::new("ivr_calls", req.call_id.as_str()).json(r, 2, "state")?,
                last_request: r.get(3)?,
                last_at: r.get(4)?,
                last_response: r.get(5)?,
                last_content_type: r.get(6)?,
            })
        })
        .optional()?;

    if let Some(row) = &row {
        let stale_step = req.step.is_some_and(|s| s < row.state.step);
        let recent = row
            .last_at
            .as_deref()
            .and_then(time::parse)
            .is_some_and(|t| (w.now - t).num_milliseconds() < RETRY_WINDOW_MS);
        let same = row.last_request.as_deref() == Some(input.fingerprint.as_str());
        let repeated = same && (req.step.is_some() || recent);
        if stale_step || repeated {
            if let (Some(body), Some(ct)) = (&row.last_response, &row.last_content_type) {
                return Ok(StepOutput::Answer {
                    rendered: Rendered {
                        content_type: ct.clone(),
                        body: body.clone(),
                    },
                    duplicate: true,
                    call: None,
                    visits: vec![],
                    problem: None,
                    sms: vec![],
                    queue_legs: None,
                    cancel_legs: vec![],
                });
            }
        }
    }

    let (flow_id, version, mut state, event) = match &row {
        Some(r) => (r.flow_id, r.version, r.state.clone(), req.event.clone()),
        None => {
            let Some(flow_id) = input.flow_id else {
                return Err(Error::invalid(format!(
                    "provider `{}` has no IVR flow: set flow_id on it",
                    input.slug
                )));
            };
            let version: i64 = w
                .conn
                .query_row("SELECT version FROM flows WHERE id = ?1", [flow_id], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            if version == 0 {
                return Err(Error::invalid(format!("flow {flow_id} is not published")));
            }
            let state = CallState {
                caller: req.caller.clone(),
                did: req.did.clone(),
                ..CallState::default()
            };
            // A call we do not know starts at the entry, whatever it says
            // (a hang-up of an unknown call is only recorded).
            let event = match req.event {
                IvrEvent::Hangup => IvrEvent::Hangup,
                _ => IvrEvent::Start,
            };
            (flow_id, version, state, event)
        }
    };
    if state.caller.is_none() {
        state.caller = req.caller.clone();
    }
    if state.did.is_none() {
        state.did = req.did.clone();
    }
    let flow = version_def(w.conn, flow_id, version)?;
    let providers = w.providers.clone();
    let step = {
        let env = DbEnv {
            conn: w.conn,
            providers: &providers,
            now: w.now,
            api: &input.api,
            call_id: &req.call_id,
        };
        exec::step(&flow, &state, &event, &env)
    };
    if let Some(api) = step.needs_api {
        return Ok(StepOutput::NeedsApi(api));
    }
    // The call, as the queues see it.
    let dialing = step
        .instruction
        .actions
        .iter()
        .any(|a| matches!(a, exec::Action::Dial { .. }));
    let status = if step.state.ended {
        if step.state.answered {
            Status::Completed
        } else {
            exec::exit_status(step.state.exit_reason.as_deref().unwrap_or("completed"))
        }
    } else if step.state.answered {
        Status::Active
    } else if dialing {
        Status::Ringing
    } else {
        Status::Waiting
    };
    let node = step.state.node.clone();
    let mut metadata = Map::new();
    metadata.insert("ivr_flow_id".into(), json!(flow_id));
    metadata.insert("ivr_version".into(), json!(version));
    metadata.insert("ivr_node".into(), json!(node));
    if let Some(r) = &step.state.exit_reason {
        metadata.insert("exit_reason".into(), json!(r));
    }
    let recording = match &event {
        IvrEvent::Recorded { url: Some(u) } => Some(u.clone()),
        _ => None,
    };
    if let Some(u) = &recording {
        metadata.insert("voicemail_link".into(), json!(u));
    }
    let now = w.now;
    let mapped = MappedCall {
        call_id: req.call_id.clone(),
        mobile_number: step.state.caller.clone(),
        did: step.state.did.clone(),
        direction: Some("inbound".into()),
        status: Some(status),
        raw_status: Some(format!("ivr:{}", event.name())),
        started_at: row.is_none().then_some(now),
        answered_at: (step.state.answered && !state.answered).then_some(now),
        ended_at: (step.state.ended && !state.ended).then_some(now),
        recording_url: recording.clone(),
        metadata: metadata.clone(),
        ..MappedCall::default()
    };
    let event_at = time::fmt(now);
    let call = super::workflow::intake::record(
        w,
        input.provider_id,
        &input.slug,
        &mapped,
        &event_at,
        input.sla_minutes,
    )?;
    if recording.is_some() {
        voicemails::record(w, &call, &metadata)?;
    }
    w.conn
        .prepare_cached("UPDATE calls SET exit_reason = ?2, ivr_node = ?3 WHERE id = ?1")?
        .execute(params![call.id, step.state.exit_reason, node])?;
    let mut visits = step.visits;
    let (sms, in_call) = sms_nodes(w, input.dialect, &call, &step.instruction, &mut visits)?;
    // The answer carries only the texts the platform sends in the call (an
    // `Sms` action without its visit, which the executor never makes, as
    // the dialect would).
    let mut in_call = in_call.into_iter();
    let answered = exec::Instruction {
        actions: step
            .instruction
            .actions
            .iter()
            .filter(|a| {
                !matches!(a, exec::Action::Sms { .. })
                    || in_call.next().unwrap_or(input.dialect.sends_sms())
            })
            .cloned()
            .collect(),
    };
    let action_url = with_step(&input.action_base, step.state.step);
    let (queue_legs, cancel_legs) = twilio_queue_legs(w, &input, &answered)?;
    let rendered = render::render(
        input.dialect,
        &answered,
        &RenderCtx {
            action_url,
            call_id: req.call_id.clone(),
            twilio_enqueue: queue_legs.is_some(),
        },
    );
    let at = time::fmt(now);
    w.conn
        .prepare_cached(
            "INSERT INTO ivr_calls (provider_id, call_id, call_row_id, flow_id, version, state, step, dialect,
                 last_request, last_at, last_response, last_content_type, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?10, ?10)
             ON CONFLICT (provider_id, call_id) DO UPDATE SET call_row_id = excluded.call_row_id,
                 state = excluded.state, step = excluded.step, dialect = excluded.dialect,
                 last_request = excluded.last_request, last_at = excluded.last_at,
                 last_response = excluded.last_response, last_content_type = excluded.last_content_type,
                 updated_at = excluded.updated_at",
        )?
        .execute(params![
            input.provider_id,
            req.call_id,
            call.id,
            flow_id,
            version,
            serde_json::to_string(&step.state)?,
            step.state.step as i64,
            input.dialect.as_str(),
            input.fingerprint,
            at,
            rendered.body,
            rendered.content_type,
        ])?;
    {
        let mut ins = w.conn.prepare_cached(
            "INSERT INTO ivr_steps (flow_id, version, provider_id, call_id, step, node, node_type, edge, resumed, event, at, request_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for v in &visits {
            ins.execute(params![
                flow_id,
                version,
                input.provider_id,
                req.call_id,
                step.state.step as i64,
                v.node,
                v.node_type,
                v.edge,
                v.resumed,
                event.name(),
                at,
                input.request_id,
                v.detail,
            ])?;
        }
    }
    Ok(StepOutput::Answer {
        rendered,
        duplicate: false,
        call: Some(Box::new(call)),
        visits,
        problem: step.problem,
        sms,
        queue_legs,
        cancel_legs,
    })
}

/// An agent took a caller out of their Twilio queue (the bridge URL): the
/// call is talking from now, with that agent — the live board shows it so
/// at once, not when Twilio reports the queue's result after both hang up.
/// `agent_number` is the phone the taking call rang (not yet known when the
/// agent answered before Twilio's answer to the call's creation was read:
/// then it comes in a second call, which sets only the agent). `None`: no
/// such call waiting in a flow, or nothing new to record.
pub fn queue_bridged(
    w: &mut Writer<'_>,
    provider_id: i64,
    slug: &str,
    sla_minutes: i64,
    call_id: &str,
    agent_number: Option<&str>,
) -> Result<Option<Call>> {
    let row: Option<(i64, i64, CallState)> = w
        .conn
        .prepare_cached(
            "SELECT flow_id, version, state FROM ivr_calls WHERE provider_id = ?1 AND call_id = ?2",
        )?
        .query_row(params![provider_id, call_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                At::new("ivr_calls", call_id).json(r, 2, "state")?,
            ))
        })
        .optional()?;
    let Some((flow_id, version, mut state)) = row else {
        return Ok(None);
    };
    let first = !state.answered;
    if state.ended || (!first && agent_number.is_none()) {
        return Ok(None);
    }
    state.answered = true;
    let agent_name: Option<String> = match agent_number {
        Some(n) => w
            .conn
            .prepare_cached(
                "SELECT COALESCE(NULLIF(u.display_name, ''), u.username) FROM users u
                 WHERE (SELECT value FROM settings WHERE key = 'agent_phone:' || u.id) = ?1
                 ORDER BY u.active DESC, u.id LIMIT 1",
            )?
            .query_row([n], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let mut metadata = Map::new();
    metadata.insert("ivr_flow_id".into(), json!(flow_id));
    metadata.insert("ivr_version".into(), json!(version));
    metadata.insert("ivr_node".into(), json!(state.node));
    let mapped = MappedCall {
        call_id: call_id.to_string(),
        status: Some(Status::Active),
        raw_status: Some("ivr:bridged".into()),
        answered_at: first.then_some(w.now),
        agent_id: agent_number.map(str::to_string),
        agent_name,
        metadata,
        ..MappedCall::default()
    };
    let event_at = time::fmt(w.now);
    let call =
        super::workflow::intake::record(w, provider_id, slug, &mapped, &event_at, sla_minutes)?;
    w.conn
        .prepare_cached(
            "UPDATE ivr_calls SET state = ?3, updated_at = ?4 WHERE provider_id = ?1 AND call_id = ?2",
        )?
        .execute(params![provider_id, call_id, serde_json::to_string(&state)?, event_at])?;
    Ok(Some(call))
}

/// The bridge URL: the agent's call `by` (Twilio's `DequeingCallSid`) takes
/// the caller. In one transaction the wait closes (`queue_waits::taken`)
/// and the call is recorded talking with the agent at the phone that leg
/// rang (`queue_bridged`); returns the other legs, to cancel, and that
/// phone.
pub fn queue_taken(
    w: &mut Writer<'_>,
    provider_id: i64,
    slug: &str,
    sla_minutes: i64,
    call_id: &str,
    by: Option<&str>,
) -> Result<super::queue_waits::Taken> {
    let taken = super::queue_waits::taken(w, provider_id, call_id, by)?.unwrap_or_default();
    queue_bridged(
        w,
        provider_id,
        slug,
        sla_minutes,
        call_id,
        taken.number.as_deref(),
    )?;
    Ok(taken)
}

/// Whether `department`'s click-to-call dialer is Twilio: then its queues
/// with hold music wait in `<Enqueue>` and ring the agents through it.
pub fn twilio_dialer(conn: &Connection, department: &str) -> Result<bool> {
    Ok(super::callbacks::dialer(conn, department)?
        .is_some_and(|d| d.config.kind == crate::dialer::DialerKind::Twilio))
}

/// A queue with hold music waits in Twilio's `<Enqueue>` when the receiving
/// department's click-to-call dialer is Twilio: the agents' calls must be
/// made on the caller's own Twilio account, whose queue they dial.
/// Such a step opens a new slice of the caller's wait (`queue_waits::open`)
/// and any other Twilio step closes it: with the legs to ring, the earlier
/// legs still ringing, to cancel.
fn twilio_queue_legs(
    w: &Writer<'_>,
    input: &StepInput,
    answer: &exec::Instruction,
) -> Result<(Option<QueueLegs>, Vec<String>)> {
    if input.dialect != Dialect::Twilio {
        return Ok((None, Vec::new()));
    }
    let call_id = &input.request.call_id;
    let dial = answer.actions.iter().find_map(|a| match a {
        exec::Action::Dial {
            numbers,
            timeout_seconds,
            music_url: Some(_),
            ..
        } => Some((numbers.clone(), *timeout_seconds)),
        _ => None,
    });
    match dial {
        Some((numbers, ring_seconds)) if twilio_dialer(w.conn, &input.slug)? => {
            let (wait_id, stale) = super::queue_waits::open(w, input.provider_id, call_id)?;
            let legs = QueueLegs {
                wait_id,
                queue: render::twiml::queue_name(call_id),
                numbers,
                ring_seconds,
            };
            Ok((Some(legs), stale))
        }
        _ => Ok((
            None,
            super::queue_waits::close(w, input.provider_id, call_id)?,
        )),
    }
}

/// Where each `sms` node of the step sends its text. Plivo and the JSON
/// dialect carry it in the answer; ExoML, TwiML and NCCO have no in-call
/// verb, so the text goes to the department's SMS outbox, in this
/// transaction. KooKoo's `<sendsms>` is known only from Ozonetel's client
/// libraries (`Dialect::texts_in_call_without_dialer`): a KooKoo text goes
/// to the outbox when the department's dialer can send it, and in the call
/// only when nothing else would. The outcome is written on the node's visit
/// (the step log); with it, for each `Sms` action in order, whether the
/// answer carries it.
fn sms_nodes(
    w: &Writer<'_>,
    dialect: Dialect,
    call: &Call,
    instruction: &exec::Instruction,
    visits: &mut [Visit],
) -> Result<(Vec<SmsNote>, Vec<bool>)> {
    // The executor pushes exactly one `Sms` action per `sms` node it enters,
    // in the order it enters them, so the two lists pair up in order.
    let mut texts = instruction.actions.iter().filter_map(|a| match a {
        exec::Action::Sms { to, text } => Some((to, text)),
        _ => None,
    });
    let mut notes = Vec::new();
    let mut in_call = Vec::new();
    for v in visits
        .iter_mut()
        .filter(|v| !v.resumed && v.node_type == "sms")
    {
        let Some((to, text)) = texts.next() else {
            break;
        };
        let code = if dialect.sends_sms() {
            "sms_in_call"
        } else {
            match sms::enqueue_ivr(w, call, &v.node, to, text)? {
                sms::IvrSms::NoDialer | sms::IvrSms::DialerCannotText
                    if dialect.texts_in_call_without_dialer() =>
                {
                    "sms_in_call"
                }
                queued => queued.code(),
            }
        };
        in_call.push(code == "sms_in_call");
        v.detail = Some(code.to_string());
        notes.push(SmsNote {
            node: v.node.clone(),
            to: to.clone(),
            code,
        });
    }
    Ok((notes, in_call))
}

// ---------------------------------------------------------------- analytics

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeStats {
    pub node: String,
    #[serde(rename = "type")]
    pub node_type: String,
    /// Times callers arrived at the node.
    pub visits: i64,
    /// Exits by edge (`options.1`, `on_timeout`, `next`, …).
    pub exits: BTreeMap<String, i64>,
    /// Callers who hung up while at the node.
    pub hangups: i64,
    /// Mean seconds between arriving at the node and leaving it (waiting nodes).
    pub avg_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelStage {
    pub stage: String,
    pub calls: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlowAnalytics {
    pub flow_id: i64,
    /// Calls that entered the flow.
    pub calls: i64,
    pub nodes: Vec<NodeStats>,
    /// Entry → menu → queue/transfer → agent.
    pub funnel: Vec<FunnelStage>,
    /// Calls by exit reason.
    pub exit_reasons: BTreeMap<String, i64>,
}

pub fn analytics(
    conn: &Connection,
    id: i64,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<FlowAnalytics> {
    load(conn, id, Some(&Context::default()))?;
    let window = "flow_id = ?1 AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3)";
    let mut nodes: BTreeMap<String, NodeStats> = BTreeMap::new();
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT node, node_type, COUNT(CASE WHEN resumed = 0 THEN 1 END), COUNT(CASE WHEN edge = 'hangup' THEN 1 END) FROM ivr_steps WHERE {window} GROUP BY node, node_type"
        ))?;
        let rows = stmt.query_map(params![id, from, to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (node, ty, visits, hangups) = row?;
            nodes.insert(
                node.clone(),
                NodeStats {
                    node,
                    node_type: ty,
                    visits,
                    exits: BTreeMap::new(),
                    hangups,
                    avg_seconds: None,
                },
            );
        }
    }
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT node, edge, COUNT(*) FROM ivr_steps WHERE {window} AND edge IS NOT NULL AND edge != 'hangup'
               AND edge NOT LIKE '%:retry' GROUP BY node, edge"
        ))?;
        let rows = stmt.query_map(params![id, from, to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (node, edge, n) = row?;
            if let Some(s) = nodes.get_mut(&node) {
                s.exits.insert(edge, n);
            }
        }
    }
    {
        // Time at a waiting node: from the step that arrived to the step that left.
        let mut stmt = conn.prepare(&format!(
            "SELECT a.node, AVG((julianday(b.at) - julianday(a.at)) * 86400.0)
             FROM ivr_steps a JOIN ivr_steps b ON b.provider_id = a.provider_id AND b.call_id = a.call_id
               AND b.node = a.node AND b.resumed = 1 AND b.step = (
                 SELECT MIN(c.step) FROM ivr_steps c WHERE c.provider_id = a.provider_id AND c.call_id = a.call_id
                   AND c.node = a.node AND c.resumed = 1 AND c.step > a.step)
             WHERE a.{} AND a.resumed = 0 AND a.edge IS NULL GROUP BY a.node",
            window.replace(" at ", " a.at ").replace("(at", "(a.at")
        ))?;
        let rows = stmt.query_map(params![id, from, to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?))
        })?;
        for row in rows {
            let (node, avg) = row?;
            if let Some(s) = nodes.get_mut(&node) {
                s.avg_seconds = avg.map(|x| (x * 1000.0).round() / 1000.0);
            }
        }
    }
    let count = |sql: &str| -> Result<i64> {
        Ok(conn.query_row(
            &format!("SELECT COUNT(DISTINCT provider_id || '/' || call_id) FROM ivr_steps WHERE {window} {sql}"),
            params![id, from, to],
            |r| r.get(0),
        )?)
    };
    let calls = count("")?;
    let funnel = vec![
        FunnelStage {
            stage: "entry".into(),
            calls,
        },
        FunnelStage {
            stage: "menu".into(),
            calls: count("AND node_type IN ('menu', 'gather')")?,
        },
        FunnelStage {
            stage: "queue".into(),
            calls: count("AND node_type IN ('queue', 'transfer')")?,
        },
        FunnelStage {
            stage: "agent".into(),
            calls: count("AND edge = 'answered'")?,
        },
    ];
    let mut exit_reasons = BTreeMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT json_extract(state, '$.exit_reason'), COUNT(*) FROM ivr_calls
             WHERE flow_id = ?1 AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at < ?3)
               AND json_extract(state, '$.exit_reason') IS NOT NULL GROUP BY 1",
        )?;
        let rows = stmt.query_map(params![id, from, to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (k, n) = row?;
            exit_reasons.insert(k, n);
        }
    }
    Ok(FlowAnalytics {
        flow_id: id,
        calls,
        nodes: nodes.into_values().collect(),
        funnel,
        exit_reasons,
    })
}

/// The path a call took through the IVR (for the call drawer).
pub fn call_path(conn: &Connection, provider_id: i64, call_id: &str) -> Result<Vec<Visit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT node, node_type, edge, resumed, detail FROM ivr_steps WHERE provider_id = ?1 AND call_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![provider_id, call_id], |r| {
        Ok(Visit {
            node: r.get(0)?,
            node_type: r.get(1)?,
            edge: r.get(2)?,
            resumed: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
