//! Engine behaviour the layer walker relies on: dedup, previews, offsets, windows, bounds.

use hubcensus_rules::{FileKind, FileMeta, MAX_MATCHES_PER_RULE, RuleSet, Trigger};
use hubcensus_types::{Category, Confidence, Fingerprint};

use crate::{make, rules, scan};

#[test]
fn the_same_value_is_reported_once_per_call() {
    let t = make::token("ghp_", 5);
    let data = format!("A={t}\nB={t}\nC={t}\n");
    let found = scan("app/.env", data.as_bytes());
    let hits: Vec<_> = found.iter().filter(|m| &*m.rule == "github_token").collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].fingerprint, Fingerprint::of(t.as_bytes()));
    assert_eq!(hits[0].offset, Some(2));
    assert_eq!(hits[0].category, Category::EmbeddedKeys);
    // The secret never appears in the match.
    assert!(!hits[0].preview.contains(&t[4..30]));
    assert_eq!(hits[0].detail.get("token_kind").map(String::as_str), Some("personal_access_token"));
}

#[test]
fn private_keys_are_previewed_by_type_never_by_content() {
    let pem = make::rsa_pem(600, 1);
    let found = scan("root/.ssh/id_rsa", pem.as_bytes());
    let m = found.iter().find(|m| &*m.rule == "private_key").expect("key found");
    assert_eq!(m.preview, "unencrypted rsa private key (604 bytes of key data)");
    assert_eq!(m.detail.get("key_type").map(String::as_str), Some("rsa"));
    // The same key with other line endings is the same fingerprint.
    let crlf = scan("k", pem.replace('\n', "\r\n").as_bytes());
    assert!(crlf.iter().any(|c| &*c.rule == "private_key" && c.fingerprint == m.fingerprint));
}

#[test]
fn distinct_values_are_reported_up_to_the_bound() {
    let data: String = (0..100).map(|i| format!("T{i}={}\n", make::token("ghp_", i))).collect();
    let found = scan("app/.env", data.as_bytes());
    let n = found.iter().filter(|m| &*m.rule == "github_token").count();
    assert_eq!(n, MAX_MATCHES_PER_RULE as usize);
}

#[test]
fn matches_are_found_anywhere_in_large_binary_data() {
    // Keywords and values at the start, across the middle and at the very end of 3 MiB of
    // pseudo-random bytes: the prefilter's windows must not lose any of them.
    let mut data: Vec<u8> = (0..3u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let tokens: Vec<String> = (0..3).map(|i| make::token("ghp_", 100 + i)).collect();
    let len = data.len();
    for (t, at) in tokens.iter().zip([0usize, len / 2 + 7, len - 40]) {
        data[at.saturating_sub(1)] = b' ';
        data[at..at + 40].copy_from_slice(t.as_bytes());
        if let Some(b) = data.get_mut(at + 40) {
            *b = b'\n';
        }
    }
    let file = FileMeta { path: "blob", kind: FileKind::Binary, size: len as u64, executable: false };
    let mut out = Vec::new();
    rules().scan_bytes(&file, &data, &mut out);
    let got: Vec<_> =
        out.iter().filter(|m| &*m.rule == "github_token").map(|m| m.fingerprint.clone()).collect();
    for t in &tokens {
        assert!(got.contains(&Fingerprint::of(t.as_bytes())), "{t} missed");
    }
}

#[test]
fn kinds_and_paths_gate_rules() {
    // Miner strings count only in executables; the same bytes in a man page are documentation.
    let strings = b"\x7fELF\0\0xmrig\0--donate-level\0";
    assert!(scan("usr/bin/x", strings).iter().any(|m| &*m.rule == "miner_strings"));
    let found = crate::scan_as("usr/share/man/man1/xmrig.1", FileKind::Text, b"xmrig --donate-level 1");
    assert!(found.iter().all(|m| &*m.rule != "miner_strings"));
    assert!(found.iter().all(|m| m.confidence == Confidence::Low), "{found:?}");
}

#[test]
fn path_restricted_keywords_are_searched_only_where_their_rule_applies() {
    // Files no `paths` rule applies to get a prefilter without those rules' keywords
    // (`https://` of git_credentials): a credential URL and a token in one text must still
    // both be found where the path rule applies, and the token alone elsewhere.
    let token = make::token("ghp_", 7);
    let data = format!("https://alice:Zx9Kq2Lm4Np6Rs8Tv0Wy@github.com\nGH={token}\n");
    let rules_of = |path| {
        let mut ids: Vec<String> = crate::scan_as(path, FileKind::Text, data.as_bytes())
            .into_iter()
            .filter(|m| m.confidence >= Confidence::Medium)
            .map(|m| m.rule.to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(rules_of("root/.git-credentials"), ["git_credentials", "github_token"]);
    assert_eq!(rules_of("root/notes.txt"), ["github_token"]);
    let rules = rules();
    for kind in FileKind::ALL {
        // An entry known by name only has no content to search.
        if kind == FileKind::NameOnly {
            assert_eq!(rules.prefilter_anchors(kind), None);
            continue;
        }
        assert!(rules.prefilter_anchors(kind).is_some_and(|n| n <= 64), "{kind:?}");
    }
}

#[test]
fn false_positives_are_kept_low_with_their_reason() {
    let found = scan("usr/share/doc/aws/README", b"key AKIAIOSFODNN7EXAMPLE\n");
    let m = found.iter().find(|m| &*m.rule == "aws_access_key_id").expect("kept, not dropped");
    assert_eq!(m.confidence, Confidence::Low);
    assert!(m.detail.contains_key("false_positive"));
}

#[test]
fn every_rule_is_described_and_categorised() {
    let rules = rules();
    assert!(rules.version().starts_with("rules-") && rules.version().len() == 18);
    let mut ids = std::collections::HashSet::new();
    for r in rules.rules() {
        assert!(ids.insert(r.id().to_owned()), "duplicate {}", r.id());
        assert!(!r.description().is_empty());
        assert!(!r.category().is_feed_decided(), "{} claims a feed category", r.id());
    }
    for t in [Trigger::Keywords, Trigger::Run, Trigger::Path, Trigger::Host, Trigger::FileHash] {
        assert!(rules.rules().any(|r| r.trigger() == t), "no {t:?} rule");
    }
    for c in [
        Category::Cryptomining,
        Category::EmbeddedKeys,
        Category::ProxyAvoidance,
        Category::HackingTool,
        Category::DynamicDns,
        Category::Other,
    ] {
        assert!(rules.rules().any(|r| r.category() == c), "no rule for {c}");
    }
    assert!(rules.rule("github_token").is_some());
}

#[test]
fn a_rule_set_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    let t = make::token("npm_", 9);
    let data = format!("X={t}\n");
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert!(scan("a", data.as_bytes()).iter().any(|m| &*m.rule == "npm_token")));
        }
    });
}

#[test]
fn hostile_input_stays_bounded() {
    // A file that is nothing but keywords: windows merge, so this is a linear pass.
    let data = "AKIA".repeat(1 << 18);
    let started = std::time::Instant::now();
    let found = scan("x", data.as_bytes());
    assert!(found.len() <= rules().rules().count() * MAX_MATCHES_PER_RULE as usize);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // Unterminated PEM block and invalid UTF-8 around keywords.
    let mut bad = b"-----BEGIN RSA PRIVATE KEY-----\n\xff\xfe".to_vec();
    bad.extend(std::iter::repeat_n(b'A', 100_000));
    assert!(scan("k.pem", &bad).iter().all(|m| &*m.rule != "private_key"));
    assert!(scan("e", b"").is_empty());
}
