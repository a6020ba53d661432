//! 3CX's Call Control API as the `3cx` provider's API stream: a fake 3CX on
//! loopback (the token endpoint, `GET /callcontrol`, the participants, and
//! the `/callcontrol/ws` event socket, shaped as 3CX's own example
//! application reads them) that the receiver signs in to and follows.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use callboard_tests::{until, TestServer, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

const APP: &str = "callboard-app";
const SECRET: &str = "app-api-key";
const TOKEN: &str = "tok-3cx-1";

#[derive(Default)]
struct Pbx {
    /// `(dn, participant id)` → the participant as 3CX would answer it.
    participants: Mutex<BTreeMap<(String, i64), Value>>,
    /// Each open event socket: a frame to send, or `None` to close it.
    sockets: Mutex<Vec<mpsc::UnboundedSender<Option<String>>>>,
    /// The `Authorization` of every request past the token endpoint.
    auth: Mutex<Vec<String>>,
    sequence: Mutex<i64>,
}

type Shared = Arc<Pbx>;

fn authorized(pbx: &Pbx, headers: &HeaderMap) -> bool {
    let a = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    pbx.auth.lock().unwrap().push(a.clone());
    a == format!("Bearer {TOKEN}")
}

async fn token(Form(f): Form<HashMap<String, String>>) -> Response {
    let ok = f.get("client_id").map(String::as_str) == Some(APP)
        && f.get("client_secret").map(String::as_str) == Some(SECRET)
        && f.get("grant_type").map(String::as_str) == Some("client_credentials");
    if ok {
        Json(json!({"token_type": "Bearer", "expires_in": 3600, "access_token": TOKEN}))
            .into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response()
    }
}

async fn everything(State(pbx): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&pbx, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // Every DN the application follows, with or without calls: the queue
    // 800 and the agents' extensions.
    let mut dns: BTreeMap<String, Vec<Value>> = ["800", "101", "102", "103"]
        .map(|dn| (dn.to_string(), Vec::new()))
        .into();
    for ((dn, _), p) in pbx.participants.lock().unwrap().iter() {
        dns.entry(dn.clone()).or_default().push(p.clone());
    }
    let list: Vec<Value> = dns
        .into_iter()
        .map(|(dn, ps)| {
            let kind = if dn.starts_with('8') {
                "Wqueue"
            } else {
                "Wextension"
            };
            json!({"dn": dn, "type": kind, "devices": [], "participants": ps})
        })
        .collect();
    Json(list).into_response()
}

