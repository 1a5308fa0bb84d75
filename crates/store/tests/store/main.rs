//! Store tests against a real Postgres: every write path is idempotent, the queue's leases
//! hold under contention and expiry, and the report views count what they claim to.
//!
//! Each test gets a fresh migrated database from `#[sqlx::test]` (it needs `DATABASE_URL`;
//! `make test` provides one).

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budgets;
mod clusters;
mod common;
mod feeds;
mod pipeline;
mod queries;
mod queue;
mod schema;
mod views;
mod writes;
