//! 3CX's Call Control API (v20) as a pull connector, for live states that
//! call journaling (the `3cx` preset's template) cannot give: Callboard
//! signs in as the 3CX API application (`POST /connect/token`, client
//! credentials), reads the participants of every DN the application may see
//! (`GET /callcontrol`), then follows `wss://…/callcontrol/ws`, reading each
//! changed participant (`GET /callcontrol/{dn}/participants/{id}`).
//!
//! A call is 3CX's `callid`; its participants on several DNs (a queue, the
//! agents it rings) are folded into one call here, so that an agent's phone
//! that stops ringing does not end a call another agent took. The DN's type
//! (from the snapshot) says whose phone a participant is: on an extension
//! (`Wextension`) an agent's, on a queue, IVR or trunk the caller held by
//! the PBX. The call waits while only the PBX holds it, rings once an
//! extension rings (or dials out), talks once an extension is `Connected`,
//! and ends when its last participant is removed — answered if an extension
//! ever was connected. 3CX's example dialer reads `Dialing` as an outgoing
//! call and `Ringing` as an incoming one; so does the direction here. The
//! agent is the extension that dials out or that took the call. Each change
//! becomes one JSON document in the `3cx` preset's vocabulary (`call_type`
//! `Waiting`, `Ringing`, `Connected`, `Ended`, `Unanswered`, and `Notanswered`
//! for an outgoing call nobody picked up), fed through
//! the provider's mapping like a webhook delivery.
//!
//! Written from 3CX's own example application (github.com/3cx/
//! call-control-examples: the token request, the WebSocket's `{sequence,
//! event: {event_type, entity}}` frames, `CallParticipant`); not tried
//! against a live 3CX.

use crate::streams::Streams;
use callboard_core::store::calls;
use callboard_core::Store;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The connector kind of a 3CX Call Control stream (`connectors.kind`).
pub const KIND: &str = "3cx_call_control";

/// The call ids this stream makes: `3cx-<callid>`.
const CALL_PREFIX: &str = "3cx-";

/// A token is renewed this long before 3CX says it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// 3CX's `CallParticipant` (the fields used).
#[derive(Debug, Default, Deserialize)]
struct Participant {
    id: Option<i64>,
    status: Option<String>,
    party_caller_name: Option<String>,
    party_caller_id: Option<String>,
    callid: Option<i64>,
    dn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DnInfo {
    dn: Option<String>,
    /// `Wextension`, `Wqueue`, `Wivr`, `Wroutepoint`, `Wexternalline`, …
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    participants: Option<Vec<Participant>>,
}

#[derive(Debug, Deserialize)]
struct Frame {
    sequence: Option<i64>,
    event: Option<FrameEvent>,
}

#[derive(Debug, Deserialize)]
struct FrameEvent {
    event_type: i64,
    entity: String,
}

/// What Callboard knows of one 3CX call.
#[derive(Debug, Default)]
struct Call {
    /// Its live participants (their entity paths).
    live: BTreeSet<String>,
    /// An extension rang (or dialled out) for it.
    rang: bool,
    /// An extension was connected on it.
    answered: bool,
    /// From the first status that says.
    direction: Option<Direction>,
    /// The extension that dials out or took the call.
    agent: Option<String>,
    number: Option<String>,
    name: Option<String>,
    dn: Option<String>,
    /// The last `call_type` and agent sent for it.
    sent: Option<(&'static str, Option<String>)>,
}

/// Which way a call goes, in the preset's words.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Inbound,
    Outbound,
}

impl Call {
    /// Its `call_type` while a participant is live.
    fn live_state(&self) -> &'static str {
        if self.answered {
            "Connected"
        } else if self.rang {
            "Ringing"
        } else {
            "Waiting"
        }
    }

    /// Its `call_type` once its last participant is gone: an outgoing call
    /// nobody picked up failed (nobody to call back).
    fn end_state(&self) -> &'static str {
        match (self.answered, self.direction) {
            (true, _) => "Ended",
            (false, Some(Direction::Outbound)) => "Notanswered",
            (false, _) => "Unanswered",
        }
    }
}

/// Whose phone a DN's participant is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    /// An extension: an agent's phone.
    Agent,
    /// A queue, IVR, route point or trunk: the PBX holding the caller.
    Pbx,
}

