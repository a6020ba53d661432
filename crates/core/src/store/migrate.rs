//! Schema migrations (`user_version` holds the version). A database newer than
//! this build is refused rather than misread.

use crate::error::{Error, Result};
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

const V1: &str = include_str!("sql/v1.sql");
const V2: &str = include_str!("sql/v2.sql");

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1), M::up(V2)])
}

pub fn known_version() -> i64 {
    2
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
