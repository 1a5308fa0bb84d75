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

/// Why a value was seen only where it names no connection to it. A value held with a weak
/// context keeps it only until it is seen anywhere else: then that path replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakContext {
    /// A known false-positive place (documentation): the rules' `[[path]]` entries say why.
    Place,
    /// The domain of an e-mail address (`bohan@x.dyndns.org` in an AUTHORS file or a sample
    /// mail) outside an executable: a mail address names its domain, it does not connect there.
    MailAddress,
    /// A file that lists many providers' suffixes: the Public Suffix List or a copy of it,
    /// however it is named and wherever it lies (see [`IndicatorSet::mark_provider_list`]).
    ProviderList,
    /// A comment line of a text file (`# see http://x.dyndns.org/docs`): nothing runs it.
    Comment,
}

impl WeakContext {
    /// The reason a host rule's hit in this context is reported at low confidence, or `None`
    /// for [`WeakContext::Place`], whose reason is the place's own.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            WeakContext::Place => None,
            WeakContext::MailAddress => Some(
                "the domain of an e-mail address outside an executable: it names the host, it does not connect to it",
            ),
            WeakContext::ProviderList => Some(
                "a list of providers' domains (reference data such as the Public Suffix List, recognised by its content)",
            ),
            WeakContext::Comment => Some("named only in a comment: nothing connects to it"),
        }
    }
}

/// Distinct indicators, each with the first path it was seen at, up to a cap.
///
/// Paths in a weak context ([`WeakContext`]: documentation, an e-mail address outside an
/// executable, a list of providers) count only until the value is seen anywhere else: then
/// that path replaces it. A host named in a manual and in a script is recorded, and judged, at
/// the script.
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
    /// Whether what is inserted now comes from an executable (ELF, script, config value),
    /// where an e-mail address's domain counts like any other host.
    in_executable: bool,
    /// Host and domain values created or strengthened since [`IndicatorSet::begin_unit`], when
    /// a unit is open.
    unit_hosts: Option<Vec<String>>,
}

