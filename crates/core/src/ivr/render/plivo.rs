//! Plivo XML (https://www.plivo.com/docs/voice/xml/): `<Speak>`, `<Play>`,
//! `<GetInput inputType="dtmf">`, `<Dial><Number>`, `<Record>`,
//! `<Message>` (the in-call SMS), `<Hangup>`, `<Redirect>`. A
//! `<GetInput>` without input falls through to the `<Redirect>` after it.

use super::{s, RenderCtx, Xml};
use crate::ivr::exec::{Action, Instruction, Speech};

fn speech(x: &mut Xml, sp: &Speech) {
    match sp {
        Speech::Say {
            text,
            voice,
            language,
        } => x.leaf(
            "Speak",
            &[("voice", voice.clone()), ("language", language.clone())],
            Some(text),
        ),
        Speech::Play { url } => x.leaf("Play", &[], Some(url)),
    }
}

pub fn render(instr: &Instruction, ctx: &RenderCtx) -> String {
    let mut x = Xml::new();
    x.open("Response", &[]);
    for a in &instr.actions {
        match a {
            Action::Speak(sp) => speech(&mut x, sp),
            Action::Gather {
                prompt,
                max_digits,
                finish_on_key,
                timeout_seconds,
                ..
            } => {
                x.open(
                    "GetInput",
                    &[
                        ("action", s(&ctx.action_url)),
                        ("method", s("POST")),
                        ("inputType", s("dtmf")),
                        ("numDigits", s(max_digits)),
                        ("executionTimeout", s(timeout_seconds)),
                        ("finishOnKey", s(finish_on_key)),
                        ("redirect", s("true")),
                    ],
                );
                for sp in prompt {
                    speech(&mut x, sp);
                }
                x.close("GetInput");
                x.leaf(
                    "Redirect",
                    &[("method", s("POST"))],
                    Some(&ctx.url_with("ev", "timeout")),
                );
            }
            Action::Dial {
                numbers,
                timeout_seconds,
                caller_id,
                ..
            } => {
                x.open(
                    "Dial",
                    &[
                        ("action", s(&ctx.action_url)),
                        ("method", s("POST")),
                        ("timeout", s(timeout_seconds)),
                        ("callerId", caller_id.clone()),
                    ],
                );
                for n in numbers {
                    x.leaf("Number", &[], Some(n));
                }
                x.close("Dial");
            }
            Action::Record {
                max_seconds,
                finish_on_key,
            } => x.leaf(
                "Record",
                &[
                    ("action", s(&ctx.action_url)),
                    ("method", s("POST")),
                    ("maxLength", s(max_seconds)),
                    ("finishOnKey", s(finish_on_key)),
                    ("playBeep", s("true")),
                ],
                None,
            ),
            Action::Sms { to, text } => {
                x.leaf("Message", &[("dst", s(to)), ("type", s("sms"))], Some(text))
            }
            Action::Hangup => x.leaf("Hangup", &[], None),
        }
    }
    x.close("Response");
    x.finish()
}
