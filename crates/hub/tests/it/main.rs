//! hubcensus-hub against hubsim (the faithful Docker Hub simulator) and against lying servers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod census;
mod common;
mod lying;
mod tags;
