//! The console API under `/api`.

pub mod calls;
pub mod categories;
pub mod events;
pub mod providers;
pub mod session;
pub mod stats;
pub mod users;
