//! Workflows: what one change sets off across several tables, in one place
//! above the table modules (which never call each other back, so the tables
//! form a DAG; a test keeps it so).
//!
//! - [`intake`]: a call event stored → routed to an agent → announced once.
//! - [`providers`]: a provider's settings changed → its IVR link, the SLA
//!   deadlines of its waiting calls, the audit entry.

pub mod intake;
pub mod providers;

#[cfg(test)]
mod layering;
