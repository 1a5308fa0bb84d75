//! Talking to an OCI distribution registry the way a days-long Docker Hub census must.
//!
//! Why our own client rather than `oci-client` (docs/decisions/0003-registry-client.md): every
//! request has to pass `hubcensus-net`'s [`Gate`](hubcensus_net::Gate) (per-origin pacing, 429
//! windows, SSRF policy, redirects to the CDN without Authorization), the pull quota has to be
//! accounted from every response, and Docker Hub's quirks — 401 for missing repositories,
//! tokens per repository scope that live 300 s, schema1 for old images — have to be handled
//! where they happen. The pieces:
//!
//! - [`RegistryClient`]: HEAD a manifest (free), GET it (a pull; refused without sending when
//!   the quota is down to the reserve), verified against `Docker-Content-Digest`, the digest
//!   asked for and the body's `mediaType`; [`RegistryClient::resolve`] from a tag to the
//!   platform manifest, config and classified layers, spending no pull on a digest the caller
//!   already knows; blobs as [`BlobStream`]s that hash the exact bytes while the scanner reads.
//! - [`Challenge`]: the `WWW-Authenticate` header of a 401 (`Bearer realm=...,service=...,
//!   scope=...,error="insufficient_scope"`, or `Basic realm=...`), parsed per RFC 7235;
//! - [`Token`] and [`TokenCache`]: the token service's answer, cached per (realm, service,
//!   scope) and refreshed before it expires, never printed;
//! - [`PullQuota`]: what the `ratelimit-*` headers say is left, with the configured reserve;
//! - [`ErrorEnvelope`]: the spec's `{"errors":[{"code","message","detail"}]}` body;
//! - [`RegistryError`]: typed by what the caller does next ([`RegistryError::is_transient`],
//!   [`RegistryError::is_permanent_for_item`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use hubcensus_net::{Gate, GateConfig};
//! use hubcensus_registry::{RegistryClient, RegistryConfig, Resolution};
//!
//! let gate = Arc::new(Gate::new(GateConfig::default())?);
//! let client = RegistryClient::new(gate, RegistryConfig::docker_hub());
//! let repo = "nginx".parse()?; // library/nginx
//! if let Resolution::Resolved(image) = client.resolve(&repo, "latest", &|_| false).await? {
//!     for layer in image.layers.iter().filter(|l| l.skip.is_none()) {
//!         let blob = client.open_blob(&repo, &layer.descriptor).await?;
//!         let verified = blob.finish().await?; // a scanner would read the chunks first
//!         println!("{} {} bytes", verified.digest, verified.size);
//!     }
//! }
//! println!("{:?}", client.quota());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod auth;
mod blob;
mod challenge;
mod client;
mod config;
mod envelope;
mod error;
mod hash;
mod http;
mod layers;
mod manifest;
mod quota;
mod resolve;
mod stats;
mod token;

pub use blob::{BlobStream, VerifiedBlob};
pub use challenge::{Challenge, Scheme, parse_challenges};
pub use client::RegistryClient;
pub use config::{
    Credentials, DEFAULT_QUOTA_RESERVE, DOCKER_HUB_AUTH_HOST, DOCKER_HUB_REGISTRY, RegistryConfig,
};
pub use envelope::{ErrorEnvelope, RegistryErrorCode};
pub use error::RegistryError;
pub use hubcensus_image::Descriptor;
pub use layers::RemoteLayer;
pub use manifest::{FetchedManifest, MANIFEST_ACCEPT, ManifestHead};
pub use quota::PullQuota;
pub use resolve::{ConfigBlob, Resolution, ResolvedImage};
pub use stats::RegistryStats;
pub use token::{Token, TokenCache, TokenError, TokenKey};
