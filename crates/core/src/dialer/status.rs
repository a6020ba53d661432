//! Reading a platform's report on a call back: the customer leg's end (the
//! outcome that counts), or an agent who never picked up (the customer was
//! not dialled, so it is not an attempt on the caller).

use super::DialerKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a call back stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    /// Recorded; the platform has not been asked yet (or the answer was lost).
    Requested,
    /// The platform accepted the request and is ringing the agent.
    Dialling,
    /// The customer answered.
    Connected,
    NoAnswer,
    Busy,
    /// The platform refused or could not place the call.
    Failed,
    /// The agent's phone did not answer; the customer was not dialled.
    AgentUnreachable,
}

impl AttemptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Requested => "requested",
            AttemptState::Dialling => "dialling",
            AttemptState::Connected => "connected",
            AttemptState::NoAnswer => "no_answer",
            AttemptState::Busy => "busy",
            AttemptState::Failed => "failed",
            AttemptState::AgentUnreachable => "agent_unreachable",
        }
    }

    pub fn parse(s: &str) -> Option<AttemptState> {
        [
            AttemptState::Requested,
            AttemptState::Dialling,
            AttemptState::Connected,
            AttemptState::NoAnswer,
            AttemptState::Busy,
            AttemptState::Failed,
            AttemptState::AgentUnreachable,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, AttemptState::Requested | AttemptState::Dialling)
    }

    /// The customer was dialled: the call back counts as an attempt on the
    /// caller (the worklist's "attempted", the callback SLA's figures).
    pub fn reached_customer_leg(self) -> bool {
        matches!(
            self,
            AttemptState::Connected | AttemptState::NoAnswer | AttemptState::Busy
        )
    }
}

/// One report read from a status request.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub state: AttemptState,
    pub duration_seconds: Option<i64>,
    /// The platform's status word, kept for the record.
    pub raw: String,
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_ascii_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn seconds(m: &Map<String, Value>, k: &str) -> Option<i64> {
    match m.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f.round() as i64),
        _ => None,
    }
    .filter(|s| (0..=86_400).contains(s))
}

/// The customer leg's status word → state (Twilio, Plivo, Exotel use the
/// same words, Plivo also `timeout`).
fn customer_leg(word: &str, duration: Option<i64>) -> AttemptState {
    match word {
        "completed" | "answered" | "in-progress" => {
            if duration == Some(0) {
                AttemptState::NoAnswer
            } else {
                AttemptState::Connected
            }
        }
        "busy" => AttemptState::Busy,
        "no-answer" | "timeout" | "canceled" | "cancel" | "no_answer" => AttemptState::NoAnswer,
        _ => AttemptState::Failed,
    }
}

/// Reads a status request's fields (form, query or JSON merged into one
/// object). `None`: nothing to record (an intermediate event, or the parent
/// call's end after the customer leg was already reported).
pub fn parse(kind: DialerKind, m: &Map<String, Value>) -> Option<Update> {
    match kind {
        DialerKind::Exotel => {
            let status = text(m, "Status")?;
            let legs = m.get("Legs").and_then(Value::as_array);
            let leg_status = |i: usize| {
                legs.and_then(|l| l.get(i))
                    .and_then(Value::as_object)
                    .and_then(|o| text(o, "Status"))
            };
            let duration = seconds(m, "ConversationDuration");
            // Leg 1 is the agent (From), leg 2 the customer (To).
            let agent = leg_status(0);
            let state = match (agent.as_deref(), leg_status(1)) {
                (Some(a), _) if a != "completed" && a != "answered" => {
                    AttemptState::AgentUnreachable
                }
                (_, Some(c)) => customer_leg(&c, duration),
                (_, None) => customer_leg(&status, duration),
            };
            Some(Update {
                state,
                duration_seconds: duration,
                raw: status,
            })
        }
        DialerKind::Twilio | DialerKind::Plivo => {
            let (dial_status, dial_duration, call_status) = if kind == DialerKind::Twilio {
                ("DialCallStatus", "DialCallDuration", "CallStatus")
            } else {
                ("DialStatus", "DialBLegDuration", "CallStatus")
            };
            if let Some(word) = text(m, dial_status) {
                let duration = seconds(m, dial_duration);
                return Some(Update {
                    state: customer_leg(&word, duration),
                    duration_seconds: duration,
                    raw: word,
                });
            }
            let word = text(m, call_status)?;
            match word.as_str() {
                // The agent's leg ended normally: the <Dial> report (which
                // comes first) holds the outcome.
                "completed" | "in-progress" | "ringing" | "queued" | "initiated" => None,
                _ => Some(Update {
                    state: AttemptState::AgentUnreachable,
                    duration_seconds: None,
                    raw: word,
                }),
            }
        }
        DialerKind::Vonage => {
            let word = text(m, "status")?;
            let duration = seconds(m, "duration");
            let state = if text(m, "cb_leg").as_deref() == Some("agent") {
                match word.as_str() {
                    // The agent's leg ended without an answer: the NCCO
                    // that dials the customer never ran.
                    "busy" | "timeout" | "failed" | "rejected" | "cancelled" | "unanswered" => {
                        AttemptState::AgentUnreachable
                    }
                    // Answered, or its end after the customer's leg was
                    // reported (which holds the outcome).
                    _ => return None,
                }
            } else {
                match word.as_str() {
                    // A leg that never rang reports its failure first (and
                    // the first report wins); a zero-second end is not a
                    // conversation, as for the other platforms.
                    "completed" => customer_leg("completed", duration),
                    "busy" => AttemptState::Busy,
                    "timeout" | "unanswered" | "cancelled" => AttemptState::NoAnswer,
                    // Refused before it rang (a barred or invalid number).
                    "failed" | "rejected" => AttemptState::Failed,
                    // started, ringing, answered: the end is still to come.
                    _ => return None,
                }
            };
            Some(Update {
                state,
                duration_seconds: duration,
                raw: word,
            })
        }
        DialerKind::Knowlarity | DialerKind::Dialpad | DialerKind::Ozonetel => None,
    }
}
