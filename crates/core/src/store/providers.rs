//! Providers ("masters"): the IVR platforms that post to us, kept as data.

use super::audit::{self, Actor};
use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::keys;
use crate::mapping::Mapping;
use crate::presets::{self, SecretKind};
use crate::routing::Routing;
use crate::signature::{self, AuthScheme};
use crate::sla::{BusinessHours, BusinessHoursConfig};
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A provider as the console sees it. Secrets never leave the store; only a
/// hint of the key does.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Provider {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub icon: String,
    pub display_order: i64,
    pub did_numbers: Vec<String>,
    #[schema(value_type = Object)]
    pub field_mapping: Value,
    #[schema(value_type = Object)]
    pub status_map: Value,
    pub auth_scheme: String,
    /// The scheme with its options, e.g. `{"scheme":"hmac_sha256","header":"x-convoso-signature","encoding":"hex"}`.
    #[schema(value_type = Object)]
    pub auth_config: Value,
    /// Whether a signing secret is set (signature schemes); the secret itself
    /// is never shown after it was created.
    pub has_signing_secret: bool,
    /// Cloudonix domains this provider owns (routes `POST /api/session/update`).
    pub domains: Vec<String>,
    /// The preset it was created from, if any.
    pub preset: Option<String>,
    /// The key's first characters, to tell keys apart. Admins only: absent
    /// from other users' views and from the event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_hint: Option<String>,
    /// When the previous key stops working after a rotation with a grace period.
    pub previous_key_expires_at: Option<String>,
    pub sla_minutes: i64,
    /// When the SLA clock runs; null: around the clock (24×7).
    pub business_hours: Option<BusinessHoursConfig>,
    /// How new missed and hangup calls are assigned to agents.
    pub routing: Routing,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// The IVR flow this department's calls run (`/ivr/{slug}`); null: none.
    #[serde(default)]
    pub flow_id: Option<i64>,
    /// The dialect `/ivr/{slug}` answers in: exotel, twilio, kookoo,
    /// vonage, plivo or json (defaulted from the preset).
    #[serde(default = "default_dialect")]
    pub ivr_dialect: String,
    /// A missed or hung-up call settles itself when its caller is reached
    /// (calls again and is answered, or is dialled back and answers),
    /// with a disposition saying which call did it. Off: only a person's
    /// disposition settles it.
    #[serde(default = "default_true")]
    pub auto_resolve: bool,
}

fn default_true() -> bool {
    true
}

fn default_dialect() -> String {
    "json".into()
}

/// The stored dialect, else the preset's.
fn dialect_of(stored: Option<String>, preset: Option<&str>) -> crate::ivr::Dialect {
    stored
        .as_deref()
        .and_then(crate::ivr::Dialect::parse)
        .unwrap_or_else(|| crate::ivr::Dialect::for_preset(preset))
}

/// What the webhook path needs, compiled once per change.
#[derive(Debug)]
pub struct ProviderRuntime {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub active: bool,
    pub key_hash: String,
    pub prev_key_hash: Option<String>,
    pub prev_key_expires_at: Option<Timestamp>,
    pub sla_minutes: i64,
    /// Compiled business hours; `None`: 24×7.
    pub hours: Option<Arc<BusinessHours>>,
    pub routing: Routing,
    pub mapping: Arc<Mapping>,
    pub auth: AuthScheme,
    pub signing_secret: Option<String>,
    pub domains: Vec<String>,
    pub flow_id: Option<i64>,
    pub ivr_dialect: crate::ivr::Dialect,
    /// Settle a reached caller's earlier missed calls by themselves.
    pub auto_resolve: bool,
}

impl ProviderRuntime {
    /// Verifies a webhook request with the provider's scheme and secrets.
    pub fn verify(
        &self,
        req: &signature::SignedRequest<'_>,
    ) -> std::result::Result<signature::Verified, signature::Refusal> {
        let now = req.now;
        let matches = |k: &str| self.key_matches(k, now);
        signature::verify(
            &self.auth,
            &signature::Secrets {
                key_matches: &matches,
                signing_secret: self.signing_secret.as_deref(),
            },
            req,
        )
    }

