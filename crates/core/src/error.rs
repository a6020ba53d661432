//! Errors of the domain and its store. Each carries a stable `code()` so the
//! edges never match on message text.

/// Every `error.code` the API answers with: stable and machine-readable,
/// so clients match on it and never on `message`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Invalid,
    Conflict,
    Forbidden,
    SchemaTooNew,
    MigrationFailed,
    StorageError,
    ShuttingDown,
    BadCredentials,
    BodyTimeout,
    BodyTooDeep,
    BodyTooLarge,
    BodyUnreadable,
    Busy,
    EmptyDelivery,
    IdempotencyKeyInUse,
    IdempotencyKeyMismatch,
    Internal,
    InvalidApiKey,
    InvalidIdempotencyKey,
    InvalidLoginCode,
    InvalidQuery,
    InvalidSignature,
    InvalidToken,
    MalformedBody,
    MalformedJson,
    /// A delivery that parses but is not what its route takes (a lead
    /// without its id): nothing was stored.
    MappingFailed,
    MethodNotAllowed,
    MissingApiKey,
    MissingCredentials,
    MissingSignature,
    MissingToken,
    NoSigningSecret,
    NotAReplica,
    NotTheReceiver,
    ReplicaNotReady,
    RetentionRunning,
    RouteNotFound,
    StaleSignature,
    TooFarBehind,
    TooManyAttempts,
    UnsupportedMediaType,
    ServerBusy,
    TlsRequired,
    UnsupportedEncoding,
    StorageUnavailable,
    MetricsFailed,
    MetricsTokenRequired,
    InvalidFlow,
    UnreadableIvrRequest,
    OriginNotAllowed,
    TotpRequired,
    InvalidTotp,
    PasswordChangeRequired,
    SessionExpired,
    CsrfFailed,
    NoDialer,
    PlatformError,
    /// On a replica: the password is right, but for another user than the
    /// one the replica mirrors (its cache holds that user's view only).
    ReplicaUserMismatch,
    /// On a replica: signing in is checked by the receiver, which cannot be
    /// reached now.
    SignInNeedsReceiver,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::NotFound,
        ErrorCode::Invalid,
        ErrorCode::Conflict,
        ErrorCode::Forbidden,
        ErrorCode::SchemaTooNew,
        ErrorCode::MigrationFailed,
        ErrorCode::StorageError,
        ErrorCode::ShuttingDown,
        ErrorCode::BadCredentials,
        ErrorCode::BodyTimeout,
        ErrorCode::BodyTooDeep,
        ErrorCode::BodyTooLarge,
        ErrorCode::BodyUnreadable,
        ErrorCode::Busy,
        ErrorCode::EmptyDelivery,
        ErrorCode::IdempotencyKeyInUse,
        ErrorCode::IdempotencyKeyMismatch,
        ErrorCode::Internal,
        ErrorCode::InvalidApiKey,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::InvalidLoginCode,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidSignature,
        ErrorCode::InvalidToken,
        ErrorCode::MalformedBody,
        ErrorCode::MalformedJson,
        ErrorCode::MappingFailed,
        ErrorCode::MethodNotAllowed,
        ErrorCode::MissingApiKey,
        ErrorCode::MissingCredentials,
        ErrorCode::MissingSignature,
        ErrorCode::MissingToken,
        ErrorCode::NoSigningSecret,
        ErrorCode::NotAReplica,
        ErrorCode::NotTheReceiver,
        ErrorCode::ReplicaNotReady,
        ErrorCode::RetentionRunning,
        ErrorCode::RouteNotFound,
        ErrorCode::StaleSignature,
        ErrorCode::TooFarBehind,
        ErrorCode::TooManyAttempts,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ServerBusy,
        ErrorCode::TlsRequired,
        ErrorCode::UnsupportedEncoding,
        ErrorCode::StorageUnavailable,
        ErrorCode::MetricsFailed,
        ErrorCode::MetricsTokenRequired,
        ErrorCode::InvalidFlow,
        ErrorCode::UnreadableIvrRequest,
        ErrorCode::OriginNotAllowed,
        ErrorCode::TotpRequired,
        ErrorCode::InvalidTotp,
        ErrorCode::PasswordChangeRequired,
        ErrorCode::SessionExpired,
        ErrorCode::CsrfFailed,
        ErrorCode::NoDialer,
        ErrorCode::PlatformError,
        ErrorCode::ReplicaUserMismatch,
        ErrorCode::SignInNeedsReceiver,
    ];

    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SchemaTooNew => "schema_too_new",
            ErrorCode::MigrationFailed => "migration_failed",
            ErrorCode::StorageError => "storage_error",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::BodyTimeout => "body_timeout",
            ErrorCode::BodyTooDeep => "body_too_deep",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BodyUnreadable => "body_unreadable",
            ErrorCode::Busy => "busy",
            ErrorCode::EmptyDelivery => "empty_delivery",
            ErrorCode::IdempotencyKeyInUse => "idempotency_key_in_use",
            ErrorCode::IdempotencyKeyMismatch => "idempotency_key_mismatch",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::InvalidLoginCode => "invalid_login_code",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::MalformedBody => "malformed_body",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MappingFailed => "mapping_failed",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::MissingApiKey => "missing_api_key",
            ErrorCode::MissingCredentials => "missing_credentials",
            ErrorCode::MissingSignature => "missing_signature",
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::NoSigningSecret => "no_signing_secret",
            ErrorCode::NotAReplica => "not_a_replica",
            ErrorCode::NotTheReceiver => "not_the_receiver",
            ErrorCode::ReplicaNotReady => "replica_not_ready",
            ErrorCode::RetentionRunning => "retention_running",
            ErrorCode::RouteNotFound => "route_not_found",
            ErrorCode::StaleSignature => "stale_signature",
            ErrorCode::TooFarBehind => "too_far_behind",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ServerBusy => "server_busy",
            ErrorCode::TlsRequired => "tls_required",
            ErrorCode::UnsupportedEncoding => "unsupported_encoding",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::MetricsFailed => "metrics_failed",
            ErrorCode::MetricsTokenRequired => "metrics_token_required",
            ErrorCode::InvalidFlow => "invalid_flow",
            ErrorCode::UnreadableIvrRequest => "unreadable_ivr_request",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::TotpRequired => "totp_required",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::InvalidTotp => "invalid_totp",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::NoDialer => "no_dialer",
            ErrorCode::PlatformError => "platform_error",
            ErrorCode::ReplicaUserMismatch => "replica_user_mismatch",
            ErrorCode::SignInNeedsReceiver => "sign_in_needs_receiver",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    Sqlite(rusqlite::Error),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    /// A stored value this build cannot read, instead of a quiet default.
    #[error("corrupt stored value: {0}")]
    Corrupt(#[from] Corrupt),
    #[error("the store is shut down")]
    Closed,
    /// The cluster's PostgreSQL cannot be reached, or refused the commit:
    /// nothing was acknowledged, and it passes when the database returns.
    #[error("shared database: {0}")]
    Cluster(String),
    #[error("password hashing failed: {0}")]
    Password(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::SchemaTooNew { .. } => ErrorCode::SchemaTooNew,
            Error::Migration(_) => ErrorCode::MigrationFailed,
            Error::Sqlite(_)
            | Error::Commit(_)
            | Error::Json(_)
            | Error::Password(_)
            | Error::Corrupt(_) => ErrorCode::StorageError,
            Error::Closed => ErrorCode::ShuttingDown,
            Error::Cluster(_) => ErrorCode::StorageUnavailable,
        }
    }

    /// The disk is full or the database cannot be written (read-only file
    /// system, I/O error): a condition of the machine that passes when space
    /// or permissions return, not a bug in the request.
    pub fn is_storage_unavailable(&self) -> bool {
        match self {
            Error::Cluster(_) => true,
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

/// Which stored value failed to decode: the table, the row and the column.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {row}, column {column}: {reason}")]
pub struct Corrupt {
    pub table: &'static str,
    /// The row's id (or key).
    pub row: String,
    pub column: &'static str,
    pub reason: String,
}

impl From<rusqlite::Error> for Error {
    /// A row decoder reports a [`Corrupt`] value through rusqlite's
    /// conversion error; it comes back out here with its table and row.
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::FromSqlConversionFailure(i, t, inner) => {
                match inner.downcast::<Corrupt>() {
                    Ok(c) => Error::Corrupt(*c),
                    Err(inner) => {
                        Error::Sqlite(rusqlite::Error::FromSqlConversionFailure(i, t, inner))
                    }
                }
            }
            e => Error::Sqlite(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_error_code_serialises_as_its_wire_string() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            let back: ErrorCode = serde_json::from_value(json).unwrap();
            assert_eq!(back, *code);
        }
        let mut wires: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        wires.sort_unstable();
        wires.dedup();
        assert_eq!(
            wires.len(),
            ErrorCode::ALL.len(),
            "two codes share a wire string"
        );
    }
}
