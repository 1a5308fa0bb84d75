//! [`TyposquatScorer`]: every repository name against every target, evidence combined.

use std::collections::{HashMap, HashSet};

use hubcensus_types::{Confidence, ParseError, RepoRef};

use super::{
    Evidence, Target, Technique, TyposquatHit,
    config::{Thresholds, TyposquatConfig},
    edit::{Edit, distance, single_edit},
    keyboard::Keyboard,
    look::{Glyphs, Stripped, is_separator, is_version_variant, strip_affixes},
    namespace::random_looking,
};

/// The namespace of official images.
const LIBRARY: &str = "library";

/// Scores repository names against protected targets. Build it once per census (it holds the
/// targets and the parsed thresholds) and share it: scoring takes `&self`.
#[derive(Debug, Clone)]
pub struct TyposquatScorer {
    config: Thresholds,
    keyboard: Keyboard,
    glyphs: Glyphs,
    targets: Vec<Entry>,
    index: HashMap<RepoRef, usize>,
    official_names: HashSet<String>,
    next_rank: usize,
    /// Targets by name, by name skeleton and by name length: a candidate is judged only against
    /// targets it can relate to (same name or look, or a length within reach of an edit).
    by_name: HashMap<String, Vec<usize>>,
    by_skeleton: HashMap<String, Vec<usize>>,
    by_len: Vec<Vec<usize>>,
}

/// A target, prepared.
#[derive(Debug, Clone)]
struct Entry {
    repo: RepoRef,
    pulls: Option<i64>,
    /// Position among the official targets, in the order given (most pulled first).
    rank: Option<usize>,
    skeleton: String,
    namespace_skeleton: String,
}

/// A name or namespace of a candidate, with what comparisons need of it.
#[derive(Debug)]
struct Form {
    text: String,
    skeleton: String,
    /// Forms without affix words, each with its skeleton.
    stripped: Vec<(Stripped, String)>,
}

/// A candidate, prepared once for comparison with every target.
#[derive(Debug)]
struct Candidate {
    namespace: Form,
    name: Form,
    pulls: Option<i64>,
    random_namespace: Option<Evidence>,
    namespace_claim: Option<Evidence>,
    is_official_name: bool,
}

/// Which edits may relate two strings.
#[derive(Debug, Clone, Copy)]
struct Reach {
    /// The target is popular: generic edits, omissions, vowel swaps and separator edits count.
    popular: bool,
    /// Two edits count (names only: namespaces are compared at one edit).
    two_edits: bool,
}

/// How a name relates to a target's name.
enum Relation {
    Exact,
    Similar(Evidence),
}

impl TyposquatScorer {
    /// A scorer protecting `targets` — normally [`Target::official_images`] — with `config`'s
    /// thresholds. Official targets (`library/`) given without pull counts are ranked in the
    /// order given: the first `targets.popular_official` are popular.
    pub fn new(config: TyposquatConfig, targets: impl IntoIterator<Item = Target>) -> Self {
        let config = config.0;
        let keyboard = Keyboard::new(&config.keyboard);
        let glyphs = Glyphs::new(&config.homoglyphs.pairs);
        let mut scorer = Self {
            config,
            keyboard,
            glyphs,
            targets: Vec::new(),
            index: HashMap::new(),
            official_names: HashSet::new(),
            next_rank: 0,
            by_name: HashMap::new(),
            by_skeleton: HashMap::new(),
            by_len: Vec::new(),
        };
        for target in targets {
            scorer.insert(target.repo, target.pull_count);
        }
        scorer
    }

    /// Protects one more repository, or records the pull count of one already protected: the
    /// census calls it for the library repositories and the most-pulled publishers it has seen.
    ///
    /// A `library/` target protects its name against look-alikes under any namespace. Any
    /// other target protects the *pair*: a hit needs a namespace imitating the publisher's
    /// (`bitnarni/redis`), because publishers' repository names are often ordinary words
    /// (`vaultwarden/server`, `portainer/agent`) that others use in good faith.
    ///
    /// # Errors
    /// When `namespace/name` is not a valid repository reference.
    pub fn add_target(
        &mut self,
        name: &str,
        namespace: &str,
        pull_count: Option<i64>,
    ) -> Result<(), ParseError> {
        let repo = RepoRef::new(namespace, name)?;
        self.insert(repo, pull_count);
        Ok(())
    }

