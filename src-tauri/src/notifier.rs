//! Follows the backend's event hub (the receiver's own, or the replica's) and
//! shows desktop notifications. A failing notification service is logged and
//! never stops the app.

use crate::alerts::{coalesce, wanted, Alert, Notice, Quiet, Seen};
use crate::settings::NotificationSettings;
use callboard_core::hub::Event;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Where notices go: the desktop (notify-rust) or, in tests, a list.
pub trait Sink: Send + Sync + 'static {
    fn show(&self, notice: &Notice) -> Result<(), String>;
}

/// How long a burst may grow before it is shown.
pub const BURST: Duration = Duration::from_millis(1500);

/// Department slug → display name.
pub type Names = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Runs until `stop` flips (or the hub closes).
pub async fn run(
    mut events: broadcast::Receiver<Arc<Event>>,
    names: Names,
    seen: Arc<Mutex<Seen>>,
    prefs: watch::Receiver<NotificationSettings>,
    me: watch::Receiver<Option<i64>>,
    sink: Arc<dyn Sink>,
    mut stop: watch::Receiver<bool>,
) {
    let mut burst: Vec<Alert> = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut quiet = Quiet::default();
    loop {
        let flush_at = deadline;
        tokio::select! {
            _ = stop.changed() => break,
            _ = async {
                match flush_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending::<()>().await,
                }
            } => {
                deadline = None;
                show(&names, &sink, std::mem::take(&mut burst)).await;
            }
            ev = events.recv() => match ev {
                Ok(ev) => {
                    let Ok(data) = serde_json::from_str::<serde_json::Value>(&ev.data) else {
                        continue;
                    };
                    let Some(alert) = Alert::from_event(ev.seq, &ev.kind, &data) else { continue };
                    let fresh = match seen.lock() {
                        Ok(mut s) => s.insert(alert.key()),
                        Err(_) => false,
                    };
                    if fresh
                        && wanted(&alert, &prefs.borrow(), *me.borrow())
                        && quiet.admit(&alert, tokio::time::Instant::now().into_std())
                    {
                        burst.push(alert);
                        deadline.get_or_insert_with(|| tokio::time::Instant::now() + BURST);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "notifier fell behind the event stream");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }
    if !burst.is_empty() {
        show(&names, &sink, burst).await;
    }
    Seen::save_shared(&seen).await;
}

async fn show(names: &Names, sink: &Arc<dyn Sink>, burst: Vec<Alert>) {
    if burst.is_empty() {
        return;
    }
    let notices = coalesce(&burst, names.as_ref());
    let sink = sink.clone();
    // notify-rust talks D-Bus synchronously: keep it off the async threads.
    let shown = tokio::task::spawn_blocking(move || {
        for n in &notices {
            if let Err(e) = sink.show(n) {
                tracing::warn!(error = %e, summary = %n.summary, "the desktop notification failed");
            }
        }
    })
    .await;
    if let Err(e) = shown {
        tracing::warn!(error = %e, "the notification task failed");
    }
}

/// The platform's notification service.
pub struct Desktop {
    /// Called with what to open when the user clicks a notice.
    pub on_click: Arc<dyn Fn(crate::OpenCall) + Send + Sync>,
}

impl Sink for Desktop {
    fn show(&self, n: &Notice) -> Result<(), String> {
        let mut note = notification();
        note.summary(&n.summary).body(&n.body);
        #[cfg(all(unix, not(target_os = "macos")))]
        note.action("default", "Open")
            .hint(notify_rust::Hint::Category("im.received".into()));
        let handle = note.show().map_err(|e| e.to_string())?;
        let click = self.on_click.clone();
        let open = crate::OpenCall {
            department: n.department.clone(),
            call_id: n.call_id.clone(),
            voicemail: n.voicemail,
        };
        // Waiting for a click blocks until the notice closes: its own thread.
        std::thread::spawn(move || {
            // Windows reports a click on the toast's body as its default
            // response, which `wait_for_action` folds into "closed".
            #[cfg(target_os = "windows")]
            {
                use notify_rust::NotificationResponse as R;
                let _ = handle.wait_for_response(move |r: &R| {
                    if matches!(r, R::Default | R::Action(_)) {
                        click(open.clone());
                    }
                });
            }
            #[cfg(not(target_os = "windows"))]
            handle.wait_for_action(|action| {
                if action == "default" {
                    click(open.clone());
                }
            });
        });
        Ok(())
    }
}

/// A notification carrying the app's identity: its name everywhere, and on
/// Windows the AppUserModelID its installer gives the Start-menu shortcut
/// (the bundle identifier), so the toast shows Callboard's name and icon and
/// stays in the Action Center under it.
pub fn notification() -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    n.appname("Callboard");
    #[cfg(target_os = "windows")]
    n.app_id(crate::IDENTIFIER);
    n
}

/// macOS shows a notification under the bundle it names: Callboard's own
/// (once, at start), not the terminal's or Finder's.
pub fn claim_identity() {
    #[cfg(target_os = "macos")]
    if let Err(e) = notify_rust::set_application(crate::IDENTIFIER) {
        tracing::warn!(error = %e, "notifications will not carry Callboard's identity");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Notice>>);

    impl Sink for Arc<Recorder> {
        fn show(&self, n: &Notice) -> Result<(), String> {
            self.0.lock().unwrap().push(n.clone());
            Ok(())
        }
    }

    struct Broken;

    impl Sink for Broken {
        fn show(&self, _: &Notice) -> Result<(), String> {
            Err("org.freedesktop.Notifications was not provided".into())
        }
    }

    fn send(hub: &broadcast::Sender<Arc<Event>>, seq: i64, kind: &str, data: serde_json::Value) {
        hub.send(Arc::new(Event {
            seq,
            kind: kind.into(),
            department: Some("sales".into()),
            audience: callboard_core::hub::Audience::All,
            at: "2026-11-24T10:00:00Z".into(),
            data: data.to_string(),
        }))
        .unwrap();
    }

    fn missed_call(hub: &broadcast::Sender<Arc<Event>>, seq: i64, id: &str) {
        let call = serde_json::json!({
            "department":"sales","call_id":id,"mobile_number":"+919876543210",
            "status":"missed","resolved_at":null});
        send(hub, seq, "call.upserted", call);
    }

    fn names() -> Names {
        Arc::new(|s: &str| s.to_string())
    }

    /// The notifier with default settings, fresh keys and `sink`.
    fn spawn(
        events: broadcast::Receiver<Arc<Event>>,
        me: watch::Receiver<Option<i64>>,
        sink: Arc<dyn Sink>,
    ) -> (tokio::task::JoinHandle<()>, watch::Sender<bool>) {
        let seen = Arc::new(Mutex::new(Seen::in_memory(100)));
        let (_ptx, prefs) = watch::channel(NotificationSettings::default());
        let (stop_tx, stop) = watch::channel(false);
        (
            tokio::spawn(run(events, names(), seen, prefs, me, sink, stop)),
            stop_tx,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_coalesced_and_a_replay_is_silent() {
        let (hub, events) = broadcast::channel(64);
        let rec = Arc::new(Recorder::default());
        let (_me_tx, me) = watch::channel(None);
        let (task, stop_tx) = spawn(events, me, Arc::new(rec.clone()));
        tokio::task::yield_now().await;
        missed_call(&hub, 1, "c1");
        tokio::time::sleep(BURST * 2).await;
        assert_eq!(rec.0.lock().unwrap().len(), 1);
        // The same call again (a reconnect replays it) and three new ones.
        for (seq, id) in [(2, "c1"), (3, "c2"), (4, "c3"), (5, "c4")] {
            missed_call(&hub, seq, id);
        }
        tokio::time::sleep(BURST * 2).await;
        let shown = rec.0.lock().unwrap().clone();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!(shown[1].summary, "3 new missed calls in sales");
        stop_tx.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn do_not_disturb_and_a_broken_service_never_stop_the_loop() {
        let (hub, events) = broadcast::channel(64);
        let seen = Arc::new(Mutex::new(Seen::in_memory(100)));
        let (ptx, prefs) = watch::channel(NotificationSettings {
            do_not_disturb: true,
            ..Default::default()
        });
        let (stop_tx, stop) = watch::channel(false);
        let (_me_tx, me) = watch::channel(None);
        let task = tokio::spawn(run(
            events,
            names(),
            seen,
            prefs,
            me,
            Arc::new(Broken),
            stop,
        ));
        tokio::task::yield_now().await;
        missed_call(&hub, 1, "c1");
        tokio::task::yield_now().await;
        ptx.send_modify(|p| p.do_not_disturb = false);
        missed_call(&hub, 2, "c2");
        tokio::time::sleep(BURST * 2).await;
        assert!(
            !task.is_finished(),
            "a failing service is logged, not fatal"
        );
        stop_tx.send(true).unwrap();
        task.await.unwrap();
    }

    fn voicemail(hub: &broadcast::Sender<Arc<Event>>, seq: i64, id: &str, for_user: i64) {
        let data = serde_json::json!({
            "id": seq, "department": "sales", "call_id": id, "mobile_number": "+919876543210",
            "link": "https://example.com/vm.mp3", "for_user_id": for_user});
        send(hub, seq, "voicemail.received", data);
    }

    #[tokio::test(start_paused = true)]
    async fn a_voicemail_notifies_the_windows_user_once_it_is_known() {
        let (hub, events) = broadcast::channel(64);
        let rec = Arc::new(Recorder::default());
        let (me_tx, me) = watch::channel(None);
        let (task, stop_tx) = spawn(events, me, Arc::new(rec.clone()));
        tokio::task::yield_now().await;
        // Before the window's user is known, nobody's voicemail is announced.
        voicemail(&hub, 1, "v1", 7);
        tokio::time::sleep(BURST * 2).await;
        assert!(rec.0.lock().unwrap().is_empty());
        me_tx.send(Some(7)).unwrap();
        voicemail(&hub, 2, "v2", 8);
        voicemail(&hub, 3, "v3", 7);
        tokio::time::sleep(BURST * 2).await;
        let shown = rec.0.lock().unwrap().clone();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].voicemail && shown[0].call_id.as_deref() == Some("v3"));
        assert_eq!(
            shown[0].summary,
            "Voicemail for you from +91 98765 43210 · sales"
        );
        stop_tx.send(true).unwrap();
        task.await.unwrap();
    }
}