/// Where a value was first seen, and why that place was weak, if it was.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    weak: Option<WeakContext>,
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
        Self {
            by_kind: Default::default(),
            len: 0,
            cap,
            truncated: false,
            at_false_positive_place: false,
            in_executable: false,
            unit_hosts: None,
        }
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

    /// Says whether the next insertions come from an executable (an ELF, a script, a config
    /// value), until said otherwise: there an e-mail address's domain is a host like any other.
    pub fn set_executable(&mut self, yes: bool) {
        self.in_executable = yes;
    }

    /// Starts a unit (one file of a layer, with everything nested in it): from now on the set
    /// remembers the host and domain values this unit adds or strengthens, for
    /// [`IndicatorSet::end_unit`].
    pub fn begin_unit(&mut self) {
        let mut hosts = self.unit_hosts.take().unwrap_or_default();
        hosts.clear();
        self.unit_hosts = Some(hosts);
    }

    /// Ends the unit begun by [`IndicatorSet::begin_unit`] and returns the host and domain
    /// values it added or strengthened (each recorded at a path of the unit).
    pub fn end_unit(&mut self) -> Vec<String> {
        self.unit_hosts.take().unwrap_or_default()
    }

    /// Marks `values` (host or domain values of the unit just ended) as seen only inside a list
    /// of providers: each keeps its path and is weak until another file names it.
    pub fn mark_provider_list(&mut self, values: &[String]) {
        for v in values {
            for kind in [IndicatorKind::Domain, IndicatorKind::Host] {
                if let Some(seen) = self.by_kind[kind_index(kind)].get_mut(v.as_str()) {
                    seen.weak.get_or_insert(WeakContext::ProviderList);
                }
            }
        }
    }

    /// How the set holds `value`: `None` when it does not, `Some(None)` when it was seen in a
    /// strong context, `Some(Some(why))` when only in a weak one.
    pub fn held(&self, kind: IndicatorKind, value: &str) -> Option<Option<WeakContext>> {
        self.by_kind[kind_index(kind)].get(value).map(|seen| seen.weak)
    }

    /// Whether inserting a value held as `held` again, read in the context `why`, would change
    /// nothing: it is held strong, or the place or context now is as weak as the one it is held
    /// with.
    pub fn settles(&self, held: Option<WeakContext>, why: Option<WeakContext>) -> bool {
        held.is_none() || self.at_false_positive_place || (why.is_some() && self.weak_now(why) == held)
    }

    /// The weak context an insertion now gets, for a value read in the context `why`.
    fn weak_now(&self, why: Option<WeakContext>) -> Option<WeakContext> {
        if self.at_false_positive_place {
            Some(WeakContext::Place)
        } else if why == Some(WeakContext::MailAddress) && self.in_executable {
            None
        } else {
            why
        }
    }

    /// Whether the set holds this indicator with nothing an insertion now would change: the
    /// extractor's fast path for repeats.
    pub fn contains(&self, kind: IndicatorKind, value: &str) -> bool {
        self.by_kind[kind_index(kind)]
            .get(value)
            .is_some_and(|seen| seen.weak.is_none() || self.at_false_positive_place)
    }

    /// Adds an indicator seen at `path`. A value already held keeps its first path, unless that
    /// was in a weak context and this one is not. Returns `false` only when the value is new
    /// and the set is full (and then marks it truncated).
    pub fn insert(&mut self, kind: IndicatorKind, value: &str, path: &str) -> bool {
        self.insert_seen(kind, value, path, None)
    }

    /// [`IndicatorSet::insert`] for a value read where it names no connection: the domain of
    /// an e-mail address (weak unless the current file is an executable) or a comment line.
    pub fn insert_weak(&mut self, kind: IndicatorKind, value: &str, path: &str, why: WeakContext) -> bool {
        self.insert_seen(kind, value, path, Some(why))
    }

    fn insert_seen(
        &mut self,
        kind: IndicatorKind,
        value: &str,
        path: &str,
        why: Option<WeakContext>,
    ) -> bool {
        let weak = self.weak_now(why);
        let map = &mut self.by_kind[kind_index(kind)];
        if let Some(seen) = map.get_mut(value) {
            if seen.weak.is_some() && weak.is_none() {
                *seen = Seen { path: path.to_owned(), weak: None };
                note_unit_host(&mut self.unit_hosts, kind, value);
            }
            return true;
        }
        if self.len >= self.cap {
            self.truncated = true;
            return false;
        }
        map.insert(value.to_owned(), Seen { path: path.to_owned(), weak });
        self.len += 1;
        note_unit_host(&mut self.unit_hosts, kind, value);
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
        self.into_vec_with_context().into_iter().map(|(i, p, _)| (i, p)).collect()
    }

    /// [`IndicatorSet::into_vec`], with the weak context each value was seen only in, if any.
    pub fn into_vec_with_context(self) -> Vec<(Indicator, String, Option<WeakContext>)> {
        let mut out = Vec::with_capacity(self.len);
        for (kind, map) in KINDS.into_iter().zip(self.by_kind) {
            out.extend(
                map.into_iter().map(|(value, seen)| (Indicator { kind, value }, seen.path, seen.weak)),
            );
        }
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Adds every indicator of `other` (keeping this set's first paths, unless only `other` saw
    /// a value outside a weak context, and this set's cap). The result is truncated when either
    /// input was, or when `other` did not fit; which of `other`'s indicators made it in is then
    /// unspecified.
    pub fn merge(&mut self, other: IndicatorSet) {
        self.truncated |= other.truncated;
        for (kind, map) in KINDS.into_iter().zip(other.by_kind) {
            for (value, seen) in map {
                let mine = &mut self.by_kind[kind_index(kind)];
                if let Some(held) = mine.get_mut(&value) {
                    if held.weak.is_some() && seen.weak.is_none() {
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

/// Remembers a host or domain value for the open unit, if one is open.
fn note_unit_host(unit: &mut Option<Vec<String>>, kind: IndicatorKind, value: &str) {
    if let Some(hosts) = unit
        && matches!(kind, IndicatorKind::Host | IndicatorKind::Domain)
    {
        hosts.push(value.to_owned());
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
    fn a_mail_domain_is_weak_outside_executables_until_named_elsewhere() {
        let mut s = IndicatorSet::with_cap(10);
        s.insert_weak(IndicatorKind::Host, "meson.dyndns.org", "app/AUTHORS", WeakContext::MailAddress);
        s.set_executable(true);
        s.insert_weak(IndicatorKind::Host, "bot.duckdns.org", "usr/bin/mailer", WeakContext::MailAddress);
        s.set_executable(false);
        s.insert_weak(IndicatorKind::Host, "c2.duckdns.org", "app/AUTHORS", WeakContext::MailAddress);
        s.insert(IndicatorKind::Host, "c2.duckdns.org", "app/run.sh");
        let got: Vec<_> = s.into_vec_with_context().into_iter().map(|(i, p, w)| (i.value, p, w)).collect();
        assert_eq!(
            got,
            [
                ("bot.duckdns.org".into(), "usr/bin/mailer".into(), None),
                ("c2.duckdns.org".into(), "app/run.sh".into(), None),
                ("meson.dyndns.org".into(), "app/AUTHORS".into(), Some(WeakContext::MailAddress)),
            ]
        );
    }

    #[test]
    fn a_unit_reports_what_it_added_and_a_list_stays_weak_until_named_elsewhere() {
        let mut s = IndicatorSet::with_cap(10);
        s.insert(IndicatorKind::Host, "a.duckdns.org", "opt/run.sh");
        s.begin_unit();
        s.insert(IndicatorKind::Host, "a.duckdns.org", "psl.dat");
        s.insert(IndicatorKind::Host, "b.duckdns.org", "psl.dat");
        s.insert(IndicatorKind::Domain, "duckdns.org", "psl.dat");
        let added = s.end_unit();
        assert_eq!(added, ["b.duckdns.org", "duckdns.org"], "a value held before is not the unit's");
        s.mark_provider_list(&added);
        assert!(!s.contains(IndicatorKind::Host, "b.duckdns.org"), "a weak value can still be strengthened");
        s.insert(IndicatorKind::Domain, "duckdns.org", "etc/cron.d/update");
        let got: Vec<_> = s.into_vec_with_context().into_iter().map(|(i, p, w)| (i.value, p, w)).collect();
        assert_eq!(
            got,
            [
                ("duckdns.org".into(), "etc/cron.d/update".into(), None),
                ("a.duckdns.org".into(), "opt/run.sh".into(), None),
                ("b.duckdns.org".into(), "psl.dat".into(), Some(WeakContext::ProviderList)),
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
