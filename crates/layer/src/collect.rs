//! The state of one scan and where its results go.
//!
//! [`Scan`] is created per layer (or per config) and owns what the scan keeps: findings (capped),
//! indicators (a capped `IndicatorSet`), whiteouts, skips. Rules report [`Match`]es into one
//! scratch vector reused for every file; [`Scan::flush`] turns them into [`Finding`]s for one
//! path, once per (rule, fingerprint), so a value seen in a big file's head and tail is reported
//! once.

use hubcensus_intel::{IndicatorExtractor, IndicatorSet};
use hubcensus_rules::{FileMeta, Match, RuleSet};
use hubcensus_types::{Finding, IndicatorKind, Subject};
use serde::{Deserialize, Serialize};

use crate::{Limits, budget::Budget};

/// Skip records kept per layer; beyond that they are only counted.
const MAX_SKIP_RECORDS: usize = 256;

/// Something inside a layer the walker saw but did not fully scan, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The path of the archive or member (`app.jar`, `app.jar!/lib/x.jar`).
    pub path: String,
    /// Why it was not (fully) scanned.
    pub reason: SkipReason,
}

/// Why a nested archive or member was not entered or read. None of these ends the layer: the
/// file's bytes are still scanned as a plain file wherever they were read.
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
        self.extractor.extract(meta.path, data, &mut self.indicators);
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

    /// Domain-suffix rules over every distinct host and registrable domain found, each reported
    /// at the first path that referenced it outside known false-positive places, else at the
    /// first path (where the rules report it at low confidence). Consumes the indicator set.
    pub(crate) fn judge_hosts(&mut self) -> (Vec<(hubcensus_types::Indicator, String)>, bool) {
        let truncated = self.indicators.truncated();
        let indicators = std::mem::take(&mut self.indicators).into_vec();
        for (indicator, path) in &indicators {
            if matches!(indicator.kind, IndicatorKind::Host | IndicatorKind::Domain) {
                self.rules.judge_host(&indicator.value, path, &mut self.matches);
                self.flush(path);
            }
        }
        (indicators, truncated)
    }
}
