//! Thresholds per department with amber and red levels, their current
//! levels, and the decision of which crossings become alerts (the quiet
//! period). Sending the alerts is the server's (`alerts`); what a crossing
//! is, and whether it is sent, is decided here, inside one write, so two
//! evaluations never send the same crossing twice.

use super::audit::Actor;
use super::decode::At;
use super::metrics::{self, MetricsQuery, OFFERED_AT};
use super::{audit, Writer};
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::time::{self, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The figures a threshold can watch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Calls waiting or ringing now.
    WaitingCount,
    /// The longest current wait of a call waiting or ringing, seconds.
    LongestWaitSeconds,
    /// Service level (0–1) over the last `window_minutes`; lower is worse.
    ServiceLevel,
    /// Abandon rate (0–1) over the last `window_minutes`.
    AbandonRate,
    /// Open worklist calls past their callback SLA or their scheduled callback time.
    CallbacksOverdue,
    /// Minutes since the provider's last accepted delivery, counted only
    /// while its business hours are open ("the provider went quiet").
    ProviderQuietMinutes,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::WaitingCount,
        Metric::LongestWaitSeconds,
        Metric::ServiceLevel,
        Metric::AbandonRate,
        Metric::CallbacksOverdue,
        Metric::ProviderQuietMinutes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::WaitingCount => "waiting_count",
            Metric::LongestWaitSeconds => "longest_wait_seconds",
            Metric::ServiceLevel => "service_level",
            Metric::AbandonRate => "abandon_rate",
            Metric::CallbacksOverdue => "callbacks_overdue",
            Metric::ProviderQuietMinutes => "provider_quiet_minutes",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether a lower value is worse (service level).
    pub fn lower_is_worse(self) -> bool {
        matches!(self, Metric::ServiceLevel)
    }

    /// A value of this metric as people read it (rates as percentages).
    pub fn format_value(self, v: f64) -> String {
        if matches!(self, Metric::ServiceLevel | Metric::AbandonRate) {
            format!("{:.1} %", v * 100.0)
        } else {
            format!("{v}")
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::WaitingCount => "calls waiting",
            Metric::LongestWaitSeconds => "longest wait (s)",
            Metric::ServiceLevel => "service level",
            Metric::AbandonRate => "abandon rate",
            Metric::CallbacksOverdue => "callbacks overdue",
            Metric::ProviderQuietMinutes => "minutes without a delivery",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Amber,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Amber => "amber",
            Level::Red => "red",
        }
    }
}

fn default_window() -> i64 {
    30
}
fn default_quiet() -> i64 {
    10
}

/// One threshold: a figure of a department with its amber and red levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The department (provider slug).
    pub department: String,
    pub metric: Metric,
    /// Amber at this value or worse (above; below for `service_level`); null: no amber.
    pub amber: Option<f64>,
    /// Red at this value or worse; null: no red.
    pub red: Option<f64>,
    /// The rolling window of `service_level` and `abandon_rate`, minutes (1–1440, default 30).
    #[serde(default = "default_window")]
    pub window_minutes: i64,
    /// Minutes after an alert during which the same threshold does not alert
    /// again at the same or a lower level (0–1440, default 10).
    #[serde(default = "default_quiet")]
    pub quiet_minutes: i64,
}

impl Threshold {
    /// The level `value` is at.
    pub fn level(&self, value: Option<f64>) -> Level {
        let Some(v) = value else {
            return Level::Ok;
        };
        let worse = |limit: Option<f64>| {
            limit.is_some_and(|l| {
                if self.metric.lower_is_worse() {
                    v <= l
                } else {
                    v >= l
                }
            })
        };
        if worse(self.red) {
            Level::Red
        } else if worse(self.amber) {
            Level::Amber
        } else {
            Level::Ok
        }
    }

    fn limit(&self, level: Level) -> Option<f64> {
        match level {
            Level::Red => self.red,
            Level::Amber => self.amber,
            Level::Ok => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Any receiver of a JSON POST.
    Webhook,
    /// A Slack incoming-webhook URL.
    Slack,
    /// A Microsoft Teams incoming-webhook URL.
    Teams,
    /// An e-mail address (sent through `smtp`).
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Teams => "teams",
            ChannelKind::Email => "email",
        }
    }
}

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub kind: ChannelKind,
    /// An `http(s)://` URL, or an e-mail address for `email`.
    pub target: String,
    /// Only alerts of these departments; omitted or null: every department.
    #[serde(default)]
    pub departments: Option<Vec<String>>,
}

