//! Rule files → a [`RuleSet`]: parse, validate every field (naming the file and rule on
//! error), then build the shared automaton and glob sets once.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use globset::{GlobBuilder, GlobSetBuilder};
use hubcensus_types::{Category, Confidence};
use regex::bytes::{Regex, RegexBuilder};
use sha2::{Digest as _, Sha256};

use crate::{
    error::RulesError,
    falsepos::{FalsePositives, FpEntry},
    file::FileKind,
    prefilter::{LazyPrefilter, Target, TeddyForm},
    rule::{
        Charset, ContentRule, Context, FileHash, HostRule, KindConfidence, KindMask, PathRule, Rule, Run,
        Trigger,
    },
    ruleset::{KeywordSearch, KindSearch, Owner, RuleSet},
    spec::{self, RuleFile, RuleSpec},
    validate::Validator,
};

/// The name of the false-positive list among the rule files.
pub(crate) const FALSE_POSITIVES_FILE: &str = "known_false_positives.toml";

/// The list of keys published upstream (test keys packages ship), in the false-positive file's
/// format: fingerprints only, built from the real-software corpus (`accuracy --published-keys`).
pub(crate) const PUBLISHED_KEYS_FILE: &str = "published_keys.toml";

/// The classes a `[[path]]` place of the false-positive file may have (docs/rules.md).
const PLACE_CLASSES: [&str; 5] = ["test", "fixture", "example", "documentation", "reference_data"];
/// Shortest keyword: shorter ones hit on nearly every page of a binary.
const MIN_KEYWORD_LEN: usize = 3;
/// Most keywords one rule may have (distinct keywords are tracked in a 64-bit set).
const MAX_KEYWORDS_PER_RULE: usize = 64;
/// Largest window around a keyword hit (a PGP private key block fits).
const MAX_WINDOW: usize = 64 * 1024;
/// Compiled-regex size limit: rule regexes are small; this catches accidental blow-ups.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;
/// Default window: bytes before and after a keyword hit.
const DEFAULT_WINDOW: [usize; 2] = [64, 256];

/// One rule file's name and text.
#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// `"rules-"` + the first 12 hex digits of sha256 over each file, sorted by name, as
/// `name NUL text NUL`.
pub(crate) fn version(sources: &[Source]) -> String {
    let mut sorted: Vec<&Source> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for s in sorted {
        h.update(s.name.as_bytes());
        h.update([0]);
        h.update(s.text.as_bytes());
        h.update([0]);
    }
    format!("rules-{}", &hex::encode(h.finalize())[..12])
}

/// Builds a rule set from rule files.
pub(crate) fn build(mut sources: Vec<Source>) -> Result<RuleSet, RulesError> {
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut b = Builder::default();
    let mut fp_sources = Vec::new();
    for src in &sources {
        if src.name == FALSE_POSITIVES_FILE || src.name == PUBLISHED_KEYS_FILE {
            fp_sources.push(src);
            continue;
        }
        let file: RuleFile = toml::from_str(&src.text)
            .map_err(|e| RulesError::Syntax { file: src.name.clone(), message: e.to_string() })?;
        let category: Category = file.category.parse().map_err(|e| RulesError::InvalidRule {
            file: src.name.clone(),
            rule: "category".into(),
            reason: format!("{e}"),
        })?;
        for spec in file.rules {
            b.add(&src.name, category, &spec)?;
        }
    }
    let false_positives = compile_false_positives(&fp_sources, &b.ids)?;
    b.finish(version(&sources), false_positives)
}

