//! What YARA rules see of a layer: which files (the scope), which bytes (the same whole file or
//! head and tail as the built-in rules, never the zeros at a file's ends), and where a match is
//! reported (its path, file offsets, archive members under their nested path).

use std::path::PathBuf;

use hubcensus_layer::{LayerScan, Limits, Walker};
use hubcensus_rules::{FileKind, RuleSet, YaraScope, YaraSource};
use hubcensus_types::{Category, Confidence, Finding};

use crate::support::{Tar, extractor, gzip, subject, zip};

/// `fed` fires on every file YARA is given; `marker` on two planted strings, wherever they are.
const RULES: &str = r#"
rule fed {
    meta:
        confidence = "low"
    condition:
        true
}

rule marker {
    meta:
        category = "hacking_tool"
        confidence = "high"
        description = "two planted strings"
    strings:
        $head = "HEAD-TRAIT-4f1c"
        $tail = "TAIL-TRAIT-92ab"
    condition:
        uint32(0) == 0x464c457f and $head and $tail
}
"#;

/// Files up to this size are read whole by the walker in these tests; larger ones as head and
/// tail.
const FILE_BUDGET: u64 = 64 * 1024;
/// Other files up to this size are fed to YARA.
const MAX_OTHER: u64 = 16 * 1024;

fn rules() -> RuleSet {
    let scope = YaraScope {
        kinds: vec![FileKind::Elf, FileKind::Script],
        archive_members: true,
        max_other_bytes: MAX_OTHER,
    };
    RuleSet::builtin()
        .unwrap()
        .with_yara(vec![YaraSource { path: PathBuf::from("t.yar"), text: RULES.into() }], scope)
        .unwrap()
}

fn scan(rules: &RuleSet, layer: &[u8]) -> LayerScan {
    let limits = Limits { max_file_scan_bytes: FILE_BUDGET, ..Limits::default() };
    Walker::new(rules, extractor(), limits).scan_layer(layer, subject())
}

fn of<'s>(scan: &'s LayerScan, rule: &str) -> Vec<&'s Finding> {
    scan.findings.iter().filter(|f| f.rule == rule).collect()
}

fn elf(size: usize) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0".to_vec();
    b.resize(size, b'e');
    b
}

#[test]
fn yara_sees_executables_members_and_small_files_never_zeros() {
    let rules = rules();
    let big_text = vec![b't'; 20 * 1024];
    let mut sparse = vec![0u8; 3 * 4096];
    sparse.extend_from_slice(b"last record");
    let layer = Tar::new()
        .exe("usr/bin/tool", &elf(2048))
        .file("opt/run.sh", b"#!/bin/sh\necho hi\n")
        .file("etc/small.conf", b"key = value\n")
        .file("usr/share/big.txt", &big_text)
        .file("app/lib.jar", &zip(&[("big.txt", &big_text)]))
        .file("var/log/zeros", &vec![0u8; 2 * 1024 * 1024])
        .file("var/log/sparse", &sparse)
        .dir("usr/share/empty")
        .bytes();
    let scan = scan(&rules, &layer);
    assert!(scan.error.is_none(), "{:?}", scan.error);
    let mut fed: Vec<&str> = of(&scan, "yara:t:fed").iter().map(|f| f.path.as_str()).collect();
    fed.sort_unstable();
    assert_eq!(
        fed,
        ["app/lib.jar!/big.txt", "etc/small.conf", "opt/run.sh", "usr/bin/tool", "var/log/sparse"],
        "executables, archive members and small files; not a big text, a file of zeros, a directory \
         or the jar itself (its members are fed)"
    );
    let sparse = of(&scan, "yara:t:fed").into_iter().find(|f| f.path == "var/log/sparse").unwrap();
    assert_eq!(sparse.detail["yara_window"], "trimmed", "its leading zero blocks were left out");
    let tool = of(&scan, "yara:t:fed").into_iter().find(|f| f.path == "usr/bin/tool").unwrap();
    assert_eq!(tool.detail["yara_window"], "whole");
    assert_eq!((tool.category, tool.confidence), (Category::Other, Confidence::Low), "meta decides");
}

