//! Per provider: when its last delivery arrived, and how many of its
//! deliveries in a window were errors (`mapping_failed`: parsed but not
//! mappable; `rejected`: refused before parsing) — the provider list's
//! "last delivery" and "error rate".

use crate::error::Result;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryHealth {
    /// The provider (department) slug.
    pub slug: String,
    /// When its newest delivery arrived (any outcome); null: never.
    pub last_delivery_at: Option<String>,
    /// When its newest failed delivery (mapping failed or refused) arrived.
    pub last_error_at: Option<String>,
    /// Deliveries received in the window (duplicates included).
    pub deliveries: i64,
    /// Of those, mapping failures and refusals.
    pub errors: i64,
    /// `errors / deliveries` (0–1); null without deliveries in the window.
    pub error_rate: Option<f64>,
}

const FAILED: &str = "('mapping_failed', 'rejected')";

/// Every provider (inactive ones too), by slug; the window starts at `since`
/// (store timestamp).
pub fn read(conn: &Connection, since: &str) -> Result<Vec<DeliveryHealth>> {
    let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT provider_id, COUNT(*), SUM(outcome IN {FAILED}) FROM raw_events
             WHERE received_at >= ?1 GROUP BY provider_id"
        ))?;
        let rows = stmt.query_map([since], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (p, n, e) = row?;
            counts.insert(p, (n, e));
        }
    }
    // One index seek per provider for each "newest" (raw_events_provider,
    // raw_events_failed).
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.id, p.slug,
                (SELECT r.received_at FROM raw_events r WHERE r.provider_id = p.id
                  ORDER BY r.id DESC LIMIT 1),
                (SELECT r.received_at FROM raw_events r WHERE r.provider_id = p.id
                  AND r.outcome IN {FAILED} ORDER BY r.id DESC LIMIT 1)
           FROM providers p ORDER BY p.slug"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, slug, last_delivery_at, last_error_at) = row?;
        let (deliveries, errors) = counts.get(&id).copied().unwrap_or((0, 0));
        out.push(DeliveryHealth {
            slug,
            last_delivery_at,
            last_error_at,
            deliveries,
            errors,
            error_rate: (deliveries > 0).then(|| errors as f64 / deliveries as f64),
        });
    }
    Ok(out)
}
