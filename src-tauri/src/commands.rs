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
