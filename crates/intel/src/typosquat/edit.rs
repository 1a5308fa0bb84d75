//! Edit distance between names, and what a single edit was.
//!
//! Damerau–Levenshtein in its optimal-string-alignment form (insert, delete, substitute, swap two
//! neighbours; no substring edited twice) — the distance typosquat studies and tools such as
//! dnstwist use. Knowing *which* edit turned a name into another matters as much as the
//! distance: swapping two letters or doubling one is how people mistype, replacing an `m` by an
//! `e` is not, and only the former is evidence against a short or little-pulled name.

/// What one edit did to the target to make the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Two neighbouring characters swapped (`ngnix`).
    Transposition,
    /// A character of the target left out (`ngix`).
    Omission {
        /// The character left out.
        removed: u8,
    },
    /// A character added (`nginnx`, `nginxx`, `nginxs`).
    Insertion {
        /// The character added.
        inserted: u8,
        /// The candidate's characters on either side of it.
        before: Option<u8>,
        after: Option<u8>,
    },
    /// One character replaced by another (`nginz`).
    Substitution {
        /// The target's character.
        from: u8,
        /// The candidate's character.
        to: u8,
    },
}

/// The single edit that turns `target` into `candidate`, if exactly one does.
pub(crate) fn single_edit(candidate: &[u8], target: &[u8]) -> Option<Edit> {
    let prefix = candidate.iter().zip(target).take_while(|(a, b)| a == b).count();
    let (c, t) = (&candidate[prefix..], &target[prefix..]);
    match c.len() as isize - t.len() as isize {
        0 if !c.is_empty() => {
            if c[1..] == t[1..] {
                Some(Edit::Substitution { from: t[0], to: c[0] })
            } else if c.len() >= 2 && c[0] == t[1] && c[1] == t[0] && c[2..] == t[2..] {
                Some(Edit::Transposition)
            } else {
                None
            }
        }
        1 if c[1..] == *t => Some(Edit::Insertion {
            inserted: c[0],
            before: prefix.checked_sub(1).map(|i| candidate[i]),
            after: c.get(1).copied(),
        }),
        -1 if *c == t[1..] => Some(Edit::Omission { removed: t[0] }),
        _ => None,
    }
}

/// The optimal-string-alignment distance between `a` and `b`, or `None` when it exceeds `max`.
pub(crate) fn distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let n = b.len();
    // Three rows: two back (for transpositions), previous, current.
    let mut back: Vec<usize> = vec![0; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur: Vec<usize> = vec![0; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(back[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[n]).filter(|d| *d <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_edits_are_named() {
        assert_eq!(single_edit(b"ngnix", b"nginx"), Some(Edit::Transposition));
        assert_eq!(single_edit(b"ndoe", b"node"), Some(Edit::Transposition));
        assert_eq!(single_edit(b"ngix", b"nginx"), Some(Edit::Omission { removed: b'n' }));
        assert_eq!(single_edit(b"helloworld", b"hello-world"), Some(Edit::Omission { removed: b'-' }));
        assert_eq!(
            single_edit(b"nodde", b"node"),
            Some(Edit::Insertion { inserted: b'd', before: Some(b'd'), after: Some(b'e') })
        );
        assert_eq!(
            single_edit(b"nginxs", b"nginx"),
            Some(Edit::Insertion { inserted: b's', before: Some(b'x'), after: None })
        );
        assert_eq!(
            single_edit(b"xnginx", b"nginx"),
            Some(Edit::Insertion { inserted: b'x', before: None, after: Some(b'n') })
        );
        assert_eq!(single_edit(b"nginz", b"nginx"), Some(Edit::Substitution { from: b'x', to: b'z' }));
        assert_eq!(single_edit(b"nginx", b"nginx"), None);
        assert_eq!(single_edit(b"ngxin", b"nginx"), None);
        assert_eq!(single_edit(b"redis", b"nginx"), None);
        assert_eq!(single_edit(b"", b"a"), Some(Edit::Omission { removed: b'a' }));
    }

    #[test]
    fn distances_match_the_textbook() {
        let cases: [(&str, &str, usize); 9] = [
            ("nginx", "nginx", 0),
            ("ngnix", "nginx", 1),
            ("postgresql", "postgres", 2),
            ("postgis", "postgres", 2),
            ("mongodb", "mongo", 2),
            ("ca", "abc", 3), // OSA, not unrestricted Damerau-Levenshtein (which gives 2)
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("hello-world", "helloworld", 1),
        ];
        for (a, b, want) in cases {
            assert_eq!(distance(a.as_bytes(), b.as_bytes(), 3), Some(want), "{a} {b}");
            assert_eq!(distance(b.as_bytes(), a.as_bytes(), 3), Some(want), "{b} {a}");
        }
        assert_eq!(distance(b"kitten", b"sitting", 2), None);
        assert_eq!(distance(b"a", b"abcdef", 2), None);
    }
}
