//! The result of one `hubcensus scan`, in the shape `--format json` prints it.
//!
//! The JSON keys are a contract (scripts and CI gates parse them): `image`, `categories`,
//! `findings[]` and `layers[]`, documented in docs/scan.md.

use hubcensus_types::{Category, Confidence, Finding, Fingerprint, Subject};
use serde::Serialize;

/// What `config` findings name as their layer.
pub(crate) const CONFIG_LAYER: &str = "config";

/// The whole scan result.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The reference (tag) asked for, or the manifest/config digest, or the layer file.
    pub(crate) image: String,
    /// Categories with at least one reported finding that no upper layer deletes — what the
    /// census counts for the image (see docs/scan.md).
    pub(crate) categories: Vec<Category>,
    /// Every finding at or above `--min-confidence`, deleted ones included and flagged.
    pub(crate) findings: Vec<FindingOut>,
    /// Every layer, bottom first, scanned, skipped or failed.
    pub(crate) layers: Vec<LayerOut>,
    /// Errors outside the layers (the config scan); printed on stderr, not part of the JSON.
    #[serde(skip)]
    pub(crate) other_errors: Vec<String>,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FindingOut {
    pub(crate) category: Category,
    pub(crate) rule: String,
    pub(crate) confidence: Confidence,
    /// The layer digest, or `config`.
    pub(crate) layer: String,
    pub(crate) path: String,
    pub(crate) deleted_in_upper_layer: bool,
    pub(crate) preview: String,
    pub(crate) fingerprint: Fingerprint,
}

impl FindingOut {
    pub(crate) fn from_finding(f: Finding) -> Self {
        let layer = match f.subject {
            Subject::Layer(d) => d.to_string(),
            Subject::Config => CONFIG_LAYER.to_owned(),
            Subject::Metadata => "metadata".to_owned(),
        };
        Self {
            category: f.category,
            rule: f.rule,
            confidence: f.confidence,
            layer,
            path: f.path,
            deleted_in_upper_layer: f.deleted_in_upper_layer,
            preview: f.preview,
            fingerprint: f.fingerprint,
        }
    }
}

/// One layer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LayerOut {
    /// The blob digest (computed while reading for a bare `layer:FILE`); `null` only when the
    /// blob could not be read at all.
    pub(crate) digest: Option<String>,
    /// The media type the manifest gives, else the one the content's magic bytes show.
    pub(crate) media_type: String,
    /// The blob's size in bytes (as stored: compressed).
    pub(crate) bytes: u64,
    /// Tar entries walked (nested archive members included).
    pub(crate) entries: u64,
    /// Why the layer was not scanned (foreign layer, not a layer), or `null`.
    pub(crate) skipped: Option<String>,
    /// Why the scan of this layer failed or stopped early (digest mismatch, corrupt stream, a
    /// limit), or `null`. Findings made before the failure are kept.
    pub(crate) error: Option<String>,
    /// How many files inside the layer the scan did not (fully) read: files of zeros, nested
    /// bombs cut, archives too deep, too big or corrupt, paths cut. The walk went on past each.
    pub(crate) files_skipped: u32,
    /// The first of them (the scanner keeps 256), each with its reason.
    pub(crate) skipped_files: Vec<SkippedFileOut>,
}

/// A file inside a layer the scan did not (fully) read.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SkippedFileOut {
    /// Its path inside the layer.
    pub(crate) path: String,
    /// A stable id: `zero_filled`, `bomb`, `too_deep`, `too_big`, `corrupt`, `unreadable`,
    /// `path_too_long`.
    pub(crate) reason: &'static str,
    /// The reason for a person, with its figures.
    pub(crate) detail: String,
}

impl SkippedFileOut {
    pub(crate) fn from_skipped(s: hubcensus_layer::Skipped) -> Self {
        Self { reason: s.reason.kind(), detail: s.reason.to_string(), path: s.path }
    }
}

