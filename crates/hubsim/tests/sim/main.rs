//! The simulator's own test suite: it is the test kit of the crawler and the census, so it must
//! behave exactly as the reference and the recorded fixtures say.

// Helpers outside #[test] functions may unwrap too: a panic there is the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod fidelity;
mod hub;
mod limits;
mod registry;
mod truth_walk;
