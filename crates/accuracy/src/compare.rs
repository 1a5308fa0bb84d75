//! Findings against expectations: what was confirmed, what is new, what went missing.

use std::collections::{BTreeMap, BTreeSet};

use hubcensus_types::{Category, Finding};

use crate::{
    corpus::Ecosystem,
    expected::{Expectation, Expected, Key, Tool, Verdict},
};

/// What scanning one package's layer gave.
#[derive(Debug)]
pub(crate) struct PackageScan {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    pub(crate) version: String,
    /// Uncompressed bytes of the layer.
    pub(crate) bytes: u64,
    /// Findings at medium or high confidence: the ones a census counts.
    pub(crate) findings: Vec<Finding>,
    /// Findings at low confidence (known false-positive places and values), for `--verbose`.
    pub(crate) low: Vec<Finding>,
    /// Why the scan ended early, if it did.
    pub(crate) error: Option<String>,
}

impl PackageScan {
    /// The distinct (rule, path) pairs of the counted findings, with one finding of each.
    fn keyed(&self) -> BTreeMap<Key, &Finding> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            let key = Key {
                ecosystem: self.ecosystem,
                package: self.name.clone(),
                rule: f.rule.clone(),
                path: f.path.clone(),
            };
            out.entry(key).or_insert(f);
        }
        out
    }
}

/// Counts for one ecosystem.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct EcosystemCounts {
    pub(crate) packages: usize,
    /// Packages with at least one counted finding.
    pub(crate) flagged: usize,
    /// Packages whose counted findings include a false positive or an unreviewed one.
    pub(crate) flagged_wrongly: usize,
    pub(crate) true_positives: usize,
    pub(crate) false_positives: usize,
    pub(crate) unexpected: usize,
    pub(crate) missing: usize,
}

/// Counts for one category.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CategoryCounts {
    /// Confirmed findings (rule × path) in the category.
    pub(crate) true_positives: usize,
    /// Findings in the category reviewed as false positives, or not reviewed at all.
    pub(crate) false_positives: usize,
    /// Tools of the category the methodology counts, and how many were found in it.
    pub(crate) tools: usize,
    pub(crate) tools_found: usize,
}

/// The whole comparison.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) ecosystems: BTreeMap<Ecosystem, EcosystemCounts>,
    pub(crate) categories: BTreeMap<Category, CategoryCounts>,
    /// Counted findings the expectations do not list.
    pub(crate) unexpected: Vec<(Key, Finding)>,
    /// Listed findings that did not occur.
    pub(crate) missing: Vec<Expectation>,
    /// Listed false positives that still occur (each allowed, and each a failure of the goal).
    pub(crate) false_positives: Vec<Expectation>,
    /// Tools not found in their category.
    pub(crate) tools_missed: Vec<Tool>,
    /// Layers that could not be scanned whole: (ecosystem, package, why).
    pub(crate) incomplete: Vec<(Ecosystem, String, String)>,
}

impl Outcome {
    /// Compares `scans` with `expected`. `partial`: only some packages were scanned, so
    /// expectations of the others are not checked.
    pub(crate) fn compare(
        scans: &[PackageScan],
        expected: &Expected,
        ecosystems: &[Ecosystem],
        partial: bool,
    ) -> Self {
        let mut out = Outcome::default();
        let scanned: BTreeSet<(Ecosystem, &str)> =
            scans.iter().map(|s| (s.ecosystem, s.name.as_str())).collect();
        // Expectations that matched a finding (a glob entry once for all its findings).
        let mut matched_entries = BTreeSet::new();

        for scan in scans {
            let counts = out.ecosystems.entry(scan.ecosystem).or_default();
            counts.packages += 1;
            if let Some(e) = &scan.error {
                out.incomplete.push((scan.ecosystem, scan.name.clone(), e.clone()));
            }
            let keyed = scan.keyed();
            if !keyed.is_empty() {
                counts.flagged += 1;
            }
            let mut wrong = false;
            for (key, finding) in keyed {
                let category = out.categories.entry(finding.category).or_default();
                let matched = expected.find(&key);
                if let Some(e) = matched {
                    matched_entries.insert(e.key());
                }
                match matched {
                    Some(e) if e.verdict == Verdict::TruePositive => {
                        counts.true_positives += 1;
                        category.true_positives += 1;
                    }
                    Some(e) => {
                        counts.false_positives += 1;
                        category.false_positives += 1;
                        out.false_positives.push(e.clone());
                        wrong = true;
                    }
                    None => {
                        counts.unexpected += 1;
                        category.false_positives += 1;
                        out.unexpected.push((key.clone(), finding.clone()));
                        wrong = true;
                    }
                }
            }
            if wrong {
                counts.flagged_wrongly += 1;
            }
        }

        for e in &expected.findings {
            let checked = ecosystems.contains(&e.ecosystem)
                && (!partial || scanned.contains(&(e.ecosystem, e.package.as_str())));
            if checked && !matched_entries.contains(&e.key()) {
                out.ecosystems.entry(e.ecosystem).or_default().missing += 1;
                out.missing.push(e.clone());
            }
        }

        for tool in &expected.tools {
            let present = scanned.contains(&(tool.ecosystem, tool.package.as_str()));
            if !ecosystems.contains(&tool.ecosystem) || (partial && !present) {
                continue;
            }
            let counts = out.categories.entry(tool.category).or_default();
            counts.tools += 1;
            let found = scans.iter().any(|s| {
                s.ecosystem == tool.ecosystem
                    && s.name == tool.package
                    && s.findings.iter().any(|f| f.category == tool.category)
            });
            if found {
                counts.tools_found += 1;
            } else {
                out.tools_missed.push(tool.clone());
            }
        }
        out
    }

