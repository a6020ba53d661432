//! `callboard`: the headless receiver.

use anyhow::Context;
use callboard_core::{time, Store};
use callboard_server::ReceiverOptions;
use clap::{Parser, Subcommand, ValueEnum};
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

#[derive(Subcommand)]
enum Command {
    /// Run the receiver: webhooks, console API and event stream.
    Serve {
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
        /// A browser origin allowed to call the API cross-origin (repeat, or
        /// comma-separate in the variable); never `*`.
        #[arg(
            long = "allow-origin",
            env = "CALLBOARD_ALLOWED_ORIGINS",
            value_delimiter = ','
        )]
        allowed_origins: Vec<String>,
    },
    /// Remote mode: mirror a receiver in a local cache, serve the same
    /// console API from it, forward writes (queued while offline).
    Connect {
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
        #[arg(
            long = "allow-origin",
            env = "CALLBOARD_ALLOWED_ORIGINS",
            value_delimiter = ','
        )]
        allowed_origins: Vec<String>,
    },
    /// Read a Convoso provider's call records from its API over a window
    /// (the poller configured with `PUT /api/providers/{slug}/connector`),
    /// with a progress bar; safe while the receiver runs.
    Backfill {
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
        #[arg(long, env = "CALLBOARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The new file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the OpenAPI document of the console API (what `/api/openapi.json` serves).
    Openapi,
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CALLBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
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
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            data_dir,
            listen,
            public_url,
            max_body_bytes,
            event_retention_days,
            log_format,
            allowed_origins,
        } => {
            init_logs(log_format);
            let mut opts = ReceiverOptions::new(data_dir.unwrap_or_else(default_data_dir), listen);
            opts.public_url = public_url;
            opts.max_body_bytes = max_body_bytes;
            opts.event_retention_days = event_retention_days;
            opts.admin_token = std::env::var("CALLBOARD_ADMIN_TOKEN").ok();
            opts.allowed_origins = allowed_origins;
            let running = callboard_server::start_receiver(opts.clone()).await?;
            for line in running.banner(opts.public_url.as_deref()) {
                println!("{line}");
            }
            running.until(shutdown_signal()).await?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
        Command::Connect {
            remote,
            listen,
            data_dir,
            remote_token,
            allowed_origins,
        } => {
            init_logs(LogFormat::Text);
            let running = callboard_server::start_replica(callboard_server::ReplicaOptions {
                remote_url: remote,
                remote_token,
                data_dir: data_dir.unwrap_or_else(|| default_data_dir().join("replica")),
                listen,
                extra_tokens: Vec::new(),
                allowed_origins,
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
            data_dir,
            provider,
            from,
            to,
        } => {
            init_logs(LogFormat::Text);
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
        Command::Backup { data_dir, out } => {
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
    }
}
