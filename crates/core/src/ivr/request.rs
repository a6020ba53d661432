//! Each dialect's request (query, form or JSON, already normalised to one
//! JSON object) read into a platform-neutral event.

use super::exec::IvrEvent;
use super::render::Dialect;
use serde_json::Value;

/// A platform request in no platform's words.
#[derive(Debug, Clone, PartialEq)]
pub struct IvrRequest {
    pub call_id: String,
    pub caller: Option<String>,
    pub did: Option<String>,
    pub event: IvrEvent,
    /// The step the action URL carried (`s=`), when it did.
    pub step: Option<u64>,
}

/// Why a request cannot be read (answered with a 400, like webhooks).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        let mut cur = v;
        for part in k.split('.') {
            cur = cur.get(part)?;
        }
        match cur {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    })
}

/// One field of a platform request as text (a number as its digits),
/// trimmed; none when missing or blank.
pub fn field(v: &Value, key: &str) -> Option<String> {
    text(v, &[key])
}

fn present(v: &Value, key: &str) -> bool {
    v.get(key).is_some()
}

/// Digits as the platform sent them: Exotel wraps them in quotes (`"1"`).
fn digits(raw: &str) -> String {
    raw.trim().trim_matches('"').trim().to_string()
}

fn keys_or_timeout(d: Option<String>) -> IvrEvent {
    match d.map(|d| digits(&d)).filter(|d| !d.is_empty()) {
        Some(d) => IvrEvent::Digits { digits: d },
        None => IvrEvent::Timeout,
    }
}

fn dial_answered(status: &str) -> bool {
    matches!(
        status.to_ascii_lowercase().as_str(),
        "completed" | "answered" | "answer" | "in-progress"
    )
}

const ENDED: [&str; 7] = [
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
    "cancelled",
    "hangup",
];

