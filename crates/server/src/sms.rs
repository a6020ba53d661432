//! The text sender: works through the SMS outbox (missed-call texts and
//! IVR flows' `sms` nodes) through each department's dialer (Exotel, Twilio, Plivo,
//! Vonage, Dialpad), on the click-to-call path's client and breaker. It wakes
//! when a commit queued a text (`Store::sms_queued`) and sleeps until the
//! next text falls due (quiet hours, a retry's backoff), with a slow tick as
//! a safety net only. Like placing a call, a text is retried only when the
//! platform certainly did not take it, with backoff, five tries in all; a
//! refusal or a setting that cannot work ends it as failed, with the reason
//! on the message. One pass at a time, each try recorded before the outbox
//! is read again: a row is never picked twice.

use crate::outbound::credentials::read_secrets;
use crate::outbound::{self, Dialling, OutboundError};
use callboard_core::dialer::{self, request};
use callboard_core::secrets::SecretStore;
use callboard_core::store::callbacks;
use callboard_core::store::sms::{self, Attempted, SmsMessage};
use callboard_core::{time, Store};
use std::sync::Arc;
use std::time::Duration;

const MAX_TRIES: i64 = 5;
/// Messages read per round of a pass.
const BATCH: i64 = 20;
/// Longest sleep with nothing due: a safety net, not the mechanism.
const SAFETY_NET: Duration = Duration::from_secs(30);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);

/// Runs until `stop`.
pub async fn run(
    store: Store,
    secrets: Arc<SecretStore>,
    dialling: Dialling,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let woken = store.sms_queued().clone();
    // Tries made whose outcome could not be written yet: written before
    // anything else is read, so a sent text is never sent again.
    let mut unrecorded = Vec::new();
    loop {
        let wait = match pass(&store, &secrets, &dialling, &mut unrecorded).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(error = %e, "the SMS outbox cannot be worked through");
                RETRY_AFTER_ERROR
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = woken.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends every message due now, round by round; returns how long to sleep
/// until the next one falls due.
async fn pass(
    store: &Store,
    secrets: &Arc<SecretStore>,
    dialling: &Dialling,
    unrecorded: &mut Vec<(i64, Attempted)>,
) -> callboard_core::Result<Duration> {
    let mut read_at;
    loop {
        while let Some((id, result)) = unrecorded.last().cloned() {
            store
                .write(move |w| sms::record_attempt(w, id, result))
                .await?;
            unrecorded.pop();
        }
        let now = store.now();
        read_at = now;
        let due = store.read(move |c| sms::due(c, now, BATCH)).await?;
        let full = due.len() as i64 == BATCH;
        for m in due {
            let id = m.id;
            let result = send_one(store, secrets, dialling, &m).await;
            if let Attempted::Failed(why) = &result {
                tracing::warn!(department = %m.department, sms = id, kind = ?m.kind, error = %why, "SMS failed");
            }
            let recorded = result.clone();
            if let Err(e) = store
                .write(move |w| sms::record_attempt(w, id, recorded))
                .await
            {
                tracing::warn!(sms = id, error = %e, "cannot record an SMS attempt");
                unrecorded.push((id, result));
            }
        }
        if !unrecorded.is_empty() {
            return Ok(RETRY_AFTER_ERROR);
        }
        if !full {
            break;
        }
    }
    let next = store.read(sms::next_due).await?;
    Ok(match next.as_deref().and_then(time::parse) {
        None => SAFETY_NET,
        // Due before the last read, yet not read as due: never spin on it.
        Some(due) if due < read_at => {
            tracing::warn!(send_after = ?next, "a queued text is due but was not read as due");
            SAFETY_NET
        }
        Some(due) => (due - store.now())
            .to_std()
            // A millisecond past its time, so the read sees it due.
            .map(|d| (d + Duration::from_millis(1)).min(SAFETY_NET))
            .unwrap_or(Duration::ZERO),
    })
}

async fn send_one(
    store: &Store,
    secrets: &Arc<SecretStore>,
    dialling: &Dialling,
    m: &SmsMessage,
) -> Attempted {
    let dep = m.department.clone();
    let dialer = match store.read(move |c| callbacks::dialer(c, &dep)).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Attempted::Failed(format!(
                "department `{}` has no dialer: set Exotel, Twilio, Plivo, Vonage or Dialpad under Click-to-call",
                m.department
            ))
        }
        Err(e) => {
            return Attempted::Retry(store.now() + chrono::Duration::seconds(30), e.to_string())
        }
    };
    let kind = dialer.config.kind;
    let label = kind.spec().label;
    let keys = match read_secrets(secrets.clone(), &m.department).await {
        Ok(k) => k,
        Err(e) => return Attempted::Retry(store.now() + chrono::Duration::seconds(30), e.message),
    };
    let missing = dialer::missing_secrets(kind, &keys);
    if !missing.is_empty() {
        return Attempted::Failed(format!("the {label} dialer lacks {}", missing.join(", ")));
    }
    let out = match request::sms(&dialer.config, &keys, &m.to_number, &m.body, store.now()) {
        Ok(Some(out)) => out,
        Ok(None) => return Attempted::Failed(format!("Callboard sends no SMS through {label}")),
        Err(e) => return Attempted::Failed(e.to_string()),
    };
    let backoff = || store.now() + chrono::Duration::seconds(60 * (1i64 << (m.attempts.min(6))));
    match dialling.send(&m.department, store.clock(), &out).await {
        Ok(body) => match request::sms_accepted(kind, &body) {
            Ok(platform_ref) => Attempted::Sent(platform_ref),
            Err(why) => Attempted::Failed(why),
        },
        Err(e @ (OutboundError::Exhausted { .. } | OutboundError::CircuitOpen(_)))
            if m.attempts + 1 < MAX_TRIES =>
        {
            Attempted::Retry(backoff(), outbound::explain(label, "the message", &e))
        }
        Err(e) => Attempted::Failed(outbound::explain(label, "the message", &e)),
    }
}
