//! The state of one scan and where its results go.
//!
//! [`Scan`] is created per layer (or per config) and owns what the scan keeps: findings (capped),
//! indicators (a capped `IndicatorSet`), whiteouts, skips. Rules report [`Match`]es into one
//! scratch vector reused for every file; [`Scan::flush`] turns them into [`Finding`]s for one
//! path, once per (rule, fingerprint), so a value seen in a big file's head and tail is reported
//! once.

use hubcensus_intel::{IndicatorExtractor, IndicatorSet, WeakContext};
use hubcensus_rules::{FileKind, FileMeta, Match, RuleSet, YaraInput, YaraScanner};
use hubcensus_types::{Finding, IndicatorKind, Subject};
use serde::{Deserialize, Serialize};

use crate::{Limits, budget::Budget, content::Window, zero};

/// Skip records kept per layer; beyond that they are only counted.
const MAX_SKIP_RECORDS: usize = 256;

/// A file of a layer (with everything nested in it) that names hosts under at least this many
/// distinct suffixes of the host rules is a list of providers — the Public Suffix List or a
/// copy of it under any name (OpenJDK's per-TLD zip, `psl`'s `rules.js`, tldextract's
/// snapshot) — whose hosts name no connection. A copy of the PSL names hundreds; a program that
/// uses a dynamic-DNS or tunnel service names one or a few.
pub(crate) const PROVIDER_LIST_MIN_SUFFIXES: usize = 10;

/// Files of zeros at least this big are recorded ([`SkipReason::ZeroFilled`]); smaller ones are
/// left out of the matchers as quietly as empty files, so that the records kept (at most 256 a
/// layer) go to what a reader of the scan needs to know about.
pub const ZERO_FILE_RECORD_BYTES: u64 = 1024 * 1024;

/// Something inside a layer the walker saw but did not fully scan, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The path of the file, archive or member (`var/log/lastlog`, `app.jar`,
    /// `app.jar!/lib/x.jar`).
    pub path: String,
    /// Why it was not (fully) scanned.
    pub reason: SkipReason,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Why a file, nested archive or member was not entered or read (whole). None of these ends
/// the layer: the walk goes on with the next entry, and the file's bytes are still scanned as a
/// plain file wherever they were read (except zeros, which hold nothing to match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum SkipReason {
    /// An archive nested deeper than `Limits::nested_archive_depth`: scanned as bytes only.
    TooDeep,
    /// An archive larger than `Limits::max_file_scan_bytes`: scanned in its head and tail only.
    TooBig,
    /// A nested archive that failed to parse (after its readable part was scanned).
    Corrupt(String),
    /// A zip member that cannot be read: encrypted, or an unsupported compression method.
    Unreadable(String),
    /// A file of zeros only (at least [`ZERO_FILE_RECORD_BYTES`]): nothing in it to match, so
    /// it was not matched. A sparse file such as `/var/log/lastlog` after `useradd` with a high
    /// uid.
    ZeroFilled {
        /// Its size.
        bytes: u64,
    },
    /// A compressed file or nested archive member whose own decompressed non-zero output
    /// outgrew `Limits::max_compression_ratio` times its compressed size: cut there, and the
    /// walk goes on. Findings in a nested archive's entries before the cut are kept; a
    /// compressed file's own (compressed) bytes are scanned as a plain file, as for a corrupt
    /// one.
    Bomb {
        /// Non-zero bytes it had produced when it was cut.
        bytes: u64,
        /// Its compressed size.
        compressed: u64,
        /// The configured ratio.
        limit: u32,
    },
    /// An entry path longer than `Limits::max_path_length`: the entry is scanned under its path
    /// cut to the limit, or, for a GNU long name (then never read), under the name its tar
    /// header holds.
    PathTooLong {
        /// The path's length in bytes.
        len: u64,
        /// The configured maximum.
        limit: u32,
    },
}

impl SkipReason {
    /// A stable id, the same as the JSON `reason` (`too_deep`, `zero_filled`, `bomb`, ...).
    pub const fn kind(&self) -> &'static str {
        match self {
            SkipReason::TooDeep => "too_deep",
            SkipReason::TooBig => "too_big",
            SkipReason::Corrupt(_) => "corrupt",
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::ZeroFilled { .. } => "zero_filled",
            SkipReason::Bomb { .. } => "bomb",
            SkipReason::PathTooLong { .. } => "path_too_long",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::TooDeep => f.write_str("archive nested too deep: scanned as bytes"),
            SkipReason::TooBig => {
                f.write_str("archive larger than the file budget: head and tail scanned as bytes")
            }
            SkipReason::Corrupt(why) => write!(f, "corrupt archive: {why}"),
            SkipReason::Unreadable(why) => write!(f, "unreadable: {why}"),
            SkipReason::ZeroFilled { bytes } => {
                write!(f, "zero-filled: {bytes} bytes of zeros, nothing to match")
            }
            SkipReason::Bomb { bytes, compressed, limit } => write!(
                f,
                "decompression bomb: {bytes} non-zero bytes from {compressed} compressed bytes \
                 (ratio above {limit}), cut there"
            ),
            SkipReason::PathTooLong { len, limit } => {
                write!(f, "path of {len} bytes is longer than {limit}: scanned under its header name")
            }
        }
    }
}

