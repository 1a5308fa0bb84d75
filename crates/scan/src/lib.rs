//! The one engine that scans an image or a blob, for `hubcensus scan` and the census alike.
//!
//! Scanning has a policy that must not differ between a researcher's `hubcensus scan` and the
//! census's `scan_layer` stage, or the two would disagree about the same layer: every blob is
//! hashed while the walker streams it and checked against its digest; a panic in a decoder on
//! hostile bytes costs that blob only; a digest mismatch says more about the blob than whatever
//! the walker made of it; findings are named after the verified digest. [`scan_blob`] is that
//! policy, once. Around it:
//!
//! - [`ScanTarget`]: an image as the engine sees it, wherever it lives — a local source
//!   ([`LocalImage`]: `oci:`, `docker-archive:`, `layer:`) or a registry ([`RemoteImage`]:
//!   `docker://`, streamed through the async→sync [`bridge`] with nothing written to disk);
//! - [`Engine`]: an image's layers on a pool of threads, its config, the [`verdict`] (which
//!   findings upper layers delete) and, for a standalone scan, `--feed` files matched in memory
//!   the way the census matches stored feeds ([`Feeds`]).
//!
//! The census (hubcensus-pipeline) uses [`scan_blob`] and the [`bridge`] on its own blocking
//! threads and stores what they return; `hubcensus scan` uses the [`Engine`] and renders it.
//!
//! ```no_run
//! use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
//! use hubcensus_layer::Limits;
//! use hubcensus_rules::RuleSet;
//! use hubcensus_scan::{Engine, Feeds, LocalImage};
//! use hubcensus_types::Platform;
//!
//! let image = LocalImage::open(&"oci:./my-image:latest".parse()?, &Platform::linux_amd64())?;
//! let rules = RuleSet::builtin()?;
//! let extractor = IndicatorExtractor::new(ExtractLimits::default());
//! let engine = Engine { rules: &rules, extractor: &extractor, limits: Limits::default(), threads: 2 };
//! let scan = engine.scan_image(&image, &Feeds::default(), 30);
//! for f in &scan.findings {
//!     println!("{} {} {}", f.category, f.rule, f.path);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod blob;
pub mod bridge;
mod engine;
mod error;
mod feeds;
mod remote;
mod target;
pub mod verdict;

pub use blob::{BlobScan, PANICKED, Verify, scan_blob};
pub use engine::{ConfigOutcome, Engine, ImageScan, LayerOutcome, LayerResult, SkippedFile};
pub use error::{FeedError, ScanError};
pub use feeds::Feeds;
pub use remote::{RemoteImage, registry_url};
pub use target::{LayerSpec, LocalImage, ScanTarget};
