//! The text sender: works through the SMS outbox (missed-call texts and
//! IVR flows' `sms` nodes) every couple of seconds, through each department's dialer (Exotel, Twilio, Plivo,
//! Vonage, Dialpad), on the click-to-call path's client and breaker. Like
//! placing a call, a text is retried only when the platform certainly did
//! not take it, with backoff, five tries in all; a refusal or a setting that
//! cannot work ends it as failed, with the reason on the message.

use crate::outbound::credentials::read_secrets;
use crate::outbound::{self, Dialling, OutboundError};
use callboard_core::dialer::{self, request};
use callboard_core::secrets::SecretStore;
use callboard_core::store::callbacks;
use callboard_core::store::sms::{self, Attempted, SmsMessage};
use callboard_core::Store;
use std::sync::Arc;
use std::time::Duration;

const MAX_TRIES: i64 = 5;

/// Runs until `stop`.
pub async fn run(
    store: Store,
    secrets: Arc<SecretStore>,
    dialling: Dialling,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = store.now();
        let due = match store.read(move |c| sms::due(c, now, 20)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the SMS outbox");
                continue;
            }
        };
        for m in due {
            let id = m.id;
            let result = send_one(&store, &secrets, &dialling, &m).await;
            if let Attempted::Failed(why) = &result {
                tracing::warn!(department = %m.department, sms = id, kind = ?m.kind, error = %why, "SMS failed");
            }
            if let Err(e) = store
                .write(move |w| sms::record_attempt(w, id, result))
                .await
            {
                tracing::warn!(sms = id, error = %e, "cannot record an SMS attempt");
            }
        }
    }
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
