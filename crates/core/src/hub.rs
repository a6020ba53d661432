//! The event hub: committed changes, in `seq` order, fanned out to every
//! subscriber (WebSocket clients, notifiers, replicas). Publishing never
//! blocks: a subscriber that falls behind is told it lagged.

use serde::Serialize;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Who may see an event besides its department's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Everyone allowed to see the department (all, when there is none).
    All,
    /// Administrators only (users, audit).
    Admin,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::All => "all",
            Audience::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Audience {
        if s == "admin" {
            Audience::Admin
        } else {
            Audience::All
        }
    }
}

/// The stream's event kinds: a message's `type`. The payload of each is
/// documented by the API's `StreamMessage` schema.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum EventKind {
    /// A call was created or changed (data: the call).
    #[serde(rename = "call.upserted")]
    CallUpserted,
    /// A callback SLA ran out (data: the call, with `sla_breached_at`).
    #[serde(rename = "call.sla_breached")]
    CallSlaBreached,
    /// A disposition was saved (data: the disposition and the call).
    #[serde(rename = "disposition.saved")]
    DispositionSaved,
    /// A provider was created or changed (data: the provider).
    #[serde(rename = "provider.changed")]
    ProviderChanged,
    /// A category was created or changed (data: the category).
    #[serde(rename = "category.changed")]
    CategoryChanged,
    /// A user was created or changed; administrators only (data: the user).
    #[serde(rename = "user.changed")]
    UserChanged,
    /// An agent's availability changed (data: the agent's status).
    #[serde(rename = "agent.state_changed")]
    AgentStateChanged,
    /// An IVR flow was created, saved, published, rolled back or deleted;
    /// administrators only (data: `{action, flow}`).
    #[serde(rename = "flow.changed")]
    FlowChanged,
    /// The thresholds were replaced (data: the thresholds).
    #[serde(rename = "thresholds.updated")]
    ThresholdsUpdated,
    /// A threshold changed level (data: `{department, metric, level, previous, value, threshold}`).
    #[serde(rename = "threshold.crossed")]
    ThresholdCrossed,
    /// A caller left a voicemail (data: the voicemail and `for_user_id`, the
    /// user it is meant for, whom the console and the desktop notify).
    #[serde(rename = "voicemail.received")]
    VoicemailReceived,
    /// A lead was created or updated by the lead webhook (data: the lead).
    #[serde(rename = "lead.upserted")]
    LeadUpserted,
    /// `since` is older than the log holds: take a fresh snapshot.
    #[serde(rename = "reload")]
    Reload,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::CallUpserted,
        EventKind::CallSlaBreached,
        EventKind::DispositionSaved,
        EventKind::ProviderChanged,
        EventKind::CategoryChanged,
        EventKind::UserChanged,
        EventKind::AgentStateChanged,
        EventKind::FlowChanged,
        EventKind::ThresholdsUpdated,
        EventKind::ThresholdCrossed,
        EventKind::VoicemailReceived,
        EventKind::LeadUpserted,
        EventKind::Reload,
    ];

    /// The wire string (the `type` of a message, the log's `type` column).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CallUpserted => "call.upserted",
            EventKind::CallSlaBreached => "call.sla_breached",
            EventKind::DispositionSaved => "disposition.saved",
            EventKind::ProviderChanged => "provider.changed",
            EventKind::CategoryChanged => "category.changed",
            EventKind::UserChanged => "user.changed",
            EventKind::AgentStateChanged => "agent.state_changed",
            EventKind::FlowChanged => "flow.changed",
            EventKind::ThresholdsUpdated => "thresholds.updated",
            EventKind::ThresholdCrossed => "threshold.crossed",
            EventKind::VoicemailReceived => "voicemail.received",
            EventKind::LeadUpserted => "lead.upserted",
            EventKind::Reload => "reload",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One logged event. `kind` stays the logged string: a replica relays the
/// receiver's events as they were written.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub department: Option<String>,
    pub audience: Audience,
    pub at: String,
    /// The event's `data`, already serialised once for every consumer.
    pub data: String,
}

impl Event {
    /// The wire form: `{"seq":N,"type":"…","data":{…}}`.
    pub fn to_message(&self) -> String {
        let kind = serde_json::to_string(&self.kind).unwrap_or_else(|_| "\"\"".into());
        format!(
            "{{\"seq\":{},\"type\":{},\"at\":\"{}\",\"data\":{}}}",
            self.seq, kind, self.at, self.data
        )
    }
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    head: Arc<AtomicI64>,
}

impl Hub {
    pub fn new(capacity: usize, head: i64) -> Hub {
        let (tx, _) = broadcast::channel(capacity);
        Hub {
            tx,
            head: Arc::new(AtomicI64::new(head)),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Live subscribers (event streams and replicas following).
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// The newest published seq.
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }

    pub(crate) fn publish(&self, event: Event) {
        self.head.store(event.seq, Ordering::Release);
        // No receivers is normal (nobody connected): not an error.
        let _ = self.tx.send(Arc::new(event));
    }
}

#[cfg(test)]
mod kind_tests {
    use super::EventKind;

    #[test]
    fn every_event_kind_serialises_as_its_wire_string() {
        for kind in EventKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str(), "{kind:?}");
            let back: EventKind = serde_json::from_value(json).unwrap();
            assert_eq!(back, *kind);
        }
    }
}
