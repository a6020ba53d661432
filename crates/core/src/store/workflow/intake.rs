//! A call event, from the mapped call to the stream: store it (merged with
//! what is known), offer a call that just entered the worklist to an agent
//! by the department's routing (and owe the caller the department's "sorry we
//! missed you" text), settle the caller's earlier missed calls
//! once a call reaches them, queue (or drop) the fetch of a Convoso
//! recording not ready yet, and announce the call as it then stands.

use crate::error::Result;
use crate::mapping::MappedCall;
use crate::store::calls::{self, Call};
use crate::store::{agents, callbacks, recording_fetches, sms, Writer};

/// Records one event of a call and returns the call as stored (and assigned,
/// when routing chose an agent).
pub(crate) fn record(
    w: &mut Writer<'_>,
    provider_id: i64,
    department: &str,
    m: &MappedCall,
    event_at: &str,
    sla_minutes: i64,
) -> Result<Call> {
    let stored = calls::upsert(w, provider_id, department, m, event_at, sla_minutes)?;
    // An outbound call may be a call back whose platform reports nothing else.
    callbacks::settle_from_call(w, &stored.call)?;
    // A Convoso recording not ready yet is fetched again later; one that
    // arrived takes the call off that queue.
    recording_fetches::track(w, provider_id, &stored.call)?;
    // Unless the department settles its worklist by hand only.
    let auto_resolve = w.providers.get(department).is_none_or(|p| p.auto_resolve);
    if stored.reached && auto_resolve {
        calls::resolve_reached(w, &stored.call)?;
    }
    if stored.entered_worklist {
        // Queued with the event: a missed call acknowledged is a message owed.
        sms::enqueue_missed(w, &stored.call)?;
        if let Some(p) = w.providers.get(department) {
            if let Some(assigned) = agents::route(w, &stored.call, &p.routing)? {
                // The assignment announced the call as it now stands: one
                // `call.upserted` for the event, not two.
                return Ok(assigned);
            }
        }
    }
    calls::announce(w, &stored.call)?;
    Ok(stored.call)
}
