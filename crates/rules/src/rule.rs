//! A compiled rule: the public face ([`Rule`]) and the matching parts the engine uses.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use hubcensus_types::{Category, Confidence};
use regex::bytes::Regex;

use crate::{file::FileKind, validate::Validator};

/// What makes a rule fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Literal keywords in file content, then confirmation around them.
    Keywords,
    /// A keyword-less run of characters of one alphabet (Monero addresses).
    Run,
    /// A path glob (and file kind), no content.
    Path,
    /// A domain suffix, judged on extracted host names.
    Host,
    /// A program's basename, judged on the programs a command line starts (an image's
    /// Entrypoint and Cmd).
    Command,
    /// The sha256 of a whole file.
    FileHash,
    /// A YARA rule's condition over a file (see [`crate::YaraScope`] for which files).
    Yara,
}

/// One rule of a [`crate::RuleSet`].
#[derive(Debug)]
pub struct Rule {
    pub(crate) id: Arc<str>,
    pub(crate) category: Category,
    pub(crate) description: String,
    pub(crate) confidence: Confidence,
    pub(crate) trigger: Trigger,
    pub(crate) file: String,
    /// Whether the false-positive places (tests, documentation...) may lower its matches.
    pub(crate) place_can_excuse: bool,
    /// Paths where its matched value is generated into the image at build time.
    pub(crate) generated_at_build: Option<globset::GlobSet>,
}

impl Rule {
    /// The rule id (unique in a rule set; stored with every finding).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The category its matches count towards.
    pub fn category(&self) -> Category {
        self.category
    }

    /// What the rule detects, for humans.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The base confidence (before kind, context and false-positive adjustments).
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// What makes it fire.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// The rule file it came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Whether a known false-positive place (a test folder, documentation) lowers its matches
    /// to low confidence. `false` for evidence that is the thing itself wherever it lies, such
    /// as a miner's configuration (`place_cannot_excuse = true` in its file).
    pub fn place_can_excuse(&self) -> bool {
        self.place_can_excuse
    }
}

/// A set of kinds, as a bit mask of [`FileKind::bit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KindMask(pub(crate) u8);

impl KindMask {
    /// A rule's kinds when it lists none: every kind that has content. Entries known by name
    /// only (directories, links) are matched only by a rule that lists `name_only`.
    pub(crate) const DEFAULT: KindMask = KindMask(
        FileKind::Elf.bit()
            | FileKind::Script.bit()
            | FileKind::Text.bit()
            | FileKind::Binary.bit()
            | FileKind::ConfigField.bit(),
    );

    pub(crate) fn contains(self, kind: FileKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// Per-kind confidence overrides, indexed by [`FileKind::index`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KindConfidence(pub(crate) [Option<Confidence>; FileKind::ALL.len()]);

impl KindConfidence {
    pub(crate) fn get(&self, kind: FileKind) -> Option<Confidence> {
        self.0[kind.index()]
    }
}

/// A condition on the bytes around a match.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) keywords: Option<AhoCorasick>,
    pub(crate) regex: Option<Regex>,
    pub(crate) within: usize,
    pub(crate) min_distinct: u32,
}

impl Context {
    /// Whether the condition holds around `data[start..end]`.
    pub(crate) fn holds(&self, data: &[u8], start: usize, end: usize) -> bool {
        let lo = start.saturating_sub(self.within);
        let hi = end.saturating_add(self.within).min(data.len());
        let around = &data[lo..hi];
        self.keywords.as_ref().is_some_and(|ac| {
            let mut seen = 0u64;
            for m in ac.find_overlapping_iter(around) {
                seen |= 1 << (m.pattern().as_usize() % 64);
                if seen.count_ones() >= self.min_distinct {
                    return true;
                }
            }
            false
        }) || self.regex.as_ref().is_some_and(|re| {
            // The match itself must not satisfy its own context.
            re.find_iter(around).any(|m| m.end() + lo <= start || m.start() + lo >= end)
        })
    }
}

/// Which characters a [`Trigger::Run`] rule looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    Base58,
}

/// Base58 membership of every byte: the run scan tests bytes one at a time, and a table
/// lookup beats the range comparisons.
const BASE58: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = crate::validate::monero::is_base58(b as u8);
        b += 1;
    }
    table
};

impl Charset {
    pub(crate) fn contains(self, b: u8) -> bool {
        match self {
            Charset::Base58 => BASE58[usize::from(b)],
        }
    }
}

/// The keyword-less trigger of a run rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) charset: Charset,
    pub(crate) min_len: usize,
    pub(crate) max_len: usize,
}

/// The matching parts of a content rule (keywords or run).
#[derive(Debug)]
pub(crate) struct ContentRule {
    /// Index into `RuleSet::rules`.
    pub(crate) rule: usize,
    pub(crate) kinds: KindMask,
    /// Whether the rule only applies to files matching its `paths` globs.
    pub(crate) path_restricted: bool,
    pub(crate) regex: Option<Regex>,
    /// The capture group holding the value: `value` if the regex names one, else the whole match.
    pub(crate) value_group: usize,
    /// Other named groups: their text goes into the match detail under the group name.
    pub(crate) detail_groups: Vec<(usize, String)>,
    /// Bytes of context before and after a keyword hit that the regex searches.
    pub(crate) window: (usize, usize),
    pub(crate) validator: Option<Validator>,
    pub(crate) min_entropy: Option<f64>,
    pub(crate) min_distinct: u32,
    pub(crate) context: Option<Context>,
    pub(crate) boost: Option<(Context, Confidence)>,
    pub(crate) kind_confidence: KindConfidence,
    pub(crate) secret: bool,
    pub(crate) run: Option<Run>,
    /// The rule's keywords as written (for the detail of keyword-only rules).
    pub(crate) keywords: Vec<String>,
}

impl ContentRule {
    /// A rule with neither regex nor validator reports which of its keywords occurred.
    pub(crate) fn keyword_only(&self) -> bool {
        self.regex.is_none() && self.validator.is_none() && self.run.is_none()
    }
}

/// The matching parts of a path rule.
#[derive(Debug)]
pub(crate) struct PathRule {
    pub(crate) rule: usize,
    pub(crate) kinds: KindMask,
    pub(crate) kind_confidence: KindConfidence,
}

/// The matching parts of a host rule, per suffix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostRule {
    pub(crate) rule: usize,
    /// The confidence for the provider's own host (`duckdns.org`, `www.duckdns.org`).
    pub(crate) apex: Confidence,
}

/// One known file hash.
#[derive(Debug, Clone)]
pub(crate) struct FileHash {
    pub(crate) rule: usize,
    pub(crate) sha256: [u8; 32],
    pub(crate) name: String,
}
