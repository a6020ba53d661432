//! Callboard's desktop shell: a Tauri window around the same crates the
//! headless `callboard` binary wires together. It holds no business logic:
//! settings, secrets, notifications and the tray are its own; calls,
//! providers and the API are the backend's.

pub mod alerts;
pub mod autostart;
pub mod commands;
pub mod logs;
pub mod notifier;
pub mod settings;
pub mod shell;
pub mod tray;
pub mod updates;
pub mod vault;

use shell::{Counts, Hooks, Shell};
use std::sync::Arc;
use tauri::{Emitter, Manager, RunEvent, Runtime, WindowEvent};

pub const IDENTIFIER: &str = "app.callboard.desktop";

/// Asks the window to show one call (or a department's worklist).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenCall {
    pub department: String,
    pub call_id: Option<String>,
    /// Open the department's voicemail inbox, not its worklist.
    pub voicemail: bool,
}

/// The app, generic over the runtime so its setup runs in tests with
/// `tauri::test::mock_builder()`.
pub fn app<R: Runtime>(builder: tauri::Builder<R>, shell: Shell) -> tauri::Builder<R> {
    builder
        .manage(Arc::new(shell))
        .manage(updates::Updates::default())
        .invoke_handler(tauri::generate_handler![
            commands::connection,
            commands::settings_get,
            commands::settings_save,
            commands::setup_receiver,
            commands::setup_remote,
            commands::admin_password,
            commands::diagnostics,
            commands::open_logs,
            commands::update_status,
            commands::update_check,
            commands::update_install,
            commands::update_restart,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            if let Err(e) = tray::create(&handle) {
                // A desktop without a tray area still gets the window.
                tracing::warn!(error = %e, "no tray icon");
            }
            let shell = app.state::<Arc<Shell>>().inner().clone();
            autostart::apply(&handle, &shell.settings());

            if autostart::launched_hidden() && tray::exists(&handle) {
                if let Some(w) = handle.get_webview_window("main") {
                    let _ = w.hide();
                }
            }
            if !shell.needs_setup() {
                let hooks = hooks(&handle);
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = shell.start(&hooks).await {
                        tracing::error!(error = %e, "the backend did not start");
                    }
                });
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let shell = window.state::<Arc<Shell>>();
                if shell.settings().close_to_tray && tray::exists(window.app_handle()) {
                    api.prevent_close();
                    let _ = window.hide();
                    if shell.first_close_to_tray() {
                        tray::explain_close(shell.settings().mode);
                    }
                }
            }
        })
}

/// How the backend reaches the window: notices, clicks and tray counts.
pub fn hooks<R: Runtime>(app: &tauri::AppHandle<R>) -> Hooks {
    let click = app.clone();
    let tray = app.clone();
    Hooks {
        sink: Arc::new(notifier::Desktop {
            on_click: Arc::new(move |open: OpenCall| {
                show_main(&click);
                let _ = click.emit("open-call", open);
            }),
        }),
        counts: Arc::new(move |c: Counts| tray::show_counts(&tray, c)),
    }
}

pub fn show_main<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Where settings and the database live by default (what Tauri's
/// `app_config_dir`/`app_data_dir` give for this identifier).
fn platform_dirs() -> (std::path::PathBuf, std::path::PathBuf) {
    let base = |d: Option<std::path::PathBuf>| {
        d.unwrap_or_else(|| std::path::PathBuf::from("."))
            .join(IDENTIFIER)
    };
    (base(dirs::config_dir()), base(dirs::data_dir()))
}

pub fn run() {
    // Before any HTTP client, the updater's included.
    callboard_server::http::install_crypto();
    logs::init(&logs::dir(IDENTIFIER));
    notifier::claim_identity();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Callboard desktop starting"
    );
    let (config_dir, data_dir) = platform_dirs();
    let shell = settings::EnvOverrides::from_env()
        .map_err(shell::ShellError::from)
        .and_then(|env| {
            let vault = vault::Vault::open(&config_dir);
            Shell::new(config_dir.clone(), data_dir, env, vault)
        });
    let shell = match shell {
        Ok(s) => s,
        Err(e) => {
            eprintln!("callboard: {e}");
            std::process::exit(2);
        }
    };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main(app)
        }))
        .plugin(autostart::plugin())
        .plugin(tauri_plugin_updater::Builder::new().build());
    let app = match app(builder, shell).build(tauri::generate_context!()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("callboard: the window could not start: {e}");
            std::process::exit(1);
        }
    };
    // Here, not in `app`: the updater plugin is registered by `run` alone.
    updates::watch(app.handle().clone());
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            logs::flush();
        }
        if let RunEvent::ExitRequested { api, code, .. } = event {
            let shell = handle.state::<Arc<Shell>>().inner().clone();
            if shell.is_running_blocking() {
                // Finish in-flight requests and flush the writer, then exit
                // (or restart onto an installed update).
                api.prevent_exit();
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move {
                    shell.stop().await;
                    if code == Some(tauri::RESTART_EXIT_CODE) {
                        handle.request_restart();
                    } else {
                        handle.exit(0);
                    }
                });
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    #[test]
    fn the_app_builds_and_sets_up_on_the_mock_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let shell = Shell::new(
            dir.path().join("config"),
            dir.path().join("data"),
            settings::EnvOverrides::default(),
            vault::Vault::file_only(&dir.path().join("config")),
        )
        .unwrap();
        let app = app(mock_builder(), shell)
            .build(mock_context(noop_assets()))
            .unwrap();
        let shell = app.state::<Arc<Shell>>();
        assert!(
            shell.needs_setup(),
            "a fresh install asks the first-run question"
        );
        assert!(
            !dir.path().join("data").exists(),
            "nothing started before the answer"
        );
    }
}
