//! The security suite: hostile inputs and behaviours against the real
//! `callboard` binary on loopback, each bounded in time.

mod connections;
mod floods;
mod headers;
mod hostile;
mod input;
mod integrations;
mod proxy;
mod replica_scope;
mod sessions;
mod signin;
mod support;
mod totp;