struct Builder {
    rules: Vec<Rule>,
    ids: HashMap<String, String>,
    content: Vec<ContentRule>,
    /// Lowercased keyword → AC pattern index.
    patterns: HashMap<Vec<u8>, usize>,
    pattern_bytes: Vec<Vec<u8>>,
    owners: Vec<Vec<Owner>>,
    content_globs: GlobSetBuilder,
    content_glob_owner: Vec<usize>,
    path_globs: GlobSetBuilder,
    path_glob_owner: Vec<usize>,
    path_rules: Vec<PathRule>,
    command_globs: GlobSetBuilder,
    command_glob_owner: Vec<usize>,
    hosts: foldhash::HashMap<String, HostRule>,
    hashes: foldhash::HashMap<u64, Vec<FileHash>>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            ids: HashMap::new(),
            content: Vec::new(),
            patterns: HashMap::new(),
            pattern_bytes: Vec::new(),
            owners: Vec::new(),
            content_globs: GlobSetBuilder::new(),
            content_glob_owner: Vec::new(),
            path_globs: GlobSetBuilder::new(),
            path_glob_owner: Vec::new(),
            path_rules: Vec::new(),
            command_globs: GlobSetBuilder::new(),
            command_glob_owner: Vec::new(),
            hosts: foldhash::HashMap::default(),
            hashes: foldhash::HashMap::default(),
        }
    }
}

