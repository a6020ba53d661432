//! The shell's state, free of any window type so it runs under test: the
//! settings, the vault, and the one backend running in-process (a receiver,
//! or a replica of a remote receiver), started, stopped and switched here.

use crate::alerts::Seen;
use crate::notifier::{self, Names, Sink};
use crate::settings::{decide, EnvOverrides, Launch, Mode, NotificationSettings, Settings};
use crate::vault::{self, Vault};
use callboard_core::store::stats;
use callboard_core::{time, Store};
use callboard_server::{
    start_receiver, start_replica, ReceiverOptions, ReplicaOptions, ReplicaRunning, Running,
};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The window's own origins: `tauri://localhost` (Linux, macOS) and
/// `http://tauri.localhost` (Windows). The local API allows exactly these.
pub const APP_ORIGINS: [&str; 2] = ["tauri://localhost", "http://tauri.localhost"];

#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error(transparent)]
    Launch(#[from] callboard_server::LaunchError),
    #[error("{0}")]
    Remote(String),
    #[error("{0}")]
    Store(#[from] callboard_core::Error),
    #[error("choose how this computer runs Callboard first")]
    NotConfigured,
}

impl ShellError {
    pub fn code(&self) -> &'static str {
        match self {
            ShellError::Settings(_) => "settings",
            ShellError::Vault(_) => "keyring",
            ShellError::Launch(_) => "launch",
            ShellError::Remote(_) => "remote",
            ShellError::Store(_) => "store",
            ShellError::NotConfigured => "not_configured",
        }
    }
}

/// What the window needs to talk to its backend: handed over by the one
/// typed command `connection`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub mode: Mode,
    /// Base of the local API, e.g. `http://127.0.0.1:8787`.
    pub api_base: String,
    pub token: String,
    /// Receiver: the addresses to give IVR platforms (`…/webhooks/ivr/<slug>`).
    pub webhook_bases: Vec<String>,
    /// Receiver: what may keep platforms from reaching it.
    pub hints: Vec<String>,
    /// Remote: the receiver this app mirrors.
    pub remote_url: Option<String>,
    /// Where secrets are kept: `keyring`, or `file` when there is none.
    pub secrets: vault::Backend,
    pub data_dir: String,
}

/// Live counts for the tray.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub live: i64,
    pub pending: i64,
    /// This computer is the receiver: closing the window does not stop it.
    pub receiving: bool,
}

/// What the window layer plugs in: where notices go and how the tray shows counts.
#[derive(Clone)]
pub struct Hooks {
    pub sink: Arc<dyn Sink>,
    pub counts: Arc<dyn Fn(Counts) + Send + Sync>,
}

enum Server {
    Receiver(Running),
    /// A replica of the remote receiver: a local cache serving the same API.
    Remote(ReplicaRunning),
}

impl Server {
    fn store(&self) -> Option<Store> {
        match self {
            Server::Receiver(r) => Some(r.store.clone()),
            Server::Remote(r) => Some(r.store.clone()),
        }
    }
}

struct Backend {
    server: Server,
    connection: Connection,
    /// Stops the notifier and the tray counter.
    tasks: watch::Sender<bool>,
}

pub struct Shell {
    pub config_dir: PathBuf,
    pub default_data_dir: PathBuf,
    env: EnvOverrides,
    settings: Mutex<Settings>,
    prefs: watch::Sender<NotificationSettings>,
    pub vault: Vault,
    seen: Arc<Mutex<Seen>>,
    backend: tokio::sync::Mutex<Option<Backend>>,
}

