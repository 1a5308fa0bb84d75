//! The yara-x side: compiling sources into the rule set, and turning a scan's matching rules
//! into [`Match`]es.

use std::{collections::BTreeMap, collections::HashMap, path::Path, sync::Arc, time::Duration};

use hubcensus_types::{Category, Confidence};
use regex::Regex;
use sha2::{Digest as _, Sha256};
use yara_x::{Compiler, MetaValue, SourceCode};

use super::{YaraInput, YaraScope, YaraSource};
use crate::{
    FileMeta, Match, RuleSet,
    error::RulesError,
    matcher::{Emit, Place, emit},
    matches::{plain_preview_max, secret_preview},
    rule::{Rule, Trigger},
};

/// Most matches yara-x records per pattern: conditions that count matches (`#a > 10`) still
/// work, and a file of a million hits costs bounded memory.
const MAX_MATCHES_PER_PATTERN: usize = 1024;
/// Patterns named in a match's preview.
const PREVIEW_PATTERNS: usize = 4;
/// Characters of each pattern's matched bytes in the preview.
const PREVIEW_VALUE_CHARS: usize = 40;
/// Longest preview, in characters.
const PREVIEW_CHARS: usize = 160;

/// The YARA rules of a rule set.
pub(crate) struct Compiled {
    rules: yara_x::Rules,
    /// `NAMESPACE:RULE` → (index of its [`Rule`] in the set, whether its values are secret).
    by_name: HashMap<String, (usize, bool)>,
    scope: YaraScope,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled").field("rules", &self.by_name.len()).field("scope", &self.scope).finish()
    }
}

impl Compiled {
    pub(crate) fn scope(&self) -> &YaraScope {
        &self.scope
    }

    pub(crate) fn scanner(&self) -> yara_x::Scanner<'_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.max_matches_per_pattern(MAX_MATCHES_PER_PATTERN);
        scanner
    }
}

/// Compiles `sources` (each file in the namespace of its stem) and adds their rules to `set`.
pub(super) fn compile(
    mut set: RuleSet,
    mut sources: Vec<YaraSource>,
    scope: YaraScope,
) -> Result<RuleSet, RulesError> {
    sources.sort_by(|a, b| (a.namespace(), &a.path).cmp(&(b.namespace(), &b.path)));
    let mut compiler = Compiler::new();
    for source in &sources {
        let origin = source.path.display().to_string();
        compiler.new_namespace(&source.namespace());
        if let Err(e) = compiler.add_source(SourceCode::from(source.text.as_str()).with_origin(origin)) {
            return Err(compile_error(&sources, source, &e.to_string()));
        }
    }
    let rules = compiler.build();
    let mut by_name = HashMap::new();
    for rule in rules.iter() {
        // Private rules never match on their own: they only serve other rules' conditions.
        if rule.is_private() {
            continue;
        }
        let (namespace, name) = (rule.namespace(), rule.identifier());
        let mut meta = Meta::default();
        for (key, value) in rule.metadata() {
            meta.read(key, &value)
                .map_err(|reason| meta_error(&sources, namespace, name, Some(key), reason))?;
        }
        let file =
            declaring(&sources, namespace, name).map(|s| s.path.display().to_string()).unwrap_or_default();
        let category = meta.category.unwrap_or(Category::Other);
        let secret = meta.secret.unwrap_or(category == Category::EmbeddedKeys);
        by_name.insert(format!("{namespace}:{name}"), (set.rules.len(), secret));
        set.rules.push(Rule {
            id: Arc::from(format!("yara:{namespace}:{name}")),
            category,
            description: meta.description.unwrap_or_else(|| format!("YARA rule {namespace}:{name} ({file})")),
            confidence: meta.confidence.unwrap_or(Confidence::Medium),
            trigger: Trigger::Yara,
            file,
            place_can_excuse: !meta.place_cannot_excuse,
            generated_at_build: None,
        });
    }
    set.version = version(&set.version, &sources, &scope);
    set.yara = Some(Compiled { rules, by_name, scope });
    Ok(set)
}

/// The metadata keys hubcensus reads; the others (author, date, hashes, references) are the
/// rule author's and ignored.
#[derive(Default)]
struct Meta {
    category: Option<Category>,
    confidence: Option<Confidence>,
    description: Option<String>,
    secret: Option<bool>,
    place_cannot_excuse: bool,
}

