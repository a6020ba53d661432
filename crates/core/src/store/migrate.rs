//! Schema migrations (`user_version` holds the version). A database newer than
//! this build is refused rather than misread.

use crate::error::{Error, Result};
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

const V1: &str = include_str!("sql/v1.sql");
const V2: &str = include_str!("sql/v2.sql");
const V3: &str = include_str!("sql/v3_analytics.sql");
const V4: &str = include_str!("sql/v4_replica.sql");
const V5: &str = include_str!("sql/v5_ops.sql");
const V6: &str = include_str!("sql/v6_cockpit.sql");

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
    ])
}

pub fn known_version() -> i64 {
    6
}

pub fn run(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known_version() {
        return Err(Error::SchemaTooNew {
            found,
            known: known_version(),
        });
    }
    migrations()
        .to_latest(conn)
        .map_err(|e| Error::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn a_v1_database_upgrades_and_its_providers_keep_the_header_key() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(V1)])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute(
            "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
             VALUES ('old', 'Old', 'h', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [],
        )
        .unwrap();
        run(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, known_version());
        let p = crate::store::providers::get(&conn, "old").unwrap();
        assert_eq!(p.auth_scheme, "api_key");
        assert_eq!(p.auth_config["header"], "x-api-key");
        assert!(!p.has_signing_secret && p.domains.is_empty() && p.preset.is_none());
        let cache = crate::store::ProviderCache::load(&conn).unwrap();
        assert_eq!(
            cache.get("old").unwrap().auth,
            crate::signature::AuthScheme::default()
        );
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", known_version() + 1)
            .unwrap();
        match run(&mut conn) {
            Err(Error::SchemaTooNew { found, known }) => {
                assert_eq!(found, known_version() + 1);
                assert_eq!(known, known_version());
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
}
