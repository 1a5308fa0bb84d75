//! [`RuleSet`]: the immutable, shareable result of loading rule files.

use std::path::Path;

use aho_corasick::AhoCorasick;
use globset::GlobSet;

use crate::{
    FileKind,
    compile::{self, Source},
    error::RulesError,
    falsepos::FalsePositives,
    prefilter::{LazyPrefilter, Prefilter},
    rule::{ContentRule, FileHash, HostRule, PathRule, Rule},
};

/// The rule files compiled into the binary (`config/rules/*.toml` at build time).
const BUILTIN: [(&str, &str); 8] = [
    ("cryptomining.toml", include_str!("../../../config/rules/cryptomining.toml")),
    ("dynamic_dns.toml", include_str!("../../../config/rules/dynamic_dns.toml")),
    ("embedded_keys.toml", include_str!("../../../config/rules/embedded_keys.toml")),
    ("hacking_tool.toml", include_str!("../../../config/rules/hacking_tool.toml")),
    ("known_false_positives.toml", include_str!("../../../config/rules/known_false_positives.toml")),
    ("other.toml", include_str!("../../../config/rules/other.toml")),
    ("proxy_avoidance.toml", include_str!("../../../config/rules/proxy_avoidance.toml")),
    ("published_keys.toml", include_str!("../../../config/rules/published_keys.toml")),
];

/// A keyword's owner: which content rule, which of its keywords, and (for case-sensitive
/// keywords) the exact bytes the case-insensitive automaton hit must equal.
#[derive(Debug)]
pub(crate) struct Owner {
    pub(crate) content: u32,
    pub(crate) keyword: u8,
    pub(crate) exact: Option<Box<[u8]>>,
}

/// How the keywords of one file kind are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum KeywordSearch {
    /// No rule with keywords applies: skip the search.
    #[default]
    Skip,
    /// The automaton over the windows of `prefilters[i]`, or over every byte when that
    /// prefilter has no anchor set (no SIMD, or no small enough set).
    Prefiltered(usize),
}

/// The keyword searches of one file kind: `all` for a file that some `paths`-restricted
/// content rule of the kind applies to, `open` (without those rules' keywords) otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KindSearch {
    pub(crate) all: KeywordSearch,
    pub(crate) open: KeywordSearch,
}

/// Every rule, compiled: one keyword automaton, glob sets, host and hash tables. Immutable and
/// `Send + Sync`: build it once and share it (`Arc<RuleSet>`) between scanning threads.
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) version: String,
    pub(crate) rules: Vec<Rule>,
    pub(crate) content: Vec<ContentRule>,
    pub(crate) automaton: Option<AhoCorasick>,
    pub(crate) prefilters: Vec<LazyPrefilter>,
    /// How each file kind (by [`FileKind::index`]) is searched for keywords.
    pub(crate) search_by_kind: [KindSearch; FileKind::ALL.len()],
    pub(crate) owners: Vec<Vec<Owner>>,
    pub(crate) content_globs: GlobSet,
    pub(crate) content_glob_owner: Vec<usize>,
    pub(crate) run_rules: Vec<usize>,
    pub(crate) path_globs: GlobSet,
    pub(crate) path_glob_owner: Vec<usize>,
    pub(crate) path_rules: Vec<PathRule>,
    /// Program basenames of the command rules, and the rule (index into `rules`) of each.
    pub(crate) command_globs: GlobSet,
    pub(crate) command_glob_owner: Vec<usize>,
    /// Looked up for every label suffix of every host name a layer holds: foldhash, not SipHash
    /// (seeded per process all the same).
    pub(crate) hosts: foldhash::HashMap<String, HostRule>,
    pub(crate) hashes: foldhash::HashMap<u64, Vec<FileHash>>,
    pub(crate) false_positives: FalsePositives,
    /// The YARA rules, when some were compiled in ([`RuleSet::with_yara`]).
    pub(crate) yara: Option<crate::yara::Compiled>,
}

impl RuleSet {
    /// The rule set compiled into the binary from `config/rules/*.toml`.
    ///
    /// # Errors
    /// Only if the embedded files are invalid, which the crate's tests rule out.
    pub fn builtin() -> Result<RuleSet, RulesError> {
        Self::from_sources(
            BUILTIN
                .iter()
                .map(|(name, text)| Source { name: (*name).into(), text: (*text).into() })
                .collect(),
        )
    }

    /// Loads every `*.toml` file of `dir` (`known_false_positives.toml` and
    /// `published_keys.toml` are false-positive lists; every other file is one category's
    /// rules).
    ///
    /// # Errors
    /// [`RulesError::Io`] if the directory or a file cannot be read, [`RulesError::NoRuleFiles`]
    /// if it holds none, and the parse/validation errors of a bad rule, naming file and rule.
    pub fn from_dir(dir: &Path) -> Result<RuleSet, RulesError> {
        let io = |path: &Path, source| RulesError::Io { path: path.to_owned(), source };
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_none_or(|e| e != "toml") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            sources.push(Source { name, text });
        }
        if sources.is_empty() {
            return Err(RulesError::NoRuleFiles(dir.to_owned()));
        }
        Self::from_sources(sources)
    }

    fn from_sources(sources: Vec<Source>) -> Result<RuleSet, RulesError> {
        compile::build(sources)
    }

    /// `"rules-"` + the first 12 hex digits of a sha256 over the rule files sorted by name
    /// (each as `name NUL text NUL`). Stored with every scan, so a verdict cache keyed by
    /// (layer digest, rule-set version) knows when to rescan.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every rule, in file-name then file order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// How many exact-case anchors the SIMD prefilter searches for in files of `kind` that no
    /// `paths`-restricted rule applies to, or `None` when the keyword automaton scans every
    /// byte itself (no SIMD, or keywords too varied) or no keyword applies.
    pub fn prefilter_anchors(&self, kind: FileKind) -> Option<usize> {
        match self.search(kind).open {
            KeywordSearch::Prefiltered(p) => self.prefilters.get(p)?.get().map(Prefilter::anchors),
            KeywordSearch::Skip => None,
        }
    }

    pub(crate) fn search(&self, kind: FileKind) -> KindSearch {
        self.search_by_kind[kind.index()]
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id() == id)
    }
}
