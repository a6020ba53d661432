//! The alert engine: evaluates the thresholds on every change (debounced)
//! and on a tick, and sends each crossing the store decided to send
//! (`thresholds::evaluate`: once per crossing, not again inside its quiet
//! period) to Slack, Teams, any webhook (a JSON POST) and e-mail (SMTP).

use callboard_core::secrets::SecretStore;
use callboard_core::store::thresholds::{self, Alert, Channel, ChannelKind, Smtp, SmtpSecurity};
use callboard_core::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Changes that arrive together are evaluated once, this long after the first.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// Time-based figures (the longest wait, rolling windows, a quiet provider)
/// move without any event: evaluate at least this often.
const TICK: Duration = Duration::from_secs(15);
/// Each outbound request gets this long.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The secrets-file entry of the SMTP password.
pub const SMTP_PASSWORD: &str = "alert_smtp_password";

/// Runs until `stop` flips.
pub async fn run(store: Store, secrets: Arc<SecretStore>, mut stop: watch::Receiver<bool>) {
    let mut events = store.hub().subscribe();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let http = match crate::http::client().timeout(SEND_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "alerts: cannot build an HTTP client; alerts are off");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            ev = events.recv() => match ev {
                // Our own announcements are no reason to look again.
                Ok(e) if e.kind.starts_with("threshold") => continue,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    tokio::select! {
                        _ = tokio::time::sleep(DEBOUNCE) => {}
                        _ = stop.changed() => return,
                    }
                    // What arrived meanwhile is covered by this evaluation.
                    while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = events.try_recv() {}
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = stop.changed() => return,
        }
        match evaluate(&store).await {
            Ok(alerts) if !alerts.is_empty() => {
                let (store, secrets, http) = (store.clone(), secrets.clone(), http.clone());
                tokio::spawn(async move { send_all(&store, &secrets, &http, alerts).await });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alerts: threshold evaluation failed"),
        }
    }
}

/// Sends `alerts` to their channels off the caller's path (an evaluation
/// outside the loop: a saved configuration takes effect at once).
pub fn dispatch(store: Store, secrets: Arc<SecretStore>, alerts: Vec<Alert>) {
    if alerts.is_empty() {
        return;
    }
    let http = match crate::http::client().timeout(SEND_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "alerts: cannot build an HTTP client");
            return;
        }
    };
    tokio::spawn(async move { send_all(&store, &secrets, &http, alerts).await });
}

/// Measures and decides in one write: the decision and its record commit
/// together, so a crossing is sent at most once.
pub async fn evaluate(store: &Store) -> callboard_core::Result<Vec<Alert>> {
    store.write(thresholds::run).await
}

/// The JSON every webhook channel gets: `text` for Slack and Teams, the
/// fields for any other receiver.
fn payload(a: &Alert) -> serde_json::Value {
    serde_json::json!({
        "text": a.text,
        "type": "threshold.crossed",
        "alert_id": a.id,
        "department": a.department,
        "metric": a.metric,
        "level": a.level,
        "value": a.value,
        "threshold": a.threshold,
        "at": a.at,
    })
}

async fn send_all(
    store: &Store,
    secrets: &SecretStore,
    http: &reqwest::Client,
    alerts: Vec<Alert>,
) {
    let cfg = match store.read(thresholds::config).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "alerts: cannot read the channels");
            return;
        }
    };
    let password = secrets.get(SMTP_PASSWORD).ok().flatten();
    for alert in alerts {
        let mut deliveries = Vec::new();
        let mut all_ok = true;
        for ch in cfg.channels.iter().filter(|c| c.wants(&alert.department)) {
            let r = match ch.kind {
                ChannelKind::Email => match &cfg.smtp {
                    Some(smtp) => send_mail(smtp, password.as_deref(), ch, &alert).await,
                    None => Err("no SMTP settings".to_string()),
                },
                _ => send_webhook(http, ch, &alert).await,
            };
            if let Err(e) = &r {
                all_ok = false;
                tracing::warn!(channel = ch.kind.as_str(), target = %ch.target, error = %e, "alert not delivered");
            }
            deliveries.push(serde_json::json!({
                "kind": ch.kind,
                "target": ch.target,
                "ok": r.is_ok(),
                "error": r.err(),
            }));
        }
        let deliveries = serde_json::Value::Array(deliveries);
        let id = alert.id;
        if let Err(e) = store
            .write(move |w| thresholds::record_delivery(w, id, all_ok, &deliveries))
            .await
        {
            tracing::warn!(error = %e, "alerts: cannot record a delivery");
        }
    }
}

async fn send_webhook(http: &reqwest::Client, ch: &Channel, a: &Alert) -> Result<(), String> {
    let r = http
        .post(&ch.target)
        .json(&payload(a))
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", r.status()))
    }
}

async fn send_mail(
    smtp: &Smtp,
    password: Option<&str>,
    ch: &Channel,
    a: &Alert,
) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let message = Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("from: {e}"))?)
        .to(ch.target.parse().map_err(|e| format!("to: {e}"))?)
        .subject(format!("Callboard: {}", a.text))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "{}\n\nDepartment: {}\nFigure: {}\nLevel: {}\nValue: {}\nThreshold: {}\nAt: {}\n",
            a.text,
            a.department,
            a.metric.as_str(),
            a.level.as_str(),
            a.value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "unknown".into()),
            a.threshold.map(|v| v.to_string()).unwrap_or_default(),
            a.at
        ))
        .map_err(|e| format!("message: {e}"))?;
    let builder = match smtp.security {
        SmtpSecurity::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        }
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| format!("smtp: {e}"))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| format!("smtp: {e}"))?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(pass)) = (&smtp.username, password) {
        builder = builder.credentials(Credentials::new(user.clone(), pass.to_string()));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("smtp: {e}"))
}
