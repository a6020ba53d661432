//! "Sorry we missed you" text messages: each department's settings (a
//! template, quiet hours in its time zone, one message per caller per so
//! many hours) and the outbox the sender works through. A message is queued
//! in the same transaction as the event that put the call in the worklist,
//! so an acknowledged missed call never loses its message. An IVR flow's
//! `sms` node in a dialect without an in-call SMS verb uses the same outbox
//! (`kind` `ivr`), queued in the IVR step's transaction.

use super::audit::{self, Actor};
use super::calls::Call;
use super::decode::At;
use super::Writer;
use crate::error::{Error, Result};
use crate::time::{self, Timestamp};
use chrono::{NaiveTime, TimeZone};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A department's missed-call SMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    pub enabled: bool,
    /// The text; `{department}` and `{caller_name}` are filled in. At most
    /// 480 characters (three SMS parts).
    pub template: String,
    /// Quiet hours (`HH:MM`, local to `time_zone`): a message due inside
    /// them waits for their end. Both or neither.
    pub quiet_from: Option<String>,
    pub quiet_to: Option<String>,
    /// IANA zone of the quiet hours (default UTC).
    #[serde(default = "utc")]
    pub time_zone: String,
    /// One message per caller number per this many hours (default 12).
    #[serde(default = "twelve")]
    pub min_gap_hours: i64,
}

fn utc() -> String {
    "UTC".into()
}
fn twelve() -> i64 {
    12
}

const PLACEHOLDERS: [&str; 2] = ["{department}", "{caller_name}"];

fn hhmm(s: &str, name: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| Error::invalid(format!("{name} `{s}` is not a time of day (HH:MM)")))
}

impl SmsSettings {
    pub fn validate(&self) -> Result<()> {
        let t = self.template.trim();
        if t.is_empty() || t.chars().count() > 480 {
            return Err(Error::invalid("template must be 1-480 characters"));
        }
        let mut rest = t.to_string();
        for p in PLACEHOLDERS {
            rest = rest.replace(p, "");
        }
        if let Some(i) = rest.find('{') {
            let tail: String = rest[i..].chars().take(20).collect();
            return Err(Error::invalid(format!(
                "the template has an unknown placeholder at `{tail}` (known: {})",
                PLACEHOLDERS.join(", ")
            )));
        }
        match (&self.quiet_from, &self.quiet_to) {
            (Some(a), Some(b)) => {
                hhmm(a, "quiet_from")?;
                hhmm(b, "quiet_to")?;
            }
            (None, None) => {}
            _ => {
                return Err(Error::invalid(
                    "give both quiet_from and quiet_to, or neither",
                ))
            }
        }
        self.zone()?;
        if !(0..=24 * 30).contains(&self.min_gap_hours) {
            return Err(Error::invalid("min_gap_hours must be 0-720"));
        }
        Ok(())
    }

    fn zone(&self) -> Result<chrono_tz::Tz> {
        self.time_zone.trim().parse().map_err(|_| {
            Error::invalid(format!(
                "time_zone `{}` is not an IANA zone (e.g. Asia/Kolkata)",
                self.time_zone
            ))
        })
    }

    /// When a message due at `now` may go: now, or the end of the quiet
    /// hours it falls in (a window may span midnight).
    pub fn send_after(&self, now: Timestamp) -> Timestamp {
        let (Some(from), Some(to)) = (&self.quiet_from, &self.quiet_to) else {
            return now;
        };
        let (Ok(from), Ok(to), Ok(tz)) = (hhmm(from, ""), hhmm(to, ""), self.zone()) else {
            return now;
        };
        let local = now.with_timezone(&tz);
        let t = local.time();
        let quiet = if from <= to {
            t >= from && t < to
        } else {
            t >= from || t < to
        };
        if !quiet {
            return now;
        }
        let mut day = local.date_naive();
        if from > to && t >= from {
            day = day.succ_opt().unwrap_or(day);
        }
        tz.from_local_datetime(&day.and_time(to))
            .earliest()
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or(now)
    }

