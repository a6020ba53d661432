//! What to send each platform to start a call back, and how to read its
//! answer. Agent first: the platform rings the agent, and only when the agent
//! picks up does it dial the customer, so a customer never answers to silence.

use super::{vonage, DialerConfig, DialerKind};
use crate::error::{Error, Result};
use crate::ivr::render::xml_escape;
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Form(Vec<(String, String)>),
    Json(Value),
}

/// One HTTP request, independent of any client library.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    /// HTTP basic credentials.
    pub basic: Option<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// The two ends and where the platform reports back.
#[derive(Debug, Clone)]
pub struct Dial<'a> {
    /// The agent's phone or platform id (see [`super::agent_endpoint`]).
    pub agent: &'a str,
    /// The customer's number, E.164 where known.
    pub customer: &'a str,
    /// The attempt's status URL (carries its token).
    pub status_url: &'a str,
    /// The attempt's answer URL (Plivo fetches the dial instruction there).
    pub answer_url: &'a str,
}

fn s(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn secret<'a>(secrets: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    secrets.get(name).map(|v| v.trim()).unwrap_or_default()
}

/// Vonage's Authorization header: a token of its own for each request.
fn vonage_bearer(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<(String, String)> {
    let app = cfg.field("application_id").unwrap_or_default();
    let jwt = vonage::bearer(secret(secrets, "private_key"), app, now).map_err(|e| {
        Error::invalid(format!(
            "the Vonage dialer's private_key cannot sign the request: the key is {e}"
        ))
    })?;
    Ok(s("authorization", &format!("Bearer {jwt}")))
}

/// Vonage takes numbers as E.164 digits without the `+`.
fn bare(number: &str) -> String {
    number.trim().trim_start_matches('+').to_string()
}

/// A form POST to Twilio's account resource `path` (`Calls.json`,
/// `Calls/{sid}.json`, `Messages.json`), with the account's basic auth.
fn twilio_post(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    path: &str,
    form: Vec<(String, String)>,
) -> Outbound {
    let sid = cfg.field("account_sid").unwrap_or_default().to_string();
    Outbound {
        method: Method::Post,
        url: format!("{}/2010-04-01/Accounts/{sid}/{path}", cfg.base_url()),
        query: vec![],
        basic: Some((sid, secret(secrets, "auth_token").to_string())),
        headers: vec![],
        body: Body::Form(form),
    }
}

/// The request that starts the call back. `secrets` holds the kind's secret
/// fields (checked complete by the caller); `now` dates a signed token. An
/// error means the settings cannot make a request (a key that does not sign).
pub fn build(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    d: &Dial<'_>,
    now: Timestamp,
) -> Result<Outbound> {
    let base = cfg.base_url();
    let field = |n: &str| cfg.field(n).unwrap_or_default().to_string();
    Ok(match cfg.kind {
        DialerKind::Exotel => {
            let sid = field("account_sid");
            Outbound {
                method: Method::Post,
                url: format!("{base}/v1/Accounts/{sid}/Calls/connect.json"),
                query: vec![],
                basic: Some((field("api_key"), secret(secrets, "api_token").to_string())),
                headers: vec![],
                body: Body::Form(vec![
                    s("From", d.agent),
                    s("To", d.customer),
                    s("CallerId", &field("caller_id")),
                    s("CallType", "trans"),
                    s("StatusCallback", d.status_url),
                    s("StatusCallbackContentType", "application/json"),
                    s("StatusCallbackEvents[0]", "terminal"),
                ]),
            }
        }
        DialerKind::Twilio => {
            let caller = field("caller_id");
            // The <Dial> action reports the customer leg (DialCallStatus);
            // the call's own status callback reports an agent who never
            // picked up.
            let twiml = format!(
                "<Response><Dial callerId=\"{}\" action=\"{}\" method=\"POST\"><Number>{}</Number></Dial></Response>",
                xml_escape(&caller),
                xml_escape(d.status_url),
                xml_escape(d.customer)
            );
            twilio_post(
                cfg,
                secrets,
                "Calls.json",
                vec![
                    s("To", d.agent),
                    s("From", &caller),
                    s("Twiml", &twiml),
                    s("StatusCallback", d.status_url),
                    s("StatusCallbackEvent", "completed"),
                    s("StatusCallbackMethod", "POST"),
                ],
            )
        }
        DialerKind::Plivo => {
            let id = field("auth_id");
            Outbound {
                method: Method::Post,
                url: format!("{base}/v1/Account/{id}/Call/"),
                query: vec![],
                basic: Some((id, secret(secrets, "auth_token").to_string())),
                headers: vec![],
                body: Body::Json(json!({
                    "from": field("caller_id"),
                    "to": d.agent,
                    "answer_url": d.answer_url,
                    "answer_method": "POST",
                    "hangup_url": d.status_url,
                    "hangup_method": "POST",
                })),
            }
        }
        DialerKind::Knowlarity => {
            let mut body = json!({
                "k_number": field("k_number"),
                "agent_number": d.agent,
                "customer_number": d.customer,
            });
            if let Some(c) = cfg.field("caller_id") {
                body["caller_id"] = Value::String(c.to_string());
            }
            Outbound {
                method: Method::Post,
                url: format!("{base}/Basic/v1/account/call/makecall"),
                query: vec![],
                basic: None,
                headers: vec![
                    s("x-api-key", secret(secrets, "api_key")),
                    s("authorization", secret(secrets, "sr_api_key")),
                ],
                body: Body::Json(body),
            }
        }
        DialerKind::Dialpad => {
            let mut body = json!({ "phone_number": d.customer, "user_id": d.agent });
            if let Some(c) = cfg.field("caller_id") {
                body["outbound_caller_id"] = Value::String(c.to_string());
            }
            Outbound {
                method: Method::Post,
                url: format!("{base}/api/v2/call"),
                query: vec![],
                basic: None,
                headers: vec![s(
                    "authorization",
                    &format!("Bearer {}", secret(secrets, "api_key")),
                )],
                body: Body::Json(body),
            }
        }
        DialerKind::Ozonetel => Outbound {
            method: Method::Get,
            url: format!("{base}/CAServices/AgentManualDial.php"),
            query: vec![
                s("api_key", secret(secrets, "api_key")),
                s("username", &field("username")),
                s("agentID", d.agent),
                s("campaignName", &field("campaign_name")),
                s("customerNumber", d.customer.trim_start_matches('+')),
                s("UCID", "true"),
            ],
            basic: None,
            headers: vec![],
            body: Body::None,
        },
        DialerKind::Vonage => {
            let caller = bare(&field("caller_id"));
            // Both legs report to the attempt's status URL; the query marks
            // the agent's leg, whose failure means the customer was never
            // dialled (the NCCO's `connect` reports the customer's leg).
            let sep = if d.status_url.contains('?') { '&' } else { '?' };
            let agent_events = format!("{}{sep}cb_leg=agent", d.status_url);
            Outbound {
                method: Method::Post,
                url: format!("{base}/v1/calls"),
                query: vec![],
                basic: None,
                headers: vec![vonage_bearer(cfg, secrets, now)?],
                body: Body::Json(json!({
                    "to": [{"type": "phone", "number": bare(d.agent)}],
                    "from": {"type": "phone", "number": caller},
                    "ncco": [{
                        "action": "connect",
                        "from": caller,
                        "eventUrl": [d.status_url],
                        "eventMethod": "POST",
                        "endpoint": [{"type": "phone", "number": bare(d.customer)}],
                    }],
                    "event_url": [agent_events],
                    "event_method": "POST",
                })),
            }
        }
    })
}

/// Plivo's answer URL: once the agent picks up, dial the customer; the
/// `<Dial>` action reports the customer leg.
pub fn plivo_answer(caller_id: &str, customer: &str, status_url: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Dial callerId=\"{}\" action=\"{}\" method=\"POST\"><Number>{}</Number></Dial></Response>",
        xml_escape(caller_id),
        xml_escape(status_url),
        xml_escape(customer.trim_start_matches('+'))
    )
}