    /// Number of targets.
    pub fn targets(&self) -> usize {
        self.targets.len()
    }

    fn insert(&mut self, repo: RepoRef, pulls: Option<i64>) {
        if let Some(&i) = self.index.get(&repo) {
            if pulls.is_some() {
                self.targets[i].pulls = pulls;
            }
            return;
        }
        let rank = repo.is_official().then(|| {
            self.next_rank += 1;
            self.next_rank - 1
        });
        if repo.is_official() {
            self.official_names.insert(repo.name().to_owned());
        }
        let i = self.targets.len();
        let entry = Entry {
            skeleton: self.glyphs.skeleton(repo.name()),
            namespace_skeleton: self.glyphs.skeleton(repo.namespace()),
            repo: repo.clone(),
            pulls,
            rank,
        };
        self.by_name.entry(repo.name().to_owned()).or_default().push(i);
        self.by_skeleton.entry(entry.skeleton.clone()).or_default().push(i);
        let len = repo.name().len();
        if self.by_len.len() <= len {
            self.by_len.resize(len + 1, Vec::new());
        }
        self.by_len[len].push(i);
        self.index.insert(repo, i);
        self.targets.push(entry);
    }

    /// Whether a target is worth protecting against generic edits (any one-character change):
    /// by its pull count when known, else by its rank in the official list; publishers were
    /// added because they are popular.
    fn popular(&self, e: &Entry) -> bool {
        match (e.pulls, e.rank) {
            (Some(p), _) => p >= self.config.targets.popular_pulls,
            (None, Some(rank)) => rank < self.config.targets.popular_official,
            (None, None) => true,
        }
    }

    /// Judges `namespace/name` (with its pull count, when known) against every target and
    /// returns the strongest hit, if any reaches the threshold. A target itself, and anything in
    /// `library/`, is never a hit.
    pub fn score(&self, namespace: &str, name: &str, pull_count: Option<i64>) -> Option<TyposquatHit> {
        let namespace = namespace.trim().to_ascii_lowercase();
        let name = name.trim().to_ascii_lowercase();
        if namespace == LIBRARY || namespace.is_empty() || name.is_empty() {
            return None;
        }
        if RepoRef::new(&namespace, &name).is_ok_and(|r| self.index.contains_key(&r)) {
            return None;
        }
        let cand = self.prepare(namespace, name, pull_count);
        let mut best: Option<TyposquatHit> = None;
        for i in self.reachable(&cand) {
            if let Some(hit) = self.judge(&cand, &self.targets[i])
                && best.as_ref().is_none_or(|b| hit.score > b.score)
            {
                best = Some(hit);
            }
        }
        best
    }

