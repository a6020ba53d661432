//! Which stream events become desktop notifications, and how they are worded:
//! one notice per new missed/hangup call or SLA breach, bursts coalesced per
//! department, and never twice for the same call — across restarts and
//! reconnects too (the keys seen are kept on disk).

use crate::settings::NotificationSettings;
use callboard_core::store::thresholds::{Level, Metric};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Missed,
    Hangup,
    SlaBreach,
    /// A department's figure rose into amber or red (`threshold.crossed`).
    Threshold,
    /// A voicemail left for the window's user (`voicemail.received`).
    Voicemail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub department: String,
    /// The call (for a threshold: the crossing's event seq, which a replay
    /// repeats and a new crossing does not).
    pub call_id: String,
    pub caller: Option<String>,
    /// A threshold crossing: what rose, to which level.
    pub crossing: Option<Crossing>,
    /// A voicemail: the Callboard user it is meant for (`for_user_id`).
    pub for_user: Option<i64>,
}

/// A threshold crossing as the notice tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub metric: Metric,
    pub level: Level,
    /// The figure and the limit it passed, as the console shows them.
    pub value: String,
    pub limit: String,
}

fn shown(metric: Metric, v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".into(), |v| metric.format_value(v))
}

impl Alert {
    /// What makes two alerts the same: a call is announced as missed once,
    /// and breaches its SLA once, however often its row changes.
    pub fn key(&self) -> String {
        let kind = match self.kind {
            AlertKind::Missed | AlertKind::Hangup => "worklist",
            AlertKind::SlaBreach => "sla",
            AlertKind::Threshold => "threshold",
            AlertKind::Voicemail => "voicemail",
        };
        format!("{kind}:{}:{}", self.department, self.call_id)
    }

    /// From one event of the stream (`{"type":…, "data":…}` as the hub has
    /// it) and its `seq`.
    pub fn from_event(seq: i64, kind: &str, data: &serde_json::Value) -> Option<Alert> {
        let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
        if kind == "threshold.crossed" {
            return Self::from_crossing(seq, data);
        }
        if kind == "voicemail.received" {
            // Announced once by the server (a transcript arriving later is
            // not news); the key keeps a replay after a restart silent too.
            return Some(Alert {
                kind: AlertKind::Voicemail,
                department: s("department")?,
                call_id: s("call_id")?,
                caller: s("mobile_number").filter(|c| !c.trim().is_empty()),
                crossing: None,
                for_user: data.get("for_user_id").and_then(|v| v.as_i64()),
            });
        }
        let alert_kind = match kind {
            "call.upserted" => {
                // Only calls still waiting for a callback: one already resolved
                // (or replayed after its disposition) is not news.
                if s("resolved_at").is_some() {
                    return None;
                }
                match s("status")?.as_str() {
                    "missed" => AlertKind::Missed,
                    "hangup" => AlertKind::Hangup,
                    _ => return None,
                }
            }
            "call.sla_breached" => AlertKind::SlaBreach,
            _ => return None,
        };
        // `call.sla_breached` may wrap the call as `call`.
        let call = data.get("call").unwrap_or(data);
        let get = |k: &str| call.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Some(Alert {
            kind: alert_kind,
            department: get("department")?,
            call_id: get("call_id")?,
            caller: get("mobile_number").filter(|c| !c.trim().is_empty()),
            crossing: None,
            for_user: None,
        })
    }

    /// Only a rise is news (into amber, or amber into red): a figure coming
    /// back down is shown on screen, not announced.
    fn from_crossing(seq: i64, data: &serde_json::Value) -> Option<Alert> {
        fn parse<T: serde::de::DeserializeOwned>(data: &serde_json::Value, k: &str) -> Option<T> {
            serde_json::from_value(data.get(k)?.clone()).ok()
        }
        let metric: Metric = parse(data, "metric")?;
        let level: Level = parse(data, "level")?;
        let previous: Level = parse(data, "previous").unwrap_or(Level::Ok);
        if level <= previous {
            return None;
        }
        Some(Alert {
            kind: AlertKind::Threshold,
            department: data.get("department")?.as_str()?.to_string(),
            call_id: seq.to_string(),
            caller: None,
            crossing: Some(Crossing {
                metric,
                level,
                value: shown(metric, data.get("value").and_then(|v| v.as_f64())),
                limit: shown(metric, data.get("threshold").and_then(|v| v.as_f64())),
            }),
            for_user: None,
        })
    }
}

