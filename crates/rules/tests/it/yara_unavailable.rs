//! A build without the `yara` feature refuses YARA rules instead of ignoring them.

use std::path::PathBuf;

use hubcensus_rules::{RuleSet, RulesError, YaraScope, YaraSource};

#[test]
fn yara_rules_are_refused_with_a_clear_error() {
    let source = YaraSource { path: PathBuf::from("a.yar"), text: "rule a { condition: true }".into() };
    let err = RuleSet::builtin().unwrap().with_yara(vec![source], YaraScope::default()).unwrap_err();
    assert!(matches!(err, RulesError::YaraUnavailable { files: 1 }), "{err:?}");
    assert!(err.to_string().contains("without YARA support"), "{err}");
    let none = RuleSet::builtin().unwrap().with_yara(Vec::new(), YaraScope::default()).unwrap();
    assert!(none.yara_scope().is_none() && none.yara_scanner().is_none());
}
