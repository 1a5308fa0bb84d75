//! Integration tests of the registry client: against hubsim, small lying registries, the
//! recorded Docker Hub responses, and a real CNCF distribution registry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod fakes;
mod fixtures;
mod hubsim;
mod real_registry;
