//! The result of one `hubcensus scan`, in the shape `--format json` prints it.
//!
//! The JSON keys are a contract (scripts and CI gates parse them): `image`, `categories`,
//! `findings[]` and `layers[]`, documented in docs/scan.md.

use hubcensus_scan::LayerResult;
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
    pub(crate) layers: Vec<LayerResult>,
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

impl Report {
    /// Builds the report: filters by confidence, orders findings (layers bottom first, then
    /// config; by path and rule within), and derives the categories.
    pub(crate) fn new(
        image: String,
        findings: Vec<Finding>,
        layers: Vec<LayerResult>,
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

    fn layer(d: &Digest) -> LayerResult {
        LayerResult {
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
