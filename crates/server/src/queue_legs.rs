//! The agents' phones of a Twilio IVR queue. A caller waiting in
//! `<Enqueue>` (hold music, `ivr::render::twiml`) is reached by calls the
//! receiver places through the department's Twilio dialer, one per agent,
//! each dialling the caller's own queue. This module places them, and
//! cancels the ones still ringing once an agent takes the caller, once the
//! caller leaves the queue, or when the next slice rings afresh.
//!
//! Which legs ring, and for which slice, is on disk
//! (`store::queue_waits`, written in the step's own transaction): any
//! instance of a cluster, or this one after a restart, stops them. Only the
//! credentials they were placed with are remembered here, to stop them when
//! the dialer has since lost its token.

use crate::outbound::credentials::read_secrets;
use crate::outbound::{self, Dialling};
use crate::state::AppState;
use callboard_core::dialer::{self, request, DialerConfig};
use callboard_core::ivr::render::twiml;
use callboard_core::store::callbacks;
use callboard_core::store::ivr::{self as store_ivr, QueueLegs};
use callboard_core::store::queue_waits::{self, Leg};
use callboard_core::store::Writer;
use callboard_core::time::SharedClock;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

struct Dialer {
    department: String,
    config: DialerConfig,
    secrets: BTreeMap<String, String>,
}

/// The Twilio dialer each department last placed legs with.
#[derive(Clone, Default)]
pub struct Legs {
    placed_with: Arc<Mutex<HashMap<String, Arc<Dialer>>>>,
}

/// Why no agent is rung, in words an admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum NotRung {
    #[error("the department has no dialer")]
    NoDialer,
    #[error("the department's dialer is not Twilio")]
    NotTwilio,
    #[error("the Twilio dialer lacks {0}")]
    Incomplete(String),
    #[error("{0}")]
    Storage(String),
}

impl Legs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Dialer>>> {
        match self.placed_with.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Rings `legs.numbers` for the caller (the step that opened slice
    /// `legs.wait_id` handed the previous slice's legs to `cancel`).
    /// Returns once every request was answered; the legs are on record as
    /// soon as Twilio gives their ids.
    pub async fn ring(
        &self,
        state: &AppState,
        department: &str,
        call_id: &str,
        legs: QueueLegs,
        bridge_url: &str,
    ) -> Result<usize, NotRung> {
        let dialer = Arc::new(load(state, department).await?);
        self.lock().insert(department.to_string(), dialer.clone());
        let twiml = twiml::queue_leg(&legs.queue, bridge_url);
        let label = dialer.config.kind.spec().label;
        let placing = legs.numbers.iter().map(|number| {
            let dialer = dialer.clone();
            let twiml = &twiml;
            async move {
                let out = request::twilio_queue_leg(
                    &dialer.config,
                    &dialer.secrets,
                    number,
                    twiml,
                    legs.ring_seconds,
                )?;
                match state
                    .dialling
                    .send(&dialer.department, state.store.clock(), &out)
                    .await
                {
                    Ok(body) => match request::accepted(dialer.config.kind, &body) {
                        Ok(Some(sid)) => Some(Leg {
                            sid,
                            number: number.clone(),
                        }),
                        Ok(None) | Err(_) => {
                            tracing::warn!(department = %dialer.department, call_id, agent = %number, "IVR queue: Twilio accepted an agent's call without its id");
                            None
                        }
                    },
                    Err(e) => {
                        tracing::warn!(department = %dialer.department, call_id, agent = %number, error = %outbound::explain(label, "the agent's call", &e), "IVR queue: an agent's phone was not rung");
                        None
                    }
                }
            }
        });
        let placed: Vec<Leg> = futures_util::future::join_all(placing)
            .await
            .into_iter()
            .flatten()
            .collect();
        let rung = placed.len();
        if placed.is_empty() {
            return Ok(0);
        }
        let wait_id = legs.wait_id;
        let all: Vec<String> = placed.iter().map(|l| l.sid.clone()).collect();
        let outcome = state
            .store
            .write(move |w| queue_waits::placed(w, wait_id, &placed))
            .await;
        match outcome {
            Ok(p) => {
                cancel_with(state, dialer, p.late);
                if let Some(number) = p.taker {
                    // Answered before Twilio's answer to its creation was
                    // read: the call learns its agent now.
                    record_bridge(state, department, call_id, number).await;
                }
            }
            Err(e) => {
                // Not on record, nobody could stop them: better they stop
                // now than ring for a caller no one will find.
                tracing::warn!(department, call_id, error = %e, "IVR queue: the agents' calls were not recorded; they are cancelled");
                cancel_with(state, dialer, all);
            }
        }
        Ok(rung)
    }

    /// Stops the legs `sids` of `department` (a step's `cancel_legs`), in
    /// the background.
    pub fn cancel(&self, state: &AppState, department: &str, sids: Vec<String>) {
        if sids.is_empty() {
            return;
        }
        let fallback = self.lock().get(department).cloned();
        let (state, department) = (state.clone(), department.to_string());
        tokio::spawn(async move {
            let dialer = match load(&state, &department).await {
                Ok(d) => Arc::new(d),
                // The dialer changed since: the credentials the legs were
                // placed with still stop them.
                Err(why) => match fallback {
                    Some(d) => d,
                    None => {
                        tracing::warn!(department = %department, legs = sids.len(), reason = %why, "IVR queue: agents' calls left ringing until their timeout");
                        return;
                    }
                },
            };
            cancel_with(&state, dialer, sids);
        });
    }
}

/// An agent's leg (`by`, Twilio's `DequeingCallSid`) took the caller: the
/// wait closes and the call is recorded talking with its agent
/// (`store::ivr::queue_taken`), then the other phones stop ringing. Returns
/// the agent's phone, when that leg is on record.
pub async fn bridged(
    state: &AppState,
    department: &str,
    call_id: &str,
    by: Option<&str>,
) -> Option<String> {
    let by = by.map(str::to_string);
    let taken = on_the_call(state, department, call_id, move |w, id, slug, sla, call| {
        store_ivr::queue_taken(w, id, slug, sla, call, by.as_deref())
    })
    .await?;
    state.queue_legs.cancel(state, department, taken.others);
    taken.number
}

/// Records that the caller is talking, with the agent at `number`
/// (`store::ivr::queue_bridged`), for a leg whose id came after the bridge.
async fn record_bridge(state: &AppState, department: &str, call_id: &str, number: String) {
    on_the_call(state, department, call_id, move |w, id, slug, sla, call| {
        store_ivr::queue_bridged(w, id, slug, sla, call, Some(&number))
    })
    .await;
}

/// One write about the department's call (provider id, slug, SLA, call
/// id); a failure is logged, never the caller's problem: it costs the board
/// its "talking" row, never the caller their connection.
async fn on_the_call<T: Send + 'static>(
    state: &AppState,
    department: &str,
    call_id: &str,
    job: impl FnOnce(&mut Writer<'_>, i64, &str, i64, &str) -> callboard_core::Result<T>
        + Send
        + 'static,
) -> Option<T> {
    let p = state.store.providers().get(department)?;
    let (id, slug, sla, call) = (
        p.id,
        department.to_string(),
        p.sla_minutes,
        call_id.to_string(),
    );
    match state
        .store
        .write(move |w| job(w, id, &slug, sla, &call))
        .await
    {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(department, call_id, error = %e, "IVR queue: the answered call was not recorded as talking");
            None
        }
    }
}

