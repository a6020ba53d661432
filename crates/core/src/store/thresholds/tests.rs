use super::*;
use crate::store::providers::{self, NewProvider};
use std::sync::{Arc, Mutex};

/// A clock the test moves by hand.
#[derive(Debug)]
struct Manual(Mutex<Timestamp>);

impl crate::time::Clock for Manual {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

fn waiting(amber: f64, red: f64, quiet: i64) -> Threshold {
    Threshold {
        department: "sales".into(),
        metric: Metric::WaitingCount,
        amber: Some(amber),
        red: Some(red),
        window_minutes: 30,
        quiet_minutes: quiet,
    }
}

#[test]
fn levels_follow_the_direction_of_the_figure() {
    let t = waiting(5.0, 10.0, 10);
    assert_eq!(t.level(Some(4.0)), Level::Ok);
    assert_eq!(t.level(Some(5.0)), Level::Amber);
    assert_eq!(t.level(Some(12.0)), Level::Red);
    assert_eq!(t.level(None), Level::Ok);
    let sl = Threshold {
        metric: Metric::ServiceLevel,
        amber: Some(0.8),
        red: Some(0.6),
        ..t
    };
    assert_eq!(sl.level(Some(0.9)), Level::Ok);
    assert_eq!(sl.level(Some(0.7)), Level::Amber);
    assert_eq!(sl.level(Some(0.5)), Level::Red);
}

#[tokio::test]
async fn a_crossing_alerts_once_and_a_flap_inside_the_quiet_period_does_not() {
    let t0 = time::parse("2026-12-03T09:00:00Z").unwrap();
    let clock = Arc::new(Manual(Mutex::new(t0)));
    let dir = tempfile::tempdir().unwrap();
    let store = crate::Store::open(dir.path().join("callboard.db"), clock.clone()).unwrap();
    let mut rx = store.hub().subscribe();
    let cfg = ThresholdConfig {
        thresholds: vec![waiting(2.0, 5.0, 10)],
        channels: vec![Channel {
            kind: ChannelKind::Webhook,
            target: "http://127.0.0.1:9/hook".into(),
            departments: None,
        }],
        smtp: None,
    };
    store
        .write(move |w| {
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
            put(w, &cfg, &actor)
        })
        .await
        .unwrap();
    let step = |v: f64| {
        let store = store.clone();
        async move {
            store
                .write(move |w| {
                    let ts = config(w.conn)?.thresholds;
                    let mut values = Values::new();
                    values.insert(("sales".into(), Metric::WaitingCount), Some(v));
                    evaluate(w, &ts, &values)
                })
                .await
                .unwrap()
        }
    };
    assert!(step(1.0).await.is_empty(), "a first reading at ok");
    let sent = step(3.0).await;
    assert_eq!(sent.len(), 1, "the crossing into amber alerts");
    assert_eq!(sent[0].level, Level::Amber);
    assert!(
        sent[0].text.contains("calls waiting is 3"),
        "{}",
        sent[0].text
    );
    // Flapping inside the quiet period: no second alert.
    *clock.0.lock().unwrap() = t0 + chrono::Duration::minutes(3);
    assert!(step(1.0).await.is_empty());
    assert!(step(4.0).await.is_empty(), "a flap inside the quiet period");
    // Worse than before: red alerts even inside the quiet period.
    let red = step(6.0).await;
    assert_eq!(red.len(), 1);
    assert_eq!(red[0].level, Level::Red);
    // After the quiet period the same crossing alerts again.
    *clock.0.lock().unwrap() = t0 + chrono::Duration::minutes(14);
    assert!(step(1.0).await.is_empty());
    assert_eq!(step(3.0).await.len(), 1, "the quiet period is over");

    let log = store.read(|c| alerts(c, None, 100)).await.unwrap();
    let statuses: Vec<&str> = log.iter().rev().map(|a| a.status.as_str()).collect();
    assert_eq!(statuses, ["pending", "suppressed", "pending", "pending"]);
    let states = store.read(|c| states(c, None)).await.unwrap();
    assert_eq!(states[0].level, Level::Amber);
    assert_eq!(states[0].value, Some(3.0));

    // Every level change was announced, in order.
    let mut levels = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if ev.kind == "threshold.crossed" {
            let d: serde_json::Value = serde_json::from_str(&ev.data).unwrap();
            levels.push(d["level"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(levels, ["ok", "amber", "ok", "amber", "red", "ok", "amber"]);
}

#[tokio::test]
async fn bad_configurations_are_refused_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::Store::open(dir.path().join("callboard.db"), time::system_clock()).unwrap();
    let bad = [
        (
            ThresholdConfig {
                thresholds: vec![Threshold {
                    department: "nope".into(),
                    ..waiting(1.0, 2.0, 10)
                }],
                ..Default::default()
            },
            "thresholds[0].department",
        ),
        (
            ThresholdConfig {
                thresholds: vec![],
                channels: vec![Channel {
                    kind: ChannelKind::Email,
                    target: "ops@example.com".into(),
                    departments: None,
                }],
                smtp: None,
            },
            "needs `smtp`",
        ),
        (
            ThresholdConfig {
                channels: vec![Channel {
                    kind: ChannelKind::Slack,
                    target: "ftp://x".into(),
                    departments: None,
                }],
                ..Default::default()
            },
            "channels[0].target",
        ),
    ];
    for (cfg, want) in bad {
        let e = store
            .write(move |w| {
                put(
                    w,
                    &cfg,
                    &Actor {
                        user_id: None,
                        name: "t".into(),
                    },
                )
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains(want), "{e} should name {want}");
    }
    let e = store
        .read(|c| {
            validate(
                c,
                &ThresholdConfig {
                    thresholds: vec![],
                    ..Default::default()
                },
            )
        })
        .await;
    assert!(e.is_ok());
}

/// Stored alert settings this build cannot read are errors naming the row:
/// a channel's department list read as "every department" would alert
/// everyone; a threshold skipped would stop alerting without a word.
#[tokio::test]
async fn unreadable_alert_settings_name_their_row() {
    let (_dir, store) = crate::store::test_support::temp_store();
    let cfg = ThresholdConfig {
        thresholds: vec![waiting(2.0, 5.0, 10)],
        channels: vec![Channel {
            kind: ChannelKind::Webhook,
            target: "http://127.0.0.1:9/hook".into(),
            departments: Some(vec!["sales".into()]),
        }],
        smtp: None,
    };
    store
        .write(move |w| {
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
            put(w, &cfg, &actor)
        })
        .await
        .unwrap();
    for (table, column, bad) in [("alert_channels", "departments", "[\"sales\"")] {
        let got = store
            .write(move |w| {
                let sql = format!("SELECT id, {column} FROM {table}");
                let (id, was): (i64, Option<String>) =
                    w.conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let set = format!("UPDATE {table} SET {column} = ?1 WHERE id = ?2");
                w.conn.execute(&set, rusqlite::params![bad, id])?;
                let read = config(w.conn).map(|_| ()).map_err(|e| e.to_string());
                w.conn.execute(&set, rusqlite::params![was, id])?;
                Ok((id, read))
            })
            .await
            .unwrap();
        let (id, read) = got;
        let err = read.expect_err(column);
        assert!(
            err.contains(&format!("{table} row {id}, column {column}")),
            "{err}"
        );
    }
    // The SMTP settings likewise.
    let err = store
        .write(|w| {
            w.conn.execute(
                "INSERT INTO settings (key, value) VALUES ('alert_smtp', '{\"host\":')",
                [],
            )?;
            let read = config(w.conn).map(|_| ()).map_err(|e| e.to_string());
            w.conn
                .execute("DELETE FROM settings WHERE key = 'alert_smtp'", [])?;
            Ok(read)
        })
        .await
        .unwrap()
        .expect_err("smtp");
    assert!(
        err.contains("settings row alert_smtp, column value"),
        "{err}"
    );
    // Restored, the configuration reads again as it was saved.
    let cfg = store.read(config).await.unwrap();
    assert_eq!(
        cfg.channels[0].departments.as_deref(),
        Some(&["sales".to_string()][..])
    );
}