impl Side {
    /// A DN of an unknown type (not in the snapshot) counts as an agent's,
    /// so that its `Connected` still reads as talking.
    fn of(kind: Option<&str>) -> Side {
        match kind {
            Some(k) if !k.eq_ignore_ascii_case("Wextension") => Side::Pbx,
            _ => Side::Agent,
        }
    }
}

/// The calls of one connector, kept across reconnections so that a call
/// that ended while the stream was down is ended at the next snapshot.
#[derive(Debug, Default)]
pub struct Calls {
    calls: BTreeMap<i64, Call>,
    /// Entity path → call id, to find a removed participant's call.
    entities: BTreeMap<String, i64>,
    /// DN → its type, as the last snapshot gave it.
    kinds: BTreeMap<String, String>,
}

impl Calls {
    /// A participant of `dn` as read now: the documents to ingest (none
    /// when the call's state did not change).
    fn upsert(&mut self, entity: &str, dn: &str, p: &Participant) -> Vec<Value> {
        let Some(callid) = p.callid else {
            return Vec::new();
        };
        self.entities.insert(entity.to_string(), callid);
        let side = Side::of(self.kinds.get(dn).map(String::as_str));
        let call = self.calls.entry(callid).or_default();
        let status = p.status.as_deref().unwrap_or_default();
        let is = |s: &str| status.eq_ignore_ascii_case(s);
        if is("Dialing") {
            call.direction.get_or_insert(Direction::Outbound);
        } else if is("Ringing") || side == Side::Pbx {
            call.direction.get_or_insert(Direction::Inbound);
        }
        if side == Side::Agent {
            if is("Connected") {
                call.answered = true;
                call.agent = Some(dn.to_string());
            } else if is("Dialing") {
                call.rang = true;
                call.agent = Some(dn.to_string());
            } else if is("Ringing") {
                call.rang = true;
            }
        }
        call.live.insert(entity.to_string());
        if call.number.is_none() {
            call.number = p.party_caller_id.clone().filter(|s| !s.is_empty());
        }
        if call.name.is_none() {
            call.name = p.party_caller_name.clone().filter(|s| !s.is_empty());
        }
        if call.dn.is_none() {
            call.dn = Some(p.dn.clone().unwrap_or_else(|| dn.to_string()));
        }
        let state = call.live_state();
        emit(callid, call, state)
    }

    /// A participant 3CX removed: its call ends when it was the last.
    fn remove(&mut self, entity: &str) -> Vec<Value> {
        let Some(callid) = self.entities.remove(entity) else {
            return Vec::new();
        };
        let Some(call) = self.calls.get_mut(&callid) else {
            return Vec::new();
        };
        call.live.remove(entity);
        if !call.live.is_empty() {
            return Vec::new();
        }
        let state = call.end_state();
        let out = emit(callid, call, state);
        self.calls.remove(&callid);
        out
    }

    /// A fresh snapshot (after a (re)connection): every participant read
    /// again; those no longer there were removed while the stream was down.
    /// `on_board`: the calls the board still shows live (with whether they
    /// were answered) — those this process never saw (it started since) and
    /// 3CX no longer has end too.
    fn snapshot(&mut self, dns: Vec<DnInfo>, on_board: &[(i64, bool)]) -> Vec<Value> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for d in &dns {
            if let (Some(dn), Some(kind)) = (&d.dn, &d.kind) {
                self.kinds.insert(dn.clone(), kind.clone());
            }
        }
        for d in dns {
            let dn = d.dn.unwrap_or_default();
            for p in d.participants.unwrap_or_default() {
                let Some(id) = p.id else { continue };
                let entity = format!("/callcontrol/{dn}/participants/{id}");
                seen.insert(entity.clone());
                out.extend(self.upsert(&entity, &dn, &p));
            }
        }
        let gone: Vec<String> = self
            .entities
            .keys()
            .filter(|e| !seen.contains(*e))
            .cloned()
            .collect();
        for e in gone {
            out.extend(self.remove(&e));
        }
        for &(callid, answered) in on_board {
            if !self.calls.contains_key(&callid) {
                let mut call = Call {
                    answered,
                    ..Call::default()
                };
                let state = call.end_state();
                out.extend(emit(callid, &mut call, state));
            }
        }
        out
    }
}

