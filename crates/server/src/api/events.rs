//! `GET /api/events`: the live event stream over a WebSocket. With
//! `since=N` it first replays every event after N from the log, then goes
//! live, with no gap and no duplicate.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, ErrorCode, Json, Query};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::hub::{Audience, Event};
use callboard_core::store::events;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const REPLAY_PAGE: i64 = 1000;
/// Close code telling a client it fell behind and must reconnect with `since`.
const CLOSE_LAGGED: u16 = 4008;
/// Close code: the session that opened the stream has ended (signed out,
/// expired, revoked); the client signs in again.
const CLOSE_SIGNED_OUT: u16 = 4401;
/// Sends within `timeout` (`Config::event_send_timeout`): a client that has
/// not taken a message for that long is dropped: it holds nothing up, and it
/// resumes with `since` when it reconnects.
async fn send_within(
    timeout: Duration,
    socket: &mut WebSocket,
    msg: Message,
) -> Result<(), axum::Error> {
    match tokio::time::timeout(timeout, socket.send(msg)).await {
        Ok(r) => r,
        Err(_) => Err(axum::Error::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "client stopped reading",
        ))),
    }
}

/// Why the stream asks for a fresh snapshot.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReloadReason {
    /// `since` is older than the log still holds.
    TooFarBehind,
    /// `since` is newer than anything logged (another server's seq).
    UnknownSeq,
}

/// The data of a `reload` message: the stream continues from `head`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reload {
    pub reason: ReloadReason,
    pub oldest: i64,
    pub head: i64,
}

/// A message's `type` with its `data`: one variant per
/// [`EventKind`](callboard_core::hub::EventKind).
// Built once per `reload` and otherwise only documented: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventPayload {
    #[serde(rename = "call.upserted")]
    CallUpserted(callboard_core::store::calls::Call),
    #[serde(rename = "call.sla_breached")]
    CallSlaBreached(callboard_core::store::calls::Call),
    #[serde(rename = "disposition.saved")]
    DispositionSaved(crate::api::calls::DispositionSaved),
    #[serde(rename = "provider.changed")]
    ProviderChanged(callboard_core::store::providers::Provider),
    #[serde(rename = "category.changed")]
    CategoryChanged(callboard_core::store::categories::Category),
    #[serde(rename = "user.changed")]
    UserChanged(callboard_core::store::users::User),
    #[serde(rename = "agent.state_changed")]
    AgentStateChanged(callboard_core::store::agents::AgentStatus),
    #[serde(rename = "flow.changed")]
    FlowChanged(FlowChanged),
    #[serde(rename = "thresholds.updated")]
    ThresholdsUpdated(Vec<callboard_core::store::thresholds::Threshold>),
    #[serde(rename = "threshold.crossed")]
    ThresholdCrossed(ThresholdCrossed),
    #[serde(rename = "voicemail.received")]
    VoicemailReceived(callboard_core::store::voicemails::VoicemailReceived),
    #[serde(rename = "lead.upserted")]
    LeadUpserted(callboard_core::store::leads::Lead),
    #[serde(rename = "reload")]
    Reload(Reload),
}

/// The data of a `flow.changed` message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowChanged {
    /// `create`, `update`, `publish`, `rollback`, `duplicate`, `delete`, …
    pub action: String,
    pub flow: callboard_core::store::ivr::Flow,
}

/// The data of a `threshold.crossed` message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThresholdCrossed {
    pub department: String,
    pub metric: callboard_core::store::thresholds::Metric,
    pub level: callboard_core::store::thresholds::Level,
    pub previous: callboard_core::store::thresholds::Level,
    pub value: Option<f64>,
    /// The limit of `level` (null back at `ok`).
    pub threshold: Option<f64>,
}

/// One message of `GET /api/events`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StreamMessage {
    pub seq: i64,
    pub at: String,
    #[serde(flatten)]
    pub event: EventPayload,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Replay every event after this seq first.
    pub since: Option<i64>,
    /// Bearer token (browsers cannot set headers on a WebSocket).
    pub token: Option<String>,
}

#[utoipa::path(get, path = "/api/events", operation_id = "streamEvents", tag = "events",
    description = "WebSocket. Every message is JSON `{seq, type, at, data}` (the `StreamMessage` schema); types: `call.upserted` (data: the call), `provider.changed` (data: the provider), `disposition.saved` (data: {call_id, department, disposition, call}), `category.changed`, `user.changed` (admins), `call.sla_breached` (data: the call, with `sla_breached_at`) the moment a callback SLA runs out, `agent.state_changed` (data: an AgentStatus), `lead.upserted` (data: the lead, when a lead delivery created or changed it; to the lead's department like a call), and `reload` (data: {reason, oldest, head}) when `since` is older than the log holds: take a fresh snapshot, the stream continues from `head`. A ping every 30 s, when the session is also checked again: a session that has ended (signed out, expired, revoked) closes the stream with code 4401 and the reason as its error code; a client that falls behind is closed with code 4008 and resumes with `since`.",
    params(StreamParams),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, description = "`origin_not_allowed`: a browser page from an origin that is neither this server's nor listed in --allowed-origin", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Principal,
    Query(p): Query<StreamParams>,
    ws: WebSocketUpgrade,
) -> Response {
    // A WebSocket is not covered by CORS: a page on another site could open
    // one with a token it stole or guessed. Same rule as the REST API.
    if !crate::headers::origin_allowed(&state.config.allowed_origins, &headers) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            "this page's origin may not open the event stream (see --allowed-origin)",
        )
        .into_response();
    }
    // Without `since`, the stream starts at the head as of now, before the
    // 101 is sent: every event committed after the client sees the upgrade
    // reaches it. Events published between reading the head and subscribing
    // are in the log, which the catch-up below reads.
    let head = state.store.hub().head();
    let live = state.store.hub().subscribe();
    ws.on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, state, who, p.since, live, head).await {
            tracing::debug!(error = %e, "event stream ended");
        }
    })
}