    pub fn key_matches(&self, key: &str, now: Timestamp) -> bool {
        if keys::secret_matches(key, &self.key_hash) {
            return true;
        }
        match (&self.prev_key_hash, self.prev_key_expires_at) {
            (Some(hash), Some(until)) if now < until => keys::secret_matches(key, hash),
            _ => false,
        }
    }
}

/// Providers by slug, always equal to the last committed state.
#[derive(Clone, Default)]
pub struct ProviderCache {
    by_slug: Arc<RwLock<HashMap<String, Arc<ProviderRuntime>>>>,
}

impl ProviderCache {
    pub(crate) fn load(conn: &Connection) -> Result<ProviderCache> {
        let cache = ProviderCache::default();
        let mut stmt = conn.prepare(&format!("SELECT {RUNTIME_COLS} FROM providers"))?;
        let rows = stmt.query_map([], runtime_from_row)?;
        for row in rows {
            let rt = row??;
            cache.put(rt);
        }
        Ok(cache)
    }

    /// Replaces every entry with what `conn` holds (after another cluster
    /// instance's commit changed providers, deleted ones included).
    pub(crate) fn reload(&self, conn: &Connection) -> Result<()> {
        let fresh = ProviderCache::load(conn)?;
        let map = fresh.by_slug.read().map(|m| m.clone()).unwrap_or_default();
        if let Ok(mut cur) = self.by_slug.write() {
            *cur = map;
        }
        Ok(())
    }

    pub fn get(&self, slug: &str) -> Option<Arc<ProviderRuntime>> {
        self.by_slug.read().ok()?.get(slug).cloned()
    }

