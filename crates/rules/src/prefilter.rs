//! A SIMD prefilter in front of the keyword automaton.
//!
//! The Aho-Corasick DFA over all keywords runs at the speed of one table lookup per byte
//! (about 0.4 GB/s on our 2-core machines), and with hundreds of case-insensitive keywords no
//! built-in prefilter applies. Teddy (aho-corasick's packed SIMD searcher) runs at several GB/s
//! but takes at most 64 exact-case patterns. So at build time we choose a small set of *anchors*:
//! short substrings such that every keyword occurrence, in every case spelling the rule allows,
//! contains one. Teddy finds anchor occurrences; the full automaton then runs only over a window
//! of `reach` bytes around each one. Windows are merged, so every keyword occurrence is reported
//! exactly once, in order — the same answers as running the automaton over everything.
//!
//! Anchors are picked greedily by estimated rarity (a per-byte frequency guess for binaries and
//! text) divided by how many keywords they cover; a case-insensitive keyword's anchor counts once
//! per case spelling, which pulls the choice towards digits and punctuation.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap},
    sync::OnceLock,
};

use aho_corasick::packed;

use crate::{buckets::teddy_order, file::FileKind};

/// An anchor: its bytes (lowercased when case-insensitive) and whether it is.
type Anchor = (Vec<u8>, bool);
/// Every candidate anchor with the bitset of targets it covers.
type Candidates = BTreeMap<Anchor, Vec<u64>>;

/// A candidate anchor, the targets it covers, its estimated cost and its spelling count.
type Scored<'a> = (&'a Anchor, &'a Vec<u64>, f64, usize);

/// Teddy's pattern limit.
const MAX_ANCHORS: usize = 64;
/// Anchor budgets tried in turn: Teddy's slim limit, then its fat one.
const BUDGETS: [usize; 2] = [32, MAX_ANCHORS];
/// Per-spelling penalties tried in turn by the anchor choice (see `Prefilter::build`).
const PENALTIES: [f64; 8] = [0.0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];

/// Which of Teddy's two forms searches for the anchors.
///
/// Slim Teddy steps 32 bytes at a time with 8 buckets, fat Teddy 16 bytes with 16 buckets, and
/// aho-corasick picks fat above 32 patterns. Fat's extra buckets pay where anchor look-alikes
/// are common (text: letters, punctuation); in executables most bytes are opcodes and tables
/// that look like no anchor, so the doubled stride wins even with fuller buckets. Measured on
/// this machine's /usr (1.07 GB, one core, `examples/throughput.rs`, three rounds): ELF content
/// 1,565–1,672 MB/s fat against 1,839–1,886 MB/s slim with the same 55 anchors; text 1,334–1,468
/// MB/s fat against 863–917 MB/s slim with its 50. The matches are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TeddyForm {
    /// aho-corasick's choice: slim up to 32 anchors, fat above.
    ByCount,
    /// Slim whatever the count (Teddy takes up to 64 patterns in either form).
    Slim,
}

impl TeddyForm {
    /// The form for files of `kind`: slim for executables and other binary content.
    pub(crate) fn for_kind(kind: FileKind) -> TeddyForm {
        match kind {
            FileKind::Elf | FileKind::Binary => TeddyForm::Slim,
            FileKind::Script | FileKind::Text | FileKind::ConfigField | FileKind::NameOnly => {
                TeddyForm::ByCount
            }
        }
    }
}

/// One keyword as the automaton must find it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Target {
    /// Lowercased when `ci`, exact otherwise.
    pub(crate) bytes: Vec<u8>,
    pub(crate) ci: bool,
}

/// Finds windows that may hold a keyword.
#[derive(Debug)]
pub(crate) struct Prefilter {
    searcher: packed::Searcher,
    /// Per anchor spelling (Teddy pattern id): how far before the anchor's start and after
    /// it a keyword containing it can extend.
    reach: Vec<(usize, usize)>,
}

/// A prefilter chosen on first use. Choosing anchors is most of a rule set's start-up (about
/// 15 M instructions per prefilter, a dozen prefilters), and a scan needs only those of the file
/// kinds it meets: a one-shot scan of a layer of executables need not choose anchors for image
/// configs or for the files of `paths`-restricted rules.
#[derive(Debug)]
pub(crate) struct LazyPrefilter {
    targets: Vec<Target>,
    form: TeddyForm,
    built: OnceLock<Option<Prefilter>>,
}

impl LazyPrefilter {
    pub(crate) fn new(targets: Vec<Target>, form: TeddyForm) -> Self {
        Self { targets, form, built: OnceLock::new() }
    }

