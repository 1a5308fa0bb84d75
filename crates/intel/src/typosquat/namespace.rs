//! Namespaces that look machine-generated.
//!
//! People and companies name their Docker Hub accounts after themselves (`bitnami`,
//! `linuxserver`, `jc21`); throw-away accounts made in bulk to push look-alikes of official
//! images often are not (`c43602f9cc95/openjdk`, `700888880a0/golang`, Aqua Nautilus 2021). An
//! official image's exact name under such a namespace is the impersonation pattern those reports
//! describe, while the same name under an ordinary namespace is, overwhelmingly, somebody's own
//! build or mirror (`bitnami/nginx`, `linuxserver/nginx`). The tests here only see the string, so
//! they are deliberately narrow: each describes a shape a person rarely picks.

use super::config::NamespaceRules;

/// Why a namespace looks machine-generated, or `None`.
pub(crate) fn random_looking(ns: &str, rules: &NamespaceRules) -> Option<String> {
    let bytes = ns.as_bytes();
    let len = bytes.len();
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = bytes.iter().filter(|b| b.is_ascii_lowercase()).count();
    let hex = bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    if hex && len >= rules.hex_min_len && digits >= rules.hex_min_digits && letters >= 1 {
        return Some(format!("namespace {ns:?} is hex-like ({len} hex digits)"));
    }
    if digits >= rules.digits_min && digits as f64 >= rules.digits_share * len as f64 {
        return Some(format!("namespace {ns:?} is mostly digits ({digits} of {len})"));
    }
    let alternations = bytes.windows(2).filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit()).count();
    if alternations >= rules.alternations_min && letters > 0 && digits > 0 {
        return Some(format!("namespace {ns:?} alternates letters and digits {alternations} times"));
    }
    let vowels = bytes.iter().filter(|b| b"aeiouy".contains(b)).count();
    let few_vowels = |share: f64| letters >= 6 && (vowels as f64) < share * letters as f64;
    if len >= rules.unpronounceable_min_len && few_vowels(rules.vowel_share_below) {
        return Some(format!("namespace {ns:?} has {vowels} vowels in {letters} letters"));
    }
    if len >= rules.entropy_min_len && few_vowels(rules.entropy_vowel_share_below) {
        let bits = entropy(bytes);
        if bits >= rules.entropy_bits {
            return Some(format!(
                "namespace {ns:?} has {bits:.2} bits of entropy per character and {vowels} vowels in {letters} letters"
            ));
        }
    }
    None
}

/// Shannon entropy of the byte distribution, in bits per byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for b in bytes {
        counts[usize::from(*b)] += 1;
    }
    let n = bytes.len() as f64;
    counts.iter().filter(|c| **c > 0).map(|c| f64::from(*c) / n).map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typosquat::TyposquatConfig;

    #[test]
    fn generated_namespaces_are_told_from_chosen_ones() {
        let rules = TyposquatConfig::builtin().unwrap().0.namespace;
        for ns in [
            "c43602f9cc95",
            "700888880a0",
            "x4b3ty9q",
            "mts56zc4pz0lx9xf",
            "xkcdqrtzpl",
            "3f2a9b1c",
            "qzk7wxtrbn2m",
        ] {
            assert!(random_looking(ns, &rules).is_some(), "{ns}");
        }
        for ns in [
            "bitnami",
            "linuxserver",
            "jc21",
            "n8nio",
            "vibersastra",
            "containrrr",
            "opensearchproject",
            "semitechnologies",
            "crccheck",
            "kalomi4821",
            "starcodekim4283",
            "codenixmax3726",
            "skyskysky1234",
            "wurstmeister",
            "deadbeef",
            "user2021",
            "cockroachdb",
            "library",
        ] {
            assert_eq!(random_looking(ns, &rules), None, "{ns}");
        }
    }
}