impl Meta {
    fn read(&mut self, key: &str, value: &MetaValue<'_>) -> Result<(), String> {
        match (key, value) {
            ("category", MetaValue::String(s)) => {
                self.category = Some(s.parse().map_err(|_| {
                    let ids: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                    format!("unknown category {s:?} (expected one of: {})", ids.join(", "))
                })?);
            }
            ("confidence", MetaValue::String(s)) => {
                self.confidence = Some(
                    s.parse()
                        .map_err(|_| format!("unknown confidence {s:?} (expected low, medium or high)"))?,
                );
            }
            ("description", MetaValue::String(s)) => self.description = Some((*s).to_owned()),
            ("secret", MetaValue::Bool(b)) => self.secret = Some(*b),
            ("place_cannot_excuse", MetaValue::Bool(b)) => self.place_cannot_excuse = *b,
            ("category" | "confidence", _) => return Err(format!("`{key}` must be a string")),
            ("secret" | "place_cannot_excuse", _) => return Err(format!("`{key}` must be true or false")),
            _ => {}
        }
        Ok(())
    }
}

/// `"rules-"` + 12 hex digits of sha256 over the built-in version and, per YARA file sorted by
/// namespace, `namespace NUL text NUL`, then the scope. Paths are left out: the same rules
/// read from another checkout are the same rules.
fn version(builtin: &str, sources: &[YaraSource], scope: &YaraScope) -> String {
    let mut h = Sha256::new();
    h.update(builtin.as_bytes());
    h.update(b"\0yara\0");
    for s in sources {
        h.update(s.namespace().as_bytes());
        h.update([0]);
        h.update(s.text.as_bytes());
        h.update([0]);
    }
    let kinds: Vec<&str> = scope.kinds.iter().map(|k| k.as_str()).collect();
    h.update(format!("{}\0{}\0{}", kinds.join(","), scope.archive_members, scope.max_other_bytes).as_bytes());
    format!("rules-{}", &hex::encode(h.finalize())[..12])
}

/// A yara-x compile error as ours: yara-x's report names the file and line (`--> FILE:LINE:COL`);
/// the rule is the one declared last before that line.
fn compile_error(sources: &[YaraSource], failed: &YaraSource, report: &str) -> RulesError {
    let at = Regex::new(r"-->\s*(.+?):(\d+):\d+").ok().and_then(|re| {
        let c = re.captures(report)?;
        Some((c.get(1)?.as_str().to_owned(), c.get(2)?.as_str().parse::<usize>().ok()?))
    });
    let (file, line) = match at {
        Some((file, line)) => (file, line),
        None => (failed.path.display().to_string(), 0),
    };
    let source = sources.iter().find(|s| s.path.display().to_string() == file).unwrap_or(failed);
    RulesError::YaraCompile {
        file: Path::new(&file).to_owned(),
        line,
        rule: rule_at(&source.text, line),
        message: first_line(report),
    }
}

/// A metadata value we reject, at the line of its key in the rule.
fn meta_error(
    sources: &[YaraSource],
    namespace: &str,
    name: &str,
    key: Option<&str>,
    reason: String,
) -> RulesError {
    let source = declaring(sources, namespace, name);
    let line = source.and_then(|s| line_of(&s.text, name, key)).unwrap_or(0);
    RulesError::YaraCompile {
        file: source.map(|s| s.path.clone()).unwrap_or_default(),
        line,
        rule: Some(name.to_owned()),
        message: reason,
    }
}

/// The file of `namespace` that declares rule `name`.
fn declaring<'s>(sources: &'s [YaraSource], namespace: &str, name: &str) -> Option<&'s YaraSource> {
    sources.iter().filter(|s| s.namespace() == namespace).find(|s| line_of(&s.text, name, None).is_some())
}

/// `rule NAME` with its modifiers, at the start of a line.
fn declaration(name: &str) -> Option<Regex> {
    Regex::new(&format!(r"(?m)^[ \t]*(?:(?:private|global)[ \t]+)*rule[ \t]+{}\b", regex::escape(name))).ok()
}

