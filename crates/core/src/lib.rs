//! Callboard's domain and storage. Knows nothing of HTTP.

pub mod body;
pub mod dialer;
pub mod error;
pub mod hub;
pub mod ivr;
pub mod keys;
pub mod mapping;
pub mod presets;
pub mod routing;
pub mod secrets;
pub mod signature;
pub mod sla;
pub mod status;
pub mod store;
pub mod time;
pub mod tls;
pub mod totp;

pub use error::{Error, ErrorCode, Result};
pub use status::Status;
pub use store::Store;
