//! Updating the app in place. The app reads its channel's manifest (the
//! `latest.json` the release workflow publishes), offers a newer version,
//! downloads it and installs it only when its minisign signature matches the
//! update key and names the version announced (`requireSignedVersion`), so a
//! tampered file or a replayed older release is refused.
//!
//! The address and key are built in by the release (`CALLBOARD_UPDATE_URL`,
//! `CALLBOARD_UPDATE_PUBKEY` at build time); the same variables at run time
//! point one computer at an office mirror or at an office's own signed builds.
//! A build without them does not update itself and says so.

use crate::settings::Channel;
use serde::Serialize;
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};

pub const URL_VAR: &str = "CALLBOARD_UPDATE_URL";
pub const PUBKEY_VAR: &str = "CALLBOARD_UPDATE_PUBKEY";

/// The first automatic check waits for the backend to settle; then twice a day.
const FIRST_CHECK: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_secs(12 * 3600);
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(
        "this build of Callboard does not update itself (it was built without an update \
         address and key): install new versions by hand"
    )]
    Off,
    #[error("the update address `{0}` is not a valid URL")]
    BadUrl(String),
    #[error("no update is on offer: check for updates first")]
    NothingOffered,
    #[error(
        "this copy of Callboard was not installed from a package (AppImage, .deb or \
         installer), so it cannot replace itself: install the new version by hand"
    )]
    NotPackaged,
    #[error("the downloaded update does not match its signature, so it was not installed ({0})")]
    Signature(String),
    #[error("cannot reach the update server: {0}")]
    Network(String),
    #[error("the update could not be installed: {0}")]
    Install(String),
}

impl UpdateError {
    pub fn code(&self) -> &'static str {
        match self {
            UpdateError::Off => "updates_off",
            UpdateError::BadUrl(_) => "invalid",
            UpdateError::NothingOffered => "nothing_offered",
            UpdateError::NotPackaged => "not_packaged",
            UpdateError::Signature(_) => "signature",
            UpdateError::Network(_) => "network",
            UpdateError::Install(_) => "install",
        }
    }
}

impl From<tauri_plugin_updater::Error> for UpdateError {
    fn from(e: tauri_plugin_updater::Error) -> Self {
        use tauri_plugin_updater::Error as E;
        match e {
            E::Minisign(_)
            | E::Base64(_)
            | E::SignatureUtf8(_)
            | E::SignedVersionMismatch { .. }
            | E::MissingSignedVersion => UpdateError::Signature(e.to_string()),
            E::Reqwest(_)
            | E::Network(_)
            | E::ReleaseNotFound
            | E::InsecureTransportProtocol
            | E::Serialization(_)
            | E::TargetNotFound(_)
            | E::TargetsNotFound(_) => UpdateError::Network(e.to_string()),
            other => UpdateError::Install(other.to_string()),
        }
    }
}

/// Where updates come from and the key they must be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `{channel}` in it becomes `stable` or `beta`.
    pub url: String,
    pub pubkey: String,
}

impl Source {
    pub fn from_env() -> Option<Source> {
        Source::resolve(
            |k| std::env::var(k).ok(),
            option_env!("CALLBOARD_UPDATE_URL"),
            option_env!("CALLBOARD_UPDATE_PUBKEY"),
        )
    }

    /// Each variable at run time wins over the one built in.
    pub fn resolve(
        runtime: impl Fn(&str) -> Option<String>,
        built_url: Option<&str>,
        built_key: Option<&str>,
    ) -> Option<Source> {
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let pick = |name: &str, built: Option<&str>| {
            given(runtime(name)).or_else(|| given(built.map(str::to_string)))
        };
        Some(Source {
            url: pick(URL_VAR, built_url)?,
            pubkey: pick(PUBKEY_VAR, built_key)?,
        })
    }

    pub fn endpoint(&self, channel: Channel) -> Result<Url, UpdateError> {
        let url = self.url.replace("{channel}", channel.as_str());
        Url::parse(&url).map_err(|_| UpdateError::BadUrl(url))
    }
}

/// A newer version on offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub version: String,
    pub notes: Option<String>,
    pub date: Option<String>,
}

