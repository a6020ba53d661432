//! The receiver's secret store: credentials Callboard uses to call other
//! services (the Convoso API token), kept out of the database — so backups,
//! replicas and exports of `callboard.db` never carry them — in
//! `secrets.json` beside it, readable by the owner only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret store {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("secret store {0} is not a JSON object of strings")]
    Corrupt(String),
}

pub struct SecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SecretStore {
    /// The store of the data directory `dir` (the file is created on the
    /// first `set`).
    pub fn in_dir(dir: &Path) -> SecretStore {
        SecretStore {
            path: dir.join("secrets.json"),
            lock: Mutex::new(()),
        }
    }

    fn io(&self, source: std::io::Error) -> SecretError {
        SecretError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn read_all(&self) -> Result<BTreeMap<String, String>, SecretError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| SecretError::Corrupt(self.path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    pub fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read_all()?.get(name).cloned())
    }

    /// Several secrets in one read of the file (a list of dialers).
    pub fn get_many(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, Option<String>>, SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let all = self.read_all()?;
        Ok(names
            .iter()
            .map(|n| (n.clone(), all.get(n).cloned()))
            .collect())
    }

    /// Sets (or with `None` removes) a secret; the file is replaced
    /// atomically and is readable by its owner only.
    pub fn set(&self, name: &str, value: Option<&str>) -> Result<(), SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = self.read_all()?;
        match value {
            Some(v) => all.insert(name.to_string(), v.to_string()),
            None => all.remove(name),
        };
        let text = serde_json::to_vec_pretty(&all)
            .map_err(|_| SecretError::Corrupt(self.path.display().to_string()))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| self.io(e))?;
        f.write_all(&text).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_secrets_come_from_one_read_and_absent_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let s = SecretStore::in_dir(dir.path());
        s.set("dialer:a", Some("1")).unwrap();
        s.set("dialer:b", Some("2")).unwrap();
        let got = s
            .get_many(&["dialer:a".into(), "dialer:c".into(), "dialer:b".into()])
            .unwrap();
        assert_eq!(got.get("dialer:a"), Some(&Some("1".to_string())));
        assert_eq!(got.get("dialer:b"), Some(&Some("2".to_string())));
        assert_eq!(got.get("dialer:c"), Some(&None));
        std::fs::write(dir.path().join("secrets.json"), "not json").unwrap();
        assert!(matches!(
            s.get_many(&["dialer:a".into()]),
            Err(SecretError::Corrupt(_))
        ));
    }

    #[test]
    fn secrets_round_trip_in_an_owner_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = SecretStore::in_dir(dir.path());
        assert_eq!(s.get("a").unwrap(), None);
        s.set("a", Some("one")).unwrap();
        s.set("b", Some("two")).unwrap();
        assert_eq!(s.get("a").unwrap().as_deref(), Some("one"));
        s.set("a", None).unwrap();
        assert_eq!(s.get("a").unwrap(), None);
        assert_eq!(
            SecretStore::in_dir(dir.path()).get("b").unwrap().as_deref(),
            Some("two")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read it");
        }
        std::fs::write(dir.path().join("secrets.json"), b"[1]").unwrap();
        assert!(s.get("b").is_err());
    }
}