    /// Whether this is the prefilter for `targets` searched in `form`.
    pub(crate) fn is_for(&self, targets: &[Target], form: TeddyForm) -> bool {
        self.form == form && self.targets == targets
    }

    /// The prefilter, built by the first caller; `None` when [`Prefilter::build`] finds no
    /// anchor set, and the automaton must then scan every byte.
    pub(crate) fn get(&self) -> Option<&Prefilter> {
        self.built.get_or_init(|| Prefilter::build(&self.targets, self.form)).as_ref()
    }
}

impl Prefilter {
    /// Chooses anchors for the targets, or `None` when no small enough set exists (or the CPU
    /// has no SIMD Teddy): the caller then scans with the automaton alone.
    pub(crate) fn build(targets: &[Target], form: TeddyForm) -> Option<Prefilter> {
        let targets: BTreeSet<&Target> = targets.iter().collect();
        if targets.is_empty() {
            return None;
        }
        let list: Vec<&Target> = targets.into_iter().collect();
        let (candidates, uncovered) = candidates(&list);
        // Greedy weighted set cover. The budget of 64 spellings binds before rarity does, so
        // each spelling also costs `penalty`; the smallest penalty whose cover fits wins (a
        // small penalty keeps anchors specific, a large one shares them between keywords).
        let scored = prune(score(&candidates));
        // Teddy has a fast "slim" form for up to 32 patterns and a "fat" one, half as fast, for
        // up to 64: try to fit the slim budget first.
        let chosen = BUDGETS
            .iter()
            .flat_map(|&b| PENALTIES.iter().map(move |&p| (b, p)))
            .find_map(|(budget, penalty)| greedy_cover(&scored, &uncovered, budget, penalty))?;
        let mut anchors = BTreeSet::new();
        for c in &chosen {
            anchors.extend(variants(c));
        }
        let anchors: Vec<Vec<u8>> = anchors.into_iter().collect();
        // Every keyword spelling that can contain each anchor, at every offset.
        let mut reach: Vec<(usize, usize)> = anchors.iter().map(|a| reach_of(a, &list)).collect();
        // Teddy reports one anchor per start position. Two anchors can start at the same
        // position only when one is a prefix of the other; either may be the one reported
        // (that depends on Teddy's buckets), so each gets the union of both reaches.
        for i in 0..anchors.len() {
            for j in 0..anchors.len() {
                if anchors[i].starts_with(&anchors[j]) {
                    let (a, b) = (reach[i], reach[j]);
                    let both = (a.0.max(b.0), a.1.max(b.1));
                    reach[i] = both;
                    reach[j] = both;
                }
            }
        }
        let slim = form == TeddyForm::Slim;
        let mut config = packed::Config::new();
        config.match_kind(packed::MatchKind::LeftmostFirst);
        if slim {
            // A hidden setter, kept by aho-corasick for its own benchmarks; Cargo.lock pins the
            // version, and without it Teddy would only be slower, never find other matches.
            config.only_teddy_fat(Some(false));
        }
        let mut builder = config.builder();
        let order = teddy_order(&anchors, &BYTE_FREQUENCIES, slim);
        for &i in &order {
            builder.add(&anchors[i]);
        }
        let reach = order.iter().map(|&i| reach[i]).collect();
        let searcher = builder.build()?;
        Some(Prefilter { searcher, reach })
    }

    /// How many exact-case anchors Teddy searches for.
    pub(crate) fn anchors(&self) -> usize {
        self.reach.len()
    }

    /// The merged windows, in order, that together contain every keyword occurrence of
    /// `data` (each occurrence lies entirely inside one window).
    pub(crate) fn windows<'d>(&'d self, data: &'d [u8]) -> impl Iterator<Item = (usize, usize)> + 'd {
        let mut at = 0;
        let mut open: Option<(usize, usize)> = None;
        std::iter::from_fn(move || {
            loop {
                // Resume one byte after the previous hit's start, not at its end: anchors may
                // overlap in the data, and each one's keywords need their own window.
                let Some(m) = self.searcher.find_in(data, aho_corasick::Span::from(at..data.len())) else {
                    return open.take();
                };
                at = m.start() + 1;
                let (back, fwd) = self.reach[m.pattern().as_usize()];
                let lo = m.start().saturating_sub(back);
                let hi = m.start().saturating_add(fwd).min(data.len());
                match open {
                    Some((s, e)) if lo <= e => open = Some((s, e.max(hi))),
                    prev => {
                        open = Some((lo, hi));
                        if prev.is_some() {
                            return prev;
                        }
                    }
                }
            }
        })
    }
}