impl Channel {
    pub fn wants(&self, department: &str) -> bool {
        self.departments
            .as_ref()
            .is_none_or(|d| d.iter().any(|x| x == department))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the LAN).
    None,
    /// STARTTLS (usually port 587).
    #[default]
    Starttls,
    /// TLS from the start (usually port 465).
    Tls,
}

/// The mail server alerts are sent through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The sender address.
    pub from: String,
    pub username: Option<String>,
    /// Write-only: kept in the secrets file, never shown. Omitted on a PUT:
    /// the stored one is kept; `""`: cleared.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Whether a password is stored (shown on reads).
    #[serde(default)]
    pub has_password: bool,
}

/// Every threshold and where alerts go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Needed when a channel is `email`.
    #[serde(default)]
    pub smtp: Option<Smtp>,
}

const SMTP_KEY: &str = "alert_smtp";

fn valid_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && s.len() > 8 && !s.contains(' ')
}

fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Checks `cfg`; errors name the offending entry.
pub fn validate(conn: &Connection, cfg: &ThresholdConfig) -> Result<()> {
    let known: Vec<String> = {
        let mut stmt = conn.prepare_cached("SELECT slug FROM providers")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, t) in cfg.thresholds.iter().enumerate() {
        let at = format!("thresholds[{i}]");
        if !known.contains(&t.department) {
            return Err(Error::invalid(format!(
                "{at}.department: no provider `{}`",
                t.department
            )));
        }
        if !seen.insert((t.department.clone(), t.metric)) {
            return Err(Error::invalid(format!(
                "{at}: `{}` of `{}` is given twice",
                t.metric.as_str(),
                t.department
            )));
        }
        for (name, v) in [("amber", t.amber), ("red", t.red)] {
            if let Some(v) = v {
                let rate = matches!(t.metric, Metric::ServiceLevel | Metric::AbandonRate);
                if !v.is_finite() || v < 0.0 || (rate && v > 1.0) {
                    return Err(Error::invalid(format!(
                        "{at}.{name}: {v} is out of range ({})",
                        if rate {
                            "a fraction 0–1"
                        } else {
                            "0 or more"
                        }
                    )));
                }
            }
        }
        if let (Some(a), Some(r)) = (t.amber, t.red) {
            let ordered = if t.metric.lower_is_worse() {
                r <= a
            } else {
                r >= a
            };
            if !ordered {
                return Err(Error::invalid(format!(
                    "{at}: red ({r}) must be {} than amber ({a})",
                    if t.metric.lower_is_worse() {
                        "lower"
                    } else {
                        "higher"
                    }
                )));
            }
        }
        if !(1..=1440).contains(&t.window_minutes) {
            return Err(Error::invalid(format!(
                "{at}.window_minutes must be 1–1440"
            )));
        }
        if !(0..=1440).contains(&t.quiet_minutes) {
            return Err(Error::invalid(format!("{at}.quiet_minutes must be 0–1440")));
        }
    }
    for (i, c) in cfg.channels.iter().enumerate() {
        let ok = match c.kind {
            ChannelKind::Email => valid_email(&c.target),
            _ => valid_url(&c.target),
        };
        if !ok {
            return Err(Error::invalid(format!(
                "channels[{i}].target: `{}` is not {}",
                c.target,
                if c.kind == ChannelKind::Email {
                    "an e-mail address"
                } else {
                    "an http(s) URL"
                }
            )));
        }
        if c.kind == ChannelKind::Email && cfg.smtp.is_none() {
            return Err(Error::invalid(format!(
                "channels[{i}]: an e-mail channel needs `smtp` settings"
            )));
        }
    }
    if let Some(s) = &cfg.smtp {
        if s.host.trim().is_empty() || s.port == 0 {
            return Err(Error::invalid("smtp: give `host` and `port`"));
        }
        if !valid_email(&s.from) {
            return Err(Error::invalid(format!(
                "smtp.from: `{}` is not an e-mail address",
                s.from
            )));
        }
    }
    Ok(())
}