    /// The active provider that lists `domain` (case-insensitive).
    pub fn by_domain(&self, domain: &str) -> Option<Arc<ProviderRuntime>> {
        let map = self.by_slug.read().ok()?;
        let mut hits: Vec<&Arc<ProviderRuntime>> = map
            .values()
            .filter(|p| p.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
            .collect();
        // An active owner wins over a deactivated one.
        hits.sort_by_key(|p| (!p.active, p.id));
        hits.first().map(|p| Arc::clone(p))
    }

    fn put(&self, rt: ProviderRuntime) {
        if let Ok(mut map) = self.by_slug.write() {
            map.insert(rt.slug.clone(), Arc::new(rt));
        }
    }
}

const RUNTIME_COLS: &str = "id, slug, name, active, api_key_hash, prev_key_hash, prev_key_expires_at, sla_minutes, field_mapping, status_map, auth_config, signing_secret, domains, business_hours, routing, flow_id, ivr_dialect, preset, auto_resolve";

fn runtime_from_row(r: &Row<'_>) -> rusqlite::Result<Result<ProviderRuntime>> {
    let slug: String = r.get(1)?;
    // Stored settings this build cannot read name the provider's row: a
    // silent default would route, time or match calls by rules nobody set.
    let at = At::new("providers", r.get::<_, i64>(0)?);
    let fm: Value = at.json(r, 8, "field_mapping")?;
    let sm: Value = at.json(r, 9, "status_map")?;
    let mapping = Mapping::compile(&fm, &sm)
        .map_err(|e| Error::Invalid(format!("provider {slug}: stored mapping invalid: {e}")));
    let auth = AuthScheme::from_config(&at.json::<Value>(r, 10, "auth_config")?).map_err(|e| {
        Error::Invalid(format!(
            "provider {slug}: stored authentication invalid: {e}"
        ))
    });
    let signing_secret: Option<String> = r.get(11)?;
    let domains: Vec<String> = at.json(r, 12, "domains")?;
    let prev_exp: Option<String> = r.get(6)?;
    let hours = at
        .json_opt::<BusinessHoursConfig>(r, 13, "business_hours")?
        .map(|c| {
            BusinessHours::compile(&c).map(Arc::new).map_err(|e| {
                Error::Invalid(format!(
                    "provider {slug}: stored business hours invalid: {e}"
                ))
            })
        })
        .transpose();
    let routing: Routing = at.json(r, 14, "routing")?;
    let flow_id: Option<i64> = r.get(15)?;
    let ivr_dialect = dialect_of(r.get(16)?, r.get::<_, Option<String>>(17)?.as_deref());
    let auto_resolve: bool = r.get(18)?;
    let (id, name, active, key_hash, prev_key_hash, sla_minutes) = (
        r.get(0)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(7)?,
    );
    let mapping = mapping.and_then(|m| auth.map(|a| (m, a)));
    let mapping = mapping.and_then(|m| hours.map(|h| (m, h)));
    Ok(mapping.map(|((mapping, auth), hours)| ProviderRuntime {
        id,
        slug,
        name,
        active,
        key_hash,
        prev_key_hash,
        prev_key_expires_at: prev_exp.as_deref().and_then(time::parse),
        sla_minutes,
        hours,
        routing,
        mapping: Arc::new(mapping),
        auth,
        signing_secret,
        domains,
        flow_id,
        ivr_dialect,
        auto_resolve,
    }))
}

const COLS: &str = "id, slug, name, icon, display_order, did_numbers, field_mapping, status_map, auth_scheme, api_key_hint, prev_key_expires_at, sla_minutes, active, created_at, updated_at, auth_config, signing_secret IS NOT NULL, domains, preset, business_hours, routing, flow_id, ivr_dialect, auto_resolve";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Provider> {
    let id: i64 = r.get(0)?;
    let at = At::new("providers", id);
    Ok(Provider {
        id,
        slug: r.get(1)?,
        name: r.get(2)?,
        icon: r.get(3)?,
        display_order: r.get(4)?,
        did_numbers: at.json(r, 5, "did_numbers")?,
        field_mapping: at.json(r, 6, "field_mapping")?,
        status_map: at.json(r, 7, "status_map")?,
        auth_scheme: r.get(8)?,
        auth_config: {
            // `{}` is how providers made before schemes were stored read.
            let v: Value = at.json(r, 15, "auth_config")?;
            if v.as_object().is_some_and(|o| !o.is_empty()) {
                v
            } else {
                AuthScheme::default().to_value()
            }
        },
        has_signing_secret: r.get(16)?,
        domains: at.json(r, 17, "domains")?,
        flow_id: r.get(21)?,
        ivr_dialect: dialect_of(r.get(22)?, r.get::<_, Option<String>>(18)?.as_deref())
            .as_str()
            .to_string(),
        preset: r.get(18)?,
        api_key_hint: Some(r.get(9)?),
        previous_key_expires_at: r.get(10)?,
        sla_minutes: r.get(11)?,
        business_hours: at.json_opt(r, 19, "business_hours")?,
        routing: at.json(r, 20, "routing")?,
        active: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        auto_resolve: r.get(23)?,
    })
}

/// `Sales IVR (North)` → `sales-ivr-north`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if ch.is_alphanumeric() {
            // Letters outside ASCII are dropped, not turned into separators.
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(48);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

pub fn validate_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 48
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok && slug != "all" {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "slug `{slug}` is not valid: use 1-48 lowercase letters, digits and inner hyphens (and not `all`)"
        )))
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    pub name: String,
    /// A preset id (`GET /api/presets`): fills the mapping, status map and
    /// authentication scheme; fields given here override it.
    pub preset: Option<String>,
    /// The authentication scheme with its options; default: the API key in `x-api-key`.
    #[schema(value_type = Option<Object>)]
    pub auth_config: Option<Value>,
    /// For signature schemes: the shared secret. Generated when left out,
    /// except for Twilio (paste the account's auth token).
    pub signing_secret: Option<String>,
    /// Cloudonix domains this provider owns.
    pub domains: Option<Vec<String>>,
    pub slug: Option<String>,
    pub icon: Option<String>,
    pub display_order: Option<i64>,
    pub did_numbers: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub field_mapping: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub status_map: Option<Value>,
    pub sla_minutes: Option<i64>,
    /// Business hours for the SLA clock; omitted or null: 24×7.
    pub business_hours: Option<BusinessHoursConfig>,
    pub routing: Option<Routing>,
    pub active: Option<bool>,
    /// Missed and hung-up calls settle themselves when the caller is
    /// reached (default: true).
    pub auto_resolve: Option<bool>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderPatch {
    pub name: Option<String>,
    /// Accepted only when equal to the current slug: slugs are immutable.
    pub slug: Option<String>,
    pub icon: Option<String>,
    pub display_order: Option<i64>,
    pub did_numbers: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub field_mapping: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub status_map: Option<Value>,
    pub sla_minutes: Option<i64>,
    /// New business hours; `null` clears them (24×7). Open calls' SLA
    /// deadlines are recomputed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<BusinessHoursConfig>)]
    pub business_hours: Option<Option<BusinessHoursConfig>>,
    pub routing: Option<Routing>,
    pub active: Option<bool>,
    /// Whether missed and hung-up calls settle themselves when the caller
    /// is reached.
    pub auto_resolve: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub auth_config: Option<Value>,
    /// Sets (or, with an empty string, clears) the signing secret.
    pub signing_secret: Option<String>,
    pub domains: Option<Vec<String>>,
    /// The published IVR flow this department runs; `null` detaches it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub flow_id: Option<Option<i64>>,
    /// exotel, twilio, kookoo, vonage, plivo or json.
    pub ivr_dialect: Option<String>,
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::invalid("name must be 1-80 characters"));
    }
    Ok(name.to_string())
}

