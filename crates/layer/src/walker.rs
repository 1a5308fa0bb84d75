//! The public face: [`Walker`], [`LayerScan`].

use std::{
    io::{self, BufReader, Read},
    sync::Mutex,
    time::{Duration, Instant},
};

use hubcensus_intel::IndicatorExtractor;
use hubcensus_rules::RuleSet;
use hubcensus_types::{Compression, Finding, Indicator, Subject};

use crate::{
    LayerError, Limits, Skipped, Whiteout,
    budget::{Budget, OutputReader, SourceReader},
    decode::{self, FrameChecksum},
    sniff,
    tar_stream::Level,
};

/// Read-ahead on the compressed source: large enough that the decompressor never starves on
/// small reads, small enough not to matter per thread.
const SOURCE_BUFFER: usize = 256 * 1024;

/// Scans layers (and image configs) with one rule set and one indicator extractor.
///
/// A walker keeps one file buffer per nesting level and reuses it for every file of every layer
/// it scans, so a scan allocates no content buffer per file and its memory is bounded whatever
/// the layer size: at worst `(nested_archive_depth + 1) × max_file_scan_bytes` of buffers (a
/// buffer only grows to the largest file seen at its level) plus the decoders' state (a zstd
/// window of at most 2^[`crate::ZSTD_WINDOW_LOG_MAX`] bytes per zstd stream). Measured: 86 MiB
/// peak RSS for a 1.2 GB gzip layer, 114 MiB for a 4.4 GB plain one, with default limits.
///
/// The wall-clock limit is checked between entries and on every read, but a read that blocks
/// forever inside the source cannot be interrupted from here: a network source needs its own
/// read timeout. It is `Sync`: several threads may share one walker (a thread that finds the
/// buffers in use by another scan works with buffers of its own), but one walker per thread
/// keeps the reuse.
#[derive(Debug)]
pub struct Walker<'a> {
    pub(crate) rules: &'a RuleSet,
    pub(crate) extractor: &'a IndicatorExtractor,
    pub(crate) limits: Limits,
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// What the caller knows of a layer blob before it is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerSource {
    /// The compression the manifest's media type declared, kept for the record
    /// ([`LayerScan::declared_compression`]): the walker decides by magic bytes.
    pub declared: Option<Compression>,
    /// Whether the caller checks the blob's bytes against a sha256 digest it was given (a
    /// manifest's layer descriptor). Then a zstd frame's own checksum of its content (XXH64) is
    /// not checked: the digest already covers every byte decoded, and a corrupt blob fails it.
    /// A blob without a digest (a bare layer file) keeps the frame checksum.
    pub digest_checked: bool,
}

/// What one layer scan found, and how far it got.
#[derive(Debug, Clone)]
pub struct LayerScan {
    /// Rule findings, each with the scan's subject and a path inside the layer
    /// (`usr/bin/xmrig`, `app.jar!/config.properties`).
    pub findings: Vec<Finding>,
    /// Whether findings beyond `Limits::max_findings` were dropped.
    pub findings_truncated: bool,
    /// Distinct network indicators, each with the first path that referenced it.
    pub indicators: Vec<(Indicator, String)>,
    /// Whether the indicator set hit its cap (`Limits::max_indicators`).
    pub indicators_truncated: bool,
    /// Overlay whiteouts: paths this layer deletes from the layers below.
    pub whiteouts: Vec<Whiteout>,
    /// The compression found by magic bytes.
    pub compression: Compression,
    /// The compression the manifest declared, when the caller passed it
    /// ([`LayerSource::declared`]); compare with `compression` to catch lying registries.
    pub declared_compression: Option<Compression>,
    /// Bytes read from the source (compressed).
    pub compressed_bytes: u64,
    /// Uncompressed bytes of the layer's tar stream (nested archives not included).
    pub bytes: u64,
    /// Tar entries plus nested archive members seen (whiteouts and links included).
    pub entries: u64,
    /// Files larger than `Limits::max_file_scan_bytes`, scanned in their head and tail only.
    pub truncated_files: u32,
    /// Files, archives and members not (fully) scanned, and why (at most 256 kept): zero-filled
    /// files, nested bombs cut, archives too deep, too big or corrupt, paths too long.
    pub skipped: Vec<Skipped>,
    /// How many skips there were in all.
    pub skipped_total: u32,
    /// Why the scan ended early, if it did. Everything above was found before that point.
    pub error: Option<LayerError>,
    /// Wall time of the scan.
    pub elapsed: Duration,
}

