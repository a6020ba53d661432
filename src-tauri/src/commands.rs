//! The window's commands. `connection` is the one that hands the console its
//! backend's address and token; the rest serve the first-run and settings screens.

use crate::settings::{Mode, Settings};
use crate::shell::{Connection, Shell, ShellError};
use crate::vault;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::{AppHandle, Runtime, State};

/// Errors cross to the window as `{code, message}`: the UI never matches on text.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl From<ShellError> for CommandError {
    fn from(e: ShellError) -> Self {
        CommandError {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError {
        code: "invalid".into(),
        message: message.into(),
    }
}

/// The backend's address and token, starting it when needed; `null` until
/// the first-run question is answered.
#[tauri::command]
pub async fn connection<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Arc<Shell>>,
) -> Result<Option<Connection>, CommandError> {
    if shell.needs_setup() {
        return Ok(None);
    }
    Ok(Some(shell.start(&crate::hooks(&app)).await?))
}

#[tauri::command]
pub fn settings_get(shell: State<'_, Arc<Shell>>) -> Settings {
    shell.settings()
}

/// Saves settings; a change of mode or address restarts the backend.
#[tauri::command]
pub async fn settings_save<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Arc<Shell>>,
    settings: Settings,
) -> Result<Option<Connection>, CommandError> {
    let connection = shell.update(settings, &crate::hooks(&app)).await?;
    crate::autostart::apply(&app, &shell.settings());
    Ok(connection)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverChoice {
    pub lan: bool,
    pub port: u16,
    pub public_url: Option<String>,
}

/// First run: "Run the receiver on this computer".
#[tauri::command]
pub async fn setup_receiver<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Arc<Shell>>,
    choice: ReceiverChoice,
) -> Result<Connection, CommandError> {
    let mut s = shell.settings();
    s.mode = Some(Mode::Receiver);
    s.receiver.lan = choice.lan;
    s.receiver.port = choice.port;
    s.receiver.public_url = choice
        .public_url
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let connection = shell
        .update(s, &crate::hooks(&app))
        .await?
        .ok_or_else(|| invalid("the receiver did not start"))?;
    crate::autostart::apply(&app, &shell.settings());
    Ok(connection)
}

#[derive(Debug, Deserialize)]
pub struct RemoteChoice {
    pub url: String,
    pub username: String,
    pub password: String,
}

/// First run: "Connect to a Callboard receiver": signs in, keeps the token
/// in the keyring, starts mirroring.
#[tauri::command]
pub async fn setup_remote<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Arc<Shell>>,
    choice: RemoteChoice,
) -> Result<Connection, CommandError> {
    let url = choice.url.trim().trim_end_matches('/').to_string();
    let token = callboard_server::sign_in(&url, choice.username.trim(), &choice.password)
        .await
        .map_err(|e| CommandError {
            code: "remote".into(),
            message: e.to_string(),
        })?;
    shell
        .vault
        .set(vault::REMOTE_TOKEN, &token)
        .map_err(ShellError::from)?;
    let mut s = shell.settings();
    s.mode = Some(Mode::Remote);
    s.remote.url = url;
    s.remote.username = choice.username.trim().to_string();
    let connection = shell
        .update(s, &crate::hooks(&app))
        .await?
        .ok_or_else(|| invalid("the connection did not start"))?;
    crate::autostart::apply(&app, &shell.settings());
    Ok(connection)
}

/// The receiver's generated administrator password, for signing in from
/// other browsers; `null` when this app did not create it.
#[tauri::command]
pub fn admin_password(shell: State<'_, Arc<Shell>>) -> Result<Option<String>, CommandError> {
    Ok(shell
        .vault
        .get(vault::ADMIN_PASSWORD)
        .map_err(ShellError::from)?)
}

