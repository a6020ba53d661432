//! `callboard`: the headless receiver.

use anyhow::Context;
use callboard_core::{time, Store};
use callboard_server::ReceiverOptions;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod progress;

#[derive(Parser)]
#[command(
    name = "callboard",
    version,
    about = "Call-center supervisor console: webhook receiver and console API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

// Parsed once at start and taken apart at once: the size of the largest
// variant costs nothing, and boxing it would split clap's flag list in two.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the receiver: webhooks, console API and event stream.
    Serve {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Where callboard.db lives (default: the platform's data directory).
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Address to listen on; `127.0.0.1:8787` keeps it on this computer.
        #[arg(long, env = "CALLBOARD_LISTEN", default_value = "0.0.0.0:8787")]
        listen: String,
        /// Base URL the IVR platforms reach this receiver at, for the webhook URLs shown.
        #[arg(long, env = "CALLBOARD_PUBLIC_URL")]
        public_url: Option<String>,
        /// Largest webhook body accepted, in bytes.
        #[arg(long, env = "CALLBOARD_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
        max_body_bytes: usize,
        /// Days of event log kept for clients resuming with `since`.
        #[arg(long, env = "CALLBOARD_EVENT_RETENTION_DAYS", default_value_t = 7)]
        event_retention_days: i64,
        #[arg(long, env = "CALLBOARD_LOG_FORMAT", value_enum, default_value = "text")]
        log_format: LogFormat,
        /// What to log: a level (`debug`) or a filter (`info,callboard_server=debug`);
        /// changes live on SIGHUP when it comes from the configuration file.
        #[arg(long, env = "CALLBOARD_LOG", default_value = DEFAULT_LOG)]
        log: String,
        /// A bearer token with the administrator role, for automation.
        #[arg(long, env = "CALLBOARD_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// A browser origin allowed to call the API cross-origin (repeat, or
        /// comma-separate in the variable); never `*`.
        #[arg(
            long = "allow-origin",
            env = "CALLBOARD_ALLOWED_ORIGINS",
            value_delimiter = ','
        )]
        allowed_origins: Vec<String>,
        /// Milliseconds a client has to send a request's head (request line
        /// and headers); an idle keep-alive connection is closed after it too.
        #[arg(long, env = "CALLBOARD_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
        header_timeout_ms: u64,
        /// Milliseconds a client has to send a request's body, on every route.
        #[arg(long, env = "CALLBOARD_BODY_TIMEOUT_MS", default_value_t = 30_000)]
        body_timeout_ms: u64,
        /// Connections open at once (lowered to fit the descriptor limit).
        #[arg(long, env = "CALLBOARD_MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// Of those, kept for webhooks: near the cap, console requests get 503.
        #[arg(long, env = "CALLBOARD_RESERVED_CONNECTIONS", default_value_t = 128)]
        reserved_connections: usize,
        /// Largest request head, in bytes (431 beyond).
        #[arg(long, env = "CALLBOARD_MAX_HEADER_BYTES", default_value_t = 64 * 1024)]
        max_header_bytes: usize,
        /// Seconds an event may be stamped ahead of its receipt (clock skew);
        /// later stamps are clamped to the time of receipt, with a warning.
        #[arg(long, env = "CALLBOARD_MAX_FUTURE_SKEW_SECS", default_value_t = 300)]
        max_future_skew_secs: i64,
        /// `/readyz` turns red (503) below this much free disk space in the
        /// data directory, in MiB.
        #[arg(long, env = "CALLBOARD_DISK_FLOOR_MB", default_value_t = 64)]
        disk_floor_mb: u64,
        /// Turns on Prometheus `/metrics` for scrapers sending this bearer token.
        #[arg(long, env = "CALLBOARD_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Take a snapshot of the database this often (`30m`, `6h`, `1d`, or
        /// seconds), into `--backup-dir`; off when unset.
        #[arg(long, env = "CALLBOARD_BACKUP_EVERY", value_parser = parse_duration)]
        backup_every: Option<std::time::Duration>,
        /// Scheduled snapshots kept (the oldest are removed).
        #[arg(long, env = "CALLBOARD_BACKUP_KEEP", default_value_t = 7)]
        backup_keep: usize,
        /// Where scheduled snapshots go (default: `backups` in the data directory).
        #[arg(long, env = "CALLBOARD_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// A reverse proxy (an address or a network, repeat or comma-separate)
        /// whose `X-Forwarded-For/Proto/Host` are believed: client addresses
        /// for the sign-in limits, https URLs, the cookie's `Secure` flag.
        /// From anyone else those headers are dropped.
        #[arg(
            long = "trusted-proxy",
            env = "CALLBOARD_TRUSTED_PROXIES",
            value_delimiter = ',',
            value_parser = callboard_server::forwarded::parse_proxy
        )]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// A console sign-in (the browser's cookie session) ends after this
        /// long without use (`30m`, `1h`, or seconds).
        #[arg(long, env = "CALLBOARD_SESSION_IDLE", value_parser = parse_duration, default_value = "1h")]
        session_idle: std::time::Duration,
        /// …and this long after signing in, whatever happens (a shift).
        #[arg(long, env = "CALLBOARD_SESSION_MAX", value_parser = parse_duration, default_value = "12h")]
        session_max: std::time::Duration,
        /// Run as one of several receivers on this PostgreSQL
        /// (`postgres://user:password@host/db`); without it, SQLite alone.
        #[arg(long, env = "CALLBOARD_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Serve HTTPS (and `wss://`) with this PEM certificate chain (leaf
        /// first); re-read when the file changes and on SIGHUP.
        #[arg(long, env = "CALLBOARD_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's PEM private key (PKCS#8, PKCS#1 or SEC1).
        #[arg(long, env = "CALLBOARD_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Copy this data directory's database into an empty PostgreSQL, the
    /// first snapshot of a cluster (`serve --database-url`), and verify every
    /// table's row count. Stop the receiver first.
    MigrateStorage {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// The data directory to copy (holding callboard.db).
        #[arg(long)]
        from: Option<PathBuf>,
        /// The PostgreSQL to copy into.
        #[arg(long, env = "CALLBOARD_DATABASE_URL", hide_env_values = true)]
        to: String,
        /// Replace a cluster the target already holds (its data is deleted).
        #[arg(long)]
        force: bool,
        /// Instead of copying: bring the cluster on `--to` to this build's
        /// schema (every instance stopped).
        #[arg(long, conflicts_with_all = ["from", "force"])]
        upgrade: bool,
    },
    /// Remote mode: mirror a receiver in a local cache, serve the same
    /// console API from it, forward writes (queued while offline).
    Connect {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// The receiver's base URL, e.g. http://192.168.1.10:8787.
        #[arg(long)]
        remote: String,
        /// Address of the local API.
        #[arg(long, env = "CALLBOARD_LISTEN", default_value = "127.0.0.1:8788")]
        listen: String,
        /// Where the cache (callboard.db) lives.
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// A session token on the receiver; the local API accepts the same one.
        #[arg(long, env = "CALLBOARD_REMOTE_TOKEN", hide_env_values = true)]
        remote_token: String,
        /// A PEM file of CA certificates to trust for an `https://` receiver
        /// (a private CA or a self-signed certificate), besides the public roots.
        #[arg(long, env = "CALLBOARD_REMOTE_CA")]
        remote_ca: Option<PathBuf>,
        #[arg(
            long = "allow-origin",
            env = "CALLBOARD_ALLOWED_ORIGINS",
            value_delimiter = ','
        )]
        allowed_origins: Vec<String>,
        /// A console sign-in on this replica (the browser's cookie session)
        /// ends after this long without use (`30m`, `1h`, or seconds).
        #[arg(long, env = "CALLBOARD_SESSION_IDLE", value_parser = parse_duration, default_value = "1h")]
        session_idle: std::time::Duration,
        /// …and this long after signing in, whatever happens (a shift).
        #[arg(long, env = "CALLBOARD_SESSION_MAX", value_parser = parse_duration, default_value = "12h")]
        session_max: std::time::Duration,
    },
    /// Read a Convoso provider's call records from its API over a window
    /// (the poller configured with `PUT /api/providers/{slug}/connector`),
    /// with a progress bar; safe while the receiver runs.
    Backfill {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The provider's slug.
        #[arg(long)]
        provider: String,
        /// Start of the window: RFC 3339 or YYYY-MM-DD (UTC).
        #[arg(long)]
        from: String,
        /// End of the window (default now).
        #[arg(long)]
        to: Option<String>,
    },
    /// Write a consistent copy of the database to a new file; safe while the
    /// receiver runs.
    Backup {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The new file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the database with a backup, after checking it (SQLite
    /// integrity check, a schema this build knows). Stop the receiver first;
    /// the replaced database is kept as `callboard.db.before-restore-<time>`.
    Restore {
        /// A TOML file of these options (keys: the long flag names, e.g.
        /// `data_dir`); flags and variables win over it.
        #[arg(long, env = "CALLBOARD_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The backup file to restore.
        file: PathBuf,
        /// Restore even though the database looks in use (after a crash).
        #[arg(long)]
        force: bool,
    },
    /// Print the OpenAPI document of the console API (what `/api/openapi.json` serves).
    Openapi,
}

/// Logs go to standard error: coloured only on a terminal (a redirected log,
/// journald or a file gets plain lines), or JSON with `--log-format json`.
fn init_logs(format: LogFormat, filter: Option<&str>) -> Option<LogHandle> {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = match filter {
        Some(f) => tracing_subscriber::EnvFilter::try_new(f).ok(),
        None => tracing_subscriber::EnvFilter::try_from_env("CALLBOARD_LOG").ok(),
    }
    .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let ansi = std::io::stderr().is_terminal();
    let (text, json) = match format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(std::io::stderr),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_ansi(false)
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init()
        .ok()
        .map(|_| handle)
}

const DEFAULT_LOG: &str = "info,tower_http=warn";

type LogHandle =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// `systemctl reload` (SIGHUP): re-reads the configuration file and applies
/// what can change live (the log filter); says which changed keys wait for
/// a restart. Without a handler SIGHUP would stop the process.
#[cfg(unix)]
fn reload_on_hup(
    config: Option<PathBuf>,
    log_fixed: bool,
    logs: Option<LogHandle>,
    tls: Option<std::sync::Arc<callboard_server::tls::Certs>>,
) {
    let mut before = config
        .as_deref()
        .and_then(|p| callboard_server::config_file::FileConfig::load(p).ok());
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP: reload needs a restart");
            return;
        };
        while hup.recv().await.is_some() {
            if let Some(certs) = &tls {
                callboard_server::tls::reload_and_log(certs.clone(), true).await;
            }
            let Some(path) = &config else {
                tracing::info!("SIGHUP: no configuration file (--config) to re-read");
                continue;
            };
            let file = match callboard_server::config_file::FileConfig::load(path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: configuration not reloaded; the running one stays");
                    continue;
                }
            };
            if let Err(e) = callboard_server::config_file::check_keys(&Cli::command(), &file) {
                tracing::error!(error = %e, "SIGHUP: configuration not reloaded; the running one stays");
                continue;
            }
            let mut applied = Vec::new();
            if log_fixed {
                tracing::info!("SIGHUP: the log filter is set by --log or CALLBOARD_LOG, which win over the file");
            } else if let Some(h) = &logs {
                let want = file
                    .string("log")
                    .unwrap_or_else(|| DEFAULT_LOG.to_string());
                match tracing_subscriber::EnvFilter::try_new(&want) {
                    Ok(f) => {
                        if h.reload(f).is_ok() {
                            applied.push(format!("log = {want}"));
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "SIGHUP: `log` is not a valid filter"),
                }
            }
            let old = before.as_ref().map(|b| b.table.clone()).unwrap_or_default();
            let restart: Vec<&String> = file
                .table
                .iter()
                .filter(|(k, v)| k.as_str() != "log" && old.get(k.as_str()) != Some(v))
                .map(|(k, _)| k)
                .chain(old.keys().filter(|k| !file.table.contains_key(k.as_str())))
                .collect();
            if !restart.is_empty() {
                tracing::warn!(keys = ?restart, "SIGHUP: these keys changed and take effect at the next start");
            }
            tracing::info!(applied = ?applied, file = %path.display(), "configuration reloaded");
            before = Some(file);
        }
    });
}

