//! `--published-keys`: the list of private keys the corpus ships, as
//! `config/rules/published_keys.toml` holds it.
//!
//! A key inside a package anyone can download is published: whatever an image does with it, it
//! is no secret of that image. The list is built from what the scanner itself found (the
//! fingerprint is the sha256 of the decoded key body, the same value a finding stores), so an
//! entry matches exactly that key wherever it is later found — in a test folder, compiled into
//! a library, or copied into an application.

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
    path::Path,
};

use anyhow::Context;

use crate::compare::PackageScan;

/// The file's opening comment (the file is this program's output: edit it here).
const HEADER: &str = "# Keys published upstream: private keys that packages ship (test suites, examples, keys\n\
# compiled into libraries), found in the real-software corpus of `make accuracy`. A key anyone\n\
# can download from PyPI, npm or Debian is no secret of the image that carries it: its findings\n\
# are reported at LOW confidence with the reason, wherever the key lies.\n\
#\n\
# Generated, then reviewed: `cargo run --release -p hubcensus-accuracy -- --published-keys`\n\
# prints every private key the corpus holds (fingerprint = sha256 of the decoded key body, as\n\
# docs/rules.md says) with the package, version and path it was first found at. Format: the\n\
# [[fingerprint]] entries of known_false_positives.toml (docs/rules.md).\n\
";

/// The file's text: the header, then one `[[fingerprint]]` per key, sorted by package.
pub(crate) fn list(scans: &[PackageScan], known: &Path) -> anyhow::Result<String> {
    let listed = known_fingerprints(known)?;
    // fingerprint → (ecosystem package version, path): the first place in list order.
    let mut keys: BTreeMap<String, (String, String)> = BTreeMap::new();
    for scan in scans {
        for f in scan.findings.iter().chain(&scan.low) {
            let generated = f.detail.get("origin").is_some_and(|o| o == "generated_at_build");
            if f.rule != "private_key" || generated || listed.contains(f.fingerprint.as_str()) {
                continue;
            }
            let source = format!("{} {} {}", scan.ecosystem, scan.name, scan.version);
            keys.entry(f.fingerprint.to_string()).or_insert((source, f.path.clone()));
        }
    }
    let mut entries: Vec<_> = keys.into_iter().collect();
    entries.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let mut out = String::from(HEADER);
    for (fingerprint, (source, path)) in entries {
        let reason = format!("published upstream: {source}, {path}");
        let _ = write!(
            out,
            "\n[[fingerprint]]\nsha256 = \"{fingerprint}\"\nreason = {}\nrules = [\"private_key\"]\n",
            toml::Value::String(reason)
        );
    }
    Ok(out)
}

/// The fingerprints a false-positive file already lists.
fn known_fingerprints(path: &Path) -> anyhow::Result<HashSet<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = text.parse().with_context(|| format!("parsing {}", path.display()))?;
    let entries =
        table.get("fingerprint").and_then(toml::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    Ok(entries
        .iter()
        .filter_map(|e| e.get("sha256").and_then(toml::Value::as_str))
        .map(str::to_owned)
        .collect())
}