/// What support needs to see, as text to paste: versions, mode, where data
/// and logs are, the backend's own health, and the log's last lines. No
/// token or password is ever in it.
#[tauri::command]
pub async fn diagnostics(shell: State<'_, Arc<Shell>>) -> Result<String, CommandError> {
    let settings = shell.settings();
    let logs = crate::logs::dir(crate::IDENTIFIER);
    let mut out = vec![
        format!(
            "Callboard desktop {} ({} {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
        format!(
            "mode: {}",
            match settings.mode {
                Some(Mode::Receiver) => "receiver",
                Some(Mode::Remote) => "remote",
                None => "not chosen yet",
            }
        ),
        format!(
            "logs: {} (one file a day, {} kept)",
            logs.display(),
            crate::logs::KEEP_DAYS
        ),
        format!(
            "start at login: {}; close to tray: {}",
            crate::autostart::wanted(&settings),
            settings.close_to_tray
        ),
    ];
    match shell.connection().await {
        None => out.push("backend: not running".into()),
        Some(c) => {
            out.push(format!("data: {}", c.data_dir));
            out.push(format!("secrets: {:?}", c.secrets).to_lowercase());
            out.push(format!("local API: {}", c.api_base));
            if let Some(r) = &c.remote_url {
                out.push(format!("receiver: {r}"));
            }
            for b in &c.webhook_bases {
                out.push(format!("webhooks: {b}/webhooks/ivr/<slug>"));
            }
            for h in &c.hints {
                out.push(format!("hint: {h}"));
            }
            // The backend's own view: readiness, or the replica's link.
            let (path, auth) = match c.mode {
                Mode::Receiver => ("/readyz", false),
                Mode::Remote => ("/api/replica/status", true),
            };
            let http = callboard_server::http::client()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default();
            let mut req = http.get(format!("{}{path}", c.api_base));
            if auth {
                req = req.bearer_auth(&c.token);
            }
            let health = match req.send().await {
                Ok(r) => format!(
                    "{} {}",
                    r.status().as_u16(),
                    r.text().await.unwrap_or_default()
                ),
                Err(e) => format!("unreachable: {e}"),
            };
            out.push(format!("{path}: {health}"));
        }
    }
    let tail = tokio::task::spawn_blocking(move || crate::logs::tail(&logs, 100))
        .await
        .unwrap_or_default();
    out.push(String::new());
    out.push("--- the log's last lines ---".into());
    out.push(tail);
    Ok(out.join("\n"))
}

/// Opens the log folder in the file manager.
#[tauri::command]
pub fn open_logs() -> Result<String, CommandError> {
    let dir = crate::logs::dir(crate::IDENTIFIER);
    crate::logs::open(&dir).map_err(|e| CommandError {
        code: "open_logs".into(),
        message: format!("cannot open {}: {e}", dir.display()),
    })?;
    Ok(dir.display().to_string())
}

impl From<crate::updates::UpdateError> for CommandError {
    fn from(e: crate::updates::UpdateError) -> Self {
        CommandError {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
}

/// This version, whether this build updates itself, and what is on offer.
#[tauri::command]
pub fn update_status(updates: State<'_, crate::updates::Updates>) -> crate::updates::UpdateStatus {
    updates.status()
}

/// Asks the update server now, on the channel given (the one on screen,
/// saved or not) or else the saved one.
#[tauri::command]
pub async fn update_check<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Arc<Shell>>,
    updates: State<'_, crate::updates::Updates>,
    channel: Option<crate::settings::Channel>,
) -> Result<crate::updates::UpdateStatus, CommandError> {
    let channel = channel.unwrap_or(shell.settings().updates.channel);
    updates.check(&app, channel).await?;
    Ok(updates.status())
}

/// Downloads, verifies and installs the update on offer; it runs after a restart.
#[tauri::command]
pub async fn update_install<R: Runtime>(
    app: AppHandle<R>,
    updates: State<'_, crate::updates::Updates>,
) -> Result<crate::updates::UpdateStatus, CommandError> {
    updates.install(&app).await?;
    Ok(updates.status())
}

/// Restarts onto the installed version: the backend stops cleanly first.
#[tauri::command]
pub fn update_restart<R: Runtime>(app: AppHandle<R>) {
    app.request_restart();
}