impl LayerScan {
    /// Whether the scan read the whole layer.
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
    }
}

impl<'a> Walker<'a> {
    /// A walker over `rules` and `extractor` with `limits`.
    pub fn new(rules: &'a RuleSet, extractor: &'a IndicatorExtractor, limits: Limits) -> Self {
        Self { rules, extractor, limits, buffers: Mutex::new(Vec::new()) }
    }

    /// The limits this walker enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Scans one layer blob: gzip, zstd or plain tar, decided by its magic bytes.
    ///
    /// Never panics and never fails as a whole: a limit breach, a corrupt or truncated stream
    /// or a failing reader ends the scan with [`LayerScan::error`] set, keeping everything
    /// found before it.
    pub fn scan_layer<R: Read>(&self, reader: R, subject: Subject) -> LayerScan {
        self.scan_layer_from(reader, subject, LayerSource::default())
    }

    /// [`Walker::scan_layer`] with what the caller knows of the blob ([`LayerSource`]).
    pub fn scan_layer_from<R: Read>(&self, reader: R, subject: Subject, known: LayerSource) -> LayerScan {
        let started = Instant::now();
        let budget = Budget::new(&self.limits, started);
        let mut bufs = self.take_buffers();
        let mut scan = crate::collect::Scan::new(self.rules, self.extractor, &budget, subject);

        let mut source = SourceReader::new(reader, &budget);
        let mut magic = [0u8; sniff::MAGIC_LEN];
        let (compression, error) = match decode::read_up_to(&mut source, &mut magic) {
            Err(e) => (Compression::None, Some(budget.classify(&e))),
            Ok(n) => {
                let head = &magic[..n];
                let compression = sniff::compression(head);
                let error = match sniff::unsupported_compression(head) {
                    Some(name) => {
                        Some(LayerError::Corrupt(format!("{name}-compressed layers are not supported")))
                    }
                    None => {
                        let input = BufReader::with_capacity(SOURCE_BUFFER, head.chain(source));
                        let checksum = if known.digest_checked {
                            FrameChecksum::CoveredByDigest
                        } else {
                            FrameChecksum::Verify
                        };
                        self.walk_layer(&mut scan, input, compression, checksum, &mut bufs).err()
                    }
                };
                (compression, error)
            }
        };

        let (indicators, indicators_truncated) = scan.judge_hosts();
        self.return_buffers(bufs);
        LayerScan {
            findings: scan.findings,
            findings_truncated: scan.findings_truncated,
            indicators,
            indicators_truncated,
            whiteouts: scan.whiteouts,
            compression,
            declared_compression: known.declared,
            compressed_bytes: budget.compressed(),
            bytes: budget.tar_bytes(),
            entries: budget.entries(),
            truncated_files: scan.truncated_files,
            skipped: scan.skipped,
            skipped_total: scan.skipped_total,
            error,
            elapsed: started.elapsed(),
        }
    }

    fn walk_layer<R: io::BufRead>(
        &self,
        scan: &mut crate::collect::Scan<'_, '_>,
        input: R,
        compression: Compression,
        checksum: FrameChecksum,
        bufs: &mut [Vec<u8>],
    ) -> Result<(), LayerError> {
        let budget = scan.budget;
        let decoder =
            decode::decoder(compression, input, checksum).map_err(|e| LayerError::Corrupt(e.to_string()))?;
        let mut stream = OutputReader::layer(decoder, budget);
        scan.walk_tar(&mut stream, Level::LAYER, bufs)?;
        // Read what follows the tar's end marker (padding, a gzip trailer): a truncated or
        // corrupt compressed stream must not pass as a clean layer, and trailing bytes still
        // count against the limits.
        io::copy(&mut stream, &mut io::sink()).map_err(|e| budget.classify(&e))?;
        Ok(())
    }

    /// The reusable buffers, one per nesting level; fresh ones if another thread holds them.
    fn take_buffers(&self) -> Vec<Vec<u8>> {
        let levels = self.limits.effective_nested_depth() as usize + 1;
        let mut bufs = match self.buffers.try_lock() {
            Ok(mut guard) => std::mem::take(&mut *guard),
            Err(_) => Vec::new(),
        };
        bufs.resize_with(levels, Vec::new);
        bufs
    }

    fn return_buffers(&self, bufs: Vec<Vec<u8>>) {
        if let Ok(mut guard) = self.buffers.try_lock()
            && guard.is_empty()
        {
            *guard = bufs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walkers_and_results_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Walker<'static>>();
        send_sync::<LayerScan>();
    }
}
