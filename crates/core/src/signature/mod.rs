//! How a provider proves a webhook is its own: the authentication schemes a
//! provider can be configured with, and their verification. The scheme is
//! data on the provider (`auth_config`); only the schemes are code.
//!
//! Every comparison of a secret or a signature is constant-time.

mod ed25519;
mod hmac_body;
mod jwt;
mod plivo;
mod token;
mod twilio;

use crate::error::ErrorCode;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use ed25519::public_key as ed25519_public_key;
pub use hmac_body::sign as hmac_sha256_signature;
pub use jwt::sign_hs256;
pub use plivo::plivo_v3_signature;
pub use twilio::twilio_signature;

/// The header an API key is sent in when nothing else is configured.
pub const DEFAULT_KEY_HEADER: &str = "x-api-key";

fn default_key_header() -> String {
    DEFAULT_KEY_HEADER.to_string()
}
fn default_param() -> String {
    "token".to_string()
}
fn default_username() -> String {
    "callboard".to_string()
}
fn default_tolerance() -> i64 {
    300
}
fn verification_header() -> String {
    "verification-token".to_string()
}
fn validation_header() -> Option<String> {
    Some("validation-token".to_string())
}
fn telnyx_signature() -> String {
    "telnyx-signature-ed25519".to_string()
}
fn telnyx_timestamp() -> String {
    "telnyx-timestamp".to_string()
}

/// How a signature is written in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
}

/// One provider's authentication scheme, as stored in `auth_config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum AuthScheme {
    /// The provider's API key in a header (default `x-api-key`).
    ApiKey {
        #[serde(default = "default_key_header")]
        header: String,
    },
    /// The API key as a query-string parameter (default `token`), for
    /// platforms that cannot set headers. The parameter is removed before the
    /// delivery is stored.
    QueryToken {
        #[serde(default = "default_param")]
        param: String,
    },
    /// HMAC-SHA256 of the raw body with the signing secret, in `header`,
    /// hex or base64, after an optional `prefix` (e.g. `sha256=`). With
    /// `timestamp_header`, the signed text is `{timestamp}.{body}` and a
    /// timestamp older than `tolerance_seconds` is refused as a replay.
    HmacSha256 {
        header: String,
        #[serde(default)]
        encoding: Encoding,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_header: Option<String>,
        #[serde(default = "default_tolerance")]
        tolerance_seconds: i64,
    },
    /// Twilio's `X-Twilio-Signature`: HMAC-SHA1 with the account's auth token
    /// over the public URL plus the sorted form parameters, base64.
    Twilio,
    /// Plivo's `X-Plivo-Signature-V3` (HMAC-SHA256 with the account's auth
    /// token over the method-dependent canonical URL, the sorted parameters
    /// and `X-Plivo-Signature-V3-Nonce`), or the older V2 (URL without query
    /// plus `X-Plivo-Signature-V2-Nonce`) when no V3 header is sent.
    Plivo,
    /// The whole body is a compact JWT signed HS256 with the signing secret
    /// (Dialpad); its claims are the event.
    JwtHs256,
    /// `Authorization: Bearer <JWT>` signed HS256 with the signing secret,
    /// issued (`iat`) within `tolerance_seconds`, its `payload_hash` claim
    /// the hex SHA-256 of the body (Vonage's signed webhooks).
    BearerJwt {
        #[serde(default = "default_tolerance")]
        tolerance_seconds: i64,
    },
    /// HTTP Basic: the configured user name and the API key as password.
    Basic {
        #[serde(default = "default_username")]
        username: String,
    },
    /// An Ed25519 signature (base64, in `header`) over `{timestamp}|{body}`
    /// with the timestamp from `timestamp_header` (Telnyx); the provider's
    /// secret is the platform's public key. A timestamp older than
    /// `tolerance_seconds` is refused as a replay.
    Ed25519 {
        #[serde(default = "telnyx_signature")]
        header: String,
        #[serde(default = "telnyx_timestamp")]
        timestamp_header: String,
        #[serde(default = "default_tolerance")]
        tolerance_seconds: i64,
    },
    /// The platform's webhook token as a top-level string `field` of the
    /// JSON body (Aircall's `token`); the provider's secret is that token.
    BodyToken {
        #[serde(default = "default_param")]
        field: String,
    },
    /// A static token in `header` on every notification (RingCentral's
    /// `Verification-Token`, the subscription's `verificationToken`), equal to
    /// the provider's signing secret. With `handshake_header`, a request
    /// that carries that header and no body is the platform checking the URL
    /// when the subscription is created: it is answered with the header
    /// echoed and nothing is stored.
    HeaderToken {
        #[serde(default = "verification_header")]
        header: String,
        #[serde(default = "validation_header")]
        handshake_header: Option<String>,
    },
}

