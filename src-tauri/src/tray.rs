//! The tray icon: live counts at a glance, and Show / Do not disturb / Quit.

use crate::shell::{Counts, Shell};
use std::sync::Arc;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

const ID: &str = "callboard";

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let shell = app.state::<Arc<Shell>>().inner().clone();
    let show = MenuItem::with_id(app, "show", "Show Callboard", true, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(
        app,
        "dnd",
        "Do not disturb",
        true,
        shell.settings().notifications.do_not_disturb,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&show, &dnd, &sep, &quit])?;
    let mut tray = TrayIconBuilder::with_id(ID)
        .tooltip("Callboard")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "show" => crate::show_main(app),
            "dnd" => {
                let shell = app.state::<Arc<Shell>>();
                let on = !shell.settings().notifications.do_not_disturb;
                if let Err(e) = shell.set_do_not_disturb(on) {
                    tracing::warn!(error = %e, "cannot save do-not-disturb");
                }
                let _ = dnd.set_checked(on);
            }
            // Runs the exit handler: the backend stops cleanly first.
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Said once, the first time closing the window leaves the app in the tray:
/// otherwise a receiver that seems closed but answers webhooks surprises.
pub fn explain_close(mode: Option<crate::settings::Mode>) {
    let body = match mode {
        Some(crate::settings::Mode::Receiver) => {
            "Callboard is still receiving calls: it keeps running in the tray. \
             Quit from the tray menu to stop the receiver."
        }
        _ => "Callboard keeps running in the tray and still notifies you. Quit from the tray menu.",
    };
    // The notification server may be slow or absent: never on the UI thread.
    let body = body.to_string();
    std::thread::spawn(move || {
        let shown = crate::notifier::notification()
            .summary("Callboard is still running")
            .body(&body)
            .show();
        if let Err(e) = shown {
            tracing::debug!(error = %e, "cannot explain the close to tray");
        }
    });
}

pub fn exists<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.tray_by_id(ID).is_some()
}

pub fn label(c: Counts) -> String {
    // The window may be closed: the tooltip is where a receiver says it still works.
    let who = if c.receiving {
        "Callboard is receiving calls"
    } else {
        "Callboard"
    };
    format!("{who} · {} live · {} to call back", c.live, c.pending)
}

pub fn show_counts<R: Runtime>(app: &AppHandle<R>, c: Counts) {
    if let Some(tray) = app.tray_by_id(ID) {
        let _ = tray.set_tooltip(Some(label(c)));
        // Shown beside the icon where the platform draws titles (macOS, Linux appindicator).
        let _ = tray.set_title(Some(format!("{} · {}", c.live, c.pending)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_says_both_counts() {
        assert_eq!(
            label(Counts {
                live: 3,
                pending: 5,
                receiving: false,
            }),
            "Callboard · 3 live · 5 to call back"
        );
        assert_eq!(
            label(Counts {
                live: 0,
                pending: 2,
                receiving: true,
            }),
            "Callboard is receiving calls · 0 live · 2 to call back"
        );
    }
}