async fn load(state: &AppState, department: &str) -> Result<Dialer, NotRung> {
    let dep = department.to_string();
    let found = state
        .store
        .read(move |c| callbacks::dialer(c, &dep))
        .await
        .map_err(|e| NotRung::Storage(e.to_string()))?
        .ok_or(NotRung::NoDialer)?;
    if found.config.kind != dialer::DialerKind::Twilio {
        return Err(NotRung::NotTwilio);
    }
    let secrets = read_secrets(state.secrets.clone(), department)
        .await
        .map_err(|e| NotRung::Storage(e.message))?;
    let missing = dialer::missing_secrets(found.config.kind, &secrets);
    if !missing.is_empty() {
        return Err(NotRung::Incomplete(missing.join(", ")));
    }
    Ok(Dialer {
        department: department.to_string(),
        config: found.config,
        secrets,
    })
}

/// Cancels each leg, in the background (a cancel that fails leaves a
/// phone ringing until its timeout: logged, nothing else).
fn cancel_with(state: &AppState, dialer: Arc<Dialer>, legs: Vec<String>) {
    if legs.is_empty() {
        return;
    }
    let dialling: Dialling = state.dialling.clone();
    let clock: SharedClock = state.store.clock().clone();
    tokio::spawn(async move {
        for sid in legs {
            let Some(out) = request::twilio_cancel(&dialer.config, &dialer.secrets, &sid) else {
                return;
            };
            match dialling.send(&dialer.department, &clock, &out).await {
                Ok(_) => {
                    tracing::debug!(department = %dialer.department, leg = %sid, "IVR queue: an agent's phone stopped ringing")
                }
                // Answered or ended meanwhile: Twilio refuses, nothing rings.
                Err(e) => {
                    tracing::info!(department = %dialer.department, leg = %sid, error = %e, "IVR queue: an agent's call was not cancelled")
                }
            }
        }
    });
}