impl Builder {
    fn add(&mut self, file: &str, category: Category, s: &RuleSpec) -> Result<(), RulesError> {
        let invalid =
            |reason: String| RulesError::InvalidRule { file: file.to_owned(), rule: s.id.clone(), reason };
        if s.id.is_empty() || !s.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid("ids are lowercase letters, digits and '_'".into()));
        }
        if let Some(first) = self.ids.insert(s.id.clone(), file.to_owned()) {
            return Err(RulesError::DuplicateRule { rule: s.id.clone(), first, second: file.to_owned() });
        }
        if s.description.trim().is_empty() {
            return Err(invalid("description is empty".into()));
        }
        let confidence = parse_confidence(&s.confidence).map_err(&invalid)?;
        let kinds = parse_kinds(&s.kinds).map_err(&invalid)?;
        let mut kind_confidence = KindConfidence::default();
        for (k, c) in &s.kind_confidence {
            let kind = FileKind::from_id(k)
                .ok_or_else(|| invalid(format!("kind_confidence: unknown kind {k:?}")))?;
            kind_confidence.0[kind.index()] = Some(parse_confidence(c).map_err(&invalid)?);
        }
        let families = [
            !s.keywords.is_empty(),
            s.run.is_some(),
            !s.hosts.is_empty(),
            !s.commands.is_empty(),
            !s.sha256.is_empty(),
        ]
        .iter()
        .filter(|&&x| x)
        .count();
        if families > 1 {
            return Err(invalid(
                "give one trigger: keywords, run, hosts, commands or sha256 (paths may restrict keywords/run)"
                    .into(),
            ));
        }
        let is_content = !s.keywords.is_empty() || s.run.is_some();
        let trigger = if !s.keywords.is_empty() {
            Trigger::Keywords
        } else if s.run.is_some() {
            Trigger::Run
        } else if !s.hosts.is_empty() {
            Trigger::Host
        } else if !s.commands.is_empty() {
            Trigger::Command
        } else if !s.sha256.is_empty() {
            Trigger::FileHash
        } else if !s.paths.is_empty() {
            Trigger::Path
        } else {
            return Err(invalid("no trigger: give keywords, run, paths, hosts, commands or sha256".into()));
        };
        if !is_content {
            let content_only = [
                ("regex", s.regex.is_some()),
                ("window", s.window.is_some()),
                ("validator", s.validator.is_some()),
                ("min_entropy", s.min_entropy.is_some()),
                ("min_distinct", s.min_distinct.is_some()),
                ("context", s.context.is_some()),
                ("boost", s.boost.is_some()),
                ("case_insensitive", s.case_insensitive),
            ];
            if let Some((field, _)) = content_only.iter().find(|(_, set)| *set) {
                return Err(invalid(format!("{field} only applies to keyword or run rules")));
            }
        }
        if s.apex_confidence.is_some() && trigger != Trigger::Host {
            return Err(invalid("apex_confidence only applies to host rules".into()));
        }
        if is_content && kinds.contains(FileKind::NameOnly) {
            return Err(invalid("name_only entries have no content: it only applies to path rules".into()));
        }
        let index = self.rules.len();
        let id: Arc<str> = Arc::from(s.id.as_str());
        match trigger {
            Trigger::Keywords | Trigger::Run => {
                self.add_content(file, s, index, kinds, kind_confidence, category).map_err(&invalid)?;
            }
            Trigger::Path => {
                for g in &s.paths {
                    self.path_globs.add(glob(g).map_err(&invalid)?);
                    self.path_glob_owner.push(self.path_rules.len());
                }
                self.path_rules.push(PathRule { rule: index, kinds, kind_confidence });
            }
            Trigger::Command => {
                if !s.paths.is_empty() || !s.kinds.is_empty() || !s.kind_confidence.is_empty() {
                    return Err(invalid("command rules take no paths, kinds or kind_confidence".into()));
                }
                for c in &s.commands {
                    if c.is_empty() || c.contains('/') {
                        return Err(invalid(format!(
                            "command {c:?} is not a program's basename (no '/', not empty)"
                        )));
                    }
                    self.command_globs.add(glob(c).map_err(&invalid)?);
                    self.command_glob_owner.push(index);
                }
            }
            Trigger::Host => {
                if !s.paths.is_empty() || !s.kinds.is_empty() {
                    return Err(invalid("host rules take no paths or kinds".into()));
                }
                let apex = match &s.apex_confidence {
                    Some(c) => parse_confidence(c).map_err(&invalid)?,
                    None => confidence,
                };
                for h in &s.hosts {
                    let host = h.trim().trim_end_matches('.').to_ascii_lowercase();
                    if host.is_empty()
                        || !host.contains('.')
                        || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    {
                        return Err(invalid(format!("host suffix {h:?} is not a domain name")));
                    }
                    if let Some(prev) = self.hosts.insert(host.clone(), HostRule { rule: index, apex }) {
                        let other = &self.rules.get(prev.rule).map_or("this rule", |r| r.id());
                        return Err(invalid(format!("host suffix {host:?} is also listed by {other}")));
                    }
                }
            }
            Trigger::FileHash => {
                for h in &s.sha256 {
                    let bytes = hex::decode(&h.hash)
                        .ok()
                        .and_then(|v| <[u8; 32]>::try_from(v).ok())
                        .filter(|_| h.hash.bytes().all(|b| !b.is_ascii_uppercase()))
                        .ok_or_else(|| {
                            invalid(format!("sha256 {:?} is not 64 lowercase hex digits", h.hash))
                        })?;
                    self.hashes.entry(h.size).or_default().push(FileHash {
                        rule: index,
                        sha256: bytes,
                        name: h.name.clone(),
                    });
                }
            }
            // A TOML rule never has this trigger: YARA rules come from `RuleSet::with_yara`.
            Trigger::Yara => return Err(invalid("YARA rules are not TOML rules".into())),
        }
        let generated_at_build = if s.generated_at_build.is_empty() {
            None
        } else {
            let mut globs = GlobSetBuilder::new();
            for g in &s.generated_at_build {
                globs.add(glob(g).map_err(&invalid)?);
            }
            Some(globs.build().map_err(|e| invalid(e.to_string()))?)
        };
        self.rules.push(Rule {
            id,
            category,
            description: s.description.trim().to_owned(),
            confidence,
            trigger,
            file: file.to_owned(),
            place_can_excuse: !s.place_cannot_excuse,
            generated_at_build,
        });
        Ok(())
    }

    fn add_content(
        &mut self,
        _file: &str,
        s: &RuleSpec,
        index: usize,
        kinds: KindMask,
        kind_confidence: KindConfidence,
        category: Category,
    ) -> Result<(), String> {
        let content_index = self.content.len();
        if s.keywords.len() > MAX_KEYWORDS_PER_RULE {
            return Err(format!("at most {MAX_KEYWORDS_PER_RULE} keywords per rule"));
        }
        for (ki, kw) in s.keywords.iter().enumerate() {
            if kw.len() < MIN_KEYWORD_LEN {
                return Err(format!("keyword {kw:?} is shorter than {MIN_KEYWORD_LEN} bytes"));
            }
            let lower = kw.as_bytes().to_ascii_lowercase();
            let pid = *self.patterns.entry(lower.clone()).or_insert_with(|| {
                self.pattern_bytes.push(lower);
                self.owners.push(Vec::new());
                self.pattern_bytes.len() - 1
            });
            let exact = (!s.case_insensitive).then(|| kw.as_bytes().to_vec().into_boxed_slice());
            self.owners[pid].push(Owner { content: content_index as u32, keyword: ki as u8, exact });
        }
        let regex = s.regex.as_deref().map(compile_regex).transpose()?;
        let run = s.run.as_ref().map(compile_run).transpose()?;
        let validator = s
            .validator
            .as_deref()
            .map(|v| {
                Validator::from_name(v).ok_or_else(|| {
                    format!("unknown validator {v:?} (one of {})", Validator::NAMES.join(", "))
                })
            })
            .transpose()?;
        if validator.is_some() && regex.is_none() && run.is_none() {
            return Err("a validator needs a regex (or a run) to extract the value it checks".into());
        }
        let value_group =
            regex.as_ref().and_then(|re| re.capture_names().position(|n| n == Some("value"))).unwrap_or(0);
        let detail_groups = regex
            .as_ref()
            .map(|re| {
                re.capture_names()
                    .enumerate()
                    .filter_map(|(i, n)| n.filter(|&n| n != "value").map(|n| (i, n.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let window = s.window.unwrap_or(DEFAULT_WINDOW);
        if window[0] > MAX_WINDOW || window[1] > MAX_WINDOW {
            return Err(format!("window is at most {MAX_WINDOW} bytes each side"));
        }
        if let Some(e) = s.min_entropy
            && !(0.0..=8.0).contains(&e)
        {
            return Err("min_entropy is in bits per byte, 0 to 8".into());
        }
        let min_distinct = u32::try_from(s.min_distinct.unwrap_or(1)).unwrap_or(u32::MAX);
        if min_distinct as usize > s.keywords.len().max(1) {
            return Err("min_distinct exceeds the number of keywords".into());
        }
        let context = s
            .context
            .as_ref()
            .map(|c| compile_context(&c.keywords, c.regex.as_deref(), c.within, c.min_distinct))
            .transpose()?;
        let boost = s
            .boost
            .as_ref()
            .map(|b| {
                Ok::<_, String>((
                    compile_context(&b.keywords, b.regex.as_deref(), b.within, None)?,
                    parse_confidence(&b.confidence)?,
                ))
            })
            .transpose()?;
        let path_restricted = !s.paths.is_empty();
        for g in &s.paths {
            self.content_globs.add(glob(g)?);
            self.content_glob_owner.push(content_index);
        }
        self.content.push(ContentRule {
            rule: index,
            kinds,
            path_restricted,
            regex,
            value_group,
            detail_groups,
            window: (window[0], window[1]),
            validator,
            min_entropy: s.min_entropy,
            min_distinct,
            context,
            boost,
            kind_confidence,
            secret: s.secret.unwrap_or(category == Category::EmbeddedKeys),
            run,
            keywords: s.keywords.clone(),
        });
        Ok(())
    }

    /// The keywords the automaton must find in files of `kind`: those of every rule that
    /// applies to the kind, or only of rules without `paths` when `restricted` is false.
    fn targets(&self, kind: FileKind, restricted: bool) -> Vec<Target> {
        let mut targets: Vec<Target> = self
            .owners
            .iter()
            .zip(&self.pattern_bytes)
            .flat_map(|(owners, lower)| {
                owners
                    .iter()
                    .filter(|o| {
                        let c = &self.content[o.content as usize];
                        c.kinds.contains(kind) && (restricted || !c.path_restricted)
                    })
                    .map(move |o| match &o.exact {
                        Some(exact) => Target { bytes: exact.to_vec(), ci: false },
                        None => Target { bytes: lower.clone(), ci: true },
                    })
            })
            .collect();
        targets.sort();
        targets.dedup();
        targets
    }

    fn finish(self, version: String, false_positives: FalsePositives) -> Result<RuleSet, RulesError> {
        let automaton = if self.pattern_bytes.is_empty() {
            None
        } else {
            // A DFA costs memory once but runs fastest; the overlapping search needs Standard
            // semantics, so a keyword inside another keyword still reports both.
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&self.pattern_bytes)
                    .map_err(|e| RulesError::Automaton(e.to_string()))?,
            )
        };
        // One prefilter per file kind, over the keywords of the rules that apply to that kind:
        // JSON-config keywords need not slow down the scan of executables. Each kind gets a
        // second one without the keywords of `paths`-restricted rules, for the files no such
        // rule applies to (nearly all): `http://` of `.git-credentials` or `password` of
        // `.pypirc` need not open a window in every README.
        let mut prefilters: Vec<LazyPrefilter> = Vec::new();
        let mut by_kind = [KindSearch::default(); FileKind::ALL.len()];
        for (slot, kind) in by_kind.iter_mut().zip(FileKind::ALL) {
            let form = TeddyForm::for_kind(kind);
            let [all, open] = [true, false].map(|restricted| {
                let targets = self.targets(kind, restricted);
                if targets.is_empty() {
                    return KeywordSearch::Skip;
                }
                let i = prefilters.iter().position(|p| p.is_for(&targets, form)).unwrap_or_else(|| {
                    prefilters.push(LazyPrefilter::new(targets, form));
                    prefilters.len() - 1
                });
                KeywordSearch::Prefiltered(i)
            });
            *slot = KindSearch { all, open };
        }
        let glob_err = |e: globset::Error| RulesError::Automaton(format!("glob set: {e}"));
        let run_rules =
            self.content.iter().enumerate().filter(|(_, c)| c.run.is_some()).map(|(i, _)| i).collect();
        Ok(RuleSet {
            version,
            rules: self.rules,
            content: self.content,
            automaton,
            prefilters,
            search_by_kind: by_kind,
            owners: self.owners,
            content_globs: self.content_globs.build().map_err(glob_err)?,
            content_glob_owner: self.content_glob_owner,
            run_rules,
            path_globs: self.path_globs.build().map_err(glob_err)?,
            path_glob_owner: self.path_glob_owner,
            path_rules: self.path_rules,
            command_globs: self.command_globs.build().map_err(glob_err)?,
            command_glob_owner: self.command_glob_owner,
            hosts: self.hosts,
            hashes: self.hashes,
            false_positives,
            yara: None,
        })
    }
}

fn parse_confidence(s: &str) -> Result<Confidence, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_kinds(kinds: &[String]) -> Result<KindMask, String> {
    if kinds.is_empty() {
        return Ok(KindMask::DEFAULT);
    }
    let mut mask = 0u8;
    for k in kinds {
        let kind = FileKind::from_id(k).ok_or_else(|| {
            format!("unknown kind {k:?} (one of elf, script, text, binary, config_field, name_only)")
        })?;
        mask |= kind.bit();
    }
    Ok(KindMask(mask))
}

/// Paths are matched case-insensitively with `*` not crossing `/`; `**/x` also matches `x`.
fn glob(g: &str) -> Result<globset::Glob, String> {
    GlobBuilder::new(g)
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("glob {g:?}: {e}"))
}

/// Compiles a rule's regex with ASCII classes (`\w`, `\b`, `\s`, `(?i)`): layers are bytes,
/// and Unicode classes would compile far larger and force the slower engines at run time.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("regex {pattern:?}: {e}"))
}

