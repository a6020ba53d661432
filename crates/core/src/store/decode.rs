//! Decoding stored values in row readers. A value this build cannot read is
//! an [`Error::Corrupt`](crate::Error::Corrupt) naming the table, the row and
//! the column: never a quiet default that hides the damage.

use crate::error::Corrupt;
use rusqlite::types::Type;
use rusqlite::Row;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Display;

/// Where a value was read from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<R> {
    pub table: &'static str,
    pub row: R,
}

impl<R: Display + Copy> At<R> {
    pub fn new(table: &'static str, row: R) -> At<R> {
        At { table, row }
    }

    fn corrupt(self, idx: usize, column: &'static str, reason: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            Type::Text,
            Box::new(Corrupt {
                table: self.table,
                row: self.row.to_string(),
                column,
                reason,
            }),
        )
    }

    fn decode<T>(
        self,
        idx: usize,
        column: &'static str,
        parsed: serde_json::Result<T>,
    ) -> rusqlite::Result<T> {
        parsed.map_err(|e| self.corrupt(idx, column, e.to_string()))
    }

    /// A text column holding JSON.
    pub fn json<T: DeserializeOwned>(
        self,
        r: &Row<'_>,
        idx: usize,
        column: &'static str,
    ) -> rusqlite::Result<T> {
        self.decode(idx, column, serde_json::from_str(&r.get::<_, String>(idx)?))
    }

    /// A nullable text column holding JSON (NULL reads as `None`).
    pub fn json_opt<T: DeserializeOwned>(
        self,
        r: &Row<'_>,
        idx: usize,
        column: &'static str,
    ) -> rusqlite::Result<Option<T>> {
        let text: Option<String> = r.get(idx)?;
        text.map(|t| self.decode(idx, column, serde_json::from_str(&t)))
            .transpose()
    }

    /// A text column holding one of an enum's wire strings.
    pub fn wire<T: DeserializeOwned>(
        self,
        r: &Row<'_>,
        idx: usize,
        column: &'static str,
    ) -> rusqlite::Result<T> {
        self.decode(
            idx,
            column,
            serde_json::from_value(Value::String(r.get(idx)?)),
        )
    }

    /// A nullable text column holding one of an enum's wire strings.
    pub fn wire_opt<T: DeserializeOwned>(
        self,
        r: &Row<'_>,
        idx: usize,
        column: &'static str,
    ) -> rusqlite::Result<Option<T>> {
        let text: Option<String> = r.get(idx)?;
        text.map(|t| self.decode(idx, column, serde_json::from_value(Value::String(t))))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::At;
    use crate::error::Error;
    use crate::store::users::Role;
    use rusqlite::Connection;

    fn read_role(conn: &Connection, sql: &str) -> crate::Result<Role> {
        Ok(conn.query_row(sql, [], |r| At::new("users", 7).wire(r, 0, "role"))?)
    }

    #[test]
    fn an_unknown_wire_string_names_the_table_row_and_column() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(read_role(&conn, "SELECT 'admin'").unwrap(), Role::Admin);
        match read_role(&conn, "SELECT 'owner'") {
            Err(Error::Corrupt(c)) => {
                assert_eq!((c.table, c.row.as_str(), c.column), ("users", "7", "role"));
                assert!(c.reason.contains("owner"), "{}", c.reason);
            }
            other => panic!("expected a corrupt-row error, got {other:?}"),
        }
    }

    #[test]
    fn corrupt_json_is_an_error_not_a_default() {
        let conn = Connection::open_in_memory().unwrap();
        let read = |sql: &str| -> crate::Result<Vec<String>> {
            Ok(conn.query_row(sql, [], |r| {
                At::new("users", "ann").json(r, 0, "departments")
            })?)
        };
        assert_eq!(read("SELECT '[\"sales\"]'").unwrap(), vec!["sales"]);
        let e = read("SELECT '[\"sales\"'").unwrap_err();
        assert!(matches!(e, Error::Corrupt(_)), "{e:?}");
        assert!(
            e.to_string().contains("users row ann, column departments"),
            "{e}"
        );
    }

    #[test]
    fn other_conversion_failures_stay_sqlite_errors() {
        let conn = Connection::open_in_memory().unwrap();
        let e: Error = conn
            .query_row("SELECT 'x'", [], |r| r.get::<_, i64>(0))
            .unwrap_err()
            .into();
        assert!(matches!(e, Error::Sqlite(_)), "{e:?}");
    }
}