fn visible(who: &Principal, ev: &Event) -> bool {
    if ev.audience == Audience::Admin && !who.is_admin() {
        return false;
    }
    match &ev.department {
        Some(d) => who.can_see(d),
        None => true,
    }
}

async fn run(
    mut socket: WebSocket,
    state: AppState,
    who: Principal,
    since: Option<i64>,
    mut live: Receiver<Arc<Event>>,
    head_at_subscribe: i64,
) -> Result<(), axum::Error> {
    // `live` was subscribed before the log is read: anything committed
    // meanwhile arrives twice at worst, and the seq check drops the copy.
    let timeout = state.config.event_send_timeout;
    let mut last = since.unwrap_or(head_at_subscribe);
    {
        let (oldest, head) = match state
            .store
            .read(|c| Ok((events::oldest(c)?, events::head(c)?)))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the event log");
                return send_within(timeout, &mut socket, Message::Close(None)).await;
            }
        };
        let gap = oldest > 0 && last < oldest - 1;
        if since.is_some() && (gap || last > head) {
            let reason = if gap {
                ReloadReason::TooFarBehind
            } else {
                ReloadReason::UnknownSeq
            };
            let msg = StreamMessage {
                seq: head,
                at: callboard_core::time::fmt(state.store.now()),
                event: EventPayload::Reload(Reload {
                    reason,
                    oldest,
                    head,
                }),
            };
            let text = serde_json::to_string(&msg).unwrap_or_default();
            send_within(timeout, &mut socket, Message::Text(text.into())).await?;
            last = head;
        }
        loop {
            let after = last;
            let page = match state
                .store
                .read(move |c| events::since(c, after, REPLAY_PAGE))
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "event replay failed");
                    return send_within(timeout, &mut socket, Message::Close(None)).await;
                }
            };
            let n = page.len() as i64;
            for ev in page {
                last = ev.seq;
                if visible(&who, &ev) {
                    send_within(timeout, &mut socket, Message::Text(ev.to_message().into()))
                        .await?;
                }
            }
            if n < REPLAY_PAGE {
                break;
            }
        }
    }
    let mut shutdown = state.shutdown.clone();
    let mut ping = tokio::time::interval(state.config.event_ping_every);
    ping.tick().await;
    loop {
        tokio::select! {
            ev = live.recv() => match ev {
                Ok(ev) => {
                    if ev.seq <= last {
                        continue;
                    }
                    last = ev.seq;
                    if visible(&who, &ev) {
                        send_within(timeout, &mut socket, Message::Text(ev.to_message().into())).await?;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let reason = format!("lagged: reconnect with since={last}");
                    return send_within(timeout, &mut socket, Message::Close(Some(CloseFrame { code: CLOSE_LAGGED, reason: reason.into() }))).await;
                }
                Err(RecvError::Closed) => return send_within(timeout, &mut socket, Message::Close(None)).await,
            },
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                // A stream outlives the request that opened it: the session
                // must still hold, or the stream ends with it.
                if let Err(e) = crate::auth::resolve(&state, who.token.clone()).await {
                    if e.status == axum::http::StatusCode::UNAUTHORIZED {
                        let frame = CloseFrame { code: CLOSE_SIGNED_OUT, reason: e.code.as_str().into() };
                        return send_within(timeout, &mut socket, Message::Close(Some(frame))).await;
                    }
                }
                send_within(timeout, &mut socket, Message::Ping(Vec::new().into())).await?
            }
            _ = shutdown.changed() => {
                return send_within(timeout, &mut socket, Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() }))).await;
            }
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Head {
    /// The newest event seq: take a snapshot after reading it, then follow
    /// `/api/events?since=<seq>`.
    pub seq: i64,
    /// The oldest seq the log still holds.
    pub oldest: i64,
}

#[utoipa::path(get, path = "/api/events/head", operation_id = "getEventsHead", tag = "events",
    responses((status = 200, body = Head)), security(("bearer" = [])))]
pub async fn head(State(state): State<AppState>, _who: Principal) -> ApiResult<Json<Head>> {
    let (oldest, seq) = state
        .store
        .read(|c| Ok((events::oldest(c)?, events::head(c)?)))
        .await?;
    Ok(Json(Head { seq, oldest }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stream))
        .routes(routes!(head))
}

#[cfg(test)]
mod tests {
    use callboard_core::hub::EventKind;
    use std::collections::BTreeSet;

    /// The document's `EventPayload` has one variant per event kind, and
    /// the `EventKind` schema lists the same wire strings.
    #[test]
    fn every_event_kind_has_a_documented_payload() {
        let (_, doc) = crate::app::api_router();
        let doc = serde_json::to_value(doc).unwrap();
        let schemas = &doc["components"]["schemas"];
        let documented: BTreeSet<String> = schemas["EventPayload"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v["properties"]["type"]["enum"][0]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let kinds: BTreeSet<String> = EventKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        assert_eq!(documented, kinds);
        let listed: BTreeSet<String> = schemas["EventKind"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, kinds);
    }

    /// The document lists every error code with its wire string.
    #[test]
    fn the_error_codes_are_documented() {
        let (_, doc) = crate::app::api_router();
        let doc = serde_json::to_value(doc).unwrap();
        let listed: BTreeSet<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let codes: BTreeSet<String> = callboard_core::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        assert_eq!(listed, codes);
        assert_eq!(
            doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
    }
}
