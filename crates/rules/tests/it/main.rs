//! Integration tests of hubcensus-rules: one binary, a module per concern.

// A test binary: a panic in a helper is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod loading;
mod make;
mod real_files;
mod table;
#[cfg(feature = "yara")]
mod yara;
#[cfg(not(feature = "yara"))]
mod yara_unavailable;

use hubcensus_rules::{FileKind, FileMeta, Match, RuleSet};

/// The built-in rule set, built once per test binary.
pub(crate) fn rules() -> &'static RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules load"))
}

/// Path rules plus content rules over `data` at `path` with kind `kind`.
pub(crate) fn scan_as(path: &str, kind: FileKind, data: &[u8]) -> Vec<Match> {
    let file = FileMeta { path, kind, size: data.len() as u64, executable: kind == FileKind::Elf };
    let mut out = Vec::new();
    rules().scan_path(&file, &mut out);
    rules().scan_bytes(&file, data, &mut out);
    out
}

/// Like [`scan_as`], with the kind sniffed from the data.
pub(crate) fn scan(path: &str, data: &[u8]) -> Vec<Match> {
    scan_as(path, FileKind::sniff(data), data)
}
