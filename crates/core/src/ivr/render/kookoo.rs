//! Ozonetel KooKoo XML: `<response sid>` holding `<playtext>`,
//! `<playaudio>`, `<collectdtmf l t o>` (o: timeout in ms), `<dial>`,
//! `<record>`, `<sendsms to>`, `<hangup/>`. KooKoo calls the same
//! application URL for every event (`NewCall`, `GotDTMF`, `Dial`, `Record`,
//! `Hangup`, `Disconnect`), so no action URL is written.
//!
//! `<sendsms to="number">text</sendsms>` is not on the KooKoo tunes page
//! (http://www.kookoo.in/index.php/kookoo-docs lists response, playtext,
//! Say-As, playaudio, collectdtmf, record, conference, hangup, dial,
//! gotourl, recognize); it is what Ozonetel's own KooKoo libraries write:
//! `Response::sendSms($text, $no)` in
//! https://github.com/kookoolib/KooKoo-PHP/blob/master/kookoophp/response.php
//! and `Response.sendSms(text, number)` in
//! https://github.com/kookoolib/KooKoo-Java/blob/master/com/ozonetel/kookoo/Response.java
//! (an element `sendsms`, the text as its content, the number in `to`).
//! Unverified against a live KooKoo account, so the receiver gives KooKoo a
//! text only when the department's dialer cannot send it
//! (`Dialect::texts_in_call_without_dialer`); the renderer writes every
//! `Sms` action it is given.
//!
//! `<dial moh>` chooses what the caller hears while the number rings, from
//! the same libraries (`addDial(…, $moh='default', …)`: "moh=default will be
//! music on hold, moh=ring for normal ring, moh=normal for telco messages";
//! `Dial.MusicOnHold` in Java): KooKoo's own music, never a file of ours. A
//! queue with hold music therefore rings with `moh="default"`; anything else
//! keeps KooKoo's default.

use super::{s, RenderCtx, Xml};
use crate::ivr::exec::{Action, Instruction, Speech};

fn speech(x: &mut Xml, sp: &Speech) {
    match sp {
        Speech::Say { text, language, .. } => {
            x.leaf("playtext", &[("lang", language.clone())], Some(text))
        }
        Speech::Play { url } => x.leaf("playaudio", &[], Some(url)),
    }
}

pub fn render(instr: &Instruction, ctx: &RenderCtx) -> String {
    let mut x = Xml::new();
    x.open("response", &[("sid", s(&ctx.call_id))]);
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
                    "collectdtmf",
                    &[
                        ("l", s(max_digits)),
                        ("t", s(finish_on_key)),
                        ("o", s(u64::from(*timeout_seconds) * 1000)),
                    ],
                );
                for sp in prompt {
                    speech(&mut x, sp);
                }
                x.close("collectdtmf");
            }
            Action::Dial {
                numbers,
                timeout_seconds,
                music_url,
                ..
            } => {
                // KooKoo dials one number per <dial>: the first (routing order).
                if let Some(n) = numbers.first() {
                    x.leaf(
                        "dial",
                        &[
                            ("record", s("false")),
                            ("timeout", s(timeout_seconds)),
                            ("moh", music_url.as_ref().map(|_| "default".to_string())),
                        ],
                        Some(n),
                    );
                }
            }
            Action::Record {
                max_seconds,
                finish_on_key,
            } => x.leaf(
                "record",
                &[
                    ("format", s("wav")),
                    ("silence", s(3)),
                    ("maxduration", s(max_seconds)),
                    ("termchar", s(finish_on_key)),
                ],
                Some(&format!("voicemail-{}", ctx.call_id)),
            ),
            Action::Sms { to, text } => x.leaf("sendsms", &[("to", s(to))], Some(text)),
            Action::Hangup => x.leaf("hangup", &[], None),
        }
    }
    x.close("response");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(music_url: Option<&str>) -> String {
        let instr = Instruction {
            actions: vec![Action::Dial {
                numbers: vec!["+911111111111".into()],
                timeout_seconds: 45,
                music_url: music_url.map(str::to_string),
                caller_id: None,
            }],
        };
        let ctx = RenderCtx {
            action_url: "https://cb.example.com/ivr/sales?token=T&s=4".into(),
            call_id: "CA1".into(),
            twilio_enqueue: false,
        };
        render(&instr, &ctx)
    }

    #[test]
    fn a_queue_with_hold_music_rings_with_kookoos_music_on_hold() {
        let out = dial(Some("https://cdn.example.com/hold.mp3"));
        assert!(
            out.contains(r#"<dial record="false" timeout="45" moh="default">+911111111111</dial>"#),
            "{out}"
        );
        // KooKoo takes no file: the flow's audio URL is not written.
        assert!(!out.contains("cdn.example.com"), "{out}");
        let plain = dial(None);
        assert!(
            plain.contains(r#"<dial record="false" timeout="45">+911111111111</dial>"#),
            "{plain}"
        );
    }
}