/// How far before an anchor's start, and after it, a keyword spelling containing it can
/// extend: `(back, forward)`, at least the anchor itself.
fn reach_of(anchor: &[u8], list: &[&Target]) -> (usize, usize) {
    let (mut back, mut fwd) = (0, anchor.len());
    for t in list {
        for (o, w) in t.bytes.windows(anchor.len()).enumerate() {
            let hit = if t.ci { w.eq_ignore_ascii_case(anchor) } else { w == anchor };
            if hit {
                back = back.max(o);
                fwd = fwd.max(t.bytes.len() - o);
            }
        }
    }
    (back, fwd)
}

/// Candidate anchors: every 3- and 4-byte substring of every target, exact (covering only
/// case-sensitive targets) and lowercased case-insensitive (covering any target that contains
/// it in any case), with the set of targets each covers as a bitset; and the bitset of all
/// targets.
fn candidates(list: &[&Target]) -> (Candidates, Vec<u64>) {
    let words = list.len().div_ceil(64);
    let mut candidates = Candidates::new();
    for (i, t) in list.iter().enumerate() {
        for len in 3..=4 {
            for w in t.bytes.windows(len) {
                let mut keys = vec![(w.to_ascii_lowercase(), true)];
                if !t.ci {
                    keys.push((w.to_vec(), false));
                }
                for key in keys {
                    candidates.entry(key).or_insert_with(|| vec![0; words])[i / 64] |= 1 << (i % 64);
                }
            }
        }
    }
    let mut all = vec![0u64; words];
    for i in 0..list.len() {
        all[i / 64] |= 1 << (i % 64);
    }
    (candidates, all)
}

/// Cost and spelling count of each candidate, computed once.
fn score(candidates: &Candidates) -> Vec<Scored<'_>> {
    candidates
        .iter()
        .map(|(cand, cover)| {
            let spellings = spelling_count(cand);
            (cand, cover, rarity(cand) * spellings as f64, spellings)
        })
        .collect()
}

/// Drops every candidate the greedy can never take: one whose cover an earlier candidate has
/// exactly, with no more spellings and no higher cost. Both always cover the same open
/// targets, so the earlier one's ratio is never higher whatever the penalty (float rounding
/// is monotone), and on a tie the earlier one wins. Most substrings of a keyword cover just
/// that keyword, so this keeps a few of each keyword's dozens and makes every greedy run
/// several times cheaper, with the same result.
fn prune(scored: Vec<Scored<'_>>) -> Vec<Scored<'_>> {
    let mut best: HashMap<&Vec<u64>, Vec<usize>> = HashMap::new();
    for (i, entry) in scored.iter().enumerate() {
        best.entry(entry.1).or_default().push(i);
    }
    let dominated = |i: usize| {
        let (_, cover, cost, spellings) = scored[i];
        best[cover].iter().any(|&j| {
            let (_, _, c, sp) = scored[j];
            j < i && sp <= spellings && c <= cost
        })
    };
    let keep: Vec<bool> = (0..scored.len()).map(|i| !dominated(i)).collect();
    scored.into_iter().zip(keep).filter_map(|(entry, k)| k.then_some(entry)).collect()
}

/// How many of the `open` targets a candidate's `cover` holds.
fn count_open(cover: &[u64], open: &[u64]) -> u32 {
    cover.iter().zip(open).map(|(a, b)| (a & b).count_ones()).sum()
}

/// One greedy weighted set cover: repeatedly takes the candidate with the lowest cost per
/// newly covered target (the first in candidate order on a tie) until every target is
/// covered, or gives up once the chosen anchors exceed `budget` spellings.
///
/// Lazy: a candidate's ratio only grows as targets get covered, so a heap of possibly stale
/// ratios is a lower bound; the popped entry is recounted and taken only if still current,
/// which picks exactly what a full rescan per step would, at a fraction of the cost.
fn greedy_cover(
    scored: &[Scored<'_>],
    uncovered: &[u64],
    budget: usize,
    penalty: f64,
) -> Option<Vec<Anchor>> {
    let ratio = |i: usize, n: u32| (scored[i].2 + penalty * scored[i].3 as f64) / f64::from(n);
    let mut open = uncovered.to_vec();
    let mut heap: BinaryHeap<Reverse<Ranked>> = scored
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let n = count_open(entry.1, &open);
            Reverse(Ranked { ratio: ratio(i, n), index: i, covers: n })
        })
        .filter(|r| r.0.covers > 0)
        .collect();
    let (mut chosen, mut total) = (Vec::new(), 0);
    while open.iter().any(|&w| w != 0) {
        let Reverse(top) = heap.pop()?;
        let n = count_open(scored[top.index].1, &open);
        if n != top.covers {
            if n > 0 {
                heap.push(Reverse(Ranked { ratio: ratio(top.index, n), index: top.index, covers: n }));
            }
            continue;
        }
        total = take(&scored[top.index], &mut open, &mut chosen, total, budget)?;
    }
    Some(chosen)
}

