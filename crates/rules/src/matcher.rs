//! The matching engine. `scan_bytes` makes one pass of the shared Aho-Corasick automaton over
//! the data; only keyword hits of rules that apply to this file (kind, path) open a window, and
//! overlapping windows of one rule are merged so each byte is confirmed at most once per rule.
//! Confirmation (regex, validator, entropy, context) therefore costs in proportion to hits,
//! not to data, and a file full of keywords degrades to one linear regex pass per rule.

use std::collections::BTreeMap;

use hubcensus_types::{Confidence, Fingerprint};
use sha2::{Digest as _, Sha256};

use crate::{
    file::FileMeta,
    matches::{Match, plain_preview, secret_preview},
    rule::Run,
    ruleset::{KeywordSearch, RuleSet},
    validate::{Verdict, entropy},
};

/// Most matches one rule reports per call: a file with thousands of distinct tokens is one
/// incident, and the bound keeps output and time linear in the data.
pub const MAX_MATCHES_PER_RULE: u32 = 32;
/// How far past a window's end a regex match that started inside it may run.
const TAIL_SLACK: usize = 1024;

#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// The window being extended (start, end).
    open: Option<(usize, usize)>,
    /// Which of the rule's keywords occurred (bit per keyword).
    seen: u64,
    /// Offset of the first keyword hit.
    first: Option<usize>,
    emitted: u32,
}

impl RuleSet {
    /// Runs the path rules (globs and file kind, no content) on one tar entry.
    pub fn scan_path(&self, file: &FileMeta<'_>, out: &mut Vec<Match>) {
        if self.path_rules.is_empty() {
            return;
        }
        let hits = self.path_globs.matches(file.path);
        if hits.is_empty() {
            return;
        }
        let start = out.len();
        let fp_paths = self.false_positives.paths.matches(file.path);
        let mut done = Vec::new();
        for gi in hits {
            let owner = self.path_glob_owner[gi];
            if done.contains(&owner) {
                continue;
            }
            done.push(owner);
            let pr = &self.path_rules[owner];
            if !pr.kinds.contains(file.kind) {
                continue;
            }
            let confidence = pr.kind_confidence.get(file.kind).unwrap_or(self.rules[pr.rule].confidence);
            let mut detail = BTreeMap::new();
            detail.insert("file_kind".to_owned(), file.kind.as_str().to_owned());
            let value = file.path.as_bytes();
            emit(
                self,
                out,
                start,
                &Place { path: file.path, fp_paths: &fp_paths, weak: None },
                Emit {
                    rule: pr.rule,
                    confidence,
                    value,
                    canonical: value,
                    preview: plain_preview(value),
                    offset: None,
                    detail,
                },
            );
        }
    }

    /// Whether `path` is a known false-positive place for every rule: the `[[path]]` entries
    /// of `known_false_positives.toml` without `rules` (documentation). A layer keeps a host's
    /// path there only until another file names it, so such a host is judged at a manual's
    /// path only when nothing else named it.
    pub fn is_false_positive_place(&self, path: &str) -> bool {
        self.false_positives.every_rule_paths.is_match(path)
    }

