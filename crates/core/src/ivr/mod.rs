//! IVR flows as data: the model, the validator, the executor (a pure
//! function of flow, call state and event) and one renderer per platform
//! dialect. No HTTP and no storage here: the server parses requests and does
//! an `api` node's request; the store keeps the state.

pub mod exec;
pub mod model;
pub mod render;
pub mod request;
pub mod validate;

pub use exec::{
    step, ApiOutcome, ApiRequest, CallState, Env, FixedEnv, Instruction, IvrEvent, Step,
};
pub use model::{FlowDef, Node, NodeKind};
pub use render::{render, Dialect, RenderCtx, Rendered};
pub use validate::{validate, Context, FlowError};

use serde_json::{json, Value};

/// The "Customer support" flow Callboard ships: welcome, a caller lookup
/// (`api`), a business-hours decision, the main menu, sales and support
/// queues that overflow to voicemail, and an after-hours message with a
/// callback offer.
pub fn customer_support_template(sales: &str, support: &str) -> Value {
    json!({
        "name": "Customer support",
        "entry": "welcome",
        "nodes": [
            {"id": "welcome", "type": "welcome", "say": "Thank you for calling. This call may be recorded.", "next": "lookup", "position": {"x": 0, "y": 0}},
            {"id": "lookup", "type": "api", "method": "GET", "url": "https://crm.example.com/customers?phone={{caller}}", "timeout_ms": 2000,
             "assign": {"customer_name": "name"}, "next": "hours", "on_error": "hours", "position": {"x": 0, "y": 120}},
            {"id": "hours", "type": "decision", "rules": [
                {"if": {"field": "business_hours", "op": "is_true", "department": sales}, "next": "main_menu"}
             ], "else": "after_hours", "position": {"x": 0, "y": 240}},
            {"id": "main_menu", "type": "menu", "say": "Hello {{customer_name}}. For sales, press 1. For support, press 2.",
             "options": {"1": "sales_queue", "2": "support_queue"}, "timeout_seconds": 5, "retries": 2,
             "on_invalid": "goodbye", "on_timeout": "sales_queue", "position": {"x": -200, "y": 360}},
            {"id": "sales_queue", "type": "queue", "department": sales, "say": "Connecting you to sales.", "max_wait_seconds": 120,
             "on_timeout": "voicemail", "position": {"x": -350, "y": 480}},
            {"id": "support_queue", "type": "queue", "department": support, "say": "Connecting you to support.", "max_wait_seconds": 120,
             "on_timeout": "voicemail", "position": {"x": -50, "y": 480}},
            {"id": "voicemail", "type": "record", "say": "All our agents are busy. Please leave a message after the beep.",
             "max_seconds": 120, "next": "thanks", "position": {"x": -200, "y": 600}},
            {"id": "thanks", "type": "hangup", "say": "Thank you. We will call you back soon. Goodbye.", "position": {"x": -200, "y": 720}},
            {"id": "after_hours", "type": "menu", "say": "We are closed now. To be called back tomorrow, press 1. To leave a message, press 2.",
             "options": {"1": "callback", "2": "voicemail"}, "timeout_seconds": 5, "retries": 1,
             "on_invalid": "goodbye", "on_timeout": "goodbye", "position": {"x": 250, "y": 360}},
            {"id": "callback", "type": "callback", "say": "We will call you back on this number.", "next": "goodbye", "position": {"x": 250, "y": 480}},
            {"id": "goodbye", "type": "hangup", "say": "Thank you for calling. Goodbye.", "position": {"x": 250, "y": 600}}
        ]
    })
}

#[cfg(test)]
mod tests;
