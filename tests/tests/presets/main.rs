//! Black-box tests of the provider presets: each platform's documented sample
//! payloads, signed as the platform signs them, posted to the real binary.

mod agent_ids;
mod asterisk;
mod callbacks;
mod callbacks_vonage_dialpad;
mod catalogue;
mod cloudonix;
mod convoso;
mod convoso_leads;
mod convoso_recordings;
mod dialpad;
mod exotel;
mod generic;
mod india;
mod poller;
mod telnyx_aircall;
mod threecx;
mod threecx_stream;
mod twilio;
mod vonage;

use serde_json::Value;

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}