    /// The most specific listed suffix `host` falls under, if any (lowercase, no trailing dot
    /// expected). A layer asks this of the hosts one file names, to recognise a list of
    /// providers (the Public Suffix List, wherever it lies and whatever it is called) by its
    /// content.
    pub fn host_suffix<'h>(&self, host: &'h str) -> Option<&'h str> {
        let mut rest = host;
        loop {
            if self.hosts.contains_key(rest) {
                return Some(rest);
            }
            rest = &rest[rest.find('.')? + 1..];
        }
    }

    /// Runs the domain-suffix rules on one host name (lowercase, no trailing dot) named at
    /// `path`. The most specific listed suffix wins; the provider's own host (the suffix itself
    /// or `www.` + suffix) gets the rule's `apex_confidence`. At a known false-positive place
    /// (documentation), or when `weak` says why the host was seen only where it names no
    /// connection (an e-mail address, a list of providers), a hit is reported at low confidence
    /// with the reason.
    pub fn judge_host(&self, host: &str, path: &str, weak: Option<&str>, out: &mut Vec<Match>) {
        let host = host.trim_end_matches('.');
        if self.hosts.is_empty() || host.is_empty() || host.len() > 253 {
            return;
        }
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        let Some(suffix) = self.host_suffix(host) else { return };
        let Some(hr) = self.hosts.get(suffix) else { return };
        let apex = suffix.len() == host.len() || host.strip_prefix("www.") == Some(suffix);
        let confidence = if apex { hr.apex } else { self.rules[hr.rule].confidence };
        let mut detail = BTreeMap::new();
        detail.insert("suffix".to_owned(), suffix.to_owned());
        let start = out.len();
        let fp_paths = self.false_positives.paths.matches(path);
        emit(
            self,
            out,
            start,
            &Place { path, fp_paths: &fp_paths, weak },
            Emit {
                rule: hr.rule,
                confidence,
                value: host.as_bytes(),
                canonical: host.as_bytes(),
                preview: plain_preview(host.as_bytes()),
                offset: None,
                detail,
            },
        );
    }

    /// Runs the content rules over one file's bytes (the whole file or a window of a big one)
    /// or one image-config value. Each (rule, fingerprint) is reported once per call.
    pub fn scan_bytes(&self, file: &FileMeta<'_>, data: &[u8], out: &mut Vec<Match>) {
        let mut scan = Scan {
            set: self,
            file: *file,
            data,
            start: out.len(),
            out,
            states: Vec::new(),
            allowed: None,
            fp_paths: None,
        };
        scan.keywords();
        scan.runs();
        scan.keyword_rules();
        scan.file_hash();
        scan.enforce_min_distinct();
    }
}

struct Scan<'a> {
    set: &'a RuleSet,
    file: FileMeta<'a>,
    data: &'a [u8],
    out: &'a mut Vec<Match>,
    start: usize,
    states: Vec<State>,
    /// Content rules whose `paths` match this file (computed on first need).
    allowed: Option<Vec<usize>>,
    /// False-positive path globs matching this file (computed on first need).
    fp_paths: Option<Vec<usize>>,
}

