//! Renderers: one small module per dialect turns a platform-neutral
//! [`Instruction`] into the platform's own XML or JSON.

pub mod exoml;
pub mod json;
pub mod kookoo;
pub mod ncco;
pub mod plivo;
pub mod twiml;

use super::exec::Instruction;
use serde::{Deserialize, Serialize};

/// The IVR dialects Callboard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Exotel ExoML.
    Exotel,
    /// Twilio TwiML.
    Twilio,
    /// Ozonetel KooKoo XML.
    Kookoo,
    /// Vonage NCCO JSON.
    Vonage,
    /// Plivo XML.
    Plivo,
    /// Callboard's generic JSON (docs/IVR.md).
    Json,
}

pub const DIALECTS: [Dialect; 6] = [
    Dialect::Exotel,
    Dialect::Twilio,
    Dialect::Kookoo,
    Dialect::Vonage,
    Dialect::Plivo,
    Dialect::Json,
];

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Exotel => "exotel",
            Dialect::Twilio => "twilio",
            Dialect::Kookoo => "kookoo",
            Dialect::Vonage => "vonage",
            Dialect::Plivo => "plivo",
            Dialect::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Dialect> {
        DIALECTS
            .into_iter()
            .find(|d| d.as_str() == s.trim().to_ascii_lowercase())
    }

    /// The dialect a provider created from `preset` speaks by default.
    pub fn for_preset(preset: Option<&str>) -> Dialect {
        match preset {
            Some("exotel") => Dialect::Exotel,
            Some("twilio") => Dialect::Twilio,
            Some("kookoo") | Some("ozonetel") => Dialect::Kookoo,
            Some("vonage") => Dialect::Vonage,
            Some("plivo") => Dialect::Plivo,
            _ => Dialect::Json,
        }
    }

    /// Where an `sms` action goes: `true` when the dialect sends it in-call.
    pub fn sends_sms(self) -> bool {
        matches!(self, Dialect::Plivo | Dialect::Json)
    }

    /// Whether the dialect sends an `sms` action in the call when the
    /// department's SMS outbox cannot (no dialer, or one Callboard sends no
    /// SMS through): KooKoo's `<sendsms to>`, which Ozonetel's KooKoo
    /// libraries write but the KooKoo tunes reference does not list, so a
    /// dialer's documented SMS API goes first.
    pub fn texts_in_call_without_dialer(self) -> bool {
        matches!(self, Dialect::Kookoo)
    }
}

/// What a renderer needs besides the instruction.
#[derive(Debug, Clone)]
pub struct RenderCtx {
    /// The URL the platform calls back with the caller's keys or a dial's
    /// or recording's result (it carries the step, and the token for
    /// query-token providers).
    pub action_url: String,
    pub call_id: String,
    /// A queue with hold music waits in Twilio's `<Enqueue>` while the
    /// receiver rings the agents through the department's Twilio dialer
    /// (TwiML only; see [`twiml`]).
    pub twilio_enqueue: bool,
}

/// The query parameter naming a queue's hold music (an audio URL) in the
/// URLs the platform fetches it from (Plivo's `dialMusic`, Twilio's wait URL).
pub const MUSIC_PARAM: &str = "music";

/// `url` with more query parameters, each value form-encoded.
pub fn with_params(url: &str, params: &[(&str, &str)]) -> String {
    let pairs = serde_urlencoded::to_string(params).unwrap_or_default();
    if pairs.is_empty() {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{pairs}")
}

impl RenderCtx {
    /// `action_url` with one more query parameter.
    pub fn url_with(&self, key: &str, value: &str) -> String {
        let sep = if self.action_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{key}={value}", self.action_url)
    }

    /// `action_url` with one more query parameter whose value is any text
    /// (a URL, say), form-encoded.
    pub fn url_with_text(&self, key: &str, value: &str) -> String {
        with_params(&self.action_url, &[(key, value)])
    }
}

/// A rendered answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rendered {
    pub content_type: String,
    pub body: String,
}

pub fn render(dialect: Dialect, instr: &Instruction, ctx: &RenderCtx) -> Rendered {
    let (content_type, body) = match dialect {
        Dialect::Twilio => ("application/xml", twiml::render(instr, ctx)),
        Dialect::Exotel => ("application/xml", exoml::render(instr, ctx)),
        Dialect::Kookoo => ("application/xml", kookoo::render(instr, ctx)),
        Dialect::Plivo => ("application/xml", plivo::render(instr, ctx)),
        Dialect::Vonage => ("application/json", ncco::render(instr, ctx)),
        Dialect::Json => ("application/json", json::render(instr, ctx)),
    };
    Rendered {
        content_type: content_type.to_string(),
        body,
    }
}

/// Escapes text and attribute values for XML.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A small XML writer: `<name a="v">text</name>` with escaping.
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    pub fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    fn attrs(&mut self, attrs: &[(&str, Option<String>)]) {
        for (k, v) in attrs {
            if let Some(v) = v {
                self.out.push_str(&format!(" {k}=\"{}\"", xml_escape(v)));
            }
        }
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, Option<String>)]) {
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str(">\n");
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str(&format!("</{name}>\n"));
    }

    pub fn leaf(&mut self, name: &str, attrs: &[(&str, Option<String>)], text: Option<&str>) {
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        match text {
            Some(t) => {
                self.out.push('>');
                self.out.push_str(&xml_escape(t));
                self.out.push_str(&format!("</{name}>\n"));
            }
            None => self.out.push_str("/>\n"),
        }
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// The document as a whole XML answer.
    pub fn rendered(self) -> Rendered {
        Rendered {
            content_type: "application/xml".into(),
            body: self.out,
        }
    }
}

pub(crate) fn s<T: ToString>(v: T) -> Option<String> {
    Some(v.to_string())
}