    /// The targets `cand` can relate to, in target order (more popular official names first, so
    /// equal scores go to them).
    fn reachable(&self, cand: &Candidate) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut add = |v: Option<&Vec<usize>>| out.extend(v.into_iter().flatten());
        add(self.by_name.get(&cand.name.text));
        add(self.by_skeleton.get(&cand.name.skeleton));
        for (s, skeleton) in &cand.name.stripped {
            add(self.by_name.get(&s.rest));
            add(self.by_skeleton.get(skeleton));
        }
        let len = cand.name.text.len();
        for l in len.saturating_sub(2)..=len + 2 {
            add(self.by_len.get(l));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn prepare(&self, namespace: String, name: String, pulls: Option<i64>) -> Candidate {
        let affixes = &self.config.affixes;
        let w = &self.config.weights;
        let random_namespace = random_looking(&namespace, &self.config.namespace).map(|detail| Evidence {
            technique: Technique::RandomNamespace,
            weight: w.random_namespace,
            detail,
        });
        let namespace_claim =
            affixes.namespace_claims.iter().find(|c| namespace.contains(c.as_str())).map(|c| Evidence {
                technique: Technique::Affix,
                weight: w.namespace_claim,
                detail: format!("namespace {namespace:?} claims to be {c:?}"),
            });
        Candidate {
            is_official_name: self.official_names.contains(&name),
            random_namespace,
            namespace_claim,
            namespace: self.form(namespace),
            name: self.form(name),
            pulls,
        }
    }

    fn form(&self, text: String) -> Form {
        let affixes = &self.config.affixes;
        let stripped =
            strip_affixes(&text, &affixes.official, &affixes.generic, self.config.distance.min_candidate_len)
                .into_iter()
                .map(|s| {
                    let skeleton = self.glyphs.skeleton(&s.rest);
                    (s, skeleton)
                })
                .collect();
        Form { skeleton: self.glyphs.skeleton(&text), stripped, text }
    }

    fn judge(&self, cand: &Candidate, e: &Entry) -> Option<TyposquatHit> {
        if cand.namespace.text == e.repo.namespace() {
            return None; // the publisher's own repositories
        }
        let pulls = cand.pulls.zip(e.pulls).filter(|(_, t)| *t > 0);
        if let Some((c, t)) = pulls
            && c as f64 >= t as f64 * self.config.pulls.popular_ratio
        {
            return None; // pulled like a project in its own right
        }
        let name_reach = Reach { popular: self.popular(e), two_edits: true };
        let namespace_reach = Reach { popular: true, two_edits: false };
        let mut evidence = Vec::new();
        if e.repo.is_official() {
            if cand.is_official_name && cand.name.text != e.repo.name() {
                return None; // another official image's name (mono is not a typo of mongo)
            }
            let exact = match self.relation(&cand.name, e.repo.name(), &e.skeleton, name_reach)? {
                Relation::Exact => true,
                Relation::Similar(ev) => {
                    evidence.push(named("name", ev));
                    false
                }
            };
            if let Some(ev) = &cand.namespace_claim {
                evidence.push(ev.clone());
            }
            if let Some(Relation::Similar(ev)) =
                self.relation(&cand.namespace, LIBRARY, &e.namespace_skeleton, namespace_reach)
            {
                evidence.push(named("namespace", ev));
            }
            if exact && evidence.is_empty() && cand.random_namespace.is_none() {
                return None; // an official name under an ordinary namespace: a build or a mirror
            }
        } else {
            let Some(Relation::Similar(ns)) =
                self.relation(&cand.namespace, e.repo.namespace(), &e.namespace_skeleton, namespace_reach)
            else {
                return None;
            };
            evidence.push(named("namespace", ns));
            match self.relation(&cand.name, e.repo.name(), &e.skeleton, name_reach)? {
                Relation::Exact => {}
                Relation::Similar(ev) => evidence.push(named("name", ev)),
            }
        }
        if let Some(ev) = &cand.random_namespace {
            evidence.push(ev.clone());
        }
        if let Some((c, t)) = pulls
            && c as f64 <= t as f64 * self.config.pulls.low_ratio
        {
            evidence.push(Evidence {
                technique: Technique::LowPullCount,
                weight: self.config.weights.low_pulls,
                detail: format!("{c} pulls against {t} for {}", e.repo),
            });
        }
        self.decide(e, evidence)
    }

    fn decide(&self, e: &Entry, mut evidence: Vec<Evidence>) -> Option<TyposquatHit> {
        let score = 1.0 - evidence.iter().map(|ev| 1.0 - ev.weight).product::<f64>();
        let d = &self.config.decision;
        if score < d.hit {
            return None;
        }
        evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let technique = evidence.iter().map(|ev| ev.technique).find(|t| *t != Technique::LowPullCount)?;
        let confidence = if score >= d.high {
            Confidence::High
        } else if score >= d.medium {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        Some(TyposquatHit { imitates: e.repo.clone(), technique, score, confidence, evidence })
    }

    /// How `form` relates to the target string `t` (a name, or a namespace): the same, similar
    /// (the strongest signal), or unrelated.
    fn relation(&self, form: &Form, t: &str, t_skeleton: &str, reach: Reach) -> Option<Relation> {
        let c = form.text.as_str();
        if c == t {
            return Some(Relation::Exact);
        }
        if is_version_variant(c, t) {
            return None;
        }
        let w = &self.config.weights;
        let mut found: Vec<Evidence> = Vec::new();
        if let Some((s, _)) = form.stripped.iter().find(|(s, skeleton)| s.rest == t || skeleton == t_skeleton)
        {
            let (weight, kind) = if s.claims_official {
                (w.affix_official, "claiming authenticity")
            } else {
                (w.affix_generic, "")
            };
            let kind = if kind.is_empty() { String::new() } else { format!(" {kind}") };
            found.push(Evidence {
                technique: Technique::Affix,
                weight,
                detail: format!("{c:?} is {t:?} with the affix {:?}{kind}", s.word),
            });
        }
        if form.skeleton == t_skeleton {
            found.push(Evidence {
                technique: Technique::Homoglyph,
                weight: w.homoglyph,
                detail: format!("{c:?} looks like {t:?}"),
            });
        }
        if let Some(ev) = self.edit_evidence(c, t, reach) {
            found.push(ev);
        }
        found.into_iter().max_by(|a, b| a.weight.total_cmp(&b.weight)).map(Relation::Similar)
    }

    /// Evidence from edits: which edits count depends on the target's length and popularity
    /// (thresholds.toml `[distance]`, docs/typosquatting.md).
    fn edit_evidence(&self, c: &str, t: &str, reach: Reach) -> Option<Evidence> {
        let popular = reach.popular;
        let rules = &self.config.distance;
        let w = &self.config.weights;
        if c.len() < rules.min_candidate_len || t.len() < rules.short_min_len {
            return None;
        }
        let generic_ok = popular && t.len() >= rules.one_edit_min_len;
        let Some(edit) = single_edit(c.as_bytes(), t.as_bytes()) else {
            let two = popular
                && reach.two_edits
                && t.len() >= rules.two_edits_min_len
                && distance(c.as_bytes(), t.as_bytes(), 2) == Some(2);
            return two.then(|| Evidence {
                technique: Technique::EditDistance,
                weight: w.two_edits,
                detail: format!("{c:?} is two edits from {t:?}"),
            });
        };
        let vowel = |b: u8| b"aeiou".contains(&b);
        let ch = |b: u8| char::from(b);
        let (technique, weight, detail, eligible) = match edit {
            Edit::Transposition => {
                (Technique::EditDistance, w.typo, "swaps two neighbouring letters of".to_owned(), true)
            }
            Edit::Omission { removed } if is_separator(removed) => {
                (Technique::EditDistance, w.typo, format!("drops the {:?} of", ch(removed)), popular)
            }
            Edit::Omission { removed } => {
                (Technique::EditDistance, w.typo, format!("leaves the {:?} out of", ch(removed)), popular)
            }
            Edit::Insertion { inserted, before, after } => {
                if before == Some(inserted) || after == Some(inserted) {
                    (Technique::EditDistance, w.typo, format!("doubles the {:?} of", ch(inserted)), true)
                } else if before.is_none() || after.is_none() {
                    // Appended or prepended (`nodes`, `xnginx`): how names are extended, not mistyped.
                    (
                        Technique::EditDistance,
                        w.edit,
                        format!("adds {:?} to an end of", ch(inserted)),
                        generic_ok,
                    )
                } else if is_separator(inserted) {
                    (Technique::EditDistance, w.typo, format!("adds a {:?} to", ch(inserted)), popular)
                } else if [before, after].into_iter().flatten().any(|n| self.keyboard.adjacent(n, inserted)) {
                    (
                        Technique::Keyboard,
                        w.keyboard,
                        format!("adds the neighbouring key {:?} to", ch(inserted)),
                        true,
                    )
                } else {
                    (Technique::EditDistance, w.edit, format!("adds {:?} to", ch(inserted)), generic_ok)
                }
            }
            Edit::Substitution { from, to } => {
                if self.keyboard.adjacent(from, to) {
                    (
                        Technique::Keyboard,
                        w.keyboard,
                        format!("types the neighbouring key {:?} for {:?} in", ch(to), ch(from)),
                        true,
                    )
                } else if self.glyphs.confusable(from, to) || (is_separator(from) && is_separator(to)) {
                    (
                        Technique::Homoglyph,
                        w.homoglyph,
                        format!("writes the look-alike {:?} for {:?} in", ch(to), ch(from)),
                        true,
                    )
                } else if vowel(from) && vowel(to) {
                    (
                        Technique::EditDistance,
                        w.typo,
                        format!("swaps the vowel {:?} for {:?} in", ch(from), ch(to)),
                        popular,
                    )
                } else {
                    (
                        Technique::EditDistance,
                        w.edit,
                        format!("replaces {:?} by {:?} in", ch(from), ch(to)),
                        generic_ok,
                    )
                }
            }
        };
        eligible.then(|| Evidence { technique, weight, detail: format!("{c:?} {detail} {t:?}") })
    }
}

/// Prefixes an evidence's detail with what it is about (`name`, `namespace`).
fn named(what: &str, mut ev: Evidence) -> Evidence {
    ev.detail = format!("{what} {}", ev.detail);
    ev
}
