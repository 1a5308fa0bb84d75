//! What a name looks like, and what a name is once its decorations are taken off.
//!
//! * [`Glyphs::skeleton`] reduces a name to its look: `rn` → `m`, `1`/`i` → `l`, `0` → `o`,
//!   `vv` → `w`, `cl` → `d`, separators alike. Two different names with one skeleton read the
//!   same at a glance in a listing or a `docker pull` line (`ngirnx`… `pyth0n`, `rnariadb`).
//! * [`strip_affixes`] takes known words off either end (`nginx-official`, `offical_redis`,
//!   `dockerpython`), so the remainder can be compared with a target.
//! * [`is_version_variant`] recognises a target plus a version (`node16`, `python3.12`,
//!   `openjdk-11`): a variant people publish all the time, not a mistyping.

/// Look-alike replacements, longest first.
#[derive(Debug, Clone)]
pub(crate) struct Glyphs {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Glyphs {
    pub(crate) fn new(pairs: &[(String, String)]) -> Self {
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> =
            pairs.iter().map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec())).collect();
        pairs.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Self { pairs }
    }

    /// The name as it looks: every look-alike sequence replaced, left to right, longest first.
    pub(crate) fn skeleton(&self, name: &str) -> String {
        let bytes = name.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        'outer: while i < bytes.len() {
            for (from, to) in &self.pairs {
                if bytes[i..].starts_with(from) {
                    out.extend_from_slice(to);
                    i += from.len();
                    continue 'outer;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Whether `a` and `b` are single characters that look alike.
    pub(crate) fn confusable(&self, a: u8, b: u8) -> bool {
        let reduce = |c: u8| {
            self.pairs
                .iter()
                .find(|(from, _)| from.as_slice() == [c])
                .map_or(c, |(_, to)| to.first().copied().unwrap_or(c))
        };
        a != b && reduce(a) == reduce(b)
    }
}

/// Separators allowed inside repository names.
pub(crate) fn is_separator(b: u8) -> bool {
    matches!(b, b'-' | b'_' | b'.')
}

/// How an affix was attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stripped {
    /// The name without the affix.
    pub(crate) rest: String,
    /// The affix word.
    pub(crate) word: String,
    /// Whether it claims authenticity (`official`) rather than being a generic word (`latest`).
    pub(crate) claims_official: bool,
}

/// Every way of taking one or two affix words off `name` (`official-nginx-latest` gives
/// `nginx-latest`, `official-nginx` and `nginx`). Remainders shorter than `min_len` are dropped.
pub(crate) fn strip_affixes(
    name: &str,
    official: &[String],
    generic: &[String],
    min_len: usize,
) -> Vec<Stripped> {
    let words: Vec<(&str, bool)> = official
        .iter()
        .map(|w| (w.as_str(), true))
        .chain(generic.iter().map(|w| (w.as_str(), false)))
        .collect();
    let mut out: Vec<Stripped> = Vec::new();
    let mut frontier = vec![(name.to_owned(), String::new(), false)];
    for _ in 0..2 {
        let mut next = Vec::new();
        for (current, prior, prior_official) in &frontier {
            for (word, claims) in &words {
                for rest in strip_one(current, word) {
                    if rest.len() < min_len || out.iter().any(|s| s.rest == rest) {
                        continue;
                    }
                    let word = if prior.is_empty() { (*word).to_owned() } else { format!("{prior}+{word}") };
                    let claims_official = *claims || *prior_official;
                    out.push(Stripped { rest: rest.clone(), word: word.clone(), claims_official });
                    next.push((rest, word, claims_official));
                }
            }
        }
        frontier = next;
    }
    out
}

/// `name` without `word` at its start or its end, joined by a separator or by nothing.
fn strip_one(name: &str, word: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) = name.strip_prefix(word) {
        let rest = rest.strip_prefix(['-', '_', '.']).unwrap_or(rest);
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
    }
    if let Some(rest) = name.strip_suffix(word) {
        let rest = rest.strip_suffix(['-', '_', '.']).unwrap_or(rest);
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
    }
    out
}

/// Whether one name is the other followed by a version: optional separator, optional `v`,
/// digits, more digit groups (`node16`, `python3.12`, `openjdk-11`, `golang-v1-22`) — either way
/// round, since `auth` is no more a typo of `auth5` than `node16` is of `node`.
pub(crate) fn is_version_variant(a: &str, b: &str) -> bool {
    extends_with_version(a, b) || extends_with_version(b, a)
}

fn extends_with_version(candidate: &str, target: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(target) else { return false };
    let rest = rest.strip_prefix(['-', '_', '.']).unwrap_or(rest);
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    !rest.is_empty()
        && rest.as_bytes()[0].is_ascii_digit()
        && rest
            .split(['-', '_', '.'])
            .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typosquat::TyposquatConfig;

    fn glyphs() -> Glyphs {
        Glyphs::new(&TyposquatConfig::builtin().unwrap().0.homoglyphs.pairs)
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let g = glyphs();
        for (a, b) in [
            ("rnariadb", "mariadb"),
            ("pyth0n", "python"),
            ("ngimx", "ngirnx"),
            ("a1pine", "alpine"),
            ("vvordpress", "wordpress"),
            ("clebian", "debian"),
            ("hello_world", "hello-world"),
            ("rocket-chat", "rocket.chat"),
        ] {
            assert_eq!(g.skeleton(a), g.skeleton(b), "{a} {b}");
        }
        assert_ne!(g.skeleton("nginx"), g.skeleton("ngnix"));
        assert!(g.confusable(b'0', b'o'));
        assert!(g.confusable(b'1', b'i'));
        assert!(!g.confusable(b'o', b'o'));
        assert!(!g.confusable(b'a', b'e'));
    }

    #[test]
    fn affixes_come_off_either_end() {
        let official = vec!["official".to_owned(), "offical".to_owned()];
        let generic = vec!["latest".to_owned(), "docker".to_owned()];
        let rests = |name: &str| -> Vec<(String, bool)> {
            strip_affixes(name, &official, &generic, 3)
                .into_iter()
                .map(|s| (s.rest, s.claims_official))
                .collect()
        };
        assert_eq!(rests("nginx-official"), [("nginx".to_owned(), true)]);
        assert_eq!(rests("offical_redis"), [("redis".to_owned(), true)]);
        assert_eq!(rests("dockerpython"), [("python".to_owned(), false)]);
        let both = rests("official-nginx-latest");
        assert!(both.contains(&("nginx".to_owned(), true)), "{both:?}");
        assert!(both.contains(&("nginx-latest".to_owned(), true)), "{both:?}");
        assert!(rests("nginx").is_empty());
        assert!(rests("docker").is_empty(), "an affix alone leaves nothing");
        assert!(rests("latest-go").is_empty(), "too short a remainder");
    }

    #[test]
    fn versions_are_variants_not_typos() {
        for c in ["node16", "python3.12", "openjdk-11", "golang-v1-22", "ubuntu2204", "alpine3"] {
            let target = ["node", "python", "openjdk", "golang", "ubuntu", "alpine"]
                .into_iter()
                .find(|t| c.starts_with(t))
                .unwrap_or_default();
            assert!(is_version_variant(c, target), "{c}");
            assert!(is_version_variant(target, c), "{c}");
        }
        for (c, t) in [
            ("nodes", "node"),
            ("node", "node"),
            ("node-", "node"),
            ("node1.", "node"),
            ("nginx-1x", "nginx"),
        ] {
            assert!(!is_version_variant(c, t), "{c}");
        }
    }
}