impl Default for AuthScheme {
    fn default() -> Self {
        AuthScheme::ApiKey {
            header: default_key_header(),
        }
    }
}

/// What was wrong with a configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("auth_config: {0}")]
pub struct ConfigError(pub String);

impl AuthScheme {
    /// Reads and checks a stored or submitted configuration; `null` or `{}`
    /// is the default API-key scheme.
    pub fn from_config(v: &Value) -> Result<AuthScheme, ConfigError> {
        let empty = match v {
            Value::Null => true,
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if empty {
            return Ok(AuthScheme::default());
        }
        let scheme: AuthScheme = serde_json::from_value(v.clone()).map_err(|e| {
            ConfigError(format!(
                "{e} (schemes: api_key, query_token, hmac_sha256, twilio, plivo, jwt_hs256, bearer_jwt, basic, ed25519, body_token, header_token)"
            ))
        })?;
        scheme.validate()?;
        Ok(scheme)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let header_ok = |h: &str| {
            !h.is_empty()
                && h.len() <= 64
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        match self {
            AuthScheme::ApiKey { header } if !header_ok(header) => Err(ConfigError(format!(
                "header `{header}` is not a valid header name"
            ))),
            AuthScheme::QueryToken { param } if param.trim().is_empty() => {
                Err(ConfigError("param must not be empty".into()))
            }
            AuthScheme::HmacSha256 {
                header,
                timestamp_header,
                tolerance_seconds,
                ..
            } => {
                if !header_ok(header) {
                    return Err(ConfigError(format!(
                        "header `{header}` is not a valid header name"
                    )));
                }
                if let Some(t) = timestamp_header {
                    if !header_ok(t) {
                        return Err(ConfigError(format!(
                            "timestamp_header `{t}` is not a valid header name"
                        )));
                    }
                }
                if !(1..=86_400).contains(tolerance_seconds) {
                    return Err(ConfigError(
                        "tolerance_seconds must be between 1 and 86400".into(),
                    ));
                }
                Ok(())
            }
            AuthScheme::Basic { username } if username.is_empty() || username.contains(':') => Err(
                ConfigError("username must be non-empty and without `:`".into()),
            ),
            AuthScheme::Ed25519 {
                header,
                timestamp_header,
                tolerance_seconds,
            } => {
                for h in [header, timestamp_header] {
                    if !header_ok(h) {
                        return Err(ConfigError(format!(
                            "header `{h}` is not a valid header name"
                        )));
                    }
                }
                if !(1..=86_400).contains(tolerance_seconds) {
                    return Err(ConfigError(
                        "tolerance_seconds must be between 1 and 86400".into(),
                    ));
                }
                Ok(())
            }
            AuthScheme::BearerJwt { tolerance_seconds }
                if !(1..=86_400).contains(tolerance_seconds) =>
            {
                Err(ConfigError(
                    "tolerance_seconds must be between 1 and 86400".into(),
                ))
            }
            AuthScheme::BodyToken { field } if field.trim().is_empty() => {
                Err(ConfigError("field must not be empty".into()))
            }
            AuthScheme::HeaderToken {
                header,
                handshake_header,
            } => {
                for h in std::iter::once(header).chain(handshake_header) {
                    if !header_ok(h) {
                        return Err(ConfigError(format!(
                            "header `{h}` is not a valid header name"
                        )));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The scheme's name, as stored in `providers.auth_scheme`.
    pub fn name(&self) -> &'static str {
        match self {
            AuthScheme::ApiKey { .. } => "api_key",
            AuthScheme::QueryToken { .. } => "query_token",
            AuthScheme::HmacSha256 { .. } => "hmac_sha256",
            AuthScheme::Twilio => "twilio",
            AuthScheme::Plivo => "plivo",
            AuthScheme::JwtHs256 => "jwt_hs256",
            AuthScheme::BearerJwt { .. } => "bearer_jwt",
            AuthScheme::Basic { .. } => "basic",
            AuthScheme::Ed25519 { .. } => "ed25519",
            AuthScheme::BodyToken { .. } => "body_token",
            AuthScheme::HeaderToken { .. } => "header_token",
        }
    }

    /// True when the scheme verifies with a shared signing secret (kept in
    /// clear by the store) rather than the hashed API key.
    pub fn uses_signing_secret(&self) -> bool {
        matches!(
            self,
            AuthScheme::HmacSha256 { .. }
                | AuthScheme::Twilio
                | AuthScheme::Plivo
                | AuthScheme::JwtHs256
                | AuthScheme::BearerJwt { .. }
                | AuthScheme::Ed25519 { .. }
                | AuthScheme::BodyToken { .. }
                | AuthScheme::HeaderToken { .. }
        )
    }

    /// True when the secret is the platform's own (an auth token, a public
    /// key, a webhook token it issued): Callboard cannot generate it.
    pub fn secret_from_platform(&self) -> bool {
        matches!(
            self,
            AuthScheme::Twilio
                | AuthScheme::Plivo
                | AuthScheme::BearerJwt { .. }
                | AuthScheme::Ed25519 { .. }
                | AuthScheme::BodyToken { .. }
        )
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A webhook request as far as authentication needs it.
pub struct SignedRequest<'a> {
    /// `GET`, `POST`, … (Plivo signs it into what it signs).
    pub method: &'a str,
    /// The URL the platform called, as it saw it: the public base URL, the
    /// path and the query exactly as sent.
    pub url: &'a str,
    pub query: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// Header lookup by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub now: Timestamp,
}

/// The secrets a verification may use.
pub struct Secrets<'a> {
    /// Checks an offered API key against the stored hashes (current and, in
    /// its grace period, previous).
    pub key_matches: &'a dyn Fn(&str) -> bool,
    pub signing_secret: Option<&'a str>,
}

/// A verified request, with what the receiver must change before storing it.
#[derive(Debug, Default, PartialEq)]
pub struct Verified {
    /// A query parameter that carried the secret: drop it before storing.
    pub strip_query_param: Option<String>,
    /// The event to store instead of the body (a JWT's claims, as JSON).
    pub body: Option<Vec<u8>>,
    /// A URL check by the platform, not an event: answer with this header
    /// (name, value) and store nothing.
    pub handshake: Option<(String, String)>,
}

/// Why a request was refused: a stable code and a message that never
/// contains the secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn signing_secret<'a>(s: &Secrets<'a>) -> Result<&'a str, Refusal> {
    s.signing_secret.filter(|s| !s.is_empty()).ok_or_else(|| {
        refuse(
            ErrorCode::NoSigningSecret,
            "this provider has no signing secret yet: an admin must set it",
        )
    })
}

/// Checks `req` against `scheme`.
pub fn verify(
    scheme: &AuthScheme,
    secrets: &Secrets<'_>,
    req: &SignedRequest<'_>,
) -> Result<Verified, Refusal> {
    match scheme {
        AuthScheme::ApiKey { header } => {
            let key = (req.header)(&header.to_ascii_lowercase()).ok_or_else(|| {
                refuse(
                    ErrorCode::MissingApiKey,
                    format!("send the provider's API key in the `{header}` header"),
                )
            })?;
            check_key(secrets, &key)?;
            Ok(Verified::default())
        }
        AuthScheme::QueryToken { param } => {
            let key = query_param(req.query, param).ok_or_else(|| {
                refuse(
                    ErrorCode::MissingApiKey,
                    format!("add the provider's API key to the URL as `?{param}=…`"),
                )
            })?;
            check_key(secrets, &key)?;
            Ok(Verified {
                strip_query_param: Some(param.clone()),
                ..Verified::default()
            })
        }
        AuthScheme::Basic { username } => {
            let (user, pass) = basic_credentials(req).ok_or_else(|| {
                refuse(
                    ErrorCode::MissingCredentials,
                    "send HTTP Basic credentials (user name and the provider's API key)",
                )
            })?;
            let user_ok = same(&user, username);
            if !user_ok || !(secrets.key_matches)(&pass) {
                return Err(refuse(
                    ErrorCode::InvalidApiKey,
                    "the Basic credentials are wrong, rotated or expired",
                ));
            }
            Ok(Verified::default())
        }
        AuthScheme::HmacSha256 {
            header,
            encoding,
            prefix,
            timestamp_header,
            tolerance_seconds,
        } => {
            let secret = signing_secret(secrets)?;
            hmac_body::verify(
                &hmac_body::Config {
                    header,
                    encoding: *encoding,
                    prefix: prefix.as_deref(),
                    timestamp_header: timestamp_header.as_deref(),
                    tolerance_seconds: *tolerance_seconds,
                },
                secret,
                req,
            )?;
            Ok(Verified::default())
        }
        AuthScheme::Twilio => {
            let secret = signing_secret(secrets)?;
            twilio::verify(secret, req)?;
            Ok(Verified::default())
        }
        AuthScheme::Plivo => {
            let secret = signing_secret(secrets)?;
            plivo::verify(secret, req)?;
            Ok(Verified::default())
        }
        AuthScheme::JwtHs256 => {
            let secret = signing_secret(secrets)?;
            let claims = jwt::verify(secret, req.body, req.now)?;
            Ok(Verified {
                body: Some(claims),
                ..Verified::default()
            })
        }
        AuthScheme::BearerJwt { tolerance_seconds } => {
            let secret = signing_secret(secrets)?;
            jwt::verify_bearer(
                secret,
                (req.header)("authorization").as_deref(),
                req.body,
                req.now,
                *tolerance_seconds,
            )?;
            Ok(Verified::default())
        }
        AuthScheme::Ed25519 {
            header,
            timestamp_header,
            tolerance_seconds,
        } => {
            let public = signing_secret(secrets)?;
            ed25519::verify(
                &ed25519::Config {
                    header,
                    timestamp_header,
                    tolerance_seconds: *tolerance_seconds,
                },
                public,
                req,
            )?;
            Ok(Verified::default())
        }
        AuthScheme::BodyToken { field } => {
            token::in_body(field, signing_secret(secrets)?, req)?;
            Ok(Verified::default())
        }
        AuthScheme::HeaderToken {
            header,
            handshake_header,
        } => {
            if let Some(v) = handshake_header
                .as_deref()
                .and_then(|h| token::handshake(h, req))
            {
                return Ok(v);
            }
            token::in_header(header, signing_secret(secrets)?, req)?;
            Ok(Verified::default())
        }
    }
}

/// Constant-time equality of a secret and what was sent.
pub(crate) fn same(sent: &str, secret: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), secret.as_bytes()).into()
}

/// The signed timestamp from `header` (epoch seconds), refused when it is
/// further than `tolerance` seconds from now: a replay or a wrong clock.
fn fresh_timestamp(
    req: &SignedRequest<'_>,
    header: &str,
    tolerance: i64,
) -> Result<String, Refusal> {
    let ts = (req.header)(&header.to_ascii_lowercase()).ok_or_else(|| {
        refuse(
            ErrorCode::MissingSignature,
            format!("the `{header}` timestamp header is missing"),
        )
    })?;
    let ts = ts.trim().to_string();
    let secs: i64 = ts.parse().map_err(|_| {
        refuse(
            ErrorCode::InvalidSignature,
            format!("`{header}` is not epoch seconds"),
        )
    })?;
    let age = req.now.timestamp() - secs;
    if age.abs() > tolerance {
        return Err(refuse(
            ErrorCode::StaleSignature,
            format!(
                "the signed timestamp is {age} s away from now (tolerance {tolerance} s): a replay or a wrong clock"
            ),
        ));
    }
    Ok(ts)
}

fn check_key(secrets: &Secrets<'_>, key: &str) -> Result<(), Refusal> {
    if (secrets.key_matches)(key) {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::InvalidApiKey,
            "the API key is wrong, rotated or expired",
        ))
    }
}

/// The first value of `name` in a query string, percent-decoded.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    form_urlencoded_pairs(q.as_bytes())
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The query string without any `name=` parameter; `None` when nothing is left.
pub fn strip_query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    let kept: Vec<&str> = q
        .split('&')
        .filter(|part| {
            let key = part.split('=').next().unwrap_or("");
            let decoded = form_urlencoded_pairs(key.as_bytes())
                .into_iter()
                .next()
                .map(|(k, _)| k)
                .unwrap_or_default();
            !part.is_empty() && decoded != name
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

pub(crate) fn form_urlencoded_pairs(input: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(input).unwrap_or_default()
}

fn basic_credentials(req: &SignedRequest<'_>) -> Option<(String, String)> {
    use base64::Engine;
    let h = (req.header)("authorization")?;
    let (kind, rest) = h.trim().split_once(' ')?;
    if !kind.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests;
