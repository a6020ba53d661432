//! The agents' phones of a Twilio IVR queue. A caller waiting in
//! `<Enqueue>` (hold music, `ivr::render::twiml`) is reached by calls the
//! receiver places through the department's Twilio dialer, one per agent,
//! each dialling the caller's own queue. This module places them, and
//! cancels the ones still ringing once an agent takes the caller, once the
//! caller leaves the queue, or when the next slice rings afresh.
//!
//! The legs' ids live in memory only: after a restart (or on another
//! instance of a cluster) the legs placed before still take the caller when
//! answered, but the others are not cancelled: they ring until their own
//! timeout (the slice), and the call shows no agent.

use crate::outbound::credentials::read_secrets;
use crate::outbound::{self, Dialling};
use crate::state::AppState;
use callboard_core::dialer::{self, request, DialerConfig};
use callboard_core::ivr::render::twiml;
use callboard_core::store::callbacks;
use callboard_core::store::ivr::QueueLegs;
use callboard_core::time::SharedClock;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A call whose legs nobody released (the platform never called back) is
/// forgotten after this long.
const FORGET_AFTER: Duration = Duration::from_secs(3 * 3600);

struct Dialer {
    department: String,
    config: DialerConfig,
    secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct Leg {
    sid: String,
    number: String,
}

struct Entry {
    generation: u64,
    /// Still waiting for an agent: a leg placed now is kept.
    open: bool,
    /// The leg that took the caller.
    taken_by: Option<String>,
    /// Each ringing leg's id and the agent's phone it rings.
    legs: Vec<Leg>,
    dialer: Arc<Dialer>,
    since: Instant,
}

/// The ringing legs of each waiting caller, by `(department, call id)`.
#[derive(Clone, Default)]
pub struct Legs {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    calls: HashMap<(String, String), Entry>,
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
    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Rings `legs.numbers` for the caller (cancelling the previous slice's
    /// legs first). Returns once every request was answered; the legs are
    /// on record as soon as Twilio gives their ids.
    pub async fn ring(
        &self,
        state: &AppState,
        department: &str,
        call_id: &str,
        legs: QueueLegs,
        bridge_url: &str,
    ) -> Result<usize, NotRung> {
        let dialer = Arc::new(load(state, department).await?);
        let key = (department.to_string(), call_id.to_string());
        let (generation, stale) = {
            let mut g = self.lock();
            g.calls.retain(|_, e| e.since.elapsed() < FORGET_AFTER);
            g.next += 1;
            let generation = g.next;
            let old = g.calls.insert(
                key.clone(),
                Entry {
                    generation,
                    open: true,
                    taken_by: None,
                    legs: Vec::new(),
                    dialer: dialer.clone(),
                    since: Instant::now(),
                },
            );
            (generation, old)
        };
        if let Some(old) = stale {
            cancel_all(state, &old.dialer, old.legs, None);
        }
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
        let mut late = Vec::new();
        let mut taker = None;
        {
            let mut g = self.lock();
            match g.calls.get_mut(&key) {
                Some(e) if e.generation == generation && e.open => e.legs.extend(placed),
                // Taken, left or rung afresh while these were placed.
                Some(e) if e.generation == generation => {
                    for l in placed {
                        if Some(&l.sid) == e.taken_by.as_ref() {
                            taker = Some(l.number);
                        } else {
                            late.push(l);
                        }
                    }
                }
                _ => late.extend(placed),
            }
        }
        cancel_all(state, &dialer, late, None);
        if let Some(number) = taker {
            // Answered before Twilio's answer to its creation was read: the
            // call learns its agent now.
            record_bridge(state, department, call_id, Some(number)).await;
        }
        Ok(rung)
    }

    /// An agent's leg (`by`, Twilio's `DequeingCallSid`) is taking the
    /// caller: the other phones stop ringing. Returns the phone that leg
    /// rang, when it is on record.
    pub fn taken(
        &self,
        state: &AppState,
        department: &str,
        call_id: &str,
        by: Option<&str>,
    ) -> Option<String> {
        let key = (department.to_string(), call_id.to_string());
        let (dialer, legs) = {
            let mut g = self.lock();
            let e = g.calls.get_mut(&key)?;
            e.open = false;
            e.taken_by = by.map(str::to_string);
            (e.dialer.clone(), std::mem::take(&mut e.legs))
        };
        let number = legs
            .iter()
            .find(|l| Some(l.sid.as_str()) == by)
            .map(|l| l.number.clone());
        cancel_all(state, &dialer, legs, by);
        number
    }

    /// The caller left the queue (answered, gave up, or the slice ended):
    /// whatever still rings stops.
    pub fn release(&self, state: &AppState, department: &str, call_id: &str) {
        let key = (department.to_string(), call_id.to_string());
        let Some(e) = self.lock().calls.remove(&key) else {
            return;
        };
        let keep = e.taken_by.clone();
        cancel_all(state, &e.dialer, e.legs, keep.as_deref());
    }
}

/// Records that the caller is talking, with the agent at `number` when it
/// is known (`store::ivr::queue_bridged`); a failure is logged, never the
/// caller's problem.
pub async fn record_bridge(
    state: &AppState,
    department: &str,
    call_id: &str,
    number: Option<String>,
) {
    let Some(p) = state.store.providers().get(department) else {
        return;
    };
    let (id, slug, sla, call) = (
        p.id,
        department.to_string(),
        p.sla_minutes,
        call_id.to_string(),
    );
    let done = state
        .store
        .write(move |w| {
            callboard_core::store::ivr::queue_bridged(w, id, &slug, sla, &call, number.as_deref())
        })
        .await;
    if let Err(e) = done {
        tracing::warn!(department, call_id, error = %e, "IVR queue: the answered call was not recorded as talking");
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

/// Cancels each leg but `keep`, in the background (a cancel that fails
/// leaves a phone ringing until its timeout: logged, nothing else).
fn cancel_all(state: &AppState, dialer: &Arc<Dialer>, legs: Vec<Leg>, keep: Option<&str>) {
    let legs: Vec<String> = legs
        .into_iter()
        .map(|l| l.sid)
        .filter(|s| Some(s.as_str()) != keep)
        .collect();
    if legs.is_empty() {
        return;
    }
    let dialling: Dialling = state.dialling.clone();
    let clock: SharedClock = state.store.clock().clone();
    let dialer = dialer.clone();
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