/// The document for a call's new state, or for a new agent on it (a
/// transfer); nothing when neither changed.
fn emit(callid: i64, call: &mut Call, state: &'static str) -> Vec<Value> {
    let now = (state, call.agent.clone());
    if call.sent.as_ref() == Some(&now) {
        return Vec::new();
    }
    call.sent = Some(now);
    let mut event_id = format!("{CALL_PREFIX}{callid}-{}", state.to_ascii_lowercase());
    // The agent is in the event id: a transfer is news, not a duplicate.
    if let Some(agent) = &call.agent {
        event_id = format!("{event_id}-{agent}");
    }
    vec![json!({
        "call_id": format!("{CALL_PREFIX}{callid}"),
        "event_id": event_id,
        "call_type": state,
        "direction": call.direction,
        "agent": call.agent,
        "number": call.number,
        "name": call.name,
        "dn": call.dn,
    })]
}

/// The DN of a participant entity (`/callcontrol/{dn}/participants/{id}`);
/// none for any other entity.
fn participant_dn(entity: &str) -> Option<&str> {
    let rest = entity.strip_prefix("/callcontrol/")?;
    let (dn, id) = rest.split_once("/participants/")?;
    (!dn.is_empty() && !id.is_empty() && !id.contains('/')).then_some(dn)
}

/// An application's access token, renewed before it expires.
struct Token {
    value: String,
    until: Instant,
}

struct Api {
    http: reqwest::Client,
    base: String,
    client_id: String,
    secret: String,
    token: Option<Token>,
}

impl Api {
    async fn bearer(&mut self) -> Result<String, String> {
        if let Some(t) = &self.token {
            if t.until > Instant::now() + RENEW_BEFORE {
                return Ok(t.value.clone());
            }
        }
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
            expires_in: Option<u64>,
        }
        let r = self
            .http
            .post(format!("{}/connect/token", self.base))
            .form(&[
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.as_str()),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .map_err(|e| format!("cannot reach 3CX: {e}"))?;
        if !r.status().is_success() {
            return Err(format!(
                "3CX refused the application's credentials (HTTP {}): check the client id and API key",
                r.status().as_u16()
            ));
        }
        let a: Answer = r
            .json()
            .await
            .map_err(|e| format!("3CX's token answer is unreadable: {e}"))?;
        let value = format!("Bearer {}", a.access_token);
        self.token = Some(Token {
            value: value.clone(),
            until: Instant::now() + Duration::from_secs(a.expires_in.unwrap_or(1800)),
        });
        Ok(value)
    }

    async fn get<T: serde::de::DeserializeOwned>(&mut self, path: &str) -> Result<T, String> {
        let bearer = self.bearer().await?;
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", bearer)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("GET {path}: HTTP {}", r.status().as_u16()));
        }
        r.json().await.map_err(|e| format!("GET {path}: {e}"))
    }
}

/// `https://pbx…` → `wss://pbx…/callcontrol/ws`.
fn socket_url(base: &str) -> Result<String, String> {
    if let Some(rest) = base.strip_prefix("https://") {
        Ok(format!("wss://{rest}/callcontrol/ws"))
    } else if let Some(rest) = base.strip_prefix("http://") {
        Ok(format!("ws://{rest}/callcontrol/ws"))
    } else {
        Err(format!(
            "`{base}` is not a 3CX address: give https://pbx.example.com"
        ))
    }
}