/// The stored configuration (the SMTP password is never read here).
pub fn config(conn: &Connection) -> Result<ThresholdConfig> {
    // A stored value this build cannot read is an error naming its row:
    // skipped, a threshold would stop alerting; defaulted, a channel kept
    // to one department would alert every department.
    let mut stmt = conn.prepare_cached(
        "SELECT id, department, metric, amber, red, window_minutes, quiet_minutes
         FROM thresholds ORDER BY department, metric",
    )?;
    let thresholds = stmt
        .query_map([], |r| {
            let at = At::new("thresholds", r.get::<_, i64>(0)?);
            Ok(Threshold {
                department: r.get(1)?,
                metric: at.wire(r, 2, "metric")?,
                amber: r.get(3)?,
                red: r.get(4)?,
                window_minutes: r.get(5)?,
                quiet_minutes: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn
        .prepare_cached("SELECT id, kind, target, departments FROM alert_channels ORDER BY id")?;
    let channels = stmt
        .query_map([], |r| {
            let at = At::new("alert_channels", r.get::<_, i64>(0)?);
            Ok(Channel {
                kind: at.wire(r, 1, "kind")?,
                target: r.get(2)?,
                departments: at.json_opt(r, 3, "departments")?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let smtp = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [SMTP_KEY],
            |r| At::new("settings", SMTP_KEY).json(r, 0, "value"),
        )
        .optional()?;
    Ok(ThresholdConfig {
        thresholds,
        channels,
        smtp,
    })
}

/// Replaces the whole configuration (audited). `has_password` is stored as
/// given: the caller keeps the password itself in the secrets file.
pub fn put(w: &mut Writer<'_>, cfg: &ThresholdConfig, actor: &Actor) -> Result<ThresholdConfig> {
    validate(w.conn, cfg)?;
    let now = time::fmt(w.now);
    w.conn.execute("DELETE FROM thresholds", [])?;
    for t in &cfg.thresholds {
        w.conn.execute(
            "INSERT INTO thresholds (department, metric, amber, red, window_minutes, quiet_minutes, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![t.department, t.metric.as_str(), t.amber, t.red, t.window_minutes, t.quiet_minutes, now],
        )?;
    }
    // Levels of thresholds that are gone no longer apply.
    w.conn.execute(
        "DELETE FROM threshold_state WHERE NOT EXISTS (SELECT 1 FROM thresholds t
            WHERE t.department = threshold_state.department AND t.metric = threshold_state.metric)",
        [],
    )?;
    w.conn.execute("DELETE FROM alert_channels", [])?;
    for c in &cfg.channels {
        let deps = c
            .departments
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        w.conn.execute(
            "INSERT INTO alert_channels (kind, target, departments, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![c.kind.as_str(), c.target.trim(), deps, now],
        )?;
    }
    match &cfg.smtp {
        Some(s) => {
            let stored = Smtp {
                password: None,
                ..s.clone()
            };
            w.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![SMTP_KEY, serde_json::to_string(&stored)?],
            )?;
        }
        None => {
            w.conn
                .execute("DELETE FROM settings WHERE key = ?1", [SMTP_KEY])?;
        }
    }
    audit::record(
        w,
        actor,
        "thresholds.update",
        None,
        serde_json::json!({
            "thresholds": cfg.thresholds.len(),
            "channels": cfg.channels.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(),
            "smtp": cfg.smtp.as_ref().map(|s| &s.host),
        }),
    )?;
    let saved = config(w.conn)?;
    let data = serde_json::to_string(&saved.thresholds)?;
    w.emit(
        crate::hub::EventKind::ThresholdsUpdated,
        None,
        Audience::All,
        data,
    )?;
    Ok(saved)
}

// ------------------------------------------------------------ measuring

/// The current value of every figure a threshold watches, per department.
pub type Values = BTreeMap<(String, Metric), Option<f64>>;

/// Measures what `thresholds` watch, at `now`.
pub fn measure(
    conn: &Connection,
    thresholds: &[Threshold],
    now: Timestamp,
    hours: &dyn Fn(&str) -> Option<std::sync::Arc<crate::sla::BusinessHours>>,
) -> Result<Values> {
    let now_s = time::fmt(now);
    let mut out = Values::new();
    let mut queue: BTreeMap<String, (i64, Option<i64>)> = BTreeMap::new();
    {
        let wait =
            format!("CAST(ROUND((julianday(?1) - julianday({OFFERED_AT})) * 86400.0) AS INTEGER)");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT c.department, COUNT(*), MAX({wait}) FROM calls c
             WHERE c.status IN ('waiting', 'ringing') GROUP BY c.department"
        ))?;
        let rows = stmt.query_map([&now_s], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        for row in rows {
            let (d, n, w) = row?;
            queue.insert(d, (n, w.map(|w| w.max(0))));
        }
    }
    let mut overdue: BTreeMap<String, i64> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT department, COUNT(*) FROM calls
             WHERE work_state IN ('pending', 'assigned', 'attempted')
               AND ((sla_due_at IS NOT NULL AND sla_due_at < ?1)
                    OR (next_callback_at IS NOT NULL AND next_callback_at < ?1))
             GROUP BY department",
        )?;
        let rows = stmt.query_map([&now_s], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (d, n) = row?;
            overdue.insert(d, n);
        }
    }
    // One metrics report per distinct window.
    let mut windows: BTreeMap<i64, BTreeMap<String, metrics::Metrics>> = BTreeMap::new();
    for t in thresholds {
        if matches!(t.metric, Metric::ServiceLevel | Metric::AbandonRate)
            && !windows.contains_key(&t.window_minutes)
        {
            let q = MetricsQuery {
                from: time::fmt(now - chrono::Duration::minutes(t.window_minutes)),
                to: time::fmt(now + chrono::Duration::milliseconds(1)),
                departments: None,
                sl_seconds: 20,
                short_abandon_seconds: 5,
                utc_offset_minutes: 0,
                zone: None,
                now: now_s.clone(),
                hourly: false,
                daily: false,
            };
            let r = metrics::report(conn, &q)?;
            windows.insert(
                t.window_minutes,
                r.departments
                    .into_iter()
                    .map(|d| (d.department, d.metrics))
                    .collect(),
            );
        }
    }
    for t in thresholds {
        let d = t.department.as_str();
        let value = match t.metric {
            Metric::WaitingCount => Some(queue.get(d).map_or(0, |q| q.0) as f64),
            Metric::LongestWaitSeconds => queue.get(d).and_then(|q| q.1).map(|s| s as f64),
            Metric::CallbacksOverdue => Some(overdue.get(d).copied().unwrap_or(0) as f64),
            Metric::ServiceLevel => windows
                .get(&t.window_minutes)
                .and_then(|m| m.get(d))
                .and_then(|m| m.service_level),
            Metric::AbandonRate => windows
                .get(&t.window_minutes)
                .and_then(|m| m.get(d))
                .and_then(|m| m.abandon_rate),
            Metric::ProviderQuietMinutes => quiet_minutes(conn, d, now, hours(d).as_deref())?,
        };
        out.insert((t.department.clone(), t.metric), value);
    }
    Ok(out)
}

/// Minutes since the provider's last accepted delivery (else since it was
/// created), while its business hours are open; None while they are closed.
fn quiet_minutes(
    conn: &Connection,
    slug: &str,
    now: Timestamp,
    hours: Option<&crate::sla::BusinessHours>,
) -> Result<Option<f64>> {
    if hours.is_some_and(|h| !h.is_open(now)) {
        return Ok(None);
    }
    let last: Option<String> = conn
        .query_row(
            "SELECT COALESCE(
                (SELECT r.received_at FROM raw_events r WHERE r.provider_id = p.id
                   AND r.outcome <> 'rejected' ORDER BY r.id DESC LIMIT 1),
                p.created_at)
             FROM providers p WHERE p.slug = ?1 AND p.active = 1",
            [slug],
            |r| r.get(0),
        )
        .optional()?;
    let Some(last) = last.as_deref().and_then(time::parse) else {
        return Ok(None);
    };
    // Hours closed since the last delivery do not count as silence.
    let open = crate::sla::open_between(last, now, hours);
    let minutes = open.num_seconds().max(0) as f64 / 60.0;
    Ok(Some((minutes * 10.0).floor() / 10.0))
}

// ------------------------------------------------------------ deciding

/// A threshold's level now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThresholdState {
    pub department: String,
    pub metric: Metric,
    pub level: Level,
    /// The value last measured; null when unknown (no calls in the window,
    /// business hours closed).
    pub value: Option<f64>,
    /// The limit of the current level (null at `ok`).
    pub threshold: Option<f64>,
    /// Since when the threshold has been at this level.
    pub since: String,
    pub last_alert_at: Option<String>,
}