async fn participant(
    State(pbx): State<Shared>,
    headers: HeaderMap,
    Path((dn, id)): Path<(String, i64)>,
) -> Response {
    if !authorized(&pbx, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match pbx.participants.lock().unwrap().get(&(dn, id)) {
        Some(p) => Json(p.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn socket(State(pbx): State<Shared>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !authorized(&pbx, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ws.on_upgrade(move |mut s: WebSocket| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        pbx.sockets.lock().unwrap().push(tx);
        while let Some(next) = rx.recv().await {
            match next {
                Some(text) => {
                    if s.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = s.send(Message::Close(None)).await;
                    break;
                }
            }
        }
    })
}

async fn fake_3cx() -> (String, Shared) {
    let pbx: Shared = Arc::default();
    let app = Router::new()
        .route("/connect/token", post(token))
        .route("/callcontrol", get(everything))
        .route("/callcontrol/ws", get(socket))
        .route("/callcontrol/{dn}/participants/{id}", get(participant))
        .with_state(pbx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, pbx)
}

impl Pbx {
    fn set(&self, dn: &str, id: i64, callid: i64, status: &str, caller: &str) {
        self.participants.lock().unwrap().insert(
            (dn.to_string(), id),
            json!({"id": id, "status": status, "party_caller_name": "Asha Rao",
                   "party_dn": "10000", "party_caller_id": caller, "device_id": "",
                   "party_dn_type": "Wexternalline", "direct_control": false,
                   "callid": callid, "legid": 1, "dn": dn}),
        );
    }

    /// Sends an event (0 upsert, 1 remove) on every open socket.
    fn event(&self, event_type: i64, dn: &str, id: i64) {
        let mut seq = self.sequence.lock().unwrap();
        *seq += 1;
        let frame = json!({"sequence": *seq, "event": {"event_type": event_type,
            "entity": format!("/callcontrol/{dn}/participants/{id}"), "attached_data": null}});
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.send(Some(frame.to_string()));
        }
    }

    /// Sends `text` as it is on every open socket.
    fn raw(&self, text: &str) {
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.send(Some(text.to_string()));
        }
    }

    fn upsert(&self, dn: &str, id: i64, callid: i64, status: &str, caller: &str) {
        self.set(dn, id, callid, status, caller);
        self.event(0, dn, id);
    }

    fn remove(&self, dn: &str, id: i64) {
        self.participants
            .lock()
            .unwrap()
            .remove(&(dn.to_string(), id));
        self.event(1, dn, id);
    }

    fn close_sockets(&self) {
        for s in self.sockets.lock().unwrap().drain(..) {
            let _ = s.send(None);
        }
    }

    fn open_sockets(&self) -> usize {
        self.sockets
            .lock()
            .unwrap()
            .iter()
            .filter(|s| !s.is_closed())
            .count()
    }
}

async fn status(srv: &TestServer, call_id: &str) -> String {
    srv.call("front-desk", call_id)
        .await
        .map(|c| c["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

async fn wait_status(srv: &TestServer, call_id: &str, want: &str) {
    until(15, &format!("{call_id} {want}"), || async {
        status(srv, call_id).await == want
    })
    .await;
}

async fn put_stream(srv: &TestServer, base: &str, credentials: &str) -> Value {
    let (s, c) = srv
        .put_json(
            "/api/providers/front-desk/connector",
            ADMIN_TOKEN,
            &json!({"base_url": base, "auth_token": credentials}),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{c}");
    c
}

async fn health(srv: &TestServer) -> Value {
    let (s, h) = srv
        .get_json("/api/providers/front-desk/connector", ADMIN_TOKEN)
        .await
        .unwrap();
    assert_eq!(s, 200, "{h}");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_3cx_call_control_stream_shows_calls_ringing_talking_and_ended() {
    let srv = TestServer::start().await.unwrap();
    let (base, pbx) = fake_3cx().await;
    srv.provider_from_preset("Front desk", "3cx", json!({}))
        .await
        .unwrap();
    // A caller already waiting in the queue (DN 800) when Callboard connects.
    pbx.set("800", 1, 41, "Connected", "+442071838750");
    pbx.participants
        .lock()
        .unwrap()
        .get_mut(&("800".into(), 1))
        .unwrap()["status"] = json!("Ringing");

    // Wrong credentials: 3CX refuses the token, the health says so, and
    // the key is never shown.
    let c = put_stream(&srv, &base, &format!("{APP}:wrong-key")).await;
    assert_eq!(c["kind"], "3cx_call_control");
    until(15, "the refusal in the health", || async {
        health(&srv).await["stream"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("refused the application's credentials"))
    })
    .await;
    assert!(!health(&srv).await.to_string().contains("wrong-key"));

    put_stream(&srv, &base, &format!("{APP}:{SECRET}")).await;
    // The snapshot: the caller the queue holds waits on the board.
    wait_status(&srv, "3cx-41", "waiting").await;
    until(10, "the event socket open", || async {
        pbx.open_sockets() >= 1
    })
    .await;
    let c = srv.call("front-desk", "3cx-41").await.unwrap();
    assert_eq!(c["mobile_number"], "+442071838750", "{c}");
    assert_eq!(c["caller_name"], "Asha Rao", "{c}");
    assert_eq!(c["metadata"]["dn"], "800", "{c}");
    assert_eq!(c["direction"], "inbound", "{c}");
    assert!(c["agent_id"].is_null(), "{c}");

    // The queue rings two agents; one answers: the call is talking, with
    // the extension that took it as its agent.
    pbx.upsert("101", 2, 41, "Ringing", "+442071838750");
    wait_status(&srv, "3cx-41", "ringing").await;
    pbx.upsert("102", 3, 41, "Ringing", "+442071838750");
    pbx.upsert("102", 3, 41, "Connected", "+442071838750");
    wait_status(&srv, "3cx-41", "active").await;
    let c = srv.call("front-desk", "3cx-41").await.unwrap();
    assert_eq!(c["agent_id"], "102", "{c}");
    // The other agent's phone stops, the queue lets go: still talking.
    pbx.remove("101", 2);
    pbx.remove("800", 1);
    // (Events are read in order: once a later call shows, those two were
    // read.)
    pbx.upsert("800", 9, 49, "Ringing", "+15550199");
    wait_status(&srv, "3cx-49", "waiting").await;
    assert_eq!(status(&srv, "3cx-41").await, "active");
    // Then the agent hangs up: answered and ended.
    pbx.remove("102", 3);
    wait_status(&srv, "3cx-41", "completed").await;

    // What the stream cannot use is passed over, and the stream goes on:
    // a frame that is not JSON, one without an event, an entity that is not
    // a participant, and a participant gone before it could be read.
    pbx.raw("not json");
    pbx.raw(r#"{"sequence": 99}"#);
    pbx.raw(
        r#"{"sequence": 100, "event": {"event_type": 0, "entity": "/callcontrol/800/devices/x"}}"#,
    );
    pbx.event(0, "800", 77);
    // A caller nobody answers: missed, a caller to call back.
    pbx.upsert("800", 4, 42, "Ringing", "+442079460000");
    wait_status(&srv, "3cx-42", "waiting").await;
    pbx.remove("800", 4);
    wait_status(&srv, "3cx-42", "missed").await;
    assert_eq!(
        srv.call("front-desk", "3cx-42").await.unwrap()["work_state"],
        "pending"
    );

    // An agent dials out (3CX: `Dialing` on the extension): an outbound
    // call with that agent; nobody picks up: failed, not a caller to call
    // back.
    pbx.upsert("103", 8, 46, "Dialing", "+442079460001");
    wait_status(&srv, "3cx-46", "ringing").await;
    let c = srv.call("front-desk", "3cx-46").await.unwrap();
    assert_eq!(c["direction"], "outbound", "{c}");
    assert_eq!(c["agent_id"], "103", "{c}");
    pbx.remove("103", 8);
    wait_status(&srv, "3cx-46", "failed").await;
    assert_ne!(
        srv.call("front-desk", "3cx-46").await.unwrap()["work_state"],
        "pending"
    );

    // The stream drops while a call talks, and the call ends meanwhile:
    // the snapshot after the reconnection ends it.
    pbx.upsert("102", 5, 43, "Connected", "+15550100");
    wait_status(&srv, "3cx-43", "active").await;
    pbx.close_sockets();
    pbx.participants.lock().unwrap().clear();
    wait_status(&srv, "3cx-43", "completed").await;
    until(15, "reconnected", || async {
        pbx.open_sockets() == 1 && health(&srv).await["stream"]["connected"] == true
    })
    .await;

    // Every read carried the application's token.
    let auth = pbx.auth.lock().unwrap().clone();
    assert!(
        auth.iter().all(|a| a == &format!("Bearer {TOKEN}")),
        "{auth:?}"
    );
    let h = health(&srv).await;
    assert_eq!(h["stream"]["failed"], 0, "{h}");

    // The receiver itself restarts while a call talks and a caller rings,
    // and both end while it is down: the board does not keep them live.
    pbx.upsert("102", 6, 44, "Connected", "+15550144");
    pbx.upsert("800", 7, 45, "Ringing", "+15550145");
    wait_status(&srv, "3cx-44", "active").await;
    wait_status(&srv, "3cx-45", "waiting").await;
    let mut srv = srv;
    srv.stop().await.unwrap();
    pbx.close_sockets();
    pbx.participants.lock().unwrap().clear();
    let srv = srv.restart().await.unwrap();
    wait_status(&srv, "3cx-44", "completed").await;
    wait_status(&srv, "3cx-45", "missed").await;
}
