//! What a run prints: a table per ecosystem and per category, then every disagreement with the
//! expectations in a form that can be reviewed and pasted into `expected.toml`.

use std::fmt::Write as _;

use hubcensus_types::Category;

use crate::compare::{Outcome, PackageScan};

/// The text report.
pub(crate) fn text(outcome: &Outcome, scans: &[PackageScan], verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "accuracy on real software: counted (medium/high) findings against testdata/realworld/expected.toml\n"
    );
    let _ = writeln!(
        s,
        "{:<10} {:>9} {:>8} {:>14} {:>10} {:>10} {:>11} {:>8}",
        "ecosystem",
        "packages",
        "flagged",
        "wrongly flagged",
        "true pos",
        "false pos",
        "unexpected",
        "missing"
    );
    for (eco, c) in &outcome.ecosystems {
        let _ = writeln!(
            s,
            "{:<10} {:>9} {:>8} {:>14} {:>10} {:>10} {:>11} {:>8}",
            eco.as_str(),
            c.packages,
            c.flagged,
            c.flagged_wrongly,
            c.true_positives,
            c.false_positives,
            c.unexpected,
            c.missing
        );
    }
    let _ = writeln!(s);
    let _ =
        writeln!(s, "{:<26} {:>10} {:>16} {:>12}", "category", "true pos", "false/unreviewed", "tools found");
    for category in Category::ALL {
        let c = outcome.categories.get(&category).copied().unwrap_or_default();
        let tools = if c.tools == 0 { "-".to_owned() } else { format!("{}/{}", c.tools_found, c.tools) };
        let _ = writeln!(
            s,
            "{:<26} {:>10} {:>16} {:>12}",
            category.as_str(),
            c.true_positives,
            c.false_positives,
            tools
        );
    }

    if !outcome.false_positives.is_empty() {
        let _ = writeln!(s, "\nknown false positives still reported (the goal is none):");
        for e in &outcome.false_positives {
            let _ = writeln!(s, "  {} {} {} {} — {}", e.ecosystem, e.package, e.rule, e.path, e.reason);
        }
    }
    if !outcome.incomplete.is_empty() {
        let _ = writeln!(s, "\nlayers not scanned whole:");
        for (eco, name, why) in &outcome.incomplete {
            let _ = writeln!(s, "  {eco} {name}: {why}");
        }
    }
    if !outcome.tools_missed.is_empty() {
        let _ = writeln!(s, "\ntools not found in their category:");
        for t in &outcome.tools_missed {
            let _ = writeln!(s, "  {} {} (expected {})", t.ecosystem, t.package, t.category);
        }
    }
    if !outcome.missing.is_empty() {
        let _ = writeln!(s, "\nexpected findings that did not occur:");
        for e in &outcome.missing {
            let _ = writeln!(s, "  {} {} {} {}", e.ecosystem, e.package, e.rule, e.path);
        }
    }
    if !outcome.unexpected.is_empty() {
        let _ = writeln!(
            s,
            "\nfindings the expectations do not list ({}); review each, fix the scanner or add it with a verdict:",
            outcome.unexpected.len()
        );
        for (key, f) in &outcome.unexpected {
            let _ = writeln!(s, "\n# {} {} {:?}", f.confidence, f.preview, f.detail);
            let _ = writeln!(s, "[[finding]]");
            let _ = writeln!(s, "ecosystem = \"{}\"", key.ecosystem);
            let _ = writeln!(s, "package = \"{}\"", key.package);
            let _ = writeln!(s, "rule = \"{}\"", key.rule);
            let _ = writeln!(s, "path = {}", toml_string(&key.path));
            let _ = writeln!(s, "verdict = \"true_positive\"  # or false_positive: decide");
            let _ = writeln!(s, "reason = \"\"");
        }
    }
    if verbose {
        let _ = writeln!(s, "\nevery finding:");
        for scan in scans {
            for f in scan.findings.iter().chain(&scan.low) {
                let fp = f.detail.get("false_positive").map(|r| format!(" [{r}]")).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {} {} {} {} {} {} {}{fp}",
                    scan.ecosystem, scan.name, scan.version, f.confidence, f.rule, f.path, f.preview
                );
            }
        }
    }
    let _ = writeln!(s, "\n{}", if outcome.passed() { "accuracy: PASS" } else { "accuracy: FAIL" });
    s
}

/// The per-category table as Markdown, the form docs/methodology.md quotes.
pub(crate) fn markdown(outcome: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| category | found (true positives) | tools found / counted | false positives |");
    let _ = writeln!(s, "|---|---|---|---|");
    for category in Category::ALL {
        let c = outcome.categories.get(&category).copied().unwrap_or_default();
        let tools = if c.tools == 0 { "–".to_owned() } else { format!("{} / {}", c.tools_found, c.tools) };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} |",
            category.as_str(),
            c.true_positives,
            tools,
            c.false_positives
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "| ecosystem | packages | flagged | true positives | false positives |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (eco, c) in &outcome.ecosystems {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            eco.as_str(),
            c.packages,
            c.flagged,
            c.true_positives,
            c.false_positives + c.unexpected
        );
    }
    s
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
