//! Webhook deliveries: every one is recorded as received; its effect (a call
//! upsert and an event) commits in the same transaction, or its mapping error
//! is kept for a replay.

use super::audit::Actor;
use super::calls::Call;
use super::decode::At;
use super::providers::ProviderRuntime;
use super::{agents_map, audit, voicemails, Writer};
use crate::body::{self, BodyError};
use crate::error::{Error, Result};
use crate::mapping::{plausible, MapContext, MapOutcome, Mapping};
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn body_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A webhook request as the receiver got it, before any interpretation.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub query: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub at: Timestamp,
    /// How far ahead of `at` an event may be stamped; None: the default
    /// ([`plausible::DEFAULT_FUTURE_SKEW`]).
    pub max_future_skew: Option<chrono::Duration>,
}

impl Received<'_> {
    /// The payload's text as the delivery log keeps it: a JSON body as sent
    /// (its own formatting and key order), anything else (a form, a query)
    /// as the JSON it was normalised to.
    pub(crate) fn stored_text(&self, payload: &Value) -> String {
        let as_sent = matches!(payload, Value::Object(_) | Value::Array(_))
            && self.body.first().is_some_and(|b| *b == b'{' || *b == b'[')
            && self.query.is_none();
        if as_sent {
            String::from_utf8_lossy(self.body).into_owned()
        } else {
            payload.to_string()
        }
    }

    /// What identifies the delivery for duplicate detection: the body, or
    /// the query of a GET.
    pub(crate) fn identity(&self) -> &[u8] {
        if self.body.is_empty() {
            self.query.unwrap_or("").as_bytes()
        } else {
            self.body
        }
    }
}

/// One webhook delivery, parsed and mapped, ready to be stored.
#[derive(Debug)]
pub struct Delivery {
    pub provider_id: i64,
    pub slug: String,
    pub sla_minutes: i64,
    pub method: String,
    pub content_type: Option<String>,
    /// The normalised payload as JSON text.
    pub payload: String,
    pub body_hash: String,
    pub request_id: Option<String>,
    pub received_at: Timestamp,
    pub mapped: MapOutcome,
}

impl Delivery {
    /// Normalises and maps a request for `provider`. Decides what is kept
    /// (JSON bodies as sent, other forms as their normalised JSON) and what
    /// identifies a repeated delivery (the body, or the query of a bodiless
    /// callback).
    pub fn prepare(provider: &ProviderRuntime, req: Received<'_>) -> Result<Delivery, BodyError> {
        let payload = body::normalize(req.content_type, req.body, req.query)?;
        let blank_body = req.body.iter().all(u8::is_ascii_whitespace);
        if (req.method.eq_ignore_ascii_case("GET") || blank_body)
            && payload.as_object().is_some_and(|o| o.is_empty())
        {
            return Err(BodyError::EmptyGet);
        }
        let mut mapped = provider.mapping.apply(
            &payload,
            &MapContext {
                slug: &provider.slug,
                received_at: req.at,
            },
        );
        plausible::check(
            &mut mapped,
            req.at,
            req.max_future_skew
                .unwrap_or(plausible::DEFAULT_FUTURE_SKEW),
        );
        let payload = req.stored_text(&payload);
        let identity = req.identity();
        Ok(Delivery {
            provider_id: provider.id,
            slug: provider.slug.clone(),
            sla_minutes: provider.sla_minutes,
            method: req.method.to_string(),
            content_type: req.content_type.map(str::to_string),
            payload,
            body_hash: body_hash(identity),
            request_id: req.request_id.map(str::to_string),
            received_at: req.at,
            mapped,
        })
    }
}