/// One scan in progress.
#[derive(Debug)]
pub(crate) struct Scan<'w, 'b> {
    rules: &'w RuleSet,
    extractor: &'w IndicatorExtractor,
    pub(crate) budget: &'b Budget,
    subject: Subject,
    max_findings: usize,
    pub(crate) findings: Vec<Finding>,
    pub(crate) findings_truncated: bool,
    pub(crate) indicators: IndicatorSet,
    pub(crate) whiteouts: Vec<crate::Whiteout>,
    pub(crate) truncated_files: u32,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) skipped_total: u32,
    matches: Vec<Match>,
    /// The YARA scanner, made at the first file YARA wants (most layers of a set without YARA
    /// rules, and every config scan, never make one).
    yara: Option<YaraScanner<'w>>,
}

/// What YARA gets of a file read as `window` into `buf`: the whole file, or its head and tail
/// back to back, in both cases without the zero blocks at the file's ends. `None` for a file
/// of zeros.
fn yara_input(window: Window, buf: &[u8], size: u64) -> Option<YaraInput<'_>> {
    match window {
        Window::Whole(n) => {
            let kept = zero::trim(&buf[..n]);
            (!kept.is_empty()).then(|| YaraInput {
                data: &buf[kept.clone()],
                offset: kept.start as u64,
                seam: None,
                whole: kept == (0..n),
            })
        }
        Window::Split { head, tail } => {
            let (h, t) = (zero::trim(&buf[..head]), zero::trim(&buf[head..head + tail]));
            let tail_at = size - tail as u64;
            match (h.is_empty(), t.is_empty()) {
                (true, true) => None,
                (false, true) => Some(YaraInput {
                    data: &buf[h.clone()],
                    offset: h.start as u64,
                    seam: None,
                    whole: false,
                }),
                (true, false) => Some(YaraInput {
                    data: &buf[head + t.start..head + t.end],
                    offset: tail_at + t.start as u64,
                    seam: None,
                    whole: false,
                }),
                (false, false) => Some(YaraInput {
                    data: &buf[h.start..head + t.end],
                    offset: h.start as u64,
                    seam: Some((head - h.start, tail_at)),
                    whole: false,
                }),
            }
        }
    }
}

impl<'w, 'b> Scan<'w, 'b> {
    pub(crate) fn new(
        rules: &'w RuleSet,
        extractor: &'w IndicatorExtractor,
        budget: &'b Budget,
        subject: Subject,
    ) -> Self {
        let limits: &Limits = budget.limits();
        Self {
            rules,
            extractor,
            budget,
            subject,
            max_findings: usize::try_from(limits.max_findings).unwrap_or(usize::MAX),
            findings: Vec::new(),
            findings_truncated: false,
            indicators: IndicatorSet::with_cap(usize::try_from(limits.max_indicators).unwrap_or(usize::MAX)),
            whiteouts: Vec::new(),
            truncated_files: 0,
            skipped: Vec::new(),
            skipped_total: 0,
            matches: Vec::new(),
            yara: None,
        }
    }

    /// Path and file-kind rules for one entry.
    pub(crate) fn scan_path(&mut self, meta: &FileMeta<'_>) {
        self.rules.scan_path(meta, &mut self.matches);
    }

    /// Content rules and indicator extraction over one window of a file (or a config value).
    pub(crate) fn scan_bytes(&mut self, meta: &FileMeta<'_>, data: &[u8]) {
        self.rules.scan_bytes(meta, data, &mut self.matches);
        // A host named in a manual and in a script is judged at the script.
        self.indicators.set_false_positive_place(self.rules.is_false_positive_place(meta.path));
        self.indicators
            .set_executable(matches!(meta.kind, FileKind::Elf | FileKind::Script | FileKind::ConfigField));
        self.extractor.extract(meta.path, data, &mut self.indicators);
    }

