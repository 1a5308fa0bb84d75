//! Loading rule files: directories, versions, and errors that name the file and the rule.

use std::path::Path;

use hubcensus_rules::{RuleSet, RulesError};

fn config_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/rules"))
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const GOOD: &str = r#"
category = "other"
[[rule]]
id = "demo"
description = "a demo rule"
confidence = "high"
keywords = ["evil-marker"]
"#;

#[test]
fn the_config_directory_equals_the_builtin_set() {
    let from_dir = RuleSet::from_dir(config_dir()).unwrap();
    let builtin = RuleSet::builtin().unwrap();
    assert_eq!(from_dir.version(), builtin.version());
    assert_eq!(from_dir.rules().count(), builtin.rules().count());
}

#[test]
fn the_version_follows_the_content() {
    let a = RuleSet::from_dir(dir_with(&[("other.toml", GOOD)]).path()).unwrap();
    let b = RuleSet::from_dir(dir_with(&[("other.toml", GOOD)]).path()).unwrap();
    let c =
        RuleSet::from_dir(dir_with(&[("other.toml", &GOOD.replace("a demo", "the demo"))]).path()).unwrap();
    assert_eq!(a.version(), b.version());
    assert_ne!(a.version(), c.version());
}

#[test]
fn a_loaded_directory_scans() {
    let set = RuleSet::from_dir(dir_with(&[("other.toml", GOOD)]).path()).unwrap();
    let file = hubcensus_rules::FileMeta {
        path: "x",
        kind: hubcensus_rules::FileKind::Text,
        size: 20,
        executable: false,
    };
    let mut out = Vec::new();
    set.scan_bytes(&file, b"xx EVIL-MARKER xx", &mut out);
    assert!(out.is_empty(), "keywords are case-sensitive unless the rule says otherwise");
    set.scan_bytes(&file, b"xx evil-marker xx", &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn a_path_rule_sees_entries_without_content_only_when_it_lists_name_only() {
    let rule = |kinds: &str| {
        format!(
            "category = \"other\"\n[[rule]]\nid = \"demo\"\ndescription = \"d\"\nconfidence = \"high\"\npaths = [\"**/evil\"]\n{kinds}"
        )
    };
    let fires = |text: &str, kind| {
        let set = RuleSet::from_dir(dir_with(&[("other.toml", text)]).path()).unwrap();
        let file = hubcensus_rules::FileMeta { path: "opt/evil", kind, size: 0, executable: false };
        let mut out = Vec::new();
        set.scan_path(&file, &mut out);
        !out.is_empty()
    };
    use hubcensus_rules::FileKind::{Binary, NameOnly};
    // Without `kinds`: every kind with content, never a directory or a link.
    assert!(fires(&rule(""), Binary));
    assert!(!fires(&rule(""), NameOnly));
    assert!(fires(&rule("kinds = [\"name_only\"]"), NameOnly));
    assert!(!fires(&rule("kinds = [\"elf\", \"script\"]"), NameOnly));
}

fn invalid(text: &str) -> (String, String, String) {
    match RuleSet::from_dir(dir_with(&[("bad.toml", text)]).path()) {
        Err(RulesError::InvalidRule { file, rule, reason }) => (file, rule, reason),
        Err(other) => panic!("expected InvalidRule, got {other}"),
        Ok(_) => panic!("loaded an invalid rule"),
    }
}

#[test]
fn invalid_rules_name_the_file_and_the_rule() {
    let cases = [
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, r#"keywords = ["x"]"#), "shorter than"),
        (GOOD.replace("confidence = \"high\"", "confidence = \"sure\""), "confidence"),
        (format!("{GOOD}regex = '(unclosed'\n"), "regex"),
        (format!("{GOOD}validator = \"crc64\"\n"), "unknown validator"),
        (format!("{GOOD}kinds = [\"exe\"]\n"), "unknown kind"),
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, ""), "no trigger"),
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, r#"paths = ["[z-a]"]"#), "glob"),
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, r#"hosts = ["not a host"]"#), "domain name"),
        (format!("{GOOD}validator = \"github_token\"\n"), "needs a regex"),
        (format!("{GOOD}kinds = [\"text\", \"name_only\"]\n"), "no content"),
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, r#"commands = ["bin/tor"]"#), "basename"),
        (GOOD.replace(r#"keywords = ["evil-marker"]"#, r#"commands = [""]"#), "basename"),
        (
            GOOD.replace(r#"keywords = ["evil-marker"]"#, "commands = [\"tor\"]\nkinds = [\"elf\"]"),
            "take no paths",
        ),
        (format!("{GOOD}commands = [\"tor\"]\n"), "one trigger"),
        (
            GOOD.replace(r#"keywords = ["evil-marker"]"#, "commands = [\"tor\"]\nregex = 'x'"),
            "regex only applies",
        ),
    ];
    for (text, needle) in cases {
        let (file, rule, reason) = invalid(&text);
        assert_eq!(file, "bad.toml");
        assert_eq!(rule, "demo");
        assert!(reason.contains(needle), "{reason:?} should mention {needle:?}");
        let msg = RulesError::InvalidRule { file, rule, reason }.to_string();
        assert!(msg.contains("bad.toml") && msg.contains("demo"), "{msg}");
    }
}

#[test]
fn structural_errors_are_typed() {
    let syntax = RuleSet::from_dir(dir_with(&[("a.toml", "category = ")]).path()).unwrap_err();
    assert!(matches!(&syntax, RulesError::Syntax { file, .. } if file == "a.toml"), "{syntax}");
    let unknown_field =
        RuleSet::from_dir(dir_with(&[("a.toml", &format!("{GOOD}colour = 1\n"))]).path()).unwrap_err();
    assert!(matches!(unknown_field, RulesError::Syntax { .. }));
    let dup = RuleSet::from_dir(dir_with(&[("a.toml", GOOD), ("b.toml", GOOD)]).path()).unwrap_err();
    assert!(
        matches!(&dup, RulesError::DuplicateRule { rule, first, second } if rule == "demo" && first == "a.toml" && second == "b.toml"),
        "{dup}"
    );
    let empty = RuleSet::from_dir(tempfile::tempdir().unwrap().path()).unwrap_err();
    assert!(matches!(empty, RulesError::NoRuleFiles(_)));
    let missing = RuleSet::from_dir(Path::new("/nonexistent/rules")).unwrap_err();
    assert!(matches!(missing, RulesError::Io { .. }));
    let fp = "[[value]]\nregex = 'x'\nreason = 'r'\nrules = ['nope']\n";
    let err = RuleSet::from_dir(dir_with(&[("other.toml", GOOD), ("known_false_positives.toml", fp)]).path())
        .unwrap_err();
    assert!(
        matches!(&err, RulesError::InvalidRule { file, rule, .. } if file == "known_false_positives.toml" && rule == "nope"),
        "{err}"
    );
}