/// A crossing into amber or red, and what became of it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub at: String,
    pub department: String,
    pub metric: Metric,
    pub level: Level,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// `pending`, `sent`, `failed`, `suppressed` (quiet period) or `no_channel`.
    pub status: String,
    /// Per channel: `{kind, target, ok, error}`.
    #[schema(value_type = Vec<Object>)]
    pub deliveries: serde_json::Value,
    /// A one-line description for chat and e-mail.
    pub text: String,
}

fn describe(t: &Threshold, level: Level, value: Option<f64>) -> String {
    let shown = |v: f64| t.metric.format_value(v);
    format!(
        "[{}] {}: {} is {} ({} threshold {})",
        level.as_str().to_uppercase(),
        t.department,
        t.metric.label(),
        value.map(shown).unwrap_or_else(|| "unknown".into()),
        level.as_str(),
        t.limit(level).map(shown).unwrap_or_default()
    )
}

/// Compares `values` with the thresholds, records every level change (and
/// announces it as `threshold.crossed`), and returns the crossings to send:
/// a rise into amber or red, unless the same threshold alerted at that
/// level or higher within its quiet period (then it is logged `suppressed`).
pub fn evaluate(
    w: &mut Writer<'_>,
    thresholds: &[Threshold],
    values: &Values,
) -> Result<Vec<Alert>> {
    let now = time::fmt(w.now);
    let have_channels: i64 = w
        .conn
        .query_row("SELECT COUNT(*) FROM alert_channels", [], |r| r.get(0))?;
    let mut to_send = Vec::new();
    for t in thresholds {
        let value = values
            .get(&(t.department.clone(), t.metric))
            .copied()
            .flatten();
        let level = t.level(value);
        let key = format!("{}/{}", t.department, t.metric.as_str());
        let prev: Option<(Level, Option<String>, Option<Level>)> = w
            .conn
            .prepare_cached(
                "SELECT level, last_alert_at, last_alert_level FROM threshold_state
                 WHERE department = ?1 AND metric = ?2",
            )?
            .query_row(params![t.department, t.metric.as_str()], |r| {
                let at = At::new("threshold_state", key.as_str());
                Ok((
                    at.wire(r, 0, "level")?,
                    r.get(1)?,
                    at.wire_opt(r, 2, "last_alert_level")?,
                ))
            })
            .optional()?;
        let prev_level = prev.as_ref().map_or(Level::Ok, |p| p.0);
        if prev.is_some() && prev_level == level {
            w.conn.execute(
                "UPDATE threshold_state SET value = ?3 WHERE department = ?1 AND metric = ?2",
                params![t.department, t.metric.as_str(), value],
            )?;
            continue;
        }
        w.conn.execute(
            "INSERT INTO threshold_state (department, metric, level, value, since)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (department, metric) DO UPDATE SET level = excluded.level,
                 value = excluded.value, since = excluded.since",
            params![t.department, t.metric.as_str(), level.as_str(), value, now],
        )?;
        let event = serde_json::json!({
            "department": t.department,
            "metric": t.metric,
            "level": level,
            "previous": prev_level,
            "value": value,
            "threshold": t.limit(level),
        });
        w.emit(
            crate::hub::EventKind::ThresholdCrossed,
            Some(&t.department),
            Audience::All,
            event.to_string(),
        )?;
        if level <= prev_level {
            // Back down (or a first reading at ok): announced, not alerted.
            continue;
        }
        let (last_at, last_level) = prev.map(|p| (p.1, p.2)).unwrap_or((None, None));
        let quiet_until = last_at
            .as_deref()
            .and_then(time::parse)
            .map(|t0| t0 + chrono::Duration::minutes(t.quiet_minutes));
        let quiet =
            quiet_until.is_some_and(|q| w.now < q) && last_level.is_some_and(|l| l >= level);
        let status = if quiet {
            "suppressed"
        } else if have_channels == 0 {
            "no_channel"
        } else {
            "pending"
        };
        let text = describe(t, level, value);
        w.conn.execute(
            "INSERT INTO alert_log (at, department, metric, level, value, threshold, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                now,
                t.department,
                t.metric.as_str(),
                level.as_str(),
                value,
                t.limit(level),
                status
            ],
        )?;
        let id = w.conn.last_insert_rowid();
        if !quiet {
            w.conn.execute(
                "UPDATE threshold_state SET last_alert_at = ?3, last_alert_level = ?4
                 WHERE department = ?1 AND metric = ?2",
                params![t.department, t.metric.as_str(), now, level.as_str()],
            )?;
        }
        let alert = Alert {
            id,
            at: now.clone(),
            department: t.department.clone(),
            metric: t.metric,
            level,
            value,
            threshold: t.limit(level),
            status: status.to_string(),
            deliveries: serde_json::json!([]),
            text,
        };
        if status == "pending" {
            to_send.push(alert);
        }
    }
    Ok(to_send)
}

