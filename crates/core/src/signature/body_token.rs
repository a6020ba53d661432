//! A token the platform issued, sent back in every JSON body (Aircall's
//! top-level `token`): no signature, so the only proof is the token itself,
//! compared in constant time.

use super::{refuse, Refusal, SignedRequest};
use crate::error::ErrorCode;
use serde_json::Value;

pub(super) fn verify(field: &str, token: &str, req: &SignedRequest<'_>) -> Result<(), Refusal> {
    let sent = serde_json::from_slice::<Value>(req.body)
        .ok()
        .and_then(|v| v.get(field).and_then(Value::as_str).map(str::to_string))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            refuse(
                ErrorCode::MissingApiKey,
                format!("the JSON body has no `{field}`: send the platform's webhook token in it"),
            )
        })?;
    let same: bool = subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), token.as_bytes()).into();
    if same {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::InvalidApiKey,
            format!("the body's `{field}` is not this provider's webhook token"),
        ))
    }
}
