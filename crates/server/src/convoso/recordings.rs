//! The recording retry queue's worker (issue 15): on the leader, beside the
//! pollers' schedule. Each due row of `recording_fetches` is claimed (leased,
//! so nothing is fetched twice at once), Convoso's call log is asked for that
//! call's id in a narrow window around its start through the provider's
//! client (its breaker, pacer, retries and timeouts), and a record that now
//! carries a recording is stored through the same ingestion as the poller's
//! records: the call gains its `recording_url`, a `call.upserted` goes on the
//! stream and the delivery is in the ingestion log. Otherwise the row spends a
//! try and waits longer, or is given up after its last try; an open circuit
//! postpones it without spending one.

use super::client::{Client, FetchError};
use super::{convoso_time, delivery, Pollers};
use callboard_core::secrets::SecretStore;
use callboard_core::store::connectors;
use callboard_core::store::ingest::{self, IngestResult};
use callboard_core::store::recording_fetches::{self, Due};
use callboard_core::time::Timestamp;
use callboard_core::{time, Error, Store};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed row is kept from other tries (a try with every retry
/// and the longest timeouts ends well within it).
const LEASE_SECONDS: i64 = 600;
/// Rows claimed at once.
const BATCH: i64 = 20;
/// Minutes either side of the call's start asked of Convoso.
const WINDOW_MINUTES: i64 = 10;

/// Works the queue until `stop`. Looks every second (a read) whether a row
/// is due on the store's clock, so a test's moved clock is seen at once.
pub async fn run(
    pollers: Pollers,
    store: Store,
    secrets: Arc<SecretStore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        let now = store.now();
        match store
            .read(move |c| recording_fetches::any_due(c, now))
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the recording queue");
                continue;
            }
        }
        let due = match store
            .write(|w| recording_fetches::claim_due(w, BATCH, LEASE_SECONDS))
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim due recordings");
                continue;
            }
        };
        for d in due {
            if *stop.borrow() {
                return;
            }
            try_one(&pollers, &store, &secrets, d).await;
        }
    }
}

/// What one try came to.
enum Attempt {
    /// The recording was stored with the call.
    Stored,
    /// Not tried (an open circuit): again at this time, no try spent.
    Postpone(Timestamp, String),
    /// Tried without a recording: a try spent, with the reason.
    Spend(String),
}

async fn try_one(pollers: &Pollers, store: &Store, secrets: &Arc<SecretStore>, d: Due) {
    let row = d.fetch.call_row_id;
    let slug = d.department.clone();
    let options = d.options.clone();
    let done = match attempt(pollers, store, secrets, &d).await {
        Attempt::Stored => {
            tracing::info!(provider = %slug, call_id = %d.fetch.call_id, "Convoso recording fetched on a later try");
            Ok(())
        }
        Attempt::Postpone(until, why) => {
            store
                .write(move |w| recording_fetches::postpone(w, row, until, &why))
                .await
        }
        Attempt::Spend(why) => {
            tracing::debug!(provider = %slug, call_id = %d.fetch.call_id, reason = %why, "no Convoso recording yet");
            store
                .write(move |w| recording_fetches::spend_try(w, row, &options, &why).map(|_| ()))
                .await
        }
    };
    if let Err(e) = done {
        tracing::warn!(provider = %slug, error = %e, "cannot record a recording try");
    }
}

/// Convoso's id of a call-log record, as the preset reads it.
fn record_id(r: &Value) -> Option<String> {
    ["call_id", "call_log_id", "id"]
        .iter()
        .find_map(|k| match &r[*k] {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

async fn attempt(pollers: &Pollers, store: &Store, secrets: &Arc<SecretStore>, d: &Due) -> Attempt {
    let slug = d.department.clone();
    let (file, name) = (secrets.clone(), connectors::token_name(&slug));
    let token = match tokio::task::spawn_blocking(move || file.get(&name)).await {
        Ok(Ok(Some(t))) => t,
        Ok(Ok(None)) => return Attempt::Spend("no auth token is stored for the connector".into()),
        Ok(Err(e)) => return Attempt::Spend(e.to_string()),
        Err(e) => return Attempt::Spend(e.to_string()),
    };
    let Some(provider) = store.providers().get(&slug).filter(|p| p.active) else {
        return Attempt::Spend(format!("no active provider `{slug}`"));
    };
    let s = slug.clone();
    let conf = match store.read(move |c| connectors::get(c, &s)).await {
        Ok(c) => c,
        Err(e) => return Attempt::Spend(e.to_string()),
    };
    let breaker = pollers.breaker(&slug, &conf.options);
    let mut client = match Client::new(
        &conf.base_url,
        token,
        conf.options.clone(),
        breaker,
        store.clock().clone(),
    ) {
        Ok(c) => c,
        Err(e) => return Attempt::Spend(e.to_string()),
    };
    let id = d.fetch.convoso_id.clone();
    let started = time::parse(&d.fetch.started_at).unwrap_or_else(|| store.now());
    let zone = provider.mapping.time_zone();
    let span = chrono::Duration::minutes(WINDOW_MINUTES);
    let (from, to) = (
        convoso_time(started - span, zone),
        convoso_time(started + span, zone),
    );
    let page = match client.by_id(&id, &from, &to).await {
        Ok(p) => p,
        Err(FetchError::CircuitOpen(secs)) => {
            let until = store.now() + chrono::Duration::seconds(secs.max(1) as i64);
            return Attempt::Postpone(until, FetchError::CircuitOpen(secs).to_string());
        }
        Err(e) => return Attempt::Spend(e.to_string()),
    };
    let Some(record) = page
        .records
        .iter()
        .find(|r| record_id(r).as_deref() == Some(id.as_str()))
    else {
        return Attempt::Spend(format!(
            "Convoso's call log has no record {id} around {from}"
        ));
    };
    let Some(delivery) = delivery(&provider, record, store.now()) else {
        return Attempt::Spend("Convoso's record could not be read".into());
    };
    if let Some(e) = &delivery.mapped.error {
        return Attempt::Spend(format!("Convoso's record does not map: {e}"));
    }
    if delivery
        .mapped
        .call
        .recording_url
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Attempt::Spend("the call log has no recording yet".into());
    }
    let row = d.fetch.call_row_id;
    let stored = store
        .write(move |w| {
            recording_fetches::fetched(w, row)?;
            match ingest::ingest(w, delivery)? {
                IngestResult::Applied { .. } | IngestResult::Duplicate { .. } => Ok(()),
                // Rolls the mark back with it.
                IngestResult::MappingFailed { error, .. } => Err(Error::invalid(format!(
                    "Convoso's record does not map: {error}"
                ))),
            }
        })
        .await;
    match stored {
        Ok(()) => Attempt::Stored,
        Err(e) => Attempt::Spend(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_known_by_the_id_the_preset_reads() {
        assert_eq!(
            record_id(&serde_json::json!({"call_id": "7", "id": "9"})).as_deref(),
            Some("7")
        );
        assert_eq!(
            record_id(&serde_json::json!({"call_log_id": 8})).as_deref(),
            Some("8")
        );
        assert_eq!(
            record_id(&serde_json::json!({"id": "9"})).as_deref(),
            Some("9")
        );
        assert_eq!(record_id(&serde_json::json!({"lead_id": "1"})), None);
    }
}