impl Delivery {
    /// For platforms that send no end time (Cloudonix session updates): an
    /// event with a final status ends the call at the event's time, so the
    /// duration follows from the answer and end times.
    pub fn end_at_event_time(&mut self) {
        let call = &mut self.mapped.call;
        if call.ended_at.is_none() && call.status.is_some_and(|s| s.is_terminal()) {
            call.ended_at = Some(self.mapped.event_at.unwrap_or(self.received_at));
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IngestResult {
    Applied {
        raw_event_id: i64,
        call: Box<Call>,
        warnings: Vec<String>,
    },
    Duplicate {
        raw_event_id: i64,
        duplicate_of: i64,
        call_id: Option<String>,
    },
    MappingFailed {
        raw_event_id: i64,
        error: String,
    },
}

/// An earlier delivery of the same event, by the platform's event id.
const ORIGINAL_BY_EVENT_ID: &str = "SELECT id, call_id FROM raw_events
    WHERE provider_id = ?1 AND event_id = ?2
      AND outcome IN ('applied', 'mapping_failed') AND kind = 'call' LIMIT 1";

/// An earlier delivery of the same body that had no event id: one with an
/// id is found by it, so the hash index holds only those without
/// (`raw_events_body_hash`, v33).
const ORIGINAL_BY_BODY: &str = "SELECT id, call_id FROM raw_events
    WHERE provider_id = ?1 AND body_hash = ?2 AND event_id IS NULL
      AND outcome IN ('applied', 'mapping_failed') AND kind = 'call' LIMIT 1";

fn find_original(w: &Writer<'_>, d: &Delivery) -> Result<Option<(i64, Option<String>)>> {
    if let Some(eid) = &d.mapped.event_id {
        let mut stmt = w.conn.prepare_cached(ORIGINAL_BY_EVENT_ID)?;
        if let Some(hit) = stmt
            .query_row(params![d.provider_id, eid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        {
            return Ok(Some(hit));
        }
    }
    let mut stmt = w.conn.prepare_cached(ORIGINAL_BY_BODY)?;
    Ok(stmt
        .query_row(params![d.provider_id, d.body_hash], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

#[allow(clippy::too_many_arguments)]
fn insert_raw(
    w: &Writer<'_>,
    d: &Delivery,
    outcome: DeliveryOutcome,
    error: Option<&str>,
    call_row_id: Option<i64>,
    call_id: Option<&str>,
    duplicate_of: Option<i64>,
) -> Result<i64> {
    let mut stmt = w.conn.prepare_cached(
        "INSERT INTO raw_events (provider_id, received_at, method, content_type, payload, body_hash,
             event_id, event_at, outcome, error, warnings, call_row_id, call_id, duplicate_of, request_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    let warnings = if d.mapped.warnings.is_empty() {
        "[]".to_string()
    } else {
        serde_json::to_string(&d.mapped.warnings)?
    };
    stmt.execute(params![
        d.provider_id,
        time::fmt(d.received_at),
        d.method,
        d.content_type,
        d.payload,
        d.body_hash,
        d.mapped.event_id,
        d.mapped.event_at.map(time::fmt),
        outcome.as_str(),
        error,
        warnings,
        call_row_id,
        call_id,
        duplicate_of,
        d.request_id,
    ])?;
    Ok(w.conn.last_insert_rowid())
}

/// Names the Callboard user a platform's agent id is mapped to (Dialpad
/// users): `agent_name` becomes theirs and `metadata.agent_user_id` their id,
/// so the console can notify that agent.
fn attribute_agent(w: &Writer<'_>, d: &mut Delivery) -> Result<()> {
    let Some(agent) = d.mapped.call.agent_id.clone() else {
        return Ok(());
    };
    if let Some((user_id, name)) = agents_map::user_for_agent(w.conn, d.provider_id, &agent)? {
        d.mapped.call.agent_name = Some(name);
        d.mapped
            .call
            .metadata
            .insert("agent_user_id".into(), Value::from(user_id));
    }
    Ok(())
}

pub fn ingest(w: &mut Writer<'_>, d: Delivery) -> Result<IngestResult> {
    let mut d = d;
    if let Some((original, call_id)) = find_original(w, &d)? {
        let id = insert_raw(
            w,
            &d,
            DeliveryOutcome::Duplicate,
            None,
            None,
            call_id.as_deref(),
            Some(original),
        )?;
        return Ok(IngestResult::Duplicate {
            raw_event_id: id,
            duplicate_of: original,
            call_id,
        });
    }
    if let Some(err) = &d.mapped.error {
        let id = insert_raw(
            w,
            &d,
            DeliveryOutcome::MappingFailed,
            Some(err),
            None,
            None,
            None,
        )?;
        return Ok(IngestResult::MappingFailed {
            raw_event_id: id,
            error: err.clone(),
        });
    }
    attribute_agent(w, &mut d)?;
    let event_at = time::fmt(d.mapped.event_at.unwrap_or(d.received_at));
    let call = super::workflow::intake::record(
        w,
        d.provider_id,
        &d.slug,
        &d.mapped.call,
        &event_at,
        d.sla_minutes,
    )?;
    voicemails::record(w, &call, &d.mapped.call.metadata)?;
    let id = insert_raw(
        w,
        &d,
        DeliveryOutcome::Applied,
        None,
        Some(call.id),
        Some(&call.call_id),
        None,
    )?;
    Ok(IngestResult::Applied {
        raw_event_id: id,
        call: Box::new(call),
        warnings: d.mapped.warnings,
    })
}

/// Records a delivery refused before parsing (bad credentials), with the
/// reason and never the secret.
pub fn record_rejected(
    w: &mut Writer<'_>,
    provider_id: i64,
    kind: super::refusals::DeliveryKind,
    method: &str,
    content_type: Option<&str>,
    reason: &str,
    request_id: Option<&str>,
) -> Result<i64> {
    w.conn.execute(
        "INSERT INTO raw_events (provider_id, received_at, method, content_type, body_hash, outcome, error, request_id, kind)
         VALUES (?1, ?2, ?3, ?4, '', 'rejected', ?5, ?6, ?7)",
        params![provider_id, time::fmt(w.now), method, content_type, reason, request_id, kind.as_str()],
    )?;
    Ok(w.conn.last_insert_rowid())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RawEvent {
    pub id: i64,
    pub department: String,
    pub received_at: String,
    pub method: String,
    pub content_type: Option<String>,
    pub outcome: DeliveryOutcome,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub call_id: Option<String>,
    pub event_id: Option<String>,
    pub event_at: Option<String>,
    pub duplicate_of: Option<i64>,
    pub replayed_at: Option<String>,
    pub request_id: Option<String>,
    /// What was delivered: `call` (a call event) or `lead` (a lead record,
    /// `/webhooks/ivr/{slug}/leads`; its `event_id` is the lead id, and a
    /// lead delivery older than the stored lead is a `duplicate` of the
    /// delivery that holds the newer data).
    pub kind: String,
    /// The delivery as received (JSON bodies as sent, forms and query strings
    /// as an object); for a delivery refused before parsing, its body's first
    /// 4 KiB as a string; null when refused before the body was read.
    pub payload: Value,
}

const RAW_COLS: &str = "r.id, p.slug, r.received_at, r.method, r.content_type, r.outcome, r.error, r.warnings, r.call_id, r.event_id, r.event_at, r.duplicate_of, r.replayed_at, r.request_id, r.payload, r.kind";

fn raw_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
    let id: i64 = r.get(0)?;
    let at = At::new("raw_events", id);
    Ok(RawEvent {
        id,
        department: r.get(1)?,
        received_at: r.get(2)?,
        method: r.get(3)?,
        content_type: r.get(4)?,
        outcome: at.wire(r, 5, "outcome")?,
        error: r.get(6)?,
        warnings: at.json(r, 7, "warnings")?,
        call_id: r.get(8)?,
        event_id: r.get(9)?,
        event_at: r.get(10)?,
        duplicate_of: r.get(11)?,
        replayed_at: r.get(12)?,
        request_id: r.get(13)?,
        payload: at.json_opt(r, 14, "payload")?.unwrap_or(Value::Null),
        kind: r.get(15)?,
    })
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub outcome: Option<String>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// What became of a delivery (the `raw_events.outcome` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Mapped and merged into its call.
    Applied,
    /// The same event again: stored, not applied.
    Duplicate,
    /// Stored with its mapping error; replayable once the mapping is fixed.
    MappingFailed,
    /// Refused before it was read (credentials, signature).
    Rejected,
}

impl DeliveryOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Applied => "applied",
            DeliveryOutcome::Duplicate => "duplicate",
            DeliveryOutcome::MappingFailed => "mapping_failed",
            DeliveryOutcome::Rejected => "rejected",
        }
    }
}

/// The `raw_events.outcome` values, as strings.
pub const OUTCOMES: [&str; 4] = [
    DeliveryOutcome::Applied.as_str(),
    DeliveryOutcome::Duplicate.as_str(),
    DeliveryOutcome::MappingFailed.as_str(),
    DeliveryOutcome::Rejected.as_str(),
];

/// The provider's ingestion log, newest first.
pub fn deliveries(conn: &Connection, provider_id: i64, q: &DeliveryQuery) -> Result<Vec<RawEvent>> {
    if let Some(o) = &q.outcome {
        if !OUTCOMES.contains(&o.as_str()) {
            return Err(Error::invalid(format!(
                "outcome `{o}`: use one of {}",
                OUTCOMES.join(", ")
            )));
        }
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RAW_COLS} FROM raw_events r JOIN providers p ON p.id = r.provider_id
         WHERE r.provider_id = ?1 AND (?2 IS NULL OR r.outcome = ?2) AND (?3 IS NULL OR r.id < ?3)
         ORDER BY r.id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![provider_id, q.outcome, q.before_id, q.limit.clamp(1, 500)],
        raw_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The raw events that touched a call, oldest first.
pub fn call_timeline(conn: &Connection, call_row_id: i64) -> Result<Vec<RawEvent>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RAW_COLS} FROM raw_events r JOIN providers p ON p.id = r.provider_id
         WHERE r.call_row_id = ?1 ORDER BY r.id"
    ))?;
    let rows = stmt.query_map([call_row_id], raw_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The newest payload a provider sent, for mapping previews.
pub fn last_payload(conn: &Connection, provider_id: i64) -> Result<Option<Value>> {
    let p: Option<String> = conn
        .query_row(
            "SELECT payload FROM raw_events WHERE provider_id = ?1 AND payload IS NOT NULL AND outcome <> 'rejected' AND kind = 'call' ORDER BY id DESC LIMIT 1",
            [provider_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(p.and_then(|p| serde_json::from_str(&p).ok()))
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    /// Failed deliveries looked at.
    pub replayed: i64,
    /// Now applied to their call.
    pub applied: i64,
    /// Still failing, with their new error stored.
    pub failed: i64,
}

/// Most deliveries one replay handles, so a replay never stalls ingestion for long.
pub const REPLAY_BATCH: i64 = 5_000;

/// Maps the provider's failed deliveries again with its current mapping.
pub fn replay(
    w: &mut Writer<'_>,
    slug: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: &Actor,
) -> Result<ReplayReport> {
    let (provider_id, sla, fm, sm): (i64, i64, String, String) = w
        .conn
        .query_row(
            "SELECT id, sla_minutes, field_mapping, status_map FROM providers WHERE slug = ?1",
            [slug],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("no provider `{slug}`")))?;
    let mapping = Mapping::compile(&serde_json::from_str(&fm)?, &serde_json::from_str(&sm)?)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let failed: Vec<(i64, String, String)> = {
        let mut stmt = w.conn.prepare(
            "SELECT id, received_at, COALESCE(payload, 'null') FROM raw_events
             WHERE provider_id = ?1 AND outcome = 'mapping_failed' AND kind = 'call'
               AND (?2 IS NULL OR received_at >= ?2) AND (?3 IS NULL OR received_at < ?3)
             ORDER BY id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![provider_id, from, to, REPLAY_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut report = ReplayReport::default();
    let now = time::fmt(w.now);
    for (id, received_at, payload) in failed {
        report.replayed += 1;
        let received = time::parse(&received_at).unwrap_or(w.now);
        let value: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
        let mut outcome = mapping.apply(
            &value,
            &MapContext {
                slug,
                received_at: received,
            },
        );
        plausible::check(&mut outcome, received, plausible::DEFAULT_FUTURE_SKEW);
        if let Some(err) = outcome.error {
            w.conn.execute(
                "UPDATE raw_events SET error = ?2, replayed_at = ?3 WHERE id = ?1",
                params![id, err, now],
            )?;
            report.failed += 1;
            continue;
        }
        let event_at = time::fmt(outcome.event_at.unwrap_or(received));
        let call =
            super::workflow::intake::record(w, provider_id, slug, &outcome.call, &event_at, sla)?;
        w.conn.execute(
            "UPDATE raw_events SET outcome = 'applied', error = NULL, warnings = ?2, call_row_id = ?3,
                 call_id = ?4, event_id = COALESCE(?5, event_id), replayed_at = ?6 WHERE id = ?1",
            params![
                id,
                serde_json::to_string(&outcome.warnings)?,
                call.id,
                call.call_id,
                outcome.event_id,
                now
            ],
        )?;
        report.applied += 1;
    }
    audit::record(
        w,
        actor,
        "provider.replay",
        Some(slug),
        serde_json::json!({ "from": from, "to": to, "replayed": report.replayed, "applied": report.applied, "failed": report.failed }),
    )?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn provider() -> ProviderRuntime {
        let mapping =
            Mapping::compile(&serde_json::json!({"call_id": "id"}), &Value::Null).unwrap();
        ProviderRuntime {
            id: 1,
            slug: "p".into(),
            name: "P".into(),
            active: true,
            key_hash: String::new(),
            prev_key_hash: None,
            prev_key_expires_at: None,
            sla_minutes: 30,
            hours: None,
            routing: Default::default(),
            mapping: Arc::new(mapping),
            auth: Default::default(),
            signing_secret: None,
            domains: vec![],
            flow_id: None,
            ivr_dialect: crate::ivr::Dialect::Json,
            auto_resolve: true,
        }
    }

    fn received<'a>(
        method: &'a str,
        ct: Option<&'a str>,
        body: &'a [u8],
        query: Option<&'a str>,
    ) -> Received<'a> {
        Received {
            method,
            content_type: ct,
            body,
            query,
            request_id: None,
            at: chrono::Utc::now(),
            max_future_skew: None,
        }
    }

    #[test]
    fn json_is_kept_as_sent_and_forms_as_normalised_json() {
        let body = br#"{ "id":  "c1" }"#;
        let d = Delivery::prepare(
            &provider(),
            received("POST", Some("application/json"), body, None),
        )
        .unwrap();
        assert_eq!(d.payload.as_bytes(), body);
        assert_eq!(d.mapped.call.call_id, "c1");
        let d = Delivery::prepare(
            &provider(),
            received(
                "POST",
                Some("application/x-www-form-urlencoded"),
                b"id=c2",
                None,
            ),
        )
        .unwrap();
        assert_eq!(d.payload, r#"{"id":"c2"}"#);
    }

    #[test]
    fn a_bodiless_callback_is_identified_by_its_query() {
        let a = Delivery::prepare(&provider(), received("GET", None, b"", Some("id=c3"))).unwrap();
        let b = Delivery::prepare(&provider(), received("GET", None, b"", Some("id=c4"))).unwrap();
        assert_ne!(a.body_hash, b.body_hash);
        assert_eq!(a.body_hash, body_hash(b"id=c3"));
        assert!(matches!(
            Delivery::prepare(&provider(), received("GET", None, b"", None)),
            Err(BodyError::EmptyGet)
        ));
    }

    #[test]
    fn an_empty_post_is_refused_but_an_empty_object_is_a_delivery() {
        for ct in [
            None,
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
        ] {
            for body in [&b""[..], b"  \r\n"] {
                assert!(
                    matches!(
                        Delivery::prepare(&provider(), received("POST", ct, body, None)),
                        Err(BodyError::EmptyGet)
                    ),
                    "{ct:?} {body:?}"
                );
            }
        }
        assert!(Delivery::prepare(&provider(), received("POST", None, b"", Some("id=c5"))).is_ok());
        assert!(Delivery::prepare(
            &provider(),
            received("POST", Some("application/json"), b"{}", None)
        )
        .is_ok());
    }

    #[test]
    fn the_duplicate_checks_read_their_indexes() {
        let conn = crate::store::test_support::migrated();
        let plan = |sql: &str| crate::store::test_support::query_plan(&conn, sql, [1, 1]);
        let by_id = plan(ORIGINAL_BY_EVENT_ID);
        assert!(by_id.contains("USING INDEX raw_events_event_id"), "{by_id}");
        let by_body = plan(ORIGINAL_BY_BODY);
        assert!(
            by_body.contains("USING INDEX raw_events_body_hash"),
            "{by_body}"
        );
    }

    /// The hash index holds only deliveries without an event id; a body
    /// stored before the mapping named one is still its duplicate after.
    #[tokio::test]
    async fn a_body_stored_without_an_event_id_is_found_again_once_it_has_one() {
        let (_dir, store) = crate::store::test_support::temp_store();
        store
            .write(|w| crate::store::test_support::create_department(w, "P"))
            .await
            .unwrap();
        let with_id = {
            let mut p = provider();
            let mapping = serde_json::json!({"call_id": "id", "event_id": "eid"});
            p.mapping = Arc::new(Mapping::compile(&mapping, &Value::Null).unwrap());
            p
        };
        let deliver = |p: &ProviderRuntime, body: &'static [u8]| {
            let d = Delivery::prepare(p, received("POST", Some("application/json"), body, None))
                .unwrap();
            let store = store.clone();
            async move { store.write(move |w| ingest(w, d)).await.unwrap() }
        };
        let body = br#"{"id": "c1", "eid": "e-1"}"#;
        let IngestResult::Applied { raw_event_id, .. } = deliver(&provider(), body).await else {
            panic!("the first delivery is applied");
        };
        match deliver(&with_id, body).await {
            IngestResult::Duplicate { duplicate_of, .. } => assert_eq!(duplicate_of, raw_event_id),
            other => panic!("found again by its body: {other:?}"),
        }
        let fresh = br#"{"id": "c2", "eid": "e-2"}"#;
        let IngestResult::Applied { raw_event_id, .. } = deliver(&with_id, fresh).await else {
            panic!("a new event is applied");
        };
        let again = br#"{"id": "c2", "eid": "e-2", "note": "resent"}"#;
        match deliver(&with_id, again).await {
            IngestResult::Duplicate { duplicate_of, .. } => assert_eq!(duplicate_of, raw_event_id),
            other => panic!("found again by its event id: {other:?}"),
        }
        match deliver(&with_id, fresh).await {
            IngestResult::Duplicate { duplicate_of, .. } => assert_eq!(duplicate_of, raw_event_id),
            other => panic!("the same body and id: {other:?}"),
        }
    }
}
