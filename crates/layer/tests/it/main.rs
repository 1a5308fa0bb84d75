//! Integration tests of the layer walker: every archive is built in code, hostile ones
//! streamed where they are large.

// Test helpers outside #[test] functions may unwrap too: a panic there is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
#[expect(dead_code, reason = "cpu_seconds (this thread) serves the rules and intel examples")]
#[path = "../../../rules/examples/support/cpu_time.rs"]
mod cpu_time;
mod hostile;
mod positive;
mod support;
mod tools;
mod yara;
mod zeros;