fn validate_sla(m: i64) -> Result<i64> {
    if !(0..=10_080).contains(&m) {
        return Err(Error::invalid(
            "sla_minutes must be between 0 and 10080 (one week)",
        ));
    }
    Ok(m)
}

/// Validated business hours as stored (NULL: 24×7).
fn hours_text(cfg: Option<&BusinessHoursConfig>) -> Result<Option<String>> {
    match cfg {
        None => Ok(None),
        Some(c) => {
            BusinessHours::compile(c)?;
            let c = BusinessHoursConfig {
                time_zone: c.time_zone.trim().to_string(),
                ..c.clone()
            };
            Ok(Some(serde_json::to_string(&c)?))
        }
    }
}

fn normalise_json(v: Option<Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v) => v,
    }
}

fn auth_scheme(v: &Value) -> Result<AuthScheme> {
    AuthScheme::from_config(v).map_err(|e| Error::Invalid(e.to_string()))
}

fn validate_signing_secret(s: &str, scheme: &AuthScheme) -> Result<()> {
    if s.len() < 8 || s.len() > 512 {
        return Err(Error::invalid("signing_secret must be 8-512 characters"));
    }
    if matches!(scheme, AuthScheme::Ed25519 { .. }) {
        crate::signature::ed25519_public_key(s).map_err(|e| {
            Error::invalid(format!(
                "signing_secret: {e} (paste the platform's Ed25519 public key, base64)"
            ))
        })?;
    }
    Ok(())
}

