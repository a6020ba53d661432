//! Several receivers on one PostgreSQL (`serve --database-url`): one history
//! on every instance, a gap-free event stream, duplicates and statuses that
//! behave as on one machine, the leader's jobs moving when it dies, 503s (and
//! nothing acknowledged lost) while PostgreSQL restarts, and
//! `migrate-storage`. A real PostgreSQL (`callboard_tests::pg`), real
//! receivers on loopback.

mod faults;
mod shared;
mod storage;
