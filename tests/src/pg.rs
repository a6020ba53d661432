//! A throwaway PostgreSQL for the cluster tests and `ingest-bench
//! --database-url`: Debian's `postgresql` binaries (`initdb`, `pg_ctl`), a
//! cluster in a temporary directory on a free loopback port, run as the
//! `postgres` user when the tests run as root (PostgreSQL refuses root).
//! No Docker, nothing left behind: dropped, it stops immediately.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Pg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_user: Option<String>,
    durable: bool,
    /// `ssl=on` with a certificate for 127.0.0.1 signed by a test CA.
    tls: bool,
}

/// `$CALLBOARD_PG_BIN`, else the newest `/usr/lib/postgresql/<v>/bin`.
fn bin_dir() -> Result<PathBuf> {
    if let Ok(b) = std::env::var("CALLBOARD_PG_BIN") {
        return Ok(PathBuf::from(b));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (/usr/lib/postgresql): run scripts/deps")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, b)| b)
        .context("no initdb under /usr/lib/postgresql/*/bin: run scripts/deps")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Pg {
    /// A cluster for tests: commits are not flushed to disk (the tests kill
    /// receivers, not the machine).
    pub fn start() -> Result<Pg> {
        Self::start_with(false)
    }

    /// `durable`: `fsync` and synchronous commit on, as in production (benchmarks).
    pub fn start_with(durable: bool) -> Result<Pg> {
        Self::start_full(durable, false)
    }

    /// A cluster that also speaks TLS, with a server certificate for
    /// 127.0.0.1 signed by a CA of its own, whose PEM is [`Pg::ca_file`].
    pub fn start_tls() -> Result<Pg> {
        Self::start_full(false, true)
    }

    /// The test CA's certificate (PEM), for `CALLBOARD_DATABASE_CA`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn write_certificates(&self) -> Result<()> {
        let ca = crate::pki::TestCa::new()?;
        let leaf = ca.leaf("localhost")?;
        std::fs::write(self.ca_file(), ca.pem())?;
        let data = self.dir.path().join("data");
        std::fs::write(data.join("server.crt"), &leaf.cert_pem)?;
        let key_file = data.join("server.key");
        std::fs::write(&key_file, &leaf.key_pem)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))?;
        if let Some(user) = &self.as_user {
            for f in ["server.crt", "server.key"] {
                Command::new("chown").arg(user).arg(data.join(f)).status()?;
            }
        }
        Ok(())
    }

    fn start_full(durable: bool, tls: bool) -> Result<Pg> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("callboard-pg-").tempdir()?;
        let as_user = is_root().then(|| "postgres".to_string());
        if let Some(user) = &as_user {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(dir.path())
                .status()?;
            if !status.success() {
                bail!("cannot hand {} to {user}", dir.path().display());
            }
        }
        let pg = Pg {
            dir,
            bin,
            port: free_port()?,
            as_user,
            durable,
            tls,
        };
        let data = pg.data();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "callboard",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        if tls {
            pg.write_certificates()?;
        }
        pg.start_again()?;
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<Output> {
        let exe = self.bin.join(tool);
        let out = match &self.as_user {
            Some(u) => Command::new("runuser")
                .args(["-u", u, "--"])
                .arg(&exe)
                .args(args)
                .current_dir(self.dir.path())
                .output(),
            None => Command::new(&exe)
                .args(args)
                .current_dir(self.dir.path())
                .output(),
        };
        out.with_context(|| format!("cannot run {}", exe.display()))
    }

    /// Starts (again) on the same port and data, waiting until it accepts.
    pub fn start_again(&self) -> Result<()> {
        let durability = if self.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let tls = if self.tls {
            " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
        } else {
            ""
        };
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300{durability}{tls}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        if !out.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "pg_ctl start failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Stops (fast: open sessions are cut, as in a restart).
    pub fn stop(&self) -> Result<()> {
        let out = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])?;
        if !out.status.success() {
            bail!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://callboard@127.0.0.1:{}/{db}", self.port)
    }

    /// SQL through `psql` on database `db`; its output, unaligned.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let exe = self.bin.join("psql");
        let out = Command::new(&exe)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "callboard",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .with_context(|| format!("cannot run {}", exe.display()))?;
        if !out.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> Result<String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(&name))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// `$CALLBOARD_TEST_PG`: the PostgreSQL `scripts/test` started for running
/// the black-box tests on the cluster engine (`scripts/pg`). When set, every
/// receiver the harness starts is a one-instance cluster on a database of
/// its own there.
pub fn test_engine() -> Option<String> {
    std::env::var("CALLBOARD_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new, empty database on the PostgreSQL at `base` (a URL naming an
/// existing database); its URL.
pub fn database_on(base: &str) -> Result<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let psql = bin_dir()?.join("psql");
    let out = Command::new(&psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .with_context(|| format!("cannot run {}", psql.display()))?;
    if !out.status.success() {
        bail!("CREATE DATABASE: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (prefix, _) = base
        .rsplit_once('/')
        .context("the PostgreSQL URL names no database")?;
    Ok(format!("{prefix}/{name}"))
}

/// Under [`test_engine`], the cluster database of data directory `dir`: the
/// one it was first started on (noted in the directory), so a receiver
/// started again on it (after a crash, in-process after the binary) finds
/// its cluster.
pub fn database_for(dir: &Path) -> Result<Option<String>> {
    let Some(base) = test_engine() else {
        return Ok(None);
    };
    let note = dir.join(".test-database-url");
    if let Ok(url) = std::fs::read_to_string(&note) {
        return Ok(Some(url.trim().to_string()));
    }
    let url = database_on(&base)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(&note, &url)?;
    Ok(Some(url))
}
