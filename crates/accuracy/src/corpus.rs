//! The corpus as `scripts/testdata/realworld.sh` leaves it: one folder per ecosystem, each with
//! the downloaded files and an `index.tsv` naming, for every line of the committed list, the
//! version fetched and the file it is in.
//!
//! The index, not a directory listing, is the source of truth: a file left over from an older
//! list is not part of the corpus, and a listed package without its file is an error (the fetch
//! did not finish), never a silently smaller corpus.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Where a package comes from, which decides how it is laid out in a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Ecosystem {
    /// Wheels from PyPI.
    Pypi,
    /// `npm pack` tarballs from the npm registry.
    Npm,
    /// `.deb` packages from Debian bookworm.
    Debian,
}

impl Ecosystem {
    pub(crate) const ALL: [Ecosystem; 3] = [Ecosystem::Pypi, Ecosystem::Npm, Ecosystem::Debian];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Debian => "debian",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        Ecosystem::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .with_context(|| format!("unknown ecosystem {s:?} (pypi, npm, debian)"))
    }
}

/// One package of the corpus and the file holding it.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    /// The version actually fetched (Debian may have replaced the listed one).
    pub(crate) version: String,
    pub(crate) file: PathBuf,
}

/// Every package of the ecosystems asked for, in list order.
pub(crate) fn load(cache: &Path, ecosystems: &[Ecosystem]) -> anyhow::Result<Vec<Package>> {
    let mut out = Vec::new();
    for &eco in ecosystems {
        let dir = cache.join(eco.as_str());
        let index = dir.join("index.tsv");
        let text = std::fs::read_to_string(&index).with_context(|| {
            format!("reading {} (run scripts/testdata/realworld.sh first)", index.display())
        })?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, _listed, fetched, file] = fields[..] else {
                bail!(
                    "{}:{}: expected 4 tab-separated fields, found {}",
                    index.display(),
                    i + 1,
                    fields.len()
                );
            };
            let file = dir.join(file);
            if !file.is_file() {
                bail!("{}:{}: {name}: {} is missing", index.display(), i + 1, file.display());
            }
            out.push(Package { ecosystem: eco, name: name.to_owned(), version: fetched.to_owned(), file });
        }
    }
    Ok(out)
}
