//! End-to-end census tests: hubsim's planted population, a real Postgres (`#[sqlx::test]`
//! gives each test a fresh migrated database; it needs `DATABASE_URL`), and the pipeline's
//! workers between them.

// Test helpers outside #[test] functions unwrap too: a panic is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod check;
mod clusters;
mod common;
mod coverage;
mod epochs;
mod metadata;
mod quota;
mod rerun;
mod sample;
mod sweep;
mod truth;