/// The platform's own id for the call it started (its answer to a 2xx), or
/// why the answer says it refused although the status was 2xx.
pub fn accepted(kind: DialerKind, body: &[u8]) -> Result<Option<String>, String> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        // Some platforms answer an empty or plain body on success.
        Err(_) => return Ok(None),
    };
    let str_at = |ptr: &str| {
        v.pointer(ptr).and_then(|x| match x {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match kind {
        DialerKind::Exotel => Ok(str_at("/Call/Sid")),
        DialerKind::Twilio => Ok(str_at("/sid")),
        DialerKind::Plivo => Ok(str_at("/request_uuid")),
        DialerKind::Knowlarity => {
            if let Some(e) = v.get("error") {
                return Err(format!(
                    "Knowlarity refused the call: {}",
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                ));
            }
            Ok(str_at("/success/call_id").or_else(|| str_at("/call_id")))
        }
        DialerKind::Dialpad => Ok(str_at("/call_id").or_else(|| str_at("/id"))),
        DialerKind::Vonage => Ok(str_at("/uuid")),
        DialerKind::Ozonetel => {
            let status = str_at("/status").unwrap_or_default().to_ascii_lowercase();
            if status.contains("error") || status.contains("fail") {
                let why = str_at("/message").unwrap_or(status);
                return Err(format!("Ozonetel refused the call: {why}"));
            }
            Ok(str_at("/ucid"))
        }
    }
}

/// Twilio: ring an agent for an IVR queue (`twiml`: the leg's TwiML, which
/// dials the caller's queue). `None` for a dialer of another platform.
pub fn twilio_queue_leg(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    agent: &str,
    twiml: &str,
    ring_seconds: u32,
) -> Option<Outbound> {
    let caller = cfg.field("caller_id").unwrap_or_default();
    (cfg.kind == DialerKind::Twilio).then(|| {
        twilio_post(
            cfg,
            secrets,
            "Calls.json",
            vec![
                s("To", agent),
                s("From", caller),
                s("Twiml", twiml),
                // Twilio rings for at most 600 s.
                s("Timeout", &ring_seconds.clamp(5, 600).to_string()),
            ],
        )
    })
}

/// Twilio: stop an agent's call that has not been answered (`canceled`
/// leaves a call already in progress alone).
pub fn twilio_cancel(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    call_sid: &str,
) -> Option<Outbound> {
    (cfg.kind == DialerKind::Twilio).then(|| {
        twilio_post(
            cfg,
            secrets,
            &format!("Calls/{call_sid}.json"),
            vec![s("Status", "canceled")],
        )
    })
}

/// What a refusal's body says, short, for the attempt's record.
pub fn refusal_reason(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let candidates = [
        "/message",
        "/error",
        "/error/message",
        "/RestException/Message",
        // Vonage's RFC 7807 problem: `title`, `detail` and, for a
        // validation error, the `invalid_parameters` that say which.
        "/detail",
        "/title",
    ];
    let mut why = candidates
        .iter()
        .filter_map(|p| v.pointer(p).and_then(Value::as_str))
        .next()?
        .to_string();
    if let Some(p) = v.pointer("/invalid_parameters/0") {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let reason = p.get("reason").and_then(Value::as_str).unwrap_or_default();
        why = format!("{why} ({name}: {reason})");
    }
    Some(why.chars().take(300).collect())
}

/// Whether Callboard can send SMS through `kind` (its SMS API is known).
pub fn sends_sms(kind: DialerKind) -> bool {
    matches!(
        kind,
        DialerKind::Exotel
            | DialerKind::Twilio
            | DialerKind::Plivo
            | DialerKind::Vonage
            | DialerKind::Dialpad
    )
}

/// The request that sends `text` to `to` from the dialer's caller id (the
/// platform's number or sender id; Dialpad's `sms_user_id`); `Ok(None)` for a
/// platform without an SMS API here, an error for settings that cannot send
/// (a Dialpad dialer without its sender, a Vonage key that does not sign).
pub fn sms(
    cfg: &DialerConfig,
    secrets: &BTreeMap<String, String>,
    to: &str,
    text: &str,
    now: Timestamp,
) -> Result<Option<Outbound>> {
    let base = cfg.base_url();
    let field = |n: &str| cfg.field(n).unwrap_or_default().to_string();
    Ok(match cfg.kind {
        DialerKind::Exotel => Some(Outbound {
            method: Method::Post,
            url: format!("{base}/v1/Accounts/{}/Sms/send.json", field("account_sid")),
            query: vec![],
            basic: Some((field("api_key"), secret(secrets, "api_token").to_string())),
            headers: vec![],
            body: Body::Form(vec![
                s("From", &field("caller_id")),
                s("To", to),
                s("Body", text),
            ]),
        }),
        DialerKind::Twilio => Some(twilio_post(
            cfg,
            secrets,
            "Messages.json",
            vec![s("From", &field("caller_id")), s("To", to), s("Body", text)],
        )),
        DialerKind::Plivo => {
            let id = field("auth_id");
            Some(Outbound {
                method: Method::Post,
                url: format!("{base}/v1/Account/{id}/Message/"),
                query: vec![],
                basic: Some((id, secret(secrets, "auth_token").to_string())),
                headers: vec![],
                body: Body::Json(json!({
                    "src": field("caller_id"),
                    "dst": to.trim_start_matches('+'),
                    "text": text,
                })),
            })
        }
        // The Messages API, with the same application token as a call.
        DialerKind::Vonage => Some(Outbound {
            method: Method::Post,
            url: format!("{base}/v1/messages"),
            query: vec![],
            basic: None,
            headers: vec![vonage_bearer(cfg, secrets, now)?],
            body: Body::Json(json!({
                "message_type": "text",
                "channel": "sms",
                "to": bare(to),
                "from": bare(&field("caller_id")),
                "text": text,
            })),
        }),
        DialerKind::Dialpad => {
            let Some(user) = cfg.field("sms_user_id") else {
                return Err(Error::invalid(
                    "the Dialpad dialer has no sms_user_id: set the Dialpad user texts are sent as",
                ));
            };
            let user_id = user
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(user.to_string()));
            Some(Outbound {
                method: Method::Post,
                url: format!("{base}/api/v2/sms"),
                query: vec![],
                basic: None,
                headers: vec![s(
                    "authorization",
                    &format!("Bearer {}", secret(secrets, "api_key")),
                )],
                body: Body::Json(json!({
                    "user_id": user_id,
                    "to_numbers": [to],
                    "text": text,
                    // A number kept as received without its country code
                    // is read in the sender's country rather than refused.
                    "infer_country_code": !to.trim().starts_with('+'),
                })),
            })
        }
        DialerKind::Knowlarity | DialerKind::Ozonetel => None,
    })
}

/// The platform's id for a message it accepted, or why a success status
/// still says it will not send it (Dialpad's `message_status: failed`).
pub fn sms_accepted(kind: DialerKind, body: &[u8]) -> std::result::Result<Option<String>, String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let id_at = |ptr: &str| {
        v.pointer(ptr).and_then(|x| match x {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    Ok(match kind {
        DialerKind::Exotel => id_at("/SMSMessage/Sid"),
        DialerKind::Twilio => id_at("/sid"),
        DialerKind::Plivo => id_at("/message_uuid/0"),
        DialerKind::Vonage => id_at("/message_uuid"),
        DialerKind::Dialpad => {
            let status = v.get("message_status").and_then(Value::as_str);
            if status.is_some_and(|s| s.eq_ignore_ascii_case("failed")) {
                let why = v
                    .get("message_delivery_result")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                return Err(format!("Dialpad did not send the message: {why}"));
            }
            id_at("/id")
        }
        DialerKind::Knowlarity | DialerKind::Ozonetel => None,
    })
}
