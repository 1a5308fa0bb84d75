//! Attacker-sized inputs: the set stays bounded and extraction stays linear.

use std::time::{Duration, Instant};

use hubcensus_intel::{DEFAULT_MAX_INDICATORS, ExtractLimits, IndicatorExtractor, IndicatorSet};

/// A small deterministic generator (xorshift), so the test needs no crate and never flakes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_domains(bytes: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let tlds = ["com", "net", "org", "de", "xyz"];
    let mut out = Vec::with_capacity(bytes + 64);
    while out.len() < bytes {
        let len = 6 + (rng.next() % 10) as usize;
        for _ in 0..len {
            out.push(b'a' + (rng.next() % 26) as u8);
        }
        out.push(b'.');
        out.extend_from_slice(tlds[(rng.next() % 5) as usize].as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn ten_megabytes_of_random_domains_stay_under_the_cap() {
    let blob = random_domains(10 * 1024 * 1024);
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = x.new_set();
    x.extract("evil/blob", &blob, &mut set);
    assert_eq!(set.len(), DEFAULT_MAX_INDICATORS);
    assert!(set.truncated());
    // a second file cannot grow it either
    x.extract("evil/blob2", b"fresh-name.com", &mut set);
    assert_eq!(set.len(), DEFAULT_MAX_INDICATORS);
}

#[test]
fn a_small_cap_is_respected_exactly() {
    let x = IndicatorExtractor::new(ExtractLimits { max_indicators: 5, ..ExtractLimits::default() });
    let mut set = x.new_set();
    x.extract("p", &random_domains(4096), &mut set);
    assert_eq!(set.len(), 5);
    assert!(set.truncated());
    let mut roomy = IndicatorSet::with_cap(1_000_000);
    x.extract("p", b"one.com two.com", &mut roomy);
    assert!(!roomy.truncated());
}

#[test]
fn pathological_runs_are_linear() {
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let inputs: Vec<Vec<u8>> = vec![
        b"a.".repeat(2_000_000),
        b"://".repeat(1_000_000),
        b"http://".repeat(500_000),
        b"1.".repeat(2_000_000),
        [b"http://a.com/".as_slice(), &b"x".repeat(4_000_000)].concat(),
        vec![b'.'; 4_000_000],
    ];
    for input in inputs {
        let mut set = IndicatorSet::default();
        let start = Instant::now();
        x.extract("p", &input, &mut set);
        // generous even for a debug build on a busy machine; quadratic behaviour takes minutes
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} bytes took {:?}",
            input.len(),
            start.elapsed()
        );
        assert!(set.len() <= 2, "{:?}", set.into_vec());
    }
}

#[test]
fn random_fragments_never_panic() {
    // Shreds of URLs, IPv6 brackets, ports, userinfo and names, glued at random: every slicing
    // path of the URL and host parsers gets odd input.
    let shreds: &[&[u8]] = &[
        b"http",
        b"://",
        b"stratum+tcp",
        b"[",
        b"]",
        b":",
        b"::1",
        b"@",
        b"/",
        b"?",
        b"#",
        b".",
        b"..",
        b"-",
        b"com",
        b"co.uk",
        b"xn--p1ai",
        b"evil",
        b"1",
        b"255",
        b"256",
        b"0",
        b"\x00",
        b"\xff",
        b"\xc3\xa9",
        b" ",
        b"\n",
        b"%",
        b"_",
        b"(",
        b"A",
        b"version ",
        b"*",
        b")",
        b"\"",
        b"99999",
        b"[::ffff:1.2.3.4]",
    ];
    let mut rng = Rng(42);
    let mut data = Vec::new();
    for _ in 0..400_000 {
        data.extend_from_slice(shreds[(rng.next() % shreds.len() as u64) as usize]);
    }
    let x = IndicatorExtractor::new(ExtractLimits { max_url_len: 40, ..ExtractLimits::default() });
    let mut set = IndicatorSet::with_cap(1_000_000);
    x.extract("fuzz", &data, &mut set);
    for (ind, _) in set.into_vec() {
        assert!(!ind.value.is_empty() && ind.value.is_ascii(), "{ind:?}");
        if ind.kind != hubcensus_types::IndicatorKind::Url {
            assert_eq!(ind.value, ind.value.to_ascii_lowercase(), "hosts and IPs are normalised: {ind:?}");
        }
    }
}
