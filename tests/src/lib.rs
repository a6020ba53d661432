//! Test support: start a Callboard receiver on loopback with a fresh data
//! directory and talk to it over real HTTP and WebSocket.
//!
//! [`TestServer::start`] (and `start_with_env`, `start_in`, `start_with`)
//! runs the receiver **in this process**: `callboard_server::start_receiver`
//! on `127.0.0.1:0`, on a runtime of its own, over a real SQLite file, with
//! an [`OffsetClock`] the test moves with [`TestServer::advance`] instead of
//! sleeping. [`TestServer::start_process`] (and `start_process_in`,
//! `replica_in`, `launch`) runs the real `callboard` binary instead, for
//! tests where the process boundary is the point: SIGKILL, SIGTERM and the
//! exit code, restart after a crash, refusing to start, the command line.
//!
//! The binary is never built from here: `scripts/test` builds it (`cargo
//! build --workspace --all-targets`); by hand, `cargo build -p
//! callboard-server` before `cargo test -p callboard-tests`.

use anyhow::{anyhow, bail, Context, Result};
use callboard_core::time::{OffsetClock, Timestamp};
use callboard_core::Store;
use callboard_server::ReceiverOptions;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// The `callboard` binary for process tests: `$CALLBOARD_BIN`, else the
/// workspace's `target/{debug,release}/callboard`. Not built here: panics on
/// a missing or stale binary (older than the `callboard-server` library this
/// test was built with), naming the command that builds it.
pub fn binary() -> PathBuf {
    let bin = binary_path();
    if let Err(e) = check_binary(&bin) {
        panic!("{e:#}");
    }
    bin
}

/// The `callboard` binary the tests run (`CALLBOARD_BIN`, else the workspace build).
pub fn binary_path() -> PathBuf {
    if let Ok(p) = std::env::var("CALLBOARD_BIN") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let exe = if cfg!(windows) {
        "callboard.exe"
    } else {
        "callboard"
    };
    target.join(profile).join(exe)
}

/// The newest modification time of the files under `dir` (recursively).
fn newest_under(dir: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(dir).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| newest_under(&e.path()))
        .max()
}

