//! Test support shared by hubcensus's test suites, never a dependency of shipped code.
//!
//! Why a crate: the registry client's integration tests and the CLI's end-to-end `scan
//! docker://` tests both need a *real* OCI registry to talk to — Debian's `docker-registry`
//! (the CNCF distribution registry) with token auth — and a way to put images into it. Test
//! files cannot be shared between two crates' test binaries without copying them, so the
//! machinery lives here, once:
//!
//! - [`real_registry`]: whether the registry binary is installed ([`registry_available`]), a
//!   running [`TokenRegistry`] (an ES256 token service plus a distribution process on loopback,
//!   storage in a temporary directory, killed on drop) and a [`Pusher`] that uploads blobs and
//!   manifests with the distribution API;
//! - [`layer`]: tar, gzip and zstd helpers for building layers in memory.
//!
//! ```no_run
//! # async fn demo() {
//! use hubcensus_testkit::{layer, real_registry::{Format, Layer, TokenRegistry, registry_available}};
//! if !registry_available() {
//!     return; // HUBCENSUS_SKIP_REGISTRY_TESTS=1 and no binary
//! }
//! let registry = TokenRegistry::start().await;
//! let pusher = registry.pusher("acme/app").await;
//! let tar = layer::tar_of(&[("etc/motd", b"hello\n")]);
//! let config = serde_json::json!({"architecture": "amd64", "os": "linux", "config": {}});
//! let image = pusher.image("v1", Format::Oci, &config, &[Layer::gzip(&tar)]).await;
//! println!("docker://{}/acme/app@{}", registry.host(), image.digest);
//! # }
//! ```
//!
//! Every helper panics with a message when something does not work: in a test, a panic is the
//! failure report.

#![deny(missing_docs)]
// A test kit: a failed step is a failed test, reported by the panic's message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod layer;
pub mod real_registry;

pub use real_registry::{Format, Layer, Pushed, Pusher, TokenIssuer, TokenRegistry, registry_available};
