//! `callboard`: the headless receiver.

use anyhow::Context;
use callboard_core::store::users;
use callboard_core::{keys, time, Store};
use callboard_server::Config;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;

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

fn lan_urls(addr: SocketAddr) -> Vec<String> {
    if !addr.ip().is_unspecified() {
        return vec![format!("http://{addr}")];
    }
    let mut urls = vec![format!("http://127.0.0.1:{}", addr.port())];
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for i in ifaces {
            if !i.is_loopback() && i.ip().is_ipv4() {
                urls.push(format!("http://{}:{}", i.ip(), addr.port()));
            }
        }
    }
    urls
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
        } => {
            init_logs(log_format);
            let presets = callboard_core::presets::all()
                .context("the provider presets shipped with this build are invalid")?;
            tracing::debug!(count = presets.len(), "provider presets loaded");
            let data_dir = data_dir.unwrap_or_else(default_data_dir);
            std::fs::create_dir_all(&data_dir).with_context(|| {
                format!("cannot create the data directory {}", data_dir.display())
            })?;
            let db = data_dir.join("callboard.db");
            let path = db.clone();
            let store =
                tokio::task::spawn_blocking(move || Store::open(&path, time::system_clock()))
                    .await?
                    .with_context(|| format!("cannot open {}", db.display()))?;
            let listener = TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            let urls = lan_urls(addr);
            let base = public_url
                .clone()
                .unwrap_or_else(|| urls[urls.len().min(2) - 1].clone());

            let password = keys::new_password();
            let hash = tokio::task::spawn_blocking({
                let p = password.clone();
                move || keys::hash_password(&p)
            })
            .await?
            .map_err(anyhow::Error::msg)?;
            if let Some((user, code)) = store
                .write(move |w| users::bootstrap_admin(w, hash))
                .await?
            {
                println!(
                    "First start: an administrator `{}` was created.",
                    user.username
                );
                println!(
                    "  Sign in once with this link (valid 24 hours): {base}/login?code={code}"
                );
                println!("  Or with user `admin` and password {password}");
            }
            let admin_token_hash = std::env::var("CALLBOARD_ADMIN_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .map(|t| keys::hash_secret(&t));

            println!("callboard listening on http://{addr}");
            for u in &urls {
                println!("  console and webhooks: {u}  (webhooks at {u}/webhooks/ivr/<slug>)");
            }
            println!("  data: {}", db.display());
            tracing::info!(%addr, data = %db.display(), "callboard started");
            let config = Config {
                public_url,
                admin_token_hash,
                max_body_bytes,
                event_retention_days,
            };
            callboard_server::serve(listener, store, config, shutdown_signal()).await?;
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