/// Lower-cased, trimmed, non-empty, unique; and owned by no other provider.
fn validate_domains(
    conn: &Connection,
    own_id: Option<i64>,
    domains: &[String],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for d in domains {
        let d = d.trim().to_ascii_lowercase();
        if d.is_empty() || d.len() > 253 || d.contains(char::is_whitespace) {
            return Err(Error::invalid(format!("domain `{d}` is not a domain name")));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    let mut stmt = conn.prepare_cached("SELECT id, slug, domains FROM providers")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (id, slug, ds) = row?;
        if Some(id) == own_id {
            continue;
        }
        let theirs: Vec<String> = serde_json::from_str(&ds).unwrap_or_default();
        if let Some(d) = out
            .iter()
            .find(|d| theirs.iter().any(|t| t.eq_ignore_ascii_case(d)))
        {
            return Err(Error::Conflict(format!(
                "domain `{d}` already belongs to provider `{slug}`"
            )));
        }
    }
    Ok(out)
}

/// A new random signing secret.
pub fn new_signing_secret() -> String {
    keys::new_signing_secret()
}

fn compile(fm: &Value, sm: &Value) -> Result<Mapping> {
    Mapping::compile(fm, sm).map_err(|e| Error::Invalid(e.to_string()))
}

fn load_runtime(conn: &Connection, id: i64) -> Result<ProviderRuntime> {
    conn.query_row(
        &format!("SELECT {RUNTIME_COLS} FROM providers WHERE id = ?1"),
        [id],
        runtime_from_row,
    )?
}

fn refresh_cache(w: &mut Writer<'_>, id: i64) -> Result<Provider> {
    let rt = load_runtime(w.conn, id)?;
    let cache = w.providers.clone();
    w.after_commit(move || cache.put(rt));
    let p = get_by_id(w.conn, id)?;
    let public = Provider {
        api_key_hint: None,
        ..p.clone()
    };
    let data = serde_json::to_string(&public)?;
    w.emit(
        crate::hub::EventKind::ProviderChanged,
        Some(&p.slug),
        Audience::All,
        data,
    )?;
    Ok(p)
}

fn get_by_id(conn: &Connection, id: i64) -> Result<Provider> {
    conn.query_row(
        &format!("SELECT {COLS} FROM providers WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("provider not found"))
}

/// A provider just created, with the secrets shown this once.
#[derive(Debug, Clone)]
pub struct Created {
    pub provider: Provider,
    pub api_key: String,
    /// The signing secret, when the scheme uses one and Callboard generated it.
    pub signing_secret: Option<String>,
}

/// Creates a provider (from a preset when `input.preset` is set); returns
/// it with its secrets (shown this once).
pub fn create(w: &mut Writer<'_>, input: NewProvider, actor: &Actor) -> Result<Created> {
    let mut input = input;
    let preset = match input.preset.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(presets::get(id).ok_or_else(|| {
            let known = presets::all()
                .map(|a| {
                    a.iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            Error::invalid(format!("preset `{id}` does not exist (known: {known})"))
        })?),
    };
    if let Some(p) = preset {
        input.field_mapping = input
            .field_mapping
            .or_else(|| Some(p.field_mapping.clone()));
        input.status_map = input.status_map.or_else(|| Some(p.status_map.clone()));
        input.auth_config = input.auth_config.or_else(|| Some(p.auth.clone()));
    }
    let scheme = auth_scheme(input.auth_config.as_ref().unwrap_or(&Value::Null))?;
    let given = input
        .signing_secret
        .as_deref()
        .map(str::trim)
        .is_some_and(|s| !s.is_empty());
    let signing_secret = match input.signing_secret.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            validate_signing_secret(s, &scheme)?;
            Some(s.to_string())
        }
        _ if scheme.uses_signing_secret()
            && !preset.is_some_and(|p| p.secret == SecretKind::Platform)
            && !scheme.secret_from_platform() =>
        {
            Some(keys::new_signing_secret())
        }
        _ => None,
    };
    let domains = validate_domains(w.conn, None, input.domains.as_deref().unwrap_or(&[]))?;
    let name = validate_name(&input.name)?;
    let slug = match input.slug.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => slugify(&name),
    };
    validate_slug(&slug)?;
    let fm = normalise_json(input.field_mapping);
    let sm = normalise_json(input.status_map);
    compile(&fm, &sm)?;
    let sla = validate_sla(input.sla_minutes.unwrap_or(30))?;
    let hours = hours_text(input.business_hours.as_ref())?;
    let routing = input.routing.clone().unwrap_or_default().validate()?;
    let exists: bool = w
        .conn
        .query_row("SELECT 1 FROM providers WHERE slug = ?1", [&slug], |_| {
            Ok(true)
        })
        .optional()?
        .unwrap_or(false);
    if exists {
        return Err(Error::Conflict(format!(
            "a provider with slug `{slug}` already exists"
        )));
    }
    let order = match input.display_order {
        Some(o) => o,
        None => w.conn.query_row(
            "SELECT COALESCE(MAX(display_order), 0) + 10 FROM providers",
            [],
            |r| r.get(0),
        )?,
    };
    let key = keys::new_api_key();
    let at = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO providers (slug, name, icon, display_order, did_numbers, field_mapping, status_map,
             api_key_hash, api_key_hint, sla_minutes, active, created_at, updated_at,
             auth_scheme, auth_config, signing_secret, domains, preset, business_hours, routing, auto_resolve)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            slug,
            name,
            input.icon.unwrap_or_else(|| "phone".into()),
            order,
            serde_json::to_string(&input.did_numbers.unwrap_or_default())?,
            serde_json::to_string(&fm)?,
            serde_json::to_string(&sm)?,
            keys::hash_secret(&key),
            keys::key_hint(&key),
            sla,
            input.active.unwrap_or(true),
            at,
            scheme.name(),
            scheme.to_value().to_string(),
            signing_secret,
            serde_json::to_string(&domains)?,
            preset.map(|p| p.id.clone()),
            hours,
            serde_json::to_string(&routing)?,
            input.auto_resolve.unwrap_or(true),
        ],
    )?;
    let id = w.conn.last_insert_rowid();
    let p = refresh_cache(w, id)?;
    audit::record(
        w,
        actor,
        "provider.create",
        Some(&slug),
        serde_json::json!({ "name": p.name, "preset": p.preset, "auth_scheme": p.auth_scheme }),
    )?;
    Ok(Created {
        provider: p,
        api_key: key,
        // A secret the admin typed is not echoed back.
        signing_secret: signing_secret.filter(|_| !given),
    })
}

