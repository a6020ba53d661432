//! Operations: plain logs off a terminal, health and readiness, Prometheus
//! metrics, the configuration file. The real binary on loopback.

mod config;
mod health;
mod logs;
