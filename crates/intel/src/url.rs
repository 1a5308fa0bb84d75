//! URLs with a scheme: recognising the scheme, splitting the authority, normalising.
//!
//! We do not use a general URL parser: the input is whatever bytes a layer holds, most URLs in
//! binaries are fragments of format strings, and what we need is narrow — a scheme we care
//! about, a host we can judge, and one canonical text so that a URL extracted from an image and
//! the same URL read from URLhaus compare equal. The normal form is: scheme and host lowercased,
//! IPs canonical (IPv6 bracketed), **userinfo removed** (`user:password@` is a credential and must
//! never be stored), port, path, query and fragment kept exactly as found.

use std::net::IpAddr;

use crate::host::{normalise_host, registrable_of_normalised};

/// Schemes whose URLs are recorded, lowercase. Longest first within a family so that the
/// longest scheme ending at `://` wins (`stratum+tcp` over `tcp`).
pub(crate) const SCHEMES: &[&str] = &[
    "stratum+tcp",
    "stratum+ssl",
    "stratum+tls",
    "stratum+udp",
    "stratum",
    "socks4a",
    "socks5h",
    "socks4",
    "socks5",
    "socks",
    "https",
    "http",
    "ftps",
    "sftp",
    "ftp",
    "wss",
    "ws",
    "ssh",
    "git",
    "ircs",
    "irc",
    "tcp",
    "udp",
    "ssl",
    "tls",
    "smb",
    "ldaps",
    "ldap",
    "rtsp",
    "rtmp",
    "telnet",
];

/// The longest scheme byte string that can precede `://`.
pub(crate) const MAX_SCHEME_LEN: usize = 11;

/// The host of a URL, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlHost {
    /// A host name with a known ICANN public suffix, normalised.
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

/// A URL split into the parts the extractor and the feed parsers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// The normal form (see the module docs).
    pub(crate) normalised: String,
    /// Its host.
    pub(crate) host: UrlHost,
}

/// Finds the scheme in `s` (case-insensitively) and returns it lowercased.
pub(crate) fn known_scheme(s: &str) -> Option<&'static str> {
    SCHEMES.iter().copied().find(|k| k.eq_ignore_ascii_case(s))
}

/// Parses `scheme://authority[/path...]`. `None` when the scheme is not one of [`SCHEMES`], the
/// port is not a number, or the host is neither an IP literal nor a name under a known public
/// suffix (`http://localhost/`, `http://%s/`, `tcp://redis:6379` are not indicators).
pub(crate) fn parse_url(raw: &str) -> Option<ParsedUrl> {
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = known_scheme(scheme)?;
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    // Userinfo is everything up to the last '@' of the authority; dropped, never stored.
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host_text, port) = split_port(hostport)?;
    let (host, host_out) = judge_host(host_text)?;
    let mut normalised = String::with_capacity(raw.len());
    normalised.push_str(scheme);
    normalised.push_str("://");
    normalised.push_str(&host_out);
    if let Some(port) = port {
        normalised.push(':');
        normalised.push_str(port);
    }
    normalised.push_str(tail);
    Some(ParsedUrl { normalised, host })
}

/// Splits `host[:port]` / `[v6][:port]`; the port must be 1 to 5 digits when present.
fn split_port(hostport: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        let (h, after) = hostport.split_at(close + 1);
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return None,
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if let Some(p) = port
        && !(1..=5).contains(&p.len())
    {
        return None;
    }
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((host, port))
}

fn judge_host(text: &str) -> Option<(UrlHost, String)> {
    if let Some(inner) = text.strip_prefix('[') {
        let v6: std::net::Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
        return Some((UrlHost::Ip(IpAddr::V6(v6)), format!("[{v6}]")));
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v4: std::net::Ipv4Addr = text.parse().ok()?;
        return Some((UrlHost::Ip(IpAddr::V4(v4)), v4.to_string()));
    }
    let name = normalise_host(text)?;
    registrable_of_normalised(&name)?;
    Some((UrlHost::Name(name.clone()), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_scheme_host_and_drop_userinfo() {
        let u = parse_url("HTTPS://Bob:hunter2@Evil.Example.COM:8443/Path?Q=1#F").unwrap();
        assert_eq!(u.normalised, "https://evil.example.com:8443/Path?Q=1#F");
        assert_eq!(u.host, UrlHost::Name("evil.example.com".into()));
        let u = parse_url("stratum+tcp://pool.supportxmr.com:3333").unwrap();
        assert_eq!(u.normalised, "stratum+tcp://pool.supportxmr.com:3333");
        let u = parse_url("http://[2001:DB8::0:1]:80/x").unwrap();
        assert_eq!(u.normalised, "http://[2001:db8::1]:80/x");
        assert!(matches!(u.host, UrlHost::Ip(IpAddr::V6(_))));
    }

    #[test]
    fn urls_without_a_judgeable_host_are_refused() {
        for bad in [
            "http://localhost:8080/",
            "http://%s/",
            "tcp://redis:6379",
            "http://example.com:port/",
            "gopher://example.com/",
            "http://[zz::1]/",
            "http://1.2.3/",
        ] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }
}
