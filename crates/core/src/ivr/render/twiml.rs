//! Twilio TwiML (https://www.twilio.com/docs/voice/twiml): `<Say>`,
//! `<Play>`, `<Gather>` (with `actionOnEmptyResult` so silence posts back),
//! `<Dial><Number>`, `<Record>`, `<Hangup>`.

use super::{s, RenderCtx, Xml};
use crate::ivr::exec::{Action, Instruction, Speech};

fn speech(x: &mut Xml, sp: &Speech) {
    match sp {
        Speech::Say {
            text,
            voice,
            language,
        } => x.leaf(
            "Say",
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
                    "Gather",
                    &[
                        ("input", s("dtmf")),
                        ("action", s(&ctx.action_url)),
                        ("method", s("POST")),
                        ("numDigits", s(max_digits)),
                        ("timeout", s(timeout_seconds)),
                        ("finishOnKey", s(finish_on_key)),
                        ("actionOnEmptyResult", s("true")),
                    ],
                );
                for sp in prompt {
                    speech(&mut x, sp);
                }
                x.close("Gather");
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
            // TwiML's in-call <Sms> is retired: the server queues it.
            Action::Sms { .. } => {}
            Action::Hangup => x.leaf("Hangup", &[], None),
        }
    }
    x.close("Response");
    x.finish()
}
