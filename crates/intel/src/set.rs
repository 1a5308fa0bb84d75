//! The deduplicated, capped set of indicators found in one layer (or one image config).
//!
//! A layer is attacker data: a 10 GB layer of random host names must not become 10 GB of
//! indicators. The set therefore holds at most `cap` distinct indicators; once full it refuses
//! new ones and says so through [`IndicatorSet::truncated`], which the caller records, so a
//! truncated layer is visible in the census instead of silently incomplete.
//!
//! Every indicator candidate of every file is looked up here, so the maps hash with foldhash
//! rather than SipHash: several times faster on short keys, and still seeded per process, so
//! a layer cannot choose colliding names in advance.

use foldhash::HashMap;

use hubcensus_types::{Indicator, IndicatorKind};

/// Distinct indicators kept per layer unless the caller says otherwise.
pub const DEFAULT_MAX_INDICATORS: usize = 20_000;

const KINDS: [IndicatorKind; 4] =
    [IndicatorKind::Domain, IndicatorKind::Host, IndicatorKind::Ip, IndicatorKind::Url];

/// Distinct indicators, each with the first path it was seen at, up to a cap.
///
/// Paths at known false-positive places (documentation: the caller says which, through
/// [`IndicatorSet::set_false_positive_place`]) count only until the value is seen anywhere
/// else: then that path replaces it. A host named in a manual and in a script is recorded, and
/// judged, at the script.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    /// One map per kind (indexed by [`kind_index`]), value → where it was first seen. Per-kind
    /// maps let a lookup borrow `&str` instead of building an `Indicator` for every occurrence.
    by_kind: [HashMap<String, Seen>; 4],
    len: usize,
    cap: usize,
    truncated: bool,
    /// Whether what is inserted now comes from a known false-positive place.
    at_false_positive_place: bool,
}

/// Where a value was first seen, and whether that was a known false-positive place.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    at_false_positive_place: bool,
}

impl Default for IndicatorSet {
    /// An empty set capped at [`DEFAULT_MAX_INDICATORS`].
    fn default() -> Self {
        Self::with_cap(DEFAULT_MAX_INDICATORS)
    }
}

const fn kind_index(kind: IndicatorKind) -> usize {
    match kind {
        IndicatorKind::Domain => 0,
        IndicatorKind::Host => 1,
        IndicatorKind::Ip => 2,
        IndicatorKind::Url => 3,
    }
}

impl IndicatorSet {
    /// An empty set that keeps at most `cap` distinct indicators.
    pub fn with_cap(cap: usize) -> Self {
        Self { by_kind: Default::default(), len: 0, cap, truncated: false, at_false_positive_place: false }
    }

    /// The number of distinct indicators held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The cap this set was made with.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Whether at least one new indicator was refused because the set was full.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Says whether the paths of the next insertions are known false-positive places
    /// (documentation), until said otherwise.
    pub fn set_false_positive_place(&mut self, yes: bool) {
        self.at_false_positive_place = yes;
    }

    /// Whether the set holds this indicator with nothing an insertion now would change: the
    /// extractor's fast path for repeats.
    pub fn contains(&self, kind: IndicatorKind, value: &str) -> bool {
        self.by_kind[kind_index(kind)]
            .get(value)
            .is_some_and(|seen| !seen.at_false_positive_place || self.at_false_positive_place)
    }

    /// Adds an indicator seen at `path`. A value already held keeps its first path, unless that
    /// was a known false-positive place and this one is not. Returns `false` only when the
    /// value is new and the set is full (and then marks it truncated).
    pub fn insert(&mut self, kind: IndicatorKind, value: &str, path: &str) -> bool {
        let here = self.at_false_positive_place;
        let map = &mut self.by_kind[kind_index(kind)];
        if let Some(seen) = map.get_mut(value) {
            if seen.at_false_positive_place && !here {
                *seen = Seen { path: path.to_owned(), at_false_positive_place: false };
            }
            return true;
        }
        if self.len >= self.cap {
            self.truncated = true;
            return false;
        }
        map.insert(value.to_owned(), Seen { path: path.to_owned(), at_false_positive_place: here });
        self.len += 1;
        true
    }