/// Writes the provider's own row from `patch` (validated here) and refreshes
/// the cache. What follows from the change (the IVR link, SLA deadlines, the
/// audit entry) is the workflow's: `workflow::providers::update`.
pub(crate) fn update_row(
    w: &mut Writer<'_>,
    cur: &Provider,
    patch: &ProviderPatch,
) -> Result<Provider> {
    let slug = cur.slug.as_str();
    if let Some(s) = &patch.slug {
        if s != slug {
            return Err(Error::invalid(
                "slug is immutable: create a new provider instead",
            ));
        }
    }
    let name = match &patch.name {
        Some(n) => validate_name(n)?,
        None => cur.name.clone(),
    };
    let fm = match patch.field_mapping.clone() {
        Some(v) => normalise_json(Some(v)),
        None => cur.field_mapping.clone(),
    };
    let sm = match patch.status_map.clone() {
        Some(v) => normalise_json(Some(v)),
        None => cur.status_map.clone(),
    };
    compile(&fm, &sm)?;
    let scheme = auth_scheme(patch.auth_config.as_ref().unwrap_or(&cur.auth_config))?;
    let domains = match &patch.domains {
        Some(d) => validate_domains(w.conn, Some(cur.id), d)?,
        None => cur.domains.clone(),
    };
    if let Some(s) = patch.signing_secret.as_deref().map(str::trim) {
        let value = if s.is_empty() {
            None
        } else {
            validate_signing_secret(s, &scheme)?;
            Some(s.to_string())
        };
        w.conn.execute(
            "UPDATE providers SET signing_secret = ?2 WHERE id = ?1",
            params![cur.id, value],
        )?;
    }
    let sla = validate_sla(patch.sla_minutes.unwrap_or(cur.sla_minutes))?;
    if let Some(h) = &patch.business_hours {
        w.conn.execute(
            "UPDATE providers SET business_hours = ?2 WHERE id = ?1",
            params![cur.id, hours_text(h.as_ref())?],
        )?;
    }
    if let Some(r) = &patch.routing {
        let r = r.clone().validate()?;
        w.conn.execute(
            "UPDATE providers SET routing = ?2 WHERE id = ?1",
            params![cur.id, serde_json::to_string(&r)?],
        )?;
    }
    w.conn.execute(
        "UPDATE providers SET auth_scheme = ?2, auth_config = ?3, domains = ?4 WHERE id = ?1",
        params![
            cur.id,
            scheme.name(),
            scheme.to_value().to_string(),
            serde_json::to_string(&domains)?,
        ],
    )?;
    w.conn.execute(
        "UPDATE providers SET name = ?2, icon = ?3, display_order = ?4, did_numbers = ?5,
             field_mapping = ?6, status_map = ?7, sla_minutes = ?8, active = ?9, updated_at = ?10,
             auto_resolve = ?11
         WHERE id = ?1",
        params![
            cur.id,
            name,
            patch.icon.clone().unwrap_or(cur.icon.clone()),
            patch.display_order.unwrap_or(cur.display_order),
            serde_json::to_string(patch.did_numbers.as_ref().unwrap_or(&cur.did_numbers))?,
            serde_json::to_string(&fm)?,
            serde_json::to_string(&sm)?,
            sla,
            patch.active.unwrap_or(cur.active),
            time::fmt(w.now),
            patch.auto_resolve.unwrap_or(cur.auto_resolve),
        ],
    )?;
    refresh_cache(w, cur.id)
}