    /// The YARA rules over one file read into `buf` as `window`, when the rule set has YARA
    /// rules and its scope takes the file (`member`: the file lies inside an archive of the
    /// layer). YARA gets what the built-in rules get: the whole file, or its head and tail,
    /// without the zero blocks at either end; matches are placed at file offsets.
    pub(crate) fn scan_yara(&mut self, meta: &FileMeta<'_>, window: Window, buf: &[u8], member: bool) {
        if !self.rules.yara_scope().is_some_and(|scope| scope.wants(meta, member)) {
            return;
        }
        let Some(input) = yara_input(window, buf, meta.size) else {
            return;
        };
        if self.yara.is_none() {
            self.yara = self.rules.yara_scanner();
        }
        if let Some(scanner) = self.yara.as_mut() {
            // A scan past the layer's clock reports nothing; the walk then ends at the next
            // check of the clock.
            scanner.scan(meta, input, self.budget.time_left(), &mut self.matches);
        }
    }

    /// The program basenames of the command rules on a command line (see
    /// [`RuleSet::judge_command`]); the matches are returned, not kept, for the caller to place.
    pub(crate) fn judge_command(&self, argv: &[&str]) -> Vec<Match> {
        let mut out = Vec::new();
        self.rules.judge_command(argv, &mut out);
        out
    }

    /// Reports matches found outside [`Scan::scan_path`]/[`Scan::scan_bytes`] at `path`.
    pub(crate) fn report(&mut self, path: &str, matches: impl IntoIterator<Item = Match>) {
        self.matches.extend(matches);
        self.flush(path);
    }

    /// Turns the pending matches into findings at `path`.
    pub(crate) fn flush(&mut self, path: &str) {
        if self.matches.is_empty() {
            return;
        }
        let mut matches = std::mem::take(&mut self.matches);
        let first = self.findings.len();
        for m in matches.drain(..) {
            // One finding per (rule, value) per path, whichever window found it first.
            let dup = self.findings[first..]
                .iter()
                .any(|f| f.rule.as_str() == &*m.rule && f.fingerprint == m.fingerprint);
            if dup {
                continue;
            }
            if self.findings.len() >= self.max_findings {
                self.findings_truncated = true;
                break;
            }
            self.findings.push(Finding {
                category: m.category,
                rule: m.rule.to_string(),
                confidence: m.confidence,
                subject: self.subject.clone(),
                path: path.to_owned(),
                preview: m.preview,
                fingerprint: m.fingerprint,
                deleted_in_upper_layer: false,
                detail: m.detail,
            });
        }
        // Give the (now empty) vector back so its allocation is reused.
        matches.clear();
        self.matches = matches;
    }

    /// Records a skip (bounded).
    pub(crate) fn skip(&mut self, path: &str, reason: SkipReason) {
        self.skipped_total = self.skipped_total.saturating_add(1);
        if self.skipped.len() < MAX_SKIP_RECORDS {
            self.skipped.push(Skipped { path: path.to_owned(), reason });
        }
    }

    /// Starts one file of the layer (a unit: the file and everything nested in it).
    pub(crate) fn begin_unit(&mut self) {
        self.indicators.begin_unit();
    }

    /// Ends the unit: if its hosts fall under enough distinct host-rule suffixes, it is a list
    /// of providers and those hosts are weak until another file names them.
    pub(crate) fn end_unit(&mut self) {
        let hosts = self.indicators.end_unit();
        let mut suffixes: Vec<&str> = hosts.iter().filter_map(|h| self.rules.host_suffix(h)).collect();
        if suffixes.len() < PROVIDER_LIST_MIN_SUFFIXES {
            return;
        }
        suffixes.sort_unstable();
        suffixes.dedup();
        if suffixes.len() >= PROVIDER_LIST_MIN_SUFFIXES {
            self.indicators.mark_provider_list(&hosts);
        }
    }

    /// Domain-suffix rules over every distinct host and registrable domain found, each reported
    /// at the first path that referenced it outside known false-positive places, else at the
    /// first path (where the rules report it at low confidence). Consumes the indicator set.
    pub(crate) fn judge_hosts(&mut self) -> (Vec<(hubcensus_types::Indicator, String)>, bool) {
        let truncated = self.indicators.truncated();
        let indicators = std::mem::take(&mut self.indicators).into_vec_with_context();
        let mut out = Vec::with_capacity(indicators.len());
        for (indicator, path, weak) in indicators {
            if matches!(indicator.kind, IndicatorKind::Host | IndicatorKind::Domain) {
                let reason = weak.and_then(WeakContext::reason);
                self.rules.judge_host(&indicator.value, &path, reason, &mut self.matches);
                self.flush(&path);
            }
            out.push((indicator, path));
        }
        (out, truncated)
    }
}
