//! Exotel ExoML (Exotel's TwiML-style markup): `<Say>`, `<Play>`,
//! `<Gather>`, `<Dial>`, `<Record>`, `<Hangup>`, `<Redirect>`. Exotel calls
//! back with GET; a `<Gather>` that hears nothing falls through to the
//! `<Redirect>` after it, marked `ev=timeout`.

use super::{s, RenderCtx, Xml};
use crate::ivr::exec::{Action, Instruction, Speech};

fn speech(x: &mut Xml, sp: &Speech) {
    match sp {
        Speech::Say { text, voice, .. } => x.leaf("Say", &[("voice", voice.clone())], Some(text)),
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
                        ("action", s(&ctx.action_url)),
                        ("method", s("GET")),
                        ("numDigits", s(max_digits)),
                        ("timeout", s(timeout_seconds)),
                        ("finishOnKey", s(finish_on_key)),
                    ],
                );
                for sp in prompt {
                    speech(&mut x, sp);
                }
                x.close("Gather");
                x.leaf(
                    "Redirect",
                    &[("method", s("GET"))],
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
                        ("method", s("GET")),
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
                    ("method", s("GET")),
                    ("maxLength", s(max_seconds)),
                    ("finishOnKey", s(finish_on_key)),
                ],
                None,
            ),
            Action::Sms { .. } => {}
            Action::Hangup => x.leaf("Hangup", &[], None),
        }
    }
    x.close("Response");
    x.finish()
}
