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
