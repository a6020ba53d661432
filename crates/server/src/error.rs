//! The one error shape every route answers with:
//! `{"error":{"code":"…","message":"…"}}`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use callboard_core::ErrorCode;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: match on this, never on `message`.
    pub code: ErrorCode,
    pub message: String,
    /// On a 409 for a call: the call as it is now, so the person sees what
    /// changed (for example someone else's disposition).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to send as `Retry-After`.
    pub retry_after: Option<u64>,
    /// The entity's current state, sent with a conflict.
    pub current: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            current: None,
        }
    }
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid,
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code.as_str(), message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                current: self.current,
            },
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        res
    }
}

impl From<callboard_core::Error> for ApiError {
    fn from(e: callboard_core::Error) -> Self {
        use callboard_core::Error as E;
        if let E::Cluster(m) = &e {
            tracing::error!(error = %m, "the cluster's PostgreSQL refused or missed the commit");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StorageUnavailable,
                "the shared database (PostgreSQL) cannot take writes now: nothing was stored; retry later (see /readyz)",
            );
        }
        // Disk full or read-only: 503 (retry later), never a 2xx, never "a bug".
        if e.is_storage_unavailable() {
            tracing::error!(error = %e, "storage unavailable: the disk is full or read-only");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StorageUnavailable,
                "the data directory cannot take writes now (disk full or read-only): see /readyz",
            );
        }
        let status = match &e {
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::Conflict(_) => StatusCode::CONFLICT,
            E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::Closed => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status.is_server_error() && !matches!(e, E::Closed) {
            // The cause goes to the log, inside the request's span.
            tracing::error!(error = %e, "storage failure");
            "internal storage error: see the server log".to_string()
        } else {
            e.to_string()
        };
        ApiError::new(status, e.code(), message)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let (status, code) = match &r {
            JsonRejection::MissingJsonContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            JsonRejection::JsonDataError(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid)
            }
            JsonRejection::BytesRejection(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge)
            }
            _ => (StatusCode::BAD_REQUEST, ErrorCode::MalformedJson),
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
            r.body_text(),
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json` whose rejections speak our error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `Query` whose rejections speak our error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A JSON body that may be absent altogether (empty body → `None`).
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> axum::extract::FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::BodyTooLarge,
                    e.body_text(),
                )
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(OptionalJson(Some(v))),
            Err(e) => {
                let syntax = e.inner().is_syntax() || e.inner().is_eof();
                if syntax {
                    Err(ApiError::bad_request(
                        ErrorCode::MalformedJson,
                        e.to_string(),
                    ))
                } else {
                    Err(ApiError::invalid(e.to_string()))
                }
            }
        }
    }
}