/// The audit entry of an update: each field the patch set, from and to.
pub(crate) fn audit_update(
    w: &mut Writer<'_>,
    actor: &Actor,
    cur: &Provider,
    p: &Provider,
    patch: &ProviderPatch,
) -> Result<()> {
    let slug = cur.slug.as_str();
    let (before, after) = (serde_json::to_value(cur)?, serde_json::to_value(p)?);
    let mut changed = serde_json::Map::new();
    for (field, set) in [
        ("name", patch.name.is_some()),
        ("icon", patch.icon.is_some()),
        ("display_order", patch.display_order.is_some()),
        ("did_numbers", patch.did_numbers.is_some()),
        ("field_mapping", patch.field_mapping.is_some()),
        ("status_map", patch.status_map.is_some()),
        ("sla_minutes", patch.sla_minutes.is_some()),
        ("business_hours", patch.business_hours.is_some()),
        ("routing", patch.routing.is_some()),
        ("active", patch.active.is_some()),
        ("auto_resolve", patch.auto_resolve.is_some()),
        ("auth_config", patch.auth_config.is_some()),
        ("has_signing_secret", patch.signing_secret.is_some()),
        ("domains", patch.domains.is_some()),
        ("flow_id", patch.flow_id.is_some()),
        ("ivr_dialect", patch.ivr_dialect.is_some()),
    ] {
        let (from, to) = (&before[field], &after[field]);
        if set && from != to {
            changed.insert(field.into(), serde_json::json!({ "from": from, "to": to }));
        }
    }
    audit::record(
        w,
        actor,
        "provider.update",
        Some(slug),
        Value::Object(changed),
    )?;
    Ok(())
}

pub fn set_active(w: &mut Writer<'_>, slug: &str, active: bool, actor: &Actor) -> Result<Provider> {
    let cur = get(w.conn, slug)?;
    w.conn.execute(
        "UPDATE providers SET active = ?2, updated_at = ?3 WHERE id = ?1",
        params![cur.id, active, time::fmt(w.now)],
    )?;
    let p = refresh_cache(w, cur.id)?;
    let action = if active {
        "provider.activate"
    } else {
        "provider.deactivate"
    };
    audit::record(w, actor, action, Some(slug), Value::Null)?;
    Ok(p)
}

