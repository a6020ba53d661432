//! Twilio TwiML (https://www.twilio.com/docs/voice/twiml): `<Say>`,
//! `<Play>`, `<Gather>` (with `actionOnEmptyResult` so silence posts back),
//! `<Dial><Number>`, `<Record>`, `<Hangup>`.
//!
//! A queue with hold music, in a department whose click-to-call dialer is
//! Twilio, waits in `<Enqueue>` instead of ringing in `<Dial>` (whose
//! caller hears only ringback): the caller sits in a Twilio queue of its
//! own (`cb-<CallSid>`), hears what [`queue_wait`] answers at the wait URL,
//! and the receiver rings the agents with REST-created calls whose TwiML,
//! [`queue_leg`], dials that queue. The first agent to answer takes the
//! caller; Twilio fetches the bridge URL just before, which is when the
//! other agents' phones are cancelled. The wait URL answers `<Leave>` once
//! the slice is up, and Twilio posts `QueueResult` to the action URL, read
//! as a dial's result.

use super::{s, RenderCtx, Rendered, Xml};
use crate::ivr::exec::{Action, Instruction, Speech};

/// The wait URL's marker: its value is the seconds after which the caller
/// leaves the queue (the slice's end).
pub const WAIT_PARAM: &str = "cb_wait";
use super::MUSIC_PARAM;
/// The bridge URL's marker (fetched on the caller's side as an agent
/// dequeues them).
pub const BRIDGE_PARAM: &str = "cb_bridge";
/// How long an agent who answers after the caller was taken (or left)
/// waits on the empty queue before hearing so.
pub const LATE_AGENT_WAIT_SECONDS: u32 = 5;

/// The caller's own queue. Twilio's queue names hold at most 64
/// characters; a call id longer than 61 is cut (Twilio's are 34).
pub fn queue_name(call_id: &str) -> String {
    let id: String = call_id.chars().take(61).collect();
    format!("cb-{id}")
}

/// The wait URL's answer: the music once (Twilio fetches the URL again when
/// it ends), or `<Leave>` once the caller has waited `leave_after` seconds.
pub fn queue_wait(music_url: &str, queue_time: u32, leave_after: u32) -> Rendered {
    let mut x = Xml::new();
    x.open("Response", &[]);
    if queue_time >= leave_after {
        x.leaf("Leave", &[], None);
    } else {
        x.leaf("Play", &[], Some(music_url));
    }
    x.close("Response");
    x.rendered()
}

/// The bridge URL's answer: nothing to say, connect them.
pub fn queue_bridge() -> Rendered {
    let mut x = Xml::new();
    x.open("Response", &[]);
    x.close("Response");
    x.rendered()
}

/// The TwiML of an agent's call: take the caller out of their queue, or
/// hear that someone else did.
pub fn queue_leg(queue: &str, bridge_url: &str) -> String {
    let mut x = Xml::new();
    x.open("Response", &[]);
    x.open("Dial", &[("timeout", s(LATE_AGENT_WAIT_SECONDS))]);
    x.leaf(
        "Queue",
        &[("url", s(bridge_url)), ("method", s("POST"))],
        Some(queue),
    );
    x.close("Dial");
    x.leaf(
        "Say",
        &[],
        Some("This caller is no longer waiting. Goodbye."),
    );
    x.close("Response");
    x.finish()
}

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
                timeout_seconds,
                music_url: Some(music),
                ..
            } if ctx.twilio_enqueue => {
                let wait = super::with_params(
                    &ctx.action_url,
                    &[
                        (WAIT_PARAM, &timeout_seconds.to_string()),
                        (MUSIC_PARAM, music),
                    ],
                );
                x.leaf(
                    "Enqueue",
                    &[
                        ("action", s(&ctx.action_url)),
                        ("method", s("POST")),
                        ("waitUrl", s(wait)),
                        ("waitUrlMethod", s("POST")),
                    ],
                    Some(&queue_name(&ctx.call_id)),
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
            // TwiML's in-call <Sms> is retired: the server queues it.
            Action::Sms { .. } => {}
            Action::Hangup => x.leaf("Hangup", &[], None),
        }
    }
    x.close("Response");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(music: Option<&str>) -> Instruction {
        Instruction {
            actions: vec![Action::Dial {
                numbers: vec!["+15550100".into(), "+15550101".into()],
                timeout_seconds: 45,
                music_url: music.map(str::to_string),
                caller_id: Some("+15550002".into()),
            }],
        }
    }

    fn ctx(enqueue: bool) -> RenderCtx {
        RenderCtx {
            action_url: "https://cb.example.com/ivr/sales?s=3".into(),
            call_id: "CA0123456789abcdef0123456789abcdef".into(),
            twilio_enqueue: enqueue,
        }
    }

    #[test]
    fn a_queue_with_music_and_a_twilio_dialer_waits_in_its_own_queue() {
        let xml = render(
            &queue(Some("https://cdn.example.com/hold.mp3?a=1&b=2")),
            &ctx(true),
        );
        assert!(!xml.contains("<Dial"), "{xml}");
        assert!(
            xml.contains(concat!(
                r#"<Enqueue action="https://cb.example.com/ivr/sales?s=3" method="POST" "#,
                r#"waitUrl="https://cb.example.com/ivr/sales?s=3&amp;cb_wait=45&amp;music=https%3A%2F%2Fcdn.example.com%2Fhold.mp3%3Fa%3D1%26b%3D2" "#,
                r#"waitUrlMethod="POST">cb-CA0123456789abcdef0123456789abcdef</Enqueue>"#
            )),
            "{xml}"
        );
    }

    #[test]
    fn without_music_or_without_the_dialer_the_agents_ring_in_a_dial() {
        for (music, enqueue) in [(None, true), (Some("https://cdn.example.com/h.mp3"), false)] {
            let xml = render(&queue(music), &ctx(enqueue));
            assert!(!xml.contains("<Enqueue"), "{xml}");
            assert!(
                xml.contains("<Number>+15550100</Number>")
                    && xml.contains("<Number>+15550101</Number>"),
                "{xml}"
            );
        }
    }

    #[test]
    fn the_wait_url_plays_the_music_until_the_slice_is_up_then_leaves() {
        let play = queue_wait("https://cdn.example.com/h.mp3?a=1&b=2", 44, 45);
        assert_eq!(play.content_type, "application/xml");
        assert!(
            play.body
                .contains("<Play>https://cdn.example.com/h.mp3?a=1&amp;b=2</Play>"),
            "{}",
            play.body
        );
        assert!(!play.body.contains("Leave"));
        for t in [45, 300] {
            let leave = queue_wait("https://cdn.example.com/h.mp3", t, 45);
            assert!(leave.body.contains("<Leave/>"), "{}", leave.body);
            assert!(!leave.body.contains("<Play"), "{}", leave.body);
        }
    }

    #[test]
    fn an_agents_leg_dials_the_callers_queue_and_names_the_bridge_url() {
        let twiml = queue_leg(
            "cb-CA1",
            "https://cb.example.com/ivr/sales?cb_bridge=1&x=a&b",
        );
        assert!(
            twiml.contains(
                r#"<Queue url="https://cb.example.com/ivr/sales?cb_bridge=1&amp;x=a&amp;b" method="POST">cb-CA1</Queue>"#
            ),
            "{twiml}"
        );
        assert!(twiml.contains(r#"<Dial timeout="5">"#), "{twiml}");
        assert!(twiml.contains("no longer waiting"), "{twiml}");
        assert_eq!(queue_name(&"x".repeat(80)).len(), 64);
    }
}