    fn render(&self, department_name: &str, caller_name: Option<&str>) -> String {
        self.template
            .trim()
            .replace("{department}", department_name)
            .replace("{caller_name}", caller_name.unwrap_or("there"))
    }
}

fn settings_row(r: &Row<'_>) -> rusqlite::Result<SmsSettings> {
    Ok(SmsSettings {
        enabled: r.get(0)?,
        template: r.get(1)?,
        quiet_from: r.get(2)?,
        quiet_to: r.get(3)?,
        time_zone: r.get(4)?,
        min_gap_hours: r.get(5)?,
    })
}

const SETTINGS_SQL: &str =
    "SELECT s.enabled, s.template, s.quiet_from, s.quiet_to, s.time_zone, s.min_gap_hours
     FROM sms_settings s JOIN providers p ON p.id = s.provider_id WHERE p.slug = ?1";

pub fn settings(conn: &Connection, department: &str) -> Result<Option<SmsSettings>> {
    Ok(conn
        .prepare_cached(SETTINGS_SQL)?
        .query_row([department], settings_row)
        .optional()?)
}

pub fn put_settings(
    w: &mut Writer<'_>,
    department: &str,
    s: SmsSettings,
    actor: &Actor,
) -> Result<SmsSettings> {
    s.validate()?;
    let provider = super::providers::get(w.conn, department)?;
    w.conn.execute(
        "INSERT INTO sms_settings (provider_id, enabled, template, quiet_from, quiet_to, time_zone, min_gap_hours, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (provider_id) DO UPDATE SET enabled = excluded.enabled, template = excluded.template,
             quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to, time_zone = excluded.time_zone,
             min_gap_hours = excluded.min_gap_hours, updated_at = excluded.updated_at",
        params![
            provider.id,
            s.enabled,
            s.template.trim(),
            s.quiet_from.as_deref().map(str::trim),
            s.quiet_to.as_deref().map(str::trim),
            s.time_zone.trim(),
            s.min_gap_hours,
            time::fmt(w.now)
        ],
    )?;
    audit::record(
        w,
        actor,
        "sms.update",
        Some(department),
        serde_json::to_value(&s)?,
    )?;
    settings(w.conn, department)?
        .ok_or_else(|| Error::not_found(format!("no SMS settings for `{department}`")))
}

pub fn delete_settings(w: &mut Writer<'_>, department: &str, actor: &Actor) -> Result<()> {
    let provider = super::providers::get(w.conn, department)?;
    if w.conn.execute(
        "DELETE FROM sms_settings WHERE provider_id = ?1",
        [provider.id],
    )? == 0
    {
        return Err(Error::not_found(format!(
            "department `{department}` sends no SMS"
        )));
    }
    audit::record(
        w,
        actor,
        "sms.delete",
        Some(department),
        serde_json::json!({}),
    )
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmsState {
    /// Waiting for its time (quiet hours) or for the sender.
    Queued,
    Sent,
    /// Given up: the reason is in `detail`.
    Failed,
}

impl SmsState {
    fn as_str(self) -> &'static str {
        match self {
            SmsState::Queued => "queued",
            SmsState::Sent => "sent",
            SmsState::Failed => "failed",
        }
    }
}

/// Why a message was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmsKind {
    /// The department's "sorry we missed you" text (its SMS settings).
    MissedCall,
    /// An IVR flow's `sms` node, in a dialect with no in-call SMS verb.
    Ivr,
}

