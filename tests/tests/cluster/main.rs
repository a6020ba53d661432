//! Several receivers on one PostgreSQL (`serve --database-url`): one history
//! on every instance, a gap-free event stream, duplicates and statuses that
//! behave as on one machine, the leader's jobs moving when it dies, 503s (and
//! nothing acknowledged lost) while PostgreSQL restarts, and
//! `migrate-storage`. A real PostgreSQL (`callboard_tests::pg`), real
//! receivers on loopback.

mod faults;
mod shared;
mod storage;

use anyhow::Result;
use callboard_tests::TestServer;

/// The binary as one instance of the cluster on `url`, over `dir`.
pub async fn instance_in(dir: tempfile::TempDir, url: &str) -> Result<TestServer> {
    TestServer::launch(dir, &["serve"], &[("CALLBOARD_DATABASE_URL", url)]).await
}

/// [`instance_in`] over a fresh data directory.
pub async fn instance(url: &str) -> Result<TestServer> {
    instance_in(tempfile::tempdir()?, url).await
}