    /// The distinct `Host` and `Domain` values, for judging each host once against a rule set
    /// (dynamic-DNS and pool domains, for instance).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.by_kind[kind_index(IndicatorKind::Domain)]
            .keys()
            .chain(self.by_kind[kind_index(IndicatorKind::Host)].keys())
            .map(String::as_str)
    }

    /// Every indicator of one kind with its first path, in no particular order.
    pub fn iter_kind(&self, kind: IndicatorKind) -> impl Iterator<Item = (&str, &str)> {
        self.by_kind[kind_index(kind)].iter().map(|(v, seen)| (v.as_str(), seen.path.as_str()))
    }

    /// The indicators with their first paths, sorted by kind then value (deterministic output
    /// for storage and tests).
    pub fn into_vec(self) -> Vec<(Indicator, String)> {
        let mut out = Vec::with_capacity(self.len);
        for (kind, map) in KINDS.into_iter().zip(self.by_kind) {
            out.extend(map.into_iter().map(|(value, seen)| (Indicator { kind, value }, seen.path)));
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Adds every indicator of `other` (keeping this set's first paths, unless only `other` saw
    /// a value outside known false-positive places, and this set's cap). The result is
    /// truncated when either input was, or when `other` did not fit; which of `other`'s
    /// indicators made it in is then unspecified.
    pub fn merge(&mut self, other: IndicatorSet) {
        self.truncated |= other.truncated;
        for (kind, map) in KINDS.into_iter().zip(other.by_kind) {
            for (value, seen) in map {
                let mine = &mut self.by_kind[kind_index(kind)];
                if let Some(held) = mine.get_mut(&value) {
                    if held.at_false_positive_place && !seen.at_false_positive_place {
                        *held = seen;
                    }
                    continue;
                }
                if self.len >= self.cap {
                    self.truncated = true;
                    continue;
                }
                mine.insert(value, seen);
                self.len += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_path_wins_and_duplicates_are_free() {
        let mut s = IndicatorSet::with_cap(2);
        assert!(s.insert(IndicatorKind::Domain, "example.com", "a"));
        assert!(s.insert(IndicatorKind::Domain, "example.com", "b"));
        assert!(s.insert(IndicatorKind::Host, "example.com", "c")); // other kind, distinct
        assert_eq!(s.len(), 2);
        assert!(!s.truncated());
        assert!(!s.insert(IndicatorKind::Ip, "1.1.1.1", "d"));
        assert!(s.truncated());
        let v = s.into_vec();
        assert_eq!(
            v[0],
            (Indicator { kind: IndicatorKind::Domain, value: "example.com".into() }, "a".into())
        );
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn a_path_outside_false_positive_places_replaces_one_inside() {
        let mut s = IndicatorSet::with_cap(10);
        s.set_false_positive_place(true);
        s.insert(IndicatorKind::Host, "a.duckdns.org", "usr/share/doc/x/THANKS");
        s.insert(IndicatorKind::Host, "a.duckdns.org", "usr/share/doc/y/README");
        assert!(s.contains(IndicatorKind::Host, "a.duckdns.org"), "nothing to change from another manual");
        s.set_false_positive_place(false);
        assert!(!s.contains(IndicatorKind::Host, "a.duckdns.org"), "a script would change the path");
        s.insert(IndicatorKind::Host, "a.duckdns.org", "opt/run.sh");
        s.insert(IndicatorKind::Host, "a.duckdns.org", "opt/later.sh");
        s.set_false_positive_place(true);
        s.insert(IndicatorKind::Host, "a.duckdns.org", "usr/share/doc/z/NEWS");
        s.insert(IndicatorKind::Host, "b.duckdns.org", "usr/share/doc/z/NEWS");
        let mut other = IndicatorSet::with_cap(10);
        other.insert(IndicatorKind::Host, "b.duckdns.org", "etc/cron.d/job");
        s.merge(other);
        let paths: Vec<_> = s.into_vec().into_iter().map(|(i, p)| (i.value, p)).collect();
        assert_eq!(
            paths,
            [
                ("a.duckdns.org".into(), "opt/run.sh".into()),
                ("b.duckdns.org".into(), "etc/cron.d/job".into())
            ]
        );
    }

    #[test]
    fn merge_keeps_first_paths_and_respects_the_cap() {
        let mut a = IndicatorSet::with_cap(3);
        a.insert(IndicatorKind::Domain, "x.com", "a/1");
        let mut b = IndicatorSet::with_cap(10);
        for (i, d) in ["x.com", "y.com", "z.com", "w.com"].into_iter().enumerate() {
            b.insert(IndicatorKind::Domain, d, &format!("b/{i}"));
        }
        a.merge(b);
        assert_eq!(a.len(), 3);
        assert!(a.truncated());
        assert_eq!(
            a.iter_kind(IndicatorKind::Domain).find(|(v, _)| *v == "x.com").map(|(_, p)| p),
            Some("a/1")
        );
        let mut hosts: Vec<_> = a.hosts().collect();
        hosts.sort_unstable();
        assert_eq!(hosts.len(), 3);
    }
}