impl SmsKind {
    fn as_str(self) -> &'static str {
        match self {
            SmsKind::MissedCall => "missed_call",
            SmsKind::Ivr => "ivr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SmsMessage {
    pub id: i64,
    pub kind: SmsKind,
    /// The flow's `sms` node that queued it (`kind` `ivr`).
    pub ivr_node: Option<String>,
    /// The call's id (the provider's).
    pub call_id: String,
    pub department: String,
    pub to_number: String,
    pub body: String,
    pub state: SmsState,
    /// Not sent before this (quiet hours, a retry's backoff).
    pub send_after: String,
    pub attempts: i64,
    /// The platform's id for the message.
    pub platform_ref: Option<String>,
    pub detail: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

const MSG_COLS: &str =
    "m.id, c.call_id, m.department, m.to_number, m.body, m.state, m.send_after, m.attempts,
     m.platform_ref, m.detail, m.created_at, m.sent_at, m.kind, m.ivr_node";

fn message_row(r: &Row<'_>) -> rusqlite::Result<SmsMessage> {
    let id: i64 = r.get(0)?;
    Ok(SmsMessage {
        id,
        kind: At::new("sms_outbox", id).wire(r, 12, "kind")?,
        ivr_node: r.get(13)?,
        call_id: r.get(1)?,
        department: r.get(2)?,
        to_number: r.get(3)?,
        body: r.get(4)?,
        state: At::new("sms_outbox", id).wire(r, 5, "state")?,
        send_after: r.get(6)?,
        attempts: r.get(7)?,
        platform_ref: r.get(8)?,
        detail: r.get(9)?,
        created_at: r.get(10)?,
        sent_at: r.get(11)?,
    })
}

/// A number worth texting: international, or long enough to be a phone.
fn textable(n: &str) -> bool {
    let digits = n.chars().filter(char::is_ascii_digit).count();
    digits >= 7 && (n.starts_with('+') || digits >= 10)
}

/// Queues the department's message for a call that just entered the
/// worklist, unless SMS is off, the call is ours (outbound), its number is
/// not a phone's, or the caller got one within `min_gap_hours`.
pub(crate) fn enqueue_missed(w: &Writer<'_>, call: &Call) -> Result<Option<i64>> {
    let Some(s) = settings(w.conn, &call.department)?.filter(|s| s.enabled) else {
        return Ok(None);
    };
    let Some(number) = call.mobile_number.as_deref().filter(|n| textable(n)) else {
        return Ok(None);
    };
    if call
        .direction
        .as_deref()
        .is_some_and(|d| d.to_ascii_lowercase().starts_with("out"))
    {
        return Ok(None);
    }
    let since = time::fmt(w.now - chrono::Duration::hours(s.min_gap_hours));
    let recent: bool = w
        .conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sms_outbox WHERE department = ?1 AND to_number = ?2
                 AND created_at >= ?3 AND state != 'failed')",
        )?
        .query_row(params![call.department, number, since], |r| r.get(0))?;
    if recent {
        return Ok(None);
    }
    let name = w
        .providers
        .get(&call.department)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| call.department.clone());
    let body = s.render(&name, call.caller_name.as_deref());
    let now = time::fmt(w.now);
    w.conn
        .prepare_cached(
            "INSERT INTO sms_outbox (call_row_id, department, to_number, body, state, send_after, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?6)",
        )?
        .execute(params![
            call.id,
            call.department,
            number,
            body,
            time::fmt(s.send_after(w.now)),
            now
        ])?;
    w.sms_queued();
    Ok(Some(w.conn.last_insert_rowid()))
}

/// What became of an IVR flow's `sms` node reached in a dialect with no
/// in-call SMS verb. The step log keeps [`IvrSms::code`] on the node's row;
/// none of these is an error to the platform: the call goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IvrSms {
    /// Queued in the outbox (its id).
    Queued(i64),
    /// This call already has the node's text (a repeated step, a loop).
    AlreadyQueued,
    /// The department has no click-to-call dialer.
    NoDialer,
    /// The department's dialer is on a platform Callboard sends no SMS
    /// through (Knowlarity, Ozonetel).
    DialerCannotText,
    /// `to` is not a phone's number (an extension, empty).
    NotAPhone,
    /// The node's text rendered empty.
    EmptyText,
}

impl IvrSms {
    /// The reason code in the step log (`ivr_steps.detail`).
    pub fn code(&self) -> &'static str {
        match self {
            IvrSms::Queued(_) => "sms_queued",
            IvrSms::AlreadyQueued => "sms_already_queued",
            IvrSms::NoDialer => "sms_not_sent_no_dialer",
            IvrSms::DialerCannotText => "sms_not_sent_dialer_cannot_text",
            IvrSms::NotAPhone => "sms_not_sent_not_a_phone",
            IvrSms::EmptyText => "sms_not_sent_empty_text",
        }
    }
}

