//! `GET /api/events`: the live event stream over a WebSocket. With
//! `since=N` it first replays every event after N from the log, then goes
//! live, with no gap and no duplicate.

use crate::auth::Principal;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use callboard_core::hub::{Audience, Event};
use callboard_core::store::events;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

const PING_EVERY: Duration = Duration::from_secs(30);
const REPLAY_PAGE: i64 = 1000;
/// Close code telling a client it fell behind and must reconnect with `since`.
const CLOSE_LAGGED: u16 = 4008;
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Replay every event after this seq first.
    pub since: Option<i64>,
    /// Bearer token (browsers cannot set headers on a WebSocket).
    pub token: Option<String>,
}

#[utoipa::path(get, path = "/api/events", tag = "events",
    description = "WebSocket. Every message is JSON `{seq, type, at, data}`; types: `call.upserted` (data: the call), `provider.changed` (data: the provider), `disposition.saved` (data: {call_id, department, disposition, call}), `category.changed`, `user.changed` (admins), `call.sla_breached` (data: the call, with `sla_breached_at`) the moment a callback SLA runs out, `agent.state_changed` (data: an AgentStatus), and `reload` (data: {reason, oldest, head}) when `since` is older than the log holds: take a fresh snapshot, the stream continues from `head`. A ping every 30 s; a client that falls behind is closed with code 4008 and resumes with `since`.",
    params(StreamParams),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<StreamParams>,
    ws: WebSocketUpgrade,
) -> Response {
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
    if ev.audience == Audience::Admin && who.require_admin().is_err() {
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
            let reason = if gap { "too_far_behind" } else { "unknown_seq" };
            let msg = serde_json::json!({
                "seq": head, "type": "reload", "at": callboard_core::time::fmt(state.store.now()),
                "data": { "reason": reason, "oldest": oldest, "head": head }
            });
            send_within(timeout, &mut socket, Message::Text(msg.to_string().into())).await?;
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
    let mut ping = tokio::time::interval(PING_EVERY);
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
            _ = ping.tick() => send_within(timeout, &mut socket, Message::Ping(Vec::new().into())).await?,
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

#[utoipa::path(get, path = "/api/events/head", tag = "events",
    responses((status = 200, body = Head)), security(("bearer" = [])))]
pub async fn head(State(state): State<AppState>, _who: Principal) -> ApiResult<Json<Head>> {
    let (oldest, seq) = state
        .store
        .read(|c| Ok((events::oldest(c)?, events::head(c)?)))
        .await?;
    Ok(Json(Head { seq, oldest }))
}
