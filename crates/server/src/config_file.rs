//! `--config FILE` (or `CALLBOARD_CONFIG`): every flag of a subcommand as a
//! TOML key (its long name with `_` or `-`), with the precedence
//! flag > environment variable > file > default. Unknown keys are an error
//! naming the key.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("unknown key `{key}` in the configuration file {path}")]
    UnknownKey { path: PathBuf, key: String },
    #[error("the key `{key}` in {path} cannot take {found}: use a string, number, boolean or list of them")]
    BadValue {
        path: PathBuf,
        key: String,
        found: String,
    },
}

/// A parsed configuration file: its keys in file order.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub path: PathBuf,
    pub table: toml::Table,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?;
        Ok(FileConfig {
            path: path.to_path_buf(),
            table,
        })
    }

    /// The string value of `key` (`log`, `data_dir`, …), if set.
    pub fn string(&self, key: &str) -> Option<String> {
        self.table
            .get(key)
            .or_else(|| self.table.get(&key.replace('_', "-")))
            .and_then(scalar)
    }
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn norm(s: &str) -> String {
    s.replace('-', "_")
}

/// Every key some subcommand of `root` takes (for "unknown key" errors that
/// tolerate keys meant for another subcommand of the same file).
fn all_keys(root: &Command) -> Vec<String> {
    let mut keys = Vec::new();
    for sub in root.get_subcommands() {
        for a in sub.get_arguments() {
            keys.push(norm(a.get_id().as_str()));
            if let Some(l) = a.get_long() {
                keys.push(norm(l));
            }
        }
    }
    keys
}

/// Every key of `file` is one some subcommand takes.
pub fn check_keys(root: &Command, file: &FileConfig) -> Result<(), ConfigError> {
    let known = all_keys(root);
    for key in file.table.keys() {
        let k = norm(key);
        if k == "config" || !known.contains(&k) {
            return Err(ConfigError::UnknownKey {
                path: file.path.clone(),
                key: key.clone(),
            });
        }
    }
    Ok(())
}

/// Where the file is: `--config` given to the subcommand or `CALLBOARD_CONFIG`.
pub fn config_path(sub: &ArgMatches) -> Option<PathBuf> {
    sub.try_get_one::<PathBuf>("config").ok().flatten().cloned()
}

/// The command line with the file's values added for every argument neither
/// the command line nor the environment set. Parse the result again.
pub fn merge(
    root: &Command,
    args: Vec<OsString>,
    matches: &ArgMatches,
) -> Result<(Vec<OsString>, Option<FileConfig>), ConfigError> {
    let Some((name, sub)) = matches.subcommand() else {
        return Ok((args, None));
    };
    let Some(path) = config_path(sub) else {
        return Ok((args, None));
    };
    let file = FileConfig::load(&path)?;
    let Some(cmd) = root.find_subcommand(name) else {
        return Ok((args, Some(file)));
    };
    check_keys(root, &file)?;
    let mut extra: Vec<OsString> = Vec::new();
    for (key, value) in &file.table {
        let k = norm(key);
        let Some(arg) = cmd
            .get_arguments()
            .find(|a| norm(a.get_id().as_str()) == k || a.get_long().map(norm) == Some(k.clone()))
        else {
            // A key for another subcommand (e.g. `serve`'s, read by `backup`).
            continue;
        };
        let id = arg.get_id().as_str();
        if matches!(
            sub.value_source(id),
            Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable)
        ) {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        let bad = || ConfigError::BadValue {
            path: path.clone(),
            key: key.clone(),
            found: value.type_str().to_string(),
        };
        let takes_value = arg.get_action().takes_values();
        match value {
            toml::Value::Array(items) => {
                for item in items {
                    let v = scalar(item).ok_or_else(bad)?;
                    extra.push(format!("--{long}").into());
                    extra.push(v.into());
                }
            }
            toml::Value::Boolean(b) if !takes_value => {
                if *b {
                    extra.push(format!("--{long}").into());
                }
            }
            v => {
                let v = scalar(v).ok_or_else(bad)?;
                extra.push(format!("--{long}={v}").into());
            }
        }
    }
    let mut args = args;
    args.extend(extra);
    Ok((args, Some(file)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn cli() -> Command {
        Command::new("callboard").subcommand(
            Command::new("serve")
                .arg(
                    Arg::new("config")
                        .long("config")
                        .env("TEST_CB_CONFIG")
                        .value_parser(clap::value_parser!(PathBuf)),
                )
                .arg(
                    Arg::new("public_url")
                        .long("public-url")
                        .env("TEST_CB_PUBLIC_URL"),
                )
                .arg(
                    Arg::new("allowed_origins")
                        .long("allow-origin")
                        .action(ArgAction::Append),
                )
                .arg(
                    Arg::new("max_body_bytes")
                        .long("max-body-bytes")
                        .default_value("10"),
                ),
        )
    }

    fn run(file: &str, args: &[&str]) -> Result<ArgMatches, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv: Vec<OsString> = vec!["callboard".into(), "serve".into()];
        argv.push(format!("--config={}", path.display()).into());
        argv.extend(args.iter().map(OsString::from));
        let root = cli();
        let m = root.clone().try_get_matches_from(argv.clone()).unwrap();
        let (argv, _) = merge(&root, argv, &m)?;
        Ok(root.try_get_matches_from(argv).unwrap())
    }

    fn sub(m: &ArgMatches) -> &ArgMatches {
        m.subcommand().unwrap().1
    }

    #[test]
    fn the_file_fills_what_flags_leave_and_flags_win() {
        let m = run(
            "public_url = \"https://file\"\nmax_body_bytes = 99\nallow_origin = [\"a\", \"b\"]\n",
            &[],
        )
        .unwrap();
        let s = sub(&m);
        assert_eq!(s.get_one::<String>("public_url").unwrap(), "https://file");
        assert_eq!(s.get_one::<String>("max_body_bytes").unwrap(), "99");
        let o: Vec<&String> = s.get_many("allowed_origins").unwrap().collect();
        assert_eq!(o, ["a", "b"]);

        let m = run(
            "public-url = \"https://file\"",
            &["--public-url", "https://flag"],
        )
        .unwrap();
        assert_eq!(
            sub(&m).get_one::<String>("public_url").unwrap(),
            "https://flag"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        match run("pubic_url = \"x\"", &[]) {
            Err(ConfigError::UnknownKey { key, .. }) => assert_eq!(key, "pubic_url"),
            other => panic!("{other:?}"),
        }
        match run("public_url = { a = 1 }", &[]) {
            Err(ConfigError::BadValue { key, .. }) => assert_eq!(key, "public_url"),
            other => panic!("{other:?}"),
        }
        match run("config = \"other.toml\"", &[]) {
            Err(ConfigError::UnknownKey { key, .. }) => assert_eq!(key, "config"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(run("x = ", &[]), Err(ConfigError::Parse { .. })));
    }
}
