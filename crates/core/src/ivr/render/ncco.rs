//! Vonage NCCO (https://developer.vonage.com/en/voice/voice-api/ncco-reference):
//! a JSON array of `talk`, `stream`, `input` (`type: ["dtmf"]`), `connect`
//! (phone endpoints, `eventType: synchronous` so a failed dial comes back to
//! us), `record`. The call ends when the NCCO runs out, so `Hangup` writes
//! nothing.

use super::RenderCtx;
use crate::ivr::exec::{Action, Instruction, Speech};
use serde_json::{json, Value};

fn speech(sp: &Speech, barge_in: bool) -> Value {
    match sp {
        Speech::Say {
            text,
            language,
            voice,
        } => {
            let mut v = json!({"action": "talk", "text": text});
            if let Some(l) = language {
                v["language"] = json!(l);
            }
            if let Some(s) = voice.as_deref().and_then(|v| v.parse::<u32>().ok()) {
                v["style"] = json!(s);
            }
            if barge_in {
                v["bargeIn"] = json!(true);
            }
            v
        }
        Speech::Play { url } => {
            let mut v = json!({"action": "stream", "streamUrl": [url]});
            if barge_in {
                v["bargeIn"] = json!(true);
            }
            v
        }
    }
}

pub fn render(instr: &Instruction, ctx: &RenderCtx) -> String {
    let mut out: Vec<Value> = Vec::new();
    for a in &instr.actions {
        match a {
            Action::Speak(sp) => out.push(speech(sp, false)),
            Action::Gather {
                prompt,
                max_digits,
                finish_on_key,
                timeout_seconds,
                ..
            } => {
                out.extend(prompt.iter().map(|p| speech(p, true)));
                out.push(json!({
                    "action": "input",
                    "type": ["dtmf"],
                    "dtmf": {
                        "maxDigits": max_digits,
                        "timeOut": timeout_seconds,
                        "submitOnHash": finish_on_key == "#",
                    },
                    "eventUrl": [ctx.action_url],
                    "eventMethod": "POST",
                }));
            }
            Action::Dial {
                numbers,
                timeout_seconds,
                caller_id,
                music_url,
            } => {
                let mut v = json!({
                    "action": "connect",
                    "timeout": timeout_seconds,
                    "endpoint": numbers.iter().map(|n| json!({"type": "phone", "number": n.trim_start_matches('+')})).collect::<Vec<_>>(),
                    "eventType": "synchronous",
                    "eventUrl": [ctx.action_url],
                    "eventMethod": "POST",
                });
                if let Some(c) = caller_id {
                    v["from"] = json!(c.trim_start_matches('+'));
                }
                if let Some(m) = music_url {
                    v["ringbackTone"] = json!(m);
                }
                out.push(v);
            }
            Action::Record {
                max_seconds,
                finish_on_key,
            } => out.push(json!({
                "action": "record",
                "endOnKey": finish_on_key,
                "timeOut": max_seconds,
                "beepStart": true,
                "eventUrl": [ctx.action_url],
                "eventMethod": "POST",
            })),
            Action::Sms { .. } | Action::Hangup => {}
        }
    }
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".into())
}
