//! The jobs that must run on one receiver only (SLA breaches, alerts,
//! retention, pollers and the Convoso recording retries, the text sender, Asterisk streams, event-log pruning):
//! always on a single machine; in a cluster, on the instance holding the
//! leader lock, stopped the moment it is lost and started where it is taken.

use crate::state::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Runs until `shutdown`; each leadership term gets its own stop signal.
pub(crate) async fn run(state: AppState, retention_days: i64, mut shutdown: watch::Receiver<bool>) {
    let mut leader = state.store.leadership();
    loop {
        // Wait to lead (or to stop).
        while !*leader.borrow_and_update() {
            tokio::select! {
                changed = leader.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
            }
        }
        let (term_tx, term) = watch::channel(false);
        let jobs = start(&state, retention_days, term);
        tracing::debug!(jobs = jobs.len(), "leader jobs started");
        let ended = loop {
            tokio::select! {
                changed = leader.changed() => {
                    if changed.is_err() || !*leader.borrow_and_update() { break false; }
                }
                _ = shutdown.changed() => break true,
            }
        };
        let _ = term_tx.send(true);
        for job in &jobs {
            job.abort();
        }
        if ended {
            return;
        }
        tracing::warn!("leadership lost: the once-only jobs stopped here");
        // A beat before trying again, so a flapping session does not spin.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(
    state: &AppState,
    retention_days: i64,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let store = &state.store;
    vec![
        tokio::spawn(crate::sla_watch::run(store.clone(), stop.clone())),
        tokio::spawn(crate::alerts::run(
            store.clone(),
            state.secrets.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::retention::daily(
            store.clone(),
            state.retention.clone(),
            stop.clone(),
        )),
        tokio::spawn(state.pollers.clone().schedule(
            store.clone(),
            state.secrets.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::convoso::recordings::run(
            state.pollers.clone(),
            store.clone(),
            state.secrets.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::sms::run(
            store.clone(),
            state.secrets.clone(),
            state.dialling.clone(),
            stop.clone(),
        )),
        tokio::spawn(state.streams.clone().supervise(
            store.clone(),
            state.secrets.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::app::prune_events(
            store.clone(),
            retention_days,
            stop,
        )),
    ]
}
