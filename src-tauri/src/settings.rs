//! What the app remembers between launches (`settings.json` in the app's
//! config directory), and the environment variables that override it for
//! automation and kiosks. Secrets never live here: see `vault`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// This computer runs the webhook receiver and owns the database.
    Receiver,
    /// This computer connects to a receiver elsewhere.
    Remote,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "receiver" => Some(Mode::Receiver),
            "remote" => Some(Mode::Remote),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiverSettings {
    /// Listen on every interface (IVR platforms and other desktops reach it)
    /// rather than on this computer only.
    pub lan: bool,
    pub port: u16,
    /// The address platforms reach this receiver at, when it is not a LAN address.
    pub public_url: Option<String>,
}

impl Default for ReceiverSettings {
    fn default() -> Self {
        ReceiverSettings {
            lan: true,
            port: 8787,
            public_url: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteSettings {
    pub url: String,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    pub do_not_disturb: bool,
    /// Department slugs that never notify.
    pub muted: Vec<String>,
    pub sla_breaches: bool,
    /// A department's figure rising into amber or red (its thresholds).
    pub thresholds: bool,
    /// A voicemail left for the user signed in to this window.
    pub voicemails: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            do_not_disturb: false,
            muted: Vec::new(),
            sla_breaches: true,
            thresholds: true,
            voicemails: true,
        }
    }
}

/// Which releases this computer follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Stable,
    /// Release candidates too (and every stable release).
    Beta,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Beta => "beta",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateSettings {
    pub channel: Channel,
    /// Look for a new version at start and every few hours, and say so once.
    pub automatic: bool,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        UpdateSettings {
            channel: Channel::Stable,
            automatic: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// None until the first-run question is answered.
    pub mode: Option<Mode>,
    pub receiver: ReceiverSettings,
    pub remote: RemoteSettings,
    pub notifications: NotificationSettings,
    /// Closing the window keeps the app running in the tray.
    pub close_to_tray: bool,
    /// Start at login; None: on in receiver mode, off in remote mode.
    pub autostart: Option<bool>,
    /// The first close to the tray has been explained (once per install).
    pub tray_explained: bool,
    pub updates: UpdateSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: None,
            receiver: ReceiverSettings::default(),
            remote: RemoteSettings::default(),
            notifications: NotificationSettings::default(),
            close_to_tray: true,
            autostart: None,
            tray_explained: false,
            updates: UpdateSettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid settings ({source}); fix or delete it")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot save {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    pub fn file(config_dir: &Path) -> PathBuf {
        config_dir.join("settings.json")
    }

    /// A missing file is a first run; a corrupt one is an error the user sees,
    /// not a silent reset of their choices.
    pub fn load(config_dir: &Path) -> Result<Settings, SettingsError> {
        let path = Settings::file(config_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| SettingsError::Parse { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(source) => Err(SettingsError::Read { path, source }),
        }
    }

    /// Written to a temporary file and renamed, so a crash never leaves half a file.
    pub fn save(&self, config_dir: &Path) -> Result<(), SettingsError> {
        let path = Settings::file(config_dir);
        let write = |source| SettingsError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(config_dir).map_err(write)?;
        let tmp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(self).map_err(|e| write(std::io::Error::other(e)))?;
        std::fs::write(&tmp, body).map_err(write)?;
        std::fs::rename(&tmp, &path).map_err(write)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.receiver.port == 0 {
            return Err(SettingsError::Invalid(
                "receiver.port: choose a port between 1 and 65535".into(),
            ));
        }
        if self.mode == Some(Mode::Remote) {
            let url = self.remote.url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(SettingsError::Invalid(
                    "remote.url: the receiver's address starts with http:// or https://".into(),
                ));
            }
        }
        Ok(())
    }
}

/// The variables that stand in for the first-run answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    pub mode: Option<Mode>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub admin_token: Option<String>,
    pub remote_url: Option<String>,
    pub remote_token: Option<String>,
}

impl EnvOverrides {
    pub fn from_env() -> Result<EnvOverrides, SettingsError> {
        EnvOverrides::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<EnvOverrides, SettingsError> {
        let mode = match get("CALLBOARD_MODE") {
            None => None,
            Some(m) => Some(Mode::parse(&m).ok_or_else(|| {
                SettingsError::Invalid(format!(
                    "CALLBOARD_MODE is `{m}`: use `receiver` or `remote`"
                ))
            })?),
        };
        let o = EnvOverrides {
            mode,
            data_dir: get("CALLBOARD_DATA_DIR").map(PathBuf::from),
            listen: get("CALLBOARD_LISTEN"),
            admin_token: get("CALLBOARD_ADMIN_TOKEN"),
            remote_url: get("CALLBOARD_REMOTE_URL"),
            remote_token: get("CALLBOARD_REMOTE_TOKEN"),
        };
        if o.mode == Some(Mode::Remote) && o.remote_url.is_none() {
            return Err(SettingsError::Invalid(
                "CALLBOARD_MODE=remote needs CALLBOARD_REMOTE_URL".into(),
            ));
        }
        Ok(o)
    }
}

/// What to start, decided from the settings and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Ask the first-run question.
    FirstRun,
    Receiver {
        data_dir: PathBuf,
        listen: String,
        public_url: Option<String>,
        admin_token: Option<String>,
    },
    Remote {
        url: String,
        data_dir: PathBuf,
        /// From `CALLBOARD_REMOTE_TOKEN`; otherwise the vault holds it.
        token: Option<String>,
    },
}

