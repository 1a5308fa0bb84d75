//! The layer walker: one streaming pass over a layer blob, and the image-config scan.
//!
//! A census scans every unique layer of hundreds of thousands of images pushed by anyone, so
//! this crate is built around three facts. Layers are big (multi-GB ML layers), so the walk is
//! a single streaming pass: `Read` → gzip | zstd | plain, decided by magic bytes because
//! registries lie about media types → tar entries → rules, with one reused buffer per nesting
//! level and nothing written to disk. Layers are hostile, so every resource they can make the
//! scanner spend is bounded by [`Limits`]: a breach of a layer-wide limit, corruption or
//! truncation ends that layer with a typed [`LayerError`] while keeping what was found, and a
//! file that breaks a limit of its own is cut and recorded ([`Skipped`]) while the walk goes on,
//! so no file can hide what comes after it. Runs of zeros (sparse files such as a high uid's
//! `lastlog`) cost neither the compression ratio nor matching. And peers miss what hides in
//! archives inside layers (jars, wheels, tarballs), so those are entered, to a bounded depth,
//! under the same budget, with paths like `app.jar!/BOOT-INF/classes/application.yml`.
//!
//! The crate is synchronous (no tokio): the pipeline runs it on a blocking thread over a bridge
//! from the blob download.
//!
//! ```no_run
//! use hubcensus_intel::{ExtractLimits, IndicatorExtractor};
//! use hubcensus_layer::{Limits, Walker};
//! use hubcensus_rules::RuleSet;
//! use hubcensus_types::{Digest, Subject};
//!
//! let rules = RuleSet::builtin().expect("built-in rules load");
//! let extractor = IndicatorExtractor::new(ExtractLimits::default());
//! let walker = Walker::new(&rules, &extractor, Limits::default());
//! let blob = std::fs::File::open("layer.tar.gz").expect("layer file");
//! let scan = walker.scan_layer(blob, Subject::Layer(Digest::sha256_of(b"...")));
//! for f in &scan.findings {
//!     println!("{} {} {}", f.category, f.rule, f.path);
//! }
//! if let Some(e) = &scan.error {
//!     eprintln!("layer ended early: {e}");
//! }
//! ```

#![deny(missing_docs)]

mod budget;
mod collect;
mod content;
mod decode;
mod error;
mod forward;
mod image_config;
mod limits;
mod path;
mod sniff;
mod tar_stream;
mod walker;
mod zero;

pub use collect::{SkipReason, Skipped, ZERO_FILE_RECORD_BYTES};
pub use error::LayerError;
pub use image_config::{ConfigError, ConfigScan};
pub use limits::{
    DEFAULT_LAYER_TIMEOUT_SECS, DEFAULT_MAX_COMPRESSION_RATIO, DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_FILE_SCAN_BYTES, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_INDICATORS, DEFAULT_MAX_LAYER_BYTES,
    DEFAULT_MAX_PATH_LENGTH, DEFAULT_NESTED_ARCHIVE_DEPTH, Limits, NESTED_ARCHIVE_DEPTH_CEILING,
    RATIO_CHECK_AFTER_BYTES, ZSTD_WINDOW_LOG_MAX,
};
pub use path::Whiteout;
pub use walker::{LayerScan, LayerSource, Walker};
