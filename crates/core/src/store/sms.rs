//! "Sorry we missed you" text messages: each department's settings (a
//! template, quiet hours in its time zone, one message per caller per so
//! many hours) and the outbox the sender works through. A message is queued
//! in the same transaction as the event that put the call in the worklist,
//! so an acknowledged missed call never loses its message.

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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SmsMessage {
    pub id: i64,
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
     m.platform_ref, m.detail, m.created_at, m.sent_at";

fn message_row(r: &Row<'_>) -> rusqlite::Result<SmsMessage> {
    let id: i64 = r.get(0)?;
    Ok(SmsMessage {
        id,
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
    Ok(Some(w.conn.last_insert_rowid()))
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
}