#[cfg(not(unix))]
fn reload_on_hup(
    _config: Option<PathBuf>,
    _log_fixed: bool,
    _logs: Option<LogHandle>,
    _tls: Option<std::sync::Arc<callboard_server::tls::Certs>>,
) {
}

/// `90`, `90s`, `30m`, `6h`, `1d`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 90s, 30m, 6h, 1d)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{s}`: the unit is s, m, h or d")),
    };
    if secs == 0 {
        return Err("the interval must be above zero".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// `--backup-every`: a consistent snapshot every interval, the newest `keep` kept.
async fn scheduled_backups(db: PathBuf, dir: PathBuf, every: std::time::Duration, keep: usize) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (d, o) = (db.clone(), dir.clone());
        match tokio::task::spawn_blocking(move || {
            callboard_core::store::backup::scheduled(&d, &o, keep)
        })
        .await
        {
            Ok(Ok(file)) => tracing::info!(file = %file.display(), "scheduled snapshot written"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, dir = %dir.display(), "scheduled snapshot failed")
            }
            Err(e) => tracing::error!(error = %e, "scheduled snapshot task failed"),
        }
    }
}

fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("callboard"))
        .unwrap_or_else(|| PathBuf::from("callboard-data"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    callboard_server::memory::tune();
    // The configuration file fills what flags and variables leave unset.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let root = Cli::command();
    // Whether `--log`/`CALLBOARD_LOG` set the filter (then the file's `log`
    // never applies, not even on reload): decided before the file is merged.
    let mut log_fixed = false;
    let args = match root.clone().ignore_errors(true).try_get_matches_from(&args) {
        Ok(m) => {
            log_fixed = m.subcommand().is_some_and(|(_, m)| {
                matches!(
                    m.try_get_raw("log")
                        .ok()
                        .and_then(|_| m.value_source("log")),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                )
            });
            callboard_server::config_file::merge(&root, args, &m)?.0
        }
        Err(_) => args,
    };
    let matches = root.get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches)?;
    match cli.command {
        Command::Serve {
            config,
            log,
            admin_token,
            data_dir,
            listen,
            public_url,
            max_body_bytes,
            event_retention_days,
            log_format,
            allowed_origins,
            header_timeout_ms,
            body_timeout_ms,
            max_connections,
            reserved_connections,
            max_header_bytes,
            max_future_skew_secs,
            disk_floor_mb,
            metrics_token,
            backup_every,
            backup_keep,
            backup_dir,
            session_idle,
            session_max,
            trusted_proxies,
            database_url,
            tls_cert,
            tls_key,
        } => {
            let logs = init_logs(log_format, Some(&log));
            if let Some(c) = &config {
                tracing::info!(file = %c.display(), "configuration file read");
            }
            let nofile = callboard_server::conn::raise_descriptor_limit();
            let mut opts = ReceiverOptions::new(data_dir.unwrap_or_else(default_data_dir), listen);
            opts.public_url = public_url;
            opts.max_body_bytes = max_body_bytes;
            opts.event_retention_days = event_retention_days;
            opts.admin_token = admin_token;
            opts.allowed_origins = allowed_origins;
            opts.limits = callboard_server::conn::Limits {
                header_timeout: std::time::Duration::from_millis(header_timeout_ms.max(1)),
                body_timeout: std::time::Duration::from_millis(body_timeout_ms.max(1)),
                max_connections,
                reserved_connections,
                max_header_bytes,
            }
            .fit_to_descriptors(nofile);
            opts.max_future_skew_secs = max_future_skew_secs.max(0);
            opts.disk_floor_bytes = disk_floor_mb.saturating_mul(1024 * 1024);
            opts.metrics_token = metrics_token;
            opts.session_idle = session_idle;
            opts.trusted_proxies = trusted_proxies;
            opts.session_max = session_max.max(session_idle);
            opts.database_url = database_url.filter(|u| !u.is_empty());
            opts.tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(callboard_server::tls::TlsFiles { cert, key }),
                _ => None,
            };
            let running = callboard_server::start_receiver(opts.clone()).await?;
            reload_on_hup(config, log_fixed, logs, running.tls.clone());
            let snapshots = backup_every.map(|every| {
                let dir = backup_dir
                    .clone()
                    .unwrap_or_else(|| opts.data_dir.join("backups"));
                tokio::spawn(scheduled_backups(
                    running.db_path.clone(),
                    dir,
                    every,
                    backup_keep,
                ))
            });
            for line in running.banner(opts.public_url.as_deref()) {
                println!("{line}");
            }
            running.until(shutdown_signal()).await?;
            if let Some(t) = snapshots {
                t.abort();
            }
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Command::Restore {
            config: _,
            data_dir,
            file,
            force,
        } => {
            let db = data_dir
                .unwrap_or_else(default_data_dir)
                .join("callboard.db");
            let (d, f) = (db.clone(), file.clone());
            let (checked, saved) = tokio::task::spawn_blocking(move || {
                callboard_core::store::backup::restore(&d, &f, force)
            })
            .await?
            .with_context(|| format!("restore of {} refused", file.display()))?;
            println!(
                "restored {} into {} (schema v{}, {} providers, {} calls)",
                file.display(),
                db.display(),
                checked.schema_version,
                checked.providers,
                checked.calls
            );
            if let Some(s) = saved {
                println!("  the replaced database is kept as {}", s.display());
            }
            Ok(())
        }
        Command::Connect {
            config: _,
            remote,
            listen,
            data_dir,
            remote_token,
            remote_ca,
            allowed_origins,
            session_idle,
            session_max,
        } => {
            init_logs(LogFormat::Text, None);
            let running = callboard_server::start_replica(callboard_server::ReplicaOptions {
                remote_url: remote,
                remote_token,
                data_dir: data_dir.unwrap_or_else(|| default_data_dir().join("replica")),
                listen,
                extra_tokens: Vec::new(),
                allowed_origins,
                remote_ca,
                session_idle,
                // As for `serve`: never shorter than the idle time.
                session_max: session_max.max(session_idle),
            })
            .await?;
            println!("callboard listening on http://{}", running.addr);
            shutdown_signal().await;
            running.stop().await?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Command::Openapi => {
            let (_, doc) = callboard_server::app::api_router();
            println!("{}", doc.to_pretty_json()?);
            Ok(())
        }
        Command::Backfill {
            config: _,
            data_dir,
            provider,
            from,
            to,
        } => {
            init_logs(LogFormat::Text, None);
            let dir = data_dir.unwrap_or_else(default_data_dir);
            let db = dir.join("callboard.db");
            let secrets = std::sync::Arc::new(callboard_core::secrets::SecretStore::in_dir(&dir));
            let when = |s: &str| {
                time::parse(s)
                    .or_else(|| time::parse(&format!("{s}T00:00:00Z")))
                    .with_context(|| format!("`{s}` is not a date (RFC 3339 or YYYY-MM-DD)"))
            };
            let from = when(&from)?;
            let to = match to {
                Some(t) => when(&t)?,
                None => chrono::Utc::now(),
            };
            let path = db.clone();
            let store =
                tokio::task::spawn_blocking(move || Store::open(&path, time::system_clock()))
                    .await?
                    .with_context(|| format!("cannot open {}", db.display()))?;
            let bar = progress::Bar::new();
            let result = callboard_server::convoso::Pollers::default()
                .run(
                    &store,
                    &secrets,
                    &provider,
                    "backfill",
                    from,
                    to,
                    &|done, total| bar.show(done, total),
                )
                .await;
            bar.finish();
            store.close().await;
            let r = result?;
            println!(
                "scanned {} · inserted {} · updated {} · failed {} · {} ms",
                r.scanned, r.inserted, r.updated, r.failed, r.duration_ms
            );
            if let Some(e) = r.error {
                anyhow::bail!("the backfill stopped early: {e}");
            }
            Ok(())
        }
        Command::Backup {
            config: _,
            data_dir,
            out,
        } => {
            let db = data_dir
                .unwrap_or_else(default_data_dir)
                .join("callboard.db");
            let dest = out.clone();
            let size = tokio::task::spawn_blocking(move || {
                callboard_core::store::backup::backup(&db, &dest)
            })
            .await?
            .with_context(|| format!("backup to {} failed", out.display()))?;
            println!("backup written: {} ({size} bytes)", out.display());
            Ok(())
        }
        Command::MigrateStorage {
            config: _,
            from,
            to,
            force,
            upgrade,
        } => {
            use callboard_core::store::cluster::storage;
            if upgrade {
                let (was, now) = tokio::task::spawn_blocking(move || storage::upgrade(&to))
                    .await?
                    .context("the cluster's upgrade failed")?;
                if was == now {
                    println!("the cluster is already at schema v{now}: nothing to do");
                } else {
                    println!("the cluster is now at schema v{now} (was v{was}): start the instances with this build");
                }
                return Ok(());
            }
            let db = from.unwrap_or_else(default_data_dir).join("callboard.db");
            let shown = db.clone();
            let report = tokio::task::spawn_blocking(move || storage::copy_into(&db, &to, force))
                .await?
                .with_context(|| format!("copying {} failed", shown.display()))?;
            println!(
                "copied {} ({} bytes) into cluster {}",
                shown.display(),
                report.bytes,
                report.cluster_id
            );
            for t in &report.tables {
                println!(
                    "  {:<24} {:>10} rows  (stored: {})",
                    t.table, t.source, t.stored
                );
            }
            println!("every table's row count matches; start each receiver with --database-url");
            println!("note: secrets.json (dialer and connector credentials) stays in each data directory: copy it to every instance");
            Ok(())
        }
    }
}
