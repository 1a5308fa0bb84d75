//! The rules engine alone, on any bytes as any kind of file (or config value) at any path, and
//! any text as a host: results within the documented caps, previews that never carry a
//! control character, never a panic.
#![no_main]

use std::sync::OnceLock;

use hubcensus_rules::{FileKind, FileMeta, MAX_MATCHES_PER_RULE, RuleSet};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    // The first byte picks the kind and how many of the next bytes name the path.
    let kind = FileKind::ALL[usize::from(selector) % FileKind::ALL.len()];
    let path_len = usize::from(selector >> 3).min(rest.len());
    let (path, body) = rest.split_at(path_len);
    let path = String::from_utf8_lossy(path);
    let meta = FileMeta { path: &path, kind, size: body.len() as u64, executable: selector & 1 == 1 };
    let rules = rules();
    let mut out = Vec::new();
    rules.scan_path(&meta, &mut out);
    rules.scan_bytes(&meta, body, &mut out);
    let total = rules.rules().count();
    let cap = total * (MAX_MATCHES_PER_RULE as usize + 1);
    assert!(out.len() <= cap, "{} matches from {total} rules", out.len());
    for m in &out {
        assert!(!m.preview.chars().any(|c| c.is_control() && c != '\t'), "control character in {:?}", m.preview);
        assert!(m.preview.chars().count() <= 200, "preview too long: {}", m.preview.len());
    }
    if let Ok(host) = std::str::from_utf8(body) {
        rules.judge_host(host, meta.path, None, &mut out);
    }
});