impl Offer {
    fn of(u: &Update) -> Offer {
        Offer {
            version: u.version.clone(),
            notes: u.body.clone().filter(|b| !b.trim().is_empty()),
            date: u.date.map(|d| d.to_string()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatus {
    pub current: String,
    /// False when this build has no update address and key.
    pub enabled: bool,
    pub offer: Option<Offer>,
    /// A version installed and waiting for a restart.
    pub installed: Option<String>,
}

/// Download progress, for the window's progress bar.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub downloaded: u64,
    pub total: Option<u64>,
}

/// The app's updater state: the update on offer, what was installed, and
/// which version the user has already been told about.
#[derive(Default)]
pub struct Updates {
    offered: Mutex<Option<Update>>,
    installed: Mutex<Option<String>>,
    announced: Mutex<Option<String>>,
    /// One download at a time, whoever clicks twice.
    installing: tokio::sync::Mutex<()>,
}

impl Updates {
    pub fn status(&self) -> UpdateStatus {
        UpdateStatus {
            current: env!("CARGO_PKG_VERSION").into(),
            enabled: Source::from_env().is_some(),
            offer: lock(&self.offered).as_ref().map(Offer::of),
            installed: lock(&self.installed).clone(),
        }
    }

    /// Asks the channel's manifest; remembers what it offers.
    pub async fn check<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        channel: Channel,
    ) -> Result<Option<Offer>, UpdateError> {
        let source = Source::from_env().ok_or(UpdateError::Off)?;
        let update = app
            .updater_builder()
            .pubkey(source.pubkey.clone())
            .endpoints(vec![source.endpoint(channel)?])?
            .timeout(TIMEOUT)
            .build()?
            .check()
            .await?;
        let offer = update.as_ref().map(Offer::of);
        *lock(&self.offered) = update;
        Ok(offer)
    }

    /// Downloads the update on offer, verifies its signature, installs it.
    /// The running app keeps going until it restarts.
    pub async fn install<R: Runtime>(&self, app: &AppHandle<R>) -> Result<String, UpdateError> {
        let _one = self.installing.lock().await;
        let update = lock(&self.offered)
            .clone()
            .ok_or(UpdateError::NothingOffered)?;
        packaged(app)?;
        let progress = app.clone();
        let mut downloaded = 0u64;
        let bytes = update
            .download(
                |chunk, total| {
                    downloaded += chunk as u64;
                    let _ = progress.emit("update-progress", Progress { downloaded, total });
                },
                || {},
            )
            .await?;
        let version = update.version.clone();
        // Replacing the AppImage or running the package manager blocks.
        tauri::async_runtime::spawn_blocking(move || update.install(bytes))
            .await
            .map_err(|e| UpdateError::Install(e.to_string()))??;
        tracing::info!(version, "update installed; it runs after a restart");
        *lock(&self.offered) = None;
        *lock(&self.installed) = Some(version.clone());
        Ok(version)
    }

    /// True the first time a version is offered: the user hears of it once.
    fn first_news_of(&self, version: &str) -> bool {
        let mut seen = lock(&self.announced);
        if seen.as_deref() == Some(version) {
            return false;
        }
        *seen = Some(version.to_string());
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// On Linux the updater replaces the AppImage or installs the .deb; a bare
/// binary (built from source, run from a checkout) must not be overwritten.
fn packaged<R: Runtime>(app: &AppHandle<R>) -> Result<(), UpdateError> {
    #[cfg(target_os = "linux")]
    if app.env().appimage.is_none() && tauri::utils::platform::bundle_type().is_none() {
        return Err(UpdateError::NotPackaged);
    }
    let _ = app;
    Ok(())
}

/// Checks at start and twice a day while automatic checks are on; tells
/// the user once per version (a notice, and the window's banner).
pub fn watch<R: Runtime>(app: AppHandle<R>) {
    if Source::from_env().is_none() {
        tracing::info!("this build does not update itself (no update address and key)");
        return;
    }
    tauri::async_runtime::spawn(async move {
        let mut wait = FIRST_CHECK;
        loop {
            tokio::time::sleep(wait).await;
            wait = EVERY;
            let settings = app
                .state::<std::sync::Arc<crate::shell::Shell>>()
                .settings();
            if !settings.updates.automatic {
                continue;
            }
            let updates = app.state::<Updates>();
            match updates.check(&app, settings.updates.channel).await {
                Ok(Some(offer)) if updates.first_news_of(&offer.version) => {
                    let _ = app.emit("update-available", offer.clone());
                    announce(&offer);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "update check failed"),
            }
        }
    });
}

fn announce(offer: &Offer) {
    let summary = format!("Callboard {} is available", offer.version);
    std::thread::spawn(move || {
        let shown = crate::notifier::notification()
            .summary(&summary)
            .body("Install it from Callboard: This computer → Updates.")
            .show();
        if let Err(e) = shown {
            tracing::debug!(error = %e, "cannot announce the update");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_time_variable_wins_and_both_are_needed() {
        let none = |_: &str| None;
        assert_eq!(Source::resolve(none, None, None), None);
        assert_eq!(
            Source::resolve(none, Some("https://u/{channel}.json"), None),
            None,
            "an address without a key updates nothing"
        );
        let built = Source::resolve(none, Some("https://u/{channel}.json"), Some("KEY")).unwrap();
        assert_eq!(built.pubkey, "KEY");
        let office =
            |k: &str| (k == URL_VAR).then(|| "https://mirror.office/{channel}.json".into());
        let s = Source::resolve(office, Some("https://u/{channel}.json"), Some("KEY")).unwrap();
        assert_eq!(
            s.endpoint(Channel::Beta).unwrap().as_str(),
            "https://mirror.office/beta.json"
        );
        let blank = |_: &str| Some("  ".to_string());
        assert_eq!(
            Source::resolve(blank, Some("https://u"), Some("KEY"))
                .unwrap()
                .url,
            "https://u",
            "an empty variable is no override"
        );
    }

    #[test]
    fn a_bad_address_is_named() {
        let s = Source {
            url: "not a url/{channel}".into(),
            pubkey: "k".into(),
        };
        let e = s.endpoint(Channel::Stable).unwrap_err();
        assert!(e.to_string().contains("not a url/stable"), "{e}");
    }

    #[test]
    fn each_version_is_news_once() {
        let u = Updates::default();
        assert!(u.first_news_of("1.2.0"));
        assert!(!u.first_news_of("1.2.0"));
        assert!(u.first_news_of("1.3.0"));
    }
}