/// Takes one candidate into a cover: its targets are no longer open, its spellings count
/// towards `total`. `None` once the total exceeds `budget`.
fn take(
    entry: &Scored<'_>,
    open: &mut [u64],
    chosen: &mut Vec<Anchor>,
    total: usize,
    budget: usize,
) -> Option<usize> {
    let &(best, cover, _, spellings) = entry;
    for (u, c) in open.iter_mut().zip(cover) {
        *u &= !c;
    }
    chosen.push(best.clone());
    Some(total + spellings).filter(|&t| t <= budget)
}

/// A heap entry of [`greedy_cover`]: ordered by ratio, then candidate order.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    ratio: f64,
    index: usize,
    /// How many open targets the candidate covered when `ratio` was computed.
    covers: u32,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ratio.total_cmp(&other.ratio).then(self.index.cmp(&other.index))
    }
}

/// Every exact-case spelling of an anchor.
fn variants((sub, ci): &(Vec<u8>, bool)) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::with_capacity(sub.len())];
    for &b in sub {
        let alts: &[u8] = if *ci && b.is_ascii_alphabetic() {
            &[b.to_ascii_lowercase(), b.to_ascii_uppercase()]
        } else {
            std::slice::from_ref(&b)
        };
        out = out
            .into_iter()
            .flat_map(|prefix| {
                alts.iter().map(move |&a| {
                    let mut v = prefix.clone();
                    v.push(a);
                    v
                })
            })
            .collect();
    }
    out
}

/// How many exact-case spellings an anchor has.
fn spelling_count((sub, ci): &(Vec<u8>, bool)) -> usize {
    if *ci { 1 << sub.iter().filter(|b| b.is_ascii_alphabetic()).count() } else { 1 }
}

/// Estimated chance of one spelling of an anchor at a random position.
fn rarity((sub, _): &(Vec<u8>, bool)) -> f64 {
    sub.iter().map(|&b| byte_frequency(b)).product()
}

/// [`byte_frequency`] of every byte value, for Teddy's bucket planning.
const BYTE_FREQUENCIES: [f64; 256] = {
    let mut table = [0.0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = byte_frequency(b as u8);
        b += 1;
    }
    table
};