fn compile_context(
    keywords: &[String],
    regex: Option<&str>,
    within: usize,
    min_distinct: Option<usize>,
) -> Result<Context, String> {
    if keywords.is_empty() && regex.is_none() {
        return Err("a context needs keywords or a regex".into());
    }
    if keywords.len() > 64 {
        return Err("a context has at most 64 keywords".into());
    }
    let min_distinct = min_distinct.unwrap_or(1);
    if min_distinct == 0 || min_distinct > keywords.len().max(1) {
        return Err("context min_distinct is 1 to the number of context keywords".into());
    }
    if within == 0 || within > MAX_WINDOW {
        return Err(format!("context within is 1 to {MAX_WINDOW} bytes"));
    }
    let keywords = if keywords.is_empty() {
        None
    } else {
        Some(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(keywords)
                .map_err(|e| format!("context keywords: {e}"))?,
        )
    };
    let regex = regex.map(compile_regex).transpose()?;
    Ok(Context { keywords, regex, within, min_distinct: min_distinct as u32 })
}

fn compile_run(r: &spec::RunSpec) -> Result<Run, String> {
    let charset = match r.charset.as_str() {
        "base58" => Charset::Base58,
        other => return Err(format!("unknown run charset {other:?} (base58)")),
    };
    if r.min_len < 16 || r.max_len < r.min_len || r.max_len > 4096 {
        return Err("run lengths: 16 <= min_len <= max_len <= 4096".into());
    }
    Ok(Run { charset, min_len: r.min_len, max_len: r.max_len })
}

