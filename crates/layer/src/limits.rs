//! The hard limits on one layer scan.
//!
//! A census reads layers pushed by anyone, so every resource a layer can make the scanner spend
//! has a named bound here: bytes, entries, compression ratio, path length, wall time, nesting, and
//! the size of what the scan keeps (findings, indicators). Some bound the layer (a breach ends
//! it, keeping what was found); others bound one file (a breach cuts that file, records it as
//! a [`crate::Skipped`], and the walk goes on), because a limit that ends the layer for one file
//! lets anyone hide everything after that file. The field names and defaults match the
//! `[limits]` table of `config/default.toml`, so the CLI can deserialize that table straight into
//! [`Limits`]. The library never reads files or the environment itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default for [`Limits::max_layer_bytes`]: 8 GiB.
pub const DEFAULT_MAX_LAYER_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Default for [`Limits::max_entries`].
pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;
/// Default for [`Limits::max_compression_ratio`].
pub const DEFAULT_MAX_COMPRESSION_RATIO: u32 = 200;
/// Default for [`Limits::max_path_length`].
pub const DEFAULT_MAX_PATH_LENGTH: u32 = 4096;
/// Default for [`Limits::max_file_scan_bytes`]: 64 MiB.
pub const DEFAULT_MAX_FILE_SCAN_BYTES: u64 = 64 * 1024 * 1024;
/// Default for [`Limits::layer_timeout_secs`].
pub const DEFAULT_LAYER_TIMEOUT_SECS: u64 = 900;
/// Default for [`Limits::nested_archive_depth`].
pub const DEFAULT_NESTED_ARCHIVE_DEPTH: u32 = 2;
/// Default for [`Limits::max_findings`].
pub const DEFAULT_MAX_FINDINGS: u32 = 100_000;
/// Default for [`Limits::max_indicators`] (the intel crate's default cap per layer).
pub const DEFAULT_MAX_INDICATORS: u32 = 20_000;

/// The compression ratio is only judged once this many non-zero uncompressed bytes were produced
/// (by the layer, or by one nested stream for its own ratio): the first blocks of any stream (tar
/// headers) compress far better than the whole, so an early ratio says nothing.
pub const RATIO_CHECK_AFTER_BYTES: u64 = 16 * 1024 * 1024;

/// The largest zstd window (as log2 bytes) a layer may ask for: 2^27 = 128 MiB, the reference
/// decoder's own default limit. A frame header can claim a window of up to 2^31 bytes, which the
/// decoder would allocate before producing a single byte; this caps that allocation.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Nesting deeper than this is never entered, whatever the configuration says: each level keeps
/// one file buffer of up to `max_file_scan_bytes` alive.
pub const NESTED_ARCHIVE_DEPTH_CEILING: u32 = 4;

/// Hard limits on one layer. A breach of a layer-wide limit (bytes, entries, the layer's ratio,
/// time) ends that layer's scan with a [`crate::LayerError`], keeping everything found before
/// it; nested archives count against the same budget. A breach by one file (its path, its own
/// decompression ratio, its size) cuts that file and is recorded in
/// [`crate::LayerScan::skipped`] or [`crate::LayerScan::truncated_files`]; the walk goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Uncompressed bytes one layer may produce, nested archives' decompressed bytes and runs of
    /// zeros included. Beyond it: [`crate::LayerError::TooLarge`].
    pub max_layer_bytes: u64,
    /// Tar entries (and nested archive members) in one layer. Beyond it:
    /// [`crate::LayerError::TooManyEntries`].
    pub max_entries: u64,
    /// Uncompressed ÷ compressed bytes, counting only output outside 4 KiB blocks of zeros,
    /// judged after [`RATIO_CHECK_AFTER_BYTES`] of it. Judged for the layer's own stream (beyond
    /// it: [`crate::LayerError::Bomb`]) and for each compressed file or zip member inside it
    /// against its own compressed size (beyond it: that file is cut,
    /// [`crate::SkipReason::Bomb`]).
    pub max_compression_ratio: u32,
    /// The longest entry path kept (bytes, before normalisation). A longer one is cut to this
    /// length (a GNU long name longer than this is not read: the entry keeps its tar header's
    /// name) and recorded as [`crate::SkipReason::PathTooLong`].
    pub max_path_length: u32,
    /// Files up to this size are scanned whole; larger ones in their first and last halves of
    /// this budget, and counted in [`crate::LayerScan::truncated_files`]. It is also the size
    /// of the largest nested archive entered, and of each of the walker's file buffers.
    pub max_file_scan_bytes: u64,
    /// Wall-clock seconds one layer scan may take, checked between entries and inside reads.
    /// Beyond it: [`crate::LayerError::Timeout`].
    pub layer_timeout_secs: u64,
    /// How many levels of nested archives (tar, tar.gz, zip, jar, whl, apk...) are entered.
    /// 0 scans archives inside a layer as plain files. Capped at
    /// [`NESTED_ARCHIVE_DEPTH_CEILING`].
    pub nested_archive_depth: u32,
    /// Findings kept per layer; further ones are dropped and
    /// [`crate::LayerScan::findings_truncated`] is set (a layer of a million planted keys must
    /// not exhaust memory).
    pub max_findings: u32,
    /// Distinct indicators kept per layer (the cap of the layer's `IndicatorSet`).
    pub max_indicators: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_layer_bytes: DEFAULT_MAX_LAYER_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_compression_ratio: DEFAULT_MAX_COMPRESSION_RATIO,
            max_path_length: DEFAULT_MAX_PATH_LENGTH,
            max_file_scan_bytes: DEFAULT_MAX_FILE_SCAN_BYTES,
            layer_timeout_secs: DEFAULT_LAYER_TIMEOUT_SECS,
            nested_archive_depth: DEFAULT_NESTED_ARCHIVE_DEPTH,
            max_findings: DEFAULT_MAX_FINDINGS,
            max_indicators: DEFAULT_MAX_INDICATORS,
        }
    }
}

impl Limits {
    /// [`Limits::layer_timeout_secs`] as a duration.
    pub fn layer_timeout(&self) -> Duration {
        Duration::from_secs(self.layer_timeout_secs)
    }

    /// The nesting depth actually used: the configured one, capped.
    pub fn effective_nested_depth(&self) -> u32 {
        self.nested_archive_depth.min(NESTED_ARCHIVE_DEPTH_CEILING)
    }

    /// The per-file scan budget in bytes, at least 2 so a head and a tail always exist.
    pub(crate) fn file_budget(&self) -> usize {
        usize::try_from(self.max_file_scan_bytes).unwrap_or(usize::MAX).max(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_config_default_toml() {
        let text = include_str!("../../../config/default.toml");
        let table: toml::Table = text.parse().unwrap();
        let limits: Limits = table["limits"].clone().try_into().unwrap();
        assert_eq!(limits, Limits::default());
    }
}
