//! Plivo XML (https://www.plivo.com/docs/voice/xml/): `<Speak>`, `<Play>`,
//! `<GetInput inputType="dtmf">`, `<Dial><Number>`, `<Record>`,
//! `<Message>` (the in-call SMS), `<Hangup>`, `<Redirect>`. A
//! `<GetInput>` without input falls through to the `<Redirect>` after it.
//! A queue's hold music is `<Dial dialMusic>`, which Plivo reads as the URL
//! of an XML document to play: the IVR URL with `music=<audio URL>`, which
//! the receiver answers with [`hold_music`] without moving the call on.

use super::{s, RenderCtx, Rendered, Xml};

use super::MUSIC_PARAM;

/// What Plivo plays while a queue's `<Dial>` rings: the audio, looped.
pub fn hold_music(audio_url: &str) -> Rendered {
    let mut x = Xml::new();
    x.open("Response", &[]);
    x.leaf("Play", &[("loop", s("0"))], Some(audio_url));
    x.close("Response");
    x.rendered()
}
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
                music_url,
            } => {
                x.open(
                    "Dial",
                    &[
                        ("action", s(&ctx.action_url)),
                        ("method", s("POST")),
                        ("timeout", s(timeout_seconds)),
                        ("callerId", caller_id.clone()),
                        (
                            "dialMusic",
                            music_url
                                .as_ref()
                                .map(|m| ctx.url_with_text(MUSIC_PARAM, m)),
                        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_with_hold_music_asks_for_it_by_url_and_the_answer_loops_it() {
        let ctx = RenderCtx {
            action_url: "https://cb.example.com/ivr/sales?token=T&s=4".into(),
            call_id: "P1".into(),
            twilio_enqueue: false,
        };
        let instr = Instruction {
            actions: vec![Action::Dial {
                numbers: vec!["+911111111111".into()],
                timeout_seconds: 60,
                music_url: Some("https://cdn.example.com/hold music.mp3?v=2&x=1".into()),
                caller_id: None,
            }],
        };
        let xml = render(&instr, &ctx);
        assert!(
            xml.contains(
                r#"dialMusic="https://cb.example.com/ivr/sales?token=T&amp;s=4&amp;music=https%3A%2F%2Fcdn.example.com%2Fhold+music.mp3%3Fv%3D2%26x%3D1""#
            ),
            "{xml}"
        );
        let music = hold_music("https://cdn.example.com/hold music.mp3?v=2&x=1");
        assert_eq!(music.content_type, "application/xml");
        assert!(
            music.body.contains(
                r#"<Play loop="0">https://cdn.example.com/hold music.mp3?v=2&amp;x=1</Play>"#
            ),
            "{}",
            music.body
        );
        // A queue without music rings as before.
        let plain = Instruction {
            actions: vec![Action::Dial {
                numbers: vec!["+911111111111".into()],
                timeout_seconds: 60,
                music_url: None,
                caller_id: None,
            }],
        };
        assert!(!render(&plain, &ctx).contains("dialMusic"));
    }
}