impl Report {
    /// Builds the report: filters by confidence, orders findings (layers bottom first, then
    /// config; by path and rule within), and derives the categories.
    pub(crate) fn new(
        image: String,
        findings: Vec<Finding>,
        layers: Vec<LayerOut>,
        min_confidence: Confidence,
        other_errors: Vec<String>,
    ) -> Self {
        let position = |layer: &str| {
            layers.iter().position(|l| l.digest.as_deref() == Some(layer)).unwrap_or(layers.len())
        };
        let mut findings: Vec<FindingOut> = findings
            .into_iter()
            .filter(|f| f.confidence >= min_confidence)
            .map(FindingOut::from_finding)
            .collect();
        findings.sort_by(|a, b| {
            (position(&a.layer), &a.path, &a.rule, &a.fingerprint).cmp(&(
                position(&b.layer),
                &b.path,
                &b.rule,
                &b.fingerprint,
            ))
        });
        findings.dedup_by(|a, b| {
            a.layer == b.layer && a.path == b.path && a.rule == b.rule && a.fingerprint == b.fingerprint
        });
        let mut categories: Vec<Category> =
            findings.iter().filter(|f| !f.deleted_in_upper_layer).map(|f| f.category).collect();
        categories.sort();
        categories.dedup();
        Self { image, categories, findings, layers, other_errors }
    }

    /// Whether any part of the image could not be read or scanned completely.
    pub(crate) fn has_errors(&self) -> bool {
        !self.other_errors.is_empty() || self.layers.iter().any(|l| l.error.is_some())
    }

    /// The exit code: 2 when something could not be scanned (the verdict is incomplete, so it
    /// is never reported as clean), else 1 when anything was found, else 0.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.has_errors() {
            2
        } else if self.findings.is_empty() {
            0
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use hubcensus_types::Digest;

    use super::*;

    fn finding(category: Category, confidence: Confidence, layer: &Digest, deleted: bool) -> Finding {
        Finding {
            category,
            rule: format!("{category}_rule"),
            confidence,
            subject: Subject::Layer(layer.clone()),
            path: "x".into(),
            preview: "p".into(),
            fingerprint: Fingerprint::of(category.as_str().as_bytes()),
            deleted_in_upper_layer: deleted,
            detail: Default::default(),
        }
    }

    fn layer(d: &Digest) -> LayerOut {
        LayerOut {
            digest: Some(d.to_string()),
            media_type: "t".into(),
            bytes: 1,
            entries: 1,
            skipped: None,
            error: None,
            files_skipped: 0,
            skipped_files: Vec::new(),
        }
    }

    #[test]
    fn deleted_only_categories_are_not_counted_but_still_reported() {
        let d = Digest::sha256_of(b"l");
        let r = Report::new(
            "img".into(),
            vec![
                finding(Category::EmbeddedKeys, Confidence::High, &d, true),
                finding(Category::Cryptomining, Confidence::Medium, &d, false),
                finding(Category::HackingTool, Confidence::Low, &d, false),
            ],
            vec![layer(&d)],
            Confidence::Medium,
            vec![],
        );
        assert_eq!(r.categories, vec![Category::Cryptomining]);
        assert_eq!(r.findings.len(), 2, "low is filtered, the deleted key is kept");
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn errors_win_over_findings_and_clean_is_zero() {
        let d = Digest::sha256_of(b"l");
        let clean = Report::new("img".into(), vec![], vec![layer(&d)], Confidence::Medium, vec![]);
        assert_eq!(clean.exit_code(), 0);
        let mut broken = layer(&d);
        broken.error = Some("digest mismatch".into());
        let r = Report::new(
            "img".into(),
            vec![finding(Category::Cryptomining, Confidence::High, &d, false)],
            vec![broken],
            Confidence::Medium,
            vec![],
        );
        assert_eq!(r.exit_code(), 2);
    }
}