impl Shell {
    pub fn new(
        config_dir: PathBuf,
        default_data_dir: PathBuf,
        env: EnvOverrides,
        vault: Vault,
    ) -> Result<Shell, ShellError> {
        let settings = Settings::load(&config_dir)?;
        let (prefs, _) = watch::channel(settings.notifications.clone());
        let seen = Seen::load(&config_dir.join("notified.txt"), 20_000);
        Ok(Shell {
            config_dir,
            default_data_dir,
            env,
            settings: Mutex::new(settings),
            prefs,
            vault,
            seen: Arc::new(Mutex::new(seen)),
            backend: tokio::sync::Mutex::new(None),
        })
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// First run: no mode saved and none in the environment.
    pub fn needs_setup(&self) -> bool {
        decide(&self.settings(), &self.env, &self.default_data_dir) == Launch::FirstRun
    }

    /// Saves new settings; notification preferences apply at once, a change
    /// of mode or address restarts the backend in-process.
    pub async fn update(
        &self,
        new: Settings,
        hooks: &Hooks,
    ) -> Result<Option<Connection>, ShellError> {
        new.validate()?;
        let old = self.settings();
        new.save(&self.config_dir)?;
        self.prefs.send_replace(new.notifications.clone());
        if let Ok(mut s) = self.settings.lock() {
            *s = new.clone();
        }
        let restart = old.mode != new.mode
            || old.receiver != new.receiver
            || old.remote.url != new.remote.url;
        if restart && new.mode.is_some() {
            self.stop().await;
            return self.start(hooks).await.map(Some);
        }
        Ok(self.connection().await)
    }

    pub fn set_do_not_disturb(&self, on: bool) -> Result<(), ShellError> {
        let mut s = self.settings();
        s.notifications.do_not_disturb = on;
        s.save(&self.config_dir)?;
        self.prefs.send_replace(s.notifications.clone());
        if let Ok(mut cur) = self.settings.lock() {
            *cur = s;
        }
        Ok(())
    }

    /// True the first time it is called on this install (then remembered):
    /// the first close to the tray is explained once, not every time.
    pub fn first_close_to_tray(&self) -> bool {
        let mut s = self.settings();
        if s.tray_explained {
            return false;
        }
        s.tray_explained = true;
        if let Err(e) = s.save(&self.config_dir) {
            tracing::warn!(error = %e, "cannot save the settings");
        }
        if let Ok(mut cur) = self.settings.lock() {
            *cur = s;
        }
        true
    }

    /// For the exit handler, which cannot await: a busy lock counts as running.
    pub fn is_running_blocking(&self) -> bool {
        self.backend.try_lock().map(|b| b.is_some()).unwrap_or(true)
    }

    pub async fn connection(&self) -> Option<Connection> {
        self.backend
            .lock()
            .await
            .as_ref()
            .map(|b| b.connection.clone())
    }

    /// Starts what the settings and environment say (no-op when running).
    pub async fn start(&self, hooks: &Hooks) -> Result<Connection, ShellError> {
        let mut slot = self.backend.lock().await;
        if let Some(b) = slot.as_ref() {
            return Ok(b.connection.clone());
        }
        let settings = self.settings();
        let backend = match decide(&settings, &self.env, &self.default_data_dir) {
            Launch::FirstRun => return Err(ShellError::NotConfigured),
            Launch::Receiver {
                data_dir,
                listen,
                public_url,
                admin_token,
            } => {
                self.start_receiver(
                    data_dir,
                    listen,
                    public_url,
                    admin_token,
                    settings.receiver.lan,
                )
                .await?
            }
            Launch::Remote {
                url,
                data_dir,
                token,
            } => self.start_remote(url, data_dir, token).await?,
        };
        let (tasks, stop) = watch::channel(false);
        if let Some(store) = backend.0.store() {
            let receiving = backend.1.mode == Mode::Receiver;
            let (me_tx, me) = watch::channel(None);
            tokio::spawn(window_user(
                backend.1.api_base.clone(),
                backend.1.token.clone(),
                me_tx,
            ));
            spawn_followers(&store, &self.seen, &self.prefs, me, hooks, stop, receiving);
        }
        let connection = backend.1.clone();
        *slot = Some(Backend {
            server: backend.0,
            connection: connection.clone(),
            tasks,
        });
        Ok(connection)
    }

    async fn start_receiver(
        &self,
        data_dir: PathBuf,
        listen: String,
        public_url: Option<String>,
        admin_token: Option<String>,
        lan: bool,
    ) -> Result<(Server, Connection), ShellError> {
        let mut opts = ReceiverOptions::new(data_dir.clone(), listen);
        opts.public_url = public_url.clone();
        opts.admin_token = admin_token;
        opts.allowed_origins = APP_ORIGINS.iter().map(|o| o.to_string()).collect();
        let running = start_receiver(opts).await?;
        if let Some(first) = &running.first_start {
            // The only copy of the generated password: other browsers sign in with it.
            if let Err(e) = self.vault.set(vault::ADMIN_PASSWORD, &first.password) {
                running.stop().await.ok();
                return Err(e.into());
            }
        }
        let token = match running.admin_session().await {
            Ok(t) => t,
            Err(e) => {
                running.stop().await.ok();
                return Err(e.into());
            }
        };
        let port = running.addr.port();
        let api_base = format!("http://127.0.0.1:{port}");
        let mut bases: Vec<String> = match &public_url {
            Some(u) => vec![u.trim_end_matches('/').to_string()],
            None => running.urls.clone(),
        };
        // Loopback is for this computer's window, not for platforms, when others exist.
        if bases.len() > 1 {
            bases.retain(|u| !u.starts_with("http://127.0.0.1"));
        }
        let hints = reachability(&bases, lan, public_url.is_some()).await;
        let connection = Connection {
            mode: Mode::Receiver,
            api_base,
            token,
            webhook_bases: bases,
            hints,
            remote_url: None,
            secrets: self.vault.backend(),
            data_dir: data_dir.display().to_string(),
        };
        Ok((Server::Receiver(running), connection))
    }

    async fn start_remote(
        &self,
        url: String,
        data_dir: PathBuf,
        token: Option<String>,
    ) -> Result<(Server, Connection), ShellError> {
        let token = match token {
            Some(t) => t,
            None => self.vault.get(vault::REMOTE_TOKEN)?.ok_or_else(|| {
                ShellError::Remote(format!("sign in to {url} again: no token is stored"))
            })?,
        };
        // The window gets a token of this launch only; the receiver's token
        // stays in the keyring and in the replica.
        let launch_token = callboard_core::keys::new_token();
        let replica = start_replica(ReplicaOptions {
            remote_url: url.clone(),
            remote_token: token,
            data_dir: data_dir.clone(),
            listen: "127.0.0.1:0".into(),
            extra_tokens: vec![launch_token.clone()],
            allowed_origins: APP_ORIGINS.iter().map(|o| o.to_string()).collect(),
            // A private CA: the same variable as `callboard connect`.
            remote_ca: std::env::var_os("CALLBOARD_REMOTE_CA")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            // The window signs in with its per-launch token; a browser on
            // the replica's own page gets the defaults (1 h idle, 12 h).
            session_idle: callboard_server::Config::default().session_idle,
            session_max: callboard_server::Config::default().session_max,
        })
        .await
        .map_err(|e| ShellError::Remote(e.to_string()))?;
        let connection = Connection {
            mode: Mode::Remote,
            api_base: format!("http://127.0.0.1:{}", replica.addr.port()),
            token: launch_token,
            webhook_bases: Vec::new(),
            hints: Vec::new(),
            remote_url: Some(url),
            secrets: self.vault.backend(),
            data_dir: data_dir.display().to_string(),
        };
        Ok((Server::Remote(replica), connection))
    }

    /// Stops the backend: in-flight requests finish, the writer flushes.
    pub async fn stop(&self) {
        let Some(b) = self.backend.lock().await.take() else {
            return;
        };
        let _ = b.tasks.send(true);
        match b.server {
            Server::Receiver(r) => {
                if let Err(e) = r.stop().await {
                    tracing::warn!(error = %e, "the receiver did not stop cleanly");
                }
            }
            Server::Remote(r) => {
                if let Err(e) = r.stop().await {
                    tracing::warn!(error = %e, "the replica did not stop cleanly");
                }
            }
        }
        Seen::save_shared(&self.seen).await;
        tracing::info!("backend stopped");
    }
}

/// The user the window is signed in as (its token's: the local
/// administrator of a receiver, the signed-in user of a remote), for the
/// notices meant for one user (voicemails), asked of the backend's own API.
async fn window_user(api_base: String, token: String, me: watch::Sender<Option<i64>>) {
    let http = callboard_server::http::default_client();
    for attempt in 1..=10u64 {
        let asked = http
            .get(format!("{api_base}/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await;
        match asked {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) => {
                    let id = v["user"]["id"].as_i64();
                    tracing::debug!(user = ?id, "the window's user");
                    let _ = me.send(id);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "the window's user: unreadable answer"),
            },
            Ok(r) => tracing::warn!(status = %r.status(), "the window's user: refused"),
            Err(e) => tracing::warn!(error = %e, "the window's user: no answer"),
        }
        if me.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
    }
    tracing::warn!("the window's user is unknown: voicemail notices stay off");
}

fn spawn_followers(
    store: &Store,
    seen: &Arc<Mutex<Seen>>,
    prefs: &watch::Sender<NotificationSettings>,
    me: watch::Receiver<Option<i64>>,
    hooks: &Hooks,
    stop: watch::Receiver<bool>,
    receiving: bool,
) {
    let providers = store.providers().clone();
    let names: Names = Arc::new(move |slug: &str| {
        providers
            .get(slug)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| slug.to_string())
    });
    tokio::spawn(notifier::run(
        store.hub().subscribe(),
        names,
        seen.clone(),
        prefs.subscribe(),
        me,
        hooks.sink.clone(),
        stop.clone(),
    ));
    tokio::spawn(follow_counts(
        store.clone(),
        hooks.counts.clone(),
        stop,
        receiving,
    ));
}

