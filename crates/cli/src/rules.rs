//! The rule set a command scans with: the built-in rules plus the YARA files that `[rules]
//! yara` (globs) and `hubcensus scan --yara FILE|DIR` name, compiled once per process before
//! any other work, so a broken rule file costs nothing but its error (exit 2).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use globset::GlobBuilder;
use hubcensus_rules::{RuleSet, YaraSource};

use crate::config::Settings;

/// File names a `--yara DIR` takes.
const YARA_EXTENSIONS: [&str; 2] = ["yar", "yara"];

/// The built-in rules with the configured YARA files and `extra` (files, or directories whose
/// `*.yar`/`*.yara` files are taken, recursively) compiled in.
///
/// # Errors
/// A glob that matches no file, a path that does not exist, a file that cannot be read, a YARA
/// file that does not compile (the error names file, line and rule), or YARA files given to a
/// build without YARA support.
pub(crate) fn load(settings: &Settings, extra: &[PathBuf]) -> anyhow::Result<RuleSet> {
    let builtin = RuleSet::builtin().context("loading the built-in rules")?;
    let files = yara_files(&settings.rules.yara, extra)?;
    if files.is_empty() {
        return Ok(builtin);
    }
    let sources = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading YARA rule file {}", path.display()))?;
            Ok(YaraSource { path: path.clone(), text })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scope = settings.rules.yara_scope().map_err(|e| anyhow::anyhow!("rules.yara_kinds: {e}"))?;
    let rules = builtin.with_yara(sources, scope)?;
    tracing::info!(files = files.len(), version = rules.version(), "YARA rules compiled");
    Ok(rules)
}

/// The YARA files of `globs` (`[rules] yara`) then of `paths` (`--yara`), each once, in that
/// order.
fn yara_files(globs: &[String], paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for pattern in globs {
        let found = expand(pattern)?;
        anyhow::ensure!(!found.is_empty(), "rules.yara: {pattern:?} matches no file");
        files.extend(found);
    }
    for path in paths {
        if path.is_dir() {
            let found: Vec<PathBuf> = walk(path)?
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| YARA_EXTENSIONS.iter().any(|x| e == *x)))
                .collect();
            anyhow::ensure!(!found.is_empty(), "--yara {}: no *.yar or *.yara file in it", path.display());
            files.extend(found);
        } else {
            anyhow::ensure!(path.is_file(), "--yara {}: no such file or directory", path.display());
            files.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    Ok(files)
}

/// The files a glob matches (`*` stays within a directory, `**` crosses them), sorted; a
/// pattern without glob characters is the file it names.
fn expand(pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let is_glob = |s: &str| s.contains(['*', '?', '[', '{']);
    if !is_glob(pattern) {
        let path = PathBuf::from(pattern);
        return Ok(if path.is_file() { vec![path] } else { Vec::new() });
    }
    // Walk from the longest leading part without glob characters.
    let mut base = PathBuf::new();
    for part in Path::new(pattern).components() {
        if is_glob(&part.as_os_str().to_string_lossy()) {
            break;
        }
        base.push(part);
    }
    let relative = base.as_os_str().is_empty();
    let glob = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .with_context(|| format!("rules.yara: {pattern:?} is not a glob"))?
        .compile_matcher();
    let root = if relative { Path::new(".") } else { base.as_path() };
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    Ok(walk(root)?
        .into_iter()
        .map(|p| if relative { p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p) } else { p })
        .filter(|p| glob.is_match(p))
        .collect())
}

/// Every regular file under `dir` (links followed), sorted by path.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_directories_name_files_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/deep")).unwrap();
        for f in ["a/one.yar", "a/two.yara", "a/deep/three.yar", "a/notes.txt"] {
            std::fs::write(root.join(f), "rule x { condition: false }").unwrap();
        }
        let star = format!("{}/a/*.yar", root.display());
        let deep = format!("{}/a/**/*.yar", root.display());
        assert_eq!(expand(&star).unwrap(), vec![root.join("a/one.yar")], "`*` stays in its directory");
        assert_eq!(expand(&deep).unwrap(), vec![root.join("a/deep/three.yar"), root.join("a/one.yar")]);
        let files = yara_files(&[star], &[root.join("a")]).unwrap();
        assert_eq!(
            files,
            vec![root.join("a/one.yar"), root.join("a/deep/three.yar"), root.join("a/two.yara")]
        );
        let none = format!("{}/b/*.yar", root.display());
        assert!(yara_files(&[none], &[]).unwrap_err().to_string().contains("matches no file"));
        assert!(
            yara_files(&[], &[root.join("missing.yar")]).unwrap_err().to_string().contains("no such file")
        );
        std::fs::create_dir(root.join("empty")).unwrap();
        assert!(yara_files(&[], &[root.join("empty")]).unwrap_err().to_string().contains("no *.yar"));
    }
}
