//! `migrate-storage`, and what a receiver refuses to start on.

use super::{instance, instance_in};
use anyhow::Result;
use callboard_tests::pg::Pg;
use callboard_tests::{binary, event, TestServer, ADMIN_TOKEN};
use std::path::Path;
use std::process::Output;

async fn callboard(args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    let mut cmd = tokio::process::Command::new(binary());
    cmd.args(args)
        .env("CALLBOARD_LOG", "warn")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output()).await??)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn serve_refused(dir: &Path, url: &str) -> Result<String> {
    let dir = dir.display().to_string();
    let out = callboard(
        &["serve", "--data-dir", &dir, "--listen", "127.0.0.1:0"],
        &[("CALLBOARD_DATABASE_URL", url)],
    )
    .await?;
    assert!(!out.status.success(), "it started: {}", text(&out));
    Ok(text(&out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_database_moves_into_postgres_verified_and_the_cluster_serves_it() -> Result<()> {
    let pg = Pg::start()?;
    let url = pg.database()?;
    // An office on SQLite, with calls.
    let mut office = TestServer::start_process().await?;
    let (slug, key) = office.provider("Reception").await?;
    for (id, status) in [
        ("o-1", "no-answer"),
        ("o-2", "completed"),
        ("o-3", "abandoned"),
    ] {
        let (s, _) = office
            .webhook(&slug, &key, &event(id, status, "+15550100"))
            .await?;
        assert_eq!(s, 200);
    }
    office.stop().await?;
    let data = office.dir.path().display().to_string();

    // Starting a cluster on it directly is refused: its calls would be left out.
    let refused = serve_refused(office.dir.path(), &url).await?;
    assert!(refused.contains("migrate-storage"), "{refused}");

    let out = callboard(&["migrate-storage", "--from", &data, "--to", &url], &[]).await?;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("every table's row count matches"), "{said}");
    assert!(
        said.lines()
            .any(|l| l.trim_start().starts_with("calls ") && l.contains(" 3 rows")),
        "{said}"
    );

    // A second copy into the same database is refused unless forced.
    let again = callboard(&["migrate-storage", "--from", &data, "--to", &url], &[]).await?;
    assert!(!again.status.success());
    assert!(text(&again).contains("--force"), "{}", text(&again));

    // A new instance, on an empty data directory, serves the office's history.
    let cluster = instance(&url).await?;
    assert_eq!(cluster.call(&slug, "o-1").await?["status"], "missed");
    assert_eq!(cluster.call(&slug, "o-2").await?["status"], "completed");
    let (s, ack) = cluster
        .webhook(&slug, &key, &event("o-4", "ringing", "+15550101"))
        .await?;
    assert_eq!(
        (s, ack["status"].as_str()),
        (200, Some("applied")),
        "the provider's key came along: {ack}"
    );
    let (s, users) = cluster.get_json("/api/users", ADMIN_TOKEN).await?;
    assert_eq!(s, 200);
    let names: Vec<&str> = users["data"]
        .as_array()
        .map(|u| u.iter().filter_map(|u| u["username"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        ["admin"],
        "the office's administrator came along, and no second one was made"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_on_either_engine_is_refused() -> Result<()> {
    let pg = Pg::start()?;
    let url = pg.database()?;
    let db = url.rsplit('/').next().unwrap_or_default().to_string();
    let mut first = instance(&url).await?;
    first.stop().await?;

    pg.psql(&db, "UPDATE callboard_cluster SET sqlite_schema = 999")?;
    let fresh = tempfile::tempdir()?;
    let said = serve_refused(fresh.path(), &url).await?;
    assert!(said.contains("999") && said.contains("newer"), "{said}");

    pg.psql(&db, "UPDATE callboard_cluster SET sqlite_schema = (SELECT sqlite_schema FROM callboard_snapshots ORDER BY id DESC LIMIT 1)")?;
    pg.psql(&db, "UPDATE callboard_schema SET version = 99")?;
    let said = serve_refused(fresh.path(), &url).await?;
    assert!(said.contains("99") && said.contains("newer"), "{said}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_clear_refusal_to_start() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let said = serve_refused(dir.path(), "postgres://callboard@127.0.0.1:1/none").await?;
    assert!(
        said.to_lowercase().contains("shared database") || said.contains("connect"),
        "{said}"
    );
    let bad = serve_refused(dir.path(), "not a url").await?;
    assert!(bad.contains("database URL"), "{bad}");
    Ok(())
}

/// A cluster left at an older schema is refused by a newer build, with the
/// way out; `migrate-storage --upgrade` (every instance stopped) brings it to
/// this build's schema, history and log included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_cluster_is_refused_until_upgraded_with_its_history() -> Result<()> {
    let pg = Pg::start()?;
    let url = pg.database()?;
    let db = url.rsplit('/').next().unwrap_or_default().to_string();
    let mut first = instance(&url).await?;
    let (slug, key) = first.provider("Upgrade").await?;
    let (s, _) = first
        .webhook(&slug, &key, &event("u-1", "no-answer", "+15550400"))
        .await?;
    assert_eq!(s, 200);
    first.stop().await?;
    // As an older build would have left it (the stored schema one behind).
    let current: i64 = pg
        .psql(&db, "SELECT sqlite_schema FROM callboard_cluster")?
        .parse()?;
    pg.psql(
        &db,
        &format!(
            "UPDATE callboard_cluster SET sqlite_schema = {}",
            current - 1
        ),
    )?;
    pg.psql(
        &db,
        &format!(
            "UPDATE callboard_snapshots SET sqlite_schema = {}",
            current - 1
        ),
    )?;

    let fresh = tempfile::tempdir()?;
    let said = serve_refused(fresh.path(), &url).await?;
    assert!(said.contains("migrate-storage --upgrade"), "{said}");

    let out = callboard(&["migrate-storage", "--upgrade", "--to", &url], &[]).await?;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("schema v{current}")),
        "{}",
        text(&out)
    );
    assert_eq!(
        pg.psql(&db, "SELECT sqlite_schema FROM callboard_cluster")?,
        current.to_string()
    );

    let again = instance_in(fresh, &url).await?;
    assert_eq!(again.call(&slug, "u-1").await?["status"], "missed");
    Ok(())
}

/// `sslmode=require`: the connection is encrypted and the server verified,
/// against the CA in `CALLBOARD_DATABASE_CA`; an unknown certificate is
/// refused, never used unverified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_encrypts_and_verifies_the_server() -> Result<()> {
    let pg = Pg::start_tls()?;
    let url = format!("{}?sslmode=require", pg.database()?);
    let db = url
        .rsplit('/')
        .next()
        .and_then(|d| d.split('?').next())
        .unwrap_or_default()
        .to_string();

    let unknown = tempfile::tempdir()?;
    let said = serve_refused(unknown.path(), &url).await?;
    assert!(said.to_lowercase().contains("certificate"), "{said}");

    let ca = pg.ca_file().display().to_string();
    let srv = TestServer::launch(
        tempfile::tempdir()?,
        &["serve"],
        &[
            ("CALLBOARD_DATABASE_URL", &url),
            ("CALLBOARD_DATABASE_CA", &ca),
        ],
    )
    .await?;
    let (slug, key) = srv.provider("Encrypted").await?;
    let (s, _) = srv
        .webhook(&slug, &key, &event("tls-1", "ringing", "+15550600"))
        .await?;
    assert_eq!(s, 200);
    let plain = pg.psql(
        &db,
        "SELECT COUNT(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.application_name = 'callboard' AND NOT s.ssl",
    )?;
    let encrypted = pg.psql(
        &db,
        "SELECT COUNT(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.application_name = 'callboard' AND s.ssl",
    )?;
    assert_eq!(plain, "0", "every session of the receiver is encrypted");
    assert!(
        encrypted.parse::<i64>()? >= 2,
        "{encrypted} encrypted sessions"
    );
    Ok(())
}

/// An instance's data directory started without `--database-url` becomes a
/// database of its own; started in the cluster again, it takes the cluster's
/// state (its local-only writes set aside), never a mix of both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_run_alone_then_rejoined_takes_the_clusters_state() -> Result<()> {
    let pg = Pg::start()?;
    let url = pg.database()?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().to_path_buf();
    let mut member = instance_in(dir, &url).await?;
    let (slug, key) = member.provider("Branch").await?;
    let (s, _) = member
        .webhook(&slug, &key, &event("j-1", "no-answer", "+15550700"))
        .await?;
    assert_eq!(s, 200);
    member.stop().await?;
    let dir = std::mem::replace(&mut member.dir, tempfile::tempdir()?);

    // On its own: it keeps the history and takes a write of its own.
    let mut alone = TestServer::launch(dir, &["serve"], &[]).await?;
    assert_eq!(alone.call(&slug, "j-1").await?["status"], "missed");
    let (s, _) = alone
        .webhook(&slug, &key, &event("j-local", "no-answer", "+15550700"))
        .await?;
    assert_eq!(s, 200);
    alone.stop().await?;
    let dir = std::mem::replace(&mut alone.dir, tempfile::tempdir()?);

    // Meanwhile the cluster moved on.
    let other = instance(&url).await?;
    let (s, _) = other
        .webhook(&slug, &key, &event("j-2", "no-answer", "+15550700"))
        .await?;
    assert_eq!(s, 200);

    let back = instance_in(dir, &url).await?;
    assert_eq!(back.call(&slug, "j-2").await?["status"], "missed");
    assert!(
        back.call(&slug, "j-local").await.is_err(),
        "the local-only write is not in the cluster"
    );
    assert!(
        path.join("callboard.db.before-cluster").exists(),
        "the copy it ran alone was kept aside"
    );
    Ok(())
}