/// How long a threshold stays quiet after it was announced at a level (or
/// above): a figure flapping around its limit notifies once, not each time.
pub const THRESHOLD_QUIET: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The last announcement of each department's figure, for [`THRESHOLD_QUIET`].
#[derive(Default)]
pub struct Quiet(BTreeMap<(String, Metric), (std::time::Instant, Level)>);

impl Quiet {
    /// Whether `a` may be announced now (and, if so, remembers it).
    pub fn admit(&mut self, a: &Alert, now: std::time::Instant) -> bool {
        let Some(c) = &a.crossing else { return true };
        let k = (a.department.clone(), c.metric);
        if let Some((at, level)) = self.0.get(&k) {
            if now.duration_since(*at) < THRESHOLD_QUIET && *level >= c.level {
                return false;
            }
        }
        self.0.insert(k, (now, c.level));
        true
    }
}

/// The keys already notified, oldest first, bounded; saved as JSON lines.
pub struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
    cap: usize,
    file: Option<PathBuf>,
}

impl Seen {
    pub fn in_memory(cap: usize) -> Seen {
        Seen {
            order: VecDeque::new(),
            set: HashSet::new(),
            cap,
            file: None,
        }
    }

    /// A missing or unreadable file starts empty: at worst a notice repeats
    /// once, never does the app fail to start.
    pub fn load(path: &Path, cap: usize) -> Seen {
        let mut s = Seen::in_memory(cap);
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines().filter(|l| !l.is_empty()) {
                s.insert(line.to_string());
            }
        }
        s.file = Some(path.to_path_buf());
        s
    }

    /// True when the key is new (and remembers it).
    pub fn insert(&mut self, key: String) -> bool {
        if self.set.contains(&key) {
            return false;
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    /// Writes the keys off the async threads.
    pub async fn save_shared(seen: &std::sync::Arc<std::sync::Mutex<Seen>>) {
        let seen = seen.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(s) = seen.lock() {
                s.save();
            }
        })
        .await;
    }

    pub fn save(&self) {
        let Some(path) = &self.file else { return };
        let mut body = String::new();
        for k in &self.order {
            body.push_str(k);
            body.push('\n');
        }
        let tmp = path.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, path)) {
            tracing::warn!(error = %e, file = %path.display(), "cannot save the notified calls");
        }
    }
}

/// A notification as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
    /// The call a click opens (a single call), else the department's worklist.
    pub department: String,
    pub call_id: Option<String>,
    /// A click opens the department's voicemail inbox instead.
    pub voicemail: bool,
}

/// Which notices a burst's alerts of one department share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Worklist,
    Sla,
    Voicemail,
}

