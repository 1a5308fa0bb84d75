//! Host names: normalisation and the registrable domain by the Public Suffix List.
//!
//! Feeds and the census join on exact strings, so every host goes through [`normalise_host`]
//! once, at the edge, and every registrable domain through [`registrable_domain`]. Both the
//! extractor and the feed parsers call these two functions and nothing else, which is what makes
//! an extracted `Domain` equal, byte for byte, to the same domain read from a feed.
//!
//! The registrable domain is taken from the **ICANN section** of the PSL only. The private
//! section (`duckdns.org`, `ngrok.io`, `blogspot.com`, ...) lists services that hand out
//! sub-domains; judged by it, `evil.duckdns.org` would be its own registrable domain and a
//! dynamic-DNS feed listing `duckdns.org` could never match it. Under the ICANN section the
//! host `evil.duckdns.org` yields the domain `duckdns.org` (which the feed lists) and the host
//! itself (which a malicious-site feed may list).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest host name DNS allows (RFC 1035), without a trailing dot.
pub(crate) const MAX_HOST_LEN: usize = 253;
/// Longest DNS label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Lowercases and checks a host name: ASCII letters, digits and `-` in dot-separated labels of
/// 1 to 63 characters, no label starting or ending with `-`, at least two labels, at most 253
/// characters, a last label that is alphabetic or punycode (`xn--`), and no trailing dot.
/// Punycode (`xn--...`) is kept as found: it is never decoded.
///
/// Returns `None` for anything else, including IP literals (see [`normalise_ip`]) and names
/// without a dot (`localhost`). It does not consult the Public Suffix List: a syntactically valid
/// name under an unknown suffix (`foo.baz`) is returned, and [`registrable_domain`] then says no.
pub fn normalise_host(raw: &str) -> Option<String> {
    let trimmed = raw.strip_suffix('.').unwrap_or(raw);
    if trimmed.is_empty() || trimmed.len() > MAX_HOST_LEN {
        return None;
    }
    let host = trimmed.to_ascii_lowercase();
    let mut labels = 0usize;
    let mut last = "";
    for label in host.split('.') {
        if !valid_label(label) {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || !valid_tld(last) {
        return None;
    }
    Some(host)
}

fn valid_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LABEL_LEN
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A top-level label is letters only, or an IDNA A-label (`xn--p1ai`).
fn valid_tld(label: &str) -> bool {
    label.len() >= 2
        && (label.bytes().all(|c| c.is_ascii_alphabetic())
            || (label.starts_with("xn--") && label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')))
}

/// The registrable domain (eTLD+1 by the ICANN section of the Public Suffix List) of a host,
/// normalised. `None` when the host is not a valid name, when its suffix is not in the list
/// (`foo.baz`, `libc.so.6`), or when the host *is* a public suffix (`co.uk`).
///
/// ```
/// use hubcensus_intel::registrable_domain;
/// assert_eq!(registrable_domain("WWW.Example.CO.UK.").as_deref(), Some("example.co.uk"));
/// assert_eq!(registrable_domain("x.duckdns.org").as_deref(), Some("duckdns.org"));
/// assert_eq!(registrable_domain("co.uk"), None);
/// assert_eq!(registrable_domain("foo.baz"), None);
/// ```
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = normalise_host(host)?;
    registrable_of_normalised(&host).map(str::to_owned)
}

/// [`registrable_domain`] for a host already normalised, borrowing from it.
pub(crate) fn registrable_of_normalised(host: &str) -> Option<&str> {
    let suffix_len = icann_suffix_len(host)?;
    if host.len() <= suffix_len + 1 {
        return None; // the host is itself a public suffix
    }
    let rest = &host[..host.len() - suffix_len - 1];
    let start = rest.rfind('.').map_or(0, |i| i + 1);
    Some(&host[start..])
}

/// The length of the ICANN public suffix of a normalised host, walking up past private-section
/// suffixes. `None` when the suffix is unknown to the list.
fn icann_suffix_len(host: &str) -> Option<usize> {
    let mut candidate = host;
    loop {
        let suffix = psl::suffix(candidate.as_bytes())?;
        let bytes = suffix.as_bytes();
        match suffix.typ() {
            Some(psl::Type::Icann) => return Some(bytes.len()),
            Some(psl::Type::Private) => {
                // Drop the private suffix's first label and look the remainder up again: the
                // ICANN suffix a private one sits under is always a proper suffix of it.
                let start = candidate.len() - bytes.len();
                let private = &candidate[start..];
                let (_, parent) = private.split_once('.')?;
                candidate = parent;
            }
            None => return None,
        }
    }
}

/// The kind a normalised host gets as a standalone indicator or feed entry: `Domain` when it is
/// its own registrable domain, `Host` when it sits below one. `None` when it has no registrable
/// domain at all.
pub(crate) fn host_kind(host: &str) -> Option<(hubcensus_types::IndicatorKind, Option<&str>)> {
    use hubcensus_types::IndicatorKind;
    let domain = registrable_of_normalised(host)?;
    if domain.len() == host.len() {
        Some((IndicatorKind::Domain, None))
    } else {
        Some((IndicatorKind::Host, Some(domain)))
    }
}

/// Canonical text of an IP literal (`std`'s `Display`: dotted quad without leading zeros,
/// RFC 5952 for IPv6), or `None` when the text is not an IP literal. IPv6 may be bracketed.
pub fn normalise_ip(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(raw);
    if let Ok(v4) = inner.parse::<Ipv4Addr>() {
        return Some(v4.to_string());
    }
    inner.parse::<Ipv6Addr>().ok().map(|v6| v6.to_string())
}

/// Whether an IP is worth recording as an indicator. Dropped: unspecified (`0.0.0.0`, `::`,
/// and all of `0.0.0.0/8`, which no host can be reached at), loopback (`127.0.0.0/8`, `::1`)
/// and the limited broadcast `255.255.255.255`. These appear in every hosts file, sinkhole list
/// and default config, so they identify nothing.
pub(crate) fn ip_is_notable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.octets()[0] == 0 || v4.is_loopback() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_loopback()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_normalise_to_lowercase_without_trailing_dot() {
        assert_eq!(normalise_host("WWW.Example.COM.").as_deref(), Some("www.example.com"));
        assert_eq!(normalise_host("xn--80ak6aa92e.xn--p1ai").as_deref(), Some("xn--80ak6aa92e.xn--p1ai"));
        for bad in ["localhost", "-a.com", "a-.com", "a..com", "a.c", "a.b1", "a_b.com", "", ".", "1.2.3.4"] {
            assert_eq!(normalise_host(bad), None, "{bad}");
        }
        assert_eq!(normalise_host(&format!("{}.com", "a".repeat(64))), None);
    }

    #[test]
    fn registrable_domains_follow_the_icann_section() {
        let cases = [
            ("a.b.example.com", Some("example.com")),
            ("example.com", Some("example.com")),
            ("shop.example.co.uk", Some("example.co.uk")),
            ("evil.duckdns.org", Some("duckdns.org")),
            ("user.github.io", Some("github.io")),
            ("co.uk", None),
            ("com", None),
            ("foo.baz", None),
            ("libc.so.6", None),
        ];
        for (host, want) in cases {
            assert_eq!(registrable_domain(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn ips_are_canonical_and_boring_ones_are_dropped() {
        assert_eq!(normalise_ip("[2001:DB8:0:0::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(normalise_ip("10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(normalise_ip("010.0.0.1"), None);
        assert!(!ip_is_notable("127.0.0.53".parse().unwrap()));
        assert!(!ip_is_notable("0.0.0.0".parse().unwrap()));
        assert!(!ip_is_notable("255.255.255.255".parse().unwrap()));
        assert!(!ip_is_notable("::1".parse().unwrap()));
        assert!(ip_is_notable("45.9.148.3".parse().unwrap()));
    }
}
