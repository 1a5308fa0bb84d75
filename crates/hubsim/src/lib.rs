//! hubsim: a faithful Docker Hub simulator for hubcensus.
//!
//! Docker Hub cannot be reached from the machines hubcensus is built and tested on, so the
//! crawler, the census and the demo are only as good as this simulator. It serves, on four
//! loopback listeners, the Hub API (`hub.docker.com`), the token service (`auth.docker.io`), the
//! registry (`registry-1.docker.io`) and the blob CDN (`production.cloudflare.docker.com`) —
//! with Hub's quirks as `reference/dockerhub-api.md` records them — over a deterministic
//! synthetic population with planted threats whose ground truth it exports.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hubcensus_hubsim::Error> {
//! use hubcensus_hubsim::{Sim, SimConfig};
//! let sim = Sim::start(SimConfig::for_tests(7, 2_000)).await?;
//! println!("hub {} registry {} auth {} cdn {}", sim.hub_url(), sim.registry_url(), sim.auth_url(), sim.cdn_url());
//! let truth = sim.truth();          // what a census of this population must find
//! # let _ = truth;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The population is lazy: [`population::Population`] holds compact per-repository metadata;
//! a repository's manifests and layers are built on first request and kept in a bounded cache.

pub mod config;
pub mod feeds;
mod manifest;
pub mod population;
mod rng;
mod secrets;
pub mod time;
pub mod truth;

pub use config::{
    Account, ConfigError, FaultConfig, LimitsConfig, PopulationConfig, ServiceConfig, SimConfig,
};

mod api;
pub mod bench;
mod cache;
mod cdn;
mod faults;
mod quota;
mod server;

pub use quota::LimitCounts;
pub use server::{Error, Sim};
pub use truth::Truth;
