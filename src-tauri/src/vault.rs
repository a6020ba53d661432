//! Secrets (the remote token, the local administrator's password) in the OS
//! keyring: Windows Credential Manager, macOS Keychain, Secret Service on
//! Linux. Where no keyring answers, a file only this user can read — never
//! the settings file — and the app says so.

use callboard_core::secrets::SecretStore;
use serde::Serialize;
use std::path::Path;

pub const SERVICE: &str = "callboard";
pub const ADMIN_PASSWORD: &str = "admin-password";
pub const REMOTE_TOKEN: &str = "remote-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Keyring,
    /// No keyring backend on this machine: an owner-only file.
    File,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the keyring refused `{name}`: {message}")]
    Keyring { name: String, message: String },
    #[error("the secrets file: {0}")]
    File(String),
}

/// Where secrets go: the keyring when it works, else the fallback file.
pub struct Vault {
    keyring: Option<Box<dyn Keyring>>,
    file: SecretStore,
    dir: std::path::PathBuf,
}

/// The seam between the vault and the platform's keyring (tests swap it).
pub trait Keyring: Send + Sync {
    fn set(&self, name: &str, value: &str) -> Result<(), String>;
    fn get(&self, name: &str) -> Result<Option<String>, String>;
    fn delete(&self, name: &str) -> Result<(), String>;
}

struct OsKeyring;

impl Keyring for OsKeyring {
    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        keyring::Entry::new(SERVICE, name)
            .and_then(|e| e.set_password(value))
            .map_err(|e| e.to_string())
    }
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        match keyring::Entry::new(SERVICE, name).and_then(|e| e.get_password()) {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
    fn delete(&self, name: &str) -> Result<(), String> {
        match keyring::Entry::new(SERVICE, name).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

const PROBE: &str = "probe";

impl Vault {
    /// Probes the OS keyring once (a write and a read-back): a keyring that
    /// is present but locked or broken counts as absent.
    pub fn open(config_dir: &Path) -> Vault {
        Vault::with_keyring(config_dir, Box::new(OsKeyring))
    }

    pub fn with_keyring(config_dir: &Path, keyring: Box<dyn Keyring>) -> Vault {
        let works = keyring
            .set(PROBE, "ok")
            .and_then(|()| keyring.get(PROBE))
            .map(|v| v.as_deref() == Some("ok"));
        let keyring = match works {
            Ok(true) => Some(keyring),
            Ok(false) => {
                tracing::warn!("the OS keyring did not return what was stored: using an owner-only file for secrets");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "no OS keyring: using an owner-only file for secrets");
                None
            }
        };
        Vault {
            keyring,
            file: SecretStore::in_dir(config_dir),
            dir: config_dir.to_path_buf(),
        }
    }

    /// No keyring at all: the owner-only file (tests, and machines known to lack one).
    pub fn file_only(config_dir: &Path) -> Vault {
        Vault {
            keyring: None,
            file: SecretStore::in_dir(config_dir),
            dir: config_dir.to_path_buf(),
        }
    }

    pub fn backend(&self) -> Backend {
        if self.keyring.is_some() {
            Backend::Keyring
        } else {
            Backend::File
        }
    }

    pub fn set(&self, name: &str, value: &str) -> Result<(), VaultError> {
        match &self.keyring {
            Some(k) => k.set(name, value).map_err(|message| VaultError::Keyring {
                name: name.into(),
                message,
            }),
            None => std::fs::create_dir_all(&self.dir)
                .map_err(|e| VaultError::File(format!("{}: {e}", self.dir.display())))
                .and_then(|()| {
                    self.file
                        .set(name, Some(value))
                        .map_err(|e| VaultError::File(e.to_string()))
                }),
        }
    }

    pub fn get(&self, name: &str) -> Result<Option<String>, VaultError> {
        match &self.keyring {
            Some(k) => k.get(name).map_err(|message| VaultError::Keyring {
                name: name.into(),
                message,
            }),
            None => self
                .file
                .get(name)
                .map_err(|e| VaultError::File(e.to_string())),
        }
    }

    pub fn delete(&self, name: &str) -> Result<(), VaultError> {
        match &self.keyring {
            Some(k) => k.delete(name).map_err(|message| VaultError::Keyring {
                name: name.into(),
                message,
            }),
            None => self
                .file
                .set(name, None)
                .map_err(|e| VaultError::File(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemoryKeyring(Mutex<HashMap<String, String>>);

    impl Keyring for MemoryKeyring {
        fn set(&self, name: &str, value: &str) -> Result<(), String> {
            self.0.lock().unwrap().insert(name.into(), value.into());
            Ok(())
        }
        fn get(&self, name: &str) -> Result<Option<String>, String> {
            Ok(self.0.lock().unwrap().get(name).cloned())
        }
        fn delete(&self, name: &str) -> Result<(), String> {
            self.0.lock().unwrap().remove(name);
            Ok(())
        }
    }

    struct NoKeyring;

    impl Keyring for NoKeyring {
        fn set(&self, _: &str, _: &str) -> Result<(), String> {
            Err("org.freedesktop.secrets was not provided".into())
        }
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            Err("org.freedesktop.secrets was not provided".into())
        }
        fn delete(&self, _: &str) -> Result<(), String> {
            Err("org.freedesktop.secrets was not provided".into())
        }
    }

    #[test]
    fn a_working_keyring_holds_the_secrets_and_no_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::with_keyring(dir.path(), Box::<MemoryKeyring>::default());
        assert_eq!(v.backend(), Backend::Keyring);
        v.set(REMOTE_TOKEN, "cbt_secret").unwrap();
        assert_eq!(v.get(REMOTE_TOKEN).unwrap().as_deref(), Some("cbt_secret"));
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(files.is_empty(), "nothing on disk: {files:?}");
        v.delete(REMOTE_TOKEN).unwrap();
        assert_eq!(v.get(REMOTE_TOKEN).unwrap(), None);
    }

    #[test]
    fn without_a_keyring_secrets_go_to_an_owner_only_file_not_the_settings() {
        let root = tempfile::tempdir().unwrap();
        // A first start: the config directory does not exist yet.
        let dir = &root.path().join("config");
        let v = Vault::with_keyring(dir, Box::new(NoKeyring));
        assert_eq!(v.backend(), Backend::File);
        v.set(ADMIN_PASSWORD, "pw-123").unwrap();
        assert_eq!(v.get(ADMIN_PASSWORD).unwrap().as_deref(), Some("pw-123"));
        assert!(!crate::settings::Settings::file(dir).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = std::fs::read_dir(dir).unwrap().next().unwrap().unwrap();
            let mode = f.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{:?}", f.path());
        }
    }
}