/// Keeps the tray's counts current: re-read after each burst of events.
async fn follow_counts(
    store: Store,
    show: Arc<dyn Fn(Counts) + Send + Sync>,
    mut stop: watch::Receiver<bool>,
    receiving: bool,
) {
    let mut events = store.hub().subscribe();
    loop {
        let now = store.now();
        let day = time::fmt(now - chrono::Duration::days(1));
        let at = time::fmt(now);
        match store.read(move |c| stats::read(c, None, &day, &at)).await {
            Ok(s) => show(Counts {
                live: s.active_calls,
                pending: s.hangup_pending.values().sum(),
                receiving,
            }),
            Err(e) => tracing::debug!(error = %e, "tray counts unavailable"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            ev = events.recv() => if let Err(broadcast::error::RecvError::Closed) = ev { return },
        }
        // Coalesce a burst into one re-read.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = events.try_recv() {}
    }
}

/// What may keep platforms from reaching the receiver, in words.
pub async fn reachability(bases: &[String], lan: bool, public: bool) -> Vec<String> {
    let mut hints = Vec::new();
    if !lan {
        hints.push(
            "The receiver listens on this computer only: IVR platforms and other desktops cannot reach it. Choose “On the network” in Settings to let them."
                .to_string(),
        );
        return hints;
    }
    let client = match callboard_server::http::client()
        .timeout(Duration::from_secs(2))
        .build()
    {
        Ok(c) => c,
        Err(_) => return hints,
    };
    for base in bases {
        let ok = client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if !ok {
            hints.push(format!(
                "{base} does not answer from this computer: check that a firewall allows the port."
            ));
        }
    }
    if !public && bases.iter().all(|b| is_private(b)) {
        hints.push(
            "These are private network addresses: a cloud IVR platform needs a public address (port forwarding or a tunnel) entered as the public URL in Settings."
                .to_string(),
        );
    }
    hints
}

fn is_private(base: &str) -> bool {
    let host = base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split(':')
        .next()
        .unwrap_or_default();
    match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Notice;

    struct Quiet;
    impl Sink for Quiet {
        fn show(&self, _: &Notice) -> Result<(), String> {
            Ok(())
        }
    }

    fn hooks() -> (Hooks, Arc<Mutex<Vec<Counts>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (
            Hooks {
                sink: Arc::new(Quiet),
                counts: Arc::new(move |c| s.lock().unwrap().push(c)),
            },
            seen,
        )
    }

    fn shell(dir: &std::path::Path, env: EnvOverrides) -> Shell {
        Shell::new(
            dir.join("config"),
            dir.join("data"),
            env,
            Vault::with_keyring(&dir.join("config"), Box::new(NoKeyring)),
        )
        .unwrap()
    }

    struct NoKeyring;
    impl vault::Keyring for NoKeyring {
        fn set(&self, _: &str, _: &str) -> Result<(), String> {
            Err("no keyring".into())
        }
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            Err("no keyring".into())
        }
        fn delete(&self, _: &str) -> Result<(), String> {
            Err("no keyring".into())
        }
    }

    #[tokio::test]
    async fn first_run_then_receiver_then_a_port_change_restarts_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let shell = shell(dir.path(), EnvOverrides::default());
        let (hooks, counts) = hooks();
        assert!(shell.needs_setup());
        assert!(matches!(
            shell.start(&hooks).await,
            Err(ShellError::NotConfigured)
        ));

        let mut s = shell.settings();
        s.mode = Some(Mode::Receiver);
        s.receiver.lan = false;
        s.receiver.port = free_port();
        let c = shell.update(s.clone(), &hooks).await.unwrap().unwrap();
        assert!(!shell.needs_setup());
        assert_eq!(c.api_base, format!("http://127.0.0.1:{}", s.receiver.port));
        assert_eq!(c.secrets, vault::Backend::File);
        assert!(c.hints[0].contains("this computer only"), "{:?}", c.hints);
        // The generated admin password went to the vault, not the settings.
        let pw = shell.vault.get(vault::ADMIN_PASSWORD).unwrap().unwrap();
        let on_disk = std::fs::read_to_string(Settings::file(&shell.config_dir)).unwrap();
        assert!(!on_disk.contains(&pw));
        // The window's token works against the local API.
        let me = callboard_server::http::default_client()
            .get(format!("{}/api/auth/me", c.api_base))
            .bearer_auth(&c.token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        // The counts are read by a task spawned at start: give it a moment.
        for _ in 0..100 {
            if !counts.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            counts.lock().unwrap().first().is_some_and(|c| c.receiving),
            "the tray got its counts, and says this computer is receiving"
        );

        // Another port: same process, new listener, the old one closed.
        let old = c.api_base.clone();
        s.receiver.port = free_port();
        let c2 = shell.update(s.clone(), &hooks).await.unwrap().unwrap();
        assert_ne!(c2.api_base, old);
        assert!(reqwest::get(format!("{old}/healthz")).await.is_err());
        assert_eq!(
            reqwest::get(format!("{}/healthz", c2.api_base))
                .await
                .unwrap()
                .status(),
            200
        );
        // Preferences alone do not restart.
        s.notifications.muted = vec!["sales".into()];
        let c3 = shell.update(s, &hooks).await.unwrap().unwrap();
        assert_eq!(c3, c2);
        shell.stop().await;
        assert!(reqwest::get(format!("{}/healthz", c2.api_base))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn the_environment_starts_a_receiver_without_asking() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("kiosk-data");
        let env = EnvOverrides {
            mode: Some(Mode::Receiver),
            data_dir: Some(data.clone()),
            listen: Some("127.0.0.1:0".into()),
            admin_token: Some("kiosk-token".into()),
            ..Default::default()
        };
        let shell = shell(dir.path(), env);
        assert!(!shell.needs_setup());
        let (hooks, _) = hooks();
        let c = shell.start(&hooks).await.unwrap();
        assert!(data.join("callboard.db").exists());
        let r = callboard_server::http::default_client()
            .get(format!("{}/api/providers", c.api_base))
            .bearer_auth("kiosk-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        shell.stop().await;
    }

    #[tokio::test]
    async fn remote_mode_mirrors_a_receiver_behind_a_per_launch_token() {
        let dir = tempfile::tempdir().unwrap();
        let receiver = start_receiver(ReceiverOptions::new(
            dir.path().join("office"),
            "127.0.0.1:0",
        ))
        .await
        .unwrap();
        let first = receiver.first_start.clone().unwrap();
        let office = format!("http://127.0.0.1:{}", receiver.addr.port());
        // The printed first-start password must be changed before it signs
        // a desktop in: what the first-run screen tells the user.
        let refused = callboard_server::sign_in(&office, &first.username, &first.password).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("must be changed first")),
            "{:?}",
            refused.err()
        );
        let http = callboard_server::http::default_client();
        let v: serde_json::Value = http
            .post(format!("{office}/api/auth/login"))
            .json(&serde_json::json!({"username": first.username, "password": first.password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = http
            .post(format!("{office}/api/auth/password"))
            .bearer_auth(v["token"].as_str().unwrap())
            .json(&serde_json::json!({"current": first.password, "new": "office-password-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let token = callboard_server::sign_in(&office, &first.username, "office-password-1")
            .await
            .unwrap();
        let env = EnvOverrides {
            mode: Some(Mode::Remote),
            remote_url: Some(office.clone()),
            remote_token: Some(token.clone()),
            ..Default::default()
        };
        let shell = shell(dir.path(), env);
        let (hooks, counts) = hooks();
        let c = shell.start(&hooks).await.unwrap();
        assert_eq!(c.mode, Mode::Remote);
        assert_eq!(c.remote_url.as_deref(), Some(office.as_str()));
        assert!(c.api_base.starts_with("http://127.0.0.1:"));
        assert_ne!(c.api_base, office, "the window talks to its local replica");
        assert_ne!(
            c.token, token,
            "the window never holds the receiver's token"
        );
        for _ in 0..100 {
            if !counts.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            counts.lock().unwrap().first().is_some_and(|c| !c.receiving),
            "a remote desktop's tray does not claim to receive"
        );
        let http = callboard_server::http::default_client();
        // The replica answers once it has its snapshot.
        let mut me = None;
        for _ in 0..100 {
            let r = http
                .get(format!("{}/api/auth/me", c.api_base))
                .bearer_auth(&c.token)
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                me = Some(r.json::<serde_json::Value>().await.unwrap());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(me.unwrap()["role"], "admin");
        // And it holds the receiver's rows: the snapshot was allowed.
        let mut providers = None;
        for _ in 0..100 {
            let r = http
                .get(format!("{}/api/providers", c.api_base))
                .bearer_auth(&c.token)
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                providers = Some(r.status());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            providers.is_some(),
            "the replica serves the receiver's rows"
        );
        let other = http
            .get(format!("{}/api/auth/me", c.api_base))
            .bearer_auth("not-the-launch-token")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 401);
        shell.stop().await;
        receiver.stop().await.unwrap();
    }

    #[test]
    fn private_addresses_are_recognised() {
        assert!(is_private("http://192.168.1.20:8787"));
        assert!(is_private("http://10.0.0.5:8787"));
        assert!(!is_private("http://203.0.113.9:8787"));
        assert!(!is_private("https://calls.example.com"));
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}