/// Issues a new key. The old one keeps working for `grace_seconds` (0: dies now).
pub fn rotate_key(
    w: &mut Writer<'_>,
    slug: &str,
    grace_seconds: i64,
    actor: &Actor,
) -> Result<(Provider, String)> {
    if !(0..=30 * 86_400).contains(&grace_seconds) {
        return Err(Error::invalid(
            "grace_seconds must be between 0 and 2592000 (30 days)",
        ));
    }
    let cur = get(w.conn, slug)?;
    let key = keys::new_api_key();
    let (prev_hash, prev_until): (Option<String>, Option<String>) = if grace_seconds > 0 {
        let old: String = w.conn.query_row(
            "SELECT api_key_hash FROM providers WHERE id = ?1",
            [cur.id],
            |r| r.get(0),
        )?;
        (
            Some(old),
            Some(time::fmt(w.now + chrono::Duration::seconds(grace_seconds))),
        )
    } else {
        (None, None)
    };
    w.conn.execute(
        "UPDATE providers SET api_key_hash = ?2, api_key_hint = ?3, prev_key_hash = ?4,
             prev_key_expires_at = ?5, updated_at = ?6 WHERE id = ?1",
        params![
            cur.id,
            keys::hash_secret(&key),
            keys::key_hint(&key),
            prev_hash,
            prev_until,
            time::fmt(w.now)
        ],
    )?;
    let p = refresh_cache(w, cur.id)?;
    audit::record(
        w,
        actor,
        "provider.rotate_key",
        Some(slug),
        serde_json::json!({ "grace_seconds": grace_seconds }),
    )?;
    Ok((p, key))
}

pub fn get(conn: &Connection, slug: &str) -> Result<Provider> {
    conn.query_row(
        &format!("SELECT {COLS} FROM providers WHERE slug = ?1"),
        [slug],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no provider `{slug}`")))
}

pub fn list(conn: &Connection, include_inactive: bool) -> Result<Vec<Provider>> {
    let sql = if include_inactive {
        format!("SELECT {COLS} FROM providers ORDER BY display_order, name")
    } else {
        format!("SELECT {COLS} FROM providers WHERE active = 1 ORDER BY display_order, name")
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider setting this build cannot read is an error naming the
    /// provider's row and the column, for the API's read and for the
    /// ingestion cache alike: never a silent default (no hours, no routing).
    #[tokio::test]
    async fn unreadable_stored_settings_name_the_provider_row() {
        let (_dir, store) = crate::store::test_support::temp_store();
        let made = store
            .write(|w| {
                let actor = Actor {
                    user_id: None,
                    name: "t".into(),
                };
                create(
                    w,
                    NewProvider {
                        name: "Sales".into(),
                        ..Default::default()
                    },
                    &actor,
                )
            })
            .await
            .unwrap();
        let id = made.provider.id;
        for (column, bad) in [
            ("domains", "[\"a.example\""),
            ("routing", "{\"strategy\": 7"),
            ("business_hours", "{\"time_zone\":"),
            ("field_mapping", "nope"),
        ] {
            let slug = made.provider.slug.clone();
            let (read, cached) = store
                .write(move |w| {
                    let sql = format!("SELECT {column} FROM providers WHERE id = ?1");
                    let was: Option<String> = w.conn.query_row(&sql, [id], |r| r.get(0))?;
                    let set = format!("UPDATE providers SET {column} = ?1 WHERE id = ?2");
                    w.conn.execute(&set, params![bad, id])?;
                    let read = get(w.conn, &slug).map(|_| ()).map_err(|e| e.to_string());
                    let cached = ProviderCache::load(w.conn)
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    w.conn.execute(&set, params![was, id])?;
                    Ok((read, cached))
                })
                .await
                .unwrap();
            for (what, r) in [("read", read), ("cache", cached)] {
                let err = r.expect_err(what);
                assert!(
                    err.contains(&format!("providers row {id}, column {column}")),
                    "{what} of a bad {column}: {err}"
                );
            }
        }
    }

    #[test]
    fn slugs_from_names() {
        assert_eq!(slugify("Sales IVR (North)"), "sales-ivr-north");
        assert_eq!(slugify("  --Support__Line-- "), "support-line");
        assert_eq!(slugify("Ünïcode Çall"), "ncode-all");
        assert!(validate_slug("sales-ivr").is_ok());
        assert!(validate_slug("Sales").is_err());
        assert!(validate_slug("").is_err());
        assert!(validate_slug("all").is_err());
    }
}