/// Queues the text of the flow's `sms` node `node` for `call`, to send now:
/// the missed-call quiet hours and min gap are the department's rules for
/// its own unprompted texts, not for a text its flow sends on purpose. Runs
/// in the IVR step's transaction, so an answered step never loses its text.
pub(crate) fn enqueue_ivr(
    w: &Writer<'_>,
    call: &Call,
    node: &str,
    to: &str,
    text: &str,
) -> Result<IvrSms> {
    let to = to.trim();
    let text = text.trim();
    // Checked before the dialer: a number that cannot be texted says so
    // whatever the department has set up.
    if !textable(to) {
        return Ok(IvrSms::NotAPhone);
    }
    if text.is_empty() {
        return Ok(IvrSms::EmptyText);
    }
    match super::callbacks::dialer(w.conn, &call.department)? {
        None => return Ok(IvrSms::NoDialer),
        Some(d) if !d.config.kind.sends_sms() => return Ok(IvrSms::DialerCannotText),
        Some(_) => {}
    }
    let now = time::fmt(w.now);
    let inserted = w
        .conn
        .prepare_cached(
            "INSERT INTO sms_outbox (call_row_id, department, to_number, body, state, send_after, created_at, updated_at, kind, ivr_node)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5, ?5, ?6, ?7)
             ON CONFLICT (call_row_id, ivr_node) WHERE ivr_node IS NOT NULL DO NOTHING",
        )?
        .execute(params![
            call.id,
            call.department,
            to,
            text,
            now,
            SmsKind::Ivr.as_str(),
            node
        ])?;
    Ok(if inserted == 0 {
        IvrSms::AlreadyQueued
    } else {
        w.sms_queued();
        IvrSms::Queued(w.conn.last_insert_rowid())
    })
}

/// Messages whose time has come, oldest first.
pub fn due(conn: &Connection, now: Timestamp, limit: i64) -> Result<Vec<SmsMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MSG_COLS} FROM sms_outbox m JOIN calls c ON c.id = m.call_row_id
         WHERE m.state = 'queued' AND m.send_after <= ?1 ORDER BY m.send_after, m.id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![time::fmt(now), limit], message_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// When the next queued message is due (quiet hours, a retry's backoff),
/// if any: the sender sleeps until then instead of polling.
pub fn next_due(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.send_after FROM sms_outbox m JOIN calls c ON c.id = m.call_row_id
             WHERE m.state = 'queued' ORDER BY m.send_after LIMIT 1",
        )?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// What one try of a message came to.
#[derive(Debug, Clone)]
pub enum Attempted {
    Sent(Option<String>),
    /// Try again at this time.
    Retry(Timestamp, String),
    Failed(String),
}

pub fn record_attempt(w: &mut Writer<'_>, id: i64, result: Attempted) -> Result<()> {
    let now = time::fmt(w.now);
    let short = |s: String| s.chars().take(500).collect::<String>();
    match result {
        Attempted::Sent(r) => w.conn.execute(
            "UPDATE sms_outbox SET state = 'sent', attempts = attempts + 1, platform_ref = ?2,
                 detail = NULL, sent_at = ?3, updated_at = ?3 WHERE id = ?1 AND state = 'queued'",
            params![id, r, now],
        )?,
        Attempted::Retry(at, why) => w.conn.execute(
            "UPDATE sms_outbox SET attempts = attempts + 1, send_after = ?2, detail = ?3, updated_at = ?4
             WHERE id = ?1 AND state = 'queued'",
            params![id, time::fmt(at), short(why), now],
        )?,
        Attempted::Failed(why) => w.conn.execute(
            "UPDATE sms_outbox SET state = ?2, attempts = attempts + 1, detail = ?3, updated_at = ?4
             WHERE id = ?1 AND state = 'queued'",
            params![id, SmsState::Failed.as_str(), short(why), now],
        )?,
    };
    Ok(())
}