fn compile_false_positives(
    sources: &[&Source],
    ids: &HashMap<String, String>,
) -> Result<FalsePositives, RulesError> {
    let mut fp = FalsePositives::default();
    let mut seen = HashSet::new();
    let (mut globs, mut every_rule) = (GlobSetBuilder::new(), GlobSetBuilder::new());
    for src in sources {
        let file: spec::FalsePositiveFile = toml::from_str(&src.text)
            .map_err(|e| RulesError::Syntax { file: src.name.clone(), message: e.to_string() })?;
        add_false_positives(src, file, ids, &mut fp, &mut seen, &mut globs, &mut every_rule)?;
    }
    let invalid = |e: globset::Error| RulesError::InvalidRule {
        file: FALSE_POSITIVES_FILE.to_owned(),
        rule: "path".to_owned(),
        reason: e.to_string(),
    };
    fp.paths = globs.build().map_err(invalid)?;
    fp.every_rule_paths = every_rule.build().map_err(invalid)?;
    Ok(fp)
}

/// Adds one false-positive file's entries to `fp` (fingerprints must be unique across files).
fn add_false_positives(
    src: &Source,
    file: spec::FalsePositiveFile,
    ids: &HashMap<String, String>,
    fp: &mut FalsePositives,
    seen: &mut HashSet<String>,
    globs: &mut GlobSetBuilder,
    every_rule: &mut GlobSetBuilder,
) -> Result<(), RulesError> {
    let invalid = |rule: &str, reason: String| RulesError::InvalidRule {
        file: src.name.clone(),
        rule: rule.to_owned(),
        reason,
    };
    let check_rules = |rules: &[String]| -> Result<(), RulesError> {
        match rules.iter().find(|r| !ids.contains_key(r.as_str())) {
            Some(r) => Err(invalid(r, "no rule has this id".into())),
            None => Ok(()),
        }
    };
    for f in file.fingerprints {
        check_rules(&f.rules)?;
        if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid(&f.sha256, "fingerprint is not 64 lowercase hex digits".into()));
        }
        if !seen.insert(f.sha256.clone()) {
            return Err(invalid(&f.sha256, "fingerprint listed twice".into()));
        }
        fp.fingerprints.insert(f.sha256, FpEntry { reason: f.reason, rules: f.rules, class: None });
    }
    for v in file.values {
        check_rules(&v.rules)?;
        let re = compile_regex(&v.regex).map_err(|e| invalid(&v.regex, e))?;
        fp.values.push((re, FpEntry { reason: v.reason, rules: v.rules, class: None }));
    }
    for p in file.paths {
        check_rules(&p.rules)?;
        if !PLACE_CLASSES.contains(&p.class.as_str()) {
            return Err(invalid(
                &p.class,
                format!("unknown place class (one of {})", PLACE_CLASSES.join(", ")),
            ));
        }
        for g in &p.globs {
            let compiled = glob(g).map_err(|e| invalid(g, e))?;
            if p.rules.is_empty() {
                every_rule.add(compiled.clone());
            }
            globs.add(compiled);
            fp.path_entries.push(FpEntry {
                reason: p.reason.clone(),
                rules: p.rules.clone(),
                class: Some(p.class.clone()),
            });
        }
    }
    Ok(())
}
