//! Operations: plain logs off a terminal, health and readiness, Prometheus
//! metrics, the configuration file. The real binary on loopback.

mod backups;
mod config;
mod diskfull;
mod health;
mod logs;
