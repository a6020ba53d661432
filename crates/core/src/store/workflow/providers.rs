//! A provider's settings changed: the row, the IVR flow it answers with, the
//! SLA deadlines of its waiting calls when its clock changed, and one audit
//! entry naming each field that changed.

use crate::error::Result;
use crate::sla::BusinessHours;
use crate::store::audit::Actor;
use crate::store::providers::{self, Provider, ProviderPatch};
use crate::store::{deadlines, ivr, Writer};

pub fn update(
    w: &mut Writer<'_>,
    slug: &str,
    patch: ProviderPatch,
    actor: &Actor,
) -> Result<Provider> {
    let before = providers::get(w.conn, slug)?;
    ivr::set_provider_ivr(w, before.id, patch.flow_id, patch.ivr_dialect.as_deref())?;
    let after = providers::update_row(w, &before, &patch)?;
    let clock_changed =
        after.sla_minutes != before.sla_minutes || after.business_hours != before.business_hours;
    if clock_changed {
        let hours = after
            .business_hours
            .as_ref()
            .map(BusinessHours::compile)
            .transpose()?;
        deadlines::recompute(w, &after.slug, after.sla_minutes, hours.as_ref())?;
    }
    providers::audit_update(w, actor, &before, &after, &patch)?;
    Ok(after)
}