/// A rough frequency of a byte in executables and text: NUL and lowercase letters are common,
/// punctuation is rare, except `:` and `/`, which every URL and path brings (taken as rare,
/// `://` became the anchor of a dozen keywords and hit ~1,400 times per MB of documentation).
const fn byte_frequency(b: u8) -> f64 {
    match b {
        0 | 0xff => 0.2,
        b' ' | b'\n' | b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 0.1,
        b'a'..=b'z' | b':' | b'/' => 0.06,
        b'0'..=b'9' | b'.' | b'_' | b'-' | b'"' | b'=' => 0.02,
        b'A'..=b'Z' => 0.01,
        0x01..=0x1f | 0x80..=0xfe => 0.01,
        _ => 0.004,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, ci: bool) -> Target {
        Target { bytes: if ci { s.to_ascii_lowercase().into_bytes() } else { s.as_bytes().to_vec() }, ci }
    }

    #[test]
    fn every_spelling_of_every_keyword_lands_in_a_window() {
        let targets = vec![
            t("stratum+tcp://", true),
            t("AKIA", false),
            t("xmrig", true),
            t("-----BEGIN RSA PRIVATE KEY-----", false),
        ];
        let Some(pf) = Prefilter::build(&targets, TeddyForm::ByCount) else { return }; // no SIMD on this CPU
        assert!(pf.anchors() <= MAX_ANCHORS);
        let mut data = vec![0u8; 10_000];
        let needles: [&[u8]; 5] =
            [b"StRaTuM+TCP://", b"AKIA", b"XMRig", b"xmrig", b"-----BEGIN RSA PRIVATE KEY-----"];
        let mut at = Vec::new();
        for (i, n) in needles.iter().enumerate() {
            let pos = 100 + i * 1900;
            data[pos..pos + n.len()].copy_from_slice(n);
            at.push((pos, pos + n.len()));
        }
        let windows: Vec<(usize, usize)> = pf.windows(&data).collect();
        for (s, e) in at {
            assert!(windows.iter().any(|&(ws, we)| ws <= s && e <= we), "{s}..{e} not in {windows:?}");
        }
        // Windows are disjoint and ordered.
        assert!(windows.windows(2).all(|w| w[0].1 < w[1].0));
    }

    /// Over random keyword sets from a small alphabet (so anchors overlap, share Teddy's
    /// nybbles and are prefixes of one another) and random haystacks with keywords planted in
    /// random cases: every occurrence of every keyword lies inside one window.
    #[test]
    fn windows_hold_every_occurrence_whatever_the_anchor_order() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let alphabet = b"abcAB-_:/12";
        for _ in 0..60 {
            let targets: Vec<Target> = (0..1 + next(40))
                .map(|_| {
                    let word: String =
                        (0..3 + next(6)).map(|_| alphabet[next(alphabet.len())] as char).collect();
                    t(&word, next(2) == 0)
                })
                .collect();
            // Both forms, whose buckets differ, must give the same windows.
            let form = if next(2) == 0 { TeddyForm::Slim } else { TeddyForm::ByCount };
            let Some(pf) = Prefilter::build(&targets, form) else { continue };
            let mut data: Vec<u8> = (0..4_000).map(|_| alphabet[next(alphabet.len())]).collect();
            for _ in 0..40 {
                let k = &targets[next(targets.len())];
                let at = next(data.len() - k.bytes.len());
                for (i, &b) in k.bytes.iter().enumerate() {
                    data[at + i] = if k.ci && next(2) == 0 { b.to_ascii_uppercase() } else { b };
                }
            }
            let windows: Vec<(usize, usize)> = pf.windows(&data).collect();
            for k in &targets {
                for (s, w) in data.windows(k.bytes.len()).enumerate() {
                    let hit = if k.ci { w.eq_ignore_ascii_case(&k.bytes) } else { w == k.bytes.as_slice() };
                    let e = s + k.bytes.len();
                    assert!(
                        !hit || windows.iter().any(|&(ws, we)| ws <= s && e <= we),
                        "{:?} at {s}..{e} outside every window",
                        String::from_utf8_lossy(&k.bytes)
                    );
                }
            }
        }
    }

    /// The greedy cover as first written: rescan every candidate on every step.
    fn full_rescan(
        scored: &[Scored<'_>],
        uncovered: &[u64],
        budget: usize,
        penalty: f64,
    ) -> Option<Vec<Anchor>> {
        let mut open = uncovered.to_vec();
        let (mut chosen, mut total) = (Vec::new(), 0);
        while open.iter().any(|&w| w != 0) {
            let best = scored
                .iter()
                .filter_map(|entry| {
                    let n = count_open(entry.1, &open);
                    (n > 0).then(|| ((entry.2 + penalty * entry.3 as f64) / f64::from(n), entry))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))?
                .1;
            total = take(best, &mut open, &mut chosen, total, budget)?;
        }
        Some(chosen)
    }

    #[test]
    fn lazy_greedy_picks_what_a_full_rescan_picks() {
        // Over 64 targets (two bitset words), with shared and case-insensitive substrings.
        let mut targets: Vec<Target> =
            ["xmrig", "XMRig", "ghp_", "gho_", "AKIA", "ASIA", "/dev/tcp/", "nc -e"]
                .iter()
                .map(|k| t(k, false))
                .collect();
        targets.extend(["stratum+tcp://", "stratum+ssl://", "vmess://", "ss://"].iter().map(|k| t(k, true)));
        targets.extend((0..60).map(|i| t(&format!("tool{i}-{}", i * 7 % 13), i % 3 == 0)));
        let list: Vec<&Target> = targets.iter().collect::<BTreeSet<_>>().into_iter().collect();
        assert!(list.len() > 64);
        let (candidates, uncovered) = candidates(&list);
        let scored = score(&candidates);
        let pruned = prune(score(&candidates));
        assert!(pruned.len() * 2 < scored.len(), "{} of {} kept", pruned.len(), scored.len());
        let mut fitted = 0;
        for budget in [8, 32, 64, 1000] {
            for penalty in PENALTIES {
                let lazy = greedy_cover(&pruned, &uncovered, budget, penalty);
                assert_eq!(lazy, full_rescan(&scored, &uncovered, budget, penalty), "{budget} {penalty}");
                fitted += usize::from(lazy.is_some());
            }
        }
        assert!(fitted > 0 && fitted < 32, "both outcomes exercised: {fitted}");
    }

    #[test]
    fn case_insensitive_anchors_expand_to_every_spelling() {
        assert_eq!(variants(&(b"a+b".to_vec(), true)).len(), 4);
        assert_eq!(variants(&(b"a+b".to_vec(), false)).len(), 1);
    }
}