/// Fails when `bin` is missing, or older than a source file of the crates
/// it is built from (so a test never runs a stale binary).
fn check_binary(bin: &Path) -> Result<()> {
    let build = if cfg!(debug_assertions) {
        "cargo build --bins"
    } else {
        "cargo build --release --bins"
    };
    let Some(bin_time) = std::fs::metadata(bin).and_then(|m| m.modified()).ok() else {
        bail!(
            "{} is missing: build it with `{build}` (scripts/test does), or set CALLBOARD_BIN",
            bin.display()
        );
    };
    if std::env::var_os("CALLBOARD_BIN").is_some() {
        return Ok(());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let newest_source = ["crates/core", "crates/server", "Cargo.lock"]
        .iter()
        .filter_map(|p| newest_under(&root.join(p)))
        .max();
    if let Some(src) = newest_source.filter(|src| *src > bin_time) {
        let ago = src.duration_since(bin_time).unwrap_or_default();
        bail!(
            "{} is older than its sources (by {} s): rebuild it with `{build}` (scripts/test does), or set CALLBOARD_BIN",
            bin.display(),
            ago.as_secs()
        );
    }
    Ok(())
}

/// How a [`TestServer`] runs.
enum Backend {
    /// `start_receiver` on a runtime (and thread) of its own.
    InProcess(InProcess),
    /// The `callboard` binary.
    Process(Child),
    /// Stopped or killed.
    Gone,
}

struct InProcess {
    store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

type Started = (std::net::SocketAddr, Vec<String>, Store);

/// A receiver on loopback with a fresh data directory, and a client for it.
///
/// Public API (kept stable: many test files use it): `start`,
/// `start_with_env`, `start_in`, `start_with`, `start_in_with` (in-process);
/// `start_process`, `start_process_with_env`, `start_process_in`, `launch`,
/// `replica_in` (the binary); `advance`, `now`, `clock` (the injected clock,
/// in-process only); `stop`, `kill9` (process only), `restart`, `pid`; and
/// the request helpers below.
pub struct TestServer {
    backend: Backend,
    /// The clock the server reads (in-process servers only).
    clock: Option<Arc<OffsetClock>>,
    /// What an in-process server was started with (kept for `restart`).
    options: Option<ReceiverOptions>,
    /// The cluster database a process server was started on (kept for `restart`).
    database_url: Option<String>,
    pub addr: String,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// Lines the server printed (in-process: would print) on stdout at start.
    pub banner: Vec<String>,
    pub http: reqwest::Client,
}

fn client() -> Result<reqwest::Client> {
    Ok(callboard_server::http::client()
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The receiver options `callboard serve` would take from these environment
/// variables (the ones tests set); any other variable is an error: start a
/// process for it.
fn options_from_env(dir: &Path, env: &[(&str, &str)]) -> Result<ReceiverOptions> {
    let mut o = ReceiverOptions::new(dir.to_path_buf(), "127.0.0.1:0");
    o.admin_token = Some(ADMIN_TOKEN.to_string());
    o.database_url = pg::database_for(dir)?;
    for (k, v) in env {
        match *k {
            "CALLBOARD_PUBLIC_URL" => o.public_url = Some(v.to_string()),
            "CALLBOARD_ALLOWED_ORIGINS" => {
                o.allowed_origins = v.split(',').map(str::to_string).collect()
            }
            "CALLBOARD_MAX_BODY_BYTES" => o.max_body_bytes = v.parse()?,
            "CALLBOARD_EVENT_RETENTION_DAYS" => o.event_retention_days = v.parse()?,
            "CALLBOARD_ADMIN_TOKEN" => o.admin_token = Some(v.to_string()),
            "CALLBOARD_HEADER_TIMEOUT_MS" => {
                o.limits.header_timeout = Duration::from_millis(v.parse()?)
            }
            "CALLBOARD_BODY_TIMEOUT_MS" => {
                o.limits.body_timeout = Duration::from_millis(v.parse()?)
            }
            "CALLBOARD_MAX_CONNECTIONS" => o.limits.max_connections = v.parse()?,
            "CALLBOARD_RESERVED_CONNECTIONS" => o.limits.reserved_connections = v.parse()?,
            "CALLBOARD_MAX_HEADER_BYTES" => o.limits.max_header_bytes = v.parse()?,
            "CALLBOARD_MAX_FUTURE_SKEW_SECS" => o.max_future_skew_secs = v.parse()?,
            "CALLBOARD_DISK_FLOOR_MB" => {
                o.disk_floor_bytes = v.parse::<u64>()?.saturating_mul(1024 * 1024)
            }
            "CALLBOARD_METRICS_TOKEN" => o.metrics_token = Some(v.to_string()),
            "CALLBOARD_DATABASE_URL" => o.database_url = Some(v.to_string()),
            "CALLBOARD_LOG" => {}
            other => bail!(
                "{other} has no in-process equivalent: use TestServer::start_process_with_env"
            ),
        }
    }
    Ok(o)
}

impl TestServer {
    /// An in-process receiver over a fresh data directory, with the admin
    /// token set and an injectable clock.
    pub async fn start() -> Result<TestServer> {
        Self::start_in(tempfile::tempdir()?, &[]).await
    }

    /// [`TestServer::start`] with `callboard serve`'s environment variables
    /// (`CALLBOARD_PUBLIC_URL`, `CALLBOARD_ALLOWED_ORIGINS`,
    /// `CALLBOARD_MAX_BODY_BYTES`, `CALLBOARD_EVENT_RETENTION_DAYS`,
    /// `CALLBOARD_ADMIN_TOKEN`) mapped to its options.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Result<TestServer> {
        Self::start_in(tempfile::tempdir()?, env).await
    }

    /// An in-process receiver over `dir` (an existing database is opened).
    pub async fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Result<TestServer> {
        let opts = options_from_env(dir.path(), env)?;
        Self::in_process(dir, opts, OffsetClock::new()).await
    }

    /// An in-process receiver whose options `configure` adjusts (e.g. a
    /// shorter `event_send_timeout`); listen address, data directory and
    /// clock are the harness's.
    pub async fn start_with(configure: impl FnOnce(&mut ReceiverOptions)) -> Result<TestServer> {
        Self::start_in_with(tempfile::tempdir()?, configure).await
    }

    /// [`TestServer::start_with`] over `dir`.
    pub async fn start_in_with(
        dir: tempfile::TempDir,
        configure: impl FnOnce(&mut ReceiverOptions),
    ) -> Result<TestServer> {
        let mut opts = options_from_env(dir.path(), &[])?;
        configure(&mut opts);
        Self::in_process(dir, opts, OffsetClock::new()).await
    }

    async fn in_process(
        dir: tempfile::TempDir,
        mut opts: ReceiverOptions,
        clock: Arc<OffsetClock>,
    ) -> Result<TestServer> {
        opts.data_dir = dir.path().to_path_buf();
        opts.listen = "127.0.0.1:0".into();
        opts.clock = clock.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<Started>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let o = opts.clone();
        let thread = std::thread::Builder::new()
            .name("callboard-under-test".into())
            .spawn(move || -> std::io::Result<()> {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("callboard-under-test")
                    .enable_all()
                    .build()?;
                rt.block_on(async move {
                    let public_url = o.public_url.clone();
                    match callboard_server::start_receiver(o).await {
                        Err(e) => {
                            let _ = ready_tx.send(Err(anyhow!("the receiver did not start: {e}")));
                            Ok(())
                        }
                        Ok(running) => {
                            let banner = running.banner(public_url.as_deref());
                            let started = (running.addr, banner, running.store.clone());
                            let _ = ready_tx.send(Ok(started));
                            // Until `stop`, or until the TestServer is dropped.
                            running
                                .until(async move {
                                    let _ = stop_rx.await;
                                })
                                .await
                        }
                    }
                })
            })?;
        let (addr, banner, store) = tokio::time::timeout(Duration::from_secs(30), ready_rx)
            .await
            .context("the receiver did not start within 30 s")?
            .context("the receiver's thread ended before it listened")??;
        let addr = addr.to_string();
        Ok(TestServer {
            database_url: None,
            options: Some(opts),
            backend: Backend::InProcess(InProcess {
                store,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            clock: Some(clock),
            base: format!("http://{addr}"),
            addr,
            dir,
            banner,
            http: client()?,
        })
    }

    /// The real `callboard serve` binary over a fresh data directory.
    pub async fn start_process() -> Result<TestServer> {
        Self::start_process_in(tempfile::tempdir()?, &[]).await
    }

    /// The binary with extra environment variables.
    pub async fn start_process_with_env(env: &[(&str, &str)]) -> Result<TestServer> {
        Self::start_process_in(tempfile::tempdir()?, env).await
    }

    /// The binary on `127.0.0.1:0` over `dir`, with the admin token set.
    pub async fn start_process_in(
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
    ) -> Result<TestServer> {
        Self::launch(dir, &["serve"], env).await
    }

    /// Starts a replica (`callboard connect`, the binary) of `remote` on
    /// `127.0.0.1:0` over `dir`, following it with `token`.
    pub async fn replica_in(
        dir: tempfile::TempDir,
        remote: &str,
        token: &str,
    ) -> Result<TestServer> {
        Self::launch(
            dir,
            &["connect", "--remote", remote],
            &[("CALLBOARD_REMOTE_TOKEN", token)],
        )
        .await
    }

    /// Runs `callboard <args> --data-dir dir --listen 127.0.0.1:0` and waits
    /// for it to listen.
    pub async fn launch(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<TestServer> {
        let bin = binary_path();
        check_binary(&bin)?;
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("CALLBOARD_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CALLBOARD_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut database_url = env
            .iter()
            .find(|(k, _)| *k == "CALLBOARD_DATABASE_URL")
            .map(|(_, v)| v.to_string());
        if args.first() == Some(&"serve") && database_url.is_none() {
            if let Some(url) = pg::database_for(dir.path())? {
                cmd.env("CALLBOARD_DATABASE_URL", &url);
                database_url = Some(url);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let (scheme, addr) = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                banner.push(line.clone());
                if let Some(a) = line.strip_prefix("callboard listening on ") {
                    if let Some((scheme, addr)) = a.trim().split_once("://") {
                        return Ok::<_, anyhow::Error>((scheme.to_string(), addr.to_string()));
                    }
                }
            }
            bail!("the server exited before listening: {banner:?}")
        })
        .await
        .context("server did not start within 30 s")??;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(TestServer {
            backend: Backend::Process(child),
            clock: None,
            options: None,
            database_url,
            base: format!("{scheme}://{addr}"),
            addr,
            dir,
            banner,
            http: client()?,
        })
    }

    /// The administrator password the first start printed (None after a
    /// restart of the same database).
    pub fn printed_password(&self) -> Option<String> {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix("Or with user `admin` and password "))
            .map(|p| p.trim().to_string())
    }

    /// Trusts `ca_pem` (besides the public roots) in this server's client:
    /// for a receiver serving a certificate of a test CA.
    pub fn trust(&mut self, ca_pem: &str) -> Result<()> {
        self.http = callboard_server::http::client()
            .timeout(Duration::from_secs(30))
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
            .build()?;
        Ok(())
    }

    /// Whether this server is the `callboard` binary (not in-process).
    pub fn is_process(&self) -> bool {
        matches!(self.backend, Backend::Process(_))
    }

    /// The server's data directory (its `callboard.db`).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The server process id (for reading its memory use from /proc); None
    /// in-process.
    pub fn pid(&self) -> Option<u32> {
        match &self.backend {
            Backend::Process(c) => c.id(),
            _ => None,
        }
    }

    /// The injected clock (in-process servers only).
    pub fn clock(&self) -> Option<&Arc<OffsetClock>> {
        self.clock.as_ref()
    }

    /// The server's time now (the system clock for a process).
    pub fn now(&self) -> Timestamp {
        match &self.clock {
            Some(c) => callboard_core::time::Clock::now(c.as_ref()),
            None => chrono::Utc::now(),
        }
    }

    /// Moves the server's clock forward by `by` and wakes its SLA breach
    /// scheduler and its text sender, so deadlines, breaker pauses, quiet
    /// hours and other time rules are reached without waiting. Panics for a
    /// process server (it reads the system clock).
    pub fn advance(&self, by: Duration) {
        let (Some(clock), Backend::InProcess(p)) = (&self.clock, &self.backend) else {
            panic!("advance() needs an in-process server (TestServer::start)");
        };
        clock.advance(chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX));
        p.store.deadlines().notify_one();
        p.store.sms_queued().notify_one();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The store of an in-process server (None for the binary).
    pub fn store(&self) -> Option<&Store> {
        match &self.backend {
            Backend::InProcess(p) => Some(&p.store),
            _ => None,
        }
    }

    /// SIGKILL: no chance to flush anything. Process servers only (an
    /// in-process server cannot be killed without its test).
    pub async fn kill9(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.backend, Backend::Gone) {
            Backend::Process(mut c) => {
                c.kill().await?;
                c.wait().await?;
                Ok(())
            }
            Backend::InProcess(p) => {
                self.backend = Backend::InProcess(p);
                bail!("kill9 needs the binary: start with TestServer::start_process()")
            }
            Backend::Gone => Ok(()),
        }
    }

    /// SIGTERM (in-process: the same shutdown) and wait for a clean exit;
    /// returns the exit status code (in-process: 0 when it stopped cleanly,
    /// 1 when stopping failed).
    pub async fn stop(&mut self) -> Result<Option<i32>> {
        match std::mem::replace(&mut self.backend, Backend::Gone) {
            Backend::Process(mut c) => {
                if let Some(pid) = c.id() {
                    let _ = std::process::Command::new("kill")
                        .arg("-TERM")
                        .arg(pid.to_string())
                        .status();
                }
                let status = tokio::time::timeout(Duration::from_secs(20), c.wait())
                    .await
                    .context("server did not stop within 20 s of SIGTERM")??;
                Ok(status.code())
            }
            Backend::InProcess(mut p) => {
                if let Some(tx) = p.stop.take() {
                    let _ = tx.send(());
                }
                let Some(thread) = p.thread.take() else {
                    return Ok(None);
                };
                let joined = tokio::time::timeout(
                    Duration::from_secs(20),
                    tokio::task::spawn_blocking(move || thread.join()),
                )
                .await
                .context("server did not stop within 20 s")??;
                Ok(Some(match joined {
                    Ok(Ok(())) => 0,
                    _ => 1,
                }))
            }
            Backend::Gone => Ok(None),
        }
    }

    /// Stops (or has been killed) and starts again on the same data
    /// directory, the same way (in-process with the same options and clock,
    /// or the binary).
    pub async fn restart(self) -> Result<TestServer> {
        let mut me = self;
        me.stop().await?;
        let dir = std::mem::replace(&mut me.dir, tempfile::tempdir()?);
        match (me.options.clone(), me.clock.clone()) {
            (Some(opts), Some(clock)) => TestServer::in_process(dir, opts, clock).await,
            _ => match me.database_url.clone() {
                Some(url) => {
                    TestServer::start_process_in(dir, &[("CALLBOARD_DATABASE_URL", &url)]).await
                }
                None => TestServer::start_process_in(dir, &[]).await,
            },
        }
    }

    /// The PostgreSQL database of a cluster instance (`None` on SQLite).
    pub fn database_url(&self) -> Option<String> {
        self.options
            .as_ref()
            .and_then(|o| o.database_url.clone())
            .or_else(|| self.database_url.clone())
    }

    // ------------------------------------------------------------ API helpers

    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token)
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Result<(u16, Value)> {
        let r = self.get(path, token).send().await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Result<(u16, Value)> {
        let r = self.post(path, token).json(body).send().await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> Result<(u16, Value)> {
        let r = self
            .http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Result<(u16, Value)> {
        let r = self
            .http
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    pub async fn delete_json(&self, path: &str, token: &str) -> Result<(u16, Value)> {
        let r = self
            .http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    /// The id of the user named `username`.
    pub async fn user_id(&self, username: &str) -> Result<i64> {
        let (_, users) = self.get_json("/api/users", ADMIN_TOKEN).await?;
        users["data"]
            .as_array()
            .and_then(|a| a.iter().find(|u| u["username"] == username))
            .and_then(|u| u["id"].as_i64())
            .ok_or_else(|| anyhow!("no user {username}"))
    }

    /// POSTs `body` exactly as given, with `content_type`, to a provider's webhook.
    pub async fn webhook_raw(
        &self,
        slug: &str,
        key: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<(u16, Value)> {
        let r = self
            .http
            .post(self.url(&format!("/webhooks/ivr/{slug}")))
            .header("x-api-key", key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    /// Creates a provider with the generic test mapping; returns (slug, api_key).
    pub async fn provider(&self, name: &str) -> Result<(String, String)> {
        self.provider_with(name, generic_mapping(), generic_status_map())
            .await
    }

    pub async fn provider_with(
        &self,
        name: &str,
        mapping: Value,
        status_map: Value,
    ) -> Result<(String, String)> {
        let (s, body) = self
            .post_json(
                "/api/providers",
                ADMIN_TOKEN,
                &json!({ "name": name, "field_mapping": mapping, "status_map": status_map }),
            )
            .await?;
        if s != 201 {
            bail!("create provider: {s} {body}");
        }
        Ok((
            body["slug"].as_str().unwrap_or_default().to_string(),
            body["api_key"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// Creates a provider from a preset, with extra fields (e.g. `domains`,
    /// `signing_secret`); returns the whole create response.
    pub async fn provider_from_preset(
        &self,
        name: &str,
        preset: &str,
        extra: Value,
    ) -> Result<Value> {
        let mut body = json!({ "name": name, "preset": preset });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        let (s, created) = self.post_json("/api/providers", ADMIN_TOKEN, &body).await?;
        if s != 201 {
            bail!("create provider from preset {preset}: {s} {created}");
        }
        Ok(created)
    }

    /// Sends `req` and returns the status and JSON body.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value)> {
        let r = req.send().await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    /// The call `call_id` of department `slug`, as `GET /api/calls/{id}` shows it.
    pub async fn call(&self, slug: &str, call_id: &str) -> Result<Value> {
        let (s, c) = self
            .get_json(
                &format!("/api/calls/{call_id}?department={slug}"),
                ADMIN_TOKEN,
            )
            .await?;
        if s != 200 {
            bail!("call {call_id}: {s} {c}");
        }
        Ok(c)
    }

    pub async fn webhook(&self, slug: &str, key: &str, body: &Value) -> Result<(u16, Value)> {
        let r = self
            .http
            .post(self.url(&format!("/webhooks/ivr/{slug}")))
            .header("x-api-key", key)
            .json(body)
            .send()
            .await?;
        let s = r.status().as_u16();
        Ok((s, r.json().await.unwrap_or(Value::Null)))
    }

    /// Creates a user and signs them in; returns their token.
    pub async fn user(&self, username: &str, role: &str, departments: &[&str]) -> Result<String> {
        let (s, b) = self
            .post_json(
                "/api/users",
                ADMIN_TOKEN,
                &json!({ "username": username, "password": "password-123", "role": role, "departments": departments }),
            )
            .await?;
        if s != 201 {
            bail!("create user: {s} {b}");
        }
        let (s, b) = self
            .post_json(
                "/api/auth/login",
                "",
                &json!({ "username": username, "password": "password-123" }),
            )
            .await?;
        if s != 200 {
            bail!("login: {s} {b}");
        }
        Ok(b["token"].as_str().unwrap_or_default().to_string())
    }

    pub fn ws_url(&self, token: &str, since: Option<i64>) -> String {
        match since {
            Some(s) => format!("ws://{}/api/events?token={token}&since={s}", self.addr),
            None => format!("ws://{}/api/events?token={token}", self.addr),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Process(c) => {
                let _ = c.start_kill();
            }
            // Dropping the sender stops the server; its thread finishes alone.
            Backend::InProcess(p) => drop(p.stop.take()),
            Backend::Gone => {}
        }
    }
}

/// The seed's generic JSON shape: `{"data":{"call_id","caller","status",…}}`.
pub fn generic_mapping() -> Value {
    json!({
        "call_id": "data.call_id | call_id",
        "mobile_number": "data.caller | from",
        "caller_name": "data.name",
        "did": "data.did",
        "status": "data.status | status",
        "agent_name": "data.agent",
        "event_at": "data.ts",
        "event_id": "data.event_id"
    })
}

pub fn generic_status_map() -> Value {
    json!({
        "queued": "waiting",
        "ringing": "ringing",
        "answered": "active",
        "in-progress": "active",
        "no-answer": "missed",
        "abandoned": "hangup",
        "completed": "completed",
        "busy": "failed"
    })
}

/// A generic event body.
pub fn event(call_id: &str, status: &str, caller: &str) -> Value {
    json!({ "data": { "call_id": call_id, "caller": caller, "status": status } })
}

pub mod cpu;
pub mod fake_platform;
pub mod pg;
pub mod pki;
pub mod proxy;

/// The `p` quantile (0–1) of sorted latencies, in milliseconds; NaN when empty.
/// What the benches report.
/// Waits until `f` holds, or fails with `what` after `secs`: for effects
/// that land just after the answer (logs written off the request path,
/// background tasks).
pub async fn until<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The `i`th webhook of the ingestion benches (`ingest-bench`, `stage-bench`),
/// for a department mapped by [`generic_mapping`]: three events per call
/// (queued, ringing, no answer), each with its caller's number and name, an
/// agent and an event id.
pub fn bench_event(i: usize) -> Value {
    let call = i / 3;
    let status = ["queued", "ringing", "no-answer"][i % 3];
    json!({"data": {"call_id": format!("b{call}"), "caller": format!("+9198{:08}", call), "name": "Bench Caller",
        "did": "18001234", "status": status, "agent": "Agent 7", "event_id": format!("e{i}")}})
}

/// Runs `sql` on the database at `path` while a server has it open: a
/// bench's experiment (a trigger or index dropped), never Callboard as shipped.
pub fn probe_schema(path: &std::path::Path, sql: &str) -> Result<()> {
    let db = rusqlite::Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    db.execute_batch(sql)
        .with_context(|| format!("schema probe `{sql}`"))
}

/// A bench's `--flag value` pairs from its command line, in order.
pub fn bench_flags() -> Result<Vec<(String, String)>> {
    let mut it = std::env::args().skip(1);
    let mut pairs = Vec::new();
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        pairs.push((flag, v));
    }
    Ok(pairs)
}

/// A field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub fn proc_kib(pid: u32, field: &str) -> Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// The metrics token a bench starts its server with, to read the writer's
/// own figures from `/metrics` afterwards.
pub const BENCH_METRICS_TOKEN: &str = "bench-metrics";

/// The server's `/metrics` text, for a server a bench started with
/// `CALLBOARD_METRICS_TOKEN` = [`BENCH_METRICS_TOKEN`].
pub async fn bench_metrics(srv: &TestServer) -> Result<String> {
    Ok(srv
        .http
        .get(srv.url("/metrics"))
        .bearer_auth(BENCH_METRICS_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// The writer's commit times so far, from `/metrics`
/// (`callboard_writer_commit_seconds`), in a line: how many commits, the
/// share within 1 ms and 10 ms, and the bucket of the slowest. A step or an
/// ack that stalled behind a slow sync of the disk shows up here.
pub async fn commit_times(srv: &TestServer) -> Result<String> {
    let text = bench_metrics(srv).await?;
    let prefix = "callboard_writer_commit_seconds_bucket{le=\"";
    let mut buckets: Vec<(String, f64)> = Vec::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix(prefix) {
            let (le, n) = rest
                .split_once("\"} ")
                .with_context(|| format!("unreadable bucket line {l}"))?;
            buckets.push((le.to_string(), n.trim().parse()?));
        }
    }
    let total = buckets
        .last()
        .map(|(_, n)| *n)
        .context("no commit times in /metrics")?;
    let within = |bound: &str| {
        buckets
            .iter()
            .find(|(le, _)| le == bound)
            .map(|(_, n)| 100.0 * n / total.max(1.0))
            .unwrap_or(0.0)
    };
    // The first bucket holding every commit bounds the slowest.
    let slowest = buckets
        .iter()
        .find(|(_, n)| *n >= total)
        .map(|(le, _)| le.clone())
        .unwrap_or_default();
    Ok(format!(
        "{total} commits, {:.1} % within 1 ms, {:.2} % within 10 ms, the slowest ≤ {slowest} s",
        within("0.001"),
        within("0.01"),
    ))
}

/// A bench's verdict after its figures: an error naming every floor it
/// missed (so it exits non-zero), or Ok.
pub fn floors(missed: &[String]) -> Result<()> {
    if missed.is_empty() {
        return Ok(());
    }
    bail!("below the floor:\n  {}", missed.join("\n  "))
}

pub fn pct(sorted: &[std::time::Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub mod ws {
    //! A small event-stream client.
    use anyhow::{anyhow, Result};
    use futures_util::StreamExt;
    use serde_json::Value;
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::Message;

    pub type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    pub async fn connect(url: &str) -> Result<Socket> {
        let (s, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(s)
    }

    /// The next JSON message, or None after `wait` with nothing.
    pub async fn next(s: &mut Socket, wait: Duration) -> Result<Option<Value>> {
        loop {
            match tokio::time::timeout(wait, s.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(anyhow!("stream closed")),
                Ok(Some(m)) => match m? {
                    Message::Text(t) => return Ok(Some(serde_json::from_str(&t)?)),
                    Message::Close(f) => return Err(anyhow!("closed: {f:?}")),
                    _ => continue,
                },
            }
        }
    }

    /// Collects messages until `n` arrived or `wait` passes with nothing new.
    pub async fn collect(s: &mut Socket, n: usize, wait: Duration) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        while out.len() < n {
            match next(s, wait).await? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(out)
    }
}

/// Runs `callboard serve` expecting it to refuse to start; returns its exit
/// code and everything it printed.
pub async fn serve_expecting_failure(
    data_dir: &Path,
    listen: &str,
) -> Result<(Option<i32>, String)> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(listen)
            .env("CALLBOARD_LOG", "warn")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("the server kept running")??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code(), text))
}

/// Panics listing every violation when a `(schema name, body)` pair does
/// not match the server's own OpenAPI document.
pub fn assert_match_schemas(openapi: &Value, checked: &[(&str, Value)]) {
    let mut problems = Vec::new();
    for (schema, body) in checked {
        match schema_violations(openapi, schema, body) {
            Ok(found) => problems.extend(
                found
                    .into_iter()
                    .map(|v| format!("{schema}: {v}\n  in {body}")),
            ),
            Err(e) => problems.push(format!("{schema}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Checks `instance` against `#/components/schemas/{name}` of the server's
/// own OpenAPI document; returns every violation.
pub fn schema_violations(openapi: &Value, name: &str, instance: &Value) -> Result<Vec<String>> {
    let mut root = openapi.clone();
    let obj = root
        .as_object_mut()
        .ok_or_else(|| anyhow!("openapi.json is not an object"))?;
    obj.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    obj.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
    let validator = jsonschema::validator_for(&root).map_err(|e| anyhow!("schema {name}: {e}"))?;
    Ok(validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect())
}

pub mod fake_convoso {
    //! A fake Convoso API on loopback: serves `GET /log/retrieve` pages of
    //! its records, following a script of failures (status codes, stalls)
    //! for the next requests, and logs when each request arrived.
    use serde_json::{json, Value};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[derive(Debug, Clone)]
    pub enum Step {
        /// Answer with this status and an error body.
        Status(u16),
        /// Hold the request this long before answering normally.
        Stall(Duration),
    }

    #[derive(Default)]
    struct Inner {
        records: Vec<Value>,
        script: VecDeque<Step>,
        log: Vec<(Instant, String)>,
    }

    #[derive(Clone)]
    pub struct FakeConvoso {
        pub base: String,
        pub token: String,
        inner: Arc<Mutex<Inner>>,
        task: Arc<tokio::task::JoinHandle<()>>,
    }

    impl Drop for FakeConvoso {
        fn drop(&mut self) {
            if Arc::strong_count(&self.task) == 1 {
                self.task.abort();
            }
        }
    }

    fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    impl FakeConvoso {
        pub async fn start(records: Vec<Value>, token: &str) -> FakeConvoso {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}/v1", listener.local_addr().unwrap());
            let inner = Arc::new(Mutex::new(Inner {
                records,
                ..Default::default()
            }));
            let (state, expected) = (inner.clone(), token.to_string());
            let task = tokio::spawn(async move {
                while let Ok((mut sock, _)) = listener.accept().await {
                    let (state, expected) = (state.clone(), expected.clone());
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 4096];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let head = String::from_utf8_lossy(&buf).to_string();
                        let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
                        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                        let step = {
                            let mut s = state.lock().unwrap();
                            s.log.push((Instant::now(), target.clone()));
                            s.script.pop_front()
                        };
                        let (code, body) = match step {
                            Some(Step::Status(c)) => {
                                (c, json!({"success": false, "text": "scripted failure"}))
                            }
                            other => {
                                if let Some(Step::Stall(d)) = other {
                                    tokio::time::sleep(d).await;
                                }
                                if path != "/v1/log/retrieve" {
                                    (404, json!({"success": false, "text": "no such endpoint"}))
                                } else if param(query, "auth_token") != Some(expected.as_str()) {
                                    (401, json!({"success": false, "text": "invalid auth token"}))
                                } else {
                                    let offset: usize = param(query, "offset")
                                        .and_then(|v| v.parse().ok())
                                        .unwrap_or(0);
                                    let limit: usize = param(query, "limit")
                                        .and_then(|v| v.parse().ok())
                                        .unwrap_or(500);
                                    let s = state.lock().unwrap();
                                    let page: Vec<Value> = s
                                        .records
                                        .iter()
                                        .skip(offset)
                                        .take(limit)
                                        .cloned()
                                        .collect();
                                    (
                                        200,
                                        json!({"success": true, "data": {"offset": offset, "limit": limit,
                                        "total_found": s.records.len().to_string(), "entries": page.len(), "results": page}}),
                                    )
                                }
                            }
                        };
                        let body = body.to_string();
                        let resp = format!(
                            "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    });
                }
            });
            FakeConvoso {
                base,
                token: token.to_string(),
                inner,
                task: Arc::new(task),
            }
        }

        /// What the next requests meet, in order.
        pub fn script(&self, steps: &[Step]) {
            self.inner
                .lock()
                .unwrap()
                .script
                .extend(steps.iter().cloned());
        }

        /// Replaces the records it serves (e.g. the same call, now with its
        /// recording).
        pub fn set_records(&self, records: Vec<Value>) {
            self.inner.lock().unwrap().records = records;
        }

        /// When each request arrived, and its path and query.
        pub fn log(&self) -> Vec<(Instant, String)> {
            self.inner.lock().unwrap().log.clone()
        }
    }
}