    /// Whether the corpus matched the expectations: nothing new, nothing gone, every tool found,
    /// every layer scanned whole. Listed false positives do not fail the run; they are printed.
    pub(crate) fn passed(&self) -> bool {
        self.unexpected.is_empty()
            && self.missing.is_empty()
            && self.tools_missed.is_empty()
            && self.incomplete.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use hubcensus_types::{Confidence, Fingerprint, Subject};

    use super::*;

    fn finding(rule: &str, path: &str, category: Category) -> Finding {
        Finding {
            category,
            rule: rule.into(),
            confidence: Confidence::High,
            subject: Subject::Config,
            path: path.into(),
            preview: String::new(),
            fingerprint: Fingerprint::of(path.as_bytes()),
            deleted_in_upper_layer: false,
            detail: BTreeMap::new(),
        }
    }

    fn scan(name: &str, findings: Vec<Finding>) -> PackageScan {
        PackageScan {
            ecosystem: Ecosystem::Debian,
            name: name.into(),
            version: "1".into(),
            bytes: 0,
            findings,
            low: Vec::new(),
            error: None,
        }
    }

    fn expected(text: &str) -> Expected {
        Expected::parse(text, std::path::Path::new("expected.toml")).unwrap()
    }

    const TOR: &str = r#"
        [[tool]]
        ecosystem = "debian"
        package = "tor"
        category = "proxy_avoidance"

        [[finding]]
        ecosystem = "debian"
        package = "tor"
        rule = "tor_binary"
        path = "usr/bin/tor"
        verdict = "true_positive"
        reason = "the Tor daemon"
    "#;

    #[test]
    fn a_listed_finding_and_a_found_tool_pass() {
        let scans = [scan("tor", vec![finding("tor_binary", "usr/bin/tor", Category::ProxyAvoidance)])];
        let out = Outcome::compare(&scans, &expected(TOR), &Ecosystem::ALL, false);
        assert!(out.passed(), "{out:?}");
        assert_eq!(out.ecosystems[&Ecosystem::Debian].true_positives, 1);
        assert_eq!(out.categories[&Category::ProxyAvoidance].tools_found, 1);
    }

    #[test]
    fn a_new_finding_a_lost_one_and_a_missed_tool_each_fail() {
        let scans = [scan("tor", vec![finding("x", "etc/x", Category::Other)])];
        let out = Outcome::compare(&scans, &expected(TOR), &Ecosystem::ALL, false);
        assert!(!out.passed());
        assert_eq!(out.unexpected.len(), 1);
        assert_eq!(out.missing.len(), 1);
        assert_eq!(out.tools_missed.len(), 1);
        assert_eq!(out.ecosystems[&Ecosystem::Debian].flagged_wrongly, 1);
    }

    #[test]
    fn a_partial_run_checks_only_the_packages_it_scanned() {
        let scans = [scan("curl", vec![])];
        let out = Outcome::compare(&scans, &expected(TOR), &Ecosystem::ALL, true);
        assert!(out.passed(), "{out:?}");
        let out = Outcome::compare(&scans, &expected(TOR), &Ecosystem::ALL, false);
        assert!(!out.passed());
    }

    #[test]
    fn a_glob_entry_covers_a_family_of_findings_and_must_match_one() {
        let text = r#"
            [[finding]]
            ecosystem = "debian"
            package = "nmap-common"
            rule = "nmap_binary"
            path = "usr/share/nmap/scripts/*.nse"
            verdict = "true_positive"
            reason = "nmap's scripts"
        "#;
        let scripts = ["a.nse", "b.nse"]
            .map(|n| finding("nmap_binary", &format!("usr/share/nmap/scripts/{n}"), Category::HackingTool));
        let out = Outcome::compare(
            &[scan("nmap-common", scripts.to_vec())],
            &expected(text),
            &Ecosystem::ALL,
            false,
        );
        assert!(out.passed(), "{out:?}");
        assert_eq!(out.ecosystems[&Ecosystem::Debian].true_positives, 2);
        let deeper = finding("nmap_binary", "usr/share/nmap/scripts/sub/c.nse", Category::HackingTool);
        let out =
            Outcome::compare(&[scan("nmap-common", vec![deeper])], &expected(text), &Ecosystem::ALL, false);
        assert_eq!((out.unexpected.len(), out.missing.len()), (1, 1), "* does not cross /");
    }

    #[test]
    fn an_incomplete_layer_fails() {
        let mut s = scan("tor", vec![finding("tor_binary", "usr/bin/tor", Category::ProxyAvoidance)]);
        s.error = Some("decompression bomb".into());
        let out = Outcome::compare(&[s], &expected(TOR), &Ecosystem::ALL, false);
        assert!(!out.passed());
    }
}
