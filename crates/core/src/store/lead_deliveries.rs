//! Lead webhook deliveries (`/webhooks/ivr/{slug}/leads`): each one is
//! recorded in the provider's delivery log (`raw_events`, `kind = 'lead'`)
//! and its lead written in the same transaction, or, when it is older than
//! the stored lead, recorded and not applied: in the log it is a
//! `duplicate` of the delivery that wrote the newer data (its `event_id` is
//! the lead id), with a warning saying it was stale. A delivery that is not
//! a lead is refused before anything is written. An applied delivery is
//! announced on the stream (`lead.upserted`) in the same transaction.

use super::ingest::{body_hash, DeliveryOutcome, Received};
use super::leads::{self, Lead, Upserted};
use super::providers::ProviderRuntime;
use super::Writer;
use crate::body::{self, BodyError};
use crate::error::Result;
use crate::mapping::{LeadError, MappedLead};
use crate::time::{self, Timestamp};
use rusqlite::{params, OptionalExtension};

/// Why a lead delivery is refused (nothing is stored for it).
#[derive(Debug, thiserror::Error)]
pub enum LeadRefusal {
    /// The body cannot be taken (media type, malformed, too deep, empty).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// It parses, but is not a lead.
    #[error(transparent)]
    Lead(#[from] LeadError),
}

/// One lead delivery, parsed and read, ready to be stored.
#[derive(Debug)]
pub struct LeadDelivery {
    pub provider_id: i64,
    pub slug: String,
    pub method: String,
    pub content_type: Option<String>,
    /// As received: JSON as sent, a form as its normalised JSON object.
    pub payload: String,
    pub body_hash: String,
    pub request_id: Option<String>,
    pub received_at: Timestamp,
    pub lead: MappedLead,
}

impl LeadDelivery {
    /// Normalises the body (JSON, a form, or a query string) and reads the
    /// lead with the provider's `$options`.
    pub fn prepare(
        provider: &ProviderRuntime,
        req: Received<'_>,
    ) -> std::result::Result<LeadDelivery, LeadRefusal> {
        let payload = body::normalize(req.content_type, req.body, req.query)?;
        if payload.as_object().is_some_and(|o| o.is_empty())
            && req.body.iter().all(u8::is_ascii_whitespace)
        {
            return Err(BodyError::EmptyGet.into());
        }
        let lead = provider.mapping.map_lead(&payload)?;
        let text = req.stored_text(&payload);
        let identity = req.identity();
        Ok(LeadDelivery {
            provider_id: provider.id,
            slug: provider.slug.clone(),
            method: req.method.to_string(),
            content_type: req.content_type.map(str::to_string),
            payload: text,
            body_hash: body_hash(identity),
            request_id: req.request_id.map(str::to_string),
            received_at: req.at,
            lead,
        })
    }
}

/// What a lead delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadOutcome {
    /// The lead was created or updated.
    Applied,
    /// Older than the stored lead (`modified_at`): recorded, not applied.
    Stale,
}

/// What became of a lead delivery.
#[derive(Debug, Clone)]
pub struct LeadResult {
    pub outcome: LeadOutcome,
    /// Its row in the delivery log.
    pub raw_event_id: i64,
    /// The lead as stored now (unchanged when stale).
    pub lead: Lead,
    pub warnings: Vec<String>,
}

/// Records the delivery and applies its lead, in the writer's transaction.
pub fn record(w: &mut Writer<'_>, d: LeadDelivery) -> Result<LeadResult> {
    let upserted = leads::upsert(w, d.provider_id, &d.slug, &d.lead, &d.payload)?;
    let mut warnings = d.lead.warnings.clone();
    let (outcome, lead) = match upserted {
        Upserted::Applied(l) => (LeadOutcome::Applied, *l),
        Upserted::Stale(l) => {
            warnings.push(format!(
                "stale: lead `{}` modified_at {} is older than the stored {}; not applied",
                l.lead_id,
                time::fmt_opt(d.lead.modified_at).unwrap_or_default(),
                l.modified_at.as_deref().unwrap_or("")
            ));
            (LeadOutcome::Stale, *l)
        }
    };
    // The delivery that wrote what is stored now: a stale one is its duplicate.
    let newer: Option<i64> = match outcome {
        LeadOutcome::Applied => None,
        LeadOutcome::Stale => w
            .conn
            .prepare_cached(
                "SELECT id FROM raw_events WHERE provider_id = ?1 AND event_id = ?2
                   AND kind = 'lead' AND outcome = 'applied' ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![d.provider_id, d.lead.lead_id], |r| r.get(0))
            .optional()?,
    };
    let logged = match outcome {
        LeadOutcome::Applied => DeliveryOutcome::Applied,
        LeadOutcome::Stale => DeliveryOutcome::Duplicate,
    };
    w.conn
        .prepare_cached(
            "INSERT INTO raw_events (provider_id, received_at, method, content_type, payload, body_hash,
                 event_id, event_at, outcome, warnings, duplicate_of, request_id, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'lead')",
        )?
        .execute(params![
            d.provider_id,
            time::fmt(d.received_at),
            d.method,
            d.content_type,
            d.payload,
            d.body_hash,
            d.lead.lead_id,
            time::fmt_opt(d.lead.modified_at),
            logged.as_str(),
            serde_json::to_string(&warnings)?,
            newer,
            d.request_id,
        ])?;
    let raw_event_id = w.conn.last_insert_rowid();
    // A stale delivery changed nothing: nothing to tell.
    if outcome == LeadOutcome::Applied {
        leads::announce(w, &lead)?;
    }
    Ok(LeadResult {
        outcome,
        raw_event_id,
        lead,
        warnings,
    })
}