impl Scan<'_> {
    fn state(&mut self, ci: usize) -> &mut State {
        if self.states.is_empty() {
            self.states = vec![State::default(); self.set.content.len()];
        }
        &mut self.states[ci]
    }

    /// Content rules whose `paths` match this file.
    fn allowed(&mut self) -> &[usize] {
        let set = self.set;
        let path = self.file.path;
        self.allowed.get_or_insert_with(|| {
            set.content_globs.matches(path).into_iter().map(|g| set.content_glob_owner[g]).collect()
        })
    }

    /// Whether some `paths`-restricted content rule applies to this file (path and kind).
    fn restricted_rule_applies(&mut self) -> bool {
        let (set, kind) = (self.set, self.file.kind);
        self.allowed().iter().any(|&ci| set.content[ci].kinds.contains(kind))
    }

    /// Whether rule `ci` applies to this file (kind, and `paths` if it has any). Decided
    /// without touching `states`, so a file no rule hits allocates nothing.
    fn is_active(&mut self, ci: usize) -> bool {
        let c = &self.set.content[ci];
        c.kinds.contains(self.file.kind) && (!c.path_restricted || self.allowed().contains(&ci))
    }

    fn keywords(&mut self) {
        let set = self.set;
        let Some(ac) = &set.automaton else { return };
        let data = self.data;
        let search = set.search(self.file.kind);
        let search = if search.all == search.open || !self.restricted_rule_applies() {
            search.open
        } else {
            search.all
        };
        let KeywordSearch::Prefiltered(p) = search else { return };
        match set.prefilters[p].get() {
            Some(prefilter) => {
                for (s, e) in prefilter.windows(data) {
                    for m in ac.find_overlapping_iter(&data[s..e]) {
                        self.hit(m.pattern().as_usize(), s + m.start(), s + m.end());
                    }
                }
            }
            None => {
                for m in ac.find_overlapping_iter(data) {
                    self.hit(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
        for ci in 0..self.states.len() {
            if let Some(range) = self.states[ci].open.take() {
                self.confirm(ci, range);
            }
        }
    }

    /// One keyword occurrence at `data[start..end]`: record it for each rule that owns the
    /// keyword and applies to this file, and extend (or flush) that rule's window.
    fn hit(&mut self, pattern: usize, start: usize, end: usize) {
        let set = self.set;
        let data = self.data;
        for owner in &set.owners[pattern] {
            let ci = owner.content as usize;
            if !self.is_active(ci) {
                continue;
            }
            if let Some(exact) = &owner.exact
                && data[start..end] != **exact
            {
                continue;
            }
            let c = &set.content[ci];
            let st = self.state(ci);
            st.seen |= 1u64 << owner.keyword;
            st.first.get_or_insert(start);
            if c.regex.is_none() {
                continue;
            }
            let lo = start.saturating_sub(c.window.0);
            let hi = end.saturating_add(c.window.1).min(data.len());
            let flush = match st.open {
                Some((s, e)) if lo <= e => {
                    st.open = Some((s.min(lo), e.max(hi)));
                    None
                }
                prev => {
                    st.open = Some((lo, hi));
                    prev
                }
            };
            if let Some(range) = flush {
                self.confirm(ci, range);
            }
        }
    }

    /// Runs rule `ci`'s regex over one merged window.
    fn confirm(&mut self, ci: usize, (lo, hi): (usize, usize)) {
        let c = &self.set.content[ci];
        let Some(re) = &c.regex else { return };
        let hay = &self.data[..hi.saturating_add(TAIL_SLACK).min(self.data.len())];
        let mut locs = re.capture_locations();
        let mut pos = lo;
        while pos < hi && self.states[ci].emitted < MAX_MATCHES_PER_RULE {
            let Some(m) = re.captures_read_at(&mut locs, hay, pos) else { break };
            if m.start() >= hi {
                break;
            }
            let (vs, ve) = locs.get(c.value_group).unwrap_or((m.start(), m.end()));
            let groups: Vec<(String, String)> = c
                .detail_groups
                .iter()
                .filter_map(|(g, name)| {
                    let (s, e) = locs.get(*g)?;
                    Some((name.clone(), plain_preview(&self.data[s..e])))
                })
                .collect();
            self.candidate(ci, (vs, ve), (m.start(), m.end()), groups);
            pos = if m.end() > m.start() { m.end() } else { m.start() + 1 };
        }
    }

    /// Checks one regex (or run) match against the rule's conditions and reports it.
    fn candidate(
        &mut self,
        ci: usize,
        (vs, ve): (usize, usize),
        (ms, me): (usize, usize),
        groups: Vec<(String, String)>,
    ) {
        let set = self.set;
        let c = &set.content[ci];
        let data = self.data;
        let value = &data[vs..ve];
        let verdict = match c.validator {
            Some(v) => match v.check(value) {
                Some(verdict) => verdict,
                None => return,
            },
            None => Verdict::default(),
        };
        if c.min_entropy.is_some_and(|min| entropy::shannon(value) < min) {
            return;
        }
        if c.context.as_ref().is_some_and(|ctx| !ctx.holds(data, ms, me)) {
            return;
        }
        let mut confidence = c.kind_confidence.get(self.file.kind).unwrap_or(set.rules[c.rule].confidence);
        let mut detail = verdict.detail;
        detail.extend(groups);
        if let Some((ctx, boost)) = &c.boost
            && ctx.holds(data, ms, me)
        {
            confidence = confidence.max(*boost);
            detail.insert("context".to_owned(), "corroborated".to_owned());
        }
        let preview = match verdict.preview {
            Some(p) => p,
            None if c.secret => secret_preview(value),
            None => plain_preview(value),
        };
        let canonical = verdict.canonical.as_deref().unwrap_or(value);
        let emitted = self.emit(Emit {
            rule: c.rule,
            confidence,
            value,
            canonical,
            preview,
            offset: Some(vs as u64),
            detail,
        });
        if emitted {
            self.state(ci).emitted += 1;
        }
    }

    fn emit(&mut self, e: Emit<'_>) -> bool {
        let set = self.set;
        let path = self.file.path;
        let fp_paths = self.fp_paths.get_or_insert_with(|| set.false_positives.paths.matches(path));
        emit(set, self.out, self.start, &Place { path, fp_paths, weak: None }, e)
    }

    /// Keyword-less rules: runs of one alphabet (Monero addresses), found by sampling every
    /// `min_len`-th byte, so data without long runs costs about 1/min_len of a pass.
    fn runs(&mut self) {
        for &ci in &self.set.run_rules {
            let Some(run) = self.set.content[ci].run else { continue };
            if self.data.len() < run.min_len || !self.is_active(ci) {
                continue;
            }
            let mut found = Vec::new();
            find_runs(self.data, run, |s, e| found.push((s, e)));
            for (s, e) in found {
                if self.state(ci).emitted >= MAX_MATCHES_PER_RULE {
                    break;
                }
                let c = &self.set.content[ci];
                if let Some(re) = &c.regex
                    && !re.is_match(&self.data[s..e])
                {
                    continue;
                }
                self.candidate(ci, (s, e), (s, e), Vec::new());
            }
        }
    }

    /// Rules without regex or validator report which of their keywords occurred, once.
    fn keyword_rules(&mut self) {
        for ci in 0..self.states.len() {
            let c = &self.set.content[ci];
            let st = self.states[ci];
            if !c.keyword_only() || st.seen == 0 || st.seen.count_ones() < c.min_distinct {
                continue;
            }
            let mut found: Vec<String> = (0..c.keywords.len())
                .filter(|&i| st.seen & (1u64 << i) != 0)
                .map(|i| c.keywords[i].to_ascii_lowercase())
                .collect();
            found.sort();
            found.dedup();
            let value = found.join(",");
            let confidence =
                c.kind_confidence.get(self.file.kind).unwrap_or(self.set.rules[c.rule].confidence);
            let mut detail = BTreeMap::new();
            detail.insert("keywords".to_owned(), value.clone());
            detail.insert("file_kind".to_owned(), self.file.kind.as_str().to_owned());
            self.emit(Emit {
                rule: c.rule,
                confidence,
                value: value.as_bytes(),
                canonical: value.as_bytes(),
                preview: plain_preview(value.as_bytes()),
                offset: st.first.map(|o| o as u64),
                detail,
            });
        }
    }

    /// Whole-file hashes, computed only for files whose size is listed.
    fn file_hash(&mut self) {
        if self.data.len() as u64 != self.file.size {
            return;
        }
        let Some(list) = self.set.hashes.get(&self.file.size) else { return };
        let digest: [u8; 32] = Sha256::digest(self.data).into();
        for h in list.iter().filter(|h| h.sha256 == digest) {
            let mut detail = BTreeMap::new();
            detail.insert("sha256".to_owned(), hex::encode(digest));
            detail.insert("name".to_owned(), h.name.clone());
            let preview = format!("{} (sha256 {})", h.name, &hex::encode(digest)[..16]);
            self.emit(Emit {
                rule: h.rule,
                confidence: self.set.rules[h.rule].confidence,
                value: self.data,
                canonical: self.data,
                preview,
                offset: Some(0),
                detail,
            });
        }
    }

    /// Regex rules with `min_distinct > 1` count only when enough of their keywords occurred.
    fn enforce_min_distinct(&mut self) {
        let failing: Vec<usize> = (0..self.states.len())
            .filter(|&ci| {
                let c = &self.set.content[ci];
                !c.keyword_only() && c.min_distinct > 1 && self.states[ci].seen.count_ones() < c.min_distinct
            })
            .map(|ci| self.set.content[ci].rule)
            .collect();
        if failing.is_empty() {
            return;
        }
        let ids: Vec<&str> = failing.iter().map(|&r| self.set.rules[r].id()).collect();
        let mut i = self.start;
        while i < self.out.len() {
            if ids.contains(&&*self.out[i].rule) {
                self.out.remove(i);
            } else {
                i += 1;
            }
        }
    }
}

/// Calls `f(start, end)` for each maximal run of `run.charset` bytes whose length is within
/// `[min_len, max_len]`. Skips like Boyer-Moore: a run starting at `start` needs the next
/// `min_len` bytes to be members, so they are checked from the far end, and the first
/// non-member found rules out every start up to it at once. Data without long runs costs a
/// few byte checks per `min_len` bytes.
pub(crate) fn find_runs(data: &[u8], run: Run, mut f: impl FnMut(usize, usize)) {
    let (n, min) = (data.len(), run.min_len);
    let member = |i: usize| run.charset.contains(data[i]);
    // Where the next run could begin: 0, or just after a non-member byte.
    let mut start = 0;
    while start + min <= n {
        if let Some(j) = (start..start + min).rev().find(|&i| !member(i)) {
            start = j + 1;
            continue;
        }
        let mut end = start + min;
        while end < n && member(end) {
            end += 1;
        }
        if end - start <= run.max_len {
            f(start, end);
        }
        start = end + 1;
    }
}

/// One match about to be reported.
pub(crate) struct Emit<'v> {
    pub(crate) rule: usize,
    pub(crate) confidence: Confidence,
    pub(crate) value: &'v [u8],
    pub(crate) canonical: &'v [u8],
    pub(crate) preview: String,
    pub(crate) offset: Option<u64>,
    pub(crate) detail: BTreeMap<String, String>,
}

/// Where a match is about to be reported: the file's path, the indices of the false-positive
/// `[[path]]` globs it matches, and, for a host, why the walker saw it only in a weak context
/// (an e-mail address, a list of providers).
pub(crate) struct Place<'p> {
    pub(crate) path: &'p str,
    pub(crate) fp_paths: &'p [usize],
    pub(crate) weak: Option<&'p str>,
}

/// Applies the false-positive lists, the weak context, the build-time origin and the per-call
/// dedup, then pushes. Returns whether a match was added.
pub(crate) fn emit(
    set: &RuleSet,
    out: &mut Vec<Match>,
    start: usize,
    place: &Place<'_>,
    e: Emit<'_>,
) -> bool {
    let rule = &set.rules[e.rule];
    let fingerprint = Fingerprint::of(e.canonical);
    if out[start..].iter().any(|m| *m.rule == *rule.id && m.fingerprint == fingerprint) {
        return false;
    }
    let mut confidence = e.confidence;
    let mut detail = e.detail;
    let excuse = set.false_positives.judge(
        &rule.id,
        rule.place_can_excuse,
        fingerprint.as_str(),
        e.value,
        place.fp_paths,
    );
    if let Some(excuse) = excuse {
        confidence = Confidence::Low;
        detail.insert("false_positive".to_owned(), excuse.reason.to_owned());
        if let Some(class) = excuse.class {
            detail.insert("place".to_owned(), class.to_owned());
        }
    } else if let Some(reason) = place.weak {
        confidence = Confidence::Low;
        detail.insert("false_positive".to_owned(), reason.to_owned());
    }
    if rule.generated_at_build.as_ref().is_some_and(|g| g.is_match(place.path)) {
        detail.insert("origin".to_owned(), "generated_at_build".to_owned());
    }
    out.push(Match {
        rule: rule.id.clone(),
        category: rule.category,
        confidence,
        preview: e.preview,
        fingerprint,
        offset: e.offset,
        detail,
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Charset;

    /// Every maximal run, found byte by byte.
    fn naive_runs(data: &[u8], run: Run) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if !run.charset.contains(data[i]) {
                i += 1;
                continue;
            }
            let s = i;
            while i < data.len() && run.charset.contains(data[i]) {
                i += 1;
            }
            if (run.min_len..=run.max_len).contains(&(i - s)) {
                out.push((s, i));
            }
        }
        out
    }

    #[test]
    fn skipping_finds_every_run_a_byte_by_byte_scan_finds() {
        let run = Run { charset: Charset::Base58, min_len: 16, max_len: 24 };
        // Runs of every length from 0 to 40 between separators, at every alignment, and at
        // both ends of the data.
        let mut seed = 7u32;
        for round in 0..50 {
            let mut data = Vec::new();
            while data.len() < 2_000 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let len = (seed >> 16) as usize % 41;
                data.extend(std::iter::repeat_n(b"abcdefghijk123456789"[round % 20], len));
                data.extend_from_slice(if seed & 0x100 == 0 { b" " } else { b"0 l" });
            }
            if round % 2 == 0 {
                data.extend(std::iter::repeat_n(b'z', 20));
            }
            let mut found = Vec::new();
            find_runs(&data, run, |s, e| found.push((s, e)));
            let expected = naive_runs(&data, run);
            assert!(!expected.is_empty());
            assert_eq!(found, expected, "round {round}");
        }
    }
}