/// Reads one request of `dialect`. `status` is set for `/ivr/{slug}/status`.
pub fn parse(dialect: Dialect, v: &Value, status: bool) -> Result<IvrRequest, Unreadable> {
    if !v.is_object() {
        return Err(Unreadable("the request is not a set of fields".into()));
    }
    let step = text(v, &["s"]).and_then(|s| s.parse().ok());
    let timeout_marker = text(v, &["ev"]).as_deref() == Some("timeout");
    let need = |id: Option<String>, name: &str| {
        id.ok_or_else(|| Unreadable(format!("the request has no `{name}` (the call id)")))
    };
    let req = match dialect {
        Dialect::Twilio | Dialect::Exotel => {
            let call_id = need(text(v, &["CallSid"]), "CallSid")?;
            let caller = text(v, &["From", "CallFrom"]);
            let did = text(v, &["To", "CallTo"]);
            let call_status = text(v, &["CallStatus", "Status"]).unwrap_or_default();
            let event = if timeout_marker {
                IvrEvent::Timeout
            } else if let Some(r) = text(v, &["QueueResult"]) {
                // Twilio's `<Enqueue>` action: how the caller left the queue.
                match r.to_ascii_lowercase().as_str() {
                    "bridged" | "bridging-in-process" => IvrEvent::Dialed { answered: true },
                    "hangup" => IvrEvent::Hangup,
                    // leave (the slice is up), error, queue-full,
                    // redirected, system-shutdown: nobody took the call.
                    _ => IvrEvent::Dialed { answered: false },
                }
            } else if let Some(s) = text(v, &["DialCallStatus"]) {
                IvrEvent::Dialed {
                    answered: dial_answered(&s),
                }
            } else if present(v, "RecordingUrl") {
                IvrEvent::Recorded {
                    url: text(v, &["RecordingUrl"]),
                }
            } else if present(v, "Digits") || present(v, "digits") {
                keys_or_timeout(text(v, &["Digits", "digits"]))
            } else if status
                || ENDED.contains(&call_status.to_ascii_lowercase().as_str())
                || text(v, &["CallType"]).as_deref() == Some("client-hangup")
            {
                IvrEvent::Hangup
            } else if step.is_some() {
                IvrEvent::Continue
            } else {
                IvrEvent::Start
            };
            IvrRequest {
                call_id,
                caller,
                did,
                event,
                step,
            }
        }
        Dialect::Plivo => {
            let call_id = need(text(v, &["CallUUID"]), "CallUUID")?;
            let event = if timeout_marker {
                IvrEvent::Timeout
            } else if let Some(s) = text(v, &["DialStatus", "DialBLegStatus"]) {
                IvrEvent::Dialed {
                    answered: dial_answered(&s),
                }
            } else if present(v, "RecordUrl") {
                IvrEvent::Recorded {
                    url: text(v, &["RecordUrl"]),
                }
            } else if present(v, "Digits") {
                keys_or_timeout(text(v, &["Digits"]))
            } else if status
                || text(v, &["Event"]).as_deref() == Some("Hangup")
                || ENDED.contains(
                    &text(v, &["CallStatus"])
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                        .as_str(),
                )
            {
                IvrEvent::Hangup
            } else if step.is_some() {
                IvrEvent::Continue
            } else {
                IvrEvent::Start
            };
            IvrRequest {
                call_id,
                caller: text(v, &["From"]),
                did: text(v, &["To"]),
                event,
                step,
            }
        }
        Dialect::Kookoo => {
            let call_id = need(text(v, &["sid"]), "sid")?;
            let ev = text(v, &["event"]).unwrap_or_default();
            let event = match ev.as_str() {
                "NewCall" => IvrEvent::Start,
                "GotDTMF" => keys_or_timeout(text(v, &["data"])),
                "Dial" => IvrEvent::Dialed {
                    answered: text(v, &["status"]).is_some_and(|s| dial_answered(&s)),
                },
                "Record" => IvrEvent::Recorded {
                    url: text(v, &["data"]),
                },
                "Hangup" | "Disconnect" => IvrEvent::Hangup,
                "" if status => IvrEvent::Hangup,
                other => {
                    return Err(Unreadable(format!(
                        "unknown KooKoo event `{other}` (NewCall, GotDTMF, Dial, Record, Hangup, Disconnect)"
                    )))
                }
            };
            IvrRequest {
                call_id,
                caller: text(v, &["cid"]),
                did: text(v, &["called_number"]),
                event,
                step,
            }
        }
        Dialect::Vonage => {
            let call_id = need(text(v, &["uuid", "conversation_uuid"]), "uuid")?;
            let vstatus = text(v, &["status"]).unwrap_or_default();
            let event = if v.get("dtmf").is_some() {
                let timed_out = v
                    .pointer("/dtmf/timed_out")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let d = text(v, &["dtmf.digits"]);
                if timed_out && d.is_none() {
                    IvrEvent::Timeout
                } else {
                    keys_or_timeout(d)
                }
            } else if present(v, "recording_url") {
                IvrEvent::Recorded {
                    url: text(v, &["recording_url"]),
                }
            } else if matches!(
                vstatus.as_str(),
                "timeout" | "unanswered" | "busy" | "failed" | "rejected" | "cancelled"
            ) && !status
            {
                IvrEvent::Dialed { answered: false }
            } else if vstatus == "answered" && step.is_some() {
                IvrEvent::Dialed { answered: true }
            } else if vstatus == "completed" || status {
                IvrEvent::Hangup
            } else if step.is_some() {
                IvrEvent::Continue
            } else {
                IvrEvent::Start
            };
            IvrRequest {
                call_id,
                caller: text(v, &["from"]),
                did: text(v, &["to"]),
                event,
                step,
            }
        }
        Dialect::Json => {
            let call_id = need(text(v, &["call_id"]), "call_id")?;
            let ev = text(v, &["event"]).unwrap_or_else(|| "start".into());
            let event = match ev.as_str() {
                "start" => IvrEvent::Start,
                "digits" => keys_or_timeout(text(v, &["digits"])),
                "timeout" => IvrEvent::Timeout,
                "dial" | "dialed" => IvrEvent::Dialed {
                    answered: v.get("answered").and_then(Value::as_bool).unwrap_or(false),
                },
                "record" | "recorded" => IvrEvent::Recorded {
                    url: text(v, &["recording_url"]),
                },
                "hangup" => IvrEvent::Hangup,
                "continue" => IvrEvent::Continue,
                other => {
                    return Err(Unreadable(format!(
                        "unknown event `{other}` (start, digits, timeout, dial, record, hangup, continue)"
                    )))
                }
            };
            IvrRequest {
                call_id,
                caller: text(v, &["caller"]),
                did: text(v, &["did"]),
                event,
                step,
            }
        }
    };
    if req.call_id.len() > 200 {
        return Err(Unreadable(
            "the call id is longer than 200 characters".into(),
        ));
    }
    Ok(req)
}