/// Turns a burst of alerts into notices: one per call when a department has
/// one, a count when it has several.
pub fn coalesce(alerts: &[Alert], names: &dyn Fn(&str) -> String) -> Vec<Notice> {
    let mut groups: BTreeMap<(String, Group), Vec<&Alert>> = BTreeMap::new();
    // A crossing is its own notice: each says a different figure.
    let mut out: Vec<Notice> = alerts
        .iter()
        .filter_map(|a| {
            let c = a.crossing.as_ref()?;
            let name = names(&a.department);
            let level = match c.level {
                Level::Red => "Red",
                _ => "Amber",
            };
            Some(Notice {
                summary: format!("{level}: {} · {name}", c.metric.label()),
                body: format!(
                    "{} is {} ({} threshold {}).",
                    capitalised(c.metric.label()),
                    c.value,
                    level.to_lowercase(),
                    c.limit
                ),
                department: a.department.clone(),
                call_id: None,
                voicemail: false,
            })
        })
        .collect();
    for a in alerts.iter().filter(|a| a.crossing.is_none()) {
        let group = match a.kind {
            AlertKind::SlaBreach => Group::Sla,
            AlertKind::Voicemail => Group::Voicemail,
            _ => Group::Worklist,
        };
        groups
            .entry((a.department.clone(), group))
            .or_default()
            .push(a);
    }
    groups
        .into_iter()
        .map(|((dept, group), list)| {
            let name = names(&dept);
            let callers = |many: &[&Alert]| {
                many.iter()
                    .map(|a| caller(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match (list.as_slice(), group) {
                ([one], Group::Voicemail) => Notice {
                    summary: format!("Voicemail for you from {} · {name}", caller(one)),
                    body: "Listen to it in the voicemail inbox.".into(),
                    department: dept,
                    call_id: Some(one.call_id.clone()),
                    voicemail: true,
                },
                (many, Group::Voicemail) => Notice {
                    summary: format!("{} new voicemails for you in {name}", many.len()),
                    body: callers(many),
                    department: dept,
                    call_id: None,
                    voicemail: true,
                },
                ([one], Group::Worklist) => Notice {
                    summary: format!(
                        "{} call from {} · {name}",
                        if one.kind == AlertKind::Hangup {
                            "Hung-up"
                        } else {
                            "Missed"
                        },
                        caller(one)
                    ),
                    body: "Waiting for a callback in the worklist.".into(),
                    department: dept,
                    call_id: Some(one.call_id.clone()),
                    voicemail: false,
                },
                ([one], Group::Sla) => Notice {
                    summary: format!("Callback SLA breached · {name}"),
                    body: format!("{} has waited past the callback SLA.", caller(one)),
                    department: dept,
                    call_id: Some(one.call_id.clone()),
                    voicemail: false,
                },
                (many, Group::Worklist) => Notice {
                    summary: format!("{} new missed calls in {name}", many.len()),
                    body: callers(many),
                    department: dept,
                    call_id: None,
                    voicemail: false,
                },
                (many, Group::Sla) => Notice {
                    summary: format!("{} calls breached the callback SLA in {name}", many.len()),
                    body: callers(many),
                    department: dept,
                    call_id: None,
                    voicemail: false,
                },
            }
        })
        .collect::<Vec<_>>()
        .into_iter()
        .for_each(|n| out.push(n));
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn caller(a: &Alert) -> String {
    a.caller
        .as_deref()
        .map(format_number)
        .unwrap_or_else(|| "an unknown number".into())
}

/// Numbers read as the console shows them (`ui/src/lib/format.ts`):
/// `+919876543210` → `+91 98765 43210`, `+12025550143` → `+1 202 555 0143`.
pub fn format_number(n: &str) -> String {
    let digits: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
    if n.trim_start().starts_with('+') {
        if digits.len() == 12 && digits.starts_with("91") {
            return format!("+91 {} {}", &digits[2..7], &digits[7..]);
        }
        if digits.len() == 11 && digits.starts_with('1') {
            return format!("+1 {} {} {}", &digits[1..4], &digits[4..7], &digits[7..]);
        }
    }
    n.trim().to_string()
}

/// The user's preferences: do-not-disturb silences all, a muted department
/// its own, SLA notices can be turned off.
/// `me`: the Callboard user signed in to this window (a voicemail is
/// announced only to the user it is meant for; None until known).
pub fn wanted(a: &Alert, prefs: &NotificationSettings, me: Option<i64>) -> bool {
    !prefs.do_not_disturb
        && !prefs.muted.iter().any(|m| m == &a.department)
        && (a.kind != AlertKind::SlaBreach || prefs.sla_breaches)
        && (a.kind != AlertKind::Threshold || prefs.thresholds)
        && (a.kind != AlertKind::Voicemail
            || (prefs.voicemails && me.is_some() && a.for_user == me))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn missed(dept: &str, id: &str, n: &str) -> Alert {
        Alert {
            kind: AlertKind::Missed,
            department: dept.into(),
            call_id: id.into(),
            caller: Some(n.into()),
            crossing: None,
            for_user: None,
        }
    }

    fn crossed(
        seq: i64,
        metric: &str,
        level: &str,
        previous: &str,
        value: f64,
        limit: f64,
    ) -> Option<Alert> {
        Alert::from_event(
            seq,
            "threshold.crossed",
            &json!({"department": "sales", "metric": metric, "level": level,
                    "previous": previous, "value": value, "threshold": limit}),
        )
    }

    #[test]
    fn a_figure_rising_into_amber_or_red_is_news_and_coming_down_is_not() {
        let a = crossed(7, "waiting_count", "red", "amber", 12.0, 10.0).unwrap();
        assert_eq!(a.kind, AlertKind::Threshold);
        assert_eq!(
            a.key(),
            "threshold:sales:7",
            "a replay of the same event is the same key"
        );
        let n = coalesce(std::slice::from_ref(&a), &names);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].summary, "Red: calls waiting · Sales IVR");
        assert_eq!(n[0].body, "Calls waiting is 12 (red threshold 10).");
        assert_eq!(n[0].call_id, None, "a click opens the department");
        let sl = crossed(8, "service_level", "amber", "ok", 0.734, 0.8).unwrap();
        assert_eq!(
            coalesce(&[sl], &names)[0].body,
            "Service level is 73.4 % (amber threshold 80.0 %)."
        );
        assert!(
            crossed(9, "waiting_count", "amber", "red", 8.0, 5.0).is_none(),
            "down"
        );
        assert!(
            crossed(10, "waiting_count", "ok", "amber", 1.0, 5.0).is_none(),
            "back to ok"
        );
        assert!(crossed(11, "no_such_metric", "red", "ok", 1.0, 1.0).is_none());
        // Missed calls in the same burst still coalesce on their own.
        let mixed = coalesce(
            &[
                a,
                missed("sales", "c1", "+919876543210"),
                missed("sales", "c2", "+919876543211"),
            ],
            &names,
        );
        assert_eq!(mixed.len(), 2, "{mixed:?}");
        let mut p = NotificationSettings::default();
        let t = crossed(12, "waiting_count", "red", "ok", 12.0, 10.0).unwrap();
        assert!(wanted(&t, &p, None));
        p.thresholds = false;
        assert!(!wanted(&t, &p, None));
    }

    #[test]
    fn a_flapping_figure_notifies_once_per_quiet_period_unless_it_gets_worse() {
        let t0 = std::time::Instant::now();
        let mut q = Quiet::default();
        let amber = |seq| crossed(seq, "waiting_count", "amber", "ok", 6.0, 5.0).unwrap();
        let red = |seq| crossed(seq, "waiting_count", "red", "amber", 11.0, 10.0).unwrap();
        assert!(q.admit(&amber(1), t0));
        assert!(
            !q.admit(&amber(2), t0 + std::time::Duration::from_secs(60)),
            "flapping"
        );
        assert!(
            q.admit(&red(3), t0 + std::time::Duration::from_secs(90)),
            "worse: news"
        );
        assert!(!q.admit(&amber(4), t0 + std::time::Duration::from_secs(120)));
        assert!(q.admit(
            &amber(5),
            t0 + THRESHOLD_QUIET + std::time::Duration::from_secs(91)
        ));
        assert!(
            q.admit(&missed("sales", "c1", "+1"), t0),
            "calls are not quieted"
        );
    }

    fn names(slug: &str) -> String {
        match slug {
            "sales" => "Sales IVR".into(),
            other => other.into(),
        }
    }

    #[test]
    fn one_missed_call_reads_like_the_spec() {
        let n = coalesce(&[missed("sales", "c1", "+919876543210")], &names);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].summary, "Missed call from +91 98765 43210 · Sales IVR");
        assert_eq!(n[0].call_id.as_deref(), Some("c1"));
    }

    #[test]
    fn numbers_read_like_the_console() {
        assert_eq!(format_number("+919876543210"), "+91 98765 43210");
        assert_eq!(format_number("+12025550143"), "+1 202 555 0143");
        assert_eq!(format_number(" 09876543210 "), "09876543210");
    }

    #[test]
    fn a_burst_is_one_notice_per_department() {
        let alerts: Vec<Alert> = (0..5)
            .map(|i| missed("sales", &format!("c{i}"), "+15550100"))
            .chain([missed("support", "s1", "+15550199")])
            .collect();
        let n = coalesce(&alerts, &names);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].summary, "5 new missed calls in Sales IVR");
        assert_eq!(n[0].call_id, None);
        assert_eq!(n[1].summary, "Missed call from +15550199 · support");
    }

    #[test]
    fn breaches_are_worded_apart_from_missed_calls() {
        let mut a = missed("sales", "c1", "+15550100");
        a.kind = AlertKind::SlaBreach;
        let n = coalesce(&[a.clone(), missed("sales", "c2", "+15550101")], &names);
        assert_eq!(n.len(), 2);
        assert!(n
            .iter()
            .any(|x| x.summary == "Callback SLA breached · Sales IVR"));
        assert_ne!(a.key(), missed("sales", "c1", "x").key());
    }

    #[test]
    fn the_same_call_is_news_once_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notified");
        let mut seen = Seen::load(&path, 100);
        let a = missed("sales", "c1", "+1");
        assert!(seen.insert(a.key()));
        assert!(!seen.insert(a.key()), "a replayed event is not news");
        seen.save();
        let mut again = Seen::load(&path, 100);
        assert!(!again.insert(a.key()), "nor after a restart");
        assert!(again.insert(missed("sales", "c2", "+1").key()));
    }

    #[test]
    fn the_memory_is_bounded_and_forgets_the_oldest() {
        let mut seen = Seen::in_memory(3);
        for i in 0..5 {
            assert!(seen.insert(format!("k{i}")));
        }
        assert!(seen.insert("k0".into()), "k0 was forgotten");
        assert!(!seen.insert("k4".into()));
    }

    #[test]
    fn only_unresolved_missed_and_hangup_rows_alert() {
        let row = |status: &str, resolved: bool| {
            json!({"department":"sales","call_id":"c1","mobile_number":"+1","status":status,
                   "resolved_at": if resolved { json!("2026-11-24T10:00:00Z") } else { json!(null) }})
        };
        assert_eq!(
            Alert::from_event(1, "call.upserted", &row("missed", false)).map(|a| a.kind),
            Some(AlertKind::Missed)
        );
        assert_eq!(
            Alert::from_event(1, "call.upserted", &row("hangup", false)).map(|a| a.kind),
            Some(AlertKind::Hangup)
        );
        assert_eq!(
            Alert::from_event(1, "call.upserted", &row("missed", true)),
            None
        );
        assert_eq!(
            Alert::from_event(1, "call.upserted", &row("ringing", false)),
            None
        );
        assert_eq!(
            Alert::from_event(1, "provider.updated", &row("missed", false)),
            None
        );
        let breach = json!({"call": row("missed", false)});
        assert_eq!(
            Alert::from_event(1, "call.sla_breached", &breach).map(|a| a.kind),
            Some(AlertKind::SlaBreach)
        );
        assert_eq!(
            Alert::from_event(1, "call.upserted", &json!({"status":"missed"})),
            None,
            "a row without identity cannot be de-duplicated: skipped"
        );
    }

    #[test]
    fn preferences_filter() {
        let a = missed("sales", "c1", "+1");
        let mut p = NotificationSettings::default();
        assert!(wanted(&a, &p, None));
        p.muted = vec!["sales".into()];
        assert!(!wanted(&a, &p, None));
        p.muted.clear();
        p.do_not_disturb = true;
        assert!(!wanted(&a, &p, None));
        p.do_not_disturb = false;
        p.sla_breaches = false;
        let mut b = a.clone();
        b.kind = AlertKind::SlaBreach;
        assert!(!wanted(&b, &p, None));
        assert!(wanted(&a, &p, None));
    }

    fn voicemail(dept: &str, id: &str, for_user: Option<i64>) -> serde_json::Value {
        json!({"id": 1, "call_id": id, "department": dept, "mobile_number": "+919876543210",
               "link": "https://example.com/vm.mp3", "for_user_id": for_user})
    }

    #[test]
    fn a_voicemail_is_announced_to_the_user_it_is_meant_for_only() {
        let a = Alert::from_event(9, "voicemail.received", &voicemail("sales", "c1", Some(7)))
            .expect("a voicemail alert");
        assert_eq!((a.kind, a.for_user), (AlertKind::Voicemail, Some(7)));
        // Not the same news as the call's missed-call notice.
        assert_ne!(a.key(), missed("sales", "c1", "x").key());
        let mut p = NotificationSettings::default();
        assert!(wanted(&a, &p, Some(7)));
        assert!(!wanted(&a, &p, Some(8)), "another user's voicemail");
        assert!(!wanted(&a, &p, None), "nobody known signed in");
        let nobodys =
            Alert::from_event(9, "voicemail.received", &voicemail("sales", "c2", None)).unwrap();
        assert!(!wanted(&nobodys, &p, Some(7)));
        p.voicemails = false;
        assert!(!wanted(&a, &p, Some(7)));
        p.voicemails = true;
        p.muted = vec!["sales".into()];
        assert!(!wanted(&a, &p, Some(7)));
    }

    #[test]
    fn voicemails_are_worded_apart_and_open_the_inbox() {
        let one =
            Alert::from_event(9, "voicemail.received", &voicemail("sales", "c1", Some(7))).unwrap();
        let n = coalesce(&[one.clone(), missed("sales", "c2", "+15550101")], &names);
        assert_eq!(n.len(), 2);
        let vm = n.iter().find(|n| n.voicemail).expect("a voicemail notice");
        assert_eq!(
            vm.summary,
            "Voicemail for you from +91 98765 43210 · Sales IVR"
        );
        assert_eq!(vm.call_id.as_deref(), Some("c1"));
        let call = n.iter().find(|n| !n.voicemail).unwrap();
        assert_eq!(
            call.summary,
            format!(
                "Missed call from {} · Sales IVR",
                format_number("+15550101")
            )
        );
        let two = Alert::from_event(10, "voicemail.received", &voicemail("sales", "c3", Some(7)))
            .unwrap();
        let n = coalesce(&[one, two], &names);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].summary, "2 new voicemails for you in Sales IVR");
        assert!(n[0].voicemail && n[0].call_id.is_none());
    }
}