#[test]
fn a_big_executable_is_seen_through_its_head_and_tail_at_file_offsets() {
    let rules = rules();
    let size = 1024 * 1024;
    let mut bin = elf(size);
    let head_at = 1000;
    let tail_at = size - 2000;
    bin[head_at..head_at + 15].copy_from_slice(b"HEAD-TRAIT-4f1c");
    bin[tail_at..tail_at + 15].copy_from_slice(b"TAIL-TRAIT-92ab");
    // The same binary in the middle, where the window does not reach, finds nothing.
    let mut hidden = elf(size);
    hidden[size / 2..size / 2 + 15].copy_from_slice(b"HEAD-TRAIT-4f1c");
    hidden[size / 2 + 100..size / 2 + 115].copy_from_slice(b"TAIL-TRAIT-92ab");
    let layer = Tar::new().exe("opt/big", &bin).exe("opt/hidden", &hidden).bytes();
    let scan = scan(&rules, &gzip(&layer));
    let found = of(&scan, "yara:t:marker");
    assert_eq!(found.len(), 1, "{found:?}");
    let f = found[0];
    assert_eq!(
        (f.path.as_str(), f.category, f.confidence),
        ("opt/big", Category::HackingTool, Confidence::High)
    );
    assert_eq!(f.detail["yara_window"], "head_tail");
    assert_eq!(f.detail["patterns"], "$head,$tail");
    assert_eq!(
        f.preview,
        format!("$head@{head_at:#x}: HEAD-TRAIT-4f1c; $tail@{tail_at:#x}: TAIL-TRAIT-92ab"),
        "matches are placed at their offsets in the file, the tail's too"
    );
    assert!(scan.truncated_files >= 2);
}

#[test]
fn a_secret_is_redacted_and_a_test_folder_lowers_the_match() {
    let text = r#"
rule planted_token {
    meta:
        category = "embedded_keys"
        confidence = "high"
    strings:
        $t = /tok_[a-z0-9]{24}/
    condition:
        $t
}
"#;
    let rules = RuleSet::builtin()
        .unwrap()
        .with_yara(
            vec![YaraSource { path: PathBuf::from("keys.yar"), text: text.into() }],
            YaraScope::default(),
        )
        .unwrap();
    let token = "tok_k3x9q2m8v7b1n4c6z5l0p2w8";
    let script = format!("#!/bin/sh\nexport API={token}\n");
    let layer = Tar::new()
        .file("app/start.sh", script.as_bytes())
        .file("app/tests/start.sh", script.as_bytes())
        .bytes();
    let scan = scan(&rules, &layer);
    let found = of(&scan, "yara:keys:planted_token");
    assert_eq!(found.len(), 2, "{found:?}");
    for f in &found {
        assert!(!f.preview.contains(&token[4..24]), "the secret is never shown: {}", f.preview);
        assert!(f.preview.starts_with("$t@0x15: tok_"), "{}", f.preview);
        assert_eq!(f.category, Category::EmbeddedKeys);
    }
    let app = found.iter().find(|f| f.path == "app/start.sh").unwrap();
    let test = found.iter().find(|f| f.path == "app/tests/start.sh").unwrap();
    assert_eq!(app.confidence, Confidence::High);
    assert_eq!(test.confidence, Confidence::Low, "a test folder is a known false-positive place");
    assert_eq!(test.detail["place"], "test");
    assert_eq!(app.fingerprint, test.fingerprint, "one value, one fingerprint");
}

/// A minimal ELF64 header of an executable (`ET_EXEC`, x86-64), then `body`.
fn elf_exec(body: &[u8]) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&0x3eu16.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.resize(64, 0);
    b.extend_from_slice(body);
    b
}

#[test]
fn modules_see_a_whole_file_and_the_zero_edges_are_left_out() {
    use sha2::Digest as _;
    let sample = b"#!/bin/sh\necho a known sample\n".repeat(20);
    let sha: String = sha2::Sha256::digest(&sample).iter().map(|b| format!("{b:02x}")).collect();
    let text = format!(
        r#"
import "hash"
import "elf"

rule known_sample {{
    meta:
        confidence = "high"
    condition:
        hash.sha256(0, filesize) == "{sha}"
}}

rule elf_executable {{
    meta:
        category = "hacking_tool"
    condition:
        elf.type == elf.ET_EXEC
}}
"#
    );
    let rules = RuleSet::builtin()
        .unwrap()
        .with_yara(vec![YaraSource { path: PathBuf::from("mods.yar"), text }], YaraScope::default())
        .unwrap();
    let mut padded = sample.clone();
    padded.extend_from_slice(&[0u8; 5000]);
    let layer = Tar::new()
        .exe("opt/sample.sh", &sample)
        .exe("opt/padded.sh", &padded)
        .exe("usr/bin/exec", &elf_exec(&[b'x'; 512]))
        .bytes();
    let scan = scan(&rules, &layer);
    let known: Vec<&str> = of(&scan, "yara:mods:known_sample").iter().map(|f| f.path.as_str()).collect();
    assert_eq!(known, ["opt/sample.sh"], "the hash of what was fed: the padded copy lost its zero pages");
    let exec = of(&scan, "yara:mods:elf_executable");
    assert_eq!(exec.len(), 1, "{:?}", scan.findings);
    assert_eq!(
        (exec[0].path.as_str(), exec[0].category, exec[0].confidence),
        ("usr/bin/exec", Category::HackingTool, Confidence::Medium)
    );
    assert_eq!(exec[0].preview, "condition matched");
}