/// The environment wins over the settings file; `default_data_dir` is the
/// platform's app-data directory.
pub fn decide(settings: &Settings, env: &EnvOverrides, default_data_dir: &Path) -> Launch {
    let data_dir = env
        .data_dir
        .clone()
        .unwrap_or_else(|| default_data_dir.to_path_buf());
    match env.mode.or(settings.mode) {
        None => Launch::FirstRun,
        Some(Mode::Receiver) => Launch::Receiver {
            listen: env.listen.clone().unwrap_or_else(|| {
                let host = if settings.receiver.lan {
                    "0.0.0.0"
                } else {
                    "127.0.0.1"
                };
                format!("{host}:{}", settings.receiver.port)
            }),
            data_dir,
            public_url: settings.receiver.public_url.clone(),
            admin_token: env.admin_token.clone(),
        },
        Some(Mode::Remote) => Launch::Remote {
            url: env
                .remote_url
                .clone()
                .unwrap_or_else(|| settings.remote.url.clone()),
            data_dir: data_dir.join("replica"),
            token: env.remote_token.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<EnvOverrides, SettingsError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvOverrides::from_lookup(move |k| {
            pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn a_missing_file_is_a_first_run_and_choices_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(dir.path()).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(
            decide(&s, &EnvOverrides::default(), dir.path()),
            Launch::FirstRun
        );

        let mut s = s;
        s.mode = Some(Mode::Receiver);
        s.receiver.lan = false;
        s.receiver.port = 9911;
        s.notifications.muted = vec!["sales".into()];
        s.save(dir.path()).unwrap();
        let again = Settings::load(dir.path()).unwrap();
        assert_eq!(again, s);
        assert_eq!(
            decide(&again, &EnvOverrides::default(), Path::new("/data")),
            Launch::Receiver {
                data_dir: PathBuf::from("/data"),
                listen: "127.0.0.1:9911".into(),
                public_url: None,
                admin_token: None,
            }
        );
    }

    #[test]
    fn a_corrupt_file_is_reported_not_reset() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Settings::file(dir.path()), b"{ not json").unwrap();
        let e = Settings::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("settings.json"), "{e}");
    }

    #[test]
    fn unknown_and_missing_fields_take_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            Settings::file(dir.path()),
            br#"{"mode":"remote","remote":{"url":"http://office:8787"},"future":1}"#,
        )
        .unwrap();
        let s = Settings::load(dir.path()).unwrap();
        assert_eq!(s.mode, Some(Mode::Remote));
        assert_eq!(s.remote.url, "http://office:8787");
        assert!(s.close_to_tray);
        assert_eq!(s.receiver.port, 8787);
    }

    #[test]
    fn the_environment_skips_the_first_run_question() {
        let e = env(&[
            ("CALLBOARD_MODE", "receiver"),
            ("CALLBOARD_DATA_DIR", "/tmp/cb"),
            ("CALLBOARD_LISTEN", "127.0.0.1:0"),
            ("CALLBOARD_ADMIN_TOKEN", "t0k"),
        ])
        .unwrap();
        assert_eq!(
            decide(&Settings::default(), &e, Path::new("/data")),
            Launch::Receiver {
                data_dir: PathBuf::from("/tmp/cb"),
                listen: "127.0.0.1:0".into(),
                public_url: None,
                admin_token: Some("t0k".into()),
            }
        );
        let e = env(&[
            ("CALLBOARD_MODE", "Remote"),
            ("CALLBOARD_REMOTE_URL", "http://office:8787"),
            ("CALLBOARD_REMOTE_TOKEN", "cbt_x"),
        ])
        .unwrap();
        let saved = Settings {
            mode: Some(Mode::Receiver),
            ..Default::default()
        };
        assert_eq!(
            decide(&saved, &e, Path::new("/data")),
            Launch::Remote {
                url: "http://office:8787".into(),
                data_dir: PathBuf::from("/data/replica"),
                token: Some("cbt_x".into()),
            }
        );
    }

    #[test]
    fn bad_environment_values_say_what_is_wrong() {
        let e = env(&[("CALLBOARD_MODE", "server")]).unwrap_err();
        assert!(e.to_string().contains("CALLBOARD_MODE"), "{e}");
        let e = env(&[("CALLBOARD_MODE", "remote")]).unwrap_err();
        assert!(e.to_string().contains("CALLBOARD_REMOTE_URL"), "{e}");
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut s = Settings::default();
        s.receiver.port = 0;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("receiver.port"));
        let mut s = Settings {
            mode: Some(Mode::Remote),
            ..Default::default()
        };
        s.remote.url = "office:8787".into();
        assert!(s.validate().unwrap_err().to_string().contains("remote.url"));
    }
}
