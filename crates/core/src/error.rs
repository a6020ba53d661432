//! Errors of the domain and its store. Each carries a stable `code()` so the
//! edges never match on message text.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("database schema version {found} is newer than this build knows ({known}); upgrade Callboard")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the store is shut down")]
    Closed,
    #[error("password hashing failed: {0}")]
    Password(String),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::Invalid(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::Forbidden(_) => "forbidden",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::Migration(_) => "migration_failed",
            Error::Sqlite(_) | Error::Commit(_) | Error::Json(_) | Error::Password(_) => {
                "storage_error"
            }
            Error::Closed => "shutting_down",
        }
    }

    /// The disk is full or the database cannot be written (read-only file
    /// system, I/O error): a condition of the machine that passes when space
    /// or permissions return, not a bug in the request.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::CannotOpen
            ),
            Error::Commit(m) => {
                let m = m.to_ascii_lowercase();
                m.contains("disk is full")
                    || m.contains("readonly")
                    || m.contains("read-only")
                    || m.contains("disk i/o error")
                    || m.contains("unable to open")
            }
            _ => false,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }
    pub fn invalid(what: impl Into<String>) -> Self {
        Error::Invalid(what.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
