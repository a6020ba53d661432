//! Callboard's generic JSON dialect (docs/IVR.md): the neutral actions as
//! they are, plus the URL to call next.

use super::RenderCtx;
use crate::ivr::exec::Instruction;
use serde_json::json;

pub fn render(instr: &Instruction, ctx: &RenderCtx) -> String {
    let v = json!({
        "call_id": ctx.call_id,
        "actions": instr.actions,
        "next_url": if instr.waits() { Some(&ctx.action_url) } else { None },
    });
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into())
}
