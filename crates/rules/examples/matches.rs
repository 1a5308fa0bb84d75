//! Prints every match in the given files with its fingerprint and detail: the tool for
//! adding an entry to `config/rules/known_false_positives.toml` (see docs/rules.md).
//!
//! ```sh
//! cargo run -p hubcensus-rules --example matches -- /usr/share/doc/libxmlsec1-dev/examples/rsakey.pem
//! ```

use hubcensus_rules::{FileKind, FileMeta, RuleSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rules = RuleSet::builtin()?;
    for arg in std::env::args().skip(1) {
        let data = std::fs::read(&arg)?;
        let path = arg.trim_start_matches('/');
        let file =
            FileMeta { path, kind: FileKind::sniff(&data), size: data.len() as u64, executable: false };
        let mut out = Vec::new();
        rules.scan_path(&file, &mut out);
        rules.scan_bytes(&file, &data, &mut out);
        for m in out {
            println!(
                "{path}\t{}\t{}\t{}\t{}\t{:?}",
                m.rule, m.confidence, m.fingerprint, m.preview, m.detail
            );
        }
    }
    Ok(())
}