pub fn for_call(conn: &Connection, call_row_id: i64) -> Result<Vec<SmsMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MSG_COLS} FROM sms_outbox m JOIN calls c ON c.id = m.call_row_id
         WHERE m.call_row_id = ?1 ORDER BY m.id"
    ))?;
    let rows = stmt.query_map([call_row_id], message_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The newest messages of a department.
pub fn recent(conn: &Connection, department: &str, limit: i64) -> Result<Vec<SmsMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MSG_COLS} FROM sms_outbox m JOIN calls c ON c.id = m.call_row_id
         WHERE m.department = ?1 ORDER BY m.id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![department, limit.clamp(1, 200)], message_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(from: Option<&str>, to: Option<&str>) -> SmsSettings {
        SmsSettings {
            enabled: true,
            template: "Sorry we missed you, {caller_name}. {department} will call you back.".into(),
            quiet_from: from.map(String::from),
            quiet_to: to.map(String::from),
            time_zone: "Asia/Kolkata".into(),
            min_gap_hours: 12,
        }
    }

    #[test]
    fn quiet_hours_hold_a_message_until_they_end_in_the_departments_zone() {
        let q = s(Some("21:00"), Some("09:00"));
        q.validate().unwrap();
        // 16:00 UTC is 21:30 in Kolkata: quiet until 09:00 IST next day = 03:30 UTC.
        let at = time::parse("2026-03-03T16:00:00Z").unwrap();
        assert_eq!(time::fmt(q.send_after(at)), "2026-03-04T03:30:00.000Z");
        // 02:00 UTC is 07:30 IST: quiet until 03:30 UTC the same day.
        let early = time::parse("2026-03-04T02:00:00Z").unwrap();
        assert_eq!(time::fmt(q.send_after(early)), "2026-03-04T03:30:00.000Z");
        // 06:00 UTC is 11:30 IST: goes now.
        let day = time::parse("2026-03-04T06:00:00Z").unwrap();
        assert_eq!(q.send_after(day), day);
        assert_eq!(s(None, None).send_after(at), at);
        let lunch = s(Some("13:00"), Some("14:00"));
        let t = time::parse("2026-03-04T07:45:00Z").unwrap(); // 13:15 IST
        assert_eq!(time::fmt(lunch.send_after(t)), "2026-03-04T08:30:00.000Z");
    }

    #[test]
    fn settings_are_checked() {
        assert!(s(Some("21:00"), None).validate().is_err());
        assert!(s(Some("25:00"), Some("09:00")).validate().is_err());
        let mut bad = s(None, None);
        bad.template = "Hi {name}".into();
        assert!(bad.validate().unwrap_err().to_string().contains("{name}"));
        bad.template = "x".repeat(481);
        assert!(bad.validate().is_err());
        let mut zone = s(None, None);
        zone.time_zone = "Mars/Olympus".into();
        assert!(zone.validate().is_err());
        assert_eq!(
            s(None, None).render("Care Line", None),
            "Sorry we missed you, there. Care Line will call you back."
        );
        assert!(textable("+919811122233") && textable("9811122233"));
        assert!(!textable("1001") && !textable("anonymous"));
    }

    #[tokio::test]
    async fn an_ivr_text_is_queued_once_per_call_and_node_only_through_a_texting_dialer() {
        use crate::dialer::{DialerConfig, DialerKind};
        use crate::store::providers::{self, NewProvider};
        use crate::store::{callbacks, calls};
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::Store::open(dir.path().join("callboard.db"), time::system_clock()).unwrap();
        let dialer = |kind: DialerKind, fields: &[(&str, &str)]| DialerConfig {
            kind,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let outcome = |to: &'static str, node: &'static str| {
            let store = store.clone();
            async move {
                store
                    .write(move |w| {
                        let call = calls::find(w.conn, "c1", Some("sales"))?;
                        enqueue_ivr(w, &call, node, to, " Sorry we missed you ")
                    })
                    .await
                    .unwrap()
            }
        };
        store
            .write(|w| {
                let actor = Actor {
                    user_id: None,
                    name: "t".into(),
                };
                providers::create(
                    w,
                    NewProvider {
                        name: "Sales".into(),
                        ..Default::default()
                    },
                    &actor,
                )?;
                w.conn.execute(
                    "INSERT INTO calls (provider_id, department, call_id, mobile_number, status, created_at, updated_at)
                     VALUES (1, 'sales', 'c1', '+919811122233', 'waiting', 't', 't')",
                    [],
                )?;
                // Missed-call texts on, quiet the whole day: a flow's text
                // is not held by them.
                put_settings(
                    w,
                    "sales",
                    SmsSettings {
                        quiet_from: Some("00:00".into()),
                        quiet_to: Some("23:59".into()),
                        time_zone: "UTC".into(),
                        ..s(None, None)
                    },
                    &actor,
                )?;
                Ok(())
            })
            .await
            .unwrap();
        // Whether a commit since the last look woke the sender (a permit
        // stored by `notify_one` resolves at once).
        let woken = || {
            let n = std::sync::Arc::clone(store.sms_queued());
            async move {
                tokio::time::timeout(std::time::Duration::ZERO, n.notified())
                    .await
                    .is_ok()
            }
        };
        assert!(!woken().await, "nothing queued yet");
        assert_eq!(outcome("+919811122233", "n1").await, IvrSms::NoDialer);
        assert_eq!(outcome("1001", "n1").await, IvrSms::NotAPhone);
        assert_eq!(outcome("", "n1").await, IvrSms::NotAPhone);
        let actor = Actor {
            user_id: None,
            name: "t".into(),
        };
        let (a, k) = (
            actor.clone(),
            dialer(DialerKind::Knowlarity, &[("k_number", "+918047000000")]),
        );
        store
            .write(move |w| callbacks::put_dialer(w, "sales", k, &a).map(|_| ()))
            .await
            .unwrap();
        assert_eq!(
            outcome("+919811122233", "n1").await,
            IvrSms::DialerCannotText
        );
        let e = dialer(
            DialerKind::Exotel,
            &[
                ("account_sid", "acme"),
                ("api_key", "k"),
                ("caller_id", "08047112233"),
            ],
        );
        store
            .write(move |w| callbacks::put_dialer(w, "sales", e, &actor).map(|_| ()))
            .await
            .unwrap();
        assert!(!woken().await, "nothing was queued: the sender sleeps on");
        let IvrSms::Queued(id) = outcome("+919811122233", "n1").await else {
            panic!("not queued")
        };
        assert!(
            woken().await,
            "the commit that queued a text wakes the sender"
        );
        assert_eq!(
            outcome("+919811122233", "n1").await,
            IvrSms::AlreadyQueued,
            "one text per call per node"
        );
        assert!(!woken().await, "a text already queued wakes nobody");
        let undone = store
            .write(|w| {
                let call = calls::find(w.conn, "c1", Some("sales"))?;
                enqueue_ivr(w, &call, "n9", "+919811122233", "undone")?;
                Err::<(), _>(Error::invalid("the step failed after queueing"))
            })
            .await;
        assert!(undone.is_err());
        assert!(
            !woken().await,
            "a text rolled back with its job wakes nobody"
        );
        assert!(matches!(
            outcome("+919811122234", "n2").await,
            IvrSms::Queued(_)
        ));
        let now = store.now();
        let (mine, due_now) = store
            .read(move |c| Ok((for_call(c, 1)?, due(c, now, 10)?)))
            .await
            .unwrap();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].id, id);
        assert_eq!(mine[0].kind, SmsKind::Ivr);
        assert_eq!(mine[0].ivr_node.as_deref(), Some("n1"));
        assert_eq!(mine[0].body, "Sorry we missed you");
        assert_eq!(mine[0].send_after, mine[0].created_at, "no quiet hours");
        assert_eq!(due_now.len(), 2, "due at once");
        let next = store.read(next_due).await.unwrap();
        assert_eq!(next.as_deref(), Some(mine[0].send_after.as_str()));
        let failed = Attempted::Failed("refused".into());
        store
            .write(move |w| record_attempt(w, id, failed))
            .await
            .unwrap();
        let next = store.read(next_due).await.unwrap();
        assert_eq!(next.as_deref(), Some(mine[1].send_after.as_str()));
    }
}
