//! `--format sarif`: SARIF 2.1.0, so code-scanning UIs and SARIF tooling can ingest a scan.
//!
//! One `reportingDescriptor` per rule id that fired; one result per finding, located at
//! `LAYER-DIGEST/PATH` (or `config/FIELD`), with the value's sha256 as a partial fingerprint
//! so a UI can track the same secret across runs without seeing it.

use std::collections::BTreeMap;

use hubcensus_types::Confidence;
use serde_json::{Value, json};

use super::report::Report;

/// Where the SARIF 2.1.0 schema lives (the OASIS standard's published schema).
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Renders `report` as a SARIF 2.1.0 log. `descriptions` gives each rule id's description
/// where the rule set knows it.
pub(crate) fn render(report: &Report, descriptions: &BTreeMap<String, String>) -> Value {
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let finding = report.findings.iter().find(|f| f.rule == *id);
            let category = finding.map(|f| f.category.as_str()).unwrap_or_default();
            let text = descriptions.get(*id).cloned().unwrap_or_else(|| format!("{category} rule {id}"));
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": text },
                "properties": { "category": category, "tags": [category] },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = rule_ids.iter().position(|id| *id == f.rule).unwrap_or(0);
            let deleted = if f.deleted_in_upper_layer {
                " (deleted in an upper layer, still in the image)"
            } else {
                ""
            };
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index,
                "level": level(f.confidence),
                "message": { "text": format!("{}: {} at {}{deleted}", f.category, f.preview, f.path) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": format!("{}/{}", f.layer, f.path) } },
                }],
                "partialFingerprints": { "valueSha256/v1": f.fingerprint.as_str() },
                "properties": {
                    "category": f.category,
                    "confidence": f.confidence,
                    "layer": f.layer,
                    "path": f.path,
                    "deleted_in_upper_layer": f.deleted_in_upper_layer,
                    "preview": f.preview,
                },
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .layers
        .iter()
        .filter_map(|l| l.error.as_ref().map(|e| (l, e)))
        .map(|(l, e)| {
            json!({
                "level": "error",
                "message": { "text": format!("layer {}: {e}", l.digest.as_deref().unwrap_or("?")) },
            })
        })
        .chain(report.other_errors.iter().map(|e| json!({ "level": "error", "message": { "text": e } })))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "hubcensus",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/hubcensus/hubcensus",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": !report.has_errors(),
                "toolExecutionNotifications": notifications,
            }],
            "properties": { "image": report.image, "categories": report.categories },
            "results": results,
        }],
    })
}

fn level(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}