/// The line (from 1) of rule `name`'s declaration, or of its metadata `key` when given.
fn line_of(text: &str, name: &str, key: Option<&str>) -> Option<usize> {
    let start = declaration(name)?.find(text)?.start();
    let at = match key {
        None => start,
        Some(key) => {
            let re = Regex::new(&format!(r"(?m)^[ \t]*{}[ \t]*=", regex::escape(key))).ok()?;
            re.find(&text[start..]).map_or(start, |m| start + m.start())
        }
    };
    Some(text[..at].matches('\n').count() + 1)
}

/// The rule declared last at or before `line` (1-based), if any.
fn rule_at(text: &str, line: usize) -> Option<String> {
    let re =
        Regex::new(r"(?m)^[ \t]*(?:(?:private|global)[ \t]+)*rule[ \t]+([A-Za-z_][A-Za-z0-9_]*)").ok()?;
    re.captures_iter(text)
        .filter_map(|c| {
            let m = c.get(1)?;
            let decl_line = text[..m.start()].matches('\n').count() + 1;
            (decl_line <= line).then(|| m.as_str().to_owned())
        })
        .last()
}

fn first_line(report: &str) -> String {
    report.lines().next().unwrap_or(report).trim().to_owned()
}

/// One scan of `input` with the set's YARA rules; each rule that holds becomes a [`Match`].
pub(super) fn scan(
    set: &RuleSet,
    scanner: &mut yara_x::Scanner<'_>,
    file: &FileMeta<'_>,
    input: YaraInput<'_>,
    timeout: Duration,
    out: &mut Vec<Match>,
) -> bool {
    let Some(compiled) = &set.yara else {
        return true;
    };
    scanner.set_timeout(timeout.max(Duration::from_millis(1)));
    let Ok(results) = scanner.scan(input.data) else {
        return false;
    };
    let start = out.len();
    let mut fp_paths: Option<Vec<usize>> = None;
    for rule in results.matching_rules() {
        let Some(&(index, secret)) =
            compiled.by_name.get(&format!("{}:{}", rule.namespace(), rule.identifier()))
        else {
            continue;
        };
        let mut preview = Vec::new();
        let mut canonical = Vec::new();
        let mut names = Vec::new();
        let mut first: Option<(u64, &[u8])> = None;
        let mut count = 0usize;
        for pattern in rule.patterns() {
            let mut matches = pattern.matches();
            let Some(m) = matches.next() else { continue };
            count += 1 + matches.count();
            let offset = input.file_offset(m.range().start);
            let data = m.data();
            names.push(pattern.identifier().to_owned());
            canonical.extend_from_slice(pattern.identifier().as_bytes());
            canonical.push(0);
            canonical.extend_from_slice(data);
            canonical.push(0);
            if first.is_none_or(|(o, _)| offset < o) {
                first = Some((offset, data));
            }
            if preview.len() < PREVIEW_PATTERNS {
                let value =
                    if secret { secret_preview(data) } else { plain_preview_max(data, PREVIEW_VALUE_CHARS) };
                preview.push(format!("{}@{offset:#x}: {value}", pattern.identifier()));
            }
        }
        if names.is_empty() {
            // A condition without strings (a hash, a header check) is about the bytes as a
            // whole.
            canonical.extend_from_slice(input.data);
            preview.push("condition matched".to_owned());
        }
        let mut detail = BTreeMap::new();
        detail.insert("file_kind".to_owned(), file.kind.as_str().to_owned());
        detail.insert("yara_window".to_owned(), input.window().to_owned());
        if !names.is_empty() {
            detail.insert("patterns".to_owned(), names.join(","));
            detail.insert("matches".to_owned(), count.to_string());
        }
        let tags: Vec<&str> = rule.tags().map(|t| t.identifier()).collect();
        if !tags.is_empty() {
            detail.insert("tags".to_owned(), tags.join(","));
        }
        let fp = fp_paths.get_or_insert_with(|| set.false_positives.paths.matches(file.path));
        emit(
            set,
            out,
            start,
            &Place { path: file.path, fp_paths: fp, weak: None },
            Emit {
                rule: index,
                confidence: set.rules[index].confidence,
                value: first.map_or(&[][..], |(_, d)| d),
                canonical: &canonical,
                preview: plain_preview_max(preview.join("; ").as_bytes(), PREVIEW_CHARS),
                offset: first.map(|(o, _)| o),
                detail,
            },
        );
    }
    true
}
