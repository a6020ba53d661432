//! Black-box tests: the real `callboard` binary on loopback, real HTTP and
//! WebSocket clients, a real SQLite file. One test binary (faster to link).

mod console;
mod durability;
mod events;
mod faults;
mod openapi;
mod ops;
mod providers;
mod roles;
mod webhooks;
mod worklist;