/// One connection: token, snapshot, then events until 3CX closes.
pub(crate) async fn session(
    streams: &Streams,
    store: &Store,
    credentials: &str,
    slug: &str,
    base: &str,
    calls: &mut Calls,
) -> Result<(), String> {
    let (client_id, secret) = credentials
        .split_once(':')
        .ok_or("the credentials must be `client_id:api_key`")?;
    let base = base.trim().trim_end_matches('/').to_string();
    let url = socket_url(&base)?;
    let mut api = Api {
        http: crate::http::client()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?,
        base,
        client_id: client_id.to_string(),
        secret: secret.to_string(),
        token: None,
    };
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("`{url}`: {e}"))?;
    let bearer = api.bearer().await?;
    request.headers_mut().insert(
        "authorization",
        bearer
            .parse()
            .map_err(|_| "3CX's token is not a header value".to_string())?,
    );
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .map_err(|_| "connecting timed out after 10 s".to_string())?
    .map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => {
            format!("3CX refused the event stream (HTTP {})", r.status())
        }
        other => format!("cannot connect: {other}"),
    })?;
    streams.connected(slug, store);
    tracing::info!(provider = %slug, "3CX call control stream connected");
    // Read after subscribing, so nothing changes unseen in between.
    let dns: Vec<DnInfo> = api.get("/callcontrol").await?;
    let department = slug.to_string();
    let on_board: Vec<(i64, bool)> = store
        .read(move |c| calls::live_calls(c, &department, CALL_PREFIX))
        .await
        .map_err(|e| format!("reading the board's live calls: {e}"))?
        .into_iter()
        .filter_map(|(id, answered)| {
            let callid = id.strip_prefix(CALL_PREFIX)?.parse().ok()?;
            Some((callid, answered))
        })
        .collect();
    for doc in calls.snapshot(dns, &on_board) {
        streams.ingest_json(store, slug, "3CX", &doc).await?;
    }
    while let Some(frame) = ws.next().await {
        let text = match frame.map_err(|e| e.to_string())? {
            Message::Text(t) => t,
            Message::Close(_) => return Ok(()),
            _ => continue,
        };
        let Ok(Frame {
            event: Some(ev),
            sequence,
        }) = serde_json::from_str::<Frame>(&text)
        else {
            tracing::debug!(provider = %slug, "3CX frame without an event");
            continue;
        };
        let Some(dn) = participant_dn(&ev.entity) else {
            continue;
        };
        let docs = match ev.event_type {
            // Upsert: read the participant (the entity is its path) as it is now.
            0 => {
                match api.get::<Participant>(&ev.entity).await {
                    Ok(p) => calls.upsert(&ev.entity, dn, &p),
                    // Gone between the event and the read: a removal follows.
                    Err(e) => {
                        tracing::debug!(provider = %slug, sequence, error = %e, "3CX participant not read");
                        Vec::new()
                    }
                }
            }
            1 => calls.remove(&ev.entity),
            _ => Vec::new(),
        };
        for doc in docs {
            streams.ingest_json(store, slug, "3CX", &doc).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64, callid: i64, status: &str) -> Participant {
        Participant {
            id: Some(id),
            status: Some(status.into()),
            party_caller_id: Some("+15550001".into()),
            callid: Some(callid),
            ..Participant::default()
        }
    }

    fn types(docs: &[Value]) -> Vec<&str> {
        docs.iter()
            .map(|d| d["call_type"].as_str().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_call_rings_on_two_phones_is_taken_on_one_and_ends_answered() {
        let mut c = Calls::default();
        let a = "/callcontrol/101/participants/1";
        let b = "/callcontrol/102/participants/2";
        assert_eq!(types(&c.upsert(a, "101", &p(1, 7, "Ringing"))), ["Ringing"]);
        // The second phone: no news for the call.
        assert!(c.upsert(b, "101", &p(2, 7, "Ringing")).is_empty());
        assert_eq!(
            types(&c.upsert(b, "101", &p(2, 7, "Connected"))),
            ["Connected"]
        );
        // The phone nobody answered stops: the call goes on.
        assert!(c.remove(a).is_empty());
        assert_eq!(types(&c.remove(b)), ["Ended"]);
        // A caller nobody answered.
        c.upsert(a, "101", &p(3, 8, "Ringing"));
        let d = c.remove(a);
        assert_eq!(types(&d), ["Unanswered"]);
        assert_eq!(d[0]["call_id"], "3cx-8");
        assert_eq!(d[0]["number"], "+15550001");
        // An unknown entity, or a malformed one, changes nothing.
        assert!(c.remove("/callcontrol/9/participants/9").is_empty());
        assert_eq!(
            participant_dn("/callcontrol/101/participants/5"),
            Some("101")
        );
        assert_eq!(participant_dn("/callcontrol/101/devices/5"), None);
    }

    fn dns(kinds: &[(&str, &str)]) -> Vec<DnInfo> {
        kinds
            .iter()
            .map(|(dn, kind)| DnInfo {
                dn: Some(dn.to_string()),
                kind: Some(kind.to_string()),
                participants: None,
            })
            .collect()
    }

    fn field<'a>(docs: &'a [Value], name: &str) -> Vec<&'a str> {
        docs.iter()
            .map(|d| d[name].as_str().unwrap_or("-"))
            .collect()
    }

    #[test]
    fn a_queued_caller_waits_rings_and_talks_with_the_agent_who_took_it() {
        let mut c = Calls::default();
        c.snapshot(
            dns(&[
                ("800", "Wqueue"),
                ("101", "Wextension"),
                ("102", "Wextension"),
            ]),
            &[],
        );
        let q = "/callcontrol/800/participants/1";
        // The queue has the caller (3CX shows it connected to the queue):
        // waiting, not talking, and inbound.
        let d = c.upsert(q, "800", &p(1, 7, "Connected"));
        assert_eq!(types(&d), ["Waiting"]);
        assert_eq!(field(&d, "direction"), ["inbound"]);
        assert_eq!(field(&d, "agent"), ["-"]);
        // Two agents' phones ring; the second answers.
        let a = "/callcontrol/101/participants/2";
        let b = "/callcontrol/102/participants/3";
        assert_eq!(types(&c.upsert(a, "101", &p(2, 7, "Ringing"))), ["Ringing"]);
        assert!(c.upsert(b, "102", &p(3, 7, "Ringing")).is_empty());
        let d = c.upsert(b, "102", &p(3, 7, "Connected"));
        assert_eq!(types(&d), ["Connected"]);
        assert_eq!(field(&d, "agent"), ["102"]);
        assert_eq!(field(&d, "event_id"), ["3cx-7-connected-102"]);
        // The agent transfers it to 101, who answers: news, with its own id.
        let d = c.upsert(a, "101", &p(2, 7, "Connected"));
        assert_eq!(field(&d, "agent"), ["101"]);
        assert_eq!(field(&d, "event_id"), ["3cx-7-connected-101"]);
        assert!(c.remove(q).is_empty());
        assert!(c.remove(b).is_empty());
        let d = c.remove(a);
        assert_eq!(types(&d), ["Ended"]);
        assert_eq!(field(&d, "agent"), ["101"]);
        assert_eq!(field(&d, "direction"), ["inbound"]);

        // A caller who leaves the queue before any phone rang.
        c.upsert(q, "800", &p(4, 8, "Connected"));
        assert_eq!(types(&c.remove(q)), ["Unanswered"]);
    }

    #[test]
    fn an_extension_dialling_out_is_an_outbound_call_with_its_agent() {
        let mut c = Calls::default();
        c.snapshot(dns(&[("101", "Wextension")]), &[]);
        let a = "/callcontrol/101/participants/5";
        let d = c.upsert(a, "101", &p(5, 9, "Dialing"));
        assert_eq!(types(&d), ["Ringing"]);
        assert_eq!(field(&d, "direction"), ["outbound"]);
        assert_eq!(field(&d, "agent"), ["101"]);
        let d = c.upsert(a, "101", &p(5, 9, "Connected"));
        assert_eq!(types(&d), ["Connected"]);
        assert_eq!(field(&d, "direction"), ["outbound"]);
        assert_eq!(types(&c.remove(a)), ["Ended"]);
        // Nobody picked up an outgoing call: it failed (not a caller to
        // call back), with its agent.
        let b = "/callcontrol/101/participants/6";
        c.upsert(b, "101", &p(6, 10, "Dialing"));
        let d = c.remove(b);
        assert_eq!(types(&d), ["Notanswered"]);
        assert_eq!(field(&d, "agent"), ["101"]);
    }

    #[test]
    fn a_snapshot_ends_the_calls_that_ended_while_the_stream_was_down() {
        let mut c = Calls::default();
        c.upsert(
            "/callcontrol/101/participants/1",
            "101",
            &p(1, 7, "Connected"),
        );
        c.upsert(
            "/callcontrol/101/participants/2",
            "101",
            &p(2, 9, "Ringing"),
        );
        // 11 and 12 are on the board from before this process started.
        let docs = c.snapshot(
            vec![DnInfo {
                dn: Some("101".into()),
                kind: Some("Wextension".into()),
                participants: Some(vec![p(2, 9, "Ringing"), p(4, 10, "Ringing")]),
            }],
            &[(11, true), (12, false), (10, false), (9, false)],
        );
        let mut got: Vec<(String, String)> = docs
            .iter()
            .map(|d| {
                (
                    d["call_id"].as_str().unwrap().to_string(),
                    d["call_type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("3cx-10".to_string(), "Ringing".to_string()),
                ("3cx-11".to_string(), "Ended".to_string()),
                ("3cx-12".to_string(), "Unanswered".to_string()),
                ("3cx-7".to_string(), "Ended".to_string())
            ]
        );
        assert_eq!(
            socket_url("https://pbx.example.com").unwrap(),
            "wss://pbx.example.com/callcontrol/ws"
        );
        assert!(socket_url("pbx").is_err());
    }
}
