//! Starting at login. In receiver mode the app *is* the office's webhook
//! receiver: if it does not start after a reboot, every delivery fails until
//! someone opens it. So it registers itself by default in receiver mode
//! (a setting in both modes), and a login start opens hidden in the tray.

use crate::settings::{Mode, Settings};
use tauri::{Manager, Runtime};

/// The argument the login entry starts the app with: no window, the tray only.
pub const HIDDEN_ARG: &str = "--hidden";

/// Whether the app should start at login: the user's choice, else on in
/// receiver mode and off otherwise.
pub fn wanted(settings: &Settings) -> bool {
    settings
        .autostart
        .unwrap_or(settings.mode == Some(Mode::Receiver))
}

/// The plugin, registering the login entry with [`HIDDEN_ARG`].
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_autostart::Builder::new().arg(HIDDEN_ARG);
    // A LaunchAgent needs no Apple Events permission (AppleScript would).
    #[cfg(target_os = "macos")]
    let builder = builder.macos_launcher(tauri_plugin_autostart::MacosLauncher::LaunchAgent);
    builder.build()
}

/// Makes the OS's login entry (XDG autostart file, LaunchAgent, Run key)
/// match the settings; a failure is logged, never fatal.
pub fn apply<R: Runtime>(app: &tauri::AppHandle<R>, settings: &Settings) {
    if settings.mode.is_none() {
        return;
    }
    // Absent under the test runtime, which has no plugins.
    let Some(manager) = app.try_state::<tauri_plugin_autostart::AutoLaunchManager>() else {
        return;
    };
    let want = wanted(settings);
    let has = manager.is_enabled().unwrap_or(false);
    if want == has {
        return;
    }
    let result = if want {
        manager.enable()
    } else {
        manager.disable()
    };
    match result {
        Ok(()) => tracing::info!(enabled = want, "start at login updated"),
        Err(e) => tracing::warn!(error = %e, enabled = want, "cannot update the start at login"),
    }
}

/// Launched by the login entry: stay in the tray (when there is one).
pub fn launched_hidden() -> bool {
    std::env::args().any(|a| a == HIDDEN_ARG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_by_default_for_a_receiver_and_the_users_choice_wins() {
        let mut s = Settings::default();
        assert!(!wanted(&s), "no mode yet: nothing to start");
        s.mode = Some(Mode::Receiver);
        assert!(wanted(&s));
        s.mode = Some(Mode::Remote);
        assert!(!wanted(&s));
        s.autostart = Some(true);
        assert!(wanted(&s));
        s.mode = Some(Mode::Receiver);
        s.autostart = Some(false);
        assert!(!wanted(&s));
    }
}
