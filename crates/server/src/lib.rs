//! Callboard's network edges over the core: the webhook receiver, the console
//! API, the live event stream. No SQL lives here: only the store's API.

pub mod alerts;
pub mod api;
pub mod app;
pub mod ari;
pub mod assets;
pub mod auth;
pub mod cloudonix;
pub mod compress;
pub mod config_file;
pub mod conn;
pub mod contacts;
pub mod convoso;
pub mod dial;
pub mod error;
pub mod forwarded;
pub mod gate;
pub mod headers;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod ivr;
pub mod launch;
pub mod lead_webhooks;
pub mod leader;
pub mod memory;
pub mod metrics_export;
pub mod outbound;
pub mod queue_legs;
pub mod refusals;
pub mod replica;
pub mod retention;
pub mod sla_watch;
pub mod sms;
pub mod state;
pub mod streams;
pub mod threecx;
pub mod throttle;
pub mod tls;
pub mod warm;
pub mod webhooks;

pub use app::{router, serve};
pub use launch::{start_receiver, LaunchError, ReceiverOptions, Running};
pub use replica::{sign_in, start_replica, ReplicaOptions, ReplicaRunning, ReplicaStatus};
pub use state::Config;
