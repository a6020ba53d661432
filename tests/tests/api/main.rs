//! Black-box tests: the real `callboard` binary on loopback, real HTTP and
//! WebSocket clients, a real SQLite file. One test binary (faster to link).

mod board;
mod cockpit;
mod console;
mod cors;
mod delivery_health;
mod durability;
mod events;
mod export;
mod faults;
mod history;
mod metrics;
mod openapi;
mod ops;
mod providers;
mod roles;
mod voicemails;
mod webhooks;
mod worklist;