/// Measures every threshold now and decides (`evaluate`), in one write.
pub fn run(w: &mut Writer<'_>) -> Result<Vec<Alert>> {
    let cfg = config(w.conn)?;
    if cfg.thresholds.is_empty() {
        return Ok(Vec::new());
    }
    let providers = w.providers;
    let hours = |slug: &str| providers.get(slug).and_then(|p| p.hours.clone());
    let values = measure(w.conn, &cfg.thresholds, w.now, &hours)?;
    evaluate(w, &cfg.thresholds, &values)
}

/// Records how sending an alert went.
pub fn record_delivery(
    w: &mut Writer<'_>,
    id: i64,
    ok: bool,
    deliveries: &serde_json::Value,
) -> Result<()> {
    w.conn.execute(
        "UPDATE alert_log SET status = ?2, deliveries = ?3 WHERE id = ?1",
        params![
            id,
            if ok { "sent" } else { "failed" },
            deliveries.to_string()
        ],
    )?;
    Ok(())
}

/// Every threshold's level as last evaluated.
pub fn states(conn: &Connection, departments: Option<&[String]>) -> Result<Vec<ThresholdState>> {
    let cfg = config(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT level, value, since, last_alert_at FROM threshold_state
         WHERE department = ?1 AND metric = ?2",
    )?;
    let mut out = Vec::new();
    for t in cfg.thresholds {
        if departments.is_some_and(|d| !d.contains(&t.department)) {
            continue;
        }
        let key = format!("{}/{}", t.department, t.metric.as_str());
        let row: Option<(Level, Option<f64>, String, Option<String>)> = stmt
            .query_row(params![t.department, t.metric.as_str()], |r| {
                let at = At::new("threshold_state", key.as_str());
                Ok((at.wire(r, 0, "level")?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let (level, value, since, last_alert_at) = match row {
            Some(row) => row,
            None => (Level::Ok, None, String::new(), None),
        };
        out.push(ThresholdState {
            threshold: t.limit(level),
            department: t.department,
            metric: t.metric,
            level,
            value,
            since,
            last_alert_at,
        });
    }
    Ok(out)
}

/// The newest alerts, newest first.
pub fn alerts(conn: &Connection, departments: Option<&[String]>, limit: i64) -> Result<Vec<Alert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, department, metric, level, value, threshold, status, deliveries
         FROM alert_log ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit.clamp(1, 1000)], |r| {
        let id: i64 = r.get(0)?;
        let at = At::new("alert_log", id);
        Ok((
            id,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            at.wire::<Metric>(r, 3, "metric")?,
            at.wire::<Level>(r, 4, "level")?,
            r.get::<_, Option<f64>>(5)?,
            r.get::<_, Option<f64>>(6)?,
            r.get::<_, String>(7)?,
            at.json(r, 8, "deliveries")?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, department, metric, level, value, threshold, status, deliveries) = row?;
        if departments.is_some_and(|d| !d.contains(&department)) {
            continue;
        }
        let t = Threshold {
            department: department.clone(),
            metric,
            amber: threshold,
            red: threshold,
            window_minutes: 30,
            quiet_minutes: 0,
        };
        out.push(Alert {
            id,
            at,
            text: describe(&t, level, value),
            department,
            metric,
            level,
            value,
            threshold,
            status,
            deliveries,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
